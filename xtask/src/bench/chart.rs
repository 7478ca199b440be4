//! The bench's one chart: size and per-sandbox memory beside the peers, on log scales, as SVG.

use svg::Document;
use svg::node::element::{Line, Rectangle, Text};

const WIDTH: f64 = 760.0;
const LABEL: f64 = 190.0;
const BAR: f64 = 22.0;
const GAP: f64 = 8.0;

/// Two horizontal bar panels, log scale: binary bytes, and kB per idle sandbox.
pub fn render(binary_bytes: &[(String, u64)], per_sandbox_kb: &[(String, f64)]) -> String {
    let sizes: Vec<(String, f64)> = binary_bytes
        .iter()
        .map(|(n, b)| (n.clone(), *b as f64))
        .collect();
    let document = Document::new()
        .set("font-family", "sans-serif")
        .set("font-size", 13);
    let (document, y) = panel(document, 10.0, "Binary size, bytes (log scale)", &sizes);
    let (document, y) = panel(
        document,
        y + 20.0,
        "Memory per idle sandbox at scale, kB (MemAvailable drop / n, log scale)",
        per_sandbox_kb,
    );
    document
        .set("viewBox", (0, 0, WIDTH as i64, y as i64 + 10))
        .set("width", WIDTH)
        .set("height", y + 10.0)
        .to_string()
}

fn panel(document: Document, top: f64, title: &str, bars: &[(String, f64)]) -> (Document, f64) {
    let max = bars.iter().map(|(_, v)| *v).fold(1.0, f64::max);
    let decades = max.log10().ceil().max(1.0);
    let scale = |v: f64| LABEL + (WIDTH - LABEL - 90.0) * (v.max(1.0).log10() / decades);
    let mut doc = document;
    doc = doc.add(
        Text::new(title)
            .set("x", 10)
            .set("y", top + 14.0)
            .set("font-weight", "bold"),
    );
    let mut y = top + 26.0;
    for (i, (name, value)) in bars.iter().enumerate() {
        let colour = if i == 0 { "#2a7" } else { "#888" };
        doc = doc
            .add(
                Text::new(name.as_str())
                    .set("x", LABEL - 8.0)
                    .set("y", y + 16.0)
                    .set("text-anchor", "end"),
            )
            .add(
                Rectangle::new()
                    .set("x", LABEL)
                    .set("y", y)
                    .set("width", (scale(*value) - LABEL).max(1.0))
                    .set("height", BAR)
                    .set("fill", colour),
            )
            .add(
                Text::new(format_value(*value))
                    .set("x", scale(*value) + 6.0)
                    .set("y", y + 16.0),
            );
        y += BAR + GAP;
    }
    for decade in 0..=decades as i32 {
        let x = scale(10f64.powi(decade));
        doc = doc
            .add(
                Line::new()
                    .set("x1", x)
                    .set("x2", x)
                    .set("y1", top + 22.0)
                    .set("y2", y)
                    .set("stroke", "#ccc"),
            )
            .add(
                Text::new(format_value(10f64.powi(decade)))
                    .set("x", x)
                    .set("y", y + 14.0)
                    .set("text-anchor", "middle")
                    .set("font-size", 10),
            );
    }
    (doc, y + 18.0)
}

fn format_value(v: f64) -> String {
    if v >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else if v >= 10.0 || v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

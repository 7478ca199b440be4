//! How the rounds of a measurement become one figure.

/// Median, min and max of a sample: the median resists the odd slow round on a shared
/// machine, and the range shows how odd it was.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

/// The spread of a non-empty sample (the upper median when the count is even).
pub fn spread(values: &[f64]) -> Spread {
    assert!(!values.is_empty(), "a spread of nothing");
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    Spread {
        median: sorted[sorted.len() / 2],
        min: sorted[0],
        max: sorted[sorted.len() - 1],
    }
}

impl std::fmt::Display for Spread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.2} ({:.2}-{:.2})", self.median, self.min, self.max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spread_is_median_min_max_whatever_the_order() {
        let s = spread(&[5.0, 1.0, 3.0, 9.0, 7.0]);
        assert_eq!((s.median, s.min, s.max), (5.0, 1.0, 9.0));
    }

    #[test]
    fn one_round_is_its_own_spread() {
        let s = spread(&[4.5]);
        assert_eq!((s.median, s.min, s.max), (4.5, 4.5, 4.5));
    }
}

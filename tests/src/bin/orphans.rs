//! `orphans N`: forks N children that exit at once and exits when they all have, so that the
//! kernel hands N zombies to the PID namespace's init together. The storm tests run it inside
//! pause's namespace through nsenter.

fn main() {
    let count = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .expect("usage: orphans N");
    if let Err(e) = xtask::bench::zombies::make_zombies(count) {
        eprintln!("orphans: {e:#}");
        std::process::exit(1);
    }
}

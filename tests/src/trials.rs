//! Tests generated at run time, one per scenario and architecture, under libtest-mimic.

use crate::{ARCHES, Runner};

/// A scenario that runs against one architecture's binary.
pub type Scenario = fn(&Runner);

/// Runs every scenario on every architecture of the table, one test each, named
/// `<arch>::<scenario>`, under a harness that nextest and `cargo test` drive as usual.
pub fn run_on_every_arch(scenarios: &[(&'static str, Scenario)]) -> ! {
    run_trials(
        ARCHES
            .iter()
            .flat_map(|arch| {
                scenarios.iter().map(move |&(name, scenario)| {
                    libtest_mimic::Trial::test(format!("{}::{name}", arch.name), move || {
                        scenario(&Runner::new(arch.name));
                        Ok(())
                    })
                })
            })
            .collect(),
    )
}

/// Runs `trials` under the libtest-compatible harness and exits with its status.
pub fn run_trials(trials: Vec<libtest_mimic::Trial>) -> ! {
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit()
}

/// `(name, function)` pairs for `run_on_every_arch`.
#[macro_export]
macro_rules! scenarios {
    ($($scenario:ident),* $(,)?) => {
        &[$((stringify!($scenario), $scenario as $crate::Scenario)),*]
    };
}

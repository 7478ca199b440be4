//! Tests generated at run time, one per scenario and architecture, under libtest-mimic.

use crate::{ARCHES, Arch, Runner, native_arches};

/// A scenario that runs against one architecture's binary.
pub type Scenario = fn(&Runner);

/// Runs every scenario on every architecture of the table, one test each, named
/// `<arch>::<scenario>`, under a harness that nextest and `cargo test` drive as usual.
pub fn run_on_every_arch(scenarios: &[(&'static str, Scenario)]) -> ! {
    run_trials(on_every_arch(scenarios))
}

/// One trial per scenario and row of the table, named `<arch>::<scenario>`.
pub fn on_every_arch(scenarios: &[(&'static str, Scenario)]) -> Vec<libtest_mimic::Trial> {
    trials_for(ARCHES.iter(), scenarios)
}

/// One trial per scenario and row this host's kernel runs itself (`native_arches`): for what
/// only the real kernel can show. Under qemu-user the emulator is the process, so a scenario
/// about pause's own scheduling or signals would measure qemu there; such a scenario is not
/// generated for those rows at all, rather than passed without its check.
pub fn on_native_arches(scenarios: &[(&'static str, Scenario)]) -> Vec<libtest_mimic::Trial> {
    trials_for(native_arches(), scenarios)
}

fn trials_for(
    arches: impl Iterator<Item = &'static Arch>,
    scenarios: &[(&'static str, Scenario)],
) -> Vec<libtest_mimic::Trial> {
    arches
        .flat_map(|arch| {
            scenarios.iter().map(move |&(name, scenario)| {
                libtest_mimic::Trial::test(format!("{}::{name}", arch.name), move || {
                    scenario(&Runner::new(arch.name));
                    Ok(())
                })
            })
        })
        .collect()
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

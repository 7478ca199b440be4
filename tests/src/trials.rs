//! Tests generated at run time from the architecture table, under libtest-mimic: one per
//! scenario and row (or per row's kernel), named `<arch>::<scenario>`. Adding a row to
//! `xtask::ARCHES` adds its tests here with no edit in tests/.

use crate::{ARCHES, Arch, Kernel, Runner, native_arches};
use libtest_mimic::Trial;

/// A scenario that runs against one architecture's binary.
pub type Scenario = fn(&Runner);

/// Runs every scenario on every architecture of the table, one test each, named
/// `<arch>::<scenario>`, under a harness that nextest and `cargo test` drive as usual.
pub fn run_on_every_arch(scenarios: &[(&'static str, Scenario)]) -> ! {
    run_trials(on_every_arch(scenarios))
}

/// One trial per scenario and row of the table, named `<arch>::<scenario>`.
pub fn on_every_arch(scenarios: &[(&'static str, Scenario)]) -> Vec<Trial> {
    trials_for(ARCHES.iter(), scenarios)
}

/// One trial per scenario and row this host's kernel runs itself (`native_arches`): for what
/// only the real kernel can show. Under qemu-user the emulator is the process, so a scenario
/// about pause's own scheduling or signals would measure qemu there; such a scenario is not
/// generated for those rows at all, rather than passed without its check.
pub fn on_native_arches(scenarios: &[(&'static str, Scenario)]) -> Vec<Trial> {
    trials_for(native_arches(), scenarios)
}

/// One trial per scenario on the host's own row (natively) and on the first row of the table
/// the host cannot run itself (under qemu-user): amd64 and arm64 on an amd64 machine, arm64
/// and amd64 on an arm64 one. For the scenarios too costly for every row (twenty thousand
/// orphans a run, or a hundred random argument lists), whose subject is pause's reaping and
/// argument scan rather than any one architecture's signal frames (those are proven on every
/// row by the contract and on every row's own kernel): the real kernel, and one other
/// architecture's code through qemu-user's signal emulation.
pub fn on_host_and_one_emulated_arch(scenarios: &[(&'static str, Scenario)]) -> Vec<Trial> {
    let emulated = ARCHES
        .iter()
        .find(|arch| !native_arches().any(|n| n == *arch));
    trials_for(Arch::host().into_iter().chain(emulated), scenarios)
}

/// One trial per kernel of every row of the table (`Arch::kernels`), named
/// `<arch>::on_kernel_<kernel>`, running `prove` on that row and kernel. A row with no kernel
/// gets one trial that fails, `<arch>::on_a_kernel`: its binary would be proven on none.
pub fn on_every_kernel(prove: fn(&'static Arch, &'static Kernel)) -> Vec<Trial> {
    let mut trials = Vec::new();
    for arch in ARCHES {
        if arch.kernels.is_empty() {
            trials.push(trial(arch, "on_a_kernel", move || {
                panic!("{} has no kernel in xtask::ARCHES", arch.name)
            }));
        }
        for kernel in arch.kernels {
            let name = format!("on_kernel_{}", kernel.name);
            trials.push(trial(arch, &name, move || prove(arch, kernel)));
        }
    }
    trials
}

/// The test `<arch>::<name>`, which fails by panicking in `test`.
pub fn trial(arch: &Arch, name: &str, test: impl FnOnce() + Send + 'static) -> Trial {
    Trial::test(format!("{}::{name}", arch.name), move || {
        test();
        Ok(())
    })
}

fn trials_for(
    arches: impl Iterator<Item = &'static Arch>,
    scenarios: &[(&'static str, Scenario)],
) -> Vec<Trial> {
    arches
        .flat_map(|arch| {
            scenarios.iter().map(move |&(name, scenario)| {
                trial(arch, name, move || scenario(&Runner::new(arch.name)))
            })
        })
        .collect()
}

/// Runs `trials` under the libtest-compatible harness and exits with its status.
pub fn run_trials(trials: Vec<Trial>) -> ! {
    libtest_mimic::run(&libtest_mimic::Arguments::from_args(), trials).exit()
}

/// `(name, function)` pairs for `run_on_every_arch`.
#[macro_export]
macro_rules! scenarios {
    ($($scenario:ident),* $(,)?) => {
        &[$((stringify!($scenario), $scenario as $crate::Scenario)),*]
    };
}

//! The one table of architecture facts: each row is everything the build, the tests, the
//! bench, the image, the Dockerfile and the seccomp profile need to know about one platform we
//! ship, and the Debian kernels it is proven on (`kernels.rs`, the rows' sub-table). Adding an
//! architecture is one `src/arch/<arch>.rs` (and its line in `src/arch/mod.rs`) and one row
//! here, with its kernels (and, for an arch on `sc`, its place in that dependency's target list
//! in Cargo.toml).

mod kernels;

use crate::{dist_dir, target_dir};
use kernels::*;
pub use kernels::{DebFile, Kernel, Qemu};
use std::path::PathBuf;

/// One shipped architecture: every fact about it that the build, the tests, the bench, the
/// image and the seccomp profile need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arch {
    /// The row's own name, unique in the table: `pause-linux-<name>` is the shipped file and
    /// tests are named after it. The Go/OCI name where that is unique, else with the variant
    /// (arm/v6 is `armv6`; arm/v7 keeps the plain `arm` it has always shipped as).
    pub name: &'static str,
    /// The OCI / Go architecture (`GOARCH`), as in image platforms and seccomp's `includes`.
    pub goarch: &'static str,
    /// The OCI platform variant, where the architecture has one.
    pub variant: Option<&'static str>,
    /// The Rust target the binary is built for.
    pub triple: &'static str,
    /// Debian's name for the architecture (its packages, its kernels, its busybox).
    pub debian: &'static str,
    /// ELF e_machine.
    pub elf_machine: u16,
    /// Word size in bits: the ELF class (ELFCLASS32 or ELFCLASS64) of the binary.
    pub bits: u32,
    /// The file-size budget in bytes.
    pub budget: u64,
    /// Debian's qemu-user-static emulator for it.
    pub qemu: &'static str,
    /// The CPU qemu-user emulates: the oldest one the Rust target promises to run on, so that
    /// an instruction from a later generation fails under test.
    pub qemu_cpu: &'static str,
    /// The call pause sleeps in, with its number in this architecture's own syscall table.
    pub sleep: Syscall,
    /// How a handler installed without SA_SIGINFO (as pause's are) returns.
    pub signal_return: SignalReturn,
    /// libseccomp's name for the architecture (`archMap` of the profile).
    pub seccomp: &'static str,
    /// The other Go architecture this one's kernel also runs (amd64 runs 386 binaries, arm64
    /// runs arm ones): a node's seccomp profile must allow those binaries' calls too.
    pub compat: Option<&'static str>,
    /// The Debian kernels the binary is proven on, booted under qemu-system (tests/kernels.rs).
    pub kernels: &'static [Kernel],
}

/// A system call by name and number (in one architecture's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Syscall {
    pub name: &'static str,
    pub nr: i64,
}

/// Who provides the code a signal handler returns to, and which call it makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalReturn {
    /// The kernel's own trampoline (vDSO or signal page) calling rt_sigreturn: the ABI has no
    /// SA_RESTORER (riscv64, loong64) or ignores it (powerpc64).
    Kernel,
    /// Ours (SA_RESTORER), always rt_sigreturn: the kernel builds only rt frames here.
    RtSigreturn,
    /// Ours (SA_RESTORER): the kernel builds an old-style frame for a handler without
    /// SA_SIGINFO, unwound by sigreturn, and an rt frame (rt_sigreturn) for one with it.
    Sigreturn,
    /// The kernel's own trampoline (MIPS o32 has no SA_RESTORER), with the same two frame
    /// flavours as `Sigreturn`.
    KernelSigreturn,
}

impl SignalReturn {
    /// The call that ends a handler installed with (`siginfo`) or without SA_SIGINFO.
    pub fn call(self, siginfo: bool) -> &'static str {
        match self {
            SignalReturn::Sigreturn | SignalReturn::KernelSigreturn if !siginfo => "sigreturn",
            _ => "rt_sigreturn",
        }
    }
}

const PAUSE_X86_64: Syscall = Syscall {
    name: "pause",
    nr: 34,
};
/// pause(2) is 29 in the i386, arm EABI, powerpc and s390 tables alike.
const PAUSE_29: Syscall = Syscall {
    name: "pause",
    nr: 29,
};
/// The generic table (asm-generic/unistd.h) has no pause(2): ppoll(NULL, 0, NULL, NULL).
const PPOLL_GENERIC: Syscall = Syscall {
    name: "ppoll",
    nr: 73,
};

/// Upstream's five platforms, then riscv64, 386, loong64, and the edge: arm/v6, arm/v5,
/// mips64le, mipsle.
pub const ARCHES: &[Arch] = &[
    Arch {
        name: "amd64",
        goarch: "amd64",
        variant: None,
        triple: "x86_64-unknown-linux-gnu",
        debian: "amd64",
        elf_machine: object::elf::EM_X86_64,
        bits: 64,
        budget: 1024,
        qemu: "qemu-x86_64-static",
        qemu_cpu: "qemu64",
        sleep: PAUSE_X86_64,
        signal_return: SignalReturn::RtSigreturn,
        seccomp: "SCMP_ARCH_X86_64",
        compat: Some("386"),
        kernels: AMD64_KERNELS,
    },
    Arch {
        name: "arm64",
        goarch: "arm64",
        variant: None,
        triple: "aarch64-unknown-linux-gnu",
        debian: "arm64",
        elf_machine: object::elf::EM_AARCH64,
        bits: 64,
        budget: 1024,
        qemu: "qemu-aarch64-static",
        qemu_cpu: "cortex-a53",
        sleep: PPOLL_GENERIC,
        signal_return: SignalReturn::RtSigreturn,
        seccomp: "SCMP_ARCH_AARCH64",
        compat: Some("arm"),
        kernels: ARM64_KERNELS,
    },
    Arch {
        name: "arm",
        goarch: "arm",
        variant: Some("v7"),
        triple: "armv7-unknown-linux-gnueabihf",
        debian: "armhf",
        elf_machine: object::elf::EM_ARM,
        bits: 32,
        budget: 2048,
        qemu: "qemu-arm-static",
        qemu_cpu: "cortex-a7",
        sleep: PAUSE_29,
        signal_return: SignalReturn::Sigreturn,
        seccomp: "SCMP_ARCH_ARM",
        compat: None,
        kernels: ARM_KERNELS,
    },
    Arch {
        name: "armv6",
        goarch: "arm",
        variant: Some("v6"),
        // ARMv6 with VFPv2, hard-float: Raspberry Pi Zero/1 and Raspbian's ABI. pause uses no
        // floating point, so the float ABI only decides the ELF flags.
        triple: "arm-unknown-linux-gnueabihf",
        debian: "armel",
        elf_machine: object::elf::EM_ARM,
        bits: 32,
        budget: 2048,
        qemu: "qemu-arm-static",
        qemu_cpu: "arm1176",
        sleep: PAUSE_29,
        signal_return: SignalReturn::Sigreturn,
        seccomp: "SCMP_ARCH_ARM",
        compat: None,
        kernels: ARMEL_KERNELS,
    },
    Arch {
        name: "armv5",
        goarch: "arm",
        variant: Some("v5"),
        triple: "armv5te-unknown-linux-gnueabi",
        debian: "armel",
        elf_machine: object::elf::EM_ARM,
        bits: 32,
        budget: 2048,
        qemu: "qemu-arm-static",
        qemu_cpu: "arm926",
        sleep: PAUSE_29,
        signal_return: SignalReturn::Sigreturn,
        seccomp: "SCMP_ARCH_ARM",
        compat: None,
        kernels: ARMEL_KERNELS,
    },
    Arch {
        name: "ppc64le",
        goarch: "ppc64le",
        variant: None,
        triple: "powerpc64le-unknown-linux-gnu",
        debian: "ppc64el",
        elf_machine: object::elf::EM_PPC64,
        bits: 64,
        budget: 2048,
        qemu: "qemu-ppc64le-static",
        qemu_cpu: "power8",
        sleep: PAUSE_29,
        signal_return: SignalReturn::Kernel,
        seccomp: "SCMP_ARCH_PPC64LE",
        compat: None,
        kernels: PPC64LE_KERNELS,
    },
    Arch {
        name: "s390x",
        goarch: "s390x",
        variant: None,
        triple: "s390x-unknown-linux-gnu",
        debian: "s390x",
        elf_machine: object::elf::EM_S390,
        bits: 64,
        budget: 2048,
        qemu: "qemu-s390x-static",
        // The target's baseline is z10, but qemu's TCG cannot offer z10's crypto facilities
        // and refuses the model; its own model is the oldest one that runs.
        qemu_cpu: "qemu",
        sleep: PAUSE_29,
        signal_return: SignalReturn::Sigreturn,
        seccomp: "SCMP_ARCH_S390X",
        compat: None,
        kernels: S390X_KERNELS,
    },
    Arch {
        name: "riscv64",
        goarch: "riscv64",
        variant: None,
        triple: "riscv64gc-unknown-linux-gnu",
        debian: "riscv64",
        elf_machine: object::elf::EM_RISCV,
        bits: 64,
        budget: 2048,
        qemu: "qemu-riscv64-static",
        qemu_cpu: "rv64",
        sleep: PPOLL_GENERIC,
        signal_return: SignalReturn::Kernel,
        seccomp: "SCMP_ARCH_RISCV64",
        compat: None,
        kernels: RISCV64_KERNELS,
    },
    Arch {
        name: "386",
        goarch: "386",
        variant: None,
        triple: "i686-unknown-linux-gnu",
        debian: "i386",
        elf_machine: object::elf::EM_386,
        bits: 32,
        budget: 2048,
        qemu: "qemu-i386-static",
        // The target assumes a Pentium 4, of which qemu has no model; the binary uses no SSE
        // at all, so the generation before it runs it too, and keeps it honest.
        qemu_cpu: "pentium3",
        sleep: PAUSE_29,
        signal_return: SignalReturn::Sigreturn,
        seccomp: "SCMP_ARCH_X86",
        compat: None,
        kernels: I386_KERNELS,
    },
    Arch {
        name: "loong64",
        goarch: "loong64",
        variant: None,
        triple: "loongarch64-unknown-linux-gnu",
        debian: "loong64",
        elf_machine: object::elf::EM_LOONGARCH,
        bits: 64,
        budget: 2048,
        qemu: "qemu-loongarch64-static",
        qemu_cpu: "la464",
        sleep: PPOLL_GENERIC,
        signal_return: SignalReturn::Kernel,
        seccomp: "SCMP_ARCH_LOONGARCH64",
        compat: None,
        kernels: LOONG64_KERNELS,
    },
    Arch {
        name: "mips64le",
        goarch: "mips64le",
        variant: None,
        triple: "mips64el-unknown-linux-gnuabi64",
        debian: "mips64el",
        elf_machine: object::elf::EM_MIPS,
        bits: 64,
        budget: 2048,
        qemu: "qemu-mips64el-static",
        qemu_cpu: "MIPS64R2-generic",
        sleep: Syscall {
            name: "pause",
            nr: 5033,
        },
        signal_return: SignalReturn::Kernel,
        seccomp: "SCMP_ARCH_MIPSEL64",
        compat: Some("mipsle"),
        kernels: MIPS64LE_KERNELS,
    },
    Arch {
        name: "mipsle",
        goarch: "mipsle",
        variant: None,
        triple: "mipsel-unknown-linux-gnu",
        debian: "mipsel",
        elf_machine: object::elf::EM_MIPS,
        bits: 32,
        budget: 2048,
        qemu: "qemu-mipsel-static",
        qemu_cpu: "24Kc",
        sleep: Syscall {
            name: "pause",
            nr: 4029,
        },
        signal_return: SignalReturn::KernelSigreturn,
        seccomp: "SCMP_ARCH_MIPSEL",
        compat: None,
        kernels: MIPSLE_KERNELS,
    },
];

impl Arch {
    /// Looks a row up by its name.
    pub fn named(name: &str) -> Option<&'static Arch> {
        ARCHES.iter().find(|a| a.name == name)
    }

    /// The rows whose binaries a node of this architecture runs: its own Go architecture's,
    /// and those of the one its kernel also runs.
    pub fn runs_on_node(&self) -> impl Iterator<Item = &'static Arch> {
        let (own, compat) = (self.goarch, self.compat);
        ARCHES
            .iter()
            .filter(move |a| a.goarch == own || Some(a.goarch) == compat)
    }

    /// The row of the machine these tools run on, if we ship for it.
    pub fn host() -> Option<&'static Arch> {
        let host = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "powerpc64" if cfg!(target_endian = "little") => "ppc64le",
            "x86" => "386",
            "loongarch64" => "loong64",
            other => other,
        };
        Arch::named(host)
    }

    /// The OCI platform as `os/arch[/variant]`.
    pub fn platform(&self) -> String {
        match self.variant {
            Some(variant) => format!("linux/{}/{variant}", self.goarch),
            None => format!("linux/{}", self.goarch),
        }
    }

    /// A test-only build (`cargo xtask test` makes them) of this architecture's binary.
    pub fn test_binary(&self, variant: &str) -> PathBuf {
        target_dir()
            .join("test-builds")
            .join(format!("pause-{variant}-linux-{}", self.name))
    }

    /// The name of the file `cargo xtask dist` writes for this architecture.
    pub fn dist_file_name(&self) -> String {
        format!("pause-linux-{}", self.name)
    }

    /// The file `cargo xtask dist` writes for this architecture.
    pub fn dist_binary(&self) -> PathBuf {
        dist_dir().join(self.dist_file_name())
    }
}

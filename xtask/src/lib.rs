//! What the build and the test suite share: the architectures we ship and where things live.

pub mod artifact;
pub mod bench;
pub mod build;
pub mod buildinfo;
pub mod dockerfile;
pub mod elf;
pub mod kernel;
pub mod oci;
pub mod pins;
pub mod procfs;
pub mod provenance;
pub mod release;
pub mod sbom;
pub mod seccomp;
pub mod tools;
pub mod zombies;

use std::path::PathBuf;

/// One shipped architecture: every fact about it that the build, the tests, the bench, the
/// image and the seccomp profile need. Adding an architecture is one `src/arch/<arch>.rs` and
/// one row of [`ARCHES`].
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

/// A Debian kernel and the emulated machine that boots it. The kernel and the architecture's
/// `busybox-static` come from the same suite, read through a private apt state
/// ([`kernel::fetch`]); nothing is installed on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernel {
    /// Names the test and the cache directory `target/kernels/<name>`.
    pub name: &'static str,
    /// The Debian suite the kernel and busybox-static come from.
    pub suite: &'static str,
    /// The flavour's metapackage; it depends on the current versioned `linux-image-*` package.
    pub package: &'static str,
    /// Prefix of the package holding the image, before the versioned name's ABI and flavour:
    /// `linux-image-`, or `linux-binary-` where the image package is a shell around it (sid).
    pub image_package: &'static str,
    /// The image's path in that package; `*` stands for any run of characters (the version).
    pub image: &'static str,
    /// The device tree the machine needs, its path in the same package (`*` as in `image`).
    pub dtb: Option<&'static str>,
    /// The page size it runs with, in KiB (the guest reads it back from /proc/self/smaps).
    pub page_kib: u32,
    /// The qemu-system program.
    pub qemu: Qemu,
    /// Machine options for qemu: machine type, CPU, firmware it ships itself.
    pub machine: &'static [&'static str],
    /// The console the machine's first serial port is to the kernel (`console=`).
    pub console: &'static str,
    /// More of the kernel command line, beyond the console, `quiet` and `panic=-1`.
    pub append: &'static str,
    /// Guest memory in MiB: enough for busybox, pause and 200 orphans, or what the board has.
    pub memory_mib: u32,
    /// Firmware qemu does not ship, from a Debian package (`-bios`).
    pub firmware: Option<DebFile>,
}

/// Where a qemu-system program comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qemu {
    /// Installed from the host's own Debian release (`.ci/run` installs the package).
    Host {
        program: &'static str,
        package: &'static str,
    },
    /// Unpacked (not installed) from a package of another suite, built for the host.
    Unpacked(DebFile),
}

/// One file of a Debian package built for the host's architecture (qemu itself) or for all
/// of them (firmware), which the host architecture's index lists too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebFile {
    pub suite: &'static str,
    pub package: &'static str,
    pub path: &'static str,
}

/// Debian's kernel images: `boot/vmlinuz-<version>` (compressed or EFI/PE images), or
/// `boot/vmlinux-<version>` where qemu wants the ELF (ppc64el) or a flat Image (riscv64).
const BOOT_VMLINU: &str = "boot/vmlinu*";
const fn host_qemu(program: &'static str, package: &'static str) -> Qemu {
    Qemu::Host { program, package }
}

const AMD64_KERNELS: &[Kernel] = &[Kernel {
    name: "amd64",
    suite: "trixie",
    package: "linux-image-amd64",
    image_package: "linux-image-",
    image: BOOT_VMLINU,
    dtb: None,
    page_kib: 4,
    qemu: host_qemu("qemu-system-x86_64", "qemu-system-x86"),
    machine: &["-M", "pc"],
    console: "ttyS0",
    append: "",
    memory_mib: 256,
    firmware: None,
}];

// A cortex-a57 has no 16K translation granule; qemu's `max` CPU has all three.
const ARM64_KERNELS: &[Kernel] = &[
    Kernel {
        name: "arm64",
        suite: "trixie",
        package: "linux-image-arm64",
        image_package: "linux-image-",
        image: BOOT_VMLINU,
        dtb: None,
        page_kib: 4,
        qemu: host_qemu("qemu-system-aarch64", "qemu-system-arm"),
        machine: &["-M", "virt", "-cpu", "cortex-a57"],
        console: "ttyAMA0",
        append: "",
        memory_mib: 256,
        firmware: None,
    },
    Kernel {
        name: "arm64-16k",
        suite: "trixie",
        package: "linux-image-arm64-16k",
        image_package: "linux-image-",
        image: BOOT_VMLINU,
        dtb: None,
        page_kib: 16,
        qemu: host_qemu("qemu-system-aarch64", "qemu-system-arm"),
        machine: &["-M", "virt", "-cpu", "max"],
        console: "ttyAMA0",
        append: "",
        memory_mib: 256,
        firmware: None,
    },
];

// armmp-lpae: the ARMv7 flavour with large physical addresses, as on a Cortex-A15/A7 board.
const ARM_KERNELS: &[Kernel] = &[Kernel {
    name: "arm",
    suite: "trixie",
    package: "linux-image-armmp-lpae",
    image_package: "linux-image-",
    image: BOOT_VMLINU,
    dtb: None,
    page_kib: 4,
    qemu: host_qemu("qemu-system-arm", "qemu-system-arm"),
    machine: &["-M", "virt", "-cpu", "cortex-a15"],
    console: "ttyAMA0",
    append: "",
    memory_mib: 256,
    firmware: None,
}];

// trixie's ppc64el kernels come with 4K pages and, as the -64k flavour, with 64K ones.
const PPC64LE_KERNELS: &[Kernel] = &[
    Kernel {
        name: "ppc64le",
        suite: "trixie",
        package: "linux-image-powerpc64le",
        image_package: "linux-image-",
        image: BOOT_VMLINU,
        dtb: None,
        page_kib: 4,
        qemu: host_qemu("qemu-system-ppc64", "qemu-system-ppc"),
        machine: &["-M", "pseries"],
        console: "hvc0",
        append: "",
        memory_mib: 256,
        firmware: None,
    },
    Kernel {
        name: "ppc64le-64k",
        suite: "trixie",
        package: "linux-image-powerpc64le-64k",
        image_package: "linux-image-",
        image: BOOT_VMLINU,
        dtb: None,
        page_kib: 64,
        qemu: host_qemu("qemu-system-ppc64", "qemu-system-ppc"),
        machine: &["-M", "pseries"],
        console: "hvc0",
        append: "",
        memory_mib: 256,
        firmware: None,
    },
];

const S390X_KERNELS: &[Kernel] = &[Kernel {
    name: "s390x",
    suite: "trixie",
    package: "linux-image-s390x",
    image_package: "linux-image-",
    image: BOOT_VMLINU,
    dtb: None,
    page_kib: 4,
    qemu: host_qemu("qemu-system-s390x", "qemu-system-s390x"),
    machine: &["-M", "s390-ccw-virtio"],
    console: "ttysclp0",
    append: "",
    memory_mib: 256,
    firmware: None,
}];

// `-bios default`: qemu's OpenSBI (Debian package opensbi) as the M-mode firmware.
const RISCV64_KERNELS: &[Kernel] = &[Kernel {
    name: "riscv64",
    suite: "trixie",
    package: "linux-image-riscv64",
    image_package: "linux-image-",
    image: BOOT_VMLINU,
    dtb: None,
    page_kib: 4,
    qemu: host_qemu("qemu-system-riscv64", "qemu-system-misc"),
    machine: &["-M", "virt", "-bios", "default"],
    console: "ttyS0",
    append: "",
    memory_mib: 256,
    firmware: None,
}];

// trixie dropped i386 kernels; bookworm's 686 is the last.
const I386_KERNELS: &[Kernel] = &[Kernel {
    name: "386",
    suite: "bookworm",
    package: "linux-image-686",
    image_package: "linux-image-",
    image: BOOT_VMLINU,
    dtb: None,
    page_kib: 4,
    qemu: host_qemu("qemu-system-i386", "qemu-system-x86"),
    machine: &["-M", "pc"],
    console: "ttyS0",
    append: "",
    memory_mib: 256,
    firmware: None,
}];

// Only sid builds loong64. Its image is an EFI zboot PE that bookworm's qemu 7.2 refuses (it
// loads only ELF kernels): qemu 10 from bookworm-backports boots it through trixie's EDK2.
const LOONG64_KERNELS: &[Kernel] = &[Kernel {
    name: "loong64",
    suite: "sid",
    package: "linux-image-loong64",
    image_package: "linux-binary-",
    image: "usr/lib/modules/*/vmlinuz",
    dtb: None,
    page_kib: 16,
    qemu: Qemu::Unpacked(DebFile {
        suite: "bookworm-backports",
        package: "qemu-system-misc",
        path: "usr/bin/qemu-system-loongarch64",
    }),
    machine: &["-M", "virt", "-cpu", "la464"],
    console: "ttyS0",
    append: "",
    memory_mib: 256,
    firmware: Some(DebFile {
        suite: "trixie",
        package: "qemu-efi-loongarch64",
        path: "usr/share/qemu-efi-loongarch64/QEMU_EFI.fd",
    }),
}];

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

// Debian's armel kernels are for boards: `rpi` (BCM2835, an ARM1176, ARMv6) is the one qemu
// emulates (raspi1ap, 512 MiB fixed). Two of its drivers are left out: qemu 7.2's BCM2835
// lacks the power domain block (the kernel oopses in bcm2835_power_probe), and its I2C clock
// divides by zero (clk_bcm2835_i2c_recalc_rate), which once looped until the boot hung.
// Debian's ARMv5 flavour, bookworm's `marvell`, is for Kirkwood/Orion boards qemu does not
// emulate, so armv5 binaries are proven on this ARMv6 kernel too.
const ARMEL_KERNELS: &[Kernel] = &[Kernel {
    name: "armel-rpi",
    suite: "trixie",
    package: "linux-image-rpi",
    image_package: "linux-image-",
    image: BOOT_VMLINU,
    dtb: Some("usr/lib/linux-image-*/bcm2835-rpi-a-plus.dtb"),
    page_kib: 4,
    qemu: host_qemu("qemu-system-arm", "qemu-system-arm"),
    machine: &["-M", "raspi1ap"],
    console: "ttyAMA0",
    append: "initcall_blacklist=bcm2835_power_driver_init,bcm2835_i2c_driver_init",
    memory_mib: 512,
    firmware: None,
}];

// trixie dropped mips64el and mipsel; bookworm's Malta flavours are the last.
const MIPS64LE_KERNELS: &[Kernel] = &[Kernel {
    name: "mips64le",
    suite: "bookworm",
    package: "linux-image-5kc-malta",
    image_package: "linux-image-",
    image: BOOT_VMLINU,
    dtb: None,
    page_kib: 4,
    qemu: host_qemu("qemu-system-mips64el", "qemu-system-mips"),
    machine: &["-M", "malta", "-cpu", "MIPS64R2-generic"],
    console: "ttyS0",
    append: "",
    memory_mib: 256,
    firmware: None,
}];

const MIPSLE_KERNELS: &[Kernel] = &[Kernel {
    name: "mipsle",
    suite: "bookworm",
    package: "linux-image-4kc-malta",
    image_package: "linux-image-",
    image: BOOT_VMLINU,
    dtb: None,
    page_kib: 4,
    qemu: host_qemu("qemu-system-mipsel", "qemu-system-mips"),
    machine: &["-M", "malta", "-cpu", "24Kc"],
    console: "ttyS0",
    append: "",
    memory_mib: 256,
    firmware: None,
}];

/// Upstream's five platforms, then riscv64, 386, loong64, and the edge: arm/v6, arm/v5,
/// mips64le, mipsle.
pub const ARCHES: [Arch; 12] = [
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

/// The workspace root (where the top-level Cargo.toml is).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// `dist` under cargo's target directory.
pub fn dist_dir() -> PathBuf {
    target_dir().join("dist")
}

/// Cargo's target directory for this workspace, as cargo itself resolves it: `target/`,
/// `CARGO_TARGET_DIR`, or `build.target-dir` from any cargo config that applies.
pub fn target_dir() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let out = std::process::Command::new(cargo)
            .current_dir(workspace_root())
            .args([
                "metadata",
                "--format-version",
                "1",
                "--no-deps",
                "--offline",
            ])
            .output()
            .expect("cargo metadata runs");
        assert!(
            out.status.success(),
            "cargo metadata: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let metadata: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
        PathBuf::from(
            metadata["target_directory"]
                .as_str()
                .expect("cargo metadata names the target directory"),
        )
    })
    .clone()
}

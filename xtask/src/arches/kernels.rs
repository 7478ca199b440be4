//! The Debian kernels each row of the architecture table is proven on, booted under
//! qemu-system by tests/kernels.rs: the table's sub-table, one const per row that has any.

/// A Debian kernel and the emulated machine that boots it. The kernel and the architecture's
/// `busybox-static` come from the same suite, read through a private apt state (the tests'
/// `pause_tests::kernel::fetch`); nothing is installed on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kernel {
    /// Names the test and the cache directory `target/kernels/<name>`.
    pub name: &'static str,
    /// The Debian suite the kernel and busybox-static come from.
    pub suite: &'static str,
    /// The flavour's metapackage: what the suite ships now, named when `release` is gone.
    pub package: &'static str,
    /// The kernel the row is proven on, as `uname -r` prints it: the versioned package is
    /// `image_package` + this. Pinned, because the README names it and a test asserts it; when
    /// the suite stops serving it, the test fails naming both it and the suite's current one.
    pub release: &'static str,
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
    /// Installed from the host's own Debian release (`cargo xtask test` installs the package).
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

pub(super) const AMD64_KERNELS: &[Kernel] = &[Kernel {
    name: "amd64",
    suite: "trixie",
    package: "linux-image-amd64",
    release: "6.12.117+deb13-amd64",
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
pub(super) const ARM64_KERNELS: &[Kernel] = &[
    Kernel {
        name: "arm64",
        suite: "trixie",
        package: "linux-image-arm64",
        release: "6.12.117+deb13-arm64",
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
        release: "6.12.117+deb13-arm64-16k",
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
pub(super) const ARM_KERNELS: &[Kernel] = &[Kernel {
    name: "arm",
    suite: "trixie",
    package: "linux-image-armmp-lpae",
    release: "6.12.117+deb13-armmp-lpae",
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
pub(super) const PPC64LE_KERNELS: &[Kernel] = &[
    Kernel {
        name: "ppc64le",
        suite: "trixie",
        package: "linux-image-powerpc64le",
        release: "6.12.107+deb13-powerpc64le",
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
        release: "6.12.107+deb13-powerpc64le-64k",
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

pub(super) const S390X_KERNELS: &[Kernel] = &[Kernel {
    name: "s390x",
    suite: "trixie",
    package: "linux-image-s390x",
    release: "6.12.107+deb13-s390x",
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
pub(super) const RISCV64_KERNELS: &[Kernel] = &[Kernel {
    name: "riscv64",
    suite: "trixie",
    package: "linux-image-riscv64",
    release: "6.12.117+deb13-riscv64",
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
pub(super) const I386_KERNELS: &[Kernel] = &[Kernel {
    name: "386",
    suite: "bookworm",
    package: "linux-image-686",
    release: "6.1.0-50-686",
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
pub(super) const LOONG64_KERNELS: &[Kernel] = &[Kernel {
    name: "loong64",
    suite: "sid",
    package: "linux-image-loong64",
    release: "7.2.13+deb14-loong64",
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
    // At 256 MiB, 200 held orphans (a busybox sh each) ran this guest out of memory (its
    // kernel also fails to reserve its 128 MiB CMA area there); the other rows fit.
    memory_mib: 512,
    firmware: Some(DebFile {
        suite: "trixie",
        package: "qemu-efi-loongarch64",
        path: "usr/share/qemu-efi-loongarch64/QEMU_EFI.fd",
    }),
}];

// Debian's armel kernels are for boards: `rpi` (BCM2835, an ARM1176, ARMv6) is the one qemu
// emulates (raspi1ap, 512 MiB fixed). Two of its drivers are left out: qemu 7.2's BCM2835
// lacks the power domain block (the kernel oopses in bcm2835_power_probe), and its I2C clock
// divides by zero (clk_bcm2835_i2c_recalc_rate), which once looped until the boot hung.
// Debian's ARMv5 flavour, bookworm's `marvell`, is for Kirkwood/Orion boards qemu does not
// emulate, so armv5 binaries are proven on this ARMv6 kernel too.
pub(super) const ARMEL_KERNELS: &[Kernel] = &[Kernel {
    name: "armel-rpi",
    suite: "trixie",
    package: "linux-image-rpi",
    release: "6.12.107+deb13-rpi",
    image_package: "linux-image-",
    image: BOOT_VMLINU,
    dtb: Some("usr/lib/linux-image-*/bcm2835-rpi-a-plus.dtb"),
    page_kib: 4,
    qemu: host_qemu("qemu-system-arm", "qemu-system-arm"),
    // qemu 7.2's raspi1ap system timer can lose its next tick when the host is busy, and the
    // guest then stalls for about 71 minutes (seen in 2 of 8 boots with four at once, and in a
    // suite run beside another build). With `-icount` the guest's clock follows the
    // instructions it runs, not the host's: no tick can be lost to the host's scheduling
    // (8 of 8 boots; about 5 s dearer each).
    machine: &["-M", "raspi1ap", "-icount", "shift=auto"],
    console: "ttyAMA0",
    append: "initcall_blacklist=bcm2835_power_driver_init,bcm2835_i2c_driver_init",
    memory_mib: 512,
    firmware: None,
}];

// trixie dropped mips64el and mipsel; bookworm's Malta flavours are the last.
pub(super) const MIPS64LE_KERNELS: &[Kernel] = &[Kernel {
    name: "mips64le",
    suite: "bookworm",
    package: "linux-image-5kc-malta",
    release: "6.1.0-50-5kc-malta",
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

pub(super) const MIPSLE_KERNELS: &[Kernel] = &[Kernel {
    name: "mipsle",
    suite: "bookworm",
    package: "linux-image-4kc-malta",
    release: "6.1.0-50-4kc-malta",
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

//! What the build and the test suite share: the architectures we ship and where things live.

pub mod bench;
pub mod chart;
pub mod elf;
pub mod oci;
pub mod procfs;

use std::path::PathBuf;

/// One shipped architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arch {
    /// The OCI / Go name, as in `pause-linux-<name>` and image platforms.
    pub name: &'static str,
    /// The Rust target the binary is built for.
    pub triple: &'static str,
    /// The OCI platform variant, where the architecture has one.
    pub variant: Option<&'static str>,
    /// Debian's qemu-user-static emulator for it.
    pub qemu: &'static str,
    /// The file-size budget in bytes.
    pub budget: u64,
    /// ELF e_machine.
    pub elf_machine: u16,
}

/// The eight architectures: upstream's five, then riscv64, 386 and loong64.
pub const ARCHES: [Arch; 8] = [
    Arch {
        name: "amd64",
        triple: "x86_64-unknown-linux-gnu",
        variant: None,
        qemu: "qemu-x86_64-static",
        budget: 1024,
        elf_machine: object::elf::EM_X86_64,
    },
    Arch {
        name: "arm64",
        triple: "aarch64-unknown-linux-gnu",
        variant: None,
        qemu: "qemu-aarch64-static",
        budget: 1024,
        elf_machine: object::elf::EM_AARCH64,
    },
    Arch {
        name: "arm",
        triple: "armv7-unknown-linux-gnueabihf",
        variant: Some("v7"),
        qemu: "qemu-arm-static",
        budget: 2048,
        elf_machine: object::elf::EM_ARM,
    },
    Arch {
        name: "ppc64le",
        triple: "powerpc64le-unknown-linux-gnu",
        variant: None,
        qemu: "qemu-ppc64le-static",
        budget: 2048,
        elf_machine: object::elf::EM_PPC64,
    },
    Arch {
        name: "s390x",
        triple: "s390x-unknown-linux-gnu",
        variant: None,
        qemu: "qemu-s390x-static",
        budget: 2048,
        elf_machine: object::elf::EM_S390,
    },
    Arch {
        name: "riscv64",
        triple: "riscv64gc-unknown-linux-gnu",
        variant: None,
        qemu: "qemu-riscv64-static",
        budget: 2048,
        elf_machine: object::elf::EM_RISCV,
    },
    Arch {
        name: "386",
        triple: "i686-unknown-linux-gnu",
        variant: None,
        qemu: "qemu-i386-static",
        budget: 2048,
        elf_machine: object::elf::EM_386,
    },
    Arch {
        name: "loong64",
        triple: "loongarch64-unknown-linux-gnu",
        variant: None,
        qemu: "qemu-loongarch64-static",
        budget: 2048,
        elf_machine: object::elf::EM_LOONGARCH,
    },
];

impl Arch {
    /// Looks an architecture up by its OCI name.
    pub fn named(name: &str) -> Option<&'static Arch> {
        ARCHES.iter().find(|a| a.name == name)
    }

    /// The file `cargo xtask dist` writes for this architecture.
    pub fn dist_binary(&self) -> PathBuf {
        dist_dir().join(format!("pause-linux-{}", self.name))
    }
}

/// The workspace root (where the top-level Cargo.toml is).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

/// `target/dist`, or `$CARGO_TARGET_DIR/dist`.
pub fn dist_dir() -> PathBuf {
    target_dir().join("dist")
}

/// Cargo's target directory for this workspace.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => workspace_root().join(dir),
        None => workspace_root().join("target"),
    }
}

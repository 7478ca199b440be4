//! What the build promises about each shipped file, read back from its ELF headers.

use anyhow::{Result, bail};
use object::elf;
use object::read::elf::{FileHeader, ProgramHeader};
use object::{Endianness, FileKind};

/// The facts about a binary that matter to the kernel's loader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfFacts {
    pub is_64: bool,
    pub machine: u16,
    pub e_type: u16,
    pub entry: u64,
    /// (p_type, p_flags, p_offset, p_vaddr, p_filesz, p_memsz) for every program header.
    pub segments: Vec<Segment>,
    pub section_headers: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    pub p_type: u32,
    pub flags: u32,
    pub offset: u64,
    pub vaddr: u64,
    pub filesz: u64,
    pub memsz: u64,
}

impl ElfFacts {
    pub fn parse(data: &[u8]) -> Result<Self> {
        match FileKind::parse(data)? {
            FileKind::Elf32 => Self::parse_as::<elf::FileHeader32<Endianness>>(data, false),
            FileKind::Elf64 => Self::parse_as::<elf::FileHeader64<Endianness>>(data, true),
            other => bail!("not an ELF file: {other:?}"),
        }
    }

    fn parse_as<H: FileHeader<Endian = Endianness>>(data: &[u8], is_64: bool) -> Result<Self> {
        let header = H::parse(data)?;
        let endian = header.endian()?;
        let segments = header
            .program_headers(endian, data)?
            .iter()
            .map(|ph| Segment {
                p_type: ph.p_type(endian),
                flags: ph.p_flags(endian),
                offset: ph.p_offset(endian).into(),
                vaddr: ph.p_vaddr(endian).into(),
                filesz: ph.p_filesz(endian).into(),
                memsz: ph.p_memsz(endian).into(),
            })
            .collect();
        Ok(ElfFacts {
            is_64,
            machine: header.e_machine(endian),
            e_type: header.e_type(endian),
            entry: header.e_entry(endian).into(),
            segments,
            section_headers: header.e_shnum(endian),
        })
    }

    /// The shape every shipped binary must have: a static executable for `machine` with one
    /// loadable read+execute segment that covers the whole file and the entry point, a
    /// non-executable stack, and nothing for a dynamic loader to do.
    pub fn check_shipped_shape(&self, machine: u16, file_len: u64) -> Result<()> {
        if self.machine != machine {
            bail!("e_machine {} where {machine} was expected", self.machine);
        }
        if self.e_type != elf::ET_EXEC {
            bail!("e_type {} is not ET_EXEC", self.e_type);
        }
        if let Some(s) = self
            .segments
            .iter()
            .find(|s| matches!(s.p_type, elf::PT_INTERP | elf::PT_DYNAMIC | elf::PT_TLS))
        {
            bail!("unexpected program header {s:?}");
        }
        let loads: Vec<_> = self
            .segments
            .iter()
            .filter(|s| s.p_type == elf::PT_LOAD)
            .collect();
        let [load] = loads[..] else {
            bail!("{} PT_LOAD segments, want exactly one", loads.len());
        };
        if load.flags != elf::PF_R | elf::PF_X {
            bail!("PT_LOAD flags {:#x}, want R+X only", load.flags);
        }
        if load.offset != 0 || load.filesz != file_len || load.memsz != load.filesz {
            bail!("PT_LOAD {load:?} does not map exactly the {file_len}-byte file");
        }
        if !(load.vaddr..load.vaddr + load.memsz).contains(&self.entry) {
            bail!("entry {:#x} outside the loaded segment", self.entry);
        }
        match self.segments.iter().find(|s| s.p_type == elf::PT_GNU_STACK) {
            Some(stack) if stack.flags & elf::PF_X == 0 => {}
            other => bail!("stack not marked non-executable: {other:?}"),
        }
        if self.section_headers != 0 {
            bail!("{} section headers left in the file", self.section_headers);
        }
        Ok(())
    }
}

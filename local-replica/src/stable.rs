//! Stable memory: 64 KiB pages, with an undo log so that a message that traps is rolled back
//! at a cost proportional to the pages it touched — not to the size of the memory.
//!
//! A durable replica keeps a canister's stable memory in a file (as of the last checkpoint)
//! and in memory only the pages changed since then; an in-memory replica keeps every page in
//! memory. Pages never written read as zeros.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// A wasm (and stable memory) page.
pub const PAGE_SIZE: u64 = 65536;

type Page = Box<[u8; PAGE_SIZE as usize]>;

/// A canister's stable memory.
#[derive(Default)]
pub struct StableMemory {
    /// Pages changed since the last checkpoint (every written page, without a file).
    pages: BTreeMap<u64, Page>,
    size_pages: u64,
    /// Open while a message runs: each touched page's contents before the message (None: the
    /// page was not in `pages`), and the size before.
    undo: Option<Undo>,
    /// The checkpointed contents.
    file: Option<Backing>,
}

/// The file that holds a stable memory as of the last checkpoint.
pub struct Backing {
    /// Its name in the state directory.
    pub name: String,
    pub file: File,
}

struct Undo {
    pages: BTreeMap<u64, Option<Page>>,
    size_pages: u64,
}

fn zero_page() -> Page {
    Box::new([0u8; PAGE_SIZE as usize])
}

impl StableMemory {
    /// A stable memory of `size_pages` pages held in `file`.
    pub fn with_file(file: Backing, size_pages: u64) -> Self {
        StableMemory {
            pages: BTreeMap::new(),
            size_pages,
            undo: None,
            file: Some(file),
        }
    }

    /// Size in pages.
    pub fn size(&self) -> u64 {
        self.size_pages
    }

    /// Grows by `new_pages` up to `max_pages`; returns the old size, or None if it cannot.
    pub fn grow(&mut self, new_pages: u64, max_pages: u64) -> Option<u64> {
        let old = self.size_pages;
        let new = old.checked_add(new_pages).filter(|&n| n <= max_pages)?;
        self.size_pages = new;
        Some(old)
    }

    /// Whether `[offset, offset + len)` lies inside the memory.
    pub fn in_bounds(&self, offset: u64, len: u64) -> bool {
        offset
            .checked_add(len)
            .is_some_and(|end| end <= self.size_pages * PAGE_SIZE)
    }

    /// Reads a page as of the last checkpoint into `dst` (zeros where the file has none).
    fn read_checkpointed(&self, page: u64, within: usize, dst: &mut [u8]) -> io::Result<()> {
        let Some(backing) = &self.file else {
            dst.fill(0);
            return Ok(());
        };
        let mut done = 0;
        while done < dst.len() {
            let at = page * PAGE_SIZE + (within + done) as u64;
            match backing.file.read_at(&mut dst[done..], at)? {
                0 => break,
                n => done += n,
            }
        }
        dst[done..].fill(0);
        Ok(())
    }

    /// Copies bytes out (the caller checked bounds).
    pub fn read(&self, offset: u64, dst: &mut [u8]) -> io::Result<()> {
        let mut done = 0usize;
        while done < dst.len() {
            let at = offset + done as u64;
            let (page, within) = (at / PAGE_SIZE, (at % PAGE_SIZE) as usize);
            let n = (PAGE_SIZE as usize - within).min(dst.len() - done);
            match self.pages.get(&page) {
                Some(p) => dst[done..done + n].copy_from_slice(&p[within..within + n]),
                None => self.read_checkpointed(page, within, &mut dst[done..done + n])?,
            }
            done += n;
        }
        Ok(())
    }

    /// Copies bytes in (the caller checked bounds), saving each page's old contents first.
    pub fn write(&mut self, offset: u64, src: &[u8]) -> io::Result<()> {
        let mut done = 0usize;
        while done < src.len() {
            let at = offset + done as u64;
            let (page, within) = (at / PAGE_SIZE, (at % PAGE_SIZE) as usize);
            let n = (PAGE_SIZE as usize - within).min(src.len() - done);
            if let Some(undo) = &mut self.undo {
                undo.pages
                    .entry(page)
                    .or_insert_with(|| self.pages.get(&page).cloned());
            }
            if !self.pages.contains_key(&page) {
                let mut fresh = zero_page();
                // A whole-page write needs nothing of the old page.
                if n < PAGE_SIZE as usize {
                    self.read_checkpointed(page, 0, &mut fresh[..])?;
                }
                self.pages.insert(page, fresh);
            }
            let p = self.pages.get_mut(&page).expect("just inserted");
            p[within..within + n].copy_from_slice(&src[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Starts recording what the next message changes.
    pub fn begin(&mut self) {
        // Already open: an upgrade, whose pre_upgrade and post_upgrade commit or roll back as one.
        if self.undo.is_none() {
            self.undo = Some(Undo {
                pages: BTreeMap::new(),
                size_pages: self.size_pages,
            });
        }
    }

    /// Keeps what the message changed.
    pub fn commit(&mut self) {
        self.undo = None;
    }

    /// Puts back everything the message changed.
    pub fn rollback(&mut self) {
        if let Some(undo) = self.undo.take() {
            for (page, old) in undo.pages {
                match old {
                    Some(p) => {
                        self.pages.insert(page, p);
                    }
                    None => {
                        self.pages.remove(&page);
                    }
                }
            }
            self.size_pages = undo.size_pages;
        }
    }

    /// Pages touched during the open message (its cost of rollback).
    pub fn touched(&self) -> usize {
        self.undo.as_ref().map_or(0, |u| u.pages.len())
    }

    /// The pages a checkpoint must write: changed since the last one.
    pub fn changed_pages(&self) -> impl Iterator<Item = (u64, &[u8])> {
        self.pages.iter().map(|(&i, p)| (i, &p[..]))
    }

    /// The file holding the checkpointed pages, if any.
    pub fn backing_name(&self) -> Option<&str> {
        self.file.as_ref().map(|b| b.name.as_str())
    }

    /// After a checkpoint wrote every changed page to `file`: read them from there from now on.
    pub fn checkpointed(&mut self, file: Backing) {
        self.pages.clear();
        self.file = Some(file);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_restores_pages_and_size() {
        let mut m = StableMemory::default();
        m.grow(2, 10).unwrap();
        m.write(PAGE_SIZE - 2, b"abcd").unwrap();
        m.begin();
        m.grow(1, 10).unwrap();
        m.write(PAGE_SIZE - 1, b"XYZ").unwrap();
        m.write(2 * PAGE_SIZE + 5, b"new").unwrap();
        assert_eq!(m.touched(), 3);
        m.rollback();
        assert_eq!(m.size(), 2);
        let mut buf = [0u8; 4];
        m.read(PAGE_SIZE - 2, &mut buf).unwrap();
        assert_eq!(&buf, b"abcd");
        assert_eq!(
            m.changed_pages().map(|(i, _)| i).collect::<Vec<_>>(),
            vec![0, 1],
            "a page created by the rolled-back message is gone"
        );
    }

    #[test]
    fn bounds_and_limits() {
        let mut m = StableMemory::default();
        assert_eq!(m.grow(3, 2), None);
        assert_eq!(m.grow(2, 2), Some(0));
        assert!(m.in_bounds(0, 2 * PAGE_SIZE));
        assert!(!m.in_bounds(1, 2 * PAGE_SIZE));
        assert!(!m.in_bounds(u64::MAX, 2));
    }
}

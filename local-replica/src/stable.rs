//! Stable memory: sparse 64 KiB pages, with an undo log so that a message that traps is rolled
//! back at a cost proportional to the pages it touched — not to the size of the memory.

use std::collections::BTreeMap;

/// A wasm (and stable memory) page.
pub const PAGE_SIZE: u64 = 65536;

type Page = Box<[u8; PAGE_SIZE as usize]>;

/// A canister's stable memory.
#[derive(Default)]
pub struct StableMemory {
    pages: BTreeMap<u64, Page>,
    size_pages: u64,
    /// Open while a message runs: each touched page's contents before the message (None: the
    /// page did not exist), and the size before.
    undo: Option<Undo>,
}

struct Undo {
    pages: BTreeMap<u64, Option<Page>>,
    size_pages: u64,
}

impl StableMemory {
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

    /// Copies bytes out (the caller checked bounds). Untouched pages read as zeros.
    pub fn read(&self, offset: u64, dst: &mut [u8]) {
        let mut done = 0usize;
        while done < dst.len() {
            let at = offset + done as u64;
            let (page, within) = (at / PAGE_SIZE, (at % PAGE_SIZE) as usize);
            let n = (PAGE_SIZE as usize - within).min(dst.len() - done);
            match self.pages.get(&page) {
                Some(p) => dst[done..done + n].copy_from_slice(&p[within..within + n]),
                None => dst[done..done + n].fill(0),
            }
            done += n;
        }
    }

    /// Copies bytes in (the caller checked bounds), saving each page's old contents first.
    pub fn write(&mut self, offset: u64, src: &[u8]) {
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
            let p = self
                .pages
                .entry(page)
                .or_insert_with(|| Box::new([0u8; PAGE_SIZE as usize]));
            p[within..within + n].copy_from_slice(&src[done..done + n]);
            done += n;
        }
    }

    /// Starts recording what the next message changes.
    pub fn begin(&mut self) {
        self.undo = Some(Undo {
            pages: BTreeMap::new(),
            size_pages: self.size_pages,
        });
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

    /// A page's bytes, if it was ever written.
    pub fn page(&self, page: u64) -> Option<&[u8]> {
        self.pages.get(&page).map(|p| &p[..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_restores_pages_and_size() {
        let mut m = StableMemory::default();
        m.grow(2, 10).unwrap();
        m.write(PAGE_SIZE - 2, b"abcd");
        m.begin();
        m.grow(1, 10).unwrap();
        m.write(PAGE_SIZE - 1, b"XYZ");
        m.write(2 * PAGE_SIZE + 5, b"new");
        assert_eq!(m.touched(), 3);
        m.rollback();
        assert_eq!(m.size(), 2);
        let mut buf = [0u8; 4];
        m.read(PAGE_SIZE - 2, &mut buf);
        assert_eq!(&buf, b"abcd");
        assert!(
            m.page(2).is_none(),
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

//! The fuzzed vault's stable memory: a `VectorMemory` (the same bytes, the same `size`, `grow`,
//! `read` and `write`, delegated to it) that also notes what it is asked to write. That makes
//! the model target's per-call checks cheap without making them weaker:
//!
//! - a fresh state per input is the base vault's bytes copied back only where the last input
//!   wrote them (instead of a new copy of all of them: a megabyte and more, freshly faulted in);
//! - `changes` says whether anything at all was written (or grown) since a point: where nothing
//!   was, the invariants that held there still hold, and need no second check;
//! - while an update is [`watch`](Tracked::watch)ed, each 4 KiB page keeps its bytes from before
//!   the update's first write to it, so a refused update is checked against the memory as it was
//!   (byte for byte; and where bytes differ, by `State::digest` of the state before, rebuilt from
//!   those pages, against the state after) instead of digesting the whole vault before every
//!   update on the chance that it is refused.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use ic_stable_structures::Memory;

/// Granularity of the notes.
const PAGE: usize = 4096;

/// The memory a fuzzed `State` runs on (cheap to clone: a handle).
pub type Mem = Rc<Tracked>;

/// See the module docs.
#[derive(Default)]
pub struct Tracked {
    bytes: RefCell<Vec<u8>>,
    /// Bumped by every `write` and `grow`.
    changes: Cell<u64>,
    /// Length of the bytes [`reset`](Tracked::reset) last copied in.
    base_len: Cell<usize>,
    /// Pages below `base_len` written since then (what the next reset copies back).
    dirty: RefCell<Pages>,
    /// While an update is watched: the memory before it.
    undo: RefCell<Option<Before>>,
}

/// A set of page numbers, listed in the order they were added.
#[derive(Default)]
struct Pages {
    bits: Vec<u64>,
    list: Vec<usize>,
}

impl Pages {
    /// Adds `page`: whether it was new.
    fn insert(&mut self, page: usize) -> bool {
        let (word, bit) = (page / 64, 1u64 << (page % 64));
        if word >= self.bits.len() {
            self.bits.resize(word + 1, 0);
        }
        let new = self.bits[word] & bit == 0;
        if new {
            self.bits[word] |= bit;
            self.list.push(page);
        }
        new
    }

    fn clear(&mut self) {
        for &page in &self.list {
            self.bits[page / 64] = 0;
        }
        self.list.clear();
    }
}

/// The memory as it was when a watch began: its length, and the earlier bytes of every page
/// written since (pages past `len`, grown since, were not there).
pub struct Before {
    len: usize,
    pages: Pages,
    /// Page `pages.list[i]`'s bytes at `i * PAGE`.
    saved: Vec<u8>,
}

impl Tracked {
    /// A memory holding a copy of `base`.
    pub fn new(base: &[u8]) -> Mem {
        let m = Rc::new(Tracked::default());
        m.reset(base);
        m
    }

    /// Makes the bytes equal to `base` again (which must be the bytes of the last reset, or
    /// this is the first): copies back the pages written since, drops what was grown.
    pub fn reset(&self, base: &[u8]) {
        let mut bytes = self.bytes.borrow_mut();
        let mut dirty = self.dirty.borrow_mut();
        if self.base_len.get() != base.len() || bytes.len() < base.len() {
            bytes.clear();
            bytes.extend_from_slice(base);
        } else {
            bytes.truncate(base.len());
            for &page in &dirty.list {
                let range = page * PAGE..((page + 1) * PAGE).min(base.len());
                bytes[range.clone()].copy_from_slice(&base[range]);
            }
        }
        dirty.clear();
        self.base_len.set(base.len());
        *self.undo.borrow_mut() = None;
        self.changes.set(self.changes.get() + 1);
    }

    /// A copy of the bytes.
    pub fn to_vec(&self) -> Vec<u8> {
        self.bytes.borrow().clone()
    }

    /// Counts writes and grows: equal counts, no change between.
    pub fn changes(&self) -> u64 {
        self.changes.get()
    }

    /// Starts keeping the bytes of each page before its first write.
    pub fn watch(&self) {
        *self.undo.borrow_mut() = Some(Before {
            len: self.bytes.borrow().len(),
            pages: Pages::default(),
            saved: Vec::new(),
        });
    }

    /// Stops watching: the memory as it was when the watch began.
    pub fn unwatch(&self) -> Option<Before> {
        self.undo.borrow_mut().take()
    }

    /// Whether the bytes are those of `before`, every one.
    pub fn same_as(&self, before: &Before) -> bool {
        let bytes = self.bytes.borrow();
        bytes.len() == before.len
            && before.pages.list.iter().enumerate().all(|(i, &page)| {
                let range = page * PAGE..((page + 1) * PAGE).min(before.len);
                bytes[range.clone()] == before.saved[i * PAGE..][..range.len()]
            })
    }

    /// The bytes as they were before: the current ones, with the saved pages put back and what
    /// was grown since cut off.
    pub fn bytes_before(&self, before: &Before) -> Vec<u8> {
        let mut bytes = self.bytes.borrow()[..before.len].to_vec();
        for (i, &page) in before.pages.list.iter().enumerate() {
            let range = page * PAGE..((page + 1) * PAGE).min(before.len);
            let n = range.len();
            bytes[range].copy_from_slice(&before.saved[i * PAGE..][..n]);
        }
        bytes
    }

    /// Notes a write of `len` bytes at `offset`, before it happens.
    fn note(&self, offset: u64, len: usize) {
        self.changes.set(self.changes.get() + 1);
        let bytes = self.bytes.borrow();
        // Only what is in bounds: a write past the end panics (in VectorMemory's write) after
        // this, as it did without it.
        let end = offset.saturating_add(len as u64).min(bytes.len() as u64) as usize;
        let Ok(start) = usize::try_from(offset) else {
            return;
        };
        if start >= end {
            return;
        }
        let base_len = self.base_len.get();
        let mut dirty = self.dirty.borrow_mut();
        let mut undo = self.undo.borrow_mut();
        for page in start / PAGE..=(end - 1) / PAGE {
            if page * PAGE < base_len {
                dirty.insert(page);
            }
            if let Some(u) = undo.as_mut()
                && page * PAGE < u.len
                && u.pages.insert(page)
            {
                let range = page * PAGE..((page + 1) * PAGE).min(u.len);
                let n = range.len();
                u.saved.extend_from_slice(&bytes[range]);
                u.saved.resize(u.saved.len() + (PAGE - n), 0);
            }
        }
    }
}

impl Memory for Tracked {
    fn size(&self) -> u64 {
        self.bytes.size()
    }

    fn grow(&self, pages: u64) -> i64 {
        self.changes.set(self.changes.get() + 1);
        self.bytes.grow(pages)
    }

    fn read(&self, offset: u64, dst: &mut [u8]) {
        self.bytes.read(offset, dst)
    }

    unsafe fn read_unsafe(&self, offset: u64, dst: *mut u8, count: usize) {
        // SAFETY: the caller's guarantees, passed on unchanged.
        unsafe { self.bytes.read_unsafe(offset, dst, count) }
    }

    fn write(&self, offset: u64, src: &[u8]) {
        self.note(offset, src.len());
        self.bytes.write(offset, src)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Vec<u8> {
        (0..3 * 65536).map(|i| (i * 7 % 251) as u8).collect()
    }

    #[test]
    fn a_watch_gives_back_the_bytes_before_and_a_reset_the_base() {
        let base = base();
        let m = Tracked::new(&base);
        m.write(10, &[1, 2, 3]);
        m.watch();
        let changes = m.changes();
        assert!(m.same_as(m.undo.borrow().as_ref().unwrap()));
        let before_watch = m.to_vec();
        m.write(4000, &[9; 200]); // across a page boundary
        m.write(4090, &[8; 3]); // a page already saved: its first bytes stay
        assert_eq!(m.grow(2), 3);
        m.write(3 * 65536 + 5, &[7; 10]); // grown: nothing to save
        m.write(65536 * 2 - 1, &[6]);
        assert!(m.changes() > changes);
        let before = m.unwatch().unwrap();
        assert!(!m.same_as(&before));
        assert_eq!(m.bytes_before(&before), before_watch);

        // Writes that put back what was there leave the bytes the same.
        let now = m.to_vec();
        m.watch();
        m.write(0, &now[..5000]);
        let before = m.unwatch().unwrap();
        assert!(m.same_as(&before));

        m.reset(&base);
        assert_eq!(m.to_vec(), base);
        m.write(65536, &[5; 65536]);
        m.grow(1);
        m.reset(&base);
        assert_eq!(m.to_vec(), base);
    }

    #[test]
    #[should_panic(expected = "write: out of bounds")]
    fn a_write_out_of_bounds_panics_as_before() {
        let m = Tracked::new(&base());
        m.watch();
        m.write(u64::MAX - 2, &[1; 8]);
    }
}

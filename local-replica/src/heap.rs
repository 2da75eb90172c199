//! The heap's journal: which 4 KiB pages a message changed and what they held before, so a
//! message that traps is rolled back at the cost of the pages it touched, and a checkpoint
//! writes only the pages changed since the last one.
//!
//! The rewritten module asks for a page to be saved before its first store to it in a message
//! (see `module`). A store of up to 16 bytes may run into the next page, so saving page `p`
//! also saves `p + 1`; the "saved" byte for `p` is set only once both are saved.

use std::collections::{BTreeSet, HashMap};

use crate::module::HEAP_PAGE;

type Page = Box<[u8; HEAP_PAGE as usize]>;

/// One canister's heap journal.
#[derive(Default)]
pub struct HeapJournal {
    /// Open while a message runs.
    active: bool,
    /// Contents before the message of each page it may have changed.
    saved: HashMap<u32, Page>,
    /// Pages whose "saved" byte is set (cleared when the message ends).
    marked: Vec<u32>,
    /// Pages changed since the last checkpoint.
    dirty: BTreeSet<u32>,
}

impl HeapJournal {
    /// Starts recording a message.
    pub fn begin(&mut self) {
        self.active = true;
    }

    /// Saves page `page` and the one after it (if inside `heap` and not saved yet). Returns
    /// whether `page`'s "saved" byte may be set.
    pub fn save_page(&mut self, heap: &[u8], page: u32) -> bool {
        if !self.active {
            self.dirty.insert(page);
            self.dirty.insert(page.saturating_add(1));
            return false;
        }
        self.keep(heap, page);
        self.keep(heap, page.saturating_add(1));
        self.marked.push(page);
        true
    }

    /// Saves every page of `[start, start + len)` (the caller checked it lies in `heap`).
    pub fn save_range(&mut self, heap: &[u8], start: u64, len: u64) {
        if len == 0 {
            return;
        }
        let (first, last) = (start / HEAP_PAGE, (start + len - 1) / HEAP_PAGE);
        for page in first..=last {
            if self.active {
                self.keep(heap, page as u32);
            } else {
                self.dirty.insert(page as u32);
            }
        }
    }

    fn keep(&mut self, heap: &[u8], page: u32) {
        let at = page as usize * HEAP_PAGE as usize;
        if at >= heap.len() || self.saved.contains_key(&page) {
            return;
        }
        let mut copy: Page = Box::new([0; HEAP_PAGE as usize]);
        copy.copy_from_slice(&heap[at..at + HEAP_PAGE as usize]);
        self.saved.insert(page, copy);
    }

    /// Keeps what the message did. Returns the pages whose "saved" byte must be cleared.
    pub fn commit(&mut self) -> Vec<u32> {
        self.active = false;
        self.dirty.extend(self.saved.drain().map(|(page, _)| page));
        std::mem::take(&mut self.marked)
    }

    /// Puts back every page the message changed (inside `heap`, which may have grown).
    /// Returns the pages whose "saved" byte must be cleared.
    pub fn rollback(&mut self, heap: &mut [u8]) -> Vec<u32> {
        self.active = false;
        for (page, old) in self.saved.drain() {
            let at = page as usize * HEAP_PAGE as usize;
            heap[at..at + HEAP_PAGE as usize].copy_from_slice(&old[..]);
        }
        std::mem::take(&mut self.marked)
    }

    /// Pages saved by the open message.
    pub fn touched(&self) -> usize {
        self.saved.len()
    }

    /// The pages changed since the last checkpoint.
    pub fn dirty(&self) -> &BTreeSet<u32> {
        &self.dirty
    }

    /// After a checkpoint wrote them.
    pub fn clear_dirty(&mut self) {
        self.dirty.clear();
    }

    /// Marks every page of a heap of `len` bytes changed (a new instance: all of it is new).
    pub fn all_dirty(&mut self, len: usize) {
        self.dirty.extend(0..(len as u64 / HEAP_PAGE) as u32);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_restores_saved_pages_only() {
        let mut heap = vec![7u8; 4 * HEAP_PAGE as usize];
        let mut j = HeapJournal::default();
        j.begin();
        assert!(j.save_page(&heap, 1));
        heap[HEAP_PAGE as usize * 2 - 1] = 1; // the end of page 1 ...
        heap[HEAP_PAGE as usize * 2] = 2; // ... runs into page 2, saved with it
        assert_eq!(j.touched(), 2);
        assert_eq!(j.rollback(&mut heap), vec![1]);
        assert!(heap.iter().all(|&b| b == 7));
        assert_eq!(j.touched(), 0);
    }

    #[test]
    fn commit_feeds_the_checkpoint_and_the_last_page_has_no_neighbour() {
        let heap = vec![0u8; 2 * HEAP_PAGE as usize];
        let mut j = HeapJournal::default();
        j.begin();
        j.save_page(&heap, 1);
        j.save_range(&heap, 0, 10);
        assert_eq!(j.touched(), 2, "page 2 is past the heap");
        j.commit();
        assert_eq!(j.dirty().iter().copied().collect::<Vec<_>>(), vec![0, 1]);
        j.clear_dirty();
        assert!(j.dirty().is_empty());
    }
}

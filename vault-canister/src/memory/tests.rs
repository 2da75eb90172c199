//! The layouts as memories: which one a memory is read as, and the metadata memory's bound
//! against the MemoryManager it is built on. What a vault holds in each: `model/tests/layout.rs`.

use std::cell::Cell;
use std::rc::Rc;

use ic_stable_structures::VectorMemory;

use super::*;

/// A memory that keeps only its size (writes are dropped, reads are zeros): to grow managers
/// to their ceilings without holding gigabytes.
#[derive(Clone, Default)]
struct SizeOnly(Rc<Cell<u64>>);

impl Memory for SizeOnly {
    fn size(&self) -> u64 {
        self.0.get()
    }
    fn grow(&self, pages: u64) -> i64 {
        let old = self.0.get();
        self.0.set(old + pages);
        old as i64
    }
    fn read(&self, _offset: u64, dst: &mut [u8]) {
        dst.fill(0);
    }
    fn write(&self, _offset: u64, _src: &[u8]) {}
}

/// METADATA_MEMORY_LIMIT is where the metadata manager stops growing: one structure takes all
/// its buckets, the next page is refused, and METADATA is then exactly the limit.
#[test]
fn the_metadata_memory_stops_at_its_limit() {
    let memory = SizeOnly::default();
    let memories = Memories::open(memory.clone(), OUTER_BUCKET_PAGES);
    let files = memories.get(FILES);
    let all = MANAGER_MAX_BUCKETS * METADATA_BUCKET_PAGES as u64;
    assert_eq!(files.grow(all), 0);
    assert_eq!(
        files.grow(1),
        -1,
        "a page past the metadata manager's buckets"
    );
    let metadata = memories.metadata_memory().expect("layout 2");
    assert_eq!(metadata.size() * WASM_PAGE_SIZE, METADATA_MEMORY_LIMIT);
    // The chunk data still grows (in the outer manager) past it.
    assert_eq!(memories.get(CHUNK_DATA).grow(1), 0);
}

/// An empty memory gets layout 2; reopened, a memory keeps the layout it holds, read from its
/// own bytes, and so does a layout 1 memory, created as vaults were before layout 2.
#[test]
fn a_memory_opens_in_the_layout_it_holds() {
    let memory = VectorMemory::default();
    let memories = Memories::open(memory.clone(), OUTER_BUCKET_PAGES);
    assert_eq!(memories.layout(), Layout::V2);
    memories.get(CONFIG).grow(1);
    drop(memories);
    assert_eq!(
        Memories::open(memory.clone(), OUTER_BUCKET_PAGES).layout(),
        Layout::V2
    );
    // Nothing of it is in the outer manager but METADATA.
    let outer = MemoryManager::init(memory);
    assert_eq!(outer.get(CONFIG).size(), 0);
    assert_eq!(outer.get(METADATA).size(), 1 + METADATA_BUCKET_PAGES as u64);

    let old = VectorMemory::default();
    let memories = Memories::create_v1(old.clone(), OUTER_BUCKET_PAGES);
    memories.get(CONFIG).grow(1);
    drop(memories);
    // The bucket size asked for is for a new memory: layout 1's stays as written.
    let memories = Memories::open(old.clone(), 1);
    assert_eq!(memories.layout(), Layout::V1);
    assert!(memories.metadata_memory().is_none());
    memories.get(FILES).grow(1);
    assert_eq!(old.size(), 1 + 2 * OUTER_BUCKET_PAGES as u64);
}

/// Code from before layout 2 installed over a layout-2 vault (a rollback) opens its own
/// structures, in outer memories layout 2 does not use: it finds no owner. The vault's own code,
/// installed again, opens layout 2 as it was.
#[test]
fn a_rollback_to_layout_1_code_leaves_layout_2_for_its_code_to_open_again() {
    use ic_stable_structures::{StableBTreeMap, StableCell};
    let memory = VectorMemory::default();
    let memories = Memories::open(memory.clone(), OUTER_BUCKET_PAGES);
    let files = memories.get(FILES);
    files.grow(1);
    files.write(0, b"layout 2's own");
    drop((files, memories));
    {
        // What layout 1's `State::init` does first: its config cell, then its maps.
        let outer = MemoryManager::init(memory.clone());
        StableCell::init(outer.get(CONFIG), 0u64);
        let _: StableBTreeMap<u64, u64, _> = StableBTreeMap::init(outer.get(FILES));
    }
    let memories = Memories::open(memory, OUTER_BUCKET_PAGES);
    assert_eq!(memories.layout(), Layout::V2);
    let mut read = [0; 14];
    memories.get(FILES).read(0, &mut read);
    assert_eq!(&read, b"layout 2's own");
}

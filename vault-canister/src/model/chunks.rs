//! The chunk store: ciphertext chunks in their own stable memory, in 4 KiB blocks.
//!
//! ```text
//! data memory:   | block 0 | block 1 | ... | block high_water-1 | (never handed out) ...
//! index:         (storage id u64be || chunk index u32be) -> ChunkLocation { len, [(first block, count)] }
//! free_by_start: first block u32 -> count u32            (to coalesce neighbours on free)
//! free_by_size:  count u32be || first block u32be -> ()  (to find the best fit)
//! meta cell:     high water, free blocks, chunk count
//! ```
//!
//! A chunk is written where it fits whole if it can (best fit among free extents, else fresh
//! blocks past the high water), so a 1 MiB chunk is normally one contiguous `stable_write`:
//! close to the cost of a bare write, unlike a BTreeMap value spread over overflow pages.
//! Freed extents coalesce with free neighbours; an extent that reaches the high water lowers
//! it. When free space is fragmented and fresh space would have to grow the memory, a chunk is
//! gathered from several free extents instead, so space is always reused before it grows.

use ic_stable_structures::{Memory, StableBTreeMap, StableCell};

use super::stored::{ChunkLocation, ChunkMeta, Key, key};
use crate::memory::WASM_PAGE_SIZE;

/// Allocation unit.
pub const BLOCK_SIZE: u64 = 4096;

/// (storage id, chunk index): the key of a stored chunk.
pub type ChunkKey = Key<12>;

/// The key of chunk `index` of the file stored as `storage`.
pub fn chunk_key(storage: u64, index: u32) -> ChunkKey {
    key(&[&storage.to_be_bytes(), &index.to_be_bytes()])
}

/// The chunk store ran out of stable memory.
#[derive(Debug, PartialEq, Eq)]
pub struct StoreFull;

/// See the module docs.
pub struct ChunkStore<M: Memory> {
    data: M,
    index: StableBTreeMap<ChunkKey, ChunkLocation, M>,
    free_by_start: StableBTreeMap<u32, u32, M>,
    free_by_size: StableBTreeMap<Key<8>, (), M>,
    meta: StableCell<ChunkMeta, M>,
}

fn blocks_for(len: usize) -> u32 {
    (len as u64).div_ceil(BLOCK_SIZE) as u32
}

fn size_key(count: u32, start: u32) -> Key<8> {
    key(&[&count.to_be_bytes(), &start.to_be_bytes()])
}

impl<M: Memory> ChunkStore<M> {
    /// Opens (or creates) the store over its five memories.
    pub fn init(data: M, index: M, free_by_start: M, free_by_size: M, meta: M) -> Self {
        Self {
            data,
            index: StableBTreeMap::init(index),
            free_by_start: StableBTreeMap::init(free_by_start),
            free_by_size: StableBTreeMap::init(free_by_size),
            meta: StableCell::init(meta, ChunkMeta::default()),
        }
    }

    /// Stores `bytes` as chunk `key`, replacing what was there. Nothing changes on error.
    ///
    /// A replacement of the same size (a resent chunk) is written over the old blocks.
    pub fn put(&mut self, key: ChunkKey, bytes: &[u8]) -> Result<(), StoreFull> {
        let n = blocks_for(bytes.len());
        let old = self.index.get(&key);
        let extents = match &old {
            Some(old) if old.extents.iter().map(|e| e.1).sum::<u32>() == n => old.extents.clone(),
            _ => self.allocate(n)?,
        };
        if let Some(old) = &old
            && old.extents != extents
        {
            self.release(&old.extents);
        }
        let mut offset = 0usize;
        for &(start, count) in &extents {
            let end = (offset + count as usize * BLOCK_SIZE as usize).min(bytes.len());
            self.data
                .write(start as u64 * BLOCK_SIZE, &bytes[offset..end]);
            offset = end;
        }
        if self
            .index
            .insert(
                key,
                ChunkLocation {
                    len: bytes.len() as u32,
                    extents,
                },
            )
            .is_none()
        {
            self.update_meta(|m| m.chunks += 1);
        }
        Ok(())
    }

    /// The bytes of chunk `key`.
    pub fn get(&self, key: &ChunkKey) -> Option<Vec<u8>> {
        let loc = self.index.get(key)?;
        let mut out = vec![0u8; loc.len as usize];
        let mut offset = 0usize;
        for (start, count) in loc.extents {
            let end = (offset + count as usize * BLOCK_SIZE as usize).min(out.len());
            self.data
                .read(start as u64 * BLOCK_SIZE, &mut out[offset..end]);
            offset = end;
        }
        Some(out)
    }

    /// The length of chunk `key`, if stored.
    pub fn len_of(&self, key: &ChunkKey) -> Option<u32> {
        self.index.get(key).map(|loc| loc.len)
    }

    /// Removes chunk `key`, freeing its blocks; returns its length.
    pub fn remove(&mut self, key: &ChunkKey) -> Option<u32> {
        let loc = self.index.remove(key)?;
        self.release(&loc.extents);
        self.update_meta(|m| m.chunks -= 1);
        Some(loc.len)
    }

    /// The chunk indices stored for `storage`, ascending.
    pub fn indices_of(&self, storage: u64) -> impl Iterator<Item = u32> + '_ {
        self.index
            .keys_range(chunk_key(storage, 0)..=chunk_key(storage, u32::MAX))
            .map(|k| u32::from_be_bytes(k.0[8..].try_into().expect("4 bytes")))
    }

    /// Allocator state: (high water, free blocks, chunks).
    pub fn meta(&self) -> ChunkMeta {
        self.meta.get().clone()
    }

    /// Bytes of the data memory that a chunk can take without the memory growing: free
    /// blocks, and memory already grown past the high water.
    pub fn reusable_bytes(&self) -> u64 {
        let meta = self.meta();
        meta.free_blocks * BLOCK_SIZE
            + (self.data.size() * WASM_PAGE_SIZE)
                .saturating_sub(meta.high_water as u64 * BLOCK_SIZE)
    }

    /// Stable memory held by the data memory, in bytes.
    pub fn data_bytes(&self) -> u64 {
        self.data.size() * WASM_PAGE_SIZE
    }

    fn update_meta(&mut self, f: impl FnOnce(&mut ChunkMeta)) {
        let mut meta = self.meta.get().clone();
        f(&mut meta);
        self.meta.set(meta);
    }

    /// Finds `n` blocks and takes them out of the free lists (or past the high water).
    fn allocate(&mut self, n: u32) -> Result<Vec<(u32, u32)>, StoreFull> {
        if n == 0 {
            return Ok(Vec::new());
        }
        // 1. Best fit: the smallest free extent that holds all n blocks.
        let best = self.free_by_size.keys_range(size_key(n, 0)..).next();
        if let Some((start, count)) = best.map(|k| decode_size_key(&k)) {
            self.take_free(start, count);
            if count > n {
                self.add_free(start + n, count - n);
            }
            return Ok(vec![(start, n)]);
        }
        // 2. Enough free space, but fragmented: gather it, largest extents first. Space is
        //    reused before the memory grows (stable memory is what the vault pays for).
        if self.meta().free_blocks >= n as u64 {
            let mut extents = Vec::new();
            let mut need = n;
            while need > 0 {
                let k = self
                    .free_by_size
                    .keys()
                    .next_back()
                    .expect("free_blocks counts these extents");
                let (start, count) = decode_size_key(&k);
                self.take_free(start, count);
                let take = count.min(need);
                if count > take {
                    self.add_free(start + take, count - take);
                }
                extents.push((start, take));
                need -= take;
            }
            return Ok(extents);
        }
        // 3. Fresh blocks past the high water.
        let high_water = self.meta().high_water;
        if !self.ensure_capacity(high_water as u64 + n as u64) {
            return Err(StoreFull);
        }
        self.update_meta(|m| m.high_water += n);
        Ok(vec![(high_water, n)])
    }

    /// Whether the data memory can hold `blocks` blocks, growing it if needed.
    fn ensure_capacity(&mut self, blocks: u64) -> bool {
        let needed_pages = (blocks * BLOCK_SIZE).div_ceil(WASM_PAGE_SIZE);
        let have = self.data.size();
        needed_pages <= have || self.data.grow(needed_pages - have) != -1
    }

    /// Returns extents to the free lists, coalescing neighbours and lowering the high water.
    fn release(&mut self, extents: &[(u32, u32)]) {
        for &(start, count) in extents {
            let (mut start, mut count) = (start, count);
            if let Some(prev) = self.free_by_start.range(..start).next_back() {
                let (p_start, p_count) = (*prev.key(), prev.value());
                if p_start + p_count == start {
                    self.take_free(p_start, p_count);
                    start = p_start;
                    count += p_count;
                }
            }
            if let Some(next_count) = self.free_by_start.get(&(start + count)) {
                self.take_free(start + count, next_count);
                count += next_count;
            }
            let meta = self.meta();
            if start + count == meta.high_water {
                self.update_meta(|m| m.high_water = start);
            } else {
                self.add_free(start, count);
            }
        }
    }

    fn take_free(&mut self, start: u32, count: u32) {
        self.free_by_start.remove(&start);
        self.free_by_size.remove(&size_key(count, start));
        self.update_meta(|m| m.free_blocks -= count as u64);
    }

    fn add_free(&mut self, start: u32, count: u32) {
        self.free_by_start.insert(start, count);
        self.free_by_size.insert(size_key(count, start), ());
        self.update_meta(|m| m.free_blocks += count as u64);
    }

    /// Every free extent, ascending (tests check invariants with it).
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn free_extents(&self) -> Vec<(u32, u32)> {
        self.free_by_start
            .iter()
            .map(|e| (*e.key(), e.value()))
            .collect()
    }

    /// Every stored chunk's extents (tests and the fuzzer check invariants with it).
    #[cfg(any(test, feature = "fuzzing"))]
    pub fn all_extents(&self) -> Vec<(u32, u32)> {
        self.index.iter().flat_map(|e| e.value().extents).collect()
    }
}

fn decode_size_key(k: &Key<8>) -> (u32, u32) {
    let count = u32::from_be_bytes(k.0[..4].try_into().expect("4 bytes"));
    let start = u32::from_be_bytes(k.0[4..].try_into().expect("4 bytes"));
    (start, count)
}

#[cfg(test)]
mod tests;

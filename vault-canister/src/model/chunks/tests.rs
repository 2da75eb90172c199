use std::collections::BTreeMap;

use ic_stable_structures::VectorMemory;
use proptest::prelude::*;

use super::*;

fn store() -> ChunkStore<VectorMemory> {
    let m = VectorMemory::default;
    ChunkStore::init(m(), m(), m(), m(), m())
}

fn bytes(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| seed.wrapping_add((i % 253) as u8))
        .collect()
}

/// Every block below the high water is in exactly one place: a chunk or the free list.
fn check_invariants(s: &ChunkStore<VectorMemory>) {
    let meta = s.meta();
    let mut owner = vec![0u8; meta.high_water as usize];
    for (start, count) in s.all_extents().into_iter().chain(s.free_extents()) {
        for b in start..start + count {
            assert!(
                (b as usize) < owner.len(),
                "block {b} past the high water {}",
                meta.high_water
            );
            assert_eq!(owner[b as usize], 0, "block {b} is in two places");
            owner[b as usize] = 1;
        }
    }
    assert!(
        owner.iter().all(|&o| o == 1),
        "a block below the high water is lost"
    );
    let free: u64 = s.free_extents().iter().map(|e| e.1 as u64).sum();
    assert_eq!(free, meta.free_blocks);
    // Free extents are coalesced: no two touch, and none touches the high water.
    for pair in s.free_extents().windows(2) {
        assert!(
            pair[0].0 + pair[0].1 < pair[1].0,
            "free extents {pair:?} should have merged"
        );
    }
    if let Some(last) = s.free_extents().last() {
        assert!(
            last.0 + last.1 < meta.high_water,
            "a free extent at the high water should lower it"
        );
    }
}

#[test]
fn a_full_chunk_is_one_contiguous_extent() {
    let mut s = store();
    let chunk = bytes(1, vault_crypto::ENCRYPTED_CHUNK_SIZE);
    s.put(chunk_key(1, 0), &chunk).unwrap();
    assert_eq!(s.get(&chunk_key(1, 0)).unwrap(), chunk);
    assert_eq!(s.all_extents(), vec![(0, 257)]);
    check_invariants(&s);
}

#[test]
fn freed_space_is_reused_before_the_memory_grows() {
    let mut s = store();
    for i in 0..4 {
        s.put(chunk_key(1, i), &bytes(i as u8, 40_000)).unwrap();
    }
    let high = s.meta().high_water;
    s.remove(&chunk_key(1, 1));
    s.remove(&chunk_key(1, 2));
    check_invariants(&s);
    // 20 free blocks in one coalesced extent: a 70 KB chunk (18 blocks) fits without growth.
    s.put(chunk_key(2, 0), &bytes(9, 70_000)).unwrap();
    assert_eq!(s.meta().high_water, high);
    check_invariants(&s);
    assert_eq!(s.get(&chunk_key(1, 3)).unwrap(), bytes(3, 40_000));
}

#[test]
fn fragmented_space_is_gathered() {
    let mut s = store();
    for i in 0..10 {
        s.put(chunk_key(1, i), &bytes(i as u8, 4096)).unwrap();
    }
    for i in (0..10).step_by(2) {
        s.remove(&chunk_key(1, i));
    }
    let high = s.meta().high_water;
    let data = bytes(77, 3 * 4096 + 5);
    s.put(chunk_key(3, 0), &data).unwrap();
    assert_eq!(
        s.meta().high_water,
        high,
        "four scattered free blocks were reused"
    );
    assert_eq!(s.get(&chunk_key(3, 0)).unwrap(), data);
    check_invariants(&s);
}

#[test]
fn removing_the_last_chunk_lowers_the_high_water() {
    let mut s = store();
    s.put(chunk_key(1, 0), &bytes(1, 10_000)).unwrap();
    s.put(chunk_key(1, 1), &bytes(2, 10_000)).unwrap();
    s.remove(&chunk_key(1, 1));
    assert_eq!(s.meta().high_water, 3);
    s.remove(&chunk_key(1, 0));
    assert_eq!(s.meta().high_water, 0);
    assert!(s.free_extents().is_empty());
}

#[test]
fn rewriting_a_chunk_of_the_same_size_reuses_its_blocks() {
    let mut s = store();
    let k = chunk_key(1, 0);
    s.put(k, &bytes(1, 9000)).unwrap();
    let before = s.all_extents();
    s.put(k, &bytes(2, 9000)).unwrap();
    assert_eq!(s.all_extents(), before);
    assert_eq!(s.get(&k).unwrap(), bytes(2, 9000));
    assert_eq!(s.meta().chunks, 1);
}

#[test]
fn indices_of_lists_one_files_chunks() {
    let mut s = store();
    for (file, index) in [(1, 3), (1, 0), (2, 1), (1, u32::MAX)] {
        s.put(chunk_key(file, index), b"x").unwrap();
    }
    assert_eq!(s.indices_of(1).collect::<Vec<_>>(), vec![0, 3, u32::MAX]);
}

#[derive(Clone, Debug)]
enum Op {
    Put {
        file: u8,
        index: u32,
        len: usize,
        seed: u8,
    },
    Remove {
        file: u8,
        index: u32,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..4, 0u32..6, 0usize..40_000, any::<u8>()).prop_map(|(file, index, len, seed)| {
            Op::Put {
                file,
                index,
                len,
                seed,
            }
        }),
        (0u8..4, 0u32..6).prop_map(|(file, index)| Op::Remove { file, index }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn behaves_like_a_map_and_loses_no_block(ops in proptest::collection::vec(op(), 1..60)) {
        let mut s = store();
        let mut oracle = BTreeMap::new();
        for op in ops {
            match op {
                Op::Put { file, index, len, seed } => {
                    let data = bytes(seed, len);
                    s.put(chunk_key(file as u64, index), &data).unwrap();
                    oracle.insert((file, index), data);
                }
                Op::Remove { file, index } => {
                    let got = s.remove(&chunk_key(file as u64, index));
                    prop_assert_eq!(got, oracle.remove(&(file, index)).map(|d| d.len() as u32));
                }
            }
            check_invariants(&s);
        }
        for ((file, index), data) in &oracle {
            let stored = s.get(&chunk_key(*file as u64, *index));
            prop_assert_eq!(stored.as_ref(), Some(data));
        }
        prop_assert_eq!(s.meta().chunks, oracle.len() as u64);
        // Removing everything returns every block.
        for (file, index) in oracle.keys() {
            s.remove(&chunk_key(*file as u64, *index));
        }
        prop_assert_eq!(s.meta().high_water, 0);
        prop_assert_eq!(s.meta().free_blocks, 0);
    }
}

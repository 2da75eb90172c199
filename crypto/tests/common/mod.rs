//! RNGs for tests: a seeded one, a recording one (to write vectors) and a replaying one (to
//! re-encrypt a vector byte for byte).
#![allow(dead_code)]

use std::convert::Infallible;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_core::{TryCryptoRng, TryRng};

pub fn seeded(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// Hands out recorded bytes in order; panics when they run out (the format drew more
/// randomness than the vector recorded: a format change).
pub struct Replay {
    bytes: Vec<u8>,
    at: usize,
}

impl Replay {
    pub fn new(bytes: &[u8]) -> Self {
        Self {
            bytes: bytes.to_vec(),
            at: 0,
        }
    }

    pub fn fully_used(&self) -> bool {
        self.at == self.bytes.len()
    }
}

impl TryRng for Replay {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let end = self.at + dst.len();
        assert!(
            end <= self.bytes.len(),
            "the format drew more randomness than the vector recorded"
        );
        dst.copy_from_slice(&self.bytes[self.at..end]);
        self.at = end;
        Ok(())
    }
}
impl TryCryptoRng for Replay {}

/// A seeded RNG that records every byte it hands out.
pub struct Recording {
    inner: StdRng,
    pub taken: Vec<u8>,
}

impl Recording {
    pub fn new(seed: u64) -> Self {
        Self {
            inner: seeded(seed),
            taken: Vec::new(),
        }
    }

    /// The bytes drawn so far, and a fresh record.
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.taken)
    }
}

impl TryRng for Recording {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        rand_core::Rng::fill_bytes(&mut self.inner, dst);
        self.taken.extend_from_slice(dst);
        Ok(())
    }
}
impl TryCryptoRng for Recording {}

//! Builders for tests of the model and of what is built on it (`http::api`): principals,
//! blobs of the right shape, a set-up vault's secrets, whole uploads.

use candid::Principal;
use ic_stable_structures::Memory;
use ic_stable_structures::VectorMemory;
use serde_bytes::ByteBuf;
use vault_crypto::{
    AdmissionChallenge, KdfParams, LinkToken, MasterGeneration, MasterKey, PassphraseKek,
    PassphraseWrappedKey, RecoveryKey, WRAPPED_KEY_SIZE,
};

use super::State;
use super::types::*;

pub(crate) const T0: u64 = 1_700_000_000_000_000_000;
pub(crate) const SECOND: u64 = 1_000_000_000;

pub(crate) fn p(n: u8) -> Principal {
    Principal::from_slice(&[n; 29])
}

pub(crate) fn blob(len: usize, fill: u8) -> ByteBuf {
    let mut b = vec![fill; len];
    if len > 0 {
        b[0] = 1; // format version
    }
    ByteBuf::from(b)
}

pub(crate) fn id(n: u8) -> ByteBuf {
    ByteBuf::from(vec![n; 16])
}

/// A token, and what a link holder sends with it.
pub(crate) fn token(n: u8) -> [u8; 32] {
    [n; 32]
}

pub(crate) fn token_hash(n: u8) -> ByteBuf {
    ByteBuf::from(LinkToken::from_bytes(token(n)).hash().0.to_vec())
}

pub(crate) fn access(n: u8, proof: Option<[u8; 32]>) -> LinkAccess {
    LinkAccess {
        token: ByteBuf::from(token(n).to_vec()),
        password_proof: proof.map(|p| ByteBuf::from(p.to_vec())),
    }
}

/// The canister's own id in model tests.
pub(crate) fn canister() -> Principal {
    Principal::from_slice(&[0, 0, 0, 0, 0, 0, 0, 1, 1, 1])
}

/// The secrets of the scenario's vault.
pub(crate) struct Secrets {
    pub kek: PassphraseKek,
    pub recovery: RecoveryKey,
    pub setup: SetupArgs,
}

impl Secrets {
    /// `caller`'s proof of the passphrase (or recovery key) at the vault's current counter.
    pub fn admit<M: Memory>(
        &self,
        s: &super::State<M>,
        caller: &Principal,
        method: UnlockMethod,
    ) -> AdmitDeviceArgs {
        let counter = s
            .profile
            .get()
            .profile
            .as_ref()
            .and_then(|p| p.admission_counter)
            .unwrap_or(0);
        let key = match method {
            UnlockMethod::Passphrase => self.kek.admission_key(),
            UnlockMethod::Recovery => self.recovery.admission_key(),
        };
        let proof = key
            .prove(&AdmissionChallenge {
                canister: canister().as_slice(),
                caller: caller.as_slice(),
                counter,
            })
            .expect("principals fit");
        AdmitDeviceArgs {
            method,
            proof: ByteBuf::from(proof.0.to_vec()),
            counter: Some(counter),
        }
    }
}

pub(crate) fn secrets() -> Secrets {
    let mut rng = rand_for_tests();
    let master = MasterKey::generate(&mut rng);
    let (record, verifier) = PassphraseWrappedKey::wrap(
        &master,
        MasterGeneration::default(),
        "pw",
        KdfParams::MINIMUM,
        &mut rng,
    );
    let kek = record.unlock_params().derive("pw");
    let recovery = RecoveryKey::generate(&mut rng);
    Secrets {
        kek,
        setup: SetupArgs {
            passphrase_record: ByteBuf::from(record.to_bytes()),
            passphrase_verifier: ByteBuf::from(verifier.0.to_vec()),
            recovery_wrapped_key: ByteBuf::from(
                recovery
                    .wrap_master(&master, MasterGeneration::default(), &mut rng)
                    .as_bytes()
                    .to_vec(),
            ),
            recovery_verifier: ByteBuf::from(recovery.admission_key().verifier().0.to_vec()),
            sharing_public_key: ByteBuf::from(vec![9; 32]),
            sharing_secret_wrapped: blob(WRAPPED_KEY_SIZE, 3),
        },
        recovery,
    }
}

/// A deterministic RNG for test keys (rand_core 0.10 `CryptoRng`).
pub(crate) fn rand_for_tests() -> impl vault_crypto::CryptoRng {
    struct Counter(u64);
    impl rand_core::TryRng for Counter {
        type Error = std::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(self.try_next_u64()? as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            Ok(self.0 >> 11)
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            for b in dst {
                *b = self.try_next_u64()? as u8;
            }
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for Counter {}
    Counter(42)
}

pub(crate) fn upload_args(
    file: u8,
    album: Option<u8>,
    size: u64,
    key_version: u32,
) -> BeginUploadArgs {
    BeginUploadArgs {
        file_id: id(file),
        size,
        content_header: blob(17, file),
        wrapped_key: blob(WRAPPED_KEY_SIZE, file),
        album: album.map(id),
        key_version,
        metadata: blob(100, file),
        thumbnail: Some(blob(500, file)),
        dedupe_hash: Some(ByteBuf::from(vec![file; 32])),
        sort_key: file as i64 * 1000,
    }
}

pub(crate) fn chunk(size: u64, index: u32, fill: u8) -> ByteBuf {
    let len = vault_crypto::encrypted_chunk_len(size, index.into()).expect("a chunk of the file");
    ByteBuf::from(vec![fill; len as usize])
}

pub(crate) fn upload(
    s: &mut State<VectorMemory>,
    caller: &Principal,
    now: u64,
    args: BeginUploadArgs,
) -> FileInfo {
    let (file_id, size) = (args.file_id.clone(), args.size);
    s.begin_upload(caller, now, args).unwrap();
    for index in 0..vault_crypto::chunk_count(size) as u32 {
        s.put_chunk(
            caller,
            now,
            PutChunkArgs {
                file_id: file_id.clone(),
                index,
                data: chunk(size, index, index as u8),
            }
            .borrowed(),
        )
        .unwrap();
    }
    s.commit_upload(caller, now, &file_id).unwrap()
}

//! Identifiers bound into wrapped and sealed keys.
//!
//! Ids are chosen by the client (16 random bytes) so that a key can be wrapped with its id
//! bound in before the canister has seen either. The canister refuses a duplicate.

use core::fmt;

use rand_core::CryptoRng;

/// Size of an [`AlbumId`] or [`FileId`].
pub const ID_SIZE: usize = 16;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; ID_SIZE]);

        impl $name {
            /// A fresh random id.
            pub fn generate(rng: &mut impl CryptoRng) -> Self {
                let mut id = [0u8; ID_SIZE];
                rng.fill_bytes(&mut id);
                Self(id)
            }

            /// The id's bytes, as bound into keys and stored by the canister.
            pub fn as_bytes(&self) -> &[u8; ID_SIZE] {
                &self.0
            }

            /// Reads an id from exactly [`ID_SIZE`] bytes.
            pub fn from_slice(bytes: &[u8]) -> Option<Self> {
                bytes.try_into().ok().map(Self)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        /// Lowercase hex, 32 characters.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    };
}

id_type!(
    /// Identifies an album.
    AlbumId
);
id_type!(
    /// Identifies a file (one immutable upload).
    FileId
);

/// Version of an album's key: 0 at creation, incremented each time the key is rotated
/// (after a grantee is revoked), so that later files are sealed under a key they never had.
pub type KeyVersion = u32;

/// Which album key: the album and the key's version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AlbumKeyId {
    /// The album.
    pub album: AlbumId,
    /// The key's version.
    pub version: KeyVersion,
}

/// Which master key: its **generation**, 0 when the vault is set up and one more at each
/// rotation of the master key (docs/FORMAT.md §3). Bound into every wrapping of a master key:
/// `""` for generation 0 (as before rotation existed), `u32be(generation)` after.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MasterGeneration(pub u32);

impl MasterGeneration {
    /// The id bytes of a wrapping of this generation's master key.
    pub(crate) fn id_bytes(self) -> Vec<u8> {
        if self.0 == 0 {
            Vec::new()
        } else {
            self.0.to_be_bytes().to_vec()
        }
    }

    /// The generation before this one, if any.
    pub fn previous(self) -> Option<MasterGeneration> {
        self.0.checked_sub(1).map(MasterGeneration)
    }

    /// The generation after this one.
    pub fn next(self) -> Option<MasterGeneration> {
        self.0.checked_add(1).map(MasterGeneration)
    }
}

impl AlbumKeyId {
    /// `album_id (16) || version (u32, big-endian)`: the id bytes bound into wrapped and
    /// sealed album keys.
    pub(crate) fn to_bytes(self) -> [u8; ID_SIZE + 4] {
        let mut out = [0u8; ID_SIZE + 4];
        out[..ID_SIZE].copy_from_slice(&self.album.0);
        out[ID_SIZE..].copy_from_slice(&self.version.to_be_bytes());
        out
    }
}

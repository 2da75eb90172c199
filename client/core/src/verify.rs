//! Which code runs a vault: the module hash the IC certifies for its canister, compared with
//! the module this client carries (built from the same source, reproducibly:
//! `scripts/build-canister`) and with the releases published in the repository
//! (`docs/RELEASES.md`, each hash checked against a build from source by whoever publishes it).
//!
//! The hash is read from the certified state (`/canister/<id>/module_hash`, verified by the
//! agent against the IC's root key): one lying node cannot make a changed module look like a
//! release.

use candid::Principal;
#[cfg(not(target_arch = "wasm32"))]
use sha2::{Digest, Sha256};

use crate::Error;
use crate::canister::agent_error;
use crate::network::Connection;

/// The published releases: `docs/RELEASES.md`, as this client was built with it. Not in a
/// browser's build: the web app is part of the module, so a new row would change the module
/// it lists (a browser's page compares nothing; it is served by the vault).
#[cfg(not(target_arch = "wasm32"))]
pub const RELEASES_MD: &str = include_str!("../../../docs/RELEASES.md");
#[cfg(target_arch = "wasm32")]
pub const RELEASES_MD: &str = "";

/// A published release of the vault canister.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Release {
    /// Its version (the vault canister's crate version, `vault_info().version`).
    pub version: String,
    /// SHA-256 of its `vault.wasm.gz`, hex: what `canister_status` and the state tree report.
    pub module_hash: String,
}

/// The releases `docs/RELEASES.md` lists: its table's rows `| version | hash | ... |`.
pub fn releases() -> Vec<Release> {
    RELEASES_MD
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')?
                .split('|')
                .map(|c| c.trim().trim_matches('`'))
                .collect();
            let (version, hash) = (*cells.first()?, *cells.get(1)?);
            let hex_ok = hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit());
            let version_ok = version.split('.').count() == 3
                && version
                    .split('.')
                    .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            (hex_ok && version_ok).then(|| Release {
                version: version.to_string(),
                module_hash: hash.to_ascii_lowercase(),
            })
        })
        .collect()
}

/// SHA-256 (hex) of the module this client installs (none in a browser: the page is served by
/// the vault, and carries no module).
pub fn this_build() -> Option<String> {
    #[cfg(not(target_arch = "wasm32"))]
    return Some(hex::encode(Sha256::digest(crate::VAULT_WASM_GZ)));
    #[cfg(target_arch = "wasm32")]
    None
}

/// The published release with this module hash, if any.
pub fn release_of(module_hash: &str) -> Option<Release> {
    releases()
        .into_iter()
        .find(|r| r.module_hash == module_hash)
}

/// What `vault verify` found.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    /// The canister.
    pub canister: String,
    /// Its module's hash as the IC certifies it (none: no code installed).
    pub module_hash: Option<String>,
    /// The module this client would install (none in a browser).
    pub this_build: Option<String>,
    /// Whether the vault runs exactly that module.
    pub runs_this_build: bool,
    /// The published release it runs, if it runs one.
    pub release: Option<Release>,
}

impl Verdict {
    /// Whether the code is known: this client's own build, or a published release.
    pub fn known(&self) -> bool {
        self.runs_this_build || self.release.is_some()
    }
}

impl Connection {
    /// The module hash of canister `id`, hex, from the certified state (none: empty).
    pub async fn module_hash(&self, id: Principal) -> Result<Option<String>, Error> {
        match self.agent.read_state_canister_module_hash(id).await {
            Ok(hash) => Ok(Some(hex::encode(hash))),
            Err(ic_agent::AgentError::LookupPathAbsent(_)) => Ok(None),
            Err(e) => Err(agent_error(&self.network.url(), e)),
        }
    }

    /// Which code runs vault `id`.
    pub async fn verify(&self, id: Principal) -> Result<Verdict, Error> {
        let module_hash = self.module_hash(id).await?;
        let this_build = this_build();
        Ok(Verdict {
            canister: id.to_text(),
            runs_this_build: module_hash.is_some() && module_hash == this_build,
            release: module_hash.as_deref().and_then(release_of),
            module_hash,
            this_build,
        })
    }

    /// Upgrades vault `id` (which this identity controls) to this client's module, if it is a
    /// published release or `unreleased` is asked for; its data stays (stable memory is kept).
    /// Returns the verdict after.
    #[cfg(not(target_arch = "wasm32"))]
    pub async fn upgrade_vault(&self, id: Principal, unreleased: bool) -> Result<Verdict, Error> {
        let running = self.verify(id).await?.release;
        may_install(
            &hex::encode(Sha256::digest(crate::VAULT_WASM_GZ)),
            running.as_ref(),
            unreleased,
        )?;
        let management = ic_utils::interfaces::ManagementCanister::create(&self.agent);
        management
            .install(&id, crate::VAULT_WASM_GZ)
            .with_mode(
                ic_utils::interfaces::management_canister::builders::CanisterInstallMode::Upgrade(
                    None,
                ),
            )
            .call_and_wait()
            .await
            .map_err(|e| agent_error(&self.network.url(), e))?;
        self.verify(id).await
    }
}

/// Whether `vault upgrade` may install the module `module_hash` over the release `running`
/// (the certified module's, if it is one): a published release no older than it, or a module
/// the user asked for by name (`--unreleased`: they built it from source themselves). A
/// release older than the one running is refused: the vault's stable memory may hold what
/// only the newer code reads (memory.rs: an older release opens a newer layout as empty).
#[cfg(not(target_arch = "wasm32"))]
pub fn may_install(
    module_hash: &str,
    running: Option<&Release>,
    unreleased: bool,
) -> Result<(), Error> {
    match release_of(module_hash) {
        None if !unreleased => Err(Error::Invalid(format!(
            "this client's vault module ({module_hash}) is not a published release \
             (docs/RELEASES.md): install it only if you built it from source yourself"
        ))),
        Some(new) if running.is_some_and(|r| version(&r.version) > version(&new.version)) => {
            Err(Error::Invalid(format!(
                "the vault runs release {}, newer than this client's {}: not downgrading it \
                 (what the newer release stored may not open with older code); use a newer \
                 vault client",
                running.map_or("", |r| r.version.as_str()),
                new.version
            )))
        }
        _ => Ok(()),
    }
}

/// A release's version as numbers, to compare (`0.10.0` after `0.9.0`).
#[cfg(not(target_arch = "wasm32"))]
fn version(text: &str) -> Vec<u64> {
    text.split('.').map(|n| n.parse().unwrap_or(0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_releases_are_read_from_the_table() {
        for r in releases() {
            assert_eq!(r.module_hash.len(), 64, "{r:?}");
            assert_eq!(release_of(&r.module_hash), Some(r.clone()));
        }
        assert_eq!(release_of(&"0".repeat(64)), None);
        // `vault upgrade` installs a release, and another module only when asked to.
        let unknown = "0".repeat(64);
        assert!(
            matches!(may_install(&unknown, None, false), Err(Error::Invalid(m)) if m.contains("not a published release"))
        );
        assert!(may_install(&unknown, None, true).is_ok());
        for r in releases() {
            assert!(may_install(&r.module_hash, None, false).is_ok(), "{r:?}");
            assert!(
                may_install(&r.module_hash, Some(&r), false).is_ok(),
                "{r:?}"
            );
        }
        // Not down to an older release: 0.1.0 over a vault running a newer one.
        let oldest = releases()
            .into_iter()
            .min_by_key(|r| version(&r.version))
            .unwrap();
        let newer = Release {
            version: "99.0.0".into(),
            module_hash: "f".repeat(64),
        };
        assert!(
            matches!(may_install(&oldest.module_hash, Some(&newer), false), Err(Error::Invalid(m)) if m.contains("not downgrading"))
        );
        assert!(version("0.10.0") > version("0.9.1"));
        // Every row of the table is a release (none silently skipped), each version once.
        let rows = RELEASES_MD.split_once("|---|").map_or(0, |(_, table)| {
            table
                .lines()
                .skip(1)
                .filter(|l| l.trim_start().starts_with('|'))
                .count()
        });
        let mut versions: Vec<String> = releases().into_iter().map(|r| r.version).collect();
        assert_eq!(
            versions.len(),
            rows,
            "a row of docs/RELEASES.md does not parse"
        );
        versions.sort();
        versions.dedup();
        assert_eq!(versions.len(), rows, "a version is listed twice");
    }
}

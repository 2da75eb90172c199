//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

const AFTER_HELP: &str = "\
Exit codes: 0 done; 1 failed; 2 bad usage or input; 3 locked or no vault (run `vault unlock` or
`vault init`); 4 refused (not allowed, wrong passphrase or password); 5 not found; 6 the replica
cannot be reached; 7 over the quota; 8 integrity check failed; 9 expired or revoked;
10 some files of a batch failed.

The vault stays unlocked between commands for 12 hours (`vault unlock --for`), in a file only
you can read under $XDG_RUNTIME_DIR; `vault lock` forgets it. With VAULT_PASSPHRASE (or
--passphrase-file) set, each command unlocks by itself and keeps nothing.";

/// Your photo vault on the Internet Computer: encrypted on this device, stored in your own
/// canister, shared only as you say.
#[derive(Parser, Debug)]
#[command(name = "vault", version, after_help = AFTER_HELP)]
pub struct Cli {
    /// Where your vault lives: `local` (the embedded replica, the default), `local:PORT`, `ic`,
    /// or a replica's URL (dfx's: http://127.0.0.1:4943).
    #[arg(long, global = true, env = "VAULT_NETWORK")]
    pub network: Option<String>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// Read the passphrase from this file (first line) instead of asking.
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Key-derivation strength for a new passphrase.
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default)]
pub enum Kdf {
    /// Argon2id, 256 MiB, 4 passes (about a second on a laptop).
    #[default]
    Default,
    /// Argon2id, 64 MiB, 16 passes: the same work for devices with little memory.
    LowMemory,
    /// Argon2id at OWASP's floor (19 MiB, 2 passes): fast, for tests and scripts only.
    Minimum,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create your vault (a canister of your own) and its keys.
    Init {
        /// Use this canister (deployed with dfx, or created by you) instead of creating one.
        #[arg(long)]
        canister: Option<String>,
        /// Passphrase strength.
        #[arg(long, value_enum, default_value_t)]
        kdf: Kdf,
    },
    /// Unlock your vault on this device with its passphrase.
    Unlock {
        /// The vault's canister (on a new device: `vault status` on another one shows it).
        #[arg(long)]
        canister: Option<String>,
        /// Stay unlocked this long (e.g. 30m, 12h, 7d).
        #[arg(long = "for", default_value = "12h")]
        duration: String,
    },
    /// Unlock with the recovery key and set a new passphrase.
    Recover {
        /// The vault's canister.
        #[arg(long)]
        canister: Option<String>,
        /// Read the 24 recovery words from this file instead of asking (or VAULT_RECOVERY_KEY).
        #[arg(long, value_name = "FILE")]
        recovery_file: Option<PathBuf>,
        /// The new passphrase's strength.
        #[arg(long, value_enum, default_value_t)]
        kdf: Kdf,
    },
    /// Change the passphrase (asks for the new one; VAULT_NEW_PASSPHRASE for scripts).
    Passwd {
        /// Its strength.
        #[arg(long, value_enum, default_value_t)]
        kdf: Kdf,
    },
    /// Replace the recovery key: shows 24 new words once; the old words stop working.
    /// (After removing a lost device, also change the passphrase with `vault passwd`.)
    RecoveryKey,
    /// After losing a device: replace the master key, so that nothing added from now on opens
    /// with the key the lost device held. Asks for the passphrase; shows a new recovery key
    /// once; signs out every other device (each unlocks again with the passphrase); gives
    /// every album a new key. Nothing is uploaded again.
    RotateKeys {
        /// Only finish a rotation that was interrupted: revoke the links and re-key the albums
        /// still from before the last rotation.
        #[arg(long)]
        albums_only: bool,
        /// Keep the links made before the rotation open (by default they are revoked: the
        /// lost device could read their secrets, and would get every album key added later).
        #[arg(long)]
        keep_links: bool,
    },
    /// Forget the unlocked key on this device.
    Lock,
    /// The devices that act as you (admitted by `vault unlock` or `vault recover`).
    Devices {
        /// Remove this one (a lost laptop): it can no longer reach your vault.
        #[arg(long, value_name = "PRINCIPAL")]
        remove: Option<String>,
        /// Let devices locked out by wrong passphrases try again at once.
        #[arg(long, conflicts_with = "remove")]
        clear_lockouts: bool,
    },
    /// Uploads in progress: yours, your devices' and contributors', with what each reserves.
    Uploads {
        /// Stop this one (its id, or the start of it): what it sent is deleted and its
        /// reserved space freed.
        #[arg(long, value_name = "ID")]
        abort: Option<String>,
    },
    /// Your identity.
    Identity {
        #[command(subcommand)]
        command: IdentityCommand,
    },
    /// Upload files and folders (photos, videos, anything).
    Upload {
        /// Files and folders.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Into this album.
        #[arg(long)]
        album: Option<String>,
        /// Into --album of the vault CANISTER, shared with you with `--contribute`.
        #[arg(long, value_name = "CANISTER", requires = "album")]
        to: Option<String>,
    },
    /// List your photos, newest first (or an album's, the trash, or what someone shared).
    Ls {
        /// One album (name or id).
        #[arg(long)]
        album: Option<String>,
        /// The trash.
        #[arg(long)]
        trash: bool,
        /// What the vault CANISTER shares with you (see `vault shared`).
        #[arg(long, value_name = "CANISTER")]
        from: Option<String>,
    },
    /// Everything about one file.
    Show {
        /// Its id (or the first 4+ digits).
        id: String,
    },
    /// Save originals into a folder, byte for byte, with their names and dates.
    Export {
        /// Files (ids or prefixes); or --all.
        ids: Vec<String>,
        /// Every file (of the timeline, or of --album).
        #[arg(long)]
        all: bool,
        /// Only this album's.
        #[arg(long)]
        album: Option<String>,
        /// From what the vault CANISTER shares with you.
        #[arg(long, value_name = "CANISTER")]
        from: Option<String>,
        /// The folder (created if needed).
        #[arg(long, short = 'o', value_name = "DIR")]
        to: PathBuf,
    },
    /// Albums.
    Album {
        #[command(subcommand)]
        command: AlbumCommand,
    },
    /// Move files to the trash (purged after 30 days).
    Trash {
        /// Files.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Bring files back from the trash.
    Restore {
        /// Files.
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Delete trashed files for good, now.
    Purge {
        /// Files (in the trash).
        ids: Vec<String>,
        /// Everything in the trash.
        #[arg(long)]
        all: bool,
    },
    /// Share an album or a file with someone (they give you their share code).
    Share {
        /// Album (name or id) or file (id).
        target: String,
        /// Their share code (`vault identity show` prints it).
        #[arg(long = "with", value_name = "SHARE_CODE")]
        with: String,
        /// They may add photos to the album too.
        #[arg(long)]
        contribute: bool,
        /// Lapses after this long (e.g. 7d).
        #[arg(long)]
        expires: Option<String>,
    },
    /// Who has access to what.
    Grants,
    /// Withdraw someone's access (an album's key is rotated: what you add later stays theirs to never read).
    Revoke {
        /// Album or file.
        target: String,
        /// Their principal or share code.
        #[arg(long = "from", value_name = "PRINCIPAL")]
        from: String,
    },
    /// What others share with you: the vaults you follow, and new shares (their vaults told
    /// yours), marked NEW until you follow them (--from) or dismiss them (--dismiss).
    Shared {
        /// Follow this vault canister (a new share's, or one they sent: `vault status` shows
        /// it); kept in your vault, so every device of yours shows it.
        #[arg(long, value_name = "CANISTER", conflicts_with = "dismiss")]
        from: Option<String>,
        /// Stop showing what this vault canister shares with you (a new share, or one you
        /// follow).
        #[arg(long, value_name = "CANISTER")]
        dismiss: Option<String>,
    },
    /// Sharing links: anyone with the link (and password) can view.
    Link {
        #[command(subcommand)]
        command: LinkCommand,
    },
    /// The activity log: every change to your data and who may see it.
    Log {
        /// At most this many entries.
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
    /// Your vault: canister, network, usage, quota, its cycles and what it burns a day.
    Status,
    /// Which code runs your vault: its module hash, as the IC certifies it, against the module
    /// this `vault` installs and the published releases (docs/RELEASES.md).
    Verify,
    /// Upgrade your vault to the module this `vault` carries (its data stays), if that module
    /// is a published release.
    Upgrade {
        /// Install it even though it is not a published release (one you built from source).
        #[arg(long)]
        unreleased: bool,
    },
    /// Send cycles to your vault from your account on the cycles ledger (e.g. 1t, 500b), or
    /// convert ICP into its cycles (--icp 0.5) through the cycles minting canister; on the
    /// local replica they are minted for you.
    Topup {
        /// Cycles, with t (trillion), b (billion) or m (million).
        #[arg(required_unless_present = "icp", conflicts_with = "icp")]
        amount: Option<String>,
        /// ICP to convert (e.g. 0.5): a top-up stopped midway is finished by running it again,
        /// paying nothing twice.
        #[arg(long, value_name = "ICP")]
        icp: Option<String>,
    },
    /// Set the quota (e.g. 200GiB).
    Quota {
        /// Bytes (with KiB, MiB, GiB, TiB).
        size: String,
    },
    /// Run the embedded local replica (started by itself when needed): `start [--port N]
    /// [--state-dir DIR]`, `stop` or `status`, parsed by vault-client (`ReplicaAction`), as
    /// `vault-app replica` is.
    #[command(hide = true, disable_help_flag = true)]
    Replica {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum IdentityCommand {
    /// Your principal, share code and its fingerprint words (the vault must be unlocked: the
    /// code is computed from your own sharing secret).
    Show,
    /// Use a PEM identity (dfx's `~/.config/dfx/identity/NAME/identity.pem`) from now on.
    Import {
        /// The PEM file.
        file: PathBuf,
        /// Replace the current identity (its vault is no longer yours from this device).
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum AlbumCommand {
    /// Make an album.
    Create { name: String },
    /// Rename one.
    Rename { album: String, new_name: String },
    /// Put files into an album.
    Add {
        album: String,
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// Take files out of their album.
    Remove {
        #[arg(required = true)]
        ids: Vec<String>,
    },
    /// List albums.
    Ls,
    /// Delete an empty album.
    Delete { album: String },
}

#[derive(Subcommand, Debug)]
pub enum LinkCommand {
    /// Make a link and print its URL.
    Create {
        /// Album or file.
        target: String,
        /// Lapses after this long (e.g. 7d).
        #[arg(long)]
        expires: Option<String>,
        /// Ask for this password too.
        #[arg(long)]
        password: Option<String>,
        /// A note for yourself.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// Your links, with their URLs.
    Ls,
    /// Revoke a link (its id, a prefix, or its URL).
    Revoke { id: String },
    /// Open a link as its recipient would.
    Open {
        url: String,
        /// The link's password.
        #[arg(long)]
        password: Option<String>,
        /// Save the files into this folder.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use vault_client::replica::ReplicaAction;

    use super::*;

    /// `vault replica …` hands its arguments to the one parser both front ends use, options
    /// included.
    #[test]
    fn replica_arguments_go_to_vault_clients_parser() {
        let cli =
            Cli::try_parse_from(["vault", "replica", "start", "--port", "5", "--state-dir=/x"])
                .unwrap();
        let Command::Replica { args } = cli.command else {
            panic!("not the replica command: {:?}", cli.command);
        };
        assert_eq!(args, ["start", "--port", "5", "--state-dir=/x"]);
        assert!(matches!(
            ReplicaAction::parse(&args),
            Ok(ReplicaAction::Start { port: 5, state_dir: Some(dir) }) if dir == std::path::Path::new("/x")
        ));
        let cli = Cli::try_parse_from(["vault", "replica", "stop", "now"]).unwrap();
        let Command::Replica { args } = cli.command else {
            panic!("not the replica command");
        };
        assert!(ReplicaAction::parse(&args).is_err());
    }
}

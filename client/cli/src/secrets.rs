//! Passphrases and recovery words: from the environment, a file, or a prompt.

use std::io::IsTerminal;
use std::path::Path;

use vault_client::{Error, Passphrase};
use zeroize::Zeroizing;

/// A string wiped when dropped.
pub type Secret = Zeroizing<String>;

#[allow(non_snake_case)]
fn Secret(s: String) -> Secret {
    Zeroizing::new(s)
}

/// The passphrase: `--passphrase-file`, else VAULT_PASSPHRASE, else a prompt.
pub fn passphrase(file: Option<&Path>, prompt: &str) -> Result<Passphrase, Error> {
    match given_passphrase(file)? {
        Some(given) => Ok(given),
        None => ask(prompt, false).map(|p| Passphrase::given(p.as_str())),
    }
}

/// A passphrase that is only given: the file or VAULT_PASSPHRASE, no prompt.
pub fn given_passphrase(file: Option<&Path>) -> Result<Option<Passphrase>, Error> {
    if let Some(file) = file {
        return first_line(file).map(|p| Some(Passphrase::given(p.as_str())));
    }
    Ok(std::env::var("VAULT_PASSPHRASE")
        .ok()
        .map(Passphrase::given))
}

/// The passphrase a new vault is created under, held to the policy: as [`passphrase`], the
/// prompt asking twice.
pub fn chosen_passphrase(file: Option<&Path>) -> Result<Passphrase, Error> {
    let text = match (file, std::env::var("VAULT_PASSPHRASE")) {
        (Some(file), _) => first_line(file)?,
        (None, Ok(p)) => Secret(p),
        (None, Err(_)) => ask("Choose a passphrase", true)?,
    };
    Passphrase::new(text.as_str())
}

/// A new passphrase for `passwd` and `recover`, held to the policy: VAULT_NEW_PASSPHRASE, else
/// a prompt twice.
pub fn new_passphrase() -> Result<Passphrase, Error> {
    let text = match std::env::var("VAULT_NEW_PASSPHRASE") {
        Ok(p) => Secret(p),
        Err(_) => ask("New passphrase", true)?,
    };
    Passphrase::new(text.as_str())
}

/// The recovery words: a file, VAULT_RECOVERY_KEY, or a prompt.
pub fn recovery_words(file: Option<&Path>) -> Result<Secret, Error> {
    if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::io(format!("reading {}", file.display()), e))?;
        return Ok(Secret(text));
    }
    if let Ok(words) = std::env::var("VAULT_RECOVERY_KEY") {
        return Ok(Secret(words));
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Invalid(
            "no recovery key: set VAULT_RECOVERY_KEY or pass --recovery-file".into(),
        ));
    }
    rpassword::prompt_password("Recovery key (24 words): ")
        .map(Secret)
        .map_err(|e| Error::io("reading the recovery key", e))
}

fn first_line(file: &Path) -> Result<Secret, Error> {
    let text = Secret(
        std::fs::read_to_string(file)
            .map_err(|e| Error::io(format!("reading {}", file.display()), e))?,
    );
    Ok(Secret(text.lines().next().unwrap_or("").to_string()))
}

fn ask(prompt: &str, confirm: bool) -> Result<Secret, Error> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Invalid(
            "no passphrase: set VAULT_PASSPHRASE or pass --passphrase-file (there is no terminal to ask on)".into(),
        ));
    }
    let first = Secret(
        rpassword::prompt_password(format!("{prompt}: "))
            .map_err(|e| Error::io("reading the passphrase", e))?,
    );
    if confirm {
        let again = Secret(
            rpassword::prompt_password(format!("{prompt} again: "))
                .map_err(|e| Error::io("reading the passphrase", e))?,
        );
        if *again != *first {
            return Err(Error::Invalid(
                "the two passphrases differ: nothing was changed".into(),
            ));
        }
    }
    Ok(first)
}

//! Passphrases and recovery words: from the environment, a file, or a prompt.

use std::io::IsTerminal;
use std::path::Path;

use vault_client::Error;
use zeroize::Zeroizing;

/// A string wiped when dropped.
pub type Secret = Zeroizing<String>;

#[allow(non_snake_case)]
fn Secret(s: String) -> Secret {
    Zeroizing::new(s)
}

/// The passphrase: `--passphrase-file`, else VAULT_PASSPHRASE, else a prompt (twice when
/// `confirm`).
pub fn passphrase(file: Option<&Path>, prompt: &str, confirm: bool) -> Result<Secret, Error> {
    if let Some(file) = file {
        return first_line(file);
    }
    if let Ok(p) = std::env::var("VAULT_PASSPHRASE") {
        return Ok(Secret(p));
    }
    ask(prompt, confirm)
}

/// A passphrase that is only given: the file or VAULT_PASSPHRASE, no prompt.
pub fn given_passphrase(file: Option<&Path>) -> Result<Option<Secret>, Error> {
    if let Some(file) = file {
        return first_line(file).map(Some);
    }
    Ok(std::env::var("VAULT_PASSPHRASE").ok().map(Secret))
}

/// A new passphrase for `passwd`: VAULT_NEW_PASSPHRASE, else a prompt twice.
pub fn new_passphrase() -> Result<Secret, Error> {
    if let Ok(p) = std::env::var("VAULT_NEW_PASSPHRASE") {
        return check_new(Secret(p));
    }
    ask("New passphrase", true).and_then(check_new)
}

fn check_new(p: Secret) -> Result<Secret, Error> {
    vault_client::Passphrase::new(p.as_str())?;
    Ok(p)
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

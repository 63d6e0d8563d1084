//! Where the password of an encrypted key comes from, as cosign decides it
//! (`readPasswordFn`): `SIGNET_PASSWORD` or `COSIGN_PASSWORD` if set (even empty), else a
//! prompt on the terminal, else all of standard input (a piped `echo pw |` keeps its newline,
//! as in cosign).

use std::io::{IsTerminal, Read};

use anyhow::{Context, Result, bail};
use signet_crypto::cosign_key::Password;

/// Reads the password; `confirm` asks twice on a terminal (when creating a key).
pub fn read(confirm: bool) -> Result<Password> {
    for var in ["SIGNET_PASSWORD", "COSIGN_PASSWORD"] {
        if let Some(v) = std::env::var_os(var) {
            let v = v
                .into_string()
                .map_err(|_| anyhow::anyhow!("{var} is not valid UTF-8"))?;
            return Ok(Password::from(v));
        }
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Enter password for private key: ")
            .context("reading the password from the terminal")?;
        if confirm {
            let again = rpassword::prompt_password("Enter password for private key again: ")
                .context("reading the password from the terminal")?;
            if again != first {
                bail!("passwords do not match");
            }
        }
        return Ok(Password::from(first));
    }
    let mut buf = Vec::new();
    std::io::stdin()
        .read_to_end(&mut buf)
        .context("reading the password from standard input")?;
    Ok(Password::from(buf))
}

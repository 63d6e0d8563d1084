//! `signet pkcs11-tool list-tokens|list-keys-uris`, cosign's helpers for finding the
//! `pkcs11:` URI of a key: the tokens a PKCS#11 module offers, and the private keys of one
//! slot, each with the URI `signet sign --key` takes. Unlike cosign, the URIs never carry the
//! PIN (pass it with `pin-source=`, `COSIGN_PKCS11_PIN` or at the prompt).

use std::io::IsTerminal;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

/// `signet pkcs11-tool` subcommands.
#[derive(Debug, Subcommand)]
pub enum Pkcs11Command {
    /// List the tokens of a PKCS#11 module.
    ListTokens {
        /// The absolute path of the PKCS#11 module.
        #[arg(long, value_name = "PATH")]
        module_path: String,
    },
    /// List the URIs of the private keys in one slot of a PKCS#11 module.
    ListKeysUris {
        /// The absolute path of the PKCS#11 module.
        #[arg(long, value_name = "PATH")]
        module_path: String,
        /// The slot's id.
        #[arg(long, default_value_t = 0)]
        slot_id: u64,
        /// The token's user PIN [default: $COSIGN_PKCS11_PIN, else a prompt on a terminal].
        #[arg(long)]
        pin: Option<String>,
    },
}

fn module(path: &str) -> Result<&Path> {
    let p = Path::new(path);
    if path.is_empty() || !p.is_absolute() {
        bail!("--module-path must be the absolute path of a PKCS#11 module, not {path:?}");
    }
    Ok(p)
}

/// Runs `signet pkcs11-tool …`.
pub fn run(command: Pkcs11Command) -> Result<()> {
    match command {
        Pkcs11Command::ListTokens { module_path } => {
            let tokens = signet_keys::list_tokens(module(&module_path)?)
                .with_context(|| format!("listing the tokens of {module_path}"))?;
            let mut out = format!("\nListing tokens of PKCS11 module '{module_path}'\n");
            for t in tokens {
                out.push_str(&format!(
                    "Token in slot {}\n\tLabel: {}\n\tManufacturer: {}\n\tModel: {}\n\tS/N: {}\n\n",
                    t.slot_id, t.label, t.manufacturer, t.model, t.serial
                ));
            }
            print!("{out}");
            Ok(())
        }
        Pkcs11Command::ListKeysUris {
            module_path,
            slot_id,
            pin,
        } => {
            let module = module(&module_path)?;
            let pin = match pin.filter(|p| !p.is_empty()) {
                Some(p) => Some(p),
                None => match std::env::var("COSIGN_PKCS11_PIN") {
                    Ok(p) if !p.is_empty() => Some(p),
                    _ if std::io::stdin().is_terminal() => Some(
                        rpassword::prompt_password(format!(
                            "Enter PIN for PKCS11 token in slot {slot_id}: "
                        ))
                        .context("reading the PIN from the terminal")?,
                    ),
                    _ => None,
                },
            };
            let uris = signet_keys::list_key_uris(module, slot_id, pin.map(signet_keys::Pin::new))
                .with_context(|| format!("listing the keys in slot {slot_id} of {module_path}"))?;
            let mut out = format!(
                "\nListing URIs of keys in slot '{slot_id}' of PKCS11 module '{module_path}'\n"
            );
            for (i, uri) in uris.iter().enumerate() {
                out.push_str(&format!("Object {i}\n"));
                if let Some(label) = uri.object() {
                    out.push_str(&format!("\tLabel: {label}\n"));
                }
                if let Some(id) = uri.id() {
                    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
                    out.push_str(&format!("\tID: {hex}\n"));
                }
                out.push_str(&format!("\tURI: {uri}\n"));
            }
            print!("{out}");
            Ok(())
        }
    }
}

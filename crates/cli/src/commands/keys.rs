//! `generate-key-pair`, `import-key-pair` and `public-key`: cosign-format key files
//! (PREFIX.key encrypted with scrypt + secretbox, mode 0600; PREFIX.pub PEM public key).

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, Result, bail};
use signet_crypto::{KeyType, PrivateKey, cosign_key};

use crate::cli::KeyTypeArg;
use crate::{keyref, password};

pub(super) fn key_type(arg: KeyTypeArg) -> KeyType {
    match arg {
        KeyTypeArg::P256 => KeyType::P256,
        KeyTypeArg::P384 => KeyType::P384,
        KeyTypeArg::Rsa2048 => KeyType::Rsa2048,
        KeyTypeArg::Rsa3072 => KeyType::Rsa3072,
        KeyTypeArg::Rsa4096 => KeyType::Rsa4096,
        KeyTypeArg::Ed25519 => KeyType::Ed25519,
    }
}

/// Writes `contents` to `path` with `mode`, refusing to replace an existing file unless
/// `force`.
pub(super) fn write_new(path: &str, contents: &[u8], mode: u32, force: bool) -> Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).mode(mode);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    let mut f = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!("{path} already exists; pass --force to overwrite it")
        } else {
            anyhow::Error::new(e).context(format!("creating {path}"))
        }
    })?;
    f.write_all(contents)
        .with_context(|| format!("writing {path}"))?;
    Ok(())
}

pub(super) fn check_free(paths: &[&str], force: bool) -> Result<()> {
    if force {
        return Ok(());
    }
    for p in paths {
        if Path::new(p).exists() {
            bail!("{p} already exists; pass --force to overwrite it");
        }
    }
    Ok(())
}

fn write_pair(prefix: &str, key: &PrivateKey, force: bool) -> Result<()> {
    let key_path = format!("{prefix}.key");
    let pub_path = format!("{prefix}.pub");
    check_free(&[&key_path, &pub_path], force)?;
    let password = password::read(true)?;
    let encrypted = cosign_key::encrypt_private_key(key, &password)?;
    write_new(&key_path, encrypted.as_bytes(), 0o600, force)?;
    eprintln!("Private key written to {key_path}");
    write_new(
        &pub_path,
        key.public_key().to_pem().as_bytes(),
        0o644,
        force,
    )?;
    eprintln!("Public key written to {pub_path}");
    Ok(())
}

/// `generate-key-pair`.
pub fn generate_key_pair(prefix: &str, kt: KeyTypeArg, force: bool) -> Result<()> {
    check_free(&[&format!("{prefix}.key"), &format!("{prefix}.pub")], force)?;
    let key = PrivateKey::generate(key_type(kt))?;
    write_pair(prefix, &key, force)
}

/// `import-key-pair`.
pub fn import_key_pair(key_file: &str, prefix: &str, force: bool) -> Result<()> {
    let pem = std::fs::read_to_string(key_file).with_context(|| format!("reading {key_file}"))?;
    let key =
        PrivateKey::from_unencrypted_pem(&pem).with_context(|| format!("importing {key_file}"))?;
    write_pair(prefix, &key, force)
}

/// `public-key`.
pub fn public_key(key_ref: &str, outfile: Option<&str>) -> Result<()> {
    let pem = keyref::load_signing(key_ref)?.public_key().to_pem();
    match outfile {
        Some(path) => {
            std::fs::write(path, pem.as_bytes()).with_context(|| format!("writing {path}"))?;
            eprintln!("Public key written to {path}");
        }
        None => print!("{pem}"),
    }
    Ok(())
}

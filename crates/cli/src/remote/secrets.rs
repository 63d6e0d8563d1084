//! A product's secrets as the service distributes them (`GET /distributions/products/{id}/
//! secrets`): a compact JWE encrypted to a registered client's public key, decrypted here with
//! the client's private key, and written to a new file (never over an existing one; mode 600
//! on Unix), as the hosted client does.

use std::io::Write;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use signet_crypto::PrivateKey;
use zeroize::Zeroizing;

/// Fails when `path` exists (a dangling symbolic link counts), before anything is fetched.
pub fn refuse_existing(path: &str) -> Result<()> {
    if std::fs::symlink_metadata(path).is_ok() {
        bail!("{path} exists: refusing to overwrite it (remove it or choose another -O)");
    }
    Ok(())
}

/// Reads the client's unencrypted PEM private key (`-C`).
pub fn load_key(path: &str) -> Result<PrivateKey> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path)
            .with_context(|| format!("reading the client's private key {path}"))?,
    );
    PrivateKey::from_unencrypted_pem(&text)
        .with_context(|| format!("{path} is not an unencrypted PEM private key"))
}

/// The compact JWE of the service's answer (`serializedJWE`), checked to have five parts.
pub fn compact_jwe(answer: &Value) -> Result<&str> {
    let Some(jwe) = answer
        .get("serializedJWE")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        bail!("the service's answer has no serializedJWE");
    };
    if jwe.split('.').count() != 5 {
        bail!("the service's serializedJWE is not a compact JWE (five parts separated by dots)");
    }
    Ok(jwe)
}

/// Decrypts `jwe` with the client's key (`key_path` names it in errors); the plaintext must
/// be JSON.
pub fn decrypt(key: &PrivateKey, jwe: &str, key_path: &str) -> Result<Zeroizing<Vec<u8>>> {
    let plain = Zeroizing::new(signet_crypto::jwe::decrypt_compact(key, jwe).with_context(
        || {
            format!(
                "decrypting the secrets with {key_path} (is it the private key of a client registered for this product?)"
            )
        },
    )?);
    if serde_json::from_slice::<Value>(&plain).is_err() {
        bail!("the decrypted secrets are not JSON: not writing them");
    }
    Ok(plain)
}

/// Writes `bytes` to the new file `path` (mode 600 on Unix); an existing file is an error.
pub fn write_new(path: &str, bytes: &[u8]) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            anyhow::anyhow!(
                "{path} exists: refusing to overwrite it (remove it or choose another -O)"
            )
        } else {
            anyhow::Error::new(e).context(format!("creating {path}"))
        }
    })?;
    file.write_all(bytes)
        .and_then(|()| file.flush())
        .with_context(|| format!("writing {path}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn jwe_shape() {
        assert_eq!(
            compact_jwe(&json!({"serializedJWE": " a.b.c.d.e\n"})).unwrap(),
            "a.b.c.d.e"
        );
        assert!(compact_jwe(&json!({})).is_err());
        assert!(compact_jwe(&json!({"serializedJWE": ""})).is_err());
        let e = compact_jwe(&json!({"serializedJWE": "a.b.c"})).unwrap_err();
        assert!(e.to_string().contains("not a compact JWE"), "{e}");
    }

    #[test]
    fn decrypts_json_only() {
        let key = PrivateKey::generate(signet_crypto::KeyType::P256).unwrap();
        let secrets = br#"{"apiKey": "s3cret"}"#;
        let jwe = signet_crypto::jwe::encrypt_compact(&key.public_key(), secrets).unwrap();
        assert_eq!(
            decrypt(&key, &jwe, "c.private").unwrap().as_slice(),
            secrets
        );
        let jwe = signet_crypto::jwe::encrypt_compact(&key.public_key(), b"not json").unwrap();
        let e = decrypt(&key, &jwe, "c.private").unwrap_err().to_string();
        assert!(e.contains("not JSON"), "{e}");
        let other = PrivateKey::generate(signet_crypto::KeyType::P256).unwrap();
        let e = decrypt(&other, &jwe, "other.private")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("decrypting the secrets with other.private"),
            "{e}"
        );
    }

    #[test]
    fn never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        let p = path.display().to_string();
        refuse_existing(&p).unwrap();
        write_new(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        assert!(
            refuse_existing(&p)
                .unwrap_err()
                .to_string()
                .contains("refusing to overwrite")
        );
        assert!(
            write_new(&p, b"[]")
                .unwrap_err()
                .to_string()
                .contains("refusing to overwrite")
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.private");
        let key = PrivateKey::generate(signet_crypto::KeyType::P256).unwrap();
        let pem = signet_crypto::pem_encode("PRIVATE KEY", &key.to_pkcs8_der());
        std::fs::write(&path, pem.as_bytes()).unwrap();
        assert!(load_key(&path.display().to_string()).is_ok());
        std::fs::write(&path, "junk").unwrap();
        let e = load_key(&path.display().to_string())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not an unencrypted PEM private key"), "{e}");
    }
}

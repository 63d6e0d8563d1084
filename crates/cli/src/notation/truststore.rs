//! notation's X.509 trust store, `{NOTATION_CONFIG}/truststore/x509/TYPE/STORE/FILE`
//! (notation-go `dir.X509TrustStoreDir`), with the store types `ca`, `signingAuthority` and
//! `tsa` (that order, notation-go `truststore.Types`) and store names `[a-zA-Z0-9_.-]+`.
//! Certificate files are PEM (every `CERTIFICATE` block) or DER, as notation-core-go's
//! `x509.ReadCertificateFile` reads them.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use signet_pki::cert::Certificate;

/// The store types, in notation's order.
pub const STORE_TYPES: [&str; 3] = ["ca", "signingAuthority", "tsa"];

/// Checks a store type as notation does.
pub fn check_store_type(store_type: &str) -> Result<()> {
    if store_type.is_empty() {
        bail!("store type cannot be empty");
    }
    if !STORE_TYPES.contains(&store_type) {
        bail!("unsupported store type: {store_type}");
    }
    Ok(())
}

/// Whether `name` matches `^[a-zA-Z0-9_.-]+$` (notation's `IsValidFileName`).
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// Checks a named store's name as notation does.
pub fn check_store_name(name: &str) -> Result<()> {
    if !is_valid_name(name) {
        bail!("named store name needs to follow [a-zA-Z0-9_.-]+ format");
    }
    Ok(())
}

/// Checks a certificate file name given on the command line: one path component.
pub fn check_file_name(name: &str) -> Result<()> {
    if name.is_empty() {
        bail!("certificate fileName cannot be empty");
    }
    if name == "." || name == ".." || name.contains('/') || name.contains('\\') {
        bail!("certificate file name {name:?} must be a file name, not a path");
    }
    Ok(())
}

/// Parses the certificates of a file's bytes: every PEM `CERTIFICATE` block, or DER.
/// An empty result means a PEM file without certificates.
pub fn parse_certificates(bytes: &[u8]) -> Result<Vec<Certificate>> {
    let pem_text = std::str::from_utf8(bytes)
        .ok()
        .filter(|t| t.contains("-----BEGIN "));
    match pem_text {
        Some(text) => match Certificate::parse_pem_bundle(text) {
            Ok(certs) => Ok(certs),
            Err(e) if e.to_string().contains("no PEM CERTIFICATE block") => Ok(Vec::new()),
            Err(e) => Err(anyhow!("{e}")),
        },
        None => Certificate::from_der(bytes)
            .map(|c| vec![c])
            .map_err(|e| anyhow!("not a PEM or DER certificate: {e}")),
    }
}

/// Reads a certificate file (refusing non-regular files).
pub fn read_certificate_file(path: &Path) -> Result<Vec<Certificate>> {
    let bytes = std::fs::read(path).map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
    parse_certificates(&bytes)
}

/// The directory of a named store.
pub fn store_dir(root: &Path, store_type: &str, store: &str) -> PathBuf {
    root.join(store_type).join(store)
}

/// One listed certificate file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The store type.
    pub store_type: String,
    /// The named store.
    pub store: String,
    /// The file name.
    pub file: String,
}

fn sorted_entries(dir: &Path) -> Result<Vec<(String, std::fs::FileType)>> {
    let read = match std::fs::read_dir(dir) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => bail!("cannot list {}: {e}", dir.display()),
    };
    let mut entries = Vec::new();
    for entry in read {
        let entry = entry.map_err(|e| anyhow!("cannot list {}: {e}", dir.display()))?;
        let file_type = entry
            .file_type()
            .map_err(|e| anyhow!("cannot list {}: {e}", dir.display()))?;
        entries.push((entry.file_name().to_string_lossy().into_owned(), file_type));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

/// The certificate files of one named store, in name order: regular files holding at least
/// one certificate (symlinks and subdirectories are skipped). An unreadable certificate
/// file is an error, as in notation.
pub fn list_store(root: &Path, store_type: &str, store: &str) -> Result<Vec<Listed>> {
    let dir = store_dir(root, store_type, store);
    let mut out = Vec::new();
    for (name, file_type) in sorted_entries(&dir)? {
        if !file_type.is_file() {
            continue;
        }
        let path = dir.join(&name);
        let certs = read_certificate_file(&path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
        if !certs.is_empty() {
            out.push(Listed {
                store_type: store_type.to_owned(),
                store: store.to_owned(),
                file: name,
            });
        }
    }
    Ok(out)
}

/// The certificate files of every named store of `store_type`.
pub fn list_type(root: &Path, store_type: &str) -> Result<Vec<Listed>> {
    let mut out = Vec::new();
    for (name, file_type) in sorted_entries(&root.join(store_type))? {
        if file_type.is_dir() {
            out.extend(list_store(root, store_type, &name)?);
        }
    }
    Ok(out)
}

/// Go's `time.Time.String()` for a UTC time: `2006-01-02 15:04:05 +0000 UTC`.
pub fn go_time(t: std::time::SystemTime) -> String {
    match signet_notation::rfc3339::format(t) {
        Ok(s) => format!(
            "{} +0000 UTC",
            s.trim_end_matches('Z').replacen('T', " ", 1)
        ),
        Err(_) => format!("{t:?}"),
    }
}

/// notation's `cert show` text for the certificates of one file.
pub fn show(certs: &[Certificate]) -> String {
    const RULE: &str =
        "--------------------------------------------------------------------------------";
    let mut out = format!("Certificate details\n{RULE}\n");
    let thumbprints = signet_notation::manifest::thumbprints(
        &certs.iter().map(|c| c.der().to_vec()).collect::<Vec<_>>(),
    );
    for (i, (cert, thumb)) in certs.iter().zip(thumbprints).enumerate() {
        let is_ca = matches!(cert.basic_constraints(), Ok(Some((true, _))));
        out.push_str(&format!("Issuer: {}\n", cert.issuer()));
        out.push_str(&format!("Subject: {}\n", cert.subject()));
        out.push_str(&format!("Valid from: {}\n", go_time(cert.not_before())));
        out.push_str(&format!("Valid to: {}\n", go_time(cert.not_after())));
        out.push_str(&format!("IsCA: {is_ca}\n"));
        out.push_str(&format!("SHA256 Thumbprint: {}\n", thumb.to_lowercase()));
        if i + 1 != certs.len() {
            out.push_str(RULE);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_valid_name("acme-rockets.io_1"));
        assert!(!is_valid_name("a/b"));
        assert!(!is_valid_name(""));
        assert!(check_store_type("tsa").is_ok());
        assert!(check_store_type("CA").is_err());
        assert!(check_file_name("../x").is_err());
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(parse_certificates(b"hello").is_err());
        let key_only = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        assert!(parse_certificates(key_only).unwrap().is_empty());
    }

    #[test]
    fn go_time_format() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(86_400 + 3_661);
        assert_eq!(go_time(t), "1970-01-02 01:01:01 +0000 UTC");
    }
}

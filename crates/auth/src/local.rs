//! The embedded local token issuer.
//!
//! An Ed25519 key pair lives in `DATA_DIR/token-issuer.key` as an unencrypted
//! PKCS#8 PEM file with mode 0600. It is created on first use; a key file that
//! group or others can access is refused. Tokens are EdDSA-signed JWTs with
//! `iss` = [`LOCAL_ISSUER`] and `aud` = [`LOCAL_AUDIENCE`].

use std::fs::{self, File, OpenOptions};
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use serde::Serialize;

use crate::Principal;
use crate::error::Error;
use crate::jwt::{self, ClaimRules, UnverifiedToken};

/// File name of the issuer key inside the data directory.
pub const KEY_FILE_NAME: &str = "token-issuer.key";
/// `iss` of every locally issued token.
pub const LOCAL_ISSUER: &str = "signet-local";
/// `aud` of every locally issued token.
pub const LOCAL_AUDIENCE: &str = "signet";

const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";
/// A PKCS#8 Ed25519 PEM file is well under 1 KiB; refuse anything huge.
const MAX_KEY_FILE_LEN: u64 = 16 * 1024;

/// The local token issuer: signs tokens with the data directory's key.
pub struct LocalIssuer {
    path: PathBuf,
    signing_key: EncodingKey,
    verifier: LocalVerifier,
}

impl std::fmt::Debug for LocalIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalIssuer")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct LocalClaims<'a> {
    iss: &'static str,
    aud: &'static str,
    sub: &'a str,
    org: &'a str,
    groups: &'a [String],
    iat: u64,
    nbf: u64,
    exp: u64,
    jti: String,
}

impl LocalIssuer {
    /// Loads `DATA_DIR/token-issuer.key`, creating the directory and a new
    /// key (mode 0600) if the file does not exist yet.
    pub fn open_or_create(data_dir: &Path) -> Result<LocalIssuer, Error> {
        let path = data_dir.join(KEY_FILE_NAME);
        match File::open(&path) {
            Ok(file) => load(file, path),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => create(data_dir, path),
            Err(source) => Err(Error::KeyFileIo { path, source }),
        }
    }

    /// The key file this issuer uses.
    pub fn key_path(&self) -> &Path {
        &self.path
    }

    /// Issues a token for `user` in `org`, valid from `now` for `ttl`.
    pub fn issue(
        &self,
        org: &str,
        user: &str,
        groups: &[String],
        ttl: Duration,
        now: SystemTime,
    ) -> Result<String, Error> {
        if org.is_empty() {
            return Err(Error::InvalidArgument(
                "organisation must not be empty".to_owned(),
            ));
        }
        if user.is_empty() {
            return Err(Error::InvalidArgument("user must not be empty".to_owned()));
        }
        if groups.iter().any(String::is_empty) {
            return Err(Error::InvalidArgument(
                "group names must not be empty".to_owned(),
            ));
        }
        if ttl.as_secs() == 0 {
            return Err(Error::InvalidArgument(
                "token lifetime must be at least one second".to_owned(),
            ));
        }
        let iat = jwt::unix_seconds(now)?;
        let exp = iat
            .checked_add(ttl.as_secs())
            .ok_or_else(|| Error::InvalidArgument("token lifetime is too long".to_owned()))?;
        let mut jti = [0u8; 16];
        SystemRandom::new()
            .fill(&mut jti)
            .map_err(|_| Error::Crypto {
                operation: "generating a token id",
            })?;
        let claims = LocalClaims {
            iss: LOCAL_ISSUER,
            aud: LOCAL_AUDIENCE,
            sub: user,
            org,
            groups,
            iat,
            nbf: iat,
            exp,
            jti: URL_SAFE_NO_PAD.encode(jti),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some("JWT".to_owned());
        jsonwebtoken::encode(&header, &claims, &self.signing_key).map_err(|_| Error::Crypto {
            operation: "signing a token",
        })
    }

    pub(crate) fn verifier(&self) -> LocalVerifier {
        self.verifier.clone()
    }
}

/// Verifies tokens of a [`LocalIssuer`] with its public key only.
#[derive(Clone)]
pub(crate) struct LocalVerifier {
    key: DecodingKey,
}

impl LocalVerifier {
    pub(crate) fn authenticate(
        &self,
        token: &UnverifiedToken<'_>,
        org: &str,
        now: SystemTime,
    ) -> Result<Principal, Error> {
        token.verify_signature(&self.key, Algorithm::EdDSA)?;
        let rules = ClaimRules {
            issuer: LOCAL_ISSUER,
            audience: LOCAL_AUDIENCE,
            user_claim: "sub",
            org_claim: "org",
            groups_claim: "groups",
        };
        jwt::validate_claims(&token.claims, &rules, org, now)
    }
}

fn from_pkcs8(path: PathBuf, der: &[u8]) -> Result<LocalIssuer, Error> {
    let pair = Ed25519KeyPair::from_pkcs8(der).map_err(|_| Error::KeyFileInvalid {
        path: path.clone(),
        reason: "not a PKCS#8 Ed25519 private key",
    })?;
    let verifier = LocalVerifier {
        key: DecodingKey::from_ed_der(pair.public_key().as_ref()),
    };
    Ok(LocalIssuer {
        path,
        signing_key: EncodingKey::from_ed_der(der),
        verifier,
    })
}

fn load(mut file: File, path: PathBuf) -> Result<LocalIssuer, Error> {
    let meta = file.metadata().map_err(|source| Error::KeyFileIo {
        path: path.clone(),
        source,
    })?;
    if !meta.is_file() {
        return Err(Error::KeyFileInvalid {
            path,
            reason: "not a regular file",
        });
    }
    check_mode(&path, &meta)?;
    if meta.len() > MAX_KEY_FILE_LEN {
        return Err(Error::KeyFileInvalid {
            path,
            reason: "file is too large to be a key",
        });
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|source| Error::KeyFileIo {
            path: path.clone(),
            source,
        })?;
    let der = decode_pem(&text).ok_or_else(|| Error::KeyFileInvalid {
        path: path.clone(),
        reason: "not a PEM \"PRIVATE KEY\" (PKCS#8) file",
    })?;
    from_pkcs8(path, &der)
}

#[cfg(unix)]
fn check_mode(path: &Path, meta: &fs::Metadata) -> Result<(), Error> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(Error::KeyFilePermissions {
            path: path.to_owned(),
            mode,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_mode(_path: &Path, _meta: &fs::Metadata) -> Result<(), Error> {
    Ok(())
}

fn create(data_dir: &Path, path: PathBuf) -> Result<LocalIssuer, Error> {
    let io_err = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::KeyFileIo { path, source }
    };
    create_dir(data_dir).map_err(io_err(data_dir))?;

    let pair = Ed25519KeyPair::generate().map_err(|_| Error::Crypto {
        operation: "generating the token issuer key",
    })?;
    let der = pair.to_pkcs8v1().map_err(|_| Error::Crypto {
        operation: "encoding the token issuer key",
    })?;
    let pem = encode_pem(der.as_ref());

    // Write a private temporary file, then hard-link it into place: the link
    // fails if another process created the key first, and nobody ever sees a
    // half-written key file.
    let mut suffix = [0u8; 8];
    SystemRandom::new()
        .fill(&mut suffix)
        .map_err(|_| Error::Crypto {
            operation: "naming a temporary file",
        })?;
    let tmp = data_dir.join(format!(
        ".{KEY_FILE_NAME}.{}.tmp",
        URL_SAFE_NO_PAD.encode(suffix)
    ));
    let written = write_private(&tmp, pem.as_bytes());
    let linked = written.and_then(|()| fs::hard_link(&tmp, &path));
    // Best effort: the temporary name is random and holds the same key.
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => from_pkcs8(path, der.as_ref()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {
            let file = File::open(&path).map_err(io_err(&path))?;
            load(file, path)
        }
        Err(source) => Err(Error::KeyFileIo { path, source }),
    }
}

#[cfg(unix)]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_dir(dir: &Path) -> std::io::Result<()> {
    fs::create_dir_all(dir)
}

fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

fn encode_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = String::with_capacity(body.len() + 80);
    pem.push_str(PEM_BEGIN);
    pem.push('\n');
    let mut rest = body.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        pem.push_str(line);
        pem.push('\n');
        rest = tail;
    }
    pem.push_str(PEM_END);
    pem.push('\n');
    pem
}

fn decode_pem(text: &str) -> Option<Vec<u8>> {
    let start = text.find(PEM_BEGIN)? + PEM_BEGIN.len();
    let end = start + text.get(start..)?.find(PEM_END)?;
    let body: String = text
        .get(start..end)?
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(body).ok()
}

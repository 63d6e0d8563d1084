//! The software key store: a directory of keys, each PKCS#8 encrypted at rest.
//!
//! Layout of `dir`:
//!
//! * `kek`: the key-encryption key, 32 random bytes, created with mode 0600 when missing (and
//!   refused when group or others can access it);
//! * `keys/<id>.json`: one file per key (mode 0600): `{"version":1,"label":…,"key_type":…,
//!   "nonce":…,"ciphertext":…}` where the ciphertext is the PKCS#8 DER sealed with AES-256-GCM
//!   under the KEK, with the id, key type and label as associated data (so files cannot be
//!   swapped or relabelled undetected).
//!
//! Ids are 32 lower-case hex characters (16 random bytes); anything else is an unknown key, so
//! an id can never name a path outside `keys/`.

use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use aws_lc_rs::signature::{self as sig, EcdsaKeyPair, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::types::check_digest;
use crate::{Error, HashAlgorithm, KeyBackend, KeyId, KeyType, SignaturePadding};

const BACKEND: &str = "software";
const ID_LEN: usize = 16;
const KEK_LEN: usize = 32;

/// Keys in a directory, encrypted at rest under a key-encryption key file.
pub struct SoftwareBackend {
    keys_dir: PathBuf,
    kek: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for SoftwareBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SoftwareBackend")
            .field("keys_dir", &self.keys_dir)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    version: u32,
    label: String,
    key_type: KeyType,
    nonce: String,
    ciphertext: String,
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> Error + use<> {
    let path = path.to_owned();
    move |source| Error::Io {
        action,
        path,
        source,
    }
}

fn aad(id: &KeyId, key_type: KeyType, label: &str) -> Vec<u8> {
    let mut aad = b"signet-keys software v1\0".to_vec();
    aad.extend_from_slice(id.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(key_type.as_str().as_bytes());
    aad.push(0);
    aad.extend_from_slice(label.as_bytes());
    aad
}

/// Writes `bytes` to a new file `path` with mode 0600 (fails if it exists).
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(io("create", path))?;
    file.write_all(bytes).map_err(io("write", path))?;
    file.sync_all().map_err(io("sync", path))
}

impl SoftwareBackend {
    /// Opens (creating if needed) the store in `dir`. A missing KEK file is created with 32
    /// random bytes and mode 0600; an existing one must be 32 bytes and private to its owner.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let keys_dir = dir.join("keys");
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&keys_dir)
            .map_err(io("create directory", &keys_dir))?;
        let rng = SystemRandom::new();
        let kek_path = dir.join("kek");
        if !kek_path.exists() {
            let mut kek = Zeroizing::new([0u8; KEK_LEN]);
            rng.fill(kek.as_mut()).map_err(|_| Error::Random)?;
            match write_new_private(&kek_path, kek.as_ref()) {
                Ok(()) => {}
                // Another process created it first: use theirs.
                Err(Error::Io { source, .. })
                    if source.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        let meta = fs::metadata(&kek_path).map_err(io("read", &kek_path))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::KekPermissions {
                path: kek_path,
                mode,
            });
        }
        let kek = Zeroizing::new(fs::read(&kek_path).map_err(io("read", &kek_path))?);
        if kek.len() != KEK_LEN {
            return Err(Error::InvalidKek { path: kek_path });
        }
        let key = UnboundKey::new(&AES_256_GCM, &kek)
            .map_err(|_| Error::InvalidKek { path: kek_path })?;
        Ok(SoftwareBackend {
            keys_dir,
            kek: LessSafeKey::new(key),
            rng,
        })
    }

    fn key_path(&self, id: &KeyId) -> Result<PathBuf, Error> {
        id.hex_bytes(ID_LEN)
            .map(|_| self.keys_dir.join(format!("{}.json", id.as_str())))
            .ok_or_else(|| unknown(id))
    }

    /// The label the key was generated with.
    pub fn label(&self, id: &KeyId) -> Result<String, Error> {
        Ok(self.read_file(id)?.1.label)
    }

    fn read_file(&self, id: &KeyId) -> Result<(PathBuf, KeyFile), Error> {
        let path = self.key_path(id)?;
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(unknown(id)),
            Err(e) => return Err(io("read key file", &path)(e)),
        };
        let corrupt = |reason| Error::CorruptKeyFile {
            id: id.for_display(),
            reason,
        };
        let file: KeyFile =
            serde_json::from_slice(&bytes).map_err(|_| corrupt("not valid JSON"))?;
        if file.version != 1 {
            return Err(corrupt("unsupported version"));
        }
        Ok((path, file))
    }

    /// Decrypts the PKCS#8 DER of `id`.
    fn load(&self, id: &KeyId) -> Result<(KeyType, Zeroizing<Vec<u8>>), Error> {
        let (_, file) = self.read_file(id)?;
        let corrupt = |reason| Error::CorruptKeyFile {
            id: id.for_display(),
            reason,
        };
        let nonce: [u8; NONCE_LEN] = B64
            .decode(&file.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| corrupt("bad nonce"))?;
        let mut buf = Zeroizing::new(
            B64.decode(&file.ciphertext)
                .map_err(|_| corrupt("bad ciphertext encoding"))?,
        );
        let plain_len = self
            .kek
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(id, file.key_type, &file.label)),
                buf.as_mut_slice(),
            )
            .map_err(|_| Error::Decrypt {
                id: id.for_display(),
            })?
            .len();
        buf.truncate(plain_len);
        Ok((file.key_type, buf))
    }

    fn sign_loaded(
        &self,
        key_type: KeyType,
        pkcs8: &[u8],
        digest: &[u8],
        hash: HashAlgorithm,
        padding: SignaturePadding,
    ) -> Result<Vec<u8>, Error> {
        check_digest(key_type, digest, hash)?;
        let failed = |operation| Error::Crypto {
            operation,
            key_type,
        };
        if key_type.is_rsa() {
            let kp = RsaKeyPair::from_pkcs8(pkcs8).map_err(|_| failed("loading"))?;
            let digest = aws_lc_rs::digest::Digest::import_less_safe(digest, hash.aws_lc())
                .map_err(|_| failed("signing"))?;
            // aws-lc-rs signs a precomputed digest with either padding; its PSS encodings use
            // MGF1 with the same hash and a salt as long as the digest (RSA_PSS_SALTLEN_DIGEST).
            let encoding: &'static dyn sig::RsaEncoding = match (padding, hash) {
                (SignaturePadding::Pkcs1v15, HashAlgorithm::Sha256) => &sig::RSA_PKCS1_SHA256,
                (SignaturePadding::Pkcs1v15, HashAlgorithm::Sha384) => &sig::RSA_PKCS1_SHA384,
                (SignaturePadding::Pkcs1v15, HashAlgorithm::Sha512) => &sig::RSA_PKCS1_SHA512,
                (SignaturePadding::Pss, HashAlgorithm::Sha256) => &sig::RSA_PSS_SHA256,
                (SignaturePadding::Pss, HashAlgorithm::Sha384) => &sig::RSA_PSS_SHA384,
                (SignaturePadding::Pss, HashAlgorithm::Sha512) => &sig::RSA_PSS_SHA512,
            };
            let mut out = vec![0u8; kp.public_modulus_len()];
            kp.sign_digest(encoding, &digest, &mut out)
                .map_err(|_| failed("signing"))?;
            return Ok(out);
        }
        let key_hash = key_type.default_hash();
        let alg = match key_type {
            KeyType::EcdsaP384 => &sig::ECDSA_P384_SHA384_ASN1_SIGNING,
            KeyType::EcdsaP521 => &sig::ECDSA_P521_SHA512_ASN1_SIGNING,
            _ => &sig::ECDSA_P256_SHA256_ASN1_SIGNING,
        };
        let kp = EcdsaKeyPair::from_pkcs8(alg, pkcs8).map_err(|_| failed("loading"))?;
        // The key pair is bound to the curve's own hash. A shorter digest (SHA-256 on P-384 /
        // P-521) is left-padded with zeros to that length: ECDSA takes the integer of the
        // digest's leftmost bits, which leading zeros do not change.
        let mut padded = vec![0u8; key_hash.output_len()];
        let offset = padded.len().saturating_sub(digest.len());
        padded[offset..].copy_from_slice(digest);
        let digest = aws_lc_rs::digest::Digest::import_less_safe(&padded, key_hash.aws_lc())
            .map_err(|_| failed("signing"))?;
        Ok(kp
            .sign_digest(&digest)
            .map_err(|_| failed("signing"))?
            .as_ref()
            .to_vec())
    }
}

fn unknown(id: &KeyId) -> Error {
    Error::UnknownKey {
        id: id.for_display(),
        backend: BACKEND,
    }
}

impl KeyBackend for SoftwareBackend {
    fn check(&self) -> Result<(), Error> {
        fs::read_dir(&self.keys_dir)
            .map(|_| ())
            .map_err(io("read directory", &self.keys_dir))
    }

    fn generate(&self, label: &str, key_type: KeyType) -> Result<KeyId, Error> {
        let key = signet_crypto::PrivateKey::generate(key_type.crypto_key_type())
            .map_err(Error::Generate)?;
        let pkcs8 = key.to_pkcs8_der();
        drop(key);
        let mut id_bytes = [0u8; ID_LEN];
        self.rng.fill(&mut id_bytes).map_err(|_| Error::Random)?;
        let id = KeyId::from_bytes(&id_bytes);
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).map_err(|_| Error::Random)?;
        let mut buf = Zeroizing::new(pkcs8.to_vec());
        self.kek
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad(&id, key_type, label)),
                &mut *buf,
            )
            .map_err(|_| Error::Crypto {
                operation: "encrypting",
                key_type,
            })?;
        let file = KeyFile {
            version: 1,
            label: label.to_owned(),
            key_type,
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(buf.as_slice()),
        };
        let json = serde_json::to_vec(&file).map_err(|_| Error::Crypto {
            operation: "encoding",
            key_type,
        })?;
        let path = self.key_path(&id)?;
        // Write under a temporary name, then rename: a crash never leaves a partial key file.
        let tmp = self.keys_dir.join(format!(".{}.tmp", id.as_str()));
        write_new_private(&tmp, &json)?;
        fs::rename(&tmp, &path).map_err(io("rename key file", &path))?;
        Ok(id)
    }

    fn public_key(&self, id: &KeyId) -> Result<signet_crypto::PublicKey, Error> {
        let (_, pkcs8) = self.load(id)?;
        let key = signet_crypto::PrivateKey::from_pkcs8_der(&pkcs8).map_err(|source| {
            Error::PublicKey {
                id: id.for_display(),
                source,
            }
        })?;
        Ok(key.public_key())
    }

    fn sign(&self, id: &KeyId, message: &[u8]) -> Result<Vec<u8>, Error> {
        let (key_type, pkcs8) = self.load(id)?;
        let hash = key_type.default_hash();
        self.sign_loaded(
            key_type,
            &pkcs8,
            &hash.digest(message),
            hash,
            SignaturePadding::Pkcs1v15,
        )
    }

    fn sign_digest_with(
        &self,
        id: &KeyId,
        digest: &[u8],
        hash: HashAlgorithm,
        padding: SignaturePadding,
    ) -> Result<Vec<u8>, Error> {
        let (key_type, pkcs8) = self.load(id)?;
        self.sign_loaded(key_type, &pkcs8, digest, hash, padding)
    }
}

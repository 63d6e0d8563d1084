//! OpenPGP for simple signing, on rPGP: secret keys as `gpg --export-secret-keys` writes them,
//! keyrings as `gpg --export [--armor]` writes them (and old `pubring.gpg` files), signing, and
//! verification.
//!
//! [`sign`] writes what skopeo/gpg write minus the compression layer: a binary OpenPGP signed
//! message (one-pass signature, literal data, signature), made with the **primary** key and
//! SHA-256. skopeo 1.9.3 (gpgme) rejects signatures by a subkey unless given the subkey's
//! fingerprint, so the primary key is always used.
//!
//! [`verify`] accepts binary or armored messages, compressed or not, with exactly one
//! signature over one literal data packet, and hands out the payload only after the signature
//! verified. What is checked, beyond the cryptographic signature:
//! - the issuer must be a primary key of the keyring, or a subkey bound to one as a signing
//!   subkey (valid binding signature with the signing flag and a valid back signature);
//!   [`Verified::signer_fingerprint`] is always the **primary** fingerprint (what current
//!   containers/image compares; skopeo 1.9.3 would reject subkey signatures outright);
//! - the primary key needs a valid self-signature (user ID certification or direct key
//!   signature), as gpg needs to import it;
//! - revocation: a valid key revocation signature on the primary, or subkey revocation on the
//!   signing subkey, rejects (designated revokers are not consulted; every reason counts);
//! - expiry at `now`: the key expiration time of the newest valid self-signature (binding
//!   signature for subkeys), and the signature's own expiration time;
//! - signature type binary or text; hash not MD5, SHA-1 or RIPEMD-160 (stricter than gpg 2.2,
//!   which still accepts SHA-1 data signatures);
//! - the signature is not older than the signing key (gpg's time conflict).
//!
//! Not checked: key flags of the primary key (gpg does not either), user ID validity or trust
//! (containers/image trusts every key it was given), signatures from the future.

use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pgp::composed::{
    Deserializable, Message, MessageBuilder, SignedPublicKey, SignedPublicKeyParser,
    SignedSecretKey, SubpacketConfig,
};
use pgp::crypto::hash::HashAlgorithm;
use pgp::packet::{Packet, PacketParser, Signature, SignatureType, Subpacket, SubpacketData};
use pgp::types::{KeyDetails, KeyId, Password, Tag, Timestamp};

use crate::Error;

/// The largest payload [`verify`] reads out of a message (decompression included).
pub const MAX_PAYLOAD_SIZE: usize = 4 * 1024 * 1024;

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn fingerprint_of(key: &impl KeyDetails) -> String {
    hex_upper(key.fingerprint().as_bytes())
}

fn unix(t: Timestamp) -> u64 {
    u64::from(t.as_secs())
}

/// An unlocked OpenPGP secret key (from `gpg --export-secret-keys --armor`).
pub struct SecretKey {
    key: SignedSecretKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl SecretKey {
    /// Loads one secret key (primary key plus its subkeys) from ASCII armor, unlocking it with
    /// `passphrase` when it is protected. A protected key without a passphrase, or with a wrong
    /// one, is an error naming the key; a passphrase given for an unprotected key is ignored.
    pub fn from_armored(text: &str, passphrase: Option<&[u8]>) -> Result<Self, Error> {
        let parse_err = |e: pgp::errors::Error| Error::SecretKeyParse {
            reason: e.to_string(),
        };
        let (keys, _headers) = SignedSecretKey::from_string_many(text).map_err(parse_err)?;
        let keys = keys.collect::<Result<Vec<_>, _>>().map_err(parse_err)?;
        let count = keys.len();
        let Ok([mut key]) = <[SignedSecretKey; 1]>::try_from(keys) else {
            return Err(Error::SecretKeyCount { count });
        };
        let fingerprint = fingerprint_of(&key.primary_key);
        if key.primary_key.secret_params().is_encrypted() {
            let Some(passphrase) = passphrase else {
                return Err(Error::PassphraseRequired { fingerprint });
            };
            key.primary_key
                .remove_password(&Password::from(passphrase))
                .map_err(|_| Error::WrongPassphrase { fingerprint })?;
        }
        Ok(SecretKey { key })
    }

    /// The primary key fingerprint, upper-case hex (40 digits for v4 keys), as gpg prints it.
    pub fn fingerprint(&self) -> String {
        fingerprint_of(&self.key.primary_key)
    }

    /// The public key (primary, user IDs, subkeys, their signatures) as `gpg --export --armor`
    /// would give it.
    pub fn public_key_armored(&self) -> Result<String, Error> {
        self.key
            .to_public_key()
            .to_armored_string(Default::default())
            .map_err(|e| Error::KeyringParse {
                reason: e.to_string(),
            })
    }

    /// The public key in binary form (`gpg --export`).
    pub fn public_key_bytes(&self) -> Result<Vec<u8>, Error> {
        use pgp::ser::Serialize;
        self.key
            .to_public_key()
            .to_bytes()
            .map_err(|e| Error::KeyringParse {
                reason: e.to_string(),
            })
    }
}

/// Signs `payload_json` with the primary key of `key`: a binary OpenPGP signed message
/// (one-pass signature, literal data in binary mode with an empty file name, signature with
/// SHA-256, created at `created`, issuer fingerprint and key ID subpackets), the form
/// skopeo 1.9.3 and gpg verify.
pub fn sign(payload_json: &[u8], key: &SecretKey, created: SystemTime) -> Result<Vec<u8>, Error> {
    let fingerprint = key.fingerprint();
    let created = Timestamp::try_from(created).map_err(|_| Error::SigningTimeOutOfRange)?;
    let primary = &key.key.primary_key;
    let signing_err = |e: pgp::errors::Error| Error::Signing {
        fingerprint: fingerprint.clone(),
        reason: e.to_string(),
    };
    let hashed = vec![
        Subpacket::regular(SubpacketData::SignatureCreationTime(created)).map_err(signing_err)?,
        Subpacket::regular(SubpacketData::IssuerFingerprint(primary.fingerprint()))
            .map_err(signing_err)?,
    ];
    let unhashed = vec![
        Subpacket::regular(SubpacketData::IssuerKeyId(primary.legacy_key_id()))
            .map_err(signing_err)?,
    ];
    let mut builder = MessageBuilder::from_bytes("", payload_json.to_vec());
    builder.sign_with_subpackets(
        primary,
        Password::empty(),
        HashAlgorithm::Sha256,
        SubpacketConfig::UserDefined { hashed, unhashed },
    );
    builder.to_vec(rand::rngs::OsRng).map_err(signing_err)
}

/// The validity facts of one key (primary or subkey), worked out when the keyring is built.
#[derive(Clone, Debug)]
struct KeyState {
    fingerprint: String,
    created: u64,
    /// Absolute expiry (seconds since 1970), from the newest valid self/binding signature.
    expires: Option<u64>,
    revoked: bool,
    /// Primary: has a valid self-signature. Subkey: bound as a signing subkey.
    usable: bool,
}

#[derive(Clone, Debug)]
struct Cert {
    key: SignedPublicKey,
    primary: KeyState,
    /// The states of `key.public_subkeys`, index for index.
    subkeys: Vec<KeyState>,
}

/// The trusted public keys for [`verify`] (what a `signedBy` requirement's `keyPath`,
/// `keyPaths` or `keyData` holds).
#[derive(Clone, Debug)]
pub struct Keyring {
    certs: Vec<Cert>,
}

impl Keyring {
    /// Loads keys from one blob: binary (`gpg --export`, or an old-style `pubring.gpg`, whose
    /// trust packets are skipped) or ASCII armor (one or more `PGP PUBLIC KEY BLOCK`s),
    /// possibly several keys. Keybox files (`pubring.kbx`) are not supported.
    pub fn from_bytes(blob: &[u8]) -> Result<Self, Error> {
        Self::from_blobs([blob])
    }

    /// Loads keys from several blobs (e.g. `keyPaths`). At least one key must be found.
    pub fn from_blobs<I, B>(blobs: I) -> Result<Self, Error>
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let mut certs = Vec::new();
        for blob in blobs {
            for key in parse_public_keys(blob.as_ref())? {
                certs.push(Cert::new(key));
            }
        }
        if certs.is_empty() {
            return Err(Error::NoPublicKeys);
        }
        Ok(Keyring { certs })
    }

    /// The primary key fingerprints, upper-case hex, in input order.
    pub fn fingerprints(&self) -> Vec<String> {
        self.certs
            .iter()
            .map(|c| c.primary.fingerprint.clone())
            .collect()
    }

    /// The number of primary keys.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether there are no keys (never true for a constructed keyring).
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }
}

fn keyring_err(e: impl std::fmt::Display) -> Error {
    Error::KeyringParse {
        reason: e.to_string(),
    }
}

fn parse_public_keys(blob: &[u8]) -> Result<Vec<SignedPublicKey>, Error> {
    let start = blob
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(blob.len());
    let blob = &blob[start..];
    if blob.is_empty() {
        return Ok(Vec::new());
    }
    if blob[0] & 0x80 != 0 {
        return parse_binary_keys(blob);
    }
    // Armor: every public key block in the text (several `gpg --export --armor` outputs may
    // be concatenated).
    let text = String::from_utf8_lossy(blob);
    const BEGIN: &str = "-----BEGIN PGP PUBLIC KEY BLOCK-----";
    const END: &str = "-----END PGP PUBLIC KEY BLOCK-----";
    let mut keys = Vec::new();
    let mut rest: &str = &text;
    let mut found = false;
    while let Some(b) = rest.find(BEGIN) {
        let after = &rest[b..];
        let Some(e) = after.find(END) else {
            return Err(keyring_err("armor block without an END line"));
        };
        let block = &after[..e + END.len()];
        let mut dearmor = pgp::armor::Dearmor::new(block.as_bytes());
        let mut binary = Vec::new();
        dearmor.read_to_end(&mut binary).map_err(keyring_err)?;
        keys.extend(parse_binary_keys(&binary)?);
        found = true;
        rest = &after[e + END.len()..];
    }
    if !found {
        return Err(keyring_err(
            "neither binary OpenPGP data nor a PGP PUBLIC KEY BLOCK",
        ));
    }
    Ok(keys)
}

fn parse_binary_keys(bytes: &[u8]) -> Result<Vec<SignedPublicKey>, Error> {
    let mut packets = Vec::new();
    for packet in PacketParser::new(bytes) {
        match packet {
            Ok(Packet::Trust(_) | Packet::Marker(_) | Packet::Padding(_)) => {}
            Ok(p) => packets.push(Ok(p)),
            Err(pgp::errors::Error::Unsupported { .. }) => {}
            Err(pgp::errors::Error::InvalidPacketContent { source })
                if matches!(*source, pgp::errors::Error::Unsupported { .. }) => {}
            Err(e) => return Err(keyring_err(e)),
        }
    }
    SignedPublicKeyParser::from_packets(packets.into_iter().peekable())
        .collect::<Result<Vec<_>, _>>()
        .map_err(keyring_err)
}

impl Cert {
    fn new(key: SignedPublicKey) -> Cert {
        let primary_key = &key.primary_key;
        let mut newest: Option<&Signature> = None;
        let mut self_sigs: Vec<&Signature> = Vec::new();
        for user in &key.details.users {
            for sig in &user.signatures {
                if sig.is_certification()
                    && sig
                        .verify_certification(primary_key, Tag::UserId, &user.id)
                        .is_ok()
                {
                    self_sigs.push(sig);
                }
            }
        }
        for sig in &key.details.direct_signatures {
            if sig.typ() == Some(SignatureType::Key) && sig.verify_key(primary_key).is_ok() {
                self_sigs.push(sig);
            }
        }
        for sig in self_sigs {
            if newest.is_none_or(|n| created_secs(sig) > created_secs(n)) {
                newest = Some(sig);
            }
        }
        let revoked = key.details.revocation_signatures.iter().any(|sig| {
            sig.typ() == Some(SignatureType::KeyRevocation) && sig.verify_key(primary_key).is_ok()
        });
        let created = unix(primary_key.created_at());
        let primary = KeyState {
            fingerprint: fingerprint_of(primary_key),
            created,
            expires: newest.and_then(|s| expiry(created, s)),
            revoked,
            usable: newest.is_some(),
        };

        let subkeys = key
            .public_subkeys
            .iter()
            .map(|sub| {
                let mut binding: Option<&Signature> = None;
                let mut revoked = false;
                for sig in &sub.signatures {
                    if sig.verify_subkey_binding(primary_key, &sub.key).is_err() {
                        continue;
                    }
                    match sig.typ() {
                        Some(SignatureType::SubkeyRevocation) => revoked = true,
                        Some(SignatureType::SubkeyBinding)
                            if binding.is_none_or(|b| created_secs(sig) > created_secs(b)) =>
                        {
                            binding = Some(sig);
                        }
                        _ => {}
                    }
                }
                let signing = binding.is_some_and(|b| {
                    b.key_flags().sign()
                        && b.embedded_signature().is_some_and(|back| {
                            back.verify_primary_key_binding(&sub.key, primary_key)
                                .is_ok()
                        })
                });
                let created = unix(sub.key.created_at());
                KeyState {
                    fingerprint: fingerprint_of(&sub.key),
                    created,
                    expires: binding.and_then(|s| expiry(created, s)),
                    revoked,
                    usable: signing,
                }
            })
            .collect();
        Cert {
            key,
            primary,
            subkeys,
        }
    }
}

fn created_secs(sig: &Signature) -> u64 {
    sig.created().map(unix).unwrap_or(0)
}

fn expiry(key_created: u64, sig: &Signature) -> Option<u64> {
    match sig.key_expiration_time().map(|d| d.as_secs()) {
        None | Some(0) => None,
        Some(secs) => Some(key_created + u64::from(secs)),
    }
}

/// A verified simple signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The fingerprint of the signer's **primary** key (upper-case hex), what containers/image
    /// compares with the policy's keys.
    pub signer_fingerprint: String,
    /// The fingerprint of the key that made the signature: the primary key, or a signing subkey.
    pub signing_key_fingerprint: String,
    /// The signature's creation time.
    pub signature_created: SystemTime,
    /// The signed payload (not yet parsed: use [`crate::payload::UntrustedSignature::parse_strict`]).
    pub payload: Vec<u8>,
}

/// Verifies a simple signature (binary or armored OpenPGP message) with the keys of `keyring`
/// at time `now`, and returns the payload only if everything in the module docs holds.
pub fn verify(signature: &[u8], keyring: &Keyring, now: SystemTime) -> Result<Verified, Error> {
    let parse_err = |e: pgp::errors::Error| Error::SignatureParse {
        reason: e.to_string(),
    };
    let (message, _headers) = Message::from_reader(signature).map_err(parse_err)?;
    let mut message = message.decompress().map_err(parse_err)?;
    match &message {
        Message::Signed { reader, .. } => {
            if !reader.get_ref().is_literal() {
                return Err(Error::UnexpectedStructure {
                    reason: "the signed data is not a literal data packet",
                });
            }
        }
        Message::Literal { .. } => return Err(Error::NotSigned),
        Message::Encrypted { .. } => return Err(Error::Encrypted),
        Message::Compressed { .. } => {
            return Err(Error::UnexpectedStructure {
                reason: "nested compressed data",
            });
        }
    }

    // Read the payload (to end, so the hashes are final), bounded.
    let mut payload = Vec::new();
    (&mut message)
        .take(MAX_PAYLOAD_SIZE as u64 + 1)
        .read_to_end(&mut payload)
        .map_err(|e| Error::SignatureParse {
            reason: e.to_string(),
        })?;
    if payload.len() > MAX_PAYLOAD_SIZE {
        return Err(Error::PayloadTooLarge {
            limit: MAX_PAYLOAD_SIZE,
        });
    }
    let Message::Signed { reader, .. } = &message else {
        return Err(Error::NotSigned);
    };
    if !reader.is_done() {
        return Err(Error::UnexpectedStructure {
            reason: "the message did not end after the signature",
        });
    }
    let count = reader.num_signatures();
    if count != 1 {
        return Err(Error::SignatureCount { count });
    }
    let Some(sig) = reader.signature(0) else {
        return Err(Error::SignatureCount { count: 0 });
    };
    let sig = sig.clone();

    // Find the issuer among the keyring's keys.
    let issuer_ids: Vec<KeyId> = sig.issuer_key_id().into_iter().cloned().collect();
    let issuer_fprs: Vec<String> = sig
        .issuer_fingerprint()
        .into_iter()
        .map(|f| hex_upper(f.as_bytes()))
        .collect();
    let matches = |key: &dyn KeyDetails| {
        let fpr = hex_upper(key.fingerprint().as_bytes());
        let id = key.legacy_key_id();
        (issuer_ids.is_empty() && issuer_fprs.is_empty())
            || issuer_fprs.contains(&fpr)
            || issuer_ids.contains(&id)
    };
    let mut candidate = None;
    'outer: for cert in &keyring.certs {
        if matches(&cert.key.primary_key) {
            candidate = Some((cert, None));
            break;
        }
        for (i, sub) in cert.key.public_subkeys.iter().enumerate() {
            if matches(&sub.key) {
                candidate = Some((cert, Some(i)));
                break 'outer;
            }
        }
    }
    let Some((cert, sub_index)) = candidate else {
        let key_id = issuer_ids
            .first()
            .map(|id| hex_upper(id.as_ref()))
            .or_else(|| {
                issuer_fprs
                    .first()
                    .map(|f| f[f.len().saturating_sub(16)..].to_string())
            })
            .unwrap_or_else(|| "unknown".to_string());
        return Err(Error::UnknownSigner { key_id });
    };
    let (state, verified) = match sub_index {
        None => (
            &cert.primary,
            message.verify(&cert.key.primary_key).map(|_| ()),
        ),
        Some(i) => (
            &cert.subkeys[i],
            message.verify(&cert.key.public_subkeys[i].key).map(|_| ()),
        ),
    };
    verified.map_err(|e| Error::BadSignature {
        fingerprint: state.fingerprint.clone(),
        reason: e.to_string(),
    })?;

    // The signature is genuine; now whether it counts.
    match sig.typ() {
        Some(SignatureType::Binary | SignatureType::Text) => {}
        other => {
            return Err(Error::WrongSignatureType {
                signature_type: format!("{other:?}"),
            });
        }
    }
    if let Some(hash) = sig.hash_alg()
        && matches!(
            hash,
            HashAlgorithm::Md5 | HashAlgorithm::Sha1 | HashAlgorithm::Ripemd160
        )
    {
        return Err(Error::WeakHash {
            algorithm: format!("{hash:?}"),
        });
    }
    let now_secs = now
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let Some(sig_created) = sig.created().map(unix) else {
        return Err(Error::MissingCreationTime);
    };
    for key in std::iter::once(&cert.primary).chain(sub_index.map(|i| &cert.subkeys[i])) {
        if key.revoked {
            return Err(Error::KeyRevoked {
                fingerprint: key.fingerprint.clone(),
            });
        }
        if let Some(expired_at) = key.expires.filter(|&e| e <= now_secs) {
            return Err(Error::KeyExpired {
                fingerprint: key.fingerprint.clone(),
                expired_at,
            });
        }
    }
    if !cert.primary.usable {
        return Err(Error::KeyNotSelfSigned {
            fingerprint: cert.primary.fingerprint.clone(),
        });
    }
    if sub_index.is_some() && !state.usable {
        return Err(Error::SubkeyNotForSigning {
            fingerprint: state.fingerprint.clone(),
        });
    }
    if sig_created < state.created {
        return Err(Error::SignaturePredatesKey {
            fingerprint: state.fingerprint.clone(),
        });
    }
    if let Some(lifetime) = sig.signature_expiration_time().map(|d| d.as_secs()) {
        let expired_at = sig_created + u64::from(lifetime);
        if lifetime != 0 && expired_at <= now_secs {
            return Err(Error::SignatureExpired {
                fingerprint: state.fingerprint.clone(),
                expired_at,
            });
        }
    }

    Ok(Verified {
        signer_fingerprint: cert.primary.fingerprint.clone(),
        signing_key_fingerprint: state.fingerprint.clone(),
        signature_created: UNIX_EPOCH + Duration::from_secs(sig_created),
        payload,
    })
}

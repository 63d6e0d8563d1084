//! The PKCS#11 key backend (an HSM; SoftHSM2 in tests) through `cryptoki`.
//!
//! Keys are generated on the token as persistent objects: the private half with
//! `CKA_TOKEN`, `CKA_PRIVATE`, `CKA_SENSITIVE`, `CKA_SIGN` true and `CKA_EXTRACTABLE` false;
//! both halves carry the caller's label and a random 16-byte `CKA_ID`, whose lower-case hex
//! is the [`KeyId`]. Hashing happens on the host (tokens such as SoftHSM2 lack
//! `CKM_ECDSA_SHA256`): ECDSA signs the digest with `CKM_ECDSA` and the `r||s` result is
//! DER-encoded; RSA signs the digest's `DigestInfo` with `CKM_RSA_PKCS` (PKCS#1 v1.5), or the
//! digest itself with `CKM_RSA_PKCS_PSS` and `CK_RSA_PKCS_PSS_PARAMS {hashAlg, MGF1 of the
//! same hash, sLen = digest length}` (PSS).
//!
//! A `Session` may move between threads but not be shared, so the backend keeps a small pool
//! of logged-in sessions behind a `Mutex` and takes one per call (opening another when all
//! are busy). The PIN is held as a [`Pin`] and never printed.
//!
//! Loading the module, choosing the slot and logging in live in `Token`; reading key types
//! and public keys and the signing mechanisms are free functions; [`crate::Pkcs11Key`] (keys
//! by URI) uses the same pieces.
//!
//! The module reads its own configuration when loaded (SoftHSM2: `SOFTHSM2_CONF`); this crate
//! never sets environment variables.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType as CkKeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;

use crate::der;
use crate::types::check_digest;
use crate::{Error, HashAlgorithm, KeyBackend, KeyId, KeyType, Pin, SignaturePadding};

const BACKEND: &str = "PKCS#11";
const ID_LEN: usize = 16;
/// Idle sessions kept for reuse; more are opened under load and closed when returned.
const MAX_IDLE_SESSIONS: usize = 8;

/// Where the token is and how to log in. `Debug` shows the module and label, never the PIN.
#[derive(Debug, Clone)]
pub struct Pkcs11Config {
    /// The PKCS#11 module, e.g. `/usr/lib/softhsm/libsofthsm2.so`.
    pub module: PathBuf,
    /// The label of the token (the slot is found by it).
    pub token_label: String,
    /// The user PIN.
    pub pin: Pin,
}

/// Keys on a PKCS#11 token.
pub struct Pkcs11Backend {
    token: Token,
    config: Pkcs11Config,
    pool: Mutex<Vec<Session>>,
    /// Private-key handles and types by key id. Handles of token objects stay valid for the
    /// application while the object exists, so a signature needs no object search (on
    /// SoftHSM2 a search re-reads the token directory; on a network HSM it is a round trip).
    /// A handle the token no longer knows is looked up again.
    handles: RwLock<HashMap<String, (ObjectHandle, KeyType)>>,
}

impl std::fmt::Debug for Pkcs11Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11Backend")
            .field("module", &self.config.module)
            .field("token_label", &self.config.token_label)
            .field("slot", &self.token.slot.id())
            .finish_non_exhaustive()
    }
}

/// What the token reports about a private key's protection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyProtection {
    /// `CKA_SENSITIVE`.
    pub sensitive: bool,
    /// `CKA_EXTRACTABLE`.
    pub extractable: bool,
    /// `CKA_ALWAYS_SENSITIVE`.
    pub always_sensitive: bool,
    /// `CKA_NEVER_EXTRACTABLE`.
    pub never_extractable: bool,
    /// Whether the token handed out any secret component when asked (`CKA_VALUE` for EC,
    /// `CKA_PRIVATE_EXPONENT` / `CKA_PRIME_1` for RSA). The bytes themselves are discarded.
    pub secret_readable: bool,
}

pub(crate) fn ck(operation: &'static str) -> impl FnOnce(CkError) -> Error {
    move |source| Error::Pkcs11 { operation, source }
}

fn unknown(id: &KeyId) -> Error {
    Error::UnknownKey {
        id: id.for_display(),
        backend: BACKEND,
    }
}

/// The byte length of a field element (a coordinate) of the key's curve.
fn coordinate_len(key_type: KeyType) -> usize {
    der::ec_field_len(key_type).unwrap_or(32)
}

fn curve_oid(key_type: KeyType) -> &'static [u8] {
    match key_type {
        KeyType::EcdsaP384 => der::OID_P384,
        KeyType::EcdsaP521 => der::OID_P521,
        _ => der::OID_P256,
    }
}

/// A loaded module, one slot of it and how to log in to its token: what the backend and
/// [`crate::Pkcs11Key`] share. Sessions are opened here and logged in with the PIN.
pub(crate) struct Token {
    pub(crate) ctx: Pkcs11,
    pub(crate) slot: Slot,
    /// The token's label (for messages).
    pub(crate) label: String,
    pin: Option<Pin>,
}

impl Token {
    /// Loads a PKCS#11 module and initialises it (an already initialised module is fine:
    /// several contexts on one module share its state).
    pub(crate) fn load_module(module: &Path) -> Result<Pkcs11, Error> {
        let module_err = |source| Error::Module {
            module: module.to_path_buf(),
            source,
        };
        let ctx = Pkcs11::new(module).map_err(module_err)?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => Ok(ctx),
            Err(e) => Err(module_err(e)),
        }
    }

    pub(crate) fn new(ctx: Pkcs11, slot: Slot, label: String, pin: Option<Pin>) -> Self {
        Token {
            ctx,
            slot,
            label,
            pin,
        }
    }

    /// Whether the token wants a login before private objects can be used
    /// (`CKF_LOGIN_REQUIRED`).
    pub(crate) fn login_required(&self) -> Result<bool, Error> {
        Ok(self
            .ctx
            .get_token_info(self.slot)
            .map_err(ck("read token info"))?
            .login_required())
    }

    /// Opens a session (read-write when `rw`) and logs the user in when there is a PIN. A
    /// token the application is already logged in to accepts the session as it is.
    pub(crate) fn open_session(&self, rw: bool) -> Result<Session, Error> {
        let session = if rw {
            self.ctx.open_rw_session(self.slot)
        } else {
            self.ctx.open_ro_session(self.slot)
        }
        .map_err(ck("open session"))?;
        let Some(pin) = &self.pin else {
            return Ok(session);
        };
        match session.login(UserType::User, Some(&pin.auth_pin())) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
            Err(CkError::Pkcs11(
                RvError::PinIncorrect | RvError::PinInvalid | RvError::PinLenRange,
                _,
            )) => Err(Error::PinRefused {
                label: self.label.clone(),
            }),
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => Err(Error::PinLocked {
                label: self.label.clone(),
            }),
            Err(e) => Err(ck("login")(e)),
        }
    }
}

/// The key type of a key object (public or private), from `CKA_KEY_TYPE` and the curve or
/// modulus size. `what` names the key in errors.
pub(crate) fn key_type_of(
    session: &Session,
    h: ObjectHandle,
    what: &str,
) -> Result<KeyType, Error> {
    let unexpected = |reason| Error::UnexpectedObject {
        id: what.to_owned(),
        reason,
    };
    let attrs = session
        .get_attributes(h, &[AttributeType::KeyType])
        .map_err(ck("read key type"))?;
    let ck_type = attrs
        .iter()
        .find_map(|a| match a {
            Attribute::KeyType(t) => Some(*t),
            _ => None,
        })
        .ok_or_else(|| unexpected("no key type"))?;
    if ck_type == CkKeyType::EC {
        let params = session
            .get_attributes(h, &[AttributeType::EcParams])
            .map_err(ck("read curve"))?
            .into_iter()
            .find_map(|a| match a {
                Attribute::EcParams(p) => Some(p),
                _ => None,
            })
            .ok_or_else(|| unexpected("no curve"))?;
        [KeyType::EcdsaP256, KeyType::EcdsaP384, KeyType::EcdsaP521]
            .into_iter()
            .find(|kt| curve_oid(*kt) == params.as_slice())
            .ok_or_else(|| unexpected("unsupported curve"))
    } else if ck_type == CkKeyType::RSA {
        let modulus = rsa_modulus(session, h, what)?;
        let bits = modulus.iter().skip_while(|b| **b == 0).count() * 8;
        KeyType::ALL
            .into_iter()
            .find(|kt| kt.rsa_bits().is_some_and(|b| b as usize == bits))
            .ok_or_else(|| unexpected("unsupported RSA modulus size"))
    } else {
        Err(unexpected("neither an RSA nor an EC key"))
    }
}

fn rsa_modulus(session: &Session, h: ObjectHandle, what: &str) -> Result<Vec<u8>, Error> {
    session
        .get_attributes(h, &[AttributeType::Modulus])
        .map_err(ck("read modulus"))?
        .into_iter()
        .find_map(|a| match a {
            Attribute::Modulus(m) => Some(m),
            _ => None,
        })
        .ok_or_else(|| Error::UnexpectedObject {
            id: what.to_owned(),
            reason: "no modulus",
        })
}

/// The public key held by a public-key object (or, for RSA, by a private-key object, which
/// carries the modulus and public exponent too).
pub(crate) fn public_key_of(
    session: &Session,
    h: ObjectHandle,
    what: &str,
) -> Result<signet_crypto::PublicKey, Error> {
    let key_type = key_type_of(session, h, what)?;
    let unexpected = |reason| Error::UnexpectedObject {
        id: what.to_owned(),
        reason,
    };
    let bad_key = |source| Error::PublicKey {
        id: what.to_owned(),
        source,
    };
    if key_type.is_rsa() {
        let modulus = rsa_modulus(session, h, what)?;
        let exponent = session
            .get_attributes(h, &[AttributeType::PublicExponent])
            .map_err(ck("read public exponent"))?
            .into_iter()
            .find_map(|a| match a {
                Attribute::PublicExponent(e) => Some(e),
                _ => None,
            })
            .ok_or_else(|| unexpected("no public exponent"))?;
        return signet_crypto::PublicKey::from_pkcs1_der(&der::rsa_public_key(&modulus, &exponent))
            .map_err(bad_key);
    }
    let point = session
        .get_attributes(h, &[AttributeType::EcPoint])
        .map_err(ck("read EC point"))?
        .into_iter()
        .find_map(|a| match a {
            Attribute::EcPoint(p) => Some(p),
            _ => None,
        })
        .ok_or_else(|| unexpected("no EC point"))?;
    // PKCS#11 says CKA_EC_POINT is a DER OCTET STRING; some tokens return the raw point.
    // Both start with 0x04, so tell them apart by the raw point's length.
    let raw_len = 1 + 2 * coordinate_len(key_type);
    let raw = if point.len() == raw_len && point.first() == Some(&0x04) {
        point.as_slice()
    } else {
        der::octet_string_content(&point).ok_or_else(|| unexpected("malformed EC point"))?
    };
    signet_crypto::PublicKey::from_spki_der(&der::ec_spki(curve_oid(key_type), raw))
        .map_err(bad_key)
}

/// Signs a digest with the private key `h` of type `key_type`: ECDSA with `CKM_ECDSA` (the
/// result DER-encoded), RSA with `CKM_RSA_PKCS` over the `DigestInfo` or `CKM_RSA_PKCS_PSS`.
pub(crate) fn sign_digest_on(
    session: &Session,
    h: ObjectHandle,
    key_type: KeyType,
    digest: &[u8],
    hash: HashAlgorithm,
    padding: SignaturePadding,
) -> Result<Vec<u8>, Error> {
    check_digest(key_type, digest, hash)?;
    if key_type.is_rsa() {
        return match padding {
            SignaturePadding::Pkcs1v15 => {
                let mut info = der::digest_info_prefix(hash).to_vec();
                info.extend_from_slice(digest);
                session
                    .sign(&Mechanism::RsaPkcs, h, &info)
                    .map_err(ck("sign"))
            }
            SignaturePadding::Pss => {
                let (hash_alg, mgf) = match hash {
                    HashAlgorithm::Sha256 => (MechanismType::SHA256, PkcsMgfType::MGF1_SHA256),
                    HashAlgorithm::Sha384 => (MechanismType::SHA384, PkcsMgfType::MGF1_SHA384),
                    HashAlgorithm::Sha512 => (MechanismType::SHA512, PkcsMgfType::MGF1_SHA512),
                };
                let s_len = u64::try_from(hash.output_len()).unwrap_or(u64::MAX);
                let params = PkcsPssParams {
                    hash_alg,
                    mgf,
                    s_len: s_len.into(),
                };
                session
                    .sign(&Mechanism::RsaPkcsPss(params), h, digest)
                    .map_err(ck("sign"))
            }
        };
    }
    let raw = session
        .sign(&Mechanism::Ecdsa, h, digest)
        .map_err(ck("sign"))?;
    der::ecdsa_p1363_to_der(&raw).ok_or(Error::Crypto {
        operation: "encoding the signature",
        key_type,
    })
}

/// The protection attributes of the private key `h`, and whether the token would hand out
/// its secret components (it must not).
pub(crate) fn protection_of(session: &Session, h: ObjectHandle) -> Result<KeyProtection, Error> {
    let attrs = session
        .get_attributes(
            h,
            &[
                AttributeType::Sensitive,
                AttributeType::Extractable,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
            ],
        )
        .map_err(ck("read attributes"))?;
    let flag = |want: AttributeType| {
        attrs.iter().any(|a| {
            a.attribute_type() == want
                && matches!(
                    a,
                    Attribute::Sensitive(true)
                        | Attribute::Extractable(true)
                        | Attribute::AlwaysSensitive(true)
                        | Attribute::NeverExtractable(true)
                )
        })
    };
    let mut secret_readable = false;
    for secret in [
        AttributeType::Value,
        AttributeType::PrivateExponent,
        AttributeType::Prime1,
    ] {
        // An error or an empty answer both mean "not readable"; any bytes returned are
        // dropped unread.
        if let Ok(values) = session.get_attributes(h, &[secret]) {
            secret_readable |= values.iter().any(|a| a.attribute_type() == secret);
        }
    }
    Ok(KeyProtection {
        sensitive: flag(AttributeType::Sensitive),
        extractable: flag(AttributeType::Extractable),
        always_sensitive: flag(AttributeType::AlwaysSensitive),
        never_extractable: flag(AttributeType::NeverExtractable),
        secret_readable,
    })
}

impl Pkcs11Backend {
    /// Loads the module, finds the token by label and logs in with the PIN.
    pub fn open(config: Pkcs11Config) -> Result<Self, Error> {
        let ctx = Token::load_module(&config.module)?;
        let slot = ctx
            .get_slots_with_token()
            .map_err(ck("list slots"))?
            .into_iter()
            .find(|s| {
                ctx.get_token_info(*s)
                    .is_ok_and(|t| t.label().trim_end() == config.token_label)
            })
            .ok_or_else(|| Error::TokenNotFound {
                label: config.token_label.clone(),
            })?;
        let token = Token::new(
            ctx,
            slot,
            config.token_label.clone(),
            Some(config.pin.clone()),
        );
        let backend = Pkcs11Backend {
            token,
            config,
            pool: Mutex::new(Vec::new()),
            handles: RwLock::new(HashMap::new()),
        };
        // Log in now, so a wrong PIN fails here; the session stays in the pool and keeps the
        // application's login state alive.
        let session = backend.token.open_session(true)?;
        backend
            .pool
            .lock()
            .map_err(|_| Error::Poisoned)?
            .push(session);
        Ok(backend)
    }

    /// Runs `f` with a pooled session (one thread at a time per session).
    fn with_session<T>(&self, f: impl FnOnce(&Session) -> Result<T, Error>) -> Result<T, Error> {
        let idle = self.pool.lock().map_err(|_| Error::Poisoned)?.pop();
        let session = match idle {
            Some(s) => s,
            None => self.token.open_session(true)?,
        };
        let result = f(&session);
        let mut pool = self.pool.lock().map_err(|_| Error::Poisoned)?;
        if pool.len() < MAX_IDLE_SESSIONS {
            pool.push(session);
        }
        result
    }

    fn find(
        &self,
        session: &Session,
        id: &KeyId,
        class: ObjectClass,
    ) -> Result<ObjectHandle, Error> {
        let raw = id.hex_bytes(ID_LEN).ok_or_else(|| unknown(id))?;
        let found = session
            .find_objects(&[Attribute::Class(class), Attribute::Id(raw)])
            .map_err(ck("find objects"))?;
        match found.as_slice() {
            [h] => Ok(*h),
            [] => Err(unknown(id)),
            _ => Err(Error::UnexpectedObject {
                id: id.for_display(),
                reason: "several objects share this id",
            }),
        }
    }

    /// The private key's handle and type, from the cache or the token.
    fn private_key(&self, session: &Session, id: &KeyId) -> Result<(ObjectHandle, KeyType), Error> {
        if let Some(found) = self
            .handles
            .read()
            .ok()
            .and_then(|h| h.get(id.as_str()).copied())
        {
            return Ok(found);
        }
        let h = self.find(session, id, ObjectClass::PRIVATE_KEY)?;
        let key_type = key_type_of(session, h, &id.for_display())?;
        if let Ok(mut handles) = self.handles.write() {
            handles.insert(id.as_str().to_owned(), (h, key_type));
        }
        Ok((h, key_type))
    }

    fn sign_with(
        &self,
        session: &Session,
        id: &KeyId,
        message_or_digest: Input<'_>,
    ) -> Result<Vec<u8>, Error> {
        match self.sign_once(session, id, &message_or_digest) {
            Err(Error::Pkcs11 { .. }) if self.forget(id) => {
                // A cached handle the token no longer knows: look the key up again, once.
                self.sign_once(session, id, &message_or_digest)
            }
            other => other,
        }
    }

    /// Drops a cached handle; true if there was one.
    fn forget(&self, id: &KeyId) -> bool {
        self.handles
            .write()
            .is_ok_and(|mut h| h.remove(id.as_str()).is_some())
    }

    fn sign_once(
        &self,
        session: &Session,
        id: &KeyId,
        message_or_digest: &Input<'_>,
    ) -> Result<Vec<u8>, Error> {
        let (h, key_type) = self.private_key(session, id)?;
        let (digest, hash, padding) = match message_or_digest {
            Input::Message(m) => {
                let hash = key_type.default_hash();
                (hash.digest(m), hash, SignaturePadding::Pkcs1v15)
            }
            Input::Digest(d, hash, padding) => (d.to_vec(), *hash, *padding),
        };
        sign_digest_on(session, h, key_type, &digest, hash, padding)
    }

    /// Reports the protection attributes of the private key `id`, and whether the token
    /// would hand out its secret components (it must not).
    pub fn key_protection(&self, id: &KeyId) -> Result<KeyProtection, Error> {
        self.with_session(|session| {
            let h = self.find(session, id, ObjectClass::PRIVATE_KEY)?;
            protection_of(session, h)
        })
    }
}

enum Input<'a> {
    Message(&'a [u8]),
    Digest(&'a [u8], HashAlgorithm, SignaturePadding),
}

impl KeyBackend for Pkcs11Backend {
    fn check(&self) -> Result<(), Error> {
        self.with_session(|session| {
            session.get_session_info().map_err(ck("session info"))?;
            Ok(())
        })
    }

    fn generate(&self, label: &str, key_type: KeyType) -> Result<KeyId, Error> {
        self.with_session(|session| {
            let raw_id = session
                .generate_random_vec(ID_LEN as u32)
                .map_err(ck("generate random"))?;
            let id = KeyId::from_bytes(&raw_id);
            let label = label.as_bytes().to_vec();
            let mut public = vec![
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Verify(true),
                Attribute::Label(label.clone()),
                Attribute::Id(raw_id.clone()),
            ];
            let private = [
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Sign(true),
                Attribute::Label(label),
                Attribute::Id(raw_id),
            ];
            let mechanism = match key_type.rsa_bits() {
                Some(bits) => {
                    public.push(Attribute::ModulusBits(u64::from(bits).into()));
                    public.push(Attribute::PublicExponent(vec![0x01, 0x00, 0x01]));
                    Mechanism::RsaPkcsKeyPairGen
                }
                None => {
                    public.push(Attribute::EcParams(curve_oid(key_type).to_vec()));
                    Mechanism::EccKeyPairGen
                }
            };
            session
                .generate_key_pair(&mechanism, &public, &private)
                .map_err(ck("generate key pair"))?;
            Ok(id)
        })
    }

    fn public_key(&self, id: &KeyId) -> Result<signet_crypto::PublicKey, Error> {
        self.with_session(|session| {
            let h = self.find(session, id, ObjectClass::PUBLIC_KEY)?;
            public_key_of(session, h, &id.for_display())
        })
    }

    fn sign(&self, id: &KeyId, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.with_session(|session| self.sign_with(session, id, Input::Message(message)))
    }

    fn sign_digest_with(
        &self,
        id: &KeyId,
        digest: &[u8],
        hash: HashAlgorithm,
        padding: SignaturePadding,
    ) -> Result<Vec<u8>, Error> {
        self.with_session(|session| {
            self.sign_with(session, id, Input::Digest(digest, hash, padding))
        })
    }
}

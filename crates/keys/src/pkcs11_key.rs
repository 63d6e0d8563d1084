//! [`Pkcs11Key`]: one key pair on a PKCS#11 token, opened by a PKCS#11 URI
//! ([`crate::uri::Pkcs11Uri`]) as `cosign sign --key pkcs11:…` opens it (cosign's
//! `pkg/cosign/pkcs11key`).
//!
//! Opening: the module comes from `module-path` / `module-name`, else
//! [`Fallbacks::module_path`] (`COSIGN_PKCS11_MODULE_PATH`); the token is the one slot whose
//! slot, token and library attributes all match the URI (`slot-id`, `token`, `serial`, …);
//! the PIN is `pin-value`, else the `pin-source` file, else [`Fallbacks::pin`]
//! (`COSIGN_PKCS11_PIN`); a token that needs a login and has no PIN is an error
//! ([`Error::PinRequired`]), one that does not is used without a login. The private key is
//! the one private-key object whose `CKA_ID` and `CKA_LABEL` equal the URI's `id` and `object`
//! (all given attributes must match, RFC 7512; cosign's crypto11 looks by `id` alone when
//! both are given). Its public key comes from the public-key object with the private key's
//! `CKA_ID` (else its label), or for RSA from the private key's own modulus and exponent.
//! The X.509 certificate stored next to the key — the certificate object with the URI's
//! `id`, else its `object` label, as cosign looks it up — is read unless
//! [`Fallbacks::ignore_certificate`] (`COSIGN_PKCS11_IGNORE_CERTIFICATE=1`); this crate does
//! not parse it (the caller checks that it holds the key, as `cosign sign` does).
//!
//! Signing: the private key never leaves the token. [`Pkcs11Key::sign_digest_with`] signs a
//! digest like [`crate::KeyBackend::sign_digest_with`]; [`Pkcs11Key::sign_message`] hashes
//! first and can return ECDSA as `r||s` (JWS, COSE); the [`Signer`] impl signs as cosign
//! signs with a PKCS#11 key: SHA-256 for every key type, ECDSA DER, RSA PKCS#1 v1.5.
//!
//! One logged-in read-only session serves the key (behind a `Mutex`: a `Session` may not be
//! shared between threads). Login state belongs to the application, not the session: while
//! another session of this process is logged in to the same token, the token accepts a
//! second login without checking its PIN (`CKR_USER_ALREADY_LOGGED_IN`).

use std::fmt;
use std::path::Path;
use std::sync::Mutex;

use cryptoki::object::{Attribute, AttributeType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use cryptoki::slot::Slot;
use signet_crypto::{PublicKey, SignatureAlgorithm, Signer};

use crate::pkcs11::{Token, ck, key_type_of, protection_of, public_key_of, sign_digest_on};
use crate::uri::{Fallbacks, Pkcs11Uri};
use crate::{
    Error, HashAlgorithm, KeyProtection, KeyType, Pin, SignaturePadding, ecdsa_der_to_raw,
};

/// A key pair on a PKCS#11 token, named by a PKCS#11 URI. The private key stays on the token.
pub struct Pkcs11Key {
    token: Token,
    session: Mutex<Session>,
    private: ObjectHandle,
    key_type: KeyType,
    public: PublicKey,
    certificate: Option<Vec<u8>>,
    /// The URI without its PIN, for messages.
    uri: String,
}

impl fmt::Debug for Pkcs11Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Key")
            .field("uri", &self.uri)
            .field("token", &self.token.label)
            .field("slot", &self.token.slot.id())
            .field("key_type", &self.key_type)
            .field("certificate", &self.certificate.is_some())
            .finish_non_exhaustive()
    }
}

/// The trimmed (blank-padded) info string equals the URI's value, or the URI has none.
fn matches(wanted: Option<&str>, actual: &str) -> bool {
    wanted.is_none_or(|w| w == actual.trim_end_matches([' ', '\0']))
}

/// The one slot whose library, slot and token attributes match the URI, and its token label.
fn select_slot(
    token_ctx: &cryptoki::context::Pkcs11,
    uri: &Pkcs11Uri,
) -> Result<(Slot, String), Error> {
    let no_match = || Error::NoMatchingToken {
        uri: uri.to_string(),
    };
    if uri.library_manufacturer().is_some()
        || uri.library_description().is_some()
        || uri.library_version().is_some()
    {
        let info = token_ctx
            .get_library_info()
            .map_err(ck("read library info"))?;
        let version = info.library_version();
        if !matches(uri.library_manufacturer(), info.manufacturer_id())
            || !matches(uri.library_description(), info.library_description())
            || uri
                .library_version()
                .is_some_and(|v| v != (version.major(), version.minor()))
        {
            return Err(no_match());
        }
    }
    let mut found = Vec::new();
    for slot in token_ctx.get_slots_with_token().map_err(ck("list slots"))? {
        if uri.slot_id().is_some_and(|id| id != slot.id()) {
            continue;
        }
        if uri.slot_description().is_some() || uri.slot_manufacturer().is_some() {
            let Ok(info) = token_ctx.get_slot_info(slot) else {
                continue;
            };
            if !matches(uri.slot_description(), info.slot_description())
                || !matches(uri.slot_manufacturer(), info.manufacturer_id())
            {
                continue;
            }
        }
        let Ok(info) = token_ctx.get_token_info(slot) else {
            continue;
        };
        if matches(uri.token(), info.label())
            && matches(uri.manufacturer(), info.manufacturer_id())
            && matches(uri.model(), info.model())
            && matches(uri.serial(), info.serial_number())
        {
            let label = info.label().trim_end_matches([' ', '\0']).to_owned();
            found.push((slot, label));
        }
    }
    match found.len() {
        0 => Err(no_match()),
        1 => Ok(found.remove(0)),
        count => Err(Error::AmbiguousToken {
            uri: uri.to_string(),
            count,
        }),
    }
}

/// The objects of `class` with exactly these attributes.
fn find(
    session: &Session,
    class: ObjectClass,
    id: Option<&[u8]>,
    label: Option<&str>,
) -> Result<Vec<ObjectHandle>, Error> {
    let mut template = vec![Attribute::Class(class)];
    if let Some(id) = id {
        template.push(Attribute::Id(id.to_vec()));
    }
    if let Some(label) = label {
        template.push(Attribute::Label(label.as_bytes().to_vec()));
    }
    session.find_objects(&template).map_err(ck("find objects"))
}

/// One attribute's bytes (`CKA_ID`, `CKA_LABEL`, `CKA_VALUE`), empty when absent.
fn bytes_of(session: &Session, h: ObjectHandle, ty: AttributeType) -> Result<Vec<u8>, Error> {
    Ok(session
        .get_attributes(h, &[ty])
        .map_err(ck("read attributes"))?
        .into_iter()
        .find_map(|a| match a {
            Attribute::Id(v) | Attribute::Label(v) | Attribute::Value(v) => Some(v),
            _ => None,
        })
        .unwrap_or_default())
}

impl Pkcs11Key {
    /// Opens the key pair `uri` names (see the module documentation), taking what the URI
    /// leaves out from `fallbacks`.
    pub fn open(uri: &Pkcs11Uri, fallbacks: &Fallbacks) -> Result<Self, Error> {
        uri.check_names_key()?;
        let module = uri.module(fallbacks.module_path.as_deref())?;
        let pin = match uri.pin()? {
            Some(pin) => Some(pin),
            None => fallbacks.pin.clone(),
        };
        let ctx = Token::load_module(&module)?;
        let (slot, label) = select_slot(&ctx, uri)?;
        let token = Token::new(ctx, slot, label, pin.clone());
        let token_name = format!("{:?}", token.label);
        if pin.is_none() && token.login_required()? {
            return Err(Error::PinRequired { token: token_name });
        }
        let session = token.open_session(false)?;
        let key_name = uri.key_name();

        let private =
            match find(&session, ObjectClass::PRIVATE_KEY, uri.id(), uri.object())?.as_slice() {
                [h] => *h,
                [] => {
                    return Err(Error::KeyNotFound {
                        key: key_name,
                        token: token_name,
                    });
                }
                many => {
                    return Err(Error::AmbiguousKey {
                        key: key_name,
                        token: token_name,
                        count: many.len(),
                    });
                }
            };
        let what = format!("{key_name} on token {token_name}");
        let key_type = key_type_of(&session, private, &what)?;
        let public = Self::read_public(&session, private, key_type, &what)?;

        let certificate = if fallbacks.ignore_certificate {
            None
        } else {
            let (id, label) = match uri.id() {
                Some(id) => (Some(id), None),
                None => (None, uri.object()),
            };
            match find(&session, ObjectClass::CERTIFICATE, id, label)?.first() {
                Some(h) => Some(bytes_of(&session, *h, AttributeType::Value)?)
                    .filter(|der| !der.is_empty()),
                None => None,
            }
        };

        Ok(Pkcs11Key {
            token,
            session: Mutex::new(session),
            private,
            key_type,
            public,
            certificate,
            uri: uri.to_string(),
        })
    }

    /// The public key: from the public-key object sharing the private key's `CKA_ID` (or,
    /// without an id, its label), else for RSA from the private key object itself.
    fn read_public(
        session: &Session,
        private: ObjectHandle,
        key_type: KeyType,
        what: &str,
    ) -> Result<PublicKey, Error> {
        let id = bytes_of(session, private, AttributeType::Id)?;
        let candidates = if id.is_empty() {
            let label = bytes_of(session, private, AttributeType::Label)?;
            let label = String::from_utf8_lossy(&label).into_owned();
            find(session, ObjectClass::PUBLIC_KEY, None, Some(&label))?
        } else {
            find(session, ObjectClass::PUBLIC_KEY, Some(&id), None)?
        };
        let unexpected = |reason| Error::UnexpectedObject {
            id: what.to_owned(),
            reason,
        };
        let public = match candidates.as_slice() {
            [h] => public_key_of(session, *h, what)?,
            [] if key_type.is_rsa() => public_key_of(session, private, what)?,
            [] => {
                return Err(unexpected(
                    "no public key object with the private key's id or label on the token",
                ));
            }
            _ => {
                return Err(unexpected(
                    "several public key objects share the private key's id or label",
                ));
            }
        };
        if public.key_type() != key_type.crypto_key_type() {
            return Err(unexpected(
                "the public key object is not of the private key's type",
            ));
        }
        Ok(public)
    }

    /// The public key.
    pub fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The DER X.509 certificate stored with the key on the token, if any (not checked here).
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.certificate.as_deref()
    }

    /// The token's label.
    pub fn token_label(&self) -> &str {
        &self.token.label
    }

    /// The slot's `CK_SLOT_ID`.
    pub fn slot_id(&self) -> u64 {
        self.token.slot.id()
    }

    /// The URI the key was opened with, without its PIN (canonical form).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The algorithm [`Signer::sign`] uses: what cosign signs with a PKCS#11 key, SHA-256
    /// whatever the key type (ECDSA P-256/P-384/P-521 over SHA-256, RSA PKCS#1 v1.5 SHA-256).
    pub fn cosign_algorithm(&self) -> SignatureAlgorithm {
        match self.key_type {
            KeyType::EcdsaP256 => SignatureAlgorithm::EcdsaP256Sha256,
            KeyType::EcdsaP384 => SignatureAlgorithm::EcdsaP384Sha256,
            KeyType::EcdsaP521 => SignatureAlgorithm::EcdsaP521Sha256,
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
                SignatureAlgorithm::RsaPkcs1Sha256
            }
        }
    }

    /// Signs a digest computed elsewhere with `hash`, as
    /// [`crate::KeyBackend::sign_digest_with`] does: the digest length must match `hash`,
    /// `hash` must be one of [`KeyType::hashes`]; RSA pads as `padding` says (PSS: MGF1 with
    /// `hash`, salt as long as the digest); ECDSA ignores `padding` and returns DER.
    pub fn sign_digest_with(
        &self,
        digest: &[u8],
        hash: HashAlgorithm,
        padding: SignaturePadding,
    ) -> Result<Vec<u8>, Error> {
        let session = self.session.lock().map_err(|_| Error::Poisoned)?;
        sign_digest_on(&session, self.private, self.key_type, digest, hash, padding)
    }

    /// Hashes `message` with `hash` and signs the digest ([`Pkcs11Key::sign_digest_with`]).
    /// With `raw_ecdsa`, an ECDSA signature comes back as fixed-size `r||s` (IEEE P1363, as JWS
    /// and COSE want it) instead of DER; RSA signatures have one form and ignore it.
    ///
    /// For Notary Project signatures: RSA keys with [`SignaturePadding::Pss`] and SHA-256 /
    /// SHA-384 / SHA-512 give PS256 / PS384 / PS512; ECDSA P-256 / P-384 / P-521 keys with
    /// SHA-256 / SHA-384 / SHA-512 and `raw_ecdsa` give ES256 / ES384 / ES512.
    pub fn sign_message(
        &self,
        message: &[u8],
        hash: HashAlgorithm,
        padding: SignaturePadding,
        raw_ecdsa: bool,
    ) -> Result<Vec<u8>, Error> {
        let signature = self.sign_digest_with(&hash.digest(message), hash, padding)?;
        if raw_ecdsa && !self.key_type.is_rsa() {
            return ecdsa_der_to_raw(&signature, self.key_type);
        }
        Ok(signature)
    }

    /// What the token reports about the private key's protection (sensitive,
    /// non-extractable), and whether it hands out any secret component (it must not).
    pub fn protection(&self) -> Result<KeyProtection, Error> {
        let session = self.session.lock().map_err(|_| Error::Poisoned)?;
        protection_of(&session, self.private)
    }
}

/// A token as `cosign pkcs11-tool list-tokens` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSummary {
    /// The slot's `CK_SLOT_ID` (`slot-id` in a URI).
    pub slot_id: u64,
    /// The token label (`token`).
    pub label: String,
    /// The token's manufacturer (`manufacturer`).
    pub manufacturer: String,
    /// The token's model (`model`).
    pub model: String,
    /// The token's serial number (`serial`).
    pub serial: String,
}

/// The tokens of a module, as `cosign pkcs11-tool list-tokens --module-path M` lists them.
pub fn list_tokens(module: &Path) -> Result<Vec<TokenSummary>, Error> {
    let ctx = Token::load_module(module)?;
    let trim = |s: &str| s.trim_end_matches([' ', '\0']).to_owned();
    let mut out = Vec::new();
    for slot in ctx.get_slots_with_token().map_err(ck("list slots"))? {
        let info = ctx.get_token_info(slot).map_err(ck("read token info"))?;
        out.push(TokenSummary {
            slot_id: slot.id(),
            label: trim(info.label()),
            manufacturer: trim(info.manufacturer_id()),
            model: trim(info.model()),
            serial: trim(info.serial_number()),
        });
    }
    Ok(out)
}

/// The private keys on the token in slot `slot_id`, each as the URI that opens it (`token`,
/// `slot-id`, `id`, `object` and `module-path`; never a PIN), as
/// `cosign pkcs11-tool list-keys-uris` prints them. Private keys are usually only visible after
/// a login: without `pin` the list may be empty.
pub fn list_key_uris(
    module: &Path,
    slot_id: u64,
    pin: Option<Pin>,
) -> Result<Vec<Pkcs11Uri>, Error> {
    let ctx = Token::load_module(module)?;
    let slot = ctx
        .get_slots_with_token()
        .map_err(ck("list slots"))?
        .into_iter()
        .find(|s| s.id() == slot_id)
        .ok_or_else(|| Error::NoMatchingToken {
            uri: format!("pkcs11:slot-id={slot_id}"),
        })?;
    let label = ctx
        .get_token_info(slot)
        .map_err(ck("read token info"))?
        .label()
        .trim_end_matches([' ', '\0'])
        .to_owned();
    let token = Token::new(ctx, slot, label, pin);
    let session = token.open_session(false)?;
    let mut out = Vec::new();
    for h in find(&session, ObjectClass::PRIVATE_KEY, None, None)? {
        let id = bytes_of(&session, h, AttributeType::Id)?;
        let object = String::from_utf8(bytes_of(&session, h, AttributeType::Label)?).ok();
        out.push(Pkcs11Uri::for_key(
            Some(&token.label),
            Some(slot_id),
            object.as_deref().filter(|o| !o.is_empty()),
            Some(id.as_slice()).filter(|i| !i.is_empty()),
            Some(module),
        ));
    }
    Ok(out)
}

/// Signs as cosign signs with a PKCS#11 key (see [`Pkcs11Key::cosign_algorithm`]).
impl Signer for Pkcs11Key {
    fn public_key(&self) -> PublicKey {
        self.public.clone()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.cosign_algorithm()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, signet_crypto::Error> {
        self.sign_message(
            message,
            HashAlgorithm::Sha256,
            SignaturePadding::Pkcs1v15,
            false,
        )
        .map_err(|_| signet_crypto::Error::SigningFailed {
            algorithm: self.cosign_algorithm(),
        })
    }
}

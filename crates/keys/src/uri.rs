//! PKCS#11 URIs (RFC 7512), as `cosign sign --key pkcs11:…` takes them, e.g.
//! `pkcs11:token=signing;object=release%20key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/pin`.
//!
//! The parser is strict about the grammar of RFC 7512 §2.3: path attributes are separated by
//! `;` and query attributes by `&`; a value holds only the characters the grammar allows
//! (`pk11-pchar` / `pk11-qchar`), everything else percent-encoded (`%20` for a space; `+` is a
//! plus sign, never a space); `%` must start a two-hex-digit escape; no attribute appears
//! twice; attribute names are ASCII case-insensitive (RFC 5234 literals). Every attribute of
//! RFC 7512 is understood (`token`, `manufacturer`, `serial`, `model`, `library-manufacturer`,
//! `library-description`, `library-version`, `object`, `type`, `id`, `slot-description`,
//! `slot-manufacturer`, `slot-id`; `pin-source`, `pin-value`, `module-name`, `module-path`).
//! Vendor attributes (`x-…`) are refused in the path (they would narrow the match in a way
//! this consumer cannot honour) and ignored in the query. Unknown attribute names are errors.
//!
//! Values are percent-decoded: `id` to raw bytes (`CKA_ID`), the others to UTF-8 text.
//! [`Pkcs11Uri`]'s `Debug` and `Display` never show `pin-value`; error messages name the
//! attribute at fault and never quote a value.
//!
//! What opening a key needs beyond the grammar (as cosign's `pkcs11key` requires it): one of
//! `object` and `id`, one of `token` and `slot-id`, and a module (`module-path`, or
//! `module-name`, or a default such as `COSIGN_PKCS11_MODULE_PATH` through [`Fallbacks`]);
//! [`crate::Pkcs11Key::open`] checks those.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::{Error, Pin};

/// The URI scheme, with its colon.
pub const SCHEME: &str = "pkcs11:";

/// `COSIGN_PKCS11_MODULE_PATH`: the module when the URI names none.
pub const ENV_MODULE_PATH: &str = "COSIGN_PKCS11_MODULE_PATH";
/// `COSIGN_PKCS11_PIN`: the user PIN when the URI carries none.
pub const ENV_PIN: &str = "COSIGN_PKCS11_PIN";
/// `COSIGN_PKCS11_IGNORE_CERTIFICATE`: `1` skips looking for the key's certificate.
pub const ENV_IGNORE_CERTIFICATE: &str = "COSIGN_PKCS11_IGNORE_CERTIFICATE";

/// The path attributes of RFC 7512.
const PATH_ATTRS: &[&str] = &[
    "token",
    "manufacturer",
    "serial",
    "model",
    "library-manufacturer",
    "library-description",
    "library-version",
    "object",
    "type",
    "id",
    "slot-description",
    "slot-manufacturer",
    "slot-id",
];
/// The query attributes of RFC 7512.
const QUERY_ATTRS: &[&str] = &["pin-source", "pin-value", "module-name", "module-path"];

/// The longest PIN file read for `pin-source` (a PIN is a few dozen bytes at most).
const MAX_PIN_FILE: u64 = 4096;

/// Directories searched for `module-name` when `module-path` does not name a directory.
const MODULE_DIRS: &[&str] = &[
    "/usr/lib/x86_64-linux-gnu/pkcs11",
    "/usr/lib/aarch64-linux-gnu/pkcs11",
    "/usr/lib64/pkcs11",
    "/usr/lib/pkcs11",
    "/usr/local/lib/pkcs11",
    "/usr/lib/softhsm",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/usr/local/lib",
];

/// The `type` path attribute: the object class a URI names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    /// `type=public`: a public key.
    Public,
    /// `type=private`: a private key.
    Private,
    /// `type=cert`: a certificate.
    Cert,
    /// `type=secret-key`: a secret (symmetric) key.
    SecretKey,
    /// `type=data`: a data object.
    Data,
}

impl ObjectType {
    /// The name as written in a URI.
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Public => "public",
            ObjectType::Private => "private",
            ObjectType::Cert => "cert",
            ObjectType::SecretKey => "secret-key",
            ObjectType::Data => "data",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            ObjectType::Public,
            ObjectType::Private,
            ObjectType::Cert,
            ObjectType::SecretKey,
            ObjectType::Data,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// A parsed PKCS#11 URI. `Debug` and `Display` leave out `pin-value`.
#[derive(Clone, Default, PartialEq)]
pub struct Pkcs11Uri {
    token: Option<String>,
    manufacturer: Option<String>,
    serial: Option<String>,
    model: Option<String>,
    library_manufacturer: Option<String>,
    library_description: Option<String>,
    library_version: Option<(u8, u8)>,
    object: Option<String>,
    object_type: Option<ObjectType>,
    id: Option<Vec<u8>>,
    slot_description: Option<String>,
    slot_manufacturer: Option<String>,
    slot_id: Option<u64>,
    pin_source: Option<PathBuf>,
    pin_value: Option<PinValue>,
    module_name: Option<String>,
    module_path: Option<PathBuf>,
}

/// A PIN compared by value (for `PartialEq` on the URI) and never printed.
#[derive(Clone)]
struct PinValue(Pin);

impl PartialEq for PinValue {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_str() == other.0.as_str()
    }
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Uri")
            .field("uri", &self.to_string())
            .field("pin_value", &self.pin_value.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// Defaults for what a URI leaves out, as cosign takes them from its environment.
#[derive(Debug, Clone, Default)]
pub struct Fallbacks {
    /// The module when the URI has neither `module-path` nor `module-name`.
    pub module_path: Option<PathBuf>,
    /// The PIN when the URI has neither `pin-value` nor `pin-source`.
    pub pin: Option<Pin>,
    /// Do not look for a certificate next to the key.
    pub ignore_certificate: bool,
}

impl Fallbacks {
    /// cosign's variables: [`ENV_MODULE_PATH`], [`ENV_PIN`] (empty means unset) and
    /// [`ENV_IGNORE_CERTIFICATE`] (`1` sets `ignore_certificate`).
    pub fn from_cosign_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Fallbacks {
            module_path: var(ENV_MODULE_PATH).map(PathBuf::from),
            pin: var(ENV_PIN).map(Pin::new),
            ignore_certificate: var(ENV_IGNORE_CERTIFICATE).as_deref() == Some("1"),
        }
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidUri {
        reason: reason.into(),
    }
}

fn bad_attr(attribute: &str, reason: impl Into<String>) -> Error {
    Error::InvalidUriAttribute {
        attribute: printable(attribute),
        reason: reason.into(),
    }
}

/// An attribute name fit for an error message (it is not secret; it may be junk).
fn printable(s: &str) -> String {
    s.chars()
        .take(40)
        .map(|c| if c.is_ascii_graphic() { c } else { '?' })
        .collect()
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `pk11-res-avail` (RFC 7512 §2.3): reserved characters both components allow unencoded.
fn is_res_avail(b: u8) -> bool {
    matches!(
        b,
        b':' | b'[' | b']' | b'@' | b'!' | b'$' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'='
    )
}

/// `pk11-pchar` minus `pct-encoded`.
fn is_path_char(b: u8) -> bool {
    is_unreserved(b) || is_res_avail(b) || b == b'&'
}

/// `pk11-qchar` minus `pct-encoded`.
fn is_query_char(b: u8) -> bool {
    is_unreserved(b) || is_res_avail(b) || matches!(b, b'/' | b'?' | b'|')
}

/// Percent-decodes `value` of attribute `name`, allowing `allowed` characters unencoded.
fn decode(name: &str, value: &str, allowed: fn(u8) -> bool) -> Result<Vec<u8>, Error> {
    let secret = name == "pin-value";
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |k: usize| bytes.get(k).and_then(|c| (*c as char).to_digit(16));
            match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => {
                    return Err(bad_attr(
                        name,
                        "'%' must start a percent-encoding of two hex digits",
                    ));
                }
            }
            i += 3;
        } else if allowed(b) {
            out.push(b);
            i += 1;
        } else if secret {
            return Err(bad_attr(
                name,
                "the value holds a character that must be percent-encoded",
            ));
        } else if b == b' ' {
            return Err(bad_attr(name, "a space must be percent-encoded as %20"));
        } else if !b.is_ascii_graphic() {
            return Err(bad_attr(
                name,
                "control and non-ASCII characters must be percent-encoded",
            ));
        } else {
            return Err(bad_attr(
                name,
                format!("the character '{}' must be percent-encoded", b as char),
            ));
        }
    }
    Ok(out)
}

fn text(name: &str, bytes: Vec<u8>) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|_| bad_attr(name, "the value is not UTF-8 once decoded"))
}

/// Splits `name=value` and checks the name's characters (`pk11-x-attr-nm-char` and `-`).
fn split_attr<'a>(part: &'a str, component: &str) -> Result<(String, &'a str), Error> {
    if part.is_empty() {
        return Err(invalid(format!(
            "empty attribute in the {component} (two separators in a row, or one at the end)"
        )));
    }
    let Some((name, value)) = part.split_once('=') else {
        return Err(bad_attr(
            part,
            "has no value (attributes are written name=value)",
        ));
    };
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(bad_attr(name, "is not an attribute name"));
    }
    Ok((name.to_ascii_lowercase(), value))
}

fn set_once<T>(slot: &mut Option<T>, name: &str, value: T) -> Result<(), Error> {
    if slot.is_some() {
        return Err(bad_attr(name, "appears more than once"));
    }
    *slot = Some(value);
    Ok(())
}

/// `1*DIGIT`, as a `u64`.
fn decimal(name: &str, s: &str) -> Result<u64, Error> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_attr(name, "must be a decimal number"));
    }
    s.parse()
        .map_err(|_| bad_attr(name, "is too large a number"))
}

/// `1*DIGIT ["." 1*DIGIT]`, each part 0–255.
fn version(name: &str, s: &str) -> Result<(u8, u8), Error> {
    let (major, minor) = s.split_once('.').unwrap_or((s, "0"));
    let part = |p: &str| -> Result<u8, Error> {
        let n = decimal(name, p)
            .map_err(|_| bad_attr(name, "must be a version: MAJOR or MAJOR.MINOR"))?;
        u8::try_from(n).map_err(|_| bad_attr(name, "version parts are at most 255"))
    };
    Ok((part(major)?, part(minor)?))
}

/// The file a `pin-source` names: `file:` URIs (`file:/p`, `file:///p`, `file://localhost/p`)
/// and absolute paths.
fn pin_source_path(value: &str) -> Result<PathBuf, Error> {
    let path = if let Some(rest) = value.strip_prefix("file://") {
        let rest = rest.strip_prefix("localhost").unwrap_or(rest);
        if !rest.starts_with('/') {
            return Err(bad_attr(
                "pin-source",
                "a file: URI must name a local absolute path (file:///path)",
            ));
        }
        rest
    } else if let Some(rest) = value.strip_prefix("file:") {
        rest
    } else if value.starts_with('|') {
        return Err(bad_attr(
            "pin-source",
            "running a program for the PIN is not supported (use file:PATH)",
        ));
    } else {
        value
    };
    if !path.starts_with('/') {
        return Err(bad_attr(
            "pin-source",
            "must be a file: URI or an absolute path",
        ));
    }
    Ok(PathBuf::from(path))
}

impl std::str::FromStr for Pkcs11Uri {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Pkcs11Uri::parse(s)
    }
}

impl Pkcs11Uri {
    /// Parses a `pkcs11:` URI strictly (see the module documentation).
    pub fn parse(uri: &str) -> Result<Self, Error> {
        let scheme_len = SCHEME.len();
        if uri.len() < scheme_len
            || !uri.is_char_boundary(scheme_len)
            || !uri[..scheme_len].eq_ignore_ascii_case(SCHEME)
        {
            return Err(invalid("it does not start with pkcs11:"));
        }
        let rest = &uri[scheme_len..];
        if rest.contains('#') {
            return Err(invalid("'#' (a fragment) is not allowed; encode it as %23"));
        }
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut out = Pkcs11Uri::default();
        if !path.is_empty() {
            for part in path.split(';') {
                let (name, value) = split_attr(part, "path")?;
                out.path_attr(&name, value)?;
            }
        }
        if let Some(query) = query.filter(|q| !q.is_empty()) {
            for part in query.split('&') {
                if part.contains(';') {
                    return Err(invalid(
                        "query attributes are separated by '&', not ';' (encode a ';' in a value as %3B)",
                    ));
                }
                let (name, value) = split_attr(part, "query")?;
                out.query_attr(&name, value)?;
            }
        }
        if out.pin_value.is_some() && out.pin_source.is_some() {
            return Err(invalid(
                "pin-value and pin-source exclude each other: give one",
            ));
        }
        Ok(out)
    }

    fn path_attr(&mut self, name: &str, raw: &str) -> Result<(), Error> {
        if QUERY_ATTRS.contains(&name) {
            return Err(bad_attr(name, "is a query attribute: write it after '?'"));
        }
        let bytes = decode(name, raw, is_path_char)?;
        let t = |b| text(name, b);
        match name {
            "token" => set_once(&mut self.token, name, t(bytes)?),
            "manufacturer" => set_once(&mut self.manufacturer, name, t(bytes)?),
            "serial" => set_once(&mut self.serial, name, t(bytes)?),
            "model" => set_once(&mut self.model, name, t(bytes)?),
            "library-manufacturer" => set_once(&mut self.library_manufacturer, name, t(bytes)?),
            "library-description" => set_once(&mut self.library_description, name, t(bytes)?),
            "library-version" => {
                let v = version(name, &t(bytes)?)?;
                set_once(&mut self.library_version, name, v)
            }
            "object" => set_once(&mut self.object, name, t(bytes)?),
            "type" => {
                let value = t(bytes)?;
                let ty = ObjectType::parse(&value).ok_or_else(|| {
                    bad_attr(name, "must be public, private, cert, secret-key or data")
                })?;
                set_once(&mut self.object_type, name, ty)
            }
            "id" => set_once(&mut self.id, name, bytes),
            "slot-description" => set_once(&mut self.slot_description, name, t(bytes)?),
            "slot-manufacturer" => set_once(&mut self.slot_manufacturer, name, t(bytes)?),
            "slot-id" => {
                let n = decimal(name, &t(bytes)?)?;
                set_once(&mut self.slot_id, name, n)
            }
            _ if name.starts_with("x-") => Err(bad_attr(
                name,
                "vendor-specific path attributes are not supported",
            )),
            _ => Err(bad_attr(name, "is not a PKCS#11 URI path attribute")),
        }
    }

    fn query_attr(&mut self, name: &str, raw: &str) -> Result<(), Error> {
        if name.starts_with("x-") {
            // Vendor query attributes are hints for other consumers: checked, then ignored.
            decode(name, raw, is_query_char)?;
            return Ok(());
        }
        if PATH_ATTRS.contains(&name) {
            return Err(bad_attr(
                name,
                "is a path attribute: write it before '?', separated by ';'",
            ));
        }
        let bytes = decode(name, raw, is_query_char)?;
        match name {
            "pin-value" => {
                let pin = String::from_utf8(bytes)
                    .map_err(|_| bad_attr(name, "the value is not UTF-8 once decoded"))?;
                set_once(&mut self.pin_value, name, PinValue(Pin::new(pin)))
            }
            "pin-source" => {
                let path = pin_source_path(&text(name, bytes)?)?;
                set_once(&mut self.pin_source, name, path)
            }
            "module-name" => {
                let value = text(name, bytes)?;
                if value.is_empty() || value.contains('/') || value.contains('\0') {
                    return Err(bad_attr(
                        name,
                        "must be a bare module name (no directory); use module-path for a path",
                    ));
                }
                set_once(&mut self.module_name, name, value)
            }
            "module-path" => {
                let value = text(name, bytes)?;
                if !value.starts_with('/') || value.contains('\0') {
                    return Err(bad_attr(name, "must be an absolute path"));
                }
                set_once(&mut self.module_path, name, PathBuf::from(value))
            }
            _ => Err(bad_attr(name, "is not a PKCS#11 URI query attribute")),
        }
    }

    /// `token`: the token label.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
    /// `manufacturer`: the token's manufacturer.
    pub fn manufacturer(&self) -> Option<&str> {
        self.manufacturer.as_deref()
    }
    /// `serial`: the token's serial number.
    pub fn serial(&self) -> Option<&str> {
        self.serial.as_deref()
    }
    /// `model`: the token's model.
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }
    /// `library-manufacturer`: the module's manufacturer.
    pub fn library_manufacturer(&self) -> Option<&str> {
        self.library_manufacturer.as_deref()
    }
    /// `library-description`: the module's description.
    pub fn library_description(&self) -> Option<&str> {
        self.library_description.as_deref()
    }
    /// `library-version`: the module's version (major, minor; minor 0 when not written).
    pub fn library_version(&self) -> Option<(u8, u8)> {
        self.library_version
    }
    /// `object`: the object's label (`CKA_LABEL`).
    pub fn object(&self) -> Option<&str> {
        self.object.as_deref()
    }
    /// `type`: the object class.
    pub fn object_type(&self) -> Option<ObjectType> {
        self.object_type
    }
    /// `id`: the object's `CKA_ID`, percent-decoded to bytes.
    pub fn id(&self) -> Option<&[u8]> {
        self.id.as_deref()
    }
    /// `slot-description`: the slot's description.
    pub fn slot_description(&self) -> Option<&str> {
        self.slot_description.as_deref()
    }
    /// `slot-manufacturer`: the slot's manufacturer.
    pub fn slot_manufacturer(&self) -> Option<&str> {
        self.slot_manufacturer.as_deref()
    }
    /// `slot-id`: the slot's `CK_SLOT_ID`.
    pub fn slot_id(&self) -> Option<u64> {
        self.slot_id
    }
    /// `pin-source`: the file holding the PIN.
    pub fn pin_source(&self) -> Option<&Path> {
        self.pin_source.as_deref()
    }
    /// `pin-value`: the PIN written in the URI.
    pub fn pin_value(&self) -> Option<&Pin> {
        self.pin_value.as_ref().map(|p| &p.0)
    }
    /// `module-name`: the module's name (no directory, no extension needed).
    pub fn module_name(&self) -> Option<&str> {
        self.module_name.as_deref()
    }
    /// `module-path`: the module file (or a directory holding `module-name`).
    pub fn module_path(&self) -> Option<&Path> {
        self.module_path.as_deref()
    }

    /// The PIN the URI gives: `pin-value`, else the contents of the `pin-source` file (one
    /// trailing newline removed), else `None`.
    pub fn pin(&self) -> Result<Option<Pin>, Error> {
        if let Some(p) = &self.pin_value {
            return Ok(Some(p.0.clone()));
        }
        let Some(path) = &self.pin_source else {
            return Ok(None);
        };
        let io = |source| Error::Io {
            action: "read the PIN file (pin-source)",
            path: path.clone(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let mut buf = zeroize::Zeroizing::new(Vec::new());
        file.take(MAX_PIN_FILE + 1)
            .read_to_end(&mut buf)
            .map_err(io)?;
        if buf.len() as u64 > MAX_PIN_FILE {
            return Err(bad_attr(
                "pin-source",
                format!("the PIN file is larger than {MAX_PIN_FILE} bytes"),
            ));
        }
        let mut end = buf.len();
        if buf[..end].ends_with(b"\n") {
            end -= 1;
            if buf[..end].ends_with(b"\r") {
                end -= 1;
            }
        }
        let pin = std::str::from_utf8(&buf[..end])
            .map_err(|_| bad_attr("pin-source", "the PIN file is not UTF-8 text"))?;
        Ok(Some(Pin::new(pin)))
    }

    /// The module to load: `module-path` when it is a file; `module-name` looked up in
    /// `module-path` when that is a directory, else in the usual module directories (as
    /// `NAME`, `NAME.so` or `libNAME.so`); else `fallback` (e.g. `COSIGN_PKCS11_MODULE_PATH`),
    /// which must be absolute.
    pub fn module(&self, fallback: Option<&Path>) -> Result<PathBuf, Error> {
        if let Some(path) = &self.module_path {
            if path.is_dir() {
                let Some(name) = &self.module_name else {
                    return Err(bad_attr(
                        "module-path",
                        "names a directory: add module-name or name the module file",
                    ));
                };
                return find_module(name, &[path.as_path()]).ok_or_else(|| {
                    bad_attr("module-name", "no such module in the module-path directory")
                });
            }
            if !path.is_file() {
                return Err(bad_attr(
                    "module-path",
                    format!("{} does not exist or is not a file", path.display()),
                ));
            }
            return Ok(path.clone());
        }
        if let Some(name) = &self.module_name {
            let dirs: Vec<&Path> = MODULE_DIRS.iter().map(Path::new).collect();
            return find_module(name, &dirs).ok_or_else(|| {
                bad_attr(
                    "module-name",
                    "no such module in the usual directories: give module-path",
                )
            });
        }
        let Some(path) = fallback else {
            return Err(invalid(format!(
                "no PKCS#11 module: add module-path to the URI or set {ENV_MODULE_PATH}"
            )));
        };
        if !path.is_absolute() {
            return Err(invalid(format!(
                "{ENV_MODULE_PATH} must be the absolute path of the PKCS#11 module"
            )));
        }
        if !path.is_file() {
            return Err(invalid(format!(
                "the PKCS#11 module {} does not exist or is not a file",
                path.display()
            )));
        }
        Ok(path.to_path_buf())
    }

    /// Checks that the URI names one private key the way cosign requires: `object` or `id`,
    /// `token` or `slot-id`, and no `type` other than `private` or `public` (a key pair is
    /// meant either way).
    pub fn check_names_key(&self) -> Result<(), Error> {
        if self.object.is_none() && self.id.is_none() {
            return Err(invalid(
                "it names no key: add object=LABEL or id=%XX… to the path",
            ));
        }
        if self.token.is_none() && self.slot_id.is_none() {
            return Err(invalid(
                "it names no token: add token=LABEL or slot-id=N to the path",
            ));
        }
        match self.object_type {
            None | Some(ObjectType::Private) | Some(ObjectType::Public) => Ok(()),
            Some(other) => Err(bad_attr(
                "type",
                format!(
                    "type={} does not name a signing key (use private, or leave it out)",
                    other.as_str()
                ),
            )),
        }
    }

    /// A URI for a key: token and/or slot, label and/or id, module path (no PIN).
    pub fn for_key(
        token: Option<&str>,
        slot_id: Option<u64>,
        object: Option<&str>,
        id: Option<&[u8]>,
        module_path: Option<&Path>,
    ) -> Self {
        Pkcs11Uri {
            token: token.map(str::to_owned),
            slot_id,
            object: object.map(str::to_owned),
            id: id.map(<[u8]>::to_vec),
            module_path: module_path.map(Path::to_path_buf),
            ..Pkcs11Uri::default()
        }
    }

    /// The key part of the URI (`object=…;id=…`) for messages.
    pub(crate) fn key_name(&self) -> String {
        let mut out = String::new();
        if let Some(o) = &self.object {
            out.push_str("object=");
            encode_into(&mut out, o.as_bytes(), is_path_char);
        }
        if let Some(id) = &self.id {
            if !out.is_empty() {
                out.push(';');
            }
            out.push_str("id=");
            encode_into(&mut out, id, |_| false);
        }
        out
    }
}

fn find_module(name: &str, dirs: &[&Path]) -> Option<PathBuf> {
    let candidates = [
        name.to_owned(),
        format!("{name}.so"),
        format!("lib{name}.so"),
    ];
    dirs.iter()
        .flat_map(|d| candidates.iter().map(move |c| d.join(c)))
        .find(|p| p.is_file())
}

/// Appends `bytes` percent-encoded, leaving `keep` characters as they are.
fn encode_into(out: &mut String, bytes: &[u8], keep: fn(u8) -> bool) {
    for &b in bytes {
        if keep(b) && b != b'=' && b != b'&' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
}

/// The URI in canonical form (path attributes in RFC order, `;` and `&` separators, values
/// percent-encoded), without `pin-value`.
impl fmt::Display for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut path: Vec<String> = Vec::new();
        let mut attr = |name: &str, value: &[u8], keep: fn(u8) -> bool| {
            let mut s = format!("{name}=");
            encode_into(&mut s, value, keep);
            path.push(s);
        };
        let text_attrs: [(&str, &Option<String>); 8] = [
            ("token", &self.token),
            ("manufacturer", &self.manufacturer),
            ("serial", &self.serial),
            ("model", &self.model),
            ("library-manufacturer", &self.library_manufacturer),
            ("library-description", &self.library_description),
            ("slot-description", &self.slot_description),
            ("slot-manufacturer", &self.slot_manufacturer),
        ];
        for (name, value) in text_attrs {
            if let Some(v) = value {
                attr(name, v.as_bytes(), is_path_char);
            }
        }
        if let Some((major, minor)) = self.library_version {
            path.push(format!("library-version={major}.{minor}"));
        }
        if let Some(s) = self.slot_id {
            path.push(format!("slot-id={s}"));
        }
        if let Some(o) = &self.object {
            let mut s = "object=".to_owned();
            encode_into(&mut s, o.as_bytes(), is_path_char);
            path.push(s);
        }
        if let Some(t) = self.object_type {
            path.push(format!("type={}", t.as_str()));
        }
        if let Some(id) = &self.id {
            let mut s = "id=".to_owned();
            encode_into(&mut s, id, |_| false);
            path.push(s);
        }
        let mut query: Vec<String> = Vec::new();
        if let Some(p) = &self.module_path {
            let mut s = "module-path=".to_owned();
            encode_into(&mut s, p.as_os_str().as_encoded_bytes(), is_query_char);
            query.push(s);
        }
        if let Some(n) = &self.module_name {
            let mut s = "module-name=".to_owned();
            encode_into(&mut s, n.as_bytes(), is_query_char);
            query.push(s);
        }
        if let Some(p) = &self.pin_source {
            let mut s = "pin-source=file:".to_owned();
            encode_into(&mut s, p.as_os_str().as_encoded_bytes(), is_query_char);
            query.push(s);
        }
        write!(f, "{SCHEME}{}", path.join(";"))?;
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn err(uri: &str) -> String {
        let e = Pkcs11Uri::parse(uri).unwrap_err();
        let s = e.to_string();
        assert!(!s.contains('\n'), "{s}");
        s
    }

    #[test]
    fn cosign_style_uri() {
        let u = Pkcs11Uri::parse(
            "pkcs11:token=My%20Token;slot-id=42;id=%01%ab%FF;object=release%20key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=12%2634",
        )
        .unwrap();
        assert_eq!(u.token(), Some("My Token"));
        assert_eq!(u.slot_id(), Some(42));
        assert_eq!(u.id(), Some(&[0x01, 0xab, 0xff][..]));
        assert_eq!(u.object(), Some("release key"));
        assert_eq!(
            u.module_path(),
            Some(Path::new("/usr/lib/softhsm/libsofthsm2.so"))
        );
        assert_eq!(u.pin_value().unwrap().as_str(), "12&34");
        u.check_names_key().unwrap();
        // Debug and Display never show the PIN.
        for shown in [format!("{u:?}"), format!("{u:#?}"), u.to_string()] {
            assert!(
                !shown.contains("12&34") && !shown.contains("12%2634"),
                "{shown}"
            );
        }
        assert!(format!("{u:?}").contains("redacted"));
        // Display is canonical and re-parses to the same URI (less the PIN).
        let again = Pkcs11Uri::parse(&u.to_string()).unwrap();
        assert_eq!(again.token(), u.token());
        assert_eq!(again.id(), u.id());
        assert_eq!(again.object(), u.object());
        assert_eq!(again.module_path(), u.module_path());
        assert!(again.pin_value().is_none());
    }

    #[test]
    fn every_rfc_attribute() {
        let u = Pkcs11Uri::parse(
            "PKCS11:Token=t;manufacturer=SoftHSM%20project;serial=abc;model=SoftHSM%20v2;library-manufacturer=m;library-description=d;library-version=2.6;object=o;type=private;id=%00;slot-description=sd;slot-manufacturer=sm;slot-id=0?pin-source=file:///run/pin&module-name=softhsm2&x-vendor=anything",
        )
        .unwrap();
        assert_eq!(u.token(), Some("t"));
        assert_eq!(u.manufacturer(), Some("SoftHSM project"));
        assert_eq!(u.serial(), Some("abc"));
        assert_eq!(u.model(), Some("SoftHSM v2"));
        assert_eq!(u.library_manufacturer(), Some("m"));
        assert_eq!(u.library_description(), Some("d"));
        assert_eq!(u.library_version(), Some((2, 6)));
        assert_eq!(u.object(), Some("o"));
        assert_eq!(u.object_type(), Some(ObjectType::Private));
        assert_eq!(u.id(), Some(&[0u8][..]));
        assert_eq!(u.slot_description(), Some("sd"));
        assert_eq!(u.slot_manufacturer(), Some("sm"));
        assert_eq!(u.slot_id(), Some(0));
        assert_eq!(u.pin_source(), Some(Path::new("/run/pin")));
        assert_eq!(u.module_name(), Some("softhsm2"));
        assert_eq!(Pkcs11Uri::parse(&u.to_string()).unwrap(), u);
        assert_eq!(
            Pkcs11Uri::parse("pkcs11:library-version=3")
                .unwrap()
                .library_version(),
            Some((3, 0))
        );
    }

    #[test]
    fn characters_the_grammar_allows() {
        // '&' is allowed raw in the path, '/', '?' and '|' in the query; '+' is a plus.
        let u = Pkcs11Uri::parse(
            "pkcs11:object=a&b+c:[x]@!$'()*,=d;token=~-._?module-path=/opt/a+b/m?.so|",
        )
        .unwrap();
        assert_eq!(u.object(), Some("a&b+c:[x]@!$'()*,=d"));
        assert_eq!(u.token(), Some("~-._"));
        assert_eq!(u.module_path(), Some(Path::new("/opt/a+b/m?.so|")));
        // Empty URI parts are fine for the grammar.
        assert_eq!(Pkcs11Uri::parse("pkcs11:").unwrap(), Pkcs11Uri::default());
        assert_eq!(Pkcs11Uri::parse("pkcs11:?").unwrap(), Pkcs11Uri::default());
        // An id of arbitrary bytes, percent-encoded upper or lower case.
        let u = Pkcs11Uri::parse("pkcs11:id=%De%aD%be%EF%00%7e").unwrap();
        assert_eq!(u.id(), Some(&[0xde, 0xad, 0xbe, 0xef, 0x00, 0x7e][..]));
        // An unencoded id of printable characters is bytes too.
        assert_eq!(
            Pkcs11Uri::parse("pkcs11:id=AB").unwrap().id(),
            Some(&b"AB"[..])
        );
    }

    #[test]
    fn bad_uris_name_the_attribute() {
        let cases: &[(&str, &str)] = &[
            ("pkcs12:token=t", "does not start with pkcs11:"),
            ("token=t", "does not start with pkcs11:"),
            (
                "pkcs11:token=a b",
                "attribute token: a space must be percent-encoded as %20",
            ),
            (
                "pkcs11:object=a%2",
                "attribute object: '%' must start a percent-encoding",
            ),
            ("pkcs11:id=%zz", "attribute id: '%' must start"),
            (
                "pkcs11:object=a?module-path=/x;pin-value=1",
                "separated by '&', not ';'",
            ),
            (
                "pkcs11:token=a;token=b",
                "attribute token: appears more than once",
            ),
            (
                "pkcs11:object=a;OBJECT=b",
                "attribute object: appears more than once",
            ),
            ("pkcs11:token=a;;object=b", "empty attribute in the path"),
            ("pkcs11:token=a;", "empty attribute in the path"),
            ("pkcs11:token", "attribute token: has no value"),
            (
                "pkcs11:colour=red",
                "attribute colour: is not a PKCS#11 URI path attribute",
            ),
            (
                "pkcs11:x-foo=1",
                "attribute x-foo: vendor-specific path attributes",
            ),
            (
                "pkcs11:token=t?colour=red",
                "attribute colour: is not a PKCS#11 URI query",
            ),
            (
                "pkcs11:slot-id=x1",
                "attribute slot-id: must be a decimal number",
            ),
            (
                "pkcs11:slot-id=",
                "attribute slot-id: must be a decimal number",
            ),
            (
                "pkcs11:slot-id=99999999999999999999999",
                "attribute slot-id: is too large",
            ),
            (
                "pkcs11:library-version=1.x",
                "attribute library-version: must be a version",
            ),
            (
                "pkcs11:library-version=1.256",
                "attribute library-version: version parts",
            ),
            ("pkcs11:type=key", "attribute type: must be public, private"),
            (
                "pkcs11:token=t?module-path=relative/lib.so",
                "attribute module-path: must be an absolute path",
            ),
            (
                "pkcs11:token=t?module-name=/usr/lib/x.so",
                "attribute module-name: must be a bare module name",
            ),
            (
                "pkcs11:module-path=/x",
                "attribute module-path: is a query attribute",
            ),
            ("pkcs11:?token=t", "attribute token: is a path attribute"),
            (
                "pkcs11:object=%ff%fe",
                "attribute object: the value is not UTF-8",
            ),
            ("pkcs11:token=t#frag", "fragment"),
            (
                "pkcs11:token=t?pin-source=|cat%20/pin",
                "attribute pin-source: running a program",
            ),
            (
                "pkcs11:token=t?pin-source=pin.txt",
                "attribute pin-source: must be a file: URI",
            ),
            (
                "pkcs11:token=t?pin-source=file://host/pin",
                "attribute pin-source: a file: URI must name",
            ),
            (
                "pkcs11:token=t?pin-value=1&pin-source=/p",
                "pin-value and pin-source exclude each other",
            ),
            (
                "pkcs11:token=t?pin-value=1&pin-value=2",
                "attribute pin-value: appears more than once",
            ),
            (
                "pkcs11:to ken=t",
                "attribute to?ken: is not an attribute name",
            ),
            (
                "pkcs11:token=t?module-path=/a%00b",
                "attribute module-path: must be an absolute path",
            ),
        ];
        for (uri, want) in cases {
            let got = err(uri);
            assert!(
                got.starts_with("invalid PKCS#11 URI: ") && got.contains(want),
                "{uri}: {got}"
            );
        }
    }

    #[test]
    fn errors_never_quote_the_pin() {
        for uri in [
            "pkcs11:token=t?pin-value=se cret",
            "pkcs11:token=t?pin-value=secret%g1",
            "pkcs11:token=t?pin-value=se;cret",
            "pkcs11:token=t?pin-value=secret#x",
        ] {
            let got = err(uri);
            assert!(!got.contains("secret") && !got.contains("cret"), "{got}");
        }
    }

    #[test]
    fn names_a_key_as_cosign_requires() {
        let check = |uri: &str| {
            Pkcs11Uri::parse(uri)
                .unwrap()
                .check_names_key()
                .map_err(|e| e.to_string())
        };
        assert!(check("pkcs11:token=t;object=k").is_ok());
        assert!(check("pkcs11:slot-id=3;id=%01").is_ok());
        assert!(check("pkcs11:token=t;id=%01;type=private").is_ok());
        assert!(
            check("pkcs11:token=t")
                .unwrap_err()
                .contains("names no key")
        );
        assert!(
            check("pkcs11:object=k")
                .unwrap_err()
                .contains("names no token")
        );
        assert!(
            check("pkcs11:token=t;object=k;type=cert")
                .unwrap_err()
                .contains("attribute type: type=cert does not name a signing key")
        );
    }

    #[test]
    fn pin_sources() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pin");
        std::fs::write(&file, "1234\r\n").unwrap();
        for form in [
            file.display().to_string(),
            format!("file:{}", file.display()),
            format!("file://{}", file.display()),
            format!("file://localhost{}", file.display()),
        ] {
            let u =
                Pkcs11Uri::parse(&format!("pkcs11:token=t;object=k?pin-source={form}")).unwrap();
            assert_eq!(u.pin().unwrap().unwrap().as_str(), "1234", "{form}");
        }
        // Only one newline is dropped; spaces are part of the PIN.
        std::fs::write(&file, " 12 34 \n\n").unwrap();
        let u = Pkcs11Uri::parse(&format!("pkcs11:token=t?pin-source={}", file.display())).unwrap();
        assert_eq!(u.pin().unwrap().unwrap().as_str(), " 12 34 \n");
        // pin-value wins over nothing; no PIN at all is None.
        let u = Pkcs11Uri::parse("pkcs11:token=t?pin-value=%31%32").unwrap();
        assert_eq!(u.pin().unwrap().unwrap().as_str(), "12");
        assert!(
            Pkcs11Uri::parse("pkcs11:token=t")
                .unwrap()
                .pin()
                .unwrap()
                .is_none()
        );
        // A missing file names the path, a huge one is refused.
        let missing = dir.path().join("nope");
        let u =
            Pkcs11Uri::parse(&format!("pkcs11:token=t?pin-source={}", missing.display())).unwrap();
        let e = u.pin().unwrap_err().to_string();
        assert!(
            e.contains("read the PIN file (pin-source)") && e.contains("nope"),
            "{e}"
        );
        std::fs::write(&file, vec![b'1'; 5000]).unwrap();
        let u = Pkcs11Uri::parse(&format!("pkcs11:token=t?pin-source={}", file.display())).unwrap();
        assert!(u.pin().unwrap_err().to_string().contains("larger than"));
    }

    #[test]
    fn module_resolution() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("libfake.so");
        std::fs::write(&lib, b"not really a module").unwrap();
        let d = dir.path().display();
        let module = |uri: &str, fallback: Option<&Path>| {
            Pkcs11Uri::parse(uri)
                .unwrap()
                .module(fallback)
                .map_err(|e| e.to_string())
        };
        assert_eq!(
            module(&format!("pkcs11:?module-path={d}/libfake.so"), None).unwrap(),
            lib
        );
        assert_eq!(
            module(&format!("pkcs11:?module-path={d}&module-name=fake"), None).unwrap(),
            lib
        );
        assert!(
            module(&format!("pkcs11:?module-path={d}"), None)
                .unwrap_err()
                .contains("names a directory")
        );
        assert!(
            module(&format!("pkcs11:?module-path={d}/nope.so"), None)
                .unwrap_err()
                .contains("attribute module-path")
        );
        assert_eq!(module("pkcs11:", Some(&lib)).unwrap(), lib);
        assert!(
            module("pkcs11:", None)
                .unwrap_err()
                .contains(ENV_MODULE_PATH)
        );
        assert!(
            module("pkcs11:", Some(Path::new("rel/lib.so")))
                .unwrap_err()
                .contains("absolute")
        );
        // The URI wins over the fallback.
        assert_eq!(
            module(
                &format!("pkcs11:?module-path={d}/libfake.so"),
                Some(Path::new("/x"))
            )
            .unwrap(),
            lib
        );
        assert!(
            module("pkcs11:?module-name=surely-no-such-module-4711", None)
                .unwrap_err()
                .contains("attribute module-name")
        );
    }
}

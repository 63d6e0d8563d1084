//! A SoftHSM2 token in a temporary directory: the configuration file that points SoftHSM2 at
//! it (`SOFTHSM2_CONF`) and a token initialised with `softhsm2-util` (package softhsm2).
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` when the module loads, so the caller passes [`Token::conf`]
//! to a child process (or re-runs itself with it); setting it in-process would need `unsafe`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The PKCS#11 module of Debian's softhsm2 package.
pub const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// An initialised token.
#[derive(Debug, Clone)]
pub struct Token {
    /// The `SOFTHSM2_CONF` file.
    pub conf: PathBuf,
    /// The token label.
    pub label: String,
    /// The user PIN.
    pub pin: String,
}

impl Token {
    /// Writes `dir/softhsm2.conf` (token directory `dir/tokens`) and initialises a token
    /// `label` with user PIN `pin` in the first free slot. Panics with the tool's message if
    /// that fails (test support).
    pub fn init(dir: &Path, label: &str, pin: &str) -> Token {
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).expect("create the token directory");
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )
        .expect("write softhsm2.conf");
        let out = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label, "--pin", pin])
            .args(["--so-pin", "so-pin-4411"])
            .env("SOFTHSM2_CONF", &conf)
            .output()
            .expect("softhsm2-util (package softhsm2) must be installed");
        assert!(
            out.status.success(),
            "softhsm2-util --init-token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Token {
            conf,
            label: label.to_owned(),
            pin: pin.to_owned(),
        }
    }
}

/// Stores `der` as a public X.509 certificate object with `id` and `label` (and the
/// certificate's subject) on the token labelled `token`, as `pkcs11-tool --write-object`
/// would. Needs `SOFTHSM2_CONF` set for this process when the module loads. Test input only:
/// panics on any failure.
pub fn store_certificate(token: &str, pin: &str, der: &[u8], id: &[u8], label: &str) {
    use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
    use cryptoki::object::{Attribute, CertificateType, ObjectClass};
    use cryptoki::session::UserType;
    use cryptoki::types::AuthPin;
    let ctx = Pkcs11::new(MODULE).expect("load SoftHSM2");
    // Already initialised in this process is fine.
    let _ = ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK));
    let slot = ctx
        .get_slots_with_token()
        .expect("slots")
        .into_iter()
        .find(|s| {
            ctx.get_token_info(*s)
                .expect("token info")
                .label()
                .trim_end()
                == token
        })
        .expect("the token");
    let session = ctx.open_rw_session(slot).expect("session");
    session
        .login(UserType::User, Some(&AuthPin::from(pin)))
        .expect("login");
    session
        .create_object(&[
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Id(id.to_vec()),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Subject(certificate_subject(der)),
            Attribute::Value(der.to_vec()),
        ])
        .expect("create the certificate object");
    // Dropping the session logs the application out again.
}

/// The subject `Name` (DER) of a DER certificate — the sixth element of the TBSCertificate,
/// after [0] version, serial, signature, issuer and validity — for the `CKA_SUBJECT` of a
/// certificate object stored on a test token. Test input only: panics on malformed DER.
pub fn certificate_subject(der: &[u8]) -> Vec<u8> {
    fn tlv(b: &[u8]) -> (usize, usize) {
        let first = b[1] as usize;
        if first < 0x80 {
            (2, first)
        } else {
            let n = first & 0x7f;
            let len = b[2..2 + n]
                .iter()
                .fold(0usize, |a, x| (a << 8) | *x as usize);
            (2 + n, len)
        }
    }
    let (h, _) = tlv(der);
    let tbs = &der[h..];
    let (h, len) = tlv(tbs);
    let mut rest = &tbs[h..h + len];
    let mut fields = Vec::new();
    while !rest.is_empty() {
        let (h, len) = tlv(rest);
        fields.push(&rest[..h + len]);
        rest = &rest[h + len..];
    }
    fields[5].to_vec()
}

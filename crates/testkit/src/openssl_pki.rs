//! Certificate hierarchies made with the real `openssl` command-line tool, for "bring your
//! own PKI" tests (cosign `--cert`/`--cert-chain` signing, `--certificate-chain` verification).
//!
//! [`Hierarchy::seed002`] runs exactly the "Alternative OpenSSL commands" of the linuxera.org
//! post "Signing and verifying container images with Cosign and your own PKI" (seed 002): a
//! self-signed root, an intermediate (keyCertSign, `CA:TRUE,pathlen:2`) signed by it with
//! `openssl x509 -req … -copy_extensions copy`, and the Team A code-signing leaf (no extended
//! key usage, SAN `email:team-a@linuxera.org`, Fulcio issuer OIDs `1.3.6.1.4.1.57264.1.1` as raw
//! bytes and `1.3.6.1.4.1.57264.1.8` as a DER UTF8String, both `https://linuxera.org`).
//!
//! Around it: leaf variants with one defect or difference each ([`LeafVariant`]), an impostor
//! hierarchy with byte-identical names but other keys ([`Hierarchy::impostor`]), and chains that
//! break CA rules ([`Hierarchy::bad_chain`]).
//!
//! Every command runs in the hierarchy's directory with relative file names, as the seed's do.
//! A failing command panics with its command line and openssl's stderr. OpenSSL 3.0 or newer is
//! needed (`-noenc`, `-copy_extensions`, `-addext`, `openssl ca -rand_serial`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Key algorithm of every key in a hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAlg {
    /// RSA 4096 (`-newkey rsa:4096`), the seed's choice.
    Rsa4096,
    /// ECDSA P-256 (`-newkey ec -pkeyopt ec_paramgen_curve:P-256`), what cosign keys are.
    EcP256,
}

impl KeyAlg {
    /// The `openssl req` arguments that make a new key of this algorithm.
    fn newkey_args(self) -> &'static [&'static str] {
        match self {
            KeyAlg::Rsa4096 => &["-newkey", "rsa:4096"],
            KeyAlg::EcP256 => &["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        }
    }
}

/// Subject of the root CA (seed 002).
pub const ROOT_SUBJECT: &str =
    "/C=ES/L=Valencia/O=IT/OU=Security/CN=Linuxera Root Certificate Authority";
/// Subject of the intermediate CA (seed 002).
pub const INTERMEDIATE_SUBJECT: &str =
    "/C=ES/L=Valencia/O=IT/OU=Security/CN=Linuxera Intermediate Certificate Authority";
/// Subject of the Team A leaf (seed 002).
pub const LEAF_SUBJECT: &str = "/C=ES/L=Valencia/O=IT/OU=Security/CN=Team A Cosign Certificate";
/// The leaf's SAN email, the identity `cosign verify --certificate-identity` expects.
pub const EMAIL: &str = "team-a@linuxera.org";
/// The OIDC issuer written into the Fulcio issuer extensions.
pub const ISSUER: &str = "https://linuxera.org";
/// The Fulcio "issuer" OID whose value is the raw issuer bytes (what cosign's legacy path reads).
pub const OID_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
/// The Fulcio "issuer (v2)" OID whose value is a DER UTF8String.
pub const OID_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// The URI SAN of [`LeafVariant::UriSan`].
pub const URI_SAN: &str = "https://ci.example/workflow";

/// A root → intermediate → leaf hierarchy on disk. All paths are absolute.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    /// Directory holding every file of this hierarchy.
    pub dir: PathBuf,
    /// Key algorithm of all its keys.
    pub alg: KeyAlg,
    /// `root.pem`: the self-signed root CA certificate (what a verifier trusts).
    pub root: PathBuf,
    /// `root-key.pem`: the root's unencrypted PKCS#8 private key.
    pub root_key: PathBuf,
    /// `intermediate.pem`: the intermediate CA certificate, signed by the root.
    pub intermediate: PathBuf,
    /// `intermediate-key.pem`: the intermediate's private key.
    pub intermediate_key: PathBuf,
    /// `leaf.pem`: the Team A code-signing certificate, signed by the intermediate.
    pub leaf: PathBuf,
    /// `leaf-key.pem`: the leaf's unencrypted PKCS#8 private key (PEM `PRIVATE KEY`).
    pub leaf_key: PathBuf,
    /// `bundle.pem`: intermediate then root (the seed's `ca-bundle.pem`, for `--cert-chain`).
    pub bundle: PathBuf,
    /// The leaf's SAN email, [`EMAIL`].
    pub email: String,
    /// The leaf's OIDC issuer, [`ISSUER`].
    pub issuer: String,
}

/// Leaves issued by a hierarchy's intermediate (same subject, key algorithm and issuer as the
/// seed's Team A leaf). Made by [`Hierarchy::leaf_variant`].
///
/// [`LeafVariant::CodeSigningEku`] is the seed's leaf plus `extendedKeyUsage = codeSigning`
/// (what Fulcio issues; acceptable to Go's x509 as cosign uses it *and* to webpki-based
/// verifiers such as sigstore-rs, which require the EKU). Every other variant except
/// [`LeafVariant::NoEku`] and [`LeafVariant::ServerAuthOnly`] is `CodeSigningEku` with exactly
/// one change, so a verifier of either kind rejects it for that change alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LeafVariant {
    /// Exactly the seed's leaf: no extended key usage extension (Go's x509 then allows any
    /// usage, so cosign accepts it; webpki-based verifiers such as sigstore-rs reject it).
    NoEku,
    /// The seed's leaf plus extended key usage `codeSigning`: the "good" leaf for every verifier.
    CodeSigningEku,
    /// The seed's leaf plus extended key usage `serverAuth` only: not usable for code signing.
    ServerAuthOnly,
    /// Valid 2020-01-01 to 2021-01-01 only (issued with `openssl ca -startdate/-enddate`).
    Expired,
    /// Valid from 2090-01-01 to 2091-01-01 only (issued with `openssl ca -startdate/-enddate`).
    NotYetValid,
    /// Only the raw-bytes issuer extension `1.3.6.1.4.1.57264.1.1`.
    OnlyIssuerOid11,
    /// Only the DER UTF8String issuer extension `1.3.6.1.4.1.57264.1.8`.
    OnlyIssuerOid18,
    /// `.1.1` = `https://a.example`, `.1.8` = `https://b.example`.
    IssuerOidsDisagree,
    /// SAN `URI:https://ci.example/workflow` instead of the email.
    UriSan,
    /// `keyUsage = critical,keyEncipherment` (no digitalSignature).
    NoDigitalSignatureKu,
    /// `basicConstraints = critical,CA:TRUE` on a certificate used as a leaf.
    IsCa,
}

impl LeafVariant {
    /// Every variant.
    pub const ALL: [LeafVariant; 11] = [
        LeafVariant::NoEku,
        LeafVariant::CodeSigningEku,
        LeafVariant::ServerAuthOnly,
        LeafVariant::Expired,
        LeafVariant::NotYetValid,
        LeafVariant::OnlyIssuerOid11,
        LeafVariant::OnlyIssuerOid18,
        LeafVariant::IssuerOidsDisagree,
        LeafVariant::UriSan,
        LeafVariant::NoDigitalSignatureKu,
        LeafVariant::IsCa,
    ];

    /// File name stem: `leaf-<name>.pem`, `leaf-<name>-key.pem`.
    pub fn name(self) -> &'static str {
        match self {
            LeafVariant::NoEku => "no-eku",
            LeafVariant::CodeSigningEku => "codesigning-eku",
            LeafVariant::ServerAuthOnly => "serverauth-only",
            LeafVariant::Expired => "expired",
            LeafVariant::NotYetValid => "not-yet-valid",
            LeafVariant::OnlyIssuerOid11 => "only-oid-1-1",
            LeafVariant::OnlyIssuerOid18 => "only-oid-1-8",
            LeafVariant::IssuerOidsDisagree => "oids-disagree",
            LeafVariant::UriSan => "uri-san",
            LeafVariant::NoDigitalSignatureKu => "no-digitalsignature-ku",
            LeafVariant::IsCa => "is-ca",
        }
    }
}

/// Chains from a hierarchy's root that break CA rules. Made by [`Hierarchy::bad_chain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BadChain {
    /// The root signs an "intermediate" with `basicConstraints = critical,CA:FALSE` (but
    /// keyUsage keyCertSign), which issues a leaf like [`LeafVariant::CodeSigningEku`].
    IntermediateWithoutCaBit,
    /// The root signs an intermediate with `CA:TRUE,pathlen:0`, which signs a second
    /// intermediate (`CA:TRUE`), which issues a leaf like [`LeafVariant::CodeSigningEku`]:
    /// path length exceeded.
    PathLenExceeded,
}

/// A leaf with its chain up to (not including) a hierarchy's root. Paths are absolute.
#[derive(Debug, Clone)]
pub struct Chain {
    /// The leaf certificate.
    pub leaf: PathBuf,
    /// The leaf's private key.
    pub leaf_key: PathBuf,
    /// Intermediates, the leaf's issuer first.
    pub intermediates: Vec<PathBuf>,
    /// Intermediates (issuer first) then the root, for `--cert-chain`.
    pub bundle: PathBuf,
    /// Intermediates only (issuer first), for `openssl verify -untrusted`.
    pub untrusted: PathBuf,
}

/// Uppercase hex, as `xxd -p -u` prints.
fn hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        write!(s, "{b:02X}").unwrap();
    }
    s
}

/// `1.3.6.1.4.1.57264.1.1 = DER:<hex>`: the raw bytes of `issuer` as the extension value.
fn oid11_ext(issuer: &str) -> String {
    format!("{OID_ISSUER_V1} = DER:{}", hex_upper(issuer.as_bytes()))
}

/// `1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:<issuer>`.
fn oid18_ext(issuer: &str) -> String {
    format!("{OID_ISSUER_V2} = ASN1:UTF8String:{issuer}")
}

/// Runs `openssl ARGS` in `dir`; panics with the command line and stderr on failure.
pub fn openssl(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("testkit: cannot run openssl (is it installed?): {e}"));
    assert!(
        out.status.success(),
        "testkit: `openssl {}` in {} failed with {:?}:\n{}",
        args.join(" "),
        dir.display(),
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs `openssl ARGS` in `dir` without judging the outcome.
pub fn openssl_unchecked(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("testkit: cannot run openssl (is it installed?): {e}"))
}

/// `openssl x509 -req` signing `csr` with `ca`/`ca_key`, copying the request's extensions
/// (the seed's command).
fn sign_copy(dir: &Path, csr: &str, ca: &str, ca_key: &str, out: &str) {
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca,
            "-CAkey",
            ca_key,
            "-copy_extensions",
            "copy",
            "-days",
            "9999",
            "-sha256",
            "-out",
            out,
        ],
    );
}

/// `openssl req -noenc -newkey … -keyout KEY -addext … -subj SUBJ -out CSR`.
fn make_csr(dir: &Path, alg: KeyAlg, key: &str, exts: &[String], subj: &str, csr: &str) {
    let mut args: Vec<&str> = vec!["req", "-noenc"];
    args.extend_from_slice(alg.newkey_args());
    args.extend_from_slice(&["-keyout", key]);
    for e in exts {
        args.extend_from_slice(&["-addext", e]);
    }
    args.extend_from_slice(&["-subj", subj, "-out", csr]);
    openssl(dir, &args);
}

/// The seed's leaf extensions, parameterised.
struct LeafExts<'a> {
    basic_constraints: &'a str,
    key_usage: &'a str,
    san: String,
    eku: Option<&'a str>,
    oid11: Option<&'a str>,
    oid18: Option<&'a str>,
}

impl LeafExts<'_> {
    fn seed() -> Self {
        LeafExts {
            basic_constraints: "critical,CA:FALSE",
            key_usage: "critical,digitalSignature",
            san: format!("email:{EMAIL}"),
            eku: None,
            oid11: Some(ISSUER),
            oid18: Some(ISSUER),
        }
    }

    /// `-addext` values in the seed's order (EKU, when present, after keyUsage).
    fn to_addext(&self) -> Vec<String> {
        let mut v = vec![
            "subjectKeyIdentifier = hash".to_string(),
            format!("basicConstraints = {}", self.basic_constraints),
            format!("keyUsage = {}", self.key_usage),
        ];
        if let Some(eku) = self.eku {
            v.push(format!("extendedKeyUsage = {eku}"));
        }
        v.push(format!("subjectAltName = {}", self.san));
        if let Some(i) = self.oid11 {
            v.push(oid11_ext(i));
        }
        if let Some(i) = self.oid18 {
            v.push(oid18_ext(i));
        }
        v
    }
}

/// Absolute form of `dir` (created if missing).
fn prepare_dir(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir)
        .unwrap_or_else(|e| panic!("testkit: cannot create {}: {e}", dir.display()));
    dir.canonicalize()
        .unwrap_or_else(|e| panic!("testkit: cannot canonicalize {}: {e}", dir.display()))
}

/// Concatenates PEM files into `out` (each ending in a newline).
fn concat(dir: &Path, parts: &[&Path], out: &str) -> PathBuf {
    let mut text = String::new();
    for p in parts {
        let s = std::fs::read_to_string(p)
            .unwrap_or_else(|e| panic!("testkit: read {}: {e}", p.display()));
        text.push_str(&s);
        if !s.ends_with('\n') {
            text.push('\n');
        }
    }
    let path = dir.join(out);
    std::fs::write(&path, text)
        .unwrap_or_else(|e| panic!("testkit: write {}: {e}", path.display()));
    path
}

impl Hierarchy {
    /// Runs the seed's OpenSSL commands in `dir` (created if missing) with `alg` keys
    /// ([`KeyAlg::Rsa4096`] is the seed's exact command set; [`KeyAlg::EcP256`] only swaps
    /// `-newkey rsa:4096` for `-newkey ec -pkeyopt ec_paramgen_curve:P-256`).
    ///
    /// Writes `root.pem`, `root-key.pem`, `intermediate.csr`, `intermediate.pem`,
    /// `intermediate-key.pem`, `leaf.csr`, `leaf.pem`, `leaf-key.pem` and `bundle.pem`.
    pub fn seed002(dir: &Path, alg: KeyAlg) -> Hierarchy {
        let dir = prepare_dir(dir);
        Self::build(&dir, alg)
    }

    /// The seed's three steps in `dir`.
    fn build(dir: &Path, alg: KeyAlg) -> Hierarchy {
        // 1. Root CA.
        let mut args: Vec<&str> = vec!["req", "-x509"];
        args.extend_from_slice(alg.newkey_args());
        args.extend_from_slice(&[
            "-keyout",
            "root-key.pem",
            "-sha256",
            "-noenc",
            "-days",
            "9999",
            "-subj",
            ROOT_SUBJECT,
            "-out",
            "root.pem",
        ]);
        openssl(dir, &args);

        // 2. Intermediate CA.
        make_csr(
            dir,
            alg,
            "intermediate-key.pem",
            &[
                "subjectKeyIdentifier = hash".to_string(),
                "keyUsage = critical,keyCertSign".to_string(),
                "basicConstraints = critical,CA:TRUE,pathlen:2".to_string(),
            ],
            INTERMEDIATE_SUBJECT,
            "intermediate.csr",
        );
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-days",
                "9999",
                "-sha256",
                "-in",
                "intermediate.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root-key.pem",
                "-copy_extensions",
                "copy",
                "-out",
                "intermediate.pem",
            ],
        );

        // 3. Team A leaf.
        make_csr(
            dir,
            alg,
            "leaf-key.pem",
            &LeafExts::seed().to_addext(),
            LEAF_SUBJECT,
            "leaf.csr",
        );
        sign_copy(
            dir,
            "leaf.csr",
            "intermediate.pem",
            "intermediate-key.pem",
            "leaf.pem",
        );

        let root = dir.join("root.pem");
        let intermediate = dir.join("intermediate.pem");
        let bundle = concat(dir, &[&intermediate, &root], "bundle.pem");
        Hierarchy {
            dir: dir.to_path_buf(),
            alg,
            root_key: dir.join("root-key.pem"),
            intermediate_key: dir.join("intermediate-key.pem"),
            leaf: dir.join("leaf.pem"),
            leaf_key: dir.join("leaf-key.pem"),
            root,
            intermediate,
            bundle,
            email: EMAIL.to_string(),
            issuer: ISSUER.to_string(),
        }
    }

    /// A different root and intermediate (new keys, same algorithm) with byte-identical
    /// subject names, and a leaf with the same subject, SAN and issuer extensions, made in
    /// `dir` by the same commands. A verifier trusting `of.root` must reject its leaf.
    ///
    /// Panics if `dir` is `of.dir` (the files would overwrite each other).
    pub fn impostor(dir: &Path, of: &Hierarchy) -> Hierarchy {
        let dir = prepare_dir(dir);
        assert_ne!(dir, of.dir, "testkit: the impostor needs its own directory");
        Self::build(&dir, of.alg)
    }

    /// Issues a leaf of `variant` from this hierarchy's intermediate; returns
    /// `(dir/leaf-<name>.pem, dir/leaf-<name>-key.pem)`. The key has this hierarchy's algorithm.
    pub fn leaf_variant(&self, variant: LeafVariant) -> (PathBuf, PathBuf) {
        let name = variant.name();
        let key = format!("leaf-{name}-key.pem");
        let csr = format!("leaf-{name}.csr");
        let cert = format!("leaf-{name}.pem");
        let mut exts = LeafExts::seed();
        exts.eku = Some("codeSigning");
        match variant {
            LeafVariant::NoEku => exts.eku = None,
            LeafVariant::CodeSigningEku | LeafVariant::Expired | LeafVariant::NotYetValid => {}
            LeafVariant::ServerAuthOnly => exts.eku = Some("serverAuth"),
            LeafVariant::OnlyIssuerOid11 => exts.oid18 = None,
            LeafVariant::OnlyIssuerOid18 => exts.oid11 = None,
            LeafVariant::IssuerOidsDisagree => {
                exts.oid11 = Some("https://a.example");
                exts.oid18 = Some("https://b.example");
            }
            LeafVariant::UriSan => exts.san = format!("URI:{URI_SAN}"),
            LeafVariant::NoDigitalSignatureKu => exts.key_usage = "critical,keyEncipherment",
            LeafVariant::IsCa => exts.basic_constraints = "critical,CA:TRUE",
        }
        make_csr(
            &self.dir,
            self.alg,
            &key,
            &exts.to_addext(),
            LEAF_SUBJECT,
            &csr,
        );
        match variant {
            LeafVariant::Expired => {
                self.ca_sign_dated(name, &csr, &cert, "20200101000000Z", "20210101000000Z")
            }
            LeafVariant::NotYetValid => {
                self.ca_sign_dated(name, &csr, &cert, "20900101000000Z", "20910101000000Z")
            }
            _ => sign_copy(
                &self.dir,
                &csr,
                "intermediate.pem",
                "intermediate-key.pem",
                &cert,
            ),
        }
        (self.dir.join(cert), self.dir.join(key))
    }

    /// Signs `csr` (a file in the hierarchy's directory) with the intermediate, valid only
    /// from `start` to `end` (`YYYYMMDDHHMMSSZ`), extensions copied from the request; writes
    /// `cert` there. For certificates that are expired or not yet valid.
    pub fn sign_csr_dated(&self, csr: &str, cert: &str, start: &str, end: &str) {
        let name = cert.trim_end_matches(".pem").replace(['/', '.'], "-");
        self.ca_sign_dated(&name, csr, cert, start, end);
    }

    /// Signs `csr` with the intermediate through `openssl ca` (which, unlike OpenSSL 3.0's
    /// `x509 -req`, takes explicit start and end dates), with a throwaway configuration and
    /// database under `ca-<name>/`. Extensions are copied from the request; the subject is kept
    /// in the request's order (`-preserveDN`).
    fn ca_sign_dated(&self, name: &str, csr: &str, cert: &str, start: &str, end: &str) {
        let ca_dir = self.dir.join(format!("ca-{name}"));
        std::fs::create_dir_all(&ca_dir).unwrap();
        std::fs::write(ca_dir.join("index.txt"), "").unwrap();
        let config = format!(
            "[ ca ]\n\
             default_ca = throwaway\n\
             [ throwaway ]\n\
             database = ca-{name}/index.txt\n\
             new_certs_dir = ca-{name}\n\
             serial = ca-{name}/serial\n\
             default_md = sha256\n\
             policy = policy_anything\n\
             copy_extensions = copy\n\
             unique_subject = no\n\
             email_in_dn = no\n\
             [ policy_anything ]\n\
             countryName = optional\n\
             stateOrProvinceName = optional\n\
             localityName = optional\n\
             organizationName = optional\n\
             organizationalUnitName = optional\n\
             commonName = supplied\n\
             emailAddress = optional\n"
        );
        let config_name = format!("ca-{name}/ca.cnf");
        std::fs::write(self.dir.join(&config_name), config).unwrap();
        openssl(
            &self.dir,
            &[
                "ca",
                "-batch",
                "-config",
                &config_name,
                "-cert",
                "intermediate.pem",
                "-keyfile",
                "intermediate-key.pem",
                "-rand_serial",
                "-preserveDN",
                "-notext",
                "-startdate",
                start,
                "-enddate",
                end,
                "-in",
                csr,
                "-out",
                cert,
            ],
        );
    }

    /// A chain from this hierarchy's root that a verifier trusting the root must reject;
    /// files are `bad-<name>-*.pem` in this hierarchy's directory.
    pub fn bad_chain(&self, kind: BadChain) -> Chain {
        let dir = &self.dir;
        let name = match kind {
            BadChain::IntermediateWithoutCaBit => "no-ca-bit",
            BadChain::PathLenExceeded => "pathlen",
        };
        let f = |part: &str| format!("bad-{name}-{part}");
        let ca_exts = |bc: &str| {
            vec![
                "subjectKeyIdentifier = hash".to_string(),
                "keyUsage = critical,keyCertSign".to_string(),
                format!("basicConstraints = {bc}"),
            ]
        };
        let mut intermediates: Vec<String> = Vec::new();
        match kind {
            BadChain::IntermediateWithoutCaBit => {
                make_csr(
                    dir,
                    self.alg,
                    &f("int-key.pem"),
                    &ca_exts("critical,CA:FALSE"),
                    INTERMEDIATE_SUBJECT,
                    &f("int.csr"),
                );
                sign_copy(
                    dir,
                    &f("int.csr"),
                    "root.pem",
                    "root-key.pem",
                    &f("int.pem"),
                );
                intermediates.push(f("int"));
            }
            BadChain::PathLenExceeded => {
                make_csr(
                    dir,
                    self.alg,
                    &f("int0-key.pem"),
                    &ca_exts("critical,CA:TRUE,pathlen:0"),
                    INTERMEDIATE_SUBJECT,
                    &f("int0.csr"),
                );
                sign_copy(
                    dir,
                    &f("int0.csr"),
                    "root.pem",
                    "root-key.pem",
                    &f("int0.pem"),
                );
                make_csr(
                    dir,
                    self.alg,
                    &f("int1-key.pem"),
                    &ca_exts("critical,CA:TRUE"),
                    "/C=ES/L=Valencia/O=IT/OU=Security/CN=Linuxera Second Intermediate Certificate Authority",
                    &f("int1.csr"),
                );
                sign_copy(
                    dir,
                    &f("int1.csr"),
                    &f("int0.pem"),
                    &f("int0-key.pem"),
                    &f("int1.pem"),
                );
                // Leaf's issuer first.
                intermediates.push(f("int1"));
                intermediates.push(f("int0"));
            }
        }
        let issuer = &intermediates[0];
        let mut leaf_exts = LeafExts::seed();
        leaf_exts.eku = Some("codeSigning");
        make_csr(
            dir,
            self.alg,
            &f("leaf-key.pem"),
            &leaf_exts.to_addext(),
            LEAF_SUBJECT,
            &f("leaf.csr"),
        );
        sign_copy(
            dir,
            &f("leaf.csr"),
            &format!("{issuer}.pem"),
            &format!("{issuer}-key.pem"),
            &f("leaf.pem"),
        );
        let intermediates: Vec<PathBuf> = intermediates
            .iter()
            .map(|i| dir.join(format!("{i}.pem")))
            .collect();
        let refs: Vec<&Path> = intermediates.iter().map(PathBuf::as_path).collect();
        let untrusted = concat(dir, &refs, &f("untrusted.pem"));
        let mut with_root = refs.clone();
        with_root.push(&self.root);
        let bundle = concat(dir, &with_root, &f("bundle.pem"));
        Chain {
            leaf: dir.join(f("leaf.pem")),
            leaf_key: dir.join(f("leaf-key.pem")),
            intermediates,
            bundle,
            untrusted,
        }
    }

    /// `openssl verify -CAfile <root> -untrusted <untrusted> <cert>` run in this hierarchy's
    /// directory: `Ok(stdout)` if openssl accepts the certificate, `Err(stdout + stderr)` if not.
    /// Extra arguments (e.g. `-purpose`, `-attime`) go before the certificate.
    pub fn openssl_verify(
        &self,
        root: &Path,
        untrusted: &Path,
        cert: &Path,
        extra: &[&str],
    ) -> Result<String, String> {
        let (root, untrusted, cert) = (
            root.to_str().unwrap(),
            untrusted.to_str().unwrap(),
            cert.to_str().unwrap(),
        );
        let mut args = vec!["verify", "-CAfile", root, "-untrusted", untrusted];
        args.extend_from_slice(extra);
        args.push(cert);
        let out = openssl_unchecked(&self.dir, &args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(text)
        }
    }

    /// `openssl x509 -noout -text -in <cert>`.
    pub fn x509_text(&self, cert: &Path) -> String {
        let out = openssl(
            &self.dir,
            &["x509", "-noout", "-text", "-in", cert.to_str().unwrap()],
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The file's text (panics on error).
    pub fn read(path: &Path) -> String {
        std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("testkit: read {}: {e}", path.display()))
    }
}

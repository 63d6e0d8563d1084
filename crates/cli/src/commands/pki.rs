//! `signet pki`: a root → intermediate → code-signing leaf hierarchy without cfssl or openssl
//! (issuance itself is [`signet_pki::issue`]; this is the file handling around it).
//!
//! Files: every command writes `PREFIX.pem` (the certificate) and `PREFIX.key` (a cosign
//! encrypted key, mode 0600, password from `SIGNET_PASSWORD`/`COSIGN_PASSWORD` or a prompt).
//! `--ca P` reads `P.pem` and `P.key`, and `P-chain.pem` if present (P's issuers, nearest
//! first). `intermediate` writes `Q-chain.pem` (its issuer then that issuer's chain) and `leaf`
//! writes `L-chain.pem` the same way: intermediates then the root, the order cosign's
//! `--certificate-chain` expects. Nothing is overwritten without `--force`.
//!
//! Passwords: the CA key's password is read first, then the new key's (with confirmation on a
//! terminal). When the password comes from piped standard input (no environment variable, no
//! terminal) it can be read only once, so the new key gets the CA key's password.

use std::io::IsTerminal;
use std::path::Path;
use std::time::SystemTime;

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use signet_crypto::PrivateKey;
use signet_crypto::cosign_key::{self, Password};
use signet_pki::dn::DistinguishedName;
use signet_pki::issue::{
    self, CaIssuer, CsrRequest, IntermediateRequest, IssuedCert, LeafRequest, Profile, RootRequest,
    X509Signer,
};

use super::keys::{check_free, key_type, write_new};
use crate::cli::KeyTypeArg;
use crate::{keyref, password};

/// `signet pki` subcommands.
#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Create a self-signed root CA: PREFIX.pem and PREFIX.key.
    Root(RootArgs),
    /// Create an intermediate CA signed by --ca: PREFIX.pem, PREFIX.key, PREFIX-chain.pem.
    Intermediate(IntermediateArgs),
    /// Create a code-signing leaf signed by --ca: PREFIX.pem, PREFIX.key (unless --csr) and
    /// PREFIX-chain.pem (intermediates then root, for --certificate-chain).
    Leaf(LeafArgs),
    /// Create a certificate signing request for a cosign key, for an external CA.
    Csr(CsrArgs),
}

/// `pki root` flags.
#[derive(Debug, Args)]
pub struct RootArgs {
    /// The subject, openssl style: "/C=ES/O=IT/CN=Root CA".
    #[arg(long)]
    pub subject: String,
    /// Write PREFIX.pem and PREFIX.key.
    #[arg(long)]
    pub out_prefix: String,
    /// The key algorithm.
    #[arg(long, value_enum, default_value = "p256")]
    pub key_type: KeyTypeArg,
    /// Validity in days [default: 3650].
    #[arg(long)]
    pub validity_days: Option<u32>,
    /// Path length constraint (how many intermediates may follow) [default: none].
    #[arg(long)]
    pub path_len: Option<u8>,
    /// Overwrite existing files.
    #[arg(long, short = 'f')]
    pub force: bool,
}

/// `pki intermediate` flags.
#[derive(Debug, Args)]
pub struct IntermediateArgs {
    /// The issuing CA: reads CA.pem and CA.key (and CA-chain.pem if present).
    #[arg(long)]
    pub ca: String,
    /// The subject, openssl style: "/C=ES/O=IT/CN=Intermediate CA".
    #[arg(long)]
    pub subject: String,
    /// Write PREFIX.pem, PREFIX.key and PREFIX-chain.pem.
    #[arg(long)]
    pub out_prefix: String,
    /// Path length constraint (how many intermediates may follow this one).
    #[arg(long, default_value_t = 0)]
    pub path_len: u8,
    /// The key algorithm.
    #[arg(long, value_enum, default_value = "p256")]
    pub key_type: KeyTypeArg,
    /// Validity in days, at most the issuer's [default: 1825].
    #[arg(long)]
    pub validity_days: Option<u32>,
    /// Overwrite existing files.
    #[arg(long, short = 'f')]
    pub force: bool,
}

/// Leaf certificate profiles.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum ProfileArg {
    /// What cosign needs.
    Cosign,
    /// Also enforce the Notary Project certificate requirements.
    Notation,
}

/// `pki leaf` flags.
#[derive(Debug, Args)]
pub struct LeafArgs {
    /// The issuing CA: reads CA.pem and CA.key (and CA-chain.pem if present).
    #[arg(long)]
    pub ca: String,
    /// The subject, openssl style: "/C=ES/O=IT/CN=Team A" (with --csr: default the CSR's).
    #[arg(long, required_unless_present = "csr")]
    pub subject: Option<String>,
    /// Email SAN (the identity cosign matches); repeatable. With --csr any --email/--uri
    /// replaces the CSR's SANs.
    #[arg(long, required_unless_present_any = ["uri", "csr"])]
    pub email: Vec<String>,
    /// URI SAN; repeatable.
    #[arg(long)]
    pub uri: Vec<String>,
    /// OIDC issuer URL, written to Fulcio's 1.3.6.1.4.1.57264.1.1 and .1.8 extensions
    /// (with --csr: default the CSR's).
    #[arg(long, required_unless_present = "csr")]
    pub oidc_issuer: Option<String>,
    /// Write PREFIX.pem, PREFIX.key and PREFIX-chain.pem.
    #[arg(long)]
    pub out_prefix: String,
    /// Certificate profile.
    #[arg(long, value_enum, default_value = "cosign")]
    pub profile: ProfileArg,
    /// Certify the key of this PEM CSR instead of generating one (no PREFIX.key is written).
    #[arg(long)]
    pub csr: Option<String>,
    /// The key algorithm of the generated key.
    #[arg(long, value_enum, default_value = "p256", conflicts_with = "csr")]
    pub key_type: KeyTypeArg,
    /// Validity in days, at most the issuer's [default: 365].
    #[arg(long)]
    pub validity_days: Option<u32>,
    /// Overwrite existing files.
    #[arg(long, short = 'f')]
    pub force: bool,
}

/// `pki csr` flags.
#[derive(Debug, Args)]
pub struct CsrArgs {
    /// The cosign private key (file or env://VAR) to make the request for.
    #[arg(long)]
    pub key: String,
    /// The subject, openssl style: "/C=ES/O=IT/CN=Team A".
    #[arg(long)]
    pub subject: String,
    /// Email SAN; repeatable.
    #[arg(long, required_unless_present = "uri")]
    pub email: Vec<String>,
    /// URI SAN; repeatable.
    #[arg(long)]
    pub uri: Vec<String>,
    /// OIDC issuer URL (Fulcio extensions 1.3.6.1.4.1.57264.1.1 and .1.8).
    #[arg(long)]
    pub oidc_issuer: String,
    /// Write the PEM CSR here.
    #[arg(long)]
    pub out: String,
    /// Overwrite an existing file.
    #[arg(long, short = 'f')]
    pub force: bool,
}

/// Runs a `pki` subcommand.
pub async fn run(cmd: PkiCommand) -> Result<()> {
    match cmd {
        PkiCommand::Root(args) => root(args),
        PkiCommand::Intermediate(args) => intermediate(args),
        PkiCommand::Leaf(args) => leaf(args),
        PkiCommand::Csr(args) => csr(args),
    }
}

fn root(args: RootArgs) -> Result<()> {
    let subject = DistinguishedName::parse(&args.subject)?;
    let (cert_path, key_path) = outputs(&args.out_prefix);
    check_free(&[&cert_path, &key_path], args.force)?;
    let password = new_key_password(&key_path, None)?;
    let key = PrivateKey::generate(key_type(args.key_type))?;
    let req = RootRequest {
        subject,
        validity_days: args.validity_days,
        path_len: args.path_len,
    };
    let cert = issue::issue_root(&req, &X509Signer::new(&key), SystemTime::now())?;
    write_cert(&cert_path, &cert, args.force)?;
    write_key(&key_path, &key, &password, args.force)
}

fn intermediate(args: IntermediateArgs) -> Result<()> {
    let subject = DistinguishedName::parse(&args.subject)?;
    let (cert_path, key_path) = outputs(&args.out_prefix);
    let chain_path = format!("{}-chain.pem", args.out_prefix);
    check_free(&[&cert_path, &key_path, &chain_path], args.force)?;
    let ca = LoadedCa::load(&args.ca)?;
    let signer = X509Signer::new(&ca.key);
    let issuer = ca.issuer(&signer)?;
    let password = new_key_password(&key_path, Some(&ca.password))?;
    let key = PrivateKey::generate(key_type(args.key_type))?;
    let req = IntermediateRequest {
        subject,
        validity_days: args.validity_days,
        path_len: Some(args.path_len),
    };
    let cert = issue::issue_intermediate(&req, &key.public_key(), &issuer, SystemTime::now())?;
    write_cert(&cert_path, &cert, args.force)?;
    write_key(&key_path, &key, &password, args.force)?;
    write_chain(&chain_path, &ca.chain_below_new_cert(), args.force)
}

fn leaf(args: LeafArgs) -> Result<()> {
    let subject = args
        .subject
        .as_deref()
        .map(DistinguishedName::parse)
        .transpose()?;
    let (cert_path, key_path) = outputs(&args.out_prefix);
    let chain_path = format!("{}-chain.pem", args.out_prefix);
    let mut outs = vec![cert_path.as_str(), chain_path.as_str()];
    if args.csr.is_none() {
        outs.push(&key_path);
    }
    check_free(&outs, args.force)?;
    let csr = match &args.csr {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {path}"))?;
            Some(issue::parse_csr(&text).with_context(|| format!("reading CSR {path}"))?)
        }
        None => None,
    };
    let profile = match args.profile {
        ProfileArg::Cosign => Profile::Cosign,
        ProfileArg::Notation => Profile::Notation,
    };
    let ca = LoadedCa::load(&args.ca)?;
    let signer = X509Signer::new(&ca.key);
    let issuer = ca.issuer(&signer)?;
    let chain = ca.chain_below_new_cert();
    if profile == Profile::Notation {
        for der in &chain {
            issue::check_notation_ca(der)?;
        }
    }
    let req = LeafRequest {
        subject,
        emails: args.email.clone(),
        uris: args.uri.clone(),
        oidc_issuer: args.oidc_issuer.clone(),
        validity_days: args.validity_days,
        profile,
        ..LeafRequest::default()
    };
    let now = SystemTime::now();
    match csr {
        Some(csr) => {
            let issued = issue::issue_leaf_from_csr(&csr, &req, &issuer, now)?;
            write_cert(&cert_path, &issued.cert, args.force)?;
            eprintln!(
                "No private key written: the certificate is for the key of the CSR {}",
                args.csr.as_deref().unwrap_or_default()
            );
        }
        None => {
            let password = new_key_password(&key_path, Some(&ca.password))?;
            let key = PrivateKey::generate(key_type(args.key_type))?;
            let cert = issue::issue_leaf(&req, &key.public_key(), &issuer, now)?;
            write_cert(&cert_path, &cert, args.force)?;
            write_key(&key_path, &key, &password, args.force)?;
        }
    }
    write_chain(&chain_path, &chain, args.force)
}

fn csr(args: CsrArgs) -> Result<()> {
    let subject = DistinguishedName::parse(&args.subject)?;
    check_free(&[&args.out], args.force)?;
    let key = keyref::load_private(&args.key)?;
    let req = CsrRequest {
        subject,
        emails: args.email,
        uris: args.uri,
        oidc_issuer: Some(args.oidc_issuer),
        ..CsrRequest::default()
    };
    let pem = issue::create_csr(&X509Signer::new(&key), &req)?;
    write_new(&args.out, pem.as_bytes(), 0o644, args.force)?;
    eprintln!("Certificate signing request written to {}", args.out);
    Ok(())
}

/// A `--ca P`: P.pem, P.key (decrypted) and P-chain.pem.
struct LoadedCa {
    prefix: String,
    cert_der: Vec<u8>,
    key: PrivateKey,
    password: Password,
    /// P's own issuers, nearest first (from P-chain.pem; empty for a root).
    chain: Vec<Vec<u8>>,
}

impl LoadedCa {
    fn load(prefix: &str) -> Result<Self> {
        let cert_path = format!("{prefix}.pem");
        let key_path = format!("{prefix}.key");
        let chain_path = format!("{prefix}-chain.pem");
        let text = std::fs::read_to_string(&cert_path)
            .with_context(|| format!("reading CA certificate {cert_path}"))?;
        let cert_der = issue::pem_certificates(&text)
            .with_context(|| format!("reading CA certificate {cert_path}"))?
            .into_iter()
            .next()
            .with_context(|| format!("{cert_path} contains no PEM CERTIFICATE"))?;
        let key_pem = std::fs::read_to_string(&key_path)
            .with_context(|| format!("reading CA key {key_path}"))?;
        if std::io::stdin().is_terminal() && !password_in_env() {
            eprintln!("Password for the CA key {key_path}:");
        }
        let password = password::read(false)?;
        let key = cosign_key::decrypt_private_key(&key_pem, &password)
            .with_context(|| format!("loading CA key {key_path}"))?;
        let chain = if Path::new(&chain_path).exists() {
            let text = std::fs::read_to_string(&chain_path)
                .with_context(|| format!("reading {chain_path}"))?;
            issue::pem_certificates(&text).with_context(|| format!("reading {chain_path}"))?
        } else {
            Vec::new()
        };
        Ok(LoadedCa {
            prefix: prefix.to_owned(),
            cert_der,
            key,
            password,
            chain,
        })
    }

    /// The CA as an issuer signing with `signer` (made from the CA's key).
    fn issuer<'s>(&self, signer: &'s X509Signer<'s>) -> Result<CaIssuer<'s>> {
        let issuer = CaIssuer::new(&self.cert_der, signer)
            .with_context(|| format!("using {}.pem as the CA", self.prefix))?;
        if !issuer.is_self_signed() && self.chain.is_empty() {
            eprintln!(
                "WARNING: {}.pem is not a root and {}-chain.pem does not exist: the chain \
                 written will lack its issuers",
                self.prefix, self.prefix
            );
        }
        Ok(issuer)
    }

    /// The chain of a certificate this CA issues: the CA itself, then its own chain.
    fn chain_below_new_cert(&self) -> Vec<Vec<u8>> {
        let mut chain = vec![self.cert_der.clone()];
        chain.extend(self.chain.iter().cloned());
        chain
    }
}

fn outputs(prefix: &str) -> (String, String) {
    (format!("{prefix}.pem"), format!("{prefix}.key"))
}

fn password_in_env() -> bool {
    ["SIGNET_PASSWORD", "COSIGN_PASSWORD"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// The password for a new key file; reuses `previous` when the password comes from piped
/// standard input (which can be read only once).
fn new_key_password(key_path: &str, previous: Option<&Password>) -> Result<Password> {
    let terminal = std::io::stdin().is_terminal();
    if let Some(previous) = previous
        && !terminal
        && !password_in_env()
    {
        return Ok(previous.clone());
    }
    if terminal && !password_in_env() {
        eprintln!("Password for the new key {key_path}:");
    }
    password::read(true)
}

fn write_cert(path: &str, cert: &IssuedCert, force: bool) -> Result<()> {
    for w in &cert.warnings {
        eprintln!("WARNING: {w}");
    }
    write_new(path, cert.pem.as_bytes(), 0o644, force)?;
    eprintln!("Certificate written to {path}");
    Ok(())
}

fn write_key(path: &str, key: &PrivateKey, password: &Password, force: bool) -> Result<()> {
    let encrypted = cosign_key::encrypt_private_key(key, password)?;
    write_new(path, encrypted.as_bytes(), 0o600, force)?;
    eprintln!("Private key written to {path}");
    Ok(())
}

fn write_chain(path: &str, chain: &[Vec<u8>], force: bool) -> Result<()> {
    let pem: String = chain
        .iter()
        .map(|der| issue::certificate_pem(der))
        .collect();
    write_new(path, pem.as_bytes(), 0o644, force)?;
    eprintln!("Chain written to {path}");
    Ok(())
}

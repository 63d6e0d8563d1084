//! Command-line grammar, mirroring cosign's subcommands and flag names so that scripts can
//! replace `cosign` by `signet`. Boolean flags take an optional value as Go's pflag does
//! (`--tlog-upload=false`, `--upload=0`).

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};

/// Parses a boolean as Go's `strconv.ParseBool` does.
pub fn go_bool(s: &str) -> Result<bool, String> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("invalid boolean {s:?} (use true or false)")),
    }
}

/// Self-hosted signing and verification of OCI container images, compatible with cosign.
#[derive(Debug, Parser)]
#[command(name = "signet", version, about, long_about = None, max_term_width = 100)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Registry connection flags shared by every command that touches images.
#[derive(Debug, Args, Clone, Default)]
pub struct RegistryArgs {
    /// Use plain HTTP for registries that are not on this machine (loopback registries use HTTP
    /// unless --allow-insecure-registry is given, which tries HTTPS first).
    #[arg(long, env = "COSIGN_ALLOW_HTTP_REGISTRY", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool)]
    pub allow_http_registry: bool,
    /// Accept self-signed or otherwise unverifiable registry TLS certificates.
    #[arg(long, env = "COSIGN_ALLOW_INSECURE_REGISTRY", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool)]
    pub allow_insecure_registry: bool,
}

/// Key types `generate-key-pair` can create.
#[derive(Debug, Clone, Copy, ValueEnum)]
#[allow(missing_docs)]
pub enum KeyTypeArg {
    P256,
    P384,
    Rsa2048,
    Rsa3072,
    Rsa4096,
    Ed25519,
}

/// Output formats of `verify`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum OutputFormat {
    Json,
    Text,
}

/// What `triangulate` and `clean` address.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum ArtifactType {
    Signature,
    Attestation,
    Sbom,
    Digest,
    All,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a key pair for signing (P-256 by default), encrypted with a password.
    GenerateKeyPair {
        /// Write PREFIX.key and PREFIX.pub.
        #[arg(long, default_value = "cosign")]
        output_key_prefix: String,
        /// The key algorithm.
        #[arg(long, value_enum, default_value = "p256")]
        key_type: KeyTypeArg,
        /// Overwrite existing key files.
        #[arg(long, short = 'f')]
        force: bool,
    },
    /// Import an unencrypted PEM private key (PKCS#1, SEC1 or PKCS#8) as a cosign key pair.
    ImportKeyPair {
        /// The PEM private key file.
        #[arg(long, short = 'k')]
        key: String,
        /// Write PREFIX.key and PREFIX.pub.
        #[arg(long, short = 'o', default_value = "import-cosign")]
        output_key_prefix: String,
        /// Overwrite existing key files without asking.
        #[arg(long, short = 'y', alias = "force")]
        yes: bool,
    },
    /// Print the public key of a private key.
    PublicKey {
        /// The private key (file or env://VAR).
        #[arg(long, env = "COSIGN_KEY")]
        key: String,
        /// Write the public key to this file instead of stdout.
        #[arg(long)]
        outfile: Option<String>,
    },
    /// Print the simple-signing payload cosign would sign for an image.
    Generate {
        /// Annotations to add to the payload (key=value).
        #[arg(long = "annotations", short = 'a')]
        annotations: Vec<String>,
        #[command(flatten)]
        registry: RegistryArgs,
        /// The image (registry reference, or oci:PATH[:TAG]).
        image: String,
    },
    /// Sign images with a key and attach the signatures.
    Sign(SignArgs),
    /// Attach externally made artifacts to an image.
    Attach {
        /// What to attach.
        #[command(subcommand)]
        what: AttachCommand,
    },
    /// Verify image signatures against a public key.
    Verify(VerifyArgs),
    /// Print where an image's signatures (or other artifacts) are stored.
    Triangulate {
        /// Which artifact.
        #[arg(long = "type", value_enum, default_value = "signature")]
        kind: ArtifactType,
        #[command(flatten)]
        registry: RegistryArgs,
        /// The image.
        image: String,
    },
    /// Show the supply-chain artifacts attached to an image.
    Tree {
        #[command(flatten)]
        registry: RegistryArgs,
        /// The image.
        image: String,
    },
    /// Find the `pkcs11:` URIs of keys on PKCS#11 tokens (cosign's pkcs11-tool).
    #[command(name = "pkcs11-tool")]
    Pkcs11Tool {
        /// What to list.
        #[command(subcommand)]
        command: crate::commands::pkcs11::Pkcs11Command,
    },
    /// Your own PKI: root and intermediate CAs, code-signing leaves, CSRs.
    Pki {
        /// What to create.
        #[command(subcommand)]
        command: crate::commands::pki::PkiCommand,
    },
    /// notation's commands: sign, ls, inspect and verify Notary Project signatures, and manage
    /// keys, certificates and the trust policy in notation's own configuration directory
    /// ($NOTATION_CONFIG, else $XDG_CONFIG_HOME/notation or ~/.config/notation).
    Notation {
        /// What to do.
        #[command(subcommand)]
        command: crate::commands::notation::NotationCommand,
    },
    /// Run the signing service, print local tokens, verify its audit log.
    Server(signet_server::cli::ServerArgs),
    /// Talk to a signet signing service (signing-tool compatible): products, signing
    /// requests, approvals.
    Remote(crate::commands::remote::RemoteArgs),
    /// Remove an image's signatures (and other attached artifacts).
    Clean {
        /// Which artifacts to remove.
        #[arg(long = "type", value_enum, default_value = "all")]
        kind: ArtifactType,
        /// Do not ask for confirmation.
        #[arg(long, short = 'f')]
        force: bool,
        #[command(flatten)]
        registry: RegistryArgs,
        /// The image.
        image: String,
    },
}

/// `sign` flags.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The private key: a cosign key file, env://VAR, or a PKCS#11 URI
    /// (pkcs11:token=…;object=…?module-path=…&pin-value=…; or COSIGN_PKCS11_MODULE_PATH and
    /// COSIGN_PKCS11_PIN).
    #[arg(long, env = "COSIGN_KEY", required_unless_present_any = ["openpgp_key", "remote"])]
    pub key: Option<String>,
    /// Make an OpenPGP simple signature (skopeo's `--sign-by`) with this armored secret key
    /// (what `gpg --export-secret-keys --armor` writes), stored in lookaside staging.
    #[arg(long, conflicts_with = "key")]
    pub openpgp_key: Option<String>,
    /// File whose first line is the OpenPGP key's passphrase.
    #[arg(long, requires = "openpgp_key")]
    pub passphrase_file: Option<String>,
    /// registries.d directories naming the lookaside-staging location.
    #[arg(long = "registries-d", requires = "openpgp_key")]
    pub registries_d: Vec<String>,
    /// Annotations to add to the payload (key=value).
    #[arg(long = "annotations", short = 'a')]
    pub annotations: Vec<String>,
    /// Upload to a transparency log (none exists here: signing always behaves as false).
    #[arg(long, env = "COSIGN_TLOG_UPLOAD", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = true, default_missing_value = "true", value_parser = go_bool)]
    pub tlog_upload: bool,
    /// Sign every image of a multi-platform index too.
    #[arg(long, short = 'r')]
    pub recursive: bool,
    /// Push the signature to the registry.
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = true, default_missing_value = "true", value_parser = go_bool)]
    pub upload: bool,
    /// Write the base64 signature(s) to this file.
    #[arg(long)]
    pub output_signature: Option<String>,
    /// Write the signed payload(s) to this file.
    #[arg(long)]
    pub output_payload: Option<String>,
    /// Skip confirmation prompts.
    #[arg(long, short = 'y', env = "COSIGN_YES", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool)]
    pub yes: bool,
    /// Store the signature as a cosign v3 bundle referrer (not supported yet: signatures are
    /// stored as `.sig` images, cosign's legacy format, which every cosign version verifies).
    #[arg(long, env = "COSIGN_NEW_BUNDLE_FORMAT", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool)]
    pub new_bundle_format: bool,
    /// Take Fulcio/Rekor/TSA endpoints from a TUF signing config (none exists here).
    #[arg(long, env = "COSIGN_USE_SIGNING_CONFIG", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool)]
    pub use_signing_config: bool,
    /// A PEM (or DER) certificate for the key, attached to the signature (own PKI).
    #[arg(
        long = "certificate",
        visible_alias = "cert",
        env = "COSIGN_CERTIFICATE"
    )]
    pub certificate: Option<String>,
    /// PEM certificates from the certificate's issuer up to the root, attached as the chain.
    #[arg(
        long = "certificate-chain",
        visible_alias = "cert-chain",
        env = "COSIGN_CERTIFICATE_CHAIN"
    )]
    pub certificate_chain: Option<String>,
    /// Use this value as docker-reference in the payload instead of the image's repository.
    #[arg(long)]
    pub sign_container_identity: Option<String>,
    /// Sign through a signet signing service at this API URL (`…/{org}/api/v1`) instead of
    /// with a local key: submit the payload, wait for approval, attach the signature.
    #[arg(long, value_name = "API_URL", conflicts_with_all = ["openpgp_key", "certificate", "certificate_chain"])]
    pub remote: Option<String>,
    /// With --remote: the product (id or name).
    #[arg(long, requires = "remote")]
    pub product: Option<String>,
    /// With --remote: the product's operation (id or name).
    #[arg(long, requires = "remote")]
    pub operation: Option<String>,
    /// With --remote: resume waiting for this existing request instead of submitting a new one.
    #[arg(long, requires = "remote", conflicts_with_all = ["product", "operation"])]
    pub request: Option<String>,
    /// With --remote: how long to wait for approval (e.g. 90s, 30m, 2h).
    #[arg(long, requires = "remote", default_value = "30m", value_parser = crate::remote::parse_duration)]
    pub remote_timeout: std::time::Duration,
    /// With --remote: the bearer token, @FILE or @- [default: $SIGNET_TOKEN].
    #[arg(long, short = 't', requires = "remote", value_name = "TOKEN")]
    pub token: Option<crate::remote::Secret>,
    /// With --remote: the signing request's name.
    #[arg(long, requires = "remote", default_value = "signet sign")]
    pub request_name: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The images to sign.
    #[arg(required = true)]
    pub images: Vec<String>,
}

/// `attach` subcommands.
#[derive(Debug, Subcommand)]
pub enum AttachCommand {
    /// Attach a signature made elsewhere (base64 text) with its payload.
    Signature {
        /// The signed payload file (default: the payload `generate` prints, without annotations).
        #[arg(long)]
        payload: Option<String>,
        /// The base64 signature file, or - for stdin.
        #[arg(long)]
        signature: String,
        /// A PEM certificate to attach.
        #[arg(long)]
        certificate: Option<String>,
        /// A PEM certificate chain to attach.
        #[arg(long)]
        certificate_chain: Option<String>,
        #[command(flatten)]
        registry: RegistryArgs,
        /// The image.
        image: String,
    },
}

/// `verify` flags.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The public key (file or env://VAR); without it, signatures are verified by certificate.
    #[arg(long, env = "COSIGN_KEY")]
    pub key: Option<String>,
    /// Verify with this certificate instead of the one attached to the signature.
    #[arg(
        long = "certificate",
        visible_alias = "cert",
        env = "COSIGN_CERTIFICATE"
    )]
    pub certificate: Option<String>,
    /// PEM bundle: intermediates, then the trusted root last.
    #[arg(long = "certificate-chain", visible_alias = "cert-chain", env = "COSIGN_CERTIFICATE_CHAIN", conflicts_with_all = ["ca_roots", "ca_intermediates"])]
    pub certificate_chain: Option<String>,
    /// PEM bundle of trusted root certificates.
    #[arg(long, env = "COSIGN_CA_ROOTS")]
    pub ca_roots: Option<String>,
    /// PEM bundle of intermediate certificates (not trusted by themselves).
    #[arg(long, env = "COSIGN_CA_INTERMEDIATES")]
    pub ca_intermediates: Option<String>,
    /// The identity (a SAN: e-mail, URI, DNS name or IP) the certificate must carry.
    #[arg(
        long,
        visible_alias = "cert-identity",
        env = "COSIGN_CERTIFICATE_IDENTITY",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub certificate_identity: Option<String>,
    /// A regular expression (RE2, unanchored) one SAN must match.
    #[arg(long, env = "COSIGN_CERTIFICATE_IDENTITY_REGEXP")]
    pub certificate_identity_regexp: Option<String>,
    /// The OIDC issuer the certificate must carry (Fulcio OIDs .1.8 / .1.1).
    #[arg(
        long,
        visible_alias = "cert-oidc-issuer",
        env = "COSIGN_CERTIFICATE_OIDC_ISSUER",
        conflicts_with = "certificate_oidc_issuer_regexp"
    )]
    pub certificate_oidc_issuer: Option<String>,
    /// A regular expression (RE2, unanchored) the OIDC issuer must match.
    #[arg(long, env = "COSIGN_CERTIFICATE_OIDC_ISSUER_REGEXP")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// Accept certificates without a verified SCT (there is no CT log here).
    #[arg(long, env = "COSIGN_INSECURE_IGNORE_SCT", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool)]
    pub insecure_ignore_sct: bool,
    /// Annotations the payload must carry (key=value).
    #[arg(long = "annotations", short = 'a')]
    pub annotations: Vec<String>,
    /// Accept signatures without a transparency-log entry.
    #[arg(long, env = "COSIGN_INSECURE_IGNORE_TLOG", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool)]
    pub insecure_ignore_tlog: bool,
    /// Check the payload's claims (digest, annotations).
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = true, default_missing_value = "true", value_parser = go_bool)]
    pub check_claims: bool,
    /// A Rekor public key (PEM) whose signed entry timestamps vouch for signatures' bundles,
    /// checked offline (cosign's SIGSTORE_REKOR_PUBLIC_KEY).
    #[arg(long, env = "SIGSTORE_REKOR_PUBLIC_KEY")]
    pub rekor_public_key: Option<String>,
    /// Skip transparency-log checks for private deployments (implies --insecure-ignore-tlog).
    #[arg(long, env = "COSIGN_PRIVATE_INFRASTRUCTURE", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool)]
    pub private_infrastructure: bool,
    /// Verify without network access to transparency services (always the case here).
    #[arg(long, env = "COSIGN_OFFLINE", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool)]
    pub offline: bool,
    /// Look for cosign v3 bundles first (signet reads `.sig` images, cosign's fallback path).
    #[arg(long, env = "COSIGN_NEW_BUNDLE_FORMAT", action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool)]
    pub new_bundle_format: bool,
    /// Digest algorithm of the signatures (sha256, sha384 or sha512); signet accepts what
    /// cosign and containers/image write for each key type whatever this says.
    #[arg(long, value_parser = ["sha256", "sha384", "sha512"], default_value = "sha256")]
    pub signature_digest_algorithm: String,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value = "json")]
    pub output: OutputFormat,
    /// Decide with a containers-policy.json (path, file:// or kbs:// URI; `default` for
    /// /etc/containers/policy.json, then ~/.config/containers/policy.json) instead of a key
    /// or certificates. Images may also be `dir:PATH` here.
    #[arg(long, conflicts_with_all = ["key", "certificate_identity", "certificate_identity_regexp"])]
    pub policy: Option<String>,
    /// registries.d directories (lookaside locations, use-sigstore-attachments); default
    /// /etc/containers/registries.d and ~/.config/containers/registries.d.
    #[arg(long = "registries-d")]
    pub registries_d: Vec<String>,
    /// Key broker for kbs:///REPO/TYPE/TAG resources.
    #[arg(long, env = "SIGNET_KBS_URL")]
    pub kbs_url: Option<String>,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The images to verify.
    #[arg(required = true)]
    pub images: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn pflag_style_booleans() {
        let c = Cli::try_parse_from([
            "signet",
            "sign",
            "--key",
            "k",
            "--tlog-upload=false",
            "--upload=0",
            "img",
        ])
        .unwrap();
        match c.command {
            Command::Sign(s) => {
                assert!(!s.tlog_upload);
                assert!(!s.upload);
            }
            _ => panic!("wrong command"),
        }
        let c = Cli::try_parse_from([
            "signet",
            "verify",
            "--key",
            "k",
            "--insecure-ignore-tlog",
            "img",
        ])
        .unwrap();
        match c.command {
            Command::Verify(v) => assert!(v.insecure_ignore_tlog),
            _ => panic!("wrong command"),
        }
    }
}

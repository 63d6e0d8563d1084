//! `signet notation …`: notation's `key`, `cert` and `policy` commands on notation's own
//! configuration directory (see [`crate::notation`]), with notation's flags, file formats,
//! permissions and messages; and `sign`, `ls`, `inspect`, `verify` on registry images and OCI
//! layouts (see [`crate::notation::artifact`]), with notation's registry flags (`-u`, `-p`,
//! `NOTATION_USERNAME`, `NOTATION_PASSWORD`, `--insecure-registry`), `--max-signatures`,
//! `sign --force-referrers-tag`, `sign --timestamp-url URL --timestamp-root-cert FILE` (RFC
//! 3161 timestamps, see [`crate::notation::tsa`]), `inspect -o json` and `verify -o json`.
//! Errors are one line and exit 1, as notation's; declined confirmations are errors.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::{ArgAction, Args, Subcommand};
use signet_notation_policy::TrustPolicyDocument;
use signet_pki::cert::Certificate;
use signet_registry::Secret;

use crate::cli::go_bool;
use crate::notation::config::NotationConfig;
use crate::notation::dirs::{LEGACY_TRUST_POLICY, NotationDirs, OCI_TRUST_POLICY};
use crate::notation::keys::{self, KeySuite, SigningKeys};
use crate::notation::{artifact, fsio, table, trust, truststore};
use signet_notation::envelope::EnvelopeType;

/// `signet notation` subcommands.
#[derive(Debug, Subcommand)]
pub enum NotationCommand {
    /// Manage keys used for signing (signingkeys.json).
    Key {
        /// What to do.
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Manage certificates in the trust store.
    #[command(visible_alias = "certificate")]
    Cert {
        /// What to do.
        #[command(subcommand)]
        command: CertCommand,
    },
    /// Manage the OCI trust policy (trustpolicy.oci.json).
    Policy {
        /// What to do.
        #[command(subcommand)]
        command: PolicyCommand,
    },
    /// Sign an artifact (registry image or OCI layout) and push the signature as a referrer.
    Sign(SignArgs),
    /// List the signatures of an artifact.
    #[command(visible_alias = "list")]
    Ls(ListArgs),
    /// Inspect the signatures of an artifact.
    Inspect {
        #[command(flatten)]
        list: ListArgs,
        /// Output format: tree (or text) or json.
        #[arg(long, short = 'o', default_value = "tree", value_parser = ["tree", "text", "json"])]
        output: String,
    },
    /// Verify an artifact's signatures against the trust policy and trust store.
    Verify(VerifyArgs),
}

/// The artifact argument and registry flags of `sign`, `ls`, `inspect` and `verify`.
#[derive(Debug, Args)]
pub struct ArtifactArgs {
    /// The reference is an OCI image layout: PATH:TAG or PATH@DIGEST.
    #[arg(long)]
    pub oci_layout: bool,
    /// Username for registry operations (default: $NOTATION_USERNAME).
    #[arg(long, short = 'u', env = "NOTATION_USERNAME", hide_env_values = true)]
    pub username: Option<String>,
    /// Password for registry operations, or an identity token when no username is given
    /// (default: $NOTATION_PASSWORD).
    #[arg(long, short = 'p', env = "NOTATION_PASSWORD", hide_env_values = true, value_parser = parse_secret)]
    pub password: Option<Secret>,
    /// Use plain HTTP to connect to the registry (for testing; loopback registries use it
    /// anyway).
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool)]
    pub insecure_registry: bool,
    /// Older name of --insecure-registry.
    #[arg(long, hide = true)]
    pub plain_http: bool,
    #[command(flatten)]
    pub registry: crate::cli::RegistryArgs,
    /// The artifact: REGISTRY/REPO:TAG, REGISTRY/REPO@DIGEST, oci:PATH[:TAG|@DIGEST], or a
    /// layout reference with --oci-layout.
    pub reference: String,
}

fn parse_secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s))
}

/// `--max-signatures` with the artifact flags (`ls`, `inspect`, `verify`).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Maximum number of signatures to evaluate or examine.
    #[arg(long, default_value_t = 100, allow_negative_numbers = true)]
    pub max_signatures: i64,
    #[command(flatten)]
    pub artifact: ArtifactArgs,
}

/// `notation sign` flags.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The signing key's name in signingkeys.json (default: the default key).
    #[arg(long, short = 'k')]
    pub key: Option<String>,
    /// Signature envelope format: jws or cose (default: config.json's signatureFormat, else
    /// jws).
    #[arg(long, value_parser = ["jws", "cose"])]
    pub signature_format: Option<String>,
    /// Optional expiry of the signature, a Go duration (e.g. 12h, 30m, 3h20m).
    #[arg(long, short = 'e')]
    pub expiry: Option<String>,
    /// {key}={value} user metadata added to the signed payload.
    #[arg(long = "user-metadata", short = 'm')]
    pub user_metadata: Vec<String>,
    /// Always store the signature in the referrers tag index too (the registry's referrers
    /// API is used first either way, and the tag index when the registry has none).
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true, default_value_t = false, default_missing_value = "true", value_parser = go_bool, conflicts_with = "oci_layout")]
    pub force_referrers_tag: bool,
    /// Sign through a signet signing service at this API URL (`…/{org}/api/v1`) with the
    /// certificate key of a DetachedSignature operation, waiting while its approval rules
    /// run, instead of with a key from signingkeys.json.
    #[arg(long, value_name = "API_URL", conflicts_with = "key", requires_all = ["product", "operation"])]
    pub remote: Option<String>,
    /// With --remote: the product (id or name).
    #[arg(long, requires = "remote")]
    pub product: Option<String>,
    /// With --remote: the DetachedSignature operation (id or name).
    #[arg(long, requires = "remote")]
    pub operation: Option<String>,
    /// With --remote: the bearer token, @FILE or @- [default: $SIGNET_TOKEN].
    #[arg(long, requires = "remote", value_name = "TOKEN")]
    pub token: Option<crate::remote::Secret>,
    /// With --remote: how long to wait for approval (e.g. 30s, 10m, 1h).
    #[arg(long, requires = "remote", default_value = "30m", value_parser = crate::remote::parse_duration)]
    pub remote_timeout: std::time::Duration,
    /// RFC 3161 Timestamping Authority (TSA) server URL.
    #[arg(long, value_name = "URL", requires = "timestamp_root_cert")]
    pub timestamp_url: Option<String>,
    /// Filepath of timestamp authority root certificate.
    #[arg(long, value_name = "FILE", requires = "timestamp_url")]
    pub timestamp_root_cert: Option<String>,
    #[command(flatten)]
    pub artifact: ArtifactArgs,
}

/// `notation verify` flags.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The repository (REGISTRY/REPO) whose trust policy applies; required with --oci-layout.
    #[arg(long)]
    pub scope: Option<String>,
    /// {key}={value} user metadata the signed payload must carry.
    #[arg(long = "user-metadata", short = 'm')]
    pub user_metadata: Vec<String>,
    /// Output format: text or json.
    #[arg(long, short = 'o', default_value = "text", value_parser = ["text", "json"])]
    pub output: String,
    #[command(flatten)]
    pub list: ListArgs,
}

/// `notation key` subcommands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Add a key to the signing key list: a local key (--key and --cert) or a plugin key
    /// (--plugin and --id).
    Add(KeyAddArgs),
    /// List keys used for signing.
    #[command(visible_alias = "ls")]
    List,
    /// Update a key in the signing key list (mark it as the default).
    #[command(visible_alias = "set")]
    Update {
        /// Mark as default.
        #[arg(long)]
        default: bool,
        /// The key's name.
        name: String,
    },
    /// Remove keys from the signing key list (the key files are kept).
    Delete {
        /// The keys' names.
        #[arg(required = true)]
        names: Vec<String>,
    },
}

/// `notation key add` flags.
#[derive(Debug, Args)]
pub struct KeyAddArgs {
    /// Local key: the PEM private key (PKCS#1, SEC1 or PKCS#8), or a cosign encrypted key file
    /// (password from COSIGN_PASSWORD or a prompt, at add and at sign time).
    #[arg(long, requires = "cert", conflicts_with_all = ["plugin", "id", "plugin_config"])]
    pub key: Option<PathBuf>,
    /// Local key: the PEM certificate chain, leaf first, root last.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// Plugin key: the signing plugin's name.
    #[arg(long, required_unless_present = "key", requires = "id")]
    pub plugin: Option<String>,
    /// Plugin key: the key id.
    #[arg(long, requires = "plugin")]
    pub id: Option<String>,
    /// Plugin key: {key}={value} pairs passed to the plugin.
    #[arg(long = "plugin-config", requires = "plugin")]
    pub plugin_config: Vec<String>,
    /// Mark as default.
    #[arg(long)]
    pub default: bool,
    /// The key's name.
    pub name: String,
}

/// `--type` / `--store` as notation spells them.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Trust store type: ca, signingAuthority or tsa.
    #[arg(long = "type", short = 't')]
    pub store_type: String,
    /// The named store.
    #[arg(long, short = 's')]
    pub store: String,
}

/// `notation cert` subcommands.
#[derive(Debug, Subcommand)]
pub enum CertCommand {
    /// Add certificates to the trust store (files are copied, keeping their names).
    Add {
        #[command(flatten)]
        store: StoreArgs,
        /// The certificate files (PEM or DER).
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List certificates in the trust store.
    #[command(visible_alias = "ls")]
    List {
        /// Only this store type: ca, signingAuthority or tsa.
        #[arg(long = "type", short = 't')]
        store_type: Option<String>,
        /// Only this named store.
        #[arg(long, short = 's')]
        store: Option<String>,
    },
    /// Show the certificates of one trust store file.
    Show {
        #[command(flatten)]
        store: StoreArgs,
        /// The certificate file's name in the store.
        file: String,
    },
    /// Delete certificates from the trust store.
    Delete {
        #[command(flatten)]
        store: StoreArgs,
        /// Delete all certificates in the named store.
        #[arg(long, short = 'a', conflicts_with = "file")]
        all: bool,
        /// Do not prompt for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        /// The certificate file's name in the store.
        #[arg(required_unless_present = "all")]
        file: Option<String>,
    },
}

/// `notation policy` subcommands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Import the OCI trust policy from a JSON file (validated first).
    Import {
        /// Overwrite an existing OCI trust policy without asking.
        #[arg(long)]
        force: bool,
        /// The policy file.
        file: PathBuf,
    },
    /// Print the OCI trust policy.
    Show,
}

/// Runs a `signet notation` command. Every error exits 1, as notation's do.
pub fn run(command: NotationCommand) -> Result<()> {
    run_command(command).map_err(|e| anyhow!(crate::exit::render(&e)))
}

fn run_command(command: NotationCommand) -> Result<()> {
    let dirs = NotationDirs::from_env();
    match command {
        NotationCommand::Key { command } => match command {
            KeyCommand::Add(args) => key_add(&dirs, args),
            KeyCommand::List => key_list(&dirs),
            KeyCommand::Update { default, name } => key_update(&dirs, &name, default),
            KeyCommand::Delete { names } => key_delete(&dirs, &names),
        },
        NotationCommand::Cert { command } => match command {
            CertCommand::Add { store, files } => cert_add(&dirs, &store, &files),
            CertCommand::List { store_type, store } => {
                cert_list(&dirs, store_type.as_deref(), store.as_deref())
            }
            CertCommand::Show { store, file } => cert_show(&dirs, &store, &file),
            CertCommand::Delete {
                store,
                all,
                yes,
                file,
            } => cert_delete(&dirs, &store, file.as_deref(), all, yes),
        },
        NotationCommand::Policy { command } => match command {
            PolicyCommand::Import { force, file } => policy_import(&dirs, &file, force),
            PolicyCommand::Show => policy_show(&dirs),
        },
        NotationCommand::Sign(args) => {
            // notation checks these before anything else.
            let timestamp = match (&args.timestamp_url, &args.timestamp_root_cert) {
                (Some(url), _) if url.is_empty() => {
                    bail!("timestamping: tsa url cannot be empty")
                }
                (_, Some(root)) if root.is_empty() => {
                    bail!("timestamping: tsa root certificate path cannot be empty")
                }
                (Some(url), Some(root)) => Some(artifact::TimestampArgs {
                    url: url.clone(),
                    root_cert: root.clone(),
                }),
                _ => None,
            };
            let config = NotationConfig::load(&dirs)?;
            let format = match (&args.signature_format, config.signature_format.as_str()) {
                (Some(f), _) => f.clone(),
                (None, "") => "jws".to_owned(),
                (None, f) => f.to_owned(),
            };
            let envelope_type = match format.as_str() {
                "jws" => EnvelopeType::Jws,
                "cose" => EnvelopeType::Cose,
                other => bail!("signature format {other:?} not supported"),
            };
            let expiry = args
                .expiry
                .as_deref()
                .map(trust::parse_go_duration)
                .transpose()?;
            let request = artifact::SignRequest {
                key: args.key.as_deref(),
                envelope_type,
                expiry,
                metadata: artifact::parse_flag_map(&args.user_metadata, "user-metadata")?,
                force_referrers_tag: args.force_referrers_tag,
                remote: args.remote.as_ref().map(|api| artifact::RemoteKey {
                    api: api.clone(),
                    token: args.token.clone(),
                    product: args.product.clone().unwrap_or_default(),
                    operation: args.operation.clone().unwrap_or_default(),
                    timeout: args.remote_timeout,
                }),
                timestamp,
            };
            let access = Access::new(&args.artifact)?;
            let max = artifact::DEFAULT_MAX_SIGNATURES;
            artifact::block_on(artifact::sign(
                &access.args(&args.artifact, &config, &dirs, max),
                request,
            ))
        }
        NotationCommand::Ls(args) => {
            let config = NotationConfig::load(&dirs)?;
            let max = max_signatures(args.max_signatures)?;
            let access = Access::new(&args.artifact)?;
            artifact::block_on(artifact::list(&access.args(
                &args.artifact,
                &config,
                &dirs,
                max,
            )))
        }
        NotationCommand::Inspect { list, output } => {
            let config = NotationConfig::load(&dirs)?;
            let max = max_signatures(list.max_signatures)?;
            let access = Access::new(&list.artifact)?;
            artifact::block_on(artifact::inspect(
                &access.args(&list.artifact, &config, &dirs, max),
                output == "json",
            ))
        }
        NotationCommand::Verify(args) => {
            let config = NotationConfig::load(&dirs)?;
            let max = max_signatures(args.list.max_signatures)?;
            let request = artifact::VerifyRequest {
                scope: args.scope.as_deref(),
                metadata: artifact::parse_flag_map(&args.user_metadata, "user-metadata")?,
                json: args.output == "json",
            };
            let access = Access::new(&args.list.artifact)?;
            artifact::block_on(artifact::verify(
                &access.args(&args.list.artifact, &config, &dirs, max),
                request,
            ))
        }
    }
}

/// notation's check of `--max-signatures`.
fn max_signatures(value: i64) -> Result<usize> {
    match usize::try_from(value) {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("max-signatures value {value} must be a positive number"),
    }
}

/// The registry flags of one command, resolved: TLS/HTTP choices with `--insecure-registry`
/// and `--plain-http` folded in, and the `-u`/`-p` credentials.
struct Access {
    registry: crate::cli::RegistryArgs,
    credentials: Option<artifact::Credentials>,
}

impl Access {
    fn new(args: &ArtifactArgs) -> Result<Self> {
        let username = args.username.clone().unwrap_or_default();
        let password = args.password.clone().filter(|p| !p.is_empty());
        // As notation: a password without a username is an identity token (OAuth2 refresh
        // token), carried as `Credentials` with an empty username.
        let credentials = match (username.is_empty(), password) {
            (true, None) => None,
            (_, password) => Some(artifact::Credentials {
                username,
                password: password.unwrap_or_else(|| Secret::new("")),
            }),
        };
        Ok(Access {
            registry: crate::cli::RegistryArgs {
                allow_http_registry: args.registry.allow_http_registry
                    || args.insecure_registry
                    || args.plain_http,
                allow_insecure_registry: args.registry.allow_insecure_registry,
            },
            credentials,
        })
    }

    fn args<'a>(
        &'a self,
        args: &'a ArtifactArgs,
        config: &'a NotationConfig,
        dirs: &'a NotationDirs,
        max_signatures: usize,
    ) -> artifact::ArtifactArgs<'a> {
        artifact::ArtifactArgs {
            reference: &args.reference,
            oci_layout: args.oci_layout,
            registry: &self.registry,
            credentials: self.credentials.as_ref(),
            config,
            dirs,
            max_signatures,
        }
    }
}

/// Asks `prompt [y/N]` on stderr and reads a line from stdin; `yes` skips the question.
fn confirm(prompt: &str, yes: bool) -> Result<bool> {
    if yes {
        return Ok(true);
    }
    eprint!("{prompt} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the answer")?;
    if !std::io::stdin().is_terminal() && line.is_empty() {
        eprintln!();
    }
    Ok(matches!(line.trim().to_lowercase().as_str(), "y" | "yes"))
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).map_err(|e| anyhow!("cannot resolve {}: {e}", path.display()))
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow!("cannot read {what} {}: {e}", path.display()))
}

/// Checks a local key pair: the key parses, matches the chain's leaf, and the chain meets the
/// Notary Project signing-chain requirements.
fn check_local_key(key_path: &Path, cert_path: &Path) -> Result<()> {
    let key = keys::read_signing_key(&key_path.display().to_string())?;
    let cert_text = String::from_utf8(read(cert_path, "certificate chain")?).map_err(|_| {
        anyhow!(
            "certificate chain {} is not PEM certificates",
            cert_path.display()
        )
    })?;
    let chain = Certificate::parse_pem_bundle(&cert_text).map_err(|e| {
        anyhow!(
            "certificate chain {} is not PEM certificates: {e}",
            cert_path.display()
        )
    })?;
    let leaf_key = chain[0].public_key().map_err(|e| {
        anyhow!(
            "leaf certificate of {} has an unusable key: {e}",
            cert_path.display()
        )
    })?;
    if leaf_key.to_spki_der() != key.public_key().to_spki_der() {
        bail!(
            "private key {} does not match the public key of the leaf certificate in {}",
            crate::keyref::display(&key_path.display().to_string()),
            cert_path.display()
        );
    }
    signet_notation::certs::check_signing_chain(&chain).map_err(|e| {
        anyhow!(
            "certificate chain {} does not meet the Notary Project requirements: {e}",
            cert_path.display()
        )
    })
}

fn key_add(dirs: &NotationDirs, args: KeyAddArgs) -> Result<()> {
    let mut keys = SigningKeys::load(dirs)?;
    if args.name.is_empty() {
        bail!("key name cannot be empty");
    }
    if keys.keys.iter().any(|k| k.name == args.name) {
        bail!("signing key with name {:?} already exists", args.name);
    }
    let suite = match (&args.key, &args.cert, &args.plugin) {
        (Some(key), Some(cert), _) => {
            if let Some(uri) = key.to_str().filter(|k| k.starts_with("pkcs11:")) {
                let parsed = signet_keys::uri::Pkcs11Uri::parse(uri)?;
                if parsed.pin_value().is_some() {
                    bail!(
                        "{}: the URI carries pin-value, which signingkeys.json would store in the clear; use pin-source=file:… or COSIGN_PKCS11_PIN",
                        crate::keyref::display(uri)
                    );
                }
            }
            check_local_key(key, cert)?;
            KeySuite {
                name: args.name.clone(),
                key_path: if key.to_str().is_some_and(|k| k.starts_with("pkcs11:")) {
                    key.display().to_string()
                } else {
                    absolute(key)?.display().to_string()
                },
                cert_path: absolute(cert)?.display().to_string(),
                ..KeySuite::default()
            }
        }
        (_, _, Some(plugin)) => {
            let id = args.id.clone().unwrap_or_default();
            if id.is_empty() {
                bail!("missing key id");
            }
            if plugin.is_empty() {
                bail!("plugin name cannot be empty");
            }
            let exe = dirs.plugin_executable(plugin);
            if !std::fs::symlink_metadata(&exe).is_ok_and(|m| m.is_file()) {
                bail!(
                    "plugin {plugin} not found: {} is missing or not a regular file",
                    exe.display()
                );
            }
            KeySuite {
                name: args.name.clone(),
                id,
                plugin_name: plugin.clone(),
                plugin_config: artifact::parse_flag_map(&args.plugin_config, "plugin-config")?,
                ..KeySuite::default()
            }
        }
        _ => bail!("either --key and --cert, or --plugin and --id, are required"),
    };
    keys.add(suite, args.default)?;
    keys.save(dirs)?;
    if args.default {
        println!("{}: marked as default", args.name);
    } else {
        println!("{}", args.name);
    }
    Ok(())
}

fn key_list(dirs: &NotationDirs) -> Result<()> {
    let keys = SigningKeys::load(dirs)?;
    let mut rows = vec![
        ["NAME", "KEY PATH", "CERTIFICATE PATH", "ID", "PLUGIN NAME"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for key in &keys.keys {
        let name = if keys.default.as_deref() == Some(key.name.as_str()) {
            format!("* {}", key.name)
        } else {
            key.name.clone()
        };
        rows.push(vec![
            name,
            key.key_path.clone(),
            key.cert_path.clone(),
            key.id.clone(),
            key.plugin_name.clone(),
        ]);
    }
    print!("{}", table::render(&rows));
    Ok(())
}

fn key_update(dirs: &NotationDirs, name: &str, default: bool) -> Result<()> {
    if !default {
        eprintln!("Warning: --default flag is not set, command did not take effect");
        return Ok(());
    }
    let mut keys = SigningKeys::load(dirs)?;
    keys.set_default(name)?;
    keys.save(dirs)?;
    println!("{name}: marked as default");
    Ok(())
}

fn key_delete(dirs: &NotationDirs, names: &[String]) -> Result<()> {
    let mut keys = SigningKeys::load(dirs)?;
    let previous_default = keys.default.clone();
    let removed = keys
        .remove(names)
        .context("keys deletion failed to complete, nothing was removed")?;
    keys.save(dirs)?;
    let is_default = |n: &String| previous_default.as_ref() == Some(n);
    match removed.as_slice() {
        [one] if is_default(one) => println!(
            "Removed default key {one} from Notation signing key list. The source key still exists."
        ),
        [one] => {
            println!("Removed {one} from Notation signing key list. The source key still exists.")
        }
        many => {
            println!(
                "Removed the following keys from Notation signing key list. The source keys still exist."
            );
            for name in many {
                if is_default(name) {
                    println!("{name} (default)");
                } else {
                    println!("{name}");
                }
            }
        }
    }
    Ok(())
}

/// Copies one certificate file into a named store, as notation's `truststore.AddCert`.
fn add_one_cert(store_dir: &Path, file: &Path) -> Result<()> {
    let source = absolute(file)?;
    let meta =
        std::fs::metadata(&source).map_err(|e| anyhow!("cannot read {}: {e}", source.display()))?;
    if !meta.is_file() {
        bail!("{} is not a regular file", source.display());
    }
    let bytes = read(&source, "certificate file")?;
    let certs = truststore::parse_certificates(&bytes)?;
    if certs.is_empty() {
        bail!("no valid certificate found in the file");
    }
    let name = source
        .file_name()
        .ok_or_else(|| anyhow!("{} has no file name", source.display()))?;
    let target = store_dir.join(name);
    if fsio::exists(&target) {
        bail!("certificate already exists in the Trust Store");
    }
    fsio::write_private(&target, &bytes)
}

fn cert_add(dirs: &NotationDirs, store: &StoreArgs, files: &[PathBuf]) -> Result<()> {
    truststore::check_store_type(&store.store_type)?;
    truststore::check_store_name(&store.store)?;
    let dir = truststore::store_dir(&dirs.x509_store_root(), &store.store_type, &store.store);
    let mut added = Vec::new();
    let mut failed = Vec::new();
    for file in files {
        match add_one_cert(&dir, file) {
            Ok(()) => added.push(file.display().to_string()),
            Err(e) => failed.push(format!(
                "{}, with error {:?}",
                file.display(),
                crate::exit::render(&e)
            )),
        }
    }
    if !added.is_empty() {
        println!(
            "Successfully added following certificates to named store {} of type {}:",
            store.store, store.store_type
        );
        for file in &added {
            println!("{file}");
        }
    }
    if !failed.is_empty() {
        bail!(
            "failed to add following certificates to named store {} of type {}: {}",
            store.store,
            store.store_type,
            failed.join("; ")
        );
    }
    Ok(())
}

fn cert_list(dirs: &NotationDirs, store_type: Option<&str>, store: Option<&str>) -> Result<()> {
    let root = dirs.x509_store_root();
    if let Some(t) = store_type {
        truststore::check_store_type(t)?;
    }
    if let Some(s) = store {
        truststore::check_store_name(s)?;
    }
    let types: Vec<&str> = match store_type {
        Some(t) => vec![t],
        None => truststore::STORE_TYPES.to_vec(),
    };
    let mut listed = Vec::new();
    for t in types {
        let found = match store {
            Some(s) => truststore::list_store(&root, t, s),
            None => truststore::list_type(&root, t),
        };
        listed.extend(found.context("failed to list certificates stored in the trust store")?);
    }
    if listed.is_empty() {
        return Ok(());
    }
    let mut rows = vec![
        ["STORE TYPE", "STORE NAME", "CERTIFICATE"]
            .map(str::to_owned)
            .to_vec(),
    ];
    rows.extend(
        listed
            .into_iter()
            .map(|l| vec![l.store_type, l.store, l.file]),
    );
    print!("{}", table::render(&rows));
    Ok(())
}

fn cert_show(dirs: &NotationDirs, store: &StoreArgs, file: &str) -> Result<()> {
    truststore::check_store_type(&store.store_type)?;
    truststore::check_store_name(&store.store)?;
    truststore::check_file_name(file)?;
    let path =
        truststore::store_dir(&dirs.x509_store_root(), &store.store_type, &store.store).join(file);
    let certs = truststore::read_certificate_file(&path)
        .with_context(|| format!("failed to show details of certificate {file}"))?;
    if certs.is_empty() {
        bail!(
            "failed to show details of certificate {file}, with error: no valid certificate found in the file"
        );
    }
    print!("{}", truststore::show(&certs));
    Ok(())
}

fn cert_delete(
    dirs: &NotationDirs,
    store: &StoreArgs,
    file: Option<&str>,
    all: bool,
    yes: bool,
) -> Result<()> {
    truststore::check_store_name(&store.store)?;
    truststore::check_store_type(&store.store_type)?;
    let dir = truststore::store_dir(&dirs.x509_store_root(), &store.store_type, &store.store);
    let (s, t) = (&store.store, &store.store_type);
    if all {
        if !confirm(
            &format!("Are you sure you want to delete all certificates in {s:?} of type {t:?}?"),
            yes,
        )? {
            bail!("operation cancelled: nothing was deleted");
        }
        if !std::fs::symlink_metadata(&dir).is_ok_and(|m| m.is_dir()) {
            bail!(
                "failed to delete the named trust store: {} does not exist",
                dir.display()
            );
        }
        std::fs::remove_dir_all(&dir).map_err(|e| {
            anyhow!(
                "failed to delete the named trust store: cannot remove {}: {e}",
                dir.display()
            )
        })?;
        println!("Successfully deleted {}", dir.display());
        return Ok(());
    }
    let file = file.ok_or_else(|| {
        anyhow!("to delete a specific certificate, certificate fileName cannot be empty")
    })?;
    truststore::check_file_name(file)?;
    let path = dir.join(file);
    if !confirm(
        &format!("Are you sure you want to delete {file:?} in {s:?} of type {t:?}?"),
        yes,
    )? {
        bail!("operation cancelled: nothing was deleted");
    }
    if !fsio::exists(&path) {
        bail!(
            "failed to delete the certificate file: {} does not exist",
            path.display()
        );
    }
    std::fs::remove_file(&path).map_err(|e| {
        anyhow!(
            "failed to delete the certificate file: cannot remove {}: {e}",
            path.display()
        )
    })?;
    if std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_none())
        && let Err(e) = std::fs::remove_dir(&dir)
    {
        eprintln!(
            "Warning: failed to remove the empty trust store directory {}: {e}",
            dir.display()
        );
    }
    println!("Successfully deleted {file} from trust store {s} of type {t}");
    Ok(())
}

fn policy_import(dirs: &NotationDirs, file: &Path, force: bool) -> Result<()> {
    let json = std::fs::read(file).map_err(|e| {
        anyhow!(
            "failed to read OCI trust policy configuration: {}: {e}",
            file.display()
        )
    })?;
    TrustPolicyDocument::from_json(&json)
        .context("failed to validate OCI trust policy configuration")?;
    let path = dirs.file(OCI_TRUST_POLICY);
    let legacy = dirs.file(LEGACY_TRUST_POLICY);
    if fsio::exists(&path) || fsio::exists(&legacy) {
        if force {
            eprintln!("Warning: existing OCI trust policy configuration will be overwritten");
        } else if !std::io::stdin().is_terminal()
            || !confirm(
                "The OCI trust policy configuration already exists, do you want to overwrite it?",
                false,
            )?
        {
            bail!(
                "the OCI trust policy configuration {} already exists; use --force to overwrite it",
                path.display()
            );
        }
    }
    fsio::write_private(&path, &json).context("failed to write OCI trust policy configuration")?;
    if fsio::exists(&legacy) {
        match std::fs::remove_file(&legacy) {
            Ok(()) => println!("Deleted old trust policy configuration trustpolicy.json."),
            Err(e) => eprintln!(
                "Warning: failed to delete old trust policy configuration trustpolicy.json: {e}"
            ),
        }
    }
    println!(
        "Successfully imported OCI trust policy configuration to {}.",
        path.display()
    );
    Ok(())
}

fn policy_show(dirs: &NotationDirs) -> Result<()> {
    let path = dirs.file(OCI_TRUST_POLICY);
    let legacy = dirs.file(LEGACY_TRUST_POLICY);
    let json = match std::fs::read(&path) {
        Ok(json) => json,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && fsio::exists(&legacy) => {
            eprintln!(
                "Warning: old trust policy `trustpolicy.json` is deprecated; please update the trust policy configuration via `notation policy import`."
            );
            std::fs::read(&legacy).map_err(|e| anyhow!("failed to show OCI trust policy: {e}"))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "failed to show OCI trust policy as it does not exist. You can import one using `notation policy import <path-to-policy.json>`"
        ),
        Err(e) => bail!("failed to show OCI trust policy: {e}"),
    };
    let valid = TrustPolicyDocument::from_json(&json);
    std::io::stdout()
        .write_all(&json)
        .context("cannot write to stdout")?;
    valid.map(|_| ()).context(
        "existing OCI trust policy configuration is invalid, update it with `notation policy import <path-to-policy.json>`",
    )
}

//! `signet remote …`: the reference client of `signet server`, flag-compatible with the
//! hosted service's `signing-tool` for the commands its OCI signing example uses
//! (`signing-tool -c -t $TOKEN -a $API_URL imagesigning add DigestSigning …`). Global flags
//! come before the subcommand, as there. Answers are printed as the service's JSON (pretty,
//! camelCase as served) or, with `--output table`, as aligned columns. Besides products and
//! signing requests: the PKI (certificate profiles, the internal CA, CSRs and chains of
//! products' certificates under an external root), client registrations and the products'
//! secrets they receive.

use std::io::Write;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::remote::client::{Options, enc};
use crate::remote::clients::{self as reg, Registration};
use signet_keys::SignaturePadding;

use crate::remote::digest::{self, Encoding, SaltLength};
use crate::remote::error::{ApiError, RequestFinished, RequestPending};
use crate::remote::table::{self, Kind};
use crate::remote::wait;
use crate::remote::{Client, Secret, pki as rpki, secrets, state, token};

/// The environment variable naming the API URL when `-a` is not given.
pub const API_ENV: &str = "SIGNET_API";

/// How answers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum RemoteOutput {
    /// The service's JSON, pretty-printed.
    #[default]
    Json,
    /// Aligned columns for people.
    Table,
}

/// `signet remote` global flags (given before the subcommand, as signing-tool's).
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// Take the settings from the command line (accepted for signing-tool compatibility;
    /// always the case here).
    #[arg(short = 'c')]
    pub cmdline: bool,
    /// The bearer token: the token itself, @FILE to read it from a file (which should be
    /// mode 600), or @- to read it from standard input [default: $SIGNET_TOKEN].
    #[arg(short = 't', long = "token", value_name = "TOKEN")]
    pub token: Option<Secret>,
    /// The organisation's API URL, e.g. https://signet.example.com/acme/api/v1.
    #[arg(short = 'a', long = "api", value_name = "API_URL", env = API_ENV)]
    pub api: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "json", global = true)]
    pub output: RemoteOutput,
    /// The same as --output json (signing-tool's flag).
    #[arg(long, global = true, conflicts_with = "output")]
    pub json: bool,
    /// Do not verify the service's TLS certificate (dangerous; prints a warning).
    #[arg(long = "skipssl")]
    pub skipssl: bool,
    /// Print each HTTP request's method, URL and status on stderr (never the token).
    #[arg(long, global = true)]
    pub debug: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: RemoteCommand,
}

/// `signet remote` subcommands.
#[derive(Debug, Subcommand)]
pub enum RemoteCommand {
    /// Products: signing keys and the rules for using them.
    Product {
        /// What to do.
        #[command(subcommand)]
        command: ProductCommand,
    },
    /// Image-signing requests.
    #[command(name = "imagesigning")]
    ImageSigning {
        /// What to do.
        #[command(subcommand)]
        command: ImageSigningCommand,
    },
    /// The organisation's PKI: certificate profiles and the internal CA.
    Pki {
        /// What to do.
        #[command(subcommand)]
        command: PkiCommand,
    },
    /// Clients registered to receive products' secrets, and their approval.
    Clients {
        /// What to do.
        #[command(subcommand)]
        command: ClientsCommand,
    },
    /// Products' secrets, as distributed to registered clients.
    Secrets {
        /// What to do.
        #[command(subcommand)]
        command: SecretsCommand,
    },
}

/// `approve -I ID [--reason …]` of products, image signings and client registrations.
#[derive(Debug, Args)]
pub struct ApproveArgs {
    /// The id of the request (or client) to approve.
    #[arg(short = 'I', long = "id")]
    pub id: String,
    /// Why (kept in the audit trail).
    #[arg(long)]
    pub reason: Option<String>,
}

/// `reject -I ID --reason …` of products, image signings and client registrations.
#[derive(Debug, Args)]
pub struct RejectArgs {
    /// The id of the request (or client) to reject.
    #[arg(short = 'I', long = "id")]
    pub id: String,
    /// Why (required).
    #[arg(long)]
    pub reason: String,
}

/// `signet remote product` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProductCommand {
    /// Create a product from a JSON file (an admin; product approvers then approve it).
    #[command(visible_alias = "add")]
    Create {
        /// The product JSON (signing-tool's -T template).
        #[arg(long = "file", short = 'T', value_name = "FILE")]
        file: String,
    },
    /// Show a product.
    Get {
        /// The product id.
        #[arg(short = 'I', long = "id")]
        id: String,
        /// Write the JSON to this file instead of stdout.
        #[arg(short = 'O', long = "output-file", value_name = "FILE")]
        output_file: Option<String>,
    },
    /// List the products you may read.
    #[command(visible_alias = "getall")]
    List {
        /// Only this page (10 per page, from 1); default: every page.
        #[arg(long)]
        page: Option<u64>,
        /// Only products with this name.
        #[arg(long)]
        name: Option<String>,
        /// Only products in this state (a name such as Approved, or a number).
        #[arg(long, value_parser = state::parse)]
        state: Option<u64>,
    },
    /// Print an operation's public key (PEM), e.g. for `signet verify --key`.
    #[command(visible_alias = "getpubkey")]
    PublicKey {
        /// The product id.
        #[arg(short = 'P', long = "product")]
        product: String,
        /// The operation id.
        #[arg(long = "operid")]
        operid: String,
        /// Write the PEM to this file instead of stdout.
        #[arg(short = 'O', long = "output-file", value_name = "FILE")]
        output_file: Option<String>,
        /// Refuse the key unless the SHA-256 of its DER SubjectPublicKeyInfo is this (hex).
        #[arg(long)]
        fingerprint: Option<String>,
    },
    /// Approve a product request (a new product's request has the product's id).
    Approve(ApproveArgs),
    /// Reject a product request.
    Reject(RejectArgs),
    /// Change a product from a JSON file (name, description and enabled apply at once;
    /// operation or rule changes wait for approval).
    Update {
        /// The product id.
        #[arg(short = 'I', long = "id")]
        id: String,
        /// The product JSON.
        #[arg(long = "file", short = 'T', value_name = "FILE")]
        file: String,
    },
    /// Disable a product: no more signing with its keys.
    Disable {
        /// The product id.
        #[arg(short = 'I', long = "id")]
        id: String,
    },
    /// List the product requests waiting for approval, or show one with -I.
    #[command(visible_alias = "getapproval", alias = "getapprovals")]
    Approvals {
        /// Show this request only.
        #[arg(short = 'I', long = "id")]
        id: Option<String>,
        /// Only this page; default: every page.
        #[arg(long)]
        page: Option<u64>,
    },
    /// Write the CSR (PEM) of a product's certificate to be issued under an external root.
    Csr {
        /// The product (id, or name).
        #[arg(short = 'P', long = "product")]
        product: String,
        /// The common name of the product's caInfo entry.
        #[arg(long)]
        cn: String,
        /// Write the CSR to this file instead of stdout.
        #[arg(short = 'O', long = "output-file", value_name = "FILE")]
        output_file: Option<String>,
    },
    /// A product's certificates issued under an external root.
    Certificate {
        /// What to do.
        #[command(subcommand)]
        command: CertificateCommand,
    },
}

/// `signet remote product certificate` subcommands.
#[derive(Debug, Subcommand)]
pub enum CertificateCommand {
    /// Upload the certificate issued for a product's CSR, with its chain; prints the entry.
    Upload {
        /// The product (id, or name).
        #[arg(short = 'P', long = "product")]
        product: String,
        /// The common name of the product's caInfo entry.
        #[arg(long)]
        cn: String,
        /// The PEM certificates: the issued certificate first, then its issuers (root last).
        #[arg(long, value_name = "FILE")]
        chain: String,
    },
}

/// `signet remote pki` subcommands.
#[derive(Debug, Subcommand)]
pub enum PkiCommand {
    /// Certificate profiles: what the certificates issued with them contain.
    Profile {
        /// What to do.
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// The organisation's internal CA (a root and an intermediate).
    Ca {
        /// What to do.
        #[command(subcommand)]
        command: CaCommand,
    },
}

/// `signet remote pki profile` subcommands.
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Create a profile from a YAML or JSON file (its top-level name and certificateType:
    /// ENDENTITY, INTERMEDIATE, SUBCA or ROOT); prints the parsed profile with its id.
    #[command(visible_alias = "add")]
    Create {
        /// The profile file (YAML or JSON), sent as it is.
        #[arg(long = "file", short = 'T', value_name = "FILE")]
        file: String,
    },
    /// Show a profile (the parsed profile with its id).
    Get {
        /// The profile id.
        #[arg(short = 'I', long = "id")]
        id: String,
    },
    /// List the profiles.
    #[command(visible_alias = "getall")]
    List {
        /// Only this page; default: every page.
        #[arg(long)]
        page: Option<u64>,
        /// Only profiles with this name.
        #[arg(long)]
        name: Option<String>,
    },
}

/// `signet remote pki ca` subcommands.
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Create the organisation's internal CA (once); prints its subject and chain.
    Init {
        /// The CA's distinguished name, as the service reads it.
        #[arg(long, value_name = "DN")]
        subject: String,
    },
    /// Print the internal CA's chain (PEM, intermediate first, root last).
    Get {
        /// Write the PEM chain to this file instead of stdout.
        #[arg(short = 'O', long = "output-file", value_name = "FILE")]
        output_file: Option<String>,
    },
}

/// `signet remote clients` subcommands.
#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Register a client for a product's secrets with its encryption public key (it waits
    /// for approval).
    #[command(visible_alias = "add")]
    Register {
        /// The product (id) whose secrets the client receives.
        #[arg(short = 'P', long = "product")]
        product: String,
        /// The client's name.
        #[arg(short = 'N', long = "name")]
        name: String,
        /// The client's public key (PEM) the secrets are encrypted to.
        #[arg(long, value_name = "FILE")]
        public_key: String,
        /// The client type.
        #[arg(long = "type", default_value = "ProductionPC")]
        client_type: String,
        /// The user the client acts for.
        #[arg(long)]
        client_user: Option<String>,
        /// The client's description.
        #[arg(short = 'D', long = "description", default_value = "")]
        description: String,
    },
    /// Approve a client's registration.
    Approve(ApproveArgs),
    /// Reject a client's registration.
    Reject(RejectArgs),
    /// List the registered clients.
    #[command(visible_alias = "getall")]
    List {
        /// Only clients of this product (id).
        #[arg(short = 'P', long = "product")]
        product: Option<String>,
        /// Only clients in this state (a name such as ApprovalRequired, or a number).
        #[arg(long, value_parser = state::parse)]
        state: Option<u64>,
        /// Only this page; default: every page.
        #[arg(long)]
        page: Option<u64>,
    },
    /// Show a client.
    Get {
        /// The client id.
        #[arg(short = 'I', long = "id")]
        id: String,
    },
    /// Revoke a client: it receives no more secrets.
    Revoke {
        /// The client id.
        #[arg(short = 'I', long = "id")]
        id: String,
    },
    /// List the client registrations waiting for approval.
    #[command(visible_alias = "getapprovals", alias = "getapproval")]
    Approvals {
        /// Only this page; default: every page.
        #[arg(long)]
        page: Option<u64>,
    },
}

/// `signet remote secrets` subcommands.
#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Write a product's secrets to a new file: the compact JWE as served, or with -C the
    /// decrypted JSON.
    Get {
        /// The product (id).
        #[arg(short = 'P', long = "product")]
        product: String,
        /// Decrypt with this client private key (unencrypted PEM) and write the JSON.
        #[arg(
            short = 'C',
            long = "client-key",
            visible_alias = "private-key",
            value_name = "FILE"
        )]
        client_key: Option<String>,
        /// The file to write (it must not exist).
        #[arg(short = 'O', long = "output-file", value_name = "FILE")]
        output_file: String,
    },
}

/// `signet remote imagesigning` subcommands.
#[derive(Debug, Subcommand)]
pub enum ImageSigningCommand {
    /// Request a signature over a digest (or a cosign payload); prints the request with its id.
    Add(AddArgs),
    /// Approve a signing request (signing completes before the answer).
    Approve(ApproveArgs),
    /// Reject a signing request.
    Reject(RejectArgs),
    /// Show a signing request, or with -O write its signature.
    Get(GetArgs),
    /// List the signing requests you may read.
    #[command(visible_alias = "getall")]
    List {
        /// Only this page; default: every page.
        #[arg(long)]
        page: Option<u64>,
        /// Only requests in this state (a name such as Ready, or a number).
        #[arg(long, value_parser = state::parse)]
        state: Option<u64>,
        /// Only requests for this product (id).
        #[arg(long)]
        product: Option<String>,
        /// Only requests by this user.
        #[arg(long)]
        requester: Option<String>,
        /// Only requests with this name.
        #[arg(long)]
        name: Option<String>,
    },
    /// List the signing requests waiting for your approval, or show one with -I.
    #[command(visible_alias = "getapprovals", alias = "getapproval")]
    Approvals {
        /// Show this request only.
        #[arg(short = 'I', long = "id")]
        id: Option<String>,
        /// Only this page; default: every page.
        #[arg(long)]
        page: Option<u64>,
    },
}

/// `imagesigning add` flags.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["digest", "payload_file"])))]
pub struct AddArgs {
    /// The operation type: DigestSigning (the one signet remote sends).
    pub op_type: String,
    /// The request's name.
    #[arg(short = 'N', long = "name", default_value = "signing request")]
    pub name: String,
    /// The request's description.
    #[arg(short = 'D', long = "description", default_value = "")]
    pub description: String,
    /// The product (id, or name).
    #[arg(short = 'P', long = "product")]
    pub product: String,
    /// The operation (id, or name).
    #[arg(long = "operid")]
    pub operid: String,
    /// The digest to sign, standard base64 of the raw digest bytes.
    #[arg(short = 'p', long = "digest", conflicts_with = "payload_file")]
    pub digest: Option<String>,
    /// The digest algorithm: SHA256 (the default, what cosign payloads use), SHA384, SHA512.
    #[arg(short = 'H', long = "hash", default_value = "SHA256", value_parser = ["SHA256", "SHA384", "SHA512"], ignore_case = true)]
    pub hash: String,
    /// Send this file (a cosign payload, as `signet generate` writes) instead of a digest:
    /// the service hashes it and checks its image against the operation's repositories.
    #[arg(long, value_name = "FILE")]
    pub payload_file: Option<String>,
    /// RSA signature padding: PKCS_v1_5 (the service's default) or PSS (MGF1 with the
    /// digest's hash, salt as long as the digest). ECDSA keys ignore it.
    #[arg(long, value_name = "PADDING", value_parser = parse_padding)]
    pub padding: Option<SignaturePadding>,
    /// PSS salt length: the digest's length in bytes, or `hash` (the only lengths the service
    /// signs with).
    #[arg(long = "salt-length", value_name = "N|hash", value_parser = SaltLength::parse)]
    pub salt_length: Option<SaltLength>,
    /// ECDSA signature encoding: DER (the service's default) or RAW (fixed-size r||s). RSA
    /// signatures have one form.
    #[arg(long, value_name = "ENCODING", value_parser = parse_encoding)]
    pub encoding: Option<Encoding>,
    /// Wait until the request is signed (through its approval), check the signature over the
    /// digest with the operation's (or certificate's) public key, and write it to -O FILE (or
    /// print the finished request). Digests (-p) only.
    #[arg(long, requires = "digest")]
    pub wait: bool,
    /// How long --wait waits, in seconds.
    #[arg(long, default_value_t = 1800, requires = "wait")]
    pub wait_timeout: u64,
    /// With --wait: write the signature (raw bytes) to this file.
    #[arg(
        short = 'O',
        long = "output-file",
        value_name = "FILE",
        requires = "wait"
    )]
    pub output_file: Option<String>,
}

fn parse_padding(s: &str) -> Result<SignaturePadding, String> {
    digest::parse_padding(s).ok_or_else(|| format!("{s:?} is not a padding (PKCS_v1_5 or PSS)"))
}

fn parse_encoding(s: &str) -> Result<Encoding, String> {
    Encoding::parse(s).ok_or_else(|| format!("{s:?} is not an encoding (DER or RAW)"))
}

/// `imagesigning get` flags.
#[derive(Debug, Args)]
pub struct GetArgs {
    /// The request id.
    #[arg(short = 'I', long = "id")]
    pub id: String,
    /// Write the signature to this file (the raw bytes; base64 text with --skipBase64).
    #[arg(short = 'O', long = "output-file", value_name = "FILE")]
    pub output_file: Option<String>,
    /// Write the signature as base64 text, as `cosign attach signature --signature` reads it.
    #[arg(long = "skipBase64", alias = "skip-base64", requires = "output_file")]
    pub skip_base64: bool,
    /// Write the signing certificate (PEM; DetachedSignature operations) to this file.
    #[arg(long, value_name = "FILE")]
    pub certificate_out: Option<String>,
    /// Write the rest of the certificate chain (PEM, root last) to this file.
    #[arg(long, value_name = "FILE")]
    pub chain_out: Option<String>,
    /// Wait until the request is Ready (or Rejected, Failed) first.
    #[arg(long)]
    pub wait: bool,
    /// How long --wait waits, in seconds.
    #[arg(long, default_value_t = 1800, requires = "wait")]
    pub wait_timeout: u64,
}

/// Builds the client from the global flags: API URL and token (see [`token::resolve`]).
pub fn connect(api: Option<&str>, token_arg: Option<&Secret>, options: Options) -> Result<Client> {
    let Some(api) = api.filter(|a| !a.trim().is_empty()) else {
        bail!(
            "no API URL: pass -a API_URL (e.g. https://signet.example.com/acme/api/v1) or set {API_ENV}"
        );
    };
    let token = token::resolve(
        token_arg,
        std::env::var(token::TOKEN_ENV).ok(),
        &mut std::io::stdin().lock(),
        &mut |w| eprintln!("{w}"),
    )?;
    Client::new(api, &token, options)
}

/// Runs `signet remote …`.
pub async fn run(args: RemoteArgs) -> Result<()> {
    let out = if args.json {
        RemoteOutput::Json
    } else {
        args.output
    };
    let client = connect(
        args.api.as_deref(),
        args.token.as_ref(),
        Options {
            skip_tls_verify: args.skipssl,
            debug: args.debug,
        },
    )?;
    match args.command {
        RemoteCommand::Product { command } => product(&client, out, command).await,
        RemoteCommand::ImageSigning { command } => image_signing(&client, out, command).await,
        RemoteCommand::Pki { command } => pki(&client, out, command).await,
        RemoteCommand::Clients { command } => clients(&client, out, command).await,
        RemoteCommand::Secrets { command } => secrets_cmd(&client, command).await,
    }
}

/// Writes to stdout, returning an error (not panicking, as `print!` does) on a closed pipe.
fn emit(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing to standard output")
}

fn print(out: RemoteOutput, kind: Kind, v: &Value) -> Result<()> {
    let text = match out {
        RemoteOutput::Json => format!("{}\n", serde_json::to_string_pretty(v)?),
        RemoteOutput::Table => table::render(kind, v),
    };
    emit(&text)
}

fn print_decision(out: RemoteOutput, what: &str, id: &str, decision: &str) -> Result<()> {
    match out {
        RemoteOutput::Json => {
            let v = json!({"id": id, "decision": decision});
            emit(&format!("{}\n", serde_json::to_string_pretty(&v)?))?;
        }
        RemoteOutput::Table => {
            let done = if decision == "APPROVE" {
                "approved"
            } else {
                "rejected"
            };
            emit(&format!("{what} {id} {done}\n"))?;
        }
    }
    Ok(())
}

fn read_json_file(path: &str) -> Result<Value> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{path} is not valid JSON"))
}

fn decision(id: &str, approve: bool, reason: Option<&str>) -> Result<Value> {
    let mut body = json!({
        "requestId": id,
        "decision": if approve { "APPROVE" } else { "REJECT" },
    });
    match reason {
        Some(r) if !r.trim().is_empty() => body["reason"] = Value::from(r),
        _ if !approve => bail!("a rejection needs a reason: pass --reason"),
        _ => {}
    }
    Ok(body)
}

fn with_query(path: &str, params: &[(&str, Option<String>)]) -> String {
    let q: Vec<String> = params
        .iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", enc(v))))
        .collect();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

async fn list(client: &Client, path: &str, page: Option<u64>) -> Result<Value> {
    match page {
        Some(0) => bail!("--page counts from 1"),
        Some(p) => {
            let sep = if path.contains('?') { '&' } else { '?' };
            client.get(&format!("{path}{sep}page={p}")).await
        }
        None => client.get_all(path).await,
    }
}

fn write_file(path: &str, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("writing {path}"))
}

fn read_text_file(path: &str, what: &str) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {what} {path}"))
}

/// Puts `hint` before the service's error when it answered `status` (the exit code stays
/// the service's).
fn hint_on<T>(r: Result<T>, status: u16, hint: &str) -> Result<T> {
    r.map_err(|e| {
        if e.downcast_ref::<ApiError>()
            .is_some_and(|a| a.status == status)
        {
            e.context(hint.to_string())
        } else {
            e
        }
    })
}

/// The id of the `caInfo` entry named `cn` of `product` (id or name).
async fn ca_entry_id(client: &Client, product: &str, cn: &str) -> Result<String> {
    let p = client.get(&format!("/products/{}", enc(product))).await?;
    rpki::ca_id(&p, product, cn)
}

async fn product(client: &Client, out: RemoteOutput, cmd: ProductCommand) -> Result<()> {
    match cmd {
        ProductCommand::Create { file } => {
            let body = read_json_file(&file)?;
            let v = client
                .post("/products", &body)
                .await?
                .context("the service answered the new product with no body")?;
            print(out, Kind::Product, &v)
        }
        ProductCommand::Get { id, output_file } => {
            let v = client.get(&format!("/products/{}", enc(&id))).await?;
            match output_file {
                Some(path) => write_file(
                    &path,
                    format!("{}\n", serde_json::to_string_pretty(&v)?).as_bytes(),
                ),
                None => print(out, Kind::Product, &v),
            }
        }
        ProductCommand::List { page, name, state } => {
            let path = with_query(
                "/products",
                &[("name", name), ("state", state.map(|s| s.to_string()))],
            );
            let v = list(client, &path, page).await?;
            print(out, Kind::Product, &v)
        }
        ProductCommand::PublicKey {
            product,
            operid,
            output_file,
            fingerprint,
        } => {
            let pem = client
                .get_bytes(
                    &format!(
                        "/products/{}/operations/{}/publickey",
                        enc(&product),
                        enc(&operid)
                    ),
                    "application/x-pem-file",
                )
                .await?;
            let text = String::from_utf8(pem).context("the public key is not PEM text")?;
            let key = signet_crypto::PublicKey::from_pem(&text)
                .context("the service's public key is not a PEM public key")?;
            if let Some(want) = fingerprint {
                let want: String = want
                    .chars()
                    .filter(|c| *c != ':')
                    .collect::<String>()
                    .to_ascii_lowercase();
                let have: String = key
                    .sha256_fingerprint()
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect();
                if want != have {
                    bail!(
                        "the public key's SHA-256 fingerprint is {have}, not the expected {want}"
                    );
                }
            }
            match output_file {
                Some(path) => write_file(&path, text.as_bytes()),
                None => emit(&text),
            }
        }
        ProductCommand::Approve(ApproveArgs { id, reason }) => {
            let body = decision(&id, true, reason.as_deref())?;
            client.post("/products/approvals", &body).await?;
            print_decision(out, "Product request", &id, "APPROVE")
        }
        ProductCommand::Reject(RejectArgs { id, reason }) => {
            let body = decision(&id, false, Some(&reason))?;
            client.post("/products/approvals", &body).await?;
            print_decision(out, "Product request", &id, "REJECT")
        }
        ProductCommand::Update { id, file } => {
            let body = read_json_file(&file)?;
            let v = client
                .put(&format!("/products/{}", enc(&id)), &body)
                .await?
                .context("the service answered the change with no body")?;
            // 200: the product; 202: a product request waiting for approval.
            let kind = if v.get("changes").is_some() {
                Kind::ProductRequest
            } else {
                Kind::Product
            };
            print(out, kind, &v)
        }
        ProductCommand::Disable { id } => {
            let v = client
                .post_empty(&format!("/products/{}/disable", enc(&id)))
                .await?
                .unwrap_or_else(|| json!({"id": id, "enabled": false}));
            print(out, Kind::Product, &v)
        }
        ProductCommand::Approvals { id, page } => {
            let v = match id {
                Some(id) => {
                    client
                        .get(&format!("/products/approvals/{}", enc(&id)))
                        .await?
                }
                None => list(client, "/products/approvals", page).await?,
            };
            print(out, Kind::ProductRequest, &v)
        }
        ProductCommand::Csr {
            product,
            cn,
            output_file,
        } => {
            let id = ca_entry_id(client, &product, &cn).await?;
            let entry = client.get(&format!("/cas/cas/{}", enc(&id))).await?;
            let pem = rpki::csr_pem(&entry, &cn)?;
            match output_file {
                Some(path) => {
                    write_file(&path, pem.as_bytes())?;
                    eprintln!("CSR of {cn:?} ({id}) written to {path}");
                    Ok(())
                }
                None => emit(&pem),
            }
        }
        ProductCommand::Certificate {
            command: CertificateCommand::Upload { product, cn, chain },
        } => {
            let text = read_text_file(&chain, "certificate chain")?;
            let body = rpki::chain_body(&text, &chain)?;
            let id = ca_entry_id(client, &product, &cn).await?;
            let v = client
                .patch(&format!("/cas/cas/{}", enc(&id)), &body)
                .await?
                .context("the service answered the certificate upload with no body")?;
            print(out, Kind::CaEntry, &v)
        }
    }
}

async fn pki(client: &Client, out: RemoteOutput, cmd: PkiCommand) -> Result<()> {
    match cmd {
        PkiCommand::Profile {
            command: ProfileCommand::Create { file },
        } => {
            let text = read_text_file(&file, "profile")?;
            let body = rpki::profile_body(&text, &file)?;
            let v = client
                .post("/cas/profiles", &body)
                .await?
                .context("the service answered the new profile with no body")?;
            print(out, Kind::Profile, &rpki::profile_view(&v))
        }
        PkiCommand::Profile {
            command: ProfileCommand::Get { id },
        } => {
            let v = client.get(&format!("/cas/profiles/{}", enc(&id))).await?;
            print(out, Kind::Profile, &rpki::profile_view(&v))
        }
        PkiCommand::Profile {
            command: ProfileCommand::List { page, name },
        } => {
            let path = with_query("/cas/profiles", &[("name", name)]);
            let v = list(client, &path, page).await?;
            print(out, Kind::Profile, &v)
        }
        PkiCommand::Ca {
            command: CaCommand::Init { subject },
        } => {
            if subject.trim().is_empty() {
                bail!("--subject: give the CA's distinguished name");
            }
            let answer = client
                .post("/cas/internal", &json!({ "subject": subject }))
                .await;
            let v = hint_on(
                answer,
                409,
                "the internal CA exists already (`signet remote pki ca get` prints its chain)",
            )?
            .context("the service answered the new CA with no body")?;
            print(out, Kind::InternalCa, &v)
        }
        PkiCommand::Ca {
            command: CaCommand::Get { output_file },
        } => {
            let fetched = client
                .get_bytes("/cas/internal/chain", "application/x-pem-file")
                .await;
            let pem = hint_on(
                fetched,
                404,
                "no internal CA (create it with `signet remote pki ca init --subject DN`)",
            )?;
            let text = String::from_utf8(pem).context("the CA chain is not PEM text")?;
            if !text.contains("-----BEGIN CERTIFICATE-----") {
                bail!("the service's CA chain holds no PEM certificate");
            }
            match output_file {
                Some(path) => {
                    write_file(&path, text.as_bytes())?;
                    eprintln!("CA chain written to {path}");
                    Ok(())
                }
                None => emit(&text),
            }
        }
    }
}

/// Prints the answer to a decision on a client registration (the service's JSON; for
/// people, one line and the clients it retired).
fn print_client_decision(
    out: RemoteOutput,
    id: &str,
    decision: &str,
    answer: Option<Value>,
) -> Result<()> {
    let Some(v) = answer else {
        return print_decision(out, "Client registration", id, decision);
    };
    match out {
        RemoteOutput::Json => emit(&format!("{}\n", serde_json::to_string_pretty(&v)?)),
        RemoteOutput::Table => {
            print_decision(out, "Client registration", id, decision)?;
            let retired = reg::retired(&v);
            if retired.is_empty() {
                Ok(())
            } else {
                emit(&format!("retired clients: {}\n", retired.join(", ")))
            }
        }
    }
}

async fn clients(client: &Client, out: RemoteOutput, cmd: ClientsCommand) -> Result<()> {
    match cmd {
        ClientsCommand::Register {
            product,
            name,
            public_key,
            client_type,
            client_user,
            description,
        } => {
            let pem = read_text_file(&public_key, "public key")?;
            let body = reg::register_body(
                &Registration {
                    name: &name,
                    description: &description,
                    product: &product,
                    client_type: &client_type,
                    client_user: client_user.as_deref(),
                },
                &pem,
                &public_key,
            )?;
            let v = client
                .post("/registrations/clients", &body)
                .await?
                .context("the service answered the registration with no body")?;
            print(out, Kind::Client, &v)
        }
        ClientsCommand::Approve(ApproveArgs { id, reason }) => {
            let body = decision(&id, true, reason.as_deref())?;
            let v = client
                .post("/registrations/clients/approvals", &body)
                .await?;
            print_client_decision(out, &id, "APPROVE", v)
        }
        ClientsCommand::Reject(RejectArgs { id, reason }) => {
            let body = decision(&id, false, Some(&reason))?;
            let v = client
                .post("/registrations/clients/approvals", &body)
                .await?;
            print_client_decision(out, &id, "REJECT", v)
        }
        ClientsCommand::List {
            product,
            state,
            page,
        } => {
            let path = with_query(
                "/registrations/clients",
                &[
                    ("product", product),
                    ("state", state.map(|s| s.to_string())),
                ],
            );
            let v = list(client, &path, page).await?;
            print(out, Kind::Client, &v)
        }
        ClientsCommand::Get { id } => {
            let v = client
                .get(&format!("/registrations/clients/{}", enc(&id)))
                .await?;
            print(out, Kind::Client, &v)
        }
        ClientsCommand::Revoke { id } => {
            let v = client
                .delete(&format!("/registrations/clients/{}", enc(&id)))
                .await?
                .unwrap_or_else(|| json!({"id": id, "state": state::NOT_ACTIVE}));
            print(out, Kind::Client, &v)
        }
        ClientsCommand::Approvals { page } => {
            let v = list(client, "/registrations/clients/approvals", page).await?;
            print(out, Kind::Client, &v)
        }
    }
}

async fn secrets_cmd(client: &Client, cmd: SecretsCommand) -> Result<()> {
    let SecretsCommand::Get {
        product,
        client_key,
        output_file,
    } = cmd;
    // Checked before anything is fetched; the write itself refuses too (create_new).
    secrets::refuse_existing(&output_file)?;
    let key = client_key
        .as_deref()
        .map(|path| secrets::load_key(path).map(|k| (k, path)))
        .transpose()?;
    let v = client
        .get(&format!(
            "/distributions/products/{}/secrets",
            enc(&product)
        ))
        .await?;
    let jwe = secrets::compact_jwe(&v)?;
    match key {
        Some((key, path)) => {
            let plain = secrets::decrypt(&key, jwe, path)?;
            secrets::write_new(&output_file, &plain)?;
            eprintln!("Secrets of product {product} decrypted and written to {output_file}");
        }
        None => {
            secrets::write_new(&output_file, jwe.as_bytes())?;
            eprintln!(
                "Secrets of product {product} written to {output_file} (a compact JWE; decrypt with -C CLIENT_KEY)"
            );
        }
    }
    Ok(())
}

/// The body of `POST /imagesignings` for `imagesigning add`.
fn add_body(a: &AddArgs) -> Result<Value> {
    if a.op_type != "DigestSigning" {
        bail!(
            "operation type {:?} is not supported: signet remote sends DigestSigning requests only (use `imagesigning add DigestSigning …`; DetachedSignature and SignOCI operations accept them too)",
            a.op_type
        );
    }
    let Some(hash) = digest::parse_hash(&a.hash) else {
        bail!("-H: {:?} is not SHA256, SHA384 or SHA512", a.hash);
    };
    let options = digest::optional_parameters(a.padding, a.salt_length, a.encoding);
    let parts = digest::BodyParts {
        name: &a.name,
        description: &a.description,
        product: &a.product,
        operation: &a.operid,
        hash,
    };
    match (&a.digest, &a.payload_file) {
        (Some(d), None) => {
            let d = d.trim();
            let raw = signet_sigstore::gobase64::decode(d).map_err(|_| {
                anyhow::anyhow!(
                    "-p: the digest is not standard base64 (from hex: `echo HEX | xxd -r -p | base64 -w0`)"
                )
            })?;
            let want = hash.output_len();
            if raw.len() != want {
                bail!(
                    "-p: the digest is {} bytes but {} digests are {want} (give the base64 of the raw digest, e.g. `sha256sum < payload.json | cut -d' ' -f1 | xxd -r -p | base64 -w0`)",
                    raw.len(),
                    hash.as_str()
                );
            }
            Ok(digest::digest_body(&parts, d, options))
        }
        (None, Some(path)) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading payload {path}"))?;
            let mut body = json!({
                "name": a.name,
                "description": a.description,
                "productId": a.product,
                "idProductOperation": a.operid,
                "hashAlgorithm": hash.as_str(),
                "payload": signet_sigstore::gobase64::encode(&bytes),
            });
            if let Some(options) = options {
                body["optionalParameters"] = options;
            }
            Ok(body)
        }
        _ => bail!("give either -p DIGEST or --payload-file FILE"),
    }
}

/// The signature of a Ready request as raw bytes: the `signature` field, or
/// `GET /imagesignings/{id}/signature`.
pub async fn signature_bytes(client: &Client, v: &Value) -> Result<Vec<u8>> {
    digest::signature_of(client, v).await
}

/// `imagesigning add -p DIGEST … --wait`: [`digest::sign_digest`] (submits, waits through
/// approval, checks the signature over the digest), then writes the signature to `-O` (or
/// prints the finished request). `--salt-length` is checked here: PSS signatures are made with
/// a salt as long as the digest, which the request then implies.
async fn add_and_wait(client: &Client, out: RemoteOutput, a: &AddArgs) -> Result<()> {
    let (Some(d), Some(hash)) = (&a.digest, digest::parse_hash(&a.hash)) else {
        bail!("--wait needs -p DIGEST and -H SHA256|SHA384|SHA512");
    };
    let padding = a.padding.unwrap_or_default();
    match a.salt_length {
        None | Some(SaltLength::Hash) => {}
        Some(SaltLength::Bytes(n)) if usize::try_from(n).ok() == Some(hash.output_len()) => {}
        Some(SaltLength::Bytes(n)) => bail!(
            "--salt-length {n} is not supported: PSS salts are as long as the digest ({} bytes for {}); give {} or hash",
            hash.output_len(),
            hash.as_str(),
            hash.output_len()
        ),
    }
    if a.salt_length.is_some() && padding != SignaturePadding::Pss {
        bail!("--salt-length applies to --padding PSS only");
    }
    let request = digest::DigestRequest {
        product: a.product.clone(),
        operation: a.operid.clone(),
        digest: signet_sigstore::gobase64::decode(d.trim())
            .context("-p: the digest is not standard base64")?,
        hash,
        padding,
        encoding: a.encoding.unwrap_or_default(),
        name: a.name.clone(),
        description: a.description.clone(),
    };
    let timeout = std::time::Duration::from_secs(a.wait_timeout);
    let signed = waited(digest::sign_digest(client, &request, timeout, true).await)?;
    if let Some(cert) = &signed.certificate_pem {
        eprintln!(
            "Signed with the certificate {} (and {} more in its chain; `imagesigning get -I {} --certificate-out FILE --chain-out FILE` writes them)",
            signet_pki::cert::Certificate::parse_any(cert.as_bytes())
                .map(|c| c.subject())
                .unwrap_or_default(),
            signed.chain_pem.len(),
            signed.request_id
        );
    }
    match &a.output_file {
        Some(path) => {
            write_file(path, &signed.signature)?;
            eprintln!(
                "Signature of request {} ({} digest {}) written to {path}",
                signed.request_id,
                signed.hash.as_str(),
                signet_sigstore::gobase64::encode(&signed.digest)
            );
            Ok(())
        }
        None => print(out, Kind::ImageSigning, &signed.request),
    }
}

/// The outcome of a wait for a signature, with the library's typed outcomes turned into the
/// remote commands' exit codes (still pending, rejected or failed); a signature that was not
/// checked (the operation's key unreadable) is said so.
fn waited(result: Result<digest::SignedDigest>) -> Result<digest::SignedDigest> {
    let e = match result {
        Ok(signed) => {
            if !signed.verified {
                eprintln!(
                    "WARNING: the signature of request {} was not checked",
                    signed.request_id
                );
            }
            return Ok(signed);
        }
        Err(e) => e,
    };
    if let Some(t) = e.downcast_ref::<digest::TimedOut>() {
        bail!(RequestPending(format!(
            "{t} (`signet remote imagesigning get -I {} --wait` continues)",
            t.request_id
        )));
    }
    if let Some(n) = e.downcast_ref::<digest::NotSigned>() {
        bail!(RequestFinished(n.reason.clone()));
    }
    Err(e)
}

async fn image_signing(client: &Client, out: RemoteOutput, cmd: ImageSigningCommand) -> Result<()> {
    match cmd {
        ImageSigningCommand::Add(a) => {
            let body = add_body(&a)?;
            if a.wait {
                return add_and_wait(client, out, &a).await;
            }
            let v = client
                .post("/imagesignings", &body)
                .await?
                .context("the service answered the signing request with no body")?;
            print(out, Kind::ImageSigning, &v)
        }
        ImageSigningCommand::Approve(ApproveArgs { id, reason }) => {
            let body = decision(&id, true, reason.as_deref())?;
            client.post("/imagesignings/approvals", &body).await?;
            print_decision(out, "Signing request", &id, "APPROVE")
        }
        ImageSigningCommand::Reject(RejectArgs { id, reason }) => {
            let body = decision(&id, false, Some(&reason))?;
            client.post("/imagesignings/approvals", &body).await?;
            print_decision(out, "Signing request", &id, "REJECT")
        }
        ImageSigningCommand::Get(g) => get(client, out, g).await,
        ImageSigningCommand::List {
            page,
            state,
            product,
            requester,
            name,
        } => {
            let path = with_query(
                "/imagesignings",
                &[
                    ("state", state.map(|s| s.to_string())),
                    ("product", product),
                    ("requester", requester),
                    ("name", name),
                ],
            );
            let v = list(client, &path, page).await?;
            print(out, Kind::ImageSigning, &v)
        }
        ImageSigningCommand::Approvals { id, page } => {
            let v = match id {
                Some(id) => {
                    client
                        .get(&format!("/imagesignings/approvals/{}", enc(&id)))
                        .await?
                }
                None => list(client, "/imagesignings/approvals", page).await?,
            };
            print(out, Kind::ImageSigning, &v)
        }
    }
}

async fn get(client: &Client, out: RemoteOutput, g: GetArgs) -> Result<()> {
    let v = if g.wait {
        // Waits, then checks the signature over the digest as the request was stored.
        let timeout = std::time::Duration::from_secs(g.wait_timeout);
        waited(digest::resume(client, &g.id, timeout, true).await)?.request
    } else {
        client
            .get(&format!("/imagesignings/{}", enc(&g.id)))
            .await?
    };
    if g.output_file.is_none() && g.certificate_out.is_none() && g.chain_out.is_none() {
        return print(out, Kind::ImageSigning, &v);
    }
    match wait::state_of(&v) {
        Some(state::READY) => {}
        Some(state::REJECTED | state::FAILED) => bail!(RequestFinished(format!(
            "{}: there is no signature",
            wait::failure_reason(&v)
        ))),
        _ => bail!(RequestPending(format!(
            "signing request {} is {}, not Ready: no signature yet (approve it, or wait with --wait)",
            g.id,
            v.get("state").map(state::name_of).unwrap_or_default()
        ))),
    }
    // Everything asked for is checked to be there before anything is written.
    let certificate = match &g.certificate_out {
        Some(path) => Some((path, pem_field(&v, "certificate", &g.id)?)),
        None => None,
    };
    let chain = match &g.chain_out {
        Some(path) => Some((path, pem_field(&v, "chain", &g.id)?)),
        None => None,
    };
    if let Some(path) = &g.output_file {
        let raw = signature_bytes(client, &v).await?;
        if g.skip_base64 {
            write_file(path, signet_sigstore::gobase64::encode(&raw).as_bytes())?;
        } else {
            write_file(path, &raw)?;
        }
        eprintln!("Signature of request {} written to {path}", g.id);
    }
    if let Some((path, pem)) = certificate {
        write_file(path, pem.as_bytes())?;
        eprintln!("Certificate of request {} written to {path}", g.id);
    }
    if let Some((path, pem)) = chain {
        write_file(path, pem.as_bytes())?;
        eprintln!("Certificate chain of request {} written to {path}", g.id);
    }
    Ok(())
}

/// The PEM `certificate` or `chain` of a Ready request (DetachedSignature operations sign
/// with a certificate), with a final newline.
fn pem_field(v: &Value, field: &str, id: &str) -> Result<String> {
    let Some(pem) = v
        .get(field)
        .and_then(Value::as_str)
        .filter(|p| !p.trim().is_empty())
    else {
        let what = if field == "chain" {
            "certificate chain"
        } else {
            "certificate"
        };
        bail!(
            "signing request {id} carries no {what} (only DetachedSignature operations sign with a certificate)"
        );
    };
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        bail!("the {field} of signing request {id} is not PEM");
    }
    let mut pem = pem.trim_end().to_string();
    pem.push('\n');
    Ok(pem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;

    fn parse(args: &[&str]) -> RemoteArgs {
        let mut all = vec!["signet", "remote"];
        all.extend_from_slice(args);
        match Cli::try_parse_from(all).unwrap().command {
            Command::Remote(r) => r,
            _ => panic!("not remote"),
        }
    }

    #[test]
    fn seed_add_command_parses() {
        let r = parse(&[
            "-c",
            "-t",
            "s3cr3t",
            "-a",
            "http://h/acme/api/v1",
            "imagesigning",
            "add",
            "DigestSigning",
            "-N",
            "OCI signing request",
            "-D",
            "Container image signing",
            "-P",
            "prod",
            "--operid",
            "op",
            "-p",
            "3q2+7w==",
            "-H",
            "SHA256",
        ]);
        assert!(r.cmdline);
        assert_eq!(r.token.as_ref().map(Secret::expose), Some("s3cr3t"));
        assert_eq!(
            format!("{r:?}").matches("s3cr3t").count(),
            0,
            "token in Debug"
        );
        let RemoteCommand::ImageSigning {
            command: ImageSigningCommand::Add(a),
        } = r.command
        else {
            panic!("not add")
        };
        assert_eq!(a.op_type, "DigestSigning");
        assert_eq!(a.name, "OCI signing request");
        assert_eq!(a.product, "prod");
        assert_eq!(a.operid, "op");
        assert_eq!(a.digest.as_deref(), Some("3q2+7w=="));
        assert_eq!(a.hash, "SHA256");
    }

    #[test]
    fn seed_get_and_aliases_parse() {
        let r = parse(&[
            "-c",
            "-t",
            "@-",
            "-a",
            "x",
            "imagesigning",
            "get",
            "-I",
            "r1",
            "-O",
            "signature.b64",
            "--skipBase64",
        ]);
        let RemoteCommand::ImageSigning {
            command: ImageSigningCommand::Get(g),
        } = r.command
        else {
            panic!()
        };
        assert!(g.skip_base64 && !g.wait && g.wait_timeout == 1800);
        assert_eq!(g.output_file.as_deref(), Some("signature.b64"));
        let r = parse(&[
            "-a", "x", "product", "add", "-T", "p.json", "--output", "table",
        ]);
        assert_eq!(r.output, RemoteOutput::Table);
        assert!(matches!(
            r.command,
            RemoteCommand::Product {
                command: ProductCommand::Create { .. }
            }
        ));
        let r = parse(&[
            "product",
            "getpubkey",
            "-P",
            "p",
            "--operid",
            "o",
            "-O",
            "k.pem",
        ]);
        assert!(matches!(
            r.command,
            RemoteCommand::Product {
                command: ProductCommand::PublicKey { .. }
            }
        ));
        let r = parse(&["imagesigning", "getall", "--state", "ready"]);
        let RemoteCommand::ImageSigning {
            command: ImageSigningCommand::List { state, .. },
        } = r.command
        else {
            panic!()
        };
        assert_eq!(state, Some(16));
    }

    #[test]
    fn bad_flags_are_refused() {
        let p = |args: &[&str]| {
            let mut all = vec!["signet", "remote"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all).is_err()
        };
        // neither digest nor payload
        assert!(p(&[
            "imagesigning",
            "add",
            "DigestSigning",
            "-P",
            "p",
            "--operid",
            "o"
        ]));
        // both
        assert!(p(&[
            "imagesigning",
            "add",
            "DigestSigning",
            "-P",
            "p",
            "--operid",
            "o",
            "-p",
            "x",
            "--payload-file",
            "f"
        ]));
        assert!(p(&[
            "imagesigning",
            "add",
            "DigestSigning",
            "-P",
            "p",
            "--operid",
            "o",
            "-p",
            "x",
            "-H",
            "MD5"
        ]));
        assert!(p(&["imagesigning", "reject", "-I", "r"]));
        assert!(p(&["imagesigning", "get", "-I", "r", "--skipBase64"]));
        assert!(p(&["product", "list", "--state", "done"]));
    }

    fn add(op: &str, digest: Option<&str>, hash: &str) -> AddArgs {
        AddArgs {
            op_type: op.into(),
            name: "n".into(),
            description: "d".into(),
            product: "p".into(),
            operid: "o".into(),
            digest: digest.map(str::to_string),
            hash: hash.into(),
            payload_file: None,
            padding: None,
            salt_length: None,
            encoding: None,
            wait: false,
            wait_timeout: 1800,
            output_file: None,
        }
    }

    #[test]
    fn add_bodies() {
        let d32 = signet_sigstore::gobase64::encode(&[7u8; 32]);
        let b = add_body(&add("DigestSigning", Some(&d32), "sha256")).unwrap();
        assert_eq!(b["digest"], d32.as_str());
        assert_eq!(b["hashAlgorithm"], "SHA256");
        assert_eq!(b["productId"], "p");
        assert_eq!(b["idProductOperation"], "o");
        let e = add_body(&add("SignHAB", Some(&d32), "SHA256")).unwrap_err();
        assert!(e.to_string().contains("DigestSigning"), "{e}");
        let e = add_body(&add("DigestSigning", Some(&d32), "SHA512")).unwrap_err();
        assert!(
            e.to_string().contains("32 bytes but SHA512 digests are 64"),
            "{e}"
        );
        let hex = "ab".repeat(32);
        assert!(add_body(&add("DigestSigning", Some(&hex), "SHA256")).is_err());
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("payload.json");
        std::fs::write(&f, b"{}").unwrap();
        let mut a = add("DigestSigning", None, "SHA256");
        a.payload_file = Some(f.display().to_string());
        let b = add_body(&a).unwrap();
        assert_eq!(b["payload"], "e30=");
        assert!(b.get("digest").is_none());
    }

    #[test]
    fn pki_commands_parse() {
        let r = parse(&["-a", "x", "pki", "profile", "create", "--file", "p.yaml"]);
        let RemoteCommand::Pki {
            command:
                PkiCommand::Profile {
                    command: ProfileCommand::Create { file },
                },
        } = r.command
        else {
            panic!("not profile create")
        };
        assert_eq!(file, "p.yaml");
        let r = parse(&["pki", "profile", "get", "-I", "pr1", "--output", "table"]);
        assert_eq!(r.output, RemoteOutput::Table);
        assert!(matches!(
            r.command,
            RemoteCommand::Pki {
                command: PkiCommand::Profile {
                    command: ProfileCommand::Get { ref id }
                }
            } if id == "pr1"
        ));
        let r = parse(&["pki", "profile", "list", "--name", "codesign"]);
        assert!(matches!(
            r.command,
            RemoteCommand::Pki {
                command: PkiCommand::Profile {
                    command: ProfileCommand::List {
                        page: None,
                        name: Some(_)
                    }
                }
            }
        ));
        let r = parse(&["pki", "ca", "init", "--subject", "CN=Acme CA,O=Acme"]);
        assert!(matches!(
            r.command,
            RemoteCommand::Pki {
                command: PkiCommand::Ca {
                    command: CaCommand::Init { ref subject }
                }
            } if subject == "CN=Acme CA,O=Acme"
        ));
        let r = parse(&["pki", "ca", "get", "-O", "chain.pem"]);
        assert!(matches!(
            r.command,
            RemoteCommand::Pki {
                command: PkiCommand::Ca {
                    command: CaCommand::Get { output_file: Some(ref f) }
                }
            } if f == "chain.pem"
        ));
        let r = parse(&["pki", "ca", "get"]);
        assert!(matches!(
            r.command,
            RemoteCommand::Pki {
                command: PkiCommand::Ca {
                    command: CaCommand::Get { output_file: None }
                }
            }
        ));
    }

    #[test]
    fn product_certificate_commands_parse() {
        let r = parse(&[
            "product",
            "csr",
            "-P",
            "prod",
            "--cn",
            "Code Signing",
            "-O",
            "c.csr",
        ]);
        let RemoteCommand::Product {
            command:
                ProductCommand::Csr {
                    product,
                    cn,
                    output_file,
                },
        } = r.command
        else {
            panic!("not csr")
        };
        assert_eq!(
            (product.as_str(), cn.as_str(), output_file.as_deref()),
            ("prod", "Code Signing", Some("c.csr"))
        );
        let r = parse(&[
            "product",
            "certificate",
            "upload",
            "-P",
            "prod",
            "--cn",
            "Code Signing",
            "--chain",
            "chain.pem",
        ]);
        let RemoteCommand::Product {
            command:
                ProductCommand::Certificate {
                    command: CertificateCommand::Upload { product, cn, chain },
                },
        } = r.command
        else {
            panic!("not upload")
        };
        assert_eq!(
            (product.as_str(), cn.as_str(), chain.as_str()),
            ("prod", "Code Signing", "chain.pem")
        );
    }

    #[test]
    fn client_and_secret_commands_parse() {
        let r = parse(&[
            "clients",
            "register",
            "-P",
            "prod",
            "--name",
            "line-3",
            "--public-key",
            "c.pub",
        ]);
        let RemoteCommand::Clients {
            command:
                ClientsCommand::Register {
                    product,
                    name,
                    public_key,
                    client_type,
                    client_user,
                    description,
                },
        } = r.command
        else {
            panic!("not register")
        };
        assert_eq!((product.as_str(), name.as_str()), ("prod", "line-3"));
        assert_eq!(public_key, "c.pub");
        assert_eq!(client_type, "ProductionPC");
        assert_eq!((client_user, description.as_str()), (None, ""));
        let r = parse(&[
            "clients",
            "register",
            "-P",
            "p",
            "-N",
            "n",
            "--public-key",
            "k",
            "--type",
            "DevelopmentPC",
            "--client-user",
            "u1",
            "-D",
            "desc",
        ]);
        assert!(matches!(
            r.command,
            RemoteCommand::Clients {
                command: ClientsCommand::Register { ref client_type, client_user: Some(_), .. }
            } if client_type == "DevelopmentPC"
        ));
        let r = parse(&["clients", "approve", "-I", "c1"]);
        assert!(matches!(
            r.command,
            RemoteCommand::Clients {
                command: ClientsCommand::Approve(ApproveArgs { reason: None, .. })
            }
        ));
        let r = parse(&["clients", "reject", "-I", "c1", "--reason", "unknown PC"]);
        assert!(matches!(
            r.command,
            RemoteCommand::Clients {
                command: ClientsCommand::Reject(_)
            }
        ));
        let r = parse(&["clients", "list", "-P", "prod", "--state", "notactive"]);
        let RemoteCommand::Clients {
            command:
                ClientsCommand::List {
                    product,
                    state,
                    page,
                },
        } = r.command
        else {
            panic!("not list")
        };
        assert_eq!(
            (product.as_deref(), state, page),
            (Some("prod"), Some(256), None)
        );
        for cmd in [
            &["clients", "get", "-I", "c1"][..],
            &["clients", "revoke", "-I", "c1"],
            &["clients", "approvals"],
            &["clients", "getapprovals", "--page", "2"],
        ] {
            assert!(matches!(parse(cmd).command, RemoteCommand::Clients { .. }));
        }
        let r = parse(&[
            "secrets",
            "get",
            "-P",
            "prod",
            "-C",
            "c.private",
            "-O",
            "s.json",
        ]);
        let RemoteCommand::Secrets {
            command:
                SecretsCommand::Get {
                    product,
                    client_key,
                    output_file,
                },
        } = r.command
        else {
            panic!("not secrets get")
        };
        assert_eq!(product, "prod");
        assert_eq!(client_key.as_deref(), Some("c.private"));
        assert_eq!(output_file, "s.json");
        let r = parse(&["secrets", "get", "-P", "prod", "-O", "s.jwe"]);
        assert!(matches!(
            r.command,
            RemoteCommand::Secrets {
                command: SecretsCommand::Get {
                    client_key: None,
                    ..
                }
            }
        ));
    }

    #[test]
    fn get_writes_certificates() {
        let r = parse(&[
            "imagesigning",
            "get",
            "-I",
            "r1",
            "--certificate-out",
            "cert.pem",
            "--chain-out",
            "chain.pem",
        ]);
        let RemoteCommand::ImageSigning {
            command: ImageSigningCommand::Get(g),
        } = r.command
        else {
            panic!()
        };
        assert_eq!(g.certificate_out.as_deref(), Some("cert.pem"));
        assert_eq!(g.chain_out.as_deref(), Some("chain.pem"));
        assert!(g.output_file.is_none());
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        let v = json!({"id": "r1", "state": 16, "certificate": pem, "chain": ""});
        assert_eq!(
            pem_field(&v, "certificate", "r1").unwrap(),
            format!("{pem}\n")
        );
        let e = pem_field(&v, "chain", "r1").unwrap_err().to_string();
        assert!(e.contains("carries no certificate chain"), "{e}");
        let e = pem_field(&json!({"certificate": "x"}), "certificate", "r1").unwrap_err();
        assert!(e.to_string().contains("not PEM"), "{e}");
    }

    #[test]
    fn new_commands_refuse_bad_flags() {
        let p = |args: &[&str]| {
            let mut all = vec!["signet", "remote"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all).is_err()
        };
        assert!(p(&["pki", "profile", "create"]));
        assert!(p(&["pki", "ca", "init"]));
        assert!(p(&["product", "csr", "-P", "p", "-O", "f"]));
        assert!(p(&[
            "product",
            "certificate",
            "upload",
            "-P",
            "p",
            "--cn",
            "c"
        ]));
        assert!(p(&["clients", "register", "-P", "p", "--name", "n"]));
        assert!(p(&["clients", "reject", "-I", "c1"]));
        assert!(p(&["clients", "list", "--state", "revoked-ish"]));
        assert!(p(&["secrets", "get", "-P", "p"]));
        assert!(p(&["secrets", "get", "-O", "f"]));
    }

    #[test]
    fn hints_keep_the_exit_code() {
        let api = |status| -> Result<()> {
            Err(ApiError {
                status,
                detail: "exists".into(),
            }
            .into())
        };
        let e = hint_on(api(409), 409, "the internal CA exists already").unwrap_err();
        assert_eq!(
            crate::exit::render(&e),
            "the internal CA exists already: exists (HTTP 409)"
        );
        assert_eq!(crate::exit::code(&e), crate::exit::CONFLICT);
        let e = hint_on(api(403), 409, "hint").unwrap_err();
        assert_eq!(crate::exit::render(&e), "exists (HTTP 403)");
    }

    #[test]
    fn decisions_and_queries() {
        assert_eq!(
            decision("r", true, None).unwrap(),
            json!({"requestId": "r", "decision": "APPROVE"})
        );
        assert_eq!(
            decision("r", false, Some("no")).unwrap(),
            json!({"requestId": "r", "decision": "REJECT", "reason": "no"})
        );
        assert!(decision("r", false, Some(" ")).is_err());
        assert_eq!(
            with_query(
                "/imagesignings",
                &[
                    ("state", Some("16".into())),
                    ("product", None),
                    ("requester", Some("a b".into()))
                ]
            ),
            "/imagesignings?state=16&requester=a%20b"
        );
    }
}

//! `signet remote …`: the reference client of `signet server`, flag-compatible with the
//! hosted service's `signing-tool` for the commands its OCI signing example uses
//! (`signing-tool -c -t $TOKEN -a $API_URL imagesigning add DigestSigning …`). Global flags
//! come before the subcommand, as there. Answers are printed as the service's JSON (pretty,
//! camelCase as served) or, with `--output table`, as aligned columns.

use std::io::Write;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::remote::client::{Options, enc};
use crate::remote::error::{RequestFinished, RequestPending};
use crate::remote::table::{self, Kind};
use crate::remote::wait::{self, Outcome, Progress};
use crate::remote::{Client, Secret, state, token};

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
    Approve {
        /// The request id.
        #[arg(short = 'I', long = "id")]
        id: String,
        /// Why (kept in the audit trail).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reject a product request.
    Reject {
        /// The request id.
        #[arg(short = 'I', long = "id")]
        id: String,
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
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
}

/// `signet remote imagesigning` subcommands.
#[derive(Debug, Subcommand)]
pub enum ImageSigningCommand {
    /// Request a signature over a digest (or a cosign payload); prints the request with its id.
    Add(AddArgs),
    /// Approve a signing request (signing completes before the answer).
    Approve {
        /// The request id.
        #[arg(short = 'I', long = "id")]
        id: String,
        /// Why (kept in the audit trail).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reject a signing request.
    Reject {
        /// The request id.
        #[arg(short = 'I', long = "id")]
        id: String,
        /// Why (required).
        #[arg(long)]
        reason: String,
    },
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
        ProductCommand::Approve { id, reason } => {
            let body = decision(&id, true, reason.as_deref())?;
            client.post("/products/approvals", &body).await?;
            print_decision(out, "Product request", &id, "APPROVE")
        }
        ProductCommand::Reject { id, reason } => {
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
    }
}

/// The byte length of a digest of `hash` (SHA256, SHA384, SHA512).
fn digest_len(hash: &str) -> usize {
    match hash.to_ascii_uppercase().as_str() {
        "SHA384" => 48,
        "SHA512" => 64,
        _ => 32,
    }
}

/// The body of `POST /imagesignings` for `imagesigning add`.
fn add_body(a: &AddArgs) -> Result<Value> {
    if a.op_type != "DigestSigning" {
        bail!(
            "operation type {:?} is not supported: signet remote sends DigestSigning requests only (use `imagesigning add DigestSigning …`; DetachedSignature and SignOCI operations accept them too)",
            a.op_type
        );
    }
    let hash = a.hash.to_ascii_uppercase();
    let mut body = json!({
        "name": a.name,
        "description": a.description,
        "productId": a.product,
        "idProductOperation": a.operid,
        "hashAlgorithm": hash,
    });
    match (&a.digest, &a.payload_file) {
        (Some(d), None) => {
            let d = d.trim();
            let raw = signet_sigstore::gobase64::decode(d).map_err(|_| {
                anyhow::anyhow!(
                    "-p: the digest is not standard base64 (from hex: `echo HEX | xxd -r -p | base64 -w0`)"
                )
            })?;
            let want = digest_len(&hash);
            if raw.len() != want {
                bail!(
                    "-p: the digest is {} bytes but {hash} digests are {want} (give the base64 of the raw digest, e.g. `sha256sum < payload.json | cut -d' ' -f1 | xxd -r -p | base64 -w0`)",
                    raw.len()
                );
            }
            body["digest"] = Value::from(d);
        }
        (None, Some(path)) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading payload {path}"))?;
            body["payload"] = Value::from(signet_sigstore::gobase64::encode(&bytes));
        }
        _ => bail!("give either -p DIGEST or --payload-file FILE"),
    }
    Ok(body)
}

/// The signature of a Ready request as raw bytes: the `signature` field, or
/// `GET /imagesignings/{id}/signature`.
pub async fn signature_bytes(client: &Client, v: &Value) -> Result<Vec<u8>> {
    let id = v.get("id").and_then(Value::as_str).unwrap_or_default();
    if let Some(b64) = v.get("signature").and_then(Value::as_str)
        && !b64.is_empty()
    {
        return signet_sigstore::gobase64::decode(b64)
            .with_context(|| format!("the signature of request {id} is not valid base64"));
    }
    client
        .get_bytes(
            &format!("/imagesignings/{}/signature", enc(id)),
            "application/octet-stream",
        )
        .await
}

async fn image_signing(client: &Client, out: RemoteOutput, cmd: ImageSigningCommand) -> Result<()> {
    match cmd {
        ImageSigningCommand::Add(a) => {
            let body = add_body(&a)?;
            let v = client
                .post("/imagesignings", &body)
                .await?
                .context("the service answered the signing request with no body")?;
            print(out, Kind::ImageSigning, &v)
        }
        ImageSigningCommand::Approve { id, reason } => {
            let body = decision(&id, true, reason.as_deref())?;
            client.post("/imagesignings/approvals", &body).await?;
            print_decision(out, "Signing request", &id, "APPROVE")
        }
        ImageSigningCommand::Reject { id, reason } => {
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
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(g.wait_timeout);
        let mut progress = Progress::new();
        let outcome = wait::until_done(client, &g.id, None, deadline, &mut progress).await;
        progress.finish();
        match outcome? {
            Outcome::Ready(v) => v,
            Outcome::Finished(v) => bail!(RequestFinished(wait::failure_reason(&v))),
            Outcome::TimedOut(v) => bail!(RequestPending(format!(
                "signing request {} is still {} after {}s",
                g.id,
                v.get("state").map(state::name_of).unwrap_or_default(),
                g.wait_timeout
            ))),
        }
    } else {
        client
            .get(&format!("/imagesignings/{}", enc(&g.id)))
            .await?
    };
    let Some(path) = g.output_file else {
        return print(out, Kind::ImageSigning, &v);
    };
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
    let raw = signature_bytes(client, &v).await?;
    if g.skip_base64 {
        write_file(&path, signet_sigstore::gobase64::encode(&raw).as_bytes())?;
    } else {
        write_file(&path, &raw)?;
    }
    eprintln!("Signature of request {} written to {path}", g.id);
    Ok(())
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

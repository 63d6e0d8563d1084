//! Signing through a notation plugin (`SIGNATURE_GENERATOR.RAW`), as notation does for keys
//! registered with `notation key add --plugin NAME --id KEY`: `get-plugin-metadata` (the name
//! must match, contract 1.0 and the RAW capability must be offered), `describe-key` (the key
//! spec picks the algorithm), then `generate-signature` for the signing input. The answer is
//! checked before use: the signing algorithm must be the one asked for, the signature must
//! verify with the leaf of the returned chain, and the chain must meet the Notary Project's
//! certificate requirements. The plugin runs with the request on stdin; its stdout and
//! stderr are read whole (at most 64 MiB each, as the protocol allows).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::sync::Mutex;

use anyhow::{Context, Result, anyhow, bail};
use serde::Serialize;
use serde::de::DeserializeOwned;
use signet_notation::jws::{self, JwsAlgorithm};
use signet_pki::cert::Certificate;

use super::proto::{self, Command, ErrorResponse};

/// Most bytes read from each of a plugin's output channels.
const MAX_OUTPUT: u64 = 64 << 20;

/// A signing key held by a plugin; the certificate chain is learnt while signing.
pub struct PluginSigner {
    executable: PathBuf,
    name: String,
    key_id: String,
    config: BTreeMap<String, String>,
    alg: JwsAlgorithm,
    chain: Mutex<Option<Vec<Vec<u8>>>>,
}

/// Runs `executable command` with `request` on stdin and parses its answer.
fn call<Req: Serialize, Resp: DeserializeOwned>(
    executable: &Path,
    name: &str,
    command: Command,
    request: &Req,
) -> Result<Resp> {
    let input = serde_json::to_vec(request)?;
    let mut child = Process::new(executable)
        .arg(command.as_str())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run plugin {name} ({})", executable.display()))?;
    // Write the request from a thread so that a plugin answering before reading all of it
    // cannot dead-lock on a full pipe.
    let mut stdin = child.stdin.take().context("plugin stdin")?;
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stderr = child.stderr.take().context("plugin stderr")?;
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stderr).take(MAX_OUTPUT).read_to_end(&mut buf);
        buf
    });
    let mut stdout = Vec::new();
    if let Some(out) = child.stdout.take() {
        out.take(MAX_OUTPUT)
            .read_to_end(&mut stdout)
            .with_context(|| format!("reading the answer of plugin {name}"))?;
    }
    let status = child.wait()?;
    let _ = writer.join();
    let stderr = err_reader.join().unwrap_or_default();
    if !status.success() {
        let text = String::from_utf8_lossy(&stderr);
        return Err(match serde_json::from_slice::<ErrorResponse>(&stderr) {
            Ok(e) => anyhow!(
                "plugin {name} failed {}: {} ({:?})",
                command.as_str(),
                e.error_message,
                e.error_code
            ),
            Err(_) => anyhow!(
                "plugin {name} failed {} with {status}: {}",
                command.as_str(),
                text.trim()
            ),
        });
    }
    serde_json::from_slice(&stdout).with_context(|| {
        format!(
            "plugin {name} answered {} with something that is not its response JSON",
            command.as_str()
        )
    })
}

impl PluginSigner {
    /// Finds plugin `name` at `executable`, checks its metadata and asks for the key's spec.
    pub fn open(
        executable: &Path,
        name: &str,
        key_id: &str,
        config: &BTreeMap<String, String>,
    ) -> Result<PluginSigner> {
        let meta = std::fs::symlink_metadata(executable).map_err(|_| {
            anyhow!(
                "plugin {name} not found: {} is missing",
                executable.display()
            )
        })?;
        if !meta.file_type().is_file() {
            bail!(
                "plugin {name}: {} is not a regular file (symlinks are not followed)",
                executable.display()
            );
        }
        let metadata: proto::MetadataResponse = call(
            executable,
            name,
            Command::GetPluginMetadata,
            &proto::MetadataRequest {
                plugin_config: config.clone(),
            },
        )?;
        if metadata.name != name {
            bail!(
                "plugin {name}: its metadata names it {:?}, which does not match its directory",
                metadata.name
            );
        }
        if !metadata
            .supported_contract_versions
            .iter()
            .any(|v| v == proto::CONTRACT_VERSION)
        {
            bail!(
                "plugin {name} does not support contract version {} (it supports {:?})",
                proto::CONTRACT_VERSION,
                metadata.supported_contract_versions
            );
        }
        if !metadata
            .capabilities
            .iter()
            .any(|c| c == proto::CAPABILITY_RAW)
        {
            bail!(
                "plugin {name} does not offer {} (it offers {:?}); signet signs only with plugins that generate raw signatures",
                proto::CAPABILITY_RAW,
                metadata.capabilities
            );
        }
        let described: proto::DescribeKeyResponse = call(
            executable,
            name,
            Command::DescribeKey,
            &proto::DescribeKeyRequest {
                contract_version: proto::CONTRACT_VERSION.to_owned(),
                key_id: key_id.to_owned(),
                plugin_config: config.clone(),
            },
        )?;
        if described.key_id != key_id {
            bail!(
                "plugin {name} described key {:?} instead of {key_id:?}",
                described.key_id
            );
        }
        let alg = proto::alg_of_key_spec(&described.key_spec).ok_or_else(|| {
            anyhow!(
                "plugin {name}: key spec {:?} is not supported",
                described.key_spec
            )
        })?;
        Ok(PluginSigner {
            executable: executable.to_owned(),
            name: name.to_owned(),
            key_id: key_id.to_owned(),
            config: config.clone(),
            alg,
            chain: Mutex::new(None),
        })
    }

    /// The signature algorithm of the key.
    pub fn alg(&self) -> JwsAlgorithm {
        self.alg
    }

    /// The certificate chain (DER, leaf first) the last signature came with.
    pub fn chain(&self) -> Option<Vec<Vec<u8>>> {
        self.chain.lock().ok().and_then(|c| c.clone())
    }

    fn generate(&self, alg: JwsAlgorithm, input: &[u8]) -> Result<(Vec<u8>, Vec<Vec<u8>>)> {
        if alg != self.alg {
            bail!(
                "plugin {}: key {} signs {}, not {}",
                self.name,
                self.key_id,
                self.alg.name(),
                alg.name()
            );
        }
        let response: proto::GenerateSignatureResponse = call(
            &self.executable,
            &self.name,
            Command::GenerateSignature,
            &proto::GenerateSignatureRequest {
                contract_version: proto::CONTRACT_VERSION.to_owned(),
                key_id: self.key_id.clone(),
                plugin_config: self.config.clone(),
                key_spec: proto::key_spec(alg).to_owned(),
                hash_algorithm: proto::hash_name(alg).to_owned(),
                payload: proto::encode(input),
            },
        )?;
        check_signature(&self.name, alg, input, &response)
    }
}

/// Checks a `generate-signature` answer as notation does; returns the signature and chain.
pub fn check_signature(
    name: &str,
    alg: JwsAlgorithm,
    input: &[u8],
    response: &proto::GenerateSignatureResponse,
) -> Result<(Vec<u8>, Vec<Vec<u8>>)> {
    if proto::alg_of_signing_algorithm(&response.signing_algorithm) != Some(alg) {
        bail!(
            "plugin {name} signed with {:?}, expected {}",
            response.signing_algorithm,
            proto::signing_algorithm(alg)
        );
    }
    let signature = proto::decode_field("signature", &response.signature)
        .map_err(|e| anyhow!("plugin {name}: {e}"))?;
    if response.certificate_chain.is_empty() {
        bail!("plugin {name} returned no certificate chain");
    }
    let ders = response
        .certificate_chain
        .iter()
        .map(|c| proto::decode_field("certificateChain", c))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!("plugin {name}: {e}"))?;
    let chain = signet_notation::certs::parse_chain(&ders)
        .with_context(|| format!("plugin {name}: the certificate chain"))?;
    let leaf: &Certificate = chain
        .first()
        .ok_or_else(|| anyhow!("plugin {name} returned no certificate chain"))?;
    let key = leaf
        .public_key()
        .with_context(|| format!("plugin {name}: the leaf certificate's key"))?;
    jws::verify_signature(&key, alg, input, &signature).map_err(|e| {
        anyhow!("plugin {name}: the signature does not verify with the leaf certificate: {e}")
    })?;
    signet_notation::certs::check_signing_chain(&chain)
        .with_context(|| format!("plugin {name}: the certificate chain"))?;
    Ok((signature, ders))
}

impl jws::JwsSigner for PluginSigner {
    fn algorithm(&self) -> Option<JwsAlgorithm> {
        Some(self.alg)
    }

    fn certificate_chain(&self) -> Option<Vec<Vec<u8>>> {
        self.chain()
    }

    fn sign(&self, alg: JwsAlgorithm, input: &[u8]) -> signet_notation::Result<Vec<u8>> {
        let (signature, chain) = super::blocking(|| self.generate(alg, input)).map_err(|e| {
            signet_notation::Error::SigningFailed {
                alg: alg.name().to_owned(),
                reason: format!("{e:#}"),
            }
        })?;
        if let Ok(mut slot) = self.chain.lock() {
            *slot = Some(chain);
        }
        Ok(signature)
    }
}

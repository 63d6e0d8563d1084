//! `notation-signet`: a Notary Project plugin (capability `SIGNATURE_GENERATOR.RAW`) that
//! signs with keys held by a signet signing service, through its approval rules, so that
//! people who run notation itself can sign with them:
//!
//! ```text
//! cp notation-signet ~/.config/notation/plugins/signet/
//! notation key add build --plugin signet --id PRODUCT/OPERATION \
//!     --plugin-config url=https://signet.example.com/acme/api/v1 --plugin-config token_file=/run/token
//! notation sign --key build registry.example.com/app@sha256:…
//! ```
//!
//! [`proto`] has the protocol's documents; [`service`] answers `describe-key` and
//! `generate-signature` with the service (see its docs for the key id and configuration).
//! [`main`] is the executable: one command argument, the request on stdin, the response on
//! stdout (exit 0) or the protocol's error document on stderr (exit 1).

pub mod client;
pub mod proto;
pub mod service;

use std::io::{Read, Write};
use std::process::ExitCode;

use proto::{Command, ErrorResponse};

/// The plugin's name: its directory under notation's `plugins/` and the executable's suffix.
pub const NAME: &str = "signet";

/// Most bytes read from stdin (the protocol's limit for each channel is 64 MiB).
const MAX_REQUEST: u64 = 64 << 20;

/// The `notation-signet` executable.
pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match args.as_slice() {
        [command] => match Command::parse(command) {
            Some(command) => read_request().and_then(|request| run(command, &request)),
            None if command == "--version" || command == "version" => {
                Ok(serde_json::json!({"name": NAME, "version": env!("CARGO_PKG_VERSION")}))
            }
            None => Err(ErrorResponse::validation(format!(
                "unknown command {command:?} (commands: get-plugin-metadata, describe-key, generate-signature)"
            ))),
        },
        _ => Err(ErrorResponse::validation(
            "usage: notation-signet <command> (the request JSON on standard input)",
        )),
    };
    match outcome {
        Ok(response) => {
            let mut out = std::io::stdout().lock();
            match serde_json::to_writer(&mut out, &response).map(|()| out.flush()) {
                Ok(Ok(())) => ExitCode::SUCCESS,
                _ => ExitCode::from(1),
            }
        }
        Err(error) => {
            let text = serde_json::to_string(&error).unwrap_or_else(|_| {
                r#"{"errorCode":"ERROR","errorMessage":"cannot encode the error"}"#.to_owned()
            });
            eprintln!("{text}");
            ExitCode::from(1)
        }
    }
}

/// Reads the request document (empty input reads as `{}`).
fn read_request() -> Result<Vec<u8>, ErrorResponse> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_REQUEST)
        .read_to_end(&mut bytes)
        .map_err(|e| ErrorResponse::validation(format!("cannot read the request: {e}")))?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        bytes = b"{}".to_vec();
    }
    Ok(bytes)
}

fn parse<T: serde::de::DeserializeOwned>(
    command: Command,
    request: &[u8],
) -> Result<T, ErrorResponse> {
    serde_json::from_slice(request).map_err(|e| {
        ErrorResponse::validation(format!(
            "{}: the request is not valid JSON for this command: {e}",
            command.as_str()
        ))
    })
}

/// Answers one command.
pub fn run(command: Command, request: &[u8]) -> Result<serde_json::Value, ErrorResponse> {
    let to_value = |v: Result<serde_json::Value, serde_json::Error>| {
        v.map_err(|e| ErrorResponse::new(proto::ErrorCode::Error, format!("encoding: {e}")))
    };
    match command {
        Command::GetPluginMetadata => {
            let _: proto::MetadataRequest = parse(command, request)?;
            to_value(serde_json::to_value(metadata()))
        }
        Command::DescribeKey => {
            let request: proto::DescribeKeyRequest = parse(command, request)?;
            check_contract(&request.contract_version)?;
            let response = runtime()?.block_on(service::describe_key(&request))?;
            to_value(serde_json::to_value(response))
        }
        Command::GenerateSignature => {
            let request: proto::GenerateSignatureRequest = parse(command, request)?;
            check_contract(&request.contract_version)?;
            let response = runtime()?.block_on(service::generate_signature(&request))?;
            to_value(serde_json::to_value(response))
        }
        Command::GenerateEnvelope | Command::VerifySignature => {
            Err(ErrorResponse::validation(format!(
                "{}: not supported: this plugin has only the {} capability",
                command.as_str(),
                proto::CAPABILITY_RAW
            )))
        }
    }
}

/// What `get-plugin-metadata` answers (static, as the protocol requires).
pub fn metadata() -> proto::MetadataResponse {
    proto::MetadataResponse {
        name: NAME.to_owned(),
        description: "Signs with keys held by a signet signing service (DetachedSignature operations), through its approval rules".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        // signet has no public home page yet; `.invalid` never resolves (RFC 2606).
        url: "https://signet.invalid/docs/notation-plugin".to_owned(),
        supported_contract_versions: vec![proto::CONTRACT_VERSION.to_owned()],
        capabilities: vec![proto::CAPABILITY_RAW.to_owned()],
    }
}

/// Accepts contract versions of major version 1 (minor versions only add optional fields).
fn check_contract(version: &str) -> Result<(), ErrorResponse> {
    if version.is_empty() {
        return Err(ErrorResponse::validation("contractVersion is required"));
    }
    match version.split_once('.') {
        Some(("1", minor)) if !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()) => {
            Ok(())
        }
        _ => Err(ErrorResponse::new(
            proto::ErrorCode::UnsupportedContractVersion,
            format!(
                "contract version {version:?} is not supported (supported: {})",
                proto::CONTRACT_VERSION
            ),
        )),
    }
}

/// Runs blocking work (a plugin process, a wait for the service) from synchronous code that
/// may be called on a Tokio worker thread: `block_in_place` there, directly elsewhere.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, ErrorResponse> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            ErrorResponse::new(
                proto::ErrorCode::Error,
                format!("cannot start the async runtime: {e}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_versions() {
        assert!(check_contract("1.0").is_ok());
        assert!(check_contract("1.7").is_ok());
        let e = check_contract("2.0").unwrap_err();
        assert_eq!(e.error_code, proto::ErrorCode::UnsupportedContractVersion);
        assert_eq!(
            check_contract("").unwrap_err().error_code,
            proto::ErrorCode::ValidationError
        );
        assert!(check_contract("1").is_err());
        assert!(check_contract("1.x").is_err());
    }

    #[test]
    fn metadata_is_static_and_named_after_the_executable() {
        let m = metadata();
        assert_eq!(m.name, NAME);
        assert_eq!(m.capabilities, vec!["SIGNATURE_GENERATOR.RAW"]);
        assert_eq!(m.supported_contract_versions, vec!["1.0"]);
        let v = run(Command::GetPluginMetadata, b"{}").unwrap();
        assert_eq!(v["name"], "signet");
    }

    #[test]
    fn unsupported_commands_and_bad_json() {
        let e = run(Command::GenerateEnvelope, b"{}").unwrap_err();
        assert_eq!(e.error_code, proto::ErrorCode::ValidationError);
        let e = run(Command::DescribeKey, b"[1]").unwrap_err();
        assert_eq!(e.error_code, proto::ErrorCode::ValidationError);
        let e = run(
            Command::DescribeKey,
            br#"{"contractVersion":"9.0","keyId":"p/o"}"#,
        )
        .unwrap_err();
        assert_eq!(e.error_code, proto::ErrorCode::UnsupportedContractVersion);
    }
}

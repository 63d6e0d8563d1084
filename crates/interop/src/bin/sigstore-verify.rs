//! `sigstore-verify --key PUB.pem IMAGE`: verify an image's cosign key-based signatures with
//! sigstore-rs and print each verified payload on its own line.
//!
//! Exit status 0 when at least one signature verifies, 1 otherwise (the error goes to stderr),
//! 2 on usage errors. Used by the benchmark script to time sigstore-rs's whole-process
//! verification next to signet's.

use std::process::ExitCode;

const USAGE: &str = "usage: sigstore-verify --key PUB.pem IMAGE";

/// Parses `--key FILE` / `--key=FILE` and one positional image reference.
fn parse_args(args: impl IntoIterator<Item = String>) -> Result<(String, String), String> {
    let mut key = None;
    let mut image = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "--key" || arg == "-key" {
            key = Some(args.next().ok_or("--key needs a value")?);
        } else if let Some(value) = arg.strip_prefix("--key=") {
            key = Some(value.to_string());
        } else if arg == "-h" || arg == "--help" {
            return Err(String::new());
        } else if arg.starts_with('-') {
            return Err(format!("unknown flag {arg}"));
        } else if image.replace(arg).is_some() {
            return Err("exactly one IMAGE expected".to_string());
        }
    }
    match (key, image) {
        (Some(key), Some(image)) => Ok((key, image)),
        (None, _) => Err("--key is required".to_string()),
        (_, None) => Err("IMAGE is required".to_string()),
    }
}

fn main() -> ExitCode {
    let (key_path, image) = match parse_args(std::env::args().skip(1)) {
        Ok(parsed) => parsed,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("Error: {msg}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let key = match std::fs::read_to_string(&key_path) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("Error: cannot read {key_path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(signet_interop::sigstore_verify(&image, &key)) {
        Ok(payloads) => {
            for payload in payloads {
                println!("{payload}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_args;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_key_and_image() {
        let want = Ok(("k.pub".to_string(), "r/i:t".to_string()));
        assert_eq!(parse_args(args(&["--key", "k.pub", "r/i:t"])), want);
        assert_eq!(parse_args(args(&["r/i:t", "--key=k.pub"])), want);
        assert!(parse_args(args(&["r/i:t"])).is_err());
        assert!(parse_args(args(&["--key", "k.pub"])).is_err());
        assert!(parse_args(args(&["--key", "k.pub", "a", "b"])).is_err());
        assert!(parse_args(args(&["--bogus", "a"])).is_err());
        assert!(parse_args(args(&["--key"])).is_err());
    }
}

//! Shared helpers for the `signet` binary's integration tests: an isolated environment per
//! test (HOME, DOCKER_CONFIG and XDG dirs in a temp dir, so no real credentials leak in), key
//! pairs, and running the binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod service;

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

pub const PASSWORD: &str = "correct horse battery staple";

/// A scratch directory and environment for one test.
pub struct Env {
    pub dir: TempDir,
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn p(&self, name: &str) -> String {
        self.path(name).display().to_string()
    }

    /// `signet` with an isolated environment and COSIGN_PASSWORD set.
    pub fn signet(&self) -> Command {
        let mut c = Command::cargo_bin("signet").unwrap();
        c.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("DOCKER_CONFIG", self.path("docker"))
            .env("XDG_RUNTIME_DIR", self.path("xdg-run"))
            .env("COSIGN_PASSWORD", PASSWORD);
        c
    }

    /// Runs signet with `args`, returning the output whatever the status.
    pub fn run(&self, args: &[&str]) -> Output {
        self.signet().args(args).output().unwrap()
    }

    /// Runs signet and asserts success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "signet {args:?} failed ({:?}):\nstdout: {}\nstderr: {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Runs signet, asserts exit code `code`, returns stderr. Also asserts the error is one
    /// line starting with "Error: " and that nothing panicked.
    pub fn fails(&self, args: &[&str], code: i32) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "signet {args:?}: expected exit {code}\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!stderr.contains("panicked"), "panic: {stderr}");
        assert!(
            !stderr.contains("RUST_BACKTRACE"),
            "backtrace hint: {stderr}"
        );
        assert!(stderr.contains("Error: "), "no error line: {stderr}");
        stderr
    }

    /// Generates a P-256 key pair `prefix.key` / `prefix.pub`.
    pub fn keypair(&self, prefix: &str) -> (String, String) {
        self.ok(&["generate-key-pair", "--output-key-prefix", &self.p(prefix)]);
        (
            self.p(&format!("{prefix}.key")),
            self.p(&format!("{prefix}.pub")),
        )
    }

    /// `signet sign --key KEY --tlog-upload=false IMAGE`, asserting success.
    pub fn sign(&self, key: &str, image: &str) {
        self.ok(&["sign", "--key", key, "--tlog-upload=false", image]);
    }

    /// `signet verify --key PUB --insecure-ignore-tlog IMAGE`, asserting success; stdout.
    pub fn verify(&self, pubkey: &str, image: &str) -> String {
        self.ok(&["verify", "--key", pubkey, "--insecure-ignore-tlog", image])
    }

    /// The same verification, asserting exit `code`; stderr.
    pub fn verify_fails(&self, pubkey: &str, image: &str, code: i32) -> String {
        self.fails(
            &["verify", "--key", pubkey, "--insecure-ignore-tlog", image],
            code,
        )
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        std::fs::write(self.path(name), contents).unwrap();
        self.p(name)
    }
}

/// Runs a shell command (a real peer tool) and asserts success.
pub fn sh(dir: &Path, cmd: &str) -> Vec<u8> {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{cmd} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

//! Shared fixtures for the interop tests: a real loopback registry (from `signet-testkit`),
//! sigstore-rs key files on disk, and a runner for the `signet` binary built next to the tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub use signet_testkit::{PushedImage, TestRegistry};

/// Password used for every key file in these tests.
pub const PASSWORD: &str = "interop-pw";

/// A started registry with one freshly pushed random image.
pub struct Fixture {
    /// The registry; stopped on drop.
    pub registry: TestRegistry,
    /// The pushed image.
    pub image: PushedImage,
    /// `127.0.0.1:PORT/REPO:TAG`.
    pub tag_ref: String,
    /// `127.0.0.1:PORT/REPO@sha256:HEX`.
    pub digest_ref: String,
    /// Scratch directory for key files; removed on drop.
    pub dir: tempfile::TempDir,
}

/// Starts a registry and pushes a random image as `repo:tag`.
pub fn fixture(repo: &str, tag: &str) -> Fixture {
    let registry = TestRegistry::start();
    let image = registry.push_random_image(repo, tag);
    let addr = registry.addr();
    let tag_ref = format!("{addr}/{repo}:{tag}");
    let digest_ref = format!("{addr}/{repo}@{}", image.digest);
    Fixture {
        registry,
        image,
        tag_ref,
        digest_ref,
        dir: tempfile::tempdir().expect("tempdir"),
    }
}

/// Key files written by sigstore-rs.
pub struct SigstoreKeyFiles {
    /// `…/<name>.key`: sigstore-rs's encrypted private key, cosign format.
    pub key_path: PathBuf,
    /// `…/<name>.pub`: sigstore-rs's public key PEM.
    pub pub_path: PathBuf,
    /// Private key PEM text.
    pub private_key_pem: String,
    /// Public key PEM text, exactly as sigstore-rs encodes it.
    pub public_key_pem: String,
}

/// Generates a P-256 key pair with sigstore-rs (encrypted with [`PASSWORD`]) and writes it
/// to `dir/<name>.key` and `dir/<name>.pub`.
pub fn sigstore_keys(dir: &Path, name: &str) -> SigstoreKeyFiles {
    let kp = signet_interop::sigstore_generate_key_pair(PASSWORD.as_bytes())
        .expect("sigstore-rs key generation");
    let key_path = dir.join(format!("{name}.key"));
    let pub_path = dir.join(format!("{name}.pub"));
    std::fs::write(&key_path, &kp.private_key_pem).unwrap();
    std::fs::write(&pub_path, &kp.public_key_pem).unwrap();
    SigstoreKeyFiles {
        key_path,
        pub_path,
        private_key_pem: kp.private_key_pem,
        public_key_pem: kp.public_key_pem,
    }
}

/// Path of the `signet` binary: `target/<profile>/signet`, next to `target/<profile>/deps/<test>`.
pub fn signet_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps");
    let bin = profile_dir.join(format!("signet{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "{} not found: build it first: cargo build -p signet-cli",
        bin.display()
    );
    bin
}

/// Runs `signet ARGS` in `cwd` with `COSIGN_PASSWORD` = [`PASSWORD`] and no inherited
/// `COSIGN_*` overrides that could change where signatures go.
pub fn signet(cwd: &Path, args: &[&str]) -> Output {
    Command::new(signet_bin())
        .args(args)
        .current_dir(cwd)
        .env("COSIGN_PASSWORD", PASSWORD)
        .env_remove("COSIGN_REPOSITORY")
        .env_remove("COSIGN_DOCKER_MEDIA_TYPES")
        .env("HOME", cwd)
        .env("DOCKER_CONFIG", cwd.join(".docker"))
        .output()
        .expect("cannot run signet")
}

/// Runs signet and asserts exit status 0; returns stdout.
pub fn signet_ok(cwd: &Path, args: &[&str]) -> String {
    let out = signet(cwd, args);
    assert!(
        out.status.success(),
        "signet {args:?} failed with {:?}\nstdout: {}\nstderr: {}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("signet stdout is UTF-8")
}

/// `signet generate-key-pair --output-key-prefix DIR/NAME`; returns (key path, pub path).
pub fn signet_keys(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let prefix = dir.join(name);
    signet_ok(
        dir,
        &[
            "generate-key-pair",
            "--output-key-prefix",
            prefix.to_str().unwrap(),
        ],
    );
    let key = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    assert!(key.is_file(), "signet did not write {}", key.display());
    assert!(
        public.is_file(),
        "signet did not write {}",
        public.display()
    );
    (key, public)
}

/// Reads a file to a string.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

/// A PEM with CRLF line endings normalised to LF (sigstore-rs's `pem` crate writes CRLF).
pub fn lf(pem: &str) -> String {
    pem.replace("\r\n", "\n")
}

/// Parses a Simple Signing payload and returns `critical.image.docker-manifest-digest`.
pub fn payload_digest(payload: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(payload).expect("payload is JSON");
    v["critical"]["image"]["docker-manifest-digest"]
        .as_str()
        .expect("payload has critical.image.docker-manifest-digest")
        .to_string()
}

//! `signet verify --policy` (containers-policy.json) and `signet sign --openpgp-key` against
//! real peers: gpg 2.2 and skopeo 1.9 make and check OpenPGP simple signatures in lookaside
//! storage and `dir:` images, a real docker-registry serves the images, openssl-made CA
//! hierarchies back the `pki` requirement, and a small in-test HTTP server plays the key
//! broker for `kbs:///…` resources. Every test has its own registry, environment and GNUPGHOME.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use common::{Env, sh};
use serde_json::{Value, json};
use signet_testkit::openssl_pki::{Hierarchy, KeyAlg};
use signet_testkit::{TempDir, TestRegistry, write_random_oci_layout};

const NO_SIGNATURE: &str = "A signature was required, but no signature exists";

// ---------------------------------------------------------------------------------------------
// helpers

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Runs `cmd` with `sh -c` in `dir`, whatever the outcome.
fn sh_output(dir: &Path, cmd: &str) -> Output {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// A throw-away GnuPG home with one ed25519 signing key, its exported public keyring
/// (`pub.gpg`) and armored secret key (`sec.asc`). The agent is stopped on drop.
struct Gpg {
    home: TempDir,
    fingerprint: String,
    public: PathBuf,
    secret: PathBuf,
}

impl Gpg {
    fn new(name: &str, passphrase: &str) -> Gpg {
        let home = tempfile::tempdir().unwrap();
        let mut g = Gpg {
            public: home.path().join("pub.gpg"),
            secret: home.path().join("sec.asc"),
            home,
            fingerprint: String::new(),
        };
        g.run(&format!(
            "gpg --batch --pinentry-mode loopback --passphrase '{passphrase}' --quick-gen-key '{name} <{}@example.org>' ed25519 sign never",
            name.to_lowercase().replace(' ', ".")
        ));
        let listing = String::from_utf8(g.run("gpg --list-keys --with-colons")).unwrap();
        g.fingerprint = listing
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|l| l.split(':').find(|f| !f.is_empty()))
            .expect("a fingerprint")
            .to_string();
        g.run(&format!("gpg --export > '{}'", s(&g.public)));
        g.run(&format!(
            "gpg --batch --pinentry-mode loopback --passphrase '{passphrase}' --export-secret-keys --armor > '{}'",
            s(&g.secret)
        ));
        g
    }

    /// `GNUPGHOME=… sh -c cmd`, asserting success; stdout.
    fn run(&self, cmd: &str) -> Vec<u8> {
        sh(self.home.path(), &self.env(cmd))
    }

    /// The same, whatever the outcome.
    fn output(&self, cmd: &str) -> Output {
        sh_output(self.home.path(), &self.env(cmd))
    }

    fn env(&self, cmd: &str) -> String {
        format!("export GNUPGHOME='{}'; {cmd}", s(self.home.path()))
    }

    fn public(&self) -> String {
        s(&self.public)
    }

    fn secret(&self) -> String {
        s(&self.secret)
    }
}

impl Drop for Gpg {
    fn drop(&mut self) {
        let _ = sh_output(self.home.path(), &self.env("gpgconf --kill all"));
    }
}

/// Writes `REGD/default.yaml` (or any other name) under the environment and returns the dir.
fn registries_d(env: &Env, dir: &str, yaml: &str) -> String {
    let d = env.path(dir);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("default.yaml"), yaml).unwrap();
    s(&d)
}

/// `default-docker` with lookaside and lookaside-staging both at `ENV/look`.
fn lookaside_regd(env: &Env) -> String {
    registries_d(
        env,
        "regd",
        &format!(
            "default-docker:\n  lookaside: file://{0}\n  lookaside-staging: file://{0}\n",
            env.p("look")
        ),
    )
}

fn write_policy(env: &Env, name: &str, policy: &Value) -> String {
    env.write(name, serde_json::to_vec_pretty(policy).unwrap())
}

fn docker_policy(scope: &str, reqs: Value) -> Value {
    json!({"default": [{"type": "reject"}], "transports": {"docker": {scope: reqs}}})
}

fn signed_by(keyring: &str) -> Value {
    json!([{"type": "signedBy", "keyType": "GPGKeys", "keyPath": keyring}])
}

/// `signet verify --policy P [--registries-d D] --output text|json IMAGE`.
fn verify_args<'a>(
    policy: &'a str,
    regd: Option<&'a str>,
    output: &'a str,
    images: &[&'a str],
) -> Vec<&'a str> {
    let mut v = vec!["verify", "--policy", policy];
    if let Some(d) = regd {
        v.extend(["--registries-d", d]);
    }
    v.extend(["--output", output]);
    v.extend_from_slice(images);
    v
}

fn decisions(stdout: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
        .as_array()
        .expect("a JSON array of decisions")
        .clone()
}

/// Runs a rejecting verification in JSON mode: asserts exit 12 and the one-line error, and
/// returns (stderr, decisions printed on stdout).
fn rejected_json(env: &Env, args: &[&str]) -> (String, Vec<Value>) {
    let out = env.run(args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(
        out.status.code(),
        Some(12),
        "signet {args:?}\nstdout: {stdout}\nstderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(
        stderr.lines().filter(|l| l.starts_with("Error: ")).count(),
        1,
        "{stderr}"
    );
    (stderr, decisions(&stdout))
}

/// skopeo (insecure policy, isolated HOME) with `GNUPGHOME` of `gpg`, asserting success.
fn skopeo(env: &Env, gpg: &Gpg, args: &str) {
    let out = skopeo_output(env, gpg, args);
    assert!(
        out.status.success(),
        "skopeo {args} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn skopeo_output(env: &Env, gpg: &Gpg, args: &str) -> Output {
    gpg.output(&format!(
        "cd '{}' && HOME='{}' skopeo {args}",
        env.dir.path().display(),
        env.dir.path().display()
    ))
}

/// A random image in the OCI layout `ENV/name` tagged `tag`; returns the layout path.
fn source_layout(env: &Env, name: &str, tag: &str) -> String {
    write_random_oci_layout(&env.path(name), tag);
    env.p(name)
}

// ---------------------------------------------------------------------------------------------
// 1. skopeo + gpg sign, signet verifies under signedBy

#[test]
fn skopeo_gpg_signatures_accepted_under_signed_by() {
    let reg = TestRegistry::start();
    let addr = reg.addr();
    let env = Env::new();
    let gpg = Gpg::new("Signet Test", "");
    let other = Gpg::new("Other Signer", "");
    let regd = lookaside_regd(&env);

    let src = source_layout(&env, "src", "v1");
    skopeo(
        &env,
        &gpg,
        &format!(
            "--insecure-policy --registries.d '{regd}' copy --dest-tls-verify=false --sign-by {} oci:{src}:v1 docker://{addr}/t/app:v1",
            gpg.fingerprint
        ),
    );
    // skopeo stored signature-1 in the lookaside location registries.d names.
    let stored: Vec<_> = walk(&env.path("look"));
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert!(stored[0].ends_with("signature-1"), "{stored:?}");
    let unsigned = reg.push_random_image("t/app", "unsigned");

    let policy = write_policy(
        &env,
        "policy.json",
        &docker_policy(&addr, signed_by(&gpg.public())),
    );
    let tagged = format!("{addr}/t/app:v1");

    // text: the requirement, the signature, its signer and identity
    let text = env.ok(&verify_args(&policy, Some(&regd), "text", &[&tagged]));
    assert!(
        text.contains(&format!(
            "docker://{tagged}: accepted (policy scope transports.docker[\"{addr}\"])"
        )),
        "{text}"
    );
    assert!(
        text.contains("requirement 1 (signedBy): accepted"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "signature 1: accepted (signed by {}) for {tagged}",
            gpg.fingerprint
        )),
        "{text}"
    );

    // JSON, and the docker:// prefix
    let docker_tagged = format!("docker://{tagged}");
    let out = env.ok(&verify_args(
        &policy,
        Some(&regd),
        "json",
        &[&docker_tagged],
    ));
    let d = decisions(&out);
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["accepted"], true, "{out}");
    assert_eq!(d[0]["image"], format!("docker://{tagged}"));
    assert_eq!(d[0]["scope"], format!("transports.docker[\"{addr}\"]"));
    assert_eq!(d[0]["requirements"][0]["type"], "signedBy");
    assert_eq!(
        d[0]["requirements"][0]["signatures"][0]["signer"],
        gpg.fingerprint.as_str()
    );
    assert_eq!(
        d[0]["requirements"][0]["signatures"][0]["identity"],
        tagged.as_str()
    );
    assert_eq!(d[0]["reasons"], json!([]));

    // keyPaths (any of them) and keyData accept too
    let key_paths = write_policy(
        &env,
        "key-paths.json",
        &docker_policy(
            &format!("{addr}/t"),
            json!([{"type": "signedBy", "keyType": "GPGKeys", "keyPaths": [other.public(), gpg.public()]}]),
        ),
    );
    env.ok(&verify_args(&key_paths, Some(&regd), "text", &[&tagged]));
    let key_data =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(&gpg.public).unwrap());
    let key_data = write_policy(
        &env,
        "key-data.json",
        &docker_policy(
            &format!("{addr}/t/app"),
            json!([{"type": "signedBy", "keyType": "GPGKeys", "keyData": key_data}]),
        ),
    );
    env.ok(&verify_args(&key_data, Some(&regd), "text", &[&tagged]));

    // another key's keyring: 12 with the reason
    let wrong = write_policy(
        &env,
        "wrong.json",
        &docker_policy(&addr, signed_by(&other.public())),
    );
    let (e, d) = rejected_json(&env, &verify_args(&wrong, Some(&regd), "json", &[&tagged]));
    assert!(
        e.contains(&format!("Error: rejected by policy {wrong}: {tagged}: ")),
        "{e}"
    );
    assert_eq!(d[0]["accepted"], false);
    let reason = d[0]["reasons"][0]["message"].as_str().unwrap().to_string();
    assert!(!reason.is_empty() && e.contains(&reason), "{reason} / {e}");
    assert_eq!(d[0]["reasons"][0]["signature"], 0);
    assert!(d[0]["requirements"][0]["signatures"][0]["signer"].is_null());

    // unsigned image (another digest): no signature
    let unsigned_tag = format!("{addr}/t/app:unsigned");
    let e = env.fails(
        &verify_args(&policy, Some(&regd), "text", &[&unsigned_tag]),
        12,
    );
    assert!(e.contains(NO_SIGNATURE), "{e}");
    let e = env.fails(
        &verify_args(&policy, Some(&regd), "text", &[&unsigned.reference()]),
        12,
    );
    assert!(e.contains(NO_SIGNATURE), "{e}");

    // a tag of the signed digest that the signature does not name: identity rejected
    skopeo(
        &env,
        &gpg,
        &format!(
            "--insecure-policy copy --src-tls-verify=false --dest-tls-verify=false docker://{tagged} docker://{addr}/t/app:retagged"
        ),
    );
    let e = env.fails(
        &verify_args(
            &policy,
            Some(&regd),
            "text",
            &[&format!("{addr}/t/app:retagged")],
        ),
        12,
    );
    assert!(
        e.contains("Signature for identity")
            && e.contains("is not accepted")
            && e.contains(&tagged),
        "{e}"
    );

    // another registry scope falls to the global default: reject
    let port = reg.port();
    let elsewhere = format!("localhost:{port}/t/app:v1");
    let e = env.fails(
        &verify_args(&policy, Some(&regd), "text", &[&elsewhere]),
        12,
    );
    assert!(
        e.contains(&format!(
            "Running image docker://{elsewhere} is rejected by policy."
        )),
        "{e}"
    );

    // several images: each decided, the rejected ones named, exit 12
    let (e, d) = rejected_json(
        &env,
        &verify_args(&policy, Some(&regd), "json", &[&tagged, &unsigned_tag]),
    );
    assert_eq!(d.len(), 2);
    assert_eq!(d[0]["accepted"], true);
    assert_eq!(d[1]["accepted"], false);
    assert!(
        e.contains(&unsigned_tag) && !e.contains(&format!("{tagged}:")),
        "{e}"
    );

    // insecureAcceptAnything accepts anything, signed or not
    let anything = write_policy(
        &env,
        "anything.json",
        &json!({"default": [{"type": "insecureAcceptAnything"}]}),
    );
    let out = env.ok(&verify_args(
        &anything,
        Some(&regd),
        "json",
        &[&unsigned_tag, &elsewhere],
    ));
    let d = decisions(&out);
    assert!(
        d.iter()
            .all(|d| d["accepted"] == true && d["scope"] == "default"),
        "{out}"
    );
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// 2. signet signs, skopeo and gpg accept

#[test]
fn signet_openpgp_signatures_accepted_by_skopeo_and_gpg() {
    let reg = TestRegistry::start();
    let addr = reg.addr();
    let env = Env::new();
    let gpg = Gpg::new("Signet Test", "");
    let regd = lookaside_regd(&env);
    let img = reg.push_random_image("t/app", "v2");
    reg.push_random_image("t/app", "unsigned");
    let tagged = format!("{addr}/t/app:v2");

    let out = env.run(&[
        "sign",
        "--openpgp-key",
        &gpg.secret(),
        "--registries-d",
        &regd,
        &tagged,
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let hex = img.digest.strip_prefix("sha256:").unwrap();
    let sig1 = env.path(&format!("look/t/app@sha256={hex}/signature-1"));
    assert!(sig1.is_file(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "Signature by {} written to {}",
            gpg.fingerprint,
            s(&sig1)
        )),
        "{stderr}"
    );

    // gpg: good signature by the key; the payload names the reference as given and the digest
    let out = gpg.output(&format!("gpg --decrypt '{}'", s(&sig1)));
    let gpg_err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{gpg_err}");
    assert!(
        gpg_err.contains("Good signature from \"Signet Test"),
        "{gpg_err}"
    );
    assert!(gpg_err.contains(&gpg.fingerprint), "{gpg_err}");
    let payload: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        payload["critical"]["identity"]["docker-reference"],
        tagged.as_str()
    );
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"],
        img.digest.as_str()
    );
    assert_eq!(payload["critical"]["type"], "atomic container signature");

    // skopeo verifies under signedBy before copying
    let policy = write_policy(
        &env,
        "policy.json",
        &docker_policy(&format!("{addr}/t"), signed_by(&gpg.public())),
    );
    skopeo(
        &env,
        &gpg,
        &format!(
            "--policy '{policy}' --registries.d '{regd}' copy --remove-signatures --src-tls-verify=false docker://{tagged} dir:out"
        ),
    );
    assert!(env.path("out/manifest.json").is_file());
    let out = skopeo_output(
        &env,
        &gpg,
        &format!(
            "--policy '{policy}' --registries.d '{regd}' copy --remove-signatures --src-tls-verify=false docker://{addr}/t/app:unsigned dir:out-unsigned"
        ),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "skopeo accepted an unsigned image");
    assert!(err.contains(NO_SIGNATURE), "{err}");
    // and signet agrees on both
    env.ok(&verify_args(&policy, Some(&regd), "text", &[&tagged]));
    let e = env.fails(
        &verify_args(
            &policy,
            Some(&regd),
            "text",
            &[&format!("{addr}/t/app:unsigned")],
        ),
        12,
    );
    assert!(e.contains(NO_SIGNATURE), "{e}");

    // signing again adds signature-2; both verify
    env.ok(&[
        "sign",
        "--openpgp-key",
        &gpg.secret(),
        "--registries-d",
        &regd,
        &format!("docker://{tagged}"),
    ]);
    assert!(
        env.path(&format!("look/t/app@sha256={hex}/signature-2"))
            .is_file()
    );
    skopeo(
        &env,
        &gpg,
        &format!(
            "--policy '{policy}' --registries.d '{regd}' copy --remove-signatures --src-tls-verify=false docker://{tagged} dir:out2"
        ),
    );

    // a passphrase-protected key with --passphrase-file
    let locked = Gpg::new("Locked Signer", "s3cret phrase");
    assert!(
        std::fs::read_to_string(&locked.secret)
            .unwrap()
            .contains("BEGIN PGP PRIVATE KEY BLOCK")
    );
    let v3 = reg.push_random_image("t/app", "v3");
    let v3_tagged = format!("{addr}/t/app:v3");
    let pass = env.write("pass.txt", "s3cret phrase\n");
    let wrong_pass = env.write("wrong-pass.txt", "not it\n");
    let e = env.fails(
        &[
            "sign",
            "--openpgp-key",
            &locked.secret(),
            "--passphrase-file",
            &wrong_pass,
            "--registries-d",
            &regd,
            &v3_tagged,
        ],
        1,
    );
    assert!(e.contains(&locked.secret()), "{e}");
    let v3_hex = v3.digest.strip_prefix("sha256:").unwrap();
    assert!(!env.path(&format!("look/t/app@sha256={v3_hex}")).exists());
    env.ok(&[
        "sign",
        "--openpgp-key",
        &locked.secret(),
        "--passphrase-file",
        &pass,
        "--registries-d",
        &regd,
        &v3_tagged,
    ]);
    let locked_policy = write_policy(
        &env,
        "locked.json",
        &docker_policy(&addr, signed_by(&locked.public())),
    );
    skopeo(
        &env,
        &locked,
        &format!(
            "--policy '{locked_policy}' --registries.d '{regd}' copy --remove-signatures --src-tls-verify=false docker://{v3_tagged} dir:out3"
        ),
    );
    let out = locked.output(&format!(
        "gpg --decrypt '{}'",
        s(&env.path(&format!("look/t/app@sha256={v3_hex}/signature-1")))
    ));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Good signature"));
    // the first key does not satisfy this policy (skopeo and signet agree)
    let out = skopeo_output(
        &env,
        &locked,
        &format!(
            "--policy '{locked_policy}' --registries.d '{regd}' copy --remove-signatures --src-tls-verify=false docker://{tagged} dir:out4"
        ),
    );
    assert!(!out.status.success());
    env.fails(
        &verify_args(&locked_policy, Some(&regd), "text", &[&tagged]),
        12,
    );
}

#[test]
fn openpgp_signatures_go_to_lookaside_staging_else_lookaside() {
    let reg = TestRegistry::start();
    let addr = reg.addr();
    let env = Env::new();
    let gpg = Gpg::new("Signet Test", "");
    let img = reg.push_random_image("ns/app", "v1");
    let hex = img.digest.strip_prefix("sha256:").unwrap().to_string();
    let tagged = format!("{addr}/ns/app:v1");

    // staging differs from lookaside: written to staging only
    let staged = registries_d(
        &env,
        "regd-staged",
        &format!(
            "docker:\n  {addr}/ns:\n    lookaside: file://{}\n    lookaside-staging: file://{}\n",
            env.p("read"),
            env.p("staging")
        ),
    );
    env.ok(&[
        "sign",
        "--openpgp-key",
        &gpg.secret(),
        "--registries-d",
        &staged,
        &tagged,
    ]);
    assert!(
        env.path(&format!("staging/ns/app@sha256={hex}/signature-1"))
            .is_file(),
        "{:?}",
        walk(env.dir.path())
    );
    assert!(!env.path("read").exists());

    // lookaside only: written there, and read back from there
    let plain = registries_d(
        &env,
        "regd-plain",
        &format!(
            "docker:\n  {addr}:\n    lookaside: file://{}\n",
            env.p("plain")
        ),
    );
    env.ok(&[
        "sign",
        "--openpgp-key",
        &gpg.secret(),
        "--registries-d",
        &plain,
        &tagged,
    ]);
    assert!(
        env.path(&format!("plain/ns/app@sha256={hex}/signature-1"))
            .is_file(),
        "{:?}",
        walk(env.dir.path())
    );
    let policy = write_policy(
        &env,
        "p.json",
        &docker_policy(&addr, signed_by(&gpg.public())),
    );
    env.ok(&verify_args(&policy, Some(&plain), "text", &[&tagged]));
    let e = env.fails(&verify_args(&policy, Some(&staged), "text", &[&tagged]), 12);
    assert!(e.contains(NO_SIGNATURE), "{e}");

    // OpenPGP signatures are for registry images only
    let layout = source_layout(&env, "layout", "v1");
    let e = env.fails(
        &[
            "sign",
            "--openpgp-key",
            &gpg.secret(),
            &format!("oci:{layout}:v1"),
        ],
        1,
    );
    assert!(e.contains("lookaside"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// 3. dir: transport

#[test]
fn skopeo_dir_signatures_verified_with_dir_scopes() {
    let env = Env::new();
    let gpg = Gpg::new("Signet Test", "");
    let other = Gpg::new("Other Signer", "");
    let src = source_layout(&env, "src", "v1");
    std::fs::create_dir_all(env.path("images")).unwrap();
    skopeo(
        &env,
        &gpg,
        &format!(
            "--insecure-policy copy --sign-by {} --sign-identity example.org/team/app:v1 oci:{src}:v1 dir:images/app",
            gpg.fingerprint
        ),
    );
    skopeo(
        &env,
        &gpg,
        &format!("--insecure-policy copy oci:{src}:v1 dir:images/unsigned"),
    );
    assert!(env.path("images/app/signature-1").is_file());
    let image_dir = std::fs::canonicalize(env.path("images/app")).unwrap();
    let parent = s(image_dir.parent().unwrap());
    let image_dir = s(&image_dir);

    let exact = json!({"type": "exactReference", "dockerReference": "example.org/team/app:v1"});
    let dir_policy = |name: &str, scope: &str, keyring: &str, identity: Option<&Value>| {
        let mut req = json!({"type": "signedBy", "keyType": "GPGKeys", "keyPath": keyring});
        if let Some(i) = identity {
            req["signedIdentity"] = i.clone();
        }
        write_policy(
            &env,
            name,
            &json!({"default": [{"type": "reject"}], "transports": {"dir": {scope: [req]}}}),
        )
    };

    // the directory itself as the scope
    let p = dir_policy("own.json", &image_dir, &gpg.public(), Some(&exact));
    let text = env.ok(&verify_args(&p, None, "text", &["dir:images/app"]));
    assert!(
        text.contains(&format!(
            "dir:{image_dir}: accepted (policy scope transports.dir[\"{image_dir}\"])"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "signature 1: accepted (signed by {}) for example.org/team/app:v1",
            gpg.fingerprint
        )),
        "{text}"
    );
    // a parent directory as the scope, absolute image path
    let p = dir_policy("parent.json", &parent, &gpg.public(), Some(&exact));
    let out = env.ok(&verify_args(
        &p,
        None,
        "json",
        &[&format!("dir:{image_dir}")],
    ));
    let d = decisions(&out);
    assert_eq!(d[0]["accepted"], true, "{out}");
    assert_eq!(d[0]["scope"], format!("transports.dir[\"{parent}\"]"));
    // skopeo agrees
    skopeo(
        &env,
        &gpg,
        &format!("--policy '{p}' copy dir:images/app dir:copy1"),
    );

    // wrong key
    let p = dir_policy("wrong.json", &parent, &other.public(), Some(&exact));
    env.fails(&verify_args(&p, None, "text", &["dir:images/app"]), 12);
    assert!(
        !skopeo_output(
            &env,
            &gpg,
            &format!("--policy '{p}' copy dir:images/app dir:copy2")
        )
        .status
        .success()
    );

    // unsigned directory
    let p = dir_policy("unsigned.json", &parent, &gpg.public(), Some(&exact));
    let e = env.fails(&verify_args(&p, None, "text", &["dir:images/unsigned"]), 12);
    assert!(e.contains(NO_SIGNATURE), "{e}");

    // the default identity needs a docker reference, which dir: images lack (as skopeo)
    let p = dir_policy("default-identity.json", &parent, &gpg.public(), None);
    let e = env.fails(&verify_args(&p, None, "text", &["dir:images/app"]), 12);
    assert!(
        e.contains("Signature for identity") && e.contains("example.org/team/app:v1"),
        "{e}"
    );
    let out = skopeo_output(
        &env,
        &gpg,
        &format!("--policy '{p}' copy dir:images/app dir:copy3"),
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("Signature for identity"));

    // a scope elsewhere: the default rejects
    let p = dir_policy(
        "elsewhere.json",
        "/nonexistent/place",
        &gpg.public(),
        Some(&exact),
    );
    let e = env.fails(&verify_args(&p, None, "text", &["dir:images/app"]), 12);
    assert!(e.contains("is rejected by policy"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// 4. sigstoreSigned with keys

#[test]
fn sigstore_signed_keys_need_use_sigstore_attachments() {
    let reg = TestRegistry::start();
    let addr = reg.addr();
    let env = Env::new();
    let img = reg.push_random_image("t/app", "v1");
    let (key, pubkey) = env.keypair("k");
    let (_, other_pub) = env.keypair("other");
    let tagged = format!("{addr}/t/app:v1");
    env.sign(&key, &tagged);

    let no_attachments = registries_d(
        &env,
        "regd-plain",
        &format!("default-docker:\n  lookaside: file://{}\n", env.p("look")),
    );
    let attachments = registries_d(
        &env,
        "regd-att",
        &format!(
            "docker:\n  {addr}:\n    lookaside: file://{}\n    use-sigstore-attachments: true\n",
            env.p("look")
        ),
    );
    let sigstore = |key: &str, identity: Option<Value>| {
        let mut r = json!({"type": "sigstoreSigned", "keyPath": key});
        if let Some(i) = identity {
            r["signedIdentity"] = i;
        }
        json!([r])
    };
    let repo_identity = Some(json!({"type": "matchRepository"}));
    let policy = write_policy(
        &env,
        "policy.json",
        &docker_policy(
            &format!("{addr}/t"),
            sigstore(&pubkey, repo_identity.clone()),
        ),
    );

    // attachments read: accepted, for the tag and the digest
    let text = env.ok(&verify_args(
        &policy,
        Some(&attachments),
        "text",
        &[&tagged],
    ));
    assert!(
        text.contains("requirement 1 (sigstoreSigned): accepted"),
        "{text}"
    );
    assert!(
        text.contains(&format!("signature 1: accepted for {addr}/t/app\n")),
        "{text}"
    );
    let out = env.ok(&verify_args(
        &policy,
        Some(&attachments),
        "json",
        &[&img.reference()],
    ));
    let d = decisions(&out);
    assert_eq!(d[0]["accepted"], true, "{out}");
    assert_eq!(d[0]["scope"], format!("transports.docker[\"{addr}/t\"]"));
    assert_eq!(
        d[0]["requirements"][0]["signatures"][0]["identity"],
        format!("{addr}/t/app")
    );

    // attachments not enabled in registries.d: as if unsigned
    let e = env.fails(
        &verify_args(&policy, Some(&no_attachments), "text", &[&tagged]),
        12,
    );
    assert!(e.contains(&format!("{tagged}: {NO_SIGNATURE}")), "{e}");
    assert!(!e.contains("non-sigstore"), "{e}");

    // wrong key
    let wrong = write_policy(
        &env,
        "wrong.json",
        &docker_policy(&addr, sigstore(&other_pub, repo_identity.clone())),
    );
    let e = env.fails(
        &verify_args(&wrong, Some(&attachments), "text", &[&tagged]),
        12,
    );
    assert!(
        e.contains("cryptographic signature verification failed"),
        "{e}"
    );

    // keyPaths with the right key among them; keyData
    let paths = write_policy(
        &env,
        "paths.json",
        &docker_policy(
            &addr,
            json!([{"type": "sigstoreSigned", "keyPaths": [other_pub, pubkey], "signedIdentity": {"type": "matchRepository"}}]),
        ),
    );
    env.ok(&verify_args(&paths, Some(&attachments), "text", &[&tagged]));
    let data = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&pubkey).unwrap());
    let data = write_policy(
        &env,
        "data.json",
        &docker_policy(
            &addr,
            json!([{"type": "sigstoreSigned", "keyData": data, "signedIdentity": {"type": "matchRepository"}}]),
        ),
    );
    env.ok(&verify_args(&data, Some(&attachments), "text", &[&tagged]));

    // the default signedIdentity (matchRepoDigestOrExact) refuses cosign's repository-only
    // identity, by tag and by digest
    let strict = write_policy(
        &env,
        "strict.json",
        &docker_policy(&addr, sigstore(&pubkey, None)),
    );
    for image in [&tagged, &img.reference()] {
        let e = env.fails(
            &verify_args(&strict, Some(&attachments), "text", &[image]),
            12,
        );
        assert!(
            e.contains(&format!(
                "Signature for identity \"{addr}/t/app\" is not accepted"
            )) || e.contains(&format!(
                "Signature for identity {addr}/t/app is not accepted"
            )),
            "{e}"
        );
    }
    // exactRepository naming the repository accepts
    let exact_repo = write_policy(
        &env,
        "exact-repo.json",
        &docker_policy(
            &addr,
            sigstore(
                &pubkey,
                Some(
                    json!({"type": "exactRepository", "dockerRepository": format!("{addr}/t/app")}),
                ),
            ),
        ),
    );
    env.ok(&verify_args(
        &exact_repo,
        Some(&attachments),
        "text",
        &[&tagged],
    ));

    // a simple signature in lookaside is not a sigstore signature: counted in the message
    let gpg = Gpg::new("Signet Test", "");
    env.ok(&[
        "sign",
        "--openpgp-key",
        &gpg.secret(),
        "--registries-d",
        &no_attachments,
        &tagged,
    ]);
    let e = env.fails(
        &verify_args(&policy, Some(&no_attachments), "text", &[&tagged]),
        12,
    );
    assert!(
        e.contains(&format!(
            "{NO_SIGNATURE} (1 non-sigstore signatures, 0 sigstore non-signature attachments)"
        )),
        "{e}"
    );
    // and with attachments enabled both kinds are read: sigstoreSigned and signedBy together
    let both = write_policy(
        &env,
        "both.json",
        &docker_policy(
            &addr,
            json!([
                {"type": "sigstoreSigned", "keyPath": pubkey, "signedIdentity": {"type": "matchRepository"}},
                {"type": "signedBy", "keyType": "GPGKeys", "keyPath": gpg.public()}
            ]),
        ),
    );
    let out = env.ok(&verify_args(&both, Some(&attachments), "json", &[&tagged]));
    let d = decisions(&out);
    assert_eq!(d[0]["requirements"].as_array().unwrap().len(), 2, "{out}");
    assert!(
        d[0]["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["accepted"] == true)
    );
}

// ---------------------------------------------------------------------------------------------
// 5. sigstoreSigned with pki

#[test]
fn sigstore_signed_pki_seed002() {
    let reg = TestRegistry::start();
    let addr = reg.addr();
    let env = Env::new();
    let img = reg.push_random_image("team-a/app", "v1");
    let pki = Hierarchy::seed002(&env.path("pki"), KeyAlg::EcP256);
    let regd = registries_d(
        &env,
        "regd",
        &format!("docker:\n  {addr}/team-a:\n    use-sigstore-attachments: true\n"),
    );
    env.ok(&[
        "import-key-pair",
        "--key",
        &s(&pki.leaf_key),
        "--output-key-prefix",
        &env.p("L"),
    ]);
    env.ok(&[
        "sign",
        "--key",
        &env.p("L.key"),
        "--tlog-upload=false",
        "--cert",
        &s(&pki.leaf),
        "--cert-chain",
        &s(&pki.bundle),
        &img.reference(),
    ]);

    let policy = |name: &str, pki_obj: Value| {
        write_policy(
            &env,
            name,
            &docker_policy(
                &addr,
                json!([{"type": "sigstoreSigned", "pki": pki_obj, "signedIdentity": {"type": "matchRepository"}}]),
            ),
        )
    };
    let root = s(&pki.root);
    let good = policy(
        "good.json",
        json!({"caRootsPath": root, "subjectEmail": "team-a@linuxera.org"}),
    );
    let text = env.ok(&verify_args(
        &good,
        Some(&regd),
        "text",
        &[&img.reference()],
    ));
    assert!(
        text.contains("requirement 1 (sigstoreSigned): accepted"),
        "{text}"
    );
    // by tag, and with the intermediate given by the policy as well
    let with_int = policy(
        "with-int.json",
        json!({"caRootsPath": root, "caIntermediatesPath": s(&pki.intermediate), "subjectEmail": pki.email}),
    );
    env.ok(&verify_args(
        &with_int,
        Some(&regd),
        "text",
        &[&format!("{addr}/team-a/app:v1")],
    ));

    // wrong subject e-mail
    let wrong_email = policy(
        "wrong-email.json",
        json!({"caRootsPath": root, "subjectEmail": "team-b@linuxera.org"}),
    );
    let e = env.fails(
        &verify_args(&wrong_email, Some(&regd), "text", &[&img.reference()]),
        12,
    );
    assert!(e.contains("team-b@linuxera.org"), "{e}");
    // a hostname the leaf does not have
    let wrong_host = policy(
        "wrong-host.json",
        json!({"caRootsPath": root, "subjectHostname": "registry.linuxera.org"}),
    );
    let e = env.fails(
        &verify_args(&wrong_host, Some(&regd), "text", &[&img.reference()]),
        12,
    );
    assert!(e.contains("registry.linuxera.org"), "{e}");
    // another CA as the root: the chain does not validate
    let other = Hierarchy::seed002(&env.path("other-pki"), KeyAlg::EcP256);
    let wrong_root = policy(
        "wrong-root.json",
        json!({"caRootsPath": s(&other.root), "subjectEmail": "team-a@linuxera.org"}),
    );
    let e = env.fails(
        &verify_args(&wrong_root, Some(&regd), "text", &[&img.reference()]),
        12,
    );
    assert!(e.contains("verifying leaf certificate failed"), "{e}");
    // containers/image (Go's x509) takes every caRootsPath certificate as a trust anchor:
    // the intermediate alone there anchors the leaf
    let int_root = policy(
        "int-root.json",
        json!({"caRootsPath": s(&pki.intermediate), "subjectEmail": "team-a@linuxera.org"}),
    );
    env.ok(&verify_args(
        &int_root,
        Some(&regd),
        "text",
        &[&img.reference()],
    ));
}

// ---------------------------------------------------------------------------------------------
// 6. kbs:// resources from a key broker

/// A minimal key broker: `GET /kbs/v0/resource/…` serves the given resources, 404 otherwise.
/// Records every request path.
struct Broker {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Broker {
    fn start(resources: BTreeMap<String, Vec<u8>>) -> Broker {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&buf).to_string();
                let mut parts = head.lines().next().unwrap_or_default().split(' ');
                let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                log.lock().unwrap().push(path.to_string());
                let body = path
                    .strip_prefix("/kbs/v0/resource/")
                    .filter(|_| method == "GET")
                    .and_then(|p| resources.get(p));
                let response = match body {
                    Some(b) => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            b.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(b);
                        r
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = stream.write_all(&response);
                let _ = stream.flush();
            }
        });
        Broker { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

#[test]
fn kbs_resources_seed001() {
    let reg = TestRegistry::start();
    let addr = reg.addr();
    let env = Env::new();
    let img = reg.push_random_image("default/app", "v1");
    let (key, pubkey) = env.keypair("k");
    let tagged = format!("{addr}/default/app:v1");
    env.sign(&key, &tagged);
    let regd = registries_d(
        &env,
        "regd",
        &format!("docker:\n  {addr}:\n    use-sigstore-attachments: true\n"),
    );
    let policy_with_key = |uri: &str| {
        serde_json::to_vec(&docker_policy(
            &addr,
            json!([{"type": "sigstoreSigned", "keyPath": uri, "signedIdentity": {"type": "matchRepository"}}]),
        ))
        .unwrap()
    };
    let mut resources = BTreeMap::new();
    resources.insert(
        "default/cosign-key/1".to_string(),
        std::fs::read(&pubkey).unwrap(),
    );
    resources.insert(
        "default/security-policy/test".to_string(),
        policy_with_key("kbs:///default/cosign-key/1"),
    );
    resources.insert(
        "default/security-policy/missing-key".to_string(),
        policy_with_key("kbs:///default/cosign-key/2"),
    );
    let broker = Broker::start(resources);

    // --kbs-url
    let text = env.ok(&[
        "verify",
        "--policy",
        "kbs:///default/security-policy/test",
        "--kbs-url",
        &broker.url,
        "--registries-d",
        &regd,
        "--output",
        "text",
        &tagged,
    ]);
    assert!(text.contains("accepted"), "{text}");
    let seen = broker.requests();
    assert!(
        seen.contains(&"/kbs/v0/resource/default/security-policy/test".to_string()),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"/kbs/v0/resource/default/cosign-key/1".to_string()),
        "{seen:?}"
    );

    // SIGNET_KBS_URL, two images: the key is fetched once per run
    let before = broker.requests().len();
    let out = env
        .signet()
        .env("SIGNET_KBS_URL", &broker.url)
        .args([
            "verify",
            "--policy",
            "kbs:///default/security-policy/test",
            "--registries-d",
            &regd,
            &tagged,
            &img.reference(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d = decisions(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(d.len(), 2);
    let new: Vec<String> = broker.requests()[before..].to_vec();
    assert_eq!(
        new.iter().filter(|p| p.ends_with("/cosign-key/1")).count(),
        1,
        "{new:?}"
    );

    // a key the broker does not have: the requirement rejects, naming the URI
    let e = env.fails(
        &[
            "verify",
            "--policy",
            "kbs:///default/security-policy/missing-key",
            "--kbs-url",
            &broker.url,
            "--registries-d",
            &regd,
            &tagged,
        ],
        12,
    );
    assert!(e.contains("kbs:///default/cosign-key/2"), "{e}");

    // a local policy whose key lives in the broker; the broker is down: 12 naming the URI
    let local = env.write("local.json", policy_with_key("kbs:///default/cosign-key/1"));
    let down = format!("http://127.0.0.1:{}", signet_testkit::free_port());
    let e = env.fails(
        &[
            "verify",
            "--policy",
            &local,
            "--kbs-url",
            &down,
            "--registries-d",
            &regd,
            &tagged,
        ],
        12,
    );
    assert!(e.contains("kbs:///default/cosign-key/1"), "{e}");
    // ... and with the broker up it is accepted
    env.ok(&[
        "verify",
        "--policy",
        &local,
        "--kbs-url",
        &broker.url,
        "--registries-d",
        &regd,
        &tagged,
    ]);
    // no broker configured at all: the key is unfetchable, 12
    let e = env.fails(
        &[
            "verify",
            "--policy",
            &local,
            "--registries-d",
            &regd,
            &tagged,
        ],
        12,
    );
    assert!(e.contains("kbs:///default/cosign-key/1"), "{e}");

    // the policy itself unfetchable: exit 1 naming it
    let e = env.fails(
        &[
            "verify",
            "--policy",
            "kbs:///default/security-policy/test",
            "--kbs-url",
            &down,
            "--registries-d",
            &regd,
            &tagged,
        ],
        1,
    );
    assert!(e.contains("kbs:///default/security-policy/test"), "{e}");
    let e = env.fails(
        &[
            "verify",
            "--policy",
            "kbs:///default/security-policy/nope",
            "--kbs-url",
            &broker.url,
            "--registries-d",
            &regd,
            &tagged,
        ],
        1,
    );
    assert!(e.contains("kbs:///default/security-policy/nope"), "{e}");

    // file:// policy URIs work as paths
    env.ok(&[
        "verify",
        "--policy",
        &format!("file://{local}"),
        "--kbs-url",
        &broker.url,
        "--registries-d",
        &regd,
        &tagged,
    ]);
}

// ---------------------------------------------------------------------------------------------
// 7. oci: layouts

#[test]
fn oci_layout_signed_with_key() {
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    let (_, other_pub) = env.keypair("other");
    let layout = source_layout(&env, "layout", "v1");
    write_random_oci_layout(&env.path("layout"), "v2");
    env.ok(&[
        "sign",
        "--key",
        &key,
        "--tlog-upload=false",
        "--sign-container-identity",
        "example.org/team/app",
        &format!("oci:{layout}:v1"),
    ]);
    let resolved = s(&std::fs::canonicalize(&layout).unwrap());
    let req = |key: &str| {
        json!([{"type": "sigstoreSigned", "keyPath": key,
                "signedIdentity": {"type": "exactRepository", "dockerRepository": "example.org/team/app"}}])
    };
    let oci_policy = |name: &str, scope: &str, key: &str| {
        write_policy(
            &env,
            name,
            &json!({"default": [{"type": "reject"}], "transports": {"oci": {scope: req(key)}}}),
        )
    };
    let image = format!("oci:{layout}:v1");

    // the transport default
    let p = oci_policy("default.json", "", &pubkey);
    let out = env.ok(&verify_args(&p, None, "json", &[&image]));
    let d = decisions(&out);
    assert_eq!(d[0]["accepted"], true, "{out}");
    assert_eq!(d[0]["scope"], "transports.oci[\"\"]");
    assert_eq!(d[0]["image"], format!("oci:{resolved}:v1"));
    // the layout directory as the scope
    let p = oci_policy("dir.json", &resolved, &pubkey);
    let text = env.ok(&verify_args(&p, None, "text", &[&image]));
    assert!(
        text.contains(&format!(
            "accepted (policy scope transports.oci[\"{resolved}\"])"
        )),
        "{text}"
    );
    assert!(
        text.contains("signature 1: accepted for example.org/team/app"),
        "{text}"
    );
    // wrong key
    let p = oci_policy("wrong.json", "", &other_pub);
    let e = env.fails(&verify_args(&p, None, "text", &[&image]), 12);
    assert!(
        e.contains("cryptographic signature verification failed"),
        "{e}"
    );
    // the unsigned tag in the same layout
    let p = oci_policy("unsigned.json", "", &pubkey);
    let e = env.fails(
        &verify_args(&p, None, "text", &[&format!("oci:{layout}:v2")]),
        12,
    );
    assert!(e.contains(NO_SIGNATURE), "{e}");
    // repository-based identities need a docker reference, which oci: images lack
    let p = write_policy(
        &env,
        "match-repo.json",
        &json!({"default": [{"type": "sigstoreSigned", "keyPath": pubkey, "signedIdentity": {"type": "matchRepository"}}]}),
    );
    let e = env.fails(&verify_args(&p, None, "text", &[&image]), 12);
    assert!(e.contains("Signature for identity"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// 8. bad policies

#[test]
fn bad_policies_exit_1_naming_the_problem() {
    let env = Env::new();
    let layout = source_layout(&env, "layout", "v1");
    let image = format!("oci:{layout}:v1");
    let cases: &[(&str, &str, &str)] = &[
        (
            "unknown-top",
            r#"{"default":[{"type":"insecureAcceptAnything"}],"bogus":1}"#,
            r#"Unknown key "bogus""#,
        ),
        (
            "unknown-req-field",
            r#"{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/k","extra":true}]}"#,
            r#"Unknown key "extra""#,
        ),
        (
            "duplicate",
            r#"{"default":[{"type":"reject"}],"default":[{"type":"insecureAcceptAnything"}]}"#,
            r#"Duplicate key "default""#,
        ),
        (
            "duplicate-field",
            r#"{"default":[{"type":"signedBy","keyType":"GPGKeys","keyPath":"/a","keyPath":"/b"}]}"#,
            r#"Duplicate key "keyPath""#,
        ),
        (
            "no-key-type",
            r#"{"default":[{"type":"signedBy","keyPath":"/k"}]}"#,
            "keyType",
        ),
        (
            "no-default",
            r#"{"transports":{"docker":{"":[{"type":"reject"}]}}}"#,
            "Default policy is missing",
        ),
        (
            "empty-list",
            r#"{"default":[]}"#,
            "List of verification policy requirements must not be empty",
        ),
        (
            "unknown-type",
            r#"{"default":[{"type":"trustMe"}]}"#,
            r#"Unknown policy requirement type "trustMe""#,
        ),
        (
            "relative-dir-scope",
            r#"{"default":[{"type":"reject"}],"transports":{"dir":{"relative/path":[{"type":"reject"}]}}}"#,
            r#"Unknown key "relative/path""#,
        ),
        (
            "sigstore-two-roots",
            r#"{"default":[{"type":"sigstoreSigned","keyPath":"/k","pki":{"caRootsPath":"/r","subjectEmail":"a@b"}}]}"#,
            "exactly one of keyPath",
        ),
        ("not-json", r#"{"default":"#, "invalid policy"),
    ];
    for (name, text, expected) in cases {
        let p = env.write(&format!("{name}.json"), text);
        let e = env.fails(&["verify", "--policy", &p, &image], 1);
        assert!(e.contains(expected), "{name}: expected {expected:?} in {e}");
        assert!(
            e.contains(&p),
            "{name}: the error should name the policy: {e}"
        );
    }

    // a policy file that does not exist
    let missing = env.p("missing.json");
    let e = env.fails(&["verify", "--policy", &missing, &image], 1);
    assert!(e.contains(&missing), "{e}");
    let e = env.fails(
        &["verify", "--policy", &format!("file://{missing}"), &image],
        1,
    );
    assert!(e.contains(&missing), "{e}");
    // a valid policy on the same image, for contrast
    let ok = env.write(
        "ok.json",
        r#"{"default":[{"type":"insecureAcceptAnything"}]}"#,
    );
    env.ok(&["verify", "--policy", &ok, &image]);
    let reject = env.write("reject.json", r#"{"default":[{"type":"reject"}]}"#);
    let e = env.fails(&["verify", "--policy", &reject, &image], 12);
    assert!(e.contains("is rejected by policy"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// registries.d lookups, compared with skopeo on the same configuration

/// Pushes a skopeo+gpg signed image to `ADDR/t/app:v1` with `ENV/look` as lookaside; returns
/// (policy accepting it under signedBy with matchRepository, the image digest).
fn skopeo_signed_image(env: &Env, gpg: &Gpg, addr: &str) -> (String, String) {
    let regd = lookaside_regd(env);
    let src = source_layout(env, "src", "v1");
    skopeo(
        env,
        gpg,
        &format!(
            "--insecure-policy --registries.d '{regd}' copy --dest-tls-verify=false --sign-by {} oci:{src}:v1 docker://{addr}/t/app:v1",
            gpg.fingerprint
        ),
    );
    let stored = walk(&env.path("look"));
    assert_eq!(stored.len(), 1, "{stored:?}");
    let dir = stored[0]
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .to_string();
    let digest = dir.split_once('@').unwrap().1.replacen('=', ":", 1);
    let policy = write_policy(
        env,
        "policy.json",
        &docker_policy(
            addr,
            json!([{"type": "signedBy", "keyType": "GPGKeys", "keyPath": gpg.public(),
                    "signedIdentity": {"type": "matchRepository"}}]),
        ),
    );
    (policy, digest)
}

/// containers/image resolves each registries.d setting on its own: the most specific scope
/// that sets a lookaside URL supplies it, and `use-sigstore-attachments` likewise
/// (`registryConfiguration.signatureTopLevel` / `useSigstoreAttachments` fall through to
/// parent namespaces and `default-docker`). A scope that only enables sigstore attachments
/// must not hide the `default-docker` lookaside.
#[test]
fn registries_d_lookaside_falls_back_past_scopes_without_one() {
    let reg = TestRegistry::start();
    let addr = reg.addr();
    let env = Env::new();
    let gpg = Gpg::new("Signet Test", "");
    let (policy, _) = skopeo_signed_image(&env, &gpg, &addr);
    let tagged = format!("{addr}/t/app:v1");
    let regd = registries_d(
        &env,
        "regd-mixed",
        &format!(
            "default-docker:\n  lookaside: file://{}\ndocker:\n  {addr}:\n    use-sigstore-attachments: true\n",
            env.p("look")
        ),
    );
    // skopeo finds the signature in the default-docker lookaside and accepts
    skopeo(
        &env,
        &gpg,
        &format!(
            "--policy '{policy}' --registries.d '{regd}' copy --remove-signatures --src-tls-verify=false docker://{tagged} dir:out"
        ),
    );
    // so must signet
    env.ok(&verify_args(&policy, Some(&regd), "text", &[&tagged]));
}

/// containers/image looks registries.d scopes up by the image's full policy identity first,
/// which for a digest reference is `host/repo@sha256:…` (for a tag, `host/repo:tag`).
#[test]
fn registries_d_digest_identity_scope() {
    let reg = TestRegistry::start();
    let addr = reg.addr();
    let env = Env::new();
    let gpg = Gpg::new("Signet Test", "");
    let (policy, digest) = skopeo_signed_image(&env, &gpg, &addr);
    let by_digest = format!("{addr}/t/app@{digest}");
    let regd = registries_d(
        &env,
        "regd-digest",
        &format!(
            "docker:\n  {by_digest}:\n    lookaside: file://{}\n",
            env.p("look")
        ),
    );
    skopeo(
        &env,
        &gpg,
        &format!(
            "--policy '{policy}' --registries.d '{regd}' copy --remove-signatures --src-tls-verify=false docker://{by_digest} dir:out"
        ),
    );
    env.ok(&verify_args(&policy, Some(&regd), "text", &[&by_digest]));
}

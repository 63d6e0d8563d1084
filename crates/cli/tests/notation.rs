//! `signet notation key|cert|policy`: notation's configuration directory layout, formats,
//! permissions and messages, with keys and chains made by openssl.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{Env, sh};

/// A Notary-conformant chain: root CA (critical basicConstraints CA:TRUE, critical
/// keyCertSign) and a code-signing leaf (critical digitalSignature, codeSigning EKU).
/// Writes root.key, root.crt, leaf.key, leaf.crt, chain.pem (leaf, root), other.key.
fn pki(env: &Env) {
    let script = r#"
set -e
openssl ecparam -name prime256v1 -genkey -noout -out root.key 2>/dev/null
openssl req -x509 -new -key root.key -sha256 -days 30 -subj "/C=US/ST=WA/O=acme/CN=Root" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out root.crt
openssl ecparam -name prime256v1 -genkey -noout -out leaf.key 2>/dev/null
openssl req -new -key leaf.key -subj "/C=US/ST=WA/O=acme/CN=Signer" -out leaf.csr
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nbasicConstraints=CA:FALSE\n' > leaf.ext
openssl x509 -req -in leaf.csr -CA root.crt -CAkey root.key -CAcreateserial -sha256 -days 10 \
  -extfile leaf.ext -out leaf.crt 2>/dev/null
cat leaf.crt root.crt > chain.pem
openssl ecparam -name prime256v1 -genkey -noout -out other.key 2>/dev/null
openssl req -x509 -new -key other.key -sha256 -days 30 -subj "/C=US/ST=WA/O=acme/CN=Loose" \
  -out loose.crt
cat loose.crt > loose-chain.pem
openssl x509 -in root.crt -outform DER -out root.der
"#;
    sh(env.dir.path(), script);
}

/// The notation config dir when only HOME is set (as `Env` does).
fn home_config(env: &Env) -> PathBuf {
    env.path(".config/notation")
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn one_line(stderr: &str) {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("Error: "))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
}

const POLICY: &str = r#"{
  "version": "1.0",
  "trustPolicies": [{
    "name": "prod",
    "registryScopes": ["registry.example.com/team/app"],
    "signatureVerification": {"level": "strict"},
    "trustStores": ["ca:acme"],
    "trustedIdentities": ["x509.subject: C=US, ST=WA, O=acme, CN=Signer"]
  }]
}
"#;

#[test]
fn key_add_ls_update_delete() {
    let env = Env::new();
    pki(&env);
    let cfg = home_config(&env);
    let out = env.ok(&[
        "notation",
        "key",
        "add",
        "signer",
        "--key",
        "leaf.key",
        "--cert",
        "chain.pem",
    ]);
    assert_eq!(out, "signer\n");
    let file = cfg.join("signingkeys.json");
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&cfg), 0o700);
    let text = std::fs::read_to_string(&file).unwrap();
    let key = env.p("leaf.key");
    let chain = env.p("chain.pem");
    assert_eq!(
        text,
        format!(
            "{{\n    \"keys\": [\n        {{\n            \"name\": \"signer\",\n            \"keyPath\": \"{key}\",\n            \"certPath\": \"{chain}\"\n        }}\n    ]\n}}\n"
        )
    );

    // A second key, marked default.
    std::fs::copy(env.path("leaf.key"), env.path("leaf2.key")).unwrap();
    let out = env.ok(&[
        "notation",
        "key",
        "add",
        "second",
        "--key",
        "leaf2.key",
        "--cert",
        "chain.pem",
        "--default",
    ]);
    assert_eq!(out, "second: marked as default\n");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(json["default"], "second");
    assert_eq!(json["keys"][1]["name"], "second");

    // ls: Go tabwriter layout, default marked with "* ".
    let ls = env.ok(&["notation", "key", "ls"]);
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("NAME       KEY PATH"), "{ls}");
    assert!(lines[0].ends_with("ID   PLUGIN NAME   "), "{ls}");
    assert!(lines[1].starts_with("signer     /"), "{ls}");
    assert!(lines[2].starts_with("* second   /"), "{ls}");
    let col = lines[0].find("CERTIFICATE PATH").unwrap();
    assert_eq!(&lines[1][col..col + chain.len()], chain);

    // Duplicates are refused.
    let err = env.fails(
        &[
            "notation",
            "key",
            "add",
            "signer",
            "--key",
            "leaf.key",
            "--cert",
            "chain.pem",
        ],
        1,
    );
    assert!(
        err.contains("signing key with name \"signer\" already exists"),
        "{err}"
    );
    one_line(&err);

    // update --default.
    assert_eq!(
        env.ok(&["notation", "key", "update", "signer", "--default"]),
        "signer: marked as default\n"
    );
    assert!(env.ok(&["notation", "key", "ls"]).contains("* signer"));
    let err = env.fails(&["notation", "key", "set", "nope", "--default"], 1);
    assert!(err.contains("signing key nope not found"), "{err}");

    // delete: unknown name removes nothing.
    let err = env.fails(&["notation", "key", "delete", "second", "nope"], 1);
    assert!(err.contains("signing key nope not found"), "{err}");
    one_line(&err);
    assert!(env.ok(&["notation", "key", "ls"]).contains("second"));
    assert_eq!(
        env.ok(&["notation", "key", "delete", "signer"]),
        "Removed default key signer from Notation signing key list. The source key still exists.\n"
    );
    assert_eq!(
        env.ok(&["notation", "key", "delete", "second"]),
        "Removed second from Notation signing key list. The source key still exists.\n"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "{\n    \"keys\": []\n}\n"
    );
    assert!(env.path("leaf.key").exists());
}

#[test]
fn key_add_refuses_bad_input() {
    let env = Env::new();
    pki(&env);
    // Wrong key for the leaf.
    let err = env.fails(
        &[
            "notation",
            "key",
            "add",
            "k",
            "--key",
            "other.key",
            "--cert",
            "chain.pem",
        ],
        1,
    );
    assert!(
        err.contains("does not match the public key of the leaf"),
        "{err}"
    );
    one_line(&err);
    // Not PEM.
    env.write("junk.pem", "not a key");
    let err = env.fails(
        &[
            "notation",
            "key",
            "add",
            "k",
            "--key",
            "junk.pem",
            "--cert",
            "chain.pem",
        ],
        1,
    );
    assert!(
        err.contains("junk.pem is not a usable private key"),
        "{err}"
    );
    one_line(&err);
    let err = env.fails(
        &[
            "notation", "key", "add", "k", "--key", "leaf.key", "--cert", "junk.pem",
        ],
        1,
    );
    assert!(err.contains("is not PEM certificates"), "{err}");
    one_line(&err);
    // A self-signed cert without the code-signing keyUsage fails the Notary rules.
    let err = env.fails(
        &[
            "notation",
            "key",
            "add",
            "k",
            "--key",
            "other.key",
            "--cert",
            "loose-chain.pem",
        ],
        1,
    );
    assert!(
        err.contains("does not meet the Notary Project requirements"),
        "{err}"
    );
    one_line(&err);
    // A chain without its root is incomplete.
    let err = env.fails(
        &[
            "notation", "key", "add", "k", "--key", "leaf.key", "--cert", "leaf.crt",
        ],
        1,
    );
    assert!(
        err.contains("does not meet the Notary Project requirements"),
        "{err}"
    );
    // Neither --key nor --plugin.
    assert_eq!(
        env.run(&["notation", "key", "add", "k"]).status.code(),
        Some(1)
    );
    // A plugin that is not installed.
    let err = env.fails(
        &[
            "notation", "key", "add", "k", "--plugin", "kms", "--id", "key-1",
        ],
        1,
    );
    assert!(err.contains("plugin kms not found"), "{err}");
    assert!(!home_config(&env).join("signingkeys.json").exists());
    // A malformed signingkeys.json is reported, not overwritten.
    let cfg = home_config(&env);
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(cfg.join("signingkeys.json"), r#"{"default":"x","keys":[]}"#).unwrap();
    let err = env.fails(&["notation", "key", "ls"], 1);
    assert!(
        err.contains("malformed signingkeys.json: default key 'x' not found"),
        "{err}"
    );
}

#[test]
fn plugin_key_and_notation_config_env() {
    let env = Env::new();
    let cfg = env.path("custom");
    let exe = cfg.join("plugins/kms/notation-kms");
    std::fs::create_dir_all(exe.parent().unwrap()).unwrap();
    std::fs::write(&exe, "#!/bin/sh\n").unwrap();
    let out = env
        .signet()
        .env("NOTATION_CONFIG", &cfg)
        .args([
            "notation",
            "key",
            "add",
            "remote",
            "--plugin",
            "kms",
            "--id",
            "arn:key/1",
            "--plugin-config",
            "region=eu",
            "--plugin-config",
            "a=b",
            "--default",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(cfg.join("signingkeys.json")).unwrap();
    assert_eq!(
        text,
        "{\n    \"default\": \"remote\",\n    \"keys\": [\n        {\n            \"name\": \"remote\",\n            \"id\": \"arn:key/1\",\n            \"pluginName\": \"kms\",\n            \"pluginConfig\": {\n                \"a\": \"b\",\n                \"region\": \"eu\"\n            }\n        }\n    ]\n}\n"
    );
    assert!(!home_config(&env).exists());
    let out = env
        .signet()
        .env("NOTATION_CONFIG", &cfg)
        .args(["notation", "key", "ls"])
        .output()
        .unwrap();
    let ls = String::from_utf8(out.stdout).unwrap();
    assert!(
        ls.lines().nth(1).unwrap().contains("arn:key/1   kms   "),
        "{ls}"
    );

    // XDG_CONFIG_HOME is honoured when NOTATION_CONFIG is not set.
    let xdg = env.path("xdg");
    let out = env
        .signet()
        .env("XDG_CONFIG_HOME", &xdg)
        .args(["notation", "policy", "show"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    env.write("policy.json", POLICY);
    let out = env
        .signet()
        .env("XDG_CONFIG_HOME", &xdg)
        .args(["notation", "policy", "import", "policy.json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(xdg.join("notation/trustpolicy.oci.json").exists());
}

#[test]
fn cert_add_ls_show_delete() {
    let env = Env::new();
    pki(&env);
    let cfg = home_config(&env);
    let out = env.ok(&[
        "notation", "cert", "add", "--type", "ca", "--store", "acme", "root.crt", "root.der",
    ]);
    assert_eq!(
        out,
        "Successfully added following certificates to named store acme of type ca:\nroot.crt\nroot.der\n"
    );
    let store = cfg.join("truststore/x509/ca/acme");
    assert_eq!(
        std::fs::read(store.join("root.crt")).unwrap(),
        std::fs::read(env.path("root.crt")).unwrap()
    );
    assert_eq!(mode(&store.join("root.der")), 0o600);
    assert_eq!(mode(&store), 0o700);
    assert_eq!(mode(&cfg.join("truststore/x509")), 0o700);
    env.ok(&[
        "notation", "cert", "add", "-t", "tsa", "-s", "ts", "root.crt",
    ]);
    env.ok(&[
        "notation",
        "cert",
        "add",
        "-t",
        "signingAuthority",
        "-s",
        "sa",
        "leaf.crt",
    ]);

    let ls = env.ok(&["notation", "cert", "ls"]);
    assert_eq!(
        ls,
        "STORE TYPE         STORE NAME   CERTIFICATE   \n\
         ca                 acme         root.crt      \n\
         ca                 acme         root.der      \n\
         signingAuthority   sa           leaf.crt      \n\
         tsa                ts           root.crt      \n"
    );
    let ls = env.ok(&["notation", "cert", "ls", "--type", "tsa"]);
    assert_eq!(ls.lines().count(), 2);
    let ls = env.ok(&["notation", "cert", "ls", "--store", "acme"]);
    assert_eq!(ls.lines().count(), 3);
    assert_eq!(
        env.ok(&["notation", "cert", "ls", "-t", "ca", "-s", "none"]),
        ""
    );

    let show = env.ok(&[
        "notation", "cert", "show", "-t", "ca", "-s", "acme", "root.der",
    ]);
    assert!(show.starts_with("Certificate details\n---"), "{show}");
    assert!(
        show.contains("Subject: CN=Root,O=acme,ST=WA,C=US\n"),
        "{show}"
    );
    assert!(show.contains("IsCA: true\n"), "{show}");
    assert!(show.contains(" +0000 UTC\n"), "{show}");
    let fp = String::from_utf8(sh(
        env.dir.path(),
        "openssl x509 -in root.crt -noout -fingerprint -sha256",
    ))
    .unwrap();
    let fp = fp
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase();
    assert!(
        show.contains(&format!("SHA256 Thumbprint: {fp}\n")),
        "{show}"
    );

    // Already present.
    let err = env.fails(
        &[
            "notation", "cert", "add", "-t", "ca", "-s", "acme", "root.crt",
        ],
        1,
    );
    assert!(
        err.contains("certificate already exists in the Trust Store"),
        "{err}"
    );
    one_line(&err);

    // Delete one (without -y and with a "y" answer), then --all.
    let out = env
        .signet()
        .args([
            "notation", "cert", "delete", "-t", "ca", "-s", "acme", "root.der",
        ])
        .write_stdin("y\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "Successfully deleted root.der from trust store acme of type ca\n"
    );
    // Declined.
    let out = env
        .signet()
        .args([
            "notation", "cert", "delete", "-t", "ca", "-s", "acme", "root.crt",
        ])
        .write_stdin("n\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(store.join("root.crt").exists());
    // Last file: the empty store directory goes too.
    env.ok(&[
        "notation", "cert", "delete", "-t", "ca", "-s", "acme", "-y", "root.crt",
    ]);
    assert!(!store.exists());
    let out = env.ok(&[
        "notation", "cert", "delete", "-t", "tsa", "-s", "ts", "--all", "-y",
    ]);
    assert!(out.starts_with("Successfully deleted "), "{out}");
    assert!(!cfg.join("truststore/x509/tsa/ts").exists());
    let err = env.fails(
        &[
            "notation", "cert", "delete", "-t", "tsa", "-s", "ts", "--all", "-y",
        ],
        1,
    );
    assert!(
        err.contains("failed to delete the named trust store"),
        "{err}"
    );
    let err = env.fails(
        &[
            "notation", "cert", "delete", "-t", "ca", "-s", "acme", "-y", "gone.crt",
        ],
        1,
    );
    assert!(
        err.contains("failed to delete the certificate file"),
        "{err}"
    );
}

#[test]
fn cert_refuses_bad_input() {
    let env = Env::new();
    pki(&env);
    env.write("junk.crt", "hello");
    let err = env.fails(
        &[
            "notation", "cert", "add", "-t", "ca", "-s", "acme", "root.crt", "junk.crt", "leaf.key",
        ],
        1,
    );
    one_line(&err);
    assert!(err.contains("junk.crt, with error"), "{err}");
    assert!(
        err.contains("leaf.key, with error \"no valid certificate found in the file\""),
        "{err}"
    );
    let store = home_config(&env).join("truststore/x509/ca/acme");
    assert!(store.join("root.crt").exists());
    assert!(!store.join("junk.crt").exists());
    assert!(!store.join("leaf.key").exists());

    let err = env.fails(
        &[
            "notation", "cert", "add", "-t", "root", "-s", "a", "root.crt",
        ],
        1,
    );
    assert!(err.contains("unsupported store type: root"), "{err}");
    let err = env.fails(
        &[
            "notation", "cert", "add", "-t", "ca", "-s", "a/b", "root.crt",
        ],
        1,
    );
    assert!(
        err.contains("named store name needs to follow [a-zA-Z0-9_.-]+ format"),
        "{err}"
    );
    let err = env.fails(
        &["notation", "cert", "show", "-t", "ca", "-s", "acme", "../x"],
        1,
    );
    one_line(&err);
    let err = env.fails(
        &[
            "notation", "cert", "show", "-t", "ca", "-s", "acme", "nope.crt",
        ],
        1,
    );
    assert!(
        err.contains("failed to show details of certificate nope.crt"),
        "{err}"
    );
    // Usage errors (clap) exit 1 too.
    let out = env.run(&["notation", "cert", "delete", "-t", "ca", "-s", "acme", "-y"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn policy_import_and_show() {
    let env = Env::new();
    let cfg = home_config(&env);
    let err = env.fails(&["notation", "policy", "show"], 1);
    assert!(err.contains("does not exist"), "{err}");
    one_line(&err);

    let file = env.write("policy.json", POLICY);
    let out = env.ok(&["notation", "policy", "import", &file]);
    let target = cfg.join("trustpolicy.oci.json");
    assert_eq!(
        out,
        format!(
            "Successfully imported OCI trust policy configuration to {}.\n",
            target.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), POLICY);
    assert_eq!(mode(&target), 0o600);
    assert_eq!(env.ok(&["notation", "policy", "show"]), POLICY);

    // Overwrite needs --force.
    let other = POLICY.replace("\"prod\"", "\"prod2\"");
    env.write("other.json", &other);
    let err = env.fails(&["notation", "policy", "import", "other.json"], 1);
    assert!(err.contains("use --force"), "{err}");
    one_line(&err);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), POLICY);
    let out = env.run(&["notation", "policy", "import", "--force", "other.json"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("will be overwritten"));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), other);

    // A policy the specification forbids: wildcard mixed with other identities.
    let bad = POLICY.replace(
        "\"x509.subject: C=US, ST=WA, O=acme, CN=Signer\"",
        "\"*\", \"x509.subject: C=US, ST=WA, O=acme, CN=Signer\"",
    );
    env.write("bad.json", &bad);
    let err = env.fails(&["notation", "policy", "import", "--force", "bad.json"], 1);
    assert!(
        err.contains("failed to validate OCI trust policy configuration"),
        "{err}"
    );
    assert!(err.contains("\"prod\""), "{err}");
    one_line(&err);
    env.write("notjson.json", "{");
    let err = env.fails(
        &["notation", "policy", "import", "--force", "notjson.json"],
        1,
    );
    one_line(&err);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), other);

    // show reports an invalid file but still prints it.
    std::fs::write(&target, &bad).unwrap();
    let out = env.run(&["notation", "policy", "show"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), bad);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("existing OCI trust policy configuration is invalid"),
        "{stderr}"
    );
    one_line(&stderr);

    // The legacy trustpolicy.json is shown with a warning and removed by import.
    std::fs::remove_file(&target).unwrap();
    std::fs::write(cfg.join("trustpolicy.json"), POLICY).unwrap();
    let out = env.run(&["notation", "policy", "show"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("deprecated"));
    let out = env.ok(&["notation", "policy", "import", "--force", "policy.json"]);
    assert!(
        out.starts_with("Deleted old trust policy configuration trustpolicy.json.\n"),
        "{out}"
    );
    assert!(!cfg.join("trustpolicy.json").exists());
}

// ---------------------------------------------------------------------------------------------
// sign / ls / inspect / verify

const SCOPE: &str = "registry.example.com/team/app";

/// A one-policy trust policy document.
fn policy_json(scope: &str, level: &str, stores: &[&str], identity: &str) -> String {
    serde_json::json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "p",
            "registryScopes": [scope],
            "signatureVerification": {"level": level},
            "trustStores": stores,
            "trustedIdentities": [identity],
        }]
    })
    .to_string()
}

/// Writes the OCI trust policy directly (replacing any).
fn set_policy(env: &Env, json: &str) {
    let path = home_config(env).join("trustpolicy.oci.json");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, json).unwrap();
}

/// pki + default key "signer" + root in ca:acme + a strict policy for SCOPE.
fn notation_setup(env: &Env) {
    pki(env);
    env.ok(&[
        "notation",
        "key",
        "add",
        "signer",
        "--key",
        "leaf.key",
        "--cert",
        "chain.pem",
        "--default",
    ]);
    env.ok(&[
        "notation", "cert", "add", "-t", "ca", "-s", "acme", "root.crt",
    ]);
    env.ok(&[
        "notation",
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "other",
        "loose.crt",
    ]);
    set_policy(
        env,
        &policy_json(
            SCOPE,
            "strict",
            &["ca:acme"],
            "x509.subject: C=US, ST=WA, O=acme, CN=Signer",
        ),
    );
}

fn layout(env: &Env, name: &str) -> String {
    signet_testkit::write_random_oci_layout(&env.path(name), "v1")
}

fn verify_layout(env: &Env, reference: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["notation", "verify", "--oci-layout", "--scope", SCOPE];
    args.extend_from_slice(extra);
    args.push(reference);
    env.run(&args)
}

fn assert_ok(out: &std::process::Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    (stdout, stderr)
}

fn assert_fail(out: &std::process::Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(
        out.status.code(),
        Some(1),
        "stdout: {}\nstderr: {stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    one_line(&stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[test]
fn sign_ls_inspect_verify_layout() {
    let env = Env::new();
    notation_setup(&env);
    let digest = layout(&env, "img");

    let out = env.run(&[
        "notation",
        "sign",
        "--oci-layout",
        "-m",
        "env=prod",
        "img:v1",
    ]);
    let (stdout, stderr) = assert_ok(&out);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert_eq!(lines[0], format!("Successfully signed img@{digest}"));
    assert!(
        lines[1].starts_with("Pushed the signature to img@sha256:"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:v1)"
        ),
        "{stderr}"
    );
    let by_digest = format!("img@{digest}");
    let out = env.ok(&[
        "notation",
        "sign",
        "--oci-layout",
        "--signature-format",
        "cose",
        "--key",
        "signer",
        &by_digest,
    ]);
    assert!(
        out.starts_with(&format!("Successfully signed img@{digest}\n")),
        "{out}"
    );

    // ls: both signatures in notation's tree.
    let ls = env.ok(&["notation", "ls", "--oci-layout", &by_digest]);
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines.len(), 4, "{ls}");
    assert_eq!(lines[0], format!("img@{digest}"));
    assert_eq!(lines[1], "└── application/vnd.cncf.notary.signature");
    assert!(lines[2].starts_with("    ├── sha256:"), "{ls}");
    assert!(lines[3].starts_with("    └── sha256:"), "{ls}");

    // inspect: text and JSON.
    let text = env.ok(&["notation", "inspect", "--oci-layout", &by_digest]);
    assert!(
        text.starts_with("Inspecting all signatures for signed artifact\n"),
        "{text}"
    );
    assert!(
        text.contains("signature algorithm: ECDSA-SHA-256"),
        "{text}"
    );
    assert!(text.contains("signing scheme: notary.x509"), "{text}");
    assert!(text.contains("env: prod"), "{text}");
    assert!(text.contains(&format!("digest: {digest}")), "{text}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&[
        "notation",
        "inspect",
        "--oci-layout",
        "-o",
        "json",
        &by_digest,
    ]))
    .unwrap();
    let sigs = json["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2);
    let root_fp = {
        let der = std::fs::read(env.path("root.der")).unwrap();
        signet_testkit::sha256_digest(&der)
            .trim_start_matches("sha256:")
            .to_owned()
    };
    for sig in sigs {
        assert_eq!(sig["signedArtifact"]["digest"], digest.as_str());
        assert_eq!(sig["certificates"].as_array().unwrap().len(), 2);
        assert_eq!(
            sig["certificates"][1]["SHA256Fingerprint"],
            root_fp.as_str()
        );
        assert_eq!(sig["signedAttributes"]["signingScheme"], "notary.x509");
    }

    // verify: success, with the user metadata table.
    let (stdout, _) = assert_ok(&verify_layout(&env, &by_digest, &[]));
    assert!(
        stdout.starts_with(&format!(
            "Successfully verified signature for img@{digest}\n"
        )),
        "{stdout}"
    );
    let (stdout, _) = assert_ok(&verify_layout(&env, "img:v1", &["-m", "env=prod"]));
    assert!(
        stdout.contains("The artifact was signed with the following user metadata."),
        "{stdout}"
    );
    assert!(stdout.contains("env   prod"), "{stdout}");

    // wrong -m.
    let err = assert_fail(&verify_layout(&env, &by_digest, &["-m", "env=dev"]));
    assert!(
        err.contains("signature verification failed for all the signatures"),
        "{err}"
    );
    assert!(err.contains("metadata"), "{err}");

    // --scope is required for a layout.
    let err = env.fails(&["notation", "verify", "--oci-layout", &by_digest], 1);
    assert!(err.contains("--scope"), "{err}");

    // Wrong trust store.
    set_policy(
        &env,
        &policy_json(
            SCOPE,
            "strict",
            &["ca:other"],
            "x509.subject: C=US, ST=WA, O=acme, CN=Signer",
        ),
    );
    let err = assert_fail(&verify_layout(&env, &by_digest, &[]));
    assert!(err.contains("authenticity validation failed"), "{err}");
    assert!(
        err.contains("not in the trust policy's trust stores"),
        "{err}"
    );

    // Non-matching trusted identity: strict fails, audit logs it and succeeds.
    set_policy(
        &env,
        &policy_json(
            SCOPE,
            "strict",
            &["ca:acme"],
            "x509.subject: C=US, ST=WA, O=acme, CN=Someone",
        ),
    );
    let err = assert_fail(&verify_layout(&env, &by_digest, &[]));
    assert!(err.contains("trusted identities"), "{err}");
    set_policy(
        &env,
        &policy_json(
            SCOPE,
            "audit",
            &["ca:acme"],
            "x509.subject: C=US, ST=WA, O=acme, CN=Someone",
        ),
    );
    let (stdout, stderr) = assert_ok(&verify_layout(&env, &by_digest, &[]));
    assert!(
        stdout.contains("Successfully verified signature"),
        "{stdout}"
    );
    assert!(
        stderr.contains("Warning: authenticity was set to \"log\" and failed with error:"),
        "{stderr}"
    );

    // Wildcard identity; skip level.
    set_policy(&env, &policy_json(SCOPE, "strict", &["ca:acme"], "*"));
    assert_ok(&verify_layout(&env, &by_digest, &[]));
    let skip = serde_json::json!({"version": "1.0", "trustPolicies": [{
        "name": "s", "registryScopes": [SCOPE], "signatureVerification": {"level": "skip"},
        "trustStores": [], "trustedIdentities": []}]})
    .to_string();
    set_policy(&env, &skip);
    let (stdout, _) = assert_ok(&verify_layout(&env, &by_digest, &[]));
    assert_eq!(
        stdout,
        format!("Trust policy is configured to skip signature verification for img@{digest}\n")
    );
}

#[test]
fn verify_rejects_expired_and_tampered_signatures() {
    let env = Env::new();
    notation_setup(&env);

    // Expired signature: strict fails, permissive warns.
    let digest = layout(&env, "exp");
    env.ok(&[
        "notation",
        "sign",
        "--oci-layout",
        "--expiry",
        "1s",
        "exp:v1",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let reference = format!("exp@{digest}");
    let err = assert_fail(&verify_layout(&env, &reference, &[]));
    assert!(err.contains("expiry validation failed"), "{err}");
    assert!(err.contains("digital signature has expired"), "{err}");
    set_policy(
        &env,
        &policy_json(
            SCOPE,
            "permissive",
            &["ca:acme"],
            "x509.subject: C=US, ST=WA, O=acme, CN=Signer",
        ),
    );
    let (_, stderr) = assert_ok(&verify_layout(&env, &reference, &[]));
    assert!(
        stderr.contains("Warning: expiry was set to \"log\""),
        "{stderr}"
    );
    set_policy(
        &env,
        &policy_json(
            SCOPE,
            "strict",
            &["ca:acme"],
            "x509.subject: C=US, ST=WA, O=acme, CN=Signer",
        ),
    );

    // Tampered envelope: a JWS whose signature no longer matches, stored under its own
    // digest and referenced by a rewritten signature manifest.
    let digest = layout(&env, "tam");
    env.ok(&["notation", "sign", "--oci-layout", "tam:v1"]);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path("tam/index.json")).unwrap()).unwrap();
    let blob = |d: &str| {
        env.path(&format!(
            "tam/blobs/sha256/{}",
            d.trim_start_matches("sha256:")
        ))
    };
    let sig_entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["digest"] != digest.as_str())
        .unwrap()
        .clone();
    let sig_digest = sig_entry["digest"].as_str().unwrap().to_owned();
    let mut manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(&sig_digest)).unwrap()).unwrap();
    let env_digest = manifest["layers"][0]["digest"].as_str().unwrap().to_owned();
    let mut jws: serde_json::Value =
        serde_json::from_slice(&std::fs::read(blob(&env_digest)).unwrap()).unwrap();
    let sig = jws["signature"].as_str().unwrap().to_owned();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    jws["signature"] = serde_json::Value::from(format!("{flipped}{}", &sig[1..]));
    let tampered = serde_json::to_vec(&jws).unwrap();
    let tampered_digest = signet_testkit::sha256_digest(&tampered);
    std::fs::write(blob(&tampered_digest), &tampered).unwrap();
    manifest["layers"][0]["digest"] = serde_json::Value::from(tampered_digest.clone());
    manifest["layers"][0]["size"] = serde_json::Value::from(tampered.len());
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    let new_sig_digest = signet_testkit::sha256_digest(&manifest_bytes);
    std::fs::write(blob(&new_sig_digest), &manifest_bytes).unwrap();
    let text = std::fs::read_to_string(env.path("tam/index.json"))
        .unwrap()
        .replace(&sig_digest, &new_sig_digest);
    std::fs::write(env.path("tam/index.json"), text).unwrap();
    let err = assert_fail(&verify_layout(&env, &format!("tam@{digest}"), &[]));
    assert!(err.contains("integrity validation failed"), "{err}");

    // No signature at all.
    let digest = layout(&env, "none");
    let err = assert_fail(&verify_layout(&env, &format!("none@{digest}"), &[]));
    assert!(err.contains("no signature is associated with"), "{err}");
    let ls = env.ok(&["notation", "ls", "--oci-layout", &format!("none@{digest}")]);
    assert_eq!(ls, format!("none@{digest} has no associated signatures\n"));
}

#[test]
fn sign_refuses_plugin_and_missing_keys() {
    let env = Env::new();
    pki(&env);
    let digest = layout(&env, "img");
    let reference = format!("img@{digest}");
    let err = env.fails(&["notation", "sign", "--oci-layout", &reference], 1);
    assert!(err.contains("default signing key not set"), "{err}");
    let err = env.fails(
        &[
            "notation",
            "sign",
            "--oci-layout",
            "--key",
            "nope",
            &reference,
        ],
        1,
    );
    assert!(err.contains("signing key nope not found"), "{err}");
    let plugin_dir = home_config(&env).join("plugins/kms");
    std::fs::create_dir_all(&plugin_dir).unwrap();
    std::fs::write(plugin_dir.join("notation-kms"), "#!/bin/sh\n").unwrap();
    env.ok(&[
        "notation", "key", "add", "remote", "--plugin", "kms", "--id", "k1",
    ]);
    // The plugin file is not executable: signing fails running it, one line.
    let err = env.fails(
        &[
            "notation",
            "sign",
            "--oci-layout",
            "--key",
            "remote",
            &reference,
        ],
        1,
    );
    assert!(err.contains("cannot run plugin kms"), "{err}");
    one_line(&err);
}

#[test]
fn sign_and_verify_in_a_registry_with_the_tag_fallback() {
    let reg = signet_testkit::TestRegistry::start();
    let addr = reg.addr();
    let env = Env::new();
    notation_setup(&env);
    let pushed = signet_testkit::push_random_image(&addr, "team/app", "v1");
    let scope = format!("{addr}/team/app");
    set_policy(
        &env,
        &policy_json(
            &scope,
            "strict",
            &["ca:acme"],
            "x509.subject: C=US, ST=WA, O=acme, CN=Signer",
        ),
    );
    let tagged = format!("{addr}/team/app:v1");
    let out = env.run(&["notation", "sign", &tagged]);
    let (stdout, _) = assert_ok(&out);
    let digest = pushed.digest.clone();
    assert!(
        stdout.starts_with(&format!(
            "Successfully signed {scope}@{digest}\nPushed the signature to {scope}@sha256:"
        )),
        "{stdout}"
    );
    env.ok(&[
        "notation",
        "sign",
        "--signature-format",
        "cose",
        "-m",
        "a=b",
        &tagged,
    ]);

    // distribution has no referrers API: the referrers tag index holds both.
    let tags = signet_testkit::Pusher::new(&addr)
        .fetch_manifest("team/app", &digest.replace(':', "-"))
        .0;
    let index: serde_json::Value = serde_json::from_slice(&tags).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2, "{index}");

    let ls = env.ok(&["notation", "ls", &format!("{scope}@{digest}")]);
    assert_eq!(ls.lines().count(), 4, "{ls}");
    let (stdout, stderr) = assert_ok(&env.run(&["notation", "verify", &tagged]));
    assert_eq!(
        stdout,
        format!("Successfully verified signature for {scope}@{digest}\n")
    );
    assert!(
        stderr.contains("Warning: Always verify the artifact using digest"),
        "{stderr}"
    );
    let (stdout, _) = assert_ok(&env.run(&[
        "notation",
        "verify",
        "-m",
        "a=b",
        &format!("{scope}@{digest}"),
    ]));
    assert!(stdout.contains("a     b"), "{stdout}");

    // A repository no policy covers.
    let other = signet_testkit::push_random_image(&addr, "team/other", "v1");
    let err = assert_fail(&env.run(&[
        "notation",
        "verify",
        &format!("{addr}/team/other@{}", other.digest),
    ]));
    assert!(err.contains("trust policy"), "{err}");
}

#[test]
fn revocation_cannot_be_checked_offline() {
    let env = Env::new();
    notation_setup(&env);
    // A leaf naming a CRL distribution point: revocation cannot be checked here.
    let script = r#"
set -e
openssl ecparam -name prime256v1 -genkey -noout -out crl.key 2>/dev/null
openssl req -new -key crl.key -subj "/C=US/ST=WA/O=acme/CN=Signer" -out crl.csr
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\ncrlDistributionPoints=URI:http://127.0.0.1:9/root.crl\n' > crl.ext
openssl x509 -req -in crl.csr -CA root.crt -CAkey root.key -CAcreateserial -sha256 -days 10 \
  -extfile crl.ext -out crl.crt 2>/dev/null
cat crl.crt root.crt > crl-chain.pem
"#;
    sh(env.dir.path(), script);
    env.ok(&[
        "notation",
        "key",
        "add",
        "crl",
        "--key",
        "crl.key",
        "--cert",
        "crl-chain.pem",
    ]);
    let digest = layout(&env, "img");
    let reference = format!("img@{digest}");
    env.ok(&[
        "notation",
        "sign",
        "--oci-layout",
        "--key",
        "crl",
        &reference,
    ]);
    let err = assert_fail(&verify_layout(&env, &reference, &[]));
    assert!(err.contains("revocation validation failed"), "{err}");
    assert!(
        err.contains("signing certificate with subject \"CN=Signer,O=acme,ST=WA,C=US\" revocation status is unknown"),
        "{err}"
    );
    assert!(err.contains("revocation cannot be checked"), "{err}");
    set_policy(
        &env,
        &policy_json(
            SCOPE,
            "permissive",
            &["ca:acme"],
            "x509.subject: C=US, ST=WA, O=acme, CN=Signer",
        ),
    );
    let (_, stderr) = assert_ok(&verify_layout(&env, &reference, &[]));
    assert!(
        stderr.contains("Warning: revocation was set to \"log\" and failed with error: signing certificate with subject"),
        "{stderr}"
    );
}

/// Seed 004 as written, with `signet notation` in place of notation: an openssl root, an
/// intermediate and an RSA-4096 signer (unencrypted keys: notation's local keys are), the CA
/// copied into notation's trust store and signingkeys.json written by hand, `key ls`, `sign
/// --key`, `ls`, `policy import` of the seed's policy, `verify`; then a key whose chain lacks
/// the intermediate, and a trust store without the root, fail.
#[test]
fn seed_004_workflow_with_an_intermediate_ca() {
    let env = Env::new();
    let digest = layout(&env, "img");
    let script = r#"
set -e
notation() { "$SIGNET" notation "$@"; }
openssl genrsa -out ca.key 4096 2>/dev/null
openssl req -new -x509 -key ca.key -days 3650 -sha256 -subj "/C=ZA/ST=WC/O=SKAO/CN=SKAO OCI Root" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out ca.pem
openssl genrsa -out oci.interm.key 4096 2>/dev/null
openssl req -new -key oci.interm.key -subj "/C=ZA/ST=WC/O=SKAO/CN=SKAO OCI Intermediate" -out oci.interm.csr
printf "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n" > interm.ext
openssl x509 -req -in oci.interm.csr -CA ca.pem -CAkey ca.key -days 1825 -sha256 -extfile interm.ext -out oci.interm.pem 2>/dev/null
cat oci.interm.pem ca.pem > oci.chain.pem
openssl genrsa -out oci.signer.key 4096 2>/dev/null
openssl req -new -key oci.signer.key -subj "/C=ZA/ST=WC/O=SKAO/CN=SKAO OCI Signer" -out oci.signer.csr
printf "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n" > signer.ext
openssl x509 -req -in oci.signer.csr -CA oci.interm.pem -CAkey oci.interm.key -days 365 -sha256 -extfile signer.ext -out oci.signer.pem 2>/dev/null
cat oci.signer.pem oci.chain.pem > oci.fullchain.pem
cat oci.signer.pem ca.pem > oci.partchain.pem

# Add the CA to the trust store
mkdir -p ~/.config/notation/truststore/x509/ca/skao-oci
cp ca.pem ~/.config/notation/truststore/x509/ca/skao-oci/skao-oci.pem
notation certificate list
# Add the key signing profile
mkdir -p ~/.config/notation/localkeys
cp oci.signer.key oci.fullchain.pem oci.partchain.pem ~/.config/notation/localkeys/
cat << JSON > ~/.config/notation/signingkeys.json
{
    "default": "skao-oci",
    "keys": [
        {
            "name": "skao-oci",
            "keyPath": "$HOME/.config/notation/localkeys/oci.signer.key",
            "certPath": "$HOME/.config/notation/localkeys/oci.fullchain.pem"
        },
        {
            "name": "broken-chain",
            "keyPath": "$HOME/.config/notation/localkeys/oci.signer.key",
            "certPath": "$HOME/.config/notation/localkeys/oci.partchain.pem"
        }
    ]
}
JSON
notation key ls
notation sign --oci-layout "$IMAGE" --key skao-oci
notation ls --oci-layout "$IMAGE"
cat << JSON > ./policy.json
{
    "version": "1.0",
    "trustPolicies": [
        {
            "name": "all",
            "registryScopes": [ "*" ],
            "signatureVerification": {
                "level" : "strict"
            },
            "trustStores": [ "ca:skao-oci" ],
            "trustedIdentities": [
                "x509.subject: C=ZA, ST=WC, O=SKAO"
            ]
        }
    ]
}
JSON
notation policy import ./policy.json
notation verify --oci-layout --scope local/img "$IMAGE"
echo "SEED 004 DONE"
! notation sign --oci-layout "$IMAGE" --key broken-chain 2> broken.err
rm ~/.config/notation/truststore/x509/ca/skao-oci/skao-oci.pem
cp oci.interm.pem ~/.config/notation/truststore/x509/ca/skao-oci/interm.pem
! notation verify --oci-layout --scope local/img "$IMAGE" 2> untrusted.err
"#;
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(env.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", env.dir.path())
        .env("SIGNET", env!("CARGO_BIN_EXE_signet"))
        .env("IMAGE", "img:v1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(stdout.contains("SEED 004 DONE"), "{stdout}");
    assert!(stdout.contains(&digest), "{stdout}");
    assert!(stdout.contains("Successfully signed"), "{stdout}");
    assert!(
        stdout.contains("application/vnd.cncf.notary.signature"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Successfully verified signature"),
        "{stdout}"
    );
    assert!(stdout.contains("skao-oci.pem"), "{stdout}");
    let broken = std::fs::read_to_string(env.path("broken.err")).unwrap();
    one_line(&broken);
    let untrusted = std::fs::read_to_string(env.path("untrusted.err")).unwrap();
    assert!(
        untrusted.contains("signature verification failed"),
        "{untrusted}"
    );
}

// ---- registry flags, legacy manifests, cosign keys, JSON output, limits, messages ----

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const NOTARY: &str = "application/vnd.cncf.notary.signature";

/// A strict policy for `scope` with the `ca:acme` store and the test signer's identity.
fn strict_policy(env: &Env, scope: &str) {
    set_policy(
        env,
        &policy_json(
            scope,
            "strict",
            &["ca:acme"],
            "x509.subject: C=US, ST=WA, O=acme, CN=Signer",
        ),
    );
}

/// The signature digests `notation ls` printed.
fn listed(ls: &str) -> Vec<String> {
    ls.lines()
        .filter_map(|l| {
            l.strip_prefix("    ├── ")
                .or_else(|| l.strip_prefix("    └── "))
        })
        .map(str::to_owned)
        .collect()
}

/// `-u`/`-p` and `NOTATION_USERNAME`/`NOTATION_PASSWORD` reach the registry (htpasswd basic
/// auth on a real docker-registry): sign, ls, inspect and verify work with them and fail
/// without them or with a wrong password; `--insecure-registry` is accepted.
#[test]
fn registry_credentials_from_flags_and_environment() {
    let reg = signet_testkit::TestRegistry::builder()
        .htpasswd("alice", "s3cret-pw")
        .start();
    let addr = reg.addr();
    let env = Env::new();
    notation_setup(&env);
    let pushed = reg.push_random_image("team/app", "v1");
    let scope = format!("{addr}/team/app");
    strict_policy(&env, &scope);
    let reference = format!("{scope}@{}", pushed.digest);

    // No credentials: the registry's 401 is the error.
    let err = assert_fail(&env.run(&["notation", "ls", &reference]));
    assert!(err.contains("no credentials found"), "{err}");
    let err = assert_fail(&env.run(&["notation", "sign", &reference]));
    assert!(err.contains("no credentials found"), "{err}");

    // Wrong password.
    let err =
        assert_fail(&env.run(&["notation", "sign", "-u", "alice", "-p", "wrong", &reference]));
    assert!(err.contains("rejected"), "{err}");
    assert!(!err.contains("wrong"), "the password leaked: {err}");

    // Flags.
    let (stdout, _) = assert_ok(&env.run(&[
        "notation",
        "sign",
        "--insecure-registry",
        "-u",
        "alice",
        "-p",
        "s3cret-pw",
        &reference,
    ]));
    assert!(
        stdout.starts_with(&format!("Successfully signed {reference}\n")),
        "{stdout}"
    );
    let (stdout, _) = assert_ok(&env.run(&[
        "notation",
        "ls",
        "--username",
        "alice",
        "--password",
        "s3cret-pw",
        &reference,
    ]));
    assert_eq!(listed(&stdout).len(), 1, "{stdout}");

    // Environment variables.
    let with_env = |args: &[&str]| {
        env.signet()
            .env("NOTATION_USERNAME", "alice")
            .env("NOTATION_PASSWORD", "s3cret-pw")
            .args(args)
            .output()
            .unwrap()
    };
    assert_ok(&with_env(&[
        "notation",
        "sign",
        "--signature-format",
        "cose",
        &reference,
    ]));
    let (stdout, _) = assert_ok(&with_env(&["notation", "ls", &reference]));
    assert_eq!(listed(&stdout).len(), 2, "{stdout}");
    let (stdout, _) = assert_ok(&with_env(&[
        "notation", "inspect", "-o", "json", &reference,
    ]));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["signatures"].as_array().unwrap().len(), 2, "{json}");
    let (stdout, _) = assert_ok(&with_env(&[
        "notation",
        "verify",
        "--insecure-registry=true",
        &reference,
    ]));
    assert_eq!(
        stdout,
        format!("Successfully verified signature for {reference}\n")
    );
    // A flag wins over the environment.
    let out = env
        .signet()
        .env("NOTATION_USERNAME", "alice")
        .env("NOTATION_PASSWORD", "s3cret-pw")
        .args(["notation", "verify", "-p", "wrong", &reference])
        .output()
        .unwrap();
    let err = assert_fail(&out);
    assert!(err.contains("rejected"), "{err}");
    // A password alone is an identity token; this registry asks for Basic authentication,
    // which needs a username: a clear message, without the token.
    let err = assert_fail(&env.run(&["notation", "ls", "-p", "s3cret-pw", &reference]));
    assert!(err.contains("identity token"), "{err}");
    assert!(!err.contains("s3cret-pw"), "{err}");
}

/// A loopback proxy in front of docker-registry that makes it look like a registry with the
/// OCI 1.1 referrers API on the push side: a manifest `PUT` whose body names a `subject` is
/// answered with `OCI-Subject` (distribution itself indexes nothing, so a client that trusts
/// the header writes no referrers tag). Each request goes upstream on its own connection.
struct SubjectProxy {
    addr: String,
}

impl SubjectProxy {
    fn start(upstream: String) -> SubjectProxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { return };
                let upstream = upstream.clone();
                std::thread::spawn(move || proxy_connection(conn, &upstream));
            }
        });
        SubjectProxy { addr }
    }
}

fn proxy_connection(client: std::net::TcpStream, upstream: &str) {
    use std::io::{BufRead, BufReader, Read, Write};
    let Ok(read_half) = client.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut client = client;
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => head.push(line),
            }
        }
        let length = head
            .iter()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let mut request = Vec::new();
        for line in head
            .iter()
            .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        {
            request.extend_from_slice(line.as_bytes());
        }
        request.extend_from_slice(b"Connection: close\r\n\r\n");
        request.extend_from_slice(&body);
        let Ok(mut up) = std::net::TcpStream::connect(upstream) else {
            return;
        };
        let mut response = Vec::new();
        if up.write_all(&request).is_err() || up.read_to_end(&mut response).is_err() {
            return;
        }
        let subject = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["subject"]["digest"].as_str().map(str::to_owned));
        if head[0].starts_with("PUT ")
            && head[0].contains("/manifests/")
            && response.starts_with(b"HTTP/1.1 201")
            && let Some(subject) = subject
            && let Some(end) = response.windows(2).position(|w| w == b"\r\n")
        {
            let header = format!("OCI-Subject: {subject}\r\n");
            response.splice(end + 2..end + 2, header.into_bytes());
        }
        if client.write_all(&response).is_err() {
            return;
        }
    }
}

/// `sign --force-referrers-tag`: with a registry whose referrers API indexed the signature
/// (`OCI-Subject`), the default writes no referrers tag, the flag writes it anyway; it cannot
/// be combined with `--oci-layout`.
#[test]
fn force_referrers_tag_writes_the_tag_index_even_with_a_referrers_api() {
    let reg = signet_testkit::TestRegistry::start();
    let proxy = SubjectProxy::start(reg.addr());
    let env = Env::new();
    notation_setup(&env);
    let pushed = reg.push_random_image("team/app", "v1");
    let reference = format!("{}/team/app@{}", proxy.addr, pushed.digest);
    let tag_path = format!("/v2/team/app/manifests/{}", pushed.digest.replace(':', "-"));
    let tag_status = || {
        reg.pusher()
            .request("team/app", "GET", &tag_path, &[("Accept", OCI_INDEX)], &[])
            .status
    };

    // Default: the registry said it indexed the referrer, so no tag index is written.
    let (stdout, _) = assert_ok(&env.run(&["notation", "sign", &reference]));
    assert!(stdout.contains("Pushed the signature to"), "{stdout}");
    assert_eq!(tag_status(), 404);
    assert_ok(&env.run(&[
        "notation",
        "sign",
        "--force-referrers-tag=false",
        &reference,
    ]));
    assert_eq!(tag_status(), 404);

    // Forced: the tag index holds the signature although the registry indexed it.
    let (stdout, _) =
        assert_ok(&env.run(&["notation", "sign", "--force-referrers-tag", &reference]));
    let sig_digest = stdout
        .lines()
        .find_map(|l| l.strip_prefix("Pushed the signature to "))
        .and_then(|r| r.split_once('@'))
        .map(|(_, d)| d.to_owned())
        .unwrap();
    assert_eq!(tag_status(), 200);
    let (index, _) = reg
        .pusher()
        .fetch_manifest("team/app", &pushed.digest.replace(':', "-"));
    let index: serde_json::Value = serde_json::from_slice(&index).unwrap();
    let entries = index["manifests"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{index}");
    assert_eq!(entries[0]["digest"], sig_digest.as_str());
    assert_eq!(entries[0]["artifactType"], NOTARY);
    // Readers fall back to that index (distribution has no referrers API to ask).
    let ls = env.ok(&["notation", "ls", &reference]);
    assert_eq!(listed(&ls), vec![sig_digest]);

    // Mutually exclusive with --oci-layout (a usage error, exit 1 as cobra's).
    let digest = layout(&env, "img");
    let out = env.run(&[
        "notation",
        "sign",
        "--oci-layout",
        "--force-referrers-tag",
        &format!("img@{digest}"),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot be used with"), "{err}");
}

/// Old-style (OCI 1.0 compatible) signature manifests: no `artifactType`, config media type
/// `application/vnd.cncf.notary.signature`. One made from a signet signature and pushed with
/// an independent client is listed, inspected and verified from the referrers tag index,
/// whether the index entry carries `artifactType` (as oras-go writes it) or not.
#[test]
fn legacy_signature_manifests_are_listed_inspected_and_verified() {
    let reg = signet_testkit::TestRegistry::start();
    let addr = reg.addr();
    let env = Env::new();
    notation_setup(&env);
    let pushed = reg.push_random_image("team/app", "v1");
    let scope = format!("{addr}/team/app");
    strict_policy(&env, &scope);
    let reference = format!("{scope}@{}", pushed.digest);
    env.ok(&["notation", "sign", "-m", "build=42", &reference]);

    let pusher = reg.pusher();
    let tag = pushed.digest.replace(':', "-");
    let (index, _) = pusher.fetch_manifest("team/app", &tag);
    let index: serde_json::Value = serde_json::from_slice(&index).unwrap();
    let new_style = index["manifests"][0]["digest"].as_str().unwrap().to_owned();
    let (bytes, _) = pusher.fetch_manifest("team/app", &new_style);
    let mut legacy: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(legacy["artifactType"], NOTARY);
    legacy.as_object_mut().unwrap().remove("artifactType");
    legacy["config"] = serde_json::json!({
        "mediaType": NOTARY,
        "digest": signet_testkit::sha256_digest(b"{}"),
        "size": 2,
    });
    let legacy_bytes = serde_json::to_vec(&legacy).unwrap();
    let legacy_digest = signet_testkit::sha256_digest(&legacy_bytes);
    pusher.push_manifest("team/app", &legacy_digest, OCI_MANIFEST, &legacy_bytes);

    for with_artifact_type in [false, true] {
        // The referrers tag index now holds only the legacy manifest.
        let mut entry = serde_json::json!({
            "mediaType": OCI_MANIFEST,
            "digest": legacy_digest,
            "size": legacy_bytes.len(),
        });
        if with_artifact_type {
            entry["artifactType"] = NOTARY.into();
        }
        let index = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [entry],
        });
        pusher.push_manifest(
            "team/app",
            &tag,
            OCI_INDEX,
            &serde_json::to_vec(&index).unwrap(),
        );

        let ls = env.ok(&["notation", "ls", &reference]);
        assert_eq!(listed(&ls), vec![legacy_digest.clone()], "{ls}");
        let text = env.ok(&["notation", "inspect", &reference]);
        assert!(text.contains(&legacy_digest), "{text}");
        assert!(text.contains("build: 42"), "{text}");
        let (stdout, _) =
            assert_ok(&env.run(&["notation", "verify", "-m", "build=42", &reference]));
        assert!(
            stdout.starts_with(&format!(
                "Successfully verified signature for {reference}\n"
            )),
            "{stdout}"
        );
    }

    // A legacy manifest whose signature does not verify is rejected like any other.
    let mut broken = legacy.clone();
    broken["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"] =
        serde_json::Value::from("[\"00\"]");
    let broken_bytes = serde_json::to_vec(&broken).unwrap();
    let broken_digest = signet_testkit::sha256_digest(&broken_bytes);
    pusher.push_manifest("team/app", &broken_digest, OCI_MANIFEST, &broken_bytes);
    let index = serde_json::json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_MANIFEST, "digest": broken_digest, "size": broken_bytes.len()}]});
    pusher.push_manifest(
        "team/app",
        &tag,
        OCI_INDEX,
        &serde_json::to_vec(&index).unwrap(),
    );
    let err = assert_fail(&env.run(&["notation", "verify", &reference]));
    assert!(err.contains("integrity validation failed"), "{err}");
    assert!(err.contains(&broken_digest), "{err}");
}

/// `notation key add` accepts a cosign encrypted key (`signet generate-key-pair`, ECDSA
/// P-256): decrypted with COSIGN_PASSWORD at add and sign time; the signature is ES256 and
/// verifies; a wrong password fails in one line.
#[test]
fn cosign_encrypted_keys_sign_and_verify() {
    let env = Env::new();
    pki(&env);
    let (key, public) = env.keypair("cosign");
    assert!(
        std::fs::read_to_string(&key)
            .unwrap()
            .contains("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----")
    );
    // A code-signing leaf for the cosign public key, issued by the test root with openssl.
    let script = format!(
        r#"
set -e
openssl req -new -key other.key -subj "/C=US/ST=WA/O=acme/CN=Signer" -out cosign.csr
openssl x509 -req -in cosign.csr -force_pubkey {public} -CA root.crt -CAkey root.key \
  -CAcreateserial -sha256 -days 10 -extfile leaf.ext -out cosign.crt 2>/dev/null
cat cosign.crt root.crt > cosign-chain.pem
"#
    );
    sh(env.dir.path(), &script);
    env.ok(&[
        "notation",
        "key",
        "add",
        "cosign",
        "--key",
        &key,
        "--cert",
        "cosign-chain.pem",
        "--default",
    ]);
    env.ok(&[
        "notation", "cert", "add", "-t", "ca", "-s", "acme", "root.crt",
    ]);
    strict_policy(&env, SCOPE);
    let digest = layout(&env, "img");
    let reference = format!("img@{digest}");
    env.ok(&["notation", "sign", "--oci-layout", &reference]);
    let text = env.ok(&["notation", "inspect", "--oci-layout", &reference]);
    assert!(
        text.contains("signature algorithm: ECDSA-SHA-256"),
        "{text}"
    );
    let (stdout, _) = assert_ok(&verify_layout(&env, &reference, &[]));
    assert!(
        stdout.starts_with("Successfully verified signature"),
        "{stdout}"
    );
    // The JWS header names ES256.
    let sig = std::fs::read_dir(env.path("img/blobs/sha256"))
        .unwrap()
        .filter_map(|e| std::fs::read(e.unwrap().path()).ok())
        .find_map(|b| {
            let v: serde_json::Value = serde_json::from_slice(&b).ok()?;
            v.get("protected")?.as_str().map(str::to_owned)
        })
        .unwrap();
    let header = String::from_utf8(base64_url_decode(&sig)).unwrap();
    assert!(header.contains("\"alg\":\"ES256\""), "{header}");

    // Wrong password at sign time.
    let out = env
        .signet()
        .env("COSIGN_PASSWORD", "not it")
        .args(["notation", "sign", "--oci-layout", &reference])
        .output()
        .unwrap();
    let err = assert_fail(&out);
    assert!(err.contains("cosign"), "{err}");
    // A key that does not belong to the leaf is refused at add time.
    let (other, _) = env.keypair("other-cosign");
    let err = env.fails(
        &[
            "notation",
            "key",
            "add",
            "wrong",
            "--key",
            &other,
            "--cert",
            "cosign-chain.pem",
        ],
        1,
    );
    assert!(
        err.contains("does not match the public key of the leaf"),
        "{err}"
    );
    one_line(&err);
}

/// Unpadded base64url (JWS protected header).
fn base64_url_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .unwrap()
}

/// `verify -o json`: notation's (#527) fields `reference`, `userMetadata`, `result`, then the
/// verified signature, the level and each validation's action and result; skip gives
/// `SkippedByTrustPolicy`; a failure prints nothing on stdout. `inspect -o json` has
/// notation's field order, Go's two-space indentation and `userDefinedAttributes: null`.
#[test]
fn verify_and_inspect_json_output() {
    let env = Env::new();
    notation_setup(&env);
    let digest = layout(&env, "img");
    let reference = format!("img@{digest}");
    env.ok(&[
        "notation",
        "sign",
        "--oci-layout",
        "-m",
        "env=prod",
        &reference,
    ]);
    let sig_digest = listed(&env.ok(&["notation", "ls", "--oci-layout", &reference]))
        .pop()
        .unwrap();

    let (stdout, _) = assert_ok(&verify_layout(&env, &reference, &["-o", "json"]));
    assert!(stdout.starts_with("{\n    \"reference\": "), "{stdout}");
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["reference"], reference.as_str());
    assert_eq!(json["result"], "Success");
    assert_eq!(json["userMetadata"]["env"], "prod");
    assert_eq!(json["signature"], sig_digest.as_str());
    assert_eq!(json["verificationLevel"], "strict");
    let results = json["verificationResults"].as_array().unwrap();
    let types: Vec<&str> = results
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "integrity",
            "authenticity",
            "expiry",
            "authenticTimestamp",
            "revocation"
        ],
        "{json}"
    );
    assert!(
        results
            .iter()
            .all(|r| r["result"] == "passed" && r["action"] == "enforce")
    );
    let keys: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert!(keys.contains(&&"reference".to_owned()));

    // audit with a foreign identity: authenticity is logged and failed.
    set_policy(
        &env,
        &policy_json(
            SCOPE,
            "audit",
            &["ca:acme"],
            "x509.subject: C=US, ST=WA, O=acme, CN=Someone",
        ),
    );
    let (stdout, stderr) = assert_ok(&verify_layout(&env, &reference, &["--output", "json"]));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let auth = &json["verificationResults"][1];
    assert_eq!(auth["type"], "authenticity");
    assert_eq!(auth["action"], "log");
    assert_eq!(auth["result"], "failed");
    assert!(
        auth["error"]
            .as_str()
            .unwrap()
            .contains("trusted identities"),
        "{json}"
    );
    assert!(
        stderr.contains("Warning: authenticity was set to \"log\""),
        "{stderr}"
    );

    // A failure: nothing on stdout.
    strict_policy(&env, SCOPE);
    let out = verify_layout(&env, &reference, &["-o", "json", "-m", "env=dev"]);
    assert_fail(&out);
    assert!(out.stdout.is_empty());

    // skip.
    let skip = serde_json::json!({"version": "1.0", "trustPolicies": [{
        "name": "s", "registryScopes": [SCOPE], "signatureVerification": {"level": "skip"},
        "trustStores": [], "trustedIdentities": []}]})
    .to_string();
    set_policy(&env, &skip);
    let (stdout, _) = assert_ok(&verify_layout(&env, &reference, &["-o", "json"]));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["result"], "SkippedByTrustPolicy");
    assert_eq!(json["reference"], reference.as_str());

    // inspect -o json: field order and shapes as notation's json.signature.
    env.ok(&[
        "notation",
        "sign",
        "--oci-layout",
        "--signature-format",
        "cose",
        &reference,
    ]);
    let text = env.ok(&[
        "notation",
        "inspect",
        "--oci-layout",
        "-o",
        "json",
        &reference,
    ]);
    assert!(text.starts_with("{\n  \"mediaType\": "), "{text}");
    let order = [
        "\"digest\"",
        "\"signatureAlgorithm\"",
        "\"signatureEnvelopeType\"",
        "\"signedAttributes\"",
        "\"userDefinedAttributes\"",
        "\"unsignedAttributes\"",
        "\"certificates\"",
        "\"signedArtifact\"",
    ];
    let positions: Vec<usize> = order.iter().map(|k| text.find(k).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{text}");
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let sigs = json["signatures"].as_array().unwrap();
    assert_eq!(sigs.len(), 2);
    assert_eq!(sigs[0]["signatureEnvelopeType"], "application/jose+json");
    assert_eq!(sigs[0]["userDefinedAttributes"]["env"], "prod");
    assert_eq!(sigs[1]["signatureEnvelopeType"], "application/cose");
    assert!(sigs[1]["userDefinedAttributes"].is_null(), "{text}");
    assert!(sigs[1]["signedArtifact"].get("annotations").is_none());
    let tree = env.ok(&["notation", "inspect", "--oci-layout", &reference]);
    assert!(
        tree.contains("signature envelope type: application/cose"),
        "{tree}"
    );
    assert!(tree.contains("(empty)"), "{tree}");
}

/// `--max-signatures`: `ls` and `inspect` show at most that many with notation's warning;
/// `verify` stops after that many (here the first signature lacks the required metadata);
/// zero or negative values are refused.
#[test]
fn max_signatures_limits_ls_inspect_and_verify() {
    let env = Env::new();
    notation_setup(&env);
    let digest = layout(&env, "img");
    let reference = format!("img@{digest}");
    env.ok(&["notation", "sign", "--oci-layout", &reference]);
    env.ok(&[
        "notation",
        "sign",
        "--oci-layout",
        "-m",
        "env=prod",
        &reference,
    ]);
    env.ok(&[
        "notation",
        "sign",
        "--oci-layout",
        "-m",
        "env=prod",
        &reference,
    ]);

    let all = listed(&env.ok(&["notation", "ls", "--oci-layout", &reference]));
    assert_eq!(all.len(), 3);
    let (stdout, stderr) = assert_ok(&env.run(&[
        "notation",
        "ls",
        "--oci-layout",
        "--max-signatures",
        "2",
        &reference,
    ]));
    assert_eq!(listed(&stdout), all[..2].to_vec(), "{stdout}");
    assert!(
        stderr.contains("Warning: exceeded configured limit of max signatures 2 to examine"),
        "{stderr}"
    );
    let (stdout, stderr) = assert_ok(&env.run(&[
        "notation",
        "ls",
        "--oci-layout",
        "--max-signatures",
        "3",
        &reference,
    ]));
    assert_eq!(listed(&stdout).len(), 3);
    assert!(!stderr.contains("exceeded"), "{stderr}");
    let (stdout, stderr) = assert_ok(&env.run(&[
        "notation",
        "inspect",
        "--oci-layout",
        "-o",
        "json",
        "--max-signatures",
        "1",
        &reference,
    ]));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["signatures"].as_array().unwrap().len(), 1);
    assert!(stderr.contains("max signatures 1 to examine"), "{stderr}");

    let err = assert_fail(&verify_layout(
        &env,
        &reference,
        &["-m", "env=prod", "--max-signatures", "1"],
    ));
    assert!(
        err.contains("signature evaluation stopped. The configured limit of 1 signatures to verify per artifact exceeded"),
        "{err}"
    );
    assert_ok(&verify_layout(
        &env,
        &reference,
        &["-m", "env=prod", "--max-signatures", "2"],
    ));
    for bad in ["0", "-1"] {
        let err = env.fails(
            &[
                "notation",
                "ls",
                "--oci-layout",
                "--max-signatures",
                bad,
                &reference,
            ],
            1,
        );
        assert!(
            err.contains(&format!(
                "max-signatures value {bad} must be a positive number"
            )),
            "{err}"
        );
        one_line(&err);
    }
}

/// Bad input gets notation's one-line messages and exit 1.
#[test]
fn bad_input_gets_notations_messages() {
    let env = Env::new();
    pki(&env);
    let digest = layout(&env, "img");
    let check = |args: &[&str], wanted: &str| {
        let err = env.fails(args, 1);
        assert!(err.contains(wanted), "{args:?}: {err}");
        one_line(&err);
    };
    // A registry reference without tag or digest (refused before any network access).
    check(
        &["notation", "ls", "127.0.0.1:1/team/app"],
        "\"127.0.0.1:1/team/app\": invalid reference: no tag or digest. Expecting <registry>/<repository>:<tag> or <registry>/<repository>@<digest>",
    );
    check(
        &[
            "notation",
            "verify",
            "-u",
            "x",
            "-p",
            "y",
            "127.0.0.1:1/team/app",
        ],
        "trust policy is not present. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy",
    );
    // A layout reference without tag or digest.
    check(
        &["notation", "ls", "--oci-layout", "img"],
        "\"img\": invalid reference: missing tag or digest. Expecting <file_path>:<tag> or <file_path>@<digest>",
    );
    check(
        &["notation", "inspect", "--oci-layout", "img:nope"],
        "failed to get manifest descriptor",
    );
    // Keys.
    check(
        &["notation", "sign", "--oci-layout", &format!("img@{digest}")],
        "default signing key not set. Please set default signing key or specify a key name",
    );
    check(
        &[
            "notation",
            "sign",
            "--oci-layout",
            "-k",
            "nope",
            &format!("img@{digest}"),
        ],
        "signing key nope not found",
    );
    // Metadata pairs.
    check(
        &[
            "notation",
            "sign",
            "--oci-layout",
            "-m",
            "novalue",
            &format!("img@{digest}"),
        ],
        "could not parse flag user-metadata: key-value pair requires \"=\" as separator",
    );
    // No signature; no applicable policy.
    env.ok(&[
        "notation", "cert", "add", "-t", "ca", "-s", "acme", "root.crt",
    ]);
    strict_policy(&env, SCOPE);
    check(
        &[
            "notation",
            "verify",
            "--oci-layout",
            "--scope",
            SCOPE,
            &format!("img@{digest}"),
        ],
        &format!(
            "signature verification failed: no signature is associated with \"{SCOPE}@{digest}\", make sure the artifact was signed successfully"
        ),
    );
    check(
        &[
            "notation",
            "verify",
            "--oci-layout",
            "--scope",
            "registry.example.com/other",
            &format!("img@{digest}"),
        ],
        &format!(
            "signature verification failed: artifact \"registry.example.com/other@{digest}\" has no applicable oci trust policy statement"
        ),
    );
}

// ---------------------------------------------------------------------------------------
// RFC 3161 timestamps and revocation that cannot be checked
// ---------------------------------------------------------------------------------------

/// Makes a TSA in `tsa/NAME/`: an EC root (`root.pem`), an RSA-2048 TSA certificate
/// (`tsa.pem`: keyUsage critical digitalSignature, extendedKeyUsage critical timeStamping,
/// plus `extra` extension lines) and the `openssl ts -reply` configuration (accuracy 1 s,
/// ESS signing-certificate-v2).
const MAKE_TSA: &str = r#"
set -e
name=$1; extra=$2
mkdir -p tsa/$name && cd tsa/$name
openssl ecparam -name prime256v1 -genkey -noout -out root.key 2>/dev/null
openssl req -x509 -new -key root.key -sha256 -days 30 -subj "/CN=$name TSA Root" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
  -out root.pem
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out tsa.key 2>/dev/null
openssl req -new -key tsa.key -subj "/CN=$name TSA" -out tsa.csr
printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n%b' "$extra" > tsa.ext
openssl x509 -req -in tsa.csr -CA root.pem -CAkey root.key -CAcreateserial -sha256 -days 20 \
  -extfile tsa.ext -out tsa.pem 2>/dev/null
openssl x509 -in tsa.pem -outform DER -out tsa.der
echo 01 > serial
cat > tsa.cnf <<CNF
[ tsa ]
default_tsa = t
[ t ]
serial = ./serial
crypto_device = builtin
signer_cert = ./tsa.pem
certs = ./root.pem
signer_key = ./tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
"#;

/// The loopback TSA: POST `/NAME` answers with `openssl ts -reply` of TSA `tsa/NAME/` (and
/// keeps the last query in `tsa/last.tsq`); `/status` answers 500, `/type` a 200 with
/// `text/plain`, `/large` a 200 of more than 1 MiB; a request without
/// `Content-Type: application/timestamp-query` gets 415.
const TSA_SERVER: &str = r#"
import http.server, os, subprocess, sys, tempfile
base = sys.argv[1]
class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, code, ctype, body):
        self.send_response(code)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length') or 0))
        name = self.path.strip('/')
        if self.headers.get('Content-Type') != 'application/timestamp-query':
            return self.reply(415, 'text/plain', b'want application/timestamp-query')
        if name == 'status':
            return self.reply(500, 'text/plain', b'boom')
        if name == 'type':
            return self.reply(200, 'text/plain', b'hello')
        if name == 'large':
            return self.reply(200, 'application/timestamp-reply', b'0' * (1024 * 1024 + 10))
        open(os.path.join(base, 'last.tsq'), 'wb').write(body)
        with tempfile.TemporaryDirectory() as t:
            q, r = os.path.join(t, 'q.tsq'), os.path.join(t, 'r.tsr')
            open(q, 'wb').write(body)
            done = subprocess.run(['openssl', 'ts', '-reply', '-config', 'tsa.cnf', '-queryfile', q,
                                   '-out', r], cwd=os.path.join(base, name), capture_output=True)
            if done.returncode != 0:
                return self.reply(500, 'text/plain', done.stderr)
            self.reply(200, 'application/timestamp-reply', open(r, 'rb').read())
    def log_message(self, *args):
        pass
server = http.server.HTTPServer(('127.0.0.1', 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"#;

/// The loopback TSA server process (killed on drop) and its TSAs `good` and `rogue` (another
/// root), `ocsp` (its TSA certificate names an OCSP responder).
struct TsaServer {
    child: std::process::Child,
    port: u16,
}

impl TsaServer {
    fn start(env: &Env) -> TsaServer {
        for (name, extra) in [
            ("good", ""),
            ("rogue", ""),
            (
                "ocsp",
                "authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp\\n",
            ),
        ] {
            let out = std::process::Command::new("sh")
                .args(["-c", MAKE_TSA, "sh", name, extra])
                .current_dir(env.dir.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        env.write("tsa-server.py", TSA_SERVER);
        let mut child = std::process::Command::new("/usr/bin/python3")
            .arg(env.path("tsa-server.py"))
            .arg(env.path("tsa"))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 must be installed");
        let mut line = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut line,
        )
        .unwrap();
        let port = line.trim().parse().expect("the TSA server's port");
        // Certificates made a moment ago (the test's signer, the TSAs') must be older than the
        // TSA's accuracy (1 s) when a timestamp is taken: genTime - accuracy before a
        // certificate's notBefore "can be before" its validity and fails, in notation-go too.
        std::thread::sleep(std::time::Duration::from_millis(2100));
        TsaServer { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}/{path}", self.port)
    }
}

impl Drop for TsaServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `notation sign --oci-layout` with the `good` TSA (or `tsa`/`root` given), plus `extra`.
fn sign_timestamped(env: &Env, url: &str, root: &str, extra: &[&str], reference: &str) -> String {
    let mut args = vec![
        "notation",
        "sign",
        "--oci-layout",
        "--timestamp-url",
        url,
        "--timestamp-root-cert",
        root,
    ];
    args.extend_from_slice(extra);
    args.push(reference);
    let (stdout, stderr) = assert_ok(&env.run(&args));
    assert!(!stderr.contains("revocation"), "{stderr}");
    stdout
}

/// A trust policy for SCOPE at `level` with `stores`, the test signer's identity, and more
/// `signatureVerification` keys.
fn policy_with(level: &str, stores: &[&str], more: serde_json::Value) -> String {
    let mut verification = serde_json::json!({"level": level});
    for (k, v) in more.as_object().unwrap() {
        verification[k] = v.clone();
    }
    serde_json::json!({
        "version": "1.0",
        "trustPolicies": [{
            "name": "p",
            "registryScopes": [SCOPE],
            "signatureVerification": verification,
            "trustStores": stores,
            "trustedIdentities": ["x509.subject: C=US, ST=WA, O=acme, CN=Signer"],
        }]
    })
    .to_string()
}

/// The envelopes (layer media type, bytes) of the signatures of `digest` in layout `name`.
fn layout_envelopes(env: &Env, name: &str, digest: &str) -> Vec<(String, Vec<u8>)> {
    let blob = |d: &str| {
        std::fs::read(env.path(&format!(
            "{name}/blobs/sha256/{}",
            d.trim_start_matches("sha256:")
        )))
        .unwrap()
    };
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(env.path(&format!("{name}/index.json"))).unwrap())
            .unwrap();
    let mut out = Vec::new();
    for m in index["manifests"].as_array().unwrap() {
        let manifest: serde_json::Value =
            serde_json::from_slice(&blob(m["digest"].as_str().unwrap())).unwrap();
        if manifest["subject"]["digest"] != digest {
            continue;
        }
        let layer = &manifest["layers"][0];
        out.push((
            layer["mediaType"].as_str().unwrap().to_owned(),
            blob(layer["digest"].as_str().unwrap()),
        ));
    }
    out
}

/// Splits an envelope (JWS or COSE) into its signature and timestamp token files with
/// python (json / cbor2), independently of signet: writes `sig.bin` and `token.der`.
const EXTRACT: &str = r#"
import base64, json, sys, cbor2
media_type, path = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
if media_type == 'application/jose+json':
    jws = json.loads(data)
    pad = lambda s: s + '=' * (-len(s) % 4)
    sig = base64.urlsafe_b64decode(pad(jws['signature']))
    token = base64.b64decode(jws['header']['io.cncf.notary.timestampSignature'])
else:
    msg = cbor2.loads(data)
    assert msg.tag == 18, msg.tag
    sig = msg.value[3]
    token = msg.value[1]['io.cncf.notary.timestampSignature']
open('sig.bin', 'wb').write(sig)
open('token.der', 'wb').write(token)
"#;

/// The SHA-256 fingerprint (lowercase hex) of a DER file.
fn der_fingerprint(env: &Env, file: &str) -> String {
    let der = std::fs::read(env.path(file)).unwrap();
    signet_testkit::sha256_digest(&der)
        .trim_start_matches("sha256:")
        .to_owned()
}

/// Sign with a timestamp from the loopback TSA (JWS and COSE), check the request and the
/// token with openssl, show it with `inspect` (tree and JSON), and verify it with a `tsa:`
/// trust store added by `cert add --type tsa`.
#[test]
fn timestamped_signatures_sign_inspect_and_verify() {
    let env = Env::new();
    notation_setup(&env);
    let tsa = TsaServer::start(&env);
    let digest = layout(&env, "img");
    let reference = format!("img@{digest}");
    let root = env.p("tsa/good/root.pem");
    let out = sign_timestamped(&env, &tsa.url("good"), &root, &[], &reference);
    assert!(
        out.starts_with(&format!("Successfully signed img@{digest}\n")),
        "{out}"
    );
    // The request as openssl reads it: SHA-256 (ES256 signature), a nonce, certReq.
    let query = String::from_utf8(sh(
        env.dir.path(),
        "openssl ts -query -in tsa/last.tsq -text",
    ))
    .unwrap();
    assert!(query.contains("Hash Algorithm: sha256"), "{query}");
    assert!(query.contains("Certificate required: yes"), "{query}");
    assert!(!query.contains("Nonce: unspecified"), "{query}");
    sign_timestamped(
        &env,
        &tsa.url("good"),
        &root,
        &["--signature-format", "cose"],
        &reference,
    );

    // openssl verifies each envelope's token over its signature bytes.
    env.write("extract.py", EXTRACT);
    let envelopes = layout_envelopes(&env, "img", &digest);
    assert_eq!(envelopes.len(), 2);
    for (media_type, bytes) in &envelopes {
        std::fs::write(env.path("envelope"), bytes).unwrap();
        sh(
            env.dir.path(),
            &format!("/usr/bin/python3 extract.py {media_type} envelope"),
        );
        let verified = sh(
            env.dir.path(),
            "openssl ts -verify -data sig.bin -in token.der -token_in -CAfile tsa/good/root.pem 2>&1",
        );
        assert!(
            String::from_utf8_lossy(&verified).contains("Verification: OK"),
            "{media_type}"
        );
    }

    // inspect: notation's "timestamp signature" node under the unsigned attributes.
    let tree = env.ok(&["notation", "inspect", "--oci-layout", &reference]);
    assert_eq!(tree.matches("└── timestamp signature").count(), 2, "{tree}");
    assert_eq!(tree.matches("── timestamp: [").count(), 2, "{tree}");
    assert!(tree.contains("issued to: CN=good TSA"), "{tree}");
    assert!(tree.contains("issued to: CN=good TSA Root"), "{tree}");
    let json: serde_json::Value = serde_json::from_str(&env.ok(&[
        "notation",
        "inspect",
        "--oci-layout",
        "-o",
        "json",
        &reference,
    ]))
    .unwrap();
    let tsa_fp = der_fingerprint(&env, "tsa/good/tsa.der");
    for sig in json["signatures"].as_array().unwrap() {
        let ts = &sig["unsignedAttributes"]["timestampSignature"];
        let range = ts["timestamp"].as_str().unwrap();
        // "[genTime - 1s, genTime + 1s]", RFC 3339 in UTC.
        let (lower, upper) = range
            .strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .and_then(|r| r.split_once(", "))
            .unwrap_or_else(|| panic!("{range}"));
        let secs = |t: &str| {
            let out = sh(
                env.dir.path(),
                &format!("date -u -d '{}' +%s", t.replace('T', " ").replace('Z', "")),
            );
            String::from_utf8(out)
                .unwrap()
                .trim()
                .parse::<i64>()
                .unwrap()
        };
        assert!(lower.ends_with('Z') && upper.ends_with('Z'), "{range}");
        assert_eq!(secs(upper) - secs(lower), 2, "{range}");
        let certs = ts["certificates"].as_array().unwrap();
        // The token's certificates, in the token's order: the TSA's and its root.
        let tsa_cert = certs
            .iter()
            .find(|c| c["SHA256Fingerprint"] == tsa_fp.as_str())
            .unwrap_or_else(|| panic!("{ts}"));
        assert_eq!(tsa_cert["issuedTo"], "CN=good TSA");
        assert_eq!(certs.len(), 2, "{ts}");
        assert!(ts.get("error").is_none(), "{ts}");
        assert!(sig["unsignedAttributes"]["signingAgent"].is_string());
    }

    // cert add --type tsa, listed with the ca stores.
    env.ok(&[
        "notation", "cert", "add", "--type", "tsa", "--store", "good", &root,
    ]);
    let ls = env.ok(&["notation", "cert", "ls", "--type", "tsa"]);
    assert!(ls.contains("tsa          good         root.pem"), "{ls}");
    let ls = env.ok(&["notation", "cert", "ls"]);
    assert!(ls.contains("ca ") && ls.contains("tsa "), "{ls}");

    // verify: strict with the tsa store; the timestamp is verified (JSON results).
    set_policy(
        &env,
        &policy_with("strict", &["ca:acme", "tsa:good"], serde_json::json!({})),
    );
    let (stdout, _) = assert_ok(&verify_layout(&env, &reference, &[]));
    assert!(stdout.starts_with("Successfully verified"), "{stdout}");
    let (stdout, _) = assert_ok(&verify_layout(&env, &reference, &["-o", "json"]));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let ts = &json["verificationResults"][3];
    assert_eq!(ts["type"], "authenticTimestamp", "{json}");
    assert_eq!(ts["result"], "passed", "{json}");
    // Each envelope on its own: keep one signature at a time.
    for keep in ["application/jose+json", "application/cose"] {
        let d = layout(&env, keep.replace('/', "_").as_str());
        let r = format!("{}@{d}", keep.replace('/', "_"));
        let mut extra = vec![];
        if keep == "application/cose" {
            extra = vec!["--signature-format", "cose"];
        }
        sign_timestamped(&env, &tsa.url("good"), &root, &extra, &r);
        assert_ok(&verify_layout(&env, &r, &[]));
    }
}

/// The flags are checked as notation checks them, the TSA's HTTP answer and token are checked
/// before anything is pushed.
#[test]
fn timestamp_flags_and_tsa_failures() {
    let env = Env::new();
    notation_setup(&env);
    let tsa = TsaServer::start(&env);
    let digest = layout(&env, "img");
    let reference = format!("img@{digest}");
    let root = env.p("tsa/good/root.pem");
    let sign = |url: &str, root: &str| {
        assert_fail(&env.run(&[
            "notation",
            "sign",
            "--oci-layout",
            "--timestamp-url",
            url,
            "--timestamp-root-cert",
            root,
            &reference,
        ]))
    };

    // The two flags go together (clap's usage error, exit 1 as notation's).
    for (given, value, missing) in [
        ("--timestamp-url", tsa.url("good"), "--timestamp-root-cert"),
        ("--timestamp-root-cert", root.clone(), "--timestamp-url"),
    ] {
        let out = env.run(&[
            "notation",
            "sign",
            "--oci-layout",
            given,
            &value,
            &reference,
        ]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(
            err.contains("the following required arguments were not provided")
                && err.contains(missing),
            "{err}"
        );
    }
    // notation's messages for empty values.
    assert!(sign("", &root).contains("Error: timestamping: tsa url cannot be empty"));
    assert!(
        sign(&tsa.url("good"), "")
            .contains("Error: timestamping: tsa root certificate path cannot be empty")
    );
    // The URL.
    let err = sign("ftp://127.0.0.1/x", &root);
    assert!(
        err.contains("cannot get http timestamper for timestamping: endpoint \"ftp://127.0.0.1/x\": scheme must be http or https, but got \"ftp\""),
        "{err}"
    );
    // The root file: one root certificate.
    sh(
        env.dir.path(),
        "cat tsa/good/root.pem tsa/rogue/root.pem > two.pem; : > empty.pem",
    );
    let err = sign(&tsa.url("good"), &env.p("two.pem"));
    assert!(
        err.contains("found more than one certificates from"),
        "{err}"
    );
    let err = sign(&tsa.url("good"), &env.p("empty.pem"));
    assert!(err.contains("cannot find any certificate from"), "{err}");
    let err = sign(&tsa.url("good"), &env.p("tsa/good/tsa.pem"));
    assert!(
        err.contains("failed to check root certificate with error"),
        "{err}"
    );
    let err = sign(&tsa.url("good"), &env.p("missing.pem"));
    assert!(
        err.contains(&format!("open {}: No such file", env.p("missing.pem"))),
        "{err}"
    );
    // The HTTP answer.
    let err = sign(&tsa.url("status"), &root);
    assert!(
        err.contains("timestamp: POST") && err.contains("https response bad status: 500"),
        "{err}"
    );
    let err = sign(&tsa.url("type"), &root);
    assert!(
        err.contains("unexpected response content type: text/plain"),
        "{err}"
    );
    let err = sign(&tsa.url("large"), &root);
    assert!(
        err.contains("unexpected large http response, max response body size allowed is 1 MiB"),
        "{err}"
    );
    let err = sign("http://127.0.0.1:9/", &root);
    assert!(
        err.contains("Error: timestamp: POST \"http://127.0.0.1:9/\"")
            && err.contains("Connection refused"),
        "{err}"
    );
    // A token from a TSA under another root than the given one.
    let err = sign(&tsa.url("rogue"), &root);
    assert!(
        err.contains("Error: timestamp: the timestamp authority is not trusted: the TSA certificate CN=rogue TSA (issuer CN=rogue TSA Root) does not chain to a trusted TSA root"),
        "{err}"
    );
    // Nothing was pushed.
    let ls = env.ok(&["notation", "ls", "--oci-layout", &reference]);
    assert!(ls.contains("has no associated signatures"), "{ls}");
}

/// A signing certificate that expired after signing: with a timestamp verified against a
/// `tsa:` store the signature verifies under strict; without a timestamp (or without the tsa
/// store) it does not; `verifyTimestamp: afterCertExpiry` verifies the timestamp then.
#[test]
fn expired_signing_certificate_verifies_with_a_timestamp() {
    let env = Env::new();
    notation_setup(&env);
    let tsa = TsaServer::start(&env);
    let root = env.p("tsa/good/root.pem");
    env.ok(&["notation", "cert", "add", "-t", "tsa", "-s", "good", &root]);
    let stamped = layout(&env, "stamped");
    let plain = layout(&env, "plain");
    // A leaf valid from a minute ago until 5 s from now (openssl ca sets both dates).
    let script = r#"
set -e
mkdir -p ca/new && : > ca/index.txt && echo 1000 > ca/serial
cat > ca.cnf <<CNF
[ ca ]
default_ca = d
[ d ]
dir = ./ca
database = ./ca/index.txt
new_certs_dir = ./ca/new
serial = ./ca/serial
certificate = root.crt
private_key = root.key
default_md = sha256
policy = any
unique_subject = no
[ any ]
countryName = optional
stateOrProvinceName = optional
organizationName = optional
commonName = supplied
[ short ]
keyUsage = critical,digitalSignature
extendedKeyUsage = codeSigning
CNF
openssl ecparam -name prime256v1 -genkey -noout -out short.key 2>/dev/null
openssl req -new -key short.key -subj "/C=US/ST=WA/O=acme/CN=Signer" -out short.csr
openssl ca -batch -config ca.cnf -extensions short -preserveDN -notext \
  -startdate $(date -u -d '-1 min' +%Y%m%d%H%M%SZ) -enddate $(date -u -d '+5 sec' +%Y%m%d%H%M%SZ) \
  -in short.csr -out short.crt 2>/dev/null
cat short.crt root.crt > short-chain.pem
"#;
    sh(env.dir.path(), script);
    let expires = std::time::Instant::now() + std::time::Duration::from_secs(5);
    env.ok(&[
        "notation",
        "key",
        "add",
        "short",
        "--key",
        "short.key",
        "--cert",
        "short-chain.pem",
    ]);
    let stamped_ref = format!("stamped@{stamped}");
    let plain_ref = format!("plain@{plain}");
    sign_timestamped(
        &env,
        &tsa.url("good"),
        &root,
        &["--key", "short"],
        &stamped_ref,
    );
    env.ok(&[
        "notation",
        "sign",
        "--oci-layout",
        "--key",
        "short",
        &plain_ref,
    ]);
    // A signature without a timestamp, by a certificate that has not expired: the tsa store
    // asks for a timestamp (verifyTimestamp "always"); "afterCertExpiry" does not yet.
    let fresh = layout(&env, "fresh");
    let fresh_ref = format!("fresh@{fresh}");
    env.ok(&["notation", "sign", "--oci-layout", &fresh_ref]);
    let with_tsa = policy_with("strict", &["ca:acme", "tsa:good"], serde_json::json!({}));
    let without_tsa = policy_with("strict", &["ca:acme"], serde_json::json!({}));
    let after_expiry = policy_with(
        "strict",
        &["ca:acme", "tsa:good"],
        serde_json::json!({"verifyTimestamp": "afterCertExpiry"}),
    );
    set_policy(&env, &with_tsa);
    let err = assert_fail(&verify_layout(&env, &fresh_ref, &[]));
    assert!(
        err.contains("authenticTimestamp validation failed: no timestamp countersignature was found in the signature envelope"),
        "{err}"
    );
    set_policy(&env, &after_expiry);
    assert_ok(&verify_layout(&env, &fresh_ref, &[]));

    // Let the certificate expire.
    let wait = expires.saturating_duration_since(std::time::Instant::now())
        + std::time::Duration::from_millis(1500);
    std::thread::sleep(wait);
    set_policy(&env, &with_tsa);
    let (stdout, _) = assert_ok(&verify_layout(&env, &stamped_ref, &[]));
    assert!(stdout.starts_with("Successfully verified"), "{stdout}");
    let err = assert_fail(&verify_layout(&env, &plain_ref, &[]));
    assert!(err.contains("no timestamp countersignature"), "{err}");
    // afterCertExpiry: expired now, the timestamp is required and verified.
    set_policy(&env, &after_expiry);
    assert_ok(&verify_layout(&env, &stamped_ref, &[]));
    let err = assert_fail(&verify_layout(&env, &plain_ref, &[]));
    assert!(err.contains("no timestamp countersignature"), "{err}");
    // Without a tsa store the chain must be valid now: both fail under strict...
    set_policy(&env, &without_tsa);
    for r in [&stamped_ref, &plain_ref] {
        let err = assert_fail(&verify_layout(&env, r, &[]));
        assert!(
            err.contains("authenticTimestamp validation failed: verification time is after certificate \"CN=Signer,O=acme,ST=WA,C=US\" validity period"),
            "{err}"
        );
    }
    // ... and are only logged under permissive.
    set_policy(
        &env,
        &policy_with("permissive", &["ca:acme"], serde_json::json!({})),
    );
    let (_, stderr) = assert_ok(&verify_layout(&env, &plain_ref, &[]));
    assert!(
        stderr.contains("Warning: authenticTimestamp was set to \"log\" and failed with error: verification time is after certificate"),
        "{stderr}"
    );
}

/// A token from a TSA the `tsa:` store does not trust fails the authentic timestamp
/// validation under strict and is only logged under permissive and audit (or with the
/// override `log`); a missing store or a store holding a non-root fails it too; a TSA chain
/// whose revocation cannot be checked fails it (signing warns).
#[test]
fn untrusted_tsa_and_bad_tsa_stores() {
    let env = Env::new();
    notation_setup(&env);
    let tsa = TsaServer::start(&env);
    env.ok(&[
        "notation",
        "cert",
        "add",
        "-t",
        "tsa",
        "-s",
        "good",
        &env.p("tsa/good/root.pem"),
    ]);
    let digest = layout(&env, "img");
    let reference = format!("img@{digest}");
    sign_timestamped(
        &env,
        &tsa.url("rogue"),
        &env.p("tsa/rogue/root.pem"),
        &[],
        &reference,
    );
    set_policy(
        &env,
        &policy_with("strict", &["ca:acme", "tsa:good"], serde_json::json!({})),
    );
    let err = assert_fail(&verify_layout(&env, &reference, &[]));
    assert!(
        err.contains(
            "authenticTimestamp validation failed: failed to verify the timestamp countersignature"
        ),
        "{err}"
    );
    for (level, more) in [
        ("permissive", serde_json::json!({})),
        ("audit", serde_json::json!({})),
        (
            "strict",
            serde_json::json!({"override": {"authenticTimestamp": "log"}}),
        ),
    ] {
        set_policy(&env, &policy_with(level, &["ca:acme", "tsa:good"], more));
        let (stdout, stderr) = assert_ok(&verify_layout(&env, &reference, &[]));
        assert!(stdout.starts_with("Successfully verified"), "{stdout}");
        assert!(
            stderr.contains("Warning: authenticTimestamp was set to \"log\" and failed with error: failed to verify the timestamp countersignature"),
            "{level}: {stderr}"
        );
    }
    // override enforce under permissive.
    set_policy(
        &env,
        &policy_with(
            "permissive",
            &["ca:acme", "tsa:good"],
            serde_json::json!({"override": {"authenticTimestamp": "enforce"}}),
        ),
    );
    assert_fail(&verify_layout(&env, &reference, &[]));
    // The rogue root in its own store: verifies.
    env.ok(&[
        "notation",
        "cert",
        "add",
        "-t",
        "tsa",
        "-s",
        "rogue",
        &env.p("tsa/rogue/root.pem"),
    ]);
    set_policy(
        &env,
        &policy_with(
            "strict",
            &["ca:acme", "tsa:good", "tsa:rogue"],
            serde_json::json!({}),
        ),
    );
    assert_ok(&verify_layout(&env, &reference, &[]));

    // A store that does not exist.
    set_policy(
        &env,
        &policy_with("strict", &["ca:acme", "tsa:nope"], serde_json::json!({})),
    );
    let err = assert_fail(&verify_layout(&env, &reference, &[]));
    assert!(
        err.contains("authenticTimestamp validation failed: trust policy \"p\": cannot load its tsa trust stores: the trust store \"tsa:nope\" does not exist"),
        "{err}"
    );
    // A store holding the TSA certificate, not a root (cert add takes it, as notation's).
    env.ok(&[
        "notation",
        "cert",
        "add",
        "-t",
        "tsa",
        "-s",
        "leafy",
        &env.p("tsa/rogue/tsa.pem"),
    ]);
    set_policy(
        &env,
        &policy_with("strict", &["ca:acme", "tsa:leafy"], serde_json::json!({})),
    );
    let err = assert_fail(&verify_layout(&env, &reference, &[]));
    assert!(
        err.contains("trusted certificate tsa.pem in trust store leafy of type tsa is invalid: certificate with subject \"CN=rogue TSA\" is not a root CA certificate"),
        "{err}"
    );
    // The tsa store does not stand in for the ca store.
    set_policy(
        &env,
        &policy_with("strict", &["ca:other", "tsa:rogue"], serde_json::json!({})),
    );
    let err = assert_fail(&verify_layout(&env, &reference, &[]));
    assert!(err.contains("authenticity validation failed"), "{err}");

    // A TSA certificate naming an OCSP responder: signing warns that its revocation was not
    // checked; verification cannot check it, which fails the authentic timestamp validation
    // whatever the revocation setting (notation-go checks a TSA chain's revocation always).
    let other = layout(&env, "other");
    let other_ref = format!("other@{other}");
    let out = env.run(&[
        "notation",
        "sign",
        "--oci-layout",
        "--timestamp-url",
        &tsa.url("ocsp"),
        "--timestamp-root-cert",
        &env.p("tsa/ocsp/root.pem"),
        &other_ref,
    ]);
    let (_, stderr) = assert_ok(&out);
    assert!(
        stderr.contains("Warning: the revocation of the timestamping certificate chain was not checked: timestamping certificate with subject \"CN=ocsp TSA\" revocation status is unknown"),
        "{stderr}"
    );
    env.ok(&[
        "notation",
        "cert",
        "add",
        "-t",
        "tsa",
        "-s",
        "ocsp",
        &env.p("tsa/ocsp/root.pem"),
    ]);
    set_policy(
        &env,
        &policy_with(
            "strict",
            &["ca:acme", "tsa:ocsp"],
            serde_json::json!({"override": {"revocation": "skip"}}),
        ),
    );
    let err = assert_fail(&verify_layout(&env, &other_ref, &[]));
    assert!(
        err.contains("authenticTimestamp validation failed: the timestamping certificate chain failed the revocation check: timestamping certificate with subject \"CN=ocsp TSA\" revocation status is unknown"),
        "{err}"
    );
    set_policy(
        &env,
        &policy_with(
            "permissive",
            &["ca:acme", "tsa:ocsp"],
            serde_json::json!({}),
        ),
    );
    let (_, stderr) = assert_ok(&verify_layout(&env, &other_ref, &[]));
    assert!(
        stderr.contains("Warning: authenticTimestamp was set to \"log\""),
        "{stderr}"
    );
}

/// A notation plugin key (a python plugin signing with the test leaf key) signs with a
/// timestamp, JWS and COSE, and the signatures verify with the tsa store.
#[test]
fn plugin_key_signs_with_a_timestamp() {
    let env = Env::new();
    notation_setup(&env);
    let tsa = TsaServer::start(&env);
    let dir = home_config(&env).join("plugins/pykms");
    std::fs::create_dir_all(&dir).unwrap();
    let plugin = r#"#!/usr/bin/python3
import base64, json, os, sys
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
here = os.path.dirname(os.path.abspath(__file__))
raw = sys.stdin.read()
req = json.loads(raw) if raw.strip() else {}
cmd = sys.argv[1]
if cmd == 'get-plugin-metadata':
    out = {'name': 'pykms', 'description': 'test', 'version': '1.0.0', 'url': 'https://example.test',
           'supportedContractVersions': ['1.0'], 'capabilities': ['SIGNATURE_GENERATOR.RAW']}
elif cmd == 'describe-key':
    out = {'keyId': req['keyId'], 'keySpec': 'EC-256'}
elif cmd == 'generate-signature':
    key = serialization.load_pem_private_key(open(os.path.join(here, 'key.pem'), 'rb').read(), None)
    r, s = decode_dss_signature(key.sign(base64.b64decode(req['payload']), ec.ECDSA(hashes.SHA256())))
    chain = [base64.b64encode(open(os.path.join(here, f), 'rb').read()).decode()
             for f in ('leaf.der', 'root.der')]
    out = {'keyId': req['keyId'], 'signature': base64.b64encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big')).decode(),
           'signingAlgorithm': 'ECDSA-SHA-256', 'certificateChain': chain}
else:
    sys.stderr.write(json.dumps({'errorCode': 'VALIDATION_ERROR', 'errorMessage': cmd}))
    sys.exit(1)
json.dump(out, sys.stdout)
"#;
    let exe = dir.join("notation-pykms");
    std::fs::write(&exe, plugin).unwrap();
    std::fs::set_permissions(&exe, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    sh(
        env.dir.path(),
        &format!(
            "cp leaf.key {d}/key.pem && openssl x509 -in leaf.crt -outform DER -out {d}/leaf.der && cp root.der {d}/root.der",
            d = dir.display()
        ),
    );
    env.ok(&[
        "notation", "key", "add", "kms", "--plugin", "pykms", "--id", "k1",
    ]);
    env.ok(&[
        "notation",
        "cert",
        "add",
        "-t",
        "tsa",
        "-s",
        "good",
        &env.p("tsa/good/root.pem"),
    ]);
    set_policy(
        &env,
        &policy_with("strict", &["ca:acme", "tsa:good"], serde_json::json!({})),
    );
    for format in ["jws", "cose"] {
        let digest = layout(&env, format);
        let reference = format!("{format}@{digest}");
        sign_timestamped(
            &env,
            &tsa.url("good"),
            &env.p("tsa/good/root.pem"),
            &["--key", "kms", "--signature-format", format],
            &reference,
        );
        let (stdout, _) = assert_ok(&verify_layout(&env, &reference, &[]));
        assert!(stdout.starts_with("Successfully verified"), "{stdout}");
        let tree = env.ok(&["notation", "inspect", "--oci-layout", &reference]);
        assert!(tree.contains("timestamp signature"), "{tree}");
    }
}

/// Revocation when it cannot be checked (no OCSP or CRL client, no network): a signing
/// certificate naming an OCSP responder has an unknown revocation status, which notation-go
/// counts as a failure of the revocation validation: enforced under strict, logged under
/// permissive and audit, not checked under skip; overrides change that. The root is never
/// checked (notation-core-go), so a root naming a responder does not matter.
#[test]
fn revocation_unknown_for_an_ocsp_responder_per_level_and_override() {
    let env = Env::new();
    notation_setup(&env);
    let script = r#"
set -e
openssl ecparam -name prime256v1 -genkey -noout -out ocsp.key 2>/dev/null
openssl req -new -key ocsp.key -subj "/C=US/ST=WA/O=acme/CN=Signer" -out ocsp.csr
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nauthorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp,caIssuers;URI:http://127.0.0.1:9/ca.crt\n' > ocsp.ext
openssl x509 -req -in ocsp.csr -CA root.crt -CAkey root.key -CAcreateserial -sha256 -days 10 \
  -extfile ocsp.ext -out ocsp.crt 2>/dev/null
cat ocsp.crt root.crt > ocsp-chain.pem
# A leaf whose authorityInfoAccess names only caIssuers: no OCSP responder (Go's OCSPServer).
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\nauthorityInfoAccess=caIssuers;URI:http://127.0.0.1:9/ca.crt\n' > ca-issuers.ext
openssl x509 -req -in ocsp.csr -CA root.crt -CAkey root.key -CAcreateserial -sha256 -days 10 \
  -extfile ca-issuers.ext -out ca-issuers.crt 2>/dev/null
cat ca-issuers.crt root.crt > ca-issuers-chain.pem
# A root naming a responder and a CRL, with a plain leaf.
openssl ecparam -name prime256v1 -genkey -noout -out aroot.key 2>/dev/null
openssl req -x509 -new -key aroot.key -sha256 -days 30 -subj "/C=US/ST=WA/O=acme/CN=Root" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
  -addext authorityInfoAccess=OCSP\;URI:http://127.0.0.1:9/ocsp \
  -addext crlDistributionPoints=URI:http://127.0.0.1:9/root.crl -out aroot.crt
openssl ecparam -name prime256v1 -genkey -noout -out aleaf.key 2>/dev/null
openssl req -new -key aleaf.key -subj "/C=US/ST=WA/O=acme/CN=Signer" -out aleaf.csr
printf 'keyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n' > aleaf.ext
openssl x509 -req -in aleaf.csr -CA aroot.crt -CAkey aroot.key -CAcreateserial -sha256 -days 10 \
  -extfile aleaf.ext -out aleaf.crt 2>/dev/null
cat aleaf.crt aroot.crt > aleaf-chain.pem
"#;
    sh(env.dir.path(), script);
    // openssl really wrote the extensions.
    let text =
        String::from_utf8(sh(env.dir.path(), "openssl x509 -in ocsp.crt -noout -text")).unwrap();
    assert!(
        text.contains("OCSP - URI:http://127.0.0.1:9/ocsp"),
        "{text}"
    );
    let text = String::from_utf8(sh(
        env.dir.path(),
        "openssl x509 -in aroot.crt -noout -text",
    ))
    .unwrap();
    assert!(
        text.contains("OCSP - URI:") && text.contains("root.crl"),
        "{text}"
    );
    env.ok(&[
        "notation",
        "key",
        "add",
        "ocsp",
        "--key",
        "ocsp.key",
        "--cert",
        "ocsp-chain.pem",
    ]);
    env.ok(&[
        "notation",
        "key",
        "add",
        "aleaf",
        "--key",
        "aleaf.key",
        "--cert",
        "aleaf-chain.pem",
    ]);
    env.ok(&[
        "notation",
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "aroot",
        "aroot.crt",
    ]);
    let digest = layout(&env, "img");
    let reference = format!("img@{digest}");
    env.ok(&[
        "notation",
        "sign",
        "--oci-layout",
        "--key",
        "ocsp",
        &reference,
    ]);
    const UNKNOWN: &str = "signing certificate with subject \"CN=Signer,O=acme,ST=WA,C=US\" revocation status is unknown";

    // (level, override, expected: Err = fails, Ok(true) = passes with a warning, Ok(false)
    // = passes silently)
    let cases: [(&str, serde_json::Value, Result<bool, ()>); 8] = [
        ("strict", serde_json::json!({}), Err(())),
        ("permissive", serde_json::json!({}), Ok(true)),
        ("audit", serde_json::json!({}), Ok(true)),
        ("strict", serde_json::json!({"revocation": "log"}), Ok(true)),
        (
            "strict",
            serde_json::json!({"revocation": "skip"}),
            Ok(false),
        ),
        (
            "permissive",
            serde_json::json!({"revocation": "enforce"}),
            Err(()),
        ),
        (
            "audit",
            serde_json::json!({"revocation": "skip"}),
            Ok(false),
        ),
        (
            "audit",
            serde_json::json!({"revocation": "enforce"}),
            Err(()),
        ),
    ];
    for (level, overrides, expected) in cases {
        let more = if overrides.as_object().unwrap().is_empty() {
            serde_json::json!({})
        } else {
            serde_json::json!({ "override": overrides })
        };
        set_policy(&env, &policy_with(level, &["ca:acme"], more));
        let out = verify_layout(&env, &reference, &[]);
        let what = format!("{level} {overrides}");
        match expected {
            Err(()) => {
                let err = assert_fail(&out);
                assert!(
                    err.contains(&format!("revocation validation failed: {UNKNOWN}")),
                    "{what}: {err}"
                );
            }
            Ok(warned) => {
                let (stdout, stderr) = assert_ok(&out);
                assert!(
                    stdout.starts_with("Successfully verified"),
                    "{what}: {stdout}"
                );
                assert_eq!(
                    stderr.contains(&format!(
                        "Warning: revocation was set to \"log\" and failed with error: {UNKNOWN}"
                    )),
                    warned,
                    "{what}: {stderr}"
                );
            }
        }
    }
    // JSON results: the logged failure is recorded with its action.
    set_policy(
        &env,
        &policy_with("permissive", &["ca:acme"], serde_json::json!({})),
    );
    let (stdout, _) = assert_ok(&verify_layout(&env, &reference, &["-o", "json"]));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let revocation = &json["verificationResults"][4];
    assert_eq!(revocation["type"], "revocation", "{json}");
    assert_eq!(revocation["action"], "log", "{json}");
    assert_eq!(revocation["result"], "failed", "{json}");
    // skip level: nothing is checked.
    let skip = serde_json::json!({"version": "1.0", "trustPolicies": [{
        "name": "s", "registryScopes": [SCOPE], "signatureVerification": {"level": "skip"},
        "trustStores": [], "trustedIdentities": []}]})
    .to_string();
    set_policy(&env, &skip);
    assert_ok(&verify_layout(&env, &reference, &[]));

    // caIssuers alone is no revocation source: strict passes.
    env.ok(&[
        "notation",
        "key",
        "add",
        "ca-issuers",
        "--key",
        "ocsp.key",
        "--cert",
        "ca-issuers-chain.pem",
    ]);
    let digest = layout(&env, "issuers");
    let issuers = format!("issuers@{digest}");
    env.ok(&[
        "notation",
        "sign",
        "--oci-layout",
        "--key",
        "ca-issuers",
        &issuers,
    ]);
    set_policy(
        &env,
        &policy_with("strict", &["ca:acme"], serde_json::json!({})),
    );
    let (_, stderr) = assert_ok(&verify_layout(&env, &issuers, &[]));
    assert!(!stderr.contains("revocation"), "{stderr}");

    // The root is never checked: a root naming OCSP and CRL passes under strict.
    let digest = layout(&env, "rooted");
    let rooted = format!("rooted@{digest}");
    env.ok(&[
        "notation",
        "sign",
        "--oci-layout",
        "--key",
        "aleaf",
        &rooted,
    ]);
    set_policy(
        &env,
        &policy_with("strict", &["ca:aroot"], serde_json::json!({})),
    );
    let (_, stderr) = assert_ok(&verify_layout(&env, &rooted, &[]));
    assert!(!stderr.contains("revocation"), "{stderr}");
}

/// `sign --remote` (the signing service's DetachedSignature operation, its internal CA) with a
/// timestamp, JWS and COSE; verified with the service's root in a `ca:` store and the TSA
/// root in a `tsa:` store.
#[test]
fn remote_signing_service_signs_with_a_timestamp() {
    let srv = common::service::Server::start();
    let env = Env::new();
    let tsa = TsaServer::start(&env);
    let admin = srv.token("root", &["admins"]);
    let writer = srv.token("carol", &["writers", "blanket"]);
    srv.remote_json(
        &env,
        &admin,
        &["pki", "ca", "init", "--subject", "/CN=Acme Root CA/O=Acme"],
    );
    let profile = env.write(
        "profile.yaml",
        "name: signing\ncertificateType: ENDENTITY\nvalidityDays: 30\n\
         keyUsage: [digitalSignature]\nextendedKeyUsage: [codeSigning]\n\
         subject: {C: FI, ST: Uusimaa, O: Acme}\nemail: ci@acme.example\noidcIssuer: https://acme.example\n",
    );
    let created = srv.remote_json(
        &env,
        &admin,
        &["pki", "profile", "create", "--file", &profile],
    );
    let product = serde_json::json!({
        "name": "img", "description": "notation signing", "productType": "Production",
        "enabled": true,
        "caInfo": [{"CN": "img signer", "description": "code signing", "useCase": "CodeSigning",
                    "keyType": "RSA2048", "certificateType": "ENDENTITY",
                    "profileID": created["id"].as_str().unwrap()}],
        "rndKeys": [],
        "productOperations": [{"name": "notation", "description": "Notary Project signatures",
            "operationType": "DetachedSignature",
            "approvalRule": {"name": "rule", "description": "rule", "allowedGroups": ["writers"],
                             "approvalGroups": ["approvers"], "blanketGroups": ["blanket"]}}],
    });
    let file = env.write("product.json", product.to_string());
    let p = srv.remote_json(&env, &admin, &["product", "create", "--file", &file]);
    let pat = srv.token("pat", &["product-approvers"]);
    srv.remote_json(
        &env,
        &pat,
        &["product", "approve", "-I", p["id"].as_str().unwrap()],
    );
    // No wait: the service backdates its certificates (signet_pki::issue::NOT_BEFORE_BACKDATE),
    // so a timestamp taken right after issuance (genTime ± the TSA's 1 s) is inside them.
    let chain = env.p("ca-chain.pem");
    assert!(
        srv.remote(&env, &admin, &["pki", "ca", "get", "-O", &chain])
            .status
            .success()
    );
    let text = std::fs::read_to_string(&chain).unwrap();
    let last = text.rfind("-----BEGIN CERTIFICATE-----").unwrap();
    env.write("service-root.pem", &text[last..]);
    env.ok(&[
        "notation",
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "acme",
        "service-root.pem",
    ]);
    env.ok(&[
        "notation",
        "cert",
        "add",
        "-t",
        "tsa",
        "-s",
        "good",
        &env.p("tsa/good/root.pem"),
    ]);
    let policy = serde_json::json!({"version": "1.0", "trustPolicies": [{
        "name": "p", "registryScopes": [SCOPE], "signatureVerification": {"level": "strict"},
        "trustStores": ["ca:acme", "tsa:good"],
        "trustedIdentities": ["x509.subject: C=FI, ST=Uusimaa, O=Acme, CN=img signer"]}]});
    set_policy(&env, &policy.to_string());
    for format in ["jws", "cose"] {
        let digest = layout(&env, format);
        let reference = format!("{format}@{digest}");
        sign_timestamped(
            &env,
            &tsa.url("good"),
            &env.p("tsa/good/root.pem"),
            &[
                "--remote",
                &srv.api(),
                "--token",
                &writer,
                "--product",
                "img",
                "--operation",
                "notation",
                "--signature-format",
                format,
            ],
            &reference,
        );
        let (stdout, _) = assert_ok(&verify_layout(&env, &reference, &["-o", "json"]));
        let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(json["verificationResults"][3]["type"], "authenticTimestamp");
        assert_eq!(json["verificationResults"][3]["result"], "passed", "{json}");
        let tree = env.ok(&["notation", "inspect", "--oci-layout", &reference]);
        assert!(tree.contains("timestamp signature"), "{tree}");
        assert!(tree.contains("issued to: CN=good TSA"), "{tree}");
    }
}

/// As notation: `-p` (or `NOTATION_PASSWORD`) without a username is an identity token, exchanged
/// at the registry's token service with a refresh-token grant (docker-registry in token mode,
/// the testkit's token server accepting one identity token): sign, ls, inspect and verify work
/// with it, a wrong token is rejected without being printed.
#[test]
fn identity_token_from_a_password_without_username() {
    const ID_TOKEN: &str = "cli-identity-token-3b9d";
    let reg = signet_testkit::TestRegistry::builder()
        .token_auth()
        .credentials("pusher", "push-pw")
        .identity_token(ID_TOKEN)
        .start();
    let addr = reg.addr();
    let env = Env::new();
    notation_setup(&env);
    let pushed = reg.push_random_image("team/app", "v1");
    let scope = format!("{addr}/team/app");
    strict_policy(&env, &scope);
    let reference = format!("{scope}@{}", pushed.digest);
    let refresh_grants = || {
        reg.token_server()
            .unwrap()
            .form_log()
            .iter()
            .filter(|f| {
                f.iter()
                    .any(|(k, v)| k == "grant_type" && v == "refresh_token")
            })
            .count()
    };

    // A wrong token: one refused grant, a one-line error that does not show it.
    let err = assert_fail(&env.run(&["notation", "ls", "-p", "wrong-id-token", &reference]));
    assert!(err.contains("identity token"), "{err}");
    assert!(err.contains("rejected"), "{err}");
    assert!(!err.contains("wrong-id-token"), "the token leaked: {err}");
    assert_eq!(refresh_grants(), 1);

    let (stdout, stderr) = assert_ok(&env.run(&["notation", "sign", "-p", ID_TOKEN, &reference]));
    assert!(
        stdout.starts_with(&format!("Successfully signed {reference}\n")),
        "{stdout}"
    );
    assert!(!stdout.contains(ID_TOKEN) && !stderr.contains(ID_TOKEN));
    let after_sign = refresh_grants();
    assert!(after_sign > 1, "sign did not use the identity token");
    let (stdout, _) = assert_ok(&env.run(&["notation", "ls", "--password", ID_TOKEN, &reference]));
    assert_eq!(listed(&stdout).len(), 1, "{stdout}");
    let with_env = |args: &[&str]| {
        env.signet()
            .env("NOTATION_PASSWORD", ID_TOKEN)
            .args(args)
            .output()
            .unwrap()
    };
    let (stdout, _) = assert_ok(&with_env(&[
        "notation", "inspect", "-o", "json", &reference,
    ]));
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["signatures"].as_array().unwrap().len(), 1, "{json}");
    let (stdout, _) = assert_ok(&with_env(&["notation", "verify", &reference]));
    assert_eq!(
        stdout,
        format!("Successfully verified signature for {reference}\n")
    );
    assert!(refresh_grants() > after_sign + 2);
    // Every form sent by signet names its client and the registry's service.
    let service = reg.token_server().unwrap().service().to_string();
    for form in reg.token_server().unwrap().form_log() {
        assert!(
            form.contains(&("client_id".to_string(), "signet".to_string())),
            "{form:?}"
        );
        assert!(
            form.contains(&("service".to_string(), service.clone())),
            "{form:?}"
        );
    }
}

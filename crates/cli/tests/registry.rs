//! Signing and verifying against a real registry (Debian's docker-registry on a loopback
//! port, started per test by `signet-testkit`): payload bytes, the `.sig` layout, exit codes,
//! attach with a signature made by openssl, recursion, concurrency, auth and bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Env, sh};
use serde_json::Value;
use signet_testkit::{CountingProxy, TestRegistry};

const IGNORE_TLOG: &str = "--insecure-ignore-tlog";

fn sig_manifest(reg: &TestRegistry, repo: &str, digest: &str) -> Value {
    let tag = digest.replace(':', "-") + ".sig";
    let (bytes, _) = reg.pusher().fetch_manifest(repo, &tag);
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn generate_prints_cosigns_payload_bytes() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("team/app", "v1");
    let env = Env::new();
    let tagged = format!("{}/team/app:v1", reg.addr());
    let out = env.ok(&["generate", &tagged]);
    let expected = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{}/team/app"}},"image":{{"docker-manifest-digest":"{}"}},"type":"cosign container image signature"}},"optional":null}}"#,
        reg.addr(),
        img.digest
    );
    assert_eq!(out, expected);
    let out = env.ok(&["generate", &img.reference(), "-a", "b=2", "-a", "a=<1>"]);
    assert!(
        out.ends_with(r#""optional":{"a":"\u003c1\u003e","b":"2"}}"#),
        "{out}"
    );
}

#[test]
fn sign_then_verify_with_cosign_layout_and_output() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    let tagged = format!("{}/app:v1", reg.addr());

    let out = env.run(&[
        "sign",
        "--key",
        &key,
        "--tlog-upload=false",
        "-a",
        "team=blue",
        &tagged,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!(
        "WARNING: Image reference {tagged} uses a tag, not a digest"
    )));
    assert!(stderr.contains(&format!("Pushing signature to: {}/app", reg.addr())));

    // The .sig image is laid out as cosign lays it out.
    let m = sig_manifest(&reg, "app", &img.digest);
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(
        m["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    let layers = m["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(
        layers[0]["mediaType"],
        "application/vnd.dev.cosign.simplesigning.v1+json"
    );
    assert!(layers[0]["annotations"]["dev.cosignproject.cosign/signature"].is_string());
    let payload = reg
        .pusher()
        .fetch_blob("app", layers[0]["digest"].as_str().unwrap());
    let expected_payload = env.ok(&["generate", &img.reference(), "-a", "team=blue"]);
    assert_eq!(payload, expected_payload.as_bytes());
    let config = reg
        .pusher()
        .fetch_blob("app", m["config"]["digest"].as_str().unwrap());
    let config = String::from_utf8(config).unwrap();
    assert_eq!(
        config,
        format!(
            r#"{{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{{"created":"0001-01-01T00:00:00Z"}}],"os":"","rootfs":{{"type":"layers","diff_ids":["{}"]}},"config":{{}}}}"#,
            layers[0]["digest"].as_str().unwrap()
        )
    );

    // verify: stderr checks, stdout JSON array
    let out = env.run(&[
        "verify",
        "--key",
        &pubkey,
        IGNORE_TLOG,
        "-a",
        "team=blue",
        &tagged,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(&format!("Verification for {tagged} --")));
    assert!(stderr.contains("  - The specified annotations were verified."));
    assert!(stderr.contains("  - The cosign claims were validated"));
    assert!(stderr.contains("  - The signatures were verified against the specified public key"));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout, format!("\n[{expected_payload}]\n"));

    // text output prints the raw payloads
    let text = env.ok(&[
        "verify",
        "--key",
        &pubkey,
        IGNORE_TLOG,
        "--output",
        "text",
        &img.reference(),
    ]);
    assert_eq!(text, format!("{expected_payload}\n"));
}

#[test]
fn exit_codes_match_cosign() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    let (_, other_pub) = env.keypair("other");

    // 10: no signatures
    let e = env.verify_fails(&pubkey, &img.reference(), 10);
    assert!(e.contains("no signatures found"), "{e}");
    // 11: no such tag
    let e = env.verify_fails(&pubkey, &format!("{}/app:nope", reg.addr()), 11);
    assert!(e.contains("image tag not found"), "{e}");
    env.sign(&key, &img.reference());
    // 12: wrong key, every candidate listed
    let e = env.verify_fails(&other_pub, &img.reference(), 12);
    assert!(e.contains("no matching signatures"), "{e}");
    assert!(e.contains("signature 0 (layer sha256:"), "{e}");
    // 12: annotation missing
    let e = env.fails(
        &[
            "verify",
            "--key",
            &pubkey,
            IGNORE_TLOG,
            "-a",
            "x=y",
            &img.reference(),
        ],
        12,
    );
    assert!(e.contains("missing or incorrect annotation: x=y"), "{e}");
    // without --insecure-ignore-tlog there is no log to check: fail closed, say what to do
    let e = env.fails(&["verify", "--key", &pubkey, &img.reference()], 12);
    assert!(e.contains("--insecure-ignore-tlog"), "{e}");
}

#[test]
fn resigning_is_deduplicated_and_a_second_key_appends() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    let (key2, pubkey2) = env.keypair("k2");
    env.sign(&key, &img.reference());
    env.sign(&key, &img.reference());
    assert_eq!(
        sig_manifest(&reg, "app", &img.digest)["layers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    env.sign(&key2, &img.reference());
    assert_eq!(
        sig_manifest(&reg, "app", &img.digest)["layers"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    env.verify(&pubkey, &img.reference());
    env.verify(&pubkey2, &img.reference());
}

#[test]
fn concurrent_signers_do_not_lose_layers() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let n = 6;
    let keys: Vec<(String, String)> = (0..n).map(|i| env.keypair(&format!("k{i}"))).collect();
    let children: Vec<_> = keys
        .iter()
        .map(|(key, _)| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("signet"))
                .current_dir(env.dir.path())
                .env("COSIGN_PASSWORD", common::PASSWORD)
                .env("HOME", env.dir.path())
                .env("DOCKER_CONFIG", env.path("docker"))
                .args([
                    "sign",
                    "--key",
                    key,
                    "--tlog-upload=false",
                    &img.reference(),
                ])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a concurrent signer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let layers = sig_manifest(&reg, "app", &img.digest)["layers"]
        .as_array()
        .unwrap()
        .len();
    if layers != n {
        let log: Vec<String> = reg
            .log()
            .lines()
            .filter(|l| l.contains(".sig"))
            .map(|l| l.chars().take(300).collect())
            .collect();
        panic!(
            "{layers} of {n} layers survived; the registry saw:\n{}",
            log.join("\n")
        );
    }
    for (_, pubkey) in &keys {
        env.verify(pubkey, &img.reference());
    }
}

#[test]
fn attach_a_signature_made_by_openssl() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    // The external signer's key: made and used by openssl; its public key goes to verify.
    sh(
        env.dir.path(),
        "openssl ecparam -name prime256v1 -genkey -noout -out ext.pem && openssl pkey -in ext.pem -pubout -out ext.pub",
    );
    let payload = env.ok(&["generate", &img.reference()]);
    env.write("payload.json", &payload);
    sh(
        env.dir.path(),
        "openssl dgst -sha256 -sign ext.pem -out sig.der payload.json && base64 -w0 sig.der > sig.b64 && echo >> sig.b64",
    );

    // raw DER is refused with advice
    let e = env.fails(
        &[
            "attach",
            "signature",
            "--payload",
            "payload.json",
            "--signature",
            "sig.der",
            &img.reference(),
        ],
        1,
    );
    assert!(e.contains("base64"), "{e}");
    // base64 text with a trailing newline is attached verbatim and verifies
    env.ok(&[
        "attach",
        "signature",
        "--payload",
        "payload.json",
        "--signature",
        "sig.b64",
        &img.reference(),
    ]);
    let m = sig_manifest(&reg, "app", &img.digest);
    let stored = m["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"]
        .as_str()
        .unwrap();
    assert_eq!(
        stored,
        std::fs::read_to_string(env.path("sig.b64")).unwrap()
    );
    env.ok(&["verify", "--key", "ext.pub", IGNORE_TLOG, &img.reference()]);

    // an RSA signature made by openssl too (PKCS#1 v1.5, SHA-256)
    sh(
        env.dir.path(),
        "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.pem && openssl pkey -in rsa.pem -pubout -out rsa.pub && openssl dgst -sha256 -sign rsa.pem -out rsa.der payload.json && base64 -w0 rsa.der > rsa.b64",
    );
    env.ok(&[
        "attach",
        "signature",
        "--payload",
        "payload.json",
        "--signature",
        "rsa.b64",
        &img.reference(),
    ]);
    env.ok(&["verify", "--key", "rsa.pub", IGNORE_TLOG, &img.reference()]);

    // invalid base64 and an empty file
    env.write("bad.b64", "%%% not base64");
    env.fails(
        &[
            "attach",
            "signature",
            "--payload",
            "payload.json",
            "--signature",
            "bad.b64",
            &img.reference(),
        ],
        1,
    );
    env.write("empty.b64", "");
    let e = env.fails(
        &[
            "attach",
            "signature",
            "--payload",
            "payload.json",
            "--signature",
            "empty.b64",
            &img.reference(),
        ],
        1,
    );
    assert!(e.contains("empty signature"), "{e}");
}

#[test]
fn upload_false_writes_files_only() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (key, _) = env.keypair("k");
    env.ok(&[
        "sign",
        "--key",
        &key,
        "--tlog-upload=false",
        "--upload=false",
        "--output-signature",
        "sig.txt",
        "--output-payload",
        "payload.json",
        &img.reference(),
    ]);
    let payload = std::fs::read_to_string(env.path("payload.json")).unwrap();
    assert_eq!(payload, env.ok(&["generate", &img.reference()]));
    let sig = std::fs::read_to_string(env.path("sig.txt")).unwrap();
    assert!(!sig.ends_with('\n'));
    // nothing was pushed
    let e = env.verify_fails(&env.p("k.pub"), &img.reference(), 10);
    assert!(e.contains("no signatures found"));
    // the files attach and verify
    env.ok(&[
        "attach",
        "signature",
        "--payload",
        "payload.json",
        "--signature",
        "sig.txt",
        &img.reference(),
    ]);
    env.verify(&env.p("k.pub"), &img.reference());
}

#[test]
fn recursive_signs_every_child() {
    let reg = TestRegistry::start();
    let index = reg.push_random_index("multi", "v1", 2);
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    env.ok(&[
        "sign",
        "--key",
        &key,
        "--tlog-upload=false",
        "--recursive",
        &index.reference(),
    ]);
    env.verify(&pubkey, &index.reference());
    for child in &index.children {
        env.verify(&pubkey, &format!("{}/multi@{child}", reg.addr()));
    }
    // without --recursive only the index is signed
    let index2 = reg.push_random_index("multi2", "v1", 2);
    env.sign(&key, &index2.reference());
    env.verify_fails(
        &pubkey,
        &format!("{}/multi2@{}", reg.addr(), index2.children[0]),
        10,
    );
}

#[test]
fn foreign_layers_are_skipped_and_counted() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (_, pubkey) = env.keypair("k");
    // a .sig manifest whose only layer is not a cosign signature
    let p = reg.pusher();
    let blob = b"not a signature";
    let blob_digest = p.push_blob("app", blob);
    let config =
        br#"{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]},"config":{}}"#;
    let config_digest = p.push_blob("app", config);
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":{},"digest":"{config_digest}"}},"layers":[{{"mediaType":"text/plain","size":{},"digest":"{blob_digest}"}}]}}"#,
        config.len(),
        blob.len()
    );
    p.push_manifest(
        "app",
        &(img.digest.replace(':', "-") + ".sig"),
        "application/vnd.oci.image.manifest.v1+json",
        manifest.as_bytes(),
    );
    let e = env.verify_fails(&pubkey, &img.reference(), 10);
    assert!(
        e.contains("no signatures found (1 non-signature layers skipped)"),
        "{e}"
    );
}

#[test]
fn triangulate_tree_and_clean() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    let tagged = format!("{}/app:v1", reg.addr());
    let sig_tag = format!("{}/app:{}.sig", reg.addr(), img.digest.replace(':', "-"));
    assert_eq!(env.ok(&["triangulate", &tagged]), format!("{sig_tag}\n"));
    assert_eq!(
        env.ok(&["triangulate", "--type", "digest", &tagged]),
        format!("{}/app@{}\n", reg.addr(), img.digest)
    );
    let tree = env.ok(&["tree", &tagged]);
    assert!(
        tree.starts_with("No Supply Chain Security Related Artifacts found"),
        "{tree}"
    );
    env.sign(&key, &tagged);
    let tree = env.ok(&["tree", &tagged]);
    assert!(
        tree.contains(&format!("└── 🔐 Signatures for an image tag: {sig_tag}")),
        "{tree}"
    );
    assert!(tree.contains("   └── 🍒 sha256:"), "{tree}");
    // clean needs -f without a terminal
    env.fails(&["clean", &tagged], 1);
    env.ok(&["clean", "-f", &tagged]);
    env.verify_fails(&pubkey, &tagged, 10);
}

#[test]
fn cosign_repository_stores_signatures_elsewhere() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    let sigrepo = format!("{}/signatures", reg.addr());
    let out = env
        .signet()
        .env("COSIGN_REPOSITORY", &sigrepo)
        .args([
            "sign",
            "--key",
            &key,
            "--tlog-upload=false",
            &img.reference(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("Pushing signature to: {sigrepo}"))
    );
    sig_manifest(&reg, "signatures", &img.digest);
    env.verify_fails(&pubkey, &img.reference(), 10);
    let out = env
        .signet()
        .env("COSIGN_REPOSITORY", &sigrepo)
        .args(["verify", "--key", &pubkey, IGNORE_TLOG, &img.reference()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn verification_costs_at_most_three_requests() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    env.sign(&key, &img.reference());
    let proxy = CountingProxy::start(&reg.addr());
    let tagged = format!("{}/app:v1", proxy.addr());
    env.verify(&pubkey, &tagged);
    assert!(
        proxy.request_count() <= 3,
        "requests: {:?}",
        proxy.requests()
    );
    proxy.reset();
    env.verify(&pubkey, &format!("{}/app@{}", proxy.addr(), img.digest));
    assert!(
        proxy.request_count() <= 2,
        "requests: {:?}",
        proxy.requests()
    );
}

#[test]
fn basic_auth_with_docker_config_and_credential_helper() {
    let reg = TestRegistry::builder().htpasswd("alice", "s3cret").start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    // no credentials: 401, named registry, exit 1
    let e = env.verify_fails(&pubkey, &img.reference(), 1);
    assert!(
        e.to_lowercase().contains("unauthorized") || e.contains("401"),
        "{e}"
    );
    assert!(!e.contains("s3cret"));
    // docker config.json with auth
    std::fs::create_dir_all(env.path("docker")).unwrap();
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:s3cret");
    env.write(
        "docker/config.json",
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.addr()),
    );
    env.sign(&key, &img.reference());
    env.verify(&pubkey, &img.reference());
    // a credential helper instead
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    env.write("bin/docker-credential-testhelper", "#!/bin/sh\nread server\necho '{\"ServerURL\":\"'$server'\",\"Username\":\"alice\",\"Secret\":\"s3cret\"}'\n");
    sh(env.dir.path(), "chmod +x bin/docker-credential-testhelper");
    env.write(
        "docker/config.json",
        format!(r#"{{"credHelpers":{{"{}":"testhelper"}}}}"#, reg.addr()),
    );
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = env
        .signet()
        .env("PATH", path)
        .args(["verify", "--key", &pubkey, IGNORE_TLOG, &img.reference()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // wrong password: 401
    let auth = base64::engine::general_purpose::STANDARD.encode("alice:wrong");
    env.write(
        "docker/config.json",
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.addr()),
    );
    env.verify_fails(&pubkey, &img.reference(), 1);
}

#[test]
fn bearer_token_auth() {
    let reg = TestRegistry::builder()
        .token_auth()
        .credentials("bob", "pw")
        .start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    env.verify_fails(&pubkey, &img.reference(), 1);
    std::fs::create_dir_all(env.path("docker")).unwrap();
    env.write(
        "docker/config.json",
        format!(
            r#"{{"auths":{{"{}":{{"username":"bob","password":"pw"}}}}}}"#,
            reg.addr()
        ),
    );
    env.sign(&key, &img.reference());
    env.verify(&pubkey, &img.reference());
}

#[test]
fn bad_input_gets_one_clear_line() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    let e = env.fails(
        &["verify", "--key", &pubkey, IGNORE_TLOG, "UPPER/Case:tag"],
        1,
    );
    assert!(e.contains("invalid"), "{e}");
    let e = env.fails(
        &[
            "verify",
            "--key",
            &pubkey,
            IGNORE_TLOG,
            "docker-archive:/tmp/x.tar",
        ],
        1,
    );
    assert!(e.contains("transport"), "{e}");
    // registry down: a closed port
    let port = signet_testkit::free_port();
    let e = env.verify_fails(&pubkey, &format!("127.0.0.1:{port}/app:v1"), 1);
    assert!(e.contains(&format!("127.0.0.1:{port}")), "{e}");
    // missing key file / bad -a
    env.fails(
        &["verify", "--key", "nope.pub", IGNORE_TLOG, &img.reference()],
        1,
    );
    let e = env.fails(
        &[
            "sign",
            "--key",
            &key,
            "--tlog-upload=false",
            "-a",
            "novalue",
            &img.reference(),
        ],
        1,
    );
    assert!(e.contains("unable to parse annotation: novalue"), "{e}");
    // a private key given to verify
    env.verify_fails(&key, &img.reference(), 1);
    // unknown flag: exit 1 as cobra does
    let out = env.run(&["verify", "--no-such-flag", &img.reference()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn self_signed_tls_needs_allow_insecure_registry() {
    let reg = TestRegistry::builder().tls().start();
    let env = Env::new();
    // Push a fixture with skopeo (a real peer), over TLS without verification.
    signet_testkit::write_random_oci_layout(&env.path("src"), "v1");
    let image = format!("127.0.0.1:{}/app:v1", reg.port());
    sh(
        env.dir.path(),
        &format!("skopeo copy --quiet --dest-tls-verify=false oci:src:v1 docker://{image}"),
    );
    let (key, pubkey) = env.keypair("k");
    // Loopback registries are spoken to over plain HTTP unless the user allows an insecure
    // (self-signed) TLS registry; then HTTPS is tried first, as ggcr and Docker do.
    let e = env.fails(&["sign", "--key", &key, "--tlog-upload=false", &image], 1);
    assert!(e.contains("HTTPS"), "{e}");
    env.ok(&[
        "sign",
        "--key",
        &key,
        "--tlog-upload=false",
        "--allow-insecure-registry",
        &image,
    ]);
    env.ok(&[
        "verify",
        "--key",
        &pubkey,
        IGNORE_TLOG,
        "--allow-insecure-registry",
        &image,
    ]);

    // A plain-HTTP loopback registry keeps working when the flag is given out of habit.
    let plain = TestRegistry::start();
    let img = plain.push_random_image("app", "v1");
    env.ok(&[
        "sign",
        "--key",
        &key,
        "--tlog-upload=false",
        "--allow-insecure-registry",
        &img.reference(),
    ]);
    env.ok(&[
        "verify",
        "--key",
        &pubkey,
        IGNORE_TLOG,
        "--allow-insecure-registry",
        &img.reference(),
    ]);
}

#[test]
fn cosign_v3_recipe_flags_and_env_bindings() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    let (key, pubkey) = env.keypair("k");
    // The recipe cosign v3 users run for legacy signatures without a transparency log.
    env.ok(&[
        "sign",
        "--key",
        &key,
        "--new-bundle-format=false",
        "--use-signing-config=false",
        "--tlog-upload=false",
        "-y",
        &img.reference(),
    ]);
    let e = env.fails(
        &[
            "sign",
            "--key",
            &key,
            "--new-bundle-format",
            &img.reference(),
        ],
        1,
    );
    assert!(e.contains("--new-bundle-format=false"), "{e}");
    // --private-infrastructure implies --insecure-ignore-tlog; flags bind to COSIGN_* variables.
    env.ok(&[
        "verify",
        "--key",
        &pubkey,
        "--private-infrastructure",
        "--offline",
        &img.reference(),
    ]);
    let out = env
        .signet()
        .env("COSIGN_KEY", &pubkey)
        .env("COSIGN_INSECURE_IGNORE_TLOG", "true")
        .args(["verify", &img.reference()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn attach_stores_certificate_and_chain_verbatim() {
    let reg = TestRegistry::start();
    let img = reg.push_random_image("app", "v1");
    let env = Env::new();
    sh(
        env.dir.path(),
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout leaf.pem \
         -subj /CN=leaf -days 1 -out leaf.crt 2>/dev/null && openssl pkey -in leaf.pem -pubout -out leaf.pub \
         && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.pem \
         -subj /CN=ca -days 1 -out ca.crt 2>/dev/null",
    );
    let payload = env.ok(&["generate", &img.reference()]);
    env.write("payload.json", &payload);
    sh(
        env.dir.path(),
        "openssl dgst -sha256 -sign leaf.pem -out sig.der payload.json && base64 -w0 sig.der > sig.b64",
    );
    env.ok(&[
        "attach",
        "signature",
        "--payload",
        "payload.json",
        "--signature",
        "sig.b64",
        "--certificate",
        "leaf.crt",
        "--certificate-chain",
        "ca.crt",
        &img.reference(),
    ]);
    let m = sig_manifest(&reg, "app", &img.digest);
    let ann = &m["layers"][0]["annotations"];
    assert_eq!(
        ann["dev.sigstore.cosign/certificate"],
        std::fs::read_to_string(env.path("leaf.crt")).unwrap()
    );
    assert_eq!(
        ann["dev.sigstore.cosign/chain"],
        std::fs::read_to_string(env.path("ca.crt")).unwrap()
    );
    // --key mode ignores certificates, as cosign does
    env.verify("leaf.pub", &img.reference());
    // a file without a certificate is refused
    let e = env.fails(
        &[
            "attach",
            "signature",
            "--payload",
            "payload.json",
            "--signature",
            "sig.b64",
            "--certificate",
            "payload.json",
            &img.reference(),
        ],
        1,
    );
    assert!(e.contains("no PEM certificate"), "{e}");
}

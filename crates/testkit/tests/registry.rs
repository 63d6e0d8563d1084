//! Tests of the testkit against real peers: docker-registry, skopeo, umoci.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::process::Command;

use signet_testkit::{
    AuthMode, CountingProxy, OCI_IMAGE_INDEX, OCI_IMAGE_MANIFEST, Pusher, TestRegistry,
    push_random_image, push_random_index, sha256_digest, tempdir, write_random_oci_layout,
};

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} (is it installed?): {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn registry_starts_answers_and_dies_on_drop() {
    let reg = TestRegistry::start();
    assert!(reg.addr().starts_with("127.0.0.1:"));
    assert_eq!(reg.url(), format!("http://{}", reg.addr()));
    assert!(reg.root_dir().is_dir());
    let resp = Pusher::new(&reg.addr()).request("", "GET", "/v2/", &[], &[]);
    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );
    let addr = reg.addr();
    let root = reg.root_dir();
    drop(reg);
    assert!(
        std::net::TcpStream::connect(&addr).is_err(),
        "registry still listening after drop"
    );
    assert!(!root.exists(), "temp dir not removed");
}

#[test]
fn parallel_registries_get_distinct_ports() {
    let regs: Vec<TestRegistry> = (0..4).map(|_| TestRegistry::start()).collect();
    let mut ports: Vec<u16> = regs.iter().map(TestRegistry::port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), 4);
}

#[test]
fn pushed_image_round_trips_and_skopeo_sees_it() {
    let reg = TestRegistry::start();
    let img = push_random_image(&reg.addr(), "team/app", "v1");
    assert_eq!(img.digest, sha256_digest(&img.manifest));
    assert_eq!(img.media_type, OCI_IMAGE_MANIFEST);
    assert_eq!(
        img.reference(),
        format!("{}/team/app@{}", reg.addr(), img.digest)
    );

    let p = Pusher::new(&reg.addr());
    let (bytes, ct) = p.fetch_manifest("team/app", &img.digest);
    assert_eq!(bytes, img.manifest);
    assert_eq!(ct, OCI_IMAGE_MANIFEST);
    let (by_tag, _) = p.fetch_manifest("team/app", "v1");
    assert_eq!(by_tag, img.manifest);
    let config = p.fetch_blob("team/app", &img.config_digest);
    assert_eq!(sha256_digest(&config), img.config_digest);

    let out = run(Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        &format!("docker://{}/team/app:v1", reg.addr()),
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Digest"], img.digest.as_str());
    assert_eq!(v["Architecture"], "amd64");
    assert_eq!(v["Layers"][0], img.layer_digests[0].as_str());
}

#[test]
fn pushed_index_round_trips_and_skopeo_sees_it() {
    let reg = TestRegistry::start();
    let idx = push_random_index(&reg.addr(), "multi", "latest", 3);
    assert_eq!(idx.children.len(), 3);
    assert_eq!(idx.digest, sha256_digest(&idx.manifest));
    let p = Pusher::new(&reg.addr());
    let (bytes, ct) = p.fetch_manifest("multi", "latest");
    assert_eq!(bytes, idx.manifest);
    assert_eq!(ct, OCI_IMAGE_INDEX);
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let archs: Vec<&str> = v["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(archs, ["amd64", "arm64", "arm"]);
    for child in &idx.children {
        let (b, _) = p.fetch_manifest("multi", child);
        assert_eq!(&sha256_digest(&b), child);
    }
    let raw = run(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/multi:latest", reg.addr()),
    ]));
    assert_eq!(raw.as_bytes(), idx.manifest.as_slice());
    let out = run(Command::new("skopeo").args([
        "inspect",
        "--override-arch=arm64",
        "--override-os=linux",
        "--tls-verify=false",
        &format!("docker://{}/multi:latest", reg.addr()),
    ]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    // skopeo reports the index digest but the chosen child's config.
    assert_eq!(v["Digest"], idx.digest.as_str());
    assert_eq!(v["Architecture"], "arm64");
}

#[test]
fn htpasswd_registry_requires_the_credentials() {
    let reg = TestRegistry::builder().htpasswd("alice", "s3cret").start();
    assert_eq!(reg.auth_mode(), AuthMode::Htpasswd);
    let anon = Pusher::new(&reg.addr()).request("", "GET", "/v2/", &[], &[]);
    assert_eq!(anon.status, 401);
    let challenge = anon.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Basic "), "{challenge}");

    let good = Pusher::new(&reg.addr()).with_credentials("alice", "s3cret");
    assert_eq!(good.request("", "GET", "/v2/", &[], &[]).status, 200);
    let bad = Pusher::new(&reg.addr()).with_credentials("alice", "wrong");
    assert_eq!(bad.request("", "GET", "/v2/", &[], &[]).status, 401);

    let img = reg.push_random_image("private/app", "v1");
    let (bytes, _) = good.fetch_manifest("private/app", &img.digest);
    assert_eq!(bytes, img.manifest);

    let out = run(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds=alice:s3cret",
        &format!("docker://{}/private/app:v1", reg.addr()),
    ]));
    assert_eq!(out.as_bytes(), img.manifest.as_slice());
}

#[test]
fn token_registry_issues_and_accepts_bearer_tokens() {
    let reg = TestRegistry::builder()
        .credentials("bob", "hunter2")
        .token_auth()
        .start();
    let ts = reg.token_server().unwrap();
    assert_eq!(reg.token_requests(), 0);

    // Anonymous: 401 with a Bearer challenge naming our token server.
    let anon = Pusher::new(&reg.addr()).send_raw("GET", "/v2/", &[], &[]);
    assert_eq!(anon.status, 401);
    let challenge = anon.header("www-authenticate").unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(&format!("realm=\"{}\"", ts.realm())),
        "{challenge}"
    );
    assert!(
        challenge.contains(&format!("service=\"{}\"", ts.service())),
        "{challenge}"
    );

    // The token endpoint wants the credentials.
    let p = Pusher::new(&ts.addr());
    let denied = p.send_raw("GET", "/token?service=x&scope=repository:a:pull", &[], &[]);
    assert_eq!(denied.status, 401);
    let basic = signet_testkit::Credentials::new("bob", "nope").basic_header();
    let denied = p.send_raw("GET", "/token", &[("Authorization", &basic)], &[]);
    assert_eq!(denied.status, 401);
    assert_eq!(reg.token_requests(), 2);

    // A token from the server is accepted by the registry.
    let basic = signet_testkit::Credentials::new("bob", "hunter2").basic_header();
    let tok = p.request(
        "",
        "GET",
        &format!(
            "/token?service={}&scope=repository%3Aapp%3Apull%2Cpush",
            ts.service()
        ),
        &[("Authorization", &basic)],
        &[],
    );
    assert_eq!(tok.status, 200, "{}", String::from_utf8_lossy(&tok.body));
    let v: serde_json::Value = serde_json::from_slice(&tok.body).unwrap();
    assert_eq!(v["token"], v["access_token"]);
    let bearer = format!("Bearer {}", v["token"].as_str().unwrap());
    let ok =
        Pusher::new(&reg.addr()).request("", "GET", "/v2/", &[("Authorization", &bearer)], &[]);
    assert_eq!(ok.status, 200, "registry log:\n{}", reg.log());
    let start = Pusher::new(&reg.addr()).request(
        "",
        "POST",
        "/v2/app/blobs/uploads/",
        &[("Authorization", &bearer)],
        &[],
    );
    assert_eq!(start.status, 202, "registry log:\n{}", reg.log());
    assert_eq!(reg.token_requests(), 3);

    // The OAuth2 password grant (POST form) works as well.
    let form = format!(
        "grant_type=password&service={}&scope=repository%3Aapp%3Apull&username=bob&password=hunter2",
        ts.service()
    );
    let posted = p.send_raw(
        "POST",
        "/token",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        form.as_bytes(),
    );
    assert_eq!(posted.status, 200);
    let v: serde_json::Value = serde_json::from_slice(&posted.body).unwrap();
    let bearer = format!("Bearer {}", v["access_token"].as_str().unwrap());
    let pulled = Pusher::new(&reg.addr()).send_raw(
        "GET",
        "/v2/app/tags/list",
        &[("Authorization", &bearer)],
        &[],
    );
    assert_ne!(pulled.status, 401);
    assert_eq!(reg.token_requests(), 4);

    // A directly minted pull-only token cannot push.
    let pull_only = format!("Bearer {}", ts.issue_token("bob", &["repository:app:pull"]));
    let push = Pusher::new(&reg.addr()).request(
        "",
        "POST",
        "/v2/app/blobs/uploads/",
        &[("Authorization", &pull_only)],
        &[],
    );
    assert_eq!(push.status, 401);

    // The fixture client does the whole dance; tokens are cached per repository.
    let img = reg.push_random_image("app", "v1");
    let after_push = reg.token_requests();
    assert!(after_push > 4 && after_push <= 4 + 2, "{after_push}");
    let (bytes, _) = reg.pusher().fetch_manifest("app", &img.digest);
    assert_eq!(bytes, img.manifest);
    assert!(
        ts.request_log()
            .iter()
            .any(|l| l.contains("scope=repository%3Aapp%3Apull%2Cpush"))
    );

    // skopeo, a real peer, does the token dance too.
    let out = run(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds=bob:hunter2",
        &format!("docker://{}/app:v1", reg.addr()),
    ]));
    assert_eq!(out.as_bytes(), img.manifest.as_slice());
}

#[test]
fn token_registry_anonymous_pull() {
    let reg = TestRegistry::builder()
        .credentials("bob", "hunter2")
        .token_auth()
        .anonymous_pull()
        .start();
    let img = reg.push_random_image("pub", "v1");
    let anon = Pusher::new(&reg.addr());
    let (bytes, _) = anon.fetch_manifest("pub", "v1");
    assert_eq!(bytes, img.manifest);
    let push = anon.request("pub", "POST", "/v2/pub/blobs/uploads/", &[], &[]);
    assert_eq!(push.status, 401);
}

#[test]
fn counting_proxy_counts_requests() {
    let reg = TestRegistry::start();
    let proxy = CountingProxy::start(&reg.addr());
    assert_eq!(proxy.upstream(), reg.addr());
    assert_eq!(proxy.request_count(), 0);
    let p = Pusher::new(&proxy.addr());
    // 2 blobs × (POST + PUT) + PUT manifest.
    let img = p.push_random_image("counted", "v1");
    assert_eq!(proxy.request_count(), 5, "{:#?}", proxy.requests());
    let reqs = proxy.requests();
    assert!(reqs[0].starts_with("POST /v2/counted/blobs/uploads/ "));
    assert!(reqs[4].starts_with("PUT /v2/counted/manifests/v1 "));
    // Keep-alive: several requests share a connection.
    assert!(proxy.connection_count() < 5, "{}", proxy.connection_count());
    proxy.reset();
    let (bytes, _) = p.fetch_manifest("counted", &img.digest);
    assert_eq!(bytes, img.manifest);
    // distribution 2.8 answers 404 for OCI manifests unless the Accept header allows them.
    let head = p.request(
        "counted",
        "HEAD",
        &format!("/v2/counted/manifests/{}", img.digest),
        &[("Accept", OCI_IMAGE_MANIFEST)],
        &[],
    );
    assert_eq!(head.status, 200);
    assert_eq!(
        proxy
            .requests()
            .iter()
            .map(|r| r.split(' ').next().unwrap())
            .collect::<Vec<_>>(),
        ["GET", "HEAD"]
    );
    // skopeo through the proxy: counted too.
    proxy.reset();
    run(Command::new("skopeo").args([
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{}/counted:v1", proxy.addr()),
    ]));
    assert!(proxy.request_count() >= 1, "{:#?}", proxy.requests());
}

#[test]
fn oci_layout_is_accepted_by_skopeo_and_umoci() {
    let dir = tempdir().unwrap();
    let layout = dir.path().join("layout");
    let d1 = write_random_oci_layout(&layout, "v1");
    let d2 = write_random_oci_layout(&layout, "v2");
    assert_ne!(d1, d2);
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2);

    let loc = layout.to_str().unwrap();
    let out = run(Command::new("skopeo").args(["inspect", &format!("oci:{loc}:v1")]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["Digest"], d1.as_str());

    let out = run(Command::new("umoci").args(["stat", "--json", "--image", &format!("{loc}:v2")]));
    assert!(out.contains("signet-testkit"), "{out}");
}

#[test]
fn registry_does_not_outlive_a_killed_test_process() {
    use std::io::BufRead as _;
    const CHILD_ENV: &str = "SIGNET_TESTKIT_ORPHAN_CHILD";
    if std::env::var_os(CHILD_ENV).is_some() {
        let reg = TestRegistry::start();
        println!("TESTKIT_ADDR={}", reg.addr());
        std::thread::sleep(std::time::Duration::from_secs(120));
        return;
    }
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "registry_does_not_outlive_a_killed_test_process",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let addr = stdout
        .lines()
        .map_while(Result::ok)
        .find_map(|l| {
            // libtest may print "test NAME ... " on the same line first.
            l.split_once("TESTKIT_ADDR=")
                .map(|(_, a)| a.trim().to_string())
        })
        .expect("child test did not report a registry address");
    assert!(std::net::TcpStream::connect(&addr).is_ok());
    child.kill().unwrap(); // SIGKILL: no destructors run.
    child.wait().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(&addr).is_ok() {
        assert!(
            std::time::Instant::now() < deadline,
            "registry at {addr} outlived its killed test process"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn token_registry_accepts_a_refresh_token_grant() {
    let reg = TestRegistry::builder()
        .credentials("bob", "hunter2")
        .identity_token("refresh-abc")
        .token_auth()
        .start();
    let ts = reg.token_server().unwrap();
    let p = Pusher::new(&ts.addr());
    let post = |form: &str| {
        p.send_raw(
            "POST",
            "/token",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            form.as_bytes(),
        )
    };
    let scope = "scope=repository%3Aapp%3Apull%2Cpush";
    let service = format!("service={}", ts.service());

    // The right refresh token gets a token the registry accepts, for the subject it names.
    let ok = post(&format!(
        "grant_type=refresh_token&refresh_token=refresh-abc&client_id=t&{service}&{scope}"
    ));
    assert_eq!(ok.status, 200, "{}", String::from_utf8_lossy(&ok.body));
    let v: serde_json::Value = serde_json::from_slice(&ok.body).unwrap();
    let token = v["access_token"].as_str().unwrap();
    let claims = token.split('.').nth(1).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, claims).unwrap(),
    )
    .unwrap();
    assert_eq!(claims["sub"], signet_testkit::IDENTITY_TOKEN_SUBJECT);
    let bearer = format!("Bearer {token}");
    let start = Pusher::new(&reg.addr()).request(
        "",
        "POST",
        "/v2/app/blobs/uploads/",
        &[("Authorization", &bearer)],
        &[],
    );
    assert_eq!(start.status, 202, "registry log:\n{}", reg.log());

    // A wrong one, a missing one, a missing client_id and an unknown grant are refused.
    for (form, code) in [
        (
            format!("grant_type=refresh_token&refresh_token=nope&client_id=t&{scope}"),
            "invalid_grant",
        ),
        (
            format!("grant_type=refresh_token&client_id=t&{scope}"),
            "invalid_grant",
        ),
        (
            format!("grant_type=refresh_token&refresh_token=refresh-abc&{scope}"),
            "invalid_request",
        ),
        (
            format!("grant_type=client_credentials&{scope}"),
            "unsupported_grant_type",
        ),
    ] {
        let denied = post(&form);
        assert_eq!(denied.status, 400, "{form}");
        let v: serde_json::Value = serde_json::from_slice(&denied.body).unwrap();
        assert_eq!(v["error"], code, "{form}");
    }
    // Anonymous requests are refused too; basic credentials still work.
    let anon = p.send_raw("GET", "/token?service=x&scope=repository:a:pull", &[], &[]);
    assert_eq!(anon.status, 401);
    let img = reg.push_random_image("app", "v1");
    assert_eq!(img.digest, sha256_digest(&img.manifest));

    // The form log redacts the secrets.
    let forms = ts.form_log();
    assert_eq!(forms.len(), 5);
    assert!(
        forms[0].contains(&("refresh_token".to_string(), "<redacted>".to_string())),
        "{forms:?}"
    );
    assert!(!format!("{forms:?}").contains("refresh-abc"));
}

//! `signet remote …` and `signet sign --remote …` against the real signing service: each test
//! starts `signet server` as a child process on a loopback port with its own data directory,
//! mints tokens with `signet server token`, creates and approves a product from the seed's
//! JSON template, and signs images pushed to a real registry (`signet-testkit`). The seed's
//! complete script runs as written, with `signing-tool` and `cosign` replaced by signet.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::Env;
use common::service::Server;
use serde_json::Value;
use signet_testkit::TestRegistry;

const WRITERS: &str = "oci-writers";
const APPROVERS: &str = "oci-approvers";

/// The seed's DigestSigning product template ($PRODUCTNAME, $WRITERGROUP and $APPROVERGROUP
/// substituted; keyType and blanketGroups chosen per test).
fn product_json(name: &str, key_type: &str, blanket: &[&str]) -> String {
    let blanket: Vec<String> = blanket.iter().map(|g| format!("\"{g}\"")).collect();
    format!(
        r#"{{
    "name": "{name}",
    "description": "Product for OCI container signing",
    "productType": "Production",
    "enabled": true,
    "caInfo": [],
    "rndKeys": [],
    "productOperations": [
        {{
            "name": "OCI digest signing",
            "description": "RSA key for OCI container signing",
            "operationType": "DigestSigning",
            "token": {{
                "name": "OCI signing key",
                "description": "HSM token for OCI container signing",
                "keyType": "{key_type}"
            }},
            "approvalRule": {{
                "name": "Rule for access",
                "description": "Rule for OCI signing",
                "allowedGroups": [
                    "{WRITERS}"
                ],
                "approvalGroups": [
                    "{APPROVERS}"
                ],
                "blanketGroups": [{}]
            }}
        }}
    ]
}}"#,
        blanket.join(", ")
    )
}

/// The users of a test: tokens for the admin, the product approver, a writer (requests
/// signatures), an approver (approves them) and a writer in the blanket group.
struct Users {
    admin: String,
    product_approver: String,
    writer: String,
    approver: String,
    blanket_writer: String,
}

impl Users {
    fn mint(srv: &Server) -> Users {
        Users {
            admin: srv.token("root", &["admins"]),
            product_approver: srv.token("pat", &["product-approvers"]),
            writer: srv.token("alice", &[WRITERS]),
            approver: srv.token("bob", &[APPROVERS]),
            blanket_writer: srv.token("carol", &[WRITERS, "oci-blanket"]),
        }
    }
}

/// One test's world: a registry, the service, users and a scratch directory.
struct World {
    reg: TestRegistry,
    srv: Server,
    users: Users,
    env: Env,
}

impl World {
    fn new() -> World {
        let reg = TestRegistry::start();
        let srv = Server::start();
        let users = Users::mint(&srv);
        World {
            reg,
            srv,
            users,
            env: Env::new(),
        }
    }

    /// `signet remote -c -t TOKEN -a API ARGS…`.
    fn remote(&self, token: &str, args: &[&str]) -> Output {
        let api = self.srv.api();
        let mut all = vec!["remote", "-c", "-t", token, "-a", &api];
        all.extend_from_slice(args);
        self.env.run(&all)
    }

    /// The same, asserting success; stdout.
    fn remote_ok(&self, token: &str, args: &[&str]) -> String {
        let out = self.remote(token, args);
        assert!(
            out.status.success(),
            "signet remote {args:?} failed ({:?}):\nstdout: {}\nstderr: {}\nserver log:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.srv.log()
        );
        String::from_utf8(out.stdout).unwrap()
    }

    fn remote_json(&self, token: &str, args: &[&str]) -> Value {
        let out = self.remote_ok(token, args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"))
    }

    /// The same, asserting exit `code`; stderr.
    fn remote_fails(&self, token: &str, args: &[&str], code: i32) -> String {
        let out = self.remote(token, args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(
            out.status.code(),
            Some(code),
            "signet remote {args:?}: expected exit {code}\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(stderr.contains("Error: "), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }

    /// Creates a product from the seed's template (as the admin), approves it (as the product
    /// approver) and returns (product id, operation id).
    fn product(&self, name: &str, key_type: &str, blanket: &[&str]) -> (String, String) {
        let file = self.env.write(
            &format!("{name}.json"),
            product_json(name, key_type, blanket),
        );
        let p = self.remote_json(&self.users.admin, &["product", "create", "--file", &file]);
        let id = p["id"].as_str().expect("product id").to_string();
        assert_eq!(p["name"], name);
        assert_eq!(p["state"], 2, "{p}");
        let op = p["productOperations"][0]["id"]
            .as_str()
            .expect("operation id")
            .to_string();
        let d = self.remote_json(
            &self.users.product_approver,
            &["product", "approve", "-I", &id],
        );
        assert_eq!(d["decision"], "APPROVE");
        // The product is usable once it leaves ApprovalRequired.
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let p = self.remote_json(&self.users.admin, &["product", "get", "-I", &id]);
            if p["state"] != 2 {
                break;
            }
            assert!(Instant::now() < deadline, "product never approved: {p}");
            std::thread::sleep(Duration::from_millis(200));
        }
        (id, op)
    }

    /// Writes the operation's public key to `name` (as the writer) and returns its path.
    fn public_key(&self, product: &str, op: &str, name: &str) -> String {
        let path = self.env.p(name);
        self.remote_ok(
            &self.users.writer,
            &[
                "product",
                "public-key",
                "-P",
                product,
                "--operid",
                op,
                "-O",
                &path,
            ],
        );
        let pem = std::fs::read_to_string(&path).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
        path
    }

    fn verify(&self, pubkey: &str, image: &str) -> String {
        self.env.ok(&[
            "verify",
            "--key",
            pubkey,
            "--insecure-ignore-tlog=true",
            image,
        ])
    }

    /// `signet` as a std Command with the test environment (to spawn it).
    fn signet_std(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_signet"));
        c.current_dir(self.env.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.env.dir.path())
            .env("DOCKER_CONFIG", self.env.path("docker"))
            .env("XDG_RUNTIME_DIR", self.env.path("xdg-run"));
        c
    }

    /// `signet sign --remote API --product P --operation O ARGS… IMAGE` in the background,
    /// stderr lines on the channel.
    fn spawn_sign(&self, token: &str, args: &[&str]) -> (Child, mpsc::Receiver<String>) {
        let mut child = self
            .signet_std()
            .args(["sign", "--remote", &self.srv.api(), "-t", token])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        (child, rx)
    }
}

/// The ID of a "Signing request ID created for …" line.
fn request_id(line: &str) -> Option<String> {
    let rest = line.strip_prefix("Signing request ")?;
    rest.split_once(" created").map(|(id, _)| id.to_string())
}

/// Waits for the "Signing request ID created" line; returns ID and the lines so far.
fn created_id(rx: &mpsc::Receiver<String>, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            seen.push(line.clone());
            if let Some(id) = request_id(&line) {
                return id;
            }
        }
    }
    panic!("no request id on stderr: {seen:?}");
}

/// Waits for a child (at most `secs`) and returns its status code and remaining stderr.
fn finish(mut child: Child, rx: mpsc::Receiver<String>, secs: u64, seen: &mut Vec<String>) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        while let Ok(line) = rx.try_recv() {
            seen.push(line);
        }
        if let Some(status) = child.try_wait().unwrap() {
            std::thread::sleep(Duration::from_millis(100));
            while let Ok(line) = rx.try_recv() {
                seen.push(line);
            }
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("signet sign --remote still running after {secs}s: {seen:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn code_and_stderr(out: &Output) -> (Option<i32>, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn seed_script_runs_with_signet_in_place_of_signing_tool_and_cosign() {
    let w = World::new();
    let (product, op) = w.product("seed-product", "RSA4096", &[]);
    let img = w.reg.push_random_image("team/app", "v1");
    // The seed's complete example script, steps 1–5 plus verification, verbatim but for the
    // two tools (and the approval by a second user, which the seed does in between).
    let script = r#"
set -e
signing-tool() { "$SIGNET" remote "$@"; }
cosign() { "$SIGNET" "$@"; }

echo "Generating payload..."
cosign generate $IMAGE > payload.json

echo "Calculating digest..."
DIGEST=$(sha256sum < payload.json | cut -d" " -f1 | xxd -r -p | base64 -w 0)

echo "Signing digest..."
REQUEST_ID=$(signing-tool -c -t $TOKEN -a $API_URL imagesigning add DigestSigning \
    -N "OCI signing request" -D "Container image signing" \
    -P $PRODUCTID --operid $OPERATIONID \
    -p "$DIGEST" -H SHA256 | jq -r '.id')
test -n "$REQUEST_ID" && test "$REQUEST_ID" != null

signing-tool -c -t $APPROVERTOKEN -a $API_URL imagesigning approve \
    -I $REQUEST_ID

echo "Downloading signature..."
signing-tool -c -t $TOKEN -a $API_URL imagesigning get \
    -I $REQUEST_ID -O signature.b64 --skipBase64

echo "Attaching signature to container..."
cosign attach signature --payload payload.json --signature signature.b64 $IMAGE

signing-tool -c -t $TOKEN -a $API_URL product getpubkey -P $PRODUCTID --operid $OPERATIONID -O publickey.pem
cosign verify --key publickey.pem --insecure-ignore-tlog $IMAGE
echo "Container signed successfully!"
"#;
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(w.env.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.env.dir.path())
        .env("DOCKER_CONFIG", w.env.path("docker"))
        .env("SIGNET", env!("CARGO_BIN_EXE_signet"))
        .env("IMAGE", img.reference())
        .env("PRODUCTID", &product)
        .env("OPERATIONID", &op)
        .env("TOKEN", &w.users.writer)
        .env("APPROVERTOKEN", &w.users.approver)
        .env("API_URL", w.srv.api())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "seed script failed:\nstdout: {stdout}\nstderr: {stderr}\nserver log:\n{}",
        w.srv.log()
    );
    assert!(
        stdout.contains("Container signed successfully!"),
        "{stdout}"
    );
    assert!(stderr.contains("The signatures were verified against the specified public key"));
    // signature.b64 is base64 text, as cosign's attach reads it.
    let b64 = std::fs::read_to_string(w.env.path("signature.b64")).unwrap();
    assert!(
        b64.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c)),
        "{b64}"
    );
    // Without --skipBase64 the raw signature bytes are written: the decoded base64.
    let list = w.remote_json(
        &w.users.writer,
        &["imagesigning", "list", "--state", "Ready"],
    );
    let id = list["items"][0]["id"].as_str().unwrap().to_string();
    let raw = w.env.p("signature.raw");
    w.remote_ok(
        &w.users.writer,
        &["imagesigning", "get", "-I", &id, "-O", &raw],
    );
    use base64::Engine as _;
    assert_eq!(
        std::fs::read(&raw).unwrap(),
        base64::engine::general_purpose::STANDARD
            .decode(&b64)
            .unwrap()
    );
    // Tokens never appear in what signet prints.
    assert!(!stdout.contains(&w.users.writer) && !stderr.contains(&w.users.writer));
}

#[test]
fn sign_remote_waits_for_a_second_users_approval() {
    let w = World::new();
    let (product, op) = w.product("p-approval", "ECDSAP256", &[]);
    let img = w.reg.push_random_image("app", "v1");
    let tagged = format!("{}/app:v1", w.reg.addr());
    let (child, rx) = w.spawn_sign(
        &w.users.writer,
        &[
            "--product",
            "p-approval",
            "--operation",
            "OCI digest signing",
            "-a",
            "team=blue",
            "--output-signature",
            "out.sig",
            "--output-payload",
            "out.payload",
            &tagged,
        ],
    );
    let mut seen = Vec::new();
    let id = created_id(&rx, &mut seen);
    // The approver sees it waiting and approves it from a second process.
    let pending = w.remote_json(&w.users.approver, &["imagesigning", "approvals"]);
    assert!(
        pending["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["id"] == id.as_str()),
        "{pending}"
    );
    let table = w.remote_ok(
        &w.users.approver,
        &["--output", "table", "imagesigning", "approvals"],
    );
    assert!(
        table.contains(&id) && table.contains("ApprovalRequired"),
        "{table}"
    );
    w.remote_ok(&w.users.approver, &["imagesigning", "approve", "-I", &id]);
    let code = finish(child, rx, 120, &mut seen);
    assert_eq!(code, 0, "{seen:?}\nserver log:\n{}", w.srv.log());
    assert!(
        seen.iter().any(|l| l.contains("Pushing signature to:")),
        "{seen:?}"
    );

    let pubkey = w.public_key(&product, &op, "op.pub");
    w.verify(&pubkey, &tagged);
    w.env.ok(&[
        "verify",
        "--key",
        &pubkey,
        "--insecure-ignore-tlog=true",
        "-a",
        "team=blue",
        &img.reference(),
    ]);
    // --output-payload is the payload `generate -a team=blue` prints; --output-signature
    // its base64 signature.
    let payload = std::fs::read_to_string(w.env.path("out.payload")).unwrap();
    assert_eq!(payload, w.env.ok(&["generate", "-a", "team=blue", &tagged]));
    let sig = std::fs::read_to_string(w.env.path("out.sig")).unwrap();
    assert!(!sig.is_empty());
    // The request is Ready, by name in tables and by number in JSON.
    let r = w.remote_json(&w.users.writer, &["imagesigning", "get", "-I", &id]);
    assert_eq!(r["state"], 16, "{r}");
    let t = w.remote_ok(
        &w.users.writer,
        &[
            "--output",
            "table",
            "imagesigning",
            "list",
            "--state",
            "ready",
        ],
    );
    let lines: Vec<&str> = t.lines().collect();
    assert!(lines[0].starts_with("ID"), "{t}");
    assert!(
        lines.iter().any(|l| l.contains(&id) && l.contains("Ready")),
        "{t}"
    );
}

#[test]
fn sign_remote_blanket_group_is_approved_at_once() {
    let w = World::new();
    let (product, op) = w.product("p-blanket", "ECDSAP256", &["oci-blanket"]);
    let img = w.reg.push_random_image("app", "v1");
    let api = w.srv.api();
    let out = w.env.run(&[
        "sign",
        "--remote",
        &api,
        "-t",
        &w.users.blanket_writer,
        "--product",
        &product,
        "--operation",
        &op,
        "--remote-timeout",
        "60s",
        &img.reference(),
    ]);
    let (code, stderr) = code_and_stderr(&out);
    assert_eq!(code, Some(0), "{stderr}\nserver log:\n{}", w.srv.log());
    assert!(stderr.contains("Signing request "), "{stderr}");
    let pubkey = w.public_key(&product, &op, "op.pub");
    w.verify(&pubkey, &img.reference());
    // The writer outside the blanket group still needs an approver: signing times out.
    let img2 = w.reg.push_random_image("app", "v2");
    let out = w.env.run(&[
        "sign",
        "--remote",
        &api,
        "-t",
        &w.users.writer,
        "--product",
        &product,
        "--operation",
        &op,
        "--remote-timeout",
        "1s",
        &img2.reference(),
    ]);
    assert_eq!(out.status.code(), Some(25), "{}", code_and_stderr(&out).1);
}

#[test]
fn sign_remote_times_out_then_resumes_with_request() {
    let w = World::new();
    let (product, op) = w.product("p-resume", "ECDSAP256", &[]);
    let img = w.reg.push_random_image("app", "v1");
    let other = w.reg.push_random_image("app", "v2");
    let api = w.srv.api();
    let token_file = w.env.write("writer.token", &w.users.writer);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&token_file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let token_arg = format!("@{token_file}");
    let started = Instant::now();
    let out = w.env.run(&[
        "sign",
        "--remote",
        &api,
        "-t",
        &token_arg,
        "--product",
        &product,
        "--operation",
        &op,
        "--remote-timeout",
        "2s",
        &img.reference(),
    ]);
    let (code, stderr) = code_and_stderr(&out);
    assert_eq!(code, Some(25), "{stderr}\nserver log:\n{}", w.srv.log());
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(!stderr.contains("WARNING: the token file"), "{stderr}");
    let id = stderr
        .lines()
        .find_map(request_id)
        .unwrap_or_else(|| panic!("no id: {stderr}"));
    let resume = format!("signet sign --remote {api} --request {id} ");
    assert!(stderr.contains(&resume), "{stderr}");
    assert!(stderr.contains("ApprovalRequired"), "{stderr}");
    // `get -O` before approval: not Ready, named state, exit 25.
    let e = w.remote_fails(
        &w.users.writer,
        &[
            "imagesigning",
            "get",
            "-I",
            &id,
            "-O",
            "sig.b64",
            "--skipBase64",
        ],
        25,
    );
    assert!(e.contains("ApprovalRequired"), "{e}");
    // Resuming for another image is refused.
    let out = w.env.run(&[
        "sign",
        "--remote",
        &api,
        "-t",
        &token_arg,
        "--request",
        &id,
        &other.reference(),
    ]);
    let (code, stderr) = code_and_stderr(&out);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("refusing to resume"), "{stderr}");

    w.remote_ok(
        &w.users.approver,
        &[
            "imagesigning",
            "approve",
            "-I",
            &id,
            "--reason",
            "release 1.0",
        ],
    );
    // The resume command, as printed (the token comes from the file, as before).
    w.env.ok(&[
        "sign",
        "--remote",
        &api,
        "-t",
        &token_arg,
        "--request",
        &id,
        &img.reference(),
    ]);
    let pubkey = w.public_key(&product, &op, "op.pub");
    w.verify(&pubkey, &img.reference());
    // Resuming a second time is harmless: the same signature is not attached twice.
    w.env.ok(&[
        "sign",
        "--remote",
        &api,
        "-t",
        &token_arg,
        "--request",
        &id,
        &img.reference(),
    ]);
    let out = w.verify(&pubkey, &img.reference());
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{out}");
}

#[test]
fn rejected_request_is_a_clear_error() {
    let w = World::new();
    let (product, op) = w.product("p-reject", "ECDSAP256", &[]);
    let img = w.reg.push_random_image("app", "v1");
    let (child, rx) = w.spawn_sign(
        &w.users.writer,
        &["--product", &product, "--operation", &op, &img.reference()],
    );
    let mut seen = Vec::new();
    let id = created_id(&rx, &mut seen);
    // A rejection needs a reason (refused locally, before any request).
    let out = w.remote(&w.users.approver, &["imagesigning", "reject", "-I", &id]);
    assert!(!out.status.success());
    w.remote_ok(
        &w.users.approver,
        &[
            "imagesigning",
            "reject",
            "-I",
            &id,
            "--reason",
            "not a release build",
        ],
    );
    let code = finish(child, rx, 120, &mut seen);
    assert_eq!(code, 26, "{seen:?}");
    let all = seen.join("\n");
    assert!(all.contains("Error: "), "{all}");
    assert!(
        all.contains(&id) && all.contains("not a release build"),
        "{all}"
    );
    let e = w.remote_fails(
        &w.users.writer,
        &[
            "imagesigning",
            "get",
            "-I",
            &id,
            "-O",
            "sig.b64",
            "--skipBase64",
        ],
        26,
    );
    assert!(e.contains("rejected"), "{e}");
    // Deciding it again conflicts.
    w.remote_fails(
        &w.users.approver,
        &["imagesigning", "approve", "-I", &id],
        24,
    );
    // Nothing was attached.
    let pubkey = w.public_key(&product, &op, "op.pub");
    w.env.verify_fails(&pubkey, &img.reference(), 10);
}

#[test]
fn token_sources_file_stdin_and_env() {
    let w = World::new();
    w.product("p-tokens", "ECDSAP256", &[]);
    let api = w.srv.api();
    // @FILE, mode 600: no warning.
    let file = w.env.write("tok", format!("{}\n", w.users.writer));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let at_file = format!("@{file}");
    let out = w.env.run(&[
        "remote", "-c", "-t", &at_file, "-a", &api, "product", "list",
    ]);
    let (code, stderr) = code_and_stderr(&out);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("WARNING"), "{stderr}");
    let list: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list["count"], 1, "{list}");
    assert_eq!(list["items"][0]["name"], "p-tokens");
    // @FILE readable by others: a warning, still works.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = w
            .env
            .run(&["remote", "-t", &at_file, "-a", &api, "product", "list"]);
        let (code, stderr) = code_and_stderr(&out);
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stderr.contains("WARNING: the token file"), "{stderr}");
        assert!(!stderr.contains(&w.users.writer));
    }
    // @- reads standard input.
    let out = w
        .env
        .signet()
        .args(["remote", "-c", "-t", "@-", "-a", &api, "product", "getall"])
        .write_stdin(format!("{}\n", w.users.writer))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // SIGNET_TOKEN and SIGNET_API from the environment, with --debug: the token is never shown.
    let out = w
        .env
        .signet()
        .env("SIGNET_TOKEN", &w.users.writer)
        .env("SIGNET_API", &api)
        .args(["remote", "--debug", "product", "list", "--output", "table"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("debug: GET "), "{stderr}");
    assert!(!stderr.contains(&w.users.writer) && !stdout.contains(&w.users.writer));
    // table: aligned header and the product with its state name.
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("ENABLED"),
        "{stdout}"
    );
    assert!(
        lines[1].contains("p-tokens") && lines[1].contains("true"),
        "{stdout}"
    );
    assert!(
        !lines[1].contains(" 2 "),
        "state shown as a number: {stdout}"
    );
    // A token for someone outside every group the product names sees nothing.
    let stranger = w.srv.token("eve", &["others"]);
    let list = w.remote_json(&stranger, &["product", "list"]);
    assert_eq!(list["count"], 0, "{list}");
    // A token that is not one: 401, exit 21.
    let e = w.remote_fails("not-a-jwt", &["product", "list"], 21);
    assert!(e.contains("(HTTP 401)"), "{e}");
}

#[test]
fn bad_input_against_the_service() {
    let w = World::new();
    let (product, op) = w.product("p-bad", "ECDSAP256", &[]);
    let digest = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    // Unknown product: the service's detail, HTTP 404, exit 23.
    let e = w.remote_fails(
        &w.users.writer,
        &[
            "imagesigning",
            "add",
            "DigestSigning",
            "-N",
            "n",
            "-D",
            "d",
            "-P",
            "no-such-product",
            "--operid",
            &op,
            "-p",
            digest,
            "-H",
            "SHA256",
        ],
        23,
    );
    assert!(e.contains("(HTTP 404)"), "{e}");
    let line = e.lines().find(|l| l.starts_with("Error: ")).unwrap();
    assert!(line.len() > "Error:  (HTTP 404)".len(), "{e}");
    w.remote_fails(
        &w.users.writer,
        &["product", "get", "-I", "no-such-product"],
        23,
    );
    // Not in allowedGroups: 403, exit 22.
    let e = w.remote_fails(
        &w.users.approver,
        &[
            "imagesigning",
            "add",
            "DigestSigning",
            "-P",
            &product,
            "--operid",
            &op,
            "-p",
            digest,
        ],
        22,
    );
    assert!(e.contains("(HTTP 403)"), "{e}");
    // Only admins create products.
    let file = w.env.write("p2.json", product_json("p2", "ECDSAP256", &[]));
    w.remote_fails(&w.users.writer, &["product", "create", "--file", &file], 22);
    // A duplicate name conflicts.
    let file = w
        .env
        .write("dup.json", product_json("p-bad", "ECDSAP256", &[]));
    w.remote_fails(&w.users.admin, &["product", "add", "-T", &file], 24);
    // Invalid product JSON: 400 naming the field, exit 1.
    let bad = product_json("p3", "RSA9999", &[]);
    let file = w.env.write("p3.json", bad);
    let e = w.remote_fails(&w.users.admin, &["product", "create", "--file", &file], 1);
    assert!(e.contains("keyType") && e.contains("(HTTP 400)"), "{e}");
    // A hex digest is refused before sending, with the conversion to use.
    let e = w.remote_fails(
        &w.users.writer,
        &[
            "imagesigning",
            "add",
            "DigestSigning",
            "-P",
            &product,
            "--operid",
            &op,
            "-p",
            &"ab".repeat(32),
            "-H",
            "SHA256",
        ],
        1,
    );
    assert!(e.contains("base64"), "{e}");
    // A request by payload file works and names its image.
    let img = w.reg.push_random_image("app", "v1");
    let payload = w.env.ok(&["generate", &img.reference()]);
    let pf = w.env.write("payload.json", payload);
    let r = w.remote_json(
        &w.users.writer,
        &[
            "imagesigning",
            "add",
            "DigestSigning",
            "-P",
            "p-bad",
            "--operid",
            "OCI digest signing",
            "--payload-file",
            &pf,
        ],
    );
    assert!(r["id"].is_string(), "{r}");
    assert_eq!(r["state"], 2, "{r}");
    let t = w.remote_ok(
        &w.users.writer,
        &[
            "--output",
            "table",
            "imagesigning",
            "get",
            "-I",
            r["id"].as_str().unwrap(),
        ],
    );
    assert!(t.contains("ApprovalRequired") && t.contains("alice"), "{t}");
}

/// What needs no service at all: the token and URL checks, an unreachable service.
#[test]
fn errors_before_or_without_the_service() {
    let env = Env::new();
    // No token: exit 21, says how to give one.
    let e = env.fails(
        &[
            "remote",
            "-a",
            "http://127.0.0.1:9/acme/api/v1",
            "product",
            "list",
        ],
        21,
    );
    assert!(e.contains("-t") && e.contains("SIGNET_TOKEN"), "{e}");
    // No API URL.
    let e = env.fails(&["remote", "-t", "tok", "product", "list"], 1);
    assert!(e.contains("-a") && e.contains("SIGNET_API"), "{e}");
    // Nothing listening: exit 20, names the URL, not the token.
    let port = signet_testkit::free_port();
    let api = format!("http://127.0.0.1:{port}/acme/api/v1");
    let e = env.fails(
        &[
            "remote",
            "-t",
            "s3cr3t-token",
            "-a",
            &api,
            "product",
            "list",
        ],
        20,
    );
    assert!(e.contains(&api), "{e}");
    assert!(!e.contains("s3cr3t-token"), "{e}");
    // Operation types other than DigestSigning.
    let e = env.fails(
        &[
            "remote",
            "-t",
            "t",
            "-a",
            &api,
            "imagesigning",
            "add",
            "SignHAB",
            "-P",
            "p",
            "--operid",
            "o",
            "-p",
            "AAAA",
        ],
        1,
    );
    assert!(e.contains("DigestSigning"), "{e}");
    // sign --remote without --product/--operation, and --request with two images.
    let e = env.fails(&["sign", "--remote", &api, "-t", "t", "img"], 1);
    assert!(e.contains("--product"), "{e}");
    let e = env.fails(
        &[
            "sign",
            "--remote",
            &api,
            "-t",
            "t",
            "--request",
            "r",
            "a",
            "b",
        ],
        1,
    );
    assert!(e.contains("exactly one IMAGE"), "{e}");
    // --remote and --key exclude each other.
    let e = env.fails(
        &[
            "sign",
            "--remote",
            &api,
            "-t",
            "t",
            "--key",
            "k",
            "--product",
            "p",
            "--operation",
            "o",
            "img",
        ],
        1,
    );
    assert!(e.contains("--key and --remote"), "{e}");
    // COSIGN_KEY in the environment does not get in the way.
    let out = env
        .signet()
        .env("COSIGN_KEY", "k")
        .args([
            "sign",
            "--remote",
            &api,
            "-t",
            "t",
            "--product",
            "p",
            "--operation",
            "o",
        ])
        .arg(format!("127.0.0.1:{port}/app@sha256:{}", "a".repeat(64)))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(20), "{stderr}");
    assert!(stderr.contains(&api), "{stderr}");
}

#[test]
fn lists_follow_every_page() {
    let w = World::new();
    let (product, op) = w.product("p-pages", "ECDSAP256", &[]);
    let digest = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
    for i in 0..12 {
        let name = format!("req-{i}");
        w.remote_ok(
            &w.users.writer,
            &[
                "imagesigning",
                "add",
                "DigestSigning",
                "-N",
                &name,
                "-P",
                &product,
                "--operid",
                &op,
                "-p",
                digest,
            ],
        );
    }
    let all = w.remote_json(&w.users.writer, &["imagesigning", "list"]);
    assert_eq!(all["count"], 12, "{all}");
    assert_eq!(all["items"].as_array().unwrap().len(), 12, "{all}");
    let page2 = w.remote_json(&w.users.writer, &["imagesigning", "getall", "--page", "2"]);
    assert_eq!(page2["items"].as_array().unwrap().len(), 2, "{page2}");
    assert_eq!(page2["pages"], 2, "{page2}");
    let mine = w.remote_json(
        &w.users.writer,
        &[
            "imagesigning",
            "list",
            "--requester",
            "alice",
            "--state",
            "ApprovalRequired",
        ],
    );
    assert_eq!(mine["count"], 12, "{mine}");
    let none = w.remote_json(
        &w.users.writer,
        &["imagesigning", "list", "--state", "Ready"],
    );
    assert_eq!(none["count"], 0, "{none}");
    let waiting = w.remote_json(&w.users.approver, &["imagesigning", "approvals"]);
    assert_eq!(waiting["items"].as_array().unwrap().len(), 12, "{waiting}");
    let t = w.remote_ok(
        &w.users.writer,
        &["--output", "table", "imagesigning", "list"],
    );
    assert_eq!(t.lines().count(), 14, "{t}");
    assert!(t.ends_with("12 total\n"), "{t}");
}

#[test]
fn product_lifecycle_update_disable_reject() {
    let w = World::new();
    let (product, op) = w.product("p-life", "ECDSAP256", &[]);
    // getpubkey --fingerprint: the SHA-256 of the DER SPKI (the product's token.publicKey).
    let p = w.remote_json(&w.users.admin, &["product", "get", "-I", &product]);
    let spki_b64 = p["productOperations"][0]["token"]["publicKey"]
        .as_str()
        .unwrap()
        .to_string();
    use base64::Engine as _;
    let spki = base64::engine::general_purpose::STANDARD
        .decode(&spki_b64)
        .unwrap();
    w.env.write("spki.der", &spki);
    let fp = String::from_utf8(common::sh(w.env.dir.path(), "sha256sum spki.der")).unwrap();
    let fp = fp.split_whitespace().next().unwrap().to_string();
    let pem = w.remote_ok(
        &w.users.writer,
        &[
            "product",
            "getpubkey",
            "-P",
            &product,
            "--operid",
            &op,
            "--fingerprint",
            &fp,
        ],
    );
    assert!(pem.contains("BEGIN PUBLIC KEY"), "{pem}");
    let e = w.remote_fails(
        &w.users.writer,
        &[
            "product",
            "getpubkey",
            "-P",
            &product,
            "--operid",
            &op,
            "--fingerprint",
            &"0".repeat(64),
        ],
        1,
    );
    assert!(e.contains("fingerprint"), "{e}");
    // get -O writes the JSON.
    let out = w.env.p("product.json");
    w.remote_ok(
        &w.users.admin,
        &["product", "get", "-I", &product, "-O", &out],
    );
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(saved["id"], product.as_str());
    // A description change applies at once.
    let mut changed: Value =
        serde_json::from_str(&product_json("p-life", "ECDSAP256", &[])).unwrap();
    changed["description"] = Value::from("new description");
    let file = w.env.write("changed.json", changed.to_string());
    let u = w.remote_json(
        &w.users.admin,
        &["product", "update", "-I", &product, "--file", &file],
    );
    assert_eq!(u["description"], "new description", "{u}");
    // Disable: enabled false, and no more signing.
    let d = w.remote_json(&w.users.admin, &["product", "disable", "-I", &product]);
    assert_eq!(d["enabled"], false, "{d}");
    w.remote_fails(
        &w.users.writer,
        &[
            "imagesigning",
            "add",
            "DigestSigning",
            "-P",
            &product,
            "--operid",
            &op,
            "-p",
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
        ],
        24,
    );
    // A new product rejected with a reason; it never becomes usable.
    let file = w
        .env
        .write("p-no.json", product_json("p-no", "ECDSAP256", &[]));
    let p = w.remote_json(&w.users.admin, &["product", "create", "--file", &file]);
    let id = p["id"].as_str().unwrap();
    let pending = w.remote_ok(
        &w.users.product_approver,
        &["--output", "table", "product", "approvals"],
    );
    assert!(
        pending.contains(id) && pending.contains("NewProduct"),
        "{pending}"
    );
    let r = w.remote_json(
        &w.users.product_approver,
        &[
            "product",
            "reject",
            "-I",
            id,
            "--reason",
            "duplicate of p-life",
        ],
    );
    assert_eq!(r["decision"], "REJECT");
    let p = w.remote_json(&w.users.admin, &["product", "get", "-I", id]);
    assert_eq!(p["state"], 32, "{p}");
}

/// Seed 000's DetachedSignature approach end to end, with signet in place of signing-tool and
/// cosign and openssl as the external CA: a profile, a product whose code-signing certificate
/// has an external root, its CSR signed by openssl and the chain uploaded, a registered and
/// approved client that fetches the product secrets and runs the seed's jq/openssl pipeline
/// on them, a signature made through the service, and verification against the root.
#[test]
fn detached_signature_with_external_ca_client_secrets_and_verification() {
    use signet_testkit::openssl_pki::{Hierarchy, KeyAlg, openssl};
    let w = World::new();
    let cn = "OCI signing certificate for detached-product";
    let profile = w.env.write(
        "endsig-profile.yaml",
        "name: oci-signing\ncertificateType: ENDENTITY\nvalidityDays: 365\n\
         keyUsage: [digitalSignature]\nextendedKeyUsage: [codeSigning]\n\
         subject: {C: FI, O: Acme}\nemail: ci@acme.example\noidcIssuer: https://acme.example\n",
    );
    let created = w.remote_json(
        &w.users.admin,
        &["pki", "profile", "create", "--file", &profile],
    );
    let profile_id = created["id"].as_str().expect("profile id").to_owned();
    assert_eq!(created["name"], "oci-signing", "{created}");

    // The seed's DetachedSignature product ($ENDSIGPROFILEID etc. substituted).
    let product = w.env.write(
        "detached.json",
        format!(
            r#"{{
    "name": "detached-product",
    "description": "Product for OCI container signing with detached signature",
    "productType": "Production",
    "enabled": true,
    "caInfo": [
        {{
            "CN": "{cn}",
            "description": "End-Entity certificate for OCI container signing",
            "externalRoot": true,
            "useCase": "CodeSigning",
            "keyType": "RSA2048",
            "certificateType": "ENDENTITY",
            "profileID": "{profile_id}"
        }}
    ],
    "rndKeys": [],
    "productOperations": [
        {{
            "name": "OCI detached signature",
            "description": "Generate detached signature for OCI containers",
            "operationType": "DetachedSignature",
            "approvalRule": {{
                "name": "OCI signing rule",
                "description": "Rule for OCI container signing",
                "allowedGroups": ["{WRITERS}"],
                "approvalGroups": ["{APPROVERS}"],
                "blanketGroups": ["oci-blanket"]
            }}
        }}
    ]
}}"#
        ),
    );
    let p = w.remote_json(&w.users.admin, &["product", "create", "--file", &product]);
    let id = p["id"].as_str().unwrap().to_owned();
    let op = p["productOperations"][0]["id"].as_str().unwrap().to_owned();
    w.remote_json(
        &w.users.product_approver,
        &["product", "approve", "-I", &id],
    );

    // Signing refuses until the chain is there.
    let img = w.reg.push_random_image("team/detached", "v1");
    let api = w.srv.api();
    let sign = |timeout: &str| {
        w.env.run(&[
            "sign",
            "--remote",
            &api,
            "-t",
            &w.users.blanket_writer,
            "--product",
            &id,
            "--operation",
            &op,
            "--remote-timeout",
            timeout,
            &img.reference(),
        ])
    };
    let out = sign("10s");
    let (code, stderr) = code_and_stderr(&out);
    assert_ne!(code, Some(0));
    assert!(stderr.contains("certificate upload"), "{stderr}");

    // Certificate issuance with an external root: the CSR out, openssl signs, the chain in.
    let err = w.remote_fails(
        &w.users.admin,
        &[
            "product",
            "csr",
            "-P",
            &id,
            "--cn",
            "no such CN",
            "-O",
            "x.csr",
        ],
        1,
    );
    assert!(err.contains(cn), "the error lists the product's CNs: {err}");
    let csr = w.env.p("service.csr");
    w.remote_ok(
        &w.users.admin,
        &["product", "csr", "-P", &id, "--cn", cn, "-O", &csr],
    );
    let ca_dir = w.env.dir.path().join("external-ca");
    let _ca = Hierarchy::seed002(&ca_dir, KeyAlg::EcP256);
    std::fs::copy(&csr, ca_dir.join("service.csr")).unwrap();
    openssl(
        &ca_dir,
        &[
            "x509",
            "-req",
            "-in",
            "service.csr",
            "-CA",
            "intermediate.pem",
            "-CAkey",
            "intermediate-key.pem",
            "-copy_extensions",
            "copy",
            "-days",
            "365",
            "-out",
            "service.pem",
        ],
    );
    let read = |name: &str| std::fs::read_to_string(ca_dir.join(name)).unwrap();
    let chain = w.env.write(
        "chain.pem",
        format!(
            "{}{}{}",
            read("service.pem"),
            read("intermediate.pem"),
            read("root.pem")
        ),
    );
    // A chain for another key is refused with a clear error.
    let wrong = w.env.write(
        "wrong.pem",
        format!("{}{}", read("leaf.pem"), read("intermediate.pem")),
    );
    let err = w.remote_fails(
        &w.users.admin,
        &[
            "product",
            "certificate",
            "upload",
            "-P",
            &id,
            "--cn",
            cn,
            "--chain",
            &wrong,
        ],
        1,
    );
    assert!(err.contains("key"), "{err}");
    w.remote_ok(
        &w.users.admin,
        &[
            "product",
            "certificate",
            "upload",
            "-P",
            &id,
            "--cn",
            cn,
            "--chain",
            &chain,
        ],
    );

    // A client registers, an approver approves, and the seed's commands read the secrets.
    openssl(
        w.env.dir.path(),
        &["genrsa", "-out", "client.private", "2048"],
    );
    openssl(
        w.env.dir.path(),
        &[
            "rsa",
            "-in",
            "client.private",
            "-pubout",
            "-out",
            "client.public",
        ],
    );
    let client = w.remote_json(
        &w.users.writer,
        &[
            "clients",
            "register",
            "-P",
            &id,
            "--name",
            "ci-runner",
            "--public-key",
            "client.public",
        ],
    );
    let client_id = client["id"].as_str().unwrap().to_owned();
    w.remote_fails(
        &w.users.writer,
        &[
            "secrets",
            "get",
            "-P",
            &id,
            "-C",
            "client.private",
            "-O",
            "early.json",
        ],
        22,
    );
    w.remote_ok(&w.users.approver, &["clients", "approve", "-I", &client_id]);
    let script = r#"
set -e
signing-tool() { "$SIGNET" remote "$@"; }
signing-tool -c -t $TOKEN -a $API_URL \
    secrets get -P $PRODUCTID -C client.private -O prod.json
jq -r '.caInfo[] | .cn' prod.json
jq -r '.caInfo[] | select(.cn=="'"$CN"'") | .pkcs7chain' \
    prod.json | base64 -d > chain.p7b
openssl pkcs7 -in chain.p7b -inform PEM -print_certs > certs.pem
openssl x509 -in certs.pem -pubkey -noout > publickey.pem
"#;
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(w.env.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.env.dir.path())
        .env("SIGNET", env!("CARGO_BIN_EXE_signet"))
        .env("PRODUCTID", &id)
        .env("CN", cn)
        .env("TOKEN", &w.users.writer)
        .env("API_URL", w.srv.api())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "seed secrets commands failed:\n{stdout}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stderr),
        w.srv.log()
    );
    assert_eq!(stdout.trim(), cn);
    let certs = std::fs::read_to_string(w.env.path("certs.pem")).unwrap();
    assert_eq!(certs.matches("BEGIN CERTIFICATE").count(), 3, "{certs}");
    assert!(certs.contains(cn), "{certs}");

    // Signing through the service attaches the certificate and chain; the image verifies
    // against the external root with cosign's identity checks, and with the public key the
    // seed extracts from the certificate.
    let out = sign("60s");
    let (code, stderr) = code_and_stderr(&out);
    assert_eq!(code, Some(0), "{stderr}\nserver log:\n{}", w.srv.log());
    let root = ca_dir.join("root.pem").display().to_string();
    w.env.ok(&[
        "verify",
        "--insecure-ignore-tlog",
        "--insecure-ignore-sct",
        "--cert-chain",
        &root,
        "--certificate-identity",
        "ci@acme.example",
        "--certificate-oidc-issuer",
        "https://acme.example",
        &img.reference(),
    ]);
    w.verify("publickey.pem", &img.reference());

    // The seed's "Sign a container (DetachedSignature)" commands: the same DigestSigning
    // request against the DetachedSignature operation, attached without the certificate and
    // verified with the public key taken from it.
    let img2 = w.reg.push_random_image("team/detached", "v2");
    let script = r#"
set -e
signing-tool() { "$SIGNET" remote "$@"; }
cosign() { "$SIGNET" "$@"; }
cosign generate $IMAGE > payload2.json
DIGEST=$(sha256sum < payload2.json | cut -d" " -f1 | xxd -r -p | base64 -w 0)
REQUEST_ID=$(signing-tool -c -t $TOKEN -a $API_URL imagesigning add DigestSigning \
    -N "OCI signing request" -D "Container image signing" \
    -P $PRODUCTID --operid $OPERATIONID -p "$DIGEST" -H SHA256 | jq -r '.id')
signing-tool -c -t $TOKEN -a $API_URL imagesigning get \
    -I $REQUEST_ID -O signature2.b64 --skipBase64
cosign attach signature --payload payload2.json --signature signature2.b64 $IMAGE
cosign verify --key publickey.pem --insecure-ignore-tlog $IMAGE
"#;
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(w.env.dir.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", w.env.dir.path())
        .env("DOCKER_CONFIG", w.env.path("docker"))
        .env("SIGNET", env!("CARGO_BIN_EXE_signet"))
        .env("IMAGE", img2.reference())
        .env("PRODUCTID", &id)
        .env("OPERATIONID", &op)
        .env("TOKEN", &w.users.blanket_writer)
        .env("API_URL", w.srv.api())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "seed DetachedSignature commands failed:\n{}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        w.srv.log()
    );

    let out = w.env.run(&[
        "verify",
        "--insecure-ignore-tlog",
        "--insecure-ignore-sct",
        "--cert-chain",
        &root,
        "--certificate-identity",
        "someone@else.example",
        "--certificate-oidc-issuer",
        "https://acme.example",
        &img.reference(),
    ]);
    assert_ne!(out.status.code(), Some(0));
}

/// `openssl pkeyutl -verify` of the signature file `sig` over the digest file `digest` with
/// the public key `pem`, PSS (salt = digest length) or PKCS#1 v1.5.
fn openssl_verifies_digest(
    dir: &std::path::Path,
    pem: &str,
    md: &str,
    pss: bool,
    digest: &str,
    sig: &str,
) -> bool {
    let mut cmd = Command::new("openssl");
    cmd.current_dir(dir)
        .args([
            "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-in", digest, "-sigfile", sig,
        ])
        .args(["-pkeyopt", &format!("digest:{md}")]);
    if pss {
        cmd.args([
            "-pkeyopt",
            "rsa_padding_mode:pss",
            "-pkeyopt",
            "rsa_pss_saltlen:-1",
        ]);
    }
    let out = cmd.output().unwrap();
    out.status.success()
        && String::from_utf8_lossy(&out.stdout).contains("Signature Verified Successfully")
}

#[test]
fn digest_signing_with_pss_through_imagesigning_add() {
    let w = World::new();
    let (product, op) = w.product("p-pss", "RSA3072", &["oci-blanket"]);
    let pubkey = w.public_key(&product, &op, "op.pub");
    let dir = w.env.dir.path();
    // The digest, made by openssl: SHA-384 (what PS384 signs).
    w.env.write("payload.json", b"{\"targetArtifact\":{}}");
    let out = Command::new("openssl")
        .current_dir(dir)
        .args([
            "dgst",
            "-sha384",
            "-binary",
            "-out",
            "digest.bin",
            "payload.json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let digest = signet_sigstore::gobase64::encode(&std::fs::read(dir.join("digest.bin")).unwrap());
    let add = |extra: &[&str]| -> Vec<String> {
        let mut args: Vec<String> = [
            "imagesigning",
            "add",
            "DigestSigning",
            "-N",
            "notation signature",
            "-P",
            &product,
            "--operid",
            &op,
            "-p",
            &digest,
            "-H",
            "SHA384",
        ]
        .iter()
        .map(|s| (*s).to_string())
        .collect();
        args.extend(extra.iter().map(|s| (*s).to_string()));
        args
    };
    let strs = |v: &[String]| v.to_vec();

    // Blanket group: signed at once; --wait writes the checked signature.
    let args = add(&[
        "--padding",
        "PSS",
        "--salt-length",
        "hash",
        "--wait",
        "-O",
        "pss.sig",
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    w.remote_ok(&w.users.blanket_writer, &argv);
    let sig = std::fs::read(dir.join("pss.sig")).unwrap();
    assert_eq!(sig.len(), 384);
    assert!(openssl_verifies_digest(
        dir,
        &pubkey,
        "sha384",
        true,
        "digest.bin",
        "pss.sig"
    ));
    assert!(!openssl_verifies_digest(
        dir,
        &pubkey,
        "sha384",
        false,
        "digest.bin",
        "pss.sig"
    ));

    // Through approval: a writer waits in the background while an approver approves.
    let args = add(&[
        "--padding",
        "PSS",
        "--salt-length",
        "48",
        "--wait",
        "-O",
        "approved.sig",
    ]);
    let mut child = w
        .signet_std()
        .args(["remote", "-c", "-t", &w.users.writer, "-a", &w.srv.api()])
        .args(strs(&args))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = Vec::new();
    let id = created_id(&rx, &mut seen);
    // The approver sees how it is to be signed.
    let pending = w.remote_json(&w.users.approver, &["imagesigning", "approvals", "-I", &id]);
    assert_eq!(
        pending["storedOptionalParameters"],
        serde_json::json!([{"signaturePadding": "PSS"}]),
        "{pending}"
    );
    w.remote_ok(&w.users.approver, &["imagesigning", "approve", "-I", &id]);
    let code = finish(child, rx, 120, &mut seen);
    assert_eq!(code, 0, "{seen:?}\nserver log:\n{}", w.srv.log());
    assert!(openssl_verifies_digest(
        dir,
        &pubkey,
        "sha384",
        true,
        "digest.bin",
        "approved.sig"
    ));

    // Without --wait the flags go to the service as optionalParameters, as given.
    let args = add(&[
        "--padding",
        "PSS",
        "--salt-length",
        "hash",
        "--encoding",
        "DER",
    ]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let v = w.remote_json(&w.users.writer, &argv);
    assert_eq!(
        v["storedOptionalParameters"],
        serde_json::json!([{"signaturePadding": "PSS"}, {"saltLength": "hash"}, {"signatureEncoding": "DER"}]),
        "{v}"
    );
    let id = v["id"].as_str().unwrap().to_string();
    w.remote_ok(&w.users.approver, &["imagesigning", "approve", "-I", &id]);
    // `get --wait` checks the signature over the digest too, and writes it.
    w.remote_ok(
        &w.users.writer,
        &["imagesigning", "get", "-I", &id, "--wait", "-O", "got.sig"],
    );
    assert!(openssl_verifies_digest(
        dir,
        &pubkey,
        "sha384",
        true,
        "digest.bin",
        "got.sig"
    ));

    // Refusals: the service names the parameter (exit 1, a 400); --wait checks first.
    let args = add(&["--padding", "PSS", "--salt-length", "20"]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let e = w.remote_fails(&w.users.writer, &argv, 1);
    assert!(
        e.contains("optionalParameters: saltLength: 20 is not supported"),
        "{e}"
    );
    let args = add(&["--salt-length", "48", "--wait"]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let e = w.remote_fails(&w.users.writer, &argv, 1);
    assert!(
        e.contains("--salt-length applies to --padding PSS only"),
        "{e}"
    );
    let args = add(&["--padding", "NONE"]);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = w.remote(&w.users.writer, &argv);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a padding"));
}

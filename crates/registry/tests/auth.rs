//! Authentication against real registries: htpasswd basic auth with credentials from a docker
//! config file or a credential helper, and bearer tokens from a token server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use common::{Image, client_with};
use signet_registry::{Error, Keychain, Repo};
use signet_testkit::TestRegistry;

fn write_config(dir: &Path, json: &str) -> PathBuf {
    let p = dir.join("config.json");
    std::fs::write(&p, json).unwrap();
    p
}

fn auth_config(registry: &str, user: &str, password: &str) -> String {
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!(r#"{{"auths":{{"http://{registry}":{{"auth":"{auth}"}}}}}}"#)
}

#[tokio::test]
async fn basic_auth_from_docker_config() {
    let reg = TestRegistry::builder()
        .htpasswd("alice", "wonderland")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(dir.path(), &auth_config(&reg.addr(), "alice", "wonderland"));
    let client = client_with(Keychain::from_files([cfg]));
    let repo = Repo::new(reg.addr(), "private/img");
    let img = Image::new("basic");
    let digest = img.push(&client, &repo, "v1").await;
    let head = client.head_manifest(&repo, "v1").await.unwrap().unwrap();
    assert_eq!(head.digest, digest);
    assert_eq!(
        client.list_tags(&repo).await.unwrap(),
        vec!["v1".to_string()]
    );
}

#[tokio::test]
async fn no_credentials_is_unauthorized() {
    let reg = TestRegistry::builder()
        .htpasswd("alice", "wonderland")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.json");
    let client = client_with(Keychain::from_files([missing.clone()]));
    let repo = Repo::new(reg.addr(), "private/img");
    let e = client.head_manifest(&repo, "v1").await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains(&reg.addr()), "{msg}");
    assert!(msg.contains("no credentials found"), "{msg}");
    assert!(msg.contains(&missing.display().to_string()), "{msg}");
}

#[tokio::test]
async fn wrong_password_is_unauthorized_without_leaking_it() {
    let reg = TestRegistry::builder()
        .htpasswd("alice", "wonderland")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let cfg = write_config(
        dir.path(),
        &auth_config(&reg.addr(), "alice", "not-the-password"),
    );
    let client = client_with(Keychain::from_files([cfg.clone()]));
    let repo = Repo::new(reg.addr(), "private/img");
    let e = client.get_manifest(&repo, "v1").await.unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    assert!(msg.contains("\"alice\""), "{msg}");
    assert!(msg.contains(&cfg.display().to_string()), "{msg}");
    assert!(!msg.contains("not-the-password"), "{msg}");
    assert!(!format!("{e:?}").contains("not-the-password"));
}

/// Writes `docker-credential-test`, which logs its stdin and answers `answer` (or fails with
/// "credentials not found" when `answer` is None).
fn write_helper(dir: &Path, answer: Option<&str>) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("helper-stdin.log");
    let body = match answer {
        Some(json) => format!("printf '%s' '{json}'\nexit 0"),
        None => "echo 'credentials not found in native keychain'\nexit 1".to_string(),
    };
    let script = format!(
        "#!/bin/sh\n[ \"$1\" = get ] || exit 2\ncat > '{}'\n{body}\n",
        log.display()
    );
    let path = bin.join("docker-credential-test");
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

#[tokio::test]
async fn credential_helper() {
    let reg = TestRegistry::builder()
        .htpasswd("helperuser", "helperpass")
        .start();
    let dir = tempfile::tempdir().unwrap();
    let bin = write_helper(
        dir.path(),
        Some(&format!(
            r#"{{"ServerURL":"{}","Username":"helperuser","Secret":"helperpass"}}"#,
            reg.addr()
        )),
    );
    let cfg = write_config(
        dir.path(),
        &format!(
            r#"{{"auths":{{}},"credHelpers":{{"{}":"test"}}}}"#,
            reg.addr()
        ),
    );
    let client = client_with(Keychain::from_files([cfg]).with_helper_path(&bin));
    let repo = Repo::new(reg.addr(), "helped/img");
    let digest = Image::new("helper").push(&client, &repo, "v1").await;
    assert_eq!(
        client
            .head_manifest(&repo, "v1")
            .await
            .unwrap()
            .unwrap()
            .digest,
        digest
    );
    let stdin = std::fs::read_to_string(dir.path().join("helper-stdin.log")).unwrap();
    assert_eq!(stdin, reg.addr());
}

#[tokio::test]
async fn credential_helper_without_credentials_means_anonymous() {
    let reg = TestRegistry::builder().htpasswd("u", "p").start();
    let dir = tempfile::tempdir().unwrap();
    let bin = write_helper(dir.path(), None);
    // credsStore: the default helper for every registry.
    let cfg = write_config(dir.path(), r#"{"credsStore":"test"}"#);
    let client = client_with(Keychain::from_files([cfg]).with_helper_path(&bin));
    let repo = Repo::new(reg.addr(), "helped/img");
    let e = client.head_manifest(&repo, "v1").await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    assert!(e.to_string().contains("no credentials found"), "{e}");
}

#[tokio::test]
async fn bearer_tokens_are_fetched_and_cached() {
    let reg = TestRegistry::builder()
        .token_auth()
        .credentials("tok", "secret")
        .start();
    let client = client_with(Keychain::with_static(&reg.addr(), "tok", "secret"));
    let repo = Repo::new(reg.addr(), "tokened/img");
    let img = Image::new("bearer");
    let before = reg.token_requests();
    let digest = img.push(&client, &repo, "v1").await;
    // One push-scope token serves every upload request.
    assert_eq!(reg.token_requests() - before, 1);
    let before = reg.token_requests();
    for _ in 0..3 {
        assert_eq!(
            client
                .head_manifest(&repo, "v1")
                .await
                .unwrap()
                .unwrap()
                .digest,
            digest
        );
    }
    // The push,pull token covers pulls: nothing new.
    assert_eq!(reg.token_requests() - before, 0);

    // A fresh client pulls with 1 token request.
    let fresh = client_with(Keychain::with_static(&reg.addr(), "tok", "secret"));
    let before = reg.token_requests();
    let m = fresh.get_manifest(&repo, "v1").await.unwrap().unwrap();
    assert_eq!(m.digest, digest);
    fresh
        .get_blob(&repo, &signet_oci::Digest::sha256(&img.layer), 1024)
        .await
        .unwrap();
    assert_eq!(reg.token_requests() - before, 1);

    // Deleting needs a wider scope: a new token, then it works.
    let store = signet_registry::Store::Registry {
        client: fresh.clone(),
        repo: repo.clone(),
    };
    assert!(store.delete_tag("v1").await.unwrap());
    assert!(fresh.head_manifest(&repo, "v1").await.unwrap().is_none());
}

#[tokio::test]
async fn bearer_anonymous_pull_but_not_push() {
    let reg = TestRegistry::builder()
        .token_auth()
        .credentials("tok", "secret")
        .anonymous_pull()
        .start();
    let owner = client_with(Keychain::with_static(&reg.addr(), "tok", "secret"));
    let repo = Repo::new(reg.addr(), "public/img");
    let digest = Image::new("anon").push(&owner, &repo, "v1").await;

    let anon = client_with(Keychain::anonymous());
    let head = anon.head_manifest(&repo, "v1").await.unwrap().unwrap();
    assert_eq!(head.digest, digest);
    let e = anon.put_blob(&repo, b"nope").await.unwrap_err();
    assert!(
        matches!(e, Error::Unauthorized { .. } | Error::Forbidden { .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn bearer_wrong_credentials() {
    let reg = TestRegistry::builder()
        .token_auth()
        .credentials("tok", "secret")
        .start();
    let client = client_with(Keychain::with_static(&reg.addr(), "tok", "WRONG"));
    let repo = Repo::new(reg.addr(), "tokened/img");
    let e = client.head_manifest(&repo, "v1").await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    assert!(!e.to_string().contains("WRONG"));
}

/// A token registry that takes basic credentials `tok`/`secret` and the identity token
/// `IDENTITY` (both needed: the fixture pusher speaks basic credentials only).
const IDENTITY: &str = "id-token-8f2c1e";

fn identity_registry() -> TestRegistry {
    TestRegistry::builder()
        .token_auth()
        .credentials("tok", "secret")
        .identity_token(IDENTITY)
        .start()
}

/// The form fields of the token server's POSTs whose grant_type is refresh_token.
fn refresh_grants(reg: &TestRegistry) -> Vec<Vec<(String, String)>> {
    reg.token_server()
        .unwrap()
        .form_log()
        .into_iter()
        .filter(|f| {
            f.iter()
                .any(|(k, v)| k == "grant_type" && v == "refresh_token")
        })
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[tokio::test]
async fn identity_token_is_exchanged_with_a_refresh_token_grant() {
    let reg = identity_registry();
    let client = client_with(Keychain::with_identity_token(&reg.addr(), IDENTITY));
    let repo = Repo::new(reg.addr(), "tokened/img");
    let img = Image::new("identity");
    let before = reg.token_requests();
    let digest = img.push(&client, &repo, "v1").await;
    assert_eq!(reg.token_requests() - before, 1);
    let head = client.head_manifest(&repo, "v1").await.unwrap().unwrap();
    assert_eq!(head.digest, digest);
    // Every token request was a refresh-token grant, as oras-go and docker send it.
    let grants = refresh_grants(&reg);
    assert_eq!(grants.len(), 1, "{grants:?}");
    let g = &grants[0];
    assert_eq!(field(g, "refresh_token"), Some("<redacted>"));
    assert_eq!(field(g, "client_id"), Some("signet"));
    assert_eq!(
        field(g, "service"),
        Some(reg.token_server().unwrap().service())
    );
    assert_eq!(field(g, "scope"), Some("repository:tokened/img:pull,push"));
    assert!(
        reg.token_server()
            .unwrap()
            .request_log()
            .iter()
            .all(|l| l.starts_with("POST /token")),
        "{:?}",
        reg.token_server().unwrap().request_log()
    );
}

#[tokio::test]
async fn wrong_identity_token_is_unauthorized_without_leaking_it() {
    let reg = identity_registry();
    let client = client_with(Keychain::with_identity_token(
        &reg.addr(),
        "not-the-id-token",
    ));
    let repo = Repo::new(reg.addr(), "tokened/img");
    let e = client.head_manifest(&repo, "v1").await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("identity token"), "{msg}");
    assert!(msg.contains("rejected"), "{msg}");
    assert!(!msg.contains("not-the-id-token"), "{msg}");
    assert!(!format!("{e:?}").contains("not-the-id-token"));
    assert_eq!(refresh_grants(&reg).len(), 1);
}

#[tokio::test]
async fn identity_token_from_docker_config_and_credential_helper() {
    let reg = identity_registry();
    let repo = Repo::new(reg.addr(), "tokened/img");
    let digest = reg.push_random_image("tokened/img", "v1").digest;

    // `docker login` with an identity token stores `auth` (user and an empty password) and
    // `identitytoken`.
    let dir = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("someone:");
    let cfg = write_config(
        dir.path(),
        &format!(
            r#"{{"auths":{{"{}":{{"auth":"{auth}","identitytoken":"{IDENTITY}"}}}}}}"#,
            reg.addr()
        ),
    );
    let client = client_with(Keychain::from_files([cfg]));
    let head = client.head_manifest(&repo, "v1").await.unwrap().unwrap();
    assert_eq!(head.digest.to_string(), digest);
    assert_eq!(refresh_grants(&reg).len(), 1);

    // A credential helper answers `<token>` as the user name for an identity token.
    let helper_dir = tempfile::tempdir().unwrap();
    let bin = write_helper(
        helper_dir.path(),
        Some(&format!(
            r#"{{"ServerURL":"{}","Username":"<token>","Secret":"{IDENTITY}"}}"#,
            reg.addr()
        )),
    );
    let cfg = write_config(helper_dir.path(), r#"{"credsStore":"test"}"#);
    let client = client_with(Keychain::from_files([cfg]).with_helper_path(&bin));
    let head = client.head_manifest(&repo, "v1").await.unwrap().unwrap();
    assert_eq!(head.digest.to_string(), digest);
    assert_eq!(refresh_grants(&reg).len(), 2);
}

#[tokio::test]
async fn identity_token_cannot_do_basic_auth() {
    let reg = TestRegistry::builder()
        .htpasswd("alice", "wonderland")
        .start();
    let client = client_with(Keychain::with_identity_token(&reg.addr(), IDENTITY));
    let repo = Repo::new(reg.addr(), "private/img");
    let e = client.head_manifest(&repo, "v1").await.unwrap_err();
    assert!(matches!(e, Error::Unauthorized { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(msg.contains("identity token"), "{msg}");
    assert!(msg.contains("Basic"), "{msg}");
    assert!(!msg.contains(IDENTITY), "{msg}");
    // The second request goes straight to the same answer (no Basic header is invented).
    let e = client.list_tags(&repo).await.unwrap_err();
    assert!(e.to_string().contains("Basic"), "{e}");
    assert!(!reg.log().contains(IDENTITY));
}

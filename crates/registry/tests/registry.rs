//! The distribution client against a real `docker-registry` on loopback (anonymous).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Image, anonymous_client};
use signet_oci::{Digest, media_types};
use signet_registry::{ClientOptions, Error, Keychain, RegistryClient, Repo, Store};
use signet_testkit::{CountingProxy, TestRegistry};

#[tokio::test]
async fn push_then_pull_back() {
    let reg = TestRegistry::start();
    let client = anonymous_client();
    let repo = Repo::new(reg.addr(), "signet/roundtrip");
    let img = Image::new("a");
    let digest = img.push(&client, &repo, "v1").await;
    assert_eq!(digest, img.digest());

    let head = client.head_manifest(&repo, "v1").await.unwrap().unwrap();
    assert_eq!(head.digest, digest);
    assert_eq!(head.media_type, media_types::OCI_MANIFEST);
    assert_eq!(head.size, img.manifest.len() as u64);

    for reference in ["v1".to_string(), digest.to_string()] {
        let m = client
            .get_manifest(&repo, &reference)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(m.bytes, img.manifest);
        assert_eq!(m.digest, digest);
        assert_eq!(m.media_type, media_types::OCI_MANIFEST);
    }
    let layer = Digest::sha256(&img.layer);
    assert!(client.blob_exists(&repo, &layer).await.unwrap());
    assert_eq!(
        client.get_blob(&repo, &layer, 1024).await.unwrap(),
        img.layer
    );
    // Second push of the same blob is skipped (HEAD finds it) and still answers the digest.
    assert_eq!(client.put_blob(&repo, &img.layer).await.unwrap(), layer);
    assert!(matches!(
        client.get_blob(&repo, &layer, 3).await,
        Err(Error::BlobTooLarge { limit: 3, .. })
    ));
    // Pushing by digest works too.
    let other = Image::new("b");
    client.put_blob(&repo, &other.config).await.unwrap();
    client.put_blob(&repo, &other.layer).await.unwrap();
    let d = client
        .put_manifest(
            &repo,
            &other.digest().to_string(),
            &other.manifest,
            media_types::OCI_MANIFEST,
        )
        .await
        .unwrap();
    assert_eq!(d, other.digest());
    let wrong = client
        .put_manifest(
            &repo,
            &img.digest().to_string(),
            &other.manifest,
            media_types::OCI_MANIFEST,
        )
        .await
        .unwrap_err();
    assert!(matches!(wrong, Error::DigestMismatch { .. }), "{wrong}");
}

#[tokio::test]
async fn absent_things() {
    let reg = TestRegistry::start();
    let client = anonymous_client();
    let repo = Repo::new(reg.addr(), "signet/absent");
    assert!(client.head_manifest(&repo, "nope").await.unwrap().is_none());
    assert!(client.get_manifest(&repo, "nope").await.unwrap().is_none());
    let d = Digest::sha256(b"nothing");
    assert!(
        client
            .get_manifest(&repo, &d.to_string())
            .await
            .unwrap()
            .is_none()
    );
    assert!(!client.blob_exists(&repo, &d).await.unwrap());
    let e = client.get_blob(&repo, &d, 10).await.unwrap_err();
    assert!(matches!(e, Error::BlobNotFound { .. }), "{e}");
    assert!(client.list_tags(&repo).await.unwrap().is_empty());
    assert!(!client.delete_manifest(&repo, &d).await.unwrap());
}

#[tokio::test]
async fn tags_are_listed_across_pages() {
    let reg = TestRegistry::start();
    let client = anonymous_client();
    let repo = Repo::new(reg.addr(), "signet/tags");
    let img = Image::new("t");
    let mut want = Vec::new();
    for i in 0..5 {
        let tag = format!("t{i}");
        img.push(&client, &repo, &tag).await;
        want.push(tag);
    }
    let mut all = client.list_tags(&repo).await.unwrap();
    all.sort();
    assert_eq!(all, want);
    let mut paged = client.list_tags_paged(&repo, Some(2)).await.unwrap();
    paged.sort();
    assert_eq!(paged, want);
}

#[tokio::test]
async fn delete_by_tag_through_store() {
    let reg = TestRegistry::start();
    let client = anonymous_client();
    let repo = Repo::new(reg.addr(), "signet/delete");
    Image::new("d").push(&client, &repo, "gone").await;
    let store = Store::Registry {
        client: client.clone(),
        repo: repo.clone(),
    };
    assert!(store.delete_tag("gone").await.unwrap());
    assert!(store.head_manifest("gone").await.unwrap().is_none());
    assert!(!store.delete_tag("gone").await.unwrap());
}

#[tokio::test]
async fn manifest_size_limit() {
    let reg = TestRegistry::start();
    let repo = Repo::new(reg.addr(), "signet/limit");
    let img = Image::new("l");
    img.push(&anonymous_client(), &repo, "big").await;
    let small = RegistryClient::new(
        ClientOptions {
            max_manifest_bytes: 100,
            ..Default::default()
        },
        Keychain::anonymous(),
    )
    .unwrap();
    match small.get_manifest(&repo, "big").await.unwrap_err() {
        Error::ManifestTooLarge { size, limit, .. } => {
            assert_eq!(limit, 100);
            assert_eq!(size, img.manifest.len() as u64);
        }
        e => panic!("{e}"),
    }
}

/// Overwrites a blob in the registry's storage behind its back.
fn tamper(reg: &TestRegistry, digest: &Digest, bytes: &[u8]) {
    let hex = digest.hex();
    let path = reg.root_dir().join(format!(
        "docker/registry/v2/blobs/sha256/{}/{hex}/data",
        &hex[..2]
    ));
    assert!(path.is_file(), "{}", path.display());
    std::fs::write(path, bytes).unwrap();
}

#[tokio::test]
async fn tampered_content_is_detected() {
    let reg = TestRegistry::start();
    let client = anonymous_client();
    let repo = Repo::new(reg.addr(), "signet/tamper");
    let img = Image::new("x");
    let digest = img.push(&client, &repo, "v1").await;
    let mut evil = img.manifest.clone();
    // Same length, still valid JSON: only the layer media type changes.
    let at = evil.windows(4).position(|w| w == b".tar").unwrap();
    evil[at + 3] = b'z';
    tamper(&reg, &digest, &evil);
    match client
        .get_manifest(&repo, &digest.to_string())
        .await
        .unwrap_err()
    {
        Error::DigestMismatch { expected, found } => {
            assert_eq!(expected, digest);
            assert_eq!(found, Digest::sha256(&evil));
        }
        e => panic!("{e}"),
    }
    // By tag there is nothing to compare with: the digest is that of the bytes received.
    if let Some(m) = client.get_manifest(&repo, "v1").await.unwrap() {
        assert_eq!(m.digest, Digest::sha256(&m.bytes));
    }
    let layer = Digest::sha256(&img.layer);
    let evil_layer = b"layer X".to_vec();
    assert_eq!(evil_layer.len(), img.layer.len());
    tamper(&reg, &layer, &evil_layer);
    let e = client.get_blob(&repo, &layer, 1024).await.unwrap_err();
    assert!(matches!(e, Error::DigestMismatch { .. }), "{e}");
}

#[tokio::test]
async fn unreachable_registry() {
    let client = anonymous_client();
    let repo = Repo::new("127.0.0.1:1", "x/y");
    let e = client.head_manifest(&repo, "latest").await.unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        "cannot reach registry 127.0.0.1:1: connection refused"
    );
}

#[tokio::test]
async fn https_to_a_plain_http_registry_is_a_tls_error() {
    let reg = TestRegistry::start();
    // `localhost.` resolves to loopback but is not treated as loopback, so HTTPS is used.
    let repo = Repo::new(format!("localhost.:{}", reg.port()), "x/y");
    let e = anonymous_client()
        .head_manifest(&repo, "latest")
        .await
        .unwrap_err();
    match &e {
        Error::Tls { .. } => assert!(e.to_string().contains("--allow-insecure-registry")),
        // No resolver for `localhost.` on this machine: nothing to check.
        Error::Unreachable { reason, .. } if reason.contains("resolve") => {}
        _ => panic!("{e:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_fetch_is_three_requests_on_one_connection() {
    let reg = TestRegistry::start();
    let proxy = CountingProxy::start(&reg.addr());
    let repo = Repo::new(proxy.addr(), "signet/count");
    let pusher = anonymous_client();
    let img = Image::new("c");
    let digest = img.push(&pusher, &repo, "v1").await;
    let sig = Image::new("sig");
    let sig_tag = digest.tag_with_suffix("sig");
    sig.push(&pusher, &repo, &sig_tag).await;
    drop(pusher);
    proxy.reset();
    // `reset` forgets requests, not connections: count the difference.
    let connections_before = proxy.connection_count();

    let client = anonymous_client();
    let head = client.head_manifest(&repo, "v1").await.unwrap().unwrap();
    assert_eq!(head.digest, digest);
    let m = client
        .get_manifest(&repo, &head.digest.tag_with_suffix("sig"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.bytes, sig.manifest);
    let blob = client
        .get_blob(&repo, &Digest::sha256(&sig.layer), 1 << 20)
        .await
        .unwrap();
    assert_eq!(blob, sig.layer);
    assert_eq!(proxy.request_count(), 3, "{:?}", proxy.requests());
    // One connection normally; hyper may open a second when the pooled one is not back yet
    // (a race on the multi-threaded runtime). Three would mean no reuse at all.
    assert!(
        proxy.connection_count() - connections_before <= 2,
        "{:?}",
        proxy.requests()
    );
}

#[tokio::test]
async fn transient_errors_are_retried_like_cosign() {
    let reg = TestRegistry::start();
    let repo = Repo::new(reg.addr(), "signet/flaky");
    let img = Image::new("flaky");
    img.push(&anonymous_client(), &repo, "v1").await;

    // Two 500s (docker-registry's answer to a read racing a tag write), then the real answer.
    let proxy = CountingProxy::start(&reg.addr());
    let via = Repo::new(proxy.addr(), "signet/flaky");
    proxy.fail_connections(2, "GET /v2/signet/flaky/manifests/v1 ");
    let m = anonymous_client()
        .get_manifest(&via, "v1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.digest, img.digest());
    assert_eq!(proxy.request_count(), 3, "{:?}", proxy.requests());

    // Three in a row: the third answer is final and reported as the registry's error.
    proxy.reset();
    proxy.fail_connections(3, "GET /v2/signet/flaky/manifests/v1 ");
    let err = anonymous_client()
        .get_manifest(&via, "v1")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("500") && err.contains("unknown error"),
        "{err}"
    );
    assert_eq!(proxy.request_count(), 3, "{:?}", proxy.requests());
}

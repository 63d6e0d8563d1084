//! OCI 1.1 referrers: the referrers-tag fallback against a real `docker-registry` (which has no
//! referrers API), the "API unavailable" classification, a registry that has the API (a small
//! in-test fake), and OCI layouts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use common::{Image, anonymous_client};
use signet_oci::{Digest, ImageIndex, media_types};
use signet_registry::referrers::{SUBJECT_ANNOTATION, referrers_tag};
use signet_registry::{Error, OciLayout, Repo, Store};
use signet_testkit::{CountingProxy, TestRegistry};

const NOTARY: &str = "application/vnd.cncf.notary.signature";
const SBOM: &str = "application/spdx+json";
const EMPTY_CONFIG: &[u8] = b"{}";

/// A referrer manifest of `subject` (size `subject_size`), with one layer `layer`.
fn referrer(subject: &Digest, subject_size: usize, artifact_type: &str, layer: &[u8]) -> Vec<u8> {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{m}","artifactType":"{artifact_type}","config":{{"mediaType":"{e}","size":2,"digest":"{c}"}},"layers":[{{"mediaType":"application/jose+json","size":{ls},"digest":"{ld}"}}],"subject":{{"mediaType":"{m}","size":{subject_size},"digest":"{subject}"}},"annotations":{{"n":"{n}"}}}}"#,
        m = media_types::OCI_MANIFEST,
        e = media_types::OCI_EMPTY,
        c = Digest::sha256(EMPTY_CONFIG),
        ls = layer.len(),
        ld = Digest::sha256(layer),
        n = String::from_utf8_lossy(layer),
    )
    .into_bytes()
}

async fn push_referrer(store: &Store, img: &Image, artifact_type: &str, layer: &str) -> Digest {
    store.put_blob(EMPTY_CONFIG).await.unwrap();
    store.put_blob(layer.as_bytes()).await.unwrap();
    let m = referrer(
        &img.digest(),
        img.manifest.len(),
        artifact_type,
        layer.as_bytes(),
    );
    let d = store
        .push_referrer(&m, media_types::OCI_MANIFEST)
        .await
        .unwrap();
    assert_eq!(d, Digest::sha256(&m));
    d
}

fn digests(ds: &[signet_oci::Descriptor]) -> Vec<Digest> {
    let mut v: Vec<Digest> = ds.iter().map(|d| d.digest.clone()).collect();
    v.sort_by_key(|d| d.to_string());
    v
}

fn sorted(mut v: Vec<Digest>) -> Vec<Digest> {
    v.sort_by_key(|d| d.to_string());
    v
}

#[tokio::test]
async fn registry_without_api_uses_the_referrers_tag() {
    let reg = TestRegistry::start();
    let client = anonymous_client();
    let repo = Repo::new(reg.addr(), "signet/referrers");
    let img = Image::new("subject");
    img.push(&client, &repo, "v1").await;
    // docker-registry has no referrers API.
    assert!(
        client
            .referrers(&repo, &img.digest(), None)
            .await
            .unwrap()
            .is_none()
    );
    let store = Store::Registry {
        client: client.clone(),
        repo: repo.clone(),
    };
    assert!(
        store
            .referrers(&img.digest(), None)
            .await
            .unwrap()
            .is_empty()
    );

    let sig = push_referrer(&store, &img, NOTARY, "sig-1").await;
    let sbom = push_referrer(&store, &img, SBOM, "sbom-1").await;

    let all = store.referrers(&img.digest(), None).await.unwrap();
    assert_eq!(digests(&all), sorted(vec![sig.clone(), sbom.clone()]));
    let sig_desc = all.iter().find(|d| d.digest == sig).unwrap();
    assert_eq!(sig_desc.media_type, media_types::OCI_MANIFEST);
    assert_eq!(sig_desc.artifact_type.as_deref(), Some(NOTARY));
    assert_eq!(
        sig_desc.annotations.get("n").map(String::as_str),
        Some("sig-1")
    );
    let only = store.referrers(&img.digest(), Some(NOTARY)).await.unwrap();
    assert_eq!(digests(&only), vec![sig.clone()]);
    let none = store
        .referrers(&img.digest(), Some("application/other"))
        .await
        .unwrap();
    assert!(none.is_empty());

    // The tag holds an OCI image index, schemaVersion 2.
    let tag = referrers_tag(&img.digest());
    assert_eq!(tag, format!("sha256-{}", img.digest().hex()));
    let m = client.get_manifest(&repo, &tag).await.unwrap().unwrap();
    assert_eq!(m.media_type, media_types::OCI_INDEX);
    let index = ImageIndex::from_slice(&m.bytes).unwrap();
    assert_eq!(index.schema_version, 2);
    assert_eq!(index.media_type.as_deref(), Some(media_types::OCI_INDEX));
    assert_eq!(index.manifests.len(), 2);

    // Pushing again changes nothing.
    let again = push_referrer(&store, &img, NOTARY, "sig-1").await;
    assert_eq!(again, sig);
    let after = client.get_manifest(&repo, &tag).await.unwrap().unwrap();
    assert_eq!(after.digest, m.digest);
    assert_eq!(store.referrers(&img.digest(), None).await.unwrap().len(), 2);

    // Another subject has none.
    assert!(
        store
            .referrers(&Digest::sha256(b"other"), None)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_pushers_lose_no_entry() {
    let reg = TestRegistry::start();
    let repo = Repo::new(reg.addr(), "signet/concurrent");
    let img = Image::new("concurrent");
    img.push(&anonymous_client(), &repo, "v1").await;
    let img = Arc::new(img);
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (repo, img) = (repo.clone(), Arc::clone(&img));
        tasks.push(tokio::spawn(async move {
            let store = Store::Registry {
                client: anonymous_client(),
                repo,
            };
            push_referrer(&store, &img, NOTARY, &format!("sig-{i}")).await
        }));
    }
    let mut pushed = Vec::new();
    for t in tasks {
        pushed.push(t.await.unwrap());
    }
    let store = Store::Registry {
        client: anonymous_client(),
        repo,
    };
    let listed = store.referrers(&img.digest(), Some(NOTARY)).await.unwrap();
    assert_eq!(digests(&listed), sorted(pushed));
}

#[tokio::test]
async fn server_errors_are_not_a_missing_api() {
    let reg = TestRegistry::start();
    let proxy = CountingProxy::start(&reg.addr());
    let client = anonymous_client();
    let repo = Repo::new(proxy.addr(), "signet/errors");
    let img = Image::new("errors");
    img.push(&client, &repo, "v1").await;
    let store = Store::Registry {
        client: client.clone(),
        repo: repo.clone(),
    };

    // 404 from docker-registry: the API is missing, the tag is read instead.
    proxy.reset();
    assert!(
        store
            .referrers(&img.digest(), None)
            .await
            .unwrap()
            .is_empty()
    );
    let seen = proxy.requests();
    assert!(
        seen[0].starts_with(&format!("GET /v2/signet/errors/referrers/{}", img.digest())),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|r| r.starts_with(&format!(
            "GET /v2/signet/errors/manifests/{}",
            referrers_tag(&img.digest())
        ))),
        "{seen:?}"
    );

    // 500 (after the client's retries) is an error, not "no API". (A fresh client, so that
    // the request opens a connection of its own, which the proxy fails.)
    let store = Store::Registry {
        client: anonymous_client(),
        repo: repo.clone(),
    };
    proxy.fail_connections(3, "/referrers/");
    match store.referrers(&img.digest(), None).await.unwrap_err() {
        Error::UnexpectedStatus { status: 500, .. } => {}
        e => panic!("{e}"),
    }
}

/// A registry with the referrers API, just enough of it: two pages of referrers linked by
/// `Link`, no `OCI-Filters-Applied`, and manifest `PUT`s answered with `OCI-Subject`.
struct FakeApiRegistry {
    addr: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FakeApiRegistry {
    fn start(subject: Digest, page1: Vec<u8>, page2: Vec<u8>, filtered: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut reader = BufReader::new(conn.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() || line.is_empty() {
                    continue;
                }
                let mut len = 0usize;
                loop {
                    let mut h = String::new();
                    reader.read_line(&mut h).unwrap();
                    let h = h.trim_end();
                    if h.is_empty() {
                        break;
                    }
                    if let Some((k, v)) = h.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        len = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                reader.read_exact(&mut body).unwrap();
                let target = line.split(' ').nth(1).unwrap_or_default().to_string();
                seen.lock().unwrap().push(format!(
                    "{} {target}",
                    line.split(' ').next().unwrap_or_default()
                ));
                let referrers = format!("/v2/r/referrers/{subject}");
                let (status, headers, payload): (&str, String, Vec<u8>) =
                    if line.starts_with("GET ") && target.starts_with(&referrers) {
                        let mut headers = format!("Content-Type: {}\r\n", media_types::OCI_INDEX);
                        if filtered {
                            headers.push_str("OCI-Filters-Applied: artifactType\r\n");
                        }
                        if target.contains("page=2") {
                            ("200 OK", headers, page2.clone())
                        } else {
                            headers
                                .push_str(&format!("Link: <{referrers}?page=2>; rel=\"next\"\r\n"));
                            ("200 OK", headers, page1.clone())
                        }
                    } else if line.starts_with("PUT ") && target.starts_with("/v2/r/manifests/") {
                        (
                            "201 Created",
                            format!(
                                "OCI-Subject: {subject}\r\nDocker-Content-Digest: {}\r\n",
                                Digest::sha256(&body)
                            ),
                            Vec::new(),
                        )
                    } else {
                        ("404 Not Found", String::new(), Vec::new())
                    };
                let _ = conn.write_all(
                    format!(
                        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n",
                        payload.len()
                    )
                    .as_bytes(),
                );
                let _ = conn.write_all(&payload);
            }
        });
        FakeApiRegistry { addr, requests }
    }
}

fn index_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let manifests: Vec<String> = entries
        .iter()
        .map(|(at, bytes)| {
            format!(
                r#"{{"mediaType":"{}","size":{},"digest":"{}","artifactType":"{at}"}}"#,
                media_types::OCI_MANIFEST,
                bytes.len(),
                Digest::sha256(bytes)
            )
        })
        .collect();
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{}]}}"#,
        media_types::OCI_INDEX,
        manifests.join(",")
    )
    .into_bytes()
}

#[tokio::test]
async fn registry_with_api() {
    let img = Image::new("api");
    let subject = img.digest();
    let page1 = index_of(&[(NOTARY, b"a"), (SBOM, b"b")]);
    let page2 = index_of(&[(NOTARY, b"c")]);
    let fake = FakeApiRegistry::start(subject.clone(), page1, page2, false);
    let client = anonymous_client();
    let repo = Repo::new(fake.addr.clone(), "r");
    let store = Store::Registry {
        client: client.clone(),
        repo: repo.clone(),
    };
    // Both pages, merged.
    let all = store.referrers(&subject, None).await.unwrap();
    assert_eq!(
        digests(&all),
        sorted(vec![
            Digest::sha256(b"a"),
            Digest::sha256(b"b"),
            Digest::sha256(b"c")
        ])
    );
    // The registry did not filter: filtered here.
    let sigs = store.referrers(&subject, Some(NOTARY)).await.unwrap();
    assert_eq!(
        digests(&sigs),
        sorted(vec![Digest::sha256(b"a"), Digest::sha256(b"c")])
    );
    let seen = fake.requests.lock().unwrap().clone();
    assert!(
        seen.iter()
            .any(|r| r.contains("artifactType=application%2Fvnd.cncf.notary.signature")),
        "{seen:?}"
    );
    // A PUT answered with OCI-Subject: nothing else is written.
    fake.requests.lock().unwrap().clear();
    let m = referrer(&subject, img.manifest.len(), NOTARY, b"sig");
    let d = store
        .push_referrer(&m, media_types::OCI_MANIFEST)
        .await
        .unwrap();
    assert_eq!(d, Digest::sha256(&m));
    let seen = fake.requests.lock().unwrap().clone();
    assert_eq!(seen, vec![format!("PUT /v2/r/manifests/{d}")]);
}

#[tokio::test]
async fn registry_with_api_that_filters() {
    let subject = Digest::sha256(b"subject");
    // The registry says it filtered: its answer is taken as is.
    let page1 = index_of(&[(SBOM, b"a")]);
    let page2 = index_of(&[]);
    let fake = FakeApiRegistry::start(subject.clone(), page1, page2, true);
    let client = anonymous_client();
    let repo = Repo::new(fake.addr.clone(), "r");
    let index = client
        .referrers(&repo, &subject, Some(NOTARY))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(index.manifests.len(), 1);
}

#[tokio::test]
async fn layout_referrers() {
    let dir = tempfile::tempdir().unwrap();
    let layout = OciLayout::create_or_open(dir.path()).unwrap();
    let store = Store::Layout(layout.clone());
    let img = Image::new("layout");
    store.put_blob(&img.config).await.unwrap();
    store.put_blob(&img.layer).await.unwrap();
    store
        .put_manifest("v1", &img.manifest, media_types::OCI_MANIFEST)
        .await
        .unwrap();
    assert!(
        store
            .referrers(&img.digest(), None)
            .await
            .unwrap()
            .is_empty()
    );

    let sig = push_referrer(&store, &img, NOTARY, "sig-1").await;
    let sbom = push_referrer(&store, &img, SBOM, "sbom-1").await;
    let all = store.referrers(&img.digest(), None).await.unwrap();
    assert_eq!(digests(&all), sorted(vec![sig.clone(), sbom.clone()]));
    let d = all.iter().find(|d| d.digest == sig).unwrap();
    assert_eq!(d.artifact_type.as_deref(), Some(NOTARY));
    assert_eq!(
        d.annotations,
        BTreeMap::from([("n".to_string(), "sig-1".to_string())])
    );
    let only = store.referrers(&img.digest(), Some(SBOM)).await.unwrap();
    assert_eq!(digests(&only), vec![sbom.clone()]);

    // index.json keeps the tagged image, and records what listing needs.
    let index = layout.index().unwrap();
    assert_eq!(index.manifests.len(), 3);
    assert_eq!(
        layout.resolve(Some("v1")).unwrap().unwrap().digest,
        img.digest()
    );
    let entry = index.manifests.iter().find(|d| d.digest == sig).unwrap();
    assert_eq!(
        entry.annotations.get(SUBJECT_ANNOTATION),
        Some(&img.digest().to_string())
    );
    assert_eq!(entry.artifact_type.as_deref(), Some(NOTARY));

    // Pushing again adds nothing.
    push_referrer(&store, &img, NOTARY, "sig-1").await;
    assert_eq!(layout.index().unwrap().manifests.len(), 3);

    // An entry written by another tool (no recorded subject) is found by reading it.
    let foreign = referrer(&img.digest(), img.manifest.len(), SBOM, b"foreign");
    let fd = store
        .put_manifest(
            &Digest::sha256(&foreign).to_string(),
            &foreign,
            media_types::OCI_MANIFEST,
        )
        .await
        .unwrap();
    let sboms = store.referrers(&img.digest(), Some(SBOM)).await.unwrap();
    assert_eq!(digests(&sboms), sorted(vec![sbom, fd.clone()]));
    let f = sboms.iter().find(|d| d.digest == fd).unwrap();
    assert_eq!(f.annotations.get("n").map(String::as_str), Some("foreign"));

    // A manifest without a subject is refused.
    let e = store
        .push_referrer(&img.manifest, media_types::OCI_MANIFEST)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::InvalidReferrer { .. }), "{e}");
}

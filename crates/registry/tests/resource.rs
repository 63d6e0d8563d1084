//! Resources by URI: `kbs:///…` from a key broker (a small loopback HTTP server stands in for
//! it, serving `/kbs/v0/resource/REPO/TYPE/TAG` as Confidential Containers' KBS does),
//! `file://` URIs and plain paths; failures name the URI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use signet_registry::ResourceFetcher;

/// Serves `/kbs/v0/resource/default/cosign-key/1` with `body`; everything else is 404.
fn broker(body: &'static [u8]) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            if reader.read_line(&mut line).is_err() {
                continue;
            }
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                    break;
                }
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let mut stream = stream;
            let ok = line.starts_with("GET /kbs/v0/resource/default/cosign-key/1 ");
            let (status, payload): (&str, &[u8]) = if ok {
                ("200 OK", body)
            } else {
                ("404 Not Found", b"no such resource")
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                payload.len()
            );
            let _ = stream.write_all(payload);
        }
    });
    (format!("http://{addr}"), hits)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn kbs_resources_come_from_the_broker() {
    let (url, hits) = broker(b"-----BEGIN PUBLIC KEY-----\n");
    let f = ResourceFetcher::new(reqwest::Client::new(), Some(url.clone()));
    let rt = runtime();
    assert_eq!(
        rt.block_on(f.fetch("kbs:///default/cosign-key/1")).unwrap(),
        b"-----BEGIN PUBLIC KEY-----\n"
    );
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let e = rt
        .block_on(f.fetch("kbs:///default/cosign-key/2"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("kbs:///default/cosign-key/2") && e.contains("404"),
        "{e}"
    );
    for bad in [
        "kbs:///default/cosign-key",
        "kbs:///default/../x/y",
        "kbs:///a//b",
    ] {
        let e = rt.block_on(f.fetch(bad)).unwrap_err().to_string();
        assert!(e.contains(bad) && e.contains("REPOSITORY/TYPE/TAG"), "{e}");
    }
    // no broker configured, or a broker that is down: fail, naming the URI
    let none = ResourceFetcher::new(reqwest::Client::new(), None);
    let e = rt
        .block_on(none.fetch("kbs:///default/cosign-key/1"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("--kbs-url"), "{e}");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = ResourceFetcher::new(
        reqwest::Client::new(),
        Some(format!("http://127.0.0.1:{port}")),
    );
    let e = rt
        .block_on(down.fetch("kbs:///default/cosign-key/1"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("kbs:///default/cosign-key/1") && e.contains("cannot reach"),
        "{e}"
    );
}

#[test]
fn files_and_paths() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("policy.json");
    std::fs::write(&path, b"{}").unwrap();
    let f = ResourceFetcher::new(reqwest::Client::new(), None);
    let rt = runtime();
    assert_eq!(
        rt.block_on(f.fetch(&path.display().to_string())).unwrap(),
        b"{}"
    );
    assert_eq!(
        rt.block_on(f.fetch(&format!("file://{}", path.display())))
            .unwrap(),
        b"{}"
    );
    let e = rt
        .block_on(f.fetch("/no/such/file"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("/no/such/file"), "{e}");
    assert!(rt.block_on(f.fetch("ftp://x/y")).is_err());
}

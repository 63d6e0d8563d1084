//! Load benchmark of `signet server` on SoftHSM2: auto-approved (blanketGroups) signing
//! requests per second and p50/p99 latency at 1, 16 and 64 concurrent clients, for P-256 and
//! RSA-4096 keys, beside the raw SoftHSM2 signing rate measured in the same run.
//!
//! This process is the load generator; the service is a second process (the `signet`
//! binary named by `SIGNET_BIN`, default `target/release/signet`) on a loopback port, with
//! its embedded SQLite store (every request durable before its response) and the PKCS#11
//! backend on a SoftHSM2 token made in a temporary directory.
//!
//! ```text
//! cargo run --release -p signet-server --example service_load -- [SECONDS_PER_RUN] [OUT.md] [REPEATS]
//! ```
//!
//! Each row alternates the raw loop and the service (raw, service, service, raw; half of
//! SECONDS_PER_RUN each) so that a drift of the machine's speed weighs on both alike. The
//! whole measurement (a fresh service each time) runs REPEATS times (default 1); the table
//! shows each row's median and the range of its service / raw ratio.
//!
//! `SIGNET_BENCH_ONLY=ECDSAP256|RSA4096` and `SIGNET_BENCH_CLIENTS=N` narrow the run, and
//! `SIGNET_BENCH_PERF_CTL=FIFO` drives `perf record --control` around the service's slices,
//! for profiling.
//!
//! SoftHSM2 reads `SOFTHSM2_CONF` when the module loads, so the example re-runs itself with
//! it set (setting the variable in-process would need `unsafe`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use signet_keys::{HashAlgorithm, KeyBackend, KeyId, KeyType, Pin, Pkcs11Backend, Pkcs11Config};

use signet_testkit::softhsm::MODULE;
const LABEL: &str = "signet-bench";
const PIN: &str = "bench-pin-2291";
const CHILD: &str = "SIGNET_BENCH_CHILD";
const CLIENTS: [usize; 3] = [1, 16, 64];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: f64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let out = args.get(2).cloned();
    if std::env::var_os(CHILD).is_none() {
        let dir = tempfile::tempdir().unwrap();
        let conf = signet_testkit::softhsm::Token::init(dir.path(), LABEL, PIN).conf;
        let status = Command::new(std::env::current_exe().unwrap())
            .args(&args[1..])
            .env("SOFTHSM2_CONF", &conf)
            .env(CHILD, dir.path())
            .status()
            .unwrap();
        // `exit` runs no destructors: remove the token and the service's data first.
        let code = status.code().unwrap_or(1);
        drop(dir);
        std::process::exit(code);
    }
    let dir = PathBuf::from(std::env::var_os(CHILD).unwrap());
    let repeats: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1).max(1);
    let runs: Vec<Vec<Row>> = (0..repeats)
        .map(|r| measure(&dir, &dir.join(format!("data-{r}")), seconds))
        .collect();
    let report = report(&runs, seconds);
    print!("{report}");
    if let Some(out) = out {
        std::fs::write(out, report).unwrap();
    }
}

/// Signatures per second with `threads` threads signing with the key `id` for `seconds`.
fn raw_rate(backend: &Arc<Pkcs11Backend>, id: &KeyId, threads: usize, seconds: f64) -> f64 {
    let digest = vec![7u8; 32];
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (backend, id, digest, stop) =
                (backend.clone(), id.clone(), digest.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    backend
                        .sign_digest(&id, &digest, HashAlgorithm::Sha256)
                        .unwrap();
                    n += 1;
                }
                n
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(seconds));
    stop.store(true, Ordering::Relaxed);
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    total as f64 / start.elapsed().as_secs_f64()
}

/// The part of a signing request's answer the load generator checks.
#[derive(serde::Deserialize)]
struct Answer {
    state: u32,
}

/// One load slice: every request's latency, and the slice's wall time.
struct Slice {
    latencies: Vec<Duration>,
    elapsed: f64,
}

/// The outcome of a load (its slices combined).
struct Load {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
}

/// `clients` concurrent clients, each sending auto-approved requests back to back for
/// `seconds` on its own keep-alive connection; every response must be 202 with state Ready
/// (16).
///
/// The load generator shares the cores with the service, so each client speaks HTTP/1.1
/// with hyper directly (no pool, no URL parsing per request), builds each body with one
/// `format!` and reads only the answer's state.
async fn load(
    addr: std::net::SocketAddr,
    token: &str,
    target: (&str, &str),
    clients: usize,
    seconds: f64,
) -> Slice {
    use http_body_util::BodyExt as _;
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let start = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let auth = format!("Bearer {token}");
            let (product, op) = (target.0.to_owned(), target.1.to_owned());
            tokio::spawn(async move {
                let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
                stream.set_nodelay(true).unwrap();
                let (mut sender, conn) =
                    hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                        .await
                        .unwrap();
                tokio::spawn(conn);
                let mut latencies = Vec::new();
                let mut i = 0u64;
                while Instant::now() < deadline {
                    i += 1;
                    let data = format!("client {c} request {i}");
                    let digest =
                        aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, data.as_bytes());
                    let body = format!(
                        r#"{{"name":"bench","description":"load","productId":"{product}","idProductOperation":"{op}","digest":"{}","hashAlgorithm":"SHA256"}}"#,
                        STANDARD.encode(digest.as_ref())
                    );
                    let request = hyper::Request::post("/acme/api/v1/imagesignings")
                        .header("host", "127.0.0.1")
                        .header("authorization", &auth)
                        .header("content-type", "application/json")
                        .body(http_body_util::Full::new(hyper::body::Bytes::from(body)))
                        .unwrap();
                    let t = Instant::now();
                    let resp = sender.send_request(request).await.unwrap();
                    let status = resp.status();
                    let got = resp.into_body().collect().await.unwrap().to_bytes();
                    latencies.push(t.elapsed());
                    let answer: Answer =
                        serde_json::from_slice(&got).unwrap_or(Answer { state: 0 });
                    assert!(
                        status.as_u16() == 202 && answer.state == 16,
                        "{status}: {}",
                        String::from_utf8_lossy(&got)
                    );
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    Slice {
        latencies,
        elapsed: start.elapsed().as_secs_f64(),
    }
}

/// Several load slices as one outcome: requests over their summed time, percentiles over
/// all their latencies.
fn combine(slices: Vec<Slice>) -> Load {
    let elapsed: f64 = slices.iter().map(|s| s.elapsed).sum();
    let mut all: Vec<Duration> = slices.into_iter().flat_map(|s| s.latencies).collect();
    all.sort();
    let pct = |p: f64| {
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i].as_secs_f64() * 1000.0
    };
    Load {
        rate: all.len() as f64 / elapsed,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

/// One table row: key type, clients, the load's outcome, the raw rate it is compared with.
type Row = (&'static str, usize, Load, f64);

/// A fresh service (data in `data`) under each load, and the raw rate measured in
/// alternation with it.
fn measure(dir: &Path, data: &Path, seconds: f64) -> Vec<Row> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let backend = Arc::new(
        Pkcs11Backend::open(Pkcs11Config {
            module: MODULE.into(),
            token_label: LABEL.to_owned(),
            pin: Pin::new(PIN),
        })
        .unwrap(),
    );
    // `SIGNET_BENCH_ONLY=ECDSAP256` (or RSA4096) runs one key type, for profiling.
    let only = std::env::var("SIGNET_BENCH_ONLY").ok();
    let raw_keys: Vec<(KeyType, KeyId)> = [KeyType::EcdsaP256, KeyType::Rsa4096]
        .into_iter()
        .filter(|k| only.as_deref().is_none_or(|o| o == k.as_str()))
        .map(|k| {
            (
                k,
                backend.generate(&format!("raw-{}", k.as_str()), k).unwrap(),
            )
        })
        .collect();

    let bin = std::env::var("SIGNET_BIN").unwrap_or_else(|_| "target/release/signet".to_owned());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let pin_file = dir.join("pin");
    std::fs::write(&pin_file, PIN).unwrap();
    let mut server = Command::new(&bin)
        .args(["server", "--data-dir"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("SIGNET_PKCS11_MODULE", MODULE)
        .env("SIGNET_PKCS11_TOKEN_LABEL", LABEL)
        .env("SIGNET_PKCS11_PIN_FILE", &pin_file)
        .env("SIGNET_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let rows = rt.block_on(async {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(128)
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}/acme/api/v1");
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        for _ in 0..200 {
            if http
                .get(format!("http://127.0.0.1:{port}/readyz"))
                .send()
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let issuer = signet_auth::LocalIssuer::open_or_create(data).unwrap();
        let tok = |user: &str, groups: &[&str]| {
            let groups: Vec<String> = groups.iter().map(|g| (*g).to_owned()).collect();
            issuer
                .issue("acme", user, &groups, Duration::from_secs(3600), SystemTime::now())
                .unwrap()
        };
        let (admin, approver, fast) = (
            tok("ada", &["admins"]),
            tok("pat", &["product-approvers"]),
            tok("fay", &["writers", "fast"]),
        );
        let mut rows = Vec::new();
        for (key_type, raw_id) in &raw_keys {
            let product = json!({"name": format!("bench-{}", key_type.as_str()), "description": "bench",
                "productType": "Production", "enabled": true, "caInfo": [], "rndKeys": [],
                "productOperations": [{"name": "sign", "description": "bench", "operationType": "DigestSigning",
                    "token": {"name": "k", "description": "bench", "keyType": key_type.as_str()},
                    "approvalRule": {"name": "r", "description": "bench", "allowedGroups": ["writers"],
                        "approvalGroups": ["approvers"], "blanketGroups": ["fast"]}}]});
            let created: Value = http
                .post(format!("{base}/products"))
                .bearer_auth(&admin)
                .json(&product)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = created["id"].as_str().unwrap().to_owned();
            let op = created["productOperations"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned();
            let status = http
                .post(format!("{base}/products/approvals"))
                .bearer_auth(&approver)
                .json(&json!({"requestId": id, "decision": "APPROVE"}))
                .send()
                .await
                .unwrap()
                .status();
            assert_eq!(status.as_u16(), 204);
            // Warm up connections and sessions.
            load(addr, &fast, (&id, &op), 4, 0.5).await;
            // The raw loop's threads for many clients: the better of one per core and two per
            // core in a first measurement (SoftHSM2's ECDSA sometimes scales worse with
            // exactly one per core), so the service is compared with SoftHSM2 at its best.
            let threads = if raw_rate(&backend, raw_id, cores, seconds / 2.0)
                >= raw_rate(&backend, raw_id, 2 * cores, seconds / 2.0)
            {
                cores
            } else {
                2 * cores
            };
            // `SIGNET_BENCH_CLIENTS=64` runs one client count, for profiling.
            let only_clients: Option<usize> = std::env::var("SIGNET_BENCH_CLIENTS")
                .ok()
                .and_then(|c| c.parse().ok());
            for clients in CLIENTS {
                if only_clients.is_some_and(|c| c != clients) {
                    continue;
                }
                let raw_threads = if clients == 1 { 1 } else { threads };
                // Raw, service, service, raw (half the time each): this VM's speed drifts
                // by several percent within minutes, and a drift that is linear over the
                // cell weighs on both sides alike.
                let half = seconds / 2.0;
                let (mut slices, mut raw_sum) = (Vec::new(), 0.0);
                for raw_first in [true, false] {
                    if raw_first {
                        raw_sum += raw_rate(&backend, raw_id, raw_threads, half);
                    }
                    perf_ctl("enable");
                    slices.push(load(addr, &fast, (&id, &op), clients, half).await);
                    perf_ctl("disable");
                    if !raw_first {
                        raw_sum += raw_rate(&backend, raw_id, raw_threads, half);
                    }
                }
                rows.push((key_type.as_str(), clients, combine(slices), raw_sum / 2.0));
            }
        }
        rows
    });
    let _ = server.kill();
    let _ = server.wait();
    rows
}

/// The median of `values` (sorted in place; the mean of the middle two for an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[mid - 1] + values[mid]) / 2.0
    } else {
        values[mid]
    }
}

/// The table: per row the median of each run's numbers, and the range of the ratio.
fn report(runs: &[Vec<Row>], seconds: f64) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut md = String::new();
    md.push_str(&format!(
        "| key | clients | requests/s | p50 (ms) | p99 (ms) | raw SoftHSM2 signatures/s | service / raw | range of {} runs |\n",
        runs.len()
    ));
    md.push_str("|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (i, (key, clients, _, _)) in runs[0].iter().enumerate() {
        let column =
            |f: &dyn Fn(&Row) -> f64| -> Vec<f64> { runs.iter().map(|r| f(&r[i])).collect() };
        let mut ratios = column(&|r| r.2.rate / r.3);
        let (lo, hi) = (
            ratios.iter().copied().fold(f64::INFINITY, f64::min),
            ratios.iter().copied().fold(0.0, f64::max),
        );
        md.push_str(&format!(
            "| {key} | {clients} | {:.0} | {:.1} | {:.1} | {:.0} | {:.2} | {lo:.2}–{hi:.2} |\n",
            median(&mut column(&|r| r.2.rate)),
            median(&mut column(&|r| r.2.p50_ms)),
            median(&mut column(&|r| r.2.p99_ms)),
            median(&mut column(&|r| r.3)),
            median(&mut ratios),
        ));
    }
    md.push_str(&format!(
        "\nRaw rates: C_Sign of SHA-256 digests on a found key handle through the same PKCS#11 \
         backend (session pool, handle cache) in the load generator's process, while the service \
         is idle, with one thread (compared with 1 client), and with the better of {cores} and {} \
         threads in a first measurement (compared with 16 and 64 clients). Each row alternates \
         raw, service, service, raw for {:.1} s each, so a drift of the machine's speed weighs on \
         both sides alike.\n",
        2 * cores,
        seconds / 2.0
    ));
    md
}

/// With `SIGNET_BENCH_PERF_CTL=FIFO`, writes `enable`/`disable` to a `perf record -D -1
/// --control fifo:FIFO` around each service slice, so that a profile (or any reader of the
/// FIFO) covers the service under load and not the raw loop. Profiling only.
fn perf_ctl(what: &str) {
    if let Ok(p) = std::env::var("SIGNET_BENCH_PERF_CTL") {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
        writeln!(f, "{what}").unwrap();
        f.flush().unwrap();
    }
}

//! Prometheus metrics in the text exposition format: HTTP requests by method, route and
//! status; request latency as a histogram; signatures made and failed. A handful of atomic
//! counters does not warrant a metrics framework dependency.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Latency bucket bounds in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

/// The service's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_micros: AtomicU64,
    signatures: AtomicU64,
    signature_failures: AtomicU64,
}

impl Metrics {
    /// Counts one HTTP request.
    pub fn observe_http(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        if let Ok(mut map) = self.requests.lock() {
            *map.entry((method.to_owned(), route.to_owned(), status))
                .or_insert(0) += 1;
        }
        let secs = elapsed.as_secs_f64();
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Counts a signature (or a failed attempt).
    pub fn observe_signature(&self, ok: bool) {
        if ok {
            self.signatures.fetch_add(1, Ordering::Relaxed);
        } else {
            self.signature_failures.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP signet_http_requests_total HTTP requests served.\n");
        out.push_str("# TYPE signet_http_requests_total counter\n");
        if let Ok(map) = self.requests.lock() {
            for ((method, route, status), n) in map.iter() {
                let _ = writeln!(
                    out,
                    "signet_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    route.replace('\\', "\\\\").replace('"', "\\\"")
                );
            }
        }
        out.push_str("# HELP signet_http_request_duration_seconds HTTP request latency.\n");
        out.push_str("# TYPE signet_http_request_duration_seconds histogram\n");
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                out,
                "signet_http_request_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "signet_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "signet_http_request_duration_seconds_sum {}",
            self.latency_micros.load(Ordering::Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "signet_http_request_duration_seconds_count {count}");
        out.push_str("# HELP signet_signatures_total Signatures made by the key backend.\n");
        out.push_str("# TYPE signet_signatures_total counter\n");
        let _ = writeln!(
            out,
            "signet_signatures_total {}",
            self.signatures.load(Ordering::Relaxed)
        );
        out.push_str("# HELP signet_signature_failures_total Signing attempts that failed.\n");
        out.push_str("# TYPE signet_signature_failures_total counter\n");
        let _ = writeln!(
            out,
            "signet_signature_failures_total {}",
            self.signature_failures.load(Ordering::Relaxed)
        );
        out
    }
}

//! [`CountingProxy`]: a loopback TCP proxy that counts the HTTP requests flowing
//! through it (so tests and benchmarks can count requests per operation), and that can
//! answer 500 in the registry's place to test clients' retries.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::http::RequestCounter;

#[derive(Default)]
struct Shared {
    /// Request lines (`"GET /v2/ HTTP/1.1"`) in arrival order.
    requests: Mutex<Vec<String>>,
    /// Open sockets, shut down on drop.
    sockets: Mutex<Vec<TcpStream>>,
    connections: std::sync::atomic::AtomicUsize,
    /// Connections still to be failed, and the text their first request line contains.
    failures: Mutex<(usize, String)>,
}

/// What a registry answers when it hits an internal error.
const INTERNAL_ERROR: &[u8] = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: 57\r\nConnection: close\r\n\r\n{\"errors\":[{\"code\":\"UNKNOWN\",\"message\":\"unknown error\"}]}";

/// A running proxy `127.0.0.1:PORT` → `upstream`. Stops on drop (closing open
/// connections).
pub struct CountingProxy {
    addr: SocketAddr,
    upstream: String,
    shared: Arc<Shared>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for CountingProxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountingProxy")
            .field("addr", &self.addr)
            .field("upstream", &self.upstream)
            .field("requests", &self.request_count())
            .finish()
    }
}

impl CountingProxy {
    /// Listens on a free loopback port and forwards every connection to
    /// `upstream_addr` (`"127.0.0.1:PORT"`).
    pub fn start(upstream_addr: &str) -> CountingProxy {
        let listener =
            TcpListener::bind("127.0.0.1:0").expect("testkit: binding the counting proxy port");
        let addr = listener.local_addr().expect("testkit: proxy address");
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let upstream = upstream_addr.to_string();
        let thread = {
            let (shared, stop, upstream) =
                (Arc::clone(&shared), Arc::clone(&stop), upstream.clone());
            std::thread::Builder::new()
                .name(format!("testkit-proxy-{}", addr.port()))
                .spawn(move || accept_loop(listener, &upstream, &shared, &stop))
                .expect("testkit: spawning the proxy thread")
        };
        CountingProxy {
            addr,
            upstream,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// `"127.0.0.1:PORT"` of the proxy (use it in place of the upstream address).
    pub fn addr(&self) -> String {
        self.addr.to_string()
    }

    /// `"http://127.0.0.1:PORT"`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The upstream address.
    pub fn upstream(&self) -> &str {
        &self.upstream
    }

    /// HTTP requests seen so far (a request counts once its head has passed).
    pub fn request_count(&self) -> usize {
        self.lock_requests().len()
    }

    /// Request lines seen so far, e.g. `"HEAD /v2/repo/manifests/tag HTTP/1.1"`.
    pub fn requests(&self) -> Vec<String> {
        self.lock_requests().clone()
    }

    /// TCP connections accepted so far.
    pub fn connection_count(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Answers 500 (`UNKNOWN: unknown error`, as docker-registry does) in place of the
    /// upstream to the next `count` connections whose first request line contains
    /// `containing` (e.g. `"GET /v2/app/manifests/"`), then closes them.
    pub fn fail_connections(&self, count: usize, containing: &str) {
        *self.shared.failures.lock().expect("testkit: proxy lock") =
            (count, containing.to_string());
    }

    /// Forgets the requests counted so far.
    pub fn reset(&self) {
        self.lock_requests().clear();
    }

    fn lock_requests(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        self.shared.requests.lock().expect("testkit: proxy lock")
    }
}

impl Drop for CountingProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        for s in self
            .shared
            .sockets
            .lock()
            .expect("testkit: proxy lock")
            .drain(..)
        {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

fn accept_loop(listener: TcpListener, upstream: &str, shared: &Arc<Shared>, stop: &AtomicBool) {
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(client) = conn else { continue };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        if fails(&client, shared) {
            answer_internal_error(client);
            continue;
        }
        let Ok(server) = TcpStream::connect(upstream) else {
            let _ = client.shutdown(Shutdown::Both);
            continue;
        };
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        let clones = (client.try_clone(), server.try_clone());
        let (Ok(client2), Ok(server2)) = clones else {
            continue;
        };
        {
            let mut socks = shared.sockets.lock().expect("testkit: proxy lock");
            socks.retain(|s| s.peer_addr().is_ok());
            if let (Ok(a), Ok(b)) = (client.try_clone(), server.try_clone()) {
                socks.push(a);
                socks.push(b);
            }
        }
        let counting = Arc::clone(shared);
        let _ = std::thread::Builder::new()
            .name("testkit-proxy-up".into())
            .spawn(move || pump(client, server, Some(&counting)));
        let _ = std::thread::Builder::new()
            .name("testkit-proxy-down".into())
            .spawn(move || pump(server2, client2, None));
    }
}

/// Whether this connection is one to fail: peeks (without consuming) at its first request
/// line and counts it against [`CountingProxy::fail_connections`].
fn fails(client: &TcpStream, shared: &Shared) -> bool {
    let mut failures = shared.failures.lock().expect("testkit: proxy lock");
    if failures.0 == 0 {
        return false;
    }
    let _ = client.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = [0u8; 1024];
    let mut line = String::new();
    for _ in 0..100 {
        let Ok(n) = client.peek(&mut head) else { break };
        let seen = String::from_utf8_lossy(&head[..n]);
        if let Some(end) = seen.find("\r\n") {
            line = seen[..end].to_string();
            break;
        }
        if n == head.len() || n == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let _ = client.set_read_timeout(None);
    if !line.contains(failures.1.as_str()) {
        return false;
    }
    failures.0 -= 1;
    shared
        .requests
        .lock()
        .expect("testkit: proxy lock")
        .push(line);
    true
}

/// Reads the request head (so that closing does not reset the connection under the
/// answer), answers 500 and closes.
fn answer_internal_error(mut client: TcpStream) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let _ = client.write_all(INTERNAL_ERROR);
    let _ = client.shutdown(Shutdown::Write);
    // Drain what the client still sends (a body) until it closes.
    while matches!(client.read(&mut buf), Ok(n) if n > 0) {}
}

/// Copies `from` → `to` until EOF, counting requests when `count` is given;
/// then half-closes `to` so the peer sees EOF too.
fn pump(mut from: TcpStream, mut to: TcpStream, count: Option<&Shared>) {
    let mut counter = RequestCounter::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(shared) = count {
            let lines = counter.feed(&buf[..n]);
            if !lines.is_empty() {
                shared
                    .requests
                    .lock()
                    .expect("testkit: proxy lock")
                    .extend(lines);
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
    let _ = from.shutdown(Shutdown::Read);
}

//! A running `signet server` for client tests: a child process on a loopback port with its
//! own data directory, tokens from its local issuer, and `signet remote` runs against it.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::Env;

/// The organisation every test uses.
pub const ORG: &str = "acme";

/// A running `signet server`: a child process with a cleared environment (PATH, HOME and
/// what the test passes), its JSON log in a file.
pub struct Server {
    child: Child,
    /// The scratch directory of [`Server::start`] (kept alive with the server).
    _scratch: Option<tempfile::TempDir>,
    data_dir: PathBuf,
    log: PathBuf,
    pub port: u16,
}

impl Server {
    /// Starts the service on embedded defaults in a fresh data directory and waits until
    /// `/readyz` answers 200.
    pub fn start() -> Server {
        let scratch = tempfile::tempdir().unwrap();
        let data_dir = scratch.path().join("data");
        let log = scratch.path().join("server.log");
        Server::spawn(data_dir, log, Some(scratch), &[])
    }

    /// Starts the service on `data_dir` (kept by the caller, so a test can restart the
    /// service on it or run two on one database) with `envs` added to its environment.
    pub fn start_in(data_dir: &Path, envs: &[(&str, &str)]) -> Server {
        std::fs::create_dir_all(data_dir).unwrap();
        let log = data_dir.join(format!("server-{}.log", signet_testkit::free_port()));
        Server::spawn(data_dir.to_owned(), log, None, envs)
    }

    fn spawn(
        data_dir: PathBuf,
        log: PathBuf,
        scratch: Option<tempfile::TempDir>,
        envs: &[(&str, &str)],
    ) -> Server {
        let port = signet_testkit::free_port();
        let home = scratch
            .as_ref()
            .map_or_else(|| data_dir.clone(), |s| s.path().to_owned());
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_signet"));
        cmd.args(["server", "--data-dir"])
            .arg(&data_dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &home)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let mut server = Server {
            child,
            _scratch: scratch,
            data_dir,
            log,
            port,
        };
        server.wait_ready();
        server
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, once the process has exited.
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }

    /// Stops the process with SIGKILL (no shutdown path runs).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The service's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "signet server exited ({status}) before serving:\n{}",
                    self.log()
                );
            }
            if http_status(self.port, "/readyz") == Some(200) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "signet server not ready after 60s:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The API URL of [`ORG`].
    pub fn api(&self) -> String {
        format!("http://127.0.0.1:{}/{ORG}/api/v1", self.port)
    }

    /// A bearer token from the local issuer.
    pub fn token(&self, user: &str, groups: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_signet"))
            .args(["server", "token", "--data-dir"])
            .arg(&self.data_dir)
            .args(["--org", ORG, "--user", user, "--groups", &groups.join(",")])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.data_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "signet server token failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let token = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert!(!token.is_empty());
        token
    }

    /// `signet remote -c -t TOKEN -a API ARGS…` in `env`.
    pub fn remote(&self, env: &Env, token: &str, args: &[&str]) -> Output {
        let api = self.api();
        let mut all = vec!["remote", "-c", "-t", token, "-a", &api];
        all.extend_from_slice(args);
        env.run(&all)
    }

    /// The same, asserting success; stdout parsed as JSON.
    pub fn remote_json(&self, env: &Env, token: &str, args: &[&str]) -> Value {
        let out = self.remote(env, token, args);
        assert!(
            out.status.success(),
            "signet remote {args:?} failed ({:?}):\nstdout: {}\nstderr: {}\nserver log:\n{}",
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// The status of a plain HTTP/1.0 GET, or None when nothing answers.
pub fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf);
    text.split_whitespace().nth(1)?.parse().ok()
}

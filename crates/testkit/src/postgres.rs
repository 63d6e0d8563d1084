//! [`TestPostgres`]: a real PostgreSQL server for tests.
//!
//! If `SIGNET_TEST_POSTGRES` holds an admin URL (`postgres://postgres@127.0.0.1:PORT/postgres`,
//! as `scripts/test` exports for a whole run), that server is used. Otherwise
//! [`TestPostgres::shared`] starts a private throwaway cluster for this process (Debian's
//! `postgresql` binaries from `/usr/lib/postgresql/<highest>/bin`; `initdb` as the `postgres`
//! user when running as root; loopback only; fsync off), which a watchdog process stops and
//! deletes as soon as this process exits, however it exits. [`TestPostgres::start`] starts an
//! owned cluster stopped on drop. Tests isolate themselves with
//! [`TestPostgres::fresh_database`].

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Environment variable naming the admin URL of a running server to use.
pub const POSTGRES_URL_ENV: &str = "SIGNET_TEST_POSTGRES";

/// How many ports to try when the server fails to start.
const START_ATTEMPTS: usize = 4;

/// The directory of the newest installed PostgreSQL's binaries
/// (`/usr/lib/postgresql/<highest version>/bin`), if any.
pub fn postgres_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Whether tests can get a PostgreSQL server (the env URL is set or binaries are installed).
pub fn postgres_available() -> bool {
    std::env::var_os(POSTGRES_URL_ENV).is_some() || postgres_bin_dir().is_some()
}

/// A PostgreSQL server reachable with an admin URL (trust authentication, user `postgres`).
#[derive(Debug)]
pub struct TestPostgres {
    admin_url: String,
    cluster: Option<Cluster>,
}

#[derive(Debug)]
struct Cluster {
    dir: PathBuf,
    watchdog: Option<Child>,
}

impl TestPostgres {
    /// The server of this process: `$SIGNET_TEST_POSTGRES`, else a private cluster started on
    /// first use and removed when the process exits. Panics if neither is possible.
    pub fn shared() -> &'static TestPostgres {
        static SHARED: OnceLock<TestPostgres> = OnceLock::new();
        SHARED.get_or_init(|| match std::env::var(POSTGRES_URL_ENV) {
            Ok(url) if !url.is_empty() => TestPostgres {
                admin_url: url,
                cluster: None,
            },
            _ => TestPostgres::start(),
        })
    }

    /// Starts a private cluster (stopped and deleted on drop, or when this process exits).
    pub fn start() -> TestPostgres {
        let bin = postgres_bin_dir().expect(
            "testkit: PostgreSQL is not installed (/usr/lib/postgresql/*/bin); run scripts/install-deps",
        );
        let as_root = is_root();
        let dir = tempfile::Builder::new()
            .prefix("signet-test-pg-")
            .tempdir()
            .expect("testkit: cannot create a temporary directory")
            .keep();
        if as_root {
            run(
                Command::new("chown").arg("postgres:postgres").arg(&dir),
                "chown",
            );
        }
        let data = dir.join("data");
        run(
            pg_command(&bin.join("initdb"), as_root)
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                    "--no-sync",
                ]),
            "initdb",
        );
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let port = crate::free_port();
            let options = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off \
                 -c full_page_writes=off -c max_connections=300",
                dir.display()
            );
            let out = pg_command(&bin.join("pg_ctl"), as_root)
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(dir.join("server.log"))
                .args(["-w", "-t", "30", "-o", &options, "start"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .output()
                .expect("testkit: cannot run pg_ctl");
            if out.status.success() {
                let watchdog = spawn_watchdog(&dir);
                return TestPostgres {
                    admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
                    cluster: Some(Cluster { dir, watchdog }),
                };
            }
            last_error = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stderr),
                std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
            );
        }
        stop_cluster(&dir);
        panic!("testkit: PostgreSQL did not start: {last_error}");
    }

    /// The admin URL (`postgres://postgres@127.0.0.1:PORT/postgres`).
    pub fn admin_url(&self) -> &str {
        &self.admin_url
    }

    /// Creates a new, uniquely named, empty database and returns its URL.
    pub fn fresh_database(&self) -> String {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "signet_test_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            fastrand::u32(..)
        );
        let psql = postgres_bin_dir()
            .map(|b| b.join("psql"))
            .filter(|p| p.is_file())
            .unwrap_or_else(|| PathBuf::from("psql"));
        let out = Command::new(psql)
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &self.admin_url,
                "-c",
            ])
            .arg(format!("CREATE DATABASE \"{name}\""))
            .stdin(Stdio::null())
            .output()
            .expect("testkit: cannot run psql");
        assert!(
            out.status.success(),
            "testkit: CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.database_url(&name)
    }

    /// The URL of database `name` on this server.
    pub fn database_url(&self, name: &str) -> String {
        match self.admin_url.rfind('/') {
            Some(slash) if slash > "postgres://".len() => {
                let query = self.admin_url[slash..]
                    .find('?')
                    .map(|q| &self.admin_url[slash + q..]);
                format!("{}/{name}{}", &self.admin_url[..slash], query.unwrap_or(""))
            }
            _ => format!("{}/{name}", self.admin_url),
        }
    }
}

impl Drop for TestPostgres {
    fn drop(&mut self) {
        if let Some(cluster) = &mut self.cluster {
            stop_cluster(&cluster.dir);
            if let Some(mut watchdog) = cluster.watchdog.take() {
                let _ = watchdog.kill();
                let _ = watchdog.wait();
            }
        }
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A PostgreSQL tool, run as `postgres` when we are root (the server refuses root).
fn pg_command(program: &Path, as_root: bool) -> Command {
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn run(command: &mut Command, what: &str) {
    let out = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("testkit: cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "testkit: {what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Stops the cluster in `dir` (fast shutdown, then immediate) and deletes `dir`.
fn stop_cluster(dir: &Path) {
    let pid = std::fs::read_to_string(dir.join("data/postmaster.pid"))
        .ok()
        .and_then(|s| s.lines().next().and_then(|l| l.trim().parse::<u32>().ok()));
    if let Some(pid) = pid {
        let alive = || {
            Command::new("kill")
                .args(["-0", &pid.to_string()])
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        };
        let _ = Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while alive() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if alive() {
            let _ = Command::new("kill")
                .args(["-QUIT", &pid.to_string()])
                .status();
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A detached shell that stops the cluster once this process is gone (statics are never
/// dropped, and a test may abort).
fn spawn_watchdog(dir: &Path) -> Option<Child> {
    use std::os::unix::process::CommandExt as _;
    let script = r#"
        while kill -0 "$1" 2>/dev/null; do sleep 0.2; done
        pid=$(head -n 1 "$2/data/postmaster.pid" 2>/dev/null)
        if [ -n "$pid" ]; then
            kill -INT "$pid" 2>/dev/null
            for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -QUIT "$pid" 2>/dev/null
        fi
        rm -rf "$2"
    "#;
    Command::new("sh")
        .args(["-c", script, "signet-pg-watchdog"])
        .arg(std::process::id().to_string())
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .ok()
}

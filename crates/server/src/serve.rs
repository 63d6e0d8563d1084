//! Starting the service: configuration, logging, store, key backend, token validation, the
//! expiry sweeper, and serving until SIGINT/SIGTERM (in-flight calls finish first).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use signet_auth::{Authenticator, Jwks, LocalIssuer, OidcConfig, OidcVerifier};
use signet_keys::{KeyBackend, Pin, Pkcs11Backend, Pkcs11Config, SoftwareBackend};
use signet_store::Store;

use crate::app::{App, Shared, SystemClock};
use crate::cli::RunArgs;
use crate::config::{Config, ConfigError};
use crate::metrics::Metrics;

/// Why the service did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The store.
    #[error(transparent)]
    Store(#[from] signet_store::Error),
    /// The key backend.
    #[error(transparent)]
    Keys(#[from] signet_keys::Error),
    /// Tokens.
    #[error(transparent)]
    Auth(#[from] signet_auth::Error),
    /// A bad flag value.
    #[error("{0}")]
    Usage(String),
    /// The JWKS could not be fetched or read.
    #[error("cannot load the OIDC JWKS from {source_name}: {message}")]
    Jwks {
        /// URL or file.
        source_name: String,
        /// Why.
        message: String,
    },
    /// Listening failed.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
    /// The signing threads could not be started.
    #[error("cannot start the signing threads: {0}")]
    Threads(std::io::Error),
    /// The data directory.
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIGNET_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second initialisation (tests in one process) is harmless: keep the first.
    let _ = if format == "json" {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}

/// Opens the key backend the configuration names.
pub fn open_keys(config: &Config) -> Result<Arc<dyn KeyBackend>, StartError> {
    match &config.pkcs11 {
        None => Ok(Arc::new(SoftwareBackend::open(
            config.data_dir().join("keystore"),
        )?)),
        Some(p) => {
            let pin = match (&p.pin, &p.pin_file) {
                (Some(pin), _) => pin.clone(),
                (None, Some(file)) => std::fs::read_to_string(file)
                    .map_err(|e| {
                        StartError::Usage(format!(
                            "pkcs11.pin_file {}: cannot read it: {e}",
                            file.display()
                        ))
                    })?
                    .lines()
                    .next()
                    .unwrap_or("")
                    .to_owned(),
                (None, None) => {
                    return Err(StartError::Usage(
                        "pkcs11: set pin_file (or SIGNET_PKCS11_PIN)".to_owned(),
                    ));
                }
            };
            Ok(Arc::new(Pkcs11Backend::open(Pkcs11Config {
                module: p.module.clone(),
                token_label: p.token_label.clone(),
                pin: Pin::new(pin),
            })?))
        }
    }
}

/// Loads the JWKS from its file or URL.
pub async fn load_jwks(oidc: &crate::config::OidcSection) -> Result<Jwks, StartError> {
    let (name, bytes) = if let Some(file) = &oidc.jwks_file {
        let name = file.display().to_string();
        let bytes = std::fs::read(file).map_err(|e| StartError::Jwks {
            source_name: name.clone(),
            message: e.to_string(),
        })?;
        (name, bytes)
    } else {
        let url = oidc.jwks_url.clone().unwrap_or_default();
        let fetched = async {
            let response = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()?
                .get(&url)
                .send()
                .await?
                .error_for_status()?;
            response.bytes().await
        }
        .await
        .map_err(|e| StartError::Jwks {
            source_name: url.clone(),
            message: e.to_string(),
        })?;
        (url, fetched.to_vec())
    };
    Jwks::from_json(&bytes).map_err(|e| StartError::Jwks {
        source_name: name,
        message: e.to_string(),
    })
}

/// Builds the shared state.
pub async fn build(config: Config) -> Result<Shared, StartError> {
    let data_dir = config.data_dir();
    std::fs::create_dir_all(&data_dir).map_err(|source| StartError::DataDir {
        path: data_dir.display().to_string(),
        source,
    })?;
    let store = Store::connect(&config.database_url()).await?;
    let keys = open_keys(&config)?;
    let local = if config.local_tokens {
        Some(LocalIssuer::open_or_create(&data_dir)?)
    } else {
        None
    };
    let oidc = match &config.oidc {
        Some(section) => {
            let jwks = load_jwks(section).await?;
            Some(OidcVerifier::new(
                OidcConfig {
                    issuer: section.issuer.clone(),
                    audience: section.audience.clone(),
                    groups_claim: section.groups_claim.clone(),
                    user_claim: section.user_claim.clone(),
                    org_claim: section.org_claim.clone(),
                },
                jwks,
            ))
        }
        None => None,
    };
    let auth = Authenticator::new(local.as_ref(), oidc);
    let request_expiry = config.request_expiry()?;
    let signing_timeout = config.signing_timeout()?;
    Ok(Arc::new(App {
        config,
        store,
        keys,
        auth,
        clock: Arc::new(SystemClock),
        metrics: Metrics::default(),
        request_expiry,
        signing_timeout,
        jwks_refreshed: tokio::sync::Mutex::new(None),
        token_cache: crate::token_cache::TokenCache::new(),
        key_cache: std::sync::RwLock::new(std::collections::HashMap::new()),
        product_cache: std::sync::RwLock::new(std::collections::HashMap::new()),
        signers: crate::keys::SigningPool::start(signing_threads()).map_err(StartError::Threads)?,
    }))
}

/// Signing threads: two per core (while one waits to be scheduled or for the HSM, the other
/// signs), at least 2, at most the PKCS#11 backend's idle session pool (8).
fn signing_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(2, |n| n.get() * 2)
        .clamp(2, 8)
}

/// Serves until a shutdown signal.
pub async fn serve(args: &RunArgs) -> Result<(), StartError> {
    let config = Config::load(args, |k| std::env::var(k).ok())?;
    init_logging(&config.log_format);
    let listen = config.listen.clone();
    let app = build(config).await?;
    let addr: SocketAddr = listen
        .parse()
        .map_err(|e| StartError::Usage(format!("listen {listen:?}: {e}")))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Listen {
            addr: listen.clone(),
            source,
        })?;
    let local = listener.local_addr().map_err(|source| StartError::Listen {
        addr: listen.clone(),
        source,
    })?;
    tracing::info!(address = %local, database = ?app.store.backend(), "signet server listening");
    if !local.ip().is_loopback() {
        tracing::warn!(
            address = %local,
            "serving plain HTTP beyond loopback: bearer tokens cross the network in the clear; \
             put a TLS-terminating proxy in front"
        );
    }
    run(listener, app, shutdown())
        .await
        .map_err(|source| StartError::Listen {
            addr: listen,
            source,
        })?;
    tracing::info!("signet server stopped");
    Ok(())
}

/// Serves `app` on `listener` (with the expiry sweeper) until `stop` completes; calls in
/// flight finish first.
pub async fn run(
    listener: tokio::net::TcpListener,
    app: Shared,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = tokio::spawn(sweep(app.clone()));
    let router = crate::routes::router(app);
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await;
    sweeper.abort();
    served
}

/// Expires undecided requests past their deadline and fails requests left InProcess,
/// forever.
async fn sweep(app: Shared) {
    let period = (app.request_expiry / 4)
        .min(app.signing_timeout / 2)
        .clamp(Duration::from_secs(1), Duration::from_secs(30));
    let mut tick = tokio::time::interval(period);
    loop {
        tick.tick().await;
        match crate::routes::signings::expire_due(&app).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(expired = n, "expired undecided requests"),
            Err(e) => tracing::warn!(error = %e, "expiring requests failed"),
        }
        match crate::routes::signings::fail_stalled(&app).await {
            Ok(0) => {}
            Ok(n) => tracing::warn!(failed = n, "failed requests left InProcess"),
            Err(e) => tracing::warn!(error = %e, "failing stalled requests failed"),
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing calls in flight");
}

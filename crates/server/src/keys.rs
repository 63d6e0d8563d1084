//! The service's use of the key backend: generating an operation's key and signing a
//! request's digest, off the async threads (PKCS#11 calls block).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use signet_keys::{HashAlgorithm, KeyId, KeyType, SignaturePadding};

use crate::app::App;
use crate::error::{ApiError, ApiResult};

/// An operation's key: the backend's handle and the key type.
pub type OperationKey = (KeyId, KeyType);

/// Refuses a hash the key type does not sign with (before anyone approves the request).
pub fn check_hash(key: KeyType, hash: HashAlgorithm) -> ApiResult<()> {
    if key.hashes().contains(&hash) {
        return Ok(());
    }
    let allowed: Vec<&str> = key.hashes().iter().map(|h| h.as_str()).collect();
    Err(ApiError::bad_request(format!(
        "hashAlgorithm: {} keys sign {} digests, not {}",
        key.as_str(),
        allowed.join(" or "),
        hash.as_str()
    )))
}

/// Generates a key; returns its handle and the base64 DER SubjectPublicKeyInfo.
pub async fn generate(app: &App, label: String, key_type: KeyType) -> ApiResult<(KeyId, String)> {
    let backend = app.keys.clone();
    let result = tokio::task::spawn_blocking(move || {
        let id = backend.generate(&label, key_type)?;
        let public = backend.public_key(&id)?;
        Ok::<_, signet_keys::Error>((id, STANDARD.encode(public.to_spki_der())))
    })
    .await
    .map_err(|e| ApiError::internal("key generation", &e))?;
    Ok(result?)
}

/// How a signature is made: the RSA padding, and whether an ECDSA signature is returned as
/// fixed-size `r||s` instead of DER. Each applies to its key family only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignStyle {
    /// RSA padding (ECDSA keys ignore it).
    pub padding: SignaturePadding,
    /// ECDSA `r||s` (RSA signatures have one form).
    pub raw: bool,
}

impl SignStyle {
    /// The style a request's optional parameters ask for.
    pub fn of(options: &signet_workflow::options::SigningOptions) -> SignStyle {
        SignStyle {
            padding: options.padding().into(),
            raw: options.encoding() == signet_workflow::options::SignatureEncoding::Raw,
        }
    }
}

/// A fixed pool of signing threads (the service starts two per core, at most 8).
///
/// PKCS#11 calls block, for microseconds (ECDSA in a software token) to milliseconds (RSA,
/// or any call to a network HSM), so the async workers never make them. The pool's threads
/// take jobs from one queue and go straight on to the next one: a signature never waits for
/// an async worker to be scheduled before the next can start (with tokio's blocking pool
/// and a semaphore, a 4 ms RSA-4096 slot stayed idle for about a millisecond between two
/// signatures), and no more signatures run at once than there are threads (the PKCS#11
/// backend keeps a session per concurrent signer).
///
/// The queue is a multi-consumer channel (crossbeam's): a job wakes one idle thread, and only
/// if one is asleep. With a std channel behind a mutex, while two or more threads were idle
/// a job woke two: the thread waiting in `recv` took it, and its unlock woke the next one
/// waiting for the lock only to park it in `recv` again (in a `perf sched` trace at P-256,
/// signer-to-signer wake-ups fell by about a quarter with this queue; most of the rest are
/// SoftHSM2's own locks, which its raw rate pays too).
#[derive(Debug)]
pub struct SigningPool {
    jobs: crossbeam_channel::Sender<SigningJob>,
    threads: usize,
}

/// A signature to make on the pool.
type SigningJob = Box<dyn FnOnce() + Send>;

impl SigningPool {
    /// Starts `threads` signing threads (at least 1). They end when the pool is dropped.
    pub fn start(threads: usize) -> std::io::Result<SigningPool> {
        let threads = threads.max(1);
        let (jobs, queue) = crossbeam_channel::unbounded::<SigningJob>();
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("signet-signer-{i}"))
                .spawn(move || {
                    // Ends when every sender is gone (the pool was dropped).
                    while let Ok(job) = queue.recv() {
                        // A panicking job drops its answer (the caller gets None); the
                        // thread stays.
                        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                    }
                })?;
        }
        Ok(SigningPool { jobs, threads })
    }

    /// How many signing threads run.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs `f` on a signing thread; None if the pool has stopped or `f` panicked.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .ok()?;
        rx.await.ok()
    }
}

/// Signs `digest` with the key `id` (of type `key_type`) in `style`, on the signing pool.
pub async fn sign(
    app: &App,
    id: KeyId,
    key_type: KeyType,
    digest: Vec<u8>,
    hash: HashAlgorithm,
    style: SignStyle,
) -> Result<Vec<u8>, String> {
    let backend = app.keys.clone();
    let padding = style.padding;
    let Some(result) = app
        .signers
        .run(move || backend.sign_digest_with(&id, &digest, hash, padding))
        .await
    else {
        tracing::error!("the signature failed on the signing pool (stopped, or the call panicked)");
        return Err("the signing task failed".to_owned());
    };
    let result = match result {
        Ok(der) if style.raw && !key_type.is_rsa() => signet_keys::ecdsa_der_to_raw(&der, key_type),
        other => other,
    };
    result.map_err(|e| {
        tracing::error!(error = %e, "signing failed");
        e.to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::SigningPool;

    #[tokio::test]
    async fn pool_runs_jobs_and_survives_a_panic() {
        let pool = SigningPool::start(2).expect("threads");
        assert_eq!(pool.threads(), 2);
        assert_eq!(pool.run(|| 6 * 7).await, Some(42));
        let panicked: Option<u8> = pool.run(|| panic!("a failing signature")).await;
        assert_eq!(panicked, None);
        // The threads still serve after the panic, and jobs run on them, not in place.
        for _ in 0..4 {
            let name = pool
                .run(|| std::thread::current().name().map(str::to_owned))
                .await
                .flatten();
            assert!(name.is_some_and(|n| n.starts_with("signet-signer-")));
        }
    }

    /// Two threads serve two jobs side by side: each job waits for the other to start.
    #[tokio::test]
    async fn jobs_run_side_by_side() {
        let pool = SigningPool::start(2).expect("threads");
        let (a_started, a_seen) = std::sync::mpsc::channel::<()>();
        let (b_started, b_seen) = std::sync::mpsc::channel::<()>();
        let wait = std::time::Duration::from_secs(60);
        let a = pool.run(move || {
            let _ = a_started.send(());
            b_seen.recv_timeout(wait).is_ok()
        });
        let b = pool.run(move || {
            let _ = b_started.send(());
            a_seen.recv_timeout(wait).is_ok()
        });
        assert_eq!(tokio::join!(a, b), (Some(true), Some(true)));
    }
}

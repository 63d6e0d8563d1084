//! The one error type of `signet-registry`: every way talking to a registry, reading credentials
//! or reading and writing an OCI layout directory can fail, each with a one-line message a person
//! can act on. Secrets never appear in any of them.

use std::path::PathBuf;

use signet_oci::Digest;

/// Errors from registries, credential stores and OCI layout directories.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The registry could not be reached: connection refused, DNS failure or timeout.
    #[error("cannot reach registry {registry}: {reason}")]
    Unreachable {
        /// `host[:port]` of the registry.
        registry: String,
        /// Why, e.g. `connection refused`.
        reason: String,
    },
    /// The TLS handshake failed (typically an untrusted or self-signed certificate).
    #[error(
        "TLS connection to registry {registry} failed: {reason} (use --allow-insecure-registry to skip certificate verification)"
    )]
    Tls {
        /// `host[:port]` of the registry.
        registry: String,
        /// The TLS error.
        reason: String,
    },
    /// The registry answered 401 even after the credentials (if any) were tried.
    #[error("registry {registry} denied access to {repository} (401 unauthorized): {credentials}")]
    Unauthorized {
        /// `host[:port]` of the registry.
        registry: String,
        /// The repository that was asked for.
        repository: String,
        /// Which credentials were tried and where they came from (never the secret itself).
        credentials: String,
    },
    /// The registry answered 403: the credentials are valid but lack permission.
    #[error(
        "registry {registry} forbids this operation on {repository} (403 forbidden){}",
        suffix(message)
    )]
    Forbidden {
        /// `host[:port]` of the registry.
        registry: String,
        /// The repository.
        repository: String,
        /// The registry's error message, if any.
        message: String,
    },
    /// A manifest is larger than the configured limit.
    #[error("manifest {reference} is {size} bytes, more than the limit of {limit} bytes")]
    ManifestTooLarge {
        /// What was fetched (`repo:tag`, `repo@digest` or a layout path).
        reference: String,
        /// Its size (at least; the download stops at the limit).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A blob is larger than the caller's limit.
    #[error("blob {digest} is {size} bytes, more than the limit of {limit} bytes")]
    BlobTooLarge {
        /// The blob's digest.
        digest: Digest,
        /// Its size (at least; the download stops at the limit).
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Content does not hash to the digest it was asked for by.
    #[error("content digest mismatch: expected {expected}, found {found}")]
    DigestMismatch {
        /// The digest that was asked for.
        expected: Digest,
        /// The digest of the bytes received.
        found: Digest,
    },
    /// A blob does not exist.
    #[error("blob {digest} not found in {repository}")]
    BlobNotFound {
        /// Where it was looked for.
        repository: String,
        /// The blob's digest.
        digest: Digest,
    },
    /// The registry answered with a status the operation does not expect.
    #[error(
        "registry {registry} answered {status} to {operation}{}",
        suffix(message)
    )]
    UnexpectedStatus {
        /// `host[:port]` of the registry.
        registry: String,
        /// What was being done, e.g. `GET manifest repo:tag`.
        operation: String,
        /// The HTTP status code.
        status: u16,
        /// The first 200 characters of the registry's error messages, if any.
        message: String,
    },
    /// The registry does not support an operation (e.g. DELETE answered 400 or 405).
    #[error(
        "registry {registry} does not support {operation} (status {status}); enable deletion on the registry or remove the tag by other means"
    )]
    Unsupported {
        /// `host[:port]` of the registry.
        registry: String,
        /// The operation.
        operation: String,
        /// The HTTP status code.
        status: u16,
    },
    /// A response or challenge header is missing or malformed.
    #[error("registry {registry} sent an invalid {header} header: {reason}")]
    InvalidHeader {
        /// `host[:port]` of the registry (or token service).
        registry: String,
        /// The header name.
        header: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Getting a bearer token from the registry's token service failed.
    #[error("cannot get a token for {registry} from {realm}: {reason}")]
    Token {
        /// `host[:port]` of the registry.
        registry: String,
        /// The token service URL.
        realm: String,
        /// What went wrong.
        reason: String,
    },
    /// Any other HTTP-level failure (body read error, too many redirects, ...).
    #[error("request to registry {registry} failed: {reason}")]
    Http {
        /// `host[:port]` of the registry.
        registry: String,
        /// The error, with its causes.
        reason: String,
    },
    /// An HTTP client could not be built (TLS backend initialisation, bad user agent).
    #[error("cannot set up the HTTP client: {reason}")]
    ClientSetup {
        /// Why.
        reason: String,
    },
    /// A credentials file (docker config.json, containers auth.json) is malformed.
    #[error("cannot read credentials from {}: {reason}", path.display())]
    AuthFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A docker credential helper failed.
    #[error("credential helper docker-credential-{helper} failed for {registry}: {reason}")]
    CredentialHelper {
        /// The helper's name (the part after `docker-credential-`).
        helper: String,
        /// The registry asked for.
        registry: String,
        /// What went wrong (exit status and its first line of output).
        reason: String,
    },
    /// A directory is not an OCI image layout.
    #[error("{} is not an OCI image layout: {reason}", path.display())]
    NotALayout {
        /// The directory.
        path: PathBuf,
        /// What is missing or wrong.
        reason: String,
    },
    /// A file of an OCI layout is malformed.
    #[error("OCI layout {}: {reason}", path.display())]
    LayoutCorrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file system operation failed.
    #[error("{action} {}: {source}", path.display())]
    Io {
        /// What was being done, e.g. `cannot write`.
        action: &'static str,
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The image argument names a transport signet does not support.
    #[error(
        "unknown transport {transport:?} in {input:?}: use a registry reference (host/repo:tag, optionally docker://) or oci:PATH[:TAG]"
    )]
    UnknownTransport {
        /// The transport name.
        transport: String,
        /// The whole argument.
        input: String,
    },
    /// The image argument is malformed.
    #[error("invalid image {input:?}: {reason}")]
    InvalidImage {
        /// The argument.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A reference, digest or manifest is malformed.
    #[error(transparent)]
    Oci(#[from] signet_oci::Error),
    /// A registries.d file is unreadable or invalid.
    #[error("registries.d file {}: {reason}", path.display())]
    RegistriesD {
        /// The file or directory.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Lookaside signature storage failed.
    #[error("lookaside signature storage {location}: {reason}")]
    Lookaside {
        /// The URL or path.
        location: String,
        /// What failed.
        reason: String,
    },
    /// A resource (key, policy, CA bundle) could not be fetched.
    #[error("cannot fetch {uri}: {reason}")]
    Resource {
        /// The URI as given.
        uri: String,
        /// What failed.
        reason: String,
    },
    /// A manifest to push as a referrer is not a manifest or names no `subject`.
    #[error("cannot push the referrer: {reason}")]
    InvalidReferrer {
        /// What is wrong with it.
        reason: String,
    },
    /// A referrers index (referrers API answer or referrers tag) is malformed, or could not be
    /// updated.
    #[error("referrers index {location}: {reason}")]
    ReferrersIndex {
        /// Where it is (`registry/repo:sha256-<hex>`, or the API request).
        location: String,
        /// What is wrong.
        reason: String,
    },
    /// A skopeo `dir:` image is unreadable.
    #[error("dir: image {}: {reason}", path.display())]
    DirImage {
        /// The file or directory.
        path: std::path::PathBuf,
        /// What failed.
        reason: String,
    },
}

fn suffix(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(": {message}")
    }
}

impl Error {
    /// docker-registry refuses a manifest whose blob a concurrent upload of the same bytes is
    /// rewriting (400 `MANIFEST_BLOB_UNKNOWN`), although the blob was there a moment before:
    /// concurrent writers of one tag upload the same payload or config blobs. Worth a retry.
    pub fn is_blob_in_flux(&self) -> bool {
        matches!(self, Error::UnexpectedStatus { status: 400, message, .. }
            if message.contains("MANIFEST_BLOB_UNKNOWN"))
    }
}

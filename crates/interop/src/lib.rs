//! Byte-compatibility checks of signet against an independent cosign implementation.
//!
//! This crate wraps [sigstore-rs](https://github.com/sigstore/sigstore-rs) (the `sigstore`
//! crate, 0.15, features `cosign` + `rustls-tls`, no OpenSSL) so that the interop tests and the
//! benchmark script can sign and verify container images the way *another* cosign
//! implementation does, against a real registry:
//!
//! * [`sigstore_verify`] — resolve an image, fetch its `sha256-<hex>.sig` signature layers and
//!   verify them with a public key (sigstore-rs `PublicKeyVerifier`).
//! * [`sigstore_sign`] — sign an image with a cosign-format encrypted private key and push the
//!   signature to `sha256-<hex>.sig` (sigstore-rs `SignatureLayer` + `push_signature`).
//! * [`sigstore_generate_key_pair`] / [`sigstore_public_key`] — make and read cosign key files
//!   with sigstore-rs's own key code.
//!
//! Registries on loopback (`127.0.0.1`, `localhost`, `[::1]`) are spoken to over plain HTTP,
//! everything else over HTTPS. Only anonymous registry access is supported.
//!
//! Every function returns errors as `String`s (the full sigstore-rs error text), because callers
//! are tests and a small CLI that only print them.

use sigstore::cosign::constraint::PrivateKeySigner;
use sigstore::cosign::verification_constraint::{PublicKeyVerifier, VerificationConstraint};
use sigstore::cosign::{Client, ClientBuilder, Constraint, CosignCapabilities, SignatureLayer};
use sigstore::crypto::SigningScheme;
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::registry::{Auth, ClientConfig, ClientProtocol, OciReference};

/// Signing schemes tried, in order, when turning a loaded key pair into a signer.
///
/// These are the schemes cosign's `sign --key` uses for file keys: ECDSA with the curve's
/// hash (P-256 + SHA-256 is what `generate-key-pair` makes), RSA PKCS#1 v1.5 + SHA-256, and
/// Ed25519.
const SIGNING_SCHEMES: [SigningScheme; 4] = [
    SigningScheme::ECDSA_P256_SHA256_ASN1,
    SigningScheme::ECDSA_P384_SHA384_ASN1,
    SigningScheme::RSA_PKCS1_SHA256(0),
    SigningScheme::ED25519,
];

/// Whether `registry` (`host[:port]`) is a loopback address that gets plain HTTP.
fn is_loopback_registry(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        // `[::1]:5000`
        rest.split(']').next().unwrap_or(rest)
    } else {
        registry.rsplit_once(':').map_or(registry, |(h, _)| h)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Parses an image reference the way sigstore-rs does.
fn parse_reference(image: &str) -> Result<OciReference, String> {
    image
        .parse::<OciReference>()
        .map_err(|e| format!("invalid image reference {image:?}: {e}"))
}

/// Builds a sigstore-rs cosign client for `image`'s registry: plain HTTP on loopback, no
/// Rekor keys and no Fulcio roots (key-based verification without a transparency log).
fn cosign_client(image: &OciReference) -> Result<Client, String> {
    let registry = image.registry().to_string();
    let protocol = if is_loopback_registry(&registry) {
        ClientProtocol::HttpsExcept(vec![registry])
    } else {
        ClientProtocol::Https
    };
    ClientBuilder::default()
        .with_oci_client_config(ClientConfig {
            protocol,
            ..Default::default()
        })
        .build()
        .map_err(|e| format!("cannot build sigstore-rs client: {e}"))
}

/// Verifies the cosign key-based signatures of `image` with sigstore-rs.
///
/// `image` is a reference such as `127.0.0.1:5000/repo:tag` or `…/repo@sha256:<hex>`;
/// `public_key_pem` is a `PUBLIC KEY` PEM (ECDSA, RSA or Ed25519; the scheme is derived from
/// the key type, as sigstore-rs's `PublicKeyVerifier::try_from` does).
///
/// The image is resolved to its manifest digest (sigstore-rs `triangulate`), the signature
/// layers stored under `sha256-<hex>.sig` are fetched (sigstore-rs `trusted_signature_layers`,
/// which also checks each layer's digest and that its payload names the resolved digest), and
/// every layer is checked against the key. Returns the payloads (the exact layer bytes, as
/// UTF-8) of every signature that verifies, in layer order; an error if there is none.
pub async fn sigstore_verify(image: &str, public_key_pem: &str) -> Result<Vec<String>, String> {
    let reference = parse_reference(image)?;
    let verifier = PublicKeyVerifier::try_from(public_key_pem.as_bytes())
        .map_err(|e| format!("cannot load public key: {e}"))?;
    let mut client = cosign_client(&reference)?;
    let layers = client
        .trusted_signature_layers(&Auth::Anonymous, &reference)
        .await
        .map_err(|e| format!("cannot fetch signatures of {image}: {e}"))?;
    if layers.is_empty() {
        return Err(format!("no signatures found for {image}"));
    }
    let mut payloads = Vec::new();
    for layer in &layers {
        let ok = verifier
            .verify(layer)
            .map_err(|e| format!("verification error on layer {}: {e}", layer.oci_digest))?;
        if ok {
            let payload = String::from_utf8(layer.raw_data.clone())
                .map_err(|e| format!("payload of layer {} is not UTF-8: {e}", layer.oci_digest))?;
            payloads.push(payload);
        }
    }
    if payloads.is_empty() {
        return Err(format!(
            "no matching signatures for {image}: none of {} signature(s) verified with the given key",
            layers.len()
        ));
    }
    Ok(payloads)
}

/// Loads a cosign encrypted private key (`ENCRYPTED SIGSTORE PRIVATE KEY` or
/// `ENCRYPTED COSIGN PRIVATE KEY`) with sigstore-rs's key code.
fn load_key_pair(private_key_pem: &str, password: &[u8]) -> Result<SigStoreKeyPair, String> {
    SigStoreKeyPair::from_encrypted_pem(private_key_pem.as_bytes(), password)
        .map_err(|e| format!("cannot load private key: {e}"))
}

/// Signs `image` with sigstore-rs, the way `cosign sign --key K --tlog-upload=false` would.
///
/// The key is a cosign encrypted private key PEM, decrypted with `password`. The image is
/// resolved to its digest, sigstore-rs builds the Simple Signing payload for it
/// (`SignatureLayer::new_unsigned`), signs it (`PrivateKeySigner`), and pushes it as the
/// single layer of the `sha256-<hex>.sig` manifest (`push_signature`).
///
/// Note that sigstore-rs's `push_signature` *replaces* the `.sig` manifest: signatures that
/// were there before are dropped (cosign appends). Its payload's `docker-reference` is the
/// reference as given (tag included), where cosign writes the bare repository name.
pub async fn sigstore_sign(
    image: &str,
    private_key_pem: &str,
    password: &[u8],
) -> Result<(), String> {
    let reference = parse_reference(image)?;
    let key_pair = load_key_pair(private_key_pem, password)?;
    let signer = SIGNING_SCHEMES
        .iter()
        .find_map(|scheme| key_pair.to_sigstore_signer(scheme).ok())
        .ok_or_else(|| format!("unsupported key type: {key_pair}"))?;

    let mut client = cosign_client(&reference)?;
    let (signature_image, digest) = client
        .triangulate(&reference, &Auth::Anonymous)
        .await
        .map_err(|e| format!("cannot resolve {image}: {e}"))?;

    let mut layer = SignatureLayer::new_unsigned(&reference, &digest)
        .map_err(|e| format!("cannot build signature layer: {e}"))?;
    let signed = PrivateKeySigner::new_with_signer(signer)
        .add_constraint(&mut layer)
        .map_err(|e| format!("cannot sign: {e}"))?;
    if !signed {
        return Err("sigstore-rs refused to sign the signature layer".to_string());
    }

    client
        .push_signature(None, &Auth::Anonymous, &signature_image, vec![layer])
        .await
        .map_err(|e| format!("cannot push signature to {signature_image}: {e}"))?;
    Ok(())
}

/// A key pair made by sigstore-rs, in cosign's file formats.
#[derive(Debug, Clone)]
pub struct SigstoreKeyPair {
    /// Encrypted private key PEM (`ENCRYPTED SIGSTORE PRIVATE KEY`), as `cosign.key`.
    pub private_key_pem: String,
    /// Public key PEM (`PUBLIC KEY`, PKIX), as `cosign.pub`, exactly as sigstore-rs writes it.
    pub public_key_pem: String,
}

/// Generates an ECDSA P-256 key pair with sigstore-rs (what `cosign generate-key-pair` makes)
/// and exports it as a cosign encrypted private key (encrypted with `password`) and a public
/// key PEM.
pub fn sigstore_generate_key_pair(password: &[u8]) -> Result<SigstoreKeyPair, String> {
    let signer = SigningScheme::ECDSA_P256_SHA256_ASN1
        .create_signer()
        .map_err(|e| format!("cannot generate key: {e}"))?;
    let key_pair = signer
        .to_sigstore_keypair()
        .map_err(|e| format!("cannot export key pair: {e}"))?;
    let private_key_pem = key_pair
        .private_key_to_encrypted_pem(password)
        .map_err(|e| format!("cannot encrypt private key: {e}"))?
        .to_string();
    let public_key_pem = key_pair
        .public_key_to_pem()
        .map_err(|e| format!("cannot export public key: {e}"))?;
    Ok(SigstoreKeyPair {
        private_key_pem,
        public_key_pem,
    })
}

/// Decrypts a cosign encrypted private key with sigstore-rs and returns its public key PEM,
/// exactly as sigstore-rs encodes it.
pub fn sigstore_public_key(private_key_pem: &str, password: &[u8]) -> Result<String, String> {
    load_key_pair(private_key_pem, password)?
        .public_key_to_pem()
        .map_err(|e| format!("cannot export public key: {e}"))
}

#[cfg(test)]
mod tests {
    use super::is_loopback_registry;

    #[test]
    fn loopback_detection() {
        assert!(is_loopback_registry("127.0.0.1:5000"));
        assert!(is_loopback_registry("127.0.0.1"));
        assert!(is_loopback_registry("localhost:5000"));
        assert!(is_loopback_registry("[::1]:5000"));
        assert!(!is_loopback_registry("ghcr.io"));
        assert!(!is_loopback_registry("registry.example:443"));
        assert!(!is_loopback_registry("10.0.0.1:5000"));
    }
}

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
//! * [`sigstore_verify_with_certificate`] — verify signatures with the key of a code-signing
//!   certificate that sigstore-rs first validates against a caller-given chain (BYO PKI,
//!   `cosign verify --certificate C --certificate-chain CHAIN`; sigstore-rs
//!   `CertificateVerifier`).
//! * [`sigstore_signature_for`] — the signed Simple Signing layer sigstore-rs makes for an
//!   image, *without* pushing it: sigstore-rs's `push_signature` writes only the
//!   `dev.cosignproject.cosign/signature` layer annotation, so a signature carrying
//!   `dev.sigstore.cosign/certificate` and `dev.sigstore.cosign/chain` has to be stored by
//!   another client (the tests use signet-testkit's).
//!
//! Registries on loopback (`127.0.0.1`, `localhost`, `[::1]`) are spoken to over plain HTTP,
//! everything else over HTTPS. Only anonymous registry access is supported.
//!
//! Every function returns errors as `String`s (the full sigstore-rs error text), because callers
//! are tests and a small CLI that only print them.

use sigstore::cosign::constraint::PrivateKeySigner;
use sigstore::cosign::verification_constraint::{
    CertificateVerifier, PublicKeyVerifier, VerificationConstraint,
};
use sigstore::cosign::{Client, ClientBuilder, Constraint, CosignCapabilities, SignatureLayer};
use sigstore::crypto::SigningScheme;
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::registry::{
    Auth, Certificate, CertificateEncoding, ClientConfig, ClientProtocol, OciReference,
};

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
    let verifier = PublicKeyVerifier::try_from(public_key_pem.as_bytes())
        .map_err(|e| format!("cannot load public key: {e}"))?;
    verified_payloads(image, &verifier, "the given key").await
}

/// Fetches the trusted signature layers of `image` with sigstore-rs and returns the payloads
/// of those `verifier` accepts; an error when there are none or none verifies.
async fn verified_payloads(
    image: &str,
    verifier: &dyn VerificationConstraint,
    what: &str,
) -> Result<Vec<String>, String> {
    let reference = parse_reference(image)?;
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
            "no matching signatures for {image}: none of {} signature(s) verified with {what}",
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
    let key_pair = load_key_pair(private_key_pem, password)?;
    let (mut client, signature_image, layer) = signed_layer(image, &key_pair).await?;

    client
        .push_signature(None, &Auth::Anonymous, &signature_image, vec![layer])
        .await
        .map_err(|e| format!("cannot push signature to {signature_image}: {e}"))?;
    Ok(())
}

/// Splits a PEM bundle into its `CERTIFICATE` blocks, in order, as sigstore-rs certificates.
fn pem_certificates(bundle: &str) -> Result<Vec<Certificate>, String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut certs = Vec::new();
    let mut rest = bundle;
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start..];
        let end = after
            .find(END)
            .ok_or_else(|| "unterminated CERTIFICATE PEM block".to_string())?
            + END.len();
        certs.push(Certificate {
            encoding: CertificateEncoding::Pem,
            data: format!("{}\n", &after[..end]).into_bytes(),
        });
        rest = &after[end..];
    }
    if certs.is_empty() {
        return Err("no CERTIFICATE PEM block in the chain".to_string());
    }
    Ok(certs)
}

/// Verifies the cosign signatures of `image` with the public key of the code-signing
/// certificate `cert_pem`, after sigstore-rs has validated that certificate against
/// `chain_pem` — what `cosign verify --certificate CERT --certificate-chain CHAIN
/// --insecure-ignore-tlog --insecure-ignore-sct` does.
///
/// * `chain_pem`: the certificates the verifier trusts (intermediates and root, PEM,
///   concatenated). sigstore-rs (`CertificateVerifier::from_pem(cert, false, Some(chain))`)
///   makes **every** one of them a trust anchor and passes no untrusted intermediates to
///   webpki, so the chain must contain the leaf's issuing intermediate: a root alone does not
///   validate a leaf issued by an intermediate (cosign's `--certificate-chain root.pem` plus the
///   signature's chain annotation has no equivalent here).
/// * `cert_pem`: the signing certificate, typically the `dev.sigstore.cosign/certificate`
///   annotation of the signature layer (sigstore-rs does not expose layer annotations and only
///   reads that one when a Rekor bundle is present, so the caller fetches it).
///
/// What sigstore-rs 0.15 checks on the certificate: keyUsage present and extended key usage
/// containing codeSigning (`verify_key_usages`; a certificate *without* an EKU is rejected,
/// unlike Go's x509 that cosign uses), a SAN extension, `notBefore` not in the future, and a
/// webpki path to one of the anchors at the current time (`notAfter`, signatures, CA bits, path
/// length, EKU codeSigning). The OIDC issuer and identity are *not* checked: the caller
/// compares them. The signature layers are then checked as in [`sigstore_verify`] (digest of
/// each layer, payload names the image digest, signature by the certificate's key); no Rekor
/// bundle is required.
///
/// Returns the payloads of the signatures that verify, in layer order; an error if the
/// certificate is rejected or none verifies.
pub async fn sigstore_verify_with_certificate(
    image: &str,
    chain_pem: &str,
    cert_pem: &str,
) -> Result<Vec<String>, String> {
    let chain = pem_certificates(chain_pem)?;
    let verifier = CertificateVerifier::from_pem(cert_pem.as_bytes(), false, Some(&chain))
        .map_err(|e| format!("certificate rejected: {e}"))?;
    verified_payloads(image, &verifier, "the certificate's key").await
}

/// A Simple Signing signature made by sigstore-rs, not yet stored anywhere.
#[derive(Debug, Clone)]
pub struct SigstoreSignature {
    /// The image's manifest digest (`sha256:<hex>`), resolved by sigstore-rs.
    pub image_digest: String,
    /// The payload bytes that were signed (the layer's content).
    pub payload: Vec<u8>,
    /// Base64 of the signature over `payload` (the `dev.cosignproject.cosign/signature`
    /// annotation).
    pub signature: String,
}

/// Resolves `image` and signs its Simple Signing payload with sigstore-rs, without pushing.
///
/// `private_key_pem` is a cosign encrypted private key (decrypted with `password`) or, when
/// `password` is `None`, an unencrypted PKCS#8 `PRIVATE KEY` PEM such as the one `openssl req
/// -noenc` writes (sigstore-rs `SigStoreKeyPair::from_pem`). The payload is the one
/// [`sigstore_sign`] would push (sigstore-rs `SignatureLayer::new_unsigned`, signed by
/// `PrivateKeySigner`).
///
/// This exists because sigstore-rs 0.15 cannot store a signature with a certificate: its
/// `push_signature` gives every layer only the `dev.cosignproject.cosign/signature`
/// annotation (the `annotations` argument goes on the manifest, not the layers), so the
/// `dev.sigstore.cosign/certificate` / `dev.sigstore.cosign/chain` layer annotations that
/// `cosign sign --cert --cert-chain` writes must be added by the caller's own push.
pub async fn sigstore_signature_for(
    image: &str,
    private_key_pem: &str,
    password: Option<&[u8]>,
) -> Result<SigstoreSignature, String> {
    let key_pair = match password {
        Some(pw) => load_key_pair(private_key_pem, pw)?,
        None => SigStoreKeyPair::from_pem(private_key_pem.as_bytes())
            .map_err(|e| format!("cannot load private key: {e}"))?,
    };
    let (_, _, layer) = signed_layer(image, &key_pair).await?;
    let Some(signature) = layer.signature.clone() else {
        return Err("sigstore-rs refused to sign the signature layer".to_string());
    };
    Ok(SigstoreSignature {
        image_digest: layer
            .simple_signing
            .critical
            .image
            .docker_manifest_digest
            .clone(),
        payload: layer.raw_data,
        signature,
    })
}

/// Resolves `image` and builds its cosign signature layer signed by `key_pair` with
/// sigstore-rs; returns the client, the `.sig` reference and the signed layer.
async fn signed_layer(
    image: &str,
    key_pair: &SigStoreKeyPair,
) -> Result<(Client, OciReference, SignatureLayer), String> {
    let reference = parse_reference(image)?;
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
    Ok((client, signature_image, layer))
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
#[allow(clippy::unwrap_used)]
mod tests {
    use super::{is_loopback_registry, pem_certificates};

    #[test]
    fn pem_bundle_splitting() {
        let a = "-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----";
        let b = "-----BEGIN CERTIFICATE-----\nQkJC\n-----END CERTIFICATE-----\n";
        let certs = pem_certificates(&format!("junk\n{a}\n{b}")).unwrap();
        assert_eq!(certs.len(), 2);
        assert_eq!(certs[0].data, format!("{a}\n").into_bytes());
        assert_eq!(certs[1].data, b.as_bytes());
        assert!(pem_certificates("nothing").is_err());
        assert!(pem_certificates("-----BEGIN CERTIFICATE-----\nQUFB\n").is_err());
    }

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

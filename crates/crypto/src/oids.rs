//! Object identifiers of the key algorithms and curves signet understands.

use der::oid::ObjectIdentifier as Oid;

/// rsaEncryption (PKCS#1).
pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
/// id-ecPublicKey.
pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
/// id-Ed25519.
pub(crate) const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
/// secp256r1 / prime256v1.
pub(crate) const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
/// secp384r1.
pub(crate) const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
/// secp521r1.
pub(crate) const P521: Oid = Oid::new_unwrap("1.3.132.0.35");

/// A human name for an OID seen in an unsupported key, for error messages.
pub(crate) fn describe(oid: &Oid) -> String {
    let name = match oid.to_string().as_str() {
        "1.3.132.0.33" => "P-224",
        "1.3.132.0.10" => "secp256k1",
        "1.2.840.10045.3.1.1" => "P-192",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.2.840.113549.1.1.10" => "RSASSA-PSS",
        "1.3.101.110" => "X25519",
        "1.3.101.111" => "X448",
        "1.3.101.113" => "Ed448",
        "1.2.840.10040.4.1" => "DSA",
        "1.2.840.10046.2.1" => "DH",
        _ => return format!("OID {oid}"),
    };
    format!("{name} (OID {oid})")
}

//! The few DER encoders the backends need: ECDSA `r||s` to `Ecdsa-Sig-Value`, PKCS#1
//! `RSAPublicKey`, EC `SubjectPublicKeyInfo` and the SHA-256 `DigestInfo` prefix.

/// `AlgorithmIdentifier` OID `id-ecPublicKey` (1.2.840.10045.2.1), DER.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// `EC_PARAMS` (a named-curve OID, DER) for P-256, P-384 and P-521.
pub(crate) const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
pub(crate) const OID_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
pub(crate) const OID_P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

/// The DER `DigestInfo` prefix for SHA-256 (RFC 8017 §9.2 note 1).
pub(crate) const SHA256_DIGEST_INFO_PREFIX: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_len(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// An unsigned big-endian integer as a DER INTEGER.
fn uint(bytes: &[u8]) -> Vec<u8> {
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let trimmed = &bytes[skip..];
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    tlv(0x02, &content)
}

/// IEEE P1363 `r||s` (what CKM_ECDSA returns) to DER `SEQUENCE { r INTEGER, s INTEGER }`.
pub(crate) fn ecdsa_p1363_to_der(raw: &[u8]) -> Option<Vec<u8>> {
    if raw.is_empty() || !raw.len().is_multiple_of(2) {
        return None;
    }
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut content = uint(r);
    content.extend(uint(s));
    Some(tlv(0x30, &content))
}

/// PKCS#1 `RSAPublicKey` from the modulus and public exponent (big-endian).
pub(crate) fn rsa_public_key(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let mut content = uint(modulus);
    content.extend(uint(exponent));
    tlv(0x30, &content)
}

/// An EC `SubjectPublicKeyInfo` from the curve OID (DER) and the uncompressed point.
pub(crate) fn ec_spki(curve_oid: &[u8], point: &[u8]) -> Vec<u8> {
    let mut alg = OID_EC_PUBLIC_KEY.to_vec();
    alg.extend_from_slice(curve_oid);
    let mut bits = vec![0u8];
    bits.extend_from_slice(point);
    let mut content = tlv(0x30, &alg);
    content.extend(tlv(0x03, &bits));
    tlv(0x30, &content)
}

/// The content of a DER OCTET STRING (how PKCS#11 stores `CKA_EC_POINT`), or `None`.
pub(crate) fn octet_string_content(der: &[u8]) -> Option<&[u8]> {
    let (&tag, rest) = der.split_first()?;
    if tag != 0x04 {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    (rest.len() == len).then_some(rest)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn integers_and_lengths() {
        assert_eq!(uint(&[0, 0, 0x7f]), vec![2, 1, 0x7f]);
        assert_eq!(uint(&[0x80]), vec![2, 2, 0, 0x80]);
        assert_eq!(uint(&[0, 0]), vec![2, 1, 0]);
        let long = tlv(0x04, &[7u8; 133]);
        assert_eq!(&long[..3], &[0x04, 0x81, 133]);
        assert_eq!(octet_string_content(&long).unwrap(), &[7u8; 133][..]);
        let short = tlv(0x04, &[1, 2, 3]);
        assert_eq!(octet_string_content(&short).unwrap(), &[1, 2, 3]);
        assert!(octet_string_content(&[0x04, 5, 1]).is_none());
    }

    #[test]
    fn p1363_to_der() {
        let der = ecdsa_p1363_to_der(&[0x80, 1, 0, 2]).unwrap();
        assert_eq!(der, vec![0x30, 8, 2, 3, 0, 0x80, 1, 2, 1, 2]);
        assert!(ecdsa_p1363_to_der(&[1, 2, 3]).is_none());
    }
}

//! The few DER encoders the backends need: ECDSA `r||s` to `Ecdsa-Sig-Value` and back, PKCS#1
//! `RSAPublicKey`, EC `SubjectPublicKeyInfo` and the SHA-2 `DigestInfo` prefixes.

use crate::{Error, HashAlgorithm, KeyType};

/// `AlgorithmIdentifier` OID `id-ecPublicKey` (1.2.840.10045.2.1), DER.
const OID_EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

/// `EC_PARAMS` (a named-curve OID, DER) for P-256, P-384 and P-521.
pub(crate) const OID_P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
pub(crate) const OID_P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
pub(crate) const OID_P521: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23];

/// The DER `DigestInfo` prefix for SHA-256 (RFC 8017 §9.2 note 1).
const SHA256_DIGEST_INFO_PREFIX: &[u8] = &[
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];
/// The DER `DigestInfo` prefix for SHA-384 (RFC 8017 §9.2 note 1).
const SHA384_DIGEST_INFO_PREFIX: &[u8] = &[
    0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02, 0x05,
    0x00, 0x04, 0x30,
];
/// The DER `DigestInfo` prefix for SHA-512 (RFC 8017 §9.2 note 1).
const SHA512_DIGEST_INFO_PREFIX: &[u8] = &[
    0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03, 0x05,
    0x00, 0x04, 0x40,
];

/// The `DigestInfo` prefix that goes before a `hash` digest in a PKCS#1 v1.5 signature.
pub(crate) fn digest_info_prefix(hash: HashAlgorithm) -> &'static [u8] {
    match hash {
        HashAlgorithm::Sha256 => SHA256_DIGEST_INFO_PREFIX,
        HashAlgorithm::Sha384 => SHA384_DIGEST_INFO_PREFIX,
        HashAlgorithm::Sha512 => SHA512_DIGEST_INFO_PREFIX,
    }
}

/// The byte length of a field element (a coordinate) of an ECDSA key's curve; `None` for RSA.
pub(crate) fn ec_field_len(key_type: KeyType) -> Option<usize> {
    match key_type {
        KeyType::EcdsaP256 => Some(32),
        KeyType::EcdsaP384 => Some(48),
        KeyType::EcdsaP521 => Some(66),
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => None,
    }
}

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

/// Reads one DER TLV with `tag` from the front of `input`: (content, rest).
fn read_tlv(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&t, rest) = input.split_first()?;
    if t != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = match first {
        0..=0x7f => (usize::from(first), rest),
        0x81 => {
            let (&len, rest) = rest.split_first()?;
            if len < 0x80 {
                return None;
            }
            (usize::from(len), rest)
        }
        _ => return None,
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// A DER INTEGER's content as an unsigned big-endian number `width` bytes wide.
fn fixed_uint(content: &[u8], width: usize) -> Option<Vec<u8>> {
    let (&first, _) = content.split_first()?;
    if first & 0x80 != 0 {
        return None;
    }
    // One leading zero is allowed only in front of a byte with the high bit set (DER).
    if first == 0 && content.len() > 1 && content[1] & 0x80 == 0 {
        return None;
    }
    let skip = content.iter().take_while(|b| **b == 0).count();
    let value = &content[skip..];
    if value.len() > width {
        return None;
    }
    let mut out = vec![0u8; width];
    out[width - value.len()..].copy_from_slice(value);
    Some(out)
}

/// An ECDSA signature in DER (`Ecdsa-Sig-Value`, what the backends return) as fixed-size
/// big-endian `r||s` (IEEE P1363; JWS and COSE use it): each half as long as a coordinate of
/// the key's curve (32, 48 or 66 bytes). Fails for RSA key types and malformed input.
pub fn ecdsa_der_to_raw(signature: &[u8], key_type: KeyType) -> Result<Vec<u8>, Error> {
    let failed = || Error::Crypto {
        operation: "encoding the signature as r||s",
        key_type,
    };
    let width = ec_field_len(key_type).ok_or_else(failed)?;
    let (sequence, rest) = read_tlv(signature, 0x30).ok_or_else(failed)?;
    if !rest.is_empty() {
        return Err(failed());
    }
    let (r, rest) = read_tlv(sequence, 0x02).ok_or_else(failed)?;
    let (s, rest) = read_tlv(rest, 0x02).ok_or_else(failed)?;
    if !rest.is_empty() {
        return Err(failed());
    }
    let mut out = fixed_uint(r, width).ok_or_else(failed)?;
    out.extend(fixed_uint(s, width).ok_or_else(failed)?);
    Ok(out)
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

    #[test]
    fn der_to_raw_round_trips_and_refuses_junk() {
        for (kt, width) in [
            (KeyType::EcdsaP256, 32),
            (KeyType::EcdsaP384, 48),
            (KeyType::EcdsaP521, 66),
        ] {
            for raw in [
                [vec![0u8; width - 1], vec![1], vec![0xff; width]].concat(),
                [vec![0x80; width], vec![0; width - 2], vec![0x7f, 1]].concat(),
            ] {
                let der = ecdsa_p1363_to_der(&raw).unwrap();
                assert_eq!(ecdsa_der_to_raw(&der, kt).unwrap(), raw, "{kt}");
                // Trailing bytes, a wrong tag and a truncated signature are refused.
                assert!(ecdsa_der_to_raw(&[der.clone(), vec![0]].concat(), kt).is_err());
                assert!(ecdsa_der_to_raw(&[&[0x31], &der[1..]].concat(), kt).is_err());
                assert!(ecdsa_der_to_raw(&der[..der.len() - 1], kt).is_err());
            }
        }
        // An integer wider than the curve's field, a negative one, and RSA.
        let wide = ecdsa_p1363_to_der(&[vec![1u8; 33], vec![1u8; 33]].concat()).unwrap();
        assert!(ecdsa_der_to_raw(&wide, KeyType::EcdsaP256).is_err());
        assert!(ecdsa_der_to_raw(&[0x30, 6, 2, 1, 0x80, 2, 1, 1], KeyType::EcdsaP256).is_err());
        let ok = ecdsa_p1363_to_der(&[1u8; 64]).unwrap();
        assert!(matches!(
            ecdsa_der_to_raw(&ok, KeyType::Rsa2048),
            Err(Error::Crypto { .. })
        ));
    }

    #[test]
    fn digest_info_prefixes_announce_the_digest_length() {
        for hash in HashAlgorithm::ALL {
            let prefix = digest_info_prefix(hash);
            // SEQUENCE length covers the rest plus the digest; the OCTET STRING's is the digest.
            assert_eq!(usize::from(prefix[1]), prefix.len() - 2 + hash.output_len());
            assert_eq!(usize::from(prefix[prefix.len() - 1]), hash.output_len());
        }
    }
}

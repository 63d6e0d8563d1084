//! Certificate bundles as "certs-only" PKCS#7 / CMS (RFC 5652): a degenerate SignedData that
//! carries certificates and no signature, what `openssl crl2pkcs7 -nocrl` writes and
//! `openssl pkcs7 -print_certs` reads (`application/pkcs7-mime; smime-type=certs-only`).
//!
//! ```text
//! ContentInfo { contentType id-signedData, content [0] EXPLICIT SignedData {
//!     version 1, digestAlgorithms {}, encapContentInfo { eContentType id-data },
//!     certificates [0] IMPLICIT { the certificates, in the given order }, signerInfos {} } }
//! ```
//!
//! The certificates are copied verbatim, in the order given (leaf first, as usual), rather than
//! sorted as DER would sort a SET OF: that order is what readers present, and what OpenSSL and
//! the hosted services write.

use const_oid::ObjectIdentifier;
use der::asn1::{OctetString, SetOfVec};
use der::{
    Decode, DecodeValue, Encode, EncodeValue, FixedTag, Header, Length, Reader, Sequence, Tag,
    Writer,
};
use spki::AlgorithmIdentifierOwned;

/// id-data (1.2.840.113549.1.7.1).
pub const OID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
/// id-signedData (1.2.840.113549.1.7.2).
pub const OID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");

/// The PEM label of a PKCS#7 bundle.
pub const PEM_LABEL: &str = "PKCS7";

/// RFC 5652 ContentInfo around a SignedData.
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
struct ContentInfo<'a> {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: SignedData<'a>,
}

/// RFC 5652 SignedData, without the CRLs (never written).
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
struct SignedData<'a> {
    version: u8,
    digest_algorithms: SetOfVec<AlgorithmIdentifierOwned>,
    encap_content_info: EncapsulatedContentInfo,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    certificates: Option<OrderedSet<'a>>,
    signer_infos: OrderedSet<'a>,
}

/// RFC 5652 EncapsulatedContentInfo.
#[derive(Debug, Clone, PartialEq, Eq, Sequence)]
struct EncapsulatedContentInfo {
    e_content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    e_content: Option<OctetString>,
}

/// A SET OF already-encoded values, kept in their order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct OrderedSet<'a>(Vec<&'a [u8]>);

impl FixedTag for OrderedSet<'_> {
    const TAG: Tag = Tag::Set;
}

impl EncodeValue for OrderedSet<'_> {
    fn value_len(&self) -> der::Result<Length> {
        self.0.iter().try_fold(Length::ZERO, |len, element| {
            len + Length::try_from(element.len())?
        })
    }

    fn encode_value(&self, writer: &mut impl Writer) -> der::Result<()> {
        self.0.iter().try_for_each(|element| writer.write(element))
    }
}

impl<'a> DecodeValue<'a> for OrderedSet<'a> {
    type Error = der::Error;

    fn decode_value<R: Reader<'a>>(reader: &mut R, _header: Header) -> der::Result<Self> {
        let mut elements = Vec::new();
        while !reader.is_finished() {
            elements.push(reader.tlv_bytes()?);
        }
        Ok(OrderedSet(elements))
    }
}

/// The DER of a certs-only PKCS#7 bundle of `certs_der` (each one DER certificate, copied as
/// given), in the given order. Fails only if the total size does not fit in a DER length.
pub fn pkcs7_certs_der(certs_der: &[Vec<u8>]) -> der::Result<Vec<u8>> {
    ContentInfo {
        content_type: OID_SIGNED_DATA,
        content: SignedData {
            version: 1,
            digest_algorithms: SetOfVec::new(),
            encap_content_info: EncapsulatedContentInfo {
                e_content_type: OID_DATA,
                e_content: None,
            },
            certificates: Some(OrderedSet(certs_der.iter().map(Vec::as_slice).collect())),
            signer_infos: OrderedSet::default(),
        },
    }
    .to_der()
}

/// A certs-only PKCS#7 bundle of `certs_der` (each one DER certificate, copied as given, e.g.
/// leaf first), as PEM with the label `PKCS7` and LF line endings. Empty only if the
/// certificates together exceed the largest DER length (4 GiB), which no chain does.
pub fn pkcs7_certs_pem(certs_der: &[Vec<u8>]) -> String {
    match pkcs7_certs_der(certs_der) {
        Ok(der) => pem::encode_config(
            &pem::Pem::new(PEM_LABEL, der),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        ),
        Err(_) => String::new(),
    }
}

/// The certificates of a certs-only PKCS#7 bundle (DER), in their order; `None` if `der` is
/// not such a bundle.
pub fn pkcs7_certs_from_der(der: &[u8]) -> Option<Vec<Vec<u8>>> {
    let info = ContentInfo::from_der(der).ok()?;
    if info.content_type != OID_SIGNED_DATA {
        return None;
    }
    Some(
        info.content
            .certificates
            .unwrap_or_default()
            .0
            .into_iter()
            .map(<[u8]>::to_vec)
            .collect(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn structure() {
        // Two fake "certificates" (any DER SEQUENCE), deliberately not in DER SET order.
        let b = vec![0x30, 0x03, 0x02, 0x01, 0x02];
        let a = vec![0x30, 0x03, 0x02, 0x01, 0x01];
        let der = pkcs7_certs_der(&[b.clone(), a.clone()]).unwrap();
        assert_eq!(
            pkcs7_certs_from_der(&der).unwrap(),
            vec![b.clone(), a.clone()]
        );
        let expected: Vec<u8> = [
            &[0x30, 0x2f][..],
            // contentType id-signedData
            &[
                0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
            ],
            // [0] EXPLICIT SignedData
            &[0xa0, 0x22, 0x30, 0x20],
            // version 1, digestAlgorithms {}
            &[0x02, 0x01, 0x01, 0x31, 0x00],
            // encapContentInfo { id-data }
            &[
                0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
            ],
            // certificates [0] IMPLICIT, in the given order
            &[0xa0, 0x0a],
            &b,
            &a,
            // signerInfos {}
            &[0x31, 0x00],
        ]
        .concat();
        assert_eq!(der, expected);

        let pem = pkcs7_certs_pem(&[b, a]);
        assert!(pem.starts_with("-----BEGIN PKCS7-----\n"), "{pem}");
        assert!(pem.ends_with("-----END PKCS7-----\n"), "{pem}");
        assert!(!pem.contains('\r'));

        // No certificates: an empty [0] set.
        let empty = pkcs7_certs_der(&[]).unwrap();
        assert_eq!(pkcs7_certs_from_der(&empty).unwrap(), Vec::<Vec<u8>>::new());
        assert!(pkcs7_certs_from_der(&[0x30, 0x00]).is_none());
    }
}

//! Untrusted-input robustness: arbitrary bytes and strings into every parser of this crate
//! must give `Ok` or `Err`, never a panic. (A stable-toolchain stand-in for fuzz targets.)

use proptest::prelude::*;
use signet_oci::{ConfigFile, Digest, ImageIndex, Manifest, Reference, media_types};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn references(s in "\\PC{0,80}") {
        let _ = s.parse::<Reference>();
        let _ = Reference::parse_repository(&s);
    }

    #[test]
    fn reference_like(s in "[a-zA-Z0-9:/@._\\-\\[\\]]{0,60}") {
        if let Ok(r) = s.parse::<Reference>() {
            // whatever parses prints as something that parses to the same
            prop_assert_eq!(r.to_string().parse::<Reference>().ok(), Some(r));
        }
    }

    #[test]
    fn digests(s in "\\PC{0,140}") {
        let _ = s.parse::<Digest>();
    }

    #[test]
    fn documents(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Manifest::from_slice(&bytes);
        let _ = ImageIndex::from_slice(&bytes);
        let _ = ConfigFile::from_slice(&bytes);
        let _ = media_types::of_manifest_bytes(&bytes);
    }

    #[test]
    fn json_shaped_documents(s in r#"\{("(schemaVersion|mediaType|config|layers|manifests|rootfs|history|digest|size)":(\d{1,3}|"[a-z0-9:]{0,70}"|\[\]|\{\}|null),?){0,6}\}"#) {
        let _ = Manifest::from_slice(s.as_bytes());
        let _ = ImageIndex::from_slice(s.as_bytes());
        let _ = ConfigFile::from_slice(s.as_bytes());
    }
}

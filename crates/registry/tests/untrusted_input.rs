//! Untrusted-input robustness: image arguments and `WWW-Authenticate` headers come from users
//! and registries; parsing must reject, never panic.

use proptest::prelude::*;
use signet_registry::ImageRef;
use signet_registry::auth::challenge;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn image_arguments(s in "\\PC{0,80}") {
        let _ = ImageRef::parse(&s);
    }

    #[test]
    fn image_argument_like(s in "(oci:|docker://|dir:)?[a-z0-9:/@._\\-]{0,60}") {
        let _ = ImageRef::parse(&s);
    }

    #[test]
    fn challenges(s in "\\PC{0,120}") {
        let _ = challenge::parse(&s);
    }

    #[test]
    fn challenge_like(s in r#"(Bearer|Basic|bearer) ?([a-z]{1,8}="[^"]{0,20}"?,?){0,4}"#) {
        let _ = challenge::parse(&s);
    }
}

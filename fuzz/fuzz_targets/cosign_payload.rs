//! Fuzz target: the cosign simple-signing payload parser (untrusted registry data).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(p) = signet_sigstore::Payload::parse(data) {
        // Whatever parses re-serialises, and that parses to the same value.
        let again = signet_sigstore::Payload::parse(&p.to_go_json());
        assert_eq!(again.ok(), Some(p));
    }
});

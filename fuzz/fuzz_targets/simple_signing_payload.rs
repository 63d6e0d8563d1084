//! Fuzz target: the "atomic container signature" payload parsers (signet-simple's strict
//! parser and the policy crate's), which see data only after a signature verified — but a
//! key holder can still sign anything.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(sig) = signet_simple::UntrustedSignature::parse_strict(data)
        && let Ok(json) = sig.to_json()
    {
        assert_eq!(signet_simple::UntrustedSignature::parse_strict(&json).ok(), Some(sig));
    }
    let _ = signet_policy::payload::parse_simple_signing_payload(data);
    let _ = signet_policy::payload::parse_sigstore_payload(data);
});

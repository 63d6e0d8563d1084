//! Fuzz target: manifests, indexes, configs and references from registries and users.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = signet_oci::Manifest::from_slice(data);
    let _ = signet_oci::ImageIndex::from_slice(data);
    let _ = signet_oci::ConfigFile::from_slice(data);
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = s.parse::<signet_oci::Reference>();
        let _ = s.parse::<signet_oci::Digest>();
    }
});

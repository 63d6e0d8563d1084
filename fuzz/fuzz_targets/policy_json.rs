//! Fuzz target: the containers-policy.json parser (policies may come from a key broker).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(policy) = signet_policy::Policy::parse(data) {
        // Scope lookup on whatever parsed must not panic either.
        if let Ok(image) = signet_policy::ImageName::docker("registry.example:5000/team/app:v1") {
            let _ = policy.requirements_for(&signet_policy::Transport::Docker, &image);
        }
    }
});

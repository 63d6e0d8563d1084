//! Measures chain validation per signature: `chain_bench LEAF.pem BUNDLE.pem N` validates the
//! leaf against the bundle (intermediates, then the trusted root) N times, parsing included,
//! and prints the mean in microseconds. Used by `scripts/bench`.

use std::time::{Instant, SystemTime};

use signet_pki::cert::Certificate;
use signet_pki::chain::verify_code_signing;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, leaf, bundle, n] = args.as_slice() else {
        return Err("usage: chain_bench LEAF.pem BUNDLE.pem N".into());
    };
    let leaf_pem = std::fs::read_to_string(leaf)?;
    let bundle_pem = std::fs::read_to_string(bundle)?;
    let n: u32 = n.parse()?;
    let now = SystemTime::now();
    let run = || -> Result<usize, Box<dyn std::error::Error>> {
        let leaf = Certificate::parse_any(leaf_pem.as_bytes())?;
        let mut chain = Certificate::parse_pem_bundle(&bundle_pem)?;
        let root = chain.pop().ok_or("empty bundle")?;
        Ok(verify_code_signing(&leaf, &chain, &[root], now)?.path.len())
    };
    let len = run()?;
    let start = Instant::now();
    for _ in 0..n {
        run()?;
    }
    let mean = start.elapsed().as_secs_f64() * 1e6 / f64::from(n);
    println!("{mean:.1} us per validation of a {len}-certificate chain");
    Ok(())
}

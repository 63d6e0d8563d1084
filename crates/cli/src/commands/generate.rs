//! `generate`: print the payload cosign would sign, byte-identical to `cosign generate`
//! (no trailing newline).

use std::io::Write;

use anyhow::Result;
use signet_sigstore::{annotations, payload};

use crate::cli::RegistryArgs;
use crate::image::Session;

/// Runs `generate`.
pub async fn run(image: &str, ann: &[String], registry: &RegistryArgs) -> Result<()> {
    let ann = annotations::parse_flags(ann)?;
    let session = Session::new(registry)?;
    let target = session.open(image)?;
    let resolved = target.resolve(false).await?;
    let bytes = payload::generate_payload_for(&target.docker_reference(), &resolved.digest, &ann);
    let mut out = std::io::stdout().lock();
    out.write_all(&bytes)?;
    out.flush()?;
    Ok(())
}

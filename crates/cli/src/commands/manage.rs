//! `triangulate`, `tree` and `clean`: where an image's attached artifacts live, what is there,
//! and removing them — the cosign tag scheme (`sha256-<hex>.sig`, `.att`, `.sbom`).

use std::io::{IsTerminal, Write};

use anyhow::{Result, bail};
use signet_oci::Manifest;
use signet_registry::ImageRef;

use crate::cli::{ArtifactType, RegistryArgs};
use crate::image::{Session, Target};

const SUFFIXES: [(&str, ArtifactType); 3] = [
    ("att", ArtifactType::Attestation),
    ("sig", ArtifactType::Signature),
    ("sbom", ArtifactType::Sbom),
];

fn repo_name(target: &Target) -> String {
    target.sig_repo_name.clone()
}

/// `triangulate`.
pub async fn triangulate(image: &str, kind: ArtifactType, registry: &RegistryArgs) -> Result<()> {
    let session = Session::new(registry)?;
    let target = session.open(image)?;
    let digest = target.resolve(false).await?.digest;
    let out = match kind {
        ArtifactType::Digest => match &target.image {
            ImageRef::Registry(r) => format!("{}@{}", r.repository_name(), digest),
            ImageRef::Layout { path, .. } => format!("oci:{}@{}", path.display(), digest),
        },
        ArtifactType::Signature => {
            format!("{}:{}", repo_name(&target), digest.tag_with_suffix("sig"))
        }
        ArtifactType::Attestation => {
            format!("{}:{}", repo_name(&target), digest.tag_with_suffix("att"))
        }
        ArtifactType::Sbom => format!("{}:{}", repo_name(&target), digest.tag_with_suffix("sbom")),
        ArtifactType::All => bail!(
            "--type all is not valid for triangulate (signature, attestation, sbom or digest)"
        ),
    };
    println!("{out}");
    Ok(())
}

/// `tree`.
pub async fn tree(image: &str, registry: &RegistryArgs) -> Result<()> {
    let session = Session::new(registry)?;
    let target = session.open(image)?;
    let digest = target.resolve(false).await?.digest;
    let mut out = String::new();
    for (suffix, kind) in SUFFIXES {
        let tag = digest.tag_with_suffix(suffix);
        let Some(m) = target.sig_store.get_manifest(&tag).await? else {
            continue;
        };
        let manifest = Manifest::from_slice(&m.bytes)?;
        let title = match kind {
            ArtifactType::Attestation => "💾 Attestations for an image tag",
            ArtifactType::Signature => "🔐 Signatures for an image tag",
            _ => "📦 SBOMs for an image tag",
        };
        out.push_str(&format!("└── {title}: {}:{tag}\n", repo_name(&target)));
        let n = manifest.layers.len();
        for (i, layer) in manifest.layers.iter().enumerate() {
            let branch = if i + 1 == n { "└──" } else { "├──" };
            out.push_str(&format!("   {branch} 🍒 {}\n", layer.digest));
        }
    }
    let mut stdout = std::io::stdout().lock();
    if out.is_empty() {
        writeln!(
            stdout,
            "No Supply Chain Security Related Artifacts found for image {},\n start creating one with simply running$ cosign sign <img>",
            target.display_name()
        )?;
    } else {
        writeln!(
            stdout,
            "📦 Supply Chain Security Related artifacts for an image: {}",
            target.display_name()
        )?;
        write!(stdout, "{out}")?;
    }
    Ok(())
}

fn confirm(question: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        bail!("refusing to delete without confirmation: pass -f to skip the prompt");
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

/// `clean`.
pub async fn clean(
    image: &str,
    kind: ArtifactType,
    force: bool,
    registry: &RegistryArgs,
) -> Result<()> {
    if kind == ArtifactType::Digest {
        bail!("--type digest is not valid for clean (signature, attestation, sbom or all)");
    }
    let session = Session::new(registry)?;
    let target = session.open(image)?;
    let digest = target.resolve(false).await?.digest;
    let what = match kind {
        ArtifactType::Signature => "signatures",
        ArtifactType::Attestation => "attestations",
        ArtifactType::Sbom => "SBOMs",
        _ => "signatures, attestations and SBOMs",
    };
    if !force
        && !confirm(&format!(
            "this will remove all {what} from the image, are you sure?"
        ))?
    {
        bail!("aborted");
    }
    for (suffix, k) in SUFFIXES {
        if kind != ArtifactType::All && kind != k {
            continue;
        }
        let tag = digest.tag_with_suffix(suffix);
        if target.sig_store.delete_tag(&tag).await? {
            eprintln!(
                "Removed {}:{tag} from {}",
                repo_name(&target),
                target.display_name()
            );
        }
    }
    Ok(())
}

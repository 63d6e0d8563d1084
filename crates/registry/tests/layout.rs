//! OCI layouts: writing, resolving, concurrent writers, and real peers (skopeo, umoci) reading
//! what we wrote and writing what we read.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::Image;
use signet_oci::{Digest, media_types};
use signet_registry::layout::{KIND_ANNOTATION, KIND_SIGS, REF_NAME_ANNOTATION};
use signet_registry::{ImageRef, OciLayout, Store};

fn write_image(layout: &OciLayout, img: &Image, tag: &str) -> Digest {
    layout.put_blob(&img.config).unwrap();
    layout.put_blob(&img.layer).unwrap();
    layout
        .put_manifest(
            &img.manifest,
            media_types::OCI_MANIFEST,
            Some(tag),
            &BTreeMap::new(),
        )
        .unwrap()
}

fn tool(name: &str) -> bool {
    Command::new(name)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn concurrent_writers_lose_no_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layout");
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                // Every thread opens (and maybe creates) the layout itself.
                let layout = OciLayout::create_or_open(&path).unwrap();
                for i in 0..10 {
                    let img = Image::new(&format!("{t}-{i}"));
                    write_image(&layout, &img, &format!("t{t}-{i}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let layout = OciLayout::open(&path).unwrap();
    assert_eq!(layout.list_tags().unwrap().len(), 80);
    assert_eq!(layout.index().unwrap().manifests.len(), 80);
    // No temporary files left behind.
    let leftovers: Vec<_> = walk(&path)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(".tmp-")
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test]
async fn store_over_a_layout() {
    let dir = tempfile::tempdir().unwrap();
    let arg = format!("oci:{}:v1", dir.path().join("lay").display());
    let ImageRef::Layout { path, tag, .. } = ImageRef::parse(&arg).unwrap() else {
        panic!("not a layout")
    };
    let store = Store::Layout(OciLayout::create_or_open(&path).unwrap());
    let img = Image::new("store");
    store.put_blob(&img.config).await.unwrap();
    store.put_blob(&img.layer).await.unwrap();
    let tag = tag.unwrap();
    let digest = store
        .put_manifest(&tag, &img.manifest, media_types::OCI_MANIFEST)
        .await
        .unwrap();
    let head = store.head_manifest(&tag).await.unwrap().unwrap();
    assert_eq!(head.digest, digest);
    assert_eq!(
        store.get_manifest("").await.unwrap().unwrap().digest,
        digest
    );
    assert_eq!(
        store
            .get_manifest(&digest.to_string())
            .await
            .unwrap()
            .unwrap()
            .bytes,
        img.manifest
    );
    // A signature tag gets the cosign `kind` annotation.
    let sig = Image::new("sig");
    let sig_tag = digest.tag_with_suffix("sig");
    store
        .put_manifest(&sig_tag, &sig.manifest, media_types::OCI_MANIFEST)
        .await
        .unwrap();
    let index = OciLayout::open(&path).unwrap().index().unwrap();
    let entry = index
        .manifests
        .iter()
        .find(|d| d.annotations.get(REF_NAME_ANNOTATION) == Some(&sig_tag))
        .unwrap();
    assert_eq!(
        entry.annotations.get(KIND_ANNOTATION).map(String::as_str),
        Some(KIND_SIGS)
    );
    assert_eq!(store.list_tags().await.unwrap(), {
        let mut t = vec![sig_tag.clone(), tag.clone()];
        t.sort();
        t
    });
    assert!(store.get_manifest("absent").await.unwrap().is_none());
    assert!(store.delete_tag(&sig_tag).await.unwrap());
    // Putting by a wrong digest is refused.
    assert!(
        store
            .put_manifest(
                &digest.to_string(),
                &sig.manifest,
                media_types::OCI_MANIFEST
            )
            .await
            .is_err()
    );
}

#[test]
fn skopeo_reads_our_layout_and_we_read_its_copy() {
    if !tool("skopeo") {
        eprintln!("skopeo not installed: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let layout = OciLayout::create_or_open(&src).unwrap();
    let img = Image::new("skopeo");
    let digest = write_image(&layout, &img, "v1");

    let out = Command::new("skopeo")
        .args(["inspect", "--raw", &format!("oci:{}:v1", src.display())])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, img.manifest);
    let out = Command::new("skopeo")
        .args(["inspect", &format!("oci:{}:v1", src.display())])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["Digest"], digest.to_string());
    assert_eq!(info["Architecture"], "amd64");

    // skopeo writes a layout; we read it (it may re-encode nothing for an OCI image).
    let dst = dir.path().join("dst");
    let out = Command::new("skopeo")
        .args([
            "copy",
            "--quiet",
            &format!("oci:{}:v1", src.display()),
            &format!("oci:{}:copied", dst.display()),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // skopeo re-serialises the manifest, so compare with what skopeo itself reads back.
    let out = Command::new("skopeo")
        .args(["inspect", "--raw", &format!("oci:{}:copied", dst.display())])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copied = OciLayout::open(&dst).unwrap();
    let desc = copied.resolve(Some("copied")).unwrap().unwrap();
    assert_eq!(desc.digest, Digest::sha256(&out.stdout));
    let m = copied.get_manifest(&desc.digest).unwrap().unwrap();
    assert_eq!(m.bytes, out.stdout);
    assert_eq!(m.media_type, media_types::OCI_MANIFEST);
    let manifest = signet_oci::Manifest::from_slice(&m.bytes).unwrap();
    for layer in &manifest.layers {
        copied.get_blob(&layer.digest, 1 << 20).unwrap();
    }
    copied.get_blob(&manifest.config.digest, 1 << 20).unwrap();
    // And adding to skopeo's layout keeps its entry.
    write_image(&copied, &Image::new("more"), "v2");
    let mut tags = copied.list_tags().unwrap();
    tags.sort();
    assert_eq!(tags, vec!["copied".to_string(), "v2".to_string()]);
}

#[test]
fn umoci_lists_our_tags() {
    if !tool("umoci") {
        eprintln!("umoci not installed: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let layout = OciLayout::create_or_open(dir.path()).unwrap();
    write_image(&layout, &Image::new("u1"), "one");
    write_image(&layout, &Image::new("u2"), "two");
    let out = Command::new("umoci")
        .args(["ls", "--layout", &dir.path().display().to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut listed: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    listed.sort();
    assert_eq!(listed, vec!["one".to_string(), "two".to_string()]);
}

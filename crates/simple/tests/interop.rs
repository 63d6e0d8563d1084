//! Interop with the real peers: gpg 2.2 and skopeo 1.9.3, each test in a private GNUPGHOME.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use signet_simple::{Error, Keyring, SecretKey, UntrustedSignature, sign, verify};
use tempfile::TempDir;

const REFERENCE: &str = "example.org/app:v1";
const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;

struct Gpg {
    dir: TempDir,
}

impl Drop for Gpg {
    /// Stops the gpg-agent this home started (it would otherwise linger until it notices its
    /// socket directory is gone).
    fn drop(&mut self) {
        let _ = self.cmd("gpgconf").args(["--kill", "all"]).output();
    }
}

impl Gpg {
    fn new() -> Gpg {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("gnupg");
        std::fs::create_dir(&home).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        Gpg { dir }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("gnupg")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.env("GNUPGHOME", self.home()).env_remove("GPG_AGENT_INFO");
        c
    }

    fn gpg(&self, args: &[&str]) -> Output {
        self.cmd("gpg")
            .args(["--batch", "--pinentry-mode", "loopback"])
            .args(args)
            .output()
            .unwrap()
    }

    fn gpg_ok(&self, args: &[&str]) -> Vec<u8> {
        let out = self.gpg(args);
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Generates a signing-only primary key; returns its fingerprint.
    fn gen_key(&self, algo: &str, passphrase: &str) -> String {
        self.gpg_ok(&[
            "--passphrase",
            passphrase,
            "--quick-gen-key",
            "Signet Test <t@example.org>",
            algo,
            "sign",
            "never",
        ]);
        let listing = String::from_utf8(self.gpg_ok(&["--with-colons", "--list-keys"])).unwrap();
        listing
            .lines()
            .rev()
            .find_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|r| r.trim_matches(':').to_string())
            })
            .unwrap()
    }

    fn skopeo(&self, args: &[&str]) -> Output {
        self.cmd("skopeo").args(args).output().unwrap()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn manifest_digest() -> String {
    // sha256 of MANIFEST, computed by a peer (sha256sum) so the test does not grade itself.
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(MANIFEST.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    format!(
        "sha256:{}",
        String::from_utf8(out.stdout)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
    )
}

fn skopeo_sign(g: &Gpg, fpr: &str) -> Vec<u8> {
    let manifest = g.write("manifest.json", MANIFEST.as_bytes());
    let sig = g.path("skopeo.sig");
    // The reference is a bare Docker reference (no `docker://`): it goes into the payload as is.
    let out = g.skopeo(&[
        "standalone-sign",
        s(&manifest),
        REFERENCE,
        fpr,
        "-o",
        s(&sig),
    ]);
    assert!(
        out.status.success(),
        "skopeo standalone-sign: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(sig).unwrap()
}

#[test]
fn skopeo_signatures_verify_with_signet() {
    for algo in ["ed25519", "rsa3072"] {
        let g = Gpg::new();
        let fpr = g.gen_key(algo, "");
        let sig = skopeo_sign(&g, &fpr);

        for armor in [false, true] {
            let export = if armor {
                g.gpg_ok(&["--export", "--armor", &fpr])
            } else {
                g.gpg_ok(&["--export", &fpr])
            };
            let keyring = Keyring::from_bytes(&export).unwrap();
            assert_eq!(keyring.fingerprints(), vec![fpr.clone()]);
            let v = verify(&sig, &keyring, SystemTime::now()).unwrap();
            assert_eq!(v.signer_fingerprint, fpr);
            assert_eq!(v.signing_key_fingerprint, fpr);
            let p = UntrustedSignature::parse_strict(&v.payload).unwrap();
            assert_eq!(p.docker_reference, REFERENCE, "{algo}");
            assert_eq!(p.docker_manifest_digest, manifest_digest());
            assert!(
                p.creator.as_deref().unwrap_or("").starts_with("atomic "),
                "{p:?}"
            );
            // Byte-exact: what skopeo wrote is what we write for the same content.
            assert_eq!(p.to_json().unwrap(), v.payload, "{algo}");
            // gpg agrees on the payload bytes.
            let sig_path = g.write("skopeo.sig", &sig);
            assert_eq!(g.gpg_ok(&["--decrypt", s(&sig_path)]), v.payload);
        }

        // A keyring without the signer: the error names the key ID.
        let other = Gpg::new();
        let other_fpr = other.gen_key("ed25519", "");
        let wrong = Keyring::from_bytes(&other.gpg_ok(&["--export", &other_fpr])).unwrap();
        match verify(&sig, &wrong, SystemTime::now()) {
            Err(Error::UnknownSigner { key_id }) => {
                assert_eq!(key_id, fpr[fpr.len() - 16..], "{algo}");
                let msg = Error::UnknownSigner {
                    key_id: key_id.clone(),
                }
                .to_string();
                assert!(msg.contains(&key_id));
            }
            other => panic!("{algo}: expected UnknownSigner, got {other:?}"),
        }
        // Both keys in one armored keyring (concatenated exports) still verify.
        let mut both = other.gpg_ok(&["--export", "--armor", &other_fpr]);
        both.extend(g.gpg_ok(&["--export", "--armor", &fpr]));
        let both = Keyring::from_bytes(&both).unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(
            verify(&sig, &both, SystemTime::now())
                .unwrap()
                .signer_fingerprint,
            fpr
        );
    }
}

#[test]
fn plain_gpg_sign_compressed_and_armored_verify() {
    let g = Gpg::new();
    let fpr = g.gen_key("ed25519", "");
    let payload =
        UntrustedSignature::new(manifest_digest(), REFERENCE, "atomic test", 1_700_000_000)
            .to_json()
            .unwrap();
    let input = g.write("payload.json", &payload);
    let keyring = Keyring::from_bytes(&g.gpg_ok(&["--export", &fpr])).unwrap();
    for extra in [
        &[][..],
        &["--armor"][..],
        &["--compress-algo", "bzip2"][..],
        &["--compress-algo", "none"][..],
    ] {
        let out = g.path("gpg.sig");
        let _ = std::fs::remove_file(&out);
        let mut args = vec!["--local-user", &fpr, "--output", s(&out)];
        args.extend_from_slice(extra);
        args.extend_from_slice(&["--sign", s(&input)]);
        g.gpg_ok(&args);
        let sig = std::fs::read(&out).unwrap();
        let v =
            verify(&sig, &keyring, SystemTime::now()).unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        assert_eq!(v.payload, payload, "{extra:?}");
    }
}

#[test]
fn signet_signatures_verify_with_skopeo_and_gpg() {
    for (algo, passphrase) in [("ed25519", ""), ("rsa3072", ""), ("ed25519", "x")] {
        let g = Gpg::new();
        let fpr = g.gen_key(algo, passphrase);
        let armored = String::from_utf8(g.gpg_ok(&[
            "--passphrase",
            passphrase,
            "--export-secret-keys",
            "--armor",
            &fpr,
        ]))
        .unwrap();
        let key = if passphrase.is_empty() {
            SecretKey::from_armored(&armored, None).unwrap()
        } else {
            assert!(matches!(
                SecretKey::from_armored(&armored, None),
                Err(Error::PassphraseRequired { .. })
            ));
            assert!(matches!(
                SecretKey::from_armored(&armored, Some(b"wrong")),
                Err(Error::WrongPassphrase { .. })
            ));
            SecretKey::from_armored(&armored, Some(passphrase.as_bytes())).unwrap()
        };
        assert_eq!(key.fingerprint(), fpr);

        let payload =
            UntrustedSignature::new(manifest_digest(), REFERENCE, "atomic signet", 1_700_000_000)
                .to_json()
                .unwrap();
        let sig = sign(&payload, &key, SystemTime::now()).unwrap();

        // Verify in a fresh GNUPGHOME that only has our exported public key.
        let peer = Gpg::new();
        let pubkey = peer.write("pub.asc", key.public_key_armored().unwrap().as_bytes());
        peer.gpg_ok(&["--import", s(&pubkey)]);
        let sig_path = peer.write("signet.sig", &sig);
        let manifest = peer.write("manifest.json", MANIFEST.as_bytes());

        let out = peer.skopeo(&[
            "standalone-verify",
            s(&manifest),
            REFERENCE,
            &fpr,
            s(&sig_path),
        ]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("Signature verified"),
            "{algo}: skopeo standalone-verify: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // skopeo checks the identity: a different reference is rejected.
        let out = peer.skopeo(&[
            "standalone-verify",
            s(&manifest),
            "example.org/other:v1",
            &fpr,
            s(&sig_path),
        ]);
        assert!(!out.status.success(), "{algo}: wrong reference accepted");

        let out = peer.gpg(&["--status-fd", "1", "--verify", s(&sig_path)]);
        let status = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success()
                && status.contains("[GNUPG:] GOODSIG")
                && status.contains(&format!("VALIDSIG {fpr}")),
            "{algo}: gpg --verify: {status}"
        );
        assert_eq!(peer.gpg_ok(&["--decrypt", s(&sig_path)]), payload);

        // And signet verifies its own output with the binary export.
        let keyring = Keyring::from_bytes(&key.public_key_bytes().unwrap()).unwrap();
        assert_eq!(
            verify(&sig, &keyring, SystemTime::now()).unwrap().payload,
            payload
        );

        // Tampering: flip a byte in the literal data → skopeo, gpg and signet all refuse.
        let pos = sig
            .windows(payload.len())
            .position(|w| w == payload.as_slice())
            .unwrap();
        let mut bad = sig.clone();
        bad[pos + 20] ^= 0x01;
        let bad_path = peer.write("bad.sig", &bad);
        assert!(
            !peer
                .skopeo(&[
                    "standalone-verify",
                    s(&manifest),
                    REFERENCE,
                    &fpr,
                    s(&bad_path)
                ])
                .status
                .success()
        );
        assert!(!peer.gpg(&["--verify", s(&bad_path)]).status.success());
        assert!(matches!(
            verify(&bad, &keyring, SystemTime::now()),
            Err(Error::BadSignature { .. })
        ));
    }
}

#[test]
fn signing_subkey_maps_to_primary() {
    let g = Gpg::new();
    let fpr = g.gen_key("ed25519", "");
    g.gpg_ok(&[
        "--passphrase",
        "",
        "--quick-add-key",
        &fpr,
        "ed25519",
        "sign",
        "never",
    ]);
    let listing = String::from_utf8(g.gpg_ok(&["--with-colons", "--list-keys", &fpr])).unwrap();
    let sub_fpr = listing
        .lines()
        .filter_map(|l| {
            l.strip_prefix("fpr:")
                .map(|r| r.trim_matches(':').to_string())
        })
        .nth(1)
        .unwrap();
    let input = g.write("payload.json", b"{}");
    let out = g.path("sub.sig");
    g.gpg_ok(&[
        "--local-user",
        &format!("{sub_fpr}!"),
        "--output",
        s(&out),
        "--sign",
        s(&input),
    ]);
    let keyring = Keyring::from_bytes(&g.gpg_ok(&["--export", &fpr])).unwrap();
    let v = verify(&std::fs::read(&out).unwrap(), &keyring, SystemTime::now()).unwrap();
    assert_eq!(v.signer_fingerprint, fpr);
    assert_eq!(v.signing_key_fingerprint, sub_fpr);
}

#[test]
fn expired_and_revoked_keys_are_rejected() {
    let g = Gpg::new();
    let fpr = g.gen_key("ed25519", "");
    let sig = skopeo_sign(&g, &fpr);
    let now = SystemTime::now();

    // Expiry in one day: valid now, expired two days later.
    g.gpg_ok(&["--passphrase", "", "--quick-set-expire", &fpr, "1d"]);
    let keyring = Keyring::from_bytes(&g.gpg_ok(&["--export", &fpr])).unwrap();
    verify(&sig, &keyring, now).unwrap();
    let later = now + std::time::Duration::from_secs(2 * 86400);
    assert!(matches!(
        verify(&sig, &keyring, later),
        Err(Error::KeyExpired { .. })
    ));

    // Revocation (gpg's pre-made revocation certificate, imported).
    let rev = std::fs::read_dir(g.home().join("openpgp-revocs.d"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text = std::fs::read_to_string(&rev)
        .unwrap()
        .replace(":-----BEGIN", "-----BEGIN");
    let rev = g.write("rev.asc", text.as_bytes());
    g.gpg_ok(&["--import", s(&rev)]);
    let keyring = Keyring::from_bytes(&g.gpg_ok(&["--export", &fpr])).unwrap();
    assert!(matches!(
        verify(&sig, &keyring, now),
        Err(Error::KeyRevoked { .. })
    ));
}

//! Independent checks: every JWS signet writes verifies with python3 jwcrypto, and the chain
//! verifies with `openssl verify`. Fails (does not skip) when a tool is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

use signet_crypto::KeyType;
use signet_notation::jws::{self, SignOptions};
use signet_notation::payload::Payload;
use signet_oci::Descriptor;

const PY: &str = r#"
import json, sys
from jwcrypto import jwk, jws
from jwcrypto.common import JWSEHeaderParameter
env = open(sys.argv[1]).read()
key = jwk.JWK.from_pem(open(sys.argv[2], 'rb').read())
reg = {n: JWSEHeaderParameter(n, False, True, None) for n in
       ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry', 'io.cncf.notary.signingTime']}
o = jws.JWS(header_registry=reg)
o.deserialize(env, key)
print(o.jose_header['alg'], json.loads(o.payload)['targetArtifact']['digest'])
"#;

#[test]
fn jwcrypto_and_openssl_verify_what_signet_writes() {
    let dir = tempfile::tempdir().unwrap();
    for kt in [
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
        KeyType::P256,
        KeyType::P384,
        KeyType::P521,
    ] {
        let (key, chain) = common::chain(kt);
        let target = Descriptor::for_bytes("application/vnd.oci.image.manifest.v1+json", b"x");
        let payload = Payload::new(&target, &BTreeMap::new())
            .unwrap()
            .to_json()
            .unwrap();
        let env = jws::sign(
            &SignOptions {
                payload: &payload,
                cert_chain: &chain,
                signing_time: common::now(),
                expiry: Some(common::now() + Duration::from_secs(60)),
                signing_agent: "signet/test",
            },
            &key,
        )
        .unwrap();
        let env_path = dir.path().join("env.json");
        std::fs::write(&env_path, &env).unwrap();
        let pub_path = dir.path().join("pub.pem");
        std::fs::write(&pub_path, key.public_key().to_pem()).unwrap();
        let out = Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(PY)
            .arg(&env_path)
            .arg(&pub_path)
            .output()
            .expect("python3 must be installed");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{kt}: jwcrypto refused: {text}");
        assert!(text.contains(&target.digest.to_string()), "{text}");

        let pem = |der: &Vec<u8>| signet_pki::issue::certificate_pem(der);
        std::fs::write(dir.path().join("leaf.pem"), pem(&chain[0])).unwrap();
        std::fs::write(dir.path().join("inter.pem"), pem(&chain[1])).unwrap();
        std::fs::write(dir.path().join("root.pem"), pem(&chain[2])).unwrap();
        let out = Command::new("openssl")
            .current_dir(dir.path())
            .args([
                "verify",
                "-attime",
                "1760000100",
                "-purpose",
                "any",
                "-CAfile",
                "root.pem",
                "-untrusted",
                "inter.pem",
                "leaf.pem",
            ])
            .output()
            .expect("openssl must be installed");
        assert!(
            out.status.success(),
            "{kt}: openssl verify: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

//! Independent checks: every JWS signet writes verifies with python3 jwcrypto, and the chain
//! verifies with `openssl verify`; every COSE envelope verifies with python3 pycose. Fails
//! (does not skip) when a tool is missing.
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

/// Verifies a COSE envelope with pycose, using the key of the leaf in `x5chain`, checks
/// the Notary headers with cbor2, and checks that pycose refuses a tampered payload and
/// signature. Needs `pip install --break-system-packages pycose 'cbor2<6'` (pycose 1.1
/// does not work with cbor2 6).
const PY_COSE: &str = r#"
import sys, datetime, cbor2
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from pycose.messages import Sign1Message
from pycose.keys import CoseKey
# cbor2 >= 6 decodes tagged arrays/maps as tuple/frozendict, which pycose 1.1 refuses.
assert isinstance(cbor2.loads(cbor2.dumps(cbor2.CBORTag(18, [{}]))).value, list), \
    "pycose needs cbor2 < 6: pip install --break-system-packages 'cbor2<6'"
raw = open(sys.argv[1], 'rb').read()
expected_pem = open(sys.argv[2]).read()
top = cbor2.loads(raw)
assert isinstance(top, cbor2.CBORTag) and top.tag == 18, 'not COSE_Sign1_Tagged'
phdr_raw, uhdr, payload, sig = top.value
phdr = cbor2.loads(phdr_raw)
assert phdr[3] == 'application/vnd.cncf.notary.payload.v1+json', phdr
assert phdr['io.cncf.notary.signingScheme'] == 'notary.x509', phdr
assert 'io.cncf.notary.signingScheme' in phdr[2] and 'io.cncf.notary.expiry' in phdr[2], phdr
for k in ('io.cncf.notary.signingTime', 'io.cncf.notary.expiry'):
    assert isinstance(phdr[k], datetime.datetime), (k, phdr[k])
assert uhdr['io.cncf.notary.signingAgent'] == 'signet/test', uhdr
chain = uhdr[33]
assert isinstance(chain, (list, tuple)) and len(chain) == 3 and all(isinstance(c, bytes) for c in chain), repr(chain)[:200]
leaf = x509.load_der_x509_certificate(chain[0])
pem = leaf.public_key().public_bytes(serialization.Encoding.PEM,
                                     serialization.PublicFormat.SubjectPublicKeyInfo).decode()
assert pem.strip() == expected_pem.strip(), 'x5chain leaf is not the signing key'
key = CoseKey.from_pem_public_key(pem)

def verify(data):
    msg = Sign1Message.decode(data)
    msg.key = key
    return msg.verify_signature()

assert verify(raw), 'pycose: signature does not verify'
bad_payload = cbor2.dumps(cbor2.CBORTag(18, [phdr_raw, uhdr, payload.replace(b'sha256', b'sha257'), sig]))
assert not verify(bad_payload), 'pycose accepted a tampered payload'
flipped = bytearray(sig); flipped[5] ^= 1
bad_sig = cbor2.dumps(cbor2.CBORTag(18, [phdr_raw, uhdr, payload, bytes(flipped)]))
try:
    ok = verify(bad_sig)
except Exception:
    ok = False
assert not ok, 'pycose accepted a tampered signature'
print(phdr[1], payload.decode())
"#;

#[test]
fn pycose_verifies_what_signet_writes() {
    let dir = tempfile::tempdir().unwrap();
    for (kt, alg) in [
        (KeyType::Rsa2048, -37),
        (KeyType::Rsa3072, -38),
        (KeyType::Rsa4096, -39),
        (KeyType::P256, -7),
        (KeyType::P384, -35),
        (KeyType::P521, -36),
    ] {
        let (key, chain) = common::chain(kt);
        let target = Descriptor::for_bytes("application/vnd.oci.image.manifest.v1+json", b"x");
        let payload = Payload::new(&target, &BTreeMap::new())
            .unwrap()
            .to_json()
            .unwrap();
        let env = signet_notation::cose::sign(
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
        let env_path = dir.path().join("env.cose");
        std::fs::write(&env_path, &env).unwrap();
        let pub_path = dir.path().join("pub.pem");
        std::fs::write(&pub_path, key.public_key().to_pem()).unwrap();
        let out = Command::new("/usr/bin/python3")
            .arg("-c")
            .arg(PY_COSE)
            .arg(&env_path)
            .arg(&pub_path)
            .output()
            .expect("python3 must be installed");
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "{kt}: pycose refused (installed? pip install --break-system-packages pycose 'cbor2<6'): {text}"
        );
        assert!(text.starts_with(&alg.to_string()), "{kt}: {text}");
        assert!(text.contains(&target.digest.to_string()), "{text}");
    }
}

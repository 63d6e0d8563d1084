//! A real RFC 3161 timestamp authority made at test time: an openssl root, intermediate and
//! TSA certificate (extendedKeyUsage critical timeStamping) in a temp dir, with `openssl ts
//! -reply` answering requests. OpenSSL refuses to timestamp with a certificate that breaks
//! the TSA rules, so tokens from such certificates are built by an independent CMS
//! implementation (python3 asn1crypto + cryptography), which `openssl ts -verify` accepts
//! for a good certificate (checked in the tests). Fails (does not skip) when a tool is missing.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use signet_notation::timestamp::Timestamper;
use signet_pki::cert::Certificate;

const CA_CNF: &str = r#"
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_root ]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ v3_inter ]
basicConstraints = critical,CA:true,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_tsa ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_noeku ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
[ v3_eku_noncritical ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = timeStamping
[ v3_eku_extra ]
basicConstraints = critical,CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping,codeSigning
"#;

/// Builds a TimeStampToken with asn1crypto: TSTInfo over sha256(signature file), signed
/// attributes content-type, message-digest and ESS signing-certificate-v2 (left out with a
/// sixth argument `no-ess`), RSA PKCS#1 v1.5 SHA-256 signature. Arguments: signature file,
/// signer cert PEM, signer key PEM, extra certificates PEM, output.
const PY_TOKEN: &str = r#"
import sys, datetime, hashlib
from asn1crypto import cms, tsp, x509, pem
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

sig_path, cert_path, key_path, chain_path, out_path = sys.argv[1:6]
with_ess = sys.argv[6:] != ['no-ess']
message = open(sig_path, 'rb').read()

def load_all(path):
    data = open(path, 'rb').read()
    return [x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]

cert = load_all(cert_path)[0]
chain = load_all(chain_path)
tst = tsp.TSTInfo({
    'version': 'v1',
    'policy': '1.2.3.4.1',
    'message_imprint': {
        'hash_algorithm': {'algorithm': 'sha256'},
        'hashed_message': hashlib.sha256(message).digest(),
    },
    'serial_number': 7,
    'gen_time': datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0),
    'nonce': 12345,
})
content = tst.dump()
attrs = [
    cms.CMSAttribute({'type': 'content_type', 'values': ['tst_info']}),
    cms.CMSAttribute({'type': 'message_digest', 'values': [hashlib.sha256(content).digest()]}),
] + ([] if not with_ess else [
    cms.CMSAttribute({'type': 'signing_certificate_v2', 'values': [{
        'certs': [{
            'hash_algorithm': {'algorithm': 'sha256'},
            'cert_hash': hashlib.sha256(cert.dump()).digest(),
            'issuer_serial': {
                'issuer': [x509.GeneralName(name='directory_name', value=cert.issuer)],
                'serial_number': cert.serial_number,
            },
        }],
    }]}),
])
attrs.sort(key=lambda a: a.dump())
signed_attrs = cms.CMSAttributes(attrs)
key = serialization.load_pem_private_key(open(key_path, 'rb').read(), None)
signature = key.sign(signed_attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
signer_info = cms.SignerInfo({
    'version': 'v1',
    'sid': cms.SignerIdentifier({'issuer_and_serial_number': {
        'issuer': cert.issuer, 'serial_number': cert.serial_number}}),
    'digest_algorithm': {'algorithm': 'sha256'},
    'signed_attrs': signed_attrs,
    'signature_algorithm': {'algorithm': 'sha256_rsa'},
    'signature': signature,
})
sd = cms.SignedData({
    'version': 'v3',
    'digest_algorithms': [{'algorithm': 'sha256'}],
    'encap_content_info': {'content_type': 'tst_info', 'content': tst},
    'certificates': [cert] + chain,
    'signer_infos': [signer_info],
})
open(out_path, 'wb').write(cms.ContentInfo({'content_type': 'signed_data', 'content': sd}).dump())
"#;

/// How to make the TSA.
#[derive(Debug, Clone)]
pub struct TsaOptions {
    /// `rsa` (RSA-2048, rsaEncryption signatures) or `ec` (P-256, ecdsa-with-SHA256).
    pub key: &'static str,
    /// The `digests` the TSA accepts in requests.
    pub digests: &'static str,
    /// The `accuracy` line, if any.
    pub accuracy: Option<&'static str>,
    /// The TSA policy OID.
    pub policy: &'static str,
    /// The root's common name.
    pub root_cn: &'static str,
}

impl Default for TsaOptions {
    fn default() -> Self {
        TsaOptions {
            key: "rsa",
            digests: "sha256, sha384, sha512",
            accuracy: Some("secs:1, millisecs:500"),
            policy: "1.2.3.4.1",
            root_cn: "Test TSA Root",
        }
    }
}

/// A TSA in a temp dir: `root.pem` → `inter.pem` → `tsa.pem`.
pub struct Tsa {
    pub dir: tempfile::TempDir,
    pub root: Certificate,
    pub intermediate: Certificate,
    pub tsa: Certificate,
    counter: AtomicUsize,
}

/// Runs a command in `dir`, panicking with its output when it fails.
pub fn run(dir: &Path, program: &str, args: &[&str]) -> Vec<u8> {
    let out = Command::new(program)
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} must be installed: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn read_cert(path: &Path) -> Certificate {
    let text = std::fs::read_to_string(path).unwrap();
    Certificate::parse_pem_bundle(&text).unwrap().remove(0)
}

impl Tsa {
    /// The default TSA: RSA-2048 TSA key under an EC P-256 root and intermediate, accuracy
    /// 1.5 s, every SHA-2 digest accepted.
    pub fn new() -> Self {
        Self::with(TsaOptions::default())
    }

    /// A TSA made with `options`.
    pub fn with(options: TsaOptions) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let d = path.as_path();
        std::fs::write(d.join("ca.cnf"), CA_CNF).unwrap();
        let root_subj = format!("/CN={}", options.root_cn);
        run(
            d,
            "openssl",
            &[
                "req",
                "-x509",
                "-config",
                "ca.cnf",
                "-extensions",
                "v3_root",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "root.key",
                "-out",
                "root.pem",
                "-subj",
                &root_subj,
                "-days",
                "3650",
            ],
        );
        run(
            d,
            "openssl",
            &[
                "req",
                "-new",
                "-config",
                "ca.cnf",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "inter.key",
                "-out",
                "inter.csr",
                "-subj",
                "/CN=Test TSA Intermediate",
            ],
        );
        run(
            d,
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                "inter.csr",
                "-CA",
                "root.pem",
                "-CAkey",
                "root.key",
                "-CAcreateserial",
                "-out",
                "inter.pem",
                "-days",
                "3000",
                "-extfile",
                "ca.cnf",
                "-extensions",
                "v3_inter",
            ],
        );
        let tsa = Tsa {
            root: read_cert(&d.join("root.pem")),
            intermediate: read_cert(&d.join("inter.pem")),
            tsa: read_cert(&d.join("inter.pem")),
            dir,
            counter: AtomicUsize::new(0),
        };
        let (cert, _key) = tsa.issue_tsa_cert("tsa", options.key, "v3_tsa");
        let chain = std::fs::read_to_string(d.join("inter.pem")).unwrap()
            + &std::fs::read_to_string(d.join("root.pem")).unwrap();
        std::fs::write(d.join("tsachain.pem"), chain).unwrap();
        std::fs::write(d.join("tsaserial"), "01\n").unwrap();
        let accuracy = options
            .accuracy
            .map(|a| format!("accuracy = {a}\n"))
            .unwrap_or_default();
        let config = format!(
            "[ tsa ]\ndefault_tsa = tsa_config1\n[ tsa_config1 ]\nserial = ./tsaserial\n\
             crypto_device = builtin\nsigner_cert = ./tsa.pem\ncerts = ./tsachain.pem\n\
             signer_key = ./tsa.key\nsigner_digest = sha256\ndefault_policy = {}\n\
             digests = {}\n{accuracy}ordering = yes\ntsa_name = yes\n\
             ess_cert_id_chain = no\ness_cert_id_alg = sha256\n",
            options.policy, options.digests
        );
        std::fs::write(d.join("tsa.cnf"), config).unwrap();
        Tsa {
            tsa: read_cert(&cert),
            ..tsa
        }
    }

    /// Issues a certificate `NAME.pem` (key `NAME.key`, `rsa` or `ec`) from the intermediate
    /// with the extension section `section` of the CA config.
    pub fn issue_tsa_cert(&self, name: &str, key: &str, section: &str) -> (PathBuf, PathBuf) {
        let d = self.dir.path();
        let key_file = format!("{name}.key");
        let csr = format!("{name}.csr");
        let pem = format!("{name}.pem");
        let subj = format!("/CN=Test TSA {name}");
        match key {
            "ec" => run(
                d,
                "openssl",
                &[
                    "genpkey",
                    "-algorithm",
                    "EC",
                    "-pkeyopt",
                    "ec_paramgen_curve:P-256",
                    "-out",
                    &key_file,
                ],
            ),
            _ => run(
                d,
                "openssl",
                &[
                    "genpkey",
                    "-algorithm",
                    "RSA",
                    "-pkeyopt",
                    "rsa_keygen_bits:2048",
                    "-out",
                    &key_file,
                ],
            ),
        };
        run(
            d,
            "openssl",
            &[
                "req", "-new", "-config", "ca.cnf", "-key", &key_file, "-out", &csr, "-subj", &subj,
            ],
        );
        run(
            d,
            "openssl",
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "inter.pem",
                "-CAkey",
                "inter.key",
                "-CAcreateserial",
                "-out",
                &pem,
                "-days",
                "365",
                "-extfile",
                "ca.cnf",
                "-extensions",
                section,
            ],
        );
        (d.join(pem), d.join(key_file))
    }

    fn next_name(&self, stem: &str) -> PathBuf {
        let n = self.counter.fetch_add(1, Ordering::SeqCst);
        self.dir.path().join(format!("{stem}-{n}"))
    }

    /// `openssl ts -reply` to a DER TimeStampReq: the DER TimeStampResp.
    pub fn reply(&self, request: &[u8]) -> Vec<u8> {
        let query = self.next_name("query.tsq");
        let reply = self.next_name("reply.tsr");
        std::fs::write(&query, request).unwrap();
        run(
            self.dir.path(),
            "openssl",
            &[
                "ts",
                "-reply",
                "-config",
                "tsa.cnf",
                "-queryfile",
                query.to_str().unwrap(),
                "-out",
                reply.to_str().unwrap(),
            ],
        );
        std::fs::read(&reply).unwrap()
    }

    /// A token over `signature` built by asn1crypto, signed by `cert`/`key` (RSA), carrying
    /// `cert`, the intermediate and the root.
    pub fn python_token(&self, signature: &[u8], cert: &Path, key: &Path) -> Vec<u8> {
        self.python_token_with(signature, cert, key, true)
    }

    /// [`Tsa::python_token`], with or without the ESS signing-certificate-v2 attribute.
    pub fn python_token_with(
        &self,
        signature: &[u8],
        cert: &Path,
        key: &Path,
        with_ess: bool,
    ) -> Vec<u8> {
        let sig = self.next_name("sig.bin");
        let out = self.next_name("token.der");
        std::fs::write(&sig, signature).unwrap();
        run(
            self.dir.path(),
            "/usr/bin/python3",
            &[
                "-c",
                PY_TOKEN,
                sig.to_str().unwrap(),
                cert.to_str().unwrap(),
                key.to_str().unwrap(),
                "tsachain.pem",
                out.to_str().unwrap(),
                if with_ess { "ess" } else { "no-ess" },
            ],
        );
        std::fs::read(&out).unwrap()
    }

    /// `openssl ts -verify` of a token over `signature` against the root (the intermediate
    /// from the token): true when openssl accepts it.
    pub fn openssl_verifies(&self, token: &[u8], signature: &[u8]) -> bool {
        let tok = self.next_name("verify-token.der");
        let sig = self.next_name("verify-sig.bin");
        std::fs::write(&tok, token).unwrap();
        std::fs::write(&sig, signature).unwrap();
        Command::new("openssl")
            .current_dir(self.dir.path())
            .args([
                "ts",
                "-verify",
                "-token_in",
                "-in",
                tok.to_str().unwrap(),
                "-data",
                sig.to_str().unwrap(),
                "-CAfile",
                "root.pem",
                "-untrusted",
                "inter.pem",
            ])
            .output()
            .expect("openssl must be installed")
            .status
            .success()
    }
}

impl Timestamper for Tsa {
    fn timestamp(&self, request_der: &[u8]) -> Result<Vec<u8>, String> {
        Ok(self.reply(request_der))
    }
}

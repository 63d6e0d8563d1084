//! The PKI side of the service (`/cas/…`), as far as the client prepares it: certificate
//! profiles read from YAML or JSON files into `POST /cas/profiles` bodies, a product's
//! `caInfo` entries looked up by common name, the CSR of an entry made into PEM, and the PEM
//! chain checked (leaf first) before it is uploaded.

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use signet_pki::cert::Certificate;
use signet_sigstore::gobase64;

/// The `certificateType` values a profile may have, for error messages.
const CERTIFICATE_TYPES: &str = "ENDENTITY, INTERMEDIATE, SUBCA or ROOT";

/// The `profileType` of `POST /cas/profiles` for a profile's `certificateType` (any case):
/// ENDENTITY → END, INTERMEDIATE or SUBCA → SUB, ROOT → ROOT.
pub fn profile_type(certificate_type: &str) -> Option<&'static str> {
    match certificate_type.trim().to_ascii_uppercase().as_str() {
        "ENDENTITY" => Some("END"),
        "INTERMEDIATE" | "SUBCA" => Some("SUB"),
        "ROOT" => Some("ROOT"),
        _ => None,
    }
}

/// The name of a `profileType` as served: 1 END, 2 SUB, 3 ROOT (other values as they are).
pub fn profile_type_name(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_u64() {
            Some(1) => "END".to_string(),
            Some(2) => "SUB".to_string(),
            Some(3) => "ROOT".to_string(),
            _ => n.to_string(),
        },
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A profile file's text as JSON values: JSON if it parses as such, else YAML.
fn parse_profile(text: &str, path: &str) -> Result<Value> {
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    serde_norway::from_str::<Value>(text)
        .with_context(|| format!("the profile {path} is neither valid YAML nor valid JSON"))
}

/// The body of `POST /cas/profiles` for the text of the profile file `path`: its top-level
/// `name` and `certificateType` (mapped by [`profile_type`]) and the whole text in base64.
pub fn profile_body(text: &str, path: &str) -> Result<Value> {
    let v = parse_profile(text, path)?;
    if !v.is_object() {
        bail!(
            "the profile {path} is not a mapping: it needs name and certificateType at the top level"
        );
    }
    let name = match v.get("name") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        None | Some(Value::Null) => bail!("the profile {path} has no name (a top-level name: …)"),
        Some(_) => bail!("the profile {path}: name must be a non-empty string"),
    };
    let ty = match v.get("certificateType") {
        Some(Value::String(s)) => s.as_str(),
        None | Some(Value::Null) => bail!(
            "the profile {path} has no certificateType (a top-level certificateType: {CERTIFICATE_TYPES})"
        ),
        Some(other) => {
            bail!("the profile {path}: certificateType {other} is not one of {CERTIFICATE_TYPES}")
        }
    };
    let Some(profile_type) = profile_type(ty) else {
        bail!("the profile {path}: certificateType {ty:?} is not one of {CERTIFICATE_TYPES}");
    };
    Ok(json!({
        "profileName": name,
        "profileType": profile_type,
        "profileYAML": gobase64::encode(text.as_bytes()),
    }))
}

/// What `pki profile create` and `get` print: the service's parsed `profile` object with the
/// profile's `id` added (the answer itself when it has no `profile` object).
pub fn profile_view(answer: &Value) -> Value {
    match (answer.get("profile"), answer.get("id")) {
        (Some(Value::Object(p)), id) => {
            let mut p = p.clone();
            if let Some(id) = id {
                p.insert("id".to_string(), id.clone());
            }
            Value::Object(p)
        }
        _ => answer.clone(),
    }
}

/// The common name of a `caInfo` entry (`cn`, or `CN` as the example templates write it).
fn cn_of(entry: &Value) -> Option<&str> {
    entry
        .get("cn")
        .or_else(|| entry.get("CN"))
        .and_then(Value::as_str)
}

/// Every `caInfo` entry of a product, the nested `leafs` included, depth first.
fn ca_entries(product: &Value) -> Vec<&Value> {
    fn walk<'a>(entries: Option<&'a Value>, out: &mut Vec<&'a Value>) {
        for e in entries.and_then(Value::as_array).into_iter().flatten() {
            out.push(e);
            walk(e.get("leafs"), out);
        }
    }
    let mut out = Vec::new();
    walk(product.get("caInfo"), &mut out);
    out
}

/// The id of the product's `caInfo` entry named `cn`; the error lists the names there are.
pub fn ca_id(product: &Value, product_arg: &str, cn: &str) -> Result<String> {
    let entries = ca_entries(product);
    let matching: Vec<&&Value> = entries.iter().filter(|e| cn_of(e) == Some(cn)).collect();
    match matching.as_slice() {
        [] => {
            let names: Vec<String> = entries
                .iter()
                .filter_map(|e| cn_of(e))
                .map(|n| format!("{n:?}"))
                .collect();
            if names.is_empty() {
                bail!("product {product_arg} has no caInfo entries (no certificates)");
            }
            bail!(
                "product {product_arg} has no caInfo entry with cn {cn:?} (its entries: {})",
                names.join(", ")
            );
        }
        [one] => one
            .get("id")
            .and_then(Value::as_str)
            .filter(|id| !id.is_empty())
            .map(str::to_string)
            .with_context(|| {
                format!(
                    "the caInfo entry {cn:?} of product {product_arg} has no id (the service has not set it up yet)"
                )
            }),
        several => {
            let ids: Vec<&str> = several
                .iter()
                .filter_map(|e| e.get("id").and_then(Value::as_str))
                .collect();
            bail!(
                "product {product_arg} has {} caInfo entries with cn {cn:?} (ids {}): cannot tell which one",
                several.len(),
                ids.join(", ")
            )
        }
    }
}

/// The CSR of a `caInfo` entry (`GET /cas/cas/{id}`) as PEM: its `csr`, the base64 of a PEM
/// certificate request (PEM text or the base64 of DER are taken too). Without a CSR, the
/// error says why: the entry is not externalRoot, or its certificate is issued already.
pub fn csr_pem(entry: &Value, cn: &str) -> Result<String> {
    let id = entry.get("id").and_then(Value::as_str).unwrap_or("?");
    let Some(csr) = entry
        .get("csr")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
    else {
        let external = entry.get("externalRoot").and_then(Value::as_bool) == Some(true);
        let issued = entry
            .get("certificate")
            .and_then(Value::as_str)
            .is_some_and(|c| !c.trim().is_empty());
        if !external {
            bail!(
                "the caInfo entry {cn:?} ({id}) has no CSR: it is not externalRoot, so the service issues its certificate itself"
            );
        }
        if issued {
            bail!("the caInfo entry {cn:?} ({id}) has no CSR: its certificate is issued already");
        }
        bail!("the caInfo entry {cn:?} ({id}) has no CSR yet (is the product approved?)");
    };
    let bad = || format!("the CSR of the caInfo entry {cn:?} ({id}) is not a certificate request");
    if csr.starts_with("-----BEGIN") {
        return pem_csr(csr).with_context(bad);
    }
    let bytes = gobase64::decode(csr).with_context(bad)?;
    match String::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN") => pem_csr(&text).with_context(bad),
        Ok(text) => der_csr(text.as_bytes()).with_context(bad),
        Err(e) => der_csr(e.as_bytes()).with_context(bad),
    }
}

/// PEM text holding a CERTIFICATE REQUEST block, with a final newline.
fn pem_csr(text: &str) -> Result<String> {
    if !text.contains("-----BEGIN CERTIFICATE REQUEST-----")
        && !text.contains("-----BEGIN NEW CERTIFICATE REQUEST-----")
    {
        bail!("no PEM CERTIFICATE REQUEST block");
    }
    let mut text = text.trim().to_string();
    text.push('\n');
    Ok(text)
}

/// DER (an ASN.1 SEQUENCE) as a PEM CERTIFICATE REQUEST.
fn der_csr(der: &[u8]) -> Result<String> {
    if der.first() != Some(&0x30) {
        bail!("neither PEM nor DER");
    }
    Ok(signet_crypto::pem_encode("CERTIFICATE REQUEST", der))
}

/// The body of `PATCH /cas/cas/{id}` for the PEM chain file `path` (its text): the file in
/// base64, after checking that it holds certificates, each one issued by the next (leaf
/// first).
pub fn chain_body(text: &str, path: &str) -> Result<Value> {
    let certs = Certificate::parse_pem_bundle(text)
        .with_context(|| format!("reading the certificate chain {path}"))?;
    for (i, pair) in certs.windows(2).enumerate() {
        if let [cert, next] = pair
            && cert.issuer() != next.subject()
        {
            bail!(
                "the certificate chain {path} is not in order, leaf first: certificate {} ({}) is issued by {}, not by certificate {} ({})",
                i + 1,
                cert.subject(),
                cert.issuer(),
                i + 2,
                next.subject()
            );
        }
    }
    Ok(json!({ "chain": gobase64::encode(text.as_bytes()) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_types() {
        assert_eq!(profile_type("ENDENTITY"), Some("END"));
        assert_eq!(profile_type("endEntity"), Some("END"));
        assert_eq!(profile_type("INTERMEDIATE"), Some("SUB"));
        assert_eq!(profile_type("SUBCA"), Some("SUB"));
        assert_eq!(profile_type(" ROOT "), Some("ROOT"));
        assert_eq!(profile_type("END"), None);
        assert_eq!(profile_type(""), None);
        assert_eq!(profile_type_name(&json!(1)), "END");
        assert_eq!(profile_type_name(&json!(2)), "SUB");
        assert_eq!(profile_type_name(&json!(3)), "ROOT");
        assert_eq!(profile_type_name(&json!(9)), "9");
        assert_eq!(profile_type_name(&json!("SUB")), "SUB");
    }

    #[test]
    fn profile_bodies_from_yaml_and_json() {
        let yaml = "name: codesign\ncertificateType: ENDENTITY\nvalidity: 365d\n";
        let b = profile_body(yaml, "p.yaml").unwrap();
        assert_eq!(b["profileName"], "codesign");
        assert_eq!(b["profileType"], "END");
        assert_eq!(
            gobase64::decode(b["profileYAML"].as_str().unwrap()).unwrap(),
            yaml.as_bytes()
        );
        let js = "{\n\t\"name\": \"issuing\",\n\t\"certificateType\": \"SUBCA\"\n}";
        let b = profile_body(js, "p.json").unwrap();
        assert_eq!(b["profileName"], "issuing");
        assert_eq!(b["profileType"], "SUB");
        assert_eq!(b["profileYAML"], gobase64::encode(js.as_bytes()));
        let b = profile_body("name: r\ncertificateType: root\n", "r.yaml").unwrap();
        assert_eq!(b["profileType"], "ROOT");
        assert_eq!(b.as_object().map(|o| o.len()), Some(3));
    }

    #[test]
    fn bad_profiles_are_refused() {
        let err = |text: &str| profile_body(text, "p.yaml").unwrap_err().to_string();
        assert!(err("certificateType: ROOT\n").contains("has no name"));
        assert!(err("name: x\n").contains("has no certificateType"));
        let e = err("name: x\ncertificateType: LEAF\n");
        assert!(e.contains("\"LEAF\"") && e.contains("ENDENTITY"), "{e}");
        assert!(err("name: x\ncertificateType: 3\n").contains("not one of"));
        assert!(err("name: ''\ncertificateType: ROOT\n").contains("non-empty"));
        assert!(err("- a\n- b\n").contains("not a mapping"));
        assert!(err("").contains("not a mapping"));
        assert!(err("name: [unclosed\n").contains("neither valid YAML"));
    }

    #[test]
    fn profile_views() {
        let a = json!({"id": "p1", "profileName": "n", "profileType": 1, "state": 16,
            "profile": {"name": "n", "certificateType": "ENDENTITY"}});
        assert_eq!(
            profile_view(&a),
            json!({"id": "p1", "name": "n", "certificateType": "ENDENTITY"})
        );
        let bare = json!({"id": "p1", "profileName": "n"});
        assert_eq!(profile_view(&bare), bare);
    }

    #[test]
    fn ca_lookup() {
        let p = json!({"name": "prod", "caInfo": [
            {"id": "c1", "cn": "Root CA", "leafs": [{"id": "c2", "cn": "Code Signing"}]},
            {"id": "c3", "CN": "Other"},
            {"cn": "No Id"},
            {"id": "c5", "cn": "Twice"}, {"id": "c6", "cn": "Twice"},
        ]});
        assert_eq!(ca_id(&p, "prod", "Root CA").unwrap(), "c1");
        assert_eq!(ca_id(&p, "prod", "Code Signing").unwrap(), "c2");
        assert_eq!(ca_id(&p, "prod", "Other").unwrap(), "c3");
        let e = ca_id(&p, "prod", "Missing").unwrap_err().to_string();
        assert!(
            e.contains(r#"its entries: "Root CA", "Code Signing", "Other""#),
            "{e}"
        );
        assert!(
            ca_id(&p, "prod", "No Id")
                .unwrap_err()
                .to_string()
                .contains("no id")
        );
        let e = ca_id(&p, "prod", "Twice").unwrap_err().to_string();
        assert!(e.contains("c5, c6"), "{e}");
        let e = ca_id(&json!({"caInfo": []}), "p", "x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no caInfo entries"), "{e}");
    }

    #[test]
    fn chains_go_leaf_first() {
        use signet_crypto::{KeyType, PrivateKey};
        use signet_pki::dn::DistinguishedName;
        use signet_pki::issue::{self, CaIssuer, IntermediateRequest, RootRequest};
        let now = std::time::SystemTime::now();
        let root_key = PrivateKey::generate(KeyType::P256).unwrap();
        let root = issue::issue_root(
            &RootRequest::new(DistinguishedName::parse("/CN=Root").unwrap()),
            &root_key,
            now,
        )
        .unwrap();
        let ca = CaIssuer::new(root.cert_der(), &root_key).unwrap();
        let sub_key = PrivateKey::generate(KeyType::P256).unwrap();
        let sub = issue::issue_intermediate(
            &IntermediateRequest::new(DistinguishedName::parse("/CN=Sub").unwrap()),
            &sub_key.public_key(),
            &ca,
            now,
        )
        .unwrap();
        let (sub_pem, root_pem) = (
            issue::certificate_pem(sub.cert_der()),
            issue::certificate_pem(root.cert_der()),
        );
        let good = format!("{sub_pem}{root_pem}");
        let b = chain_body(&good, "chain.pem").unwrap();
        assert_eq!(b, json!({"chain": gobase64::encode(good.as_bytes())}));
        let e = chain_body(&format!("{root_pem}{sub_pem}"), "chain.pem")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not in order, leaf first"), "{e}");
        assert!(chain_body("nothing here", "chain.pem").is_err());
    }

    #[test]
    fn csrs() {
        let pem = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n";
        let entry =
            json!({"id": "c1", "externalRoot": true, "csr": gobase64::encode(pem.as_bytes())});
        assert_eq!(csr_pem(&entry, "cn").unwrap(), pem);
        let entry = json!({"id": "c1", "csr": pem});
        assert_eq!(csr_pem(&entry, "cn").unwrap(), pem);
        let entry = json!({"id": "c1", "csr": gobase64::encode(&[0x30, 0x03, 0x02, 0x01, 0x00])});
        assert!(
            csr_pem(&entry, "cn")
                .unwrap()
                .starts_with("-----BEGIN CERTIFICATE REQUEST-----\nMAMCAQA=\n")
        );
        let e = |v: Value| csr_pem(&v, "cn").unwrap_err().to_string();
        assert!(e(json!({"id": "c1"})).contains("not externalRoot"));
        assert!(
            e(json!({"id": "c1", "externalRoot": true, "certificate": "-----BEGIN"}))
                .contains("issued already")
        );
        assert!(e(json!({"id": "c1", "externalRoot": true, "csr": ""})).contains("no CSR yet"));
        assert!(
            e(json!({"id": "c1", "csr": "bm90IGEgY3Ny"})).contains("not a certificate request")
        );
        assert!(e(json!({"id": "c1", "csr": "%%"})).contains("not a certificate request"));
    }
}

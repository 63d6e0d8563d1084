//! The strict policy parser, following containers/image's `signature/policy_config.go` and
//! `policy_config_sigstore.go` rule by rule (including the order of checks and the texts).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::Error;
use crate::json::{
    FieldError, Json, exact_fields, go_bytes, go_bytes_list, go_string, go_string_list,
    paranoid_object, type_field,
};
use crate::model::{
    CertSource, Fulcio, KeySource, KeyType, Pki, Policy, Requirement, SignedBy, SignedIdentity,
    SigstoreSigned, SigstoreTrust,
};
use crate::reference::{DockerReference, domain_pattern, name_pattern};
use crate::scope::Transport;

type R<T> = Result<T, String>;

pub(crate) fn parse_policy(bytes: &[u8]) -> Result<Policy, Error> {
    let json = Json::parse(bytes).map_err(Error::InvalidPolicy)?;
    policy(&json).map_err(Error::InvalidPolicy)
}

fn policy(v: &Json) -> R<Policy> {
    let mut default: Option<Vec<Requirement>> = None;
    let mut transports = BTreeMap::new();
    paranoid_object(v, |key, value| match key {
        "default" => {
            default = Some(requirements(value)?);
            Ok(())
        }
        "transports" => {
            transports = transports_map(value)?;
            Ok(())
        }
        _ => Err(FieldError::Unknown),
    })?;
    let default = default.ok_or_else(|| "Default policy is missing".to_string())?;
    Ok(Policy {
        default,
        transports,
    })
}

fn transports_map(v: &Json) -> R<BTreeMap<String, BTreeMap<String, Vec<Requirement>>>> {
    let mut out = BTreeMap::new();
    paranoid_object(v, |transport_name, scopes_json| {
        let transport = Transport::from_name(transport_name);
        let mut scopes = BTreeMap::new();
        paranoid_object(scopes_json, |scope, reqs| {
            if !scope.is_empty() && transport.validate_scope(scope).is_err() {
                return Err(FieldError::Unknown);
            }
            scopes.insert(scope.to_string(), requirements(reqs)?);
            Ok(())
        })?;
        out.insert(transport_name.to_string(), scopes);
        Ok(())
    })?;
    Ok(out)
}

fn requirements(v: &Json) -> R<Vec<Requirement>> {
    let items = match v {
        Json::Null => &[][..],
        Json::Array(items) => &items[..],
        other => {
            return Err(format!(
                "json: cannot unmarshal {} into Go value of type []json.RawMessage",
                other.kind()
            ));
        }
    };
    if items.is_empty() {
        return Err("List of verification policy requirements must not be empty".into());
    }
    items.iter().map(requirement).collect()
}

fn requirement(v: &Json) -> R<Requirement> {
    let t = type_field(v, "signature.prCommon")?;
    match t.as_str() {
        "insecureAcceptAnything" => {
            type_only(v, &t)?;
            Ok(Requirement::InsecureAcceptAnything)
        }
        "reject" => {
            type_only(v, &t)?;
            Ok(Requirement::Reject)
        }
        "signedBy" => signed_by(v).map(Requirement::SignedBy),
        "signedBaseLayer" => {
            let [ty, identity] = exact_fields(v, ["type", "baseLayerIdentity"])?;
            check_type(&go_string(ty)?, "signedBaseLayer")?;
            Ok(Requirement::SignedBaseLayer {
                base_layer_identity: signed_identity(identity)?,
            })
        }
        "sigstoreSigned" => sigstore_signed(v).map(Requirement::SigstoreSigned),
        other => Err(format!("Unknown policy requirement type {other:?}")),
    }
}

fn type_only(v: &Json, expected: &str) -> R<()> {
    let [ty] = exact_fields(v, ["type"])?;
    check_type(&go_string(ty)?, expected)
}

fn check_type(actual: &str, expected: &str) -> R<()> {
    if actual != expected {
        return Err(format!("Unexpected policy requirement type {actual:?}"));
    }
    Ok(())
}

fn signed_by(v: &Json) -> R<SignedBy> {
    let mut ty = String::new();
    let mut key_type: Option<KeyType> = None;
    let mut key_path: Option<String> = None;
    let mut key_paths: Option<Option<Vec<String>>> = None;
    let mut key_data: Option<Option<Vec<u8>>> = None;
    let mut identity: Option<&Json> = None;
    paranoid_object(v, |key, value| {
        match key {
            "type" => ty = go_string(value)?,
            "keyType" => key_type = Some(parse_key_type(value)?),
            "keyPath" => key_path = Some(go_string(value)?),
            "keyPaths" => key_paths = Some(go_string_list(value)?),
            "keyData" => key_data = Some(go_bytes(value)?),
            "signedIdentity" => identity = Some(value),
            _ => return Err(FieldError::Unknown),
        }
        Ok(())
    })?;
    check_type(&ty, "signedBy")?;
    let signed_identity = match identity {
        None => SignedIdentity::MatchRepoDigestOrExact,
        Some(j) => signed_identity(j)?,
    };
    match (key_path.is_some(), key_paths.is_some(), key_data.is_some()) {
        (true, false, false) | (false, true, false) | (false, false, true) => {}
        (false, false, false) => {
            return Err(
                "Exactly one of keyPath, keyPaths and keyData must be specified, none of them present"
                    .into(),
            );
        }
        _ => {
            return Err(
                "Exactly one of keyPath, keyPaths and keyData must be specified, more than one present"
                    .into(),
            );
        }
    }
    // newPRSignedBy: keyType validity, then the value-based count (an empty keyPath or a null
    // keyPaths/keyData counts as absent).
    let key_type = match key_type {
        Some(k) => k,
        None => return Err(r#"invalid keyType """#.into()),
    };
    let keys = match (key_path, key_paths, key_data) {
        (Some(p), _, _) if !p.is_empty() => KeySource::Path(p),
        (_, Some(Some(ps)), _) => KeySource::Paths(ps),
        (_, _, Some(Some(d))) => KeySource::Data(d),
        _ => return Err("exactly one of keyPath, keyPaths and keyData must be specified".into()),
    };
    Ok(SignedBy {
        key_type,
        keys,
        signed_identity,
    })
}

fn parse_key_type(v: &Json) -> R<KeyType> {
    let s = go_string(v)?;
    Ok(match s.as_str() {
        "GPGKeys" => KeyType::GpgKeys,
        "signedByGPGKeys" => KeyType::SignedByGpgKeys,
        "X509Certificates" => KeyType::X509Certificates,
        "signedByX509CAs" => KeyType::SignedByX509Cas,
        _ => return Err(format!("Unrecognized keyType value {s:?}")),
    })
}

#[derive(Default)]
struct SigstoreFields {
    key_path: Option<String>,
    key_paths: Option<Option<Vec<String>>>,
    key_data: Option<Option<Vec<u8>>>,
    key_datas: Option<Option<Vec<Vec<u8>>>>,
    fulcio: Option<Fulcio>,
    pki: Option<Pki>,
    rekor_path: Option<String>,
    rekor_paths: Option<Option<Vec<String>>>,
    rekor_data: Option<Option<Vec<u8>>>,
    rekor_datas: Option<Option<Vec<Vec<u8>>>>,
}

fn sigstore_signed(v: &Json) -> R<SigstoreSigned> {
    let mut ty = String::new();
    let mut f = SigstoreFields::default();
    let mut identity: Option<&Json> = None;
    paranoid_object(v, |key, value| {
        match key {
            "type" => ty = go_string(value)?,
            "keyPath" => f.key_path = Some(go_string(value)?),
            "keyPaths" => f.key_paths = Some(go_string_list(value)?),
            "keyData" => f.key_data = Some(go_bytes(value)?),
            "keyDatas" => f.key_datas = Some(go_bytes_list(value)?),
            "fulcio" => f.fulcio = Some(fulcio(value)?),
            "rekorPublicKeyPath" => f.rekor_path = Some(go_string(value)?),
            "rekorPublicKeyPaths" => f.rekor_paths = Some(go_string_list(value)?),
            "rekorPublicKeyData" => f.rekor_data = Some(go_bytes(value)?),
            "rekorPublicKeyDatas" => f.rekor_datas = Some(go_bytes_list(value)?),
            "pki" => f.pki = Some(pki(value)?),
            "signedIdentity" => identity = Some(value),
            _ => return Err(FieldError::Unknown),
        }
        Ok(())
    })?;
    check_type(&ty, "sigstoreSigned")?;
    let signed_identity = match identity {
        None => SignedIdentity::MatchRepoDigestOrExact,
        Some(j) => signed_identity(j)?,
    };

    // The option functions of newPRSigstoreSigned, in their order.
    if let Some(ps) = &f.key_paths
        && ps.as_ref().is_none_or(Vec::is_empty)
    {
        return Err(r#""keyPaths" contains no entries"#.into());
    }
    if let Some(ds) = &f.key_datas
        && ds.as_ref().is_none_or(Vec::is_empty)
    {
        return Err(r#""keyDatas" contains no entries"#.into());
    }
    if let Some(ps) = &f.rekor_paths
        && ps.as_ref().is_none_or(Vec::is_empty)
    {
        return Err(r#""rekorPublickeyPaths" contains no entries"#.into());
    }
    if let Some(ds) = &f.rekor_datas
        && ds.as_ref().is_none_or(Vec::is_empty)
    {
        return Err(r#""rekorPublickeyDatas" contains no entries"#.into());
    }

    let mut sources: Vec<SigstoreTrust> = Vec::new();
    if let Some(p) = f.key_path.filter(|p| !p.is_empty()) {
        sources.push(SigstoreTrust::PublicKeys(KeySource::Path(p)));
    }
    if let Some(Some(ps)) = f.key_paths {
        sources.push(SigstoreTrust::PublicKeys(KeySource::Paths(ps)));
    }
    if let Some(Some(d)) = f.key_data {
        sources.push(SigstoreTrust::PublicKeys(KeySource::Data(d)));
    }
    if let Some(Some(ds)) = f.key_datas {
        sources.push(SigstoreTrust::PublicKeys(KeySource::Datas(ds)));
    }
    if let Some(fu) = f.fulcio {
        sources.push(SigstoreTrust::Fulcio(fu));
    }
    if let Some(p) = f.pki {
        sources.push(SigstoreTrust::Pki(p));
    }
    if sources.len() != 1 {
        return Err(
            "exactly one of keyPath, keyPaths, keyData, keyDatas, fulcio, and pki must be specified"
                .into(),
        );
    }
    let Some(trust) = sources.pop() else {
        return Err("internal error: no trust source".into());
    };

    let mut rekor: Vec<KeySource> = Vec::new();
    if let Some(p) = f.rekor_path.filter(|p| !p.is_empty()) {
        rekor.push(KeySource::Path(p));
    }
    if let Some(Some(ps)) = f.rekor_paths {
        rekor.push(KeySource::Paths(ps));
    }
    if let Some(Some(d)) = f.rekor_data {
        rekor.push(KeySource::Data(d));
    }
    if let Some(Some(ds)) = f.rekor_datas {
        rekor.push(KeySource::Datas(ds));
    }
    if rekor.len() > 1 {
        return Err("at most one of rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas can be used simultaneously".into());
    }
    let rekor_public_keys = rekor.pop();
    match (&trust, &rekor_public_keys) {
        (SigstoreTrust::Fulcio(_), None) => {
            return Err("At least one of rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas must be specified if fulcio is used".into());
        }
        (SigstoreTrust::Pki(_), Some(_)) => {
            return Err("rekorPublickeyPath, rekorPublicKeyPaths, rekorPublickeyData and rekorPublicKeyDatas are not supported for pki".into());
        }
        _ => {}
    }
    Ok(SigstoreSigned {
        trust,
        rekor_public_keys,
        signed_identity,
    })
}

fn fulcio(v: &Json) -> R<Fulcio> {
    let (mut ca_path, mut ca_data, mut issuer, mut email) = (None, None, None, None);
    paranoid_object(v, |key, value| {
        match key {
            "caPath" => ca_path = Some(go_string(value)?),
            "caData" => ca_data = Some(go_bytes(value)?),
            "oidcIssuer" => issuer = Some(go_string(value)?),
            "subjectEmail" => email = Some(go_string(value)?),
            _ => return Err(FieldError::Unknown),
        }
        Ok(())
    })?;
    let ca_path = ca_path.filter(|p| !p.is_empty());
    let ca_data = ca_data.flatten();
    let ca = match (ca_path, ca_data) {
        (Some(_), Some(_)) => return Err("caPath and caData cannot be used simultaneously".into()),
        (None, None) => return Err("At least one of caPath and caData must be specified".into()),
        (Some(p), None) => CertSource::Path(p),
        (None, Some(d)) => CertSource::Data(d),
    };
    let oidc_issuer = issuer
        .filter(|s| !s.is_empty())
        .ok_or_else(|| "oidcIssuer not specified".to_string())?;
    let subject_email = email
        .filter(|s| !s.is_empty())
        .ok_or_else(|| "subjectEmail not specified".to_string())?;
    Ok(Fulcio {
        ca,
        oidc_issuer,
        subject_email,
    })
}

fn pki(v: &Json) -> R<Pki> {
    let (mut roots_path, mut roots_data, mut int_path, mut int_data) = (None, None, None, None);
    let (mut email, mut hostname) = (None, None);
    paranoid_object(v, |key, value| {
        match key {
            "caRootsPath" => roots_path = Some(go_string(value)?),
            "caRootsData" => roots_data = Some(go_bytes(value)?),
            "caIntermediatesPath" => int_path = Some(go_string(value)?),
            "caIntermediatesData" => int_data = Some(go_bytes(value)?),
            "subjectEmail" => email = Some(go_string(value)?),
            "subjectHostname" => hostname = Some(go_string(value)?),
            _ => return Err(FieldError::Unknown),
        }
        Ok(())
    })?;
    let ca_roots = match (roots_path.filter(|p| !p.is_empty()), roots_data.flatten()) {
        (Some(_), Some(_)) => {
            return Err("caRootsPath and caRootsData cannot be used simultaneously".into());
        }
        (None, None) => {
            return Err("At least one of caRootsPath and caRootsData must be specified".into());
        }
        (Some(p), None) => CertSource::Path(p),
        (None, Some(d)) => CertSource::Data(d),
    };
    let ca_intermediates = match (int_path.filter(|p| !p.is_empty()), int_data.flatten()) {
        (Some(_), Some(_)) => {
            return Err(
                "caIntermediatesPath and caIntermediatesData cannot be used simultaneously".into(),
            );
        }
        (None, None) => None,
        (Some(p), None) => Some(CertSource::Path(p)),
        (None, Some(d)) => Some(CertSource::Data(d)),
    };
    let subject_email = email.filter(|s| !s.is_empty());
    let subject_hostname = hostname.filter(|s| !s.is_empty());
    if subject_email.is_none() && subject_hostname.is_none() {
        return Err("At least one of subjectEmail, subjectHostname must be specified".into());
    }
    Ok(Pki {
        ca_roots,
        ca_intermediates,
        subject_email,
        subject_hostname,
    })
}

static REMAP_DOMAIN_RE: LazyLock<Regex> =
    LazyLock::new(|| crate::reference::regex(&format!("^{}$", domain_pattern())));
static REMAP_DOMAIN_PREFIX_RE: LazyLock<Regex> =
    LazyLock::new(|| crate::reference::regex(&format!("^{}/", domain_pattern())));
static REMAP_NAME_RE: LazyLock<Regex> =
    LazyLock::new(|| crate::reference::regex(&format!("^{}$", name_pattern())));

/// `validateIdentityRemappingPrefix`.
pub(crate) fn validate_remap_prefix(s: &str) -> R<()> {
    if REMAP_DOMAIN_RE.is_match(s)
        || (REMAP_NAME_RE.is_match(s) && REMAP_DOMAIN_PREFIX_RE.is_match(s))
    {
        return Ok(());
    }
    Err(format!("prefix {s:?} is not valid"))
}

/// Parses a `signedIdentity` / `baseLayerIdentity` object (`newPolicyReferenceMatchFromJSON`).
pub(crate) fn signed_identity(v: &Json) -> R<SignedIdentity> {
    let t = type_field(v, "signature.prmCommon")?;
    let unexpected = |actual: &str| format!("Unexpected policy requirement type {actual:?}");
    match t.as_str() {
        "matchExact" | "matchRepoDigestOrExact" | "matchRepository" => {
            let [ty] = exact_fields(v, ["type"])?;
            let ty = go_string(ty)?;
            if ty != t {
                return Err(unexpected(&ty));
            }
            Ok(match t.as_str() {
                "matchExact" => SignedIdentity::MatchExact,
                "matchRepoDigestOrExact" => SignedIdentity::MatchRepoDigestOrExact,
                _ => SignedIdentity::MatchRepository,
            })
        }
        "exactReference" => {
            let [ty, r] = exact_fields(v, ["type", "dockerReference"])?;
            let (ty, r) = (go_string(ty)?, go_string(r)?);
            if ty != t {
                return Err(unexpected(&ty));
            }
            let parsed = DockerReference::parse_normalized(&r)
                .map_err(|e| format!("Invalid format of dockerReference {r:?}: {e}"))?;
            if parsed.is_name_only() {
                return Err(format!(
                    "dockerReference {r:?} contains neither a tag nor digest"
                ));
            }
            Ok(SignedIdentity::ExactReference {
                docker_reference: r,
            })
        }
        "exactRepository" => {
            let [ty, r] = exact_fields(v, ["type", "dockerRepository"])?;
            let (ty, r) = (go_string(ty)?, go_string(r)?);
            if ty != t {
                return Err(unexpected(&ty));
            }
            DockerReference::parse_normalized(&r)
                .map_err(|e| format!("Invalid format of dockerRepository {r:?}: {e}"))?;
            Ok(SignedIdentity::ExactRepository {
                docker_repository: r,
            })
        }
        "remapIdentity" => {
            let [ty, p, s] = exact_fields(v, ["type", "prefix", "signedPrefix"])?;
            let (ty, prefix, signed_prefix) = (go_string(ty)?, go_string(p)?, go_string(s)?);
            if ty != t {
                return Err(unexpected(&ty));
            }
            validate_remap_prefix(&prefix)?;
            validate_remap_prefix(&signed_prefix)?;
            Ok(SignedIdentity::RemapIdentity {
                prefix,
                signed_prefix,
            })
        }
        other => Err(format!("Unknown policy reference match type {other:?}")),
    }
}

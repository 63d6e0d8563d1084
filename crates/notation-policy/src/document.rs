//! The OCI trust policy document (`trustpolicy.oci.json`, legacy `trustpolicy.json`), schema
//! version 1.0, parsed strictly: unknown fields and every rule of the Notary Project trust
//! policy specification (and notation's validation of it) are refused with an [`Error`] that
//! names the policy and field.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::enforcement::{
    Action, Level, Overrides, SignatureVerification, Validation, VerifyTimestamp,
};
use crate::error::Error;
use crate::identity::TrustedIdentity;

/// The only supported document version.
pub const SUPPORTED_VERSION: &str = "1.0";

/// The global registry scope.
pub const GLOBAL_SCOPE: &str = "*";

/// A validated trust policy document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicyDocument {
    policies: Vec<TrustPolicy>,
}

/// One validated policy statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustPolicy {
    name: String,
    registry_scopes: RegistryScopes,
    signature_verification: SignatureVerification,
    trust_stores: Vec<TrustStoreRef>,
    trusted_identities: Vec<TrustedIdentity>,
}

/// A policy's `registryScopes`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryScopes {
    /// `["*"]`: applies to every artifact without a more specific policy.
    Global,
    /// Fully qualified repositories (`registry/namespace/repo`).
    Repositories(Vec<String>),
}

/// The type of a named trust store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrustStoreType {
    /// `ca`: certificate authority roots.
    Ca,
    /// `signingAuthority`: signing authority roots.
    SigningAuthority,
    /// `tsa`: timestamping authority roots.
    Tsa,
}

impl TrustStoreType {
    /// The name used in `trustStores` and in the trust store directory.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ca => "ca",
            Self::SigningAuthority => "signingAuthority",
            Self::Tsa => "tsa",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        [Self::Ca, Self::SigningAuthority, Self::Tsa]
            .into_iter()
            .find(|t| t.as_str() == name)
    }
}

/// A `trustStores` entry: `type:name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TrustStoreRef {
    /// The store type.
    pub store_type: TrustStoreType,
    /// The named store (`[a-zA-Z0-9_.-]+`).
    pub name: String,
}

impl std::fmt::Display for TrustStoreRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.store_type.as_str(), self.name)
    }
}

impl TrustPolicyDocument {
    /// Parses and validates a document.
    pub fn from_json(json: &[u8]) -> Result<Self, Error> {
        let raw: RawDocument = serde_json::from_slice(json).map_err(|e| Error::Json {
            message: json_message(&e),
            line: e.line(),
            column: e.column(),
        })?;
        raw.validate()
    }

    /// The policies, in document order.
    pub fn policies(&self) -> &[TrustPolicy] {
        &self.policies
    }

    /// The policy with this name.
    pub fn policy(&self, name: &str) -> Option<&TrustPolicy> {
        self.policies.iter().find(|p| p.name == name)
    }

    /// The global (`"*"`) policy, if any.
    pub fn global_policy(&self) -> Option<&TrustPolicy> {
        self.policies.iter().find(|p| p.is_global())
    }
}

impl std::str::FromStr for TrustPolicyDocument {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Self::from_json(s.as_bytes())
    }
}

impl TrustPolicy {
    /// The policy name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The registry scopes.
    pub fn registry_scopes(&self) -> &RegistryScopes {
        &self.registry_scopes
    }

    /// True for the global (`"*"`) policy.
    pub fn is_global(&self) -> bool {
        self.registry_scopes == RegistryScopes::Global
    }

    /// The signature verification settings.
    pub fn signature_verification(&self) -> &SignatureVerification {
        &self.signature_verification
    }

    /// The verification level.
    pub fn level(&self) -> Level {
        self.signature_verification.level()
    }

    /// The action of a validation (level and overrides).
    pub fn action(&self, validation: Validation) -> Action {
        self.signature_verification.action(validation)
    }

    /// The trust stores, in document order (empty for `skip`).
    pub fn trust_stores(&self) -> &[TrustStoreRef] {
        &self.trust_stores
    }

    /// The names of the trust stores of one type.
    pub fn trust_stores_of(&self, store_type: TrustStoreType) -> impl Iterator<Item = &str> {
        self.trust_stores
            .iter()
            .filter(move |s| s.store_type == store_type)
            .map(|s| s.name.as_str())
    }

    /// The trusted identities (empty for `skip`; a single [`TrustedIdentity::Any`] for `"*"`).
    pub fn trusted_identities(&self) -> &[TrustedIdentity] {
        &self.trusted_identities
    }

    /// True when a signing certificate with this subject (attribute short name, value) is a
    /// trusted identity of this policy. Always false for `skip` (it has none).
    pub fn trusts_subject<N: AsRef<str>, V: AsRef<str>>(&self, subject: &[(N, V)]) -> bool {
        self.trusted_identities.iter().any(|i| i.matches(subject))
    }
}

#[derive(Deserialize)]
#[serde(expecting = "a trust policy document object")]
struct RawDocument {
    version: Option<String>,
    #[serde(rename = "trustPolicies")]
    trust_policies: Option<Vec<RawPolicy>>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(expecting = "a trust policy object")]
struct RawPolicy {
    name: Option<String>,
    #[serde(rename = "registryScopes")]
    registry_scopes: Option<Vec<String>>,
    #[serde(rename = "signatureVerification")]
    signature_verification: Option<RawSignatureVerification>,
    #[serde(rename = "trustStores")]
    trust_stores: Option<Vec<String>>,
    #[serde(rename = "trustedIdentities")]
    trusted_identities: Option<Vec<String>>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(expecting = "a signatureVerification object")]
struct RawSignatureVerification {
    level: Option<String>,
    #[serde(rename = "override")]
    overrides: Option<BTreeMap<String, String>>,
    #[serde(rename = "verifyTimestamp")]
    verify_timestamp: Option<String>,
    #[serde(flatten)]
    extra: BTreeMap<String, Value>,
}

fn json_message(e: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the error adds its own position.
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    }
}

impl RawDocument {
    fn validate(self) -> Result<TrustPolicyDocument, Error> {
        if let Some(field) = self.extra.into_keys().next() {
            return Err(Error::UnknownDocumentField { field });
        }
        match self.version.as_deref() {
            None | Some("") => return Err(Error::MissingVersion),
            Some(SUPPORTED_VERSION) => {}
            Some(other) => {
                return Err(Error::UnsupportedVersion {
                    version: other.to_owned(),
                });
            }
        }
        let raw_policies = self.trust_policies.unwrap_or_default();
        if raw_policies.is_empty() {
            return Err(Error::NoPolicies);
        }
        let mut policies: Vec<TrustPolicy> = Vec::with_capacity(raw_policies.len());
        for (index, raw) in raw_policies.into_iter().enumerate() {
            let policy = raw.validate(index)?;
            if policies.iter().any(|p| p.name == policy.name) {
                return Err(Error::DuplicateName {
                    policy: policy.name,
                });
            }
            policies.push(policy);
        }
        validate_scopes_across(&policies)?;
        Ok(TrustPolicyDocument { policies })
    }
}

impl RawPolicy {
    fn validate(self, index: usize) -> Result<TrustPolicy, Error> {
        let name = match self.name {
            Some(name) if !name.is_empty() => name,
            _ => return Err(Error::MissingName { index }),
        };
        if let Some(field) = self.extra.into_keys().next() {
            return Err(Error::UnknownPolicyField {
                policy: name,
                field,
            });
        }
        let Some(raw_sv) = self.signature_verification else {
            return Err(Error::MissingField {
                policy: name,
                field: "signatureVerification",
            });
        };
        let signature_verification = raw_sv.validate(&name)?;
        let level = signature_verification.level();

        let registry_scopes = validate_scopes(&name, self.registry_scopes)?;
        if level == Level::Skip && registry_scopes == RegistryScopes::Global {
            return Err(Error::GlobalSkip { policy: name });
        }

        let stores = self.trust_stores.unwrap_or_default();
        let identities = self.trusted_identities.unwrap_or_default();
        if level == Level::Skip {
            for (field, empty) in [
                ("trustStores", stores.is_empty()),
                ("trustedIdentities", identities.is_empty()),
            ] {
                if !empty {
                    return Err(Error::SkipWithTrust {
                        policy: name,
                        field,
                    });
                }
            }
        } else {
            for (field, empty) in [
                ("trustStores", stores.is_empty()),
                ("trustedIdentities", identities.is_empty()),
            ] {
                if empty {
                    return Err(Error::MissingTrust {
                        policy: name,
                        field,
                    });
                }
            }
        }
        let trust_stores = stores
            .iter()
            .map(|entry| parse_trust_store(&name, entry))
            .collect::<Result<Vec<_>, _>>()?;
        let trusted_identities = validate_identities(&name, &identities)?;

        Ok(TrustPolicy {
            name,
            registry_scopes,
            signature_verification,
            trust_stores,
            trusted_identities,
        })
    }
}

impl RawSignatureVerification {
    fn validate(self, policy: &str) -> Result<SignatureVerification, Error> {
        if let Some(field) = self.extra.into_keys().next() {
            return Err(Error::UnknownPolicyField {
                policy: policy.to_owned(),
                field: format!("signatureVerification.{field}"),
            });
        }
        let level = match self.level.as_deref() {
            None | Some("") => {
                return Err(Error::MissingField {
                    policy: policy.to_owned(),
                    field: "signatureVerification.level",
                });
            }
            Some(l) => Level::from_name(l).ok_or_else(|| Error::InvalidLevel {
                policy: policy.to_owned(),
                level: l.to_owned(),
            })?,
        };
        let raw_overrides = self.overrides.unwrap_or_default();
        if level == Level::Skip && !raw_overrides.is_empty() {
            return Err(Error::SkipOverridden {
                policy: policy.to_owned(),
            });
        }
        let mut overrides = Overrides::default();
        for (key, value) in raw_overrides {
            let validation = Validation::from_name(&key).ok_or_else(|| Error::UnknownOverride {
                policy: policy.to_owned(),
                key: key.clone(),
            })?;
            let (slot, allowed) = match validation {
                Validation::Integrity => {
                    return Err(Error::IntegrityOverridden {
                        policy: policy.to_owned(),
                    });
                }
                Validation::Authenticity => (&mut overrides.authenticity, "enforce or log"),
                Validation::AuthenticTimestamp => {
                    (&mut overrides.authentic_timestamp, "enforce or log")
                }
                Validation::Expiry => (&mut overrides.expiry, "enforce or log"),
                Validation::Revocation => (&mut overrides.revocation, "enforce, log or skip"),
            };
            let action = Action::from_name(&value)
                .filter(|a| *a != Action::Skip || validation == Validation::Revocation)
                .ok_or_else(|| Error::InvalidOverrideAction {
                    policy: policy.to_owned(),
                    key: key.clone(),
                    action: value.clone(),
                    allowed,
                })?;
            *slot = Some(action);
        }
        // notation treats an empty verifyTimestamp as absent (the default, `always`).
        let verify_timestamp = match self.verify_timestamp.as_deref() {
            None | Some("") => VerifyTimestamp::Always,
            Some("always") => VerifyTimestamp::Always,
            Some("afterCertExpiry") => VerifyTimestamp::AfterCertExpiry,
            Some(other) => {
                return Err(Error::InvalidVerifyTimestamp {
                    policy: policy.to_owned(),
                    value: other.to_owned(),
                });
            }
        };
        Ok(SignatureVerification {
            level,
            overrides,
            verify_timestamp,
        })
    }
}

fn validate_scopes(policy: &str, scopes: Option<Vec<String>>) -> Result<RegistryScopes, Error> {
    let Some(scopes) = scopes else {
        return Err(Error::MissingField {
            policy: policy.to_owned(),
            field: "registryScopes",
        });
    };
    if scopes.is_empty() {
        return Err(Error::EmptyRegistryScopes {
            policy: policy.to_owned(),
        });
    }
    if scopes.iter().any(|s| s == GLOBAL_SCOPE) {
        return if scopes.len() == 1 {
            Ok(RegistryScopes::Global)
        } else {
            Err(Error::GlobalScopeNotAlone {
                policy: policy.to_owned(),
            })
        };
    }
    for (i, scope) in scopes.iter().enumerate() {
        if scope.contains('*') {
            return Err(Error::WildcardScope {
                policy: policy.to_owned(),
                scope: scope.clone(),
            });
        }
        if !is_fully_qualified_repository(scope) {
            return Err(Error::InvalidScope {
                policy: policy.to_owned(),
                scope: scope.clone(),
            });
        }
        if scopes[..i].contains(scope) {
            return Err(Error::DuplicateScope {
                policy: policy.to_owned(),
                scope: scope.clone(),
            });
        }
    }
    Ok(RegistryScopes::Repositories(scopes))
}

fn validate_scopes_across(policies: &[TrustPolicy]) -> Result<(), Error> {
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    let mut global: Option<&str> = None;
    for policy in policies {
        match &policy.registry_scopes {
            RegistryScopes::Global => {
                if let Some(first) = global {
                    return Err(Error::MultipleGlobalPolicies {
                        first: first.to_owned(),
                        second: policy.name.clone(),
                    });
                }
                global = Some(&policy.name);
            }
            RegistryScopes::Repositories(scopes) => {
                for scope in scopes {
                    if let Some(first) = owner.insert(scope, &policy.name) {
                        return Err(Error::ScopeInMultiplePolicies {
                            scope: scope.clone(),
                            first: first.to_owned(),
                            second: policy.name.clone(),
                        });
                    }
                }
            }
        }
    }
    Ok(())
}

fn parse_trust_store(policy: &str, entry: &str) -> Result<TrustStoreRef, Error> {
    let Some((kind, name)) = entry.split_once(':') else {
        return Err(Error::MalformedTrustStore {
            policy: policy.to_owned(),
            entry: entry.to_owned(),
        });
    };
    let Some(store_type) = TrustStoreType::from_name(kind) else {
        return Err(Error::UnknownTrustStoreType {
            policy: policy.to_owned(),
            entry: entry.to_owned(),
        });
    };
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if !valid_name {
        return Err(Error::InvalidTrustStoreName {
            policy: policy.to_owned(),
            entry: entry.to_owned(),
        });
    }
    Ok(TrustStoreRef {
        store_type,
        name: name.to_owned(),
    })
}

fn validate_identities(policy: &str, entries: &[String]) -> Result<Vec<TrustedIdentity>, Error> {
    if entries.len() > 1 && entries.iter().any(|e| e == "*") {
        return Err(Error::WildcardIdentityNotAlone {
            policy: policy.to_owned(),
        });
    }
    let parsed = entries
        .iter()
        .map(|e| TrustedIdentity::parse_in_policy(policy, e))
        .collect::<Result<Vec<_>, _>>()?;
    for (i, a) in parsed.iter().enumerate() {
        for (j, b) in parsed.iter().enumerate() {
            if let (TrustedIdentity::X509Subject(da), TrustedIdentity::X509Subject(db)) = (a, b)
                && i != j
                && da.is_subset_of(db)
            {
                return Err(Error::OverlappingIdentities {
                    policy: policy.to_owned(),
                    first: entries[i].clone(),
                    second: entries[j].clone(),
                });
            }
        }
    }
    Ok(parsed)
}

/// True when `scope` is a fully qualified repository as notation accepts it:
/// `domain[:port]/path` where the domain is dot-separated alphanumeric labels (inner `-`
/// allowed) and the path is `/`-separated lower-case components as in the distribution
/// reference grammar. No scheme, tag, digest or wildcard.
pub fn is_fully_qualified_repository(scope: &str) -> bool {
    let Some((domain, path)) = scope.split_once('/') else {
        return false;
    };
    valid_domain(domain) && !path.is_empty() && path.split('/').all(valid_path_component)
}

fn valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (domain, None),
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            let b = label.as_bytes();
            match (b.first(), b.last()) {
                (Some(first), Some(last)) => {
                    first.is_ascii_alphanumeric()
                        && last.is_ascii_alphanumeric()
                        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
                }
                _ => false,
            }
        })
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn valid_path_component(component: &str) -> bool {
    let lower_alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    let mut i = 0;
    loop {
        // An alphanumeric run.
        let start = i;
        while i < bytes.len() && lower_alnum(bytes[i]) {
            i += 1;
        }
        if i == start {
            return false;
        }
        if i == bytes.len() {
            return true;
        }
        // A separator.
        let sep_start = i;
        while i < bytes.len() && matches!(bytes[i], b'.' | b'_' | b'-') {
            i += 1;
        }
        let sep = &component[sep_start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_grammar() {
        for ok in [
            "registry.example.com/team/app",
            "localhost:5000/app",
            "local/app",
            "docker.io/library/registry",
            "r.io/a.b/c_d/e__f/g---h/1",
            "my-registry.io:443/a",
        ] {
            assert!(is_fully_qualified_repository(ok), "{ok}");
        }
        for bad in [
            "app",
            "registry.example.com",
            "registry.example.com/",
            "https://registry.example.com/app",
            "registry.example.com/app:latest",
            "registry.example.com/app@sha256:abc",
            "registry.example.com/App",
            "registry.example.com//app",
            "registry.example.com/app/",
            "registry.example.com/a..b",
            "registry.example.com/a___b",
            "registry.example.com/-a",
            "registry.example.com/a.",
            "-registry.io/a",
            "registry-.io/a",
            "registry..io/a",
            "registry.io:/a",
            "registry.io:x/a",
            "reg_istry.io/a",
            "/a",
            "[::1]:5000/a",
        ] {
            assert!(!is_fully_qualified_repository(bad), "{bad}");
        }
    }
}

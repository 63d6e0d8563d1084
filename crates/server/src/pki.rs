//! The service's PKI, on top of the key backend: the organisation's internal CA (a root and an
//! intermediate whose keys live in the backend), the certificates of products' `caInfo`
//! entries (issued by the internal CA, or a CSR for an external CA), uploaded chains, and the
//! key a DetachedSignature operation signs with.
//!
//! Certificates are encoded and signed by signet-pki through the `Signer` seam: rcgen asks
//! the backend for each signature, so CA and end-entity keys never leave it. Those calls block
//! (PKCS#11), so every issuance runs on the blocking pool.

use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::json;
use signet_keys::{BackendSigner, KeyId, KeyType};
use signet_pki::cert::Certificate;
use signet_pki::dn::DistinguishedName;
use signet_pki::issue::{
    self, CaIssuer, CsrRequest, IntermediateRequest, LeafRequest, RootRequest,
};
use signet_pki::profile::CertProfile;
use signet_store::{AuditEvent, Error as StoreError, Kind, Record, Write};
use signet_workflow::product::{CaInfo, CertificateType, Product, UseCase};
use signet_workflow::{State, Timestamp};

use crate::app::{App, Caller};
use crate::error::{ApiError, ApiResult};
use crate::keys::OperationKey;
use crate::views::ready_record;

/// The id of the internal CA's record (one per organisation).
pub const ORG_CA_ID: &str = "internal";

/// Key type of the internal CA's keys.
const CA_KEY_TYPE: KeyType = KeyType::EcdsaP256;

/// A `caInfo` entry's key and certificates, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredCertificate {
    /// The entry's id.
    pub id: String,
    /// Its common name.
    pub cn: String,
    /// The product's id.
    pub product_id: String,
    /// The backend's key handle.
    pub key_id: String,
    /// The key type's wire name.
    pub key_type: String,
    /// The profile it follows.
    pub profile_id: String,
    /// Issued by an external CA.
    pub external_root: bool,
    /// The CSR (PEM), for an external CA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csr: Option<String>,
    /// The certificates (PEM), leaf first; empty until issued or uploaded.
    #[serde(default)]
    pub chain: Vec<String>,
}

impl StoredCertificate {
    /// The key to sign with.
    pub fn key(&self) -> ApiResult<OperationKey> {
        let key_type: KeyType = self
            .key_type
            .parse()
            .map_err(|e| ApiError::internal("reading a certificate record", &e))?;
        Ok((KeyId::new(self.key_id.clone()), key_type))
    }

    /// The API view (`GET /cas/cas/{id}`).
    pub fn view(&self, entry: Option<&CaInfo>) -> serde_json::Value {
        let mut v = json!({
            "id": self.id,
            "cn": self.cn,
            "productID": self.product_id,
            "keyType": self.key_type,
            "profileID": self.profile_id,
            "externalRoot": self.external_root,
            "state": if self.chain.is_empty() { State::Created.value() } else { State::Ready.value() },
        });
        if let Some(e) = entry {
            v["description"] = json!(e.description);
            v["certificateType"] = json!(e.certificate_type.as_str());
            v["useCase"] = json!(e.use_case.as_str());
        }
        if let Some(csr) = &self.csr {
            v["csr"] = json!(STANDARD.encode(csr));
        }
        if let Some((leaf, rest)) = self.chain.split_first() {
            v["certificate"] = json!(leaf);
            v["chain"] = json!(rest);
        }
        v
    }
}

/// The internal CA, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredOrgCa {
    /// The root's subject as given.
    pub subject: String,
    /// The root's key handle.
    pub root_key_id: String,
    /// The intermediate's key handle.
    pub intermediate_key_id: String,
    /// The key type's wire name (both keys).
    pub key_type: String,
    /// The root certificate (PEM).
    pub root: String,
    /// The intermediate certificate (PEM).
    pub intermediate: String,
}

impl StoredOrgCa {
    /// The chain as PEM: intermediate first, root last.
    pub fn chain_pem(&self) -> String {
        format!("{}{}", self.intermediate, self.root)
    }
}

/// Runs blocking key-backend work off the async threads.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(what, &e))?
}

/// What the requester asked for is refused (400); the service's own CA or key backend failing
/// is a fault (500, cause in the log); an expired or not-yet-valid internal CA needs an
/// administrator (409).
fn issue_error(e: issue::IssueError) -> ApiError {
    use issue::IssueError as E;
    match e {
        E::Signing(_)
        | E::BadSignerSignature { .. }
        | E::Encoding(_)
        | E::BadIssuerCertificate(_)
        | E::KeyMismatch { .. }
        | E::NotACa { .. }
        | E::PathLenExhausted { .. }
        | E::UnsupportedSignerAlgorithm { .. } => ApiError::internal("issuing a certificate", &e),
        E::IssuerNotValid { .. } => ApiError::conflict(e.to_string()),
        _ => ApiError::bad_request(e.to_string()),
    }
}

/// The internal CA, if initialised.
pub async fn org_ca(app: &App, org: &str) -> ApiResult<Option<(Record, StoredOrgCa)>> {
    let Some(record) = app.store.get(Kind::OrgCa, org, ORG_CA_ID).await? else {
        return Ok(None);
    };
    let ca = serde_json::from_value(record.doc.clone())
        .map_err(|e| ApiError::internal("reading the internal CA record", &e))?;
    Ok(Some((record, ca)))
}

/// Creates the internal CA with `subject` for the root (the intermediate's CN gets
/// " Intermediate" appended). [`ApiError`] 409 when it exists already.
pub async fn init_org_ca(
    app: &App,
    org: &str,
    caller: &Caller,
    subject: &str,
) -> ApiResult<StoredOrgCa> {
    let root_dn = parse_subject(subject)?;
    let cn = root_dn.common_name().ok_or_else(|| {
        ApiError::bad_request(format!(
            "subject: {subject:?} has no CN (e.g. CN=Acme Root CA,O=Acme)"
        ))
    })?;
    let mut intermediate_dn = DistinguishedName::new();
    for (ty, value) in root_dn.entries() {
        let value = if ty.short_name() == "CN" {
            format!("{cn} Intermediate")
        } else {
            value.clone()
        };
        intermediate_dn
            .push(*ty, &value)
            .map_err(|e| ApiError::bad_request(format!("subject: {e}")))?;
    }
    if org_ca(app, org).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "organisation {org} has an internal CA already"
        )));
    }
    let now = app.now();
    let clock_now = app.clock.now();
    let backend = app.keys.clone();
    let label = format!("{org}-internal-ca");
    let subject_text = subject.to_owned();
    let ca = blocking("creating the internal CA", move || {
        let root_id = backend.generate(&format!("{label}-root"), CA_KEY_TYPE)?;
        let inter_id = backend.generate(&format!("{label}-intermediate"), CA_KEY_TYPE)?;
        let root_signer = BackendSigner::new(backend.clone(), root_id.clone())?;
        let inter_signer = BackendSigner::new(backend.clone(), inter_id.clone())?;
        let mut root_req = RootRequest::new(root_dn);
        root_req.path_len = Some(1);
        let root = issue::issue_root(&root_req, &root_signer, clock_now).map_err(issue_error)?;
        let issuer = CaIssuer::new(&root.der, &root_signer).map_err(issue_error)?;
        let inter = issue::issue_intermediate(
            &IntermediateRequest::new(intermediate_dn),
            &signet_crypto::Signer::public_key(&inter_signer),
            &issuer,
            clock_now,
        )
        .map_err(issue_error)?;
        Ok(StoredOrgCa {
            subject: subject_text,
            root_key_id: root_id.as_str().to_owned(),
            intermediate_key_id: inter_id.as_str().to_owned(),
            key_type: CA_KEY_TYPE.as_str().to_owned(),
            root: root.pem,
            intermediate: inter.pem,
        })
    })
    .await?;
    let doc = serde_json::to_value(&ca).map_err(|e| ApiError::internal("encoding the CA", &e))?;
    let event = AuditEvent {
        at: now,
        actor: caller.actor.user.clone(),
        action: "ca.init".to_owned(),
        subject: ORG_CA_ID.to_owned(),
        details: json!({"subject": ca.subject, "rootKeyId": ca.root_key_id, "intermediateKeyId": ca.intermediate_key_id, "keyType": ca.key_type}),
    };
    let write = Write::Insert(ready_record(
        Kind::OrgCa,
        org,
        ORG_CA_ID,
        &ca.subject,
        None,
        doc,
        now,
    ));
    match app.store.write(org, vec![write], vec![event]).await {
        Ok(_) => Ok(ca),
        Err(StoreError::Conflict { .. }) => Err(ApiError::conflict(format!(
            "organisation {org} has an internal CA already"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// A DN as openssl writes it (`/CN=Acme Root CA/O=Acme`) or comma-separated
/// (`CN=Acme Root CA,O=Acme`), attributes in the order given.
fn parse_subject(subject: &str) -> ApiResult<DistinguishedName> {
    let text = subject.trim();
    let slashed = if text.starts_with('/') {
        text.to_owned()
    } else {
        if text.contains(['\\', '/']) {
            return Err(ApiError::bad_request(format!(
                "subject: {subject:?}: write it as /CN=…/O=… when values contain ',' '/' or '\\'"
            )));
        }
        text.split(',')
            .map(|part| format!("/{}", part.trim()))
            .collect()
    };
    DistinguishedName::parse(&slashed).map_err(|e| ApiError::bad_request(format!("subject: {e}")))
}

/// The internal CA, created with a default subject on first need.
async fn ensure_org_ca(app: &App, org: &str, caller: &Caller) -> ApiResult<StoredOrgCa> {
    if let Some((_, ca)) = org_ca(app, org).await? {
        return Ok(ca);
    }
    let subject = format!("CN={org} Root CA,O={org}");
    match init_org_ca(app, org, caller, &subject).await {
        Ok(ca) => Ok(ca),
        // Another request created it meanwhile.
        Err(e) if e.status == axum::http::StatusCode::CONFLICT => org_ca(app, org)
            .await?
            .map(|(_, ca)| ca)
            .ok_or_else(|| ApiError::internal("creating the internal CA", &"it vanished")),
        Err(e) => Err(e),
    }
}

/// A stored profile.
pub async fn load_profile(app: &App, org: &str, id: &str) -> ApiResult<Option<CertProfile>> {
    let Some(record) = app.store.get(Kind::Profile, org, id).await? else {
        return Ok(None);
    };
    let yaml = record
        .doc
        .get("profileYAML")
        .and_then(|v| v.as_str())
        .and_then(|b| STANDARD.decode(b).ok())
        .ok_or_else(|| ApiError::internal("reading a stored profile", &"no profileYAML"))?;
    CertProfile::parse(&yaml)
        .map(Some)
        .map_err(|e| ApiError::internal("reading a stored profile", &e))
}

/// Makes keys and certificates (or CSRs) for the product's `caInfo` entries that have none
/// yet; returns their records and audit events.
pub async fn prepare_certificates(
    app: &App,
    org: &str,
    caller: &Caller,
    product: &mut Product,
    now: Timestamp,
) -> ApiResult<(Vec<Write>, Vec<AuditEvent>)> {
    let product_id = product.id.clone().unwrap_or_default();
    let mut writes = Vec::new();
    let mut events = Vec::new();
    for (i, entry) in product.ca_info.iter_mut().enumerate() {
        if entry.id.is_some() {
            continue;
        }
        let path = format!("caInfo[{i}]");
        if entry.certificate_type != CertificateType::EndEntity {
            return Err(ApiError::bad_request(format!(
                "{path}.certificateType: only ENDENTITY certificates are issued for products; \
                 the organisation's CA comes from `signet remote pki ca init`"
            )));
        }
        if entry.leafs.as_ref().is_some_and(|l| !l.is_empty())
            || entry.cert_override_payload.is_some()
            || entry.key_override_id.is_some()
        {
            return Err(ApiError::bad_request(format!(
                "{path}: leafs, certOverridePayload and keyOverrideID are not supported"
            )));
        }
        let profile = load_profile(app, org, &entry.profile_id)
            .await?
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{path}.profileID: no PKI profile {:?} (create one with `signet remote pki profile create`)",
                    entry.profile_id
                ))
            })?;
        if profile.profile_type() != "END" {
            return Err(ApiError::bad_request(format!(
                "{path}.profileID: profile {:?} is a {} profile; an ENDENTITY certificate needs an ENDENTITY profile",
                entry.profile_id,
                profile.profile_type()
            )));
        }
        let id = uuid::Uuid::new_v4().to_string();
        let key_type = KeyType::from(entry.key_type);
        let external = entry.external_root.unwrap_or(false);
        let org_ca = if external {
            None
        } else {
            Some(ensure_org_ca(app, org, caller).await?)
        };
        let backend = app.keys.clone();
        let label = format!("{}-{}-{}", product.name, entry.cn, &id[..8]);
        let cn = entry.cn.clone();
        let clock_now = app.clock.now();
        let (key_id, csr, chain) = blocking("issuing a certificate", move || {
            let key_id = backend.generate(&label, key_type)?;
            let signer = BackendSigner::new(backend.clone(), key_id.clone())?;
            match org_ca {
                None => {
                    let req = CsrRequest::from_profile(&profile, &cn)
                        .map_err(|e| ApiError::bad_request(format!("{path}: {e}")))?;
                    let csr = issue::create_csr(&signer, &req).map_err(issue_error)?;
                    Ok((key_id, Some(csr), Vec::new()))
                }
                Some(ca) => {
                    let chain = issue_leaf(&backend, &ca, &profile, &cn, &signer, clock_now)
                        .map_err(|e| ApiError::new(e.status, format!("{path}: {}", e.detail)))?;
                    Ok((key_id, None, chain))
                }
            }
        })
        .await?;
        entry.id = Some(id.clone());
        entry.product_id = Some(product_id.clone());
        entry.csr = csr.as_ref().map(|c| STANDARD.encode(c));
        entry.state = Some(if chain.is_empty() {
            State::Created
        } else {
            State::Ready
        });
        let stored = StoredCertificate {
            id: id.clone(),
            cn: entry.cn.clone(),
            product_id: product_id.clone(),
            key_id: key_id.as_str().to_owned(),
            key_type: key_type.as_str().to_owned(),
            profile_id: entry.profile_id.clone(),
            external_root: external,
            csr,
            chain,
        };
        events.push(AuditEvent {
            at: now,
            actor: caller.actor.user.clone(),
            action: if external {
                "certificate.csr"
            } else {
                "certificate.issue"
            }
            .to_owned(),
            subject: product_id.clone(),
            details: json!({"certificate": id, "cn": stored.cn, "keyId": stored.key_id,
                "keyType": stored.key_type, "profile": stored.profile_id,
                "serial": stored.chain.first().and_then(|pem| serial_of(pem))}),
        });
        let doc = serde_json::to_value(&stored)
            .map_err(|e| ApiError::internal("encoding a certificate record", &e))?;
        writes.push(Write::Insert(ready_record(
            Kind::Certificate,
            org,
            &id,
            &stored.cn,
            Some(product_id.clone()),
            doc,
            now,
        )));
    }
    Ok((writes, events))
}

fn serial_of(pem: &str) -> Option<String> {
    Certificate::parse_pem_bundle(pem)
        .ok()
        .and_then(|c| c.into_iter().next())
        .map(|c| c.serial_hex())
}

/// Issues the leaf for `signer`'s key under the internal CA; returns the chain (PEM, leaf
/// first, root last).
fn issue_leaf(
    backend: &std::sync::Arc<dyn signet_keys::KeyBackend>,
    ca: &StoredOrgCa,
    profile: &CertProfile,
    cn: &str,
    signer: &BackendSigner<std::sync::Arc<dyn signet_keys::KeyBackend>>,
    now: SystemTime,
) -> ApiResult<Vec<String>> {
    let inter_signer =
        BackendSigner::new(backend.clone(), KeyId::new(ca.intermediate_key_id.clone()))?;
    let inter_der = issue::pem_certificates(&ca.intermediate)
        .map_err(issue_error)?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::internal("reading the internal CA", &"no intermediate"))?;
    let issuer = CaIssuer::new(&inter_der, &inter_signer).map_err(issue_error)?;
    let req =
        LeafRequest::from_profile(profile, cn).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let leaf = issue::issue_leaf(
        &req,
        &signet_crypto::Signer::public_key(signer),
        &issuer,
        now,
    )
    .map_err(issue_error)?;
    Ok(vec![leaf.pem, ca.intermediate.clone(), ca.root.clone()])
}

/// A stored certificate entry.
pub async fn load_certificate(
    app: &App,
    org: &str,
    id: &str,
) -> ApiResult<Option<(Record, StoredCertificate)>> {
    let Some(record) = app.store.get(Kind::Certificate, org, id).await? else {
        return Ok(None);
    };
    let stored = serde_json::from_value(record.doc.clone())
        .map_err(|e| ApiError::internal("reading a certificate record", &e))?;
    Ok(Some((record, stored)))
}

/// Checks an uploaded chain (PEM, leaf first) against the entry's key; returns the
/// certificates as PEM.
pub async fn check_upload(
    app: &App,
    stored: &StoredCertificate,
    chain_pem: &str,
) -> ApiResult<Vec<String>> {
    let certs = Certificate::parse_pem_bundle(chain_pem)
        .map_err(|e| ApiError::bad_request(format!("chain: {e}")))?;
    if certs.is_empty() {
        return Err(ApiError::bad_request(
            "chain: no CERTIFICATE blocks (give the PEM certificates, leaf first)",
        ));
    }
    let (key_id, _) = stored.key()?;
    let backend = app.keys.clone();
    let public = blocking("reading a public key", move || {
        Ok(backend.public_key(&key_id)?)
    })
    .await?;
    signet_pki::chain::check_chain_for_key(&certs, &public, app.clock.now())
        .map_err(|e| ApiError::bad_request(format!("chain: {e}")))?;
    Ok(certs.iter().map(Certificate::to_pem).collect())
}

/// The entry a DetachedSignature operation signs with: the product's first ENDENTITY
/// CodeSigning certificate.
pub fn signing_entry(product: &Product) -> Option<&CaInfo> {
    product.ca_info.iter().find(|c| {
        c.certificate_type == CertificateType::EndEntity && c.use_case == UseCase::CodeSigning
    })
}

/// The key and chain a DetachedSignature operation of `product` signs with; 409 until the
/// certificate exists.
pub async fn detached_key(
    app: &App,
    org: &str,
    product: &Product,
) -> ApiResult<(OperationKey, Vec<String>)> {
    let entry = signing_entry(product).ok_or_else(|| {
        ApiError::conflict(format!(
            "product {:?} has no ENDENTITY CodeSigning certificate in caInfo",
            product.name
        ))
    })?;
    let id = entry.id.clone().unwrap_or_default();
    let (_, stored) = load_certificate(app, org, &id).await?.ok_or_else(|| {
        ApiError::internal(
            "finding a product's certificate",
            &format!("no record {id}"),
        )
    })?;
    if stored.chain.is_empty() {
        return Err(ApiError::conflict(format!(
            "the certificate {:?} of product {:?} is not issued yet: get its CSR signed by the \
             external CA and upload the chain (signet remote product certificate upload -P {} --cn {:?} --chain FILE)",
            stored.cn,
            product.name,
            product.id.clone().unwrap_or_default(),
            stored.cn
        )));
    }
    Ok((stored.key()?, stored.chain))
}

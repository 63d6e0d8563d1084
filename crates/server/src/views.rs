//! What the API sends and receives beyond the workflow's own types: the list envelope, the
//! image-signing request body and view, stored documents, body extraction with problem
//! errors, and time formatting.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::Uri;
use serde::{Deserialize, Serialize};
use signet_workflow::digest::ImageIdentity;
use signet_workflow::request::{DecisionKind, SigningRequest};
use signet_workflow::{State, Timestamp};

use crate::app::Shared;
use crate::error::ApiError;

/// Items per page, as the hosted service.
pub const PAGE_SIZE: u64 = 10;

/// The list envelope.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Envelope<T> {
    /// Items in all pages.
    pub count: u64,
    /// This page's items.
    pub items: Vec<T>,
    /// Path and query of the next page (`""` on the last).
    pub next: String,
    /// Path and query of the previous page (`""` on the first).
    pub prev: String,
    /// Number of pages.
    pub pages: u64,
}

impl<T> Envelope<T> {
    /// The envelope of `items` (page `page` of `count` items) at `uri`.
    pub fn new(items: Vec<T>, count: u64, page: u64, uri: &Uri) -> Self {
        let pages = count.div_ceil(PAGE_SIZE).max(1);
        let link = |p: u64| {
            let mut query: Vec<String> = uri
                .query()
                .unwrap_or("")
                .split('&')
                .filter(|kv| !kv.is_empty() && !kv.starts_with("page="))
                .map(str::to_owned)
                .collect();
            query.push(format!("page={p}"));
            format!("{}?{}", uri.path(), query.join("&"))
        };
        Envelope {
            count,
            items,
            next: if page < pages {
                link(page + 1)
            } else {
                String::new()
            },
            prev: if page > 1 && page <= pages.saturating_add(1) {
                link(page - 1)
            } else {
                String::new()
            },
            pages,
        }
    }
}

/// `?page=N` (from 1).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The page, from 1.
    pub page: Option<u64>,
}

/// The offset of a 1-based page.
pub fn offset(page: Option<u64>) -> Result<(u64, u64), ApiError> {
    let page = page.unwrap_or(1);
    if page == 0 {
        return Err(ApiError::bad_request("page: pages count from 1"));
    }
    Ok((page, (page - 1).saturating_mul(PAGE_SIZE)))
}

/// A request body (at most the configured limit) as bytes; the limit answers 413 as a
/// problem document.
pub struct Body(pub Bytes);

impl FromRequest<Shared> for Body {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, ApiError> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(e) => Err(ApiError::new(
                e.status(),
                format!("cannot read the request body: {}", e.body_text()),
            )),
        }
    }
}

/// Parses a strict JSON body, naming the field at fault.
pub fn parse_json<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            ApiError::bad_request(format!("{what}: {inner}"))
        } else {
            ApiError::bad_request(format!("{what}.{path}: {inner}"))
        }
    })?;
    de.end()
        .map_err(|e| ApiError::bad_request(format!("{what}: {e}")))?;
    Ok(value)
}

/// RFC 3339 in UTC.
pub fn rfc3339(t: Timestamp) -> String {
    time::OffsetDateTime::from_unix_timestamp(t.unix_seconds())
        .ok()
        .and_then(|d| {
            d.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// `POST /imagesignings`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewImageSigning {
    /// A name for the request.
    pub name: String,
    /// What it is for.
    pub description: String,
    /// The product's id (or name).
    pub product_id: String,
    /// The operation's id (or name).
    pub id_product_operation: String,
    /// Standard base64 of the digest to sign (with `hashAlgorithm`).
    #[serde(default)]
    pub digest: Option<String>,
    /// `SHA256`, `SHA384` or `SHA512`.
    #[serde(default)]
    pub hash_algorithm: Option<String>,
    /// Standard base64 of the whole cosign payload (instead of `digest`).
    #[serde(default)]
    pub payload: Option<String>,
    /// How to sign, as the hosted service's array of one-property objects:
    /// `signaturePadding` (`PKCS_v1_5` | `PSS`), `saltLength` (the digest's length or
    /// `"hash"`), `signatureEncoding` (`DER` | `RAW`), `signatureFormat` (`PKCS1`),
    /// `hashAlgorithm` (an alias of the field above).
    #[serde(default)]
    #[schema(value_type = Option<Vec<Object>>)]
    pub optional_parameters: Option<serde_json::Value>,
}

/// A signing request as stored: the workflow's request plus what the API shows beside it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoredRequest {
    /// The workflow's request.
    pub request: SigningRequest,
    /// The operation's id.
    pub operation_id: String,
    /// The product's name at creation.
    pub product_name: String,
    /// The cosign payload (base64), when one was submitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// DetachedSignature: the signing certificate and its chain (PEM, leaf first), as they
    /// were when the signature was made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chain: Vec<String>,
}

/// The key of an operation, as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StoredKey {
    /// The backend's handle.
    pub key_id: String,
    /// The key type's wire name.
    pub key_type: String,
}

/// A recorded decision.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionView {
    /// Who.
    pub approver: String,
    /// `APPROVE` or `REJECT`.
    pub decision: String,
    /// Why.
    pub reason: String,
    /// When (RFC 3339).
    pub at: String,
}

/// The image a payload names.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageView {
    /// `critical.identity.docker-reference`.
    pub docker_reference: String,
    /// The repository.
    pub repository: String,
    /// `critical.image.docker-manifest-digest`.
    pub manifest_digest: String,
}

impl From<&ImageIdentity> for ImageView {
    fn from(i: &ImageIdentity) -> Self {
        ImageView {
            docker_reference: i.docker_reference.clone(),
            repository: i.repository.clone(),
            manifest_digest: i.manifest_digest.clone(),
        }
    }
}

/// A signing request as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageSigning {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The product's id.
    pub id_product: String,
    /// The operation's id.
    pub id_product_operation: String,
    /// The product's name.
    pub product_name: String,
    /// The operation's name.
    pub operation_name: String,
    /// State value (2 ApprovalRequired, 16 Ready, …).
    pub state: u32,
    /// Who asked.
    pub requester: String,
    /// Created (RFC 3339).
    pub creation_time: String,
    /// Last change (RFC 3339).
    pub update_time: String,
    /// Undecided requests fail after this (RFC 3339).
    pub expires_at: String,
    /// The digest's hash algorithm.
    pub hash_algorithm: String,
    /// Standard base64 of the digest.
    pub digest: String,
    /// The image, when a payload was submitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageView>,
    /// The payload (base64), when one was submitted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<String>,
    /// Distinct approvers needed.
    pub required_approvals: u32,
    /// Approved at once (requester in blanketGroups).
    pub auto_approved: bool,
    /// Decisions so far.
    pub approvals: Vec<DecisionView>,
    /// Standard base64 of the signature, once Ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// DetachedSignature: the signing certificate (PEM), once Ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<String>,
    /// DetachedSignature: the rest of the chain (PEM, intermediates first, root last).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chain: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_status: Option<String>,
    /// Failure detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<String>,
    /// The optional parameters the request was submitted with (one-property objects): shown
    /// to approvers, and by `GET /imagesignings/{id}?includeOptionalParameters=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<Object>>)]
    pub stored_optional_parameters: Option<Vec<serde_json::Value>>,
}

impl ImageSigning {
    /// The view with `storedOptionalParameters` (the list, empty when none were given).
    pub fn with_optional_parameters(stored: &StoredRequest) -> Self {
        let mut view = ImageSigning::from(stored);
        view.stored_optional_parameters = Some(stored.request.options.to_parameters());
        view
    }
}

impl From<&StoredRequest> for ImageSigning {
    fn from(s: &StoredRequest) -> Self {
        let r = &s.request;
        ImageSigning {
            id: r.id.clone(),
            name: r.name.clone(),
            description: r.description.clone(),
            id_product: r.product_id.clone(),
            id_product_operation: s.operation_id.clone(),
            product_name: s.product_name.clone(),
            operation_name: r.operation.clone(),
            state: r.state.value(),
            requester: r.requester.clone(),
            creation_time: rfc3339(r.created_at),
            update_time: rfc3339(r.updated_at),
            expires_at: rfc3339(r.expires_at),
            hash_algorithm: r.input.algorithm.as_str().to_owned(),
            digest: r.input.digest.clone(),
            image: r.input.image.as_ref().map(ImageView::from),
            payload: s.payload.clone(),
            required_approvals: r.required_approvals,
            auto_approved: r.auto_approved,
            approvals: r
                .decisions
                .iter()
                .map(|d| DecisionView {
                    approver: d.approver.clone(),
                    decision: match d.decision {
                        DecisionKind::Approve => "APPROVE",
                        DecisionKind::Reject => "REJECT",
                    }
                    .to_owned(),
                    reason: d.reason.clone(),
                    at: rfc3339(d.at),
                })
                .collect(),
            signature: r.signature.clone(),
            certificate: s.chain.first().cloned(),
            chain: (s.chain.len() > 1).then(|| s.chain[1..].concat()),
            error_status: r.error_status.and_then(|e| {
                serde_json::to_value(e)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
            }),
            error_detail: r.error_detail.clone(),
            stored_optional_parameters: None,
        }
    }
}

/// The `?state=` filter of a list: absent, or a state's number or name.
pub fn state_filter(state: Option<&str>) -> Result<Option<u32>, ApiError> {
    Ok(state.map(parse_state).transpose()?.map(State::value))
}

/// A state from a `?state=` filter: its number or its name.
pub fn parse_state(value: &str) -> Result<State, ApiError> {
    value
        .parse::<u64>()
        .ok()
        .and_then(State::from_value)
        .or_else(|| State::from_name(value))
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "state: {value:?} is not a state (1, 2, 4, 8, 16, 32, 64 or their names)"
            ))
        })
}

/// `Query<T>` whose rejection is a problem document naming the parameter.
pub struct Q<T>(pub T);

impl<T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<Shared> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &Shared,
    ) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or("");
        serde_urlencoded_query(query).map(Q)
    }
}

fn serde_urlencoded_query<T: serde::de::DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    axum::extract::Query::<T>::try_from_uri(
        &format!("/?{query}")
            .parse()
            .map_err(|_| ApiError::bad_request("the query string is not valid"))?,
    )
    .map(|q| q.0)
    .map_err(|e| ApiError::bad_request(format!("query: {}", e.body_text())))
}

/// A new record in state Ready that no group list filters (keys, certificates, profiles, the
/// internal CA): readable through the routes that own it only.
pub fn ready_record(
    kind: signet_store::Kind,
    org: &str,
    id: &str,
    name: &str,
    product_id: Option<String>,
    doc: serde_json::Value,
    now: Timestamp,
) -> signet_store::Record {
    signet_store::Record {
        kind,
        org: org.to_owned(),
        id: id.to_owned(),
        version: 0,
        state: State::Ready.value(),
        name: name.to_owned(),
        product_id,
        requester: None,
        created_at: now.unix_seconds(),
        updated_at: now.unix_seconds(),
        expires_at: None,
        readers: vec![],
        approvers: vec![],
        doc,
    }
}

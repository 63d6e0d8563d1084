//! `/imagesignings`: signing requests (the seed's `imagesigning`), their approvals, and the
//! signatures.
//!
//! A request is signed exactly once: the move to InProcess is a compare-and-swap on the
//! stored record's version, so of two replicas (or two approvers) racing, one signs and the
//! other sees the request already taken. The key use is audited in the same transaction that
//! stores the signature; if that write fails, the signature is never handed out.

use std::str::FromStr as _;

use axum::Json;
use axum::extract::{OriginalUri, Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;
use signet_keys::KeyId;
use signet_store::{AuditEvent, Filter, Kind, Record, Write};
use signet_workflow::State;
use signet_workflow::digest::{DigestInput, HashAlgorithm};
use signet_workflow::options::SigningOptions;
use signet_workflow::product::{OperationType, Product, ProductOperation};
use signet_workflow::request::{
    self, Approval, DecisionKind, NewRequest, SigningOutcome, SigningRequest,
};

use crate::app::{App, Caller, Shared};
use crate::error::{ApiError, ApiResult};
use crate::keys::{self, OperationKey, SignStyle};
use crate::routes::products::{find_operation, product_for_signing};
use crate::routes::{decode_doc, list_page};
use crate::views::{
    Body, Envelope, ImageSigning, NewImageSigning, PageQuery, Q, StoredKey, StoredRequest,
    parse_json, state_filter,
};

/// How often a decision is retried when another one changed the request meanwhile.
const DECIDE_ATTEMPTS: usize = 8;

/// Path `/{org}/api/v1/imagesignings/{id}`.
#[derive(Debug, Deserialize)]
pub struct IdPath {
    /// Organisation.
    pub org: String,
    /// Request id.
    pub id: String,
}

/// `GET /imagesignings/{id}` options.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GetQuery {
    /// Add `storedOptionalParameters` (the request's `optionalParameters`) to the answer.
    #[serde(default)]
    pub include_optional_parameters: Option<bool>,
}

/// `GET /imagesignings` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SigningQuery {
    /// Page, from 1.
    pub page: Option<u64>,
    /// State (number or name).
    pub state: Option<String>,
    /// Product id.
    pub product: Option<String>,
    /// Requester's user id.
    pub requester: Option<String>,
    /// Exact name.
    pub name: Option<String>,
}

fn decode(record: &Record) -> ApiResult<StoredRequest> {
    decode_doc(record)
}

fn record_of(app: &App, org: &str, stored: &StoredRequest, op: &ProductOperation) -> Record {
    let r = &stored.request;
    let rule = &op.approval_rule;
    let mut readers: Vec<String> = rule
        .allowed_groups
        .iter()
        .chain(&rule.approval_groups)
        .cloned()
        .collect();
    readers.push(app.config.admin_group.clone());
    readers.sort();
    readers.dedup();
    Record {
        kind: Kind::SigningRequest,
        org: org.to_owned(),
        id: r.id.clone(),
        version: 0,
        state: r.state.value(),
        name: r.name.clone(),
        product_id: Some(r.product_id.clone()),
        requester: Some(r.requester.clone()),
        created_at: r.created_at.unix_seconds(),
        updated_at: r.updated_at.unix_seconds(),
        expires_at: Some(r.expires_at.unix_seconds()),
        readers,
        approvers: rule.approval_groups.clone(),
        doc: serde_json::to_value(stored).unwrap_or_default(),
    }
}

fn may_read(app: &App, caller: &Caller, op: &ProductOperation) -> bool {
    let rule = &op.approval_rule;
    caller.in_group(&app.config.admin_group)
        || caller.in_any(&rule.allowed_groups)
        || caller.in_any(&rule.approval_groups)
}

/// The key of an operation (cached: the mapping never changes).
async fn operation_key(app: &App, org: &str, op: &ProductOperation) -> ApiResult<OperationKey> {
    let op_id = op.id.clone().unwrap_or_default();
    let cache_key = (org.to_owned(), op_id.clone());
    if let Some(key) = app
        .key_cache
        .read()
        .ok()
        .and_then(|c| c.get(&cache_key).cloned())
    {
        return Ok(key);
    }
    let record = app
        .store
        .get(Kind::OperationKey, org, &op_id)
        .await?
        .ok_or_else(|| {
            ApiError::internal(
                "finding the operation's key",
                &format!("operation {op_id} has no key record"),
            )
        })?;
    let key: StoredKey = serde_json::from_value(record.doc)
        .map_err(|e| ApiError::internal("reading a stored key record", &e))?;
    let key_type = signet_keys::KeyType::from_str(&key.key_type)
        .map_err(|e| ApiError::internal("reading a stored key record", &e))?;
    let key = (KeyId::new(key.key_id), key_type);
    if let Ok(mut cache) = app.key_cache.write() {
        cache.insert(cache_key, key.clone());
    }
    Ok(key)
}

/// The key an operation signs with, and for a DetachedSignature operation the certificate
/// chain (PEM, leaf first) that goes with the signature.
async fn signing_key(
    app: &App,
    org: &str,
    product: &Product,
    op: &ProductOperation,
) -> ApiResult<(OperationKey, Vec<String>)> {
    if op.operation_type == OperationType::DetachedSignature {
        return crate::pki::detached_key(app, org, product).await;
    }
    Ok((operation_key(app, org, op).await?, Vec::new()))
}

/// The product and operation a stored request targets, as they are now.
async fn target(
    app: &App,
    org: &str,
    stored: &StoredRequest,
) -> ApiResult<(std::sync::Arc<Product>, ProductOperation)> {
    let product = product_for_signing(app, org, &stored.request.product_id).await?;
    let op = find_operation(&product, &stored.operation_id)?.clone();
    Ok((product, op))
}

/// Signs a request that is InProcess with the operation's key and returns it finished
/// (Ready or Failed) with the audit entries of the key use; the caller stores both in one
/// write, and only then is the signature handed out.
async fn sign(
    app: &App,
    caller: &str,
    stored: &mut StoredRequest,
    ((key_id, key_type), chain): (OperationKey, Vec<String>),
) -> ApiResult<Vec<AuditEvent>> {
    let input = &stored.request.input;
    let hash = signet_keys::HashAlgorithm::from(input.algorithm);
    let style = SignStyle::of(&stored.request.options);
    let outcome = match input.digest_bytes() {
        Ok(digest) => match keys::sign(app, key_id.clone(), key_type, digest, hash, style).await {
            Ok(signature) => SigningOutcome::Signed(signature),
            Err(detail) => SigningOutcome::Failed(detail),
        },
        Err(e) => SigningOutcome::Failed(e.to_string()),
    };
    let ok = matches!(outcome, SigningOutcome::Signed(_));
    if ok {
        stored.chain = chain;
    }
    app.metrics.observe_signature(ok);
    let now = app.now();
    let finished = request::finish_signing(&stored.request, outcome, now)?;
    let events = vec![
        AuditEvent {
            at: now,
            actor: caller.to_owned(),
            action: "key.use".to_owned(),
            subject: finished.id.clone(),
            details: json!({
                "product": finished.product_id, "operation": stored.operation_id,
                "keyId": key_id.as_str(), "keyType": key_type.as_str(),
                "hashAlgorithm": hash.as_str(), "digest": finished.input.digest, "ok": ok,
                // What applied to this key: the padding for RSA, the encoding for ECDSA.
                "signaturePadding": key_type.is_rsa().then(|| style.padding.as_str()),
                "signatureEncoding": (!key_type.is_rsa()).then_some(if style.raw { "RAW" } else { "DER" }),
            }),
        },
        AuditEvent {
            at: now,
            actor: caller.to_owned(),
            action: if ok {
                "request.ready"
            } else {
                "request.failed"
            }
            .to_owned(),
            subject: finished.id.clone(),
            details: json!({"errorDetail": finished.error_detail}),
        },
    ];
    stored.request = finished;
    Ok(events)
}

/// Runs `work` to completion even if the caller goes away: a client that disconnects
/// mid-request drops the handler's future, and a signature already queued would then be made
/// and never stored or audited. Spawned, the signature and the write that records its key use
/// always finish together.
async fn to_completion<T: Send + 'static>(
    work: impl Future<Output = ApiResult<T>> + Send + 'static,
) -> ApiResult<T> {
    tokio::spawn(work)
        .await
        .map_err(|e| ApiError::internal("signing a request", &e))?
}

/// Signs a stored request that is InProcess (at `version`) and stores the outcome.
async fn sign_and_finish(
    app: &App,
    caller: &str,
    org: &str,
    mut stored: StoredRequest,
    product: &Product,
    op: &ProductOperation,
    version: i64,
) -> ApiResult<StoredRequest> {
    let key = signing_key(app, org, product, op).await?;
    let announced = app.store.announce_write();
    let events = sign(app, caller, &mut stored, key).await?;
    let write = Write::Update {
        record: record_of(app, org, &stored, op),
        expected_version: version,
    };
    app.store
        .write_announced(Some(announced), org, vec![write], events)
        .await?;
    Ok(stored)
}

/// `POST /imagesignings`.
#[utoipa::path(post, path = "/{org}/api/v1/imagesignings", tag = "imagesignings",
    params(("org" = String, Path, description = "Organisation")),
    request_body = NewImageSigning,
    responses((status = 202, description = "Stored (state 2), or signed at once (state 16)", body = ImageSigning),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Body(body): Body,
) -> ApiResult<Response> {
    let new: NewImageSigning = parse_json("imagesigning", &body)?;
    let org = caller.org.clone();
    let product = product_for_signing(&app, &org, &new.product_id).await?;
    let op = find_operation(&product, &new.id_product_operation)?.clone();
    // Authorization before anything about the input is revealed.
    if !caller.in_any(&op.approval_rule.allowed_groups) {
        return Err(signet_workflow::Error::NotAllowed {
            user: caller.actor.user.clone(),
            operation: op.name.clone(),
        }
        .into());
    }
    product.signing_operation(&op.name)?;
    if !matches!(
        op.operation_type,
        OperationType::DigestSigning | OperationType::SignOci | OperationType::DetachedSignature
    ) {
        return Err(ApiError::bad_request(format!(
            "operation {:?} is a {} operation; image signing requests need DigestSigning or DetachedSignature",
            op.name,
            op.operation_type.as_str()
        )));
    }
    let options = match &new.optional_parameters {
        Some(value) => SigningOptions::parse(value)?,
        None => SigningOptions::default(),
    };
    let top_level_hash = new
        .hash_algorithm
        .as_deref()
        .map(HashAlgorithm::parse_name)
        .transpose()?;
    // `optionalParameters` may name the hash too (the hosted service's alias).
    let hash = options.hash_algorithm_with(top_level_hash)?;
    let input = match (&new.digest, &new.payload) {
        (Some(digest), None) => {
            let algorithm = hash.ok_or_else(|| {
                ApiError::bad_request(
                    "hashAlgorithm: required with digest (SHA256, SHA384 or SHA512)",
                )
            })?;
            DigestInput::Digest {
                digest: digest.clone(),
                algorithm,
            }
        }
        (None, Some(payload)) => {
            let bytes = STANDARD
                .decode(payload.trim())
                .map_err(|e| ApiError::bad_request(format!("payload: not base64: {e}")))?;
            let algorithm = hash.unwrap_or(HashAlgorithm::Sha256);
            DigestInput::CosignPayload {
                payload: bytes,
                algorithm,
            }
        }
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "give either digest or payload, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::bad_request(
                "digest (with hashAlgorithm) or payload is required",
            ));
        }
    };
    // A DetachedSignature operation whose certificate is not issued yet refuses here (409),
    // before anyone approves a request it could not sign.
    let key = signing_key(&app, &org, &product, &op).await?;
    let key_type = key.0.1;
    let algorithm = match &input {
        DigestInput::Digest { algorithm, .. } | DigestInput::CosignPayload { algorithm, .. } => {
            *algorithm
        }
    };
    keys::check_hash(key_type, algorithm.into())?;
    let now = app.now();
    // Time-ordered (UUIDv7): new requests go to the end of the store's indexes instead of
    // a random page each, which keeps every durable write small.
    let id = uuid::Uuid::now_v7().to_string();
    let created = request::create(
        NewRequest {
            id: id.clone(),
            name: new.name,
            description: new.description,
            product_id: product.id.clone().unwrap_or_default(),
            input,
            options,
        },
        &caller.actor,
        &op,
        &app.request_config(),
        now,
    )?;
    let mut events = vec![AuditEvent {
        at: now,
        actor: caller.actor.user.clone(),
        action: "request.create".to_owned(),
        subject: id.clone(),
        details: json!({
            "product": created.product_id, "operation": op.id, "hashAlgorithm": created.input.algorithm.as_str(),
            "digest": created.input.digest, "image": created.input.image.as_ref().map(|i| &i.docker_reference),
            "autoApproved": created.auto_approved,
            "optionalParameters": created.options.to_parameters(),
        }),
    }];
    let auto = created.state == State::Approved;
    let request = if auto {
        events.push(AuditEvent {
            at: now,
            actor: caller.actor.user.clone(),
            action: "request.start".to_owned(),
            subject: id.clone(),
            details: json!({"approvedBy": "blanketGroups"}),
        });
        request::start_signing(&created, &op, now)?
    } else {
        created
    };
    let mut stored = StoredRequest {
        request,
        operation_id: op.id.clone().unwrap_or_default(),
        product_name: product.name.clone(),
        payload: new.payload.map(|p| p.trim().to_owned()),
        chain: Vec::new(),
    };
    let stored = to_completion({
        let (app, org, user) = (app.clone(), org.clone(), caller.actor.user.clone());
        async move {
            // Approved at once: sign, then store the request, its approval and the key use
            // in one write (announced while the signature is made, so that concurrent ones
            // share a commit). If that write fails the signature is dropped, never handed
            // out.
            let announced = auto.then(|| app.store.announce_write());
            if auto {
                events.extend(sign(&app, &user, &mut stored, key).await?);
            }
            app.store
                .write_announced(
                    announced,
                    &org,
                    vec![Write::Insert(record_of(&app, &org, &stored, &op))],
                    events,
                )
                .await?;
            Ok(stored)
        }
    })
    .await?;
    // The answer shows the optional parameters as stored, when any were given.
    let view = if stored.request.options.is_empty() {
        ImageSigning::from(&stored)
    } else {
        ImageSigning::with_optional_parameters(&stored)
    };
    Ok((StatusCode::ACCEPTED, Json(view)).into_response())
}

/// `GET /imagesignings`.
#[utoipa::path(get, path = "/{org}/api/v1/imagesignings", tag = "imagesignings",
    params(("org" = String, Path, description = "Organisation"), SigningQuery),
    responses((status = 200, description = "Envelope of ImageSigning", body = Object)),
    security(("bearer" = [])))]
pub async fn list(
    AxState(app): AxState<Shared>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Q(query): Q<SigningQuery>,
) -> ApiResult<Json<Envelope<ImageSigning>>> {
    let filter = Filter {
        state: state_filter(query.state.as_deref())?,
        name: query.name.clone(),
        product_id: query.product.clone(),
        requester: query.requester.clone(),
        readable_by: Some(caller.groups()),
        ..Filter::default()
    };
    page_of(&app, &caller, &filter, query.page, &uri, false).await
}

/// A page of requests; `with_options` adds each one's `storedOptionalParameters`.
async fn page_of(
    app: &App,
    caller: &Caller,
    filter: &Filter,
    page: Option<u64>,
    uri: &axum::http::Uri,
    with_options: bool,
) -> ApiResult<Json<Envelope<ImageSigning>>> {
    list_page(
        app,
        &caller.org,
        Kind::SigningRequest,
        filter,
        page,
        uri,
        |s: StoredRequest| {
            if with_options {
                ImageSigning::with_optional_parameters(&s)
            } else {
                ImageSigning::from(&s)
            }
        },
    )
    .await
}

async fn load(
    app: &App,
    caller: &Caller,
    id: &str,
) -> ApiResult<(Record, StoredRequest, ProductOperation)> {
    let record = app
        .store
        .get(Kind::SigningRequest, &caller.org, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no image signing request {id:?}")))?;
    let stored = decode(&record)?;
    let (_, op) = target(app, &caller.org, &stored).await?;
    if !may_read(app, caller, &op) {
        return Err(ApiError::forbidden(format!(
            "user {} may not read request {id}: not in the operation's allowedGroups or approvalGroups",
            caller.actor.user
        )));
    }
    Ok((record, stored, op))
}

/// `GET /imagesignings/{id}`.
#[utoipa::path(get, path = "/{org}/api/v1/imagesignings/{id}", tag = "imagesignings",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Request id"), GetQuery),
    responses((status = 200, body = ImageSigning), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
    Q(query): Q<GetQuery>,
) -> ApiResult<Json<ImageSigning>> {
    let (_, stored, _) = load(&app, &caller, &path.id).await?;
    if query.include_optional_parameters == Some(true) {
        return Ok(Json(ImageSigning::with_optional_parameters(&stored)));
    }
    Ok(Json(ImageSigning::from(&stored)))
}

/// `GET /imagesignings/{id}/signature`.
#[utoipa::path(get, path = "/{org}/api/v1/imagesignings/{id}/signature", tag = "imagesignings",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Request id")),
    responses((status = 200, description = "The raw signature", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 409, description = "Not signed (yet)", body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn signature(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> ApiResult<Response> {
    let (_, stored, _) = load(&app, &caller, &path.id).await?;
    let r = &stored.request;
    let signature = r
        .signature
        .as_deref()
        .filter(|_| r.state == State::Ready)
        .ok_or_else(|| {
            ApiError::conflict(format!(
                "request {} is {}, not Ready: no signature",
                r.id, r.state
            ))
        })?;
    let bytes = STANDARD
        .decode(signature)
        .map_err(|e| ApiError::internal("reading a stored signature", &e))?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
}

/// `GET /imagesignings/approvals`.
#[utoipa::path(get, path = "/{org}/api/v1/imagesignings/approvals", tag = "imagesignings",
    params(("org" = String, Path, description = "Organisation"), PageQuery),
    responses((status = 200, description = "Envelope of requests waiting for the caller", body = Object),
        (status = 403, description = "The caller approves no operation", body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn approvals(
    AxState(app): AxState<Shared>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Q(query): Q<PageQuery>,
) -> ApiResult<Json<Envelope<ImageSigning>>> {
    let approves_something = app
        .store
        .list(
            Kind::Product,
            &caller.org,
            &Filter {
                decidable_by: Some(caller.groups()),
                ..Filter::default()
            },
            0,
            1,
        )
        .await?
        .total
        > 0;
    if !approves_something {
        return Err(ApiError::forbidden(format!(
            "user {} is not in the approvalGroups of any operation",
            caller.actor.user
        )));
    }
    let filter = Filter {
        state: Some(State::ApprovalRequired.value()),
        decidable_by: Some(caller.groups()),
        ..Filter::default()
    };
    page_of(&app, &caller, &filter, query.page, &uri, true).await
}

/// `GET /imagesignings/approvals/{id}`.
#[utoipa::path(get, path = "/{org}/api/v1/imagesignings/approvals/{id}", tag = "imagesignings",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Request id")),
    responses((status = 200, body = ImageSigning), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn approval(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> ApiResult<Json<ImageSigning>> {
    let (_, stored, op) = load(&app, &caller, &path.id).await?;
    if !caller.in_any(&op.approval_rule.approval_groups) {
        return Err(ApiError::forbidden(format!(
            "user {} is not in the approvalGroups of operation {:?}",
            caller.actor.user, op.name
        )));
    }
    Ok(Json(ImageSigning::with_optional_parameters(&stored)))
}

/// `POST /imagesignings/approvals`.
#[utoipa::path(post, path = "/{org}/api/v1/imagesignings/approvals", tag = "imagesignings",
    params(("org" = String, Path, description = "Organisation")),
    request_body(content = Object, description = "{requestId, decision: APPROVE|REJECT, reason}"),
    responses((status = 204, description = "Decided (and signed, when this approval completes it)"),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn decide(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Body(body): Body,
) -> ApiResult<StatusCode> {
    let approval = Approval::parse(&body)?;
    let org = caller.org.clone();
    for _ in 0..DECIDE_ATTEMPTS {
        let record = app
            .store
            .get(Kind::SigningRequest, &org, &approval.request_id)
            .await?
            .ok_or_else(|| {
                ApiError::not_found(format!(
                    "no image signing request {:?}",
                    approval.request_id
                ))
            })?;
        let mut stored = decode(&record)?;
        let (product, op) = target(&app, &org, &stored).await?;
        let now = app.now();
        let decided = request::decide(
            &stored.request,
            &caller.actor,
            &op,
            approval.decision,
            &approval.reason,
            now,
        )?;
        let mut events = vec![AuditEvent {
            at: now,
            actor: caller.actor.user.clone(),
            action: match approval.decision {
                DecisionKind::Approve => "request.approve",
                DecisionKind::Reject => "request.reject",
            }
            .to_owned(),
            subject: decided.id.clone(),
            details: json!({"reason": approval.reason, "state": decided.state.value()}),
        }];
        let start = decided.state == State::Approved;
        let next = if start {
            // Fail closed: a product disabled since the request was made signs nothing.
            product.signing_operation(&op.name)?;
            events.push(AuditEvent {
                at: now,
                actor: caller.actor.user.clone(),
                action: "request.start".to_owned(),
                subject: decided.id.clone(),
                details: json!({"approvers": decided.approvers()}),
            });
            request::start_signing(&decided, &op, now)?
        } else {
            decided
        };
        stored.request = next;
        let write = Write::Update {
            record: record_of(&app, &org, &stored, &op),
            expected_version: record.version,
        };
        match app.store.write(&org, vec![write], events).await {
            Ok(_) => {}
            Err(signet_store::Error::Stale { .. }) => continue,
            Err(e) => return Err(e.into()),
        }
        if start {
            let (app, user, org) = (app.clone(), caller.actor.user.clone(), org.clone());
            let version = record.version + 1;
            to_completion(async move {
                sign_and_finish(&app, &user, &org, stored, &product, &op, version).await
            })
            .await?;
        }
        return Ok(StatusCode::NO_CONTENT);
    }
    Err(ApiError::conflict(format!(
        "request {} kept changing while it was decided; retry",
        approval.request_id
    )))
}

/// Moves undecided requests past their deadline to Failed; returns how many.
pub async fn expire_due(app: &App) -> Result<usize, signet_store::Error> {
    let now = app.now();
    let due = app
        .store
        .expired(Kind::SigningRequest, now.unix_seconds(), 100)
        .await?;
    system_transition(app, due, "request.expire", |record, stored| {
        let next = request::expire(&stored.request, now).ok()?;
        Some((next, json!({"expiresAt": record.expires_at})))
    })
    .await
}

/// Fails requests left InProcess longer than the signing timeout (a replica stopped between
/// taking the request and storing its signature). They are never signed again on their own:
/// if the original signer still finishes, its write loses the version check and its
/// signature is dropped. Returns how many were failed.
pub async fn fail_stalled(app: &App) -> Result<usize, signet_store::Error> {
    let now = app.now();
    let timeout = i64::try_from(app.signing_timeout.as_secs()).unwrap_or(i64::MAX);
    let before = now.unix_seconds().saturating_sub(timeout);
    let stalled = app
        .store
        .stalled(Kind::SigningRequest, State::InProcess.value(), before, 100)
        .await?;
    let detail = format!(
        "interrupted: no signature was stored within {} s of signing starting; submit a new request",
        app.signing_timeout.as_secs()
    );
    system_transition(app, stalled, "request.failed", |record, stored| {
        let outcome = SigningOutcome::Failed(detail.clone());
        let next = request::finish_signing(&stored.request, outcome, now).ok()?;
        let details = json!({"errorDetail": next.error_detail, "stalledSince": record.updated_at});
        Some((next, details))
    })
    .await
}

/// Applies a transition the service makes on its own (actor `system`) to each record, with
/// a version check: a record another replica changed meanwhile is left alone. Records the
/// transition does not apply to are skipped. Returns how many changed.
async fn system_transition(
    app: &App,
    records: Vec<Record>,
    action: &str,
    transition: impl Fn(&Record, &StoredRequest) -> Option<(SigningRequest, serde_json::Value)>,
) -> Result<usize, signet_store::Error> {
    let now = app.now();
    let mut changed = 0;
    for record in records {
        let Ok(mut stored) = decode(&record) else {
            continue;
        };
        let Some((next, details)) = transition(&record, &stored) else {
            continue;
        };
        let Ok((_, op)) = target(app, &record.org, &stored).await else {
            continue;
        };
        stored.request = next;
        let event = AuditEvent {
            at: now,
            actor: "system".to_owned(),
            action: action.to_owned(),
            subject: record.id.clone(),
            details,
        };
        let write = Write::Update {
            record: record_of(app, &record.org, &stored, &op),
            expected_version: record.version,
        };
        match app.store.write(&record.org, vec![write], vec![event]).await {
            Ok(_) => changed += 1,
            Err(signet_store::Error::Stale { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(changed)
}

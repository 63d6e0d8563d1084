//! `/products`: create, read, list, change and disable products; approve or reject new
//! products and changes; download an operation's public key.
//!
//! A new product and every change to its operations or approval rules wait for the
//! organisation's product-approval group (never the submitter). Keys are generated when an
//! operation is submitted, so approvers see the public key they approve.

use std::sync::Arc;

use axum::Json;
use axum::extract::{OriginalUri, Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;
use signet_store::{AuditEvent, Filter, Kind, Record, Write};
use signet_workflow::product::{Product, ProductOperation};
use signet_workflow::product_approval::{
    self, ChangeOutcome, ChangeType, ProductRequest, decide_product,
};
use signet_workflow::request::Approval;
use signet_workflow::{State, Timestamp};

use crate::app::{App, Caller, Shared};
use crate::error::{ApiError, ApiResult};
use crate::keys;
use crate::pki;
use crate::routes::{decode_doc, list_page};
use crate::views::{Body, Envelope, PageQuery, Q, StoredKey, ready_record, state_filter};

/// Path `/{org}/api/v1/products/{id}`.
#[derive(Debug, Deserialize)]
pub struct IdPath {
    /// Organisation.
    pub org: String,
    /// Product (or request) id.
    pub id: String,
}

/// Path `/{org}/api/v1/products/{id}/operations/{op}/publickey`.
#[derive(Debug, Deserialize)]
pub struct OpPath {
    /// Organisation.
    pub org: String,
    /// Product id.
    pub id: String,
    /// Operation id or name.
    pub op: String,
}

/// `GET /products` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProductQuery {
    /// Page, from 1.
    pub page: Option<u64>,
    /// Exact name.
    pub name: Option<String>,
    /// State (number or name).
    pub state: Option<String>,
    /// Product type (accepted, not filtered).
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// 403 unless the caller is in the organisation's admin group.
pub(crate) fn require_admin(app: &App, caller: &Caller, what: &str) -> ApiResult<()> {
    if caller.in_group(&app.config.admin_group) {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "user {} may not {what}: not a member of the admin group {}",
        caller.actor.user, app.config.admin_group
    )))
}

/// Every group a product names (any of them may read it).
fn named_groups(product: &Product) -> Vec<String> {
    let mut groups: Vec<String> = product
        .product_operations
        .iter()
        .flat_map(|op| {
            let r = &op.approval_rule;
            r.allowed_groups
                .iter()
                .chain(&r.approval_groups)
                .chain(&r.blanket_groups)
                .cloned()
        })
        .collect();
    groups.sort();
    groups.dedup();
    groups
}

fn product_readers(app: &App, product: &Product) -> Vec<String> {
    let mut readers = named_groups(product);
    readers.push(app.config.admin_group.clone());
    readers.push(app.config.product_approval_group.clone());
    readers.sort();
    readers.dedup();
    readers
}

fn operation_approvers(product: &Product) -> Vec<String> {
    let mut groups: Vec<String> = product
        .product_operations
        .iter()
        .flat_map(|op| op.approval_rule.approval_groups.iter().cloned())
        .collect();
    groups.sort();
    groups.dedup();
    groups
}

fn may_read(app: &App, caller: &Caller, product: &Product) -> bool {
    caller.in_any(&product_readers(app, product))
}

/// The stored record of a product.
pub fn product_record(
    app: &App,
    org: &str,
    product: &Product,
    created_at: i64,
    now: i64,
) -> Record {
    Record {
        kind: Kind::Product,
        org: org.to_owned(),
        id: product.id.clone().unwrap_or_default(),
        version: 0,
        state: product.state.map_or(0, State::value),
        name: product.name.clone(),
        product_id: product.id.clone(),
        requester: None,
        created_at,
        updated_at: now,
        expires_at: None,
        readers: product_readers(app, product),
        approvers: operation_approvers(product),
        doc: serde_json::to_value(product).unwrap_or_default(),
    }
}

fn request_record(app: &App, org: &str, request: &ProductRequest, now: i64) -> Record {
    Record {
        kind: Kind::ProductRequest,
        org: org.to_owned(),
        id: request.id.clone(),
        version: 0,
        state: request.state.value(),
        name: request.product.name.clone(),
        product_id: request.product.id.clone(),
        requester: Some(request.requested_by.clone()),
        created_at: request.created_at.unix_seconds(),
        updated_at: now,
        expires_at: None,
        readers: vec![
            app.config.admin_group.clone(),
            app.config.product_approval_group.clone(),
        ],
        approvers: vec![app.config.product_approval_group.clone()],
        doc: serde_json::to_value(request).unwrap_or_default(),
    }
}

/// Decodes a stored product.
pub fn decode_product(record: &Record) -> ApiResult<Product> {
    decode_doc(record)
}

fn decode_request(record: &Record) -> ApiResult<ProductRequest> {
    decode_doc(record)
}

/// Products kept decoded for the signing path, at most this many (then the cache starts over).
const PRODUCT_CACHE_MAX: usize = 10_000;

/// (org, product id) → the product decoded, with the version of the record it came from.
pub type ProductCache =
    std::sync::RwLock<std::collections::HashMap<(String, String), (i64, Arc<Product>)>>;

/// A product by id (or by name) for the signing path: the decoded product is kept per
/// (org, id) with its record's version, and reused while a version-only read finds the
/// store's record at that version. Every change to a product bumps its version in the store,
/// whichever replica makes it, so a copy is never used after its record changed; what is
/// saved is decoding the product's JSON on every request.
pub async fn product_for_signing(
    app: &App,
    org: &str,
    id_or_name: &str,
) -> ApiResult<Arc<Product>> {
    let record = match app.store.version(Kind::Product, org, id_or_name).await? {
        Some(version) => {
            let key = (org.to_owned(), id_or_name.to_owned());
            if let Some((cached, product)) = app
                .product_cache
                .read()
                .ok()
                .and_then(|c| c.get(&key).cloned())
                && cached == version
            {
                return Ok(product);
            }
            app.store.get(Kind::Product, org, id_or_name).await?
        }
        // No product has this id: a name (read whole every time, as its version cannot be
        // read by name).
        None => {
            app.store
                .get_by_name(Kind::Product, org, id_or_name)
                .await?
        }
    };
    let record = record.ok_or_else(|| no_product(id_or_name))?;
    let product = Arc::new(decode_product(&record)?);
    if let Ok(mut cache) = app.product_cache.write() {
        if cache.len() >= PRODUCT_CACHE_MAX {
            cache.clear();
        }
        cache.insert((record.org, record.id), (record.version, product.clone()));
    }
    Ok(product)
}

fn no_product(id_or_name: &str) -> ApiError {
    ApiError::not_found(format!("no product {id_or_name:?}"))
}

/// Finds a product by id, or by name.
pub async fn find_product(app: &App, org: &str, id_or_name: &str) -> ApiResult<(Record, Product)> {
    let record = match app.store.get(Kind::Product, org, id_or_name).await? {
        Some(r) => Some(r),
        None => {
            app.store
                .get_by_name(Kind::Product, org, id_or_name)
                .await?
        }
    };
    let record = record.ok_or_else(|| no_product(id_or_name))?;
    let product = decode_product(&record)?;
    Ok((record, product))
}

/// Finds an operation by id, or by name.
pub fn find_operation<'a>(
    product: &'a Product,
    id_or_name: &str,
) -> ApiResult<&'a ProductOperation> {
    product
        .product_operations
        .iter()
        .find(|op| op.id.as_deref() == Some(id_or_name))
        .or_else(|| {
            product
                .product_operations
                .iter()
                .find(|op| op.name == id_or_name)
        })
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "product {:?} has no operation {id_or_name:?}",
                product.name
            ))
        })
}

fn parse_product(body: &[u8]) -> ApiResult<Product> {
    let mut product = Product::parse(body)?;
    // Server-side fields are the server's.
    product.id = None;
    product.state = None;
    product.external_request_id = None;
    for op in &mut product.product_operations {
        op.id = None;
        if let Some(token) = &mut op.token {
            token.public_key = None;
        }
        if op
            .token
            .as_ref()
            .is_some_and(|t| t.key_override_id.is_some())
        {
            return Err(ApiError::bad_request(format!(
                "productOperations: operation {:?}: token.keyOverrideID (importing an existing \
                 HSM key) is not supported",
                op.name
            )));
        }
    }
    for entry in &mut product.ca_info {
        entry.id = None;
        entry.csr = None;
        entry.state = None;
        entry.product_id = None;
        entry.issuer_ca_id = None;
        entry.originating_id = None;
        entry.external_request_id = None;
    }
    Ok(product)
}

/// Generates keys for the operations that have none yet; returns their key records and audit
/// events.
async fn generate_keys(
    app: &App,
    org: &str,
    caller: &Caller,
    product: &mut Product,
    now: Timestamp,
) -> ApiResult<(Vec<Write>, Vec<AuditEvent>)> {
    let product_id = product.id.clone().unwrap_or_default();
    let mut writes = Vec::new();
    let mut events = Vec::new();
    for op in &mut product.product_operations {
        let op_id = op.id.clone().unwrap_or_default();
        let Some(token) = &mut op.token else { continue };
        if token.public_key.is_some() {
            continue;
        }
        let key_type = signet_keys::KeyType::from(token.key_type);
        let label = format!(
            "{}-{}-{}",
            product.name,
            op.name,
            &op_id[..8.min(op_id.len())]
        );
        let (key_id, public) = keys::generate(app, label, key_type).await?;
        token.public_key = Some(public);
        let doc = serde_json::to_value(StoredKey {
            key_id: key_id.as_str().to_owned(),
            key_type: key_type.as_str().to_owned(),
        })
        .map_err(|e| ApiError::internal("encoding a key record", &e))?;
        writes.push(Write::Insert(ready_record(
            Kind::OperationKey,
            org,
            &op_id,
            &op.name,
            Some(product_id.clone()),
            doc,
            now,
        )));
        events.push(AuditEvent {
            at: now,
            actor: caller.actor.user.clone(),
            action: "key.generate".to_owned(),
            subject: product_id.clone(),
            details: json!({"operation": op_id, "operationName": op.name, "keyType": key_type.as_str(), "keyId": key_id.as_str()}),
        });
    }
    Ok((writes, events))
}

/// `POST /products`.
#[utoipa::path(post, path = "/{org}/api/v1/products", tag = "products",
    params(("org" = String, Path, description = "Organisation")),
    request_body(content = Object, description = "Product (the seed's JSON)"),
    responses((status = 202, description = "Stored, waiting for approval", body = Object),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, description = "Name taken", body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Body(body): Body,
) -> ApiResult<Response> {
    require_admin(&app, &caller, "create products")?;
    let mut product = parse_product(&body)?;
    let org = caller.org.clone();
    if app
        .store
        .get_by_name(Kind::Product, &org, &product.name)
        .await?
        .is_some()
    {
        return Err(ApiError::conflict(format!(
            "a product named {:?} exists already",
            product.name
        )));
    }
    let now = app.now();
    let id = uuid::Uuid::new_v4().to_string();
    product.id = Some(id.clone());
    for op in &mut product.product_operations {
        op.id = Some(uuid::Uuid::new_v4().to_string());
    }
    // Validates and checks the writer group before any key is made.
    product_approval::submit_product(&id, product.clone(), &caller.actor, &app.org_groups(), now)?;
    let (mut writes, mut events) = generate_keys(&app, &org, &caller, &mut product, now).await?;
    let (cert_writes, cert_events) =
        pki::prepare_certificates(&app, &org, &caller, &mut product, now).await?;
    writes.extend(cert_writes);
    events.extend(cert_events);
    let request =
        product_approval::submit_product(&id, product, &caller.actor, &app.org_groups(), now)?;
    let stored = request.product.clone();
    events.insert(
        0,
        AuditEvent {
            at: now,
            actor: caller.actor.user.clone(),
            action: "product.submit".to_owned(),
            subject: id.clone(),
            details: json!({"name": stored.name, "changes": request.changes}),
        },
    );
    writes.insert(
        0,
        Write::Insert(request_record(&app, &org, &request, now.unix_seconds())),
    );
    writes.insert(
        0,
        Write::Insert(product_record(
            &app,
            &org,
            &stored,
            now.unix_seconds(),
            now.unix_seconds(),
        )),
    );
    app.store.write(&org, writes, events).await?;
    Ok((StatusCode::ACCEPTED, Json(stored)).into_response())
}

/// `GET /products`.
#[utoipa::path(get, path = "/{org}/api/v1/products", tag = "products",
    params(("org" = String, Path, description = "Organisation"), ProductQuery),
    responses((status = 200, description = "Envelope of products", body = Object)),
    security(("bearer" = [])))]
pub async fn list(
    AxState(app): AxState<Shared>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Q(query): Q<ProductQuery>,
) -> ApiResult<Json<Envelope<Product>>> {
    let filter = Filter {
        state: state_filter(query.state.as_deref())?,
        name: query.name.clone(),
        readable_by: Some(caller.groups()),
        ..Filter::default()
    };
    list_page(
        &app,
        &caller.org,
        Kind::Product,
        &filter,
        query.page,
        &uri,
        |p: Product| p,
    )
    .await
}

/// `GET /products/{id}`.
#[utoipa::path(get, path = "/{org}/api/v1/products/{id}", tag = "products",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Product id or name")),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> ApiResult<Json<Product>> {
    let (_, product) = find_product(&app, &caller.org, &path.id).await?;
    if !may_read(&app, &caller, &product) {
        return Err(ApiError::forbidden(format!(
            "user {} may not read product {:?}: not in any group it names",
            caller.actor.user, product.name
        )));
    }
    Ok(Json(product))
}

/// `GET /products/{id}/operations/{op}/publickey`.
#[utoipa::path(get, path = "/{org}/api/v1/products/{id}/operations/{op}/publickey", tag = "products",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Product id or name"), ("op" = String, Path, description = "Operation id or name")),
    responses((status = 200, description = "PEM public key", content_type = "application/x-pem-file", body = String),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn public_key(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<OpPath>,
) -> ApiResult<Response> {
    let (_, product) = find_product(&app, &caller.org, &path.id).await?;
    if !may_read(&app, &caller, &product) {
        return Err(ApiError::forbidden(format!(
            "user {} may not read product {:?}: not in any group it names",
            caller.actor.user, product.name
        )));
    }
    let op = find_operation(&product, &path.op)?;
    let der = op
        .token
        .as_ref()
        .and_then(|t| t.public_key.as_deref())
        .and_then(|b64| STANDARD.decode(b64).ok())
        .ok_or_else(|| ApiError::not_found(format!("operation {:?} has no key", op.name)))?;
    let key = signet_crypto::PublicKey::from_spki_der(&der)
        .map_err(|e| ApiError::internal("reading a stored public key", &e))?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        key.to_pem(),
    )
        .into_response())
}

/// `PUT /products/{id}`.
#[utoipa::path(put, path = "/{org}/api/v1/products/{id}", tag = "products",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Product id or name")),
    request_body(content = Object, description = "The whole product as it should be"),
    responses((status = 200, description = "Applied (name, description, enabled only)", body = Object),
        (status = 202, description = "Waiting for approval: a product request", body = Object),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn update(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
    Body(body): Body,
) -> ApiResult<Response> {
    require_admin(&app, &caller, "change products")?;
    let proposed = parse_product(&body)?;
    change(&app, &caller, &path.id, proposed).await
}

/// `POST /products/{id}/disable`.
#[utoipa::path(post, path = "/{org}/api/v1/products/{id}/disable", tag = "products",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Product id or name")),
    responses((status = 200, description = "Disabled", body = Object), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn disable(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> ApiResult<Response> {
    require_admin(&app, &caller, "disable products")?;
    let (_, current) = find_product(&app, &caller.org, &path.id).await?;
    if current.enabled == Some(false) {
        return Ok((StatusCode::OK, Json(current)).into_response());
    }
    let mut proposed = current.clone();
    proposed.enabled = Some(false);
    change(&app, &caller, &path.id, proposed).await
}

async fn change(
    app: &App,
    caller: &Caller,
    id: &str,
    mut proposed: Product,
) -> ApiResult<Response> {
    let org = caller.org.clone();
    let (record, current) = find_product(app, &org, id).await?;
    let product_id = current.id.clone().unwrap_or_default();
    if proposed.name != current.name
        && app
            .store
            .get_by_name(Kind::Product, &org, &proposed.name)
            .await?
            .is_some()
    {
        return Err(ApiError::conflict(format!(
            "a product named {:?} exists already",
            proposed.name
        )));
    }
    // Operations keep their ids and keys unless their key type changes.
    for op in &mut proposed.product_operations {
        let existing = current
            .product_operations
            .iter()
            .find(|c| c.name == op.name);
        match existing {
            Some(c)
                if c.token.as_ref().map(|t| t.key_type)
                    == op.token.as_ref().map(|t| t.key_type) =>
            {
                op.id.clone_from(&c.id);
                if let (Some(t), Some(ct)) = (&mut op.token, &c.token) {
                    t.public_key.clone_from(&ct.public_key);
                }
            }
            _ => op.id = Some(uuid::Uuid::new_v4().to_string()),
        }
    }
    // Certificates keep their ids, keys and chains (matched by CN).
    for entry in &mut proposed.ca_info {
        if let Some(c) = current.ca_info.iter().find(|c| c.cn == entry.cn) {
            entry.id.clone_from(&c.id);
            entry.csr.clone_from(&c.csr);
            entry.state = c.state;
            entry.product_id.clone_from(&c.product_id);
        }
    }
    let now = app.now();
    let request_id = uuid::Uuid::new_v4().to_string();
    let outcome = product_approval::submit_change(
        &request_id,
        &current,
        proposed,
        &caller.actor,
        &app.org_groups(),
        now,
    )?;
    match outcome {
        ChangeOutcome::Applied(product) => {
            let event = AuditEvent {
                at: now,
                actor: caller.actor.user.clone(),
                action: "product.update".to_owned(),
                subject: product_id,
                details: json!({"name": product.name, "description": product.description, "enabled": product.enabled}),
            };
            let write = Write::Update {
                record: product_record(app, &org, &product, record.created_at, now.unix_seconds()),
                expected_version: record.version,
            };
            app.store.write(&org, vec![write], vec![event]).await?;
            Ok((StatusCode::OK, Json(product)).into_response())
        }
        ChangeOutcome::PendingApproval(mut request) => {
            let (mut writes, mut events) =
                generate_keys(app, &org, caller, &mut request.product, now).await?;
            let (cert_writes, cert_events) =
                pki::prepare_certificates(app, &org, caller, &mut request.product, now).await?;
            writes.extend(cert_writes);
            events.extend(cert_events);
            events.insert(
                0,
                AuditEvent {
                    at: now,
                    actor: caller.actor.user.clone(),
                    action: "product.change.submit".to_owned(),
                    subject: product_id,
                    details: json!({"request": request.id, "changes": request.changes}),
                },
            );
            writes.insert(
                0,
                Write::Insert(request_record(app, &org, &request, now.unix_seconds())),
            );
            app.store.write(&org, writes, events).await?;
            Ok((StatusCode::ACCEPTED, Json(request)).into_response())
        }
    }
}

/// `GET /products/approvals`.
#[utoipa::path(get, path = "/{org}/api/v1/products/approvals", tag = "products",
    params(("org" = String, Path, description = "Organisation"), PageQuery),
    responses((status = 200, description = "Envelope of pending product requests", body = Object), (status = 403, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn approvals(
    AxState(app): AxState<Shared>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Q(query): Q<PageQuery>,
) -> ApiResult<Json<Envelope<ProductRequest>>> {
    require_product_reviewer(&app, &caller)?;
    let filter = Filter {
        state: Some(State::ApprovalRequired.value()),
        ..Filter::default()
    };
    list_page(
        &app,
        &caller.org,
        Kind::ProductRequest,
        &filter,
        query.page,
        &uri,
        |r: ProductRequest| r,
    )
    .await
}

fn require_product_reviewer(app: &App, caller: &Caller) -> ApiResult<()> {
    if caller.in_group(&app.config.product_approval_group)
        || caller.in_group(&app.config.admin_group)
    {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "user {} may not review product requests: not a member of {} or {}",
        caller.actor.user, app.config.product_approval_group, app.config.admin_group
    )))
}

/// `GET /products/approvals/{id}`.
#[utoipa::path(get, path = "/{org}/api/v1/products/approvals/{id}", tag = "products",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Request id (a new product's id)")),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn approval(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> ApiResult<Json<ProductRequest>> {
    require_product_reviewer(&app, &caller)?;
    let record = app
        .store
        .get(Kind::ProductRequest, &caller.org, &path.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no product request {:?}", path.id)))?;
    Ok(Json(decode_request(&record)?))
}

/// `POST /products/approvals`.
#[utoipa::path(post, path = "/{org}/api/v1/products/approvals", tag = "products",
    params(("org" = String, Path, description = "Organisation")),
    request_body(content = Object, description = "{requestId, decision: APPROVE|REJECT, reason}"),
    responses((status = 204, description = "Decided"), (status = 400, body = crate::error::Problem),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn decide(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Body(body): Body,
) -> ApiResult<StatusCode> {
    let approval = Approval::parse(&body)?;
    let org = caller.org.clone();
    let record = app
        .store
        .get(Kind::ProductRequest, &org, &approval.request_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("no product request {:?}", approval.request_id))
        })?;
    let request = decode_request(&record)?;
    let now = app.now();
    let decided = decide_product(
        &request,
        &caller.actor,
        &app.org_groups(),
        approval.decision,
        &approval.reason,
        now,
    )?;
    let product_id = decided.product.id.clone().unwrap_or_default();
    let mut writes = vec![Write::Update {
        record: request_record(&app, &org, &decided, now.unix_seconds()),
        expected_version: record.version,
    }];
    let approved = decided.state == State::Ready;
    let (product_record_now, product_now) = find_product(&app, &org, &product_id).await?;
    if approved {
        let mut product = decided.product.clone();
        product.state = Some(State::Ready);
        // `enabled` applies at once, so it stays as it is now (a product disabled while its
        // change waited stays disabled).
        product.enabled = product_now.enabled;
        writes.push(Write::Update {
            record: product_record(
                &app,
                &org,
                &product,
                product_record_now.created_at,
                now.unix_seconds(),
            ),
            expected_version: product_record_now.version,
        });
    } else if decided.changes.contains(&ChangeType::NewProduct) {
        let mut product = product_now;
        product.state = Some(State::Rejected);
        writes.push(Write::Update {
            record: product_record(
                &app,
                &org,
                &product,
                product_record_now.created_at,
                now.unix_seconds(),
            ),
            expected_version: product_record_now.version,
        });
    }
    let event = AuditEvent {
        at: now,
        actor: caller.actor.user.clone(),
        action: if approved {
            "product.approve"
        } else {
            "product.reject"
        }
        .to_owned(),
        subject: product_id,
        details: json!({"request": decided.id, "changes": decided.changes, "reason": approval.reason}),
    };
    app.store.write(&org, writes, vec![event]).await?;
    Ok(StatusCode::NO_CONTENT)
}

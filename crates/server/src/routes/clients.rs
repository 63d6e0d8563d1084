//! `/registrations/clients`: CI clients register an encryption key for a product, an
//! approver approves it, and `/distributions/products/{id}/secrets` then hands the product's
//! secrets (its certificate chains and public keys) to that client's user as a compact JWE
//! encrypted to the registered key.
//!
//! The rules are signet-workflow's [`signet_workflow::client`]; this module loads, stores and
//! audits. Secrets go only to the user of a Ready ProductionPC client of that product; an
//! unregistered, pending, rejected or revoked client gets 403 and nothing else.

use axum::Json;
use axum::extract::{OriginalUri, Path, State as AxState};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};
use signet_crypto::PublicKey;
use signet_store::{AuditEvent, Filter, Kind, Record, Write};
use signet_workflow::client::{self, Client, Decided, Registration};
use signet_workflow::product::Product;
use signet_workflow::request::{Approval, DecisionKind};
use signet_workflow::{State, Timestamp};

use crate::app::{App, Caller, Shared};
use crate::error::{ApiError, ApiResult};
use crate::pki;
use crate::routes::pki::decode_b64_lines;
use crate::routes::products::{IdPath, find_product};
use crate::routes::{decode_doc, list_page};
use crate::views::{Body, Envelope, Q, state_filter};

/// `GET /registrations/clients` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ClientQuery {
    /// Page, from 1.
    pub page: Option<u64>,
    /// Exact name.
    pub name: Option<String>,
    /// State (number or name).
    pub state: Option<String>,
    /// Product id.
    pub product: Option<String>,
}

fn product_groups(app: &App, product: &Product) -> (Vec<String>, Vec<String>) {
    let mut readers: Vec<String> = product
        .product_operations
        .iter()
        .flat_map(|op| {
            op.approval_rule
                .allowed_groups
                .iter()
                .chain(&op.approval_rule.approval_groups)
                .cloned()
        })
        .collect();
    readers.push(app.config.admin_group.clone());
    readers.sort();
    readers.dedup();
    let mut approvers: Vec<String> = product
        .product_operations
        .iter()
        .flat_map(|op| op.approval_rule.approval_groups.iter().cloned())
        .collect();
    approvers.sort();
    approvers.dedup();
    (readers, approvers)
}

fn client_record(app: &App, org: &str, client: &Client, product: &Product) -> ApiResult<Record> {
    let (readers, approvers) = product_groups(app, product);
    Ok(Record {
        kind: Kind::Client,
        org: org.to_owned(),
        id: client.id.clone(),
        version: 0,
        state: client.state,
        name: client.name.clone(),
        product_id: Some(client.id_product.clone()),
        requester: Some(client.client_user.clone()),
        created_at: client.created_at.unix_seconds(),
        updated_at: client.updated_at.unix_seconds(),
        expires_at: None,
        readers,
        approvers,
        doc: serde_json::to_value(client)
            .map_err(|e| ApiError::internal("encoding a client", &e))?,
    })
}

/// The hosted service's name for a public key's type.
fn key_type_name(key: &PublicKey) -> ApiResult<&'static str> {
    use signet_crypto::KeyType as K;
    Ok(match key.key_type() {
        K::Rsa2048 => "RSA2048",
        K::Rsa3072 => "RSA3072",
        K::Rsa4096 => "RSA4096",
        K::P256 => "ECDSAP256",
        K::P384 => "ECDSAP384",
        K::P521 => "ECDSAP521",
        other => {
            return Err(ApiError::bad_request(format!(
                "encryptionPublicKey: {other} keys cannot receive secrets (RSA 2048-4096 or EC P-256/P-384/P-521)"
            )));
        }
    })
}

fn read_key(b64: &str) -> ApiResult<PublicKey> {
    let pem = decode_b64_lines("encryptionPublicKey", b64)?;
    let pem = String::from_utf8(pem).map_err(|_| {
        ApiError::bad_request("encryptionPublicKey: not base64 of a PEM public key")
    })?;
    let key = PublicKey::from_pem(&pem)
        .map_err(|e| ApiError::bad_request(format!("encryptionPublicKey: {e}")))?;
    signet_crypto::jwe::algorithm_for(&key)
        .map_err(|e| ApiError::bad_request(format!("encryptionPublicKey: {e}")))?;
    Ok(key)
}

async fn load(app: &App, org: &str, id: &str) -> ApiResult<(Record, Client)> {
    let record = app
        .store
        .get(Kind::Client, org, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no client {id:?}")))?;
    let client = decode_doc(&record)?;
    Ok((record, client))
}

/// `POST /registrations/clients`.
#[utoipa::path(post, path = "/{org}/api/v1/registrations/clients", tag = "clients",
    params(("org" = String, Path, description = "Organisation")),
    request_body(content = Object, description = "{name, description, idProduct, clientType, clientUser, encryptionPublicKey: base64(PEM)}"),
    responses((status = 202, description = "Registered, waiting for approval", body = Object),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn register(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Body(body): Body,
) -> ApiResult<Response> {
    let registration = Registration::parse(&body)?;
    let org = caller.org.clone();
    let (_, product) = find_product(&app, &org, &registration.id_product).await?;
    // Authorization before anything about the key is revealed.
    client::may_register(&caller.actor, &product)?;
    let key = read_key(&registration.encryption_public_key)?;
    let id = uuid::Uuid::new_v4().to_string();
    let now = app.now();
    let mut registration = registration;
    // Stored without line breaks, as one base64 string.
    registration.encryption_public_key = STANDARD.encode(key.to_pem());
    let client = client::register(
        &id,
        registration,
        key_type_name(&key)?,
        &caller.actor,
        &product,
        now,
    )?;
    let event = AuditEvent {
        at: now,
        actor: caller.actor.user.clone(),
        action: "client.register".to_owned(),
        subject: id,
        details: json!({"product": client.id_product, "name": client.name, "clientType": client.client_type,
            "clientUser": client.client_user, "keyType": client.key_type}),
    };
    app.store
        .write(
            &org,
            vec![Write::Insert(client_record(&app, &org, &client, &product)?)],
            vec![event],
        )
        .await?;
    Ok((StatusCode::ACCEPTED, Json(client)).into_response())
}

/// `GET /registrations/clients`.
#[utoipa::path(get, path = "/{org}/api/v1/registrations/clients", tag = "clients",
    params(("org" = String, Path, description = "Organisation"), ClientQuery),
    responses((status = 200, description = "Envelope of clients", body = Object)),
    security(("bearer" = [])))]
pub async fn list(
    AxState(app): AxState<Shared>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Q(query): Q<ClientQuery>,
) -> ApiResult<Json<Envelope<Client>>> {
    let product_id = match &query.product {
        Some(p) => Some(
            find_product(&app, &caller.org, p)
                .await?
                .1
                .id
                .unwrap_or_default(),
        ),
        None => None,
    };
    let filter = Filter {
        state: state_filter(query.state.as_deref())?,
        name: query.name.clone(),
        product_id,
        readable_by: Some(caller.groups()),
        ..Filter::default()
    };
    list_page(
        &app,
        &caller.org,
        Kind::Client,
        &filter,
        query.page,
        &uri,
        |c: Client| c,
    )
    .await
}

/// `GET /registrations/clients/approvals`.
#[utoipa::path(get, path = "/{org}/api/v1/registrations/clients/approvals", tag = "clients",
    params(("org" = String, Path, description = "Organisation"), crate::views::PageQuery),
    responses((status = 200, description = "Envelope of clients waiting for the caller's decision", body = Object)),
    security(("bearer" = [])))]
pub async fn approvals(
    AxState(app): AxState<Shared>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Q(query): Q<crate::views::PageQuery>,
) -> ApiResult<Json<Envelope<Client>>> {
    let filter = Filter {
        state: Some(State::ApprovalRequired.value()),
        decidable_by: Some(caller.groups()),
        ..Filter::default()
    };
    list_page(
        &app,
        &caller.org,
        Kind::Client,
        &filter,
        query.page,
        &uri,
        |c: Client| c,
    )
    .await
}

/// `GET /registrations/clients/{id}`.
#[utoipa::path(get, path = "/{org}/api/v1/registrations/clients/{id}", tag = "clients",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Client id")),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> ApiResult<Json<Client>> {
    let (record, client) = load(&app, &caller.org, &path.id).await?;
    if !caller.in_any(&record.readers) && caller.actor.user != client.client_user {
        return Err(ApiError::forbidden(format!(
            "user {} may not read client {}: not in a group of its product",
            caller.actor.user, client.id
        )));
    }
    Ok(Json(client))
}

/// `DELETE /registrations/clients/{id}`: revokes (state 256).
#[utoipa::path(delete, path = "/{org}/api/v1/registrations/clients/{id}", tag = "clients",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Client id")),
    responses((status = 200, description = "Revoked", body = Object), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn revoke(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> ApiResult<Json<Client>> {
    let org = caller.org.clone();
    let (record, current) = load(&app, &org, &path.id).await?;
    let (_, product) = find_product(&app, &org, &current.id_product).await?;
    let is_admin = caller.in_group(&app.config.admin_group);
    let revoked = client::revoke(&current, &caller.actor, &product, is_admin, app.now())?;
    if current.state == client::NOT_ACTIVE {
        return Ok(Json(current));
    }
    let event = AuditEvent {
        at: app.now(),
        actor: caller.actor.user.clone(),
        action: "client.revoke".to_owned(),
        subject: revoked.id.clone(),
        details: json!({"product": revoked.id_product, "clientUser": revoked.client_user}),
    };
    let write = Write::Update {
        record: client_record(&app, &org, &revoked, &product)?,
        expected_version: record.version,
    };
    app.store.write(&org, vec![write], vec![event]).await?;
    Ok(Json(revoked))
}

/// `POST /registrations/clients/approvals`.
#[utoipa::path(post, path = "/{org}/api/v1/registrations/clients/approvals", tag = "clients",
    params(("org" = String, Path, description = "Organisation")),
    request_body(content = Object, description = "{requestId, decision: APPROVE|REJECT, reason}"),
    responses((status = 200, description = "{requestId, decision, state, applied, retiredClients}", body = Object),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn decide(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    let approval = Approval::parse(&body)?;
    let org = caller.org.clone();
    let (record, current) = load(&app, &org, &approval.request_id).await?;
    let (_, product) = find_product(&app, &org, &current.id_product).await?;
    let now = app.now();
    let decision_name = match approval.decision {
        DecisionKind::Approve => "APPROVE",
        DecisionKind::Reject => "REJECT",
    };
    let decided = match client::decide(
        &current,
        &caller.actor,
        &product,
        approval.decision,
        &approval.reason,
        now,
    )? {
        Decided::NotApplied => {
            return Ok(Json(
                json!({"requestId": current.id, "decision": decision_name,
                "state": current.state, "applied": false, "retiredClients": []}),
            ));
        }
        Decided::Applied(c) => *c,
    };
    let mut writes = vec![Write::Update {
        record: client_record(&app, &org, &decided, &product)?,
        expected_version: record.version,
    }];
    let mut retired = Vec::new();
    if decided.state == State::Ready.value() {
        retired = retire_earlier(&app, &org, &decided, &product, now, &mut writes).await?;
    }
    let event = AuditEvent {
        at: now,
        actor: caller.actor.user.clone(),
        action: if decided.state == State::Ready.value() {
            "client.approve"
        } else {
            "client.reject"
        }
        .to_owned(),
        subject: decided.id.clone(),
        details: json!({"product": decided.id_product, "reason": approval.reason, "retiredClients": retired}),
    };
    app.store.write(&org, writes, vec![event]).await?;
    Ok(Json(
        json!({"requestId": decided.id, "decision": decision_name,
        "state": decided.state, "applied": true, "retiredClients": retired}),
    ))
}

async fn retire_earlier(
    app: &App,
    org: &str,
    approved: &Client,
    product: &Product,
    now: Timestamp,
    writes: &mut Vec<Write>,
) -> ApiResult<Vec<String>> {
    let filter = Filter {
        state: Some(State::Ready.value()),
        product_id: Some(approved.id_product.clone()),
        requester: Some(approved.client_user.clone()),
        ..Filter::default()
    };
    let mut retired = Vec::new();
    let mut skip = 0;
    loop {
        let page = app
            .store
            .list(Kind::Client, org, &filter, skip, 100)
            .await?;
        let n = page.items.len() as u64;
        for record in page.items {
            let other: Client = decode_doc(&record)?;
            if client::retires(approved, &other) {
                let gone = client::retire(&other, &approved.id, now);
                writes.push(Write::Update {
                    record: client_record(app, org, &gone, product)?,
                    expected_version: record.version,
                });
                retired.push(gone.id);
            }
        }
        skip += n;
        if n == 0 || skip >= page.total {
            return Ok(retired);
        }
    }
}

/// `GET /distributions/products/{id}/secrets`.
#[utoipa::path(get, path = "/{org}/api/v1/distributions/products/{id}/secrets", tag = "clients",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Product id or name")),
    responses((status = 200, description = "{serializedJWE}", body = Object),
        (status = 403, description = "No Ready client of the caller for this product", body = crate::error::Problem),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn secrets(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> ApiResult<Json<Value>> {
    let org = caller.org.clone();
    let (_, product) = find_product(&app, &org, &path.id).await?;
    let product_id = product.id.clone().unwrap_or_default();
    let filter = Filter {
        state: Some(State::Ready.value()),
        product_id: Some(product_id.clone()),
        requester: Some(caller.actor.user.clone()),
        ..Filter::default()
    };
    let page = app.store.list(Kind::Client, &org, &filter, 0, 100).await?;
    let mut entitled = None;
    for record in &page.items {
        let c: Client = decode_doc(record)?;
        if client::entitles(&c, &caller.actor, &product_id) {
            entitled = Some(c);
        }
    }
    let client = entitled.ok_or_else(|| {
        ApiError::forbidden(format!(
            "user {} has no approved ProductionPC client for product {:?}: register one \
             (signet remote clients register -P {} …) and have it approved",
            caller.actor.user, product.name, product_id
        ))
    })?;
    let document = secrets_document(&app, &org, &product).await?;
    let key = read_key(&client.encryption_public_key)?;
    let plaintext = serde_json::to_vec(&document)
        .map_err(|e| ApiError::internal("encoding the secrets", &e))?;
    let jwe = signet_crypto::jwe::encrypt_compact(&key, &plaintext)
        .map_err(|e| ApiError::internal("encrypting the secrets", &e))?;
    let now = app.now();
    let event = AuditEvent {
        at: now,
        actor: caller.actor.user.clone(),
        action: "secrets.export".to_owned(),
        subject: product_id,
        details: json!({"client": client.id, "keyType": client.key_type,
            "certificates": document["caInfo"].as_array().map_or(0, Vec::len)}),
    };
    app.store.write(&org, vec![], vec![event]).await?;
    Ok(Json(json!({"serializedJWE": jwe})))
}

/// The hosted service's product-secrets JSON: `caInfo` (cn, ids and base64 of a PEM PKCS#7
/// chain), `tokenInfo` (the operations' public keys), `productConfigItems`, and the
/// product's id, name and description.
async fn secrets_document(app: &App, org: &str, product: &Product) -> ApiResult<Value> {
    let mut ca_info = Vec::new();
    for entry in &product.ca_info {
        let Some(id) = &entry.id else { continue };
        let Some((_, stored)) = pki::load_certificate(app, org, id).await? else {
            continue;
        };
        if stored.chain.is_empty() {
            continue;
        }
        let ders = stored
            .chain
            .iter()
            .map(|pem| {
                signet_pki::issue::pem_certificates(pem)
                    .map_err(|e| ApiError::internal("reading a stored chain", &e))
            })
            .collect::<ApiResult<Vec<_>>>()?
            .concat();
        let p7 = signet_pki::pkcs7::pkcs7_certs_pem(&ders);
        ca_info.push(json!({
            "cn": stored.cn,
            "extKeyId": stored.key_id,
            "id": stored.id,
            "pkcs7chain": STANDARD.encode(p7),
        }));
    }
    let token_info: Vec<Value> = product
        .product_operations
        .iter()
        .filter_map(|op| {
            let t = op.token.as_ref()?;
            Some(json!({"name": t.name, "description": t.description,
                "keyType": t.key_type.as_str(), "publicKey": t.public_key}))
        })
        .collect();
    Ok(json!({
        "caInfo": ca_info,
        "description": product.description,
        "id": product.id,
        "name": product.name,
        "productConfigItems": product.product_config_items,
        "tokenInfo": token_info,
    }))
}

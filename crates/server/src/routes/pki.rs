//! `/cas`: PKI profiles (`/cas/profiles`), the organisation's internal CA (`/cas/internal`),
//! and products' certificates (`/cas/cas/{id}`: the CSR for an external CA, the chain it
//! returns).
//!
//! Creating profiles, initialising the CA, reading CSRs and uploading chains are admin
//! operations; profiles are read by admins and the product-approval group (who judge
//! products that name them); the CA chain is public to every member of the organisation.

use axum::Json;
use axum::extract::{OriginalUri, Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};
use signet_pki::profile::CertProfile;
use signet_store::{AuditEvent, Filter, Kind, Write};
use signet_workflow::State;

use crate::app::{App, Caller, Shared};
use crate::error::{ApiError, ApiResult};
use crate::pki;
use crate::routes::list_page;
use crate::routes::products::{IdPath, find_product, product_record, require_admin};
use crate::views::{Body, Envelope, Q, parse_json, ready_record};

fn require_pki_reader(app: &App, caller: &Caller) -> ApiResult<()> {
    if caller.in_group(&app.config.admin_group)
        || caller.in_group(&app.config.product_approval_group)
    {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "user {} may not read PKI profiles: not a member of {} or {}",
        caller.actor.user, app.config.admin_group, app.config.product_approval_group
    )))
}

/// Decodes base64 that may carry line breaks (the hosted client sends `base64.encodebytes`).
pub fn decode_b64_lines(field: &str, text: &str) -> ApiResult<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(compact)
        .map_err(|e| ApiError::bad_request(format!("{field}: not base64: {e}")))
}

/// `POST /cas/profiles` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AddProfile {
    /// Name.
    pub profile_name: String,
    /// `END`, `SUB` or `ROOT`.
    pub profile_type: String,
    /// Base64 of the YAML (or JSON) profile.
    #[serde(rename = "profileYAML")]
    pub profile_yaml: String,
}

/// `GET /cas/profiles` filters.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ProfileQuery {
    /// Page, from 1.
    pub page: Option<u64>,
    /// Exact name.
    pub name: Option<String>,
    /// State (accepted; every stored profile is Ready).
    pub state: Option<String>,
}

/// `POST /cas/profiles`.
#[utoipa::path(post, path = "/{org}/api/v1/cas/profiles", tag = "pki",
    params(("org" = String, Path, description = "Organisation")),
    request_body(content = Object, description = "{profileName, profileType: END|SUB|ROOT, profileYAML: base64}"),
    responses((status = 201, description = "Stored", body = Object),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, description = "Name taken", body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn create_profile(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Body(body): Body,
) -> ApiResult<Response> {
    require_admin(&app, &caller, "create PKI profiles")?;
    let add: AddProfile = parse_json("profile", &body)?;
    let yaml = decode_b64_lines("profileYAML", &add.profile_yaml)?;
    let profile = CertProfile::parse(&yaml)
        .map_err(|e| ApiError::bad_request(format!("profileYAML: {e}")))?;
    if add.profile_type != profile.profile_type() {
        return Err(ApiError::bad_request(format!(
            "profileType: {:?} does not match the profile's certificateType ({})",
            add.profile_type,
            profile.profile_type()
        )));
    }
    if add.profile_name.trim().is_empty() {
        return Err(ApiError::bad_request("profileName: must not be empty"));
    }
    let org = caller.org.clone();
    let taken = app
        .store
        .list(
            Kind::Profile,
            &org,
            &Filter {
                name: Some(add.profile_name.clone()),
                ..Filter::default()
            },
            0,
            1,
        )
        .await?;
    if taken.total > 0 {
        return Err(ApiError::conflict(format!(
            "a PKI profile named {:?} exists already",
            add.profile_name
        )));
    }
    let now = app.now();
    let id = uuid::Uuid::new_v4().to_string();
    let doc = json!({
        "id": id,
        "profileName": add.profile_name,
        "profileType": profile.profile_type_value(),
        "profileYAML": STANDARD.encode(&yaml),
        "state": State::Ready.value(),
        "profile": profile.to_json(),
    });
    let mut record = ready_record(
        Kind::Profile,
        &org,
        &id,
        &add.profile_name,
        None,
        doc.clone(),
        now,
    );
    record.requester = Some(caller.actor.user.clone());
    let event = AuditEvent {
        at: now,
        actor: caller.actor.user.clone(),
        action: "profile.create".to_owned(),
        subject: id,
        details: json!({"name": add.profile_name, "type": profile.profile_type()}),
    };
    app.store
        .write(&org, vec![Write::Insert(record)], vec![event])
        .await?;
    Ok((StatusCode::CREATED, Json(doc)).into_response())
}

/// `GET /cas/profiles`.
#[utoipa::path(get, path = "/{org}/api/v1/cas/profiles", tag = "pki",
    params(("org" = String, Path, description = "Organisation"), ProfileQuery),
    responses((status = 200, description = "Envelope of profiles", body = Object), (status = 403, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list_profiles(
    AxState(app): AxState<Shared>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Q(query): Q<ProfileQuery>,
) -> ApiResult<Json<Envelope<Value>>> {
    require_pki_reader(&app, &caller)?;
    let filter = Filter {
        name: query.name.clone(),
        state: crate::views::state_filter(query.state.as_deref())?,
        ..Filter::default()
    };
    list_page(
        &app,
        &caller.org,
        Kind::Profile,
        &filter,
        query.page,
        &uri,
        |doc: Value| doc,
    )
    .await
}

/// `GET /cas/profiles/{id}`.
#[utoipa::path(get, path = "/{org}/api/v1/cas/profiles/{id}", tag = "pki",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "Profile id or name")),
    responses((status = 200, body = Object), (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_profile(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> ApiResult<Json<Value>> {
    require_pki_reader(&app, &caller)?;
    let record = match app.store.get(Kind::Profile, &caller.org, &path.id).await? {
        Some(r) => Some(r),
        None => app
            .store
            .list(
                Kind::Profile,
                &caller.org,
                &Filter {
                    name: Some(path.id.clone()),
                    ..Filter::default()
                },
                0,
                1,
            )
            .await?
            .items
            .into_iter()
            .next(),
    };
    let record =
        record.ok_or_else(|| ApiError::not_found(format!("no PKI profile {:?}", path.id)))?;
    Ok(Json(record.doc))
}

/// `POST /cas/internal` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct InitCa {
    /// The root's subject (`CN=Acme Root CA,O=Acme` or `/CN=…/O=…`).
    pub subject: String,
}

/// `POST /cas/internal`.
#[utoipa::path(post, path = "/{org}/api/v1/cas/internal", tag = "pki",
    params(("org" = String, Path, description = "Organisation")),
    request_body(content = Object, description = "{subject: DN}"),
    responses((status = 201, description = "Created", body = Object),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 409, description = "Exists", body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn init_ca(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Body(body): Body,
) -> ApiResult<Response> {
    require_admin(&app, &caller, "initialise the internal CA")?;
    let init: InitCa = parse_json("ca", &body)?;
    let org = caller.org.clone();
    let ca = pki::init_org_ca(&app, &org, &caller, &init.subject).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"subject": ca.subject, "chain": ca.chain_pem()})),
    )
        .into_response())
}

/// `GET /cas/internal/chain`.
#[utoipa::path(get, path = "/{org}/api/v1/cas/internal/chain", tag = "pki",
    params(("org" = String, Path, description = "Organisation")),
    responses((status = 200, description = "PEM: intermediate first, root last", content_type = "application/x-pem-file", body = String),
        (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn ca_chain(AxState(app): AxState<Shared>, caller: Caller) -> ApiResult<Response> {
    let (_, ca) = pki::org_ca(&app, &caller.org).await?.ok_or_else(|| {
        ApiError::not_found(format!(
            "organisation {} has no internal CA yet (signet remote pki ca init --subject DN)",
            caller.org
        ))
    })?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        ca.chain_pem(),
    )
        .into_response())
}

/// `PATCH /cas/cas/{id}` body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Upload {
    /// Base64 of the PEM certificates, leaf first.
    pub chain: String,
}

/// `GET /cas/cas/{id}`.
#[utoipa::path(get, path = "/{org}/api/v1/cas/cas/{id}", tag = "pki",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "caInfo entry id")),
    responses((status = 200, description = "The caInfo entry with its CSR or chain", body = Object),
        (status = 403, body = crate::error::Problem), (status = 404, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_ca(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
) -> ApiResult<Json<Value>> {
    require_admin(&app, &caller, "read certificate requests")?;
    let (_, stored) = pki::load_certificate(&app, &caller.org, &path.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no certificate {:?}", path.id)))?;
    let (_, product) = find_product(&app, &caller.org, &stored.product_id).await?;
    let entry = product
        .ca_info
        .iter()
        .find(|c| c.id.as_deref() == Some(&stored.id));
    Ok(Json(stored.view(entry)))
}

/// `PATCH /cas/cas/{id}`.
#[utoipa::path(patch, path = "/{org}/api/v1/cas/cas/{id}", tag = "pki",
    params(("org" = String, Path, description = "Organisation"), ("id" = String, Path, description = "caInfo entry id")),
    request_body(content = Object, description = "{chain: base64 of the PEM certificates, leaf first}"),
    responses((status = 200, description = "Stored", body = Object),
        (status = 400, body = crate::error::Problem), (status = 403, body = crate::error::Problem),
        (status = 404, body = crate::error::Problem), (status = 409, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn upload(
    AxState(app): AxState<Shared>,
    caller: Caller,
    Path(path): Path<IdPath>,
    Body(body): Body,
) -> ApiResult<Json<Value>> {
    require_admin(&app, &caller, "upload certificates")?;
    let upload: Upload = parse_json("certificate", &body)?;
    let pem = decode_b64_lines("chain", &upload.chain)?;
    let pem = String::from_utf8(pem).map_err(|_| {
        ApiError::bad_request("chain: not PEM text (give the PEM certificates, leaf first)")
    })?;
    let org = caller.org.clone();
    let (record, mut stored) = pki::load_certificate(&app, &org, &path.id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no certificate {:?}", path.id)))?;
    if !stored.external_root {
        return Err(ApiError::conflict(format!(
            "certificate {:?} is issued by the internal CA; only externalRoot certificates take an uploaded chain",
            stored.cn
        )));
    }
    let chain = pki::check_upload(&app, &stored, &pem).await?;
    stored.chain = chain;
    let now = app.now();
    let (product_record_now, mut product) = find_product(&app, &org, &stored.product_id).await?;
    for entry in &mut product.ca_info {
        if entry.id.as_deref() == Some(&stored.id) {
            entry.state = Some(State::Ready);
        }
    }
    let doc = serde_json::to_value(&stored)
        .map_err(|e| ApiError::internal("encoding a certificate record", &e))?;
    let mut updated = record.clone();
    updated.doc = doc;
    updated.updated_at = now.unix_seconds();
    let writes = vec![
        Write::Update {
            record: updated,
            expected_version: record.version,
        },
        Write::Update {
            record: product_record(
                &app,
                &org,
                &product,
                product_record_now.created_at,
                now.unix_seconds(),
            ),
            expected_version: product_record_now.version,
        },
    ];
    let leaf = signet_pki::cert::Certificate::parse_pem_bundle(&stored.chain[0])
        .ok()
        .and_then(|c| c.into_iter().next());
    let event = AuditEvent {
        at: now,
        actor: caller.actor.user.clone(),
        action: "certificate.upload".to_owned(),
        subject: stored.product_id.clone(),
        details: json!({
            "certificate": stored.id, "cn": stored.cn,
            "subject": leaf.as_ref().map(|c| c.subject()),
            "issuer": leaf.as_ref().map(|c| c.issuer()),
            "serial": leaf.as_ref().map(|c| c.serial_hex()),
            "length": stored.chain.len(),
        }),
    };
    app.store.write(&org, writes, vec![event]).await?;
    let entry = product
        .ca_info
        .iter()
        .find(|c| c.id.as_deref() == Some(&stored.id));
    Ok(Json(stored.view(entry)))
}

//! The HTTP routes and their OpenAPI document.

pub mod audit;
pub mod clients;
pub mod health;
pub mod pki;
pub mod products;
pub mod signings;

use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State as AxState};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::app::Shared;
use crate::error::ApiError;

/// The largest request body accepted (products and cosign payloads are a few KiB).
pub const BODY_LIMIT: usize = 1024 * 1024;

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "signet signing service", description = "Signing requests with approval, keys in an HSM. Paths, fields and states follow the LAAVAT signing service."),
    paths(
        products::create, products::list, products::get, products::update, products::disable,
        products::public_key, products::approvals, products::approval, products::decide,
        signings::create, signings::list, signings::get, signings::signature,
        signings::approvals, signings::approval, signings::decide,
        audit::list, audit::verify, health::health,
        pki::create_profile, pki::list_profiles, pki::get_profile, pki::init_ca, pki::ca_chain,
        pki::get_ca, pki::upload,
        clients::register, clients::list, clients::approvals, clients::get, clients::revoke,
        clients::decide, clients::secrets,
    ),
    components(schemas(crate::error::Problem, crate::views::ImageSigning, crate::views::NewImageSigning, audit::Verification, health::Health)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

async fn openapi() -> Response {
    axum::Json(ApiDoc::openapi()).into_response()
}

async fn not_found() -> ApiError {
    ApiError::not_found(
        "no such path; the API is under /{org}/api/v1 (see /{org}/api/v1/openapi.json)",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "this path does not take that method (see /{org}/api/v1/openapi.json)",
    )
}

/// Logs one line per call (method, route template, status, time; never headers) and counts
/// it for /metrics.
async fn observe(AxState(app): AxState<Shared>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    app.metrics.observe_http(&method, &route, status, elapsed);
    tracing::info!(
        method,
        route,
        status,
        micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        "request"
    );
    response
}

/// The whole router.
pub fn router(app: Shared) -> Router {
    let api = Router::new()
        .route("/health", get(health::health))
        .route("/openapi.json", get(openapi))
        .route("/products", post(products::create).get(products::list))
        .route(
            "/products/approvals",
            get(products::approvals).post(products::decide),
        )
        .route("/products/approvals/{id}", get(products::approval))
        .route("/products/{id}", get(products::get).put(products::update))
        .route("/products/{id}/disable", post(products::disable))
        .route(
            "/products/{id}/operations/{op}/publickey",
            get(products::public_key),
        )
        .route("/imagesignings", post(signings::create).get(signings::list))
        .route(
            "/imagesignings/approvals",
            get(signings::approvals).post(signings::decide),
        )
        .route("/imagesignings/approvals/{id}", get(signings::approval))
        .route("/imagesignings/{id}", get(signings::get))
        .route("/imagesignings/{id}/signature", get(signings::signature))
        .route(
            "/cas/profiles",
            post(pki::create_profile).get(pki::list_profiles),
        )
        .route("/cas/profiles/{id}", get(pki::get_profile))
        .route("/cas/internal", post(pki::init_ca))
        .route("/cas/internal/chain", get(pki::ca_chain))
        .route("/cas/cas/{id}", get(pki::get_ca).patch(pki::upload))
        .route(
            "/registrations/clients",
            post(clients::register).get(clients::list),
        )
        .route(
            "/registrations/clients/approvals",
            get(clients::approvals).post(clients::decide),
        )
        .route(
            "/registrations/clients/{id}",
            get(clients::get).delete(clients::revoke),
        )
        .route(
            "/distributions/products/{id}/secrets",
            get(clients::secrets),
        )
        .route("/audittrails", get(audit::list))
        .route("/audittrails/verify", get(audit::verify))
        .method_not_allowed_fallback(method_not_allowed);
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .nest("/{org}/api/v1", api)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(app.clone(), observe))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(app)
}

/// Decodes a stored workflow document.
pub(crate) fn decode_doc<T: serde::de::DeserializeOwned>(
    record: &signet_store::Record,
) -> crate::error::ApiResult<T> {
    serde_json::from_value(record.doc.clone()).map_err(|e| {
        ApiError::internal(
            "reading a stored record",
            &format!("{} {}: {e}", record.kind, record.id),
        )
    })
}

/// One page of `kind` records matching `filter`, decoded, in the list envelope.
pub(crate) async fn list_page<T: serde::de::DeserializeOwned, V>(
    app: &crate::app::App,
    org: &str,
    kind: signet_store::Kind,
    filter: &signet_store::Filter,
    page: Option<u64>,
    uri: &axum::http::Uri,
    view: impl Fn(T) -> V,
) -> crate::error::ApiResult<axum::Json<crate::views::Envelope<V>>> {
    let (page, skip) = crate::views::offset(page)?;
    let found = app
        .store
        .list(kind, org, filter, skip, crate::views::PAGE_SIZE)
        .await?;
    let items = found
        .items
        .iter()
        .map(|r| decode_doc::<T>(r).map(&view))
        .collect::<crate::error::ApiResult<Vec<_>>>()?;
    Ok(axum::Json(crate::views::Envelope::new(
        items,
        found.total,
        page,
        uri,
    )))
}

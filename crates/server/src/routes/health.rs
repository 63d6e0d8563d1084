//! Health: `/healthz` (the process answers), `/readyz` (the database and the key backend
//! answer), `/{org}/api/v1/health` (the hosted service's shape), `/metrics`.

use axum::Json;
use axum::extract::State as AxState;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::app::Shared;

/// A part's status.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Part {
    /// `ok` or `error`.
    pub status: String,
}

/// `GET /health`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    /// `ok` or `error`.
    pub status: String,
    /// The store.
    pub database: Part,
    /// The key backend.
    pub hsm: Part,
}

async fn check(app: &Shared) -> Health {
    let database = match app.store.ping().await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(error = %e, "database check failed");
            "error"
        }
    };
    let keys = app.keys.clone();
    let hsm = match tokio::task::spawn_blocking(move || keys.check()).await {
        Ok(Ok(())) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "key backend check failed");
            "error"
        }
        Err(_) => "error",
    };
    let status = if database == "ok" && hsm == "ok" {
        "ok"
    } else {
        "error"
    };
    Health {
        status: status.to_owned(),
        database: Part {
            status: database.to_owned(),
        },
        hsm: Part {
            status: hsm.to_owned(),
        },
    }
}

/// `GET /{org}/api/v1/health`.
#[utoipa::path(get, path = "/{org}/api/v1/health", tag = "health",
    params(("org" = String, Path, description = "Organisation")),
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn health(AxState(app): AxState<Shared>) -> Response {
    let health = check(&app).await;
    let status = if health.status == "ok" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(health)).into_response()
}

/// `GET /healthz`.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`.
pub async fn readyz(AxState(app): AxState<Shared>) -> Response {
    health(AxState(app)).await
}

/// `GET /metrics`.
pub async fn metrics(AxState(app): AxState<Shared>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        app.metrics.render(),
    )
        .into_response()
}

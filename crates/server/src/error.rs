//! The API's one error shape: an RFC 7807-style problem document
//! (`{"type": "about:blank", "title", "status", "detail"}`) with a status that says whose
//! fault it is: 4xx for every bad input, 5xx only for real faults. Faults are logged with
//! their cause; the client sees a generic message and never key material, PINs or tokens.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use signet_workflow::Error as WfError;

/// An API error.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// One sentence a person can act on.
    pub detail: String,
}

/// The problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// Always `about:blank`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The status's reason phrase.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What went wrong.
    pub detail: String,
}

impl ApiError {
    /// An error with this status.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
        }
    }
    /// 400.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
    /// 401.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }
    /// 403.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, detail)
    }
    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, detail)
    }
    /// 409.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, detail)
    }
    /// 500: logs `cause` and tells the client only that the service failed.
    pub fn internal(what: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{what} failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error: {what} failed; the service log has the cause"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = Problem {
            kind: "about:blank".to_owned(),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let mut response = (self.status, axum::Json(problem)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

impl From<WfError> for ApiError {
    fn from(e: WfError) -> Self {
        let status = match &e {
            WfError::NotAllowed { .. }
            | WfError::NotAnApprover { .. }
            | WfError::SelfApproval { .. }
            | WfError::NotAProductWriter { .. }
            | WfError::NotAProductApprover { .. } => StatusCode::FORBIDDEN,
            WfError::UnknownOperation { .. } => StatusCode::NOT_FOUND,
            WfError::ProductNotReady { .. }
            | WfError::AlreadyDecided { .. }
            | WfError::InvalidTransition { .. }
            | WfError::Expired { .. }
            | WfError::NoChange { .. }
            | WfError::InsufficientApprovals { .. }
            | WfError::OperationMismatch { .. } => StatusCode::CONFLICT,
            WfError::ChainBroken { .. }
            | WfError::NotExpired { .. }
            | WfError::EmptySignature { .. } => {
                return ApiError::internal("the request workflow", &e);
            }
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<signet_store::Error> for ApiError {
    fn from(e: signet_store::Error) -> Self {
        match &e {
            signet_store::Error::Conflict { .. } => ApiError::conflict(e.to_string()),
            signet_store::Error::Stale { .. } => ApiError::conflict(format!(
                "{e}; it changed while this call was processed, retry"
            )),
            _ => ApiError::internal("the store", &e),
        }
    }
}

impl From<signet_keys::Error> for ApiError {
    fn from(e: signet_keys::Error) -> Self {
        ApiError::internal("the key backend", &e)
    }
}

/// The API's result type.
pub type ApiResult<T> = Result<T, ApiError>;

//! `/audittrails`: the organisation's audit log (admins only), and a check of its hash chain.

use axum::Json;
use axum::extract::{OriginalUri, State as AxState};
use serde::Serialize;
use signet_store::AuditProblem;
use signet_workflow::audit::AuditEntry;

use crate::app::{Caller, Shared};
use crate::error::{ApiError, ApiResult};
use crate::views::{Envelope, PAGE_SIZE, PageQuery, Q, offset};

fn require_admin(app: &Shared, caller: &Caller) -> ApiResult<()> {
    if caller.in_group(&app.config.admin_group) {
        return Ok(());
    }
    Err(ApiError::forbidden(format!(
        "user {} may not read the audit trail: not a member of the admin group {}",
        caller.actor.user, app.config.admin_group
    )))
}

/// `GET /audittrails`.
#[utoipa::path(get, path = "/{org}/api/v1/audittrails", tag = "audit",
    params(("org" = String, Path, description = "Organisation"), PageQuery),
    responses((status = 200, description = "Envelope of audit entries, oldest first", body = Object), (status = 403, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn list(
    AxState(app): AxState<Shared>,
    caller: Caller,
    OriginalUri(uri): OriginalUri,
    Q(query): Q<PageQuery>,
) -> ApiResult<Json<Envelope<AuditEntry>>> {
    require_admin(&app, &caller)?;
    let (page, skip) = offset(query.page)?;
    let total = app.store.audit_len(&caller.org).await?;
    let items = app.store.audit(&caller.org, skip, PAGE_SIZE).await?;
    Ok(Json(Envelope::new(items, total, page, &uri)))
}

/// The outcome of a chain check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    /// Whether the chain is intact.
    pub ok: bool,
    /// Entries checked.
    pub entries: u64,
    /// The head hash.
    pub head: String,
    /// The first broken entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub broken_at: Option<u64>,
    /// What is wrong there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `GET /audittrails/verify`.
#[utoipa::path(get, path = "/{org}/api/v1/audittrails/verify", tag = "audit",
    params(("org" = String, Path, description = "Organisation")),
    responses((status = 200, body = Verification), (status = 403, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn verify(
    AxState(app): AxState<Shared>,
    caller: Caller,
) -> ApiResult<Json<Verification>> {
    require_admin(&app, &caller)?;
    let report = app.store.verify_audit(&caller.org).await?;
    Ok(Json(verification(&report)))
}

/// The API form of a store report.
pub fn verification(report: &signet_store::AuditReport) -> Verification {
    Verification {
        ok: report.broken.is_none(),
        entries: report.entries,
        head: report.head.clone(),
        broken_at: report.broken.as_ref().map(|b| match b {
            AuditProblem::Broken { seq, .. } | AuditProblem::HeadMismatch { seq } => *seq,
            AuditProblem::Truncated { last_seq, .. } => last_seq.map_or(0, |s| s + 1),
            AuditProblem::HeadMissing { .. } => 0,
        }),
        reason: report.broken.as_ref().map(ToString::to_string),
    }
}

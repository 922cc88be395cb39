//! Tokens, the caller's identity, the global audit trail and the outbox.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json, Path, Query};
use crate::domain::actor::Role;
use crate::domain::audit::{AuditEvent, ChainHead};
use crate::domain::ids::{AuditId, ContactId, OutboxId, ProjectId, TokenId};
use crate::store::{OutboxEntry, OutboxStatus, TokenRecord};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(create_token, list_tokens))
        .routes(routes!(revoke_token))
        .routes(routes!(rotate_token))
        .routes(routes!(recent_audit))
        .routes(routes!(audit_head))
        .routes(routes!(list_outbox))
        .routes(routes!(retry_outbox))
}

/// The token in use: its role, contact and label.
#[utoipa::path(get, path = "/me", tag = "admin", responses((status = 200, body = TokenRecord), (status = 401, body = ErrorBody)),
    security(("bearer" = [])))]
async fn me(caller: Caller) -> Json<TokenRecord> {
    Json(caller.token)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct NewTokenRequest {
    role: Role,
    /// Required for `expert` and `client` tokens: the contact they speak for.
    #[serde(default)]
    contact_id: Option<ContactId>,
    #[serde(default)]
    label: Option<String>,
    /// Days until it expires (0: never); the role's default when absent.
    #[serde(default)]
    ttl_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RotateRequest {
    /// Days the new secret lives (0: never); the role's default when absent.
    #[serde(default)]
    ttl_days: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct NewTokenResponse {
    token: TokenRecord,
    /// Shown only now; store it safely.
    secret: String,
}

/// Creates a token (admin only). The secret appears once in the answer.
#[utoipa::path(post, path = "/tokens", tag = "admin", request_body = NewTokenRequest,
    responses((status = 201, body = NewTokenResponse), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_token(
    State(state): State<AppState>,
    caller: Caller,
    Json(req): Json<NewTokenRequest>,
) -> Result<(StatusCode, Json<NewTokenResponse>), ApiError> {
    caller.require_admin()?;
    let lifetime = state.tokens.lifetime(req.role, req.ttl_days);
    let new = state
        .store
        .create_token(
            req.role,
            req.contact_id,
            req.label.as_deref(),
            lifetime,
            &caller.actor,
        )
        .await?;
    tracing::info!(token = %new.record.id, role = %new.record.role, "token created");
    Ok((
        StatusCode::CREATED,
        Json(NewTokenResponse {
            token: new.record,
            secret: new.secret,
        }),
    ))
}

#[utoipa::path(get, path = "/tokens", tag = "admin", responses((status = 200, body = Vec<TokenRecord>)), security(("bearer" = [])))]
async fn list_tokens(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<TokenRecord>>, ApiError> {
    caller.require_admin()?;
    Ok(Json(state.store.list_tokens().await?))
}

#[utoipa::path(delete, path = "/tokens/{id}", tag = "admin", params(("id" = TokenId, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn revoke_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<TokenId>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin()?;
    state.store.revoke_token(id, &caller.actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Gives a token a new secret (and lifetime), keeping its id and role; the
/// old secret stops working at once (admin only).
#[utoipa::path(post, path = "/tokens/{id}/rotate", tag = "admin", params(("id" = TokenId, Path)),
    request_body = RotateRequest,
    responses((status = 200, body = NewTokenResponse), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn rotate_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<TokenId>,
    body: axum::body::Bytes,
) -> Result<Json<NewTokenResponse>, ApiError> {
    caller.require_admin()?;
    // The body is optional: no body rotates with the role's default lifetime.
    let req: RotateRequest = if body.is_empty() {
        RotateRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(e.to_string()))?
    };
    let new = state
        .store
        .rotate_token(id, &state.tokens, req.ttl_days, &caller.actor)
        .await?;
    tracing::info!(token = %id, "token rotated");
    Ok(Json(NewTokenResponse {
        token: new.record,
        secret: new.secret,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// Return events older than this event id (the last id of the previous page).
    before: Option<AuditId>,
    /// At most this many events (default 50, at most 200).
    limit: Option<u32>,
}

/// The newest audit events across the hub, newest first (staff only).
#[utoipa::path(get, path = "/audit", tag = "admin", params(AuditQuery),
    responses((status = 200, body = Vec<AuditEvent>)), security(("bearer" = [])))]
async fn recent_audit(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<AuditEvent>>, ApiError> {
    caller.require_staff()?;
    let limit = q.limit.unwrap_or(50).clamp(1, 200);
    Ok(Json(state.store.audit_recent(q.before, limit).await?))
}

/// The newest event of the audit hash chain: its number and hash. Keep a copy
/// elsewhere to detect later rewriting (`ssot audit verify`) (staff only).
#[utoipa::path(get, path = "/audit/head", tag = "admin",
    responses((status = 200, body = ChainHead)), security(("bearer" = [])))]
async fn audit_head(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ChainHead>, ApiError> {
    caller.require_staff()?;
    Ok(Json(state.store.audit_head().await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct OutboxQuery {
    status: Option<OutboxStatus>,
    project_id: Option<ProjectId>,
    /// At most this many entries (default 100, at most 1000).
    limit: Option<u32>,
}

/// Side effects waiting, delivered or failed, in delivery order (staff only).
#[utoipa::path(get, path = "/outbox", tag = "admin", params(OutboxQuery),
    responses((status = 200, body = Vec<OutboxEntry>)), security(("bearer" = [])))]
async fn list_outbox(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<OutboxQuery>,
) -> Result<Json<Vec<OutboxEntry>>, ApiError> {
    caller.require_staff()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(
        state
            .store
            .list_outbox(q.status, q.project_id, limit)
            .await?,
    ))
}

/// Puts a failed entry back in the queue with a fresh set of attempts (staff only).
#[utoipa::path(post, path = "/outbox/{id}/retry", tag = "admin", params(("id" = OutboxId, Path)),
    responses((status = 200, body = OutboxEntry), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn retry_outbox(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<OutboxId>,
) -> Result<Json<OutboxEntry>, ApiError> {
    caller.require_staff()?;
    let entry = state.store.retry_outbox(id, &caller.actor).await?;
    tracing::info!(entry = %id, kind = %entry.kind, "failed outbox entry queued again by hand");
    Ok(Json(entry))
}

//! `/experts`: expert profiles and their vetting lifecycle.

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json, Path, Query};
use super::views::{Page, page_after, page_limit};
use crate::domain::access;
use crate::domain::audit::{AuditEvent, EntityKind};
use crate::domain::contact::{ContactKind, NewContact};
use crate::domain::expert::{
    Expert, ExpertProfile, NewExpertInput, ProfileInput, VettingAction, VettingState,
};
use crate::domain::ids::{ContactId, ProjectId};
use crate::domain::lifecycle::ProjectState;
use crate::domain::validation::{Reason, ValidationErrors};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_expert, list_experts))
        .routes(routes!(get_expert))
        .routes(routes!(update_profile))
        .routes(routes!(change_vetting))
        .routes(routes!(expert_audit))
}

/// Registers an expert as an `applicant`.
#[utoipa::path(post, path = "/experts", tag = "experts", request_body = NewExpertInput,
    responses((status = 201, body = Expert), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_expert(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewExpertInput>,
) -> Result<(StatusCode, Json<Expert>), ApiError> {
    caller.require_staff()?;
    let contact = NewContact::parse(ContactKind::Expert, &input.contact());
    let profile = ExpertProfile::parse(&input.profile());
    let (contact, profile) = match (contact, profile) {
        (Ok(c), Ok(p)) => (c, p),
        (c, p) => {
            let mut all = ValidationErrors::new();
            all.0.extend(c.err().into_iter().flat_map(|e| e.0));
            all.0.extend(p.err().into_iter().flat_map(|e| e.0));
            return Err(all.into());
        }
    };
    let expert = state
        .store
        .create_expert(&contact, &profile, &caller.actor)
        .await?;
    tracing::info!(expert = %expert.contact.id, "expert registered");
    Ok((StatusCode::CREATED, Json(expert)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExpertQuery {
    /// Only experts in this vetting state.
    vetting: Option<VettingState>,
    /// At most this many items (default 50, at most 200).
    limit: Option<u32>,
    /// Items after this id: the `next` of the previous page.
    after: Option<String>,
}

#[utoipa::path(get, path = "/experts", tag = "experts", params(ExpertQuery),
    responses((status = 200, body = Page<Expert>)), security(("bearer" = [])))]
async fn list_experts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ExpertQuery>,
) -> Result<Json<Page<Expert>>, ApiError> {
    caller.require_staff()?;
    let limit = page_limit(q.limit);
    let experts = state
        .store
        .list_experts(q.vetting, page_after(q.after.as_deref())?, limit)
        .await?;
    Ok(Json(Page::of(experts, limit, |e: &Expert| {
        e.contact.id.to_string()
    })))
}

/// An expert with profile and current load; experts may read their own.
#[utoipa::path(get, path = "/experts/{id}", tag = "experts", params(("id" = ContactId, Path)),
    responses((status = 200, body = Expert), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn get_expert(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
) -> Result<Json<Expert>, ApiError> {
    if !access::can_see_contact(&caller.actor, id) {
        return Err(ApiError::not_found("expert", id));
    }
    Ok(Json(state.store.expert(id).await?))
}

/// Replaces skills, industries, languages, rate, capacity and rating.
#[utoipa::path(put, path = "/experts/{id}/profile", tag = "experts", params(("id" = ContactId, Path)),
    request_body = ProfileInput, responses((status = 200, body = Expert), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn update_profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
    Json(input): Json<ProfileInput>,
) -> Result<Json<Expert>, ApiError> {
    caller.require_staff()?;
    Ok(Json(
        state
            .store
            .update_expert_profile(id, &input, &caller.actor)
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct VettingRequest {
    action: VettingAction,
    /// Required for `reject`, `suspend` and `reinstate`.
    #[serde(default)]
    reason: Option<String>,
}

/// A project that a loss of vetting blocked or withdrew.
#[derive(Serialize, utoipa::ToSchema)]
struct CascadedChange {
    project_id: ProjectId,
    from: ProjectState,
    to: ProjectState,
}

#[derive(Serialize, utoipa::ToSchema)]
struct VettingResponse {
    expert: Expert,
    /// Projects blocked (access revoked) or offers withdrawn because the expert is no longer vetted.
    projects: Vec<CascadedChange>,
}

/// Moves the expert through vetting. Suspending a vetted expert blocks their
/// active projects and revokes their access.
#[utoipa::path(post, path = "/experts/{id}/vetting", tag = "experts", params(("id" = ContactId, Path)),
    request_body = VettingRequest,
    responses((status = 200, body = VettingResponse), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn change_vetting(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
    Json(req): Json<VettingRequest>,
) -> Result<Json<VettingResponse>, ApiError> {
    caller.require_staff()?;
    let reason = req
        .reason
        .as_deref()
        .map(Reason::parse)
        .transpose()
        .map_err(|e| ValidationErrors(vec![e]))?;
    let outcome = state
        .store
        .change_vetting(id, req.action, reason, &caller.actor)
        .await?;
    tracing::info!(expert = %id, from = %outcome.change.from, to = %outcome.change.to, blocked = outcome.cascaded.len(), "vetting changed");
    let projects = outcome
        .cascaded
        .iter()
        .map(|(project_id, t)| CascadedChange {
            project_id: *project_id,
            from: t.from,
            to: t.to,
        })
        .collect();
    Ok(Json(VettingResponse {
        expert: outcome.expert,
        projects,
    }))
}

#[utoipa::path(get, path = "/experts/{id}/audit", tag = "experts", params(("id" = ContactId, Path)),
    responses((status = 200, body = Vec<AuditEvent>)), security(("bearer" = [])))]
async fn expert_audit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
) -> Result<Json<Vec<AuditEvent>>, ApiError> {
    caller.require_staff()?;
    state.store.expert(id).await?;
    Ok(Json(
        state
            .store
            .audit_trail(EntityKind::Expert, &id.to_string())
            .await?,
    ))
}

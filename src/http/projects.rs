//! `/projects`: intake, the lifecycle, value metrics and each project's audit trail.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json, Path, Query};
use super::views::{Page, ProjectView, TransitionResponse, TransitionView, page_after, page_limit};
use crate::domain::access;
use crate::domain::audit::{AuditEvent, EntityKind};
use crate::domain::ids::{ContactId, ProjectId};
use crate::domain::lifecycle::{self, Action, Command, ProjectState};
use crate::domain::metrics::{Baseline, Outcome};
use crate::domain::project::{NewProject, NewProjectInput, Project};
use crate::store::ProjectFilter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_project, list_projects))
        .routes(routes!(get_project))
        .routes(routes!(transition_project))
        .routes(routes!(record_baseline))
        .routes(routes!(record_outcome))
        .routes(routes!(project_audit))
}

/// Loads a project the caller may see; anything else is "not found".
pub(super) async fn visible_project(
    state: &AppState,
    caller: &Caller,
    id: ProjectId,
) -> Result<Project, ApiError> {
    let project = state.store.project(id).await?;
    if access::can_see_project(&caller.actor, &project) {
        Ok(project)
    } else {
        Err(ApiError::not_found("project", id))
    }
}

/// Step 1: an operator records a consultation as a new project in `intake`.
#[utoipa::path(post, path = "/projects", tag = "projects", request_body = NewProjectInput,
    responses((status = 201, body = ProjectView), (status = 400, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<NewProjectInput>,
) -> Result<(StatusCode, Json<ProjectView>), ApiError> {
    caller.require_staff()?;
    let project = state
        .store
        .create_project(NewProject::parse(input)?, &caller.actor)
        .await?;
    tracing::info!(project = %project.id, client = %project.client_id, "project created in intake");
    Ok((
        StatusCode::CREATED,
        Json(ProjectView::new(project, &caller.actor)),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ProjectQuery {
    /// Only projects in this state.
    state: Option<ProjectState>,
    /// Only this client's projects (staff only; clients always see just their own).
    client_id: Option<ContactId>,
    /// Only this expert's projects (staff only).
    expert_id: Option<ContactId>,
    /// At most this many items (default 50, at most 200).
    limit: Option<u32>,
    /// Items after this id: the `next` of the previous page.
    after: Option<String>,
}

/// Projects the caller may see: all for staff, their own for clients and experts.
#[utoipa::path(get, path = "/projects", tag = "projects", params(ProjectQuery),
    responses((status = 200, body = Page<ProjectView>)), security(("bearer" = [])))]
async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ProjectQuery>,
) -> Result<Json<Page<ProjectView>>, ApiError> {
    let filter = ProjectFilter {
        state: q.state,
        client: q.client_id,
        expert: q.expert_id,
        after: page_after(q.after.as_deref())?,
        limit: page_limit(q.limit),
    }
    .seen_by(&caller.actor);
    let projects = state.store.list_projects(&filter).await?;
    let views = projects
        .into_iter()
        .map(|p| ProjectView::new(p, &caller.actor))
        .collect();
    Ok(Json(Page::of(views, filter.limit, |v: &ProjectView| {
        v.project.id.to_string()
    })))
}

#[utoipa::path(get, path = "/projects/{id}", tag = "projects", params(("id" = ProjectId, Path)),
    responses((status = 200, body = ProjectView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn get_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
) -> Result<Json<ProjectView>, ApiError> {
    let project = visible_project(&state, &caller, id).await?;
    Ok(Json(ProjectView::new(project, &caller.actor)))
}

/// A lifecycle step asked for by the caller.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TransitionRequest {
    action: Action,
    /// The expert to offer the project to (`offer` only).
    #[serde(default)]
    expert_id: Option<ContactId>,
    /// Required for `block`, `unblock` and `cancel`.
    #[serde(default)]
    reason: Option<String>,
    /// Refuse (409) unless the project is still at this version.
    #[serde(default)]
    expected_version: Option<i64>,
}

/// Moves a project through the lifecycle. Refused moves answer 409 with the
/// actions allowed from the current state; a failed gate answers 422.
#[utoipa::path(post, path = "/projects/{id}/transitions", tag = "projects", params(("id" = ProjectId, Path)),
    request_body = TransitionRequest,
    responses((status = 200, body = TransitionResponse), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn transition_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
    Json(req): Json<TransitionRequest>,
) -> Result<Json<TransitionResponse>, ApiError> {
    let project = visible_project(&state, &caller, id).await?;
    // Checked again inside the transaction; here so a wrong role hears 403 before input errors.
    if !lifecycle::may_take(&caller.actor, req.action, project.expert_id) {
        return Err(ApiError::forbidden(format!(
            "{} may not `{}` this project",
            caller.token.role, req.action
        )));
    }
    let command = Command::parse(req.action, req.expert_id, req.reason.as_deref())?;
    let outcome = state
        .store
        .transition_project(id, command, &caller.actor, req.expected_version)
        .await?;
    for t in &outcome.transitions {
        tracing::info!(project = %id, action = %t.action, from = %t.from, to = %t.to, effects = t.effects.len(), "project transition");
    }
    let transitions = outcome
        .transitions
        .iter()
        .enumerate()
        .map(|(i, t)| TransitionView::new(t, i, &caller.actor))
        .collect();
    Ok(Json(TransitionResponse {
        project: ProjectView::new(outcome.project, &caller.actor),
        transitions,
    }))
}

/// Step 6: the value baseline, required before credentialing.
#[utoipa::path(put, path = "/projects/{id}/baseline", tag = "projects", params(("id" = ProjectId, Path)),
    request_body = Baseline, responses((status = 200, body = ProjectView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn record_baseline(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
    Json(baseline): Json<Baseline>,
) -> Result<Json<ProjectView>, ApiError> {
    caller.require_staff()?;
    let baseline = baseline.validate()?;
    let project = state
        .store
        .record_baseline(id, baseline, &caller.actor)
        .await?;
    Ok(Json(ProjectView::new(project, &caller.actor)))
}

/// Step 11: the realised figures, required before completion.
#[utoipa::path(put, path = "/projects/{id}/outcome", tag = "projects", params(("id" = ProjectId, Path)),
    request_body = Outcome, responses((status = 200, body = ProjectView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn record_outcome(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
    Json(outcome): Json<Outcome>,
) -> Result<Json<ProjectView>, ApiError> {
    caller.require_staff()?;
    let outcome = outcome.validate()?;
    let project = state
        .store
        .record_outcome(id, outcome, &caller.actor)
        .await?;
    Ok(Json(ProjectView::new(project, &caller.actor)))
}

/// Every change to the project, oldest first: who, when, from which state to
/// which, and why. Clients see every step without staff details; experts only
/// their own steps (their offer, what they did, state changes from then on).
#[utoipa::path(get, path = "/projects/{id}/audit", tag = "projects", params(("id" = ProjectId, Path)),
    responses((status = 200, body = Vec<AuditEvent>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn project_audit(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
) -> Result<Json<Vec<AuditEvent>>, ApiError> {
    visible_project(&state, &caller, id).await?;
    let trail = state
        .store
        .audit_trail(EntityKind::Project, &id.to_string())
        .await?;
    Ok(Json(access::visible_audit(&caller.actor, trail)))
}

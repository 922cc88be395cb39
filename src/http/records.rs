//! Views of what the connectors keep for a project: expert matches, the
//! tracker (membership is access), the board record, the CRM deal, and each
//! person's notifications.

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json, Path, Query};
use crate::domain::expert::VettingState;
use crate::domain::ids::{ContactId, DocumentId, ProjectId};
use crate::domain::matching::{self, Match};
use crate::domain::task::Task;
use crate::store::{BoardView, Deal, Notification, TrackerView};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(matches))
        .routes(routes!(tracker))
        .routes(routes!(board))
        .routes(routes!(attachment))
        .routes(routes!(deal))
        .routes(routes!(notifications))
}

/// Step 4: vetted experts with free capacity, best fit first, each with the
/// breakdown of its score. Experts who declined the project are left out.
#[utoipa::path(get, path = "/projects/{id}/matches", tag = "projects", params(("id" = ProjectId, Path)),
    responses((status = 200, body = Vec<Match>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn matches(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
) -> Result<Json<Vec<Match>>, ApiError> {
    caller.require_staff()?;
    let project = state.store.project(id).await?;
    let experts = state.store.experts_in(VettingState::Vetted).await?;
    let declined = state.store.declined_by(id).await?;
    Ok(Json(matching::rank(&project, &experts, &declined)))
}

#[derive(Serialize, utoipa::ToSchema)]
struct TrackerResponse {
    /// `null` until the tracker project is created (step 3).
    project: Option<TrackerView>,
    tasks: Vec<Task>,
}

/// The built-in tracker project: its members (the experts with access) and tasks.
#[utoipa::path(get, path = "/projects/{id}/tracker", tag = "records", params(("id" = ProjectId, Path)),
    responses((status = 200, body = TrackerResponse), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn tracker(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
) -> Result<Json<TrackerResponse>, ApiError> {
    super::tasks::tracker_project(&state, &caller, id).await?;
    Ok(Json(TrackerResponse {
        project: state.store.tracker_view(id).await?,
        tasks: state.store.tasks(id).await?,
    }))
}

/// The built-in board record: list, document checklist, attachments (staff only).
#[utoipa::path(get, path = "/projects/{id}/board", tag = "records", params(("id" = ProjectId, Path)),
    responses((status = 200, body = Option<BoardView>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn board(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
) -> Result<Json<Option<BoardView>>, ApiError> {
    caller.require_staff()?;
    state.store.project(id).await?;
    Ok(Json(state.store.board_view(id).await?))
}

/// One file attached to the board record, such as the completion export.
#[utoipa::path(get, path = "/projects/{id}/board/attachments/{attachment_id}", tag = "records",
    params(("id" = ProjectId, Path), ("attachment_id" = DocumentId, Path)),
    responses((status = 200, description = "the file"), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn attachment(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, attachment_id)): Path<(ProjectId, DocumentId)>,
) -> Result<impl IntoResponse, ApiError> {
    caller.require_staff()?;
    let (meta, body) = state.store.board_attachment(id, attachment_id).await?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        meta.filename.replace('"', "")
    );
    Ok((
        [
            (header::CONTENT_TYPE, meta.content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    ))
}

/// The built-in CRM deal mirroring the project (staff only).
#[utoipa::path(get, path = "/projects/{id}/deal", tag = "records", params(("id" = ProjectId, Path)),
    responses((status = 200, body = Option<Deal>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn deal(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
) -> Result<Json<Option<Deal>>, ApiError> {
    caller.require_staff()?;
    state.store.project(id).await?;
    Ok(Json(state.store.deal(id).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct NotificationQuery {
    /// Whose notifications (staff only; others always get their own).
    contact_id: Option<ContactId>,
}

/// Notifications for the caller (offers made and withdrawn), newest first.
#[utoipa::path(get, path = "/notifications", tag = "records", params(NotificationQuery),
    responses((status = 200, body = Vec<Notification>)), security(("bearer" = [])))]
async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<NotificationQuery>,
) -> Result<Json<Vec<Notification>>, ApiError> {
    let contact = match (caller.token.contact_id, q.contact_id) {
        (Some(me), _) => me,
        (None, Some(other)) if caller.token.role.is_staff() => other,
        (None, _) => return Err(ApiError::bad_request("name the contact with ?contact_id=")),
    };
    Ok(Json(state.store.notifications(contact, 100).await?))
}

//! `/projects/{id}/tasks`: the built-in tracker's tasks, for staff and the expert
//! holding the project.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json, Path};
use super::projects::visible_project;
use crate::domain::access;
use crate::domain::actor::Actor;
use crate::domain::ids::{ProjectId, TaskId};
use crate::domain::project::Project;
use crate::domain::task::{NewTask, NewTaskInput, Task, TaskPatchInput, tracker_open};
use crate::store::StoreError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tasks, create_task))
        .routes(routes!(update_task))
}

/// Whether `actor` may use the project's tracker: staff, or the expert while
/// the project is active and their membership (their access) is in place.
/// The pages ask the same.
pub async fn may_use_tracker(
    state: &AppState,
    actor: &Actor,
    project: &Project,
) -> Result<bool, StoreError> {
    let member = match actor.contact() {
        Some(me) if !actor.is_staff() => state.store.is_tracker_member(project.id, me).await?,
        _ => true,
    };
    Ok(access::can_use_tracker(actor, project) && member)
}

/// The project, if the caller may use its tracker: staff, or the expert while
/// the project is active and their membership (their access) is in place.
pub(super) async fn tracker_project(
    state: &AppState,
    caller: &Caller,
    id: ProjectId,
) -> Result<Project, ApiError> {
    let project = visible_project(state, caller, id).await?;
    if may_use_tracker(state, &caller.actor, &project).await? {
        Ok(project)
    } else {
        Err(ApiError::forbidden(
            "the tracker is for staff, and for the expert while the project is active",
        ))
    }
}

#[utoipa::path(get, path = "/projects/{id}/tasks", tag = "tasks", params(("id" = ProjectId, Path)),
    responses((status = 200, body = Vec<Task>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn list_tasks(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
) -> Result<Json<Vec<Task>>, ApiError> {
    tracker_project(&state, &caller, id).await?;
    Ok(Json(state.store.tasks(id).await?))
}

#[utoipa::path(post, path = "/projects/{id}/tasks", tag = "tasks", params(("id" = ProjectId, Path)),
    request_body = NewTaskInput,
    responses((status = 201, body = Task), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_task(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
    Json(input): Json<NewTaskInput>,
) -> Result<(StatusCode, Json<Task>), ApiError> {
    let project = tracker_project(&state, &caller, id).await?;
    if !tracker_open(project.state) {
        return Err(ApiError::conflict(format!(
            "the project is `{}`; its tracker is closed",
            project.state
        )));
    }
    let task = state
        .store
        .create_task(id, NewTask::parse(&input)?, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, Json(task)))
}

#[utoipa::path(patch, path = "/projects/{id}/tasks/{task_id}", tag = "tasks",
    params(("id" = ProjectId, Path), ("task_id" = TaskId, Path)), request_body = TaskPatchInput,
    responses((status = 200, body = Task), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn update_task(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, task_id)): Path<(ProjectId, TaskId)>,
    Json(patch): Json<TaskPatchInput>,
) -> Result<Json<Task>, ApiError> {
    let project = tracker_project(&state, &caller, id).await?;
    if !tracker_open(project.state) {
        return Err(ApiError::conflict(format!(
            "the project is `{}`; its tracker is closed",
            project.state
        )));
    }
    Ok(Json(
        state
            .store
            .update_task(id, task_id, &patch, &caller.actor)
            .await?,
    ))
}

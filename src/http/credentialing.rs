//! `GET /projects/{id}/documents`: the credentialing gate (steps 7 and 8) as
//! the project's people see it. Documents are decided by the agent or, in the
//! review queue, by an operator (`documents.rs`); approving the last one
//! activates the project and grants the expert access.

use axum::extract::State;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json, Path};
use super::projects::visible_project;
use crate::domain::actor::Role;
use crate::domain::document::{Document, DocumentSubject, RequiredDocument};
use crate::domain::ids::ProjectId;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_documents))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ProjectDocuments {
    /// Each required document type and where it stands.
    required: Vec<RequiredDocument>,
    /// Every upload for the project, oldest first (for the client and staff;
    /// the expert sees where each requirement stands, not the client's files).
    uploaded: Vec<Document>,
}

/// The documents the project requires, where each stands, and the uploads.
#[utoipa::path(get, path = "/projects/{id}/documents", tag = "credentialing", params(("id" = ProjectId, Path)),
    responses((status = 200, body = ProjectDocuments), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn list_documents(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
) -> Result<Json<ProjectDocuments>, ApiError> {
    visible_project(&state, &caller, id).await?;
    let required = state.store.project_documents(id).await?;
    let uploaded = if caller.token.role == Role::Expert {
        Vec::new()
    } else {
        state
            .store
            .documents_of(DocumentSubject::Project(id))
            .await?
    };
    Ok(Json(ProjectDocuments { required, uploaded }))
}

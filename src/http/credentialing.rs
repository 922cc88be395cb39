//! `/projects/{id}/documents`: the credentialing gate (steps 7 and 8). Each
//! required document is approved or rejected; approving the last one activates
//! the project and grants the expert access.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json, Path};
use super::projects::visible_project;
use super::views::{ProjectView, TransitionView};
use crate::domain::document::{
    Decision, Document, DocumentSubject, DocumentType, RequiredDocument,
};
use crate::domain::ids::ProjectId;
use crate::domain::validation::{ValidationErrors, optional_text};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_documents))
        .routes(routes!(decide_document))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ProjectDocuments {
    /// Each required document type and where it stands.
    required: Vec<RequiredDocument>,
    /// Every upload for the project, oldest first.
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
    let uploaded = state
        .store
        .documents_of(DocumentSubject::Project(id))
        .await?;
    Ok(Json(ProjectDocuments { required, uploaded }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct DecisionRequest {
    decision: Decision,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct DecisionResponse {
    document: RequiredDocument,
    project: ProjectView,
    /// Transitions the decision caused (`activate` after the last approval).
    transitions: Vec<TransitionView>,
}

/// Approves or rejects one required document (operators; the agent later).
#[utoipa::path(post, path = "/projects/{id}/documents/{doc_type}/decision", tag = "credentialing",
    params(("id" = ProjectId, Path), ("doc_type" = String, Path)), request_body = DecisionRequest,
    responses((status = 200, body = DecisionResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn decide_document(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, doc_type)): Path<(ProjectId, String)>,
    Json(req): Json<DecisionRequest>,
) -> Result<Json<DecisionResponse>, ApiError> {
    caller.require_staff()?;
    let doc_type =
        DocumentType::parse("doc_type", &doc_type).map_err(|e| ValidationErrors(vec![e]))?;
    let comment = optional_text("comment", req.comment.as_deref(), 2000)
        .map_err(|e| ValidationErrors(vec![e]))?;
    let outcome = state
        .store
        .decide_document(
            id,
            &doc_type,
            req.decision,
            comment.as_deref(),
            &caller.actor,
        )
        .await?;
    tracing::info!(project = %id, document = %doc_type, decision = ?req.decision, state = %outcome.project.state, "document decided");
    // Transitions after a decision are all automatic: the agent's.
    let transitions = outcome
        .transitions
        .iter()
        .map(|t| TransitionView::new(t, 1, &caller.actor))
        .collect();
    Ok(Json(DecisionResponse {
        document: outcome.document,
        project: ProjectView::new(outcome.project, &caller.actor),
        transitions,
    }))
}

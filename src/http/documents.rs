//! Credentialing documents: uploads (streamed to storage, typed by their bytes,
//! deduplicated by hash, queued for the agent), reports, the human review
//! queue, expiring credentials and the protocol vault.

use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json, Path, Query};
use super::projects::visible_project;
use super::uploads::{self, UploadError};
use super::views::TransitionView;
use crate::domain::access;
use crate::domain::actor::Role;
use crate::domain::document::{Decision, Document, DocumentSubject, DocumentType, ReviewDecision};
use crate::domain::ids::{ContactId, DocumentId, ProjectId};
use crate::domain::protocol::ProtocolError;
use crate::domain::verification::Report;
use crate::store::{EXPERT_CREDENTIALS, ReviewItem};

/// The document routes; uploads may be as large as `upload_max_bytes`.
pub fn router(upload_max_bytes: u64) -> OpenApiRouter<AppState> {
    let body_limit = uploads::body_limit(upload_max_bytes);
    let uploads = OpenApiRouter::new()
        .routes(routes!(upload_project_document))
        .routes(routes!(upload_expert_document, expert_documents))
        .layer(DefaultBodyLimit::max(body_limit));
    OpenApiRouter::new()
        .merge(uploads)
        .routes(routes!(get_document))
        .routes(routes!(review_queue))
        .routes(routes!(decide_review))
        .routes(routes!(reverify))
        .routes(routes!(expiring))
        .routes(routes!(list_protocols, reindex_protocols))
}

/// A document and, once verified, the agent's report.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DocumentView {
    pub document: Document,
    pub report: Option<Report>,
}

impl From<MultipartRejection> for ApiError {
    fn from(r: MultipartRejection) -> Self {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("send the file as multipart/form-data: {}", r.body_text()),
        )
    }
}

impl From<UploadError> for ApiError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::TooLarge { .. } | UploadError::BodyTooLarge => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                e.to_string(),
            ),
            UploadError::BodyTimeout => super::error::body_timeout(),
            UploadError::Malformed(m) => ApiError::bad_request(m),
            UploadError::Unsupported => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                e.to_string(),
            ),
            UploadError::Invalid(errors) => errors.into(),
            UploadError::Quota(q) => q.into(),
            UploadError::Forbidden(m) => ApiError::forbidden(m),
            UploadError::Closed(_) => ApiError::conflict(e.to_string()),
            UploadError::Store(e) => e.into(),
            UploadError::Io(e) => ApiError::internal_io(&e),
        }
    }
}

/// The document as the API answers an upload: 201 when new, 200 when the
/// same bytes were uploaded before.
fn uploaded((document, created): (Document, bool)) -> (StatusCode, Json<DocumentView>) {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (
        status,
        Json(DocumentView {
            document,
            report: None,
        }),
    )
}

/// Uploads a credentialing document for a project (multipart: `type`, `file`).
/// Answers at once with status `queued`; the agent verifies it in the background.
#[utoipa::path(post, path = "/projects/{id}/documents", tag = "credentialing", params(("id" = ProjectId, Path)),
    request_body(content_type = "multipart/form-data", description = "fields `type` and `file`"),
    responses((status = 201, body = DocumentView), (status = 200, body = DocumentView, description = "the same bytes were uploaded before"),
        (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn upload_project_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<DocumentView>), ApiError> {
    let project = visible_project(&state, &caller, id).await?;
    let subject = uploads::for_project(&state, &caller.actor, &project).await?;
    let upload = uploads::receive(&state, multipart?).await?;
    let done = uploads::accept(
        &state,
        &caller.actor,
        subject,
        &project.required_documents,
        upload,
    )
    .await?;
    Ok(uploaded(done))
}

/// Uploads one of an expert's credentials (the expert, or staff).
#[utoipa::path(post, path = "/experts/{id}/documents", tag = "credentialing", params(("id" = ContactId, Path)),
    request_body(content_type = "multipart/form-data", description = "fields `type` and `file`"),
    responses((status = 201, body = DocumentView), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn upload_expert_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<(StatusCode, Json<DocumentView>), ApiError> {
    if !access::can_see_contact(&caller.actor, id) || caller.token.role == Role::Client {
        return Err(ApiError::not_found("expert", id));
    }
    state.store.expert(id).await?;
    let allowed: Vec<DocumentType> = EXPERT_CREDENTIALS
        .iter()
        .filter_map(|t| DocumentType::parse("t", t).ok())
        .collect();
    let subject = DocumentSubject::Expert(id);
    uploads::room_for_one_more(&state, subject).await?;
    let upload = uploads::receive(&state, multipart?).await?;
    Ok(uploaded(
        uploads::accept(&state, &caller.actor, subject, &allowed, upload).await?,
    ))
}

/// The expert's uploaded credentials (the expert, or staff).
#[utoipa::path(get, path = "/experts/{id}/documents", tag = "credentialing", params(("id" = ContactId, Path)),
    responses((status = 200, body = Vec<Document>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn expert_documents(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
) -> Result<Json<Vec<Document>>, ApiError> {
    if !access::can_see_contact(&caller.actor, id) {
        return Err(ApiError::not_found("expert", id));
    }
    Ok(Json(
        state
            .store
            .documents_of(DocumentSubject::Expert(id))
            .await?,
    ))
}

/// A document with its verification report, for the people it concerns.
#[utoipa::path(get, path = "/documents/{id}", tag = "credentialing", params(("id" = DocumentId, Path)),
    responses((status = 200, body = DocumentView), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn get_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DocumentId>,
) -> Result<Json<DocumentView>, ApiError> {
    let item = state.store.document_report(id).await?;
    let visible = match item.document.subject {
        DocumentSubject::Project(p) => {
            visible_project(&state, &caller, p).await.is_ok() && caller.token.role != Role::Expert
        }
        DocumentSubject::Expert(e) => access::can_see_contact(&caller.actor, e),
    };
    if !visible {
        return Err(ApiError::not_found("document", id));
    }
    Ok(Json(DocumentView {
        document: item.document,
        report: item.report,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ReviewQuery {
    /// At most this many documents (default 50, at most 200).
    limit: Option<u32>,
}

/// Documents waiting for a person, oldest first, with the agent's report and
/// the extracted text (staff only).
#[utoipa::path(get, path = "/reviews", tag = "credentialing", params(ReviewQuery),
    responses((status = 200, body = Vec<ReviewItem>)), security(("bearer" = [])))]
async fn review_queue(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ReviewQuery>,
) -> Result<Json<Vec<ReviewItem>>, ApiError> {
    caller.require_staff()?;
    Ok(Json(
        state
            .store
            .review_queue(q.limit.unwrap_or(50).clamp(1, 200))
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ReviewRequest {
    decision: Decision,
    #[serde(default)]
    comment: Option<String>,
    /// With an approval: the last day the credential is valid (`YYYY-MM-DD`),
    /// as read by the reviewer; the expiry sweep then covers it.
    #[serde(default, with = "crate::domain::dates::iso_date::option")]
    #[schema(value_type = Option<String>, format = Date)]
    expires_on: Option<time::Date>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ReviewResponse {
    document: Document,
    /// Lifecycle steps the decision caused (an activation, a block).
    transitions: Vec<TransitionView>,
    /// An expert vetting change it caused, as `[from, to]`.
    vetting: Option<[String; 2]>,
}

/// Approves or rejects a document in review (operators). The effects are the
/// agent's: the requirement, activation and access, the client's notice.
#[utoipa::path(post, path = "/reviews/{id}/decision", tag = "credentialing", params(("id" = DocumentId, Path)),
    request_body = ReviewRequest,
    responses((status = 200, body = ReviewResponse), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn decide_review(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DocumentId>,
    Json(req): Json<ReviewRequest>,
) -> Result<Json<ReviewResponse>, ApiError> {
    caller.require_staff()?;
    let decision = ReviewDecision::parse(
        req.decision,
        req.comment.as_deref(),
        req.expires_on,
        crate::store::now().date(),
    )?;
    let outcome = state
        .store
        .decide_review(
            id,
            decision.approves(),
            decision.comment.as_deref(),
            decision.expires_on,
            &caller.actor,
        )
        .await?;
    tracing::info!(document = %id, decision = ?req.decision, by = %caller.token.label, "review decided");
    Ok(Json(ReviewResponse {
        document: outcome.document,
        transitions: outcome
            .transitions
            .iter()
            .map(|(_, t)| TransitionView::new(t, 1, &caller.actor))
            .collect(),
        vetting: outcome.vetting.map(|(a, b)| [a.to_string(), b.to_string()]),
    }))
}

/// Sends a document in review, or rejected, back to the agent, e.g. after a
/// protocol was corrected or a model configured (staff). Answers with the
/// document, `queued` again.
#[utoipa::path(post, path = "/documents/{id}/reverify", tag = "credentialing", params(("id" = DocumentId, Path)),
    responses((status = 202, body = Document), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn reverify(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<DocumentId>,
) -> Result<(StatusCode, Json<Document>), ApiError> {
    caller.require_staff()?;
    let document = state.store.requeue_document(id, &caller.actor).await?;
    tracing::info!(document = %id, by = %caller.token.label, "document sent back to the agent");
    Ok((StatusCode::ACCEPTED, Json(document)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ExpiringQuery {
    /// Expiring within this many days (default: `expiry_warning_days`, 30).
    days: Option<u32>,
}

/// Approved credentials that expire soon (staff only).
#[utoipa::path(get, path = "/credentials/expiring", tag = "credentialing", params(ExpiringQuery),
    responses((status = 200, body = Vec<Document>)), security(("bearer" = [])))]
async fn expiring(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ExpiringQuery>,
) -> Result<Json<Vec<Document>>, ApiError> {
    caller.require_staff()?;
    let today = crate::store::now().date();
    let days = q.days.unwrap_or(state.expiry_warning_days).min(3660);
    let until = today.saturating_add(time::Duration::days(i64::from(days)));
    Ok(Json(state.store.expiring_documents(today, until).await?))
}

/// A protocol as loaded from the vault.
#[derive(Serialize, utoipa::ToSchema)]
struct ProtocolSummary {
    id: String,
    version: u32,
    title: String,
    file: String,
    applies_to: Vec<DocumentType>,
    requirements: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ProtocolsView {
    folder: String,
    protocols: Vec<ProtocolSummary>,
    /// Notes with front matter that could not be used, and why.
    broken: Vec<ProtocolError>,
    /// Other notes, indexed as guidance.
    notes: usize,
}

fn protocols_view(vault: &crate::agent::vault::Vault) -> ProtocolsView {
    ProtocolsView {
        folder: vault.dir.display().to_string(),
        protocols: vault
            .set
            .protocols
            .iter()
            .map(|p| ProtocolSummary {
                id: p.id.clone(),
                version: p.version,
                title: p.title.clone(),
                file: p.file.clone(),
                applies_to: p.applies_to.clone(),
                requirements: p.requirements.iter().map(|r| r.id.clone()).collect(),
            })
            .collect(),
        broken: vault.set.errors.clone(),
        notes: vault.set.notes.len(),
    }
}

/// The protocols the agent uses and the notes that failed to load (staff only).
#[utoipa::path(get, path = "/protocols", tag = "credentialing", responses((status = 200, body = ProtocolsView)), security(("bearer" = [])))]
async fn list_protocols(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ProtocolsView>, ApiError> {
    caller.require_staff()?;
    Ok(Json(protocols_view(&state.agent.protocols().current())))
}

/// Re-reads and re-indexes the protocol vault now (admins; it also happens by
/// itself when a note changes).
#[utoipa::path(post, path = "/protocols", tag = "credentialing", responses((status = 200, body = ProtocolsView)), security(("bearer" = [])))]
async fn reindex_protocols(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ProtocolsView>, ApiError> {
    caller.require_admin()?;
    let vault = state
        .agent
        .protocols()
        .reload()
        .map_err(|e| ApiError::internal_io(&e))?;
    Ok(Json(protocols_view(&vault)))
}

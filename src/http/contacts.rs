//! `/contacts`: the CRM records of clients (experts are created through `/experts`).

use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json, Path, Query};
use super::views::{Page, page_after, page_limit};
use crate::domain::access;
use crate::domain::contact::{Contact, ContactInput, ContactKind, ContactPatchInput, NewContact};
use crate::domain::document::Decision;
use crate::domain::identity::{self, ChangeRequest, IdentityChange, IdentityField, RequestStatus};
use crate::domain::ids::{ChangeRequestId, ContactId, DocumentId, ProjectId};
use crate::domain::validation::{ValidationErrors, optional_text};
use crate::store::ContactChange;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_contact, list_contacts))
        .routes(routes!(get_contact, update_contact))
        .routes(routes!(request_change, contact_requests))
        .routes(routes!(list_requests))
        .routes(routes!(decide_request))
}

/// Creates a client contact. The e-mail must not belong to another contact.
#[utoipa::path(post, path = "/contacts", tag = "contacts", request_body = ContactInput,
    responses((status = 201, body = Contact), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_contact(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<ContactInput>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    caller.require_staff()?;
    let new = NewContact::parse(ContactKind::Client, &input)?;
    let contact = state.store.create_contact(&new, &caller.actor).await?;
    tracing::info!(contact = %contact.id, "client contact created");
    Ok((StatusCode::CREATED, Json(contact)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ContactQuery {
    /// Only clients or only experts.
    kind: Option<ContactKind>,
    /// At most this many items (default 50, at most 200).
    limit: Option<u32>,
    /// Items after this id: the `next` of the previous page.
    after: Option<String>,
}

#[utoipa::path(get, path = "/contacts", tag = "contacts", params(ContactQuery),
    responses((status = 200, body = Page<Contact>)), security(("bearer" = [])))]
async fn list_contacts(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<ContactQuery>,
) -> Result<Json<Page<Contact>>, ApiError> {
    caller.require_staff()?;
    let limit = page_limit(q.limit);
    let contacts = state
        .store
        .list_contacts(q.kind, page_after(q.after.as_deref())?, limit)
        .await?;
    Ok(Json(Page::of(contacts, limit, |c: &Contact| {
        c.id.to_string()
    })))
}

/// A contact; people may read their own record.
#[utoipa::path(get, path = "/contacts/{id}", tag = "contacts", params(("id" = ContactId, Path)),
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn get_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
) -> Result<Json<Contact>, ApiError> {
    if !access::can_see_contact(&caller.actor, id) {
        return Err(ApiError::not_found("contact", id));
    }
    Ok(Json(state.store.contact(id).await?))
}

/// A contact after a change, with what the change re-opened.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ContactUpdate {
    #[serde(flatten)]
    pub contact: Contact,
    /// Identity fields that changed, with old and new values.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<IdentityChange>,
    pub reopened: ReopenedView,
}

/// What an identity change sent back: documents to the agent, projects
/// blocked, tracker access moved to the new account, the expert's vetting.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReopenedView {
    pub documents: Vec<DocumentId>,
    pub blocked: Vec<ProjectId>,
    pub access_moved: Vec<ProjectId>,
    /// `[from, to]` when the expert was suspended until re-verified.
    pub vetting: Option<[String; 2]>,
}

impl From<ContactChange> for ContactUpdate {
    fn from(c: ContactChange) -> Self {
        let r = c.reopened;
        Self {
            contact: c.contact,
            changes: c.changes,
            reopened: ReopenedView {
                documents: r.documents,
                blocked: r.transitions.iter().map(|(p, _)| *p).collect(),
                access_moved: r.access_moved,
                vetting: r.vetting.map(|(a, b)| [a.to_string(), b.to_string()]),
            },
        }
    }
}

/// Refuses a person's change to their own identity fields, naming the
/// fields and how to ask for the change instead.
fn identity_refused(id: ContactId, fields: &[IdentityField]) -> ApiError {
    let names: Vec<String> = fields.iter().map(ToString::to_string).collect();
    ApiError::new(
        StatusCode::FORBIDDEN,
        "identity_field",
        format!(
            "{} can be changed only by the agency, because documents are checked against them or access is granted by them; \
             ask for the change with POST /api/v1/contacts/{id}/change-requests",
            names.join(", ")
        ),
    )
    .with_details(json!({ "fields": names, "request_with": format!("/api/v1/contacts/{id}/change-requests") }))
}

/// Changes some fields; `null` clears an optional one. People may change
/// their own phone; identity fields (name, e-mail, company name, tax id,
/// Atlassian account) only staff, and such a change re-opens the approvals
/// that rested on the old value.
#[utoipa::path(patch, path = "/contacts/{id}", tag = "contacts", params(("id" = ContactId, Path)),
    request_body = ContactPatchInput,
    responses((status = 200, body = ContactUpdate), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn update_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
    Json(patch): Json<ContactPatchInput>,
) -> Result<Json<ContactUpdate>, ApiError> {
    if !access::can_see_contact(&caller.actor, id) {
        return Err(ApiError::not_found("contact", id));
    }
    let fields = identity::touched(&patch);
    if !fields.is_empty() && !identity::may_change(&caller.actor) {
        return Err(identity_refused(id, &fields));
    }
    let change = state
        .store
        .update_contact(id, &patch, &caller.actor)
        .await?;
    if !change.changes.is_empty() {
        tracing::info!(contact = %id, fields = ?change.changes.iter().map(|c| c.field).collect::<Vec<_>>(),
            reopened = change.reopened.documents.len(), "identity fields changed");
    }
    Ok(Json(change.into()))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct ChangeRequestInput {
    /// The fields to change, as for `PATCH /contacts/{id}`.
    #[schema(value_type = Object)]
    changes: serde_json::Value,
    /// Why, for the operator who decides.
    #[serde(default)]
    reason: Option<String>,
}

/// Asks the agency to change fields of one's own record (an operator
/// approves or rejects it). The values are checked now.
#[utoipa::path(post, path = "/contacts/{id}/change-requests", tag = "contacts", params(("id" = ContactId, Path)),
    request_body = ChangeRequestInput,
    responses((status = 201, body = ChangeRequest), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn request_change(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
    Json(input): Json<ChangeRequestInput>,
) -> Result<(StatusCode, Json<ChangeRequest>), ApiError> {
    if !access::can_see_contact(&caller.actor, id) {
        return Err(ApiError::not_found("contact", id));
    }
    let patch: ContactPatchInput = serde_json::from_value(input.changes.clone())
        .map_err(|e| ApiError::bad_request(format!("changes: {e}")))?;
    let mut preview = state.store.contact(id).await?;
    let before = preview.clone();
    preview.apply_patch(&patch)?;
    if identity::changes(&before, &preview).is_empty() && preview.phone == before.phone {
        return Err(ValidationErrors::single("changes", "changes nothing").into());
    }
    let reason = optional_text("reason", input.reason.as_deref(), 2000)
        .map_err(|e| ValidationErrors(vec![e]))?;
    let request = state
        .store
        .request_contact_change(id, input.changes, reason.as_deref(), &caller.actor)
        .await?;
    tracing::info!(contact = %id, request = %request.id, "identity change requested");
    Ok((StatusCode::CREATED, Json(request)))
}

/// The change requests of one contact, newest first (the person, or staff).
#[utoipa::path(get, path = "/contacts/{id}/change-requests", tag = "contacts", params(("id" = ContactId, Path)),
    responses((status = 200, body = Vec<ChangeRequest>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn contact_requests(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
) -> Result<Json<Vec<ChangeRequest>>, ApiError> {
    if !access::can_see_contact(&caller.actor, id) {
        return Err(ApiError::not_found("contact", id));
    }
    Ok(Json(
        state.store.change_requests(Some(id), None, 200).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct RequestQuery {
    /// Only requests in this state (`pending` for the queue).
    status: Option<RequestStatus>,
    /// At most this many (default 50, at most 200).
    limit: Option<u32>,
}

/// Change requests across contacts, newest first (staff only).
#[utoipa::path(get, path = "/change-requests", tag = "contacts", params(RequestQuery),
    responses((status = 200, body = Vec<ChangeRequest>)), security(("bearer" = [])))]
async fn list_requests(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RequestQuery>,
) -> Result<Json<Vec<ChangeRequest>>, ApiError> {
    caller.require_staff()?;
    Ok(Json(
        state
            .store
            .change_requests(None, q.status, page_limit(q.limit))
            .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct RequestDecisionInput {
    decision: Decision,
    #[serde(default)]
    comment: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct RequestDecisionView {
    request: ChangeRequest,
    /// The contact as changed, with what the change re-opened (approvals only).
    contact: Option<ContactUpdate>,
}

/// Approves (the change is made as the approver's) or rejects a pending
/// request (staff only).
#[utoipa::path(post, path = "/change-requests/{id}/decision", tag = "contacts", params(("id" = ChangeRequestId, Path)),
    request_body = RequestDecisionInput,
    responses((status = 200, body = RequestDecisionView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn decide_request(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ChangeRequestId>,
    Json(input): Json<RequestDecisionInput>,
) -> Result<Json<RequestDecisionView>, ApiError> {
    caller.require_staff()?;
    let comment = optional_text("comment", input.comment.as_deref(), 2000)
        .map_err(|e| ValidationErrors(vec![e]))?;
    let approve = input.decision == Decision::Approve;
    let decided = state
        .store
        .decide_change_request(id, approve, comment.as_deref(), &caller.actor)
        .await?;
    tracing::info!(request = %id, approve, by = %caller.token.label, "change request decided");
    Ok(Json(RequestDecisionView {
        request: decided.request,
        contact: decided.change.map(ContactUpdate::from),
    }))
}

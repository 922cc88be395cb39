//! `/contacts`: the CRM records of clients (experts are created through `/experts`).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json, Path, Query};
use super::views::{Page, page_after, page_limit};
use crate::domain::access;
use crate::domain::contact::{Contact, ContactInput, ContactKind, ContactPatchInput, NewContact};
use crate::domain::ids::ContactId;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_contact, list_contacts))
        .routes(routes!(get_contact, update_contact))
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

/// Changes some fields; `null` clears an optional one. People may edit their own record.
#[utoipa::path(patch, path = "/contacts/{id}", tag = "contacts", params(("id" = ContactId, Path)),
    request_body = ContactPatchInput,
    responses((status = 200, body = Contact), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn update_contact(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ContactId>,
    Json(patch): Json<ContactPatchInput>,
) -> Result<Json<Contact>, ApiError> {
    if !access::can_see_contact(&caller.actor, id) {
        return Err(ApiError::not_found("contact", id));
    }
    Ok(Json(
        state
            .store
            .update_contact(id, &patch, &caller.actor)
            .await?,
    ))
}

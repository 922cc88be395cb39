//! `/projects/{id}/tickets`: the helpdesk (step 9), for the people on the project.

use axum::extract::State;
use axum::http::StatusCode;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json, Path};
use super::projects::visible_project;
use crate::domain::access;
use crate::domain::ids::{ProjectId, TicketId};
use crate::domain::project::Project;
use crate::domain::ticket::{
    Message, NewMessageInput, NewTicketInput, Ticket, TicketStatusInput, parse_body, parse_subject,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_tickets, open_ticket))
        .routes(routes!(get_ticket))
        .routes(routes!(add_message))
        .routes(routes!(set_status))
}

/// The project, if the caller is on it; `writing` also needs a non-archived project.
async fn helpdesk_project(
    state: &AppState,
    caller: &Caller,
    id: ProjectId,
    writing: bool,
) -> Result<Project, ApiError> {
    let project = visible_project(state, caller, id).await?;
    if !access::can_use_helpdesk(&caller.actor, &project) {
        return Err(ApiError::forbidden(
            "the helpdesk is for the client, the expert once accepted, and staff",
        ));
    }
    if writing && !access::helpdesk_open(project.state) {
        return Err(ApiError::conflict(
            "the project is archived; its helpdesk is read-only",
        ));
    }
    Ok(project)
}

#[utoipa::path(get, path = "/projects/{id}/tickets", tag = "helpdesk", params(("id" = ProjectId, Path)),
    responses((status = 200, body = Vec<Ticket>), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn list_tickets(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
) -> Result<Json<Vec<Ticket>>, ApiError> {
    helpdesk_project(&state, &caller, id, false).await?;
    Ok(Json(state.store.tickets(id).await?))
}

#[utoipa::path(post, path = "/projects/{id}/tickets", tag = "helpdesk", params(("id" = ProjectId, Path)),
    request_body = NewTicketInput,
    responses((status = 201, body = Ticket), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn open_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<ProjectId>,
    Json(input): Json<NewTicketInput>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    helpdesk_project(&state, &caller, id, true).await?;
    let subject = parse_subject(&input.subject)?;
    let body = parse_body(&input.body)?;
    let ticket = state
        .store
        .create_ticket(id, subject, body, &caller.actor)
        .await?;
    tracing::info!(project = %id, ticket = %ticket.id, "ticket opened");
    Ok((StatusCode::CREATED, Json(ticket)))
}

#[utoipa::path(get, path = "/projects/{id}/tickets/{ticket_id}", tag = "helpdesk",
    params(("id" = ProjectId, Path), ("ticket_id" = TicketId, Path)),
    responses((status = 200, body = Ticket), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn get_ticket(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, ticket_id)): Path<(ProjectId, TicketId)>,
) -> Result<Json<Ticket>, ApiError> {
    helpdesk_project(&state, &caller, id, false).await?;
    Ok(Json(state.store.ticket(id, ticket_id).await?))
}

#[utoipa::path(post, path = "/projects/{id}/tickets/{ticket_id}/messages", tag = "helpdesk",
    params(("id" = ProjectId, Path), ("ticket_id" = TicketId, Path)), request_body = NewMessageInput,
    responses((status = 201, body = Message), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn add_message(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, ticket_id)): Path<(ProjectId, TicketId)>,
    Json(input): Json<NewMessageInput>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    helpdesk_project(&state, &caller, id, true).await?;
    let body = parse_body(&input.body)?;
    Ok((
        StatusCode::CREATED,
        Json(
            state
                .store
                .add_message(id, ticket_id, body, &caller.actor)
                .await?,
        ),
    ))
}

/// Closes or reopens a ticket.
#[utoipa::path(put, path = "/projects/{id}/tickets/{ticket_id}/status", tag = "helpdesk",
    params(("id" = ProjectId, Path), ("ticket_id" = TicketId, Path)), request_body = TicketStatusInput,
    responses((status = 200, body = Ticket), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, ticket_id)): Path<(ProjectId, TicketId)>,
    Json(input): Json<TicketStatusInput>,
) -> Result<Json<Ticket>, ApiError> {
    helpdesk_project(&state, &caller, id, true).await?;
    Ok(Json(
        state
            .store
            .set_ticket_status(id, ticket_id, input.status, &caller.actor)
            .await?,
    ))
}

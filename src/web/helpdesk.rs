//! The helpdesk of a project (step 9) on its page: open a ticket, reply,
//! close or reopen, for the client, the expert once accepted, and staff,
//! under the same rules as the API's `/projects/{id}/tickets`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::WebState;
use super::csrf::CsrfForm;
use super::errors::PageError;
use super::projects::{Form, Refusal, page, visible};
use super::session::SignedIn;
use crate::domain::access;
use crate::domain::ids::TicketId;
use crate::domain::project::Project;
use crate::domain::ticket::{TicketStatus, parse_body, parse_subject};
use crate::domain::validation::ValidationErrors;
use crate::store::StoreError;

#[derive(Debug, Default, Deserialize)]
pub struct TicketForm {
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    status: String,
}

/// The project, if the reader is one of its helpdesk's people and, for
/// `writing`, it still takes messages (as the API decides).
async fn helpdesk_project(
    state: &WebState,
    signed: &SignedIn,
    id: &str,
    writing: bool,
) -> Result<Project, PageError> {
    let project = visible(state, signed, id).await?;
    let actor = signed.user().actor();
    let refusal = if !access::can_use_helpdesk(&actor, &project) {
        Some((StatusCode::FORBIDDEN, "helpdesk-forbidden"))
    } else if writing && !access::helpdesk_open(project.state) {
        Some((StatusCode::CONFLICT, "helpdesk-closed"))
    } else {
        None
    };
    match refusal {
        None => Ok(project),
        Some((status, key)) => {
            let refused = Refusal {
                reason: Some(signed.tr().t(key)),
                ..Refusal::default()
            };
            let shown = page(state, signed, project, refused, status).await?;
            Err(PageError::Rendered(Box::new(shown)))
        }
    }
}

fn back(project: &Project) -> Response {
    Redirect::to(&format!("/projects/{}#helpdesk", project.id)).into_response()
}

async fn refused(
    state: &WebState,
    signed: &SignedIn,
    project: Project,
    refusal: Refusal,
) -> Result<Response, PageError> {
    page(
        state,
        signed,
        project,
        refusal,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await
}

pub async fn open(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<TicketForm>,
) -> Result<Response, PageError> {
    let project = helpdesk_project(&state, &signed, &id, true).await?;
    let mut errors = ValidationErrors::new();
    let subject = parse_subject(&form.subject)
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    let body = parse_body(&form.body)
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    let (Some(subject), Some(body)) = (subject, body) else {
        let refusal = Refusal {
            form: Some(Form::Ticket),
            errors,
            sent_subject: form.subject,
            sent_body: form.body,
            ..Refusal::default()
        };
        return refused(&state, &signed, project, refusal).await;
    };
    let ticket = state
        .app
        .store
        .create_ticket(project.id, subject, body, &signed.user().actor())
        .await?;
    tracing::info!(project = %project.id, ticket = %ticket.id, by = %signed.user().email, "ticket opened from a page");
    Ok(back(&project))
}

pub async fn reply(
    State(state): State<WebState>,
    signed: SignedIn,
    Path((id, ticket)): Path<(String, String)>,
    CsrfForm { form, .. }: CsrfForm<TicketForm>,
) -> Result<Response, PageError> {
    let project = helpdesk_project(&state, &signed, &id, true).await?;
    let ticket: TicketId = signed.id(&ticket)?;
    let body = match parse_body(&form.body) {
        Ok(body) => body,
        Err(errors) => {
            let refusal = Refusal {
                form: Some(Form::Reply(ticket)),
                errors,
                sent_body: form.body,
                ..Refusal::default()
            };
            return refused(&state, &signed, project, refusal).await;
        }
    };
    let sent = state
        .app
        .store
        .add_message(project.id, ticket, body, &signed.user().actor())
        .await;
    answered(&state, &signed, project, sent).await
}

pub async fn status(
    State(state): State<WebState>,
    signed: SignedIn,
    Path((id, ticket)): Path<(String, String)>,
    CsrfForm { form, .. }: CsrfForm<TicketForm>,
) -> Result<Response, PageError> {
    let project = helpdesk_project(&state, &signed, &id, true).await?;
    let ticket: TicketId = signed.id(&ticket)?;
    let status: TicketStatus = form
        .status
        .parse()
        .map_err(|_| PageError::BadForm(signed.tr().clone()))?;
    let set = state
        .app
        .store
        .set_ticket_status(project.id, ticket, status, &signed.user().actor())
        .await;
    answered(&state, &signed, project, set).await
}

/// Back to the helpdesk once a ticket changed; a ticket that is not the
/// project's is a page that does not exist, a refused change is told.
async fn answered<T>(
    state: &WebState,
    signed: &SignedIn,
    project: Project,
    result: Result<T, StoreError>,
) -> Result<Response, PageError> {
    match result {
        Ok(_) => Ok(back(&project)),
        Err(StoreError::NotFound { .. }) => Err(PageError::NotFound(signed.tr().clone())),
        Err(StoreError::Conflict(reason)) => {
            let text = signed.tr().t1("refused-conflict", "reason", reason);
            let refusal = Refusal {
                reason: Some(text),
                ..Refusal::default()
            };
            page(state, signed, project, refusal, StatusCode::CONFLICT).await
        }
        Err(e) => Err(e.into()),
    }
}

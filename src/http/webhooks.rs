//! Webhooks from the connected tools. They carry no token: each is
//! authenticated by the vendor's signature over the raw body, and anything
//! forged, stale or malformed is refused before it changes anything.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::Json;
use crate::connectors::signatures::{self, SignatureError};
use crate::connectors::trello::COMMENT_TAG_PREFIX;
use crate::domain::actor::Actor;
use crate::domain::contact::{ContactKind, NewContact};
use crate::domain::ids::{ContactId, ProjectId};
use crate::domain::intake::FormResponse;
use crate::domain::project::NewProject;
use crate::store::BOARD_INTEGRATION;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(hubspot))
        .routes(routes!(trello_check, trello))
        .routes(routes!(google_forms))
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn refused(tool: &str, e: SignatureError) -> ApiError {
    tracing::warn!(tool, error = %e, "webhook refused");
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "bad_signature",
        format!("{tool} webhook refused: {e}"),
    )
}

fn not_connected(tool: &str) -> ApiError {
    ApiError::not_found("webhook", format!("{tool} (not connected)"))
}

/// What a webhook did.
#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
struct WebhookOutcome {
    /// Events taken: applied here, or queued to be.
    applied: usize,
    /// Events about things SSoT-Lite does not keep, or that changed nothing.
    ignored: usize,
}

/// One event of HubSpot's webhook array (the fields used here).
#[derive(Debug, Deserialize)]
struct HubSpotEvent {
    #[serde(rename = "subscriptionType")]
    subscription_type: String,
    #[serde(rename = "objectId")]
    object_id: Option<i64>,
}

/// Contact changes made in HubSpot (v3-signed). Each contact event queues a
/// read-back of that contact through the outbox, behind any local change of
/// it still on its way to HubSpot (so an edit made here is not overwritten),
/// and the answer comes at once, well within HubSpot's webhook timeout.
#[utoipa::path(post, path = "/webhooks/hubspot", tag = "webhooks",
    request_body(content = Vec<Object>, description = "HubSpot's event array, signed with X-HubSpot-Signature-v3"),
    responses((status = 200, body = WebhookOutcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn hubspot(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookOutcome>, ApiError> {
    let inbound = state
        .connectors
        .inbound
        .hubspot
        .clone()
        .ok_or_else(|| not_connected("HubSpot"))?;
    signatures::hubspot_v3(
        inbound.client_secret.expose(),
        "POST",
        &inbound.url,
        &body,
        header(&headers, "x-hubspot-request-timestamp"),
        header(&headers, "x-hubspot-signature-v3"),
        time::OffsetDateTime::now_utc(),
    )
    .map_err(|e| refused("HubSpot", e))?;
    let events: Vec<HubSpotEvent> = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("not a HubSpot event array: {e}")))?;
    let mut outcome = WebhookOutcome::default();
    for event in events {
        let contact = match event.object_id {
            Some(id) if event.subscription_type.starts_with("contact.") => {
                state.store.contact_by_crm_ref(&id.to_string()).await?
            }
            _ => None,
        };
        match contact {
            Some(c) if state.store.queue_crm_pull(c.id).await? => outcome.applied += 1,
            _ => outcome.ignored += 1,
        }
    }
    tracing::info!(
        queued = outcome.applied,
        ignored = outcome.ignored,
        "HubSpot webhook handled"
    );
    Ok(Json(outcome))
}

/// Trello's check that the callback URL answers, before it registers the webhook.
#[utoipa::path(head, path = "/webhooks/trello", tag = "webhooks", responses((status = 200), (status = 404, body = ErrorBody)))]
async fn trello_check(State(state): State<AppState>) -> Result<StatusCode, ApiError> {
    state
        .connectors
        .inbound
        .trello
        .as_ref()
        .map(|_| StatusCode::OK)
        .ok_or_else(|| not_connected("Trello"))
}

/// What Trello sends about an action (the fields used here).
#[derive(Debug, Deserialize)]
struct TrelloPayload {
    action: TrelloAction,
}

#[derive(Debug, Deserialize)]
struct TrelloAction {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    data: serde_json::Value,
    #[serde(default, rename = "memberCreator")]
    member: serde_json::Value,
}

/// Actions on the board (signed with X-Trello-Webhook). A comment written in
/// Trello on a project's card becomes a helpdesk message of that project;
/// the hub's own comments, other actions and other cards are ignored.
#[utoipa::path(post, path = "/webhooks/trello", tag = "webhooks",
    request_body(content = Object, description = "Trello's action payload, signed with X-Trello-Webhook"),
    responses((status = 200, body = WebhookOutcome), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn trello(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookOutcome>, ApiError> {
    let inbound = state
        .connectors
        .inbound
        .trello
        .clone()
        .ok_or_else(|| not_connected("Trello"))?;
    signatures::trello(
        inbound.app_secret.expose(),
        &body,
        &inbound.url,
        header(&headers, "x-trello-webhook"),
    )
    .map_err(|e| refused("Trello", e))?;
    let payload: TrelloPayload = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("not a Trello action: {e}")))?;
    let action = payload.action;
    let mut outcome = WebhookOutcome::default();
    let card = action.data["card"]["id"].as_str().unwrap_or_default();
    let text = action.data["text"].as_str().unwrap_or_default().trim();
    let relevant = action.kind == "commentCard" && !card.is_empty() && !text.is_empty();
    // The hub's own comments come back too, maybe before their ids are
    // recorded: they end with the hub's tag.
    let relevant = relevant && !text.contains(COMMENT_TAG_PREFIX);
    let project = if relevant
        && !state
            .store
            .knows_external(BOARD_INTEGRATION, &action.id)
            .await?
    {
        state.store.project_by_board_ref(card).await?
    } else {
        None
    };
    let Some(project) = project else {
        outcome.ignored = 1;
        return Ok(Json(outcome));
    };
    let member = action.member["fullName"]
        .as_str()
        .or(action.member["username"].as_str())
        .unwrap_or("someone");
    let body = text.chars().take(10_000).collect::<String>();
    match state
        .store
        .add_board_comment(project, &action.id, member, body)
        .await?
    {
        Some(message) => {
            tracing::info!(project = %project, message = %message.id, "Trello comment taken as a helpdesk message");
            outcome.applied = 1;
        }
        None => outcome.ignored = 1,
    }
    Ok(Json(outcome))
}

/// A form response in either shape: the Apps Script payload (answers by
/// question title) or the Forms API's `FormResponse` (answers by question id).
fn form_response(body: &serde_json::Value) -> Result<FormResponse, String> {
    let text = |v: &serde_json::Value| v.as_str().map(str::to_owned);
    let response_id = text(&body["response_id"])
        .or_else(|| text(&body["responseId"]))
        .filter(|id| !id.trim().is_empty())
        .ok_or("the response has no `response_id` (or `responseId`)")?;
    let answers = body["answers"]
        .as_object()
        .ok_or("the response has no `answers` object")?;
    let mut out = Vec::with_capacity(answers.len());
    for (question, answer) in answers {
        let values: Vec<String> = match answer {
            serde_json::Value::String(s) => vec![s.clone()],
            serde_json::Value::Array(items) => items.iter().filter_map(text).collect(),
            // The Forms API: {questionId, textAnswers: {answers: [{value}]}}.
            serde_json::Value::Object(_) => answer["textAnswers"]["answers"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| text(&v["value"])).collect())
                .unwrap_or_default(),
            serde_json::Value::Null => Vec::new(),
            other => vec![other.to_string()],
        };
        out.push((question.clone(), values));
    }
    Ok(FormResponse {
        response_id,
        form_id: text(&body["form_id"]).or_else(|| text(&body["formId"])),
        submitted_at: text(&body["submitted_at"]).or_else(|| text(&body["lastSubmittedTime"])),
        respondent_email: text(&body["respondent_email"])
            .or_else(|| text(&body["respondentEmail"])),
        answers: out,
    })
}

/// What an intake from the form made.
#[derive(Serialize, utoipa::ToSchema)]
struct IntakeOutcome {
    project_id: ProjectId,
    contact_id: ContactId,
    /// False when this response was taken before; nothing new was made.
    created: bool,
}

/// A consultation-form response (step 1): the client's contact is found by
/// e-mail or created, and a project opens in `intake`. Signed with
/// `X-SSoT-Signature: sha256=<hex HMAC-SHA256 of the body>` and the shared
/// secret; idempotent on the response id; fields mapped by the mapping file.
#[utoipa::path(post, path = "/intake/google-forms", tag = "webhooks",
    request_body(content = Object, description = "`{form_id, response_id, submitted_at, respondent_email, answers: {title: text | [text]}}` or a Forms API FormResponse"),
    responses((status = 201, body = IntakeOutcome), (status = 200, body = IntakeOutcome, description = "the response was taken before"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn google_forms(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<IntakeOutcome>), ApiError> {
    let forms = state
        .connectors
        .inbound
        .google_forms
        .clone()
        .ok_or_else(|| not_connected("Google Forms"))?;
    signatures::hub_hmac(
        forms.secret.expose(),
        &body,
        header(&headers, "x-ssot-signature"),
    )
    .map_err(|e| refused("Google Forms", e))?;
    let value: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let response = form_response(&value).map_err(ApiError::bad_request)?;
    let intake = forms.mapping.read(&response)?;
    let contact = NewContact::parse(ContactKind::Client, &intake.contact)?;
    let outcome = state
        .store
        .record_form_intake(
            &response.response_id,
            response.form_id.as_deref(),
            &contact,
            |client| NewProject::parse(intake.project(client)),
            &Actor::integration("google_forms"),
        )
        .await?;
    tracing::info!(response = %response.response_id, project = %outcome.project.id, created = outcome.created, "form intake");
    let status = if outcome.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(IntakeOutcome {
            project_id: outcome.project.id,
            contact_id: outcome.contact.id,
            created: outcome.created,
        }),
    ))
}

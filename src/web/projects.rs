//! One project as its people see it: where it stands, who takes part, the
//! documents it needs, its value, what the reader may do next, and its
//! trail. Every action goes through the same rules and store calls as the
//! API's `POST /projects/{id}/transitions`, `PUT .../baseline` and
//! `PUT .../outcome`; a refused one shows the reason the API gives.

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::WebState;
use super::csrf::CsrfForm;
use super::errors::PageError;
use super::i18n::Tr;
use super::page::{Chrome, render_with};
use super::session::SignedIn;
use crate::domain::access;
use crate::domain::actor::Role;
use crate::domain::audit::{AuditEvent, EntityKind};
use crate::domain::document::{Document, DocumentStatus, DocumentSubject, RequiredDocument};
use crate::domain::expert::VettingState;
use crate::domain::ids::{ContactId, ProjectId, TaskId, TicketId};
use crate::domain::lifecycle::{self, Action, Command, TransitionError};
use crate::domain::matching::{self, Match};
use crate::domain::metrics::{self, Baseline, Outcome, ValueSummary};
use crate::domain::project::Project;
use crate::domain::task::{Task, TaskPatchInput, TaskStatus, tracker_open};
use crate::domain::ticket::{Ticket, TicketStatus};
use crate::domain::validation::ValidationErrors;
use crate::http::uploads::{self, UploadError};
use crate::store::{OutboxEntry, OutboxStatus, StoreError};

/// A project's side effects listed on its page, oldest first.
const DELIVERIES_SHOWN: u32 = 100;

/// Which form on the page was refused, to show its errors beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Form {
    Action(Action),
    Baseline,
    Outcome,
    Upload,
    /// A new helpdesk ticket.
    Ticket,
    /// A reply to one ticket.
    Reply(TicketId),
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    expert_id: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expected_version: Option<i64>,
}

/// The baseline's and the outcome's fields as typed, numbers with a comma
/// or a point.
#[derive(Debug, Default, Deserialize)]
pub struct FiguresForm {
    #[serde(default)]
    hours_before: String,
    #[serde(default)]
    hours_after: String,
    #[serde(default)]
    hourly_value: String,
    #[serde(default)]
    horizon_months: String,
    #[serde(default)]
    price: String,
    #[serde(default)]
    hours_saved: String,
    #[serde(default)]
    cost: String,
}

/// What the reader sent and why it was refused.
#[derive(Default)]
pub(super) struct Refusal {
    pub form: Option<Form>,
    pub errors: ValidationErrors,
    /// A refusal of the whole action, in the reader's language.
    pub reason: Option<String>,
    pub sent_reason: String,
    pub figures: FiguresForm,
    /// A helpdesk form's subject and message as typed.
    pub sent_subject: String,
    pub sent_body: String,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    tr: Tr,
    chrome: Chrome,
    project: Project,
    client: String,
    /// Staff see who the expert is; others are not shown contacts' records.
    expert: Option<String>,
    value: Option<ValueSummary>,
    documents: Vec<RequiredDocument>,
    /// Every upload, oldest first (not for the expert: the client's files are hers).
    uploads: Vec<Document>,
    actions: Vec<Action>,
    candidates: Vec<Match>,
    baseline_open: bool,
    outcome_open: bool,
    /// The reader may add a document (and the project needs some).
    upload_open: bool,
    /// The type of a document just received.
    uploaded: Option<String>,
    max_upload_mb: u64,
    trail: Vec<AuditEvent>,
    /// The tracker's tasks, for staff and the expert with access; `tracker_open`
    /// lets them move a task.
    tasks: Option<Vec<Task>>,
    tracker_open: bool,
    /// Each side effect of the project and where its delivery stands (staff).
    deliveries: Vec<OutboxEntry>,
    tools: super::deliveries::Tools,
    /// The helpdesk, for the project's people; `helpdesk_open` lets them write.
    tickets: Option<Vec<Ticket>>,
    helpdesk_open: bool,
    refused: Refusal,
}

impl ProjectPage {
    fn state_key(&self) -> String {
        format!("state-{}", self.project.state.as_str())
    }

    fn action_key(&self, action: &Action) -> String {
        format!("action-{}", action.as_str())
    }

    fn needs_reason(&self, action: &Action) -> bool {
        matches!(action, Action::Block | Action::Unblock | Action::Cancel)
    }

    fn takes_reason(&self, action: &Action) -> bool {
        self.needs_reason(action) || matches!(action, Action::WithdrawOffer | Action::Decline)
    }

    fn is_danger(&self, action: &Action) -> bool {
        matches!(
            action,
            Action::Block | Action::Cancel | Action::Decline | Action::WithdrawOffer
        )
    }

    fn doc_status_key(&self, d: &RequiredDocument) -> String {
        format!("doc-status-{}", d.status.as_str())
    }

    fn upload_status_key(&self, d: &Document) -> String {
        format!("doc-status-{}", d.status.as_str())
    }

    fn upload_class(&self, d: &Document) -> &'static str {
        status_class(d.status)
    }

    fn doc_class(&self, d: &RequiredDocument) -> &'static str {
        status_class(d.status)
    }

    /// An audit event's step in words: the lifecycle action's name where
    /// there is one, else the event's own name.
    fn event_name(&self, e: &AuditEvent) -> String {
        self.tr.t_or(&format!("action-{}", e.action), &e.action)
    }

    fn event_state(&self, state: &str) -> String {
        self.tr.t_or(&format!("state-{state}"), state)
    }

    fn error(&self, form: Form, field: &str) -> Option<String> {
        if self.refused.form != Some(form) {
            return None;
        }
        let error = self.refused.errors.0.iter().find(|e| e.field == field)?;
        Some(match field {
            "reason" => self.tr.t("error-reason"),
            "subject" => self.tr.t("error-short-text"),
            "body" => self.tr.t("error-message"),
            "expert_id" => self.tr.t("error-expert"),
            "hours_before" | "hours_after" | "hours_saved"
                if error.message.contains("hours_before") =>
            {
                self.tr.t("error-hours-after")
            }
            "hours_before" | "hours_after" | "hours_saved" => self.tr.t("error-hours"),
            "horizon_months" => self
                .tr
                .t1("error-horizon", "max", metrics::MAX_HORIZON_MONTHS),
            "hourly_value" | "price" | "cost" => self.tr.t("error-amount"),
            _ => error.message.clone(),
        })
    }

    fn action_error(&self, action: &Action, field: &str) -> Option<String> {
        self.error(Form::Action(*action), field)
    }

    fn baseline_error(&self, field: &str) -> Option<String> {
        self.error(Form::Baseline, field)
    }

    /// A refused upload is told above its form, when the reader has one.
    fn by_upload_form(&self) -> bool {
        self.refused.form == Some(Form::Upload) && self.upload_open
    }

    fn upload_refusal(&self) -> Option<&str> {
        self.refused
            .reason
            .as_deref()
            .filter(|_| self.by_upload_form())
    }

    /// Any other refusal is told at the top of the page.
    fn top_refusal(&self) -> Option<&str> {
        self.refused
            .reason
            .as_deref()
            .filter(|_| !self.by_upload_form())
    }

    fn task_status_key(&self, status: &TaskStatus) -> String {
        format!("task-{}", status.as_str())
    }

    fn task_statuses(&self) -> &'static [TaskStatus] {
        &[TaskStatus::Todo, TaskStatus::InProgress, TaskStatus::Done]
    }

    fn delivery_lane_key(&self, e: &OutboxEntry) -> String {
        super::deliveries::lane_key(e.lane)
    }

    fn delivery_status_key(&self, e: &OutboxEntry) -> String {
        super::deliveries::outbox_status_key(e.status)
    }

    fn delivery_failed(&self, e: &OutboxEntry) -> bool {
        e.status == OutboxStatus::Failed
    }

    fn delivery_tool(&self, e: &OutboxEntry) -> &'static str {
        self.tools.tool(e.lane)
    }

    fn ticket_error(&self, field: &str) -> Option<String> {
        self.error(Form::Ticket, field)
    }

    fn reply_error(&self, ticket: &Ticket) -> Option<String> {
        self.error(Form::Reply(ticket.id), "body")
    }

    fn sent_reply(&self, ticket: &Ticket) -> &str {
        if self.refused.form == Some(Form::Reply(ticket.id)) {
            &self.refused.sent_body
        } else {
            ""
        }
    }

    fn sent_ticket(&self, field: &str) -> &str {
        match (self.refused.form, field) {
            (Some(Form::Ticket), "subject") => &self.refused.sent_subject,
            (Some(Form::Ticket), _) => &self.refused.sent_body,
            _ => "",
        }
    }

    fn ticket_status_key(&self, t: &Ticket) -> String {
        format!("ticket-{}", t.status.as_str())
    }

    fn is_open(&self, t: &Ticket) -> bool {
        t.status == TicketStatus::Open
    }

    fn outcome_error(&self, field: &str) -> Option<String> {
        self.error(Form::Outcome, field)
    }

    fn sent_reason(&self, action: &Action) -> &str {
        if self.refused.form == Some(Form::Action(*action)) {
            &self.refused.sent_reason
        } else {
            ""
        }
    }

    /// A figure as sent when its form was refused, else as recorded.
    fn figure(&self, field: &str) -> String {
        let f = &self.refused.figures;
        let sent = match field {
            "hours_before" => &f.hours_before,
            "hours_after" => &f.hours_after,
            "hourly_value" => &f.hourly_value,
            "horizon_months" => &f.horizon_months,
            "price" => &f.price,
            "hours_saved" => &f.hours_saved,
            _ => &f.cost,
        };
        if matches!(self.refused.form, Some(Form::Baseline | Form::Outcome)) {
            return sent.clone();
        }
        let (b, o) = (
            self.project.baseline.as_ref(),
            self.project.outcome.as_ref(),
        );
        let value = match field {
            "hours_before" => b.map(|b| b.hours_before),
            "hours_after" => b.map(|b| b.hours_after),
            "hourly_value" => b.map(|b| b.hourly_value),
            "horizon_months" => b.map(|b| f64::from(b.horizon_months)),
            "price" => b.map(|b| b.price),
            "hours_saved" => o.map(|o| o.hours_saved),
            _ => o.map(|o| o.cost),
        };
        value.map(|v| v.to_string()).unwrap_or_default()
    }

    fn percent(&self, ratio: impl std::borrow::Borrow<f64>) -> String {
        self.tr.number((ratio.borrow() * 100.0).round() as i64) + "\u{a0}%"
    }

    fn tag_list(&self, tags: &[crate::domain::validation::Tag]) -> String {
        match tags {
            [] => "–".to_owned(),
            tags => tags
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        }
    }

    fn max_upload_mb(&self) -> u64 {
        self.max_upload_mb
    }

    fn is_offer(&self, action: &Action) -> bool {
        *action == Action::Offer
    }
}

fn status_class(status: DocumentStatus) -> &'static str {
    match status {
        DocumentStatus::Approved => "ok",
        DocumentStatus::Rejected | DocumentStatus::Expired => "bad",
        DocumentStatus::Missing | DocumentStatus::Queued | DocumentStatus::Review => "unclear",
    }
}

/// The project if the reader may see it; otherwise the same 404 as for one
/// that does not exist.
pub(super) async fn visible(
    state: &WebState,
    signed: &SignedIn,
    id: &str,
) -> Result<Project, PageError> {
    let id: ProjectId = signed.id(id)?;
    match state.app.store.project(id).await {
        Ok(p) if access::can_see_project(&signed.user().actor(), &p) => Ok(p),
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(PageError::NotFound(signed.tr().clone())),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn page(
    state: &WebState,
    signed: &SignedIn,
    project: Project,
    refused: Refusal,
    status: StatusCode,
) -> Result<Response, PageError> {
    page_with(state, signed, project, refused, None, status).await
}

async fn page_with(
    state: &WebState,
    signed: &SignedIn,
    project: Project,
    refused: Refusal,
    uploaded: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let store = &state.app.store;
    let actor = signed.user().actor();
    let staff = actor.is_staff();
    let client = store.contact(project.client_id).await?.full_name;
    let expert = match project.expert_id {
        Some(id) if staff => Some(store.contact(id).await?.full_name),
        _ => None,
    };
    let actions = lifecycle::actions_for(&actor, project.state, project.expert_id);
    let candidates = if actions.contains(&Action::Offer) {
        let experts = store.experts_in(VettingState::Vetted).await?;
        let declined = store.declined_by(project.id).await?;
        matching::rank(&project, &experts, &declined)
    } else {
        Vec::new()
    };
    let trail = store
        .audit_trail(EntityKind::Project, &project.id.to_string())
        .await?;
    let page = ProjectPage {
        tr: signed.tr().clone(),
        chrome: Chrome::of(signed, "projects"),
        client,
        expert,
        value: project.value(),
        documents: store.project_documents(project.id).await?,
        uploads: if actor.role() == Some(Role::Expert) {
            Vec::new()
        } else {
            store
                .documents_of(DocumentSubject::Project(project.id))
                .await?
        },
        actions,
        candidates,
        baseline_open: staff && metrics::BASELINE_STATES.contains(&project.state),
        outcome_open: staff && metrics::OUTCOME_STATES.contains(&project.state),
        upload_open: !project.required_documents.is_empty()
            && uploads::open_to(&actor, &project).is_ok(),
        uploaded,
        max_upload_mb: state.app.upload_max_bytes.div_ceil(1024 * 1024),
        trail: access::visible_audit(&actor, trail),
        tasks: if crate::http::tasks::may_use_tracker(&state.app, &actor, &project).await? {
            Some(store.tasks(project.id).await?)
        } else {
            None
        },
        tracker_open: tracker_open(project.state),
        deliveries: if staff {
            store
                .list_outbox(None, Some(project.id), DELIVERIES_SHOWN)
                .await?
        } else {
            Vec::new()
        },
        tools: super::deliveries::Tools::of(state),
        tickets: if access::can_use_helpdesk(&actor, &project) {
            Some(store.tickets(project.id).await?)
        } else {
            None
        },
        helpdesk_open: access::helpdesk_open(project.state),
        refused,
        project,
    };
    Ok(render_with(status, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct Shown {
    /// The type of a document just received.
    uploaded: Option<String>,
}

pub async fn show(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Result<Response, PageError> {
    let project = visible(&state, &signed, &id).await?;
    let uploaded = shown
        .uploaded
        .filter(|t| project.required_documents.iter().any(|d| d.as_str() == t));
    page_with(
        &state,
        &signed,
        project,
        Refusal::default(),
        uploaded,
        StatusCode::OK,
    )
    .await
}

/// Where one document stands, as the page's script shows it.
#[derive(serde::Serialize)]
struct StatusLine {
    key: String,
    status: &'static str,
    label: String,
    class: &'static str,
}

/// The project's documents' states as JSON, for the page's script to keep
/// the badges current while the agent works (the same reader rules as the
/// page: an expert gets the requirements, not the client's files).
pub async fn document_status(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let project = visible(&state, &signed, &id).await?;
    let store = &state.app.store;
    let tr = signed.tr();
    let line = |key: String, status: DocumentStatus| StatusLine {
        key,
        status: status.as_str(),
        label: tr.t(&format!("doc-status-{}", status.as_str())),
        class: status_class(status),
    };
    let required: Vec<StatusLine> = store
        .project_documents(project.id)
        .await?
        .into_iter()
        .map(|d| line(d.doc_type.as_str().to_owned(), d.status))
        .collect();
    let uploads: Vec<StatusLine> = if signed.role() == Role::Expert {
        Vec::new()
    } else {
        store
            .documents_of(DocumentSubject::Project(project.id))
            .await?
            .into_iter()
            .map(|d| line(d.id.to_string(), d.status))
            .collect()
    };
    Ok(axum::Json(serde_json::json!({ "required": required, "uploads": uploads })).into_response())
}

/// A refused upload in the reader's words, with the API's status.
pub(super) fn upload_refusal(
    tr: &Tr,
    error: &UploadError,
    max_bytes: u64,
) -> Result<(StatusCode, String), PageError> {
    let mb = max_bytes.div_ceil(1024 * 1024);
    Ok(match error {
        UploadError::TooLarge { .. } | UploadError::BodyTooLarge => (
            StatusCode::PAYLOAD_TOO_LARGE,
            tr.t1("error-upload-too-large", "mb", mb),
        ),
        UploadError::Unsupported => (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            tr.t("error-upload-kind"),
        ),
        UploadError::Invalid(_) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.t("error-upload-doc-type"),
        ),
        UploadError::Quota(q) => (
            StatusCode::CONFLICT,
            tr.t1("error-upload-quota", "reason", &q.message),
        ),
        UploadError::Forbidden(_) => (StatusCode::FORBIDDEN, tr.t("error-upload-forbidden")),
        UploadError::Closed(_) => (StatusCode::CONFLICT, tr.t("error-upload-closed")),
        UploadError::Malformed(_) => (StatusCode::BAD_REQUEST, tr.t("error-upload-malformed")),
        UploadError::BodyTimeout => (StatusCode::REQUEST_TIMEOUT, tr.t("error-upload-malformed")),
        UploadError::Store(e) => return Err(PageError::Internal(e.to_string())),
        UploadError::Io(e) => return Err(PageError::Internal(e.to_string())),
    })
}

/// A document for the project, sent by the page's upload form as
/// multipart: the form token first (checked before a byte of the file is
/// read), then `type` and `file`, received as the API receives them.
pub async fn upload(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let project = visible(&state, &signed, &id).await?;
    let tr = signed.tr().clone();
    let multipart = super::csrf::checked_multipart(multipart, &signed).await?;
    let actor = signed.user().actor();
    let app = &state.app;
    let received = async {
        let subject = uploads::for_project(app, &actor, &project).await?;
        let upload = uploads::receive(app, multipart).await?;
        uploads::accept(app, &actor, subject, &project.required_documents, upload).await
    }
    .await;
    match received {
        Ok((document, _)) => {
            let to = format!(
                "/projects/{}?uploaded={}",
                project.id,
                document.doc_type.as_str()
            );
            Ok(Redirect::to(&to).into_response())
        }
        Err(error) => {
            let (status, text) = upload_refusal(&tr, &error, app.upload_max_bytes)?;
            tracing::info!(project = %project.id, %error, "an upload from a page was refused");
            let refused = Refusal {
                form: Some(Form::Upload),
                reason: Some(text),
                ..Refusal::default()
            };
            page(&state, &signed, project, refused, status).await
        }
    }
}

/// A refused transition in the reader's words, with the API's status.
fn refusal_text(tr: &Tr, error: &TransitionError) -> (StatusCode, String) {
    let action = |a: &Action| tr.t(&format!("action-{}", a.as_str()));
    match error {
        TransitionError::Forbidden { action: a, .. } => (
            StatusCode::FORBIDDEN,
            tr.t1("refused-forbidden", "action", action(a)),
        ),
        TransitionError::NotAllowed {
            state, action: a, ..
        } => (
            StatusCode::CONFLICT,
            tr.t_with(
                "refused-not-allowed",
                &[
                    ("state", tr.t(&format!("state-{}", state.as_str()))),
                    ("action", action(a)),
                ],
            ),
        ),
        TransitionError::GateFailed { message, .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            tr.t1("refused-gate", "reason", message),
        ),
    }
}

fn optional_id(text: &str) -> Result<Option<ContactId>, ()> {
    match text.trim() {
        "" => Ok(None),
        t => t.parse().map(Some).map_err(drop),
    }
}

pub async fn transition(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<ActionForm>,
) -> Result<Response, PageError> {
    let project = visible(&state, &signed, &id).await?;
    let tr = signed.tr().clone();
    let actor = signed.user().actor();
    let Ok(action) = form.action.parse::<Action>() else {
        return Err(PageError::BadForm(tr));
    };
    let refuse = |errors: ValidationErrors, reason: Option<String>| Refusal {
        form: Some(Form::Action(action)),
        errors,
        reason,
        sent_reason: form.reason.clone(),
        ..Refusal::default()
    };
    // As in the API: a step the reader may never take is refused before its inputs are read.
    if !lifecycle::may_take(&actor, action, project.expert_id) {
        let error = TransitionError::Forbidden {
            action,
            actor: signed.role().as_str(),
        };
        let (status, text) = refusal_text(&tr, &error);
        return page(
            &state,
            &signed,
            project,
            refuse(ValidationErrors::new(), Some(text)),
            status,
        )
        .await;
    }
    let expert = optional_id(&form.expert_id);
    let reason = Some(form.reason.as_str()).filter(|r| !r.trim().is_empty());
    let command = match expert {
        Ok(expert) => Command::parse(action, expert, reason),
        Err(()) => Err(ValidationErrors::single("expert_id", "is not a contact id")),
    };
    let command = match command {
        Ok(c) => c,
        Err(errors) => {
            return page(
                &state,
                &signed,
                project,
                refuse(errors, None),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match state
        .app
        .store
        .transition_project(project.id, command, &actor, form.expected_version)
        .await
    {
        Ok(outcome) => {
            for t in &outcome.transitions {
                tracing::info!(project = %project.id, action = %t.action, from = %t.from, to = %t.to,
                    by = %signed.user().email, "project transition from a page");
            }
            Ok(Redirect::to(&format!("/projects/{}", project.id)).into_response())
        }
        Err(StoreError::Refused(error)) => {
            let (status, text) = refusal_text(&tr, &error);
            let project = state.app.store.project(project.id).await?;
            page(
                &state,
                &signed,
                project,
                refuse(ValidationErrors::new(), Some(text)),
                status,
            )
            .await
        }
        Err(StoreError::Conflict(message)) => {
            let project = state.app.store.project(project.id).await?;
            let text = tr.t1("refused-conflict", "reason", message);
            page(
                &state,
                &signed,
                project,
                refuse(ValidationErrors::new(), Some(text)),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(StoreError::Invalid(errors)) => {
            page(
                &state,
                &signed,
                project,
                refuse(errors, None),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(StoreError::NotFound { .. }) => {
            // The expert chosen is gone: a field error, not a missing page.
            let errors = ValidationErrors::single("expert_id", "not found");
            page(
                &state,
                &signed,
                project,
                refuse(errors, None),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// A number as people type it: `1 250,5` or `1250.5`.
fn number(field: &str, text: &str, errors: &mut ValidationErrors) -> f64 {
    let cleaned: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .replace(',', ".");
    match cleaned.parse::<f64>() {
        Ok(n) if n.is_finite() => n,
        _ => {
            errors.add(field, "is not a number");
            0.0
        }
    }
}

fn parse_baseline(f: &FiguresForm) -> Result<Baseline, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let hours_before = number("hours_before", &f.hours_before, &mut e);
    let hours_after = number("hours_after", &f.hours_after, &mut e);
    let hourly_value = number("hourly_value", &f.hourly_value, &mut e);
    let price = number("price", &f.price, &mut e);
    let horizon_months = f.horizon_months.trim().parse::<u32>().unwrap_or_else(|_| {
        e.add("horizon_months", "is not a whole number of months");
        0
    });
    if !e.is_empty() {
        return Err(e);
    }
    Baseline {
        hours_before,
        hours_after,
        hourly_value,
        horizon_months,
        price,
    }
    .validate()
}

fn parse_outcome(f: &FiguresForm) -> Result<Outcome, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let hours_saved = number("hours_saved", &f.hours_saved, &mut e);
    let cost = number("cost", &f.cost, &mut e);
    if !e.is_empty() {
        return Err(e);
    }
    Outcome { hours_saved, cost }.validate()
}

async fn figures(
    state: &WebState,
    signed: &SignedIn,
    id: &str,
    form: FiguresForm,
    which: Form,
) -> Result<Response, PageError> {
    signed.require_staff()?;
    let project = visible(state, signed, id).await?;
    let actor = signed.user().actor();
    let store = &state.app.store;
    let saved = match which {
        Form::Baseline => match parse_baseline(&form) {
            Ok(b) => store.record_baseline(project.id, b, &actor).await,
            Err(errors) => Err(StoreError::Invalid(errors)),
        },
        _ => match parse_outcome(&form) {
            Ok(o) => store.record_outcome(project.id, o, &actor).await,
            Err(errors) => Err(StoreError::Invalid(errors)),
        },
    };
    let refuse = |errors, reason| Refusal {
        form: Some(which),
        errors,
        reason,
        figures: form,
        ..Refusal::default()
    };
    match saved {
        Ok(p) => {
            tracing::info!(project = %p.id, figures = ?which, by = %signed.user().email, "value figures recorded from a page");
            Ok(Redirect::to(&format!("/projects/{}", p.id)).into_response())
        }
        Err(StoreError::Invalid(errors)) => {
            page(
                state,
                signed,
                project,
                refuse(errors, None),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(StoreError::Conflict(message)) => {
            let text = signed.tr().t1("refused-conflict", "reason", message);
            page(
                state,
                signed,
                project,
                refuse(ValidationErrors::new(), Some(text)),
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn baseline(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<FiguresForm>,
) -> Result<Response, PageError> {
    figures(&state, &signed, &id, form, Form::Baseline).await
}

pub async fn outcome(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<FiguresForm>,
) -> Result<Response, PageError> {
    figures(&state, &signed, &id, form, Form::Outcome).await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use strum::VariantArray;

    use super::*;
    use crate::domain::user::Locale;
    use crate::web::i18n::Formats;

    #[test]
    fn every_action_and_document_status_has_its_name() {
        let keys: Vec<String> = Action::VARIANTS
            .iter()
            .map(|a| format!("action-{}", a.as_str()))
            .chain(
                [
                    DocumentStatus::Missing,
                    DocumentStatus::Queued,
                    DocumentStatus::Approved,
                    DocumentStatus::Rejected,
                    DocumentStatus::Review,
                    DocumentStatus::Expired,
                ]
                .iter()
                .map(|s| format!("doc-status-{}", s.as_str())),
            )
            .collect();
        for locale in [Locale::Pl, Locale::En] {
            let tr = Tr::new(locale, Arc::new(Formats::default()));
            for key in &keys {
                assert_ne!(&tr.t(key), key, "{key} has no {locale:?} message");
            }
        }
    }

    #[test]
    fn figures_are_read_as_people_type_them() {
        let form = FiguresForm {
            hours_before: "40,5".into(),
            hours_after: " 10 ".into(),
            hourly_value: "1 200".into(),
            horizon_months: "12".into(),
            price: "9000.00".into(),
            ..FiguresForm::default()
        };
        let b = parse_baseline(&form).unwrap();
        assert_eq!(
            (
                b.hours_before,
                b.hours_after,
                b.hourly_value,
                b.horizon_months,
                b.price
            ),
            (40.5, 10.0, 1200.0, 12, 9000.0)
        );
        let bad = FiguresForm {
            hours_before: "dużo".into(),
            horizon_months: "1.5".into(),
            ..form
        };
        let fields: Vec<String> = parse_baseline(&bad)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["hours_before", "horizon_months"]);
        let refused = FiguresForm {
            hours_saved: "800".into(),
            cost: "0".into(),
            ..FiguresForm::default()
        };
        assert_eq!(parse_outcome(&refused).unwrap_err().0.len(), 2);
    }

    #[test]
    fn a_refused_step_is_told_in_the_readers_language() {
        let tr = Tr::new(Locale::Pl, Arc::new(Formats::default()));
        let error = TransitionError::NotAllowed {
            state: lifecycle::ProjectState::Archived,
            action: Action::Archive,
            allowed: vec![],
        };
        let (status, text) = refusal_text(&tr, &error);
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(
            text.contains("Zarchiwizowany") && !text.contains('{'),
            "{text}"
        );
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TaskForm {
    #[serde(default)]
    status: String,
}

/// A task moved on the project's page, as `PATCH /projects/{id}/tasks/{task}`.
pub async fn task_status(
    State(state): State<WebState>,
    signed: SignedIn,
    Path((id, task)): Path<(String, String)>,
    CsrfForm { form, .. }: CsrfForm<TaskForm>,
) -> Result<Response, PageError> {
    let project = visible(&state, &signed, &id).await?;
    let tr = signed.tr().clone();
    let actor = signed.user().actor();
    let task: TaskId = signed.id(&task)?;
    let status: TaskStatus = form
        .status
        .parse()
        .map_err(|_| PageError::BadForm(tr.clone()))?;
    let refused = |key: &str| Refusal {
        reason: Some(tr.t(key)),
        ..Refusal::default()
    };
    if !crate::http::tasks::may_use_tracker(&state.app, &actor, &project).await? {
        return page(
            &state,
            &signed,
            project,
            refused("tracker-forbidden"),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    if !tracker_open(project.state) {
        return page(
            &state,
            &signed,
            project,
            refused("tracker-closed"),
            StatusCode::CONFLICT,
        )
        .await;
    }
    let patch = TaskPatchInput {
        title: None,
        status: Some(status),
    };
    match state
        .app
        .store
        .update_task(project.id, task, &patch, &actor)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/projects/{}#tasks", project.id)).into_response()),
        Err(StoreError::NotFound { .. }) => Err(PageError::NotFound(tr)),
        Err(e) => Err(e.into()),
    }
}

//! Step 1 from a page: the consultation form an operator fills in with the
//! client (their person and company, tax id, what to automate, how the
//! process runs today, skills, industry, required documents, the hours it
//! takes now). It is taken as a form response: the client's contact found
//! by e-mail or created, and the project, in one transaction. Each form
//! carries its own response id, so a form sent twice makes one project.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::WebState;
use super::csrf::CsrfForm;
use super::errors::PageError;
use super::i18n::Tr;
use super::page::{Chrome, render_with};
use super::session::SignedIn;
use crate::domain::contact::{ContactInput, ContactKind, NewContact};
use crate::domain::ids::ContactId;
use crate::domain::project::{NewProject, NewProjectInput};
use crate::domain::protocol::SubjectKind;
use crate::domain::validation::ValidationErrors;
use crate::store::StoreError;

/// Checkbox fields for required documents are named `doc:<type>`.
const DOC_PREFIX: &str = "doc:";
/// Hours a month, as the baseline counts them.
const MAX_HOURS: f64 = 744.0;

#[derive(Debug, Default, Deserialize)]
pub struct IntakeForm {
    #[serde(default)]
    response_id: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    legal_name: String,
    #[serde(default)]
    tax_id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    spec: String,
    #[serde(default)]
    skills: String,
    #[serde(default)]
    industry: String,
    #[serde(default)]
    hours_per_month: String,
    /// The document checkboxes, and the form token.
    #[serde(flatten)]
    other: BTreeMap<String, String>,
}

impl IntakeForm {
    fn documents(&self) -> Vec<String> {
        self.other
            .keys()
            .filter_map(|k| k.strip_prefix(DOC_PREFIX))
            .map(str::to_owned)
            .collect()
    }
}

/// A document type a client may be asked for, with its protocol's title.
pub struct DocumentChoice {
    pub doc_type: String,
    pub title: String,
}

#[derive(Template)]
#[template(path = "intake.html")]
struct IntakePage {
    tr: Tr,
    chrome: Chrome,
    form: IntakeForm,
    choices: Vec<DocumentChoice>,
    errors: ValidationErrors,
}

impl IntakePage {
    fn value(&self, field: &str) -> &str {
        let f = &self.form;
        match field {
            "full_name" => &f.full_name,
            "email" => &f.email,
            "phone" => &f.phone,
            "legal_name" => &f.legal_name,
            "tax_id" => &f.tax_id,
            "title" => &f.title,
            "spec" => &f.spec,
            "skills" => &f.skills,
            "industry" => &f.industry,
            _ => &f.hours_per_month,
        }
    }

    fn is_number(&self, field: &str) -> bool {
        field == "hours_per_month"
    }

    fn chosen(&self, choice: &DocumentChoice) -> bool {
        self.form
            .other
            .contains_key(&format!("{DOC_PREFIX}{}", choice.doc_type))
    }

    /// The message beside `field`, in the reader's language.
    fn error(&self, field: &str) -> Option<String> {
        let error = self.errors.0.iter().find(|e| e.field == field)?;
        let key = match field {
            "email" if error.message.contains("expert") => "error-email-expert",
            "email" => "error-email",
            "full_name" => "error-display-name",
            "phone" => "error-phone",
            "tax_id" => "error-tax-id",
            "legal_name" | "title" => "error-short-text",
            "spec" => "error-spec",
            "skills" | "industry" => "error-tags",
            "hours_per_month" => "error-hours",
            "required_documents" => "error-upload-doc-type",
            _ => return Some(error.message.clone()),
        };
        Some(self.tr.t(key))
    }
}

fn choices(state: &WebState) -> Vec<DocumentChoice> {
    let vault = state.app.agent.protocols().current();
    let mut choices: Vec<DocumentChoice> = vault
        .set
        .protocols
        .iter()
        .filter(|p| p.subject == SubjectKind::Client)
        .flat_map(|p| {
            p.applies_to.iter().map(|t| DocumentChoice {
                doc_type: t.as_str().to_owned(),
                title: p.title.clone(),
            })
        })
        .collect();
    choices.sort_by(|a, b| a.doc_type.cmp(&b.doc_type));
    choices.dedup_by(|a, b| a.doc_type == b.doc_type);
    choices
}

fn render_form(
    state: &WebState,
    signed: &SignedIn,
    form: IntakeForm,
    errors: ValidationErrors,
    status: StatusCode,
) -> Response {
    let page = IntakePage {
        tr: signed.tr().clone(),
        chrome: Chrome::of(signed, "intake"),
        form,
        choices: choices(state),
        errors,
    };
    render_with(status, &page)
}

pub async fn form(State(state): State<WebState>, signed: SignedIn) -> Result<Response, PageError> {
    signed.require_staff()?;
    let form = IntakeForm {
        response_id: format!("page-{}", uuid::Uuid::now_v7()),
        ..IntakeForm::default()
    };
    Ok(render_form(
        &state,
        &signed,
        form,
        ValidationErrors::new(),
        StatusCode::OK,
    ))
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

/// The form as the contact and the project it makes, every field checked
/// at once (the project with a stand-in client id: the real one is known
/// inside the transaction).
fn parse(form: &IntakeForm) -> Result<(NewContact, NewProjectInput), ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let contact = NewContact::parse(
        ContactKind::Client,
        &ContactInput {
            full_name: form.full_name.clone(),
            email: form.email.clone(),
            phone: optional(&form.phone),
            legal_name: optional(&form.legal_name),
            tax_id: optional(&form.tax_id),
            atlassian_account_id: None,
        },
    )
    .map_err(|e| errors.0.extend(e.0))
    .ok();
    let mut intake = serde_json::Map::new();
    intake.insert("source".into(), "consultation page".into());
    match form.hours_per_month.trim().replace(',', ".").as_str() {
        "" => {}
        text => match text.parse::<f64>() {
            Ok(h) if (0.0..=MAX_HOURS).contains(&h) => {
                intake.insert("hours_per_month".into(), serde_json::json!(h));
            }
            _ => errors.add("hours_per_month", "must be hours a month, 0 to 744"),
        },
    }
    let list = |text: &str| {
        text.split([',', ';', '\n'])
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let project = NewProjectInput {
        client_id: ContactId::new(),
        title: form.title.clone(),
        spec: form.spec.clone(),
        skills: list(&form.skills),
        industry: optional(&form.industry),
        required_documents: form.documents(),
        intake,
    };
    if let Err(e) = NewProject::parse(project.clone()) {
        errors.0.extend(e.0);
    }
    match contact {
        Some(contact) if errors.is_empty() => Ok((contact, project)),
        _ => Err(errors),
    }
}

pub async fn submit(
    State(state): State<WebState>,
    signed: SignedIn,
    CsrfForm { form, .. }: CsrfForm<IntakeForm>,
) -> Result<Response, PageError> {
    signed.require_staff()?;
    if !form.response_id.starts_with("page-") || form.response_id.len() > 64 {
        return Err(PageError::BadForm(signed.tr().clone()));
    }
    let (contact, project) = match parse(&form) {
        Ok(parsed) => parsed,
        Err(errors) => {
            return Ok(render_form(
                &state,
                &signed,
                form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            ));
        }
    };
    let taken = state
        .app
        .store
        .record_form_intake(
            &form.response_id,
            None,
            &contact,
            |client| {
                NewProject::parse(NewProjectInput {
                    client_id: client,
                    ..project
                })
            },
            &signed.user().actor(),
        )
        .await;
    match taken {
        Ok(intake) => {
            tracing::info!(project = %intake.project.id, client = %intake.contact.id, created = intake.created,
                by = %signed.user().email, "intake from the consultation page");
            Ok(Redirect::to(&format!("/projects/{}", intake.project.id)).into_response())
        }
        Err(StoreError::Invalid(errors)) => Ok(render_form(
            &state,
            &signed,
            form,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )),
        Err(e) => Err(e.into()),
    }
}

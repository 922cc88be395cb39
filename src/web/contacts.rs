//! Contacts for staff: clients and experts with search and a kind filter;
//! a client's projects; an expert's profile, vetting state with the moves
//! open to it (as `POST /experts/{id}/vetting`), and their credentials
//! with the agent's decision on each.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::WebState;
use super::csrf::CsrfForm;
use super::errors::PageError;
use super::i18n::Tr;
use super::page::{Chrome, render, render_with};
use super::session::SignedIn;
use crate::domain::contact::{Contact, ContactKind};
use crate::domain::document::{Document, DocumentSubject};
use crate::domain::expert::{Expert, VettingAction, allowed_vetting_actions};
use crate::domain::ids::ContactId;
use crate::domain::project::Project;
use crate::domain::validation::{Reason, ValidationErrors};
use crate::domain::verification::Report;
use crate::store::{ProjectFilter, StoreError};

/// Contacts listed at once; the search narrows them.
const LISTED: u32 = 200;
/// A client's projects listed on their page.
const CLIENT_PROJECTS: u32 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
    #[serde(default)]
    kind: String,
}

#[derive(Template)]
#[template(path = "contacts.html")]
struct ContactsPage {
    tr: Tr,
    chrome: Chrome,
    contacts: Vec<Contact>,
    search: Search,
}

impl ContactsPage {
    fn kind_key(&self, c: &Contact) -> &'static str {
        kind_key(c.kind)
    }
}

/// The name of a contact's kind: the role its user has.
pub(super) fn kind_key(kind: ContactKind) -> &'static str {
    match kind {
        ContactKind::Expert => "role-expert",
        ContactKind::Client => "role-client",
    }
}

pub async fn list(
    State(state): State<WebState>,
    signed: SignedIn,
    Query(search): Query<Search>,
) -> Result<Response, PageError> {
    signed.require_staff()?;
    let kind = search.kind.parse::<ContactKind>().ok();
    let contacts = state
        .app
        .store
        .search_contacts(kind, &search.q, LISTED)
        .await?;
    Ok(render(&ContactsPage {
        tr: signed.tr().clone(),
        chrome: Chrome::of(&signed, "contacts"),
        contacts,
        search,
    }))
}

/// An expert's credential and the agent's account of it.
pub struct Credential {
    pub document: Document,
    pub report: Option<Report>,
}

/// Every credential the expert uploaded, oldest first, with its report.
pub(super) async fn credentials_of(
    state: &WebState,
    expert: ContactId,
) -> Result<Vec<Credential>, StoreError> {
    let store = &state.app.store;
    let mut credentials = Vec::new();
    for document in store.documents_of(DocumentSubject::Expert(expert)).await? {
        let report = store.document_report(document.id).await?.report;
        credentials.push(Credential { document, report });
    }
    Ok(credentials)
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage {
    tr: Tr,
    chrome: Chrome,
    contact: Contact,
    expert: Option<Expert>,
    moves: Vec<VettingAction>,
    credentials: Vec<Credential>,
    projects: Vec<Project>,
    refused: Option<(VettingAction, String)>,
    sent_reason: String,
}

impl ContactPage {
    fn kind_key(&self) -> &'static str {
        kind_key(self.contact.kind)
    }

    fn vetting_key(&self, e: &Expert) -> String {
        format!("vetting-{}", e.profile.vetting.as_str())
    }

    fn move_key(&self, a: &VettingAction) -> String {
        format!("vetting-action-{}", a.as_str())
    }

    fn needs_reason(&self, a: &VettingAction) -> bool {
        a.needs_reason()
    }

    fn refusal(&self, a: &VettingAction) -> Option<&str> {
        self.refused
            .as_ref()
            .filter(|(r, _)| r == a)
            .map(|(_, t)| t.as_str())
    }

    /// A refused move that has no form here (not open from this state).
    fn stray_refusal(&self) -> Option<&str> {
        self.refused
            .as_ref()
            .filter(|(a, _)| !self.moves.contains(a))
            .map(|(_, t)| t.as_str())
    }

    fn sent(&self, a: &VettingAction) -> &str {
        if self.refusal(a).is_some() {
            &self.sent_reason
        } else {
            ""
        }
    }

    fn state_key(&self, p: &Project) -> String {
        format!("state-{}", p.state.as_str())
    }

    fn doc_status_key(&self, c: &Credential) -> String {
        format!("doc-status-{}", c.document.status.as_str())
    }

    fn tags(&self, tags: &[crate::domain::validation::Tag]) -> String {
        tags.iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

async fn contact_page(
    state: &WebState,
    signed: &SignedIn,
    id: &str,
    refused: Option<(VettingAction, String)>,
    sent_reason: String,
    status: StatusCode,
) -> Result<Response, PageError> {
    signed.require_staff()?;
    let id: ContactId = signed.id(id)?;
    let store = &state.app.store;
    let contact = store.contact(id).await?;
    let (expert, credentials, projects) = match contact.kind {
        ContactKind::Expert => {
            let expert = store.expert(id).await?;
            let credentials = credentials_of(state, id).await?;
            let filter = ProjectFilter {
                expert: Some(id),
                limit: CLIENT_PROJECTS,
                ..ProjectFilter::default()
            };
            (
                Some(expert),
                credentials,
                store.list_projects(&filter).await?,
            )
        }
        ContactKind::Client => {
            let filter = ProjectFilter {
                client: Some(id),
                limit: CLIENT_PROJECTS,
                ..ProjectFilter::default()
            };
            (None, Vec::new(), store.list_projects(&filter).await?)
        }
    };
    let moves = expert
        .as_ref()
        .map(|e| allowed_vetting_actions(e.profile.vetting))
        .unwrap_or_default();
    let page = ContactPage {
        tr: signed.tr().clone(),
        chrome: Chrome::of(signed, "contacts"),
        contact,
        expert,
        moves,
        credentials,
        projects,
        refused,
        sent_reason,
    };
    Ok(render_with(status, &page))
}

pub async fn show(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    contact_page(&state, &signed, &id, None, String::new(), StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize)]
pub struct VettingForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    reason: String,
}

pub async fn vetting(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<VettingForm>,
) -> Result<Response, PageError> {
    signed.require_staff()?;
    let tr = signed.tr().clone();
    let action: VettingAction = form
        .action
        .parse()
        .map_err(|_| PageError::BadForm(tr.clone()))?;
    let contact: ContactId = signed.id(&id)?;
    let refuse = |text: String, status| {
        contact_page(
            &state,
            &signed,
            &id,
            Some((action, text)),
            form.reason.clone(),
            status,
        )
    };
    let reason = match form.reason.trim() {
        "" => None,
        text => match Reason::parse(text) {
            Ok(r) => Some(r),
            Err(_) => return refuse(tr.t("error-reason"), StatusCode::UNPROCESSABLE_ENTITY).await,
        },
    };
    match state
        .app
        .store
        .change_vetting(contact, action, reason, &signed.user().actor())
        .await
    {
        Ok(outcome) => {
            tracing::info!(expert = %contact, from = %outcome.change.from, to = %outcome.change.to,
                blocked = outcome.cascaded.len(), by = %signed.user().email, "vetting changed from a page");
            Ok(Redirect::to(&format!("/contacts/{contact}")).into_response())
        }
        Err(StoreError::Vetting(e)) => {
            let text = match e {
                crate::domain::expert::VettingError::ReasonRequired(_) => tr.t("error-reason"),
                other => tr.t1("refused-conflict", "reason", other),
            };
            refuse(text, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(StoreError::Invalid(errors)) => {
            refuse(first_message(&errors), StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(e.into()),
    }
}

fn first_message(errors: &ValidationErrors) -> String {
    errors
        .0
        .first()
        .map(|e| format!("{}: {}", e.field, e.message))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use strum::VariantArray;

    use super::*;
    use crate::domain::expert::VettingState;
    use crate::domain::user::Locale;
    use crate::web::i18n::Formats;

    #[test]
    fn every_vetting_state_and_move_has_its_name() {
        let keys: Vec<String> = VettingState::VARIANTS
            .iter()
            .map(|s| format!("vetting-{}", s.as_str()))
            .chain(
                VettingAction::VARIANTS
                    .iter()
                    .map(|a| format!("vetting-action-{}", a.as_str())),
            )
            .collect();
        for locale in [Locale::Pl, Locale::En] {
            let tr = Tr::new(locale, Arc::new(Formats::default()));
            for key in &keys {
                assert_ne!(&tr.t(key), key, "{key} has no {locale:?} message");
            }
        }
    }
}

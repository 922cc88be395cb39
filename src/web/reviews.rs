//! The review queue: documents the agent sent to a person, oldest first,
//! each with the agent's report (every requirement, its verdict and the
//! words it rests on), the extracted text, and a form to approve or reject.
//! The decision goes through the same rule and store call as the API's
//! `POST /reviews/{id}/decision`, so its effects (activation, access, the
//! client's notice) are the agent's.

use askama::Template;
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
use crate::domain::document::{Decision, DocumentSubject, ReviewDecision};
use crate::domain::ids::DocumentId;
use crate::domain::validation::ValidationErrors;
use crate::domain::verification::{Outcome, RequirementReport, Source, Verdict};
use crate::store::{ReviewItem, StoreError};

/// Documents shown at once; the API pages the same queue.
const QUEUE_PAGE: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    expires_on: String,
    #[serde(default)]
    comment: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct Done {
    /// `approved` or `rejected`: the decision just saved.
    done: Option<String>,
}

/// A document in the queue with who or what it is about.
pub struct Entry {
    pub item: ReviewItem,
    pub subject_key: &'static str,
    pub subject: String,
    /// The project's page, for a project's document.
    pub link: Option<String>,
}

#[derive(Template)]
#[template(path = "reviews.html")]
struct ReviewsPage {
    tr: Tr,
    chrome: Chrome,
    entries: Vec<Entry>,
    /// The document whose form was refused, with what was sent and why.
    refused: Option<(DocumentId, DecisionForm, ValidationErrors)>,
    /// A decision the store refused, in its own words (as the API says it).
    conflict: Option<String>,
    notice: Option<&'static str>,
}

impl ReviewsPage {
    fn form_of(&self, id: &DocumentId) -> Option<&DecisionForm> {
        self.refused
            .as_ref()
            .filter(|(d, ..)| d == id)
            .map(|(_, f, _)| f)
    }

    fn sent(&self, id: &DocumentId, field: &str) -> String {
        self.form_of(id).map_or_else(String::new, |f| match field {
            "decision" => f.decision.clone(),
            "expires_on" => f.expires_on.clone(),
            _ => f.comment.clone(),
        })
    }

    /// The message beside `field` of document `id`, in the reader's language.
    fn error(&self, id: &DocumentId, field: &str) -> Option<String> {
        let (_, _, errors) = self.refused.as_ref().filter(|(d, ..)| d == id)?;
        let error = errors.0.iter().find(|e| e.field == field)?;
        Some(match (field, error.message.as_str()) {
            ("decision", _) => self.tr.t("error-decision"),
            ("expires_on", m) if m.contains("has passed") => self.tr.t("error-expiry-passed"),
            ("expires_on", m) if m.contains("approval only") => self.tr.t("error-expiry-reject"),
            ("expires_on", _) => self.tr.t("error-date"),
            ("comment", _) => self
                .tr
                .t1("error-comment", "max", ReviewDecision::MAX_COMMENT_CHARS),
            _ => error.message.clone(),
        })
    }

    /// Page `page` (1-based) of a document's text in parts, each marked
    /// when it is evidence a requirement quotes from that page.
    fn marked(
        &self,
        entry: &Entry,
        page: impl std::borrow::Borrow<usize>,
        text: &str,
    ) -> Vec<(String, bool)> {
        let page = *page.borrow();
        let quotes: Vec<&str> = entry
            .item
            .report
            .iter()
            .flat_map(|r| &r.requirements)
            .filter(|r| r.grounded && r.page.is_some_and(|p| p as usize == page))
            .filter_map(|r| r.evidence.as_deref())
            .collect();
        mark_quotes(text, &quotes)
    }

    fn verdict_key(&self, r: &RequirementReport) -> &'static str {
        verdict_key(r.verdict)
    }

    fn verdict_class(&self, r: &RequirementReport) -> &'static str {
        match r.verdict {
            Verdict::Met => "ok",
            Verdict::NotMet => "bad",
            Verdict::Unclear => "unclear",
        }
    }

    fn source_key(&self, r: &RequirementReport) -> &'static str {
        source_key(r.source)
    }

    fn outcome_key(&self, outcome: &Outcome) -> &'static str {
        outcome_key(*outcome)
    }
}

/// `text` cut at the first occurrence of each quote: `(part, is_quote)`
/// in order. Quotes that overlap one already marked, or that do not occur
/// as written, stay unmarked.
fn mark_quotes(text: &str, quotes: &[&str]) -> Vec<(String, bool)> {
    let mut spans: Vec<(usize, usize)> = quotes
        .iter()
        .filter(|q| !q.trim().is_empty())
        .filter_map(|q| text.find(q).map(|start| (start, start + q.len())))
        .collect();
    spans.sort();
    let mut parts = Vec::new();
    let mut at = 0;
    for (start, end) in spans {
        if start < at {
            continue;
        }
        if start > at {
            parts.push((text[at..start].to_owned(), false));
        }
        parts.push((text[start..end].to_owned(), true));
        at = end;
    }
    if at < text.len() || parts.is_empty() {
        parts.push((text[at..].to_owned(), false));
    }
    parts
}

fn verdict_key(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Met => "verdict-met",
        Verdict::NotMet => "verdict-not-met",
        Verdict::Unclear => "verdict-unclear",
    }
}

fn source_key(source: Source) -> &'static str {
    match source {
        Source::Rule => "source-rule",
        Source::Model => "source-model",
        Source::None => "source-none",
    }
}

fn outcome_key(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Approved => "outcome-approved",
        Outcome::Rejected => "outcome-rejected",
        Outcome::Review => "outcome-review",
    }
}

async fn subject(
    state: &WebState,
    subject: &DocumentSubject,
) -> Result<(&'static str, String), StoreError> {
    Ok(match subject {
        DocumentSubject::Project(id) => {
            ("subject-project", state.app.store.project(*id).await?.title)
        }
        DocumentSubject::Expert(id) => (
            "subject-expert",
            state.app.store.contact(*id).await?.full_name,
        ),
    })
}

async fn page(
    state: &WebState,
    signed: &SignedIn,
    refused: Option<(DocumentId, DecisionForm, ValidationErrors)>,
    conflict: Option<String>,
    notice: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let mut entries = Vec::new();
    for item in state.app.store.review_queue(QUEUE_PAGE).await? {
        let (subject_key, subject) = subject(state, &item.document.subject).await?;
        let link = match item.document.subject {
            DocumentSubject::Project(id) => Some(format!("/projects/{id}")),
            DocumentSubject::Expert(_) => None,
        };
        entries.push(Entry {
            item,
            subject_key,
            subject,
            link,
        });
    }
    let page = ReviewsPage {
        tr: signed.tr().clone(),
        chrome: Chrome::of(signed, "reviews"),
        entries,
        refused,
        conflict,
        notice,
    };
    Ok(render_with(status, &page))
}

pub async fn queue(
    State(state): State<WebState>,
    signed: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, PageError> {
    signed.require_staff()?;
    let notice = match done.done.as_deref() {
        Some("approved") => Some("review-approved"),
        Some("rejected") => Some("review-rejected"),
        _ => None,
    };
    page(&state, &signed, None, None, notice, StatusCode::OK).await
}

/// The form's fields as the domain's decision, or the fields that are wrong.
fn parse(form: &DecisionForm) -> Result<ReviewDecision, ValidationErrors> {
    let decision = match form.decision.as_str() {
        "approve" => Some(Decision::Approve),
        "reject" => Some(Decision::Reject),
        _ => None,
    };
    let expires_on = match form.expires_on.trim() {
        "" => Ok(None),
        text => crate::domain::dates::parse_iso_date(text).map(Some),
    };
    match (decision, expires_on) {
        (Some(decision), Ok(expires_on)) => ReviewDecision::parse(
            decision,
            Some(&form.comment),
            expires_on,
            crate::store::now().date(),
        ),
        (decision, expires_on) => {
            let mut errors = ValidationErrors::new();
            if decision.is_none() {
                errors.add("decision", "choose approve or reject");
            }
            if expires_on.is_err() {
                errors.add("expires_on", "not a date");
            }
            Err(errors)
        }
    }
}

pub async fn decide(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<DecisionForm>,
) -> Result<Response, PageError> {
    signed.require_staff()?;
    let id: DocumentId = signed.id(&id)?;
    let decision = match parse(&form) {
        Ok(d) => d,
        Err(errors) => {
            return page(
                &state,
                &signed,
                Some((id, form, errors)),
                None,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let actor = signed.user().actor();
    let decided = state
        .app
        .store
        .decide_review(
            id,
            decision.approves(),
            decision.comment.as_deref(),
            decision.expires_on,
            &actor,
        )
        .await;
    match decided {
        Ok(outcome) => {
            tracing::info!(document = %id, decision = ?decision.decision, by = %signed.user().email,
                transitions = outcome.transitions.len(), "review decided");
            let done = if decision.approves() {
                "approved"
            } else {
                "rejected"
            };
            Ok(Redirect::to(&format!("/reviews?done={done}")).into_response())
        }
        Err(StoreError::Invalid(errors)) => {
            page(
                &state,
                &signed,
                Some((id, form, errors)),
                None,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(StoreError::Conflict(reason)) => {
            page(
                &state,
                &signed,
                None,
                Some(reason),
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::user::Locale;
    use crate::web::i18n::Formats;

    #[test]
    fn every_verdict_source_and_outcome_has_its_name() {
        let keys = [Verdict::Met, Verdict::NotMet, Verdict::Unclear]
            .map(verdict_key)
            .into_iter()
            .chain([Source::Rule, Source::Model, Source::None].map(source_key))
            .chain([Outcome::Approved, Outcome::Rejected, Outcome::Review].map(outcome_key));
        for locale in [Locale::Pl, Locale::En] {
            let tr = Tr::new(locale, Arc::new(Formats::default()));
            for key in keys.clone() {
                assert_ne!(tr.t(key), key, "{key} has no {locale:?} message");
            }
        }
    }

    #[test]
    fn quotes_are_marked_where_they_stand() {
        let text = "Strony: Kowalska Meble. Informacje poufne. Podpis: ____";
        let parts = mark_quotes(
            text,
            &["Informacje poufne", "Kowalska", "nowhere", "Kowalska Meble"],
        );
        assert_eq!(
            parts,
            [
                ("Strony: ".to_owned(), false),
                ("Kowalska".to_owned(), true),
                (" Meble. ".to_owned(), false),
                ("Informacje poufne".to_owned(), true),
                (". Podpis: ____".to_owned(), false),
            ]
        );
        assert_eq!(
            parts.iter().map(|(p, _)| p.as_str()).collect::<String>(),
            text,
            "nothing lost"
        );
        assert_eq!(mark_quotes("", &["x"]), [(String::new(), false)]);
    }

    #[test]
    fn the_form_becomes_the_domains_decision() {
        let form = |decision: &str, expires_on: &str| DecisionForm {
            decision: decision.into(),
            expires_on: expires_on.into(),
            comment: " checked ".into(),
        };
        let d = parse(&form("approve", "2099-12-31")).unwrap();
        assert!(d.approves());
        assert_eq!(d.expires_on, Some(time::macros::date!(2099 - 12 - 31)));
        assert_eq!(d.comment.as_deref(), Some("checked"));
        assert!(!parse(&form("reject", "")).unwrap().approves());
        let fields = |e: ValidationErrors| e.0.into_iter().map(|e| e.field).collect::<Vec<_>>();
        assert_eq!(
            fields(parse(&form("", "soon")).unwrap_err()),
            ["decision", "expires_on"]
        );
        assert_eq!(
            fields(parse(&form("approve", "2001-01-01")).unwrap_err()),
            ["expires_on"]
        );
    }
}

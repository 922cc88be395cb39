//! Side effects the connectors could not deliver, for staff: each failed
//! outbox entry with its tool, what it was for, how often it was tried and
//! the tool's last answer, and a button to try it again once the cause is
//! fixed (as `POST /outbox/{id}/retry`). Nothing is lost: what failed stays
//! here until it is delivered.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::WebState;
use super::csrf::CsrfForm;
use super::errors::PageError;
use super::i18n::Tr;
use super::page::{Chrome, render_with};
use super::session::SignedIn;
use crate::domain::ids::OutboxId;
use crate::domain::lifecycle::Lane;
use crate::store::{OutboxEntry, OutboxStatus, StoreError};

/// Failed entries listed at once.
const FAILED_SHOWN: u32 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct RetryForm {
    /// Where to come back to (this page, or a project's).
    #[serde(default)]
    back: Option<String>,
}

#[derive(Template)]
#[template(path = "deliveries.html")]
struct DeliveriesPage {
    tr: Tr,
    chrome: Chrome,
    failed: Vec<OutboxEntry>,
    tools: Tools,
    refused: Option<String>,
}

/// The tool behind each lane, as configured.
pub struct Tools {
    crm: &'static str,
    tracker: &'static str,
    board: &'static str,
    notifier: &'static str,
}

impl Tools {
    pub fn of(state: &WebState) -> Self {
        let c = &state.app.connectors;
        Self {
            crm: c.crm.name(),
            tracker: c.tracker.name(),
            board: c.board.name(),
            notifier: c.notifier.name(),
        }
    }

    pub fn tool(&self, lane: Lane) -> &'static str {
        match lane {
            Lane::Crm => self.crm,
            Lane::Tracker => self.tracker,
            Lane::Board => self.board,
            Lane::Notify => self.notifier,
        }
    }
}

/// The name of a lane's message, and of an entry's status.
pub fn lane_key(lane: Lane) -> String {
    format!("lane-{}", format!("{lane:?}").to_lowercase())
}

pub fn outbox_status_key(status: OutboxStatus) -> String {
    format!("outbox-{status}")
}

impl DeliveriesPage {
    fn lane_key(&self, e: &OutboxEntry) -> String {
        lane_key(e.lane)
    }

    fn tool(&self, e: &OutboxEntry) -> &'static str {
        self.tools.tool(e.lane)
    }
}

async fn page(
    state: &WebState,
    signed: &SignedIn,
    refused: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let failed = state
        .app
        .store
        .list_outbox(Some(OutboxStatus::Failed), None, FAILED_SHOWN)
        .await?;
    let page = DeliveriesPage {
        tr: signed.tr().clone(),
        chrome: Chrome::of(signed, "deliveries"),
        failed,
        tools: Tools::of(state),
        refused,
    };
    Ok(render_with(status, &page))
}

pub async fn list(State(state): State<WebState>, signed: SignedIn) -> Result<Response, PageError> {
    signed.require_staff()?;
    page(&state, &signed, None, StatusCode::OK).await
}

pub async fn retry(
    State(state): State<WebState>,
    signed: SignedIn,
    Path(id): Path<String>,
    CsrfForm { form, .. }: CsrfForm<RetryForm>,
) -> Result<Response, PageError> {
    signed.require_staff()?;
    let id: OutboxId = signed.id(&id)?;
    match state
        .app
        .store
        .retry_outbox(id, &signed.user().actor())
        .await
    {
        Ok(entry) => {
            tracing::info!(entry = %id, kind = %entry.kind, by = %signed.user().email, "failed outbox entry queued again from a page");
            Ok(Redirect::to(&super::auth::safe_next(form.back.as_deref())).into_response())
        }
        Err(StoreError::Conflict(reason)) => {
            let text = signed.tr().t1("refused-conflict", "reason", reason);
            page(&state, &signed, Some(text), StatusCode::CONFLICT).await
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
    fn every_delivery_status_has_its_name() {
        for locale in [Locale::Pl, Locale::En] {
            let tr = Tr::new(locale, Arc::new(Formats::default()));
            for status in [
                OutboxStatus::Pending,
                OutboxStatus::Delivering,
                OutboxStatus::Delivered,
                OutboxStatus::Failed,
            ] {
                let key = outbox_status_key(status);
                assert_ne!(tr.t(&key), key, "{key} has no {locale:?} message");
            }
        }
    }
}

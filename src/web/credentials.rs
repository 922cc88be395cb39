//! An expert's own credentials (the expert portal): each with its state,
//! the agent's reasons and its expiry, and an upload form, received as
//! `POST /experts/{id}/documents` receives it.

use askama::Template;
use axum::extract::State;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::WebState;
use super::errors::PageError;
use super::i18n::Tr;
use super::page::{Chrome, render_with};
use super::session::SignedIn;
use crate::domain::actor::Role;
use crate::domain::document::{DocumentSubject, DocumentType};
use crate::domain::ids::ContactId;
use crate::http::uploads;
use crate::store::EXPERT_CREDENTIALS;

use super::contacts::Credential;

#[derive(Template)]
#[template(path = "credentials.html")]
struct CredentialsPage {
    tr: Tr,
    chrome: Chrome,
    credentials: Vec<Credential>,
    types: Vec<&'static str>,
    refused: Option<String>,
    max_upload_mb: u64,
}

impl CredentialsPage {
    fn status_key(&self, c: &Credential) -> String {
        format!("doc-status-{}", c.document.status.as_str())
    }

    fn type_key(&self, t: impl std::fmt::Display) -> String {
        format!("credential-{t}")
    }
}

/// The expert's contact: the page is theirs alone (staff see an expert's
/// credentials on the expert's contact page).
fn expert_of(signed: &SignedIn) -> Result<ContactId, PageError> {
    match (signed.role(), signed.user().contact_id) {
        (Role::Expert, Some(contact)) => Ok(contact),
        _ => Err(PageError::NotFound(signed.tr().clone())),
    }
}

async fn page(
    state: &WebState,
    signed: &SignedIn,
    refused: Option<String>,
    status: StatusCode,
) -> Result<Response, PageError> {
    let me = expert_of(signed)?;
    let credentials = super::contacts::credentials_of(state, me).await?;
    let page = CredentialsPage {
        tr: signed.tr().clone(),
        chrome: Chrome::of(signed, "credentials"),
        credentials,
        types: EXPERT_CREDENTIALS.to_vec(),
        refused,
        max_upload_mb: state.app.upload_max_bytes.div_ceil(1024 * 1024),
    };
    Ok(render_with(status, &page))
}

pub async fn list(State(state): State<WebState>, signed: SignedIn) -> Result<Response, PageError> {
    page(&state, &signed, None, StatusCode::OK).await
}

pub async fn upload(
    State(state): State<WebState>,
    signed: SignedIn,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, PageError> {
    let me = expert_of(&signed)?;
    let multipart = super::csrf::checked_multipart(multipart, &signed).await?;
    let app = &state.app;
    let allowed: Vec<DocumentType> = EXPERT_CREDENTIALS
        .iter()
        .filter_map(|t| DocumentType::parse("type", t).ok())
        .collect();
    let subject = DocumentSubject::Expert(me);
    let received = async {
        uploads::room_for_one_more(app, subject).await?;
        let upload = uploads::receive(app, multipart).await?;
        uploads::accept(app, &signed.user().actor(), subject, &allowed, upload).await
    }
    .await;
    match received {
        Ok(_) => Ok(Redirect::to("/credentials").into_response()),
        Err(error) => {
            let (status, text) =
                super::projects::upload_refusal(signed.tr(), &error, app.upload_max_bytes)?;
            tracing::info!(expert = %me, %error, "a credential upload from a page was refused");
            page(&state, &signed, Some(text), status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::domain::user::Locale;
    use crate::web::i18n::Formats;

    #[test]
    fn every_credential_type_has_its_name() {
        for locale in [Locale::Pl, Locale::En] {
            let tr = Tr::new(locale, Arc::new(Formats::default()));
            for t in EXPERT_CREDENTIALS {
                let key = format!("credential-{t}");
                assert_ne!(tr.t(&key), key, "{key} has no {locale:?} message");
            }
        }
    }
}

//! Who is asking: every page request is a [`Visitor`] (with the language to
//! answer in, and the session if one is live); signed-in pages take a
//! [`SignedIn`], which sends anyone else to the sign-in page.

use std::net::IpAddr;

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};

use super::WebState;
use super::cookies;
use super::errors::PageError;
use super::i18n::Tr;
use crate::domain::actor::Role;
use crate::domain::user::{Locale, User};
use crate::store::Session;

/// Anyone requesting a page.
#[derive(Clone, Debug)]
pub struct Visitor {
    pub tr: Tr,
    pub session: Option<Session>,
    /// The session cookie's secret, to end it on sign-out.
    pub session_secret: Option<String>,
    pub address: Option<IpAddr>,
    /// The path and query asked for, to come back to after signing in.
    pub path: String,
}

/// The language to answer in: the user's setting, else the visitor's
/// choice on the language switch, else the browser's, else Polish.
fn locale(headers: &HeaderMap, user: Option<&User>) -> Locale {
    user.and_then(|u| u.locale)
        .or_else(|| cookies::get(headers, cookies::LANGUAGE).and_then(|c| c.parse().ok()))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or_default()
}

impl Visitor {
    pub fn user(&self) -> Option<&User> {
        self.session.as_ref().map(|s| &s.user)
    }
}

impl FromRequestParts<WebState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, PageError> {
        let secret = cookies::get(&parts.headers, cookies::SESSION)
            .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_owned);
        let session = match &secret {
            Some(secret) => state.app.store.session(secret, state.sessions).await?,
            None => None,
        };
        if let Some(s) = &session {
            tracing::Span::current().record("caller", tracing::field::display(&s.user.email));
        }
        let tr = Tr::new(
            locale(&parts.headers, session.as_ref().map(|s| &s.user)),
            state.formats.clone(),
        );
        Ok(Visitor {
            tr,
            session_secret: session.as_ref().and(secret),
            session,
            address: state
                .rate
                .client_address_of(&parts.headers, &parts.extensions),
            path: parts
                .uri
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned(),
        })
    }
}

/// A visitor with a live session.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub visitor: Visitor,
    pub session: Session,
}

impl SignedIn {
    pub fn user(&self) -> &User {
        &self.session.user
    }

    pub fn tr(&self) -> &Tr {
        &self.visitor.tr
    }

    /// Staff pages: anyone else gets the page that does not exist, as for
    /// any record they may not see.
    pub fn require_staff(&self) -> Result<(), PageError> {
        if self.user().role.is_staff() {
            Ok(())
        } else {
            Err(PageError::NotFound(self.visitor.tr.clone()))
        }
    }

    /// An id from the path. One that does not parse is a page that does
    /// not exist, as an unknown one is.
    pub fn id<T: std::str::FromStr>(&self, text: &str) -> Result<T, PageError> {
        text.parse()
            .map_err(|_| PageError::NotFound(self.visitor.tr.clone()))
    }

    pub fn role(&self) -> Role {
        self.user().role
    }
}

impl FromRequestParts<WebState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &WebState) -> Result<Self, PageError> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        match visitor.session.clone() {
            Some(session) => Ok(SignedIn { visitor, session }),
            None => Err(PageError::SignIn {
                next: visitor.path.clone(),
            }),
        }
    }
}

impl OptionalFromRequestParts<WebState> for SignedIn {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Option<Self>, PageError> {
        let visitor = Visitor::from_request_parts(parts, state).await?;
        Ok(visitor
            .session
            .clone()
            .map(|session| SignedIn { visitor, session }))
    }
}

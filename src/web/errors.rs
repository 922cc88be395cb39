//! One error type for the pages, rendered by one error page in the
//! visitor's language. A record a person may not see and one that does not
//! exist get the same 404; a server fault shows the request id the log
//! carries, never its details.

use std::sync::Arc;

use askama::Template;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::i18n::{Formats, Tr};
use super::page::render;
use crate::domain::user::Locale;
use crate::store::StoreError;

#[derive(Debug)]
pub enum PageError {
    NotFound(Tr),
    /// Not signed in: to the sign-in page, then back to `next`.
    SignIn {
        next: String,
    },
    /// A form without its token, or with another one.
    Csrf(Tr),
    /// A form body that is not a form.
    BadForm(Tr),
    Store(StoreError),
    /// A fault below the store (files, I/O), logged with its cause.
    Internal(String),
    /// A page already rendered for the refusal (a form's page with its reason).
    Rendered(Box<Response>),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Store(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    tr: Tr,
    title_key: &'static str,
    body_key: &'static str,
}

fn page(status: StatusCode, tr: Tr, title_key: &'static str, body_key: &'static str) -> Response {
    let mut res = render(&ErrorPage {
        tr,
        title_key,
        body_key,
    });
    *res.status_mut() = status;
    res
}

fn fallback_tr() -> Tr {
    Tr::new(Locale::default(), Arc::new(Formats::default()))
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::NotFound(tr) => page(
                StatusCode::NOT_FOUND,
                tr,
                "not-found-title",
                "not-found-body",
            ),
            PageError::SignIn { next } => {
                let next: String = form_urlencoded::byte_serialize(next.as_bytes()).collect();
                Redirect::to(&format!("/sign-in?next={next}")).into_response()
            }
            PageError::Csrf(tr) => {
                tracing::info!("a form was refused: its CSRF token is missing or wrong");
                page(StatusCode::FORBIDDEN, tr, "csrf-title", "csrf-body")
            }
            PageError::BadForm(tr) => page(
                StatusCode::BAD_REQUEST,
                tr,
                "bad-form-title",
                "bad-form-body",
            ),
            PageError::Store(StoreError::NotFound { .. }) => page(
                StatusCode::NOT_FOUND,
                fallback_tr(),
                "not-found-title",
                "not-found-body",
            ),
            PageError::Rendered(response) => *response,
            PageError::Internal(error) => {
                tracing::error!(%error, "a page failed");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    fallback_tr(),
                    "internal-title",
                    "internal-body",
                )
            }
            PageError::Store(error) => {
                tracing::error!(%error, "a page failed");
                page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    fallback_tr(),
                    "internal-title",
                    "internal-body",
                )
            }
        }
    }
}

/// The page for a path that is no page, in the visitor's language.
pub async fn not_found_page(headers: HeaderMap) -> Response {
    let locale = super::cookies::get(&headers, super::cookies::LANGUAGE)
        .and_then(|c| c.parse().ok())
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or_default();
    let tr = Tr::new(locale, Arc::new(Formats::default()));
    let mut res = page(
        StatusCode::NOT_FOUND,
        tr,
        "not-found-title",
        "not-found-body",
    );
    res.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(super::PAGE_CSP),
    );
    res
}

//! Forms that change anything carry a token that another site cannot know:
//! the session's own token when signed in, else the one in the visitor's
//! `SameSite=Strict` cookie. It is checked before the form is read.

use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::WebState;
use super::cookies;
use super::errors::PageError;
use super::session::{SignedIn, Visitor};

/// The form field holding the token.
pub const FIELD: &str = "csrf";

/// A form whose token matched, parsed into `T`, with who posted it.
#[derive(Debug)]
pub struct CsrfForm<T> {
    pub visitor: Visitor,
    pub form: T,
}

/// Equal tokens, compared by their digests so the time taken tells nothing.
pub fn same(a: &str, b: &str) -> bool {
    Sha256::digest(a.as_bytes()) == Sha256::digest(b.as_bytes())
}

impl<T: DeserializeOwned + Send> FromRequest<WebState> for CsrfForm<T> {
    type Rejection = PageError;

    async fn from_request(req: Request, state: &WebState) -> Result<Self, PageError> {
        let (mut parts, body) = req.into_parts();
        let visitor = Visitor::from_request_parts(&mut parts, state).await?;
        let expected = match &visitor.session {
            Some(s) => Some(s.csrf_token.clone()),
            None => cookies::get(&parts.headers, cookies::CSRF).map(str::to_owned),
        };
        let req = Request::from_parts(parts, body);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| PageError::BadForm(visitor.tr.clone()))?;
        let sent = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == FIELD)
            .map(|(_, v)| v.into_owned());
        match (expected, sent) {
            (Some(expected), Some(sent)) if !expected.is_empty() && same(&expected, &sent) => {}
            _ => return Err(PageError::Csrf(visitor.tr.clone())),
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| PageError::BadForm(visitor.tr.clone()))?;
        Ok(CsrfForm { visitor, form })
    }
}

/// A multipart form (an upload) whose first field is the session's form
/// token: checked before a byte of the file is read.
pub async fn checked_multipart(
    multipart: Result<Multipart, MultipartRejection>,
    signed: &SignedIn,
) -> Result<Multipart, PageError> {
    let Ok(mut multipart) = multipart else {
        return Err(PageError::BadForm(signed.tr().clone()));
    };
    let token = match multipart.next_field().await {
        Ok(Some(field)) if field.name() == Some(FIELD) => field.text().await.ok(),
        _ => None,
    };
    if token.is_some_and(|t| same(&signed.session.csrf_token, &t)) {
        Ok(multipart)
    } else {
        Err(PageError::Csrf(signed.tr().clone()))
    }
}

/// A fresh token for a visitor's cookie.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    hex::encode(bytes)
}

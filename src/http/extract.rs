//! Request extractors that answer in the API's error format, and the caller's
//! identity taken from the bearer token.

use axum::extract::{FromRef, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use super::error::ApiError;
use crate::domain::actor::{Actor, Role};
use crate::store::{TokenCheck, TokenRecord};

/// `axum::Json` whose rejections are [`ApiError`]s.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Path` whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// `axum::extract::Query` whose rejections are [`ApiError`]s.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);

/// The authenticated caller: who they are and what they may do.
#[derive(Clone, Debug)]
pub struct Caller {
    pub token: TokenRecord,
    pub actor: Actor,
}

impl Caller {
    pub fn require_staff(&self) -> Result<(), ApiError> {
        if self.token.role.is_staff() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{} tokens may not do this; it needs an operator or admin",
                self.token.role
            )))
        }
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.token.role == Role::Admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("only admin tokens may do this"))
        }
    }
}

fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing `Authorization: Bearer <token>` header"))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not text"))?;
    match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => Ok(token.trim()),
        _ => Err(ApiError::unauthorized(
            "the Authorization header must be `Bearer <token>`",
        )),
    }
}

impl<S> FromRequestParts<S> for Caller
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let secret = bearer(&parts.headers)?;
        let state = AppState::from_ref(state);
        let token = match state.store.authenticate(secret).await? {
            TokenCheck::Valid(token) => token,
            TokenCheck::Expired(token) => return Err(expired(&token)),
            TokenCheck::Unknown => return Err(ApiError::unauthorized("unknown or revoked token")),
        };
        // Every view of an expert or client is narrowed by their contact; a
        // token without one must not fall through to seeing everything.
        if token.role.needs_contact() && token.contact_id.is_none() {
            return Err(ApiError::unauthorized(
                "this token names no contact; create a new one",
            ));
        }
        let actor = token.actor();
        tracing::Span::current().record("caller", tracing::field::display(&token.label));
        Ok(Caller { token, actor })
    }
}

fn expired(token: &TokenRecord) -> ApiError {
    let when = token
        .expires_at
        .map(|e| e.date().to_string())
        .unwrap_or_default();
    ApiError::new(
        axum::http::StatusCode::UNAUTHORIZED,
        "token_expired",
        format!(
            "this token expired on {when}; ask an admin for a new secret (`ssot token rotate {}`)",
            token.id
        ),
    )
    .with_details(serde_json::json!({ "token_id": token.id, "expired_at": token.expires_at.and_then(|e| e.format(&time::format_description::well_known::Rfc3339).ok()) }))
}

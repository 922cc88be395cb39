//! Signing in and out, setting a password from an invitation, and the
//! language switch. A failed sign-in says the same whether or not the
//! account exists, and takes as long; repeated failures per account and
//! per address are answered 429 with `Retry-After`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::WebState;
use super::csrf::{CsrfForm, new_token};
use super::errors::PageError;
use super::i18n::Tr;
use super::page::render_with;
use super::session::Visitor;
use crate::domain::contact::Email;
use crate::domain::user::{Locale, check_new_password};
use crate::http::limits::retry_after_secs;
use crate::passwords;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    tr: Tr,
    csrf: String,
    email: String,
    next: String,
    /// A message key: wrong credentials, or wait.
    error: Option<String>,
    path: String,
}

#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// Only a path of this hub is a place to come back to.
pub(super) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

/// The visitor's form token, from their cookie or fresh (then set).
fn anonymous_token(visitor_cookie: Option<&str>) -> (String, bool) {
    match visitor_cookie {
        Some(t) if t.len() == 64 => (t.to_owned(), false),
        _ => (new_token(), true),
    }
}

fn sign_in_form(
    state: &WebState,
    visitor: &Visitor,
    cookie: Option<&str>,
    email: String,
    next: String,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (csrf, fresh) = anonymous_token(cookie);
    let page = SignInPage {
        tr: visitor.tr.clone(),
        csrf: csrf.clone(),
        email,
        next,
        error,
        path: visitor.path.clone(),
    };
    let mut res = render_with(status, &page);
    if fresh {
        res.headers_mut()
            .append(header::SET_COOKIE, state.cookies.csrf(&csrf));
    }
    res
}

pub async fn sign_in_page(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: axum::http::HeaderMap,
    Query(q): Query<NextQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    if visitor.session.is_some() {
        return Redirect::to(&next).into_response();
    }
    let cookie = super::cookies::get(&headers, super::cookies::CSRF);
    sign_in_form(
        &state,
        &visitor,
        cookie,
        String::new(),
        next,
        None,
        StatusCode::OK,
    )
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    next: Option<String>,
}

pub async fn sign_in(
    State(state): State<WebState>,
    headers: axum::http::HeaderMap,
    CsrfForm { visitor, form }: CsrfForm<SignInForm>,
) -> Result<Response, PageError> {
    let next = safe_next(form.next.as_deref());
    let cookie = super::cookies::get(&headers, super::cookies::CSRF);
    let account = form.email.trim().to_lowercase();
    if let Some(wait) = state.rate.sign_in_wait(&account, visitor.address) {
        let secs = retry_after_secs(wait);
        tracing::info!(address = ?visitor.address, "sign-in refused: too many failures");
        let error = Some(visitor.tr.t1("sign-in-wait", "seconds", secs));
        let mut res = sign_in_form(
            &state,
            &visitor,
            cookie,
            form.email,
            next,
            error,
            StatusCode::TOO_MANY_REQUESTS,
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return Ok(res);
    }
    let record = match Email::parse(&account) {
        Ok(email) => state.app.store.user_for_sign_in(&email).await?,
        Err(_) => None,
    };
    let hash = record.as_ref().and_then(|r| r.password_hash.clone());
    let matches = passwords::verify(form.password, hash).await;
    let user = record
        .map(|r| r.user)
        .filter(|u| matches && !u.is_disabled());
    let Some(user) = user else {
        state.rate.sign_in_failed(&account);
        tracing::info!(address = ?visitor.address, "sign-in failed");
        let error = Some(visitor.tr.t("sign-in-failed"));
        // 401, which the rate-limit middleware counts against the address.
        return Ok(sign_in_form(
            &state,
            &visitor,
            cookie,
            form.email,
            next,
            error,
            StatusCode::UNAUTHORIZED,
        ));
    };
    let session = state.app.store.create_session(user.id).await?;
    tracing::info!(user = %user.id, role = %user.role, "signed in");
    let mut res = Redirect::to(&next).into_response();
    let max_age = state.sessions.absolute.whole_seconds();
    res.headers_mut().append(
        header::SET_COOKIE,
        state.cookies.session(&session.secret, max_age),
    );
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn sign_out(
    State(state): State<WebState>,
    CsrfForm { visitor, .. }: CsrfForm<Empty>,
) -> Result<Response, PageError> {
    if let Some(secret) = &visitor.session_secret {
        state.app.store.end_session(secret).await?;
        tracing::info!("signed out");
    }
    let mut res = Redirect::to("/sign-in").into_response();
    res.headers_mut()
        .append(header::SET_COOKIE, state.cookies.clear_session());
    Ok(res)
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    tr: Tr,
    csrf: String,
    name: String,
    email: String,
    error: Option<String>,
    path: String,
    min_chars: usize,
}

fn invitation_form(
    state: &WebState,
    visitor: &Visitor,
    cookie: Option<&str>,
    user: &crate::domain::user::User,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let (csrf, fresh) = anonymous_token(cookie);
    let page = InvitationPage {
        tr: visitor.tr.clone(),
        csrf: csrf.clone(),
        name: user.display_name.clone(),
        email: user.email.to_string(),
        error,
        path: visitor.path.clone(),
        min_chars: crate::domain::user::MIN_PASSWORD_CHARS,
    };
    let mut res = render_with(status, &page);
    if fresh {
        res.headers_mut()
            .append(header::SET_COOKIE, state.cookies.csrf(&csrf));
    }
    res
}

fn plausible_secret(secret: &str) -> bool {
    secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())
}

pub async fn invitation_page(
    State(state): State<WebState>,
    visitor: Visitor,
    headers: axum::http::HeaderMap,
    Path(secret): Path<String>,
) -> Result<Response, PageError> {
    let user = if plausible_secret(&secret) {
        state.app.store.invited_user(&secret).await?
    } else {
        None
    };
    let Some(user) = user else {
        return Ok(render_with(
            StatusCode::NOT_FOUND,
            &InvitationGone {
                tr: visitor.tr.clone(),
            },
        ));
    };
    let cookie = super::cookies::get(&headers, super::cookies::CSRF);
    Ok(invitation_form(
        &state,
        &visitor,
        cookie,
        &user,
        None,
        StatusCode::OK,
    ))
}

#[derive(Template)]
#[template(path = "invitation_gone.html")]
struct InvitationGone {
    tr: Tr,
}

#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    password: String,
    confirm: String,
}

pub async fn accept_invitation(
    State(state): State<WebState>,
    headers: axum::http::HeaderMap,
    Path(secret): Path<String>,
    CsrfForm { visitor, form }: CsrfForm<PasswordForm>,
) -> Result<Response, PageError> {
    let gone = || {
        render_with(
            StatusCode::NOT_FOUND,
            &InvitationGone {
                tr: visitor.tr.clone(),
            },
        )
    };
    if !plausible_secret(&secret) {
        return Ok(gone());
    }
    let Some(user) = state.app.store.invited_user(&secret).await? else {
        return Ok(gone());
    };
    let cookie = super::cookies::get(&headers, super::cookies::CSRF);
    let refusal = if form.password != form.confirm {
        Some(visitor.tr.t("password-mismatch"))
    } else {
        check_new_password(&form.password, &user.email)
            .err()
            .map(|_| {
                visitor.tr.t1(
                    "password-rule",
                    "chars",
                    crate::domain::user::MIN_PASSWORD_CHARS,
                )
            })
    };
    if let Some(error) = refusal {
        return Ok(invitation_form(
            &state,
            &visitor,
            cookie,
            &user,
            Some(error),
            StatusCode::UNPROCESSABLE_ENTITY,
        ));
    }
    let hash = passwords::hash(form.password).await;
    let Some(user) = state.app.store.accept_invitation(&secret, hash).await? else {
        return Ok(gone());
    };
    tracing::info!(user = %user.id, "invitation accepted; password set");
    let session = state.app.store.create_session(user.id).await?;
    let mut res = Redirect::to("/").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        state
            .cookies
            .session(&session.secret, state.sessions.absolute.whole_seconds()),
    );
    Ok(res)
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    locale: Locale,
    back: Option<String>,
}

/// Switches the language: kept in the user's settings when signed in, and
/// in a cookie for this browser either way.
pub async fn choose_language(
    State(state): State<WebState>,
    CsrfForm { visitor, form }: CsrfForm<LanguageForm>,
) -> Result<Response, PageError> {
    if let Some(user) = visitor.user() {
        state
            .app
            .store
            .set_user_locale(user.id, Some(form.locale))
            .await?;
    }
    let mut res = Redirect::to(&safe_next(form.back.as_deref())).into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        state.cookies.language(form.locale.as_str()),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/users?x=1")), "/users?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "users",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}

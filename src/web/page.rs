//! What every page shares: the frame around it (who is signed in, the
//! navigation, the language switch, the sign-out form's token) and
//! rendering a template into an answer.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use super::session::SignedIn;
use crate::domain::actor::Role;

/// The signed-in frame of a page.
#[derive(Clone, Debug)]
pub struct Chrome {
    pub name: String,
    pub role: Role,
    /// The session's form token, for every form on the page.
    pub csrf: String,
    /// Where the language switch comes back to.
    pub path: String,
    /// Which navigation entry is current.
    pub current: &'static str,
}

impl Chrome {
    pub fn of(signed: &SignedIn, current: &'static str) -> Self {
        Self {
            name: signed.user().display_name.clone(),
            role: signed.role(),
            csrf: signed.session.csrf_token.clone(),
            path: signed.visitor.path.clone(),
            current,
        }
    }

    pub fn is_staff(&self) -> bool {
        self.role.is_staff()
    }

    pub fn is_expert(&self) -> bool {
        self.role == Role::Expert
    }

    pub fn role_key(&self) -> String {
        format!("role-{}", self.role.as_str())
    }
}

/// The template as HTML, or a plain 500 if it fails to render (it cannot
/// render the error page either then).
pub fn render(template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, "a page template failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// `render` with a status other than 200.
pub fn render_with(status: StatusCode, template: &impl Template) -> Response {
    let mut res = render(template);
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}

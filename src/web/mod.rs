//! The pages: server-rendered HTML for the people of the lifecycle, served
//! by the same axum server as the API and calling the same store and rules.
//! Routes are grouped by what guards them, so each route's guard sits
//! beside it: public pages (sign-in, invitations, assets) and signed-in ones,
//! whose handlers take a [`session::SignedIn`] and check the role they need.
//! Every state-changing form goes through [`csrf::CsrfForm`].

mod assets;
mod auth;
mod board;
mod contacts;
pub mod cookies;
mod credentials;
mod csrf;
mod dashboard;
mod deliveries;
mod errors;
mod helpdesk;
mod home;
pub mod i18n;
mod intake;
mod page;
mod projects;
mod reviews;
mod session;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

use crate::http::AppState;
use crate::http::limits::RateLimits;
use crate::store::SessionLifetimes;

pub use errors::not_found_page;

/// What the page handlers reach: the API's state and the pages' settings.
#[derive(Clone, Debug)]
pub struct WebState {
    pub app: AppState,
    pub rate: RateLimits,
    pub sessions: SessionLifetimes,
    pub cookies: cookies::CookiePolicy,
    pub invitation_ttl: time::Duration,
    /// Where people reach the hub, for links shown to copy.
    pub public_url: String,
    pub formats: Arc<i18n::Formats>,
}

/// No inline script or style, nothing from elsewhere, no framing, forms
/// post only here.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Every page route. The router's owner adds the shared guards (request id,
/// security headers, rate limits, body limits) around it.
pub fn router(state: WebState) -> Router {
    let public = Router::new()
        .route("/sign-in", get(auth::sign_in_page).post(auth::sign_in))
        .route(
            "/invitation/{secret}",
            get(auth::invitation_page).post(auth::accept_invitation),
        )
        .route("/language", post(auth::choose_language));
    let signed_in = Router::new()
        .route("/", get(home::home))
        .route("/sign-out", post(auth::sign_out))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{id}/disable", post(users::disable))
        .route("/users/{id}/enable", post(users::enable))
        .route("/users/{id}/invite", post(users::invite))
        .route(
            "/credentials",
            get(credentials::list)
                .post(credentials::upload)
                .layer(DefaultBodyLimit::max(crate::http::uploads::body_limit(
                    state.app.upload_max_bytes,
                ))),
        )
        .route("/contacts", get(contacts::list))
        .route("/contacts/{id}", get(contacts::show))
        .route("/contacts/{id}/vetting", post(contacts::vetting))
        .route("/intake", get(intake::form).post(intake::submit))
        .route("/board", get(board::board))
        .route("/projects/{id}", get(projects::show))
        .route("/projects/{id}/transitions", post(projects::transition))
        .route("/projects/{id}/baseline", post(projects::baseline))
        .route("/projects/{id}/outcome", post(projects::outcome))
        .route(
            "/projects/{id}/documents",
            // As the API's upload route: the file may be as large as `upload_max_bytes`.
            post(projects::upload).layer(DefaultBodyLimit::max(crate::http::uploads::body_limit(
                state.app.upload_max_bytes,
            ))),
        )
        .route(
            "/projects/{id}/documents/status",
            get(projects::document_status),
        )
        .route(
            "/projects/{id}/tasks/{task}/status",
            post(projects::task_status),
        )
        .route("/projects/{id}/tickets", post(helpdesk::open))
        .route(
            "/projects/{id}/tickets/{ticket}/messages",
            post(helpdesk::reply),
        )
        .route(
            "/projects/{id}/tickets/{ticket}/status",
            post(helpdesk::status),
        )
        .route("/deliveries", get(deliveries::list))
        .route("/deliveries/{id}/retry", post(deliveries::retry))
        .route("/reviews", get(reviews::queue))
        .route("/reviews/{id}", post(reviews::decide));
    let pages = public
        .merge(signed_in)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ));
    pages
        .route("/static/{file}", get(assets::serve))
        .with_state(state)
}

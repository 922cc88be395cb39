//! The HTTP edge: the JSON API under `/api/v1` with its OpenAPI document. Each
//! module exports a `router()`; handlers parse input into domain types, check
//! who may act, call the store and shape the answer.

mod admin;
mod connectors;
mod contacts;
mod credentialing;
mod documents;
pub mod error;
mod experts;
mod extract;
pub mod hardening;
mod health;
pub mod limits;
mod projects;
mod records;
pub mod server;
pub mod tasks;
mod tickets;
pub mod uploads;
mod views;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::{HeaderName, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::agent::Agent;
use crate::blobs::BlobStore;
use crate::connectors::Connectors;
use crate::store::Store;
use error::ApiError;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    pub agent: Agent,
    pub blobs: BlobStore,
    pub upload_max_bytes: u64,
    pub upload_quota: crate::domain::document::UploadQuota,
    pub tokens: crate::store::TokenLifetimes,
    pub expiry_warning_days: u32,
    pub connectors: Connectors,
    /// The Obsidian vault's export interval (0: on demand only) and how its
    /// continuous export stands, when a vault is configured.
    pub vault: Option<(u64, crate::vault_export::VaultStatus)>,
}

/// Limits applied to every request.
#[derive(Clone, Copy, Debug)]
pub struct HttpLimits {
    pub max_body_bytes: usize,
    pub request_timeout: Duration,
    /// For multipart uploads, which stream for longer.
    pub upload_timeout: Duration,
    /// A body that sends nothing for this long is answered 408.
    pub body_idle_timeout: Duration,
}

/// What guards the API beside the handlers' own checks.
#[derive(Clone, Debug)]
pub struct Guards {
    pub limits: HttpLimits,
    pub cors: hardening::CorsPolicy,
    pub rate: limits::RateLimits,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "SSoT-Lite API",
        description = "Single source of truth and lifecycle orchestrator for an agency of vetted experts. \
            Authenticate with `Authorization: Bearer <token>` (create one with `ssot token create`).",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "projects", description = "Intake, the 11-step lifecycle, value metrics and audit"),
        (name = "experts", description = "Expert profiles and vetting"),
        (name = "contacts", description = "Client CRM records"),
        (name = "credentialing", description = "Required documents and their approval"),
        (name = "records", description = "What the connectors keep: tracker, board, deal, notifications"),
        (name = "webhooks", description = "Signed calls from the connected tools: HubSpot, Trello, the Google Forms intake"),
        (name = "tasks", description = "The built-in tracker"),
        (name = "helpdesk", description = "Tickets and messages"),
        (name = "admin", description = "Tokens, audit trail, outbox"),
        (name = "health", description = "Liveness"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The whole API behind every guard, on its own (the server adds the pages
/// beside it in `App::router`).
pub fn router(state: AppState, guards: Guards) -> Router {
    guarded(api(state).fallback(not_found), guards)
}

/// The whole API as one router, with its OpenAPI document served at
/// `/api/v1/openapi.json`; without a fallback or the shared guards, which
/// the router's owner adds.
pub fn api(state: AppState) -> Router {
    let api = OpenApiRouter::new()
        .merge(health::router())
        .merge(projects::router())
        .merge(experts::router())
        .merge(contacts::router())
        .merge(tasks::router())
        .merge(tickets::router())
        .merge(credentialing::router())
        .merge(documents::router(state.upload_max_bytes))
        .merge(records::router())
        .merge(admin::router())
        .merge(connectors::router())
        .merge(webhooks::router());
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .split_for_parts();
    let openapi = Arc::new(openapi);
    let router = api.route(
        "/api/v1/openapi.json",
        get(move || std::future::ready(axum::Json(openapi.clone()))),
    );
    router.with_state(state)
}

/// A path under `/api/` that is no route.
pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// `router` behind every guard the API and the pages share. Layers,
/// outermost first: request id, trace, security headers, CORS, errors of
/// the layers below in the API's JSON shape, panics, rate limits, time
/// limits, body limits.
pub fn guarded<S: Clone + Send + Sync + 'static>(router: Router<S>, guards: Guards) -> Router<S> {
    let request_id = HeaderName::from_static("x-request-id");
    let Guards { limits, cors, rate } = guards;
    let mut router = router
        .layer(RequestBodyTimeoutLayer::new(limits.body_idle_timeout))
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(middleware::from_fn_with_state(limits, time_limit))
        .layer(middleware::from_fn_with_state(rate, limits::rate_limit))
        .layer(CatchPanicLayer::custom(hardening::panic_response))
        .layer(middleware::from_fn(hardening::json_errors))
        .layer(cors.layer())
        .layer(middleware::from_fn_with_state(cors, hardening::cors_guard));
    for (name, value) in hardening::security_headers() {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(make_span)
                .on_response(
                    DefaultOnResponse::new()
                        .level(Level::INFO)
                        .latency_unit(LatencyUnit::Micros),
                ),
        )
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(middleware::from_fn(hardening::bound_request_id))
}

/// One span per request, keyed by the matched route (not the raw path, so ids
/// do not explode the cardinality), with the caller filled in after auth.
fn make_span(req: &Request) -> tracing::Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or(req.uri().path(), MatchedPath::as_str);
    let request_id = req
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    tracing::info_span!("request", method = %req.method(), route, request_id, caller = tracing::field::Empty)
}

/// Answers 503 in the API's error format when a request runs too long; dropping
/// the handler rolls back any open transaction.
async fn time_limit(State(limits): State<HttpLimits>, req: Request, next: Next) -> Response {
    let upload = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let limit = if upload {
        limits.upload_timeout
    } else {
        limits.request_timeout
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(?limit, "request timed out");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "timeout",
                "the request took too long; retry",
            )
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use tower::ServiceExt;

    fn guards() -> Guards {
        Guards {
            limits: HttpLimits {
                max_body_bytes: 1024,
                request_timeout: Duration::from_secs(5),
                upload_timeout: Duration::from_secs(5),
                body_idle_timeout: Duration::from_secs(5),
            },
            cors: hardening::CorsPolicy::default(),
            rate: limits::RateLimits::new(limits::RateLimitSettings {
                per_address: 0,
                per_token: 0,
                uploads: 0,
                sign_in_failures: 0,
                trust_forwarded_for: false,
            }),
        }
    }

    async fn boom() -> &'static str {
        panic!("the handler broke")
    }

    #[tokio::test]
    async fn a_panicking_handler_answers_500_in_the_error_shape_with_the_headers() {
        let router: Router = guarded(Router::new().route("/boom", get(boom)), guards());
        let req = Request::builder().uri("/boom").body(Body::empty()).unwrap();
        let res = router.oneshot(req).await.unwrap();
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert!(res.headers().contains_key("x-request-id"));
        let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["error"]["code"], "internal");
        assert!(
            !json.to_string().contains("the handler broke"),
            "the panic's words stay in the log"
        );
    }
}

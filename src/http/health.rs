//! `/health`: liveness and database reachability, without authentication.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::extract::Json;
use crate::domain::protocol::ProtocolError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(health))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    /// `ok`; `degraded` when the database does not answer or a protocol note is broken.
    status: &'static str,
    version: &'static str,
    /// `sqlite` or `postgres`.
    database: &'static str,
    database_ok: bool,
    protocols: ProtocolHealth,
    /// The model the agent asks, or `null` (deterministic checks only).
    model: Option<String>,
    /// Documents waiting for the agent (`queued`) and for a person (`review`);
    /// `null` when the database does not answer.
    documents: Option<DocumentQueues>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct DocumentQueues {
    queued: i64,
    review: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
struct ProtocolHealth {
    loaded: usize,
    /// Protocol notes that could not be used, with the reason.
    broken: Vec<ProtocolError>,
}

#[utoipa::path(get, path = "/health", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let database_ok = match state.store.ping().await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "health check: database unreachable");
            false
        }
    };
    let status = if database_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let vault = state.agent.protocols().current();
    let protocols = ProtocolHealth {
        loaded: vault.set.protocols.len(),
        broken: vault.errors().to_vec(),
    };
    let documents = if database_ok {
        state
            .store
            .document_queues()
            .await
            .ok()
            .map(|(queued, review)| DocumentQueues { queued, review })
    } else {
        None
    };
    let healthy = database_ok && protocols.broken.is_empty();
    let body = Health {
        status: if healthy { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        database: state.store.backend().name(),
        database_ok,
        protocols,
        model: state.agent.model().map(str::to_owned),
        documents,
    };
    (status, Json(body))
}

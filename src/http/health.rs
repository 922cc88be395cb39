//! `/health` (is the server up) and `/health/ready` (can it do its work).
//! Without a token both say only that; a staff token also gets the details
//! (version, database, protocols, model, queues, the audit chain's head),
//! which would otherwise tell a stranger what runs here.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::ApiError;
use super::extract::{Caller, Json};
use crate::domain::audit::ChainHead;
use crate::domain::protocol::ProtocolError;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

#[derive(Serialize, utoipa::ToSchema)]
struct Health {
    /// `up` on `/health`; `ready` or `degraded` on `/health/ready`.
    status: &'static str,
    /// Only with an operator or admin token.
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Details>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct Details {
    /// Why the server is degraded; empty when ready.
    problems: Vec<String>,
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
    /// The newest event of the audit hash chain.
    audit_chain_head: Option<ChainHead>,
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

/// Staff callers see the details; anyone else (or a bad token) only the status.
fn wants_details(caller: &Result<Caller, ApiError>) -> bool {
    caller.as_ref().is_ok_and(|c| c.token.role.is_staff())
}

async fn details(state: &AppState) -> Details {
    let database_ok = match state.store.ping().await {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "health check: database unreachable");
            false
        }
    };
    let vault = state.agent.protocols().current();
    let protocols = ProtocolHealth {
        loaded: vault.set.protocols.len(),
        broken: vault.errors().to_vec(),
    };
    let mut problems = Vec::new();
    if !database_ok {
        problems.push("the database does not answer".to_owned());
    }
    if protocols.loaded == 0 {
        problems.push(format!(
            "no protocol is loaded from {}: the agent checks nothing",
            vault.dir.display()
        ));
    }
    for broken in &protocols.broken {
        problems.push(format!(
            "protocol note {} is broken: {}",
            broken.file, broken.reason
        ));
    }
    let (documents, audit_chain_head) = if database_ok {
        (
            state
                .store
                .document_queues()
                .await
                .ok()
                .map(|(queued, review)| DocumentQueues { queued, review }),
            state.store.audit_head().await.ok(),
        )
    } else {
        (None, None)
    };
    Details {
        problems,
        version: env!("CARGO_PKG_VERSION"),
        database: state.store.backend().name(),
        database_ok,
        protocols,
        model: state.agent.model().map(str::to_owned),
        documents,
        audit_chain_head,
    }
}

/// Liveness: the server answers. Details for staff tokens.
#[utoipa::path(get, path = "/health", tag = "health", responses((status = 200, body = Health)))]
async fn health(State(state): State<AppState>, caller: Result<Caller, ApiError>) -> Json<Health> {
    let details = if wants_details(&caller) {
        Some(details(&state).await)
    } else {
        None
    };
    Json(Health {
        status: "up",
        details,
    })
}

/// Readiness: 200 when the database answers and the protocols are loaded
/// and sound, 503 `degraded` otherwise. Details (the problems) for staff tokens.
#[utoipa::path(get, path = "/health/ready", tag = "health",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn ready(
    State(state): State<AppState>,
    caller: Result<Caller, ApiError>,
) -> (StatusCode, Json<Health>) {
    let details = details(&state).await;
    let (status, word) = if details.problems.is_empty() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "degraded")
    };
    let body = Health {
        status: word,
        details: wants_details(&caller).then_some(details),
    };
    (status, Json(body))
}

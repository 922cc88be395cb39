//! `GET /connectors`: which implementation serves each tool, and how its
//! deliveries stand (last success, pending, failed, the newest error).

use axum::extract::State;
use serde::Serialize;
use time::OffsetDateTime;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;
use super::error::{ApiError, ErrorBody};
use super::extract::{Caller, Json};
use crate::domain::lifecycle::Lane;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_connectors))
}

#[derive(Serialize, utoipa::ToSchema)]
struct ConnectorView {
    /// `crm`, `tracker`, `board` or `notify`.
    role: Lane,
    /// The implementation: `builtin`, `jira`, `trello`, `hubspot`.
    mode: &'static str,
    /// When an entry of this connector was last delivered.
    #[serde(with = "time::serde::rfc3339::option")]
    last_success: Option<OffsetDateTime>,
    /// Waiting for delivery (including those backing off after a failure).
    pending: i64,
    /// Being delivered right now.
    delivering: i64,
    /// Given up on; `POST /outbox/{id}/retry` tries again.
    failed: i64,
    delivered: i64,
    /// The newest failed entry's error, as the vendor gave it.
    last_error: Option<String>,
}

/// Each connector's mode and delivery state (staff only).
#[utoipa::path(get, path = "/connectors", tag = "admin",
    responses((status = 200, body = Vec<ConnectorView>), (status = 403, body = ErrorBody)), security(("bearer" = [])))]
async fn list_connectors(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ConnectorView>>, ApiError> {
    caller.require_staff()?;
    let stats = state.store.lane_stats().await?;
    let c = &state.connectors;
    Ok(Json(
        stats
            .into_iter()
            .map(|s| ConnectorView {
                role: s.lane,
                mode: match s.lane {
                    Lane::Crm => c.crm.name(),
                    Lane::Tracker => c.tracker.name(),
                    Lane::Board => c.board.name(),
                    Lane::Notify => c.notifier.name(),
                },
                last_success: s.last_delivered_at,
                pending: s.pending,
                delivering: s.delivering,
                failed: s.failed,
                delivered: s.delivered,
                last_error: s.last_error,
            })
            .collect(),
    ))
}

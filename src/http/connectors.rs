//! `GET /connectors`: which implementation serves each tool, and how its
//! deliveries stand (last success, pending, failed, the newest error). The
//! outbound lanes come from the outbox; the Google Forms intake and the
//! Obsidian vault, which do not go through it, have rows of their own when
//! they are configured.

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

/// What a connector does for the hub.
#[derive(Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
enum Role {
    Crm,
    Tracker,
    Board,
    Notify,
    /// Form responses coming in (`POST /intake/google-forms`).
    Intake,
    /// The Obsidian vault of notes written out.
    Knowledge,
}

impl From<Lane> for Role {
    fn from(lane: Lane) -> Self {
        match lane {
            Lane::Crm => Self::Crm,
            Lane::Tracker => Self::Tracker,
            Lane::Board => Self::Board,
            Lane::Notify => Self::Notify,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
struct ConnectorView {
    role: Role,
    /// The implementation: `builtin`, `jira`, `trello`, `hubspot`,
    /// `google_forms`, `obsidian`.
    mode: &'static str,
    /// When an entry of this connector was last delivered (for the intake,
    /// when the newest response arrived; for the vault, when it was last
    /// written).
    #[serde(with = "time::serde::rfc3339::option")]
    last_success: Option<OffsetDateTime>,
    /// Waiting for delivery (including those backing off after a failure).
    pending: i64,
    /// Being delivered right now.
    delivering: i64,
    /// Given up on; `POST /outbox/{id}/retry` tries again. For the vault:
    /// exports that failed in a row (it tries again at the next interval).
    failed: i64,
    /// Entries delivered; form responses taken; vault exports completed
    /// since the server started.
    delivered: i64,
    /// The newest failed entry's error, as the vendor gave it.
    last_error: Option<String>,
    /// For the vault: seconds between exports, 0 when only `ssot vault
    /// export` writes it.
    #[serde(skip_serializing_if = "Option::is_none")]
    interval_secs: Option<u64>,
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
    let mut views: Vec<ConnectorView> = stats
        .into_iter()
        .map(|s| ConnectorView {
            role: s.lane.into(),
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
            interval_secs: None,
        })
        .collect();
    if c.inbound.google_forms.is_some() {
        let forms = state.store.form_intake_stats().await?;
        views.push(ConnectorView {
            role: Role::Intake,
            mode: "google_forms",
            last_success: forms.last_received_at,
            pending: 0,
            delivering: 0,
            failed: 0,
            delivered: forms.responses,
            last_error: None,
            interval_secs: None,
        });
    }
    if let Some((interval, status)) = &state.vault {
        let health = status.get();
        views.push(ConnectorView {
            role: Role::Knowledge,
            mode: "obsidian",
            last_success: health.last_success,
            pending: 0,
            delivering: 0,
            failed: health.failing,
            delivered: health.exports,
            last_error: health.last_error,
            interval_secs: Some(*interval),
        });
    }
    Ok(Json(views))
}

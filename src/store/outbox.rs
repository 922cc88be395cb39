//! The outbox: side effects written in the same transaction as the change that
//! asks for them, so none is lost if the process dies before delivering it.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use time::OffsetDateTime;

use super::codec::{from_json, parse_col, parse_opt_col, parse_opt_ts, parse_ts, to_json, ts};
use super::{Store, StoreError};
use crate::domain::ids::{OutboxId, ProjectId};
use crate::domain::lifecycle::Effect;

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for (another) delivery attempt.
    Pending,
    /// Done; kept for the record.
    Delivered,
    /// Gave up after retries or a permanent error; retry by hand once fixed.
    Failed,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub id: OutboxId,
    /// Delivery order within a project.
    pub seq: i64,
    pub project_id: Option<ProjectId>,
    pub kind: String,
    #[schema(value_type = Object)]
    pub effect: serde_json::Value,
    /// Sent to the connector so a repeated delivery does the work once.
    pub idempotency_key: String,
    pub status: OutboxStatus,
    pub attempts: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub next_attempt_at: OffsetDateTime,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub delivered_at: Option<OffsetDateTime>,
}

#[derive(FromRow)]
struct OutboxRow {
    seq: i64,
    id: String,
    project_id: Option<String>,
    kind: String,
    payload: String,
    idempotency_key: String,
    status: String,
    attempts: i64,
    next_attempt_at: String,
    last_error: Option<String>,
    created_at: String,
    delivered_at: Option<String>,
}

impl TryFrom<OutboxRow> for OutboxEntry {
    type Error = StoreError;
    fn try_from(r: OutboxRow) -> Result<Self, StoreError> {
        Ok(OutboxEntry {
            id: parse_col("outbox.id", &r.id)?,
            seq: r.seq,
            project_id: parse_opt_col("outbox.project_id", r.project_id.as_deref())?,
            kind: r.kind,
            effect: from_json("outbox.payload", &r.payload)?,
            idempotency_key: r.idempotency_key,
            status: parse_col("outbox.status", &r.status)?,
            attempts: r.attempts,
            next_attempt_at: parse_ts(&r.next_attempt_at)?,
            last_error: r.last_error,
            created_at: parse_ts(&r.created_at)?,
            delivered_at: parse_opt_ts(r.delivered_at.as_deref())?,
        })
    }
}

/// Queues the effects of one project change. The key names the project version
/// and position, so the same change can never be queued twice.
pub(crate) async fn enqueue(
    conn: &mut AnyConnection,
    project: ProjectId,
    version: i64,
    effects: &[Effect],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    for (i, effect) in effects.iter().enumerate() {
        sqlx::query(
            "INSERT INTO outbox (id, project_id, kind, payload, idempotency_key, status, attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6)",
        )
        .bind(OutboxId::new().to_string())
        .bind(project.to_string())
        .bind(effect.kind())
        .bind(to_json(effect))
        .bind(format!("{project}/v{version}/{i}/{}", effect.kind()))
        .bind(ts(at))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Outbox entries in delivery order, optionally narrowed by status and project.
    pub async fn list_outbox(
        &self,
        status: Option<OutboxStatus>,
        project: Option<ProjectId>,
        limit: u32,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT seq, id, project_id, kind, payload, idempotency_key, status, attempts, next_attempt_at, last_error, created_at, delivered_at
             FROM outbox WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR project_id = $2)
             ORDER BY seq LIMIT $3",
        )
        .bind(status.map(|s| s.to_string()))
        .bind(project.map(|p| p.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(OutboxEntry::try_from).collect()
    }
}

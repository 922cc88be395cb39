//! Audit events: appended inside the transaction of the change they record.

use sqlx::{AnyConnection, FromRow};
use time::OffsetDateTime;

use super::codec::{from_json, parse_col, parse_opt_col, parse_ts, ts};
use super::{Store, StoreError};
use crate::domain::actor::Actor;
use crate::domain::audit::{AuditEvent, EntityKind};
use crate::domain::ids::AuditId;

/// One audit event to write.
pub(crate) struct AuditEntry<'a> {
    pub entity: EntityKind,
    pub entity_id: String,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub details: serde_json::Value,
}

impl<'a> AuditEntry<'a> {
    /// An event that changes no state (a record created or edited).
    pub fn change(
        entity: EntityKind,
        entity_id: impl ToString,
        actor: &'a Actor,
        action: &'a str,
    ) -> Self {
        Self {
            entity,
            entity_id: entity_id.to_string(),
            actor,
            action,
            from: None,
            to: None,
            reason: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }
}

pub(crate) async fn append(
    conn: &mut AnyConnection,
    entry: AuditEntry<'_>,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_events (id, entity, entity_id, actor_kind, actor_label, actor_contact, action, from_state, to_state, reason, details, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(AuditId::new().to_string())
    .bind(entry.entity.to_string())
    .bind(entry.entity_id)
    .bind(entry.actor.kind_name())
    .bind(entry.actor.label().to_owned())
    .bind(entry.actor.contact().map(|c| c.to_string()))
    .bind(entry.action.to_owned())
    .bind(entry.from.map(str::to_owned))
    .bind(entry.to.map(str::to_owned))
    .bind(entry.reason.map(str::to_owned))
    .bind(entry.details.to_string())
    .bind(ts(at))
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(FromRow)]
struct AuditRow {
    id: String,
    entity: String,
    entity_id: String,
    actor_kind: String,
    actor_label: String,
    actor_contact: Option<String>,
    action: String,
    from_state: Option<String>,
    to_state: Option<String>,
    reason: Option<String>,
    details: String,
    at: String,
}

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;
    fn try_from(r: AuditRow) -> Result<Self, StoreError> {
        Ok(AuditEvent {
            id: parse_col("audit_events.id", &r.id)?,
            entity: parse_col("audit_events.entity", &r.entity)?,
            entity_id: r.entity_id,
            actor_kind: r.actor_kind,
            actor_label: r.actor_label,
            actor_contact: parse_opt_col("audit_events.actor_contact", r.actor_contact.as_deref())?,
            action: r.action,
            from_state: r.from_state,
            to_state: r.to_state,
            reason: r.reason,
            details: from_json("audit_events.details", &r.details)?,
            at: parse_ts(&r.at)?,
        })
    }
}

impl Store {
    /// The trail of one entity, oldest first.
    pub async fn audit_trail(
        &self,
        entity: EntityKind,
        entity_id: &str,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, entity, entity_id, actor_kind, actor_label, actor_contact, action, from_state, to_state, reason, details, at
             FROM audit_events WHERE entity = $1 AND entity_id = $2 ORDER BY id",
        )
        .bind(entity.to_string())
        .bind(entity_id.to_owned())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(AuditEvent::try_from).collect()
    }

    /// The newest events across everything, newest first, paged by id.
    pub async fn audit_recent(
        &self,
        before: Option<AuditId>,
        limit: u32,
    ) -> Result<Vec<AuditEvent>, StoreError> {
        let rows: Vec<AuditRow> = sqlx::query_as(
            "SELECT id, entity, entity_id, actor_kind, actor_label, actor_contact, action, from_state, to_state, reason, details, at
             FROM audit_events WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(before.map(|b| b.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(AuditEvent::try_from).collect()
    }
}

//! Audit events: appended inside the transaction of the change they record,
//! and sealed into the hub's hash chain as that transaction commits. Sealing
//! last, under the chain head's lock, keeps the lock short and means no
//! transaction waits for another lock while holding it (no deadlocks).

use sqlx::{AnyConnection, FromRow};
use time::OffsetDateTime;

use super::codec::{from_json, parse_col, parse_opt_col, parse_ts, ts};
use super::{Backend, Store, StoreError};
use crate::domain::actor::Actor;
use crate::domain::audit::{
    AuditEvent, ChainBreak, ChainCheck, ChainHead, EntityKind, StoredEvent, chain_hash,
};
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

/// Writes the event, and notes it in the connection's `audit_pending`
/// table (temporary, so no other connection sees it) for [`seal`].
pub(crate) async fn append(
    conn: &mut AnyConnection,
    entry: AuditEntry<'_>,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let event = StoredEvent {
        id: AuditId::new().to_string(),
        entity: entry.entity.to_string(),
        entity_id: entry.entity_id,
        actor_kind: entry.actor.kind_name().to_owned(),
        actor_label: entry.actor.label().to_owned(),
        actor_contact: entry.actor.contact().map(|c| c.to_string()),
        action: entry.action.to_owned(),
        from_state: entry.from.map(str::to_owned),
        to_state: entry.to.map(str::to_owned),
        reason: entry.reason.map(str::to_owned),
        details: entry.details.to_string(),
        at: ts(at),
    };
    sqlx::query(
        "INSERT INTO audit_events (id, entity, entity_id, actor_kind, actor_label, actor_contact, action, from_state, to_state, reason, details, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(event.id.clone())
    .bind(event.entity.clone())
    .bind(event.entity_id.clone())
    .bind(event.actor_kind.clone())
    .bind(event.actor_label.clone())
    .bind(event.actor_contact.clone())
    .bind(event.action.clone())
    .bind(event.from_state.clone())
    .bind(event.to_state.clone())
    .bind(event.reason.clone())
    .bind(event.details.clone())
    .bind(event.at.clone())
    .execute(&mut *conn)
    .await?;
    sqlx::query("INSERT INTO audit_pending (id, body) VALUES ($1, $2)")
        .bind(event.id.clone())
        .bind(event.canonical())
        .execute(conn)
        .await?;
    Ok(())
}

/// Chains the events this transaction appended, just before it commits.
pub(crate) async fn seal(conn: &mut AnyConnection, backend: Backend) -> Result<(), StoreError> {
    let pending: Vec<(String, String)> =
        sqlx::query_as("SELECT id, body FROM audit_pending ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
    if pending.is_empty() {
        return Ok(());
    }
    let lock = match backend {
        Backend::Sqlite => "SELECT seq, hash FROM audit_head WHERE id = 1",
        Backend::Postgres => "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
    };
    let (mut seq, mut prev): (i64, String) = sqlx::query_as(lock).fetch_one(&mut *conn).await?;
    for (id, body) in pending {
        seq += 1;
        let hash = chain_hash(&prev, seq, &body);
        sqlx::query(
            "UPDATE audit_events SET chain_seq = $1, prev_hash = $2, hash = $3 WHERE id = $4",
        )
        .bind(seq)
        .bind(prev)
        .bind(hash.clone())
        .bind(id)
        .execute(&mut *conn)
        .await?;
        prev = hash;
    }
    sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
        .bind(seq)
        .bind(prev)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM audit_pending")
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(FromRow)]
struct AuditRow {
    #[sqlx(flatten)]
    event: EventColumns,
    chain_seq: Option<i64>,
    hash: Option<String>,
}

const AUDIT_COLUMNS: &str = "id, entity, entity_id, actor_kind, actor_label, actor_contact, action, from_state, to_state, reason, details, at, chain_seq, hash";

impl TryFrom<AuditRow> for AuditEvent {
    type Error = StoreError;
    fn try_from(row: AuditRow) -> Result<Self, StoreError> {
        let r = row.event;
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
            chain_seq: row.chain_seq,
            hash: row.hash,
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
        let rows: Vec<AuditRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE entity = $1 AND entity_id = $2 ORDER BY id"
        )))
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
        let rows: Vec<AuditRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {AUDIT_COLUMNS} FROM audit_events WHERE ($1 IS NULL OR id < $1) ORDER BY id DESC LIMIT $2"
        )))
        .bind(before.map(|b| b.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(AuditEvent::try_from).collect()
    }
}

/// An event's columns as stored, the text its hash covers.
#[derive(FromRow)]
struct EventColumns {
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

impl From<EventColumns> for StoredEvent {
    fn from(r: EventColumns) -> Self {
        StoredEvent {
            id: r.id,
            entity: r.entity,
            entity_id: r.entity_id,
            actor_kind: r.actor_kind,
            actor_label: r.actor_label,
            actor_contact: r.actor_contact,
            action: r.action,
            from_state: r.from_state,
            to_state: r.to_state,
            reason: r.reason,
            details: r.details,
            at: r.at,
        }
    }
}

const EVENT_COLUMNS: &str = "id, entity, entity_id, actor_kind, actor_label, actor_contact, action, from_state, to_state, reason, details, at";

/// A sealed event read for a chain check, a page at a time.
#[derive(FromRow)]
struct ChainRow {
    #[sqlx(flatten)]
    event: EventColumns,
    chain_seq: i64,
    prev_hash: String,
    hash: String,
}

const CHAIN_PAGE: i64 = 1000;

/// What `ssot audit verify` found.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ChainReport {
    pub events: u64,
    pub head: ChainHead,
    pub first_break: Option<ChainBreak>,
}

impl Store {
    /// The chain's newest event.
    pub async fn audit_head(&self) -> Result<ChainHead, StoreError> {
        let (seq, hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(&self.pool)
                .await?;
        Ok(ChainHead { seq, hash })
    }

    /// Recomputes the whole chain and reports the first event that was
    /// edited, inserted or deleted, reading a page of events at a time.
    pub async fn verify_audit_chain(
        &self,
        mut progress: impl FnMut(u64),
    ) -> Result<ChainReport, StoreError> {
        let head = self.audit_head().await?;
        let mut check = ChainCheck::default();
        let unsealed: Option<(String,)> =
            sqlx::query_as("SELECT id FROM audit_events WHERE hash IS NULL ORDER BY id LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
        let mut after = 0i64;
        loop {
            let rows: Vec<ChainRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {EVENT_COLUMNS}, chain_seq, prev_hash, hash
                 FROM audit_events WHERE chain_seq > $1 ORDER BY chain_seq LIMIT $2"
            )))
            .bind(after)
            .bind(CHAIN_PAGE)
            .fetch_all(&self.pool)
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.chain_seq;
            for r in rows {
                let (seq, prev, hash) = (r.chain_seq, r.prev_hash, r.hash);
                check.next(&r.event.into(), seq, &prev, &hash);
            }
            progress(check.checked);
        }
        check.finish(&head);
        let first_break = check
            .first_break
            .or(unsealed.map(|(id,)| ChainBreak::Unsealed { id }));
        Ok(ChainReport {
            events: check.checked,
            head,
            first_break,
        })
    }

    /// Seals events written before the chain existed (an older database),
    /// once, when the chain is still empty.
    pub(crate) async fn seal_legacy_events(&self) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let (seq,): (i64,) = sqlx::query_as("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_one(&mut *tx)
            .await?;
        if seq > 0 {
            return Ok(0);
        }
        let rows: Vec<EventColumns> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM audit_events WHERE hash IS NULL ORDER BY id"
        )))
        .fetch_all(&mut *tx)
        .await?;
        let count = rows.len() as u64;
        for r in rows {
            let event = StoredEvent::from(r);
            sqlx::query("INSERT INTO audit_pending (id, body) VALUES ($1, $2)")
                .bind(event.id.clone())
                .bind(event.canonical())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(count)
    }
}

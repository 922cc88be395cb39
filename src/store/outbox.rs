//! The outbox: side effects written in the same transaction as the change that
//! asks for them, so none is lost if the process dies before delivering it.

use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use time::OffsetDateTime;

use super::codec::{from_json, now, parse_col, parse_opt_col, parse_opt_ts, parse_ts, to_json, ts};
use super::{Store, StoreError};
use crate::domain::ids::{ContactId, OutboxId, ProjectId};
use crate::domain::lifecycle::{Effect, Lane};
use strum::VariantArray;

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
    /// Claimed by a worker under a lease; taken over if the lease runs out.
    Delivering,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub id: OutboxId,
    /// Delivery order within a project.
    pub seq: i64,
    pub project_id: Option<ProjectId>,
    /// For changes of a contact outside any project (an expert's vetting).
    pub contact_id: Option<ContactId>,
    pub kind: String,
    /// The connector that delivers it; a project's entries in one lane go in order.
    pub lane: Lane,
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
    /// The worker that delivered it.
    pub delivered_by: Option<String>,
}

impl OutboxEntry {
    /// The effect, decoded.
    pub fn decode(&self) -> Result<Effect, StoreError> {
        serde_json::from_value(self.effect.clone())
            .map_err(|e| StoreError::Corrupt(format!("outbox {}: {e}", self.id)))
    }
}

const OUTBOX_COLUMNS: &str = "seq, id, project_id, contact_id, kind, lane, payload, idempotency_key, status, attempts, next_attempt_at, last_error, created_at, delivered_at, delivered_by";

#[derive(FromRow)]
struct OutboxRow {
    seq: i64,
    id: String,
    project_id: Option<String>,
    contact_id: Option<String>,
    kind: String,
    lane: String,
    payload: String,
    idempotency_key: String,
    status: String,
    attempts: i64,
    next_attempt_at: String,
    last_error: Option<String>,
    created_at: String,
    delivered_at: Option<String>,
    delivered_by: Option<String>,
}

impl TryFrom<OutboxRow> for OutboxEntry {
    type Error = StoreError;
    fn try_from(r: OutboxRow) -> Result<Self, StoreError> {
        Ok(OutboxEntry {
            id: parse_col("outbox.id", &r.id)?,
            seq: r.seq,
            project_id: parse_opt_col("outbox.project_id", r.project_id.as_deref())?,
            contact_id: parse_opt_col("outbox.contact_id", r.contact_id.as_deref())?,
            kind: r.kind,
            lane: parse_col("outbox.lane", &r.lane)?,
            effect: from_json("outbox.payload", &r.payload)?,
            idempotency_key: r.idempotency_key,
            status: parse_col("outbox.status", &r.status)?,
            attempts: r.attempts,
            next_attempt_at: parse_ts(&r.next_attempt_at)?,
            last_error: r.last_error,
            created_at: parse_ts(&r.created_at)?,
            delivered_at: parse_opt_ts(r.delivered_at.as_deref())?,
            delivered_by: r.delivered_by,
        })
    }
}

/// Whose entries keep their order among themselves.
enum Scope {
    Project(ProjectId),
    Contact(ContactId),
}

/// Inserts one pending entry under `key`.
async fn insert_entry(
    conn: &mut AnyConnection,
    id: OutboxId,
    scope: &Scope,
    effect: &Effect,
    key: String,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let (project, contact, scope) = match scope {
        Scope::Project(p) => (Some(p.to_string()), None, p.to_string()),
        Scope::Contact(c) => (None, Some(c.to_string()), format!("contact:{c}")),
    };
    sqlx::query(
        "INSERT INTO outbox (id, project_id, contact_id, scope, kind, lane, payload, idempotency_key, status, attempts, next_attempt_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9, $9)",
    )
    .bind(id.to_string())
    .bind(project)
    .bind(contact)
    .bind(scope)
    .bind(effect.kind())
    .bind(effect.lane().to_string())
    .bind(to_json(effect))
    .bind(key)
    .bind(ts(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
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
        let key = format!("{project}/v{version}/{i}/{}", effect.kind());
        insert_entry(
            conn,
            OutboxId::new(),
            &Scope::Project(project),
            effect,
            key,
            at,
        )
        .await?;
    }
    Ok(())
}

/// Queues one effect of a project that is not a transition's (a helpdesk
/// message to mirror), under a key that names its cause.
pub(crate) async fn enqueue_keyed(
    conn: &mut AnyConnection,
    project: ProjectId,
    effect: &Effect,
    cause: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let key = format!("{project}/{cause}/{}", effect.kind());
    insert_entry(
        conn,
        OutboxId::new(),
        &Scope::Project(project),
        effect,
        key,
        at,
    )
    .await
}

/// Queues effects of a contact that concern no project (an expert's record in
/// the CRM). They keep their order per contact and lane, as a project's do.
pub(crate) async fn enqueue_for_contact(
    conn: &mut AnyConnection,
    contact: ContactId,
    effects: &[Effect],
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    for effect in effects {
        let id = OutboxId::new();
        let key = format!("contact/{contact}/{id}/{}", effect.kind());
        insert_entry(conn, id, &Scope::Contact(contact), effect, key, at).await?;
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
        let rows: Vec<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE ($1 IS NULL OR status = $1) AND ($2 IS NULL OR project_id = $2)
             ORDER BY seq LIMIT $3"
        )))
        .bind(status.map(|s| s.to_string()))
        .bind(project.map(|p| p.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(OutboxEntry::try_from).collect()
    }
}

/// Entries that may be claimed now: pending and due, or delivering with a lease
/// that ran out (its worker died). An entry waits while an earlier entry of the
/// same scope (project, or contact) and lane is not delivered, so effects keep
/// their order. Access changes are the exception: they wait only for earlier
/// access changes and the tracker project still on their way, never for a
/// failed entry or a task move stuck behind one, so a blocked expert does not
/// keep the tracker because a status move failed for good. Each applies the
/// project's current state when delivered, so this cannot reorder the outcome.
const CLAIMABLE: &str = "((o.status = 'pending' AND o.next_attempt_at <= $3) OR (o.status = 'delivering' AND o.lease_until < $3))
      AND CASE WHEN o.kind IN ('tracker_grant_access', 'tracker_revoke_access', 'tracker_revoke_former_account')
          THEN NOT EXISTS (SELECT 1 FROM outbox p WHERE p.scope = o.scope AND p.lane = o.lane AND p.seq < o.seq
                           AND p.status IN ('pending', 'delivering')
                           AND p.kind IN ('tracker_grant_access', 'tracker_revoke_access', 'tracker_revoke_former_account', 'tracker_create_project'))
          ELSE NOT EXISTS (SELECT 1 FROM outbox p WHERE p.scope = o.scope AND p.lane = o.lane AND p.seq < o.seq
                           AND p.status <> 'delivered')
      END";

/// Delivery figures of one lane.
#[derive(Clone, Debug)]
pub struct LaneStats {
    pub lane: Lane,
    pub pending: i64,
    pub delivering: i64,
    pub failed: i64,
    pub delivered: i64,
    pub last_delivered_at: Option<OffsetDateTime>,
    pub last_error: Option<String>,
}

/// How a delivery attempt ended, as the worker reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum Settlement {
    Delivered,
    /// Try again at this time.
    Retry {
        at: OffsetDateTime,
        error: String,
    },
    /// Give up until someone retries by hand.
    Fail {
        error: String,
    },
}

impl Store {
    /// Claims the next deliverable entry for `owner` under a lease until
    /// `lease_until`. Exactly one claimant wins an entry: on PostgreSQL other
    /// workers skip the locked row; on SQLite writers are serialised.
    pub async fn claim_outbox(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<OutboxEntry>, StoreError> {
        let pick = match self.backend {
            super::Backend::Sqlite => {
                format!("SELECT o.seq FROM outbox o WHERE {CLAIMABLE} ORDER BY o.seq LIMIT 1")
            }
            super::Backend::Postgres => {
                format!(
                    "SELECT o.seq FROM outbox o WHERE {CLAIMABLE} ORDER BY o.seq LIMIT 1 FOR UPDATE OF o SKIP LOCKED"
                )
            }
        };
        let sql = format!(
            "UPDATE outbox SET status = 'delivering', lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
             WHERE seq = ({pick})
               AND ((status = 'pending' AND next_attempt_at <= $3) OR (status = 'delivering' AND lease_until < $3))
             RETURNING {OUTBOX_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        let row: Option<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner.to_owned())
            .bind(ts(lease_until))
            .bind(ts(now))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            tx.commit().await?;
            return Ok(None);
        };
        let seq = row.seq;
        match OutboxEntry::try_from(row) {
            Ok(entry) => {
                tx.commit().await?;
                Ok(Some(entry))
            }
            // An entry that cannot be read would be claimed again after every
            // lease; park it as failed, with the reason, for a person to see.
            Err(error) => {
                sqlx::query("UPDATE outbox SET status = 'failed', last_error = $1, lease_owner = NULL, lease_until = NULL WHERE seq = $2")
                    .bind(format!("unreadable entry: {error}"))
                    .bind(seq)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Err(error)
            }
        }
    }

    /// Records how a claimed delivery ended. Returns false when `owner` no
    /// longer held the lease (another worker took the entry over), in which
    /// case nothing is changed.
    pub async fn settle_outbox(
        &self,
        seq: i64,
        owner: &str,
        outcome: &Settlement,
    ) -> Result<bool, StoreError> {
        let now = ts(now());
        let query = match outcome {
            Settlement::Delivered => sqlx::query(
                "UPDATE outbox SET status = 'delivered', delivered_at = $1, delivered_by = $2, lease_owner = NULL,
                     lease_until = NULL, last_error = NULL, updated_at = $1
                 WHERE seq = $3 AND status = 'delivering' AND lease_owner = $2",
            )
            .bind(now),
            Settlement::Retry { at, .. } => sqlx::query(
                "UPDATE outbox SET status = 'pending', next_attempt_at = $1, last_error = $4, lease_owner = NULL,
                     lease_until = NULL, updated_at = $1
                 WHERE seq = $3 AND status = 'delivering' AND lease_owner = $2",
            )
            .bind(ts(*at)),
            Settlement::Fail { .. } => sqlx::query(
                "UPDATE outbox SET status = 'failed', last_error = $4, lease_owner = NULL, lease_until = NULL, updated_at = $1
                 WHERE seq = $3 AND status = 'delivering' AND lease_owner = $2",
            )
            .bind(now),
        };
        let query = query.bind(owner.to_owned()).bind(seq);
        let query = match outcome {
            Settlement::Delivered => query,
            Settlement::Retry { error, .. } | Settlement::Fail { error } => {
                query.bind(error.clone())
            }
        };
        let mut tx = self.begin_write().await?;
        let done = query.execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Puts a failed entry back in the queue with a fresh set of attempts.
    pub async fn retry_outbox(
        &self,
        id: OutboxId,
        actor: &crate::domain::actor::Actor,
    ) -> Result<OutboxEntry, StoreError> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let row: Option<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = $1, updated_at = $1
             WHERE id = $2 AND status = 'failed' RETURNING {OUTBOX_COLUMNS}"
        )))
        .bind(ts(at))
        .bind(id.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            let exists: Option<(String,)> =
                sqlx::query_as("SELECT status FROM outbox WHERE id = $1")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(match exists {
                None => StoreError::not_found("outbox entry", id),
                Some((status,)) => StoreError::Conflict(format!(
                    "only failed entries can be retried; this one is {status}"
                )),
            });
        };
        let entry = OutboxEntry::try_from(row)?;
        let audit = super::audit::AuditEntry::change(
            crate::domain::audit::EntityKind::Outbox,
            id,
            actor,
            "retry",
        )
        .with_details(serde_json::json!({ "kind": entry.kind, "last_error": entry.last_error }));
        super::audit::append(&mut tx, audit, at).await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(entry)
    }

    pub async fn outbox_entry(&self, id: OutboxId) -> Result<OutboxEntry, StoreError> {
        let row: Option<OutboxRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {OUTBOX_COLUMNS} FROM outbox WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or_else(|| StoreError::not_found("outbox entry", id))?
            .try_into()
    }

    /// Per delivery lane (one per connector): entries in each status, when
    /// the last one was delivered, and the newest failure's message.
    pub async fn lane_stats(&self) -> Result<Vec<LaneStats>, StoreError> {
        let rows: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT lane, status, COUNT(*), MAX(delivered_at) FROM outbox GROUP BY lane, status",
        )
        .fetch_all(&self.pool)
        .await?;
        let failures: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT lane, last_error FROM outbox WHERE status = 'failed' ORDER BY updated_at DESC LIMIT 200",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut stats: Vec<LaneStats> = Lane::VARIANTS
            .iter()
            .map(|&lane| LaneStats {
                lane,
                pending: 0,
                delivering: 0,
                failed: 0,
                delivered: 0,
                last_delivered_at: None,
                last_error: None,
            })
            .collect();
        for (lane, status, count, delivered_at) in rows {
            let Some(s) = stats.iter_mut().find(|s| s.lane.to_string() == lane) else {
                continue;
            };
            match parse_col::<OutboxStatus>("outbox.status", &status)? {
                OutboxStatus::Pending => s.pending = count,
                OutboxStatus::Delivering => s.delivering = count,
                OutboxStatus::Failed => s.failed = count,
                OutboxStatus::Delivered => {
                    s.delivered = count;
                    s.last_delivered_at = parse_opt_ts(delivered_at.as_deref())?;
                }
            }
        }
        for (lane, error) in failures {
            if let Some(s) = stats
                .iter_mut()
                .find(|s| s.lane.to_string() == lane && s.last_error.is_none())
            {
                s.last_error = error;
            }
        }
        Ok(stats)
    }

    /// How many entries are in each status, for health and the connectors view.
    pub async fn outbox_counts(&self) -> Result<Vec<(OutboxStatus, i64)>, StoreError> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM outbox GROUP BY status ORDER BY status")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(|(s, n)| Ok((parse_col("outbox.status", &s)?, n)))
            .collect()
    }
}

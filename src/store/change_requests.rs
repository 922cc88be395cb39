//! Requests to change identity fields, made by the person and decided by
//! staff. An approval applies the change as the approver's, with everything
//! a staff change does, in the same transaction as the decision.

use sqlx::{AnyConnection, FromRow};

use super::audit::{self, AuditEntry};
use super::codec::{now, parse_col, parse_ts, ts};
use super::contacts::{self, ContactChange};
use super::{Store, StoreError};
use crate::domain::actor::Actor;
use crate::domain::audit::EntityKind;
use crate::domain::contact::ContactPatchInput;
use crate::domain::identity::{ChangeRequest, RequestStatus};
use crate::domain::ids::{ChangeRequestId, ContactId};

const COLUMNS: &str = "id, contact_id, changes, reason, status, requested_by, decided_by, decision_comment, created_at, decided_at";

#[derive(FromRow)]
struct Row {
    id: String,
    contact_id: String,
    changes: String,
    reason: Option<String>,
    status: String,
    requested_by: String,
    decided_by: Option<String>,
    decision_comment: Option<String>,
    created_at: String,
    decided_at: Option<String>,
}

impl TryFrom<Row> for ChangeRequest {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(ChangeRequest {
            id: parse_col("contact_change_requests.id", &r.id)?,
            contact_id: parse_col("contact_change_requests.contact_id", &r.contact_id)?,
            changes: serde_json::from_str(&r.changes).map_err(|e| {
                StoreError::Corrupt(format!("contact_change_requests.changes: {e}"))
            })?,
            reason: r.reason,
            status: parse_col("contact_change_requests.status", &r.status)?,
            requested_by: r.requested_by,
            decided_by: r.decided_by,
            decision_comment: r.decision_comment,
            created_at: parse_ts(&r.created_at)?,
            decided_at: r.decided_at.as_deref().map(parse_ts).transpose()?,
        })
    }
}

async fn fetch(conn: &mut AnyConnection, id: ChangeRequestId) -> Result<ChangeRequest, StoreError> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM contact_change_requests WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.ok_or_else(|| StoreError::not_found("change request", id))?
        .try_into()
}

/// The patch a request carries (it was validated when it was made).
fn patch_of(request: &ChangeRequest) -> Result<ContactPatchInput, StoreError> {
    serde_json::from_value(request.changes.clone())
        .map_err(|e| StoreError::Corrupt(format!("change request {}: {e}", request.id)))
}

/// What a decision did: the request, and the change an approval made.
#[derive(Clone, Debug)]
pub struct RequestDecision {
    pub request: ChangeRequest,
    pub change: Option<ContactChange>,
}

impl Store {
    /// Records a request to change `contact`'s fields. `changes` must be a
    /// valid patch of that contact (checked by the caller); one request may
    /// wait per contact.
    pub async fn request_contact_change(
        &self,
        contact: ContactId,
        changes: serde_json::Value,
        reason: Option<&str>,
        actor: &Actor,
    ) -> Result<ChangeRequest, StoreError> {
        let mut tx = self.begin_write().await?;
        contacts::fetch(&mut tx, contact).await?;
        let waiting: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM contact_change_requests WHERE contact_id = $1 AND status = 'pending' LIMIT 1",
        )
        .bind(contact.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id,)) = waiting {
            return Err(StoreError::Conflict(format!(
                "change request {id} is still waiting for the agency; one at a time"
            )));
        }
        let id = ChangeRequestId::new();
        let at = now();
        sqlx::query(
            "INSERT INTO contact_change_requests (id, contact_id, changes, reason, status, requested_by, created_at)
             VALUES ($1, $2, $3, $4, 'pending', $5, $6)",
        )
        .bind(id.to_string())
        .bind(contact.to_string())
        .bind(changes.to_string())
        .bind(reason.map(str::to_owned))
        .bind(actor.label().to_owned())
        .bind(ts(at))
        .execute(&mut *tx)
        .await?;
        let entry = AuditEntry {
            reason,
            ..AuditEntry::change(EntityKind::Contact, contact, actor, "request_change")
        }
        .with_details(serde_json::json!({ "request": id, "changes": changes }));
        audit::append(&mut tx, entry, at).await?;
        let request = fetch(&mut tx, id).await?;
        tx.commit().await?;
        Ok(request)
    }

    /// Requests of one contact (or all), newest first, optionally by status.
    pub async fn change_requests(
        &self,
        contact: Option<ContactId>,
        status: Option<RequestStatus>,
        limit: u32,
    ) -> Result<Vec<ChangeRequest>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM contact_change_requests
             WHERE ($1 IS NULL OR contact_id = $1) AND ($2 IS NULL OR status = $2)
             ORDER BY id DESC LIMIT $3"
        )))
        .bind(contact.map(|c| c.to_string()))
        .bind(status.map(|s| s.to_string()))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(ChangeRequest::try_from).collect()
    }

    pub async fn change_request(&self, id: ChangeRequestId) -> Result<ChangeRequest, StoreError> {
        let mut conn = self.pool.acquire().await?;
        fetch(&mut conn, id).await
    }

    /// Approves (applying the change as `actor`'s) or rejects a pending request.
    pub async fn decide_change_request(
        &self,
        id: ChangeRequestId,
        approve: bool,
        comment: Option<&str>,
        actor: &Actor,
    ) -> Result<RequestDecision, StoreError> {
        let mut tx = self.begin_write().await?;
        let request = fetch(&mut tx, id).await?;
        let status = if approve {
            RequestStatus::Approved
        } else {
            RequestStatus::Rejected
        };
        // The status condition makes one of two concurrent decisions lose.
        let decided = sqlx::query(
            "UPDATE contact_change_requests SET status = $1, decided_by = $2, decision_comment = $3, decided_at = $4
             WHERE id = $5 AND status = 'pending'",
        )
        .bind(status.to_string())
        .bind(actor.label().to_owned())
        .bind(comment.map(str::to_owned))
        .bind(ts(now()))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if decided.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "the request is `{}`, not waiting for a decision",
                request.status
            )));
        }
        let change = if approve {
            let patch = patch_of(&request)?;
            Some(
                contacts::apply_change(
                    &mut tx,
                    self.backend,
                    request.contact_id,
                    &patch,
                    actor,
                    true,
                )
                .await?,
            )
        } else {
            None
        };
        let entry = AuditEntry {
            reason: comment,
            ..AuditEntry::change(
                EntityKind::Contact,
                request.contact_id,
                actor,
                if approve {
                    "approve_change"
                } else {
                    "reject_change"
                },
            )
        }
        .with_details(serde_json::json!({ "request": id }));
        audit::append(&mut tx, entry, now()).await?;
        let request = fetch(&mut tx, id).await?;
        tx.commit().await?;
        if let Some(change) = &change {
            self.after_contact_change(change);
        }
        Ok(RequestDecision { request, change })
    }
}

//! Uploaded documents: metadata, the verification queue (claimed under a lease,
//! like the outbox), the agent's reports, the review queue, and what a decision
//! does to the project or expert it concerns.

use sqlx::{AnyConnection, FromRow};
use time::{Date, OffsetDateTime};

use super::audit::{self, AuditEntry};
use super::codec::{from_opt_json, now, parse_col, parse_ts, to_json, ts};
use super::{Backend, Store, StoreError, experts, projects, tickets};
use crate::domain::actor::Actor;
use crate::domain::audit::EntityKind;
use crate::domain::checks::Subject;
use crate::domain::document::{
    Document, DocumentStatus, DocumentSubject, DocumentType, StoredUsage, UploadQuota,
};
use crate::domain::expert::{VettingAction, VettingState};
use crate::domain::ids::{ContactId, DocumentId, ProjectId};
use crate::domain::lifecycle::Transition;
use crate::domain::validation::Reason;
use crate::domain::verification::{Outcome, Report};

const DOCUMENT_COLUMNS: &str = "id, subject_kind, subject_id, doc_type, filename, content_type, size_bytes, sha256, status, \
          uploaded_by, expires_on, decided_by, decision_comment, attempts, created_at";

#[derive(FromRow)]
struct DocumentRow {
    id: String,
    subject_kind: String,
    subject_id: String,
    doc_type: String,
    filename: String,
    content_type: String,
    size_bytes: i64,
    sha256: String,
    status: String,
    uploaded_by: String,
    expires_on: Option<String>,
    decided_by: Option<String>,
    decision_comment: Option<String>,
    attempts: i64,
    created_at: String,
}

impl TryFrom<DocumentRow> for Document {
    type Error = StoreError;
    fn try_from(r: DocumentRow) -> Result<Self, StoreError> {
        let subject = match r.subject_kind.as_str() {
            "project" => {
                DocumentSubject::Project(parse_col("documents.subject_id", &r.subject_id)?)
            }
            "expert" => DocumentSubject::Expert(parse_col("documents.subject_id", &r.subject_id)?),
            other => {
                return Err(StoreError::Corrupt(format!(
                    "documents.subject_kind `{other}`"
                )));
            }
        };
        Ok(Document {
            id: parse_col("documents.id", &r.id)?,
            subject,
            doc_type: DocumentType::parse("doc_type", &r.doc_type)
                .map_err(|e| StoreError::Corrupt(e.message))?,
            filename: r.filename,
            content_type: r.content_type,
            size_bytes: u64::try_from(r.size_bytes).unwrap_or_default(),
            sha256: r.sha256,
            status: parse_col("documents.status", &r.status)?,
            uploaded_by: r.uploaded_by,
            expires_on: r.expires_on.as_deref().map(parse_date).transpose()?,
            decided_by: r.decided_by,
            decision_comment: r.decision_comment,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            created_at: parse_ts(&r.created_at)?,
        })
    }
}

fn parse_date(s: &str) -> Result<Date, StoreError> {
    Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|e| StoreError::Corrupt(format!("date `{s}`: {e}")))
}

fn date_text(d: Date) -> String {
    d.to_string()
}

pub(crate) fn subject_columns(subject: DocumentSubject) -> (&'static str, String) {
    match subject {
        DocumentSubject::Project(p) => ("project", p.to_string()),
        DocumentSubject::Expert(e) => ("expert", e.to_string()),
    }
}

/// A document to record, already stored by its hash.
#[derive(Clone, Debug)]
pub struct NewDocument {
    pub subject: DocumentSubject,
    pub doc_type: DocumentType,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: u64,
    pub sha256: String,
}

/// A document waiting for a person, with what the agent found.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ReviewItem {
    pub document: Document,
    pub report: Option<Report>,
    /// The extracted text, page by page.
    pub pages: Vec<String>,
}

/// What a decision on a document did.
#[derive(Clone, Debug)]
pub struct DecisionOutcome {
    pub document: Document,
    /// Lifecycle transitions it caused (activation, block).
    pub transitions: Vec<(ProjectId, Transition)>,
    /// An expert vetting change it caused.
    pub vetting: Option<(VettingState, VettingState)>,
}

async fn fetch(conn: &mut AnyConnection, id: DocumentId) -> Result<Document, StoreError> {
    let row: Option<DocumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE id = $1"
    )))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await?;
    row.ok_or_else(|| StoreError::not_found("document", id))?
        .try_into()
}

async fn usage(
    conn: &mut AnyConnection,
    subject: DocumentSubject,
) -> Result<StoredUsage, StoreError> {
    let (kind, id) = subject_columns(subject);
    let (files, bytes): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM documents WHERE subject_kind = $1 AND subject_id = $2",
    )
    .bind(kind)
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(StoredUsage {
        files: u64::try_from(files).unwrap_or_default(),
        bytes: u64::try_from(bytes).unwrap_or_default(),
    })
}

/// Holds the subject's row until commit (PostgreSQL; SQLite has one writer).
async fn lock_subject(
    conn: &mut AnyConnection,
    backend: Backend,
    subject: DocumentSubject,
) -> Result<(), StoreError> {
    if backend == Backend::Sqlite {
        return Ok(());
    }
    let (sql, id) = match subject {
        DocumentSubject::Project(p) => (
            "SELECT id FROM projects WHERE id = $1 FOR UPDATE",
            p.to_string(),
        ),
        DocumentSubject::Expert(e) => (
            "SELECT id FROM contacts WHERE id = $1 FOR UPDATE",
            e.to_string(),
        ),
    };
    sqlx::query(sql).bind(id).execute(conn).await?;
    Ok(())
}

/// The credentials an expert must hold and where each stands.
pub(crate) async fn set_expert_document(
    conn: &mut AnyConnection,
    expert: ContactId,
    doc_type: &DocumentType,
    status: DocumentStatus,
    actor: &Actor,
    comment: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM expert_documents WHERE expert_id = $1 AND doc_type = $2")
        .bind(expert.to_string())
        .bind(doc_type.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO expert_documents (expert_id, doc_type, status, decided_by, comment, decided_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(expert.to_string())
        .bind(doc_type.to_string())
        .bind(status.as_str())
        .bind(actor.label().to_owned())
        .bind(comment.map(str::to_owned))
        .bind(ts(now()))
        .execute(conn)
        .await?;
    Ok(())
}

async fn required_status(
    conn: &mut AnyConnection,
    subject: DocumentSubject,
    doc_type: &DocumentType,
) -> Result<Option<DocumentStatus>, StoreError> {
    let (sql, id) = match subject {
        DocumentSubject::Project(p) => (
            "SELECT status FROM project_documents WHERE project_id = $1 AND doc_type = $2",
            p.to_string(),
        ),
        DocumentSubject::Expert(e) => (
            "SELECT status FROM expert_documents WHERE expert_id = $1 AND doc_type = $2",
            e.to_string(),
        ),
    };
    let row: Option<(String,)> = sqlx::query_as(sql)
        .bind(id)
        .bind(doc_type.to_string())
        .fetch_optional(conn)
        .await?;
    row.map(|(s,)| parse_col("status", &s)).transpose()
}

impl Store {
    /// Records an upload and queues it for verification. The same bytes for the
    /// same subject return the document already recorded (`false`).
    pub async fn insert_document(
        &self,
        new: NewDocument,
        quota: UploadQuota,
        actor: &Actor,
    ) -> Result<(Document, bool), StoreError> {
        let (kind, subject_id) = subject_columns(new.subject);
        let mut tx = self.begin_write().await?;
        let existing: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM documents WHERE subject_kind = $1 AND subject_id = $2 AND sha256 = $3",
        )
        .bind(kind)
        .bind(subject_id.clone())
        .bind(new.sha256.clone())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id,)) = existing {
            let doc = fetch(&mut tx, parse_col("documents.id", &id)?).await?;
            tx.commit().await?;
            return Ok((doc, false));
        }
        // Locking the subject makes concurrent uploads count one another.
        lock_subject(&mut tx, self.backend, new.subject).await?;
        quota.check(usage(&mut tx, new.subject).await?, new.size_bytes)?;
        let id = DocumentId::new();
        let at = ts(now());
        sqlx::query(
            "INSERT INTO documents (id, subject_kind, subject_id, doc_type, filename, content_type, size_bytes, sha256, status, uploaded_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10, $10)",
        )
        .bind(id.to_string())
        .bind(kind)
        .bind(subject_id)
        .bind(new.doc_type.to_string())
        .bind(new.filename.clone())
        .bind(new.content_type.clone())
        .bind(i64::try_from(new.size_bytes).unwrap_or(i64::MAX))
        .bind(new.sha256.clone())
        .bind(actor.label().to_owned())
        .bind(at.clone())
        .execute(&mut *tx)
        .await?;
        let entry = AuditEntry { to: Some("queued"), ..AuditEntry::change(EntityKind::Document, id, actor, "upload") }
            .with_details(serde_json::json!({ "doc_type": new.doc_type, "sha256": new.sha256, "size_bytes": new.size_bytes, "subject": new.subject }));
        audit::append(&mut tx, entry, now()).await?;
        let doc = fetch(&mut tx, id).await?;
        tx.commit().await?;
        self.verification_signal.notify_waiters();
        Ok((doc, true))
    }

    /// What a subject stores already, for the quota.
    pub async fn upload_usage(&self, subject: DocumentSubject) -> Result<StoredUsage, StoreError> {
        let mut conn = self.pool.acquire().await?;
        usage(&mut conn, subject).await
    }

    pub async fn document(&self, id: DocumentId) -> Result<Document, StoreError> {
        let mut conn = self.pool.acquire().await?;
        fetch(&mut conn, id).await
    }

    /// A document with its report and extracted text.
    pub async fn document_report(&self, id: DocumentId) -> Result<ReviewItem, StoreError> {
        let document = self.document(id).await?;
        let (report, pages): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT report, pages FROM documents WHERE id = $1")
                .bind(id.to_string())
                .fetch_one(&self.pool)
                .await?;
        Ok(ReviewItem {
            document,
            report: from_opt_json("documents.report", report.as_deref())?,
            pages: from_opt_json("documents.pages", pages.as_deref())?.unwrap_or_default(),
        })
    }

    /// The documents uploaded for a subject, oldest first.
    pub async fn documents_of(
        &self,
        subject: DocumentSubject,
    ) -> Result<Vec<Document>, StoreError> {
        let (kind, id) = subject_columns(subject);
        let rows: Vec<DocumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE subject_kind = $1 AND subject_id = $2 ORDER BY id"
        )))
        .bind(kind)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Document::try_from).collect()
    }

    /// Claims the oldest queued document for verification under a lease; a
    /// worker that dies leaves it to be claimed again after the lease.
    pub async fn claim_document(
        &self,
        owner: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<Document>, StoreError> {
        let pick = match self.backend {
            Backend::Sqlite => {
                "SELECT id FROM documents WHERE status = 'queued' AND (lease_until IS NULL OR lease_until < $3) ORDER BY created_at, id LIMIT 1"
            }
            Backend::Postgres => {
                "SELECT id FROM documents WHERE status = 'queued' AND (lease_until IS NULL OR lease_until < $3) ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED"
            }
        };
        let sql = format!(
            "UPDATE documents SET lease_owner = $1, lease_until = $2, attempts = attempts + 1, updated_at = $3
             WHERE id = ({pick}) AND status = 'queued' AND (lease_until IS NULL OR lease_until < $3)
             RETURNING {DOCUMENT_COLUMNS}"
        );
        let mut tx = self.begin_write().await?;
        let row: Option<DocumentRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(owner.to_owned())
            .bind(ts(lease_until))
            .bind(ts(now))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        row.map(Document::try_from).transpose()
    }

    /// Extends a claim while its worker is still verifying; `false` when the
    /// claim was lost (taken over, or the document decided meanwhile).
    pub async fn renew_document_lease(
        &self,
        id: DocumentId,
        owner: &str,
        lease_until: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin_write().await?;
        let renewed = sqlx::query(
            "UPDATE documents SET lease_until = $1 WHERE id = $2 AND status = 'queued' AND lease_owner = $3",
        )
        .bind(ts(lease_until))
        .bind(id.to_string())
        .bind(owner.to_owned())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// The CRM record a document of `subject` must match.
    pub async fn subject_record(&self, subject: DocumentSubject) -> Result<Subject, StoreError> {
        let contact = match subject {
            DocumentSubject::Project(p) => self.contact(self.project(p).await?.client_id).await?,
            DocumentSubject::Expert(e) => self.contact(e).await?,
        };
        let mut record = Subject::new();
        record.insert("full_name".into(), contact.full_name);
        if let Some(l) = contact.legal_name {
            record.insert("legal_name".into(), l);
        }
        if let Some(t) = contact.tax_id {
            record.insert("tax_id".into(), t.as_str().to_owned());
        }
        record.insert("email".into(), contact.email.to_string());
        Ok(record)
    }

    /// Stores the agent's report and acts on its decision, in one transaction.
    /// Nothing happens when `owner` lost the lease to another worker.
    pub async fn complete_verification(
        &self,
        id: DocumentId,
        owner: &str,
        report: &Report,
        pages: &[String],
    ) -> Result<Option<DecisionOutcome>, StoreError> {
        let mut tx = self.begin_write().await?;
        let status = match report.decision {
            Outcome::Approved => DocumentStatus::Approved,
            Outcome::Rejected => DocumentStatus::Rejected,
            Outcome::Review => DocumentStatus::Review,
        };
        let updated = sqlx::query(
            "UPDATE documents SET status = $1, report = $2, pages = $3, expires_on = $4, decided_by = $5, lease_owner = NULL,
                 lease_until = NULL, updated_at = $6
             WHERE id = $7 AND status = 'queued' AND lease_owner = $8",
        )
        .bind(status.as_str())
        .bind(to_json(report))
        .bind(to_json(pages))
        .bind(report.expires_on.map(date_text))
        .bind((status != DocumentStatus::Review).then(|| "agent".to_owned()))
        .bind(ts(now()))
        .bind(id.to_string())
        .bind(owner.to_owned())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Ok(None);
        }
        let details = serde_json::json!({
            "protocol": report.protocol, "model": report.model, "prompt_version": report.prompt_version,
            "tokens": report.tokens, "latency_ms": report.latency_ms, "flags": report.flags,
        });
        let reasons = report.reasons.join("; ");
        let entry = AuditEntry {
            from: Some("queued"),
            to: Some(status.as_str()),
            reason: (!reasons.is_empty()).then_some(reasons.as_str()),
            ..AuditEntry::change(EntityKind::Document, id, &Actor::Agent, "verify")
        }
        .with_details(details);
        audit::append(&mut tx, entry, now()).await?;
        let document = fetch(&mut tx, id).await?;
        let outcome = act(
            &mut tx,
            self.backend,
            &document,
            status,
            &Actor::Agent,
            Some(&report.reasons.join("; ")),
        )
        .await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(Some(outcome))
    }

    /// Documents waiting for the agent and for a person: the two queues.
    pub async fn document_queues(&self) -> Result<(i64, i64), StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT status, COUNT(*) FROM documents WHERE status IN ('queued', 'review') GROUP BY status",
        )
        .fetch_all(&self.pool)
        .await?;
        let count = |s: &str| rows.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
        Ok((count("queued"), count("review")))
    }

    /// Documents waiting for a person, oldest first, with report and text.
    pub async fn review_queue(&self, limit: u32) -> Result<Vec<ReviewItem>, StoreError> {
        let ids: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM documents WHERE status = 'review' ORDER BY updated_at, id LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.push(
                self.document_report(parse_col("documents.id", &id)?)
                    .await?,
            );
        }
        Ok(out)
    }

    /// A person's decision on a document in review: the same effects as the
    /// agent's, audited as theirs. `expires_on` records the validity the
    /// person read (the agent may not have), so the expiry sweep covers it.
    pub async fn decide_review(
        &self,
        id: DocumentId,
        approve: bool,
        comment: Option<&str>,
        expires_on: Option<Date>,
        actor: &Actor,
    ) -> Result<DecisionOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let document = fetch(&mut tx, id).await?;
        if document.status != DocumentStatus::Review {
            return Err(StoreError::Conflict(format!(
                "the document is `{}`, not waiting for review",
                document.status
            )));
        }
        let status = if approve {
            DocumentStatus::Approved
        } else {
            DocumentStatus::Rejected
        };
        // The status condition makes one of two concurrent decisions lose.
        let updated = sqlx::query(
            "UPDATE documents SET status = $1, decided_by = $2, decision_comment = $3, decided_at = $4, updated_at = $4,
                 expires_on = COALESCE($5, expires_on)
             WHERE id = $6 AND status = 'review'",
        )
        .bind(status.as_str())
        .bind(actor.label().to_owned())
        .bind(comment.map(str::to_owned))
        .bind(ts(now()))
        .bind(expires_on.map(date_text))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the document was decided meanwhile".to_owned(),
            ));
        }
        let entry = AuditEntry {
            from: Some("review"),
            to: Some(status.as_str()),
            reason: comment,
            ..AuditEntry::change(EntityKind::Document, id, actor, "review")
        };
        audit::append(&mut tx, entry, now()).await?;
        let document = fetch(&mut tx, id).await?;
        let outcome = act(&mut tx, self.backend, &document, status, actor, comment).await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(outcome)
    }

    /// Sends a document in review, or rejected, back to the agent (after a
    /// protocol was fixed or a model configured). Its earlier report stays in
    /// the audit trail; the new one replaces it when verification finishes.
    pub async fn requeue_document(
        &self,
        id: DocumentId,
        actor: &Actor,
    ) -> Result<Document, StoreError> {
        let mut tx = self.begin_write().await?;
        let document = fetch(&mut tx, id).await?;
        let updated = sqlx::query(
            "UPDATE documents SET status = 'queued', attempts = 0, lease_owner = NULL, lease_until = NULL,
                 decided_by = NULL, decision_comment = NULL, updated_at = $1
             WHERE id = $2 AND status IN ('review', 'rejected')",
        )
        .bind(ts(now()))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "the document is `{}`; only documents in review or rejected are verified again",
                document.status
            )));
        }
        let entry = AuditEntry {
            from: Some(document.status.as_str()),
            to: Some("queued"),
            ..AuditEntry::change(EntityKind::Document, id, actor, "reverify")
        };
        audit::append(&mut tx, entry, now()).await?;
        let document = fetch(&mut tx, id).await?;
        tx.commit().await?;
        self.verification_signal.notify_waiters();
        Ok(document)
    }

    /// Approved credentials whose validity ended before `today`.
    pub async fn expired_documents(&self, today: Date) -> Result<Vec<Document>, StoreError> {
        self.documents_where(
            "status = 'approved' AND expires_on < $1",
            date_text(today),
            None,
        )
        .await
    }

    /// Approved credentials expiring from `today` up to `until`.
    pub async fn expiring_documents(
        &self,
        today: Date,
        until: Date,
    ) -> Result<Vec<Document>, StoreError> {
        self.documents_where(
            "status = 'approved' AND expires_on >= $1 AND expires_on <= $2",
            date_text(today),
            Some(date_text(until)),
        )
        .await
    }

    async fn documents_where(
        &self,
        condition: &str,
        a: String,
        b: Option<String>,
    ) -> Result<Vec<Document>, StoreError> {
        let sql = format!(
            "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE {condition} ORDER BY expires_on, id"
        );
        let mut q = sqlx::query_as::<_, DocumentRow>(sqlx::AssertSqlSafe(sql)).bind(a);
        if let Some(b) = b {
            q = q.bind(b);
        }
        q.fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(Document::try_from)
            .collect()
    }

    /// Marks an approved credential expired and acts as on a withdrawal: the
    /// project's requirement is no longer met (an active project is blocked and
    /// access revoked), or the expert is suspended. Unless a renewal of the
    /// same credential, approved and valid on `today`, already stands in for it.
    pub async fn expire_document(
        &self,
        id: DocumentId,
        today: Date,
    ) -> Result<DecisionOutcome, StoreError> {
        let mut tx = self.begin_write().await?;
        let document = fetch(&mut tx, id).await?;
        if document.status != DocumentStatus::Approved {
            return Err(StoreError::Conflict(format!(
                "the document is `{}`, not approved",
                document.status
            )));
        }
        let why = format!(
            "{} expired on {}",
            document.doc_type,
            document.expires_on.map(date_text).unwrap_or_default()
        );
        let updated = sqlx::query(
            "UPDATE documents SET status = 'expired', updated_at = $1 WHERE id = $2 AND status = 'approved'",
        )
        .bind(ts(now()))
        .bind(id.to_string())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the document changed meanwhile".to_owned(),
            ));
        }
        let entry = AuditEntry {
            from: Some("approved"),
            to: Some("expired"),
            reason: Some(&why),
            ..AuditEntry::change(EntityKind::Document, id, &Actor::Agent, "expire")
        };
        audit::append(&mut tx, entry, now()).await?;
        let document = fetch(&mut tx, id).await?;
        let outcome = if renewed(&mut tx, &document, today).await? {
            DecisionOutcome {
                document,
                transitions: Vec::new(),
                vetting: None,
            }
        } else {
            act(
                &mut tx,
                self.backend,
                &document,
                DocumentStatus::Expired,
                &Actor::Agent,
                Some(&why),
            )
            .await?
        };
        tx.commit().await?;
        self.wake_outbox();
        Ok(outcome)
    }
}

/// What a document's new status means for its subject. For a project: the
/// requirement takes the status, unless a rejection or review would undo an
/// approval another copy already earned (a bad re-upload does not block a
/// project); a rejection tells the client through the helpdesk. For an
/// expert: all credentials approved vets an expert in vetting; an expired
/// credential suspends a vetted one.
async fn act(
    conn: &mut AnyConnection,
    backend: Backend,
    document: &Document,
    status: DocumentStatus,
    actor: &Actor,
    comment: Option<&str>,
) -> Result<DecisionOutcome, StoreError> {
    let mut outcome = DecisionOutcome {
        document: document.clone(),
        transitions: Vec::new(),
        vetting: None,
    };
    let current = required_status(conn, document.subject, &document.doc_type).await?;
    let keeps_approval = current == Some(DocumentStatus::Approved)
        && matches!(status, DocumentStatus::Rejected | DocumentStatus::Review);
    match document.subject {
        DocumentSubject::Project(pid) => {
            let mut project = projects::fetch_for_update(conn, backend, pid).await?;
            if project.state.is_terminal()
                || !project.required_documents.contains(&document.doc_type)
                || keeps_approval
            {
                return Ok(outcome);
            }
            let done = projects::decide_required_document(
                conn,
                backend,
                &mut project,
                &document.doc_type,
                status,
                comment,
                actor,
            )
            .await?;
            outcome.transitions = done.into_iter().map(|t| (pid, t)).collect();
            if status == DocumentStatus::Rejected {
                let subject = format!("Document rejected: {}", document.doc_type);
                let body = format!(
                    "The {} you sent ({}) could not be accepted: {}. Please upload a corrected document.",
                    document.doc_type,
                    document.filename,
                    comment.unwrap_or("see the verification report")
                );
                tickets::open_ticket(conn, pid, subject, body, actor).await?;
            }
        }
        DocumentSubject::Expert(eid) => {
            if keeps_approval {
                return Ok(outcome);
            }
            set_expert_document(conn, eid, &document.doc_type, status, actor, comment).await?;
            outcome.vetting = expert_follow_up(conn, backend, eid, status, comment).await?;
        }
    }
    Ok(outcome)
}

/// Whether another copy of the same credential for the same subject is
/// approved and still valid on `today`: then an old copy's expiry changes nothing.
async fn renewed(
    conn: &mut AnyConnection,
    document: &Document,
    today: Date,
) -> Result<bool, StoreError> {
    let (kind, subject_id) = subject_columns(document.subject);
    let found: Option<(String,)> = sqlx::query_as(
        "SELECT id FROM documents WHERE subject_kind = $1 AND subject_id = $2 AND doc_type = $3 AND id <> $4
             AND status = 'approved' AND (expires_on IS NULL OR expires_on >= $5) LIMIT 1",
    )
    .bind(kind)
    .bind(subject_id)
    .bind(document.doc_type.to_string())
    .bind(document.id.to_string())
    .bind(date_text(today))
    .fetch_optional(conn)
    .await?;
    Ok(found.is_some())
}

/// The types an expert must hold before being vetted.
pub const EXPERT_CREDENTIALS: [&str; 4] = [
    "professional_certificate",
    "identity_confirmation",
    "liability_insurance",
    "expert_agreement",
];

/// Whether every credential an expert must hold is approved.
pub(crate) async fn credentials_complete(
    conn: &mut AnyConnection,
    expert: ContactId,
) -> Result<bool, StoreError> {
    let approved: Vec<(String,)> = sqlx::query_as(
        "SELECT doc_type FROM expert_documents WHERE expert_id = $1 AND status = 'approved'",
    )
    .bind(expert.to_string())
    .fetch_all(&mut *conn)
    .await?;
    Ok(EXPERT_CREDENTIALS
        .iter()
        .all(|t| approved.iter().any(|(a,)| a == t)))
}

async fn expert_follow_up(
    conn: &mut AnyConnection,
    backend: Backend,
    expert: ContactId,
    status: DocumentStatus,
    comment: Option<&str>,
) -> Result<Option<(VettingState, VettingState)>, StoreError> {
    let Some(current) = experts::fetch(conn, backend, expert, false).await? else {
        return Ok(None);
    };
    let action = match (status, current.profile.vetting) {
        (DocumentStatus::Approved, VettingState::Vetting) => credentials_complete(conn, expert)
            .await?
            .then_some(VettingAction::Approve),
        (DocumentStatus::Expired, VettingState::Vetted) => Some(VettingAction::Suspend),
        _ => None,
    };
    let Some(action) = action else {
        return Ok(None);
    };
    let reason = match action {
        VettingAction::Suspend => Some(
            Reason::parse(comment.unwrap_or("a credential expired"))
                .map_err(|e| StoreError::Corrupt(e.message))?,
        ),
        _ => None,
    };
    let change =
        experts::apply_vetting(conn, backend, expert, action, reason, &Actor::Agent).await?;
    Ok(Some((change.change.from, change.change.to)))
}

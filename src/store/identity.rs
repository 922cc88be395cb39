//! What an identity change undoes, in the transaction of the change: approved
//! documents whose rules compared a changed field go back to the agent (their
//! requirement with them, which blocks an active project or suspends a vetted
//! expert), and an expert whose e-mail or Atlassian account changed loses the
//! tracker access granted to the old account and is granted it on the new one.

use sqlx::AnyConnection;

use super::audit::{self, AuditEntry};
use super::codec::{from_opt_json, now, parse_col, ts};
use super::documents::{set_expert_document, subject_columns};
use super::{Backend, StoreError, experts, outbox, projects};
use crate::domain::actor::Actor;
use crate::domain::audit::EntityKind;
use crate::domain::checks::RecordField;
use crate::domain::contact::{Contact, ContactKind};
use crate::domain::document::{DocumentStatus, DocumentSubject, DocumentType};
use crate::domain::expert::{VettingAction, VettingState};
use crate::domain::identity::{IdentityChange, rests_on};
use crate::domain::ids::{DocumentId, ProjectId};
use crate::domain::lifecycle::{Effect, Transition};
use crate::domain::validation::Reason;
use crate::domain::verification::Report;

/// What an identity change re-opened.
#[derive(Clone, Debug, Default)]
pub struct Reopened {
    /// Documents sent back to the agent.
    pub documents: Vec<DocumentId>,
    /// Projects moved because a requirement is open again (blocked).
    pub transitions: Vec<(ProjectId, Transition)>,
    /// The expert's vetting change (suspended until re-verified).
    pub vetting: Option<(VettingState, VettingState)>,
    /// Active projects whose tracker access moves to the new account.
    pub access_moved: Vec<ProjectId>,
}

/// Re-opens what rested on the old values of `changes` (see the module).
pub(crate) async fn reopen(
    conn: &mut AnyConnection,
    backend: Backend,
    before: &Contact,
    changes: &[IdentityChange],
    actor: &Actor,
) -> Result<Reopened, StoreError> {
    let mut out = Reopened::default();
    let fields: Vec<RecordField> = changes
        .iter()
        .filter_map(|c| c.field.record_field())
        .collect();
    let names: Vec<String> = changes.iter().map(|c| c.field.to_string()).collect();
    let reason = format!(
        "{} of {} changed; checked again",
        names.join(", "),
        before.full_name
    );
    if !fields.is_empty() {
        for subject in subjects(conn, before).await? {
            let types = requeue_approved(conn, subject, &fields, &reason, actor, &mut out).await?;
            for doc_type in types {
                reopen_requirement(conn, backend, subject, &doc_type, &reason, actor, &mut out)
                    .await?;
            }
        }
    }
    if before.kind == ContactKind::Expert && changes.iter().any(|c| c.field.grants_access()) {
        move_access(conn, before, &mut out).await?;
    }
    Ok(out)
}

/// The document subjects whose checks read this contact's record.
async fn subjects(
    conn: &mut AnyConnection,
    contact: &Contact,
) -> Result<Vec<DocumentSubject>, StoreError> {
    if contact.kind == ContactKind::Expert {
        return Ok(vec![DocumentSubject::Expert(contact.id)]);
    }
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM projects WHERE client_id = $1 AND state NOT IN ('archived', 'cancelled') ORDER BY id",
    )
    .bind(contact.id.to_string())
    .fetch_all(conn)
    .await?;
    rows.into_iter()
        .map(|(id,)| Ok(DocumentSubject::Project(parse_col("projects.id", &id)?)))
        .collect()
}

/// Sends the subject's approved documents that rest on `fields` back to the
/// agent; returns their types.
async fn requeue_approved(
    conn: &mut AnyConnection,
    subject: DocumentSubject,
    fields: &[RecordField],
    reason: &str,
    actor: &Actor,
    out: &mut Reopened,
) -> Result<Vec<DocumentType>, StoreError> {
    let (kind, subject_id) = subject_columns(subject);
    let approved: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT id, doc_type, report FROM documents WHERE subject_kind = $1 AND subject_id = $2 AND status = 'approved' ORDER BY id",
    )
    .bind(kind)
    .bind(subject_id)
    .fetch_all(&mut *conn)
    .await?;
    let mut types: Vec<DocumentType> = Vec::new();
    for (id, doc_type, report) in approved {
        let report: Option<Report> = from_opt_json("documents.report", report.as_deref())?;
        if !rests_on(report.as_ref(), fields) {
            continue;
        }
        sqlx::query(
            "UPDATE documents SET status = 'queued', attempts = 0, lease_owner = NULL, lease_until = NULL,
                 decided_by = NULL, decision_comment = NULL, updated_at = $1
             WHERE id = $2 AND status = 'approved'",
        )
        .bind(ts(now()))
        .bind(id.clone())
        .execute(&mut *conn)
        .await?;
        let entry = AuditEntry {
            from: Some("approved"),
            to: Some("queued"),
            reason: Some(reason),
            ..AuditEntry::change(EntityKind::Document, &id, actor, "reopen")
        };
        audit::append(conn, entry, now()).await?;
        out.documents.push(parse_col("documents.id", &id)?);
        let doc_type = DocumentType::parse("doc_type", &doc_type)
            .map_err(|e| StoreError::Corrupt(e.message))?;
        if !types.contains(&doc_type) {
            types.push(doc_type);
        }
    }
    Ok(types)
}

/// The requirement the document met is open again, with what that means for
/// its subject: an active project is blocked; a vetted expert is suspended.
async fn reopen_requirement(
    conn: &mut AnyConnection,
    backend: Backend,
    subject: DocumentSubject,
    doc_type: &DocumentType,
    reason: &str,
    actor: &Actor,
    out: &mut Reopened,
) -> Result<(), StoreError> {
    match subject {
        DocumentSubject::Project(pid) => {
            let mut project = projects::fetch_for_update(conn, backend, pid).await?;
            if project.state.is_terminal() || !project.required_documents.contains(doc_type) {
                return Ok(());
            }
            let moved = projects::decide_required_document(
                conn,
                backend,
                &mut project,
                doc_type,
                DocumentStatus::Queued,
                Some(reason),
                actor,
            )
            .await?;
            out.transitions.extend(moved.into_iter().map(|t| (pid, t)));
        }
        DocumentSubject::Expert(eid) => {
            set_expert_document(
                conn,
                eid,
                doc_type,
                DocumentStatus::Queued,
                actor,
                Some(reason),
            )
            .await?;
            let expert = experts::fetch(conn, backend, eid, false).await?;
            if expert.is_some_and(|e| e.profile.vetting == VettingState::Vetted) {
                let why = Reason::parse(reason).map_err(|e| StoreError::Corrupt(e.message))?;
                let change = experts::apply_vetting(
                    conn,
                    backend,
                    eid,
                    VettingAction::Suspend,
                    Some(why),
                    &Actor::Agent,
                )
                .await?;
                out.vetting = Some((change.change.from, change.change.to));
            }
        }
    }
    Ok(())
}

/// Queues, for each active project of the expert, the removal of the account
/// found from the old e-mail and account id, then a grant to the new one.
async fn move_access(
    conn: &mut AnyConnection,
    before: &Contact,
    out: &mut Reopened,
) -> Result<(), StoreError> {
    let active: Vec<(String,)> = sqlx::query_as(
        "SELECT id FROM projects WHERE expert_id = $1 AND state = 'active' ORDER BY id",
    )
    .bind(before.id.to_string())
    .fetch_all(&mut *conn)
    .await?;
    let cause = format!("identity/{}", uuid::Uuid::now_v7().simple());
    for (id,) in active {
        let pid: ProjectId = parse_col("projects.id", &id)?;
        let effects = [
            Effect::TrackerRevokeFormerAccount {
                expert: before.id,
                email: before.email.to_string(),
                atlassian_account_id: before.atlassian_account_id.clone(),
            },
            Effect::TrackerGrantAccess { expert: before.id },
        ];
        for effect in &effects {
            outbox::enqueue_keyed(conn, pid, effect, &cause, now()).await?;
        }
        out.access_moved.push(pid);
    }
    Ok(())
}

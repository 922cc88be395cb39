//! Data of the built-in connectors (the embedded equivalents of the CRM, the
//! tracker and the board), kept in the same database. Every write is applied
//! once per idempotency key: a repeated delivery finds its receipt and returns
//! the first result without doing the work again.

use futures_core::future::BoxFuture;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use time::OffsetDateTime;

use super::codec::{now, parse_col, parse_opt_col, parse_opt_ts, parse_ts, to_json, ts};
use super::{Store, StoreError, contacts};
use crate::domain::document::DocumentType;
use crate::domain::ids::{ContactId, DocumentId, NotificationId, ProjectId, TaskId};
use crate::domain::project::Project;
use crate::domain::task::TaskStatus;

/// A tracker project and who may work in it.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrackerView {
    pub tracker_key: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Set once the project has been exported and deleted (step 11).
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// Experts with access: membership is access.
    pub members: Vec<TrackerMember>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrackerMember {
    pub expert_id: ContactId,
    #[serde(with = "time::serde::rfc3339")]
    pub granted_at: OffsetDateTime,
}

/// A project's board record: its card's list, the document checklist, the files.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BoardView {
    /// The list the card is in, named after the lifecycle state.
    pub list: String,
    /// The value figures last shown on the card.
    #[schema(value_type = Option<Object>)]
    pub value: Option<serde_json::Value>,
    pub checklist: Vec<ChecklistItem>,
    pub attachments: Vec<Attachment>,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ChecklistItem {
    pub document: DocumentType,
    pub checked: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Attachment {
    pub id: DocumentId,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: usize,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A message for a person from the system (offers made and withdrawn, ...).
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: NotificationId,
    pub contact_id: ContactId,
    pub project_id: Option<ProjectId>,
    pub kind: String,
    pub message: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// The CRM deal that mirrors a project.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Deal {
    pub contact_id: ContactId,
    pub stage: String,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

type Work = Box<
    dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<String, StoreError>> + Send,
>;

impl Store {
    /// Applies `work` in one transaction unless `key` was applied before, and
    /// returns the (first) result.
    async fn once(&self, key: &str, connector: &str, work: Work) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        let done: Option<(Option<String>,)> =
            sqlx::query_as("SELECT result FROM connector_receipts WHERE idempotency_key = $1")
                .bind(key.to_owned())
                .fetch_optional(&mut *tx)
                .await?;
        if let Some((result,)) = done {
            return Ok(result.unwrap_or_default());
        }
        let result = work(&mut tx).await?;
        sqlx::query("INSERT INTO connector_receipts (idempotency_key, connector, result, applied_at) VALUES ($1, $2, $3, $4)")
            .bind(key.to_owned())
            .bind(connector.to_owned())
            .bind(result.clone())
            .bind(ts(now()))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(result)
    }

    /// CRM upsert: marks the contact as synced and appends the project's intake
    /// answers to the profile (once per project). Returns the CRM reference.
    pub async fn builtin_crm_upsert(
        &self,
        key: &str,
        contact: ContactId,
        project: Option<&Project>,
    ) -> Result<String, StoreError> {
        let intake = project.map(
            |p| serde_json::json!({ "project_id": p.id, "title": p.title, "answers": p.intake }),
        );
        self.once(key, "crm", Box::new(move |conn| Box::pin(async move {
                        // Lock the row before reading it: upserts for two projects of one
            // client run in different lanes and must not overwrite each other.
            sqlx::query("UPDATE contacts SET updated_at = updated_at WHERE id = $1")
                .bind(contact.to_string())
                .execute(&mut *conn)
                .await?;
            let mut c = contacts::fetch(conn, contact).await?;
            if let Some(entry) = intake {
                let history = c.properties.entry("intake_history").or_insert_with(|| serde_json::json!([]));
                if let Some(items) = history.as_array_mut()
                    && !items.iter().any(|i| i["project_id"] == entry["project_id"])
                {
                    items.push(entry);
                }
            }
            let crm_ref = format!("builtin:contact:{contact}");
            sqlx::query("UPDATE contacts SET properties = $1, crm_ref = $2, updated_at = $3 WHERE id = $4")
                .bind(to_json(&c.properties))
                .bind(crm_ref.clone())
                .bind(ts(now()))
                .bind(contact.to_string())
                .execute(&mut *conn)
                .await?;
            Ok(crm_ref)
        }))).await
    }

    /// CRM deal: one per project, its stage mirroring the lifecycle state.
    pub async fn builtin_crm_deal(
        &self,
        key: &str,
        project: ProjectId,
        contact: ContactId,
        stage: &str,
    ) -> Result<String, StoreError> {
        let stage = stage.to_owned();
        self.once(key, "crm", Box::new(move |conn| Box::pin(async move {
            let at = ts(now());
            let updated = sqlx::query("UPDATE crm_deals SET stage = $1, updated_at = $2 WHERE project_id = $3")
                .bind(stage.clone())
                .bind(at.clone())
                .bind(project.to_string())
                .execute(&mut *conn)
                .await?;
            if updated.rows_affected() == 0 {
                sqlx::query("INSERT INTO crm_deals (project_id, contact_id, stage, updated_at) VALUES ($1, $2, $3, $4)")
                    .bind(project.to_string())
                    .bind(contact.to_string())
                    .bind(stage)
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(format!("builtin:deal:{project}"))
        }))).await
    }

    /// Tracker project (step 3), locked: nobody is a member yet.
    pub async fn builtin_tracker_create(
        &self,
        key: &str,
        project: ProjectId,
    ) -> Result<String, StoreError> {
        self.once(key, "tracker", Box::new(move |conn| Box::pin(async move {
            // The random tail of the UUIDv7 (the head is a timestamp).
            let simple = project.as_uuid().simple().to_string();
            let tracker_key = format!("T{}", simple[simple.len() - 10..].to_uppercase());
            sqlx::query("INSERT INTO tracker_projects (project_id, tracker_key, created_at) VALUES ($1, $2, $3)")
                .bind(project.to_string())
                .bind(tracker_key.clone())
                .bind(ts(now()))
                .execute(&mut *conn)
                .await?;
            Ok(tracker_key)
        }))).await
    }

    /// The work task linked to the tracker project (step 5).
    pub async fn builtin_tracker_task(
        &self,
        key: &str,
        project: ProjectId,
        title: &str,
    ) -> Result<String, StoreError> {
        let title = format!("Deliver: {title}");
        self.once(key, "tracker", Box::new(move |conn| Box::pin(async move {
            let id = TaskId::new();
            let at = ts(now());
            sqlx::query(
                "INSERT INTO tasks (id, project_id, title, description, status, created_by, created_at, updated_at)
                 VALUES ($1, $2, $3, NULL, 'todo', 'agent', $4, $4)",
            )
            .bind(id.to_string())
            .bind(project.to_string())
            .bind(title)
            .bind(at)
            .execute(&mut *conn)
            .await?;
            Ok(id.to_string())
        }))).await
    }

    /// Moves the work task the tracker created (the agent's first task of the
    /// project) to `status`.
    pub async fn builtin_tracker_move_task(
        &self,
        key: &str,
        project: ProjectId,
        status: TaskStatus,
    ) -> Result<String, StoreError> {
        self.once(key, "tracker", Box::new(move |conn| Box::pin(async move {
            sqlx::query(
                "UPDATE tasks SET status = $1, updated_at = $2
                 WHERE id = (SELECT id FROM tasks WHERE project_id = $3 AND created_by = 'agent' ORDER BY id LIMIT 1)",
            )
            .bind(status.as_str())
            .bind(ts(now()))
            .bind(project.to_string())
            .execute(&mut *conn)
            .await?;
            Ok(status.as_str().to_owned())
        }))).await
    }

    /// Grants (membership) or revokes tracker access.
    pub async fn builtin_tracker_access(
        &self,
        key: &str,
        project: ProjectId,
        expert: ContactId,
        grant: bool,
    ) -> Result<String, StoreError> {
        self.once(key, "tracker", Box::new(move |conn| Box::pin(async move {
            sqlx::query("DELETE FROM tracker_members WHERE project_id = $1 AND expert_id = $2")
                .bind(project.to_string())
                .bind(expert.to_string())
                .execute(&mut *conn)
                .await?;
            if grant {
                sqlx::query("INSERT INTO tracker_members (project_id, expert_id, granted_at) VALUES ($1, $2, $3)")
                    .bind(project.to_string())
                    .bind(expert.to_string())
                    .bind(ts(now()))
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(if grant { "granted" } else { "revoked" }.to_owned())
        }))).await
    }

    /// Deletes the tracker project (step 11): its tasks and members go; the
    /// export attached to the board record keeps them.
    pub async fn builtin_tracker_delete(
        &self,
        key: &str,
        project: ProjectId,
    ) -> Result<String, StoreError> {
        self.once(
            key,
            "tracker",
            Box::new(move |conn| {
                Box::pin(async move {
                    for sql in [
                        "DELETE FROM tracker_members WHERE project_id = $1",
                        "DELETE FROM tasks WHERE project_id = $1",
                    ] {
                        sqlx::query(sql)
                            .bind(project.to_string())
                            .execute(&mut *conn)
                            .await?;
                    }
                    sqlx::query(
                        "UPDATE tracker_projects SET deleted_at = $1 WHERE project_id = $2",
                    )
                    .bind(ts(now()))
                    .bind(project.to_string())
                    .execute(&mut *conn)
                    .await?;
                    Ok("deleted".to_owned())
                })
            }),
        )
        .await
    }

    /// A board card for the project, in the list named `list` (step 5).
    pub async fn builtin_board_create(
        &self,
        key: &str,
        project: ProjectId,
        list: &str,
    ) -> Result<String, StoreError> {
        let list = list.to_owned();
        self.once(key, "board", Box::new(move |conn| Box::pin(async move {
            let at = ts(now());
            sqlx::query("INSERT INTO board_cards (project_id, list, created_at, updated_at) VALUES ($1, $2, $3, $3)")
                .bind(project.to_string())
                .bind(list)
                .bind(at)
                .execute(&mut *conn)
                .await?;
            Ok(format!("builtin:card:{project}"))
        }))).await
    }

    pub async fn builtin_board_move(
        &self,
        key: &str,
        project: ProjectId,
        list: &str,
    ) -> Result<String, StoreError> {
        let list = list.to_owned();
        self.once(
            key,
            "board",
            Box::new(move |conn| {
                Box::pin(async move {
                    let moved = sqlx::query(
                        "UPDATE board_cards SET list = $1, updated_at = $2 WHERE project_id = $3",
                    )
                    .bind(list.clone())
                    .bind(ts(now()))
                    .bind(project.to_string())
                    .execute(&mut *conn)
                    .await?;
                    if moved.rows_affected() == 0 {
                        return Err(StoreError::not_found("board card of project", project));
                    }
                    Ok(list)
                })
            }),
        )
        .await
    }

    /// The checklist of required documents (step 7), ticked where already approved.
    pub async fn builtin_board_checklist(
        &self,
        key: &str,
        project: ProjectId,
        documents: &[DocumentType],
    ) -> Result<String, StoreError> {
        let documents = documents.to_vec();
        self.once(key, "board", Box::new(move |conn| Box::pin(async move {
            let approved: Vec<(String,)> =
                sqlx::query_as("SELECT doc_type FROM project_documents WHERE project_id = $1 AND status = 'approved'")
                    .bind(project.to_string())
                    .fetch_all(&mut *conn)
                    .await?;
            for doc in &documents {
                let checked = approved.iter().any(|(d,)| d == doc.as_str());
                set_checklist_item(conn, project, doc, checked).await?;
            }
            Ok(format!("{} items", documents.len()))
        }))).await
    }

    /// Ticks or unticks one checklist item; the item is added if the checklist
    /// was not made yet (a decision can come before credentialing starts).
    pub async fn builtin_board_check(
        &self,
        key: &str,
        project: ProjectId,
        document: &DocumentType,
        checked: bool,
    ) -> Result<String, StoreError> {
        let document = document.clone();
        self.once(
            key,
            "board",
            Box::new(move |conn| {
                Box::pin(async move {
                    set_checklist_item(conn, project, &document, checked).await?;
                    Ok(if checked { "checked" } else { "unchecked" }.to_owned())
                })
            }),
        )
        .await
    }

    /// Attaches a file (the completion export) to the project's board record.
    pub async fn builtin_board_attach(
        &self,
        key: &str,
        project: ProjectId,
        filename: &str,
        content_type: &str,
        body: &str,
    ) -> Result<String, StoreError> {
        let (filename, content_type, body) = (
            filename.to_owned(),
            content_type.to_owned(),
            body.to_owned(),
        );
        self.once(key, "board", Box::new(move |conn| Box::pin(async move {
            let id = DocumentId::new();
            sqlx::query(
                "INSERT INTO board_attachments (id, project_id, filename, content_type, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id.to_string())
            .bind(project.to_string())
            .bind(filename)
            .bind(content_type)
            .bind(body)
            .bind(ts(now()))
            .execute(&mut *conn)
            .await?;
            Ok(id.to_string())
        }))).await
    }

    /// A notification for a contact (offers made and withdrawn, ...).
    pub async fn builtin_notify(
        &self,
        key: &str,
        contact: ContactId,
        project: Option<ProjectId>,
        kind: &str,
        message: &str,
    ) -> Result<String, StoreError> {
        let (kind, message) = (kind.to_owned(), message.to_owned());
        self.once(key, "notify", Box::new(move |conn| Box::pin(async move {
            let id = NotificationId::new();
            sqlx::query("INSERT INTO notifications (id, contact_id, project_id, kind, message, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(id.to_string())
                .bind(contact.to_string())
                .bind(project.map(|p| p.to_string()))
                .bind(kind)
                .bind(message)
                .bind(ts(now()))
                .execute(&mut *conn)
                .await?;
            Ok(id.to_string())
        }))).await
    }

    /// Shows the value figures on the project's board card.
    pub async fn builtin_board_value(
        &self,
        key: &str,
        project: ProjectId,
        value: &serde_json::Value,
    ) -> Result<String, StoreError> {
        let value = value.to_string();
        self.once(
            key,
            "board",
            Box::new(move |conn| {
                Box::pin(async move {
                    let updated = sqlx::query(
                        "UPDATE board_cards SET value = $1, updated_at = $2 WHERE project_id = $3",
                    )
                    .bind(value)
                    .bind(ts(now()))
                    .bind(project.to_string())
                    .execute(&mut *conn)
                    .await?;
                    if updated.rows_affected() == 0 {
                        return Err(StoreError::not_found("board card of project", project));
                    }
                    Ok("recorded".to_owned())
                })
            }),
        )
        .await
    }

    /// The tracker project of `project` with its members, if one was made.
    pub async fn tracker_view(
        &self,
        project: ProjectId,
    ) -> Result<Option<TrackerView>, StoreError> {
        let row: Option<(String, String, Option<String>)> =
            sqlx::query_as("SELECT tracker_key, created_at, deleted_at FROM tracker_projects WHERE project_id = $1")
                .bind(project.to_string())
                .fetch_optional(&self.pool)
                .await?;
        let Some((tracker_key, created_at, deleted_at)) = row else {
            return Ok(None);
        };
        let members: Vec<(String, String)> =
            sqlx::query_as("SELECT expert_id, granted_at FROM tracker_members WHERE project_id = $1 ORDER BY granted_at")
                .bind(project.to_string())
                .fetch_all(&self.pool)
                .await?;
        let members = members
            .into_iter()
            .map(|(e, g)| {
                Ok(TrackerMember {
                    expert_id: parse_col("tracker_members.expert_id", &e)?,
                    granted_at: parse_ts(&g)?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Some(TrackerView {
            tracker_key,
            created_at: parse_ts(&created_at)?,
            deleted_at: parse_opt_ts(deleted_at.as_deref())?,
            members,
        }))
    }

    /// Whether the expert is a member of the project's built-in tracker: the
    /// access granted on activation and revoked on block and completion.
    pub async fn is_tracker_member(
        &self,
        project: ProjectId,
        expert: ContactId,
    ) -> Result<bool, StoreError> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM tracker_members WHERE project_id = $1 AND expert_id = $2",
        )
        .bind(project.to_string())
        .bind(expert.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// The board record of `project`, if its card was made.
    pub async fn board_view(&self, project: ProjectId) -> Result<Option<BoardView>, StoreError> {
        let card: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT list, value FROM board_cards WHERE project_id = $1")
                .bind(project.to_string())
                .fetch_optional(&self.pool)
                .await?;
        let Some((list, value)) = card else {
            return Ok(None);
        };
        let value = value
            .map(|v| super::codec::from_json("board_cards.value", &v))
            .transpose()?;
        let items: Vec<(String, i64)> = sqlx::query_as(
            "SELECT doc_type, checked FROM board_checklist WHERE project_id = $1 ORDER BY doc_type",
        )
        .bind(project.to_string())
        .fetch_all(&self.pool)
        .await?;
        let checklist = items
            .into_iter()
            .map(|(d, c)| {
                let document = DocumentType::parse("doc_type", &d)
                    .map_err(|e| StoreError::Corrupt(e.message))?;
                Ok(ChecklistItem {
                    document,
                    checked: c != 0,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let files: Vec<AttachmentRow> = sqlx::query_as(
            "SELECT id, filename, content_type, body, created_at FROM board_attachments WHERE project_id = $1 ORDER BY id",
        )
        .bind(project.to_string())
        .fetch_all(&self.pool)
        .await?;
        let attachments = files
            .into_iter()
            .map(|f| f.meta())
            .collect::<Result<_, _>>()?;
        Ok(Some(BoardView {
            list,
            value,
            checklist,
            attachments,
        }))
    }

    /// One attachment's content.
    pub async fn board_attachment(
        &self,
        project: ProjectId,
        id: DocumentId,
    ) -> Result<(Attachment, String), StoreError> {
        let row: Option<AttachmentRow> = sqlx::query_as(
            "SELECT id, filename, content_type, body, created_at FROM board_attachments WHERE project_id = $1 AND id = $2",
        )
        .bind(project.to_string())
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let row = row.ok_or_else(|| StoreError::not_found("attachment", id))?;
        Ok((row.meta()?, row.body))
    }

    pub async fn deal(&self, project: ProjectId) -> Result<Option<Deal>, StoreError> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT contact_id, stage, updated_at FROM crm_deals WHERE project_id = $1",
        )
        .bind(project.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(c, stage, at)| {
            Ok(Deal {
                contact_id: parse_col("crm_deals.contact_id", &c)?,
                stage,
                updated_at: parse_ts(&at)?,
            })
        })
        .transpose()
    }

    /// A contact's notifications, newest first.
    pub async fn notifications(
        &self,
        contact: ContactId,
        limit: u32,
    ) -> Result<Vec<Notification>, StoreError> {
        let rows: Vec<NotificationRow> = sqlx::query_as(
            "SELECT id, contact_id, project_id, kind, message, created_at FROM notifications WHERE contact_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(contact.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(NotificationRow::into_notification)
            .collect()
    }

    /// The tasks and members of a tracker project as a JSON document, for the
    /// completion export.
    pub async fn builtin_tracker_export(&self, project: &Project) -> Result<String, StoreError> {
        let tasks = self.tasks(project.id).await?;
        let tracker = self.tracker_view(project.id).await?;
        let export = serde_json::json!({
            "project": { "id": project.id, "title": project.title, "client_id": project.client_id, "expert_id": project.expert_id },
            "tracker": tracker,
            "tasks": tasks,
            "exported_at": ts(now()),
        });
        Ok(serde_json::to_string_pretty(&export).expect("JSON values serialise"))
    }
}

/// Puts one item on the checklist, replacing any earlier state of it.
async fn set_checklist_item(
    conn: &mut AnyConnection,
    project: ProjectId,
    document: &DocumentType,
    checked: bool,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM board_checklist WHERE project_id = $1 AND doc_type = $2")
        .bind(project.to_string())
        .bind(document.to_string())
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO board_checklist (project_id, doc_type, checked) VALUES ($1, $2, $3)")
        .bind(project.to_string())
        .bind(document.to_string())
        .bind(i64::from(checked))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(FromRow)]
struct AttachmentRow {
    id: String,
    filename: String,
    content_type: String,
    body: String,
    created_at: String,
}

impl AttachmentRow {
    fn meta(&self) -> Result<Attachment, StoreError> {
        Ok(Attachment {
            id: parse_col("board_attachments.id", &self.id)?,
            filename: self.filename.clone(),
            content_type: self.content_type.clone(),
            size_bytes: self.body.len(),
            created_at: parse_ts(&self.created_at)?,
        })
    }
}

#[derive(FromRow)]
struct NotificationRow {
    id: String,
    contact_id: String,
    project_id: Option<String>,
    kind: String,
    message: String,
    created_at: String,
}

impl NotificationRow {
    fn into_notification(self) -> Result<Notification, StoreError> {
        Ok(Notification {
            id: parse_col("notifications.id", &self.id)?,
            contact_id: parse_col("notifications.contact_id", &self.contact_id)?,
            project_id: parse_opt_col("notifications.project_id", self.project_id.as_deref())?,
            kind: self.kind,
            message: self.message,
            created_at: parse_ts(&self.created_at)?,
        })
    }
}

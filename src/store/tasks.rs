//! Tasks in the built-in tracker.

use sqlx::FromRow;

use super::audit::{self, AuditEntry};
use super::codec::{now, parse_col, parse_ts, ts};
use super::{Store, StoreError};
use crate::domain::actor::Actor;
use crate::domain::audit::EntityKind;
use crate::domain::ids::{ProjectId, TaskId};
use crate::domain::task::{NewTask, Task, TaskPatchInput, TaskStatus};
use crate::domain::validation::{ValidationErrors, text};

#[derive(FromRow)]
struct TaskRow {
    id: String,
    project_id: String,
    title: String,
    description: Option<String>,
    status: String,
    created_by: String,
    created_at: String,
    updated_at: String,
}

impl TryFrom<TaskRow> for Task {
    type Error = StoreError;
    fn try_from(r: TaskRow) -> Result<Self, StoreError> {
        Ok(Task {
            id: parse_col("tasks.id", &r.id)?,
            project_id: parse_col("tasks.project_id", &r.project_id)?,
            title: r.title,
            description: r.description,
            status: parse_col("tasks.status", &r.status)?,
            created_by: r.created_by,
            created_at: parse_ts(&r.created_at)?,
            updated_at: parse_ts(&r.updated_at)?,
        })
    }
}

const TASK_SELECT: &str = "SELECT id, project_id, title, description, status, created_by, created_at, updated_at FROM tasks";

impl Store {
    pub async fn create_task(
        &self,
        project: ProjectId,
        new: NewTask,
        actor: &Actor,
    ) -> Result<Task, StoreError> {
        let at = now();
        let task = Task {
            id: TaskId::new(),
            project_id: project,
            title: new.title,
            description: new.description,
            status: TaskStatus::Todo,
            created_by: actor.label().to_owned(),
            created_at: at,
            updated_at: at,
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO tasks (id, project_id, title, description, status, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7)",
        )
        .bind(task.id.to_string())
        .bind(project.to_string())
        .bind(task.title.clone())
        .bind(task.description.clone())
        .bind(task.status.as_str())
        .bind(task.created_by.clone())
        .bind(ts(at))
        .execute(&mut *tx)
        .await?;
        let entry = AuditEntry::change(EntityKind::Task, task.id, actor, "create")
            .with_details(serde_json::json!({ "project_id": project }));
        audit::append(&mut tx, entry, at).await?;
        tx.commit().await?;
        Ok(task)
    }

    pub async fn tasks(&self, project: ProjectId) -> Result<Vec<Task>, StoreError> {
        let rows: Vec<TaskRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TASK_SELECT} WHERE project_id = $1 ORDER BY id"
        )))
        .bind(project.to_string())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(Task::try_from).collect()
    }

    /// Renames a task or moves its status; the task must belong to `project`.
    pub async fn update_task(
        &self,
        project: ProjectId,
        id: TaskId,
        patch: &TaskPatchInput,
        actor: &Actor,
    ) -> Result<Task, StoreError> {
        let title = match patch.title.as_deref() {
            Some(t) => Some(text("title", t, 200, false).map_err(|e| ValidationErrors(vec![e]))?),
            None => None,
        };
        let mut tx = self.begin_write().await?;
        let row: Option<TaskRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TASK_SELECT} WHERE id = $1 AND project_id = $2"
        )))
        .bind(id.to_string())
        .bind(project.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let mut task: Task = row
            .ok_or_else(|| StoreError::not_found("task", id))?
            .try_into()?;
        let from = task.status;
        task.title = title.unwrap_or(task.title);
        task.status = patch.status.unwrap_or(task.status);
        task.updated_at = now();
        sqlx::query("UPDATE tasks SET title = $1, status = $2, updated_at = $3 WHERE id = $4")
            .bind(task.title.clone())
            .bind(task.status.as_str())
            .bind(ts(task.updated_at))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let entry = AuditEntry {
            from: Some(from.as_str()),
            to: Some(task.status.as_str()),
            ..AuditEntry::change(EntityKind::Task, id, actor, "update")
        };
        audit::append(&mut tx, entry, task.updated_at).await?;
        tx.commit().await?;
        Ok(task)
    }
}

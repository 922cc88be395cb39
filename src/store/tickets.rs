//! Helpdesk tickets and their messages.

use sqlx::{AnyConnection, FromRow};
use time::OffsetDateTime;

use super::audit::{self, AuditEntry};
use super::codec::{now, parse_col, parse_ts, ts};
use super::{Store, StoreError, outbox};
use crate::domain::actor::Actor;
use crate::domain::audit::EntityKind;
use crate::domain::ids::{MessageId, ProjectId, TicketId};
use crate::domain::lifecycle::{Effect, ProjectState};
use crate::domain::ticket::{Message, Ticket, TicketStatus};

#[derive(FromRow)]
struct TicketRow {
    id: String,
    project_id: String,
    subject: String,
    status: String,
    opened_by: String,
    created_at: String,
    updated_at: String,
}

#[derive(FromRow)]
struct MessageRow {
    id: String,
    ticket_id: String,
    author_role: String,
    author_label: String,
    body: String,
    created_at: String,
}

impl TryFrom<MessageRow> for Message {
    type Error = StoreError;
    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        Ok(Message {
            id: parse_col("ticket_messages.id", &r.id)?,
            ticket_id: parse_col("ticket_messages.ticket_id", &r.ticket_id)?,
            author_role: r.author_role,
            author_label: r.author_label,
            body: r.body,
            created_at: parse_ts(&r.created_at)?,
        })
    }
}

impl TicketRow {
    fn into_ticket(self, messages: Vec<Message>) -> Result<Ticket, StoreError> {
        Ok(Ticket {
            id: parse_col("tickets.id", &self.id)?,
            project_id: parse_col("tickets.project_id", &self.project_id)?,
            subject: self.subject,
            status: parse_col("tickets.status", &self.status)?,
            opened_by: self.opened_by,
            created_at: parse_ts(&self.created_at)?,
            updated_at: parse_ts(&self.updated_at)?,
            messages,
        })
    }
}

/// The integration whose comments arrive as messages (and are not mirrored
/// back); its actor is named `trello: <member>`.
pub const BOARD_INTEGRATION: &str = "trello";

fn from_board(actor: &Actor) -> bool {
    matches!(actor, Actor::Integration { name }
        if name.strip_prefix(BOARD_INTEGRATION).is_some_and(|rest| rest.is_empty() || rest.starts_with(':')))
}

const TICKET_SELECT: &str =
    "SELECT id, project_id, subject, status, opened_by, created_at, updated_at FROM tickets";
const MESSAGE_SELECT: &str =
    "SELECT id, ticket_id, author_role, author_label, body, created_at FROM ticket_messages";

/// Adds a message and queues its mirror on the board record, unless it came
/// from the board itself.
async fn insert_message(
    conn: &mut AnyConnection,
    project: ProjectId,
    ticket: TicketId,
    body: String,
    actor: &Actor,
    at: OffsetDateTime,
) -> Result<Message, StoreError> {
    let message = Message {
        id: MessageId::new(),
        ticket_id: ticket,
        author_role: actor.kind_name().to_owned(),
        author_label: actor.label().to_owned(),
        body,
        created_at: at,
    };
    sqlx::query(
        "INSERT INTO ticket_messages (id, ticket_id, author_role, author_label, author_contact, body, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(message.id.to_string())
    .bind(ticket.to_string())
    .bind(message.author_role.clone())
    .bind(message.author_label.clone())
    .bind(actor.contact().map(|c| c.to_string()))
    .bind(message.body.clone())
    .bind(ts(at))
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE tickets SET updated_at = $1 WHERE id = $2")
        .bind(ts(at))
        .bind(ticket.to_string())
        .execute(&mut *conn)
        .await?;
    let state: Option<(String,)> = sqlx::query_as("SELECT state FROM projects WHERE id = $1")
        .bind(project.to_string())
        .fetch_optional(&mut *conn)
        .await?;
    let on_board = state
        .and_then(|(s,)| s.parse::<ProjectState>().ok())
        .is_some_and(ProjectState::has_board_record);
    // The board record exists from acceptance on; earlier messages stay here.
    if on_board && !from_board(actor) {
        let effect = Effect::BoardComment {
            ticket,
            message: message.id,
        };
        outbox::enqueue_keyed(
            conn,
            project,
            &effect,
            &format!("message/{}", message.id),
            at,
        )
        .await?;
    }
    Ok(message)
}

/// Opens a ticket with its first message inside the caller's transaction.
pub(crate) async fn open_ticket(
    conn: &mut AnyConnection,
    project: ProjectId,
    subject: String,
    body: String,
    actor: &Actor,
) -> Result<TicketId, StoreError> {
    let at = now();
    let id = TicketId::new();
    sqlx::query(
        "INSERT INTO tickets (id, project_id, subject, status, opened_by, created_at, updated_at) VALUES ($1, $2, $3, 'open', $4, $5, $5)",
    )
    .bind(id.to_string())
    .bind(project.to_string())
    .bind(subject)
    .bind(actor.label().to_owned())
    .bind(ts(at))
    .execute(&mut *conn)
    .await?;
    insert_message(conn, project, id, body, actor, at).await?;
    let entry = AuditEntry::change(EntityKind::Ticket, id, actor, "open")
        .with_details(serde_json::json!({ "project_id": project }));
    audit::append(conn, entry, at).await?;
    Ok(id)
}

async fn fetch(
    conn: &mut AnyConnection,
    project: ProjectId,
    id: TicketId,
) -> Result<Ticket, StoreError> {
    let row: Option<TicketRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{TICKET_SELECT} WHERE id = $1 AND project_id = $2"
    )))
    .bind(id.to_string())
    .bind(project.to_string())
    .fetch_optional(&mut *conn)
    .await?;
    let row = row.ok_or_else(|| StoreError::not_found("ticket", id))?;
    let messages: Vec<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{MESSAGE_SELECT} WHERE ticket_id = $1 ORDER BY id"
    )))
    .bind(id.to_string())
    .fetch_all(conn)
    .await?;
    row.into_ticket(
        messages
            .into_iter()
            .map(Message::try_from)
            .collect::<Result<_, _>>()?,
    )
}

impl Store {
    /// Opens a ticket with its first message.
    pub async fn create_ticket(
        &self,
        project: ProjectId,
        subject: String,
        body: String,
        actor: &Actor,
    ) -> Result<Ticket, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = open_ticket(&mut tx, project, subject, body, actor).await?;
        let ticket = fetch(&mut tx, project, id).await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(ticket)
    }

    pub async fn ticket(&self, project: ProjectId, id: TicketId) -> Result<Ticket, StoreError> {
        let mut conn = self.pool.acquire().await?;
        fetch(&mut conn, project, id).await
    }

    /// The project's tickets with their messages, oldest first.
    pub async fn tickets(&self, project: ProjectId) -> Result<Vec<Ticket>, StoreError> {
        let rows: Vec<TicketRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TICKET_SELECT} WHERE project_id = $1 ORDER BY id"
        )))
        .bind(project.to_string())
        .fetch_all(&self.pool)
        .await?;
        let messages: Vec<MessageRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{MESSAGE_SELECT} WHERE ticket_id IN (SELECT id FROM tickets WHERE project_id = $1) ORDER BY id"
        )))
        .bind(project.to_string())
        .fetch_all(&self.pool)
        .await?;
        let mut messages: Vec<Message> = messages
            .into_iter()
            .map(Message::try_from)
            .collect::<Result<_, _>>()?;
        rows.into_iter()
            .map(|row| {
                let id = row.id.clone();
                let (mine, rest) = messages
                    .drain(..)
                    .partition(|m| m.ticket_id.to_string() == id);
                messages = rest;
                row.into_ticket(mine)
            })
            .collect()
    }

    /// Adds a message; a closed ticket takes none until reopened.
    pub async fn add_message(
        &self,
        project: ProjectId,
        id: TicketId,
        body: String,
        actor: &Actor,
    ) -> Result<Message, StoreError> {
        let mut tx = self.begin_write().await?;
        let ticket = fetch(&mut tx, project, id).await?;
        if ticket.status == TicketStatus::Closed {
            return Err(StoreError::Conflict(
                "the ticket is closed; reopen it to add a message".into(),
            ));
        }
        let message = insert_message(&mut tx, project, id, body, actor, now()).await?;
        tx.commit().await?;
        self.wake_outbox();
        Ok(message)
    }

    /// A comment made on the board record, as a message: on the project's
    /// newest open ticket, or a new one. `None` when this comment was taken
    /// before (the tool retried its webhook).
    pub async fn add_board_comment(
        &self,
        project: ProjectId,
        external_id: &str,
        member: &str,
        body: String,
    ) -> Result<Option<Message>, StoreError> {
        let mut tx = self.begin_write().await?;
        if !super::external::record(&mut tx, BOARD_INTEGRATION, external_id, "in").await? {
            return Ok(None);
        }
        let actor = Actor::integration(&format!("{BOARD_INTEGRATION}: {member}"));
        let open: Option<(String,)> = sqlx::query_as(
            "SELECT id FROM tickets WHERE project_id = $1 AND status = 'open' ORDER BY updated_at DESC, id DESC LIMIT 1",
        )
        .bind(project.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let message = match open {
            Some((id,)) => {
                let id: TicketId = parse_col("tickets.id", &id)?;
                insert_message(&mut tx, project, id, body, &actor, now()).await?
            }
            None => {
                let id = open_ticket(
                    &mut tx,
                    project,
                    "Comments from Trello".into(),
                    body,
                    &actor,
                )
                .await?;
                fetch(&mut tx, project, id)
                    .await?
                    .messages
                    .pop()
                    .ok_or_else(|| StoreError::Corrupt(format!("ticket {id} has no message")))?
            }
        };
        tx.commit().await?;
        Ok(Some(message))
    }

    pub async fn set_ticket_status(
        &self,
        project: ProjectId,
        id: TicketId,
        status: TicketStatus,
        actor: &Actor,
    ) -> Result<Ticket, StoreError> {
        let mut tx = self.begin_write().await?;
        let ticket = fetch(&mut tx, project, id).await?;
        if ticket.status == status {
            return Err(StoreError::Conflict(format!(
                "the ticket is already {status}"
            )));
        }
        let at = now();
        sqlx::query("UPDATE tickets SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status.as_str())
            .bind(ts(at))
            .bind(id.to_string())
            .execute(&mut *tx)
            .await?;
        let action = if status == TicketStatus::Closed {
            "close"
        } else {
            "reopen"
        };
        let entry = AuditEntry {
            from: Some(ticket.status.as_str()),
            to: Some(status.as_str()),
            ..AuditEntry::change(EntityKind::Ticket, id, actor, action)
        };
        audit::append(&mut tx, entry, at).await?;
        let ticket = fetch(&mut tx, project, id).await?;
        tx.commit().await?;
        Ok(ticket)
    }
}

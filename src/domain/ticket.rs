//! Helpdesk tickets (lifecycle step 9): scoped to a project, with messages from
//! the client, the expert and operators.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::{MessageId, ProjectId, TicketId};
use super::validation::{ValidationErrors, text};

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum TicketStatus {
    Open,
    Closed,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub ticket_id: TicketId,
    /// "client", "expert", "operator", "admin" or "agent".
    pub author_role: String,
    pub author_label: String,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Ticket {
    pub id: TicketId,
    pub project_id: ProjectId,
    pub subject: String,
    pub status: TicketStatus,
    pub opened_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub messages: Vec<Message>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicketInput {
    pub subject: String,
    /// The first message.
    pub body: String,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMessageInput {
    pub body: String,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketStatusInput {
    pub status: TicketStatus,
}

pub const MAX_BODY_CHARS: usize = 20_000;

pub fn parse_subject(value: &str) -> Result<String, ValidationErrors> {
    text("subject", value, 200, false).map_err(|e| ValidationErrors(vec![e]))
}

pub fn parse_body(value: &str) -> Result<String, ValidationErrors> {
    text("body", value, MAX_BODY_CHARS, true).map_err(|e| ValidationErrors(vec![e]))
}

//! Audit events: who changed what, when and why. Written in the same transaction
//! as the change they describe.

use serde::Serialize;
use time::OffsetDateTime;

use super::ids::{AuditId, ContactId};

/// What an audit event is about.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    utoipa::ToSchema,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum EntityKind {
    Project,
    Contact,
    Expert,
    Task,
    Ticket,
    Token,
    Outbox,
    Document,
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub id: AuditId,
    pub entity: EntityKind,
    pub entity_id: String,
    /// "operator", "expert", "client", "admin" or "agent".
    pub actor_kind: String,
    pub actor_label: String,
    pub actor_contact: Option<ContactId>,
    pub action: String,
    pub from_state: Option<String>,
    pub to_state: Option<String>,
    pub reason: Option<String>,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
}

//! Typed identifiers. Every id is a UUIDv7 (time-ordered), stored as text so the
//! same schema works on SQLite and PostgreSQL.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Declares a newtype id; a plain `Uuid` would let a contact id be passed where a
/// project id is expected.
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

typed_id!(
    /// A client or expert contact (the CRM record).
    ContactId
);
typed_id!(
    /// A client project.
    ProjectId
);
typed_id!(
    /// A task inside a project's tracker.
    TaskId
);
typed_id!(
    /// A helpdesk ticket.
    TicketId
);
typed_id!(
    /// A message inside a helpdesk ticket.
    MessageId
);
typed_id!(
    /// An audit event.
    AuditId
);
typed_id!(
    /// An API token (the id, not the secret).
    TokenId
);
typed_id!(
    /// A side effect waiting in the outbox.
    OutboxId
);
typed_id!(
    /// An uploaded document or a file attached to a board record.
    DocumentId
);
typed_id!(
    /// A notification for a contact.
    NotificationId
);

typed_id!(
    /// A person's request to change their identity fields.
    ChangeRequestId
);
typed_id!(
    /// A person who signs in to the pages.
    UserId
);
typed_id!(
    /// A one-time link by which a user sets their password.
    InvitationId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = ProjectId::new();
        let parsed: ProjectId = id.to_string().parse().unwrap();
        assert_eq!(id, parsed);
    }

    #[test]
    fn later_ids_sort_after_earlier_ones() {
        let a = TaskId::new();
        let b = TaskId::new();
        assert!(a.to_string() < b.to_string());
    }

    #[test]
    fn garbage_is_not_an_id() {
        assert!("not-a-uuid".parse::<ContactId>().is_err());
    }
}

//! Who does things: people holding a token with a role, or the system agent.

use serde::{Deserialize, Serialize};

use super::ids::ContactId;

/// The role an API token carries.
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
pub enum Role {
    /// Agency staff: runs intake, matching, monitoring, the review queue.
    Operator,
    /// A vetted (or applying) expert; sees only projects offered or assigned to them.
    Expert,
    /// A client business; sees only its own projects.
    Client,
    /// Configures the hub; may do everything an operator may.
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Operators and admins run the agency and see everything.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Operator | Role::Admin)
    }

    /// Expert and client tokens always speak for one contact.
    pub fn needs_contact(self) -> bool {
        matches!(self, Role::Expert | Role::Client)
    }
}

/// A person acting through a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub role: Role,
    /// The contact an expert or client token speaks for.
    pub contact: Option<ContactId>,
    /// A human-readable name for the audit trail (the token's label).
    pub label: String,
}

/// Whoever causes a change; recorded in every audit event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    Person(Person),
    /// The system itself: automatic transitions, the verification agent, schedulers.
    Agent,
    /// A connected tool speaking through a signed webhook (`hubspot`, `trello`,
    /// `google_forms`): it may record what happened there, not run the lifecycle.
    Integration {
        name: String,
    },
}

impl Actor {
    pub fn integration(name: &str) -> Self {
        Actor::Integration { name: name.into() }
    }

    pub fn role(&self) -> Option<Role> {
        match self {
            Actor::Person(p) => Some(p.role),
            Actor::Agent | Actor::Integration { .. } => None,
        }
    }

    pub fn contact(&self) -> Option<ContactId> {
        match self {
            Actor::Person(p) => p.contact,
            Actor::Agent | Actor::Integration { .. } => None,
        }
    }

    /// The hub itself or a connected tool, rather than a person.
    pub fn is_system(&self) -> bool {
        matches!(self, Actor::Agent | Actor::Integration { .. })
    }

    pub fn is_staff(&self) -> bool {
        self.role().is_some_and(Role::is_staff)
    }

    /// "operator", "expert", ... or "agent", for messages and the audit trail.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Actor::Person(p) => p.role.as_str(),
            Actor::Agent => "agent",
            Actor::Integration { .. } => "integration",
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Actor::Person(p) => &p.label,
            Actor::Agent => "agent",
            Actor::Integration { name } => name,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for &role in <Role as strum::VariantArray>::VARIANTS {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn only_experts_and_clients_need_a_contact() {
        assert!(Role::Expert.needs_contact());
        assert!(Role::Client.needs_contact());
        assert!(!Role::Operator.needs_contact());
        assert!(!Role::Admin.needs_contact());
    }
}

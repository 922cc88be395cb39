//! Experts: their profile (what they can do, how much) and their vetting lifecycle.

use serde::{Deserialize, Serialize};
use strum::VariantArray;

use super::actor::Actor;
use super::contact::{Contact, ContactInput};
use super::validation::{
    FieldError, Reason, Tag, ValidationErrors, field_error, non_negative, tags,
};

/// An expert's standing with the agency (design §3: applicant -> vetting -> vetted -> suspended).
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
pub enum VettingState {
    Applicant,
    Vetting,
    Vetted,
    Suspended,
}

impl VettingState {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

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
pub enum VettingAction {
    StartVetting,
    Approve,
    Reject,
    Suspend,
    Reinstate,
}

impl VettingAction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            VettingAction::Reject | VettingAction::Suspend | VettingAction::Reinstate
        )
    }
}

/// The one table of vetting moves.
fn vetting_target(state: VettingState, action: VettingAction) -> Option<VettingState> {
    use VettingAction as A;
    use VettingState as S;
    match (state, action) {
        (S::Applicant, A::StartVetting) => Some(S::Vetting),
        (S::Vetting, A::Approve) => Some(S::Vetted),
        (S::Vetting, A::Reject) => Some(S::Applicant),
        (S::Vetted, A::Suspend) => Some(S::Suspended),
        (S::Suspended, A::Reinstate) => Some(S::Vetted),
        _ => None,
    }
}

pub fn allowed_vetting_actions(state: VettingState) -> Vec<VettingAction> {
    VettingAction::VARIANTS
        .iter()
        .copied()
        .filter(|a| vetting_target(state, *a).is_some())
        .collect()
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VettingError {
    #[error(
        "an expert in `{state}` cannot `{action}`; allowed: {}",
        super::names(allowed)
    )]
    NotAllowed {
        state: VettingState,
        action: VettingAction,
        allowed: Vec<VettingAction>,
    },
    #[error("only operators, admins or the agent may change vetting")]
    Forbidden,
    #[error("`{0}` needs a reason")]
    ReasonRequired(VettingAction),
}

/// A decided vetting change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VettingChange {
    pub action: VettingAction,
    pub from: VettingState,
    pub to: VettingState,
    pub reason: Option<Reason>,
}

impl VettingChange {
    /// Losing vetted status takes away access to every project (design §3).
    pub fn loses_access(&self) -> bool {
        self.from == VettingState::Vetted && self.to != VettingState::Vetted
    }
}

/// Decides a vetting move: who may, from which state, and with what reason.
pub fn decide_vetting(
    state: VettingState,
    action: VettingAction,
    actor: &Actor,
    reason: Option<Reason>,
) -> Result<VettingChange, VettingError> {
    if !(actor.is_staff() || matches!(actor, Actor::Agent)) {
        return Err(VettingError::Forbidden);
    }
    let to = vetting_target(state, action).ok_or_else(|| VettingError::NotAllowed {
        state,
        action,
        allowed: allowed_vetting_actions(state),
    })?;
    if action.needs_reason() && reason.is_none() {
        return Err(VettingError::ReasonRequired(action));
    }
    Ok(VettingChange {
        action,
        from: state,
        to,
        reason,
    })
}

/// What the agency knows about an expert beyond the contact record.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ExpertProfile {
    pub skills: Vec<Tag>,
    pub industries: Vec<Tag>,
    pub languages: Vec<Tag>,
    /// Hourly rate in the agency's currency.
    pub hourly_rate: f64,
    /// How many projects the expert takes at once.
    pub capacity: u32,
    /// 0.0 to 5.0; `None` until rated.
    pub rating: Option<f64>,
    pub vetting: VettingState,
}

/// An expert as the API shows them: contact plus profile.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Expert {
    #[serde(flatten)]
    pub contact: Contact,
    #[serde(flatten)]
    pub profile: ExpertProfile,
    /// Projects offered to or held by the expert right now (counts against capacity).
    pub load: u32,
}

/// Profile fields as they arrive from the edge.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub industries: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub hourly_rate: f64,
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    #[serde(default)]
    pub rating: Option<f64>,
}

fn default_capacity() -> u32 {
    1
}

/// A new expert: contact and profile in one flat request. (serde cannot combine
/// `flatten` with `deny_unknown_fields`, and a typo in a field name must be an error.)
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExpertInput {
    pub full_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub legal_name: Option<String>,
    #[serde(default)]
    pub tax_id: Option<String>,
    /// The expert's Atlassian account id, for Jira access.
    #[serde(default)]
    pub atlassian_account_id: Option<String>,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub industries: Vec<String>,
    #[serde(default)]
    pub languages: Vec<String>,
    #[serde(default)]
    pub hourly_rate: f64,
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    #[serde(default)]
    pub rating: Option<f64>,
}

impl NewExpertInput {
    pub fn contact(&self) -> ContactInput {
        ContactInput {
            full_name: self.full_name.clone(),
            email: self.email.clone(),
            phone: self.phone.clone(),
            legal_name: self.legal_name.clone(),
            tax_id: self.tax_id.clone(),
            atlassian_account_id: self.atlassian_account_id.clone(),
        }
    }

    pub fn profile(&self) -> ProfileInput {
        ProfileInput {
            skills: self.skills.clone(),
            industries: self.industries.clone(),
            languages: self.languages.clone(),
            hourly_rate: self.hourly_rate,
            capacity: self.capacity,
            rating: self.rating,
        }
    }
}

pub const MAX_TAGS: usize = 50;
pub const MAX_CAPACITY: u32 = 50;

impl ExpertProfile {
    /// A new applicant's profile.
    pub fn parse(input: &ProfileInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let skills = errors.check(tags("skills", &input.skills, MAX_TAGS));
        let industries = errors.check(tags("industries", &input.industries, MAX_TAGS));
        let languages = errors.check(tags("languages", &input.languages, MAX_TAGS));
        let hourly_rate = errors.check(non_negative("hourly_rate", input.hourly_rate));
        let capacity = errors.check(capacity(input.capacity));
        let rating = errors.check(rating(input.rating));
        errors.finish(|| ExpertProfile {
            skills: skills.unwrap(),
            industries: industries.unwrap(),
            languages: languages.unwrap(),
            hourly_rate: hourly_rate.unwrap(),
            capacity: capacity.unwrap(),
            rating: rating.unwrap(),
            vetting: VettingState::Applicant,
        })
    }

    /// Replaces the editable fields; vetting state is changed only by [`decide_vetting`].
    pub fn replace(&self, input: &ProfileInput) -> Result<Self, ValidationErrors> {
        let mut next = Self::parse(input)?;
        next.vetting = self.vetting;
        Ok(next)
    }

    pub fn has_free_capacity(&self, load: u32) -> bool {
        load < self.capacity
    }
}

fn capacity(value: u32) -> Result<u32, FieldError> {
    if value == 0 || value > MAX_CAPACITY {
        return Err(field_error(
            "capacity",
            format!("must be between 1 and {MAX_CAPACITY}"),
        ));
    }
    Ok(value)
}

fn rating(value: Option<f64>) -> Result<Option<f64>, FieldError> {
    match value {
        Some(r) if !(0.0..=5.0).contains(&r) || !r.is_finite() => {
            Err(field_error("rating", "must be between 0 and 5"))
        }
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::actor::{Person, Role};
    use strum::VariantArray;

    fn person(role: Role) -> Actor {
        Actor::Person(Person {
            role,
            contact: None,
            label: "t".into(),
        })
    }

    #[test]
    fn every_state_and_action_pair_is_decided() {
        let operator = person(Role::Operator);
        for state in VettingState::VARIANTS.iter().copied() {
            for action in VettingAction::VARIANTS.iter().copied() {
                let reason = Some(Reason::parse("checked").unwrap());
                match decide_vetting(state, action, &operator, reason) {
                    Ok(change) => assert_eq!(Some(change.to), vetting_target(state, action)),
                    Err(VettingError::NotAllowed { allowed, .. }) => {
                        assert!(vetting_target(state, action).is_none());
                        assert_eq!(allowed, allowed_vetting_actions(state));
                    }
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
        }
    }

    #[test]
    fn experts_and_clients_cannot_vet() {
        for role in [Role::Expert, Role::Client] {
            let err = decide_vetting(
                VettingState::Applicant,
                VettingAction::StartVetting,
                &person(role),
                None,
            );
            assert_eq!(err, Err(VettingError::Forbidden));
        }
        assert!(
            decide_vetting(
                VettingState::Applicant,
                VettingAction::StartVetting,
                &Actor::Agent,
                None
            )
            .is_ok()
        );
    }

    #[test]
    fn suspension_needs_a_reason_and_loses_access() {
        let op = person(Role::Operator);
        assert_eq!(
            decide_vetting(VettingState::Vetted, VettingAction::Suspend, &op, None),
            Err(VettingError::ReasonRequired(VettingAction::Suspend))
        );
        let change = decide_vetting(
            VettingState::Vetted,
            VettingAction::Suspend,
            &op,
            Some(Reason::parse("certificate expired").unwrap()),
        )
        .unwrap();
        assert!(change.loses_access());
    }

    #[test]
    fn profile_bounds_are_enforced() {
        let bad = ProfileInput {
            capacity: 0,
            rating: Some(7.0),
            hourly_rate: -5.0,
            ..Default::default()
        };
        let errors = ExpertProfile::parse(&bad).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["hourly_rate", "capacity", "rating"]);
    }
}

//! Identity fields: the parts of a contact that documents are checked against
//! (a company's name and tax id, a person's name) or that grant access (the
//! e-mail and Atlassian account the tracker is opened to). Only staff, and the
//! agency's own CRM, change them; the person may ask for a change. A change
//! re-opens the approvals that rested on the old value.

use serde::Serialize;

use super::actor::Actor;
use super::checks::RecordField;
use super::contact::{Contact, ContactPatchInput};
use super::ids::{ChangeRequestId, ContactId};
use super::verification::Report;

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    utoipa::ToSchema,
    strum::Display,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum IdentityField {
    FullName,
    Email,
    LegalName,
    TaxId,
    AtlassianAccountId,
}

impl IdentityField {
    /// The record field documents are matched against, if any.
    pub fn record_field(self) -> Option<RecordField> {
        match self {
            IdentityField::FullName => Some(RecordField::FullName),
            IdentityField::LegalName => Some(RecordField::LegalName),
            IdentityField::TaxId => Some(RecordField::TaxId),
            IdentityField::Email | IdentityField::AtlassianAccountId => None,
        }
    }

    /// The tracker is opened to the account these lead to.
    pub fn grants_access(self) -> bool {
        matches!(
            self,
            IdentityField::Email | IdentityField::AtlassianAccountId
        )
    }

    fn of(self, c: &Contact) -> Option<String> {
        match self {
            IdentityField::FullName => Some(c.full_name.clone()),
            IdentityField::Email => Some(c.email.to_string()),
            IdentityField::LegalName => c.legal_name.clone(),
            IdentityField::TaxId => c.tax_id.as_ref().map(|t| t.as_str().to_owned()),
            IdentityField::AtlassianAccountId => c.atlassian_account_id.clone(),
        }
    }
}

/// The identity fields a patch would set (whether or not to a new value).
pub fn touched(patch: &ContactPatchInput) -> Vec<IdentityField> {
    [
        (patch.full_name.is_some(), IdentityField::FullName),
        (patch.email.is_some(), IdentityField::Email),
        (patch.legal_name.is_some(), IdentityField::LegalName),
        (patch.tax_id.is_some(), IdentityField::TaxId),
        (
            patch.atlassian_account_id.is_some(),
            IdentityField::AtlassianAccountId,
        ),
    ]
    .into_iter()
    .filter_map(|(set, field)| set.then_some(field))
    .collect()
}

/// One identity field that changed, for the audit trail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct IdentityChange {
    pub field: IdentityField,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// The identity fields whose value differs between `before` and `after`.
pub fn changes(before: &Contact, after: &Contact) -> Vec<IdentityChange> {
    <IdentityField as strum::VariantArray>::VARIANTS
        .iter()
        .filter_map(|&field| {
            let (old, new) = (field.of(before), field.of(after));
            (old != new).then_some(IdentityChange { field, old, new })
        })
        .collect()
}

/// Staff, and the agency's own tools (the CRM), may change identity fields;
/// the person they describe may only ask.
pub fn may_change(actor: &Actor) -> bool {
    actor.is_staff() || matches!(actor, Actor::Integration { .. } | Actor::Agent)
}

/// Whether an approval reported by `report` rested on any of `changed`:
/// its rules compared one of them with the record. A report that does not
/// say what it compared (a person's decision on a scan, an older report)
/// is taken to rest on every field, since it cannot be shown otherwise.
pub fn rests_on(report: Option<&Report>, changed: &[RecordField]) -> bool {
    match report.and_then(|r| r.checked_fields.as_ref()) {
        Some(checked) => checked.iter().any(|f| changed.contains(f)),
        None => !changed.is_empty(),
    }
}

/// Where a change request stands.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
    strum::Display,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
}

/// A person's request that staff change their identity fields.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ChangeRequest {
    pub id: ChangeRequestId,
    pub contact_id: ContactId,
    /// The fields to set, as a `PATCH /contacts/{id}` body.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub reason: Option<String>,
    pub status: RequestStatus,
    pub requested_by: String,
    pub decided_by: Option<String>,
    pub decision_comment: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: time::OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub decided_at: Option<time::OffsetDateTime>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::actor::{Person, Role};
    use crate::domain::contact::{ContactInput, ContactKind, NewContact};

    fn contact() -> Contact {
        let new = NewContact::parse(
            ContactKind::Client,
            &ContactInput {
                full_name: "Anna Kowalska".into(),
                email: "anna@kowalska.pl".into(),
                legal_name: Some("Kowalska Sp. z o.o.".into()),
                tax_id: Some("526-000-12-46".into()),
                ..Default::default()
            },
        )
        .unwrap();
        Contact {
            id: ContactId::new(),
            kind: new.kind,
            full_name: new.full_name,
            email: new.email,
            phone: None,
            legal_name: new.legal_name,
            tax_id: new.tax_id,
            properties: Default::default(),
            crm_ref: None,
            atlassian_account_id: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            updated_at: time::OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn a_phone_is_not_an_identity_field_and_the_rest_are() {
        let phone = ContactPatchInput {
            phone: Some(Some("+48 600 000 000".into())),
            ..Default::default()
        };
        assert!(touched(&phone).is_empty());
        let company = ContactPatchInput {
            legal_name: Some(Some("Other Sp. z o.o.".into())),
            atlassian_account_id: Some(None),
            ..Default::default()
        };
        assert_eq!(
            touched(&company),
            [IdentityField::LegalName, IdentityField::AtlassianAccountId]
        );
    }

    #[test]
    fn only_values_that_differ_are_changes() {
        let before = contact();
        let mut after = before.clone();
        after
            .apply_patch(&ContactPatchInput {
                legal_name: Some(Some("Nowa Firma S.A.".into())),
                full_name: Some("Anna Kowalska".into()),
                ..Default::default()
            })
            .unwrap();
        let found = changes(&before, &after);
        assert_eq!(
            found,
            [IdentityChange {
                field: IdentityField::LegalName,
                old: Some("Kowalska Sp. z o.o.".into()),
                new: Some("Nowa Firma S.A.".into()),
            }]
        );
    }

    #[test]
    fn people_may_not_change_their_identity_and_staff_may() {
        let person = |role| {
            Actor::Person(Person {
                role,
                contact: Some(ContactId::new()),
                label: "x".into(),
            })
        };
        assert!(!may_change(&person(Role::Client)));
        assert!(!may_change(&person(Role::Expert)));
        assert!(may_change(&person(Role::Operator)));
        assert!(may_change(&Actor::integration("hubspot")));
    }

    #[test]
    fn an_approval_rests_on_what_its_rules_compared_or_on_everything_when_unknown() {
        assert!(rests_on(None, &[RecordField::TaxId]));
        assert!(!rests_on(None, &[]));
    }
}

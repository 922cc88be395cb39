//! Contacts: the CRM records of clients and experts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::ContactId;
use super::validation::{
    FieldError, ValidationErrors, field_error, invisible, optional_text, text,
};

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
pub enum ContactKind {
    Client,
    Expert,
}

impl ContactKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A syntactically valid e-mail address, lowercased so that uniqueness is
/// case-insensitive (CRMs such as HubSpot treat e-mail that way).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let trimmed = value.trim().to_lowercase();
        // The crate accepts display-name forms ("A <a@b>"); a contact field should not.
        // Invisible characters would make two addresses look the same and
        // defeat the uniqueness that finds a returning client.
        if trimmed.contains(['<', '>', ' '])
            || !trimmed.contains('.')
            || trimmed.chars().any(invisible)
        {
            return Err(field_error(
                "email",
                "must be a plain address such as name@example.com",
            ));
        }
        email_address::EmailAddress::from_str(&trimmed)
            .map(|_| Self(trimmed))
            .map_err(|e| field_error("email", format!("is not a valid address: {e}")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tax identifier (Polish NIP, EU VAT id, ...) as written; comparisons use
/// [`TaxId::digits`] because documents spell the separators differently.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct TaxId(String);

impl TaxId {
    pub fn parse(value: &str) -> Result<Self, FieldError> {
        let trimmed = value.trim().to_uppercase();
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '.' | '/');
        let digits = trimmed.chars().filter(char::is_ascii_digit).count();
        if !trimmed.chars().all(allowed) || !(5..=20).contains(&digits) || trimmed.len() > 32 {
            return Err(field_error(
                "tax_id",
                "must be 5 to 20 digits, optionally with a country prefix and separators",
            ));
        }
        Ok(Self(trimmed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn digits(&self) -> String {
        self.0.chars().filter(char::is_ascii_digit).collect()
    }
}

/// A client or expert as the CRM knows them.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Contact {
    pub id: ContactId,
    pub kind: ContactKind,
    pub full_name: String,
    pub email: Email,
    pub phone: Option<String>,
    /// The registered business name, for clients ("Kowalski Sp. z o.o.").
    pub legal_name: Option<String>,
    pub tax_id: Option<TaxId>,
    /// Free-form CRM properties; intake answers are appended here.
    #[schema(value_type = Object)]
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// The id of this contact in an external CRM, once synced.
    pub crm_ref: Option<String>,
    /// The expert's Atlassian account, through which Jira access is granted.
    pub atlassian_account_id: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What it takes to create a contact, already validated.
#[derive(Clone, Debug, PartialEq)]
pub struct NewContact {
    pub kind: ContactKind,
    pub full_name: String,
    pub email: Email,
    pub phone: Option<String>,
    pub legal_name: Option<String>,
    pub tax_id: Option<TaxId>,
    pub atlassian_account_id: Option<String>,
}

/// Raw contact fields as they arrive from the edge.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    pub full_name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub legal_name: Option<String>,
    #[serde(default)]
    pub tax_id: Option<String>,
    /// An expert's Atlassian account id (Jira access is granted to it).
    #[serde(default)]
    pub atlassian_account_id: Option<String>,
}

impl NewContact {
    pub fn parse(kind: ContactKind, input: &ContactInput) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let full_name = errors.check(text("full_name", &input.full_name, 200, false));
        let email = errors.check(Email::parse(&input.email));
        let phone = errors.check(phone(input.phone.as_deref()));
        let legal_name = errors.check(optional_text(
            "legal_name",
            input.legal_name.as_deref(),
            300,
        ));
        let tax_id = errors.check(optional_tax_id(input.tax_id.as_deref()));
        let account = errors.check(account_id(input.atlassian_account_id.as_deref()));
        errors.finish(|| NewContact {
            kind,
            full_name: full_name.unwrap(),
            email: email.unwrap(),
            phone: phone.unwrap(),
            legal_name: legal_name.unwrap(),
            tax_id: tax_id.unwrap(),
            atlassian_account_id: account.unwrap(),
        })
    }
}

/// A partial update; absent fields stay as they are, `null` clears optional ones.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactPatchInput {
    #[serde(default)]
    pub full_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub legal_name: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub tax_id: Option<Option<String>>,
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub atlassian_account_id: Option<Option<String>>,
}

/// Distinguishes a missing field (outer `None`) from an explicit `null` (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(d).map(Some)
    }
}

impl Contact {
    /// Applies a validated patch; returns the errors if any field is invalid and
    /// leaves `self` untouched in that case.
    pub fn apply_patch(&mut self, patch: &ContactPatchInput) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let full_name = patch
            .full_name
            .as_deref()
            .and_then(|v| errors.check(text("full_name", v, 200, false)));
        let email = patch
            .email
            .as_deref()
            .and_then(|v| errors.check(Email::parse(v)));
        let phone = patch
            .phone
            .as_ref()
            .and_then(|v| errors.check(phone(v.as_deref())));
        let legal_name = patch
            .legal_name
            .as_ref()
            .and_then(|v| errors.check(optional_text("legal_name", v.as_deref(), 300)));
        let tax_id = patch
            .tax_id
            .as_ref()
            .and_then(|v| errors.check(optional_tax_id(v.as_deref())));
        let account = patch
            .atlassian_account_id
            .as_ref()
            .and_then(|v| errors.check(account_id(v.as_deref())));
        if !errors.is_empty() {
            return Err(errors);
        }
        if let Some(v) = full_name {
            self.full_name = v;
        }
        if let Some(v) = email {
            self.email = v;
        }
        if let Some(v) = phone {
            self.phone = v;
        }
        if let Some(v) = legal_name {
            self.legal_name = v;
        }
        if let Some(v) = tax_id {
            self.tax_id = v;
        }
        if let Some(v) = account {
            self.atlassian_account_id = v;
        }
        Ok(())
    }
}

/// A contact as an external CRM holds it (the fields SSoT-Lite keeps).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoteContact {
    pub email: Option<String>,
    pub full_name: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
}

impl Contact {
    /// The update that brings this contact in line with `remote`, or `None`
    /// when nothing differs. Fields the CRM leaves empty change nothing here.
    pub fn patch_toward(&self, remote: &RemoteContact) -> Option<ContactPatchInput> {
        let changed = |ours: Option<&str>, theirs: &Option<String>| {
            theirs
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty() && Some(*t) != ours)
                .map(str::to_owned)
        };
        let email = remote.email.as_ref().map(|e| e.to_lowercase());
        let patch = ContactPatchInput {
            full_name: changed(Some(&self.full_name), &remote.full_name),
            email: changed(Some(self.email.as_str()), &email),
            phone: changed(self.phone.as_deref(), &remote.phone).map(Some),
            legal_name: changed(self.legal_name.as_deref(), &remote.company).map(Some),
            ..ContactPatchInput::default()
        };
        let empty = patch.full_name.is_none()
            && patch.email.is_none()
            && patch.phone.is_none()
            && patch.legal_name.is_none();
        (!empty).then_some(patch)
    }
}

fn phone(value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(v) = optional_text("phone", value, 40)? else {
        return Ok(None);
    };
    let allowed = |c: char| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.');
    if !v.chars().all(allowed) || v.chars().filter(char::is_ascii_digit).count() < 6 {
        return Err(field_error(
            "phone",
            "must be a phone number such as +48 600 100 200",
        ));
    }
    Ok(Some(v))
}

/// Atlassian account ids look like `5b10ac8d82e05b22cc7d4ef5` or
/// `557058:f58131cb-b67d-43c7-b30d-6b58d40bd077`.
fn account_id(value: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(v) = optional_text("atlassian_account_id", value, 128)? else {
        return Ok(None);
    };
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '-' | '_'))
    {
        return Err(field_error(
            "atlassian_account_id",
            "must be an Atlassian account id such as 5b10ac8d82e05b22cc7d4ef5",
        ));
    }
    Ok(Some(v))
}

fn optional_tax_id(value: Option<&str>) -> Result<Option<TaxId>, FieldError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => TaxId::parse(v).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ContactInput {
        ContactInput {
            full_name: "Anna Kowalska".into(),
            email: "Anna@Example.PL ".into(),
            phone: Some("+48 600 100 200".into()),
            legal_name: Some("Kowalska Sp. z o.o.".into()),
            tax_id: Some("PL 526-000-12-46".into()),
            atlassian_account_id: None,
        }
    }

    #[test]
    fn an_address_with_invisible_characters_is_refused() {
        for lookalike in [
            "anna\u{200b}@example.pl",
            "anna@exa\u{202e}lp.elpm",
            "\u{feff}anna@example.pl",
        ] {
            assert!(Email::parse(lookalike).is_err(), "{lookalike:?}");
        }
        assert!(
            Email::parse("żółw@przykład.pl").is_ok(),
            "international addresses stay"
        );
    }

    #[test]
    fn a_valid_contact_is_normalised() {
        let c = NewContact::parse(ContactKind::Client, &input()).unwrap();
        assert_eq!(c.email.as_str(), "anna@example.pl");
        assert_eq!(c.tax_id.unwrap().digits(), "5260001246");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let bad = ContactInput {
            full_name: " ".into(),
            email: "not an email".into(),
            phone: Some("call me".into()),
            legal_name: None,
            tax_id: Some("12".into()),
            atlassian_account_id: Some("not an id!".into()),
        };
        let errors = NewContact::parse(ContactKind::Client, &bad).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "full_name",
                "email",
                "phone",
                "tax_id",
                "atlassian_account_id"
            ]
        );
    }

    #[test]
    fn display_name_forms_are_not_addresses() {
        assert!(Email::parse("Anna <anna@example.pl>").is_err());
        assert!(Email::parse("anna@localhost").is_err());
        assert!(Email::parse("anna@example.pl").is_ok());
    }

    #[test]
    fn a_patch_with_one_bad_field_changes_nothing() {
        let new = NewContact::parse(ContactKind::Client, &input()).unwrap();
        let now = OffsetDateTime::UNIX_EPOCH;
        let mut contact = Contact {
            id: ContactId::new(),
            kind: new.kind,
            full_name: new.full_name,
            email: new.email,
            phone: new.phone,
            legal_name: new.legal_name,
            tax_id: new.tax_id,
            properties: Default::default(),
            crm_ref: None,
            atlassian_account_id: new.atlassian_account_id,
            created_at: now,
            updated_at: now,
        };
        let before = contact.clone();
        let patch = ContactPatchInput {
            full_name: Some("New Name".into()),
            email: Some("broken".into()),
            ..Default::default()
        };
        assert!(contact.apply_patch(&patch).is_err());
        assert_eq!(contact, before);

        let clear = ContactPatchInput {
            phone: Some(None),
            ..Default::default()
        };
        contact.apply_patch(&clear).unwrap();
        assert_eq!(contact.phone, None);
    }
}

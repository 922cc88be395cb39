//! People who sign in to the pages: their role, the contact an expert or
//! client speaks for, the language they read, and the password rules.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::actor::{Actor, Person, Role};
use super::contact::Email;
use super::ids::{ContactId, UserId};
use super::validation::{FieldError, ValidationErrors, field_error, text};

/// The languages the pages are written in.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Locale {
    /// Polish: the agency's and its clients' language, and the default.
    #[default]
    Pl,
    En,
}

impl Locale {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// The first supported language of an `Accept-Language` header, by its
    /// quality values; `None` when it names none of them.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut offered: Vec<(f32, usize, Locale)> = header
            .split(',')
            .enumerate()
            .filter_map(|(i, part)| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next()?.trim().to_ascii_lowercase();
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                    .map_or(Some(1.0), |q| q.parse::<f32>().ok())?;
                let primary = tag.split('-').next()?;
                let locale = primary.parse::<Locale>().ok()?;
                (q > 0.0).then_some((q, i, locale))
            })
            .collect();
        // Highest quality first; among equals, the order the browser gave.
        offered.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        offered.first().map(|o| o.2)
    }
}

/// A user as the pages and the audit trail see them (never the password).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    /// The contact an expert or client user speaks for.
    pub contact_id: Option<ContactId>,
    /// The language chosen in the user's settings.
    pub locale: Option<Locale>,
    /// Has set a password (accepted an invitation, or was created with one).
    pub active: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub disabled_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl User {
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }

    /// Who this user is in the audit trail: the same person a token of
    /// theirs would be, so every rule treats both alike.
    pub fn actor(&self) -> Actor {
        Actor::Person(Person {
            role: self.role,
            contact: self.contact_id,
            label: self.display_name.clone(),
        })
    }
}

/// A user to create, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct NewUser {
    pub email: Email,
    pub display_name: String,
    pub role: Role,
    pub contact_id: Option<ContactId>,
}

impl NewUser {
    /// Checks every field; an expert or client must name their contact, staff
    /// must not.
    pub fn parse(
        email: &str,
        display_name: &str,
        role: Role,
        contact_id: Option<ContactId>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let email = errors.check(Email::parse(email));
        let display_name = errors.check(text("display_name", display_name, 100, false));
        match (role.needs_contact(), contact_id) {
            (true, None) => errors.add(
                "contact_id",
                format!("a {role} user speaks for a contact; choose one"),
            ),
            (false, Some(_)) => errors.add(
                "contact_id",
                format!("a {role} user works for the agency, not for a contact"),
            ),
            _ => {}
        }
        errors.finish(|| NewUser {
            email: email.expect("checked"),
            display_name: display_name.expect("checked"),
            role,
            contact_id,
        })
    }
}

/// Who may create and invite a user of `role`: admins anyone, operators
/// the experts and clients they work with.
pub fn may_invite(inviter: Role, role: Role) -> bool {
    match inviter {
        Role::Admin => true,
        Role::Operator => role.needs_contact(),
        Role::Expert | Role::Client => false,
    }
}

/// Who may disable and re-enable accounts and send a user a fresh link.
pub fn may_manage_accounts(role: Role) -> bool {
    role == Role::Admin
}

/// The link a person opens to set their password, on the hub at `public_url`.
pub fn invitation_link(public_url: &str, secret: &str) -> String {
    format!("{}/invitation/{secret}", public_url.trim_end_matches('/'))
}

/// Shortest password accepted (NIST SP 800-63B asks for at least 8; a
/// passphrase of 12 is the agency's rule).
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest: bounds the work one sign-in asks of the server.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A new password: long enough, not absurdly long, not the e-mail itself.
pub fn check_new_password(password: &str, email: &Email) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(field_error(
            "password",
            format!("must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(field_error(
            "password",
            format!("must be at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    if password.trim().to_lowercase() == email.as_str() {
        return Err(field_error("password", "must not be the e-mail address"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_language() {
        let pick = Locale::from_accept_language;
        assert_eq!(pick("pl-PL,pl;q=0.9,en;q=0.8"), Some(Locale::Pl));
        assert_eq!(pick("de-DE,en-GB;q=0.7,pl;q=0.5"), Some(Locale::En));
        assert_eq!(pick("en;q=0.3, pl;q=0.9"), Some(Locale::Pl));
        assert_eq!(pick("EN-us"), Some(Locale::En));
        assert_eq!(pick("de, fr"), None);
        assert_eq!(pick("pl;q=0, en;q=0.1"), Some(Locale::En));
        assert_eq!(pick(""), None);
        assert_eq!(pick("pl;q=abc"), None);
    }

    #[test]
    fn experts_and_clients_name_a_contact_and_staff_do_not() {
        let contact = Some(ContactId::new());
        assert!(NewUser::parse("a@b.pl", "Ala", Role::Expert, contact).is_ok());
        assert!(NewUser::parse("a@b.pl", "Ala", Role::Client, None).is_err());
        assert!(NewUser::parse("a@b.pl", "Ala", Role::Operator, contact).is_err());
        let errors = NewUser::parse("not-mail", "", Role::Admin, None).unwrap_err();
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "display_name"]);
    }

    #[test]
    fn operators_invite_experts_and_clients_and_admins_anyone() {
        assert!(may_invite(Role::Operator, Role::Expert));
        assert!(may_invite(Role::Operator, Role::Client));
        assert!(!may_invite(Role::Operator, Role::Operator));
        assert!(!may_invite(Role::Operator, Role::Admin));
        assert!(may_invite(Role::Admin, Role::Admin));
        assert!(!may_invite(Role::Expert, Role::Client));
        assert!(may_manage_accounts(Role::Admin) && !may_manage_accounts(Role::Operator));
    }

    #[test]
    fn passwords_are_long_bounded_and_not_the_address() {
        let email = Email::parse("ola@agency.pl").unwrap();
        assert!(check_new_password("correct horse battery", &email).is_ok());
        assert!(check_new_password("short", &email).is_err());
        assert!(check_new_password(&"x".repeat(129), &email).is_err());
        assert!(check_new_password("OLA@agency.pl", &email).is_err());
        assert_eq!(check_new_password("zażółć gęślą", &email), Ok(()));
    }
}

//! Intake from a consultation form (Google Forms): a mapping file says which
//! question (by its title or its id) fills which field of the client contact
//! and the project; every other answer is kept verbatim with the intake.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::contact::ContactInput;
use super::ids::ContactId;
use super::project::NewProjectInput;
use super::validation::ValidationErrors;

/// The fields a form answer can fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FormField {
    FullName,
    Email,
    Phone,
    LegalName,
    TaxId,
    Title,
    Spec,
    Skills,
    Industry,
    RequiredDocuments,
}

/// The mapping file: `[fields]` maps a question's title or id to a field.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormMapping {
    #[serde(default)]
    pub fields: BTreeMap<String, FormField>,
    /// The project title when no question gives one ("{name}" is replaced
    /// with the company or the person).
    #[serde(default = "default_title")]
    pub default_title: String,
}

fn default_title() -> String {
    "Consultation request from {name}".into()
}

/// One submitted response, whichever way it arrived.
#[derive(Clone, Debug, PartialEq)]
pub struct FormResponse {
    pub response_id: String,
    pub form_id: Option<String>,
    pub submitted_at: Option<String>,
    pub respondent_email: Option<String>,
    /// `(question title or id, answers)`; a checkbox question has several.
    pub answers: Vec<(String, Vec<String>)>,
}

/// What a response says, ready for validation with the client's id.
#[derive(Clone, Debug)]
pub struct Intake {
    pub contact: ContactInput,
    title: String,
    spec: String,
    skills: Vec<String>,
    industry: Option<String>,
    required_documents: Vec<String>,
    answers: serde_json::Map<String, serde_json::Value>,
}

/// Comparing question titles ignores case and surrounding spaces: forms get
/// retitled with a capital letter more often than renamed.
fn key(s: &str) -> String {
    s.trim().to_lowercase()
}

/// A list answer: checkbox values, or one text split at commas and newlines.
fn list(values: &[String]) -> Vec<String> {
    values
        .iter()
        .flat_map(|v| v.split([',', '\n', ';']))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

impl FormMapping {
    fn field(&self, question: &str) -> Option<FormField> {
        let k = key(question);
        self.fields
            .iter()
            .find(|(q, _)| key(q) == k)
            .map(|(_, f)| *f)
    }

    /// Reads a response through the mapping. Fails only when a question is
    /// answered twice for one field; the values are validated later.
    pub fn read(&self, response: &FormResponse) -> Result<Intake, ValidationErrors> {
        let mut contact = ContactInput::default();
        let (mut title, mut spec) = (None::<String>, None::<String>);
        let (mut skills, mut industry, mut documents) = (Vec::new(), None, Vec::new());
        let mut answers = serde_json::Map::new();
        let mut errors = ValidationErrors::new();
        let mut seen: Vec<FormField> = Vec::new();
        let mut every = Vec::new();
        for (question, values) in &response.answers {
            let joined = values.join(", ").trim().to_owned();
            every.push(format!("{}: {joined}", question.trim()));
            let Some(field) = self.field(question) else {
                let value = match values.as_slice() {
                    [one] => serde_json::Value::String(one.clone()),
                    many => serde_json::json!(many),
                };
                answers.insert(question.trim().to_owned(), value);
                continue;
            };
            if seen.contains(&field) {
                errors.add(
                    field.to_string(),
                    format!("is answered by more than one question (also `{question}`)"),
                );
                continue;
            }
            seen.push(field);
            let text = Some(joined.clone()).filter(|t| !t.is_empty());
            match field {
                FormField::FullName => contact.full_name = joined,
                FormField::Email => contact.email = joined,
                FormField::Phone => contact.phone = text,
                FormField::LegalName => contact.legal_name = text,
                FormField::TaxId => contact.tax_id = text,
                FormField::Title => title = text,
                FormField::Spec => spec = text,
                FormField::Skills => skills = list(values),
                FormField::Industry => industry = text,
                FormField::RequiredDocuments => documents = list(values),
            }
        }
        if contact.email.trim().is_empty() {
            contact.email = response.respondent_email.clone().unwrap_or_default();
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let name = contact
            .legal_name
            .clone()
            .unwrap_or_else(|| contact.full_name.clone());
        let title = title.unwrap_or_else(|| self.default_title.replace("{name}", name.trim()));
        // Without a question for it, the description is the answers themselves.
        let spec = spec.unwrap_or_else(|| every.join("\n"));
        answers.insert(
            "form_response_id".into(),
            response.response_id.clone().into(),
        );
        if let Some(form) = &response.form_id {
            answers.insert("form_id".into(), form.clone().into());
        }
        if let Some(at) = &response.submitted_at {
            answers.insert("submitted_at".into(), at.clone().into());
        }
        Ok(Intake {
            contact,
            title,
            spec,
            skills,
            industry,
            required_documents: documents,
            answers,
        })
    }
}

impl Intake {
    /// The project fields for the client with id `client`.
    pub fn project(&self, client: ContactId) -> NewProjectInput {
        NewProjectInput {
            client_id: client,
            title: self.title.clone(),
            spec: self.spec.clone(),
            skills: self.skills.clone(),
            industry: self.industry.clone(),
            required_documents: self.required_documents.clone(),
            intake: self.answers.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::contact::{ContactKind, NewContact};
    use crate::domain::project::NewProject;

    fn mapping() -> FormMapping {
        FormMapping {
            fields: [
                ("Imię i nazwisko", FormField::FullName),
                ("E-mail", FormField::Email),
                ("Nazwa firmy", FormField::LegalName),
                ("NIP", FormField::TaxId),
                ("Co chcesz zautomatyzować?", FormField::Title),
                ("Opis procesu", FormField::Spec),
                ("1a2b3c4d", FormField::Skills),
            ]
            .into_iter()
            .map(|(q, f)| (q.to_owned(), f))
            .collect(),
            default_title: default_title(),
        }
    }

    fn response(answers: &[(&str, &[&str])]) -> FormResponse {
        FormResponse {
            response_id: "ACYDBNj".into(),
            form_id: Some("1FAIpQL".into()),
            submitted_at: Some("2026-11-30T10:00:00Z".into()),
            respondent_email: Some("anna@kowalska-meble.pl".into()),
            answers: answers
                .iter()
                .map(|(q, a)| (q.to_string(), a.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    #[test]
    fn answers_fill_the_mapped_fields_by_title_or_id_and_the_rest_is_kept() {
        let intake = mapping()
            .read(&response(&[
                ("imię i nazwisko ", &["Anna Kowalska"]),
                ("Nazwa firmy", &["Kowalska Meble Sp. z o.o."]),
                ("NIP", &["526-000-12-46"]),
                ("Co chcesz zautomatyzować?", &["Fakturowanie"]),
                (
                    "Opis procesu",
                    &["Co miesiąc 40 godzin ręcznego fakturowania."],
                ),
                ("1a2b3c4d", &["automation", "python"]),
                ("Ile godzin miesięcznie?", &["40"]),
            ]))
            .unwrap();
        let contact = NewContact::parse(ContactKind::Client, &intake.contact).unwrap();
        assert_eq!(
            contact.email.as_str(),
            "anna@kowalska-meble.pl",
            "the respondent's e-mail"
        );
        let project = NewProject::parse(intake.project(ContactId::new())).unwrap();
        assert_eq!(project.title, "Fakturowanie");
        assert_eq!(project.skills.len(), 2);
        assert_eq!(project.intake["Ile godzin miesięcznie?"], "40");
        assert_eq!(project.intake["form_response_id"], "ACYDBNj");
    }

    #[test]
    fn without_title_or_description_questions_they_are_made_from_the_answers() {
        let intake = mapping()
            .read(&response(&[
                ("Imię i nazwisko", &["Anna Kowalska"]),
                ("Nazwa firmy", &["Kowalska Meble"]),
                ("Ile godzin miesięcznie?", &["40"]),
            ]))
            .unwrap();
        let project = intake.project(ContactId::new());
        assert_eq!(project.title, "Consultation request from Kowalska Meble");
        assert_eq!(
            project.spec,
            "Imię i nazwisko: Anna Kowalska\nNazwa firmy: Kowalska Meble\nIle godzin miesięcznie?: 40"
        );
    }

    #[test]
    fn a_field_answered_twice_is_refused() {
        let mut m = mapping();
        m.fields.insert("Twój e-mail".into(), FormField::Email);
        let errors = m
            .read(&response(&[
                ("E-mail", &["a@b.pl"]),
                ("Twój e-mail", &["c@d.pl"]),
            ]))
            .unwrap_err();
        assert_eq!(errors.0[0].field, "email");
    }
}

//! Client projects: what the client needs and where the project stands.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::document::{DocumentType, document_types};
use super::ids::{ContactId, ProjectId};
use super::lifecycle::ProjectState;
use super::metrics::{Baseline, Outcome, ValueSummary};
use super::validation::{Tag, ValidationErrors, tags, text};

pub const MAX_SPEC_CHARS: usize = 20_000;
const MAX_INTAKE_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Project {
    pub id: ProjectId,
    pub client_id: ContactId,
    pub title: String,
    /// What the client needs, as the expert will read it.
    pub spec: String,
    pub skills: Vec<Tag>,
    pub industry: Option<Tag>,
    /// Document types the client must provide before work starts.
    pub required_documents: Vec<DocumentType>,
    pub state: ProjectState,
    /// The expert offered the project or holding it.
    pub expert_id: Option<ContactId>,
    pub baseline: Option<Baseline>,
    pub outcome: Option<Outcome>,
    /// The consultation answers as given at intake.
    #[schema(value_type = Object)]
    pub intake: serde_json::Map<String, serde_json::Value>,
    /// Ids of this project in the external tracker, board and CRM, once synced.
    pub tracker_ref: Option<String>,
    /// The work task's id in the tracker.
    pub task_ref: Option<String>,
    pub board_ref: Option<String>,
    pub crm_ref: Option<String>,
    /// Increases with every change; send it back as `expected_version` to make
    /// a change only if nobody else changed the project first.
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

impl Project {
    pub fn value(&self) -> Option<ValueSummary> {
        self.baseline
            .as_ref()
            .map(|b| ValueSummary::of(b, self.outcome.as_ref()))
    }
}

/// A consultation (intake) as it arrives from the edge.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewProjectInput {
    pub client_id: ContactId,
    pub title: String,
    pub spec: String,
    #[serde(default)]
    pub skills: Vec<String>,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub required_documents: Vec<String>,
    /// Any further consultation answers, kept verbatim and appended to the client's CRM profile.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub intake: serde_json::Map<String, serde_json::Value>,
}

/// A validated intake.
#[derive(Clone, Debug, PartialEq)]
pub struct NewProject {
    pub client_id: ContactId,
    pub title: String,
    pub spec: String,
    pub skills: Vec<Tag>,
    pub industry: Option<Tag>,
    pub required_documents: Vec<DocumentType>,
    pub intake: serde_json::Map<String, serde_json::Value>,
}

impl NewProject {
    pub fn parse(input: NewProjectInput) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = e.check(text("title", &input.title, 200, false));
        let spec = e.check(text("spec", &input.spec, MAX_SPEC_CHARS, true));
        let skills = e.check(tags("skills", &input.skills, 50));
        let industry = match input.industry.as_deref().map(str::trim) {
            None | Some("") => Some(None),
            Some(v) => e.check(Tag::parse("industry", v)).map(Some),
        };
        let docs = e.check(document_types(
            "required_documents",
            &input.required_documents,
        ));
        let intake_size = serde_json::to_vec(&input.intake).map_or(usize::MAX, |v| v.len());
        if intake_size > MAX_INTAKE_BYTES {
            e.add("intake", "is larger than 64 KiB");
        }
        e.finish(|| NewProject {
            client_id: input.client_id,
            title: title.unwrap(),
            spec: spec.unwrap(),
            skills: skills.unwrap(),
            industry: industry.unwrap(),
            required_documents: docs.unwrap(),
            intake: input.intake,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> NewProjectInput {
        NewProjectInput {
            client_id: ContactId::new(),
            title: " Invoice automation ".into(),
            spec: "Automate\nmonthly invoicing".into(),
            skills: vec!["Python".into(), "python".into()],
            industry: Some("Retail".into()),
            required_documents: vec!["nda".into(), "insurance_certificate".into()],
            intake: serde_json::Map::new(),
        }
    }

    #[test]
    fn an_intake_is_trimmed_and_normalised() {
        let p = NewProject::parse(input()).unwrap();
        assert_eq!(p.title, "Invoice automation");
        assert_eq!(p.skills.len(), 1);
        assert_eq!(p.industry.unwrap().as_str(), "retail");
        assert_eq!(p.required_documents.len(), 2);
    }

    #[test]
    fn a_bad_intake_reports_every_field() {
        let mut bad = input();
        bad.title = "".into();
        bad.spec = " ".into();
        bad.required_documents = vec!["Not A Type".into()];
        let fields: Vec<String> = NewProject::parse(bad)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["title", "spec", "required_documents[0]"]);
    }

    #[test]
    fn a_huge_intake_is_refused() {
        let mut big = input();
        big.intake.insert(
            "notes".into(),
            serde_json::Value::String("x".repeat(70_000)),
        );
        assert!(NewProject::parse(big).is_err());
    }
}

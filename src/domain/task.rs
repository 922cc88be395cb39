//! Tasks in a project's tracker (built-in or Jira).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::{ProjectId, TaskId};
use super::lifecycle::ProjectState;
use super::validation::{ValidationErrors, optional_text, text};

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
pub enum TaskStatus {
    Todo,
    InProgress,
    Done,
}

impl TaskStatus {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Task {
    pub id: TaskId,
    pub project_id: ProjectId,
    pub title: String,
    pub description: Option<String>,
    pub status: TaskStatus,
    /// Who created it, for the audit trail ("operator", "expert", "agent").
    pub created_by: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTaskInput {
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatchInput {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub status: Option<TaskStatus>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NewTask {
    pub title: String,
    pub description: Option<String>,
}

impl NewTask {
    pub fn parse(input: &NewTaskInput) -> Result<Self, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = e.check(text("title", &input.title, 200, false));
        let description = e.check(optional_text(
            "description",
            input.description.as_deref(),
            10_000,
        ));
        e.finish(|| NewTask {
            title: title.unwrap(),
            description: description.unwrap(),
        })
    }
}

/// Tasks live in the tracker project, which exists from intake until the project
/// is archived or cancelled.
pub fn tracker_open(state: ProjectState) -> bool {
    !state.is_terminal()
}

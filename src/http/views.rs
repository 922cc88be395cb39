//! Response shapes that add to the domain types what a client of the API needs.

use serde::Serialize;

use crate::domain::actor::Actor;
use crate::domain::lifecycle::{self, Action, ProjectState, Transition};
use crate::domain::metrics::ValueSummary;
use crate::domain::project::Project;

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 200;

/// The page size asked for with `?limit=`, within bounds.
pub fn page_limit(limit: Option<u32>) -> u32 {
    limit.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE)
}

/// Parses `?after=` (the `next` of the previous page) as an id of the listed kind.
pub fn page_after<T: std::str::FromStr>(
    after: Option<&str>,
) -> Result<Option<T>, super::error::ApiError> {
    after
        .map(|a| {
            a.parse().map_err(|_| {
                super::error::ApiError::bad_request(format!("`after={a}` is not an id"))
            })
        })
        .transpose()
}

/// One page of a list; pass `next` as `after` to get the following page.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page; a full page means there may be more after its last item.
    pub fn of(items: Vec<T>, limit: u32, id: impl Fn(&T) -> String) -> Self {
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(&id))
            .flatten();
        Self { items, next }
    }
}

/// A project with its value figures and the actions this caller may take now.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ProjectView {
    #[serde(flatten)]
    pub project: Project,
    pub value: Option<ValueSummary>,
    pub allowed_actions: Vec<Action>,
}

impl ProjectView {
    pub fn new(project: Project, actor: &Actor) -> Self {
        let allowed_actions = lifecycle::actions_for(actor, project.state, project.expert_id);
        Self {
            value: project.value(),
            project,
            allowed_actions,
        }
    }
}

/// One step taken, with the side effects it queued.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TransitionView {
    pub action: Action,
    pub from: ProjectState,
    pub to: ProjectState,
    /// `agent` for automatic steps.
    pub by: String,
    pub reason: Option<String>,
    pub effects: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TransitionResponse {
    pub project: ProjectView,
    /// The step asked for, then any taken automatically after it.
    pub transitions: Vec<TransitionView>,
}

impl TransitionView {
    pub fn new(t: &Transition, index: usize, caller: &Actor) -> Self {
        // Only the first step is the caller's; later ones are automatic.
        let by = if index == 0 {
            caller.label().to_owned()
        } else {
            "agent".to_owned()
        };
        Self {
            action: t.action,
            from: t.from,
            to: t.to,
            by,
            reason: t.reason.as_ref().map(|r| r.to_string()),
            effects: t.effects.iter().map(|e| e.kind().to_owned()).collect(),
        }
    }
}

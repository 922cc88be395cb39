//! The portfolio at a glance, for the operator console: how many projects
//! stand in each state, which have waited longest, and the value delivered.
//! Counted in SQL so the figures stay cheap with many projects.

use strum::VariantArray;
use time::OffsetDateTime;

use super::codec::{from_json, from_opt_json, parse_col, parse_ts};
use super::{Store, StoreError};
use crate::domain::ids::{ContactId, ProjectId};
use crate::domain::lifecycle::ProjectState;
use crate::domain::metrics::{Baseline, Outcome, ValueSummary};

/// Projects in one state.
#[derive(Clone, Debug, PartialEq)]
pub struct StateCount {
    pub state: ProjectState,
    pub projects: i64,
}

/// A project and how long it has stood in its state.
#[derive(Clone, Debug, PartialEq)]
pub struct Waiting {
    pub id: ProjectId,
    pub title: String,
    pub state: ProjectState,
    pub since: OffsetDateTime,
}

/// Value over the portfolio: what the baselines expect, and what the
/// completed projects realised.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PortfolioValue {
    pub expected: f64,
    pub realised: f64,
    /// Projects with a baseline, and those of them with a realised outcome.
    pub measured: i64,
    pub realised_projects: i64,
}

/// What the dashboard shows about projects.
#[derive(Clone, Debug, PartialEq)]
pub struct Dashboard {
    /// Every state, in lifecycle order, with zero where none stand.
    pub by_state: Vec<StateCount>,
    /// Up to `waiting_per_state` of the longest-waiting projects of each
    /// state that is not final.
    pub waiting: Vec<Waiting>,
    pub value: PortfolioValue,
}

/// States a project can wait in for somebody to act.
fn open_states() -> impl Iterator<Item = ProjectState> {
    ProjectState::VARIANTS
        .iter()
        .copied()
        .filter(|s| !s.is_terminal() && *s != ProjectState::Completed)
}

impl Store {
    pub async fn dashboard(&self, waiting_per_state: u32) -> Result<Dashboard, StoreError> {
        let counts: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM projects GROUP BY state")
                .fetch_all(&self.pool)
                .await?;
        let by_state = ProjectState::VARIANTS
            .iter()
            .map(|&state| StateCount {
                state,
                projects: counts
                    .iter()
                    .find(|(s, _)| s == state.as_str())
                    .map_or(0, |(_, n)| *n),
            })
            .collect();
        let mut waiting = Vec::new();
        for state in open_states() {
            let rows: Vec<(String, String, String)> = sqlx::query_as(
                "SELECT id, title, state_since FROM projects WHERE state = $1
                 ORDER BY state_since, id LIMIT $2",
            )
            .bind(state.as_str())
            .bind(i64::from(waiting_per_state))
            .fetch_all(&self.pool)
            .await?;
            for (id, title, since) in rows {
                waiting.push(Waiting {
                    id: parse_col("projects.id", &id)?,
                    title,
                    state,
                    since: parse_ts(&since)?,
                });
            }
        }
        Ok(Dashboard {
            by_state,
            waiting,
            value: self.portfolio_value().await?,
        })
    }

    async fn portfolio_value(&self) -> Result<PortfolioValue, StoreError> {
        let rows: Vec<(Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT baseline, outcome FROM projects WHERE baseline IS NOT NULL AND state <> 'cancelled'",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut value = PortfolioValue::default();
        for (baseline, outcome) in rows {
            let Some(baseline) =
                from_opt_json::<Baseline>("projects.baseline", baseline.as_deref())?
            else {
                continue;
            };
            let outcome = from_opt_json::<Outcome>("projects.outcome", outcome.as_deref())?;
            let summary = ValueSummary::of(&baseline, outcome.as_ref());
            value.measured += 1;
            value.expected += summary.expected_value;
            if let Some(realised) = summary.realised_value {
                value.realised += realised;
                value.realised_projects += 1;
            }
        }
        Ok(value)
    }
}

/// Which projects the board shows.
#[derive(Clone, Debug, Default)]
pub struct BoardFilter {
    pub client: Option<ContactId>,
    pub expert: Option<ContactId>,
    pub industry: Option<String>,
    pub limit: u32,
}

/// A project as a card on the board.
#[derive(Clone, Debug, PartialEq)]
pub struct Card {
    pub id: ProjectId,
    pub title: String,
    pub state: ProjectState,
    pub since: OffsetDateTime,
    pub client: String,
    pub expert: Option<String>,
    pub expert_id: Option<ContactId>,
    pub industry: Option<String>,
    /// Required document types not approved yet.
    pub missing: usize,
}

type CardRow = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    i64,
);

impl Store {
    /// Every project matching `filter` as a card, longest in its state first,
    /// with its client's and expert's names and its missing documents, in
    /// one query.
    pub async fn board(&self, filter: &BoardFilter) -> Result<Vec<Card>, StoreError> {
        let rows: Vec<CardRow> = sqlx::query_as(
            "SELECT p.id, p.title, p.state, COALESCE(p.state_since, p.updated_at), c.full_name, e.full_name, p.expert_id,
                    p.industry, p.required_documents,
                    (SELECT COUNT(*) FROM project_documents d WHERE d.project_id = p.id AND d.status = 'approved')
             FROM projects p JOIN contacts c ON c.id = p.client_id LEFT JOIN contacts e ON e.id = p.expert_id
             WHERE ($1 IS NULL OR p.client_id = $1) AND ($2 IS NULL OR p.expert_id = $2) AND ($3 IS NULL OR p.industry = $3)
             ORDER BY COALESCE(p.state_since, p.updated_at), p.id LIMIT $4",
        )
        .bind(filter.client.map(|c| c.to_string()))
        .bind(filter.expert.map(|e| e.to_string()))
        // Stored as JSON, as every tag is.
        .bind(filter.industry.as_ref().map(|i| serde_json::Value::from(i.as_str()).to_string()))
        .bind(i64::from(filter.limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(
                |(
                    id,
                    title,
                    state,
                    since,
                    client,
                    expert,
                    expert_id,
                    industry,
                    required,
                    approved,
                )| {
                    let required: Vec<String> =
                        from_json("projects.required_documents", &required)?;
                    Ok(Card {
                        id: parse_col("projects.id", &id)?,
                        title,
                        state: parse_col("projects.state", &state)?,
                        since: parse_ts(&since)?,
                        client,
                        expert,
                        expert_id: expert_id
                            .map(|e| parse_col("projects.expert_id", &e))
                            .transpose()?,
                        industry: from_opt_json("projects.industry", industry.as_deref())?,
                        missing: required
                            .len()
                            .saturating_sub(usize::try_from(approved).unwrap_or(0)),
                    })
                },
            )
            .collect()
    }

    /// The industries projects name, for the board's filter.
    pub async fn project_industries(&self) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT DISTINCT industry FROM projects WHERE industry IS NOT NULL ORDER BY industry",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|(i,)| from_json("projects.industry", i))
            .collect()
    }
}

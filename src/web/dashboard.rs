//! The operator's dashboard: projects by state and those waiting longest,
//! the review queue, failed deliveries per connector, credentials about to
//! expire, the value delivered, and the audit chain's head.

use askama::Template;

use super::WebState;
use super::errors::PageError;
use super::i18n::Tr;
use super::page::Chrome;
use super::session::SignedIn;
use crate::domain::document::{Document, DocumentSubject};
use crate::store::{Dashboard, LaneStats};

/// How many of the longest-waiting projects each state lists.
const WAITING_PER_STATE: u32 = 3;

/// One connector lane with the tool behind it.
pub struct LaneRow {
    pub lane_key: String,
    pub tool: &'static str,
    pub stats: LaneStats,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage {
    pub tr: Tr,
    pub chrome: Chrome,
    pub summary: Dashboard,
    pub queued: i64,
    pub review: i64,
    pub lanes: Vec<LaneRow>,
    pub expiring: Vec<Document>,
    pub warning_days: u32,
    pub chain_seq: i64,
    pub chain_hash: String,
}

impl DashboardPage {
    pub fn state_key(&self, state: &crate::domain::lifecycle::ProjectState) -> String {
        format!("state-{}", state.as_str())
    }

    pub fn subject_key(&self, doc: &Document) -> &'static str {
        match doc.subject {
            DocumentSubject::Project(_) => "subject-project",
            DocumentSubject::Expert(_) => "subject-expert",
        }
    }

    pub fn failed_total(&self) -> i64 {
        self.lanes.iter().map(|l| l.stats.failed).sum()
    }
}

pub async fn page(state: &WebState, signed: &SignedIn) -> Result<DashboardPage, PageError> {
    let store = &state.app.store;
    let summary = store.dashboard(WAITING_PER_STATE).await?;
    let (queued, review) = store.document_queues().await?;
    let tools = super::deliveries::Tools::of(state);
    let lanes = store
        .lane_stats()
        .await?
        .into_iter()
        .map(|stats| LaneRow {
            lane_key: super::deliveries::lane_key(stats.lane),
            tool: tools.tool(stats.lane),
            stats,
        })
        .collect();
    let today = crate::store::now().date();
    let warning_days = state.app.expiry_warning_days;
    let until = today.saturating_add(time::Duration::days(i64::from(warning_days)));
    let expiring = store.expiring_documents(today, until).await?;
    let head = store.audit_head().await?;
    Ok(DashboardPage {
        tr: signed.tr().clone(),
        chrome: Chrome::of(signed, "dashboard"),
        summary,
        queued,
        review,
        lanes,
        expiring,
        warning_days,
        chain_seq: head.seq,
        chain_hash: head.hash.chars().take(12).collect(),
    })
}

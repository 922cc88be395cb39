//! The board: one column per lifecycle state, a card per project (client,
//! expert, days in the state, documents missing), filtered by expert,
//! client and industry. Dragging a card to another column opens that step
//! on the project's page, with its reason field where it needs one: the
//! step is taken, or refused with its reason, there. Without script, each
//! card links to the same page.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;
use strum::VariantArray;

use super::WebState;
use super::errors::PageError;
use super::i18n::Tr;
use super::page::{Chrome, render};
use super::session::SignedIn;
use crate::domain::actor::Actor;
use crate::domain::contact::{Contact, ContactKind};
use crate::domain::lifecycle::{self, ProjectState};
use crate::store::{BoardFilter, Card};

/// Cards on the board at most; filters narrow it.
const BOARD_CARDS: u32 = 500;
/// Contacts offered in each filter.
const FILTER_CHOICES: u32 = 500;

#[derive(Debug, Default, Deserialize)]
pub struct Filters {
    #[serde(default)]
    client: String,
    #[serde(default)]
    expert: String,
    #[serde(default)]
    industry: String,
}

pub struct Column {
    pub state: ProjectState,
    pub cards: Vec<Card>,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    tr: Tr,
    chrome: Chrome,
    columns: Vec<Column>,
    clients: Vec<Contact>,
    experts: Vec<Contact>,
    industries: Vec<String>,
    filters: Filters,
    actor: Actor,
}

impl BoardPage {
    fn state_key(&self, state: &ProjectState) -> String {
        format!("state-{}", state.as_str())
    }

    /// Where the reader may move `card`: `state=action` pairs for the script.
    fn moves(&self, card: &Card) -> String {
        lifecycle::actions_for(&self.actor, card.state, card.expert_id)
            .into_iter()
            .filter_map(|a| {
                lifecycle::target(card.state, a).map(|to| format!("{}={}", to.as_str(), a.as_str()))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn total(&self) -> usize {
        self.columns.iter().map(|c| c.cards.len()).sum()
    }
}

fn chosen(text: &str) -> Option<String> {
    Some(text.trim().to_owned()).filter(|t| !t.is_empty())
}

pub async fn board(
    State(state): State<WebState>,
    signed: SignedIn,
    Query(filters): Query<Filters>,
) -> Result<Response, PageError> {
    signed.require_staff()?;
    let store = &state.app.store;
    let filter = BoardFilter {
        // An id that does not parse matches nothing, as an unknown one does.
        client: chosen(&filters.client).map(|c| c.parse().unwrap_or_default()),
        expert: chosen(&filters.expert).map(|e| e.parse().unwrap_or_default()),
        industry: chosen(&filters.industry),
        limit: BOARD_CARDS,
    };
    let mut cards = store.board(&filter).await?;
    let columns = ProjectState::VARIANTS
        .iter()
        .map(|s| Column {
            state: *s,
            cards: cards.extract_if(.., |c| c.state == *s).collect(),
        })
        .collect();
    Ok(render(&BoardPage {
        tr: signed.tr().clone(),
        chrome: Chrome::of(&signed, "board"),
        columns,
        clients: store
            .list_contacts(Some(ContactKind::Client), None, FILTER_CHOICES)
            .await?,
        experts: store
            .list_contacts(Some(ContactKind::Expert), None, FILTER_CHOICES)
            .await?,
        industries: store.project_industries().await?,
        filters,
        actor: signed.user().actor(),
    }))
}

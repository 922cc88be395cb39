//! Trello as the board (REST API v1). A project's record is a card on the
//! configured board, in the list named after its state (lists are created as
//! needed); the required documents are a checklist on it, ticked as they are
//! approved; its value figures are in its description; the completion export
//! is attached; helpdesk messages become comments. Every call is safe to
//! repeat: the card is found by the SSoT id in its description, checklist
//! items and attachments by name.

use std::time::Duration;

use async_trait::async_trait;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::http::{Api, Secret, clip};
use super::settings::TrelloSettings;
use super::{Board, ConnectorError, ExportFile};
use crate::domain::document::DocumentType;
use crate::domain::lifecycle::ProjectState;
use crate::domain::metrics::ValueSummary;
use crate::domain::project::Project;
use crate::domain::ticket::Message;

/// The checklist of credentialing documents on a card.
const CHECKLIST: &str = "Credentialing documents";

pub struct Trello {
    api: Api,
    key: String,
    token: Secret,
    settings: TrelloSettings,
    /// Held while looking a list up and creating it, so two workers moving
    /// cards to a new state make one list, not two.
    list_creation: tokio::sync::Mutex<()>,
}

/// Trello answers 4xx with plain text and 429 with `{error, message}`.
fn describe(body: &str) -> String {
    match serde_json::from_str::<Value>(body) {
        Ok(v) => match (v["message"].as_str(), v["error"].as_str()) {
            (Some(m), Some(e)) => format!("{m} ({e})"),
            (Some(m), None) => m.to_owned(),
            (None, Some(e)) => e.to_owned(),
            _ => clip(body),
        },
        Err(_) => clip(body),
    }
}

/// The list a state's cards sit in: the state's name, capitalised.
pub fn list_name(state: ProjectState) -> String {
    let name = state.as_str().replace('_', " ");
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => name,
    }
}

/// The first line of a card's description, by which it is recognised.
fn marker(project: &Project) -> String {
    format!("SSoT-Lite project {}", project.id)
}

fn description(project: &Project, value: Option<&ValueSummary>) -> String {
    let mut desc = format!("{}\n\n{}", marker(project), project.spec);
    if let Some(v) = value {
        desc.push_str(&format!(
            "\n\n**Value**: expected {:.0} (TS-ROI {:.2})",
            v.expected_value, v.expected_roi
        ));
        if let (Some(value), Some(roi)) = (v.realised_value, v.realised_roi) {
            desc.push_str(&format!("; realised {value:.0} (TS-ROI {roi:.2})"));
        }
    }
    desc
}

#[derive(Debug, Deserialize)]
struct Named {
    id: String,
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
struct Checklist {
    id: String,
    name: String,
    #[serde(default, rename = "checkItems")]
    items: Vec<Named>,
}

impl Trello {
    pub fn new(settings: TrelloSettings, token: Secret, timeout: Duration) -> Self {
        let api = Api::new(
            "Trello",
            &settings.base_url,
            settings.requests_per_second,
            timeout,
            describe,
        );
        Self {
            api,
            key: settings.api_key.clone(),
            token,
            settings,
            list_creation: tokio::sync::Mutex::new(()),
        }
    }

    /// The token goes in a header, not the query (it is in one path only, the
    /// webhook list, and reqwest's errors are stripped of URLs).
    fn call(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.api.request(method, path).header(
            reqwest::header::AUTHORIZATION,
            format!(
                "OAuth oauth_consumer_key=\"{}\", oauth_token=\"{}\"",
                self.key,
                self.token.expose()
            ),
        )
    }

    fn card<'a>(&self, project: &'a Project) -> Result<&'a str, ConnectorError> {
        project.board_ref.as_deref().ok_or_else(|| {
            ConnectorError::Permanent(format!(
                "project {} has no Trello card yet (its creation has not been delivered)",
                project.id
            ))
        })
    }

    /// The open lists of the board named `name`, oldest first (Trello ids
    /// begin with their creation time).
    async fn lists_named(&self, name: &str) -> Result<Vec<String>, ConnectorError> {
        let board = &self.settings.board_id;
        let lists: Vec<Named> = self
            .api
            .json(self.call(Method::GET, &format!("/boards/{board}/lists")))
            .await?;
        let mut ids: Vec<String> = lists
            .into_iter()
            .filter(|l| l.name.eq_ignore_ascii_case(name))
            .map(|l| l.id)
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The id of the board's list for `state`, created when missing. Should
    /// another process create it at the same moment, both then use the
    /// older of the two.
    async fn list_for(&self, state: ProjectState) -> Result<String, ConnectorError> {
        let name = list_name(state);
        let _creating = self.list_creation.lock().await;
        if let Some(oldest) = self.lists_named(&name).await?.into_iter().next() {
            return Ok(oldest);
        }
        let created: Named = self
            .api
            .json(self.call(Method::POST, "/lists").query(&[
                ("name", name.as_str()),
                ("idBoard", self.settings.board_id.as_str()),
                ("pos", "bottom"),
            ]))
            .await?;
        let oldest = self.lists_named(&name).await?.into_iter().next();
        Ok(oldest.unwrap_or(created.id))
    }

    async fn checklists(&self, card: &str) -> Result<Vec<Checklist>, ConnectorError> {
        self.api
            .json(self.call(Method::GET, &format!("/cards/{card}/checklists")))
            .await
    }

    async fn documents_checklist(&self, card: &str) -> Result<Checklist, ConnectorError> {
        if let Some(c) = self
            .checklists(card)
            .await?
            .into_iter()
            .find(|c| c.name == CHECKLIST)
        {
            return Ok(c);
        }
        self.api
            .json(
                self.call(Method::POST, &format!("/cards/{card}/checklists"))
                    .query(&[("name", CHECKLIST)]),
            )
            .await
    }

    async fn add_item(
        &self,
        checklist: &str,
        name: &str,
        checked: bool,
    ) -> Result<(), ConnectorError> {
        self.api
            .json::<Value>(
                self.call(Method::POST, &format!("/checklists/{checklist}/checkItems"))
                    .query(&[
                        ("name", name),
                        ("checked", if checked { "true" } else { "false" }),
                    ]),
            )
            .await?;
        Ok(())
    }

    /// Registers the hub's webhook for the board unless it is there already.
    /// Trello checks the URL with a HEAD request before it accepts it.
    pub async fn ensure_webhook(&self, callback_url: &str) -> Result<bool, ConnectorError> {
        #[derive(Deserialize)]
        struct Hook {
            #[serde(rename = "callbackURL")]
            callback_url: String,
            #[serde(rename = "idModel")]
            id_model: String,
        }
        let hooks: Vec<Hook> = self
            .api
            .json(self.call(
                Method::GET,
                &format!("/tokens/{}/webhooks", self.token.expose()),
            ))
            .await?;
        let board = &self.settings.board_id;
        if hooks
            .iter()
            .any(|h| h.callback_url == callback_url && &h.id_model == board)
        {
            return Ok(false);
        }
        self.api
            .json::<Value>(self.call(Method::POST, "/webhooks").json(&json!({
                "callbackURL": callback_url,
                "idModel": board,
                "description": "SSoT-Lite helpdesk mirror",
            })))
            .await?;
        Ok(true)
    }
}

#[async_trait]
impl Board for Trello {
    fn name(&self) -> &'static str {
        "trello"
    }

    async fn create_record(&self, _key: &str, project: &Project) -> Result<String, ConnectorError> {
        let board = &self.settings.board_id;
        let ours = marker(project);
        #[derive(Deserialize)]
        struct Card {
            id: String,
            #[serde(default)]
            desc: String,
        }
        // A card made by an earlier attempt whose answer was lost.
        let cards: Vec<Card> = self
            .api
            .json(self.call(Method::GET, &format!("/boards/{board}/cards")))
            .await?;
        if let Some(card) = cards.into_iter().find(|c| c.desc.starts_with(&ours)) {
            return Ok(card.id);
        }
        let list = self.list_for(project.state).await?;
        let created: Named = self
            .api
            .json(self.call(Method::POST, "/cards").json(&json!({
                "idList": list,
                "name": project.title,
                "desc": description(project, project.value().as_ref()),
                "pos": "bottom",
            })))
            .await?;
        tracing::info!(project = %project.id, card = %created.id, "Trello card created");
        Ok(created.id)
    }

    async fn move_card(
        &self,
        _key: &str,
        project: &Project,
        state: ProjectState,
    ) -> Result<(), ConnectorError> {
        let card = self.card(project)?;
        let list = self.list_for(state).await?;
        let moved: Value = self
            .api
            .json(
                self.call(Method::PUT, &format!("/cards/{card}"))
                    .json(&json!({ "idList": list })),
            )
            .await?;
        if moved["idList"].as_str() != Some(list.as_str()) {
            return Err(ConnectorError::Transient(format!(
                "Trello did not confirm card {card} in list {list}"
            )));
        }
        Ok(())
    }

    async fn document_checklist(
        &self,
        _key: &str,
        project: &Project,
        documents: &[DocumentType],
    ) -> Result<(), ConnectorError> {
        let card = self.card(project)?;
        let checklist = self.documents_checklist(card).await?;
        for doc in documents {
            if !checklist.items.iter().any(|i| i.name == doc.as_str()) {
                self.add_item(&checklist.id, doc.as_str(), false).await?;
            }
        }
        Ok(())
    }

    async fn check_document(
        &self,
        _key: &str,
        project: &Project,
        document: &DocumentType,
        approved: bool,
    ) -> Result<(), ConnectorError> {
        let card = self.card(project)?;
        let checklist = self.documents_checklist(card).await?;
        match checklist.items.iter().find(|i| i.name == document.as_str()) {
            Some(item) => {
                let state = if approved { "complete" } else { "incomplete" };
                self.api
                    .json::<Value>(
                        self.call(Method::PUT, &format!("/cards/{card}/checkItem/{}", item.id))
                            .query(&[("state", state)]),
                    )
                    .await?;
            }
            None => {
                self.add_item(&checklist.id, document.as_str(), approved)
                    .await?
            }
        }
        Ok(())
    }

    async fn attach(
        &self,
        _key: &str,
        project: &Project,
        file: &ExportFile,
    ) -> Result<(), ConnectorError> {
        // The export comes from the tracker's lane; the card may still be on its way.
        let card = self
            .card(project)
            .map_err(|e| ConnectorError::Transient(e.to_string()))?;
        let existing: Vec<Named> = self
            .api
            .json(self.call(Method::GET, &format!("/cards/{card}/attachments")))
            .await?;
        if existing.iter().any(|a| a.name == file.filename) {
            return Ok(());
        }
        let part = reqwest::multipart::Part::bytes(file.body.clone().into_bytes())
            .file_name(file.filename.clone())
            .mime_str(&file.content_type)
            .map_err(|e| ConnectorError::Permanent(format!("bad content type: {e}")))?;
        let form = reqwest::multipart::Form::new()
            .text("name", file.filename.clone())
            .text("mimeType", file.content_type.clone())
            .part("file", part);
        self.api
            .json::<Value>(
                self.call(Method::POST, &format!("/cards/{card}/attachments"))
                    .multipart(form),
            )
            .await?;
        tracing::info!(project = %project.id, card, file = %file.filename, "export attached to the Trello card");
        Ok(())
    }

    async fn record_value(
        &self,
        _key: &str,
        project: &Project,
        value: &ValueSummary,
    ) -> Result<(), ConnectorError> {
        let card = self.card(project)?;
        self.api
            .json::<Value>(
                self.call(Method::PUT, &format!("/cards/{card}"))
                    .json(&json!({ "desc": description(project, Some(value)) })),
            )
            .await?;
        Ok(())
    }

    async fn comment(
        &self,
        _key: &str,
        project: &Project,
        ticket_subject: &str,
        message: &Message,
    ) -> Result<Option<String>, ConnectorError> {
        // Messages are mirrored from acceptance on; one from before has no card.
        let Some(card) = project.board_ref.as_deref() else {
            tracing::info!(project = %project.id, message = %message.id, "no Trello card yet; message not mirrored");
            return Ok(None);
        };
        let tag = comment_tag(&message.id.to_string());
        // Posted by an earlier attempt whose answer was lost: usually on the
        // first page (newest first), but a busy card may have moved it on.
        for page in 0..COMMENT_PAGES {
            let comments: Vec<Value> = self
                .api
                .json(
                    self.call(Method::GET, &format!("/cards/{card}/actions"))
                        .query(&[("filter", "commentCard"), ("page", &page.to_string())]),
                )
                .await?;
            if let Some(id) = comments
                .iter()
                .find(|a| a["data"]["text"].as_str().is_some_and(|t| t.contains(&tag)))
                .and_then(|a| a["id"].as_str())
            {
                return Ok(Some(id.to_owned()));
            }
            if comments.len() < COMMENTS_PER_PAGE {
                break;
            }
        }
        let body = within_query_budget(&message.body, MAX_COMMENT_QUERY_BYTES);
        let cut = if body.len() < message.body.len() {
            " […]"
        } else {
            ""
        };
        let text = format!(
            "**{}** ({}), on \"{ticket_subject}\":\n\n{body}{cut}\n\n{tag}",
            message.author_label, message.author_role
        );
        let action: Named = self
            .api
            .json(
                self.call(Method::POST, &format!("/cards/{card}/actions/comments"))
                    .query(&[("text", text.as_str())]),
            )
            .await?;
        Ok(Some(action.id))
    }
}

/// Trello's pages of card actions: 50 each, pages 0 to 19.
const COMMENTS_PER_PAGE: usize = 50;
const COMMENT_PAGES: usize = 20;

/// Most of a message mirrored, counted as it travels: percent-encoded in the
/// query string (the only place Trello's comment call takes it), kept well
/// under the 8 KiB request line common proxies accept.
const MAX_COMMENT_QUERY_BYTES: usize = 6000;

/// The longest start of `text` whose percent-encoding fits in `budget` bytes.
fn within_query_budget(text: &str, budget: usize) -> &str {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        // As reqwest encodes a query: these stay, a space becomes `+`.
        used += if c.is_ascii_alphanumeric() || "*-._ ".contains(c) {
            1
        } else {
            3 * c.len_utf8()
        };
        if used > budget {
            return &text[..at];
        }
    }
    text
}

/// The line that ends every comment the hub posts: it names the message, so a
/// repeated delivery finds its comment and the webhook knows the hub's own.
pub fn comment_tag(message_id: &str) -> String {
    format!("{COMMENT_TAG_PREFIX}{message_id}")
}

pub const COMMENT_TAG_PREFIX: &str = "— mirrored by SSoT-Lite, message ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_cut_to_what_fits_in_the_query_string() {
        assert_eq!(within_query_budget("abc", 3), "abc");
        assert_eq!(within_query_budget("abcd", 3), "abc");
        // `ż` is two bytes, six once encoded.
        assert_eq!(within_query_budget("ażb", 7), "aż");
        assert_eq!(within_query_budget("ażb", 6), "a");
        let polish = "Zażółć gęślą jaźń. ".repeat(1000);
        let cut = within_query_budget(&polish, MAX_COMMENT_QUERY_BYTES);
        assert!(polish.starts_with(cut) && cut.len() < polish.len());
        let query =
            reqwest::Url::parse_with_params("https://t.example/c", &[("text", cut)]).unwrap();
        let encoded = query.query().unwrap().len() - "text=".len();
        assert!(
            encoded <= MAX_COMMENT_QUERY_BYTES && encoded > MAX_COMMENT_QUERY_BYTES - 20,
            "{encoded}"
        );
    }

    #[test]
    fn lists_are_named_after_states() {
        assert_eq!(list_name(ProjectState::Credentialing), "Credentialing");
        assert_eq!(list_name(ProjectState::Active), "Active");
    }

    #[test]
    fn errors_read_as_one_line() {
        assert_eq!(describe("invalid id"), "invalid id");
        assert_eq!(
            describe(r#"{"error":"API_TOKEN_LIMIT_EXCEEDED","message":"Rate limit exceeded"}"#),
            "Rate limit exceeded (API_TOKEN_LIMIT_EXCEEDED)"
        );
    }
}

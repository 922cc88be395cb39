//! A fake Trello REST API v1 (contract section 2): boards, lists, cards,
//! checklists, comments, attachments and webhooks, with Trello's habits —
//! 24-hex ids, parameters in the query (or a JSON or form body), plain-text
//! 4xx bodies, a `HEAD` probe before a webhook is created, and callbacks signed
//! with the app secret. Simulated users comment on and move cards.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::faults::{self, Faults};
use super::{Fault, Recorded, is_json, now_iso, param, serve};

mod cards;
mod tests;
mod webhooks;

use cards::{
    add_attachment, add_check_item, add_checklist, add_comment, card_actions, card_attachments,
    card_checklists, create_board, create_card, create_list, get_board, get_card, list_board_cards,
    list_lists, set_check_item, update_card,
};
pub use webhooks::{TrelloSigning, sign};
use webhooks::{create_token_webhook, create_webhook, delete_webhook, get_webhook, token_webhooks};

/// Positions are spaced so that cards can be put between others.
const POS_STEP: f64 = 16384.0;

pub struct TrelloFake {
    /// `http://127.0.0.1:PORT/1`, like `https://api.trello.com/1`.
    pub base_url: String,
    db: Shared,
    faults: Faults,
}

type Shared = Arc<Mutex<Db>>;

struct Db {
    key: String,
    token: String,
    secret: String,
    signing: TrelloSigning,
    next_id: u64,
    /// The token's own member first, then simulated users.
    members: Vec<Member>,
    boards: Vec<Board>,
    lists: Vec<List>,
    cards: Vec<Card>,
    checklists: Vec<Checklist>,
    /// Card actions as Trello shows them (`commentCard`, `updateCard`), oldest first.
    actions: Vec<(String, Value)>,
    attachments: Vec<StoredAttachment>,
    webhooks: Vec<Webhook>,
}

#[derive(Clone)]
struct Member {
    id: String,
    full_name: String,
    username: String,
}

struct Board {
    id: String,
    name: String,
    short_link: String,
}

struct List {
    id: String,
    name: String,
    closed: bool,
    pos: f64,
    board: String,
}

struct Card {
    id: String,
    name: String,
    desc: String,
    list: String,
    board: String,
    closed: bool,
    pos: f64,
    due: Option<String>,
    short_link: String,
    id_short: u64,
    last_activity: String,
}

struct Checklist {
    id: String,
    name: String,
    card: String,
    board: String,
    pos: f64,
    items: Vec<CheckItem>,
}

struct CheckItem {
    id: String,
    name: String,
    complete: bool,
    pos: f64,
}

/// An attachment as stored: the uploaded bytes, or a link.
#[derive(Clone, Debug)]
pub struct StoredAttachment {
    pub id: String,
    pub card: String,
    pub name: String,
    pub mime_type: String,
    pub url: String,
    /// The uploaded bytes; `None` for a link attachment.
    pub bytes: Option<Vec<u8>>,
    pub date: String,
}

struct Webhook {
    id: String,
    description: String,
    id_model: String,
    callback_url: String,
    active: bool,
    consecutive_failures: u64,
    first_fail_date: Option<String>,
}

impl TrelloFake {
    pub async fn start(api_key: &str, token: &str, app_secret: &str) -> Self {
        let faults = Faults::new(render_fault);
        let mut db = Db {
            key: api_key.to_owned(),
            token: token.to_owned(),
            secret: app_secret.to_owned(),
            signing: TrelloSigning::Utf8,
            next_id: 1,
            members: Vec::new(),
            boards: Vec::new(),
            lists: Vec::new(),
            cards: Vec::new(),
            checklists: Vec::new(),
            actions: Vec::new(),
            attachments: Vec::new(),
            webhooks: Vec::new(),
        };
        db.member("Hub Integration");
        let db: Shared = Arc::new(Mutex::new(db));
        let base = serve(|_| faults.wrap(router(db.clone()))).await;
        Self {
            base_url: format!("{base}/1"),
            db,
            faults,
        }
    }

    /// The next `times` requests, whatever the path, get `fault`.
    pub fn inject(&self, fault: Fault, times: usize) {
        self.faults.inject(None, fault, times);
    }

    /// The next `times` requests whose path contains `path_contains` get `fault`.
    pub fn inject_on(&self, path_contains: &str, fault: Fault, times: usize) {
        self.faults.inject(Some(path_contains), fault, times);
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.faults.requests()
    }

    /// How callbacks are signed (default: the UTF-8 bytes of body + callback URL).
    pub fn set_signing(&self, signing: TrelloSigning) {
        lock(&self.db).signing = signing;
    }

    /// A board with Trello's default lists (To Do, Doing, Done); its id.
    pub fn add_board(&self, name: &str) -> String {
        lock(&self.db).add_board(name, true)
    }

    /// The token's own member id: the author of comments posted through the API.
    pub fn member_id(&self) -> String {
        lock(&self.db).members[0].id.clone()
    }

    /// Every card, as [`TrelloFake::card`] shows it.
    pub fn cards(&self) -> Vec<Value> {
        let db = lock(&self.db);
        db.cards.iter().map(|c| db.inspect_card(c)).collect()
    }

    /// A card as the API shows it, plus `listName`, `checklists` (items with
    /// states), `comments` (text and author) and `attachments` (`text` is the
    /// upload read as UTF-8; see [`TrelloFake::attachments`] for the bytes).
    pub fn card(&self, id: &str) -> Option<Value> {
        let db = lock(&self.db);
        db.cards
            .iter()
            .find(|c| c.id == id)
            .map(|c| db.inspect_card(c))
    }

    /// The attachments on a card, uploaded bytes included.
    pub fn attachments(&self, card_id: &str) -> Vec<StoredAttachment> {
        lock(&self.db)
            .attachments
            .iter()
            .filter(|a| a.card == card_id)
            .cloned()
            .collect()
    }

    /// The open lists of a board in position order, as (id, name).
    pub fn lists(&self, board: &str) -> Vec<(String, String)> {
        lock(&self.db)
            .open_lists(board)
            .into_iter()
            .map(|l| (l.id.clone(), l.name.clone()))
            .collect()
    }

    /// Every webhook as `GET /webhooks/{id}` shows it.
    pub fn webhooks(&self) -> Vec<Value> {
        let db = lock(&self.db);
        db.webhooks.iter().map(webhooks::webhook_json).collect()
    }
}

fn lock(db: &Shared) -> MutexGuard<'_, Db> {
    db.lock().unwrap_or_else(|e| e.into_inner())
}

fn router(db: Shared) -> Router {
    Router::new()
        .route("/1/members/me", get(me))
        .route("/1/boards", post(create_board))
        .route("/1/boards/", post(create_board))
        .route("/1/boards/{id}", get(get_board))
        .route("/1/boards/{id}/lists", get(list_lists))
        .route("/1/boards/{id}/cards", get(list_board_cards))
        .route("/1/lists", post(create_list))
        .route("/1/cards", post(create_card))
        .route("/1/cards/{id}", get(get_card).put(update_card))
        .route(
            "/1/cards/{id}/checklists",
            get(card_checklists).post(add_checklist),
        )
        .route("/1/checklists/{id}/checkItems", post(add_check_item))
        .route("/1/cards/{card}/checkItem/{item}", put(set_check_item))
        .route("/1/cards/{id}/actions/comments", post(add_comment))
        .route("/1/cards/{id}/actions", get(card_actions))
        .route(
            "/1/cards/{id}/attachments",
            get(card_attachments).post(add_attachment),
        )
        .route("/1/webhooks", post(create_webhook))
        .route("/1/webhooks/", post(create_webhook))
        .route("/1/webhooks/{id}", get(get_webhook).delete(delete_webhook))
        .route(
            "/1/tokens/{token}/webhooks",
            get(token_webhooks).post(create_token_webhook),
        )
        .fallback(no_route)
        .layer(middleware::from_fn_with_state(db.clone(), authenticate))
        .with_state(db)
}

// ---------- errors, auth, parameters ----------

/// Trello's 4xx bodies are mostly plain text.
struct TrelloError(StatusCode, String);

impl IntoResponse for TrelloError {
    fn into_response(self) -> Response {
        (
            self.0,
            [("content-type", "text/plain; charset=utf-8")],
            self.1,
        )
            .into_response()
    }
}

type Reply = Result<Response, TrelloError>;

fn bad(text: impl Into<String>) -> TrelloError {
    TrelloError(StatusCode::BAD_REQUEST, text.into())
}

fn not_found() -> TrelloError {
    TrelloError(
        StatusCode::NOT_FOUND,
        "The requested resource was not found.".into(),
    )
}

fn unauthorized(text: &str) -> Response {
    TrelloError(StatusCode::UNAUTHORIZED, text.into()).into_response()
}

fn render_fault(fault: &Fault) -> Response {
    match fault {
        Fault::RateLimited { retry_after_secs } => {
            let body =
                json!({ "error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded" });
            let limited = (StatusCode::TOO_MANY_REQUESTS, Json(body));
            // Trello does not document Retry-After; send it only when the test asks.
            match *retry_after_secs {
                0 => limited.into_response(),
                secs => (faults::retry_after(secs), limited).into_response(),
            }
        }
        Fault::ServerError => TrelloError(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error".into(),
        )
        .into_response(),
        Fault::LostAnswer => unreachable!("the middleware answers a lost answer itself"),
        Fault::Unauthorized => unauthorized("unauthorized permission requested"),
        Fault::Malformed => faults::malformed(),
        Fault::Slow(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn no_route(req: Request) -> TrelloError {
    TrelloError(
        StatusCode::NOT_FOUND,
        format!("Cannot {} {}", req.method(), req.uri().path()),
    )
}

/// `key` and `token` from the query, or from
/// `Authorization: OAuth oauth_consumer_key="…", oauth_token="…"`.
fn credentials(req: &Request) -> (Option<String>, Option<String>) {
    let query: Vec<(String, String)> = Query::try_from_uri(req.uri())
        .map(|q| q.0)
        .unwrap_or_default();
    let (mut key, mut token) = (
        param(&query, "key").map(str::to_owned),
        param(&query, "token").map(str::to_owned),
    );
    let header = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    if let Some(oauth) = header.and_then(|h| h.strip_prefix("OAuth ")) {
        for pair in oauth.split(',') {
            let Some((name, value)) = pair.trim().split_once('=') else {
                continue;
            };
            let value = value.trim().trim_matches('"').to_owned();
            match name.trim() {
                "oauth_consumer_key" => key = key.or(Some(value)),
                "oauth_token" => token = token.or(Some(value)),
                _ => {}
            }
        }
    }
    (key, token)
}

async fn authenticate(State(db): State<Shared>, req: Request, next: Next) -> Response {
    let (key, token) = credentials(&req);
    let (want_key, want_token) = {
        let db = lock(&db);
        (db.key.clone(), db.token.clone())
    };
    match (key, token) {
        (Some(k), _) if k != want_key => unauthorized("invalid key"),
        (None, _) | (_, None) => unauthorized("unauthorized permission requested"),
        (_, Some(t)) if t != want_token => unauthorized("invalid token"),
        _ => next.run(req).await,
    }
}

/// Parameters from the query, then a JSON or form body (Trello reads both).
struct Params(Vec<(String, String)>);

impl Params {
    fn new(
        query: Vec<(String, String)>,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Self, TrelloError> {
        let mut all = query;
        if body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(all));
        }
        if is_json(headers) {
            let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) else {
                return Err(bad("invalid JSON"));
            };
            for (k, v) in map {
                let text = match v {
                    Value::String(s) => s,
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                all.push((k, text));
            }
        } else if let Ok(form) =
            reqwest::Url::parse(&format!("http://form/?{}", String::from_utf8_lossy(body)))
        {
            all.extend(
                form.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned())),
            );
        }
        Ok(Self(all))
    }

    fn get(&self, name: &str) -> Option<&str> {
        param(&self.0, name)
    }

    /// A parameter that must name an object by its 24-hex id.
    fn id(&self, name: &str) -> Result<&str, TrelloError> {
        self.get(name)
            .filter(|v| is_id(v))
            .ok_or_else(|| bad(format!("invalid value for {name}")))
    }

    /// `true`/`false`, as Trello writes booleans in parameters.
    fn flag(&self, name: &str) -> Result<Option<bool>, TrelloError> {
        match self.get(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(bad(format!("invalid value for {name}"))),
        }
    }
}

fn is_id(s: &str) -> bool {
    s.len() == 24 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A path id must look like one (400 `invalid id`) before it can be missing (404).
fn check_id(id: &str) -> Result<(), TrelloError> {
    if is_id(id) {
        Ok(())
    } else {
        Err(bad("invalid id"))
    }
}

async fn me(State(db): State<Shared>) -> Json<Value> {
    let db = lock(&db);
    Json(member_json(&db.members[0]))
}

fn member_json(m: &Member) -> Value {
    let initials: String = m
        .full_name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .collect();
    json!({ "id": m.id, "fullName": m.full_name, "username": m.username, "initials": initials, "avatarHash": null, "activityBlocked": false })
}

// ---------- state ----------

impl Db {
    /// A fresh id shaped like Trello's (a Mongo ObjectId: time, then a counter).
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        let secs = time::OffsetDateTime::now_utc().unix_timestamp();
        format!("{:08x}{:016x}", secs as u32, self.next_id)
    }

    /// An 8-character short link, unique per fake.
    fn short_link(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        self.next_id += 1;
        let mut n = self.next_id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (0..8)
            .map(|_| {
                let c = ALPHABET[(n % ALPHABET.len() as u64) as usize] as char;
                n /= ALPHABET.len() as u64;
                c
            })
            .collect()
    }

    /// The member with this full name, created on first use.
    fn member(&mut self, full_name: &str) -> Member {
        if let Some(m) = self.members.iter().find(|m| m.full_name == full_name) {
            return m.clone();
        }
        let username: String = full_name
            .to_lowercase()
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let member = Member {
            id: self.new_id(),
            full_name: full_name.to_owned(),
            username,
        };
        self.members.push(member.clone());
        member
    }

    fn add_board(&mut self, name: &str, default_lists: bool) -> String {
        let (id, short_link) = (self.new_id(), self.short_link());
        self.boards.push(Board {
            id: id.clone(),
            name: name.to_owned(),
            short_link,
        });
        if default_lists {
            for list in ["To Do", "Doing", "Done"] {
                self.add_list(&id, list, None);
            }
        }
        id
    }

    fn add_list(&mut self, board: &str, name: &str, pos: Option<f64>) -> String {
        let id = self.new_id();
        let pos = pos.unwrap_or_else(|| {
            self.end_pos(
                self.lists
                    .iter()
                    .filter(|l| l.board == board)
                    .map(|l| l.pos),
            )
        });
        self.lists.push(List {
            id: id.clone(),
            name: name.to_owned(),
            closed: false,
            pos,
            board: board.to_owned(),
        });
        id
    }

    fn end_pos(&self, positions: impl Iterator<Item = f64>) -> f64 {
        positions.fold(0.0, f64::max) + POS_STEP
    }

    fn open_lists(&self, board: &str) -> Vec<&List> {
        let mut lists: Vec<&List> = self
            .lists
            .iter()
            .filter(|l| l.board == board && !l.closed)
            .collect();
        lists.sort_by(|a, b| a.pos.total_cmp(&b.pos));
        lists
    }

    fn board(&self, id: &str) -> Result<&Board, TrelloError> {
        check_id(id)?;
        self.boards
            .iter()
            .find(|b| b.id == id)
            .ok_or_else(not_found)
    }

    /// A card by id, or by short link as Trello also allows.
    fn card_at(&self, id: &str) -> Result<usize, TrelloError> {
        if let Some(at) = self.cards.iter().position(|c| c.short_link == id) {
            return Ok(at);
        }
        check_id(id)?;
        self.cards
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(not_found)
    }

    fn list_name(&self, id: &str) -> String {
        self.lists
            .iter()
            .find(|l| l.id == id)
            .map(|l| l.name.clone())
            .unwrap_or_default()
    }

    fn board_json(&self, b: &Board) -> Value {
        json!({
            "id": b.id, "name": b.name, "desc": "", "closed": false, "idOrganization": null,
            "url": format!("https://trello.com/b/{}/{}", b.short_link, slug(&b.name)),
            "shortUrl": format!("https://trello.com/b/{}", b.short_link),
            "shortLink": b.short_link,
            "prefs": { "permissionLevel": "private" },
        })
    }

    /// The model a webhook watches, as its callbacks carry it.
    fn model_json(&self, id: &str) -> Value {
        if let Some(b) = self.boards.iter().find(|b| b.id == id) {
            return self.board_json(b);
        }
        self.cards
            .iter()
            .find(|c| c.id == id)
            .map_or(Value::Null, |c| self.card_json(c))
    }
}

/// A URL slug: lower case, words joined by `-`.
fn slug(name: &str) -> String {
    name.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// `top`, `bottom` or a positive number; `None` means the end.
fn position(
    given: Option<&str>,
    existing: impl Iterator<Item = f64> + Clone,
) -> Result<Option<f64>, TrelloError> {
    match given {
        None | Some("bottom") => Ok(None),
        Some("top") => Ok(Some(
            existing.fold(f64::MAX, f64::min).min(POS_STEP * 2.0) / 2.0,
        )),
        Some(n) => n
            .parse::<f64>()
            .ok()
            .filter(|p| *p > 0.0)
            .map(Some)
            .ok_or_else(|| bad("invalid value for pos")),
    }
}

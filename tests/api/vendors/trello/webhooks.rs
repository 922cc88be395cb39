//! Webhooks: created only after the callback URL answers a `HEAD` with 200,
//! fed signed callbacks for every action on the model they watch, dropped when
//! a callback answers 410. Simulated users act here too.

use axum::extract::Path;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};

use super::super::outbound;
use super::*;

/// How the `X-Trello-Webhook` signature reads the signed text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrelloSigning {
    /// The UTF-8 bytes of body + callback URL.
    Utf8,
    /// Trello's documented Node quirk: the text is hashed as a "binary"
    /// string, each character reduced to its low byte (unconfirmed today).
    NodeBinary,
}

/// `X-Trello-Webhook`: base64(HMAC-SHA1(app secret, body + callbackURL)).
pub fn sign(secret: &str, body: &str, callback_url: &str, signing: TrelloSigning) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    match signing {
        TrelloSigning::Utf8 => {
            mac.update(body.as_bytes());
            mac.update(callback_url.as_bytes());
        }
        TrelloSigning::NodeBinary => {
            let low: Vec<u8> = body
                .chars()
                .chain(callback_url.chars())
                .map(|c| c as u32 as u8)
                .collect();
            mac.update(&low);
        }
    }
    BASE64.encode(mac.finalize().into_bytes())
}

/// One signed callback, ready to post.
pub(super) struct Delivery {
    hook: String,
    url: String,
    body: String,
    signature: String,
}

impl Db {
    /// A callback for every active webhook watching the card or its board.
    fn deliveries(&self, card: usize, action: &Value) -> Vec<Delivery> {
        let c = &self.cards[card];
        self.webhooks
            .iter()
            .filter(|w| w.active && (w.id_model == c.id || w.id_model == c.board))
            .map(|w| {
                let body =
                    json!({ "action": action, "model": self.model_json(&w.id_model) }).to_string();
                Delivery {
                    signature: sign(&self.secret, &body, &w.callback_url, self.signing),
                    hook: w.id.clone(),
                    url: w.callback_url.clone(),
                    body,
                }
            })
            .collect()
    }

    fn after_delivery(&mut self, hook: &str, status: u16) {
        if status == 410 {
            self.webhooks.retain(|w| w.id != hook);
            return;
        }
        let Some(w) = self.webhooks.iter_mut().find(|w| w.id == hook) else {
            return;
        };
        if (200..300).contains(&status) {
            w.consecutive_failures = 0;
            w.first_fail_date = None;
        } else {
            w.consecutive_failures += 1;
            w.first_fail_date.get_or_insert_with(now_iso);
        }
    }
}

/// Sends an API-made action to the webhooks in the background, as Trello does.
pub(super) fn echo(shared: &Shared, db: &Db, card: usize, action: Value) {
    let deliveries = db.deliveries(card, &action);
    if !deliveries.is_empty() {
        let shared = shared.clone();
        tokio::spawn(async move { deliver(&shared, deliveries).await });
    }
}

/// Posts each callback in turn; the last status (0 when none or unreachable).
async fn deliver(shared: &Shared, deliveries: Vec<Delivery>) -> u16 {
    let client = outbound();
    let mut last = 0;
    for d in deliveries {
        let sent = client
            .post(&d.url)
            .header("content-type", "application/json")
            .header("x-trello-webhook", &d.signature)
            .body(d.body)
            .send()
            .await;
        last = sent.map_or(0, |r| r.status().as_u16());
        lock(shared).after_delivery(&d.hook, last);
    }
    last
}

impl TrelloFake {
    /// Someone else on the board (`member_full_name`) comments on a card; the
    /// webhooks watching it are called. The last callback's status, 0 if none.
    pub async fn user_comments(&self, card_id: &str, text: &str, member_full_name: &str) -> u16 {
        let deliveries = {
            let mut db = lock(&self.db);
            let at = db
                .card_at(card_id)
                .unwrap_or_else(|_| panic!("user_comments: no card {card_id}"));
            let member = db.member(member_full_name);
            let action = db.act(
                "commentCard",
                &member,
                at,
                json!({ "text": text, "textData": { "emoji": {} } }),
            );
            db.deliveries(at, &action)
        };
        deliver(&self.db, deliveries).await
    }

    /// Someone else drags a card to another list (`updateCard` with
    /// `listBefore`/`listAfter`); the last callback's status, 0 if none.
    pub async fn user_moves_card(&self, card_id: &str, list_id: &str) -> u16 {
        let deliveries = {
            let mut db = lock(&self.db);
            let at = db
                .card_at(card_id)
                .unwrap_or_else(|_| panic!("user_moves_card: no card {card_id}"));
            assert!(
                db.lists.iter().any(|l| l.id == list_id),
                "user_moves_card: no list {list_id}"
            );
            let member = db.member("Board Member");
            let action = db.move_card(at, list_id, &member);
            db.deliveries(at, &action)
        };
        deliver(&self.db, deliveries).await
    }
}

pub(super) fn webhook_json(w: &Webhook) -> Value {
    json!({
        "id": w.id, "description": w.description, "idModel": w.id_model, "callbackURL": w.callback_url,
        "active": w.active, "consecutiveFailures": w.consecutive_failures,
        "firstConsecutiveFailDate": w.first_fail_date,
    })
}

pub(super) async fn create_webhook(
    State(db): State<Shared>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    register(db, Params::new(q, &headers, &body)?).await
}

/// `POST /tokens/{token}/webhooks`: the same, for the token in the path.
pub(super) async fn create_token_webhook(
    State(db): State<Shared>,
    Path(token): Path<String>,
    Query(q): Query<Vec<(String, String)>>,
    headers: HeaderMap,
    body: Bytes,
) -> Reply {
    if token != lock(&db).token {
        return Err(TrelloError(
            StatusCode::UNAUTHORIZED,
            "invalid token".into(),
        ));
    }
    register(db, Params::new(q, &headers, &body)?).await
}

async fn register(shared: Shared, p: Params) -> Reply {
    let callback = p
        .get("callbackURL")
        .filter(|u| reqwest::Url::parse(u).is_ok_and(|u| ["http", "https"].contains(&u.scheme())));
    let callback = callback
        .ok_or_else(|| bad("invalid value for callbackURL"))?
        .to_owned();
    let model = p.id("idModel")?.to_owned();
    let active = p.flag("active")?.unwrap_or(true);
    if lock(&shared).model_json(&model).is_null() {
        return Err(bad("invalid value for idModel"));
    }
    lock(&shared).refuse_duplicate(&callback, &model)?;
    // Trello creates the webhook only once the callback answers HEAD with 200.
    match outbound()
        .head(&callback)
        .send()
        .await
        .map(|r| r.status().as_u16())
    {
        Ok(200) => {}
        Ok(s) => {
            return Err(bad(format!(
                "URL ({callback}) did not return 200 status code, got {s}"
            )));
        }
        Err(_) => {
            return Err(bad(format!(
                "URL ({callback}) did not return 200 status code, got nothing"
            )));
        }
    }
    let mut db = lock(&shared);
    db.refuse_duplicate(&callback, &model)?;
    let hook = Webhook {
        id: db.new_id(),
        description: p.get("description").unwrap_or_default().to_owned(),
        id_model: model,
        callback_url: callback,
        active,
        consecutive_failures: 0,
        first_fail_date: None,
    };
    let reply = webhook_json(&hook);
    db.webhooks.push(hook);
    Ok(Json(reply).into_response())
}

impl Db {
    fn refuse_duplicate(&self, callback: &str, model: &str) -> Result<(), TrelloError> {
        if self
            .webhooks
            .iter()
            .any(|w| w.callback_url == callback && w.id_model == model)
        {
            return Err(bad(
                "A webhook with that callback, model, and token already exists",
            ));
        }
        Ok(())
    }
}

pub(super) async fn get_webhook(State(db): State<Shared>, Path(id): Path<String>) -> Reply {
    check_id(&id)?;
    let db = lock(&db);
    let hook = db
        .webhooks
        .iter()
        .find(|w| w.id == id)
        .ok_or_else(not_found)?;
    Ok(Json(webhook_json(hook)).into_response())
}

pub(super) async fn delete_webhook(State(db): State<Shared>, Path(id): Path<String>) -> Reply {
    check_id(&id)?;
    let mut db = lock(&db);
    let at = db
        .webhooks
        .iter()
        .position(|w| w.id == id)
        .ok_or_else(not_found)?;
    db.webhooks.remove(at);
    Ok(Json(json!({ "_value": null })).into_response())
}

pub(super) async fn token_webhooks(State(db): State<Shared>, Path(token): Path<String>) -> Reply {
    let db = lock(&db);
    if token != db.token {
        return Err(TrelloError(
            StatusCode::UNAUTHORIZED,
            "invalid token".into(),
        ));
    }
    Ok(Json(db.webhooks.iter().map(webhook_json).collect::<Vec<_>>()).into_response())
}

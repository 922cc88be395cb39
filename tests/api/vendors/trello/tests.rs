//! Self-tests: the Trello fake, called with `reqwest`, behaves as the documented API.

use super::*;
use crate::vendors::{Sink, outbound, send};

const KEY: &str = "0471642aefef5fa1fa76530ce1ba4c85";
const TOKEN: &str = "9eb76d9a9d02b8dd40c2f3e5df18556c831d4d1fadbe2c45f8310e6c93b5c548";
const SECRET: &str = "app-secret-for-signing";

fn auth() -> [(&'static str, &'static str); 2] {
    [("key", KEY), ("token", TOKEN)]
}

async fn started() -> (TrelloFake, reqwest::Client, String) {
    let trello = TrelloFake::start(KEY, TOKEN, SECRET).await;
    let board = trello.add_board("Onboarding ACME");
    (trello, outbound(), board)
}

#[tokio::test]
async fn trello_refuses_missing_or_wrong_credentials_with_plain_text() {
    let (trello, http, board) = started().await;
    let url = format!("{}/boards/{board}", trello.base_url);

    let (status, body) = send(http.get(&url).query(&[("key", KEY)])).await;
    assert_eq!(
        (status, body),
        (401, json!("unauthorized permission requested"))
    );
    let (status, body) = send(http.get(&url).query(&[("key", KEY), ("token", "nope")])).await;
    assert_eq!((status, body), (401, json!("invalid token")));

    let header = format!("OAuth oauth_consumer_key=\"{KEY}\", oauth_token=\"{TOKEN}\"");
    let (status, body) = send(http.get(&url).header("authorization", header)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["name"], "Onboarding ACME");
}

#[tokio::test]
async fn trello_cards_move_collect_checklists_comments_and_attachments() {
    let (trello, http, board) = started().await;
    let base = &trello.base_url;
    let lists = trello.lists(&board);
    let names: Vec<&str> = lists.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["To Do", "Doing", "Done"]);
    let (todo, done) = (&lists[0].0, &lists[2].0);

    let (status, card) = send(
        http.post(format!("{base}/cards"))
            .query(&auth())
            .json(&json!({ "idList": todo, "name": "Expert: Jan Kowalski", "desc": "ext-42" })),
    )
    .await;
    assert_eq!(status, 200, "{card}");
    let id = card["id"].as_str().expect("a card id").to_owned();
    assert!(is_id(&id));
    assert_eq!(
        (card["idBoard"].as_str(), card["idList"].as_str()),
        (Some(board.as_str()), Some(todo.as_str()))
    );
    assert_eq!(card["shortLink"].as_str().map(str::len), Some(8));

    let (status, moved) = send(
        http.put(format!("{base}/cards/{id}"))
            .query(&auth())
            .query(&[("idList", done)]),
    )
    .await;
    assert_eq!(
        (status, moved["idList"].as_str()),
        (200, Some(done.as_str()))
    );

    let (_, checklist) = send(
        http.post(format!("{base}/cards/{id}/checklists"))
            .query(&auth())
            .query(&[("name", "Documents")]),
    )
    .await;
    let checklist_id = checklist["id"].as_str().expect("a checklist id");
    let (_, item) = send(
        http.post(format!("{base}/checklists/{checklist_id}/checkItems"))
            .query(&auth())
            .query(&[("name", "Insurance policy"), ("checked", "false")]),
    )
    .await;
    assert_eq!(item["state"], "incomplete");
    let item_id = item["id"].as_str().expect("an item id");
    let (status, item) = send(
        http.put(format!("{base}/cards/{id}/checkItem/{item_id}"))
            .query(&auth())
            .query(&[("state", "complete")]),
    )
    .await;
    assert_eq!((status, &item["state"]), (200, &json!("complete")));

    let (_, comment) = send(
        http.post(format!("{base}/cards/{id}/actions/comments"))
            .query(&auth())
            .query(&[("text", "Zażółć gęślą jaźń")]),
    )
    .await;
    assert_eq!(comment["type"], "commentCard");
    assert_eq!(comment["idMemberCreator"], json!(trello.member_id()));
    assert_eq!(comment["data"]["card"]["id"], json!(id));

    let file = reqwest::multipart::Part::bytes(b"%PDF-1.7 policy".to_vec())
        .file_name("policy.pdf")
        .mime_str("application/pdf")
        .expect("a mime type");
    let form = reqwest::multipart::Form::new()
        .part("file", file)
        .text("name", "Policy 2026.pdf");
    let (status, attachment) = send(
        http.post(format!("{base}/cards/{id}/attachments"))
            .query(&auth())
            .multipart(form),
    )
    .await;
    assert_eq!(status, 200, "{attachment}");
    assert_eq!(
        (
            attachment["name"].as_str(),
            attachment["isUpload"].as_bool()
        ),
        (Some("Policy 2026.pdf"), Some(true))
    );
    assert_eq!(
        (
            attachment["bytes"].as_u64(),
            attachment["mimeType"].as_str()
        ),
        (Some(15), Some("application/pdf"))
    );

    let (_, comments) = send(
        http.get(format!("{base}/cards/{id}/actions"))
            .query(&auth())
            .query(&[("filter", "commentCard")]),
    )
    .await;
    assert_eq!(comments.as_array().map(Vec::len), Some(1));

    let seen = trello.card(&id).expect("the card is stored");
    assert_eq!(seen["listName"], "Done");
    assert_eq!(
        seen["checklists"][0]["items"][0],
        json!({ "name": "Insurance policy", "state": "complete" })
    );
    assert_eq!(seen["comments"][0]["text"], "Zażółć gęślą jaźń");
    assert_eq!(seen["comments"][0]["author"], "Hub Integration");
    assert_eq!(
        trello.attachments(&id)[0].bytes.as_deref(),
        Some(&b"%PDF-1.7 policy"[..])
    );
}

#[tokio::test]
async fn trello_tells_a_malformed_id_from_an_unknown_one() {
    let (trello, http, _) = started().await;
    let base = &trello.base_url;

    let (status, body) = send(http.get(format!("{base}/cards/not-an-id")).query(&auth())).await;
    assert_eq!((status, body), (400, json!("invalid id")));
    let (status, body) = send(
        http.get(format!("{base}/cards/0123456789abcdef01234567"))
            .query(&auth()),
    )
    .await;
    assert_eq!(
        (status, body),
        (404, json!("The requested resource was not found."))
    );
    let (status, body) = send(
        http.post(format!("{base}/cards"))
            .query(&auth())
            .query(&[("name", "no list")]),
    )
    .await;
    assert_eq!((status, body), (400, json!("invalid value for idList")));
    assert!(trello.cards().is_empty());
}

#[tokio::test]
async fn a_trello_fault_answers_in_trellos_words_and_changes_nothing() {
    let (trello, http, board) = started().await;
    let list = trello.lists(&board)[0].0.clone();
    trello.inject_on(
        "/cards",
        Fault::RateLimited {
            retry_after_secs: 0,
        },
        1,
    );

    let create = || {
        http.post(format!("{}/cards", trello.base_url))
            .query(&auth())
            .query(&[("idList", &list)])
    };
    let response = create().send().await.expect("an answer");
    assert_eq!(response.status(), 429);
    assert!(response.headers().get("retry-after").is_none());
    let body: Value = response.json().await.expect("a JSON 429 body");
    assert_eq!(
        body,
        json!({ "error": "API_TOKEN_LIMIT_EXCEEDED", "message": "Rate limit exceeded" })
    );
    assert!(trello.cards().is_empty());

    trello.inject(Fault::ServerError, 1);
    assert_eq!(send(create()).await.0, 500);
    assert!(trello.cards().is_empty());

    assert_eq!(send(create()).await.0, 200);
    assert_eq!(trello.cards().len(), 1);
    let posts = trello
        .requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path == "/1/cards")
        .count();
    assert_eq!(posts, 3);
}

#[tokio::test]
async fn a_trello_webhook_needs_a_200_probe_and_its_callbacks_verify() {
    let (trello, http, board) = started().await;
    let sink = Sink::start("/hooks/trello?src=fake").await;
    let create = || {
        http.post(format!("{}/webhooks", trello.base_url))
            .query(&auth())
            .query(&[
                ("callbackURL", sink.url.as_str()),
                ("idModel", board.as_str()),
                ("description", "hub"),
            ])
    };

    sink.answer_head(404);
    let (status, body) = send(create()).await;
    assert_eq!(status, 400, "{body}");
    assert!(trello.webhooks().is_empty());

    sink.answer_head(200);
    let (status, hook) = send(create()).await;
    assert_eq!(status, 200, "{hook}");
    assert_eq!(
        (hook["idModel"].as_str(), hook["active"].as_bool()),
        (Some(board.as_str()), Some(true))
    );

    let list = trello.lists(&board)[0].0.clone();
    let (_, card) = send(
        http.post(format!("{}/cards", trello.base_url))
            .query(&auth())
            .query(&[("idList", list.as_str()), ("name", "Kowalski")]),
    )
    .await;
    let card_id = card["id"].as_str().expect("a card id");
    // Trello echoes the token's own changes; the hub tells them apart by member.
    let (echo, _) = delivered(&sink, "createCard").await;
    assert_eq!(echo["action"]["idMemberCreator"], json!(trello.member_id()));

    assert_eq!(
        trello
            .user_comments(card_id, "Proszę o zmianę terminu – dziękuję", "Anna Nowak")
            .await,
        200
    );
    let (payload, delivery) = delivered(&sink, "commentCard").await;
    let expected = independent_sha1(SECRET, delivery.body.as_bytes(), sink.url.as_bytes());
    assert_eq!(delivery.header("x-trello-webhook"), Some(expected.as_str()));
    assert_eq!(
        sign(SECRET, &delivery.body, &sink.url, TrelloSigning::Utf8),
        expected
    );
    assert_eq!(
        payload["action"]["data"]["text"],
        "Proszę o zmianę terminu – dziękuję"
    );
    assert_eq!(payload["action"]["memberCreator"]["fullName"], "Anna Nowak");
    assert_ne!(
        payload["action"]["idMemberCreator"],
        json!(trello.member_id())
    );
    assert_eq!(payload["model"]["id"], json!(board));

    // Trello's documented quirk: each character is hashed as its low byte.
    trello.set_signing(TrelloSigning::NodeBinary);
    let done = trello.lists(&board)[2].0.clone();
    assert_eq!(trello.user_moves_card(card_id, &done).await, 200);
    let (payload, delivery) = delivered(&sink, "updateCard").await;
    let low_bytes: Vec<u8> = delivery
        .body
        .chars()
        .chain(sink.url.chars())
        .map(|c| c as u32 as u8)
        .collect();
    assert_eq!(
        delivery.header("x-trello-webhook"),
        Some(independent_sha1(SECRET, &low_bytes, b"").as_str())
    );
    assert_eq!(payload["action"]["data"]["listAfter"]["name"], "Done");
    assert_eq!(trello.card(card_id).expect("the card")["listName"], "Done");

    // A callback answering 410 Gone removes the webhook.
    sink.answer_post(410);
    assert_eq!(
        trello
            .user_comments(card_id, "still there?", "Anna Nowak")
            .await,
        410
    );
    assert!(trello.webhooks().is_empty());
}

/// The first callback whose action has this type, waiting for background echoes.
async fn delivered(sink: &Sink, kind: &str) -> (Value, Recorded) {
    for _ in 0..100 {
        for r in sink.received() {
            let payload: Value = serde_json::from_str(&r.body).expect("a JSON callback");
            if payload["action"]["type"] == kind {
                return (payload, r);
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("no {kind} callback arrived");
}

/// HMAC-SHA1 over `body` then `url`, base64: computed here without the fake's code.
fn independent_sha1(secret: &str, body: &[u8], url: &[u8]) -> String {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let mut mac =
        hmac::Hmac::<sha1::Sha1>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    mac.update(url);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

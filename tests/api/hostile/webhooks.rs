//! Hostile webhook calls: missing, forged, malformed and stale signatures on
//! the HubSpot, Trello and Google Forms routes, and correctly signed bodies
//! that are not what the route takes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::json;
use sha2::Sha256;
use ssot::connectors::settings::{GoogleFormsSettings, HubSpotSettings, TrelloSettings};
use ssot::connectors::signatures::sign_hub_hmac;

use super::{Case, Ctx, Raw, refused, send, snapshot};
use crate::helpers::{id, on_both_backends, spawn_app_at};
use crate::vendors::hubspot::HubSpotFake;
use crate::vendors::trello::{self, TrelloFake, TrelloSigning};

const HUBSPOT_SECRET: &str = "hubspot-client-secret";
const TRELLO_SECRET: &str = "trello-app-secret";
const FORMS_SECRET: &str = "apps-script-shared-secret";
const BODY_MAX: usize = 32 * 1024;
const UNSIGNED: Option<&str> = Some("bad_signature");
const BAD: Option<&str> = Some("bad_request");

fn ms_from_now(offset_ms: i64) -> String {
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    (now as i64 + offset_ms).to_string()
}

fn hubspot_url(c: &Ctx) -> String {
    format!("{}/webhooks/hubspot", c.base)
}

/// A HubSpot call: `body`, signed with `secret` for `url` at `ts` (`None`: unsigned).
fn hubspot_call(body: &[u8], signature: Option<String>, ts: Option<String>) -> Raw {
    let mut raw = Raw::new(Method::POST, "/webhooks/hubspot")
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(s) = signature {
        raw = raw.header("x-hubspot-signature-v3", s);
    }
    if let Some(t) = ts {
        raw = raw.header("x-hubspot-request-timestamp", t);
    }
    raw
}

/// Signed as HubSpot would (v3), with the secret and URL given; over the raw
/// bytes, so a body that is not UTF-8 can be signed too.
fn hubspot_signed(secret: &str, url: &str, body: &[u8], ts: String) -> Raw {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    for part in [b"POST".as_slice(), url.as_bytes(), body, ts.as_bytes()] {
        mac.update(part);
    }
    let signature = BASE64.encode(mac.finalize().into_bytes());
    hubspot_call(body, Some(signature), Some(ts))
}

fn hubspot_genuine(c: &Ctx, body: &[u8]) -> Raw {
    hubspot_signed(HUBSPOT_SECRET, &hubspot_url(c), body, ms_from_now(0))
}

const HUBSPOT_EVENT: &[u8] = br#"[{"eventId":9,"subscriptionType":"contact.propertyChange","objectId":51,"propertyName":"phone","propertyValue":"+48 111"}]"#;

fn trello_url(c: &Ctx) -> String {
    format!("{}/webhooks/trello", c.base)
}

fn trello_call(body: &[u8], signature: Option<String>) -> Raw {
    let raw = Raw::new(Method::POST, "/webhooks/trello")
        .header("content-type", "application/json")
        .body(body.to_vec());
    match signature {
        Some(s) => raw.header("x-trello-webhook", s),
        None => raw,
    }
}

fn trello_genuine(c: &Ctx, body: &[u8]) -> Raw {
    let signature = trello::sign(
        TRELLO_SECRET,
        &String::from_utf8_lossy(body),
        &trello_url(c),
        TrelloSigning::Utf8,
    );
    trello_call(body, Some(signature))
}

const TRELLO_ACTION: &[u8] = br#"{"action":{"id":"5f0000000000000000000001","type":"commentCard","data":{"text":"forged","card":{"id":"5f00000000000000000000c1"}},"memberCreator":{"fullName":"Mallory"}}}"#;

fn forms_call(body: &[u8], signature: Option<String>) -> Raw {
    let raw = Raw::new(Method::POST, "/intake/google-forms")
        .header("content-type", "application/json")
        .body(body.to_vec());
    match signature {
        Some(s) => raw.header("x-ssot-signature", s),
        None => raw,
    }
}

fn forms_genuine(body: &[u8]) -> Raw {
    forms_call(body, Some(sign_hub_hmac(FORMS_SECRET, body)))
}

/// A form response whose answer to `question` is `answer`.
fn form_with(question: &str, answer: serde_json::Value) -> Vec<u8> {
    let mut body = json!({ "response_id": "ACYD-hostile", "respondent_email": "ola@firma.pl",
                           "answers": { "Imię i nazwisko": "Ola Nowak", "Nazwa firmy": "Firma Sp. z o.o." } });
    body["answers"][question] = answer;
    body.to_string().into_bytes()
}

fn deep_json() -> Vec<u8> {
    "[".repeat(10_000).into_bytes()
}

fn too_large() -> Vec<u8> {
    // Just over: a body far larger may still be in flight when the server
    // answers 413 and closes, which the client sees as a dropped connection.
    format!("[{}]", "{\"objectId\":1},".repeat(BODY_MAX / 15 + 100)).into_bytes()
}

#[rustfmt::skip]
pub const CASES: [Case; 37] = [
    // HubSpot.
    Case { name: "HubSpot: unsigned", make: |_| hubspot_call(HUBSPOT_EVENT, None, None), status: 401, code: UNSIGNED },
    Case { name: "HubSpot: no timestamp", make: |c| { let mut r = hubspot_genuine(c, HUBSPOT_EVENT); r.headers.retain(|(h, _)| *h != "x-hubspot-request-timestamp"); r }, status: 401, code: UNSIGNED },
    Case { name: "HubSpot: forged with another secret", make: |c| hubspot_signed("guessed", &hubspot_url(c), HUBSPOT_EVENT, ms_from_now(0)), status: 401, code: UNSIGNED },
    Case { name: "HubSpot: ten minutes old", make: |c| hubspot_signed(HUBSPOT_SECRET, &hubspot_url(c), HUBSPOT_EVENT, ms_from_now(-600_000)), status: 401, code: UNSIGNED },
    Case { name: "HubSpot: ten minutes ahead", make: |c| hubspot_signed(HUBSPOT_SECRET, &hubspot_url(c), HUBSPOT_EVENT, ms_from_now(600_000)), status: 401, code: UNSIGNED },
    Case { name: "HubSpot: a timestamp that is no number", make: |c| hubspot_signed(HUBSPOT_SECRET, &hubspot_url(c), HUBSPOT_EVENT, "yesterday".into()), status: 401, code: UNSIGNED },
    Case { name: "HubSpot: a signature that is no base64", make: |_| hubspot_call(HUBSPOT_EVENT, Some("%%% not base64 %%%".into()), Some(ms_from_now(0))), status: 401, code: UNSIGNED },
    Case { name: "HubSpot: signed for another body", make: |c| { let mut r = hubspot_genuine(c, b"[]"); r.body = HUBSPOT_EVENT.to_vec(); r }, status: 401, code: UNSIGNED },
    Case { name: "HubSpot: signed for another URL", make: |_| hubspot_signed(HUBSPOT_SECRET, "https://elsewhere.example/hook", HUBSPOT_EVENT, ms_from_now(0)), status: 401, code: UNSIGNED },
    Case { name: "HubSpot: signed, not JSON", make: |c| hubspot_genuine(c, b"objectId=51"), status: 400, code: BAD },
    Case { name: "HubSpot: signed, nested 10 000 deep", make: |c| hubspot_genuine(c, &deep_json()), status: 400, code: BAD },
    Case { name: "HubSpot: signed, an object for the array", make: |c| hubspot_genuine(c, br#"{"objectId":51}"#), status: 400, code: BAD },
    Case { name: "HubSpot: signed, invalid UTF-8", make: |c| hubspot_genuine(c, b"[{\"subscriptionType\":\"contact.\xff\"}]"), status: 400, code: BAD },
    Case { name: "HubSpot: over max_body_bytes", make: |c| hubspot_genuine(c, &too_large()), status: 413, code: None }, // TODO(json-errors)
    Case { name: "HubSpot: GET", make: |_| Raw::new(Method::GET, "/webhooks/hubspot"), status: 405, code: None }, // TODO(json-errors)
    // Trello.
    Case { name: "Trello: unsigned", make: |_| trello_call(TRELLO_ACTION, None), status: 401, code: UNSIGNED },
    Case { name: "Trello: forged with another secret", make: |c| trello_call(TRELLO_ACTION, Some(trello::sign("guessed", &String::from_utf8_lossy(TRELLO_ACTION), &trello_url(c), TrelloSigning::Utf8))), status: 401, code: UNSIGNED },
    Case { name: "Trello: a signature that is no base64", make: |_| trello_call(TRELLO_ACTION, Some("~~~".into())), status: 401, code: UNSIGNED },
    Case { name: "Trello: signed for another callback URL", make: |_| trello_call(TRELLO_ACTION, Some(trello::sign(TRELLO_SECRET, &String::from_utf8_lossy(TRELLO_ACTION), "https://evil.example/", TrelloSigning::Utf8))), status: 401, code: UNSIGNED },
    Case { name: "Trello: signed for another body", make: |c| { let mut r = trello_genuine(c, b"{}"); r.body = TRELLO_ACTION.to_vec(); r }, status: 401, code: UNSIGNED },
    Case { name: "Trello: signed, not JSON", make: |c| trello_genuine(c, b"action=commentCard"), status: 400, code: BAD },
    Case { name: "Trello: signed, nested 10 000 deep", make: |c| trello_genuine(c, &deep_json()), status: 400, code: BAD },
    Case { name: "Trello: signed, no action", make: |c| trello_genuine(c, br#"{"model":{"id":"b1"}}"#), status: 400, code: BAD },
    Case { name: "Trello: over max_body_bytes", make: |c| trello_genuine(c, &too_large()), status: 413, code: None }, // TODO(json-errors)
    // Google Forms.
    Case { name: "Forms: unsigned", make: |_| forms_call(&form_with("E-mail", json!("ola@firma.pl")), None), status: 401, code: UNSIGNED },
    Case { name: "Forms: forged with another secret", make: |_| { let body = form_with("E-mail", json!("ola@firma.pl")); let s = sign_hub_hmac("guessed", &body); forms_call(&body, Some(s)) }, status: 401, code: UNSIGNED },
    Case { name: "Forms: no sha256= prefix", make: |_| { let body = form_with("E-mail", json!("ola@firma.pl")); let s = sign_hub_hmac(FORMS_SECRET, &body).replace("sha256=", ""); forms_call(&body, Some(s)) }, status: 401, code: UNSIGNED },
    Case { name: "Forms: a digest that is no hex", make: |_| forms_call(&form_with("E-mail", json!("ola@firma.pl")), Some(format!("sha256={}", "z".repeat(64)))), status: 401, code: UNSIGNED },
    Case { name: "Forms: a truncated digest", make: |_| { let body = form_with("E-mail", json!("ola@firma.pl")); let s = sign_hub_hmac(FORMS_SECRET, &body); forms_call(&body, Some(s[..s.len() - 2].to_owned())) }, status: 401, code: UNSIGNED },
    Case { name: "Forms: signed, not JSON", make: |_| forms_genuine(b"response_id=1"), status: 400, code: BAD },
    Case { name: "Forms: signed, invalid UTF-8", make: |_| forms_genuine(b"{\"response_id\":\"\xff\"}"), status: 400, code: BAD },
    Case { name: "Forms: signed, nested 10 000 deep", make: |_| forms_genuine(&deep_json()), status: 400, code: BAD },
    Case { name: "Forms: signed, no response id", make: |_| forms_genuine(br#"{"answers":{"E-mail":"ola@firma.pl"}}"#), status: 400, code: BAD },
    Case { name: "Forms: signed, answers as a list", make: |_| forms_genuine(br#"{"response_id":"r","answers":["ola@firma.pl"]}"#), status: 400, code: BAD },
    Case { name: "Forms: signed, an e-mail with a zero-width space", make: |_| forms_genuine(&form_with("E-mail", json!("ola\u{200b}@firma.pl"))), status: 422, code: Some("validation_failed") },
    Case { name: "Forms: signed, an RTL override in the tax id", make: |_| forms_genuine(&form_with("NIP", json!("526\u{202e}0001246"))), status: 422, code: Some("validation_failed") },
    Case { name: "Forms: over max_body_bytes", make: |_| forms_genuine(&too_large()), status: 413, code: None }, // TODO(json-errors)
];

const MAPPING: &str = "[fields]\n\"Imię i nazwisko\" = \"full_name\"\n\"E-mail\" = \"email\"\n\"Nazwa firmy\" = \"legal_name\"\n\"NIP\" = \"tax_id\"\n";

fn secret_file(dir: &tempfile::TempDir, name: &str, value: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, value).unwrap();
    path
}

on_both_backends! {
    async fn hostile_webhook_calls_are_refused_and_change_nothing(db) {
        let hub = HubSpotFake::start("hubspot-token", HUBSPOT_SECRET).await;
        let board_fake = TrelloFake::start("trello-key", "trello-token", TRELLO_SECRET).await;
        let board = board_fake.add_board("Client projects");
        let dir = tempfile::tempdir().unwrap();
        let mapping = dir.path().join("mapping.toml");
        std::fs::write(&mapping, MAPPING).unwrap();
        let files = [("hs-token", "hubspot-token"), ("hs-secret", HUBSPOT_SECRET), ("tr-token", "trello-token"), ("tr-secret", TRELLO_SECRET), ("forms", FORMS_SECRET)]
            .map(|(name, value)| secret_file(&dir, name, value));
        let [hs_token, hs_secret, tr_token, tr_secret, forms] = files;
        let (hub_url, trello_url) = (hub.base_url.clone(), board_fake.base_url.clone());
        let app = spawn_app_at(db, |s, base| {
            s.max_body_bytes = BODY_MAX;
            crate::hostile::no_rate_limits(s);
            s.connectors.hubspot = Some(HubSpotSettings { access_token_file: Some(hs_token), client_secret_file: Some(hs_secret),
                webhook_url: Some(format!("{base}/webhooks/hubspot")), ..HubSpotSettings::new(&hub_url) });
            s.connectors.trello = Some(TrelloSettings { token_file: Some(tr_token), app_secret_file: Some(tr_secret),
                webhook_url: Some(format!("{base}/webhooks/trello")), ..TrelloSettings::new(&trello_url, "trello-key", &board) });
            s.connectors.google_forms = Some(GoogleFormsSettings { secret_file: Some(forms), ..GoogleFormsSettings::new(mapping) });
        }, |_| None).await;
        let anna = app.client_contact("Anna").await;
        let pid = id(&app.project(&anna, &[]).await);
        let c = Ctx { base: app.base.clone(), token: app.operator.clone(), client_id: id(&anna), project_id: pid };
        let before = snapshot(&app, &c).await;

        refused(&app, &c, &CASES).await;

        assert_eq!(snapshot(&app, &c).await, before, "nothing changed");
        // The routes work: a genuine form response opens a project.
        let genuine = send(&app, forms_genuine(&form_with("E-mail", json!("ola@firma.pl")))).await;
        assert_eq!(genuine.status.as_u16(), 201, "{}", genuine.body);
    }
}

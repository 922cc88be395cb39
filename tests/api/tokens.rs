//! Tokens expire, record their last use and can be rotated.

use serde_json::json;
use ssot::domain::actor::Role;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::helpers::{admin_actor, on_both_backends, spawn_app};

fn parse(v: &serde_json::Value) -> OffsetDateTime {
    OffsetDateTime::parse(v.as_str().expect("a time"), &Rfc3339).unwrap()
}

on_both_backends! {
    async fn an_expired_token_is_refused_with_a_message_that_says_so(db) {
        let app = spawn_app(db).await;
        let past = app.store.create_token(Role::Operator, None, Some("old"), Some(time::Duration::seconds(-1)), &admin_actor()).await.unwrap();
        let r = app.get(&past.secret, "/projects").await;
        assert_eq!((r.status.as_u16(), r.code()), (401, "token_expired"));
        let message = r.body["error"]["message"].as_str().unwrap();
        assert!(message.contains("expired") && message.contains("rotate"), "{message}");
        let unknown = app.get(&format!("ssot_{}", "0".repeat(64)), "/projects").await;
        assert_eq!(unknown.code(), "unauthorized", "an unknown token is not called expired");
    }
}

on_both_backends! {
    async fn new_tokens_take_their_roles_default_lifetime_unless_told(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let made = app.post(&app.admin, "/tokens", json!({ "role": "client", "contact_id": anna["id"] })).await.expect(201);
        let lives = parse(&made["token"]["expires_at"]) - parse(&made["token"]["created_at"]);
        assert_eq!(lives.whole_days(), 180, "clients' default");
        let op = app.post(&app.admin, "/tokens", json!({ "role": "operator", "ttl_days": 7 })).await.expect(201);
        assert_eq!((parse(&op["token"]["expires_at"]) - parse(&op["token"]["created_at"])).whole_days(), 7);
        let forever = app.post(&app.admin, "/tokens", json!({ "role": "operator", "ttl_days": 0 })).await.expect(201);
        assert!(forever["token"]["expires_at"].is_null());
    }
}

on_both_backends! {
    async fn a_tokens_last_use_is_recorded(db) {
        let app = spawn_app(db).await;
        let made = app.post(&app.admin, "/tokens", json!({ "role": "operator", "label": "script" })).await.expect(201);
        let (id, secret) = (made["token"]["id"].clone(), made["secret"].as_str().unwrap().to_owned());
        assert!(made["token"]["last_used_at"].is_null());
        app.get(&secret, "/projects").await.expect(200);
        // Recorded off the request's path: look for it for a little while.
        let mut seen = None;
        for _ in 0..50 {
            let tokens = app.get(&app.admin, "/tokens").await.expect(200);
            let token = tokens.as_array().unwrap().iter().find(|t| t["id"] == id).unwrap().clone();
            if !token["last_used_at"].is_null() {
                seen = Some(parse(&token["last_used_at"]));
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let seen = seen.expect("the use was recorded");
        assert!(OffsetDateTime::now_utc() - seen < time::Duration::minutes(1));
    }
}

on_both_backends! {
    async fn rotating_a_token_replaces_its_secret_and_keeps_its_id(db) {
        let app = spawn_app(db).await;
        let made = app.post(&app.admin, "/tokens", json!({ "role": "operator", "label": "ci" })).await.expect(201);
        let (id, old) = (made["token"]["id"].as_str().unwrap().to_owned(), made["secret"].as_str().unwrap().to_owned());
        let rotated = app.post(&app.admin, &format!("/tokens/{id}/rotate"), json!({ "ttl_days": 1 })).await.expect(200);
        let new = rotated["secret"].as_str().unwrap();
        assert_eq!(rotated["token"]["id"], id.as_str());
        assert_ne!(new, old);
        assert_eq!(app.get(&old, "/projects").await.status.as_u16(), 401, "the old secret stops working");
        app.get(new, "/projects").await.expect(200);
        let no_body = app.request(reqwest::Method::POST, Some(&app.admin), &format!("/tokens/{id}/rotate"), None).await.expect(200);
        assert!(no_body["token"]["expires_at"].is_string(), "the role's default lifetime");
        let trail = app.get(&app.admin, "/audit").await.expect(200);
        assert!(trail.as_array().unwrap().iter().any(|e| e["action"] == "rotate" && e["entity_id"] == id.as_str()));
        let ghost = "01234567-89ab-7def-8123-456789abcdef";
        assert_eq!(app.post(&app.admin, &format!("/tokens/{ghost}/rotate"), json!({})).await.status.as_u16(), 404);
        assert_eq!(app.post(&app.operator, &format!("/tokens/{id}/rotate"), json!({})).await.status.as_u16(), 403);
    }
}

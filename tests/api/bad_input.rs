//! Bad input gets a clear error and changes nothing.

use serde_json::{Value, json};

use crate::helpers::{TestApp, id, on_both_backends, spawn_app, spawn_app_with};

/// Everything a failed request might have touched, to compare before and after.
async fn snapshot(app: &TestApp) -> (Value, Value, Value, Value) {
    let projects = app
        .get(&app.operator, "/projects?limit=200")
        .await
        .expect(200);
    let contacts = app
        .get(&app.operator, "/contacts?limit=200")
        .await
        .expect(200);
    let audit = app.get(&app.operator, "/audit?limit=200").await.expect(200);
    let outbox = app
        .get(&app.operator, "/outbox?limit=1000")
        .await
        .expect(200);
    (projects, contacts, audit, outbox)
}

on_both_backends! {
    async fn malformed_requests_get_400_and_change_nothing(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let pid = id(&app.project(&anna, &[]).await);
        let before = snapshot(&app).await;

        let syntax = app.post_raw(&app.operator, "/projects", "application/json", "{\"title\": ").await;
        assert_eq!((syntax.status.as_u16(), syntax.code()), (400, "bad_request"));
        let missing = app.post(&app.operator, "/projects", json!({ "client_id": anna["id"], "title": "x" })).await;
        assert_eq!(missing.status.as_u16(), 400);
        assert!(missing.body["error"]["message"].as_str().unwrap().contains("spec"), "{}", missing.body);
        let wrong_type = app.post(&app.operator, "/projects", json!({ "client_id": anna["id"], "title": 5, "spec": "y" })).await;
        assert_eq!(wrong_type.status.as_u16(), 400);
        let unknown_field = app.post(&app.operator, "/projects", json!({ "client_id": anna["id"], "title": "t", "spec": "s", "titel": "x" })).await;
        assert_eq!(unknown_field.status.as_u16(), 400);
        let wrong_action = app.act(&app.operator, &pid, "launch", json!({})).await;
        assert_eq!(wrong_action.status.as_u16(), 400);
        assert!(wrong_action.body["error"]["message"].as_str().unwrap().contains("unknown variant"));
        let wrong_role = app.post(&app.admin, "/tokens", json!({ "role": "superuser" })).await;
        assert_eq!(wrong_role.status.as_u16(), 400);
        let not_json = app.post_raw(&app.operator, &format!("/projects/{pid}/transitions"), "text/plain", "start_matching").await;
        assert_eq!((not_json.status.as_u16(), not_json.code()), (415, "unsupported_media_type"));
        let bad_id = app.get(&app.operator, "/projects/not-a-uuid").await;
        assert_eq!(bad_id.status.as_u16(), 400);
        for query in ["/projects?state=flying", "/contacts?kind=robot", "/projects?limit=-1", "/projects?after=zzz"] {
            assert_eq!(app.get(&app.operator, query).await.status.as_u16(), 400, "{query}");
        }
        let no_route = app.get(&app.operator, "/nowhere").await;
        assert_eq!((no_route.status.as_u16(), no_route.code()), (404, "not_found"));

        assert_eq!(snapshot(&app).await, before, "nothing changed");
    }
}

on_both_backends! {
    async fn unknown_ids_get_404_and_broken_rules_get_422(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let jan = app.vetted_expert("Jan", 1).await;
        let pid = id(&app.project(&anna, &[]).await);
        let before = snapshot(&app).await;
        let ghost = "01234567-89ab-7def-8123-456789abcdef";

        for path in [format!("/projects/{ghost}"), format!("/contacts/{ghost}"), format!("/experts/{ghost}"), format!("/projects/{ghost}/audit")] {
            let r = app.get(&app.operator, &path).await;
            assert_eq!((r.status.as_u16(), r.code()), (404, "not_found"), "{path}");
        }
        let r = app.act(&app.operator, ghost, "start_matching", json!({})).await;
        assert_eq!(r.status.as_u16(), 404);
        let r = app.post(&app.operator, "/projects", json!({ "client_id": ghost, "title": "t", "spec": "s" })).await;
        assert_eq!((r.status.as_u16(), r.body["error"]["details"]["fields"][0]["field"].as_str()), (422, Some("client_id")));
        let r = app.post(&app.operator, "/projects", json!({ "client_id": jan["id"], "title": "t", "spec": "s" })).await;
        assert_eq!(r.status.as_u16(), 422, "an expert is not a client");
        let r = app.post(&app.operator, "/projects", json!({ "client_id": anna["id"], "title": " ", "spec": "", "required_documents": ["NDA!"] })).await;
        assert_eq!(r.status.as_u16(), 422);
        let fields: Vec<&str> = r.body["error"]["details"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["title", "spec", "required_documents[0]"]);
        let r = app.post(&app.operator, "/contacts", json!({ "full_name": "Anna Again", "email": anna["email"] })).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "duplicate"));
        let r = app.put(&app.operator, &format!("/projects/{pid}/baseline"), json!({ "hours_before": 5.0, "hours_after": 10.0, "hourly_value": 1.0, "horizon_months": 0, "price": 0.0 })).await;
        assert_eq!(r.status.as_u16(), 422);
                let good_baseline = json!({ "hours_before": 40.0, "hours_after": 10.0, "hourly_value": 100.0, "horizon_months": 12, "price": 1000.0 });
        let r = app.put(&app.operator, &format!("/projects/{pid}/baseline"), good_baseline).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "conflict"), "the baseline follows acceptance");
        let r = app.put(&app.operator, &format!("/projects/{pid}/outcome"), json!({ "hours_saved": 1.0, "cost": 1.0 })).await;
        assert_eq!((r.status.as_u16(), r.code()), (409, "conflict"), "the outcome waits for an active project");
        let r = app.act(&app.operator, &pid, "offer", json!({})).await;
        assert_eq!(r.status.as_u16(), 422, "offer needs an expert_id");
        let r = app.act(&app.operator, &pid, "cancel", json!({ "reason": "   " })).await;
        assert_eq!(r.status.as_u16(), 422, "a blank reason is no reason");

        assert_eq!(snapshot(&app).await, before, "nothing changed");
    }
}

on_both_backends! {
    async fn the_same_transition_twice_is_refused_with_the_allowed_actions(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let pid = id(&app.project(&anna, &[]).await);
        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        let audit_before = app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200);
        let again = app.act(&app.operator, &pid, "start_matching", json!({})).await;
        assert_eq!((again.status.as_u16(), again.code()), (409, "invalid_transition"));
        let details = &again.body["error"]["details"];
        assert_eq!(details["state"], "matching");
        assert_eq!(details["allowed_actions"], json!(["offer", "cancel"]));
        assert!(again.body["error"]["message"].as_str().unwrap().contains("matching"));
        let stale = app.act(&app.operator, &pid, "cancel", json!({ "reason": "x", "expected_version": 1 })).await;
        assert_eq!((stale.status.as_u16(), stale.code()), (409, "conflict"));
        assert_eq!(app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200), audit_before);
    }
}

#[tokio::test]
async fn a_body_over_the_limit_gets_413() {
    let app = spawn_app_with(crate::helpers::TestDb::sqlite().await, |s| {
        s.max_body_bytes = 4096
    })
    .await;
    let anna = app.client_contact("Anna").await;
    let big = json!({ "client_id": anna["id"], "title": "t", "spec": "x".repeat(10_000) });
    let r = app.post(&app.operator, "/projects", big).await;
    assert_eq!((r.status.as_u16(), r.code()), (413, "payload_too_large"));
}

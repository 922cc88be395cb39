//! Identity fields belong to staff: a person may only ask for a change, an
//! operator decides, and a change re-opens what rested on the old value.

use serde_json::{Value, json};

use crate::helpers::{TestApp, id, on_both_backends, spawn_app};

/// A PNG with no text layer: the agent sends it to review, where a person
/// approves it against the record.
fn scan() -> Vec<u8> {
    [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        uuid::Uuid::now_v7().as_bytes().to_vec(),
    ]
    .concat()
}

async fn approve_by_review(app: &TestApp, path: &str, doc_type: &str) -> String {
    let up = app
        .upload(&app.operator, path, doc_type, "scan.png", scan())
        .await
        .expect(201);
    app.verify_all().await;
    let doc = up["document"]["id"].as_str().unwrap().to_owned();
    let body = json!({ "decision": "approve", "comment": "read it", "expires_on": "2099-12-31" });
    app.post(&app.operator, &format!("/reviews/{doc}/decision"), body)
        .await
        .expect(200);
    doc
}

async fn field(app: &TestApp, path: &str, name: &str) -> Value {
    app.get(&app.operator, path).await.expect(200)[name].clone()
}

on_both_backends! {
    async fn a_client_cannot_change_the_fields_documents_are_checked_against(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Kowalska Meble").await;
        let anna_t = app.token_for("client", &anna).await;
        let path = format!("/contacts/{}", id(&anna));
        for patch in [json!({ "legal_name": "Other Company S.A." }), json!({ "tax_id": "PL 111-111-11-11" }),
                      json!({ "full_name": "Someone Else" }), json!({ "email": "other@example.pl" })] {
            let r = app.patch(&anna_t, &path, patch.clone()).await;
            assert_eq!((r.status.as_u16(), r.code()), (403, "identity_field"), "{patch}");
            assert!(r.body["error"]["message"].as_str().unwrap().contains("change-requests"));
        }
        assert_eq!(app.get(&app.operator, &path).await.expect(200), anna, "nothing changed");
        let phone = app.patch(&anna_t, &path, json!({ "phone": "+48 600 100 200" })).await.expect(200);
        assert_eq!(phone["phone"], "+48 600 100 200", "the phone is the person's own");

        // The finding: a document naming another company does not pass the
        // "client is a party" rule, since the record still names Anna's.
        let (pid, _, _) = app.accepted_project(&anna, &["nda"]).await;
        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        let other = b"# NDA\nParties: Coretex Hub and Other Company S.A.\nAll information stays confidential.\n".to_vec();
        let up = app.upload(&anna_t, &format!("/projects/{pid}/documents"), "nda", "nda.md", other).await.expect(201);
        app.verify_all().await;
        let doc = app.get(&app.operator, &format!("/documents/{}", up["document"]["id"].as_str().unwrap())).await.expect(200);
        assert_eq!(doc["document"]["status"], "rejected");
        let party = doc["report"]["requirements"].as_array().unwrap().iter().find(|r| r["id"] == "client_is_party").unwrap();
        assert_eq!(party["verdict"], "not_met");
    }
}

on_both_backends! {
    async fn an_expert_cannot_point_tracker_access_at_another_account(db) {
        let app = spawn_app(db).await;
        let jan = app.vetted_expert("Jan", 2).await;
        let jan_t = app.token_for("expert", &jan).await;
        let path = format!("/contacts/{}", id(&jan));
        let r = app.patch(&jan_t, &path, json!({ "atlassian_account_id": "acc-of-a-friend" })).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "identity_field"));
        assert_eq!(r.body["error"]["details"]["fields"], json!(["atlassian_account_id"]));
        assert!(field(&app, &path, "atlassian_account_id").await.is_null());
    }
}

on_both_backends! {
    async fn a_person_asks_for_a_change_and_an_operator_approves_or_rejects_it(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Kowalska Meble").await;
        let anna_t = app.token_for("client", &anna).await;
        let cid = id(&anna);
        let ask_path = format!("/contacts/{cid}/change-requests");
        let ask = |changes: Value| app.post(&anna_t, &ask_path, json!({ "changes": changes, "reason": "we merged" }));
        let bad = ask(json!({ "tax_id": "x" })).await;
        assert_eq!(bad.status.as_u16(), 422, "values are checked when asked");
        let unknown = ask(json!({ "nickname": "x" })).await;
        assert_eq!(unknown.status.as_u16(), 400);
        let request = ask(json!({ "legal_name": "Kowalska Meble i Syn Sp. z o.o." })).await.expect(201);
        assert_eq!(request["status"], "pending");
        let second = ask(json!({ "tax_id": "PL 526-000-12-47" })).await;
        assert_eq!(second.status.as_u16(), 409, "one request waits at a time");
        // Another client can neither ask for Anna nor see her requests.
        let piotr = app.client_contact("Piotr").await;
        let piotr_t = app.token_for("client", &piotr).await;
        assert_eq!(app.get(&piotr_t, &format!("/contacts/{cid}/change-requests")).await.status.as_u16(), 404);
        assert_eq!(app.get(&anna_t, "/change-requests").await.status.as_u16(), 403);

        let queue = app.get(&app.operator, "/change-requests?status=pending").await.expect(200);
        assert_eq!(queue.as_array().unwrap().len(), 1);
        let rid = request["id"].as_str().unwrap();
        assert_eq!(app.post(&anna_t, &format!("/change-requests/{rid}/decision"), json!({ "decision": "approve" })).await.status.as_u16(), 403);
        let decided = app.post(&app.operator, &format!("/change-requests/{rid}/decision"), json!({ "decision": "approve", "comment": "KRS checked" })).await.expect(200);
        assert_eq!(decided["request"]["status"], "approved");
        assert_eq!(decided["contact"]["legal_name"], "Kowalska Meble i Syn Sp. z o.o.");
        assert_eq!(decided["contact"]["changes"], json!([{ "field": "legal_name", "old": "Kowalska Meble Sp. z o.o.", "new": "Kowalska Meble i Syn Sp. z o.o." }]));
        let again = app.post(&app.operator, &format!("/change-requests/{rid}/decision"), json!({ "decision": "reject" })).await;
        assert_eq!(again.status.as_u16(), 409);

        let next = ask(json!({ "tax_id": "PL 526-000-12-47" })).await.expect(201);
        let nid = next["id"].as_str().unwrap();
        app.post(&app.operator, &format!("/change-requests/{nid}/decision"), json!({ "decision": "reject", "comment": "not on the register" })).await.expect(200);
        assert_eq!(field(&app, &format!("/contacts/{cid}"), "tax_id").await, "526-000-12-46");
        let mine = app.get(&anna_t, &format!("/contacts/{cid}/change-requests")).await.expect(200);
        let states: Vec<&str> = mine.as_array().unwrap().iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert_eq!(states, ["rejected", "approved"]);
    }
}

on_both_backends! {
    async fn changing_a_clients_company_name_reopens_the_documents_checked_against_it(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Kowalska Meble").await;
        let (pid, _, _) = app.accepted_project(&anna, &["nda"]).await;
        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        let doc = approve_by_review(&app, &format!("/projects/{pid}/documents"), "nda").await;
        assert_eq!(field(&app, &format!("/projects/{pid}"), "state").await, "active");

        // The NDA's rules do not read the tax id: changing it re-opens nothing.
        let path = format!("/contacts/{}", id(&anna));
        let tax = app.patch(&app.operator, &path, json!({ "tax_id": "PL 526-000-12-47" })).await.expect(200);
        assert_eq!(tax["reopened"]["documents"], json!([]));
        assert_eq!(field(&app, &format!("/projects/{pid}"), "state").await, "active");

        let changed = app.patch(&app.operator, &path, json!({ "legal_name": "Nowa Firma S.A." })).await.expect(200);
        assert_eq!(changed["reopened"]["documents"], json!([doc]));
        assert_eq!(changed["reopened"]["blocked"], json!([pid]));
        assert_eq!(field(&app, &format!("/projects/{pid}"), "state").await, "blocked", "access is revoked until it is checked again");
        let document = app.get(&app.operator, &format!("/documents/{doc}")).await.expect(200);
        assert_eq!(document["document"]["status"], "queued", "back to the agent");
        let trail = app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200);
        let block = trail.as_array().unwrap().iter().find(|e| e["action"] == "block").unwrap();
        assert_eq!(block["actor_kind"], "agent");
        let contact_trail = app.get(&app.operator, "/audit?limit=50").await.expect(200);
        let update = contact_trail.as_array().unwrap().iter()
            .find(|e| e["action"] == "update" && e["details"]["changes"][0]["field"] == "legal_name").unwrap();
        assert_eq!(update["details"]["changes"][0]["old"], "Kowalska Meble Sp. z o.o.");
        assert_eq!(update["details"]["changes"][0]["new"], "Nowa Firma S.A.");
        // The agent reads it again against the new name (a scan: a person decides).
        app.verify_all().await;
        let reviews = app.get(&app.operator, "/reviews").await.expect(200);
        assert!(reviews.as_array().unwrap().iter().any(|r| r["document"]["id"] == doc.as_str()));
    }
}

on_both_backends! {
    async fn changing_an_experts_name_reopens_their_credentials_and_suspends_them(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Kowalska Meble").await;
        let (pid, jan, _) = app.accepted_project(&anna, &[]).await;
        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        assert_eq!(field(&app, &format!("/projects/{pid}"), "state").await, "active");
        let jid = id(&jan);
        let cert = approve_by_review(&app, &format!("/experts/{jid}/documents"), "professional_certificate").await;
        let changed = app.patch(&app.operator, &format!("/contacts/{jid}"), json!({ "full_name": "Jan Nowak-Kowalski" })).await.expect(200);
        assert_eq!(changed["reopened"]["documents"], json!([cert]));
        assert_eq!(changed["reopened"]["vetting"], json!(["vetted", "suspended"]));
        assert_eq!(field(&app, &format!("/experts/{jid}"), "vetting").await, "suspended");
        assert_eq!(field(&app, &format!("/projects/{pid}"), "state").await, "blocked");
    }
}

on_both_backends! {
    async fn changing_an_experts_account_moves_their_tracker_access(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Kowalska Meble").await;
        let (pid, jan, _) = app.accepted_project(&anna, &[]).await;
        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        app.drain().await;
        let changed = app.patch(&app.operator, &format!("/contacts/{}", id(&jan)), json!({ "atlassian_account_id": "acc-jan-2" })).await.expect(200);
        assert_eq!(changed["reopened"]["access_moved"], json!([pid]));
        let outbox = app.get(&app.operator, &format!("/outbox?project_id={pid}&status=pending")).await.expect(200);
        let kinds: Vec<&str> = outbox.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["tracker_revoke_former_account", "tracker_grant_access"]);
        app.drain().await;
        let tracker = app.get(&app.operator, &format!("/projects/{pid}/tracker")).await.expect(200);
        assert_eq!(tracker["project"]["members"][0]["expert_id"], jan["id"], "still the expert's, now by the new account");
    }
}

//! The 11 steps on the built-in connectors: credentialing gate and access,
//! matching, offer expiry, archive with export, notifications, and delivery by
//! the background workers.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{TestApp, id, on_both_backends, spawn_app, spawn_app_with};

/// A project of Anna's, accepted by a vetted expert, baseline recorded.
async fn accepted_project(app: &TestApp, documents: &[&str]) -> (String, Value, String) {
    let anna = app.client_contact("Anna").await;
    app.accepted_project(&anna, documents).await
}

async fn members(app: &TestApp, pid: &str) -> Vec<String> {
    let tracker = app
        .get(&app.operator, &format!("/projects/{pid}/tracker"))
        .await
        .expect(200);
    tracker["project"]["members"]
        .as_array()
        .map_or(vec![], |m| {
            m.iter()
                .map(|x| x["expert_id"].as_str().unwrap().to_owned())
                .collect()
        })
}

async fn decide(app: &TestApp, pid: &str, doc: &str, decision: &str) -> Value {
    app.decide_by_review(pid, doc, decision).await
}

async fn state(app: &TestApp, pid: &str) -> String {
    let p = app
        .get(&app.operator, &format!("/projects/{pid}"))
        .await
        .expect(200);
    p["state"].as_str().unwrap().to_owned()
}

on_both_backends! {
    async fn the_last_approved_document_activates_the_project_and_grants_access(db) {
        let app = spawn_app(db).await;
        let (pid, jan, jan_t) = accepted_project(&app, &["nda", "insurance_certificate"]).await;
        let jan_id = jan["id"].as_str().unwrap().to_owned();
        let started = app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        assert_eq!(started["project"]["state"], "credentialing");
        let docs = app.get(&jan_t, &format!("/projects/{pid}/documents")).await.expect(200);
        let statuses: Vec<(&str, &str)> = docs["required"].as_array().unwrap().iter().map(|d| (d["doc_type"].as_str().unwrap(), d["status"].as_str().unwrap())).collect();
        assert_eq!(statuses, [("nda", "missing"), ("insurance_certificate", "missing")]);

        // A rejection keeps the project in credentialing.
        let rejected = decide(&app, &pid, "insurance_certificate", "reject").await;
        assert_eq!(rejected["transitions"].as_array().unwrap().len(), 0);
        assert_eq!(state(&app, &pid).await, "credentialing");
        decide(&app, &pid, "nda", "approve").await;
        assert_eq!(state(&app, &pid).await, "credentialing");
        app.drain().await;
        assert!(members(&app, &pid).await.is_empty(), "no access before every document is approved");

        // The last approval: active at once, by the agent, and the expert is a member as soon as it is delivered.
        let last = decide(&app, &pid, "insurance_certificate", "approve").await;
        assert_eq!(state(&app, &pid).await, "active");
        assert_eq!((last["transitions"][0]["to"].as_str(), last["transitions"][0]["by"].as_str()), (Some("active"), Some("agent")));
        assert!(last["transitions"][0]["effects"].as_array().unwrap().contains(&json!("tracker_grant_access")));
        app.drain().await;
        assert_eq!(members(&app, &pid).await, std::slice::from_ref(&jan_id));
        let board = app.get(&app.operator, &format!("/projects/{pid}/board")).await.expect(200);
        assert_eq!(board["list"], "active");
        assert!(board["checklist"].as_array().unwrap().iter().all(|i| i["checked"] == true), "{board}");
        // The expert can now use the tracker.
        app.get(&jan_t, &format!("/projects/{pid}/tracker")).await.expect(200);

        // Block revokes, unblock re-grants.
        app.act(&app.operator, &pid, "block", json!({ "reason": "audit" })).await.expect(200);
        app.drain().await;
        assert!(members(&app, &pid).await.is_empty());
        app.act(&app.operator, &pid, "unblock", json!({ "reason": "audit done" })).await.expect(200);
        app.drain().await;
        assert_eq!(members(&app, &pid).await, [jan_id]);

        // A credential that lapses while active blocks the project by itself.
        assert_eq!(ssot::jobs::credentials::sweep(&app.store, time::macros::date!(2100 - 01 - 01)).await, 2);
        assert_eq!(state(&app, &pid).await, "blocked");
        app.drain().await;
        assert!(members(&app, &pid).await.is_empty());
        let refused = app.act(&app.operator, &pid, "unblock", json!({ "reason": "please" })).await;
        assert_eq!(refused.body["error"]["details"]["gate"], "documents_approved");
        let trail = app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200);
        let decisions: Vec<&str> = trail.as_array().unwrap().iter().filter_map(|e| e["action"].as_str()).filter(|a| a.ends_with("_document")).collect();
        assert_eq!(decisions, ["reject_document", "approve_document", "approve_document", "expire_document", "expire_document"]);
    }
}

on_both_backends! {
    async fn the_manual_gate_is_the_review_queue_and_an_early_approval_counts(db) {
        let app = spawn_app(db).await;
        let (pid, _jan, jan_t) = accepted_project(&app, &["nda"]).await;
        let r = app.post(&app.operator, &format!("/projects/{pid}/documents/nda/decision"), json!({ "decision": "approve" })).await;
        assert_eq!(r.status.as_u16(), 404, "no approval without a document: the manual gate is the review queue");
        let r = app.upload(&jan_t, &format!("/projects/{pid}/documents"), "nda", "nda.png", b"\x89PNG\r\n\x1a\n".to_vec()).await;
        assert_eq!(r.status.as_u16(), 403, "experts do not upload the client's documents");
        let r = app.upload(&app.operator, &format!("/projects/{pid}/documents"), "passport", "p.png", b"\x89PNG\r\n\x1a\n".to_vec()).await;
        assert_eq!(r.status.as_u16(), 422, "only the documents the project requires");
        // An approval before credentialing counts once credentialing starts.
        decide(&app, &pid, "nda", "approve").await;
        let started = app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        assert_eq!(started["project"]["state"], "active");
    }
}

on_both_backends! {
    async fn matching_ranks_free_vetted_experts_and_skips_those_who_declined(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let add = |name: &str, skills: Value, industries: Value, rating: f64| {
            let body = json!({ "full_name": name, "email": format!("{}@x.example", name.to_lowercase()), "skills": skills,
                               "industries": industries, "capacity": 1, "rating": rating });
            let app = &app;
            async move {
                let e = app.post(&app.operator, "/experts", body).await.expect(201);
                let eid = id(&e);
                for action in ["start_vetting", "approve"] {
                    app.post(&app.operator, &format!("/experts/{eid}/vetting"), json!({ "action": action })).await.expect(200);
                }
                eid
            }
        };
        let full = add("Full", json!(["automation"]), json!(["retail"]), 3.0).await;
        let star = add("Star", json!(["automation"]), json!(["retail"]), 4.9).await;
                let other = add("Other", json!(["design"]), json!(["retail"]), 5.0).await;
        // A perfect fit with no free capacity is not ranked.
        let busy = add("Busy", json!(["automation"]), json!(["retail"]), 5.0).await;
        let elsewhere = id(&app.project(&anna, &[]).await);
        app.act(&app.operator, &elsewhere, "start_matching", json!({})).await.expect(200);
        app.act(&app.operator, &elsewhere, "offer", json!({ "expert_id": busy })).await.expect(200);
        app.post(&app.operator, "/experts", json!({ "full_name": "New", "email": "new@x.example", "skills": ["automation"] })).await.expect(201);
        let pid = id(&app.project(&anna, &[]).await);
        let ranked = app.get(&app.operator, &format!("/projects/{pid}/matches")).await.expect(200);
        let order: Vec<&str> = ranked.as_array().unwrap().iter().map(|m| m["expert_id"].as_str().unwrap()).collect();
        assert_eq!(order, [star.as_str(), full.as_str(), other.as_str()], "fit first, then rating; applicants are not ranked");
        assert_eq!(ranked[2]["score"]["skills_missing"], json!(["automation"]));
        assert_eq!(ranked[0]["score"]["industry_match"], true);

        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": star })).await.expect(200);
        let star_t = app.token_for("expert", &json!({ "id": star })).await;
        app.act(&star_t, &pid, "decline", json!({})).await.expect(200);
        let after = app.get(&app.operator, &format!("/projects/{pid}/matches")).await.expect(200);
        let order: Vec<&str> = after.as_array().unwrap().iter().map(|m| m["expert_id"].as_str().unwrap()).collect();
        assert_eq!(order, [full.as_str(), other.as_str()], "the decliner is not offered it again");
        assert_eq!(app.get(&star_t, &format!("/projects/{pid}/matches")).await.status.as_u16(), 403);
    }
}

on_both_backends! {
    async fn an_unanswered_offer_expires_back_to_matching(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let jan = app.vetted_expert("Jan", 1).await;
        let jan_t = app.token_for("expert", &jan).await;
        let pid = id(&app.project(&anna, &[]).await);
        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
                let sweep = |ttl| ssot::jobs::scheduler::SchedulerConfig { offer_ttl: ttl, interval: Duration::from_secs(60) };
        assert_eq!(ssot::jobs::scheduler::sweep(&app.store, &sweep(Duration::from_secs(3600))).await, 0, "a fresh offer stands");
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(ssot::jobs::scheduler::sweep(&app.store, &sweep(Duration::from_millis(10))).await, 1);
        let project = app.get(&app.operator, &format!("/projects/{pid}")).await.expect(200);
        assert_eq!((project["state"].as_str(), project["expert_id"].is_null()), (Some("matching"), true));
        let trail = app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200);
        let last = trail.as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["action"].as_str(), last["actor_kind"].as_str()), (Some("withdraw_offer"), Some("agent")));
        assert!(last["reason"].as_str().unwrap().contains("expired"));
        // The expert hears of the offer and of its withdrawal; the project is free to offer again.
        app.drain().await;
        let notes = app.get(&jan_t, "/notifications").await.expect(200);
        let kinds: Vec<&str> = notes.as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["offer_withdrawn", "offer"]);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
    }
}

on_both_backends! {
    async fn archiving_attaches_the_export_before_deleting_the_tracker_project(db) {
        let app = spawn_app(db).await;
        let (pid, _jan, jan_t) = accepted_project(&app, &[]).await;
                app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        app.drain().await;
        app.post(&jan_t, &format!("/projects/{pid}/tasks"), json!({ "title": "Map invoice fields" })).await.expect(201);
        let board = app.get(&app.operator, &format!("/projects/{pid}/board")).await.expect(200);
        assert_eq!(board["value"]["expected_value"], json!(30.0 * 120.0 * 12.0), "the baseline is on the board record");
        app.outcome(&pid).await;
        app.act(&app.operator, &pid, "complete", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "archive", json!({})).await.expect(200);
        app.drain().await;

                let board = app.get(&app.operator, &format!("/projects/{pid}/board")).await.expect(200);
        assert_eq!(board["list"], "archived");
        assert_eq!(board["value"]["realised_value"], json!(28.0 * 120.0 * 12.0), "and then the realised figures");
        let file = &board["attachments"][0];
        assert!(file["filename"].as_str().unwrap().starts_with("tracker-export-"));
        let res = app.http.get(format!("{}/projects/{pid}/board/attachments/{}", app.base, file["id"].as_str().unwrap()))
            .bearer_auth(&app.operator).send().await.unwrap();
        assert_eq!(res.headers()["content-type"], "application/json");
        let export: Value = res.json().await.unwrap();
        let mut titles: Vec<&str> = export["tasks"].as_array().unwrap().iter().map(|t| t["title"].as_str().unwrap()).collect();
        titles.sort();
        assert_eq!(titles, ["Deliver: Invoice automation", "Map invoice fields"], "the export holds the tracker's tasks");
        let tracker = app.get(&app.operator, &format!("/projects/{pid}/tracker")).await.expect(200);
        assert!(tracker["project"]["deleted_at"].is_string());
        assert_eq!(tracker["tasks"], json!([]), "deleted from the tracker");
        let deal = app.get(&app.operator, &format!("/projects/{pid}/deal")).await.expect(200);
        assert_eq!(deal["stage"], "archived");
        // Key data is kept: client, expert, metrics, audit.
        let project = app.get(&app.operator, &format!("/projects/{pid}")).await.expect(200);
        assert!(project["expert_id"].is_string() && project["value"]["realised_value"].is_number());
        let delivered = app.get(&app.operator, &format!("/outbox?project_id={pid}&status=delivered")).await.expect(200);
        let order: Vec<&str> = delivered.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).filter(|k| k.starts_with("tracker_")).collect();
        let export_at = order.iter().position(|k| *k == "tracker_export_to_board").unwrap();
        assert!(order[export_at + 1..].contains(&"tracker_delete_project"));
    }
}

on_both_backends! {
    async fn background_workers_deliver_without_being_asked(db) {
        let app = spawn_app_with(db, |s| {
            s.outbox_workers = 2;
            s.outbox_poll_ms = 5000;
        })
        .await;
        let anna = app.client_contact("Anna").await;
        let pid = id(&app.project(&anna, &[]).await);
        // Woken by the commit, not the 5 s poll: the project's two entries and
        // the client's CRM record (an entry of the contact).
        let mut delivered = 0;
        for _ in 0..500 {
            let done = app.get(&app.operator, &format!("/outbox?project_id={pid}&status=delivered")).await.expect(200);
            delivered = done.as_array().unwrap().len();
            let contact = app.get(&app.operator, &format!("/contacts/{}", anna["id"].as_str().unwrap())).await.expect(200);
            if delivered == 2 && contact["crm_ref"].is_string() { break; }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(delivered, 2);
        let contact = app.get(&app.operator, &format!("/contacts/{}", anna["id"].as_str().unwrap())).await.expect(200);
        assert!(contact["crm_ref"].as_str().unwrap().starts_with("builtin:"));
        assert_eq!(contact["properties"]["intake_history"][0]["answers"]["how_did_you_hear"], "referral");
    }
}

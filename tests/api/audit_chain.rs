//! The audit trail is a hash chain: an event edited, inserted or deleted
//! behind the hub's back is found by `ssot audit verify`.

use serde_json::json;
use ssot::domain::audit::ChainBreak;

use crate::helpers::{TestApp, id, on_both_backends, spawn_app};

/// A few projects moved along, so the chain has some length.
async fn some_history(app: &TestApp) -> String {
    let anna = app.client_contact("Anna").await;
    let pid = id(&app.project(&anna, &[]).await);
    app.act(&app.operator, &pid, "start_matching", json!({}))
        .await
        .expect(200);
    app.act(
        &app.operator,
        &pid,
        "cancel",
        json!({ "reason": "client withdrew" }),
    )
    .await
    .expect(200);
    pid
}

async fn first_break(app: &TestApp) -> Option<ChainBreak> {
    app.store
        .verify_audit_chain(|_| {})
        .await
        .unwrap()
        .first_break
}

/// The chain number of the event of `project` with `action`.
async fn seq_of(app: &TestApp, project: &str, action: &str) -> (i64, String) {
    let trail = app
        .get(&app.operator, &format!("/projects/{project}/audit"))
        .await
        .expect(200);
    let e = trail
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == action)
        .unwrap();
    (
        e["chain_seq"].as_i64().unwrap(),
        e["id"].as_str().unwrap().to_owned(),
    )
}

on_both_backends! {
    async fn every_event_is_sealed_into_one_unbroken_chain(db) {
        let app = spawn_app(db).await;
        some_history(&app).await;
        // Writers at once: the chain still has no gap and no fork.
        let mut running = Vec::new();
        for i in 0..8 {
            let app_base = app.base.clone();
            let http = app.http.clone();
            let op = app.operator.clone();
            running.push(tokio::spawn(async move {
                let body = json!({ "full_name": format!("Client {i}"), "email": format!("c{i}@example.pl") });
                http.post(format!("{app_base}/contacts")).bearer_auth(op).json(&body).send().await.unwrap().status()
            }));
        }
        for r in running {
            assert_eq!(r.await.unwrap().as_u16(), 201);
        }
        let report = app.store.verify_audit_chain(|_| {}).await.unwrap();
        assert_eq!(report.first_break, None);
        let all = app.get(&app.operator, "/audit?limit=200").await.expect(200);
        assert_eq!(report.events, all.as_array().unwrap().len() as u64);
        assert_eq!(report.head.seq as u64, report.events);
        let head = app.get(&app.operator, "/audit/head").await.expect(200);
        assert_eq!((head["seq"].as_i64(), head["hash"].as_str()), (Some(report.head.seq), Some(report.head.hash.as_str())));
    }
}

on_both_backends! {
    async fn an_edited_event_is_named(db) {
        let app = spawn_app(db).await;
        let pid = some_history(&app).await;
        let (seq, event) = seq_of(&app, &pid, "cancel").await;
        app.raw_sql(&format!("UPDATE audit_events SET reason = 'nothing to see' WHERE id = '{event}'")).await;
        assert_eq!(first_break(&app).await, Some(ChainBreak::Edited { seq, id: event }));
    }
}

on_both_backends! {
    async fn a_deleted_event_is_found_in_the_middle_and_at_the_end(db) {
        let app = spawn_app(db).await;
        let pid = some_history(&app).await;
        let (seq, event) = seq_of(&app, &pid, "start_matching").await;
        app.raw_sql(&format!("DELETE FROM audit_events WHERE id = '{event}'")).await;
        assert_eq!(first_break(&app).await, Some(ChainBreak::Deleted { after_seq: seq - 1, missing: 1 }));

        let app2 = spawn_app(crate::helpers::TestDb::sqlite().await).await;
        some_history(&app2).await;
        let head = app2.store.audit_head().await.unwrap();
        app2.raw_sql(&format!("DELETE FROM audit_events WHERE chain_seq = {}", head.seq)).await;
        assert_eq!(first_break(&app2).await, Some(ChainBreak::TailDeleted { head_seq: head.seq, last_seq: head.seq - 1 }));
    }
}

on_both_backends! {
    async fn an_event_written_behind_the_hubs_back_is_found(db) {
        let app = spawn_app(db).await;
        let pid = some_history(&app).await;
        app.raw_sql(&format!(
            "INSERT INTO audit_events (id, entity, entity_id, actor_kind, actor_label, action, details, at)
             VALUES ('0193aaaa-0000-7000-8000-000000000001', 'project', '{pid}', 'operator', 'olga', 'approve_document', '{{}}', '2026-01-01T00:00:00.000000Z')"
        )).await;
        // Later changes through the hub do not launder it into the chain.
        app.client_contact("Piotr").await;
        assert_eq!(first_break(&app).await, Some(ChainBreak::Unsealed { id: "0193aaaa-0000-7000-8000-000000000001".into() }));
    }
}

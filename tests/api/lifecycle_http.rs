//! A project driven through every state over HTTP, as the README's curl
//! walk-through does it, and the expert vetting lifecycle.

use serde_json::{Value, json};

use crate::helpers::{TestApp, id, on_both_backends, spawn_app};

async fn state_of(app: &TestApp, pid: &str) -> String {
    app.get(&app.operator, &format!("/projects/{pid}"))
        .await
        .expect(200)["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

on_both_backends! {
    async fn a_project_goes_through_every_state_with_an_audit_trail(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let jan = app.vetted_expert("Jan", 2).await;
        let jan_token = app.token_for("expert", &jan).await;
        let project = app.project(&anna, &[]).await;
        let pid = id(&project);
        assert_eq!(project["state"], "intake");
        assert_eq!(project["allowed_actions"], json!(["start_matching", "cancel"]));

        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        let offered = app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
        assert_eq!(offered["project"]["expert_id"], jan["id"]);
        assert_eq!(offered["transitions"][0]["effects"], json!(["notify_expert", "crm_sync_deal"]));
        app.act(&jan_token, &pid, "accept", json!({})).await.expect(200);
        let valued = app.baseline(&pid).await;
        assert_eq!(valued["value"]["expected_value"], json!(30.0 * 120.0 * 12.0));
        let started = app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        let steps: Vec<(&str, &str)> = started["transitions"].as_array().unwrap().iter()
            .map(|t| (t["to"].as_str().unwrap(), t["by"].as_str().unwrap())).collect();
        assert_eq!(steps, [("credentialing", "olga"), ("active", "agent")]);
        assert!(started["transitions"][1]["effects"].as_array().unwrap().contains(&json!("tracker_grant_access")));

        let no_reason = app.act(&app.operator, &pid, "block", json!({})).await;
        assert_eq!((no_reason.status.as_u16(), no_reason.code()), (422, "validation_failed"));
        app.act(&app.operator, &pid, "block", json!({ "reason": "invoice overdue" })).await.expect(200);
        assert_eq!(state_of(&app, &pid).await, "blocked");
        app.act(&app.operator, &pid, "unblock", json!({ "reason": "paid" })).await.expect(200);
        let not_yet = app.act(&app.operator, &pid, "complete", json!({})).await;
        assert_eq!((not_yet.status.as_u16(), not_yet.code()), (422, "gate_failed"));
        app.outcome(&pid).await;
        app.act(&app.operator, &pid, "complete", json!({})).await.expect(200);
        let archived = app.act(&app.operator, &pid, "archive", json!({})).await.expect(200);
        assert_eq!(archived["project"]["state"], "archived");
        assert_eq!(archived["project"]["allowed_actions"], json!([]));
        assert_eq!(archived["project"]["value"]["realised_value"], json!(28.0 * 120.0 * 12.0));

        let trail = app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200);
        let steps: Vec<String> = trail.as_array().unwrap().iter()
            .filter(|e| e["to_state"].is_string())
            .map(|e| format!("{}:{}->{}", e["actor_label"].as_str().unwrap(), e["from_state"].as_str().unwrap_or("-"), e["to_state"].as_str().unwrap()))
            .collect();
        assert_eq!(steps, [
            "olga:-->intake", "olga:intake->matching", "olga:matching->offered", "Jan:offered->accepted",
            "olga:accepted->credentialing", "agent:credentialing->active", "olga:active->blocked",
            "olga:blocked->active", "olga:active->completed", "olga:completed->archived",
        ]);
        // The client sees the same trail for their project.
        let anna_token = app.token_for("client", &anna).await;
        let theirs = app.get(&anna_token, &format!("/projects/{pid}/audit")).await.expect(200);
        assert_eq!(theirs.as_array().unwrap().len(), trail.as_array().unwrap().len());

        // And the queued side effects are visible to staff.
        let outbox = app.get(&app.operator, &format!("/outbox?project_id={pid}")).await.expect(200);
        let kinds: Vec<&str> = outbox.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"tracker_export_to_board") && kinds.contains(&"tracker_delete_project"));
    }
}

on_both_backends! {
    async fn experts_are_vetted_before_they_can_be_offered_work(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let body = json!({ "full_name": "Marek", "email": "marek@experts.example", "skills": ["Python", "python"], "capacity": 1 });
        let marek = app.post(&app.operator, "/experts", body).await.expect(201);
        assert_eq!((marek["vetting"].as_str(), marek["skills"].clone()), (Some("applicant"), json!(["python"])));
        let mid = id(&marek);
        let pid = id(&app.project(&anna, &[]).await);
        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        let unvetted = app.act(&app.operator, &pid, "offer", json!({ "expert_id": mid })).await;
        assert_eq!((unvetted.status.as_u16(), unvetted.body["error"]["details"]["gate"].as_str()), (422, Some("expert_vetted")));

        let wrong = app.post(&app.operator, &format!("/experts/{mid}/vetting"), json!({ "action": "approve" })).await;
        assert_eq!((wrong.status.as_u16(), wrong.code()), (409, "invalid_transition"));
        assert_eq!(wrong.body["error"]["details"]["allowed_actions"], json!(["start_vetting"]));
        app.post(&app.operator, &format!("/experts/{mid}/vetting"), json!({ "action": "start_vetting" })).await.expect(200);
        app.post(&app.operator, &format!("/experts/{mid}/vetting"), json!({ "action": "approve" })).await.expect(200);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": mid })).await.expect(200);
        let vetted: Value = app.get(&app.operator, &format!("/experts/{mid}")).await.expect(200);
        assert_eq!((vetted["vetting"].as_str(), vetted["load"].as_u64()), (Some("vetted"), Some(1)));

        // Full capacity: a second project cannot be offered to Marek.
        let other = id(&app.project(&anna, &[]).await);
        app.act(&app.operator, &other, "start_matching", json!({})).await.expect(200);
        let full = app.act(&app.operator, &other, "offer", json!({ "expert_id": mid })).await;
        assert_eq!(full.body["error"]["details"]["gate"], "expert_has_capacity");

        let suspended = app.post(&app.operator, &format!("/experts/{mid}/vetting"), json!({ "action": "suspend", "reason": "licence lapsed" })).await.expect(200);
        assert_eq!(suspended["projects"][0]["to"], "matching", "the open offer is withdrawn");
        let trail = app.get(&app.operator, &format!("/experts/{mid}/audit")).await.expect(200);
        let actions: Vec<&str> = trail.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["start_vetting", "approve", "suspend"]);
    }
}

on_both_backends! {
    async fn lists_are_paged_by_id(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let mut made = Vec::new();
        for _ in 0..5 {
            made.push(id(&app.project(&anna, &[]).await));
        }
        let first = app.get(&app.operator, "/projects?limit=2").await.expect(200);
        let next = first["next"].as_str().unwrap().to_owned();
        let second = app.get(&app.operator, &format!("/projects?limit=2&after={next}")).await.expect(200);
        let third = app.get(&app.operator, &format!("/projects?limit=2&after={}", second["next"].as_str().unwrap())).await.expect(200);
        let seen: Vec<String> = [&first, &second, &third].iter()
            .flat_map(|p| p["items"].as_array().unwrap().iter().map(id))
            .collect();
        assert_eq!(seen, made);
        assert!(third["next"].is_null());
        let intake = app.get(&app.operator, "/projects?state=intake").await.expect(200);
        assert_eq!(intake["items"].as_array().unwrap().len(), 5);
        let none = app.get(&app.operator, "/projects?state=active").await.expect(200);
        assert_eq!(none["items"], json!([]));
    }
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app(crate::helpers::TestDb::sqlite().await).await;
    let doc = app
        .request(reqwest::Method::GET, None, "/openapi.json", None)
        .await
        .expect(200);
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/projects",
        "/api/v1/projects/{id}/transitions",
        "/api/v1/experts/{id}/vetting",
        "/api/v1/projects/{id}/tickets",
        "/api/v1/projects/{id}/tasks",
        "/api/v1/contacts",
        "/api/v1/health",
        "/api/v1/projects/{id}/audit",
        "/api/v1/tokens",
        "/api/v1/outbox",
    ] {
        assert!(paths.contains_key(path), "missing {path}");
    }
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for schema in [
        "ProjectView",
        "ErrorBody",
        "Baseline",
        "Action",
        "ProjectState",
    ] {
        assert!(schemas.contains_key(schema), "missing schema {schema}");
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
}

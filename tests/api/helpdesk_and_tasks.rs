//! The helpdesk and the tracker: who may use them, and when.

use serde_json::json;

use crate::helpers::{id, on_both_backends, spawn_app};

on_both_backends! {
    async fn the_people_on_a_project_talk_through_tickets(db) {
        let app = spawn_app(db).await;
        let (anna, piotr) = (app.client_contact("Anna").await, app.client_contact("Piotr").await);
        let jan = app.vetted_expert("Jan", 2).await;
        let (anna_t, piotr_t, jan_t) = (app.token_for("client", &anna).await, app.token_for("client", &piotr).await, app.token_for("expert", &jan).await);
        let pid = id(&app.project(&anna, &[]).await);

        let ticket = app.post(&anna_t, &format!("/projects/{pid}/tickets"), json!({ "subject": "Kick-off", "body": "When do we start?" })).await.expect(201);
        let tid = id(&ticket);
        assert_eq!((ticket["status"].as_str(), ticket["opened_by"].as_str()), (Some("open"), Some("Anna")));
        app.post(&app.operator, &format!("/projects/{pid}/tickets/{tid}/messages"), json!({ "body": "Next week." })).await.expect(201);
        // Outsiders see nothing; an expert merely offered the project has no helpdesk yet.
        assert_eq!(app.get(&piotr_t, &format!("/projects/{pid}/tickets")).await.status.as_u16(), 404);
        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
        assert_eq!(app.get(&jan_t, &format!("/projects/{pid}/tickets")).await.status.as_u16(), 403);
        app.act(&jan_t, &pid, "accept", json!({})).await.expect(200);
        app.post(&jan_t, &format!("/projects/{pid}/tickets/{tid}/messages"), json!({ "body": "Hello, I am Jan." })).await.expect(201);

        let thread = app.get(&anna_t, &format!("/projects/{pid}/tickets/{tid}")).await.expect(200);
        let authors: Vec<&str> = thread["messages"].as_array().unwrap().iter().map(|m| m["author_role"].as_str().unwrap()).collect();
        assert_eq!(authors, ["client", "operator", "expert"]);

        app.put(&anna_t, &format!("/projects/{pid}/tickets/{tid}/status"), json!({ "status": "closed" })).await.expect(200);
        let closed = app.post(&jan_t, &format!("/projects/{pid}/tickets/{tid}/messages"), json!({ "body": "one more" })).await;
        assert_eq!(closed.status.as_u16(), 409);
        let twice = app.put(&anna_t, &format!("/projects/{pid}/tickets/{tid}/status"), json!({ "status": "closed" })).await;
        assert_eq!(twice.status.as_u16(), 409);
        app.put(&app.operator, &format!("/projects/{pid}/tickets/{tid}/status"), json!({ "status": "open" })).await.expect(200);
        let empty = app.post(&anna_t, &format!("/projects/{pid}/tickets/{tid}/messages"), json!({ "body": "  " })).await;
        assert_eq!(empty.status.as_u16(), 422);
        let list = app.get(&app.operator, &format!("/projects/{pid}/tickets")).await.expect(200);
        assert_eq!(list[0]["messages"].as_array().unwrap().len(), 3);
    }
}

on_both_backends! {
        async fn the_tracker_is_for_staff_and_the_expert_while_the_project_is_active(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let jan = app.vetted_expert("Jan", 2).await;
        let (anna_t, jan_t) = (app.token_for("client", &anna).await, app.token_for("expert", &jan).await);
        let pid = id(&app.project(&anna, &[]).await);
        let task = app.post(&app.operator, &format!("/projects/{pid}/tasks"), json!({ "title": "Collect invoices" })).await.expect(201);
        assert_eq!(task["status"], "todo");
        assert_eq!(app.get(&anna_t, &format!("/projects/{pid}/tasks")).await.status.as_u16(), 403);
        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
        assert_eq!(app.get(&jan_t, &format!("/projects/{pid}/tasks")).await.status.as_u16(), 403, "not before accepting");
                app.act(&jan_t, &pid, "accept", json!({})).await.expect(200);
        let tid = id(&task);
        let early = app.patch(&jan_t, &format!("/projects/{pid}/tasks/{tid}"), json!({ "status": "in_progress" })).await;
        assert_eq!(early.status.as_u16(), 403, "no access before credentialing is complete");
        app.baseline(&pid).await;
        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        assert_eq!(app.get(&jan_t, &format!("/projects/{pid}/tasks")).await.status.as_u16(), 403, "not before the grant is delivered");
        app.drain().await;
        let done = app.patch(&jan_t, &format!("/projects/{pid}/tasks/{tid}"), json!({ "status": "in_progress" })).await.expect(200);
        assert_eq!(done["status"], "in_progress");
                let bad = app.patch(&jan_t, &format!("/projects/{pid}/tasks/{tid}"), json!({ "status": "finished" })).await;
        assert_eq!(bad.status.as_u16(), 400);
        app.act(&app.operator, &pid, "block", json!({ "reason": "paused" })).await.expect(200);
        app.drain().await;
        let blocked = app.patch(&jan_t, &format!("/projects/{pid}/tasks/{tid}"), json!({ "status": "done" })).await;
        assert_eq!(blocked.status.as_u16(), 403, "a block revokes access");
        assert_eq!(app.get(&jan_t, &format!("/projects/{pid}/tracker")).await.status.as_u16(), 403);
        let other = id(&app.project(&anna, &[]).await);
        let wrong_project = app.patch(&app.operator, &format!("/projects/{other}/tasks/{tid}"), json!({ "status": "done" })).await;
        assert_eq!(wrong_project.status.as_u16(), 404, "a task is reached only through its own project");
        app.act(&app.operator, &other, "cancel", json!({ "reason": "duplicate" })).await.expect(200);
        let closed = app.post(&app.operator, &format!("/projects/{other}/tasks"), json!({ "title": "late" })).await;
        assert_eq!(closed.status.as_u16(), 409, "a cancelled project's tracker is closed");
    }
}

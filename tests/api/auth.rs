//! Tokens and roles: who may call what, and who sees which projects.

use serde_json::json;

use crate::helpers::{id, on_both_backends, spawn_app};

on_both_backends! {
    async fn requests_without_a_valid_token_are_refused_with_401(db) {
        let app = spawn_app(db).await;
        let none = app.request(reqwest::Method::GET, None, "/projects", None).await;
        assert_eq!((none.status.as_u16(), none.code()), (401, "unauthorized"));
        let bad = app.get("ssot_0000", "/projects").await;
        assert_eq!(bad.status.as_u16(), 401);
        let scheme = app.http.get(format!("{}/projects", app.base)).header("authorization", "Basic abc").send().await.unwrap();
        assert_eq!(scheme.status().as_u16(), 401);

        let created = app.post(&app.admin, "/tokens", json!({ "role": "operator", "label": "temp" })).await.expect(201);
        let secret = created["secret"].as_str().unwrap().to_owned();
        app.get(&secret, "/projects").await.expect(200);
        let token_id = created["token"]["id"].as_str().unwrap();
        app.request(reqwest::Method::DELETE, Some(&app.admin), &format!("/tokens/{token_id}"), None).await.expect(204);
        assert_eq!(app.get(&secret, "/projects").await.status.as_u16(), 401, "a revoked token stops working");
        // Health and the API description need no token.
        app.request(reqwest::Method::GET, None, "/health", None).await.expect(200);
        app.request(reqwest::Method::GET, None, "/openapi.json", None).await.expect(200);
    }
}

on_both_backends! {
    async fn each_role_sees_only_its_own_projects(db) {
        let app = spawn_app(db).await;
        let (anna, piotr) = (app.client_contact("Anna").await, app.client_contact("Piotr").await);
        let (jan, ewa) = (app.vetted_expert("Jan", 3).await, app.vetted_expert("Ewa", 3).await);
        let annas = app.project(&anna, &[]).await;
        let piotrs = app.project(&piotr, &[]).await;
        let (anna_token, piotr_token) = (app.token_for("client", &anna).await, app.token_for("client", &piotr).await);
        let (jan_token, ewa_token) = (app.token_for("expert", &jan).await, app.token_for("expert", &ewa).await);

        let listed = app.get(&anna_token, "/projects").await.expect(200);
        let ids: Vec<&str> = listed["items"].as_array().unwrap().iter().map(|p| p["id"].as_str().unwrap()).collect();
        assert_eq!(ids, [id(&annas)]);
        // Another client's project does not exist for Anna, even when she asks for it by id...
        let other = app.get(&anna_token, &format!("/projects/{}", id(&piotrs))).await;
        assert_eq!((other.status.as_u16(), other.code()), (404, "not_found"));
        // ...or filters for it.
        let sneaky = app.get(&anna_token, &format!("/projects?client_id={}", piotr["id"].as_str().unwrap())).await.expect(200);
        assert_eq!(sneaky["items"].as_array().unwrap().len(), 1);
        app.get(&piotr_token, &format!("/projects/{}", id(&piotrs))).await.expect(200);

        // An expert sees a project once it is offered to them, and only then.
        assert_eq!(app.get(&jan_token, "/projects").await.expect(200)["items"], json!([]));
        let pid = id(&annas);
        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
        let jans = app.get(&jan_token, "/projects").await.expect(200);
        assert_eq!(jans["items"][0]["id"], annas["id"]);
        assert_eq!(jans["items"][0]["allowed_actions"], json!(["accept", "decline"]));
        assert_eq!(app.get(&ewa_token, &format!("/projects/{pid}")).await.status.as_u16(), 404);
        // Only the offered expert may answer; Ewa cannot even see the offer.
        assert_eq!(app.act(&ewa_token, &pid, "accept", json!({})).await.status.as_u16(), 404);
                app.act(&jan_token, &pid, "decline", json!({ "reason": "no time" })).await.expect(200);
        assert_eq!(app.get(&jan_token, &format!("/projects/{pid}")).await.status.as_u16(), 404, "a declined offer disappears");

        // The next expert does not read Jan's offer or decline; the client sees the step, not Jan's reason.
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": ewa["id"] })).await.expect(200);
        let ewas = app.get(&ewa_token, &format!("/projects/{pid}/audit")).await.expect(200);
        let seen: Vec<&str> = ewas.as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(seen, ["offer"], "an expert sees only their own steps, from their offer on");
        assert!(ewas.as_array().unwrap().iter().all(|e| e["details"] == json!({})), "details are for staff");
        let annas_view = app.get(&anna_token, &format!("/projects/{pid}/audit")).await.expect(200);
        let decline = annas_view.as_array().unwrap().iter().find(|e| e["action"] == "decline").unwrap();
        assert!(decline["reason"].is_null());
        let staff_view = app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200);
        let decline = staff_view.as_array().unwrap().iter().find(|e| e["action"] == "decline").unwrap();
        assert_eq!(decline["reason"], "no time");

        // Contacts: people read their own record only.
        app.get(&anna_token, &format!("/contacts/{}", anna["id"].as_str().unwrap())).await.expect(200);
        assert_eq!(app.get(&anna_token, &format!("/contacts/{}", piotr["id"].as_str().unwrap())).await.status.as_u16(), 404);
        app.get(&jan_token, &format!("/experts/{}", jan["id"].as_str().unwrap())).await.expect(200);
        assert_eq!(app.get(&jan_token, "/contacts").await.status.as_u16(), 403);
    }
}

on_both_backends! {
    async fn roles_may_take_only_their_own_actions(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let jan = app.vetted_expert("Jan", 2).await;
        let (anna_token, jan_token) = (app.token_for("client", &anna).await, app.token_for("expert", &jan).await);
        let project = app.project(&anna, &[]).await;
        let pid = id(&project);

        // Clients and experts cannot create projects, contacts or experts.
        for token in [&anna_token, &jan_token] {
            let r = app.post(token, "/projects", json!({ "client_id": anna["id"], "title": "x", "spec": "y" })).await;
            assert_eq!((r.status.as_u16(), r.code()), (403, "forbidden"));
            assert_eq!(app.post(token, "/contacts", json!({ "full_name": "x", "email": "x@y.pl" })).await.status.as_u16(), 403);
        }
        // A client may not move their project; the expert may not accept for the operator, nor the operator for the expert.
        let r = app.act(&anna_token, &pid, "start_matching", json!({})).await;
        assert_eq!((r.status.as_u16(), r.code()), (403, "forbidden"));
        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
        assert_eq!(app.act(&app.operator, &pid, "accept", json!({})).await.status.as_u16(), 403);
        assert_eq!(app.act(&jan_token, &pid, "cancel", json!({ "reason": "x" })).await.status.as_u16(), 403);
        app.act(&jan_token, &pid, "accept", json!({})).await.expect(200);
        // Only admins manage tokens.
        assert_eq!(app.post(&app.operator, "/tokens", json!({ "role": "admin" })).await.status.as_u16(), 403);
        // `/me` tells each caller who they are.
        let me = app.get(&jan_token, "/me").await.expect(200);
        assert_eq!((me["role"].as_str(), me["contact_id"].as_str()), (Some("expert"), jan["id"].as_str()));
    }
}

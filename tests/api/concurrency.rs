//! Two changes racing for one project: exactly one wins, the other hears 409.

use serde_json::json;

use crate::helpers::{id, on_both_backends, spawn_app};

on_both_backends! {
    async fn of_two_concurrent_transitions_exactly_one_wins(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        for round in 0..5 {
            let pid = id(&app.project(&anna, &[]).await);
            // The same move twice; or two moves that could follow each other,
            // each made against the version both callers read.
            let (a, b, extra) = if round % 2 == 0 {
                ("start_matching", "start_matching", json!({}))
            } else {
                ("start_matching", "cancel", json!({ "expected_version": 1 }))
            };
            let mut with_reason = extra.clone();
            with_reason["reason"] = json!("race");
            let (ra, rb) = tokio::join!(
                app.act(&app.operator, &pid, a, extra),
                app.act(&app.operator, &pid, b, with_reason),
            );
            let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
            statuses.sort();
            assert_eq!(statuses, [200, 409], "round {round}: {} / {}", ra.body, rb.body);
            let trail = app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200);
            assert_eq!(trail.as_array().unwrap().len(), 2, "one creation and one transition");
            let project = app.store.project(pid.parse().unwrap()).await.unwrap();
            assert_eq!(project.version, 2);
        }
    }
}

on_both_backends! {
    async fn two_offers_racing_for_an_experts_last_slot_cannot_both_win(db) {
        let app = spawn_app(db).await;
        let anna = app.client_contact("Anna").await;
        let jan = app.vetted_expert("Jan", 1).await;
        let (p1, p2) = (id(&app.project(&anna, &[]).await), id(&app.project(&anna, &[]).await));
        for pid in [&p1, &p2] {
            app.act(&app.operator, pid, "start_matching", json!({})).await.expect(200);
        }
        let offer = json!({ "expert_id": jan["id"] });
        let (r1, r2) = tokio::join!(
            app.act(&app.operator, &p1, "offer", offer.clone()),
            app.act(&app.operator, &p2, "offer", offer.clone()),
        );
        let mut statuses = [r1.status.as_u16(), r2.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [200, 422], "{} / {}", r1.body, r2.body);
        let expert = app.get(&app.operator, &format!("/experts/{}", jan["id"].as_str().unwrap())).await.expect(200);
        assert_eq!(expert["load"], 1);
    }
}

//! Outbox delivery under faults: retries with backoff, rate limits, permanent
//! errors, a worker killed mid-delivery, and two processes draining one outbox.
//! Nothing is lost and nothing is done twice.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use ssot::connectors::{ConnectorError, Connectors};

use crate::fakes::{Fault, FaultyTracker};
use crate::helpers::{TestApp, TestDb, id, on_both_backends, spawn_app_full};

/// An app whose tracker misbehaves on demand, retrying at once (no backoff).
async fn app_with_faulty_tracker(
    db: TestDb,
    tweak: impl FnOnce(&mut ssot::config::Settings),
) -> (TestApp, Arc<FaultyTracker>) {
    let mut fake = None;
    let app = spawn_app_full(
        db,
        |s| {
            s.outbox_backoff_base_ms = 0;
            s.outbox_max_attempts = 5;
            tweak(s);
        },
        |store| {
            let tracker = Arc::new(FaultyTracker::new(store));
            fake = Some(tracker.clone());
            Connectors {
                tracker,
                ..Connectors::builtin(store)
            }
        },
    )
    .await;
    (app, fake.unwrap())
}

async fn entry(app: &TestApp, pid: &str, kind: &str) -> Value {
    let all = app
        .get(&app.operator, &format!("/outbox?project_id={pid}"))
        .await
        .expect(200);
    all.as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == kind)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} entry"))
}

on_both_backends! {
    async fn a_connector_that_fails_three_times_then_succeeds_is_delivered_once(db) {
        let (app, tracker) = app_with_faulty_tracker(db, |_| {}).await;
        tracker.set(Fault::Times(3, ConnectorError::Transient("HTTP 503 from the tracker".into())));
        let anna = app.client_contact("Anna").await;
        let pid = id(&app.project(&anna, &[]).await);
        app.drain().await;
        let created = entry(&app, &pid, "tracker_create_project").await;
        assert_eq!((created["status"].as_str(), created["attempts"].as_i64()), (Some("delivered"), Some(4)));
        assert!(created["last_error"].is_null(), "a success clears the error");
        assert_eq!(tracker.applied("tracker_create_project"), 1);
        let view = app.store.tracker_view(pid.parse().unwrap()).await.unwrap().expect("the tracker project exists");
        let project = app.get(&app.operator, &format!("/projects/{pid}")).await.expect(200);
        assert_eq!(project["tracker_ref"].as_str(), Some(view.tracker_key.as_str()), "the tracker's key is recorded");
    }
}

on_both_backends! {
    async fn a_connector_that_always_fails_is_marked_failed_and_retried_by_hand(db) {
        let (app, tracker) = app_with_faulty_tracker(db, |s| s.outbox_max_attempts = 3).await;
        tracker.set(Fault::Always(ConnectorError::Transient("HTTP 500 from the tracker".into())));
        let anna = app.client_contact("Anna").await;
        let jan = app.vetted_expert("Jan", 2).await;
        let jan_t = app.token_for("expert", &jan).await;
        let pid = id(&app.project(&anna, &[]).await);
        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
        app.act(&jan_t, &pid, "accept", json!({})).await.expect(200);
        app.drain().await;

        let failed = entry(&app, &pid, "tracker_create_project").await;
        assert_eq!((failed["status"].as_str(), failed["attempts"].as_i64()), (Some("failed"), Some(3)));
        assert!(failed["last_error"].as_str().unwrap().contains("gave up after 3 attempts: HTTP 500"), "{failed}");
        // The task waits behind the failed project creation: order is kept, nothing is skipped.
        assert_eq!(entry(&app, &pid, "tracker_create_task").await["status"], "pending");
        // Other connectors' lanes are not held up.
        assert_eq!(entry(&app, &pid, "board_create_record").await["status"], "delivered");
        let listed = app.get(&app.operator, "/outbox?status=failed").await.expect(200);
        assert_eq!(listed.as_array().unwrap().len(), 1);

        let not_failed = entry(&app, &pid, "board_create_record").await;
        let r = app.post(&app.operator, &format!("/outbox/{}/retry", not_failed["id"].as_str().unwrap()), json!({})).await;
        assert_eq!(r.status.as_u16(), 409, "only failed entries can be retried");
        assert_eq!(app.post(&jan_t, &format!("/outbox/{}/retry", failed["id"].as_str().unwrap()), json!({})).await.status.as_u16(), 403);

        tracker.set(Fault::None);
        let retried = app.post(&app.operator, &format!("/outbox/{}/retry", failed["id"].as_str().unwrap()), json!({})).await.expect(200);
        assert_eq!((retried["status"].as_str(), retried["attempts"].as_i64()), (Some("pending"), Some(0)));
        app.drain().await;
        assert_eq!(entry(&app, &pid, "tracker_create_project").await["status"], "delivered");
        assert_eq!(entry(&app, &pid, "tracker_create_task").await["status"], "delivered");
        assert_eq!((tracker.applied("tracker_create_project"), tracker.applied("tracker_create_task")), (1, 1));
        let audit = app.get(&app.operator, "/audit?limit=5").await.expect(200);
        assert!(audit.as_array().unwrap().iter().any(|e| e["entity"] == "outbox" && e["action"] == "retry"));
    }
}

on_both_backends! {
    async fn a_permanent_error_fails_at_once_and_a_rate_limit_waits_its_turn(db) {
        let (app, tracker) = app_with_faulty_tracker(db, |_| {}).await;
        let anna = app.client_contact("Anna").await;
        tracker.set(Fault::Always(ConnectorError::Permanent("HTTP 400: project key taken".into())));
        let first = id(&app.project(&anna, &[]).await);
        app.drain().await;
        let failed = entry(&app, &first, "tracker_create_project").await;
        assert_eq!((failed["status"].as_str(), failed["attempts"].as_i64()), (Some("failed"), Some(1)));
        assert_eq!(failed["last_error"], "HTTP 400: project key taken");

        let wait = Duration::from_millis(2500);
        tracker.set(Fault::Times(1, ConnectorError::RateLimited { retry_after: Some(wait), message: "HTTP 429".into() }));
        let second = id(&app.project(&anna, &[]).await);
        let before = time::OffsetDateTime::now_utc();
        app.drain().await;
        let limited = entry(&app, &second, "tracker_create_project").await;
        assert_eq!(limited["status"], "pending");
        let next = time::OffsetDateTime::parse(limited["next_attempt_at"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
        assert!(next - before >= wait - Duration::from_millis(50), "retry at {next}, asked at {before}");
        assert_eq!(app.drain().await, 0, "nothing is due before Retry-After");
        tokio::time::sleep(wait).await;
        app.drain().await;
        assert_eq!(entry(&app, &second, "tracker_create_project").await["status"], "delivered");
    }
}

on_both_backends! {
    async fn a_worker_killed_mid_delivery_loses_nothing(db) {
        let (app, tracker) = app_with_faulty_tracker(db, |s| {
            s.outbox_lease_secs = 2;
            s.connector_timeout_secs = 1;
        })
        .await;
        tracker.set(Fault::HangOnce);
        let anna = app.client_contact("Anna").await;
        let pid = id(&app.project(&anna, &[]).await);
        // Worker A takes the tracker entry and dies inside the call.
        let doomed = app.app.delivery("worker-a");
        let entered = tracker.entered.notified();
        let running = tokio::spawn(async move { doomed.drain().await });
        entered.await;
        running.abort();
        let held = entry(&app, &pid, "tracker_create_project").await;
        assert_eq!((held["status"].as_str(), held["attempts"].as_i64()), (Some("delivering"), Some(1)));

        // Until the lease runs out nobody else may take it; then worker B does.
        app.drain().await;
        assert_eq!(entry(&app, &pid, "tracker_create_project").await["status"], "delivering");
        tokio::time::sleep(Duration::from_millis(2100)).await;
        app.drain().await;
        let done = entry(&app, &pid, "tracker_create_project").await;
        assert_eq!((done["status"].as_str(), done["attempts"].as_i64()), (Some("delivered"), Some(2)));
        assert_eq!(done["delivered_by"], "test-worker");
        assert_eq!(tracker.applied("tracker_create_project"), 1, "the work was done once");
    }
}

on_both_backends! {
    async fn work_done_by_a_worker_that_died_before_settling_is_not_done_again(db) {
        let (app, tracker) = app_with_faulty_tracker(db, |s| {
            s.outbox_lease_secs = 2;
            s.connector_timeout_secs = 1;
        })
        .await;
        tracker.set(Fault::HangAfterWorkOnce);
        let anna = app.client_contact("Anna").await;
        let pid = id(&app.project(&anna, &[]).await);
        let doomed = app.app.delivery("worker-a");
        let running = tokio::spawn(async move { doomed.drain().await });
        // The tracker project exists, but worker A dies before it can settle the entry.
        let mut created = None;
        for _ in 0..200 {
            created = app.store.tracker_view(pid.parse().unwrap()).await.unwrap();
            if created.is_some() { break; }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        running.abort();
        let first_key = created.expect("worker A created the tracker project").tracker_key;
        assert_eq!(entry(&app, &pid, "tracker_create_project").await["status"], "delivering");

        tokio::time::sleep(Duration::from_millis(2100)).await;
        app.drain().await;
        let done = entry(&app, &pid, "tracker_create_project").await;
        assert_eq!((done["status"].as_str(), done["attempts"].as_i64()), (Some("delivered"), Some(2)));
        // The second delivery found the receipt of the first and did not create another project.
        let view = app.store.tracker_view(pid.parse().unwrap()).await.unwrap().unwrap();
        assert_eq!(view.tracker_key, first_key);
        let project = app.get(&app.operator, &format!("/projects/{pid}")).await.expect(200);
        assert_eq!(project["tracker_ref"].as_str(), Some(first_key.as_str()));
    }
}

/// Starts `ssot serve` as its own process on `url`, with fast-polling workers.
fn serve_process(url: &str, dir: &std::path::Path) -> (std::process::Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_ssot"))
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            url,
        ])
        .env_remove("DATABASE_URL")
        .env("SSOT_OUTBOX_WORKERS", "2")
        .env("SSOT_OUTBOX_POLL_MS", "50")
        .env("SSOT_LOG", "warn")
        .env(
            "SSOT_PROTOCOLS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/protocols"),
        )
        .current_dir(dir)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    (child, format!("http://127.0.0.1:{port}/api/v1"))
}

struct Killed(Vec<std::process::Child>);

impl Drop for Killed {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

on_both_backends! {
    async fn two_serve_processes_drain_one_outbox_each_entry_exactly_once(db) {
        let store = ssot::store::Store::open(&db.url, &Default::default()).await.unwrap();
        let op = store.create_token(ssot::domain::actor::Role::Operator, None, None, None, &crate::helpers::admin_actor()).await.unwrap().secret;
        let dir = tempfile::tempdir().unwrap();
        let (a, base_a) = serve_process(&db.url, dir.path());
        let (b, base_b) = serve_process(&db.url, dir.path());
        let _guard = Killed(vec![a, b]);
        ssot::init_tls();
        let http = reqwest::Client::new();
        for base in [&base_a, &base_b] {
            let mut up = false;
            for _ in 0..200 {
                if http.get(format!("{base}/health")).send().await.is_ok() { up = true; break; }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(up, "{base} did not start");
        }
        let post = |base: String, path: String, body: Value| {
            let (http, op) = (http.clone(), op.clone());
            async move {
                let r = http.post(format!("{base}{path}")).bearer_auth(op).json(&body).send().await.unwrap();
                assert!(r.status().is_success(), "{}", r.status());
                r.json::<Value>().await.unwrap()
            }
        };
        let client = post(base_a.clone(), "/contacts".into(), json!({ "full_name": "Anna", "email": "anna@example.pl" })).await;
        for i in 0..12 {
            let base = if i % 2 == 0 { base_a.clone() } else { base_b.clone() };
            let p = post(base.clone(), "/projects".into(), json!({ "client_id": client["id"], "title": format!("P{i}"), "spec": "s" })).await;
            let pid = id(&p);
            post(base.clone(), format!("/projects/{pid}/transitions"), json!({ "action": "start_matching" })).await;
            post(base, format!("/projects/{pid}/transitions"), json!({ "action": "cancel", "reason": "test" })).await;
        }
        // Wait for both processes to drain the outbox.
        let mut drained = false;
        for _ in 0..600 {
            let counts = store.outbox_counts().await.unwrap();
            if counts.iter().all(|(s, _)| *s == ssot::store::OutboxStatus::Delivered) { drained = true; break; }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(drained, "the outbox was not drained: {:?}", store.outbox_counts().await.unwrap());
        let entries = store.list_outbox(None, None, 10_000).await.unwrap();
        assert_eq!(entries.len(), 12 * 6 + 1, "3 at intake, 1 for matching, 2 for cancelling, per project; and the client's CRM record");
        assert!(entries.iter().all(|e| e.attempts == 1), "every entry was claimed exactly once");
        // Workers are named `ssot-<pid>-<tag>-w<n>`: both processes took part.
        let processes: std::collections::HashSet<String> = entries
            .iter()
            .filter_map(|e| e.delivered_by.as_deref())
            .map(|w| w.rsplit_once("-w").map_or(w, |(p, _)| p).to_owned())
            .collect();
        assert_eq!(processes.len(), 2, "{processes:?}");
        // And on the connectors' side each effect happened once: 12 tracker projects, all deleted; 12 cancelled deals.
        let projects = store.list_projects(&ssot::store::ProjectFilter { limit: 100, ..Default::default() }).await.unwrap();
        assert_eq!(projects.len(), 12);
        for p in &projects {
            let tracker = store.tracker_view(p.id).await.unwrap().expect("one tracker project each");
            assert!(tracker.deleted_at.is_some());
            assert_eq!(store.deal(p.id).await.unwrap().unwrap().stage, "cancelled");
        }
        store.close().await;
    }
}

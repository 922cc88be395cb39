//! The real connectors against faithful local fakes of Jira, HubSpot and
//! Trello: the records each tool holds at every step, access granted and
//! revoked in Jira, signed webhooks, and faults that never lose an effect.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Value, json};
use ssot::connectors::settings::{HubSpotSettings, JiraSettings, TrelloSettings};
use ssot::jobs::delivery::Step;
use ssot::store::Settlement;

use crate::helpers::{TestApp, id, on_both_backends, spawn_app_at};
use crate::vendors::hubspot::HubSpotFake;
use crate::vendors::jira::JiraFake;
use crate::vendors::trello::TrelloFake;
use crate::vendors::{Fault, hubspot, trello};

const JIRA_EMAIL: &str = "ops@agency.example";
const JIRA_TOKEN: &str = "jira-api-token";
const LEAD: &str = "5b10a2844c20165700ede21g";

/// A secret in a file, as a deployment would mount it.
fn secret_file(dir: &tempfile::TempDir, name: &str, value: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, format!("{value}\n")).unwrap();
    path
}

async fn jira_fake() -> JiraFake {
    let fake = JiraFake::start(JIRA_EMAIL, JIRA_TOKEN).await;
    fake.add_user(LEAD, "Olga Operator", JIRA_EMAIL);
    fake
}

fn jira_settings(fake: &JiraFake, secrets: &tempfile::TempDir) -> JiraSettings {
    JiraSettings {
        api_token_file: Some(secret_file(secrets, "jira", JIRA_TOKEN)),
        requests_per_second: 100,
        ..JiraSettings::new(&fake.base_url, JIRA_EMAIL, LEAD)
    }
}

/// Fast retries, so tests see a backed-off entry delivered soon.
fn quick_retries(s: &mut ssot::config::Settings) {
    s.outbox_backoff_base_ms = 10;
    s.outbox_backoff_max_secs = 1;
    s.connector_timeout_secs = 2;
    s.outbox_lease_secs = 10;
}

async fn state(app: &TestApp, pid: &str) -> String {
    let p = app
        .get(&app.operator, &format!("/projects/{pid}"))
        .await
        .expect(200);
    p["state"].as_str().unwrap().to_owned()
}

async fn tracker_key(app: &TestApp, pid: &str) -> String {
    let p = app
        .get(&app.operator, &format!("/projects/{pid}"))
        .await
        .expect(200);
    p["tracker_ref"]
        .as_str()
        .expect("the Jira key is recorded")
        .to_owned()
}

/// Delivers until nothing is pending any more (waiting out backoffs).
async fn settle(app: &TestApp) {
    for _ in 0..200 {
        app.drain().await;
        let pending = app
            .store
            .list_outbox(Some(ssot::store::OutboxStatus::Pending), None, 1)
            .await
            .unwrap();
        if pending.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let pending = app
        .store
        .list_outbox(Some(ssot::store::OutboxStatus::Pending), None, 10)
        .await
        .unwrap();
    let failed = app
        .store
        .list_outbox(Some(ssot::store::OutboxStatus::Failed), None, 10)
        .await
        .unwrap();
    let left: Vec<(String, i64, Option<String>)> = pending
        .into_iter()
        .chain(failed)
        .map(|e| (e.kind, e.attempts, e.last_error))
        .collect();
    panic!("the outbox did not settle: {left:?}");
}

on_both_backends! {
    async fn a_changed_atlassian_account_loses_the_old_accounts_jira_access(db) {
        let fake = jira_fake().await;
        let secrets = tempfile::tempdir().unwrap();
        let settings = jira_settings(&fake, &secrets);
        let app = spawn_app_at(db, |s, _| { s.connectors.jira = Some(settings); quick_retries(s); }, |_| None).await;
        let anna = app.client_contact("Anna").await;
        let jan = app.vetted_expert("Jan", 2).await;
        fake.add_user("acc-jan", "Jan", jan["email"].as_str().unwrap());
        fake.add_user("acc-jan-work", "Jan (work)", "jan@work.example");
        let jan_t = app.token_for("expert", &jan).await;
        let pid = id(&app.project(&anna, &[]).await);
        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
        app.act(&jan_t, &pid, "accept", json!({})).await.expect(200);
        app.baseline(&pid).await;
        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        settle(&app).await;
        let key = tracker_key(&app, &pid).await;
        assert_eq!(fake.role_members(&key, "Member"), ["acc-jan"], "found by e-mail");

        let contact = format!("/contacts/{}", id(&jan));
        app.patch(&app.operator, &contact, json!({ "atlassian_account_id": "acc-jan-work", "email": "jan@work.example" })).await.expect(200);
        settle(&app).await;
        assert_eq!(fake.role_members(&key, "Member"), ["acc-jan-work"], "the old account is out, the new one in");
    }
}

fn task_status(fake: &JiraFake, key: &str) -> String {
    let issues = fake.issues(key);
    assert_eq!(issues.len(), 1, "one work task: {issues:?}");
    issues[0]["fields"]["status"]["name"]
        .as_str()
        .unwrap()
        .to_owned()
}

on_both_backends! {
    async fn jira_holds_the_project_and_the_experts_access_follows_the_lifecycle(db) {
        let fake = jira_fake().await;
        let secrets = tempfile::tempdir().unwrap();
        let settings = jira_settings(&fake, &secrets);
        let app = spawn_app_at(db, |s, _| { s.connectors.jira = Some(settings); quick_retries(s); }, |_| None).await;
        let anna = app.client_contact("Anna").await;
        // Jan's Atlassian account is found by his e-mail.
        let (pid, jan, _) = {
            let pid = id(&app.project(&anna, &[]).await);
            settle(&app).await;
            let key = tracker_key(&app, &pid).await;
            assert!(key.starts_with("SL") && key.len() <= 10, "{key}");
            let project = fake.project(&key).expect("the Jira project exists");
            assert_eq!(project["description"].as_str(), Some(format!("SSoT-Lite project {pid}").as_str()));
            assert_eq!(fake.role_members(&key, "Member"), Vec::<String>::new(), "locked until active");
            let jan = app.vetted_expert("Jan", 2).await;
            fake.add_user("acc-jan", "Jan", jan["email"].as_str().unwrap());
            let jan_t = app.token_for("expert", &jan).await;
            app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
            app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
            app.act(&jan_t, &pid, "accept", json!({})).await.expect(200);
            app.baseline(&pid).await;
            (pid, jan, jan_t)
        };
        let _ = jan;
        settle(&app).await;
        let key = tracker_key(&app, &pid).await;
        assert_eq!(task_status(&fake, &key), "To Do");
        let task = &fake.issues(&key)[0];
        assert!(task["fields"]["labels"].as_array().unwrap().contains(&json!(format!("ssot-{}", pid.replace('-', "")))));

        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        assert_eq!(state(&app, &pid).await, "active", "no documents required");
        settle(&app).await;
        assert_eq!(fake.role_members(&key, "Member"), ["acc-jan"], "access granted");
        assert_eq!(task_status(&fake, &key), "In Progress");

        app.act(&app.operator, &pid, "block", json!({ "reason": "invoice overdue" })).await.expect(200);
        settle(&app).await;
        assert!(fake.role_members(&key, "Member").is_empty(), "access revoked on block");
        app.act(&app.operator, &pid, "unblock", json!({ "reason": "paid" })).await.expect(200);
        settle(&app).await;
        assert_eq!(fake.role_members(&key, "Member"), ["acc-jan"]);

        app.outcome(&pid).await;
        app.act(&app.operator, &pid, "complete", json!({})).await.expect(200);
        settle(&app).await;
        assert!(fake.role_members(&key, "Member").is_empty(), "access revoked on completion");
        assert_eq!(task_status(&fake, &key), "Done");

        // The expert's work: more issues than one search page holds.
        let http = reqwest::Client::new();
        for n in 0..120 {
            let body = json!({ "fields": { "project": { "key": key }, "issuetype": { "name": "Task" }, "summary": format!("Step {n}") } });
            let r = http.post(format!("{}/rest/api/3/issue", fake.base_url)).basic_auth(JIRA_EMAIL, Some(JIRA_TOKEN)).json(&body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 201);
        }
        app.act(&app.operator, &pid, "archive", json!({})).await.expect(200);
        settle(&app).await;
        let board = app.get(&app.operator, &format!("/projects/{pid}/board")).await.expect(200);
        let files: Vec<&str> = board["attachments"].as_array().unwrap().iter().map(|a| a["filename"].as_str().unwrap()).collect();
        assert_eq!(files, [format!("jira-export-{key}.csv"), format!("jira-export-{key}.xml"), format!("audit-trail-{pid}.json")]);
        let pages = fake.requests().iter().filter(|r| r.path.ends_with("/search/jql") && r.body.contains("nextPageToken")).count();
        assert!(pages >= 1, "the export followed the page tokens");
        let csv_id = board["attachments"][0]["id"].as_str().unwrap();
        let csv = app.http.get(format!("{}/projects/{pid}/board/attachments/{csv_id}", app.base)).bearer_auth(&app.operator)
            .send().await.unwrap().text().await.unwrap();
        let mut reader = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 121, "every issue, across pages");
        assert!(rows.iter().any(|r| r[1].starts_with("Deliver: ") && &r[2] == "Done"));
        let project = fake.project(&key).unwrap();
        assert_eq!(project["deleted"], true, "deleted after the export was stored");
        let connectors = app.get(&app.operator, "/connectors").await.expect(200);
        let tracker = connectors.as_array().unwrap().iter().find(|c| c["role"] == "tracker").unwrap().clone();
        assert_eq!((tracker["mode"].as_str(), tracker["failed"].as_i64(), tracker["pending"].as_i64()), (Some("jira"), Some(0), Some(0)));
        assert!(tracker["last_success"].is_string());
    }
}

/// Delivers until `done` holds (waiting out backoffs), for outboxes that
/// keep entries held behind a failed one and so never settle.
async fn deliver_until(app: &TestApp, what: &str, done: impl AsyncFn() -> bool) {
    for _ in 0..200 {
        app.drain().await;
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

async fn failed_kinds(app: &TestApp) -> Vec<String> {
    let failed = app
        .store
        .list_outbox(Some(ssot::store::OutboxStatus::Failed), None, 10)
        .await
        .unwrap();
    failed.into_iter().map(|e| e.kind).collect()
}

on_both_backends! {
    async fn jira_access_follows_the_project_past_entries_that_failed_for_good(db) {
        let fake = jira_fake().await;
        let secrets = tempfile::tempdir().unwrap();
        let settings = jira_settings(&fake, &secrets);
        let app = spawn_app_at(db, |s, _| { s.connectors.jira = Some(settings); quick_retries(s); }, |_| None).await;
        let anna = app.client_contact("Anna").await;
        let (pid, jan, _) = app.accepted_project(&anna, &[]).await;
        fake.add_user("acc-jan", "Jan", jan["email"].as_str().unwrap());
        settle(&app).await;
        let key = tracker_key(&app, &pid).await;
        let members = || fake.role_members(&key, "Member");

        // The task cannot be moved (a 401: failed for good); access is granted all the same.
        fake.inject_on("/transitions$", Fault::Unauthorized, 1);
        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        deliver_until(&app, "access granted", async || members() == ["acc-jan"]).await;
        assert_eq!(failed_kinds(&app).await, ["tracker_move_task"]);

        // Blocked: the revoke waits neither for the failed move nor for the
        // move to Blocked held behind it.
        app.act(&app.operator, &pid, "block", json!({ "reason": "invoice overdue" })).await.expect(200);
        deliver_until(&app, "access revoked", async || members().is_empty()).await;

        // The grant on unblock fails for good, and the project is blocked
        // again before anyone notices. Retried by hand, the old grant applies
        // the project as it is now (blocked): it cannot reopen access.
        fake.inject_on(&format!("POST /rest/api/3/project/{key}/role/"), Fault::Unauthorized, 1);
        app.act(&app.operator, &pid, "unblock", json!({ "reason": "paid" })).await.expect(200);
        deliver_until(&app, "the grant failed", async || failed_kinds(&app).await.contains(&"tracker_grant_access".to_owned())).await;
        app.act(&app.operator, &pid, "block", json!({ "reason": "invoice overdue again" })).await.expect(200);
        let revoke_delivered = async || {
            let all = app.store.list_outbox(None, None, 100).await.unwrap();
            all.iter().filter(|e| e.kind == "tracker_revoke_access" && e.status == ssot::store::OutboxStatus::Delivered).count() == 2
        };
        deliver_until(&app, "the second revoke delivered", revoke_delivered).await;
        let grant = app.store.list_outbox(Some(ssot::store::OutboxStatus::Failed), None, 10).await.unwrap()
            .into_iter().find(|e| e.kind == "tracker_grant_access").unwrap();
        app.post(&app.operator, &format!("/outbox/{}/retry", grant.id), json!({})).await.expect(200);
        deliver_until(&app, "the retried grant delivered", async || !failed_kinds(&app).await.contains(&"tracker_grant_access".to_owned())).await;
        assert!(members().is_empty(), "a stale grant did not reopen access");
        assert_eq!(state(&app, &pid).await, "blocked");
    }
}

on_both_backends! {
    async fn jira_faults_are_retried_or_failed_visibly_and_never_lost(db) {
        let fake = jira_fake().await;
        let secrets = tempfile::tempdir().unwrap();
        let settings = jira_settings(&fake, &secrets);
        let app = spawn_app_at(db, |s, _| { s.connectors.jira = Some(settings); quick_retries(s); }, |_| None).await;
        let anna = app.client_contact("Anna").await;

        // 429 with Retry-After: the entry waits at least that long, then goes through.
        fake.inject(Fault::RateLimited { retry_after_secs: 1 }, 1);
        let pid = id(&app.project(&anna, &[]).await);
        let first = step_tracker(&app).await;
        let Settlement::Retry { at, error } = first else { panic!("{first:?}") };
        assert!(error.contains("rate limited"), "{error}");
        assert!(at - ssot::store::now() > time::Duration::milliseconds(800), "Retry-After honoured");
        tokio::time::sleep(Duration::from_millis(1100)).await;
        settle(&app).await;
        let key = tracker_key(&app, &pid).await;
        assert!(fake.project(&key).is_some());

        // A 500, a malformed body and a slow answer past the timeout: retried,
        // and the project exists once.
        for fault in [Fault::ServerError, Fault::Malformed, Fault::Slow(Duration::from_secs(4)), Fault::LostAnswer] {
            let client = app.client_contact("Cezary").await;
            fake.inject_on("POST /rest/api/3/project$", fault.clone(), 1);
            let pid = id(&app.project(&client, &[]).await);
            let outcome = step_tracker(&app).await;
            assert!(matches!(outcome, Settlement::Retry { .. }), "{fault:?}: {outcome:?}");
            settle(&app).await;
            let key = tracker_key(&app, &pid).await;
            let ours = fake.projects().iter().filter(|k| **k == key).count();
            assert_eq!(ours, 1, "{fault:?}: created once");
        }

        // Work done but its answer lost: the task, the access and the move happen once.
        let jan = app.vetted_expert("Jan", 2).await;
        fake.add_user("acc-jan", "Jan", jan["email"].as_str().unwrap());
        let jan_t = app.token_for("expert", &jan).await;
        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
        // The retry comes before Jira's search has indexed the task: it is
        // found by its key all the same.
        fake.inject_on("POST /rest/api/3/issue$", Fault::LostAnswer, 1);
        fake.lag_search(true);
        app.act(&jan_t, &pid, "accept", json!({})).await.expect(200);
        app.baseline(&pid).await;
        settle(&app).await;
        assert_eq!(fake.issues(&key).len(), 1, "one work task");
        fake.lag_search(false);
        fake.inject_on(&format!("POST /rest/api/3/project/{key}/role/"), Fault::LostAnswer, 1);
        fake.inject_on("/transitions$", Fault::LostAnswer, 1);
        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        settle(&app).await;
        assert_eq!(fake.role_members(&key, "Member"), ["acc-jan"]);
        assert_eq!(task_status(&fake, &key), "In Progress");
        let failed = app.store.list_outbox(Some(ssot::store::OutboxStatus::Failed), None, 10).await.unwrap();
        assert!(failed.is_empty(), "{failed:?}");

        // A 401 is not worth retrying: failed, visible, and retried by hand once fixed.
        let anna2 = app.client_contact("Bea").await;
        fake.inject(Fault::Unauthorized, 1);
        let pid2 = id(&app.project(&anna2, &[]).await);
        let outcome = step_tracker(&app).await;
        let Settlement::Fail { error } = outcome else { panic!("{outcome:?}") };
        assert!(error.starts_with("Jira answered 401"), "{error}");
        let connectors = app.get(&app.operator, "/connectors").await.expect(200);
        let tracker = connectors.as_array().unwrap().iter().find(|c| c["role"] == "tracker").unwrap().clone();
        assert_eq!(tracker["failed"], 1);
        assert!(tracker["last_error"].as_str().unwrap().contains("401"));
        let failed = app.get(&app.operator, &format!("/outbox?status=failed&project_id={pid2}")).await.expect(200);
        let entry = failed[0]["id"].as_str().unwrap().to_owned();
        app.post(&app.operator, &format!("/outbox/{entry}/retry"), json!({})).await.expect(200);
        settle(&app).await;
        assert!(fake.project(&tracker_key(&app, &pid2).await).is_some(), "delivered after the retry");
    }
}

/// Delivers due entries until a tracker entry is settled; returns how.
async fn step_tracker(app: &TestApp) -> Settlement {
    for _ in 0..20 {
        match app.worker.step().await.unwrap() {
            Step::Settled { entry, outcome, .. } if entry.kind.starts_with("tracker_") => {
                return outcome;
            }
            Step::Settled { .. } => continue,
            Step::Idle => break,
        }
    }
    panic!("no tracker entry was due");
}

const HUBSPOT_TOKEN: &str = "pat-na1-hubspot";
const HUBSPOT_SECRET: &str = "hubspot-client-secret";

async fn hubspot_app(db: crate::helpers::TestDb) -> (TestApp, HubSpotFake, tempfile::TempDir) {
    let fake = HubSpotFake::start(HUBSPOT_TOKEN, HUBSPOT_SECRET).await;
    let secrets = tempfile::tempdir().unwrap();
    let token = secret_file(&secrets, "hubspot-token", HUBSPOT_TOKEN);
    let secret = secret_file(&secrets, "hubspot-secret", HUBSPOT_SECRET);
    let base_url = fake.base_url.clone();
    let app = spawn_app_at(
        db,
        |s, base| {
            s.connectors.hubspot = Some(HubSpotSettings {
                access_token_file: Some(token),
                client_secret_file: Some(secret),
                webhook_url: Some(format!("{base}/webhooks/hubspot")),
                requests_per_second: 100,
                ..HubSpotSettings::new(&base_url)
            });
            quick_retries(s);
        },
        |_| None,
    )
    .await;
    fake.set_webhook_target(&format!("{}/webhooks/hubspot", app.base));
    (app, fake, secrets)
}

fn props(v: &Value) -> &Value {
    &v["properties"]
}

on_both_backends! {
    async fn hubspot_holds_contacts_and_a_deal_that_follows_the_lifecycle(db) {
        let (app, fake, _secrets) = hubspot_app(db).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let email = anna["email"].as_str().unwrap();
        let (pid, jan, _) = app.accepted_project(&anna, &[]).await;
        settle(&app).await;

        let client = fake.contact_by_email(email).expect("the client is in HubSpot");
        assert_eq!((props(&client)["firstname"].as_str(), props(&client)["lastname"].as_str()), (Some("Anna"), Some("Kowalska")));
        assert_eq!(props(&client)["ssot_role"], "client");
        assert_eq!(props(&client)["ssot_id"], anna["id"]);
        let intake = props(&client)["ssot_intake"].as_str().unwrap();
        assert!(intake.contains(&format!("[SSoT-Lite project {pid}]")) && intake.contains("how_did_you_hear: referral"), "{intake}");
        let expert = fake.contact_by_email(jan["email"].as_str().unwrap()).expect("the expert is in HubSpot");
        assert_eq!((props(&expert)["ssot_role"].as_str(), props(&expert)["ssot_vetting"].as_str()), (Some("expert"), Some("vetted")));

        let deals = fake.deals();
        assert_eq!(deals.len(), 1, "one deal per project");
        let deal = &deals[0];
        assert_eq!((props(deal)["ssot_project_id"].as_str(), props(deal)["ssot_state"].as_str()), (Some(pid.as_str()), Some("accepted")));
        assert_eq!(props(deal)["dealstage"], "decisionmakerboughtin");
        let deal_id = deal["id"].as_str().unwrap();
        assert_eq!(fake.associations("deals", deal_id, "contacts"), [client["id"].as_str().unwrap()]);

        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        settle(&app).await;
        let deal = fake.deals().into_iter().next().unwrap();
        assert_eq!((props(&deal)["ssot_state"].as_str(), props(&deal)["dealstage"].as_str()), (Some("active"), Some("closedwon")));
        assert_eq!(fake.deals().len(), 1, "updated, not duplicated");

        // Suspending the expert shows in HubSpot.
        let jid = jan["id"].as_str().unwrap();
        app.post(&app.operator, &format!("/experts/{jid}/vetting"), json!({ "action": "suspend", "reason": "insurance lapsed" })).await.expect(200);
        settle(&app).await;
        let expert = fake.contact_by_email(jan["email"].as_str().unwrap()).unwrap();
        assert_eq!(props(&expert)["ssot_vetting"], "suspended");
        assert_eq!(fake.contacts().len(), 2, "no duplicate contacts");
    }
}

on_both_backends! {
    async fn hubspot_webhooks_bring_changes_in_and_forgeries_change_nothing(db) {
        let (app, fake, _secrets) = hubspot_app(db).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let aid = anna["id"].as_str().unwrap().to_owned();
        settle(&app).await;
        let remote = fake.contact_by_email(anna["email"].as_str().unwrap()).unwrap();
        let hs_id = remote["id"].as_str().unwrap().to_owned();

        assert_eq!(fake.user_changes_contact(&hs_id, "phone", "+48 600 700 800").await, 200);
        settle(&app).await;
        let contact = app.get(&app.operator, &format!("/contacts/{aid}")).await.expect(200);
        assert_eq!(contact["phone"], "+48 600 700 800");
        let trail = app.get(&app.operator, "/audit?limit=20").await.expect(200);
        let change = trail.as_array().unwrap().iter().find(|e| e["entity_id"] == aid.as_str() && e["action"] == "update").unwrap().clone();
        assert_eq!((change["actor_kind"].as_str(), change["actor_label"].as_str()), (Some("integration"), Some("hubspot")));
        let before = app.store.list_outbox(None, None, 1000).await.unwrap().len();
        settle(&app).await;
        assert_eq!(app.store.list_outbox(None, None, 1000).await.unwrap().len(), before, "nothing sent back to HubSpot");

        // HubSpot changes again, but the hub is not told (its webhook goes elsewhere).
        fake.set_webhook_target("http://127.0.0.1:9/nowhere");
        fake.user_changes_contact(&hs_id, "phone", "+48 111 222 333").await;
        // Forged, stale, misdirected and unsigned requests are refused and change nothing.
        let url = format!("{}/webhooks/hubspot", app.base);
        let body = json!([{ "eventId": 9, "subscriptionType": "contact.propertyChange", "objectId": hs_id.parse::<i64>().unwrap(),
                            "propertyName": "phone", "propertyValue": "+48 111 222 333" }]).to_string();
        let ms = |ago: i128| (time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000 - ago).to_string();
        let post = |signature: String, ts: String| {
            app.http.post(&url).header("X-HubSpot-Signature-v3", signature).header("X-HubSpot-Request-Timestamp", ts)
                .header("content-type", "application/json").body(body.clone()).send()
        };
        let (now, stale) = (ms(0), ms(10 * 60 * 1000));
        for (signature, ts) in [
            (hubspot::sign_v3("wrong-secret", "POST", &url, &body, &now), now.clone()),
            (hubspot::sign_v3(HUBSPOT_SECRET, "POST", &url, &body, &stale), stale),
            (hubspot::sign_v3(HUBSPOT_SECRET, "POST", "https://elsewhere.example/hook", &body, &now), now.clone()),
        ] {
            assert_eq!(post(signature, ts).await.unwrap().status().as_u16(), 401);
        }
        let unsigned = app.http.post(&url).body(body.clone()).send().await.unwrap();
        assert_eq!(unsigned.status().as_u16(), 401);
        settle(&app).await;
        let contact = app.get(&app.operator, &format!("/contacts/{aid}")).await.expect(200);
        assert_eq!(contact["phone"], "+48 600 700 800", "nothing changed");
        // The genuine request applies what HubSpot holds.
        let genuine = post(hubspot::sign_v3(HUBSPOT_SECRET, "POST", &url, &body, &now), now.clone()).await.unwrap();
        assert_eq!(genuine.status().as_u16(), 200);
        settle(&app).await;
        let contact = app.get(&app.operator, &format!("/contacts/{aid}")).await.expect(200);
        assert_eq!(contact["phone"], "+48 111 222 333");
        let malformed_body = "not json";
        let signed = hubspot::sign_v3(HUBSPOT_SECRET, "POST", &url, malformed_body, &now);
        let r = app.http.post(&url).header("X-HubSpot-Signature-v3", signed).header("X-HubSpot-Request-Timestamp", now.clone())
            .body(malformed_body).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400);
    }
}

const TRELLO_KEY: &str = "trello-app-key";
const TRELLO_TOKEN: &str = "trello-member-token";
const TRELLO_SECRET: &str = "trello-app-secret";

async fn trello_app(
    db: crate::helpers::TestDb,
) -> (TestApp, TrelloFake, String, tempfile::TempDir) {
    let fake = TrelloFake::start(TRELLO_KEY, TRELLO_TOKEN, TRELLO_SECRET).await;
    let board = fake.add_board("Client projects");
    let secrets = tempfile::tempdir().unwrap();
    let token = secret_file(&secrets, "trello-token", TRELLO_TOKEN);
    let secret = secret_file(&secrets, "trello-secret", TRELLO_SECRET);
    let base_url = fake.base_url.clone();
    let board_id = board.clone();
    let app = spawn_app_at(
        db,
        |s, base| {
            s.connectors.trello = Some(TrelloSettings {
                token_file: Some(token),
                app_secret_file: Some(secret),
                webhook_url: Some(format!("{base}/webhooks/trello")),
                requests_per_second: 100,
                ..TrelloSettings::new(&base_url, TRELLO_KEY, &board_id)
            });
            quick_retries(s);
        },
        |_| None,
    )
    .await;
    (app, fake, board, secrets)
}

/// Waits for the server to register its webhook (Trello first checks the URL).
async fn webhook_registered(fake: &TrelloFake) -> Value {
    for _ in 0..100 {
        if let Some(hook) = fake.webhooks().into_iter().next() {
            return hook;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the hub did not register its Trello webhook");
}

async fn card_of(app: &TestApp, fake: &TrelloFake, pid: &str) -> Value {
    let p = app
        .get(&app.operator, &format!("/projects/{pid}"))
        .await
        .expect(200);
    let card = p["board_ref"].as_str().expect("the card id is recorded");
    fake.card(card).expect("the card exists in Trello")
}

fn checklist(card: &Value) -> Vec<(String, String)> {
    card["checklists"][0]["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    (
                        i["name"].as_str().unwrap().to_owned(),
                        i["state"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

on_both_backends! {
    async fn trello_holds_the_card_checklist_value_and_export(db) {
        let (app, fake, board, _secrets) = trello_app(db).await;
        let hook = webhook_registered(&fake).await;
        assert_eq!((hook["idModel"].as_str(), hook["callbackURL"].as_str()), (Some(board.as_str()), Some(format!("{}/webhooks/trello", app.base).as_str())));
        let anna = app.client_contact("Anna").await;
        let (pid, _jan, _) = app.accepted_project(&anna, &["nda", "insurance_certificate"]).await;
        settle(&app).await;
        let card = card_of(&app, &fake, &pid).await;
        assert_eq!(card["listName"], "Accepted");
        assert!(card["desc"].as_str().unwrap().starts_with(&format!("SSoT-Lite project {pid}")));
        assert!(card["desc"].as_str().unwrap().contains("expected 43200"), "the value figures: {}", card["desc"]);

        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        settle(&app).await;
        let card = card_of(&app, &fake, &pid).await;
        assert_eq!(card["listName"], "Credentialing");
        assert_eq!(checklist(&card), [("nda".into(), "incomplete".into()), ("insurance_certificate".into(), "incomplete".into())]);
        app.decide_by_review(&pid, "nda", "approve").await;
        settle(&app).await;
        assert_eq!(checklist(&card_of(&app, &fake, &pid).await)[0], ("nda".into(), "complete".into()));
        app.decide_by_review(&pid, "insurance_certificate", "approve").await;
        settle(&app).await;
        let card = card_of(&app, &fake, &pid).await;
        assert_eq!(card["listName"], "Active");
        assert!(checklist(&card).iter().all(|(_, s)| s == "complete"));

        app.outcome(&pid).await;
        app.act(&app.operator, &pid, "complete", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "archive", json!({})).await.expect(200);
        settle(&app).await;
        let card = card_of(&app, &fake, &pid).await;
        assert_eq!(card["listName"], "Archived");
        assert!(card["desc"].as_str().unwrap().contains("realised"), "{}", card["desc"]);
        let attachments = card["attachments"].as_array().unwrap();
        assert_eq!(attachments.len(), 2, "the built-in tracker's export and the audit trail, once: {attachments:?}");
        assert!(attachments[0]["name"].as_str().unwrap().starts_with("tracker-export-"));
        // The close-out bundle carries the audit chain's head at archive.
        let trail: Value = serde_json::from_str(attachments[1]["text"].as_str().unwrap()).unwrap();
        assert_eq!(attachments[1]["name"], format!("audit-trail-{pid}.json"));
        assert!(trail["audit_chain_head"]["hash"].as_str().is_some_and(|h| h.len() == 64), "{trail}");
        let actions: Vec<&str> = trail["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(actions.contains(&"create") && actions.contains(&"archive"), "{actions:?}");
        assert!(attachments[0]["text"].as_str().unwrap().contains("Deliver: Invoice automation"));
        let names: Vec<String> = fake.lists(&board).into_iter().map(|(_, n)| n).collect();
        for list in ["Accepted", "Credentialing", "Active", "Completed", "Archived"] {
            assert_eq!(names.iter().filter(|n| *n == list).count(), 1, "{list} once in {names:?}");
        }
    }
}

on_both_backends! {
    async fn trello_mirrors_the_helpdesk_and_its_comments_come_back_as_messages(db) {
        let (app, fake, _board, _secrets) = trello_app(db).await;
        let _board = _board.as_str();
        webhook_registered(&fake).await;
        let anna = app.client_contact("Anna").await;
        let anna_t = app.token_for("client", &anna).await;
        let (pid, _jan, _) = app.accepted_project(&anna, &[]).await;
        settle(&app).await;
        let ticket = app.post(&anna_t, &format!("/projects/{pid}/tickets"), json!({ "subject": "Access to the shop", "body": "Which account should Jan use?" }))
            .await
            .expect(201);
        let tid = ticket["id"].as_str().unwrap().to_owned();
        settle(&app).await;
        let card = card_of(&app, &fake, &pid).await;
        let comments = card["comments"].as_array().unwrap().clone();
        assert_eq!(comments.len(), 1);
        assert!(comments[0]["text"].as_str().unwrap().contains("Which account should Jan use?"));

        // Olga answers in Trello: a message on the ticket, not echoed back.
        let card_id = card["id"].as_str().unwrap().to_owned();
        assert_eq!(fake.user_comments(&card_id, "A read-only API key is enough.", "Olga Nowak").await, 200);
        let ticket = app.get(&anna_t, &format!("/projects/{pid}/tickets/{tid}")).await.expect(200);
        let last = ticket["messages"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["body"].as_str(), last["author_role"].as_str(), last["author_label"].as_str()),
                   (Some("A read-only API key is enough."), Some("integration"), Some("trello: Olga Nowak")));
        settle(&app).await;
        assert_eq!(card_of(&app, &fake, &pid).await["comments"].as_array().unwrap().len(), 2, "no echo");

        // Trello reports the hub's own comment too: it is not taken as a message.
        let hub_comment_count = |t: &Value| t["messages"].as_array().unwrap().len();
        let before = hub_comment_count(&app.get(&anna_t, &format!("/projects/{pid}/tickets/{tid}")).await.expect(200));
        let url = format!("{}/webhooks/trello", app.base);
        let actions: Vec<Value> = app.http.get(format!("{}/cards/{card_id}/actions?filter=commentCard", fake.base_url))
            .header("Authorization", format!("OAuth oauth_consumer_key=\"{TRELLO_KEY}\", oauth_token=\"{TRELLO_TOKEN}\""))
            .send().await.unwrap().json().await.unwrap();
        let own = actions.iter().find(|a| a["data"]["text"].as_str().unwrap_or_default().contains("Which account")).unwrap();
        let echo = json!({ "action": own, "model": { "id": _board } }).to_string();
        let signed = trello::sign(TRELLO_SECRET, &echo, &url, trello::TrelloSigning::Utf8);
        let r = app.http.post(&url).header("X-Trello-Webhook", signed).body(echo).send().await.unwrap();
        assert_eq!(r.json::<Value>().await.unwrap(), json!({ "applied": 0, "ignored": 1 }));
        assert_eq!(hub_comment_count(&app.get(&anna_t, &format!("/projects/{pid}/tickets/{tid}")).await.expect(200)), before);
        // A forged callback is refused and adds nothing.
        let body = json!({ "action": { "id": "5f0000000000000000000001", "type": "commentCard",
            "data": { "text": "forged", "card": { "id": card_id } }, "memberCreator": { "fullName": "Mallory" } } }).to_string();
        let forged = trello::sign("not-the-secret", &body, &url, trello::TrelloSigning::Utf8);
        let r = app.http.post(&url).header("X-Trello-Webhook", forged).body(body.clone()).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
        let r = app.http.post(&url).body(body.clone()).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401, "unsigned");
        // The same genuine callback twice is one message.
        let genuine = trello::sign(TRELLO_SECRET, &body, &url, trello::TrelloSigning::NodeBinary);
        for _ in 0..2 {
            let r = app.http.post(&url).header("X-Trello-Webhook", genuine.clone()).body(body.clone()).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
        }
        let after = hub_comment_count(&app.get(&anna_t, &format!("/projects/{pid}/tickets/{tid}")).await.expect(200));
        assert_eq!(after, before + 1, "a retried callback counts once");
        assert_eq!(app.http.head(&url).send().await.unwrap().status().as_u16(), 200, "Trello's URL check");
    }
}

on_both_backends! {
    async fn two_workers_moving_cards_to_a_new_state_make_one_list(db) {
        let (app, fake, board, _secrets) = trello_app(db).await;
        let anna = app.client_contact("Anna").await;
        let (first, _, _) = app.accepted_project(&anna, &[]).await;
        let bea = app.client_contact("Bea").await;
        let (second, _, _) = app.accepted_project(&bea, &[]).await;
        settle(&app).await;
        // Two deliveries at once (as two workers make them) move cards to a
        // state that has no list yet; creating a list is slow, so without care
        // both would look, find none, and make one each.
        fake.inject_on("POST /1/lists", Fault::Slow(Duration::from_millis(300)), 2);
        let board_connector = app.app.connectors().board.clone();
        let p1 = app.store.project(first.parse().unwrap()).await.unwrap();
        let p2 = app.store.project(second.parse().unwrap()).await.unwrap();
        let (a, b) = tokio::join!(
            board_connector.move_card("move-1", &p1, ssot::domain::lifecycle::ProjectState::Blocked),
            board_connector.move_card("move-2", &p2, ssot::domain::lifecycle::ProjectState::Blocked),
        );
        a.unwrap();
        b.unwrap();
        let blocked: Vec<String> = fake.lists(&board).into_iter().filter(|(_, name)| name == "Blocked").map(|(id, _)| id).collect();
        assert_eq!(blocked.len(), 1, "{:?}", fake.lists(&board));
        for pid in [&first, &second] {
            assert_eq!(card_of(&app, &fake, pid).await["listName"], "Blocked");
        }

        // Two processes (each with its own client) race the same way: each
        // may make a list, but both cards land in the older one.
        fake.inject_on("POST /1/lists", Fault::Slow(Duration::from_millis(300)), 2);
        let other_process = ssot::connectors::Connectors::from_settings(&app.store, &app.app.settings().connectors, Duration::from_secs(2)).unwrap();
        let (a, b) = tokio::join!(
            board_connector.move_card("move-3", &p1, ssot::domain::lifecycle::ProjectState::Completed),
            other_process.board.move_card("move-4", &p2, ssot::domain::lifecycle::ProjectState::Completed),
        );
        a.unwrap();
        b.unwrap();
        let (c1, c2) = (card_of(&app, &fake, &first).await, card_of(&app, &fake, &second).await);
        assert!(c1["listName"] == "Completed" && c1["idList"].is_string(), "{c1}");
        assert_eq!(c1["idList"], c2["idList"], "{:?}", fake.lists(&board));
    }
}

on_both_backends! {
    async fn trello_faults_are_retried_and_a_card_is_made_once(db) {
        let (app, fake, _board, _secrets) = trello_app(db).await;
        webhook_registered(&fake).await;
        let anna = app.client_contact("Anna").await;
        let anna_t = app.token_for("client", &anna).await;
        // Creating the card: told to wait, then the card made but the answer lost.
        fake.inject_on("POST /1/cards$", Fault::RateLimited { retry_after_secs: 1 }, 1);
        fake.inject_on("POST /1/cards$", Fault::LostAnswer, 1);
        let (pid, _jan, _) = app.accepted_project(&anna, &["nda"]).await;
        tokio::time::sleep(Duration::from_millis(1100)).await;
        settle(&app).await;
        let card = card_of(&app, &fake, &pid).await;
        assert_eq!(card["listName"], "Accepted");
        let cards: Vec<Value> = fake.cards().into_iter().filter(|c| c["desc"].as_str().unwrap_or_default().contains(&pid)).collect();
        assert_eq!(cards.len(), 1, "one card per project");
        // A 401, a malformed answer and a slow one: the move still happens, once.
        fake.inject_on("PUT /1/cards/", Fault::Malformed, 1);
        fake.inject_on("GET /1/boards/", Fault::Slow(Duration::from_secs(4)), 1);
        fake.inject_on("POST /1/cards/", Fault::LostAnswer, 1);
        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        settle(&app).await;
        let card = card_of(&app, &fake, &pid).await;
        assert_eq!(card["listName"], "Credentialing");
        assert_eq!(card["checklists"].as_array().unwrap().len(), 1, "one checklist, though its answer was lost");
        // A message whose comment was posted but whose answer was lost, and
        // 60 comments written in Trello before the retry (so the hub's is on
        // the second page of comments by then): still one comment of the hub's.
        fake.inject_on("/actions/comments", Fault::LostAnswer, 1);
        app.post(&anna_t, &format!("/projects/{pid}/tickets"), json!({ "subject": "Hello", "body": "Is the NDA ready?" })).await.expect(201);
        loop {
            match app.worker.step().await.unwrap() {
                Step::Settled { entry, outcome, .. } if entry.kind == "board_comment" => {
                    assert!(matches!(outcome, Settlement::Retry { .. }), "{outcome:?}");
                    break;
                }
                Step::Settled { .. } => continue,
                Step::Idle => panic!("the comment was not attempted"),
            }
        }
        let card_id = card_of(&app, &fake, &pid).await["id"].as_str().unwrap().to_owned();
        for n in 0..60 {
            assert_eq!(fake.user_comments(&card_id, &format!("Note {n}"), "Olga Nowak").await, 200);
        }
        settle(&app).await;
        let comments = card_of(&app, &fake, &pid).await["comments"].as_array().unwrap().clone();
        let ours = comments.iter().filter(|c| c["text"].as_str().unwrap().contains("Is the NDA ready?")).count();
        assert_eq!((ours, comments.len()), (1, 61));
        // A revoked token: the entry fails with Trello's words, and a retry once fixed delivers it.
        fake.inject(Fault::Unauthorized, 1);
        app.decide_by_review(&pid, "nda", "approve").await;
        app.drain().await; // the tick fails for good; the move behind it waits
        let failed = app.store.list_outbox(Some(ssot::store::OutboxStatus::Failed), Some(pid.parse().unwrap()), 10).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert!(failed[0].last_error.as_deref().unwrap().starts_with("Trello answered 401"), "{:?}", failed[0].last_error);
        app.post(&app.operator, &format!("/outbox/{}/retry", failed[0].id), json!({})).await.expect(200);
        settle(&app).await;
        let card = card_of(&app, &fake, &pid).await;
        assert_eq!((card["listName"].as_str(), checklist(&card)[0].1.as_str()), (Some("Active"), "complete"));
    }
}

on_both_backends! {
    async fn a_message_before_acceptance_does_not_hold_up_the_board(db) {
        let (app, fake, _board, _secrets) = trello_app(db).await;
        webhook_registered(&fake).await;
        let anna = app.client_contact("Anna").await;
        let anna_t = app.token_for("client", &anna).await;
        let pid = id(&app.project(&anna, &[]).await);
        app.post(&anna_t, &format!("/projects/{pid}/tickets"), json!({ "subject": "Before", "body": "When do we start?" })).await.expect(201);
        settle(&app).await;
        let jan = app.vetted_expert("Jan", 1).await;
        let jan_t = app.token_for("expert", &jan).await;
        app.act(&app.operator, &pid, "start_matching", json!({})).await.expect(200);
        app.act(&app.operator, &pid, "offer", json!({ "expert_id": jan["id"] })).await.expect(200);
        app.act(&jan_t, &pid, "accept", json!({})).await.expect(200);
        settle(&app).await;
        let card = card_of(&app, &fake, &pid).await;
        assert_eq!(card["listName"], "Accepted", "the card is made");
        let failed = app.store.list_outbox(Some(ssot::store::OutboxStatus::Failed), None, 10).await.unwrap();
        assert!(failed.is_empty(), "{failed:?}");
    }
}

const FORMS_SECRET: &str = "apps-script-shared-secret";
const MAPPING: &str = r#"
default_title = "Consultation: {name}"

[fields]
"Imię i nazwisko" = "full_name"
"E-mail" = "email"
"Nazwa firmy" = "legal_name"
"NIP" = "tax_id"
"Co chcesz zautomatyzować?" = "title"
"Opis procesu" = "spec"
"7a1b2c3d" = "skills"
"#;

async fn forms_app(db: crate::helpers::TestDb) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let mapping = dir.path().join("forms-mapping.toml");
    std::fs::write(&mapping, MAPPING).unwrap();
    let secret = secret_file(&dir, "forms-secret", FORMS_SECRET);
    let app = spawn_app_at(
        db,
        |s, _| {
            s.connectors.google_forms = Some(ssot::connectors::settings::GoogleFormsSettings {
                secret_file: Some(secret),
                ..ssot::connectors::settings::GoogleFormsSettings::new(mapping)
            });
        },
        |_| None,
    )
    .await;
    (app, dir)
}

async fn post_form(app: &TestApp, body: &Value, secret: &str) -> crate::helpers::Reply {
    let text = body.to_string();
    let signature = ssot::connectors::signatures::sign_hub_hmac(secret, text.as_bytes());
    let res = app
        .http
        .post(format!("{}/intake/google-forms", app.base))
        .header("X-SSoT-Signature", signature)
        .header("content-type", "application/json")
        .body(text)
        .send()
        .await
        .unwrap();
    crate::helpers::reply(res).await
}

on_both_backends! {
    async fn a_signed_form_response_opens_a_project_once(db) {
        let (app, _dir) = forms_app(db).await;
        let apps_script = json!({
            "form_id": "1FAIpQLSe", "response_id": "ACYDBNj-1", "submitted_at": "2026-11-30T10:00:00Z",
            "respondent_email": "anna@kowalska-meble.pl",
            "answers": { "Imię i nazwisko": "Anna Kowalska", "Nazwa firmy": "Kowalska Meble Sp. z o.o.", "NIP": "526-000-12-46",
                         "Co chcesz zautomatyzować?": "Fakturowanie", "Opis procesu": "Co miesiąc 40 godzin ręcznego fakturowania.",
                         "Ile godzin miesięcznie?": "40", "Narzędzia": ["Excel", "Subiekt"] }
        });
        let created = post_form(&app, &apps_script, FORMS_SECRET).await.expect(201);
        let pid = created["project_id"].as_str().unwrap().to_owned();
        let project = app.get(&app.operator, &format!("/projects/{pid}")).await.expect(200);
        assert_eq!((project["state"].as_str(), project["title"].as_str()), (Some("intake"), Some("Fakturowanie")));
        assert_eq!(project["intake"]["Narzędzia"], json!(["Excel", "Subiekt"]));
        assert_eq!(project["intake"]["form_response_id"], "ACYDBNj-1");
        let contact = app.get(&app.operator, &format!("/contacts/{}", created["contact_id"].as_str().unwrap())).await.expect(200);
        assert_eq!((contact["email"].as_str(), contact["legal_name"].as_str()), (Some("anna@kowalska-meble.pl"), Some("Kowalska Meble Sp. z o.o.")));

        // The same response again (the trigger retried): the same project.
        let again = post_form(&app, &apps_script, FORMS_SECRET).await.expect(200);
        assert_eq!((again["project_id"].as_str(), again["created"].as_bool()), (Some(pid.as_str()), Some(false)));

        // From the Forms API, by question id; the client is found by e-mail.
        let forms_api = json!({
            "responseId": "ACYDBNj-2", "lastSubmittedTime": "2026-11-30T11:00:00Z", "respondentEmail": "ANNA@kowalska-meble.pl",
            "answers": { "7a1b2c3d": { "questionId": "7a1b2c3d", "textAnswers": { "answers": [{ "value": "automation" }, { "value": "python" }] } },
                         "Imię i nazwisko": { "textAnswers": { "answers": [{ "value": "Anna Kowalska" }] } } }
        });
        let second = post_form(&app, &forms_api, FORMS_SECRET).await.expect(201);
        assert_eq!(second["contact_id"], created["contact_id"], "the same client");
        let p2 = app.get(&app.operator, &format!("/projects/{}", second["project_id"].as_str().unwrap())).await.expect(200);
        assert_eq!(p2["title"], "Consultation: Anna Kowalska");
        assert_eq!(p2["skills"], json!(["automation", "python"]));

        // Refused, with nothing made: forged, unsigned, malformed, invalid.
        let count = || async { app.get(&app.operator, "/projects?limit=100").await.expect(200)["items"].as_array().unwrap().len() };
        let before = count().await;
        let mut other = apps_script.clone();
        other["response_id"] = json!("ACYDBNj-3");
        assert_eq!(post_form(&app, &other, "guessed").await.status.as_u16(), 401);
        let unsigned = app.http.post(format!("{}/intake/google-forms", app.base)).body(other.to_string()).send().await.unwrap();
        assert_eq!(unsigned.status().as_u16(), 401);
        let mut no_id = other.clone();
        no_id.as_object_mut().unwrap().remove("response_id");
        assert_eq!(post_form(&app, &no_id, FORMS_SECRET).await.status.as_u16(), 400);
        let mut bad_email = other.clone();
        bad_email["respondent_email"] = json!("not an address");
        bad_email["response_id"] = json!("ACYDBNj-4");
        let r = post_form(&app, &bad_email, FORMS_SECRET).await;
        assert_eq!((r.status.as_u16(), r.body["error"]["details"]["fields"][0]["field"].as_str()), (422, Some("email")));
        let mut expert_email = other.clone();
        let jan = app.vetted_expert("Jan", 1).await;
        expert_email["respondent_email"] = jan["email"].clone();
        expert_email["response_id"] = json!("ACYDBNj-5");
        assert_eq!(post_form(&app, &expert_email, FORMS_SECRET).await.status.as_u16(), 422);
        assert_eq!(count().await, before, "nothing was made");

        // The intake shows among the connectors: two responses taken.
        let connectors = app.get(&app.operator, "/connectors").await.expect(200);
        let intake = connectors.as_array().unwrap().iter().find(|c| c["role"] == "intake").expect("an intake row");
        assert_eq!((intake["mode"].as_str(), intake["delivered"].as_i64()), (Some("google_forms"), Some(2)));
        assert!(intake["last_success"].is_string());
    }
}

fn read_tree(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for folder in ["Clients", "Experts", "Projects"] {
        for entry in std::fs::read_dir(dir.join(folder)).unwrap().flatten() {
            let name = format!("{folder}/{}", entry.file_name().to_string_lossy());
            out.insert(name, std::fs::read_to_string(entry.path()).unwrap());
        }
    }
    out
}

on_both_backends! {
    async fn the_vault_holds_linked_notes_and_rewrites_only_what_changed(db) {
        let app = spawn_app_at(db, |_, _| {}, |_| None).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let (pid, jan, _) = app.accepted_project(&anna, &[]).await;
        let vault = tempfile::tempdir().unwrap();
        let first = ssot::vault_export::export(&app.store, vault.path()).await.unwrap();
        assert_eq!((first.written, first.unchanged, first.removed), (3, 0, 0), "one note each: client, expert, project");
        let notes = read_tree(vault.path());
        let project = notes.iter().find(|(k, _)| k.starts_with("Projects/invoice-automation-")).map(|(_, v)| v.clone()).unwrap();
        assert!(project.starts_with("---\n") && project.contains(&format!("ssot_id: {pid}")) && project.contains("state: accepted"), "{project}");
        assert!(project.contains("## Value") && project.contains("| value | 43200 |"), "{project}");
        assert!(project.contains("— accept by Jan"), "the timeline: {project}");
        // Every wikilink points at a note of the vault.
        for (name, text) in &notes {
            for target in text.split("[[").skip(1).map(|t| t.split(['|', ']']).next().unwrap()) {
                assert!(notes.contains_key(&format!("{target}.md")), "{name} links to missing {target}");
            }
        }
        let expert = notes.iter().find(|(k, _)| k.starts_with("Experts/jan-")).map(|(_, v)| v.clone()).unwrap();
        assert!(expert.contains("vetting: vetted") && expert.contains(&jan["email"].as_str().unwrap().to_string()));

        let again = ssot::vault_export::export(&app.store, vault.path()).await.unwrap();
        assert_eq!((again.written, again.unchanged), (0, 3), "nothing changed, nothing written");
        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        let after = ssot::vault_export::export(&app.store, vault.path()).await.unwrap();
        assert_eq!(after.written, 3, "the project's state shows on its note and on both people's lists");
        let changed = read_tree(vault.path());
        assert_eq!(changed.keys().collect::<Vec<_>>(), notes.keys().collect::<Vec<_>>(), "the same files");
        assert!(changed.values().any(|t| t.contains("state: active")));
    }
}

/// Polls until `done` holds for the vault's notes (the export runs every second).
async fn vault_until(
    dir: &std::path::Path,
    what: &str,
    done: impl Fn(&std::collections::BTreeMap<String, String>) -> bool,
) {
    for _ in 0..100 {
        if dir.join("Projects").is_dir() && done(&read_tree(dir)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the vault never showed {what}: {:?}",
        dir.join("Projects").is_dir().then(|| read_tree(dir))
    );
}

on_both_backends! {
    async fn the_server_keeps_the_vault_up_to_date_and_reports_how_it_stands(db) {
        let vault = tempfile::tempdir().unwrap();
        let dir = vault.path().join("agency");
        let app = spawn_app_at(db, |s, _| {
            s.connectors.obsidian = Some(ssot::connectors::settings::ObsidianSettings { vault_dir: dir.clone(), export_interval_secs: 1 });
        }, |_| None).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let (pid, _, _) = app.accepted_project(&anna, &[]).await;
        vault_until(&dir, "the accepted project", |n| n.values().any(|t| t.contains(&format!("ssot_id: {pid}")) && t.contains("state: accepted"))).await;
        app.act(&app.operator, &pid, "start_credentialing", json!({})).await.expect(200);
        vault_until(&dir, "the project's new state", |n| n.values().any(|t| t.contains(&format!("ssot_id: {pid}")) && t.contains("state: active"))).await;

        let connectors = app.get(&app.operator, "/connectors").await.expect(200);
        let row = connectors.as_array().unwrap().iter().find(|c| c["role"] == "knowledge").expect("a vault row");
        assert_eq!((row["mode"].as_str(), row["interval_secs"].as_u64(), row["failed"].as_i64()), (Some("obsidian"), Some(1), Some(0)));
        assert!(row["delivered"].as_i64().unwrap() >= 2 && row["last_success"].is_string(), "{row}");
        assert!(connectors.as_array().unwrap().iter().all(|c| c["role"] != "intake"), "no form configured, no intake row");
    }
}

#[tokio::test]
async fn a_vault_that_cannot_be_written_shows_failing_with_the_reason() {
    let vault = tempfile::tempdir().unwrap();
    // A file where the vault folder should be: every export fails.
    let blocked = vault.path().join("not-a-folder");
    std::fs::write(&blocked, "x").unwrap();
    let app = spawn_app_at(
        crate::helpers::TestDb::sqlite().await,
        |s, _| {
            s.connectors.obsidian = Some(ssot::connectors::settings::ObsidianSettings {
                vault_dir: blocked.clone(),
                export_interval_secs: 1,
            });
        },
        |_| None,
    )
    .await;
    let anna = app.client_contact("Anna Kowalska").await;
    app.project(&anna, &[]).await;
    for _ in 0..100 {
        let connectors = app.get(&app.operator, "/connectors").await.expect(200);
        let row = connectors
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["role"] == "knowledge")
            .cloned()
            .expect("a vault row");
        if row["failed"].as_i64().unwrap() >= 1 {
            // (The first export, with no records yet, had nothing to write and succeeded.)
            assert!(
                row["last_error"].as_str().unwrap().contains("not-a-folder"),
                "{row}"
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the failing export never showed");
}

/// `ssot demo` with every connector pointed at its fake: the 11 steps end
/// archived, and each tool holds what it should.
#[tokio::test]
async fn the_demo_runs_through_all_eleven_steps_on_the_fakes() {
    let jira = jira_fake().await;
    jira.add_user("acc-jan", "Jan Nowak", "jan@nowak.dev");
    let hub = HubSpotFake::start(HUBSPOT_TOKEN, HUBSPOT_SECRET).await;
    let trello_fake = TrelloFake::start(TRELLO_KEY, TRELLO_TOKEN, TRELLO_SECRET).await;
    let board = trello_fake.add_board("Client projects");
    let secrets = tempfile::tempdir().unwrap();
    let connectors = ssot::connectors::settings::ConnectorSettings {
        jira: Some(jira_settings(&jira, &secrets)),
        hubspot: Some(HubSpotSettings {
            access_token_file: Some(secret_file(&secrets, "hubspot", HUBSPOT_TOKEN)),
            requests_per_second: 100,
            ..HubSpotSettings::new(&hub.base_url)
        }),
        trello: Some(TrelloSettings {
            token_file: Some(secret_file(&secrets, "trello", TRELLO_TOKEN)),
            requests_per_second: 100,
            ..TrelloSettings::new(&trello_fake.base_url, TRELLO_KEY, &board)
        }),
        ..Default::default()
    };
    let transcript = ssot::demo::run_with(connectors, std::path::Path::new("./protocols"))
        .await
        .expect("the demo completes");
    assert!(
        transcript.contains("CRM: hubspot, tracker: jira, board: trello"),
        "{transcript}"
    );
    assert!(transcript.contains("is archived"), "{transcript}");

    // HubSpot: the people and the deal, at its last stage.
    let anna = hub
        .contact_by_email("anna@kowalska-meble.pl")
        .expect("the client");
    assert!(
        props(&anna)["ssot_intake"]
            .as_str()
            .unwrap()
            .contains("hours_per_month_on_invoicing: 40")
    );
    let jan = hub.contact_by_email("jan@nowak.dev").expect("the expert");
    assert_eq!(props(&jan)["ssot_vetting"], "vetted");
    let deals = hub.deals();
    assert_eq!(deals.len(), 1);
    assert_eq!(props(&deals[0])["ssot_state"], "archived");
    assert_eq!(
        hub.associations("deals", deals[0]["id"].as_str().unwrap(), "contacts"),
        [anna["id"].as_str().unwrap()]
    );

    // Jira: the project, access granted then revoked, and deleted after its export.
    let created = jira
        .requests()
        .into_iter()
        .find(|r| r.method == "POST" && r.path == "/rest/api/3/project")
        .unwrap();
    let key = serde_json::from_str::<Value>(&created.body).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let role_calls: Vec<String> = jira
        .requests()
        .into_iter()
        .filter(|r| {
            r.path
                .starts_with(&format!("/rest/api/3/project/{key}/role/"))
                && r.method != "GET"
        })
        .map(|r| r.method)
        .collect();
    assert_eq!(
        role_calls,
        ["POST", "DELETE", "POST", "DELETE"],
        "granted on activation, revoked on block, again on unblock and completion"
    );
    let project = jira.project(&key).unwrap();
    assert_eq!(project["deleted"], true);

    // Trello: the card in Archived, its checklist ticked, the export attached, the helpdesk mirrored.
    let cards = trello_fake.cards();
    assert_eq!(cards.len(), 1);
    let card = &cards[0];
    assert_eq!(card["listName"], "Archived");
    assert!(
        checklist(card).iter().all(|(_, s)| s == "complete") && checklist(card).len() == 2,
        "{card}"
    );
    let files: Vec<&str> = card["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        files,
        [
            format!("jira-export-{key}.csv"),
            format!("jira-export-{key}.xml"),
            files[2].to_owned()
        ]
    );
    assert!(files[2].starts_with("audit-trail-"), "{files:?}");
    let csv = card["attachments"][0]["text"].as_str().unwrap();
    assert!(
        csv.starts_with("Issue key,Summary,Status") && csv.contains("Deliver: Invoice automation"),
        "{csv}"
    );
    assert_eq!(
        card["comments"].as_array().unwrap().len(),
        2,
        "the helpdesk's two messages"
    );
}

#[tokio::test]
async fn the_demo_runs_on_the_built_in_connectors() {
    let transcript = ssot::demo::run().await.expect("the demo completes");
    assert!(transcript.contains("CRM: builtin, tracker: builtin, board: builtin"));
    assert!(
        transcript.contains("is archived") && transcript.contains("tracker project deleted: true")
    );
}

/// Delivers due entries until a CRM entry is settled; returns how.
async fn step_crm(app: &TestApp) -> Settlement {
    for _ in 0..20 {
        match app.worker.step().await.unwrap() {
            Step::Settled { entry, outcome, .. } if entry.kind.starts_with("crm_") => {
                return outcome;
            }
            Step::Settled { .. } => continue,
            Step::Idle => break,
        }
    }
    panic!("no CRM entry was due");
}

on_both_backends! {
    async fn hubspot_faults_are_retried_or_failed_visibly_and_never_lost(db) {
        let (app, fake, _secrets) = hubspot_app(db).await;
        for (i, fault) in [
            Fault::RateLimited { retry_after_secs: 1 },
            Fault::ServerError,
            Fault::Malformed,
            Fault::Slow(Duration::from_secs(4)),
            Fault::LostAnswer,
        ]
        .into_iter()
        .enumerate()
        {
            let name = format!("Client {i}");
            fake.inject_on("/batch/upsert", fault.clone(), 1);
            let c = app.client_contact(&name).await;
            let outcome = step_crm(&app).await;
            let Settlement::Retry { at, .. } = outcome else { panic!("{fault:?}: {outcome:?}") };
            if matches!(fault, Fault::RateLimited { .. }) {
                assert!(at - ssot::store::now() > time::Duration::milliseconds(800), "Retry-After honoured");
                tokio::time::sleep(Duration::from_millis(1100)).await;
            }
            settle(&app).await;
            let found: Vec<Value> = fake.contacts().into_iter().filter(|x| props(x)["email"] == c["email"]).collect();
            assert_eq!(found.len(), 1, "{fault:?}: the contact exists once");
        }
        fake.inject(Fault::Unauthorized, 1);
        let dora = app.client_contact("Dora").await;
        let outcome = step_crm(&app).await;
        let Settlement::Fail { error } = outcome else { panic!("{outcome:?}") };
        assert!(error.starts_with("HubSpot answered 401"), "{error}");
        let crm = app.get(&app.operator, "/connectors").await.expect(200).as_array().unwrap().iter()
            .find(|c| c["role"] == "crm").unwrap().clone();
        assert_eq!((crm["mode"].as_str(), crm["failed"].as_i64()), (Some("hubspot"), Some(1)));
        let failed = app.store.list_outbox(Some(ssot::store::OutboxStatus::Failed), None, 10).await.unwrap();
        app.post(&app.operator, &format!("/outbox/{}/retry", failed[0].id), json!({})).await.expect(200);
        settle(&app).await;
        assert!(fake.contact_by_email(dora["email"].as_str().unwrap()).is_some(), "delivered after the retry");
    }
}

on_both_backends! {
    async fn a_local_edit_on_its_way_wins_over_a_change_reported_from_hubspot(db) {
        let (app, fake, _secrets) = hubspot_app(db).await;
        let anna = app.client_contact("Anna Kowalska").await;
        let aid = anna["id"].as_str().unwrap().to_owned();
        settle(&app).await;
        let hs_id = fake.contact_by_email(anna["email"].as_str().unwrap()).unwrap()["id"].as_str().unwrap().to_owned();
        // Olga edits the phone here; the upsert has not gone out yet when
        // someone changes it in HubSpot and the webhook arrives.
        app.patch(&app.operator, &format!("/contacts/{aid}"), json!({ "phone": "+48 600 000 001" })).await.expect(200);
        assert_eq!(fake.user_changes_contact(&hs_id, "phone", "+48 600 000 002").await, 200);
        settle(&app).await;
        let ours = app.get(&app.operator, &format!("/contacts/{aid}")).await.expect(200);
        let theirs = fake.contact_by_email(anna["email"].as_str().unwrap()).unwrap();
        assert_eq!((ours["phone"].as_str(), props(&theirs)["phone"].as_str()), (Some("+48 600 000 001"), Some("+48 600 000 001")),
            "the edit went out first, then HubSpot was read back: both agree");
    }
}

//! The agent over HTTP: uploads verified in the background, decisions that
//! move the project and the expert's access, the review queue, expiry, and bad
//! uploads refused with nothing changed.

use serde_json::{Value, json};
use time::macros::date;

use crate::fake_llm::{FakeLlm, Reply};
use crate::helpers::{TestApp, TestDb, id, on_both_backends, spawn_app_with};
use crate::pdfs;

/// A project of Anna's in credentialing, held by Jan, requiring `documents`:
/// `(project, Anna's token, Jan's id, Jan's token)`.
async fn credentialing(app: &TestApp, documents: &[&str]) -> (String, String, String, String) {
    let anna = app.client_contact("Kowalska Meble").await;
    let anna_t = app.token_for("client", &anna).await;
    let (pid, jan, jan_t) = app.accepted_project(&anna, documents).await;
    app.act(&app.operator, &pid, "start_credentialing", json!({}))
        .await
        .expect(200);
    (pid, anna_t, id(&jan), jan_t)
}

/// The client contact's legal name, as the fixture writes it.
const LEGAL: &str = "Kowalska Meble Sp. z o.o.";

fn nda() -> Vec<u8> {
    format!(
        "# Mutual NDA and data processing agreement\n\nParties: Coretex Hub and {LEGAL}.\n\n\
         The parties keep all information confidential (informacje poufne).\n\
         Personal data is processed on the client's behalf under GDPR article 28.\n\n\
         Signed: Anna Kowalska, Olga Nowak, 12 May 2026\n"
    )
    .into_bytes()
}

async fn state(app: &TestApp, pid: &str) -> String {
    app.get(&app.operator, &format!("/projects/{pid}"))
        .await
        .expect(200)["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn members(app: &TestApp, pid: &str) -> Value {
    app.get(&app.operator, &format!("/projects/{pid}/tracker"))
        .await
        .expect(200)["project"]["members"]
        .clone()
}

async fn with_model(db: TestDb) -> (TestApp, FakeLlm) {
    let fake = FakeLlm::start().await;
    fake.always(Reply::GroundedMet);
    let url = fake.base_url.clone();
    let app = spawn_app_with(db, move |s| {
        s.llm_base_url = Some(url);
        s.llm_model = "fake-model".into();
    })
    .await;
    (app, fake)
}

on_both_backends! {
    async fn approved_uploads_activate_the_project_and_grant_access(db) {
        let (app, fake) = with_model(db).await;
        let (pid, anna_t, jan_id, jan_t) = credentialing(&app, &["insurance_certificate", "nda"]).await;
        let cert = pdfs::insurance_certificate(LEGAL, "2026-01-01", "2099-12-31");
        let first = app.upload(&anna_t, &format!("/projects/{pid}/documents"), "insurance_certificate", "polisa.pdf", cert.clone()).await.expect(201);
        assert_eq!((first["document"]["status"].as_str(), first["document"]["content_type"].as_str()), (Some("queued"), Some("application/pdf")));
        let again = app.upload(&anna_t, &format!("/projects/{pid}/documents"), "insurance_certificate", "copy.pdf", cert).await.expect(200);
        assert_eq!(again["document"]["id"], first["document"]["id"], "the same bytes are the same document");

        assert_eq!(app.verify_all().await, 1);
        let doc = app.get(&anna_t, &format!("/documents/{}", first["document"]["id"].as_str().unwrap())).await.expect(200);
        assert_eq!((doc["document"]["status"].as_str(), doc["report"]["decision"].as_str()), (Some("approved"), Some("approved")));
        assert_eq!(doc["document"]["expires_on"], "2099-12-31");
        assert_eq!(doc["report"]["model"], "fake-model");
        assert_eq!(state(&app, &pid).await, "credentialing", "the NDA is still missing");

        app.upload(&anna_t, &format!("/projects/{pid}/documents"), "nda", "nda.md", nda()).await.expect(201);
        app.verify_all().await;
        assert_eq!(state(&app, &pid).await, "active");
        let trail = app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200);
        let last = trail.as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["action"].as_str(), last["actor_kind"].as_str()), (Some("activate"), Some("agent")));
        app.drain().await;
        assert_eq!(members(&app, &pid).await[0]["expert_id"], jan_id.as_str());
        let docs = app.get(&anna_t, &format!("/projects/{pid}/documents")).await.expect(200);
        let required: Vec<&str> = docs["required"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
        assert_eq!(required, ["approved", "approved"]);
        assert_eq!(docs["uploaded"].as_array().unwrap().len(), 2);
        assert_eq!(fake.requests().len(), 2, "one model call per document");
        let jan_view = app.get(&jan_t, &format!("/projects/{pid}/documents")).await.expect(200);
        assert_eq!((jan_view["required"].as_array().unwrap().len(), &jan_view["uploaded"]), (2, &json!([])), "the expert sees the gate, not the client's files");
    }
}

on_both_backends! {
    async fn a_rejected_document_keeps_the_project_waiting_and_tells_the_client(db) {
        let (app, _fake) = with_model(db).await;
        let (pid, anna_t, _, _) = credentialing(&app, &["insurance_certificate"]).await;
        let expired = pdfs::insurance_certificate(LEGAL, "2025-01-01", "2025-12-31");
        let up = app.upload(&anna_t, &format!("/projects/{pid}/documents"), "insurance_certificate", "old.pdf", expired).await.expect(201);
        app.verify_all().await;
        let doc = app.get(&app.operator, &format!("/documents/{}", up["document"]["id"].as_str().unwrap())).await.expect(200);
        assert_eq!(doc["document"]["status"], "rejected");
        assert_eq!(doc["report"]["reasons"], json!(["period_covers_today: expired on 2025-12-31"]));
        assert_eq!(state(&app, &pid).await, "credentialing");
        let tickets = app.get(&anna_t, &format!("/projects/{pid}/tickets")).await.expect(200);
        assert_eq!(tickets[0]["subject"], "Document rejected: insurance_certificate");
        assert!(tickets[0]["messages"][0]["body"].as_str().unwrap().contains("expired on 2025-12-31"));
        assert_eq!(tickets[0]["messages"][0]["author_role"], "agent");
    }
}

on_both_backends! {
    async fn without_a_model_a_person_decides_in_the_review_queue(db) {
        let app = spawn_app_with(db, |_| {}).await;
        let (pid, anna_t, jan_id, jan_t) = credentialing(&app, &["insurance_certificate"]).await;
        let cert = pdfs::insurance_certificate(LEGAL, "2026-01-01", "2099-12-31");
        let up = app.upload(&anna_t, &format!("/projects/{pid}/documents"), "insurance_certificate", "polisa.pdf", cert).await.expect(201);
        let doc_id = up["document"]["id"].as_str().unwrap().to_owned();
        app.verify_all().await;
        let queue = app.get(&app.operator, "/reviews").await.expect(200);
        assert_eq!(queue.as_array().unwrap().len(), 1);
        assert_eq!(queue[0]["document"]["id"], doc_id.as_str());
        assert_eq!(queue[0]["report"]["decision"], "review");
        assert!(queue[0]["pages"][0].as_str().unwrap().contains("CERTIFICATE OF INSURANCE"));
        assert_eq!(app.get(&anna_t, "/reviews").await.status.as_u16(), 403);
        let r = app.post(&jan_t, &format!("/reviews/{doc_id}/decision"), json!({ "decision": "approve" })).await;
        assert_eq!(r.status.as_u16(), 403, "experts do not review");

        let decided = app.post(&app.operator, &format!("/reviews/{doc_id}/decision"), json!({ "decision": "approve", "comment": "insurer confirmed by phone" })).await.expect(200);
        assert_eq!(decided["document"]["status"], "approved");
        assert_eq!(decided["document"]["decided_by"], "olga");
        assert_eq!(decided["transitions"][0]["to"], "active");
        app.drain().await;
        assert_eq!(members(&app, &pid).await[0]["expert_id"], jan_id.as_str());
        let again = app.post(&app.operator, &format!("/reviews/{doc_id}/decision"), json!({ "decision": "reject" })).await;
        assert_eq!(again.status.as_u16(), 409);
        assert_eq!(app.get(&app.operator, "/reviews").await.expect(200), json!([]));
        let trail = app.get(&app.operator, "/audit?limit=50").await.expect(200);
        assert!(trail.as_array().unwrap().iter().any(|e| e["entity"] == "document" && e["action"] == "review" && e["actor_label"] == "olga"));
    }
}

on_both_backends! {
    async fn an_expired_credential_blocks_the_project_and_removes_access(db) {
        let (app, _fake) = with_model(db).await;
        let (pid, anna_t, jan_id, _) = credentialing(&app, &["insurance_certificate"]).await;
        // A policy ending in twenty days, whenever the test runs.
        let ends = (time::OffsetDateTime::now_utc().date() + time::Duration::days(20)).to_string();
        let cert = pdfs::insurance_certificate(LEGAL, "2026-01-01", &ends);
        app.upload(&anna_t, &format!("/projects/{pid}/documents"), "insurance_certificate", "polisa.pdf", cert).await.expect(201);
        app.verify_all().await;
        app.drain().await;
        assert_eq!((state(&app, &pid).await.as_str(), members(&app, &pid).await[0]["expert_id"].as_str()), ("active", Some(jan_id.as_str())));
        let soon = app.get(&app.operator, "/credentials/expiring").await.expect(200);
        assert_eq!(soon.as_array().unwrap().len(), 1);
        assert_eq!(app.get(&app.operator, "/credentials/expiring?days=1").await.expect(200), json!([]));

        // The day after the policy ends.
        assert_eq!(ssot::jobs::credentials::sweep(&app.store, date!(2100 - 01 - 01)).await, 1);
        assert_eq!(state(&app, &pid).await, "blocked");
        app.drain().await;
        assert_eq!(members(&app, &pid).await, json!([]), "access revoked");
        let trail = app.get(&app.operator, &format!("/projects/{pid}/audit")).await.expect(200);
        let block = trail.as_array().unwrap().iter().find(|e| e["action"] == "block").unwrap().clone();
        assert_eq!(block["actor_kind"], "agent");
        assert!(block["reason"].as_str().unwrap().contains("insurance_certificate"));
        assert_eq!(ssot::jobs::credentials::sweep(&app.store, date!(2100 - 01 - 01)).await, 0, "once");
    }
}

on_both_backends! {
    async fn bad_uploads_are_refused_and_change_nothing(db) {
        let app = spawn_app_with(db, |s| s.upload_max_bytes = 64 * 1024).await;
        let (pid, anna_t, _, jan_t) = credentialing(&app, &["insurance_certificate"]).await;
        let path = format!("/projects/{pid}/documents");
        let cert = pdfs::insurance_certificate(LEGAL, "2026-01-01", "2099-12-31");
        let big = app.upload(&anna_t, &path, "insurance_certificate", "big.pdf", [b"%PDF-1.7\n".to_vec(), vec![b'x'; 80 * 1024]].concat()).await;
        assert_eq!((big.status.as_u16(), big.code()), (413, "payload_too_large"));
        let zip = app.upload(&anna_t, &path, "insurance_certificate", "policy.pdf", b"PK\x03\x04 a zip pretending".to_vec()).await;
        assert_eq!((zip.status.as_u16(), zip.code()), (415, "unsupported_media_type"));
        let wrong_type = app.upload(&anna_t, &path, "passport", "p.pdf", cert.clone()).await;
        assert_eq!(wrong_type.status.as_u16(), 422);
        assert!(wrong_type.body["error"]["message"].as_str().unwrap().contains("insurance_certificate"));
        let bad_type = app.upload(&anna_t, &path, "Not A Type!", "p.pdf", cert.clone()).await;
        assert_eq!(bad_type.status.as_u16(), 422);
        assert_eq!(app.upload(&jan_t, &path, "insurance_certificate", "p.pdf", cert.clone()).await.status.as_u16(), 403);
        let stranger = app.client_contact("Stranger").await;
        let stranger_t = app.token_for("client", &stranger).await;
        assert_eq!(app.upload(&stranger_t, &path, "insurance_certificate", "p.pdf", cert.clone()).await.status.as_u16(), 404);
        let ghost = "/projects/01234567-89ab-7def-8123-456789abcdef/documents";
        assert_eq!(app.upload(&app.operator, ghost, "insurance_certificate", "p.pdf", cert.clone()).await.status.as_u16(), 404);
        let no_file = app.http.post(format!("{}{path}", app.base)).bearer_auth(&anna_t)
            .multipart(reqwest::multipart::Form::new().text("type", "insurance_certificate")).send().await.unwrap();
        assert_eq!(no_file.status().as_u16(), 400);
        let json_body = app.post(&anna_t, &path, json!({ "type": "insurance_certificate" })).await;
        assert_eq!(json_body.status.as_u16(), 415);
        let two_files = reqwest::multipart::Form::new()
            .text("type", "insurance_certificate")
            .part("file", reqwest::multipart::Part::bytes(cert.clone()).file_name("a.pdf"))
            .part("file", reqwest::multipart::Part::bytes(b"%PDF-1.7 second".to_vec()).file_name("b.pdf"));
        let r = app.http.post(format!("{}{path}", app.base)).bearer_auth(&anna_t).multipart(two_files).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 400, "one document per upload");
        let html = app.upload(&anna_t, &path, "insurance_certificate", "policy.txt", b"<!DOCTYPE html><html><body>Polisa OC</body></html>".to_vec()).await;
        assert_eq!(html.status.as_u16(), 415, "markup is not a document");
        let json_file = app.upload(&anna_t, &path, "insurance_certificate", "policy.txt", br#"{"verdict": "met"}"#.to_vec()).await;
        assert_eq!(json_file.status.as_u16(), 415);
        let bad_utf8 = [b"Polisa OC, okres ubezpieczenia ".to_vec(), vec![0xC3, 0x28], b" do 2099-12-31".to_vec()].concat();
        assert_eq!(app.upload(&anna_t, &path, "insurance_certificate", "p.txt", bad_utf8).await.status.as_u16(), 415);

        let docs = app.get(&app.operator, &format!("/projects/{pid}/documents")).await.expect(200);
        assert_eq!(docs["uploaded"], json!([]), "no document was recorded");
        assert_eq!(app.upload_leftovers(), 0, "no temporary file was left behind");
        assert_eq!(app.verify_all().await, 0);
        // A good upload still works after all that.
        app.upload(&anna_t, &path, "insurance_certificate", "p.pdf", cert).await.expect(201);
    }
}

fn credential(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

on_both_backends! {
    async fn an_expert_whose_credentials_are_approved_becomes_vetted(db) {
        let (app, _fake) = with_model(db).await;
        let body = json!({ "full_name": "Marek Zielinski", "email": "marek@experts.example", "skills": ["automation"], "capacity": 2 });
        let marek = app.post(&app.operator, "/experts", body).await.expect(201);
        let mid = id(&marek);
        app.post(&app.operator, &format!("/experts/{mid}/vetting"), json!({ "action": "start_vetting" })).await.expect(200);
        let marek_t = app.token_for("expert", &marek).await;
        let docs = [
            ("professional_certificate", "Certificate of completion: AWS Solutions Architect\nHolder: Marek Zielinski\nValid until 2099-06-30\n"),
            ("identity_confirmation", "Trusted profile identity confirmation\nName: ZIELINSKI Marek\nDocument valid until 15.03.2099\n"),
            ("liability_insurance", "Professional liability insurance (OC zawodowe)\nInsured: Marek Zielinski\nPeriod: from 2026-01-01 to 2099-12-31\nInsurer: Warta S.A.\n"),
            ("expert_agreement", "Expert framework agreement between Coretex Hub and Marek Zielinski\nConfidentiality of client data.\nSigned by both parties, 2 March 2026\n"),
        ];
        let path = format!("/experts/{mid}/documents");
        let r = app.upload(&marek_t, &path, "insurance_certificate", "x.txt", credential("Insured: Marek")).await;
        assert_eq!(r.status.as_u16(), 422, "a client document type is not an expert credential");
        for (i, (doc_type, text)) in docs.iter().enumerate() {
            app.upload(&marek_t, &path, doc_type, &format!("{doc_type}.txt"), credential(text)).await.expect(201);
            app.verify_all().await;
            let vetting = app.get(&app.operator, &format!("/experts/{mid}")).await.expect(200)["vetting"].as_str().unwrap().to_owned();
            assert_eq!(vetting, if i == 3 { "vetted" } else { "vetting" }, "after {doc_type}");
        }
        let listed = app.get(&marek_t, &path).await.expect(200);
        assert!(listed.as_array().unwrap().iter().all(|d| d["status"] == "approved"), "{listed}");
        let trail = app.get(&app.operator, &format!("/experts/{mid}/audit")).await.expect(200);
        let last = trail.as_array().unwrap().last().unwrap().clone();
        assert_eq!((last["action"].as_str(), last["actor_kind"].as_str()), (Some("approve"), Some("agent")));
        let other = app.vetted_expert("Other", 1).await;
        let other_t = app.token_for("expert", &other).await;
        assert_eq!(app.upload(&other_t, &path, "identity_confirmation", "x.txt", credential("Name: x")).await.status.as_u16(), 404);
    }
}

on_both_backends! {
    async fn a_model_that_never_answers_leaves_nothing_stuck(db) {
        let fake = FakeLlm::start().await;
        fake.script([Reply::Hang]);
        fake.always(Reply::GroundedMet);
        let url = fake.base_url.clone();
        let app = spawn_app_with(db, move |s| {
            s.llm_base_url = Some(url);
            s.llm_timeout_secs = 3;
        })
        .await;
        let (pid, anna_t, _, _) = credentialing(&app, &["insurance_certificate", "nda"]).await;
        let cert = pdfs::insurance_certificate(LEGAL, "2026-01-01", "2099-12-31");
        let hung = app.upload(&anna_t, &format!("/projects/{pid}/documents"), "insurance_certificate", "p.pdf", cert).await.expect(201);
        app.upload(&anna_t, &format!("/projects/{pid}/documents"), "nda", "nda.md", nda()).await.expect(201);
        assert_eq!(app.verify_all().await, 2, "the second document is not held up by the first");
        let first = app.get(&app.operator, &format!("/documents/{}", hung["document"]["id"].as_str().unwrap())).await.expect(200);
        assert_eq!(first["document"]["status"], "review");
        assert!(first["report"]["flags"][0]["detail"].as_str().unwrap().contains("did not answer"));
        let docs = app.get(&app.operator, &format!("/projects/{pid}/documents")).await.expect(200);
        let statuses: Vec<&str> = docs["uploaded"].as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["review", "approved"]);
    }
}

/// A scan: a PNG has no text layer, so the agent always sends it to a person.
fn scan() -> Vec<u8> {
    [
        b"\x89PNG\r\n\x1a\n".to_vec(),
        uuid::Uuid::now_v7().as_bytes().to_vec(),
    ]
    .concat()
}

on_both_backends! {
    async fn a_renewal_keeps_access_when_the_old_copy_expires(db) {
        let (app, _fake) = with_model(db).await;
        let (pid, anna_t, jan_id, _) = credentialing(&app, &["insurance_certificate"]).await;
        let path = format!("/projects/{pid}/documents");
        app.upload(&anna_t, &path, "insurance_certificate", "2099.pdf", pdfs::insurance_certificate(LEGAL, "2026-01-01", "2099-12-31")).await.expect(201);
        app.verify_all().await;
        assert_eq!(state(&app, &pid).await, "active");
        // The renewal arrives before the old policy ends.
        let renewal = app.upload(&anna_t, &path, "insurance_certificate", "2100.pdf", pdfs::insurance_certificate(LEGAL, "2099-01-01", "2100-12-31")).await.expect(201);
        app.verify_all().await;
        let renewal_id = renewal["document"]["id"].as_str().unwrap().to_owned();
        assert_eq!(app.get(&app.operator, &format!("/documents/{renewal_id}")).await.expect(200)["document"]["status"], "approved");
        app.drain().await;

        assert_eq!(ssot::jobs::credentials::sweep(&app.store, date!(2100 - 01 - 01)).await, 1, "the old copy expires");
        assert_eq!(state(&app, &pid).await, "active", "the renewal stands in for it");
        app.drain().await;
        assert_eq!(members(&app, &pid).await[0]["expert_id"], jan_id.as_str());
        let docs = app.get(&app.operator, &path).await.expect(200);
        assert_eq!(docs["required"][0]["status"], "approved");

        assert_eq!(ssot::jobs::credentials::sweep(&app.store, date!(2101 - 01 - 01)).await, 1, "then the renewal expires");
        assert_eq!(state(&app, &pid).await, "blocked");
        app.drain().await;
        assert_eq!(members(&app, &pid).await, json!([]));
    }
}

on_both_backends! {
    async fn a_reviewer_records_the_validity_and_can_send_a_document_back(db) {
        let app = spawn_app_with(db, |_| {}).await;
        let (pid, anna_t, _, jan_t) = credentialing(&app, &["insurance_certificate"]).await;
        let up = app.upload(&anna_t, &format!("/projects/{pid}/documents"), "insurance_certificate", "scan.png", scan()).await.expect(201);
        let doc_id = up["document"]["id"].as_str().unwrap().to_owned();
        let health = app.get(&app.operator, "/health").await.expect(200);
        assert_eq!(health["details"]["documents"], json!({ "queued": 1, "review": 0 }));
        app.verify_all().await;
        let health = app.get(&app.operator, "/health").await.expect(200);
        assert_eq!(health["details"]["documents"], json!({ "queued": 0, "review": 1 }));
        let queued = app.get(&app.operator, &format!("/documents/{doc_id}")).await.expect(200);
        assert!(queued["report"]["reasons"][0].as_str().unwrap().contains("no text layer"));

        let decision_path = format!("/reviews/{doc_id}/decision");
        let decide = |body: Value| app.post(&app.operator, &decision_path, body);
        let r = decide(json!({ "decision": "reject", "expires_on": "2099-12-31" })).await;
        assert_eq!((r.status.as_u16(), r.body["error"]["details"]["fields"][0]["field"].as_str()), (422, Some("expires_on")));
        let r = decide(json!({ "decision": "approve", "expires_on": "2020-01-01" })).await;
        assert_eq!(r.status.as_u16(), 422, "an expired credential is not approved");
        let r = decide(json!({ "decision": "approve", "expires_on": "31.12.2099" })).await;
        assert_eq!(r.status.as_u16(), 400, "dates are YYYY-MM-DD");

        // Sent back to the agent (say, after a protocol fix): queued again, then in review again.
        assert_eq!(app.post(&jan_t, &format!("/documents/{doc_id}/reverify"), json!({})).await.status.as_u16(), 403);
        let again = app.post(&app.operator, &format!("/documents/{doc_id}/reverify"), json!({})).await.expect(202);
        assert_eq!((again["status"].as_str(), again["attempts"].as_u64()), (Some("queued"), Some(0)));
        assert_eq!(app.verify_all().await, 1);

        let decided = decide(json!({ "decision": "approve", "comment": "read the scan", "expires_on": "2099-12-31" })).await.expect(200);
        assert_eq!((decided["document"]["status"].as_str(), decided["document"]["expires_on"].as_str()), (Some("approved"), Some("2099-12-31")));
        assert_eq!(state(&app, &pid).await, "active");
        let r = app.post(&app.operator, &format!("/documents/{doc_id}/reverify"), json!({})).await;
        assert_eq!(r.status.as_u16(), 409, "an approved document is not re-judged");
        let ghost = "01234567-89ab-7def-8123-456789abcdef";
        assert_eq!(app.post(&app.operator, &format!("/documents/{ghost}/reverify"), json!({})).await.status.as_u16(), 404);
        // The validity the reviewer read is what the sweep goes by.
        assert_eq!(ssot::jobs::credentials::sweep(&app.store, date!(2100 - 01 - 01)).await, 1);
        assert_eq!(state(&app, &pid).await, "blocked");
        let trail = app.get(&app.operator, "/audit?limit=200").await.expect(200);
        let document_steps: Vec<&str> = trail.as_array().unwrap().iter()
            .filter(|e| e["entity"] == "document" && e["entity_id"] == doc_id.as_str())
            .filter_map(|e| e["action"].as_str()).collect();
        assert_eq!(document_steps, ["expire", "review", "verify", "reverify", "verify", "upload"], "newest first");
    }
}

on_both_backends! {
    async fn a_document_whose_verifier_keeps_dying_goes_to_a_person(db) {
        let app = spawn_app_with(db, |s| s.verification_max_attempts = 2).await;
        let (pid, anna_t, _, _) = credentialing(&app, &["nda"]).await;
        let up = app.upload(&anna_t, &format!("/projects/{pid}/documents"), "nda", "nda.md", nda()).await.expect(201);
        // Two workers claimed it and died: their leases lapsed.
        for _ in 0..2 {
            let now = ssot::store::now();
            let claimed = app.store.claim_document("dead-worker", now, now - std::time::Duration::from_secs(1)).await.unwrap();
            assert!(claimed.is_some());
        }
        assert_eq!(app.verify_all().await, 1);
        let doc = app.get(&app.operator, &format!("/documents/{}", up["document"]["id"].as_str().unwrap())).await.expect(200);
        assert_eq!((doc["document"]["status"].as_str(), doc["document"]["attempts"].as_u64()), (Some("review"), Some(3)));
        assert_eq!(doc["report"]["flags"][0]["kind"], "agent");
        assert!(doc["report"]["reasons"][0].as_str().unwrap().contains("started 2 times without finishing"));
    }
}

on_both_backends! {
    async fn credentials_approved_before_vetting_count_when_vetting_starts(db) {
        let (app, _fake) = with_model(db).await;
        let body = json!({ "full_name": "Marek Zielinski", "email": "marek@experts.example", "skills": ["automation"], "capacity": 2 });
        let marek = app.post(&app.operator, "/experts", body).await.expect(201);
        let mid = id(&marek);
        let path = format!("/experts/{mid}/documents");
        for (doc_type, text) in [
            ("professional_certificate", "Certificate: AWS Solutions Architect\nHolder: Marek Zielinski\nValid until 2099-06-30\n"),
            ("identity_confirmation", "Identity confirmation\nName: Marek Zielinski\nValid until 2099-03-15\n"),
            ("liability_insurance", "Professional indemnity insurance\nInsured: Marek Zielinski\nPeriod: from 2026-01-01 to 2099-12-31\n"),
            ("expert_agreement", "Agreement between Coretex Hub and Marek Zielinski\nConfidentiality of client data.\nSigned by both parties\n"),
        ] {
            app.upload(&app.operator, &path, doc_type, "c.txt", credential(text)).await.expect(201);
        }
        assert_eq!(app.verify_all().await, 4);
        let applicant = app.get(&app.operator, &format!("/experts/{mid}")).await.expect(200);
        assert_eq!(applicant["vetting"], "applicant", "credentials alone do not vet an applicant");
        let started = app.post(&app.operator, &format!("/experts/{mid}/vetting"), json!({ "action": "start_vetting" })).await.expect(200);
        assert_eq!(started["expert"]["vetting"], "vetted", "everything was already approved");
        let trail = app.get(&app.operator, &format!("/experts/{mid}/audit")).await.expect(200);
        let steps: Vec<(&str, &str)> = trail.as_array().unwrap().iter()
            .filter(|e| e["entity"] == "expert")
            .map(|e| (e["action"].as_str().unwrap(), e["actor_kind"].as_str().unwrap())).collect();
        assert_eq!(steps[steps.len() - 2..], [("start_vetting", "operator"), ("approve", "agent")]);
    }
}

on_both_backends! {
    async fn a_working_verifier_keeps_its_claim_past_the_lease(db) {
        let fake = FakeLlm::start().await;
        fake.script([Reply::Hang]);
        let url = fake.base_url.clone();
        let app = spawn_app_with(db, move |s| {
            s.llm_base_url = Some(url);
            s.llm_timeout_secs = 3;
            s.verification_lease_secs = 1;
        })
        .await;
        let (pid, anna_t, _, _) = credentialing(&app, &["insurance_certificate"]).await;
        let cert = pdfs::insurance_certificate(LEGAL, "2026-01-01", "2099-12-31");
        app.upload(&anna_t, &format!("/projects/{pid}/documents"), "insurance_certificate", "p.pdf", cert).await.expect(201);
        let slow = app.app.verifier("slow-worker");
        let working = tokio::spawn(async move { slow.step().await });
        // Well past the one-second lease, while the model is still silent.
        tokio::time::sleep(std::time::Duration::from_millis(1800)).await;
        let other = app.app.verifier("other-worker").step().await.unwrap();
        assert!(matches!(other, ssot::jobs::verification::VerifyStep::Idle), "the claim was renewed: {other:?}");
        let done = working.await.unwrap().unwrap();
        let ssot::jobs::verification::VerifyStep::Done { report, document, .. } = done else {
            panic!("the slow worker finished its document: {done:?}");
        };
        assert_eq!((report.decision.to_string().as_str(), document.attempts), ("review", 1));
    }
}

//! Health says little to strangers and the truth to staff; the database and
//! uploads are readable by the server's user only.

use std::path::Path;

use serde_json::json;

use crate::helpers::{TestDb, on_both_backends, spawn_app, spawn_app_with};

on_both_backends! {
    async fn health_tells_a_stranger_only_that_the_server_is_up(db) {
        let app = spawn_app(db).await;
        let anonymous = app.request(reqwest::Method::GET, None, "/health", None).await.expect(200);
        assert_eq!(anonymous, json!({ "status": "up" }));
        let anna = app.client_contact("Anna").await;
        let client = app.token_for("client", &anna).await;
        assert_eq!(app.get(&client, "/health").await.expect(200), json!({ "status": "up" }), "nor to clients");
        let staff = app.get(&app.operator, "/health").await.expect(200);
        let details = &staff["details"];
        assert!(details["version"].is_string() && details["protocols"]["loaded"].as_u64() > Some(0), "{staff}");
        assert_eq!(details["problems"], json!([]));
        assert!(details["audit_chain_head"]["hash"].is_string());
        let ready = app.request(reqwest::Method::GET, None, "/health/ready", None).await.expect(200);
        assert_eq!(ready, json!({ "status": "ready" }));
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

on_both_backends! {
    async fn a_degraded_server_answers_503_on_readiness(db) {
        let vault = tempfile::tempdir().unwrap();
        copy_dir(Path::new("protocols"), vault.path());
        let dir = vault.path().to_owned();
        let app = spawn_app_with(db, move |s| s.protocols_dir = dir).await;
        app.get(&app.operator, "/health/ready").await.expect(200);
        std::fs::write(vault.path().join("client/nda.md"), "---\nid: [broken\n---\n").unwrap();
        app.post(&app.admin, "/protocols", json!({})).await.expect(200);
        let anonymous = app.request(reqwest::Method::GET, None, "/health/ready", None).await;
        assert_eq!((anonymous.status.as_u16(), anonymous.body.clone()), (503, json!({ "status": "degraded" })));
        let staff = app.get(&app.operator, "/health/ready").await;
        assert_eq!(staff.status.as_u16(), 503);
        let problems = staff.body["details"]["problems"].to_string();
        assert!(problems.contains("nda.md"), "{problems}");
        app.request(reqwest::Method::GET, None, "/health", None).await.expect(200);
    }
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_its_journals_and_uploads_are_private_to_the_server() {
    use ssot::private_files::mode;
    let db = TestDb::sqlite().await;
    let file = db
        .url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let app = spawn_app(db).await;
    let anna = app.client_contact("Anna").await;
    let pid = crate::helpers::id(&app.project(&anna, &["nda"]).await);
    let up = app
        .upload(
            &app.operator,
            &format!("/projects/{pid}/documents"),
            "nda",
            "nda.txt",
            b"Umowa o zachowaniu poufnosci".to_vec(),
        )
        .await
        .expect(201);
    for path in [file.clone(), format!("{file}-wal"), format!("{file}-shm")] {
        assert_eq!(mode(Path::new(&path)).unwrap(), 0o600, "{path}");
    }
    let sha = up["document"]["sha256"].as_str().unwrap();
    let documents = app.app.settings().documents_dir.clone();
    let stored = documents.join(&sha[..2]).join(sha);
    assert_eq!(mode(&stored).unwrap(), 0o600);
    assert_eq!(mode(&documents).unwrap(), 0o700);
}

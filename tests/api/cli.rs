//! The `ssot` binary: help, configuration errors, tokens, migrations.

use std::process::Command;

fn ssot() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ssot"));
    // Keep the caller's configuration out of the test.
    cmd.env_remove("DATABASE_URL")
        .env_remove("SSOT_DATABASE_URL")
        .env("SSOT_LOG", "warn");
    cmd
}

#[test]
fn help_lists_the_commands() {
    let out = ssot().arg("--help").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success());
    for command in ["serve", "migrate", "token", "demo"] {
        assert!(text.contains(command), "{text}");
    }
    let token_help = ssot().args(["token", "create", "--help"]).output().unwrap();
    assert!(
        String::from_utf8(token_help.stdout)
            .unwrap()
            .contains("--role")
    );
}

#[test]
fn a_database_path_that_looks_like_a_typo_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let missing_dir = format!("sqlite://{}/no-such-dir/ssot.db", dir.path().display());
    let out = ssot()
        .args(["migrate", "--database-url", &missing_dir])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("does not exist") && err.contains("typo"),
        "{err}"
    );
    let bad_extension = format!("sqlite://{}/ssot.dbb", dir.path().display());
    let out = ssot()
        .args(["migrate", "--database-url", &bad_extension])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.path().join("ssot.dbb").exists(), "nothing was created");
}

#[test]
fn tokens_are_created_listed_and_revoked_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/ssot.db", dir.path().display());
    let out = ssot()
        .args(["migrate", "--database-url", &url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ssot()
        .args([
            "token",
            "create",
            "--role",
            "operator",
            "--label",
            "olga",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert!(
        secret.starts_with("ssot_") && secret.len() == 69,
        "{secret}"
    );
    let listed = String::from_utf8(
        ssot()
            .args(["token", "list", "--database-url", &url])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(listed.contains("operator") && listed.contains("olga"));
    assert!(!listed.contains(&secret), "the secret is never shown again");
    let row = listed
        .lines()
        .nth(1)
        .expect("a header, then one row per token");
    assert!(
        row.contains("expires") && row.contains("never"),
        "expiry and last use are shown: {row}"
    );
    let token_id = row.split_whitespace().next().unwrap().to_owned();
    assert!(
        ssot()
            .args(["token", "revoke", &token_id, "--database-url", &url])
            .output()
            .unwrap()
            .status
            .success()
    );
    let after = String::from_utf8(
        ssot()
            .args(["token", "list", "--database-url", &url])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert!(!after.contains(&token_id));
    // An expert token needs a contact.
    let out = ssot()
        .args([
            "token",
            "create",
            "--role",
            "expert",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("must name a contact")
    );
}

#[test]
fn serve_answers_health_with_no_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = ssot()
        .current_dir(dir.path())
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env(
            "SSOT_PROTOCOLS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/protocols"),
        )
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/api/v1/health");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let body = rt.block_on(async {
        for _ in 0..100 {
            ssot::init_tls();
            if let Ok(r) = reqwest::get(&url).await {
                return r.text().await.unwrap();
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the server did not answer");
    });
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        body, r#"{"status":"up"}"#,
        "without a token, health tells only that the server is up"
    );
    assert!(
        dir.path().join("data/ssot.db").exists(),
        "the default database is created on first start"
    );
}

#[test]
fn the_demo_runs_one_project_through_all_eleven_steps() {
    let dir = tempfile::tempdir().unwrap();
    // Outside the repository there is no vault until `ssot init` writes one.
    let refused = ssot().arg("demo").current_dir(dir.path()).output().unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(
        why.contains("protocols") && why.contains("does not exist") && why.contains("ssot init"),
        "{why}"
    );
    let init = ssot()
        .args(["init", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    assert!(
        dir.path().join("ssot.toml").is_file()
            && dir.path().join("protocols/client/nda.md").is_file()
    );
    let out = ssot().arg("demo").current_dir(dir.path()).output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for step in 1..=11 {
        assert!(
            text.contains(&format!("{step:>2}. ")),
            "step {step} missing:\n{text}"
        );
    }
    for line in [
        "intake -> matching",
        "credentialing -> active  by agent",
        "tracker members: Jan Nowak",
        "tracker_export_to_board, tracker_delete_project",
        "is archived",
    ] {
        assert!(text.contains(line), "`{line}` missing:\n{text}");
    }
    assert!(
        !dir.path().join("data").exists(),
        "the demo leaves no database behind"
    );
    let again = ssot()
        .args(["init", "."])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1), "init never overwrites");
}

#[test]
fn verify_reports_on_a_real_pdf_as_json() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, to: &str| {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            crate::pdfs::insurance_certificate("Kowalska Meble Sp. z o.o.", "2026-01-01", to),
        )
        .unwrap();
        let out = ssot()
            .env_remove("SSOT_LLM_BASE_URL")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args([
                "verify",
                path.to_str().unwrap(),
                "--type",
                "insurance_certificate",
                "--json",
            ])
            .args(["--subject", "legal_name=Kowalska Meble Sp. z o.o."])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let valid = run("valid.pdf", "2099-12-31");
    assert_eq!(
        valid["decision"], "review",
        "no model: the insurer requirement is left to a person"
    );
    assert_eq!(valid["pages"], 2);
    let expired = run("expired.pdf", "2025-12-31");
    assert_eq!(expired["decision"], "rejected");
    assert_eq!(
        expired["reasons"][0],
        "period_covers_today: expired on 2025-12-31"
    );
    let zip = dir.path().join("contract.pdf");
    std::fs::write(&zip, b"PK\x03\x04 a zip named like a pdf").unwrap();
    let out = ssot()
        .args(["verify", zip.to_str().unwrap(), "--type", "nda"])
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "a file that is not a document is refused"
    );
}

#[test]
fn protocols_reindex_lists_what_loaded_and_fails_on_a_broken_note() {
    let out = ssot()
        .args([
            "protocols",
            "reindex",
            "--protocols",
            concat!(env!("CARGO_MANIFEST_DIR"), "/protocols"),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("client.insurance_certificate") && text.contains("indexed 8 protocols"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("broken.md"),
        "---\napplies_to: [nda]\n---\n",
    )
    .unwrap();
    let out = ssot()
        .args([
            "protocols",
            "reindex",
            "--protocols",
            dir.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("BROKEN  broken.md")
    );
}

#[test]
fn a_contacts_sheet_imports_whole_or_not_at_all_and_exports_back() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/ssot.db", dir.path().display());
    let sheet = dir.path().join("contacts.csv");
    std::fs::write(
        &sheet,
        "kind,full_name,email,legal_name,tax_id,skills,capacity\n\
         client,Anna Kowalska,anna@kowalska.pl,Kowalska Meble Sp. z o.o.,526-000-12-46,,\n\
         expert,Jan Nowak,jan@nowak.dev,,,\"rust, automation\",two\n\
         client,Ewa,not-an-email,,,,\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        ssot()
            .args(args)
            .args(["--database-url", &url])
            .output()
            .unwrap()
    };
    let out = run(&["import", "contacts", sheet.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("line 3: capacity `two` is not a number"),
        "{err}"
    );
    assert!(err.contains("line 4: email"), "{err}");
    assert!(err.contains("nothing imported: 2 row(s)"), "{err}");
    let exported = run(&["export", "contacts"]);
    let csv = String::from_utf8(exported.stdout).unwrap();
    assert_eq!(
        csv.lines().count(),
        1,
        "only the header: nothing was imported\n{csv}"
    );

    std::fs::write(
        &sheet,
        "kind,full_name,email,legal_name,tax_id,skills,capacity\n\
         client,Anna Kowalska,anna@kowalska.pl,Kowalska Meble Sp. z o.o.,526-000-12-46,,\n\
         expert,Jan Nowak,jan@nowak.dev,,,\"rust, automation\",2\n",
    )
    .unwrap();
    let out = run(&["import", "contacts", sheet.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8(out.stdout)
            .unwrap()
            .contains("imported 2 contacts")
    );
    // Importing the same sheet again would duplicate: refused, by line.
    let again = run(&["import", "contacts", sheet.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        String::from_utf8(again.stderr)
            .unwrap()
            .contains("line 2: a contact with e-mail anna@kowalska.pl exists already")
    );

    let target = dir.path().join("contacts-out.csv");
    let out = run(&["export", "contacts", "--output", target.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_path(&target).unwrap();
    let headers = reader.headers().unwrap().clone();
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let jan = rows
        .iter()
        .find(|r| &r[col("email")] == "jan@nowak.dev")
        .unwrap();
    assert_eq!(
        (&jan[col("kind")], &jan[col("skills")], &jan[col("vetting")]),
        ("expert", "rust, automation", "applicant")
    );
    let projects = run(&["export", "projects", "--format", "csv"]);
    assert!(
        String::from_utf8(projects.stdout)
            .unwrap()
            .starts_with("id,title,state,client_id")
    );
}

#[test]
fn a_token_is_rotated_from_the_command_line_and_the_old_secret_stops_working() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/ssot.db", dir.path().display());
    let run = |args: &[&str]| {
        let out = ssot()
            .args(args)
            .args(["--database-url", &url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    };
    let (old, created) = run(&["token", "create", "--role", "operator", "--ttl-days", "3"]);
    assert!(created.contains("expires"), "{created}");
    let (listed, _) = run(&["token", "list"]);
    let id = listed
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let (new, rotated) = run(&["token", "rotate", &id, "--ttl-days", "0"]);
    assert!(rotated.contains("never expires"), "{rotated}");
    assert_ne!(old.trim(), new.trim());
    let (after, _) = run(&["token", "list"]);
    assert!(
        after.contains(&id) && after.contains("never expires"),
        "{after}"
    );
    let missing = ssot()
        .args([
            "token",
            "rotate",
            "01234567-89ab-7def-8123-456789abcdef",
            "--database-url",
            &url,
        ])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(1));
}

#[test]
fn audit_verify_exits_1_and_names_an_edited_event() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/ssot.db", dir.path().display());
    for label in ["a", "b", "c"] {
        let out = ssot()
            .args([
                "token",
                "create",
                "--role",
                "operator",
                "--label",
                label,
                "--database-url",
                &url,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let verify = || {
        ssot()
            .args(["audit", "verify", "--database-url", &url])
            .output()
            .unwrap()
    };
    let intact = verify();
    assert!(
        intact.status.success(),
        "{}",
        String::from_utf8_lossy(&intact.stderr)
    );
    assert!(String::from_utf8_lossy(&intact.stdout).contains("3 events"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query("UPDATE audit_events SET actor_label = 'someone else' WHERE chain_seq = 2")
            .execute(&mut conn)
            .await
            .unwrap();
    });
    let broken = verify();
    assert_eq!(broken.status.code(), Some(1));
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(err.contains("(#2) was edited"), "{err}");
}

#[test]
fn serve_refuses_to_start_without_protocols_and_names_the_fix() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty-vault");
    std::fs::create_dir(&empty).unwrap();
    for (args, expect) in [
        (vec!["serve", "--bind", "127.0.0.1:0"], "does not exist"),
        (
            vec![
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--protocols",
                "empty-vault",
            ],
            "holds no protocol",
        ),
    ] {
        let out = ssot().args(&args).current_dir(dir.path()).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        for part in [expect, "--protocols", "SSOT_PROTOCOLS_DIR", "ssot init"] {
            assert!(err.contains(part), "`{part}` missing: {err}");
        }
    }
}

//! Pages benchmark: the operator's dashboard, the board, a project's page
//! and the review queue, served by the real `ssot serve` binary to a
//! signed-in operator, with N projects in the database (default 10,000) on
//! SQLite and, when a URL is given, PostgreSQL. Reports p50/p95 of each
//! page's answer time over loopback (`SAMPLES` requests each after a
//! warm-up) and the server's resident memory idle and after the pages,
//! beside the previous run.
//!
//!     cargo bench --bench pages -- [--projects N] [--postgres URL]
//!
//! PostgreSQL also comes from `SSOT_TEST_POSTGRES_URL`. Results are kept in
//! `target/bench/pages.json`; the next run prints its ratios against them.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use ssot::domain::actor::Role;
use ssot::domain::ids::ProjectId;
use ssot::domain::lifecycle::Command;
use ssot::domain::project::{NewProject, NewProjectInput};
use ssot::store::{PoolConfig, Store};

/// Timed requests per page, after `WARMUP` untimed ones.
const SAMPLES: usize = 200;
const WARMUP: usize = 10;
/// Projects waiting in credentialing with a scan in the review queue.
const IN_REVIEW: usize = 20;
const PASSWORD: &str = "benchmark password, long enough";

/// Seeds `projects` projects: most in intake, one in ten in matching, and
/// `IN_REVIEW` in credentialing needing an NDA. Returns the latter.
async fn seed_portfolio(store: &Store, projects: usize) -> Vec<ProjectId> {
    let (client, expert, expert_actor) = seed(store).await;
    let started = Instant::now();
    for i in 0..projects.saturating_sub(IN_REVIEW) {
        let id = store
            .create_project(new_project(client), &admin())
            .await
            .unwrap()
            .id;
        if i % 10 == 0 {
            store
                .transition_project(id, Command::StartMatching, &admin(), None)
                .await
                .unwrap();
        }
        if (i + 1) % 1000 == 0 {
            eprintln!("  seeded {} projects ({:.0?})", i + 1, started.elapsed());
        }
    }
    let mut credentialing = Vec::new();
    for _ in 0..IN_REVIEW {
        let input = NewProjectInput {
            client_id: client,
            title: "Bench project awaiting its NDA".into(),
            spec: "A project driven by the benchmark.".into(),
            skills: vec![],
            industry: None,
            required_documents: vec!["nda".into()],
            intake: Default::default(),
        };
        let id = store
            .create_project(NewProject::parse(input).unwrap(), &admin())
            .await
            .unwrap()
            .id;
        for step in ["start_matching", "offer", "accept", "start_credentialing"] {
            let (command, actor) = command_for(store, step, id, expert, &expert_actor).await;
            store
                .transition_project(id, command, &actor, None)
                .await
                .unwrap();
        }
        credentialing.push(id);
    }
    credentialing
}

/// The cookie `name`'s value from an answer's `Set-Cookie` headers.
fn cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}

/// Signs in through the page's form; the session cookie.
async fn sign_in(http: &reqwest::Client, site: &str) -> String {
    let form = http.get(format!("{site}/sign-in")).send().await.unwrap();
    let csrf_cookie = cookie(&form, "ssot_csrf").expect("a form token cookie");
    let html = form.text().await.unwrap();
    let token = html
        .split(r#"name="csrf" value=""#)
        .nth(1)
        .and_then(|t| t.split('"').next())
        .expect("a form token")
        .to_owned();
    let res = http
        .post(format!("{site}/sign-in"))
        .header("cookie", format!("ssot_csrf={csrf_cookie}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("csrf", token.as_str()),
                ("email", "bench@agency.example"),
                ("password", PASSWORD),
                ("next", "/"),
            ])
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    cookie(&res, "ssot_session").expect("signed in")
}

fn percentile(v: &[Duration], p: f64) -> f64 {
    v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

async fn bench(url: &str, projects: usize) -> BTreeMap<&'static str, f64> {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(url, &PoolConfig::default()).await.unwrap();
    let credentialing = seed_portfolio(&store, projects).await;
    ssot::user_cmd::create(
        &store,
        Role::Operator,
        "bench@agency.example",
        "Bench Operator",
        None,
        Some(PASSWORD.into()),
        (time::Duration::hours(1), "http://127.0.0.1"),
        &admin(),
    )
    .await
    .unwrap();
    let operator = store
        .create_token(Role::Operator, None, Some("bench"), None, &admin())
        .await
        .unwrap()
        .secret;
    store.close().await;

    let server = Server::start(url, dir.path(), &[]);
    ssot::init_tls();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    server.wait(&http).await;
    let site = server.base.trim_end_matches("/api/v1").to_owned();
    // Scans the agent cannot read: the server's verifier sends them to review.
    for id in &credentialing {
        let scan = [
            b"\x89PNG\r\n\x1a\n".to_vec(),
            uuid::Uuid::now_v7().as_bytes().to_vec(),
        ]
        .concat();
        let form = reqwest::multipart::Form::new().text("type", "nda").part(
            "file",
            reqwest::multipart::Part::bytes(scan).file_name("scan.png"),
        );
        let res = http
            .post(format!("{}/projects/{id}/documents", server.base))
            .bearer_auth(&operator)
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "upload: {}", res.status());
    }
    for _ in 0..600 {
        let queue: serde_json::Value = http
            .get(format!("{}/reviews?limit=200", server.base))
            .bearer_auth(&operator)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if queue.as_array().map_or(0, Vec::len) >= IN_REVIEW {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = rss_kib(server.pid());
    let session = sign_in(&http, &site).await;
    let sampler = PeakRss::start(server.pid());

    let mut out = BTreeMap::new();
    let project = format!("/projects/{}", credentialing[0]);
    for (name, path) in [
        ("dashboard", "/"),
        ("board", "/board"),
        ("project", project.as_str()),
        ("reviews", "/reviews"),
    ] {
        let mut times = Vec::with_capacity(SAMPLES);
        for i in 0..WARMUP + SAMPLES {
            let start = Instant::now();
            let res = http
                .get(format!("{site}{path}"))
                .header("cookie", format!("ssot_session={session}"))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path}");
            let body = res.bytes().await.unwrap();
            assert!(body.len() > 1000, "{path} answered a page");
            if i >= WARMUP {
                times.push(start.elapsed());
            }
        }
        times.sort();
        let (p50, p95) = (percentile(&times, 0.50), percentile(&times, 0.95));
        eprintln!("  {name:<10} p50 {p50:.1} ms, p95 {p95:.1} ms");
        out.insert(leak(format!("{name}_p50_ms")), p50);
        out.insert(leak(format!("{name}_p95_ms")), p95);
    }
    out.insert("rss_idle_mib", idle as f64 / 1024.0);
    out.insert("rss_after_pages_mib", sampler.finish() as f64 / 1024.0);
    out.insert("projects", projects as f64);
    out
}

/// The report keys metrics by `&'static str`; these few names live for the run.
fn leak(name: String) -> &'static str {
    Box::leak(name.into_boxed_str())
}

fn main() {
    let (projects, postgres) = args(10_000);
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut results: BTreeMap<String, BTreeMap<&'static str, f64>> = BTreeMap::new();
    for (name, pg) in backends(&postgres) {
        eprintln!("running {name}: {projects} projects, {SAMPLES} requests per page ...");
        let db = rt.block_on(Db::fresh(
            pg.as_deref(),
            dir.path(),
            &format!("{name}-pages"),
        ));
        let summary = rt.block_on(bench(&db.url, projects));
        rt.block_on(db.drop_schema());
        results.insert(name.to_owned(), summary);
    }
    report("pages", &results);
}

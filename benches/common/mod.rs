//! Helpers shared by the benchmarks: seeding, one project's whole lifecycle
//! through the store, fresh databases, arguments, and the side-by-side report.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::Duration;

use serde_json::Value;
use ssot::domain::actor::{Actor, Person, Role};
use ssot::domain::contact::{ContactInput, ContactKind, NewContact};
use ssot::domain::expert::{ExpertProfile, ProfileInput, VettingAction};
use ssot::domain::ids::{ContactId, ProjectId};
use ssot::domain::lifecycle::Command;
use ssot::domain::metrics::{Baseline, Outcome};
use ssot::domain::project::{NewProject, NewProjectInput};
use ssot::domain::validation::Reason;
use ssot::store::{OutboxStatus, Store};

/// Transitions per project: start_matching, offer, accept, start_credentialing
/// (+ automatic activate), block, unblock, complete, archive.
pub const STEPS: [&str; 8] = [
    "start_matching",
    "offer",
    "accept",
    "start_credentialing",
    "block",
    "unblock",
    "complete",
    "archive",
];

pub fn admin() -> Actor {
    Actor::Person(Person {
        role: Role::Admin,
        contact: None,
        label: "bench".into(),
    })
}

pub fn reason() -> Reason {
    Reason::parse("benchmark").unwrap()
}

/// A client and a vetted expert with room for 50 projects.
pub async fn seed(store: &Store) -> (ContactId, ContactId, Actor) {
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let client = ContactInput {
        full_name: "Bench Client".into(),
        email: format!("c{tag}@bench.example"),
        ..Default::default()
    };
    let client = store
        .create_contact(
            &NewContact::parse(ContactKind::Client, &client).unwrap(),
            &admin(),
        )
        .await
        .unwrap()
        .id;
    let expert = ContactInput {
        full_name: "Bench Expert".into(),
        email: format!("e{tag}@bench.example"),
        ..Default::default()
    };
    let profile = ExpertProfile::parse(&ProfileInput {
        capacity: 50,
        ..Default::default()
    })
    .unwrap();
    let expert = store
        .create_expert(
            &NewContact::parse(ContactKind::Expert, &expert).unwrap(),
            &profile,
            &admin(),
        )
        .await
        .unwrap()
        .contact
        .id;
    for action in [VettingAction::StartVetting, VettingAction::Approve] {
        store
            .change_vetting(expert, action, None, &admin())
            .await
            .unwrap();
    }
    let expert_actor = Actor::Person(Person {
        role: Role::Expert,
        contact: Some(expert),
        label: "expert".into(),
    });
    (client, expert, expert_actor)
}

pub fn new_project(client: ContactId) -> NewProject {
    NewProject::parse(NewProjectInput {
        client_id: client,
        title: "Bench project".into(),
        spec: "A project driven by the benchmark.".into(),
        skills: vec![],
        industry: None,
        required_documents: vec![],
        intake: Default::default(),
    })
    .unwrap()
}

pub fn baseline() -> Baseline {
    Baseline {
        hours_before: 40.0,
        hours_after: 10.0,
        hourly_value: 100.0,
        horizon_months: 12,
        price: 10_000.0,
    }
}

/// The command for `step` and who takes it; records the metrics a gate needs first.
pub async fn command_for(
    store: &Store,
    step: &str,
    id: ProjectId,
    expert: ContactId,
    expert_actor: &Actor,
) -> (Command, Actor) {
    match step {
        "start_matching" => (Command::StartMatching, admin()),
        "offer" => (Command::Offer { expert }, admin()),
        "accept" => (Command::Accept, expert_actor.clone()),
        "start_credentialing" => {
            store
                .record_baseline(id, baseline(), &admin())
                .await
                .unwrap();
            (Command::StartCredentialing, admin())
        }
        "block" => (Command::Block { reason: reason() }, admin()),
        "unblock" => (Command::Unblock { reason: reason() }, admin()),
        "complete" => {
            store
                .record_outcome(
                    id,
                    Outcome {
                        hours_saved: 20.0,
                        cost: 10_000.0,
                    },
                    &admin(),
                )
                .await
                .unwrap();
            (Command::Complete, admin())
        }
        _ => (Command::Archive, admin()),
    }
}

/// Takes one project from intake to archived through the store.
pub async fn lifecycle(
    store: &Store,
    client: ContactId,
    expert: ContactId,
    expert_actor: &Actor,
) -> ProjectId {
    let id = store
        .create_project(new_project(client), &admin())
        .await
        .unwrap()
        .id;
    for step in STEPS {
        let (command, actor) = command_for(store, step, id, expert, expert_actor).await;
        store
            .transition_project(id, command, &actor, None)
            .await
            .unwrap();
    }
    id
}

pub async fn admin_sql(base: &str, sql: String) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut conn)
        .await
        .unwrap();
}

/// A database for one run: a fresh SQLite file, or a fresh schema in the
/// given PostgreSQL (dropped by [`Db::drop_schema`]).
pub struct Db {
    pub url: String,
    schema: Option<(String, String)>,
}

impl Db {
    pub async fn fresh(postgres: Option<&str>, dir: &std::path::Path, name: &str) -> Self {
        match postgres {
            Some(base) => {
                let schema = format!("ssot_bench_{}", uuid::Uuid::now_v7().simple());
                admin_sql(base, format!("CREATE SCHEMA {schema}")).await;
                let sep = if base.contains('?') { '&' } else { '?' };
                Self {
                    url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    schema: Some((base.to_owned(), schema)),
                }
            }
            None => Self {
                url: format!("sqlite://{}/{name}.db?mode=rwc", dir.display()),
                schema: None,
            },
        }
    }

    pub async fn drop_schema(self) {
        if let Some((base, schema)) = self.schema {
            admin_sql(&base, format!("DROP SCHEMA {schema} CASCADE")).await;
        }
    }
}

/// Waits until every outbox entry is delivered; returns how many there are.
/// Panics on a failed one, naming it.
pub async fn drained(store: &Store) -> i64 {
    loop {
        let counts = store.outbox_counts().await.unwrap();
        if counts.iter().any(|(s, _)| *s == OutboxStatus::Failed) {
            let failed = store
                .list_outbox(Some(OutboxStatus::Failed), None, 1)
                .await
                .unwrap();
            panic!(
                "a delivery failed: {:?}",
                failed.first().map(|e| (&e.kind, &e.last_error))
            );
        }
        if counts.iter().all(|(s, _)| *s == OutboxStatus::Delivered) {
            return counts.iter().map(|(_, n)| n).sum();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The runtime every benchmark runs on: two threads, like this machine.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `--projects N` and `--postgres URL` (or `SSOT_TEST_POSTGRES_URL`).
pub fn args(default_projects: usize) -> (usize, Option<String>) {
    let mut projects = default_projects;
    let mut postgres = std::env::var("SSOT_TEST_POSTGRES_URL").ok();
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--projects" => {
                projects = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--projects N")
            }
            "--postgres" => postgres = it.next(),
            _ => {} // cargo passes --bench
        }
    }
    if postgres.is_none() {
        eprintln!("PostgreSQL skipped: pass --postgres URL or set SSOT_TEST_POSTGRES_URL");
    }
    (projects, postgres)
}

pub fn backends(postgres: &Option<String>) -> Vec<(&'static str, Option<String>)> {
    let mut out = vec![("sqlite", None)];
    if let Some(pg) = postgres {
        out.push(("postgres", Some(pg.clone())));
    }
    out
}

/// Prints one row per metric and one column per run, each with its ratio to
/// the previous run of the same benchmark, then saves this run for the next.
pub fn report(name: &str, results: &BTreeMap<String, BTreeMap<&'static str, f64>>) {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("../bench/{name}.json"));
    let previous: Option<Value> = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok());
    let runs: Vec<&String> = results.keys().collect();
    let mut metrics: Vec<&'static str> = results.values().flat_map(|m| m.keys().copied()).collect();
    metrics.sort();
    metrics.dedup();
    print!("\n{:<28}", "metric (now, x previous)");
    for run in &runs {
        print!(" {run:>24}");
    }
    println!();
    for metric in metrics {
        print!("{metric:<28}");
        for run in &runs {
            let cell = match results[*run].get(metric) {
                Some(v) => match previous
                    .as_ref()
                    .and_then(|p| p[run.as_str()][metric].as_f64())
                    .filter(|b| *b != 0.0)
                {
                    Some(b) => format!("{v:.3} ({:.2}x)", v / b),
                    None => format!("{v:.3}"),
                },
                None => "-".into(),
            };
            print!(" {cell:>24}");
        }
        println!();
    }
    if let Some(parent) = path.parent() {
        let _ = std::fs::create_dir_all(parent);
    }
    let _ = std::fs::write(&path, serde_json::to_string_pretty(results).unwrap());
    println!(
        "\nsaved to {} (the next run compares against it)",
        path.display()
    );
}

/// The real `ssot serve` binary on a free port, with settings in its environment.
pub struct Server {
    pub child: Child,
    pub base: String,
}

impl Server {
    pub fn start(url: &str, dir: &Path, env: &[(&str, String)]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Process::new(env!("CARGO_BIN_EXE_ssot"));
        cmd.args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--database-url",
            url,
        ])
        .env("SSOT_LOG", "warn")
        .env(
            "SSOT_PROTOCOLS_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/protocols"),
        )
        .env("SSOT_DOCUMENTS_DIR", dir.join("documents"))
        // The benchmark's clients share one address and token, far above any
        // person's rate: its load is not an attack to refuse.
        .env("SSOT_RATE_LIMIT_PER_ADDRESS", "0")
        .env("SSOT_RATE_LIMIT_PER_TOKEN", "0")
        .env("SSOT_RATE_LIMIT_UPLOADS", "0")
        .env("SSOT_UPLOAD_QUOTA_FILES", "0")
        .env("SSOT_UPLOAD_QUOTA_BYTES", "0")
        .env_remove("SSOT_LLM_BASE_URL")
        .current_dir(dir)
        .stdout(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        Self {
            child: cmd.spawn().unwrap(),
            base: format!("http://127.0.0.1:{port}/api/v1"),
        }
    }

    /// Waits until the server answers its health check.
    pub async fn wait(&self, http: &reqwest::Client) {
        for _ in 0..400 {
            if http
                .get(format!("{}/health", self.base))
                .send()
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the server did not start");
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Resident memory of a process, in KiB (0 when it is gone).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Samples a process's resident memory every 10 ms and keeps the peak.
pub struct PeakRss {
    peak: std::sync::Arc<std::sync::atomic::AtomicU64>,
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl PeakRss {
    pub fn start(pid: u32) -> Self {
        use std::sync::atomic::Ordering;
        let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(rss_kib(pid)));
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let thread = {
            let (peak, done) = (peak.clone(), done.clone());
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(rss_kib(pid), Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(10));
                }
            })
        };
        Self { peak, done, thread }
    }

    /// Stops sampling; the peak in KiB.
    pub fn finish(self) -> u64 {
        use std::sync::atomic::Ordering;
        self.done.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        self.peak.load(Ordering::Relaxed)
    }
}

//! Lifecycle benchmark: drives N projects from intake to archived through the
//! repository layer and through the HTTP API (the real `ssot serve` binary), on
//! SQLite and, when a URL is given, PostgreSQL. Reports transitions per second,
//! p50/p95 latency of a transition and of `GET /projects/{id}`, and the
//! server's resident memory idle and under load, beside the previous run. The
//! HTTP runs go once with the default delivery workers beside the API and once
//! API-only.
//!
//!     cargo bench --bench lifecycle -- [--projects N] [--postgres URL]
//!
//! PostgreSQL also comes from `SSOT_TEST_POSTGRES_URL`. Results are kept in
//! `target/bench/lifecycle.json`; the next run prints its ratios against them.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};
use ssot::domain::actor::Role;
use ssot::domain::ids::{ContactId, ProjectId};
use ssot::store::{PoolConfig, Store};

#[derive(Default)]
struct Samples {
    transition: Vec<Duration>,
    get: Vec<Duration>,
    wall: Duration,
}

impl Samples {
    fn summary(&mut self) -> BTreeMap<&'static str, f64> {
        // Throughput counts whole lifecycles (with their reads and metric writes) per wall second.
        let tps = self.transition.len() as f64 / self.wall.as_secs_f64();
        let mut out = BTreeMap::from([("transitions_per_s", tps)]);
        for (name, v) in [("transition", &mut self.transition), ("get", &mut self.get)] {
            if v.is_empty() {
                continue;
            }
            v.sort();
            let pct = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3;
            out.insert(
                if name == "transition" {
                    "transition_p50_ms"
                } else {
                    "get_p50_ms"
                },
                pct(0.50),
            );
            out.insert(
                if name == "transition" {
                    "transition_p95_ms"
                } else {
                    "get_p95_ms"
                },
                pct(0.95),
            );
        }
        out
    }
}

async fn bench_store(url: &str, projects: usize) -> Samples {
    let store = Store::open(url, &PoolConfig::default()).await.unwrap();
    let (client, expert, expert_actor) = seed(&store).await;
    let mut s = Samples::default();
    let start = Instant::now();
    for _ in 0..projects {
        let id = store
            .create_project(new_project(client), &admin())
            .await
            .unwrap()
            .id;
        for step in STEPS {
            let (cmd, actor) = command_for(&store, step, id, expert, &expert_actor).await;
            let t = Instant::now();
            store
                .transition_project(id, cmd, &actor, None)
                .await
                .unwrap();
            s.transition.push(t.elapsed());
            let t = Instant::now();
            store.project(id).await.unwrap();
            s.get.push(t.elapsed());
        }
    }
    s.wall = start.elapsed();
    store.close().await;
    s
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> Value {
    let mut req = http.request(method, url).bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert!(status.is_success(), "{status}: {body}");
    body
}

async fn bench_http(url: &str, projects: usize, workers: usize) -> (Samples, Samples, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    // Seed through the store, then let the real server serve it.
    let store = Store::open(url, &PoolConfig::default()).await.unwrap();
    let (client, expert, _) = seed(&store).await;
    let op = store
        .create_token(Role::Operator, None, Some("bench"), None, &admin())
        .await
        .unwrap()
        .secret;
    let ex = store
        .create_token(Role::Expert, Some(expert), None, None, &admin())
        .await
        .unwrap()
        .secret;
    store.close().await;

    let server = Server::start(
        url,
        dir.path(),
        &[("SSOT_OUTBOX_WORKERS", workers.to_string())],
    );
    ssot::init_tls();
    let http = reqwest::Client::new();
    server.wait(&http).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = rss_kib(server.pid());
    let sampler = PeakRss::start(server.pid());

    // Phase 1: one client, for latency.
    let base = server.base.clone();
    let mut s = Samples::default();
    let start = Instant::now();
    drive_http(&http, &base, &op, &ex, client, expert, projects, &mut s).await;
    s.wall = start.elapsed();
    // Phase 2: four clients at once, for throughput and memory under load.
    let mut loaded = Samples::default();
    let start = Instant::now();
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (http, base, op, ex) = (http.clone(), base.clone(), op.clone(), ex.clone());
            tokio::spawn(async move {
                let mut part = Samples::default();
                drive_http(
                    &http,
                    &base,
                    &op,
                    &ex,
                    client,
                    expert,
                    projects / CLIENTS,
                    &mut part,
                )
                .await;
                part
            })
        })
        .collect();
    for w in workers {
        let part = w.await.unwrap();
        loaded.transition.extend(part.transition);
        loaded.get.extend(part.get);
    }
    loaded.wall = start.elapsed();
    (s, loaded, idle, sampler.finish())
}

/// Concurrent HTTP clients in the load phase.
const CLIENTS: usize = 4;

/// Takes `projects` projects from intake to archived over HTTP, timing each
/// transition and a read after it.
#[allow(clippy::too_many_arguments)]
async fn drive_http(
    http: &reqwest::Client,
    base: &str,
    op: &str,
    ex: &str,
    client: ContactId,
    expert: ContactId,
    projects: usize,
    s: &mut Samples,
) {
    for _ in 0..projects {
        let created = call(
            http,
            reqwest::Method::POST,
            format!("{base}/projects"),
            op,
            Some(json!({ "client_id": client, "title": "Bench", "spec": "Benchmark project" })),
        )
        .await;
        let id: ProjectId = created["id"].as_str().unwrap().parse().unwrap();
        for step in STEPS {
            let (token, body) = match step {
                "offer" => (op, json!({ "action": step, "expert_id": expert })),
                "accept" => (ex, json!({ "action": step })),
                "block" | "unblock" => (op, json!({ "action": step, "reason": "benchmark" })),
                _ => (op, json!({ "action": step })),
            };
            if step == "start_credentialing" {
                call(
                    http,
                    reqwest::Method::PUT,
                    format!("{base}/projects/{id}/baseline"),
                    op,
                    Some(serde_json::to_value(baseline()).unwrap()),
                )
                .await;
            }
            if step == "complete" {
                call(
                    http,
                    reqwest::Method::PUT,
                    format!("{base}/projects/{id}/outcome"),
                    op,
                    Some(json!({ "hours_saved": 20.0, "cost": 10000.0 })),
                )
                .await;
            }
            let t = Instant::now();
            call(
                http,
                reqwest::Method::POST,
                format!("{base}/projects/{id}/transitions"),
                token,
                Some(body),
            )
            .await;
            s.transition.push(t.elapsed());
            let t = Instant::now();
            call(
                http,
                reqwest::Method::GET,
                format!("{base}/projects/{id}"),
                op,
                None,
            )
            .await;
            s.get.push(t.elapsed());
        }
    }
}

fn main() {
    let (projects, postgres) = args(200);
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut results: BTreeMap<String, BTreeMap<&'static str, f64>> = BTreeMap::new();
    for (name, pg) in backends(&postgres) {
        // "http": the server with its two default delivery workers competing for
        // the database; "http-api": an API-only instance (outbox_workers = 0).
        for layer in ["store", "http", "http-api"] {
            eprintln!(
                "running {name}/{layer}: {projects} projects x {} transitions ...",
                STEPS.len()
            );
            let db = rt.block_on(Db::fresh(
                pg.as_deref(),
                dir.path(),
                &format!("{name}-{layer}"),
            ));
            let mut summary = if layer == "store" {
                rt.block_on(bench_store(&db.url, projects)).summary()
            } else {
                let (mut s, mut loaded, idle, peak) = rt.block_on(bench_http(
                    &db.url,
                    projects,
                    if layer == "http" { 2 } else { 0 },
                ));
                let mut m = s.summary();
                let l = loaded.summary();
                m.insert("load4_transitions_per_s", l["transitions_per_s"]);
                m.insert("load4_transition_p50_ms", l["transition_p50_ms"]);
                m.insert("load4_transition_p95_ms", l["transition_p95_ms"]);
                m.insert("rss_idle_mib", idle as f64 / 1024.0);
                m.insert("rss_load_mib", peak as f64 / 1024.0);
                m
            };
            rt.block_on(db.drop_schema());
            summary.insert("projects", projects as f64);
            results.insert(format!("{name}/{layer}"), summary);
        }
    }
    report("lifecycle", &results);
}

//! Orchestration benchmark, on SQLite and (when a URL is given) PostgreSQL:
//! complete lifecycles per second (intake to archived, every side effect
//! delivered by the built-in connectors while the lifecycle runs), and outbox
//! deliveries per second with 1, 2 and 4 workers draining a filled outbox.
//!
//!     cargo bench --bench orchestration -- [--projects N] [--postgres URL]
//!
//! Results are kept in `target/bench/orchestration.json`; the next run prints
//! its ratios against them.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use common::*;
use ssot::connectors::Connectors;
use ssot::jobs::delivery::{Delivery, DeliveryConfig};
use ssot::store::{OutboxStatus, PoolConfig, Store};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Starts `n` delivery workers on `store`; cancel the token to stop them.
fn start_workers(store: &Store, n: usize) -> (CancellationToken, JoinSet<()>) {
    let cancel = CancellationToken::new();
    let mut set = JoinSet::new();
    let config = DeliveryConfig {
        poll: Duration::from_millis(20),
        ..DeliveryConfig::default()
    };
    for i in 0..n {
        let worker = Delivery::new(
            store.clone(),
            Connectors::builtin(store),
            config.clone(),
            format!("bench-w{i}"),
        );
        set.spawn(worker.run(store.outbox_signal(), cancel.clone()));
    }
    (cancel, set)
}

async fn stop(cancel: CancellationToken, mut set: JoinSet<()>) {
    cancel.cancel();
    while set.join_next().await.is_some() {}
}

/// Lifecycles run one after another while two workers deliver behind them.
async fn lifecycles(url: &str, projects: usize) -> BTreeMap<&'static str, f64> {
    let store = Store::open(url, &PoolConfig::default()).await.unwrap();
    let (client, expert, expert_actor) = seed(&store).await;
    let (cancel, set) = start_workers(&store, 2);
    // The seed's own effects (the people's CRM records) are not timed.
    let seeded = drained(&store).await;
    let start = Instant::now();
    for _ in 0..projects {
        lifecycle(&store, client, expert, &expert_actor).await;
    }
    let entries = drained(&store).await - seeded;
    let wall = start.elapsed().as_secs_f64();
    stop(cancel, set).await;
    store.close().await;
    BTreeMap::from([
        ("lifecycles_per_s", projects as f64 / wall),
        ("effects_per_lifecycle", entries as f64 / projects as f64),
    ])
}

/// A filled outbox, then `workers` workers timed draining it.
async fn deliveries(url: &str, projects: usize, workers: usize) -> f64 {
    let store = Store::open(url, &PoolConfig::default()).await.unwrap();
    let (client, expert, expert_actor) = seed(&store).await;
    for _ in 0..projects {
        lifecycle(&store, client, expert, &expert_actor).await;
    }
    let pending = store
        .list_outbox(Some(OutboxStatus::Pending), None, 1_000_000)
        .await
        .unwrap()
        .len();
    let start = Instant::now();
    let (cancel, set) = start_workers(&store, workers);
    drained(&store).await;
    let wall = start.elapsed().as_secs_f64();
    stop(cancel, set).await;
    store.close().await;
    pending as f64 / wall
}

fn main() {
    let (projects, postgres) = args(100);
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut results: BTreeMap<String, BTreeMap<&'static str, f64>> = BTreeMap::new();
    for (name, pg) in backends(&postgres) {
        eprintln!("running {name}: {projects} complete lifecycles with 2 workers delivering ...");
        let db = rt.block_on(Db::fresh(
            pg.as_deref(),
            dir.path(),
            &format!("{name}-lifecycles"),
        ));
        let mut summary = rt.block_on(lifecycles(&db.url, projects));
        rt.block_on(db.drop_schema());
        for (workers, metric) in [
            (1, "deliveries_per_s_1w"),
            (2, "deliveries_per_s_2w"),
            (4, "deliveries_per_s_4w"),
        ] {
            eprintln!(
                "running {name}: draining the outbox of {projects} lifecycles with {workers} worker(s) ..."
            );
            let db = rt.block_on(Db::fresh(
                pg.as_deref(),
                dir.path(),
                &format!("{name}-{workers}w"),
            ));
            summary.insert(metric, rt.block_on(deliveries(&db.url, projects, workers)));
            rt.block_on(db.drop_schema());
        }
        summary.insert("projects", projects as f64);
        results.insert(name.to_owned(), summary);
    }
    report("orchestration", &results);
}

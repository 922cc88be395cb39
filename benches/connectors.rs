//! Connector benchmark: complete lifecycles (intake to archived) with every
//! side effect delivered by the built-in connectors, then by the real Jira,
//! HubSpot and Trello clients against the local fakes of their APIs, once at
//! each vendor's documented rate limit (the defaults) and once unthrottled
//! (what the hub itself costs per HTTP call). Also counts the requests each
//! vendor receives per lifecycle, the figure that, with the limits, bounds
//! how many projects an agency can move per hour.
//!
//!     cargo bench --bench connectors -- [--projects N] [--postgres URL]
//!
//! Results are kept in `target/bench/connectors.json`; the next run prints
//! its ratios against them.

mod common;
#[allow(unused_imports)] // the fakes' self-tests, compiled out here
#[path = "../tests/api/vendors/mod.rs"]
mod vendors;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::*;
use ssot::connectors::Connectors;
use ssot::connectors::settings::{
    ConnectorSettings, HubSpotSettings, JiraSettings, TrelloSettings,
};
use ssot::jobs::delivery::{Delivery, DeliveryConfig};
use ssot::store::{PoolConfig, Store};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vendors::hubspot::HubSpotFake;
use vendors::jira::JiraFake;
use vendors::trello::TrelloFake;

const JIRA_EMAIL: &str = "ops@agency.example";
const JIRA_TOKEN: &str = "jira-api-token";
const LEAD: &str = "5b10a2844c20165700ede21g";
const HUBSPOT_TOKEN: &str = "pat-eu1-bench";
const HUBSPOT_SECRET: &str = "hubspot-app-secret";
const TRELLO_KEY: &str = "trello-key";
const TRELLO_TOKEN: &str = "trello-token";
const TRELLO_SECRET: &str = "trello-secret";

/// The three fakes, started fresh for one run.
struct Fakes {
    jira: JiraFake,
    hubspot: HubSpotFake,
    trello: TrelloFake,
    board: String,
}

impl Fakes {
    async fn start() -> Self {
        let jira = JiraFake::start(JIRA_EMAIL, JIRA_TOKEN).await;
        jira.add_user(LEAD, "Olga Operator", JIRA_EMAIL);
        let hubspot = HubSpotFake::start(HUBSPOT_TOKEN, HUBSPOT_SECRET).await;
        let trello = TrelloFake::start(TRELLO_KEY, TRELLO_TOKEN, TRELLO_SECRET).await;
        let board = trello.add_board("Client projects");
        Self {
            jira,
            hubspot,
            trello,
            board,
        }
    }

    /// The connector settings pointing at the fakes; `rate` overrides the
    /// vendors' default limits.
    fn settings(&self, secrets: &Path, rate: Option<u32>) -> ConnectorSettings {
        let secret = |name: &str, value: &str| {
            let path = secrets.join(name);
            std::fs::write(&path, value).unwrap();
            path
        };
        let mut jira = JiraSettings {
            api_token_file: Some(secret("jira", JIRA_TOKEN)),
            ..JiraSettings::new(&self.jira.base_url, JIRA_EMAIL, LEAD)
        };
        let mut hubspot = HubSpotSettings {
            access_token_file: Some(secret("hubspot", HUBSPOT_TOKEN)),
            ..HubSpotSettings::new(&self.hubspot.base_url)
        };
        let mut trello = TrelloSettings {
            token_file: Some(secret("trello", TRELLO_TOKEN)),
            ..TrelloSettings::new(&self.trello.base_url, TRELLO_KEY, &self.board)
        };
        if let Some(rate) = rate {
            jira.requests_per_second = rate;
            hubspot.requests_per_second = rate;
            trello.requests_per_second = rate;
        }
        ConnectorSettings {
            jira: Some(jira),
            hubspot: Some(hubspot),
            trello: Some(trello),
            ..Default::default()
        }
    }

    fn requests(&self) -> [(&'static str, usize); 3] {
        [
            ("jira", self.jira.requests().len()),
            ("hubspot", self.hubspot.requests().len()),
            ("trello", self.trello.requests().len()),
        ]
    }
}

/// How the side effects are delivered in one run.
#[derive(Clone, Copy)]
enum Mode {
    Builtin,
    /// The fakes, at the vendors' default limits or at this many requests/s.
    Fakes(Option<u32>),
}

impl Mode {
    fn name(self) -> String {
        match self {
            Self::Builtin => "builtin".into(),
            Self::Fakes(None) => "fakes, vendor limits".into(),
            Self::Fakes(Some(rate)) => format!("fakes, {rate}/s"),
        }
    }
}

/// `projects` lifecycles run one after another while two workers deliver
/// behind them; timed until the outbox is empty.
async fn run(url: &str, projects: usize, mode: Mode) -> BTreeMap<&'static str, f64> {
    let store = Store::open(url, &PoolConfig::default()).await.unwrap();
    let secrets = tempfile::tempdir().unwrap();
    let fakes = match mode {
        Mode::Builtin => None,
        Mode::Fakes(_) => Some(Fakes::start().await),
    };
    let connectors = match (&fakes, mode) {
        (Some(fakes), Mode::Fakes(rate)) => Connectors::from_settings(
            &store,
            &fakes.settings(secrets.path(), rate),
            Duration::from_secs(10),
        )
        .unwrap(),
        _ => Connectors::builtin(&store),
    };
    let (client, expert, expert_actor) = seed(&store).await;
    if let Some(fakes) = &fakes {
        let email = store.contact(expert).await.unwrap().email;
        fakes
            .jira
            .add_user("acc-bench-expert", "Bench Expert", email.as_str());
    }
    let cancel = CancellationToken::new();
    let mut workers = JoinSet::new();
    let config = DeliveryConfig {
        poll: Duration::from_millis(20),
        ..DeliveryConfig::default()
    };
    for i in 0..2 {
        let worker = Delivery::new(
            store.clone(),
            connectors.clone(),
            config.clone(),
            format!("bench-w{i}"),
        );
        workers.spawn(worker.run(store.outbox_signal(), cancel.clone()));
    }
    // The seed's own effects (the people's CRM records) are not counted.
    let seeded = drained(&store).await;
    let before = fakes.as_ref().map(Fakes::requests);
    let start = Instant::now();
    for done in 1..=projects {
        lifecycle(&store, client, expert, &expert_actor).await;
        if done % 5 == 0 {
            eprintln!("  {done}/{projects} lifecycles taken, delivering ...");
        }
    }
    let entries = drained(&store).await - seeded;
    let wall = start.elapsed().as_secs_f64();
    cancel.cancel();
    while workers.join_next().await.is_some() {}
    store.close().await;
    let mut out = BTreeMap::from([
        ("lifecycles_per_s", projects as f64 / wall),
        ("s_per_lifecycle", wall / projects as f64),
        ("effects_per_lifecycle", entries as f64 / projects as f64),
    ]);
    if let (Some(fakes), Some(before)) = (&fakes, before) {
        let mut total = 0;
        for ((vendor, after), (_, then)) in fakes.requests().into_iter().zip(before) {
            let calls = after - then;
            total += calls;
            let metric = match vendor {
                "jira" => "requests_per_lifecycle_jira",
                "hubspot" => "requests_per_lifecycle_hubspot",
                _ => "requests_per_lifecycle_trello",
            };
            out.insert(metric, calls as f64 / projects as f64);
        }
        out.insert("requests_per_s", total as f64 / wall);
    }
    out
}

fn main() {
    let (projects, postgres) = args(10);
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap();
    let mut results: BTreeMap<String, BTreeMap<&'static str, f64>> = BTreeMap::new();
    for (name, pg) in backends(&postgres) {
        for mode in [Mode::Builtin, Mode::Fakes(Some(1000)), Mode::Fakes(None)] {
            let run_name = format!("{name}, {}", mode.name());
            eprintln!(
                "running {run_name}: {projects} complete lifecycles with 2 workers delivering ..."
            );
            let db = rt.block_on(Db::fresh(
                pg.as_deref(),
                dir.path(),
                &run_name.replace([',', ' ', '/'], "-"),
            ));
            let mut summary = rt.block_on(run(&db.url, projects, mode));
            rt.block_on(db.drop_schema());
            summary.insert("projects", projects as f64);
            results.insert(run_name, summary);
        }
    }
    report("connectors", &results);
}

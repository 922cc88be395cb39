//! The test harness: a fresh database per test (a temporary SQLite file, or a
//! private schema in the PostgreSQL named by `SSOT_TEST_POSTGRES_URL`), the app
//! served on port 0, and typed request helpers.

use std::io::Write;
use std::sync::Once;

use reqwest::StatusCode;
use serde_json::{Value, json};
use ssot::App;
use ssot::config::Settings;
use ssot::connectors::Connectors;
use ssot::domain::actor::{Actor, Person, Role};
use ssot::jobs::delivery::Delivery;
use ssot::store::Store;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub const POSTGRES_ENV: &str = "SSOT_TEST_POSTGRES_URL";

/// Runs the test body once on SQLite and once on PostgreSQL (when configured),
/// as `<name>::sqlite` and `<name>::postgres`.
macro_rules! on_both_backends {
    ($(#[$meta:meta])* async fn $name:ident($db:ident) $body:block) => {
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn run($db: $crate::helpers::TestDb) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run($crate::helpers::TestDb::sqlite().await).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = $crate::helpers::TestDb::postgres().await {
                    run(db).await
                }
            }
        }
    };
}
pub(crate) use on_both_backends;

/// A database private to one test, removed when dropped.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_schema: Option<(String, String)>,
}

static SKIP_NOTICE: Once = Once::new();

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}/ssot-test.db?mode=rwc", dir.path().display());
        Self {
            url,
            _dir: Some(dir),
            pg_schema: None,
        }
    }

    /// A fresh schema in the test PostgreSQL; `None` (with one notice on stderr)
    /// when `SSOT_TEST_POSTGRES_URL` is not set.
    pub async fn postgres() -> Option<Self> {
        let Ok(base) = std::env::var(POSTGRES_ENV) else {
            SKIP_NOTICE.call_once(|| {
                // Written to the raw stderr handle, which the test harness does not capture.
                let _ = writeln!(
                    std::io::stderr(),
                    "note: PostgreSQL tests skipped: {POSTGRES_ENV} is not set"
                );
            });
            return None;
        };
        let schema = format!("ssot_t_{}", uuid::Uuid::now_v7().simple());
        run_admin_sql(&base, &format!("CREATE SCHEMA {schema}")).await;
        let separator = if base.contains('?') { '&' } else { '?' };
        let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
        Some(Self {
            url,
            _dir: None,
            pg_schema: Some((base, schema)),
        })
    }
}

async fn run_admin_sql(base: &str, sql: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(base)
        .await
        .expect("the test PostgreSQL is reachable");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .expect("admin SQL runs");
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((base, schema)) = self.pg_schema.take() {
            // Drop runs outside any runtime guarantee; use a private one on a thread.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(run_admin_sql(
                    &base,
                    &format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
                ));
            })
            .join();
        }
    }
}

pub fn admin_actor() -> Actor {
    Actor::Person(Person {
        role: Role::Admin,
        contact: None,
        label: "test admin".into(),
    })
}

/// A running hub and a client for it.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Store,
    pub admin: String,
    pub operator: String,
    /// A delivery worker with the app's connectors and settings.
    pub worker: Delivery,
    /// The app as served, to make more workers.
    pub app: App,
    stop: Option<oneshot::Sender<()>>,
    /// Kept so the database and the stored files outlive the server.
    _db: TestDb,
    _files: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

pub async fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, |_| {}).await
}

/// The app with no background delivery workers, so tests see the outbox as
/// the lifecycle left it and deliver with [`TestApp::drain`] when they choose.
/// Its connectors are what the settings configure (built-in by default).
pub async fn spawn_app_with(db: TestDb, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_at(db, |s, _| tweak(s), |_| None).await
}

/// The app with its settings tweaked and its connectors chosen by `connectors`.
pub async fn spawn_app_full(
    db: TestDb,
    tweak: impl FnOnce(&mut Settings),
    connectors: impl FnOnce(&Store) -> Connectors,
) -> TestApp {
    spawn_app_at(db, |s, _| tweak(s), |store| Some(connectors(store))).await
}

/// The most general form: `tweak` also learns the URL the hub will answer at
/// (up to `/api/v1`), for settings that name it (webhook URLs); `connectors`
/// may replace the configured connectors.
pub async fn spawn_app_at(
    db: TestDb,
    tweak: impl FnOnce(&mut Settings, &str),
    connectors: impl FnOnce(&Store) -> Option<Connectors>,
) -> TestApp {
    // Server logs appear with a failing test's output (RUST_LOG to change the level).
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
    let files = tempfile::tempdir().expect("a temporary directory");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api/v1", listener.local_addr().unwrap());
    let mut settings = Settings {
        database_url: db.url.clone(),
        db_max_connections: 5,
        outbox_workers: 0,
        verification_workers: 0,
        documents_dir: files.path().join("documents"),
        ..Settings::default()
    };
    tweak(&mut settings, &base);
    let app = App::open(settings)
        .await
        .expect("the app opens its database");
    let app = match connectors(&app.store) {
        Some(chosen) => app.with_connectors(chosen),
        None => app,
    };
    let worker = app.delivery("test-worker");
    let handle = app.clone();
    let store = app.store.clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.serve(listener, async move {
        let _ = stopped.await;
    }));
    let admin = store
        .create_token(Role::Admin, None, Some("test admin"), None, &admin_actor())
        .await
        .unwrap()
        .secret;
    let operator = store
        .create_token(Role::Operator, None, Some("olga"), None, &admin_actor())
        .await
        .unwrap()
        .secret;
    ssot::init_tls();
    TestApp {
        base,
        http: reqwest::Client::new(),
        store,
        admin,
        operator,
        worker,
        app: handle,
        stop: Some(stop),
        _db: db,
        _files: files,
    }
}

/// Reads an answer's status and body.
pub async fn reply(res: reqwest::Response) -> Reply {
    let status = res.status();
    let text = res.text().await.unwrap();
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Reply { status, body }
}

/// An answer: status and JSON body (`Value::Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// Panics with the body when the status is not `expected`.
    #[track_caller]
    pub fn expect(self, expected: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl TestApp {
    pub async fn request(
        &self,
        method: reqwest::Method,
        token: Option<&str>,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        reply(req.send().await.expect("the server answers")).await
    }

    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.request(reqwest::Method::GET, Some(token), path, None)
            .await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(reqwest::Method::POST, Some(token), path, Some(body))
            .await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(reqwest::Method::PUT, Some(token), path, Some(body))
            .await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Reply {
        self.request(reqwest::Method::PATCH, Some(token), path, Some(body))
            .await
    }

    /// Sends a raw body with the given content type.
    pub async fn post_raw(
        &self,
        token: &str,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> Reply {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the server answers");
        reply(res).await
    }

    /// Uploads a file as multipart `type` + `file`.
    pub async fn upload(
        &self,
        token: &str,
        path: &str,
        doc_type: &str,
        filename: &str,
        bytes: Vec<u8>,
    ) -> Reply {
        let form = reqwest::multipart::Form::new()
            .text("type", doc_type.to_owned())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()),
            );
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("the server answers");
        reply(res).await
    }

    /// Verifies every queued document; returns how many.
    pub async fn verify_all(&self) -> usize {
        self.app
            .verifier("test-verifier")
            .drain()
            .await
            .expect("verification drains")
    }

    /// A person's decision on a required document, the way it is made since
    /// the agent took over: an upload it cannot read (a scan) waits in the
    /// review queue, and the operator decides it there. An approval records
    /// the validity the reviewer read.
    pub async fn decide_by_review(&self, pid: &str, doc: &str, decision: &str) -> Value {
        let scan = [
            b"\x89PNG\r\n\x1a\n".to_vec(),
            uuid::Uuid::now_v7().as_bytes().to_vec(),
        ]
        .concat();
        let up = self
            .upload(
                &self.operator,
                &format!("/projects/{pid}/documents"),
                doc,
                "scan.png",
                scan,
            )
            .await
            .expect(201);
        assert_eq!(self.verify_all().await, 1);
        let doc_id = up["document"]["id"].as_str().unwrap().to_owned();
        let mut body = json!({ "decision": decision, "comment": "checked" });
        if decision == "approve" {
            body["expires_on"] = json!("2099-12-31");
        }
        self.post(&self.operator, &format!("/reviews/{doc_id}/decision"), body)
            .await
            .expect(200)
    }

    /// The database URL, for tests that reach past the hub (tampering).
    pub fn db_url(&self) -> &str {
        &self._db.url
    }

    /// Runs raw SQL on the hub's database, as someone with database access would.
    pub async fn raw_sql(&self, sql: &str) {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(self.db_url()).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut conn)
            .await
            .unwrap();
    }

    /// Leftover temporary upload files (there should be none).
    pub fn upload_leftovers(&self) -> usize {
        std::fs::read_dir(self._files.path().join("documents/tmp")).map_or(0, |d| d.count())
    }

    /// A project of `client`'s accepted by a new vetted expert, baseline
    /// recorded: `(project id, expert, expert token)`.
    pub async fn accepted_project(
        &self,
        client: &Value,
        documents: &[&str],
    ) -> (String, Value, String) {
        let jan = self.vetted_expert("Jan", 2).await;
        let jan_t = self.token_for("expert", &jan).await;
        let pid = id(&self.project(client, documents).await);
        self.act(&self.operator, &pid, "start_matching", json!({}))
            .await
            .expect(200);
        self.act(
            &self.operator,
            &pid,
            "offer",
            json!({ "expert_id": jan["id"] }),
        )
        .await
        .expect(200);
        self.act(&jan_t, &pid, "accept", json!({}))
            .await
            .expect(200);
        self.baseline(&pid).await;
        (pid, jan, jan_t)
    }

    /// Delivers every due outbox entry; returns how many were attempted.
    pub async fn drain(&self) -> usize {
        self.worker.drain().await.expect("the outbox drains")
    }

    // ----- fixtures -----

    pub async fn client_contact(&self, name: &str) -> Value {
        let email = format!(
            "{}-{}@example.pl",
            name.to_lowercase().replace(' ', "."),
            uuid::Uuid::now_v7().simple()
        );
        let body = json!({ "full_name": name, "email": email, "legal_name": format!("{name} Sp. z o.o."), "tax_id": "526-000-12-46" });
        self.post(&self.operator, "/contacts", body)
            .await
            .expect(201)
    }

    /// Registers an expert and takes them through vetting to `vetted`.
    pub async fn vetted_expert(&self, name: &str, capacity: u32) -> Value {
        let email = format!(
            "{}-{}@experts.example",
            name.to_lowercase().replace(' ', "."),
            uuid::Uuid::now_v7().simple()
        );
        let body = json!({ "full_name": name, "email": email, "skills": ["rust", "automation"], "industries": ["retail"],
                           "languages": ["pl", "en"], "hourly_rate": 150.0, "capacity": capacity, "rating": 4.5 });
        let expert = self
            .post(&self.operator, "/experts", body)
            .await
            .expect(201);
        let id = expert["id"].as_str().unwrap();
        for action in ["start_vetting", "approve"] {
            self.post(
                &self.operator,
                &format!("/experts/{id}/vetting"),
                json!({ "action": action }),
            )
            .await
            .expect(200);
        }
        self.get(&self.operator, &format!("/experts/{id}"))
            .await
            .expect(200)
    }

    pub async fn token_for(&self, role: &str, contact: &Value) -> String {
        let body = json!({ "role": role, "contact_id": contact["id"] });
        let reply = self.post(&self.admin, "/tokens", body).await.expect(201);
        reply["secret"].as_str().unwrap().to_owned()
    }

    pub async fn project(&self, client: &Value, documents: &[&str]) -> Value {
        let body = json!({ "client_id": client["id"], "title": "Invoice automation",
                           "spec": "Automate monthly invoicing from the shop to the accounting system.",
                           "skills": ["automation"], "industry": "retail", "required_documents": documents,
                           "intake": { "how_did_you_hear": "referral", "hours_per_month": 40 } });
        self.post(&self.operator, "/projects", body)
            .await
            .expect(201)
    }

    pub async fn act(&self, token: &str, project: &str, action: &str, extra: Value) -> Reply {
        let mut body = json!({ "action": action });
        if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
            b.extend(e);
        }
        self.post(token, &format!("/projects/{project}/transitions"), body)
            .await
    }

    pub async fn baseline(&self, project: &str) -> Value {
        let body = json!({ "hours_before": 40.0, "hours_after": 10.0, "hourly_value": 120.0, "horizon_months": 12, "price": 15000.0 });
        self.put(
            &self.operator,
            &format!("/projects/{project}/baseline"),
            body,
        )
        .await
        .expect(200)
    }

    pub async fn outcome(&self, project: &str) -> Value {
        let body = json!({ "hours_saved": 28.0, "cost": 15000.0 });
        self.put(
            &self.operator,
            &format!("/projects/{project}/outcome"),
            body,
        )
        .await
        .expect(200)
    }
}

pub fn id(v: &Value) -> String {
    v["id"].as_str().expect("an id").to_owned()
}

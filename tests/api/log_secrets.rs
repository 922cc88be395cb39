//! No secret in the logs: `ssot serve` at `trace`, with every connector, the
//! intake, the model and (on PostgreSQL) a database password configured, runs
//! one project through its whole lifecycle; then no configured secret may
//! appear anywhere in what it logged. The run must have reached every tool,
//! or the test proves nothing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};

use crate::fake_llm::{FakeLlm, Reply};
use crate::helpers::on_both_backends;
use crate::vendors::hubspot::{self, HubSpotFake};
use crate::vendors::jira::JiraFake;
use crate::vendors::trello::{self, TrelloFake, TrelloSigning};

const JIRA_EMAIL: &str = "ops@agency.example";
const LEAD: &str = "5b10a2844c20165700ede21g";
const TRELLO_KEY: &str = "trello-app-key";
const LEGAL: &str = "Kowalska Meble Sp. z o.o.";

/// Every secret the run is given, each unique to it.
struct Secrets {
    jira: String,
    hubspot_token: String,
    hubspot_secret: String,
    trello_token: String,
    trello_secret: String,
    forms: String,
    llm: String,
    db_password: String,
}

impl Secrets {
    fn new() -> Self {
        let s = |what: &str| format!("{what}-{}", uuid::Uuid::now_v7().simple());
        Self {
            jira: s("jira-token"),
            hubspot_token: s("hubspot-token"),
            hubspot_secret: s("hubspot-secret"),
            trello_token: s("trello-token"),
            trello_secret: s("trello-secret"),
            forms: s("forms-secret"),
            llm: s("sk-llm"),
            db_password: s("pg-password"),
        }
    }
}

/// The tools the hub talks to, all local fakes.
struct Tools {
    jira: JiraFake,
    hubspot: HubSpotFake,
    trello: TrelloFake,
    board: String,
    llm: FakeLlm,
}

async fn tools(secrets: &Secrets) -> Tools {
    let jira = JiraFake::start(JIRA_EMAIL, &secrets.jira).await;
    jira.add_user(LEAD, "Olga Operator", JIRA_EMAIL);
    jira.add_user("acc-jan", "Jan Nowak", "jan@nowak.dev");
    let trello = TrelloFake::start(TRELLO_KEY, &secrets.trello_token, &secrets.trello_secret).await;
    let board = trello.add_board("Client projects");
    let llm = FakeLlm::start().await;
    llm.always(Reply::GroundedMet);
    Tools {
        jira,
        hubspot: HubSpotFake::start(&secrets.hubspot_token, &secrets.hubspot_secret).await,
        trello,
        board,
        llm,
    }
}

/// The database URL with a password in it where the database takes one
/// (the test PostgreSQL trusts local connections, so any password works).
fn with_password(url: &str, password: &str) -> String {
    match url.split_once("://") {
        Some((scheme @ "postgres", rest)) => match rest.split_once('@') {
            Some((user, host)) if !user.contains(':') => {
                format!("{scheme}://{user}:{password}@{host}")
            }
            _ => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

fn config(dir: &Path, port: u16, database_url: &str, t: &Tools) -> PathBuf {
    let hub = format!("http://127.0.0.1:{port}/api/v1");
    std::fs::write(
        dir.join("forms-mapping.toml"),
        "[fields]\n\"Imię i nazwisko\" = \"full_name\"\n\"E-mail\" = \"email\"\n",
    )
    .unwrap();
    let text = format!(
        r#"bind = "127.0.0.1:{port}"
database_url = "{database_url}"
documents_dir = "{dir}/documents"
protocols_dir = "{protocols}"
llm_base_url = "{llm}"
llm_model = "fake-model"
outbox_poll_ms = 50
outbox_backoff_base_ms = 10
outbox_backoff_max_secs = 1
connector_timeout_secs = 5

[connectors.jira]
base_url = "{jira}"
email = "{JIRA_EMAIL}"
api_token_file = "{dir}/jira-token"
lead_account_id = "{LEAD}"
requests_per_second = 100

[connectors.hubspot]
base_url = "{hubspot}"
webhook_url = "{hub}/webhooks/hubspot"
requests_per_second = 100

[connectors.trello]
base_url = "{trello}"
api_key = "{TRELLO_KEY}"
board_id = "{board}"
webhook_url = "{hub}/webhooks/trello"
requests_per_second = 100

[connectors.google_forms]
mapping_file = "{dir}/forms-mapping.toml"
"#,
        dir = dir.display(),
        protocols = concat!(env!("CARGO_MANIFEST_DIR"), "/protocols"),
        llm = t.llm.base_url,
        jira = t.jira.base_url,
        hubspot = t.hubspot.base_url,
        trello = t.trello.base_url,
        board = t.board,
    );
    let path = dir.join("ssot.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// `ssot` with the run's configuration and secrets, logging everything.
fn ssot(dir: &Path, secrets: &Secrets) -> Command {
    std::fs::write(dir.join("jira-token"), format!("{}\n", secrets.jira)).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ssot"));
    cmd.current_dir(dir)
        .args(["--config", "ssot.toml"])
        .env_remove("RUST_LOG")
        .env_remove("DATABASE_URL")
        .env_remove("SSOT_DATABASE_URL")
        .env("SSOT_LOG", "trace")
        .env("HUBSPOT_ACCESS_TOKEN", &secrets.hubspot_token)
        .env("HUBSPOT_CLIENT_SECRET", &secrets.hubspot_secret)
        .env("TRELLO_TOKEN", &secrets.trello_token)
        .env("TRELLO_APP_SECRET", &secrets.trello_secret)
        .env("SSOT_FORMS_SECRET", &secrets.forms)
        .env("OPENAI_API_KEY", &secrets.llm);
    cmd
}

/// The server, killed when the test ends however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A client of the running hub with the admin token.
struct Hub {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Hub {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("the hub answers");
        let status = res.status().as_u16();
        (status, res.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.expect(reqwest::Method::POST, path, &self.token.clone(), body)
            .await
    }

    async fn expect(&self, method: reqwest::Method, path: &str, token: &str, body: Value) -> Value {
        let (status, reply) = self.call(method, path, token, Some(body)).await;
        assert!((200..300).contains(&status), "{path}: {status} {reply}");
        reply
    }

    async fn act(&self, pid: &str, token: &str, body: Value) {
        self.expect(
            reqwest::Method::POST,
            &format!("/projects/{pid}/transitions"),
            token,
            body,
        )
        .await;
    }

    async fn state(&self, pid: &str) -> String {
        let (_, p) = self
            .call(
                reqwest::Method::GET,
                &format!("/projects/{pid}"),
                &self.token,
                None,
            )
            .await;
        p["state"].as_str().unwrap_or_default().to_owned()
    }
}

/// Polls `done` for up to 60 s.
async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..600 {
        if done().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn start(dir: &Path, secrets: &Secrets, port: u16) -> (Server, Hub) {
    let out = ssot(dir, secrets)
        .args(["token", "create", "--role", "admin", "--label", "it"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    std::fs::write(dir.join("cli.log"), &out.stderr).unwrap();
    let log = std::fs::File::create(dir.join("serve.log")).unwrap();
    let child = ssot(dir, secrets)
        .arg("serve")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    ssot::init_tls();
    let hub = Hub {
        base: format!("http://127.0.0.1:{port}/api/v1"),
        token,
        http: reqwest::Client::new(),
    };
    until("the hub to answer", async || {
        hub.http
            .get(format!("{}/health", hub.base))
            .send()
            .await
            .is_ok()
    })
    .await;
    (Server(child), hub)
}

/// Takes a project from intake to active: the certificate goes through the
/// model, access through Jira. Returns the project and the client's e-mail.
async fn to_active(hub: &Hub, dir: &Path, secrets: &Secrets) -> (String, String) {
    let anna = hub.post("/contacts", json!({ "full_name": "Anna Kowalska", "email": "anna@kowalska-meble.pl", "legal_name": LEGAL })).await;
    let jan = hub.post("/experts", json!({ "full_name": "Jan Nowak", "email": "jan@nowak.dev", "skills": ["automation"], "capacity": 2 })).await;
    let jid = jan["id"].as_str().unwrap().to_owned();
    for action in ["start_vetting", "approve"] {
        hub.post(
            &format!("/experts/{jid}/vetting"),
            json!({ "action": action }),
        )
        .await;
    }
    let jan_t = ssot(dir, secrets)
        .args(["token", "create", "--role", "expert", "--contact", &jid])
        .output()
        .unwrap();
    let jan_t = String::from_utf8(jan_t.stdout).unwrap().trim().to_owned();
    let project = hub.post("/projects", json!({ "client_id": anna["id"], "title": "Invoice automation", "spec": "Automate invoicing",
                                                "skills": ["automation"], "required_documents": ["insurance_certificate"] })).await;
    let pid = project["id"].as_str().unwrap().to_owned();
    hub.act(&pid, &hub.token, json!({ "action": "start_matching" }))
        .await;
    hub.act(
        &pid,
        &hub.token,
        json!({ "action": "offer", "expert_id": jid }),
    )
    .await;
    hub.act(&pid, &jan_t, json!({ "action": "accept" })).await;
    let baseline = json!({ "hours_before": 40.0, "hours_after": 10.0, "hourly_value": 120.0, "horizon_months": 12, "price": 15000.0 });
    hub.expect(
        reqwest::Method::PUT,
        &format!("/projects/{pid}/baseline"),
        &hub.token,
        baseline,
    )
    .await;
    hub.act(&pid, &hub.token, json!({ "action": "start_credentialing" }))
        .await;
    let cert = crate::pdfs::insurance_certificate(LEGAL, "2026-01-01", "2099-12-31");
    let form = reqwest::multipart::Form::new()
        .text("type", "insurance_certificate")
        .part(
            "file",
            reqwest::multipart::Part::bytes(cert).file_name("polisa.pdf"),
        );
    let res = hub
        .http
        .post(format!("{}/projects/{pid}/documents", hub.base))
        .bearer_auth(&hub.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    until("the agent to activate the project", async || {
        hub.state(&pid).await == "active"
    })
    .await;
    (pid, anna["email"].as_str().unwrap().to_owned())
}

/// Each webhook once genuine (sent by the fakes, or signed as the form's
/// script signs) and once forged.
async fn webhooks(hub: &Hub, t: &Tools, secrets: &Secrets, client_email: &str) {
    until("the client in HubSpot", async || {
        t.hubspot.contact_by_email(client_email).is_some()
    })
    .await;
    let hs_id = t.hubspot.contact_by_email(client_email).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    t.hubspot
        .set_webhook_target(&format!("{}/webhooks/hubspot", hub.base));
    assert_eq!(
        t.hubspot
            .user_changes_contact(&hs_id, "phone", "+48 600 700 800")
            .await,
        200
    );
    until("the card in Trello", async || !t.trello.cards().is_empty()).await;
    // The hub registers its Trello webhook a second after it starts.
    until("the Trello webhook", async || {
        !t.trello.webhooks().is_empty()
    })
    .await;
    let card = t.trello.cards()[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        t.trello
            .user_comments(&card, "Dzięki, działa.", "Olga Nowak")
            .await,
        200
    );
    let form = json!({ "response_id": "r-1", "respondent_email": "ola@firma.pl", "answers": { "Imię i nazwisko": "Ola Nowak" } }).to_string();
    let signed = ssot::connectors::signatures::sign_hub_hmac(&secrets.forms, form.as_bytes());
    let post = |path: &str, header: &'static str, signature: String, body: String| {
        hub.http
            .post(format!("{}{path}", hub.base))
            .header(header, signature)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    assert_eq!(
        post(
            "/intake/google-forms",
            "x-ssot-signature",
            signed,
            form.clone()
        )
        .await
        .unwrap()
        .status()
        .as_u16(),
        201
    );
    let forged = [
        (
            "/intake/google-forms",
            "x-ssot-signature",
            ssot::connectors::signatures::sign_hub_hmac("guess", form.as_bytes()),
        ),
        (
            "/webhooks/trello",
            "x-trello-webhook",
            trello::sign(
                "guess",
                &form,
                &format!("{}/webhooks/trello", hub.base),
                TrelloSigning::Utf8,
            ),
        ),
        (
            "/webhooks/hubspot",
            "x-hubspot-signature-v3",
            hubspot::sign_v3("guess", "POST", "x", &form, "1"),
        ),
    ];
    for (path, header, signature) in forged {
        assert_eq!(
            post(path, header, signature, form.clone())
                .await
                .unwrap()
                .status()
                .as_u16(),
            401,
            "{path}"
        );
    }
}

/// From active to archived: the Jira export lands on the Trello card and the
/// Jira project is deleted.
async fn to_archived(hub: &Hub, t: &Tools, pid: &str) {
    let outcome = json!({ "hours_saved": 28.0, "cost": 15000.0 });
    hub.expect(
        reqwest::Method::PUT,
        &format!("/projects/{pid}/outcome"),
        &hub.token,
        outcome,
    )
    .await;
    hub.act(pid, &hub.token, json!({ "action": "complete" }))
        .await;
    hub.act(pid, &hub.token, json!({ "action": "archive" }))
        .await;
    let (_, project) = hub
        .call(
            reqwest::Method::GET,
            &format!("/projects/{pid}"),
            &hub.token,
            None,
        )
        .await;
    let key = project["tracker_ref"]
        .as_str()
        .expect("the Jira key")
        .to_owned();
    until("the Jira project deleted after its export", async || {
        t.jira.project(&key).is_some_and(|p| p["deleted"] == true)
    })
    .await;
    // The board is delivered on its own, maybe after Jira.
    until("the card in Archived", async || {
        t.trello.cards()[0]["listName"] == "Archived"
    })
    .await;
}

/// Every form in which a secret could show: as given, in Jira's basic auth,
/// percent-encoded.
fn leaks(log: &str, secrets: &Secrets, operator_token: &str) -> Vec<String> {
    let basic = BASE64.encode(format!("{JIRA_EMAIL}:{}", secrets.jira));
    let plain = [
        &secrets.jira,
        &secrets.hubspot_token,
        &secrets.hubspot_secret,
        &secrets.trello_token,
        &secrets.trello_secret,
        &secrets.forms,
        &secrets.llm,
        &secrets.db_password,
        &basic,
    ];
    let mut found: Vec<String> = plain
        .iter()
        .filter(|s| log.contains(s.as_str()))
        .map(|s| s.to_string())
        .collect();
    if log.contains(operator_token) {
        found.push("the API token".into());
    }
    found
}

on_both_backends! {
    async fn no_configured_secret_appears_in_a_trace_log_of_a_whole_lifecycle(db) {
        let secrets = Secrets::new();
        let t = tools(&secrets).await;
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let database_url = with_password(&db.url, &secrets.db_password);
        config(dir.path(), port, &database_url, &t);

        let (server, hub) = start(dir.path(), &secrets, port).await;
        let (pid, client_email) = to_active(&hub, dir.path(), &secrets).await;
        webhooks(&hub, &t, &secrets, &client_email).await;
        to_archived(&hub, &t, &pid).await;
        drop(server);

        let log = std::fs::read_to_string(dir.path().join("serve.log")).unwrap()
            + &std::fs::read_to_string(dir.path().join("cli.log")).unwrap();
        // The run reached every tool and logged in detail.
        for line in ["TRACE", "DEBUG", "Jira project created", "Jira access changed", "Trello card created", "side effect delivered",
                     "HubSpot webhook handled", "Trello comment taken as a helpdesk message", "form intake", "webhook refused", "Jira project deleted"] {
            assert!(log.contains(line), "`{line}` is not in the log");
        }
        assert!(!t.llm.requests().is_empty(), "the model was asked");
        assert!(!t.hubspot.deals().is_empty());
        assert_eq!(leaks(&log, &secrets, &hub.token), Vec::<String>::new(), "secrets in {} bytes of log", log.len());
    }
}

//! Stateful local fakes of the Jira Cloud, Trello and HubSpot REST APIs,
//! faithful to `shared/api-contracts.md`, for testing the real connectors.
//! Each serves on port 0, records every request and fails on demand
//! ([`faults`]); each proves its fidelity with self-tests that call it with
//! `reqwest`. [`Sink`] stands in for a webhook receiver.

// The fakes offer more than their self-tests touch; the connector tests use the rest.
#![allow(dead_code)]

pub mod faults;
pub mod hubspot;
pub mod jira;
pub mod trello;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use time::OffsetDateTime;
use time::macros::format_description;
use tokio::net::TcpListener;

pub use faults::{Fault, Recorded};

/// Binds a loopback port, builds the app for its address (`http://127.0.0.1:PORT`)
/// and serves it in the background for the rest of the test.
pub(crate) async fn serve(app: impl FnOnce(&str) -> Router) -> String {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a local port");
    let base = format!("http://{}", listener.local_addr().expect("a bound port"));
    let router = app(&base);
    tokio::spawn(async move { axum::serve(listener, router).await });
    base
}

/// Now in UTC as `2024-05-01T12:00:00.123Z`, the form Trello and HubSpot write.
pub(crate) fn now_iso() -> String {
    let format =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default()
}

/// Now in milliseconds since the epoch.
pub(crate) fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// The client the fakes use for their own calls out (probes, webhook deliveries).
pub(crate) fn outbound() -> reqwest::Client {
    ssot::init_tls();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("the HTTP client builds")
}

/// True when the request says its body is JSON (`application/json`, any charset).
pub(crate) fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        })
}

/// The first value of query parameter `name`.
pub(crate) fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The values of a repeatable query parameter, each split at commas.
pub(crate) fn list_param(query: &[(String, String)], name: &str) -> Vec<String> {
    query
        .iter()
        .filter(|(k, _)| k == name)
        .flat_map(|(_, v)| {
            v.split(',')
                .map(|s| s.trim().to_owned())
                .collect::<Vec<_>>()
        })
        .filter(|s| !s.is_empty())
        .collect()
}

/// A webhook receiver for tests: answers `HEAD` and `POST` with the statuses
/// it is told (200 by default) and keeps every `POST`.
#[derive(Clone)]
pub struct Sink {
    /// The full callback URL, path included.
    pub url: String,
    state: Arc<Mutex<SinkState>>,
}

struct SinkState {
    head_status: u16,
    post_status: u16,
    received: Vec<Recorded>,
}

impl Sink {
    /// Serves on a fresh port; `path_and_query` (e.g. `/hooks/trello?x=1`) ends the URL.
    pub async fn start(path_and_query: &str) -> Self {
        let state = Arc::new(Mutex::new(SinkState {
            head_status: 200,
            post_status: 200,
            received: Vec::new(),
        }));
        let shared = state.clone();
        let base = serve(|_| Router::new().fallback(sink).with_state(shared)).await;
        Self {
            url: format!("{base}{path_and_query}"),
            state,
        }
    }

    pub fn answer_head(&self, status: u16) {
        self.lock().head_status = status;
    }

    pub fn answer_post(&self, status: u16) {
        self.lock().post_status = status;
    }

    pub fn received(&self) -> Vec<Recorded> {
        self.lock().received.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SinkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn sink(State(state): State<Arc<Mutex<SinkState>>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let mut state = state.lock().unwrap_or_else(|e| e.into_inner());
    let status = if parts.method == Method::HEAD {
        state.head_status
    } else {
        state.received.push(Recorded::new(&parts, &body));
        state.post_status
    };
    StatusCode::from_u16(status)
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response()
}

/// Sends a request from a test and returns the status and the body, parsed as
/// JSON when it is JSON and as a JSON string otherwise.
pub(crate) async fn send(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    let response = request.send().await.expect("the fake answers");
    let status = response.status().as_u16();
    let text = response.text().await.expect("a readable body");
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, body)
}

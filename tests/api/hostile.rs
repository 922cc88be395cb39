//! A corpus of hostile inputs against the real server, on both databases:
//! broken and disguised files, malformed multipart and JSON bodies, unicode
//! tricks, bad credentials and forged webhooks. Each gets a clear 4xx in the
//! API's error shape and changes nothing; a hostile document the hub takes in
//! for verification is never approved by the agent. The tables are the corpus
//! ([`CORPUS_SIZE`] inputs); the inputs are made in code.

mod requests;
mod uploads;
mod webhooks;

use reqwest::Method;
use reqwest::header::HeaderValue;
use serde_json::Value;

use crate::helpers::{Reply, TestApp, reply};

/// How many hostile inputs the corpus holds (checked when compiling, so the
/// corpus cannot shrink unnoticed).
pub const CORPUS_SIZE: usize = requests::CASES.len()
    + uploads::REFUSED.len()
    + uploads::MULTIPART.len()
    + uploads::ACCEPTED.len()
    + uploads::REPAIRED.len()
    + webhooks::CASES.len();
const _: () = assert!(CORPUS_SIZE > 100);

/// What a case may refer to: the hub's address, a token, the records made
/// for it, and the secrets the webhooks are signed with.
pub struct Ctx {
    pub base: String,
    pub token: String,
    pub client_id: String,
    pub project_id: String,
}

/// A request as it goes on the wire.
pub struct Raw {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(&'static str, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        Self {
            method,
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// With the context's bearer token.
    pub fn auth(self, c: &Ctx) -> Self {
        let token = format!("Bearer {}", c.token);
        self.header("authorization", token)
    }

    /// A JSON body, sent with the token.
    pub fn json(c: &Ctx, method: Method, path: &str, body: impl Into<Vec<u8>>) -> Self {
        Self::new(method, path)
            .auth(c)
            .header("content-type", "application/json")
            .body(body)
    }
}

/// One hostile input and what the hub must answer.
pub struct Case {
    pub name: &'static str,
    pub make: fn(&Ctx) -> Raw,
    pub status: u16,
    /// The error code; `None` where only the status is asserted (see the
    /// TODO(json-errors) beside each).
    pub code: Option<&'static str>,
}

pub async fn send(app: &TestApp, raw: Raw) -> Reply {
    let mut req = app
        .http
        .request(raw.method, format!("{}{}", app.base, raw.path));
    for (name, value) in raw.headers {
        req = req.header(
            name,
            HeaderValue::from_bytes(&value).expect("a header value"),
        );
    }
    reply(req.body(raw.body).send().await.expect("the server answers")).await
}

/// Sends every case and checks status and error shape; reports every case
/// answered wrongly at once.
pub async fn refused(app: &TestApp, c: &Ctx, cases: &[Case]) {
    let mut wrong = Vec::new();
    for case in cases {
        let r = send(app, (case.make)(c)).await;
        if let Err(why) = answers(&r, case) {
            wrong.push(format!("{}: {why}", case.name));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} answered wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

fn answers(r: &Reply, case: &Case) -> Result<(), String> {
    if r.status.as_u16() != case.status {
        return Err(format!(
            "{} instead of {}: {}",
            r.status, case.status, r.body
        ));
    }
    let Some(code) = case.code else {
        return Ok(());
    };
    let error = &r.body["error"];
    let shaped = error["code"] == code
        && error["message"].as_str().is_some_and(|m| !m.is_empty())
        && error.as_object().is_some_and(|e| e.contains_key("details"));
    if shaped {
        Ok(())
    } else {
        Err(format!("not a `{code}` error: {}", r.body))
    }
}

/// Everything a refused request might have touched, to compare before and after.
pub async fn snapshot(app: &TestApp, c: &Ctx) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/projects?limit=200".to_owned(),
        "/contacts?limit=200".to_owned(),
        "/audit?limit=200".to_owned(),
        "/outbox?limit=1000".to_owned(),
        "/reviews?limit=200".to_owned(),
        format!("/projects/{}/documents", c.project_id),
    ] {
        out.push(app.get(&app.operator, &path).await.expect(200));
    }
    out
}

/// The corpus sends many bad requests from one address in a moment: that is
/// what the rate limits refuse (tested in `security_http`), not what is tested here.
pub fn no_rate_limits(s: &mut ssot::config::Settings) {
    s.rate_limit_per_address = 0;
    s.rate_limit_per_token = 0;
    s.rate_limit_uploads = 0;
    s.rate_limit_sign_in_failures = 0;
}

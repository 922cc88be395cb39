//! Fault injection and request recording shared by the vendor fakes: one
//! middleware, outside each fake's own auth, that logs every request and answers
//! a queued fault in the vendor's own words before the handler can change state
//! (or, for `LostAnswer`, after it did).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

#[derive(Clone, Debug)]
pub enum Fault {
    /// 429 with `Retry-After: <secs>` and the vendor's own 429 body.
    RateLimited { retry_after_secs: u64 },
    /// 500 with a vendor-shaped error body.
    ServerError,
    /// Waits this long before answering normally (to exceed a client timeout).
    Slow(Duration),
    /// 200 with a body that is not valid JSON.
    Malformed,
    /// 401 with the vendor's auth error body.
    Unauthorized,
    /// The request is carried out, then the answer is lost: a 500 comes back
    /// instead (a gateway timing out after the work was done).
    LostAnswer,
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?` (empty when there is none).
    pub query: String,
    /// The body, lossily decoded as UTF-8.
    pub body: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
}

impl Recorded {
    pub(crate) fn new(parts: &axum::http::request::Parts, body: &[u8]) -> Self {
        Self {
            method: parts.method.to_string(),
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().unwrap_or_default().to_owned(),
            body: String::from_utf8_lossy(body).into_owned(),
            headers: parts
                .headers
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The body a fault answers with when it is not a plain status (`Malformed`).
pub(crate) const MALFORMED_BODY: &str = "{\"id\": \"10001\", \"key\": <html>upstream";

/// Uploads above this are refused before any handler runs.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// How one vendor words a fault; `Slow` never reaches it.
pub(crate) type Render = fn(&Fault) -> Response;

struct Rule {
    path_contains: Option<String>,
    fault: Fault,
    remaining: usize,
}

#[derive(Default)]
struct Inner {
    rules: Vec<Rule>,
    log: Vec<Recorded>,
}

#[derive(Clone)]
pub(crate) struct Faults {
    inner: Arc<Mutex<Inner>>,
    render: Render,
}

impl Faults {
    pub(crate) fn new(render: Render) -> Self {
        Self {
            inner: Arc::default(),
            render,
        }
    }

    /// Queues `fault` for the next `times` requests whose `METHOD path`
    /// contains `path_contains` (every request when `None`); a pattern ending
    /// in `$` must end the path, so `POST /rest/api/3/project$` is only that
    /// call. Earlier rules win.
    pub(crate) fn inject(&self, path_contains: Option<&str>, fault: Fault, times: usize) {
        self.lock().rules.push(Rule {
            path_contains: path_contains.map(str::to_owned),
            fault,
            remaining: times,
        });
    }

    pub(crate) fn requests(&self) -> Vec<Recorded> {
        self.lock().log.clone()
    }

    /// Wraps every route of `router`, and its fallback, in recording and faults.
    pub(crate) fn wrap(&self, router: Router) -> Router {
        router
            .layer(middleware::from_fn_with_state(
                self.clone(),
                record_then_fault,
            ))
            .layer(DefaultBodyLimit::disable())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panicking test thread must not hide the log from the next assertion.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self, method: &str, path: &str) -> Option<Fault> {
        let request = format!("{method} {path}");
        let matches = |pattern: &str| match pattern.strip_suffix('$') {
            Some(end) => request.ends_with(end),
            None => request.contains(pattern),
        };
        let mut inner = self.lock();
        let at = inner
            .rules
            .iter()
            .position(|r| r.remaining > 0 && r.path_contains.as_deref().is_none_or(matches))?;
        let rule = &mut inner.rules[at];
        rule.remaining -= 1;
        let fault = rule.fault.clone();
        inner.rules.retain(|r| r.remaining > 0);
        Some(fault)
    }
}

async fn record_then_fault(State(faults): State<Faults>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request entity too large").into_response();
    };
    faults.lock().log.push(Recorded::new(&parts, &bytes));
    match faults.take(parts.method.as_str(), parts.uri.path()) {
        Some(Fault::Slow(delay)) => tokio::time::sleep(delay).await,
        Some(Fault::LostAnswer) => {
            let _done = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            return (faults.render)(&Fault::ServerError);
        }
        Some(fault) => return (faults.render)(&fault),
        None => {}
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// A `Retry-After` header value for a 429 fault.
pub(crate) fn retry_after(secs: u64) -> [(&'static str, String); 1] {
    [("retry-after", secs.to_string())]
}

/// The `Malformed` answer: a 200 that claims JSON but is not.
pub(crate) fn malformed() -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        MALFORMED_BODY,
    )
        .into_response()
}

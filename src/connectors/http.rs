//! What every real connector shares: one `reqwest` client per vendor behind a
//! `governor` rate limit, a time bound per call, and the classification of
//! answers into the outbox's terms. Connectors make one attempt per delivery;
//! the outbox retries with backoff (429 after its `Retry-After`, 5xx,
//! timeouts, malformed bodies) and marks 4xx failed with the vendor's message.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::{RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use super::ConnectorError;

/// A secret read from the environment or a file: never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Turns a vendor's error body into one readable line.
pub type DescribeError = fn(&str) -> String;

/// One vendor's API: base URL, client, rate limit and call bound.
#[derive(Clone)]
pub struct Api {
    pub vendor: &'static str,
    pub base: String,
    client: reqwest::Client,
    limiter: Arc<DefaultDirectRateLimiter>,
    describe: DescribeError,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("vendor", &self.vendor)
            .field("base", &self.base)
            .finish()
    }
}

impl Api {
    /// `per_second` requests at most (bursts of the same size), each answered
    /// within `timeout` or counted as a transient failure.
    pub fn new(
        vendor: &'static str,
        base: &str,
        per_second: u32,
        timeout: Duration,
        describe: DescribeError,
    ) -> Self {
        crate::init_tls();
        let rate = NonZeroU32::new(per_second.max(1)).expect("at least one");
        let client = reqwest::Client::builder()
            .user_agent(concat!("ssot-lite/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .build()
            .expect("the HTTP client builds");
        Self {
            vendor,
            base: base.trim_end_matches('/').to_owned(),
            client,
            limiter: Arc::new(RateLimiter::direct(Quota::per_second(rate))),
            describe,
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    /// Sends after the rate limit allows; a success status comes back as is,
    /// anything else as the error the outbox acts on.
    pub async fn send(&self, request: RequestBuilder) -> Result<Response, ConnectorError> {
        let response = self.transmit(request).await?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        Err(self.failure(status, response).await)
    }

    /// Like [`Api::send`], but `404` is an answer too: the thing is not there.
    pub async fn send_allowing_404(
        &self,
        request: RequestBuilder,
    ) -> Result<Option<Response>, ConnectorError> {
        let response = self
            .send_accepting(request, &[StatusCode::NOT_FOUND])
            .await?;
        Ok((response.status() != StatusCode::NOT_FOUND).then_some(response))
    }

    /// Like [`Api::send`], with `accept` counted as answers rather than
    /// failures (a `409` for something that already exists, say).
    pub async fn send_accepting(
        &self,
        request: RequestBuilder,
        accept: &[StatusCode],
    ) -> Result<Response, ConnectorError> {
        let response = self.transmit(request).await?;
        let status = response.status();
        if status.is_success() || accept.contains(&status) {
            return Ok(response);
        }
        Err(self.failure(status, response).await)
    }

    async fn transmit(&self, request: RequestBuilder) -> Result<Response, ConnectorError> {
        self.limiter.until_ready().await;
        request.send().await.map_err(|e| {
            // The URL may carry a credential (Trello's token in a path).
            let e = e.without_url();
            let what = if e.is_timeout() {
                "did not answer in time"
            } else if e.is_connect() {
                "could not be reached"
            } else {
                "failed"
            };
            ConnectorError::Transient(format!("{} {what}: {e}", self.vendor))
        })
    }

    /// Sends and reads a JSON answer; a body that is not the expected JSON is
    /// transient (a proxy's error page, a truncated answer).
    pub async fn json<T: DeserializeOwned>(
        &self,
        request: RequestBuilder,
    ) -> Result<T, ConnectorError> {
        let response = self.send(request).await?;
        self.read_json(response).await
    }

    pub async fn read_json<T: DeserializeOwned>(
        &self,
        response: Response,
    ) -> Result<T, ConnectorError> {
        let text = response.text().await.map_err(|e| {
            ConnectorError::Transient(format!("{} answer was cut off: {e}", self.vendor))
        })?;
        serde_json::from_str(&text).map_err(|e| {
            ConnectorError::Transient(format!(
                "{} answered with an unexpected body ({e}): {}",
                self.vendor,
                clip(&text)
            ))
        })
    }

    async fn failure(&self, status: StatusCode, response: Response) -> ConnectorError {
        let retry_after = retry_after(response.headers());
        let body = response.text().await.unwrap_or_default();
        let detail = (self.describe)(&body);
        let message = format!("{} answered {}: {detail}", self.vendor, status.as_u16());
        match status {
            StatusCode::TOO_MANY_REQUESTS => ConnectorError::RateLimited {
                retry_after,
                message,
            },
            s if s.is_server_error() || s == StatusCode::REQUEST_TIMEOUT => {
                ConnectorError::Transient(message)
            }
            _ => ConnectorError::Permanent(message),
        }
    }
}

/// At most a few hundred characters of a body, for messages.
pub fn clip(text: &str) -> String {
    let t = text.trim();
    if t.chars().count() <= 300 {
        t.to_owned()
    } else {
        t.chars().take(300).collect::<String>() + "…"
    }
}

/// How long a `Retry-After` header asks to wait (integer seconds or an HTTP date).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let value = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    at.duration_since(std::time::SystemTime::now()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert(reqwest::header::RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        let later =
            httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(120));
        h.insert(reqwest::header::RETRY_AFTER, later.parse().unwrap());
        assert!(retry_after(&h).unwrap() > Duration::from_secs(100));
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("xoxb-123");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(s.expose(), "xoxb-123");
    }
}

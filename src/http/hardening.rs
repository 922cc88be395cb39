//! Layers every response goes through: security headers, the CORS policy,
//! bounded request ids, panics caught, and every error in the one JSON shape,
//! whoever produced it (a handler, axum's method router, a body limit).

use std::any::Any;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::cors::{AllowOrigin, CorsLayer};

use super::error::ApiError;

/// Headers set on every answer unless a handler chose its own (the pages set
/// their own Content-Security-Policy).
pub fn security_headers() -> [(HeaderName, HeaderValue); 5] {
    [
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
        // Answers carry personal data: no shared or browser cache keeps them.
        (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ),
    ]
}

/// The origins browsers may call the API from; none unless configured.
#[derive(Clone, Debug, Default)]
pub struct CorsPolicy {
    origins: Vec<HeaderValue>,
}

impl CorsPolicy {
    /// Each origin exactly as a browser sends it (`https://app.agency.pl`).
    pub fn new(origins: &[String]) -> Result<Self, String> {
        let origins = origins
            .iter()
            .map(|o| {
                let valid = (o.starts_with("https://") || o.starts_with("http://"))
                    && !o.ends_with('/')
                    && o.matches('/').count() == 2;
                valid
                    .then(|| HeaderValue::from_str(o).ok())
                    .flatten()
                    .ok_or_else(|| {
                        format!("cors_allowed_origins: `{o}` is not an origin such as https://app.example.pl")
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { origins })
    }

    fn allows(&self, origin: &HeaderValue) -> bool {
        self.origins.iter().any(|o| o == origin)
    }

    /// tower-http's CORS layer for the allowed origins: it answers their
    /// preflights and adds the headers to their requests.
    pub fn layer(&self) -> CorsLayer {
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(self.origins.clone()))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([
                header::AUTHORIZATION,
                header::CONTENT_TYPE,
                HeaderName::from_static("x-request-id"),
            ])
            .expose_headers([HeaderName::from_static("x-request-id"), header::RETRY_AFTER])
            .max_age(std::time::Duration::from_secs(600))
    }
}

fn is_preflight(req: &Request) -> bool {
    req.method() == Method::OPTIONS
        && req.headers().contains_key(header::ORIGIN)
        && req
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Refuses, in the API's error shape, a preflight from an origin the policy
/// does not name; allowed ones go on to the CORS layer.
pub async fn cors_guard(
    axum::extract::State(policy): axum::extract::State<CorsPolicy>,
    req: Request,
    next: Next,
) -> Response {
    if is_preflight(&req) {
        let origin = req.headers().get(header::ORIGIN).cloned();
        if !origin.as_ref().is_some_and(|o| policy.allows(o)) {
            let shown = origin
                .as_ref()
                .and_then(|o| o.to_str().ok())
                .unwrap_or("?")
                .chars()
                .take(100)
                .collect::<String>();
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "cors_not_allowed",
                format!(
                    "cross-origin requests from `{shown}` are not allowed; an admin may add the origin to `cors_allowed_origins`"
                ),
            )
            .into_response();
        }
    }
    next.run(req).await
}

/// Longest request id taken from a caller; longer or odd ones are replaced.
pub const MAX_REQUEST_ID: usize = 64;

fn acceptable_request_id(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Drops a caller's `x-request-id` that is too long or carries characters
/// logs should not, so a fresh one is made in its place.
pub async fn bound_request_id(mut req: Request, next: Next) -> Response {
    let name = HeaderName::from_static("x-request-id");
    if req
        .headers()
        .get(&name)
        .is_some_and(|v| !acceptable_request_id(v))
    {
        req.headers_mut().remove(&name);
    }
    next.run(req).await
}

/// A panic in a handler: logged, answered as an opaque 500.
pub fn panic_response(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)");
    tracing::error!(panic = message, "a request handler panicked");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "internal error; see the server log",
    )
    .into_response()
}

/// The most of a non-JSON error body kept as the message.
const MAX_MESSAGE: usize = 2048;

/// Rewrites an error answer that is not JSON (axum's 405, a body-limit 413 in
/// plain text) into the API's error shape, keeping its status and headers
/// such as `Allow` and `Retry-After`. The pages' own error pages (HTML) and
/// redirects pass as they are.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error())
        || is_json(res.headers())
        || is_html(res.headers())
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, MAX_MESSAGE)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .map(|t| t.trim().to_owned())
        .unwrap_or_default();
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("none");
            format!("`{method}` is not allowed here; allowed: {allowed}")
        }
        // A server fault's own words stay in the log, not in the answer.
        s if s.is_server_error() || text.is_empty() => s
            .canonical_reason()
            .unwrap_or("request failed")
            .to_lowercase(),
        _ => text,
    };
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    let json = ApiError::from_status(status, message).into_response();
    let (json_parts, json_body) = json.into_parts();
    parts.headers.extend(json_parts.headers);
    Response::from_parts(parts, Body::new(json_body))
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_short_and_plain() {
        let ok = |s: &str| acceptable_request_id(&HeaderValue::from_str(s).unwrap());
        assert!(ok("0193b2c4-7e1f-7a2b-9c3d-4e5f6a7b8c9d"));
        assert!(ok("trace:abc.def_1"));
        assert!(!ok(&"a".repeat(MAX_REQUEST_ID + 1)));
        assert!(!ok("has space"));
        assert!(!ok("new\tline"));
        assert!(!ok("<script>"));
    }

    #[test]
    fn origins_must_be_scheme_and_host_only() {
        assert!(CorsPolicy::new(&["https://app.agency.pl".into()]).is_ok());
        assert!(CorsPolicy::new(&["http://localhost:3000".into()]).is_ok());
        for bad in [
            "app.agency.pl",
            "https://app.agency.pl/",
            "https://a.pl/x",
            "*",
        ] {
            assert!(CorsPolicy::new(&[bad.to_owned()]).is_err(), "{bad}");
        }
    }
}

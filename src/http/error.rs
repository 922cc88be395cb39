//! The HTTP error type: every failure becomes `{"error": {"code", "message",
//! "details"}}` with a fitting status. Server-side faults are logged in full and
//! shown to the caller only as an opaque message.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::domain::document::QuotaExceeded;
use crate::domain::expert::VettingError;
use crate::domain::lifecycle::TransitionError;
use crate::domain::validation::ValidationErrors;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    details: Value,
}

/// The JSON body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `duplicate`, `invalid_transition`, `gate_failed`,
    /// `validation_failed`, `payload_too_large`, `internal`, `unavailable`.
    pub code: String,
    pub message: String,
    #[schema(value_type = Object)]
    pub details: Value,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Value::Null,
        }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} {id} not found"),
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// A server-side failure (disk, index): logged, shown as an opaque 500.
    pub fn internal_io(error: &dyn std::fmt::Display) -> Self {
        Self::internal(error)
    }

    fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; see the server log",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// An error known only by its status (from a layer below the handlers).
    pub fn from_status(status: StatusCode, message: impl Into<String>) -> Self {
        Self::new(status, code_for(status), message)
    }

    /// 429 with how long to wait, in seconds (also sent as `Retry-After`).
    pub fn rate_limited(retry_after_secs: u64, limit: &'static str) -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests; retry in {retry_after_secs} s"),
        )
        .with_details(json!({ "retry_after_secs": retry_after_secs, "limit": limit }))
    }
}

/// The stable code of an error that carries only its status.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::BAD_REQUEST => "bad_request",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "request_timeout",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "validation_failed",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => "headers_too_large",
        StatusCode::SERVICE_UNAVAILABLE => "unavailable",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

/// Whether a body error was the body timing out (a client that stopped sending).
pub fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(e) = next {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        next = e.source();
    }
    false
}

/// 408: the client stopped sending its body.
pub fn body_timeout() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "the request body stopped arriving; send it again",
    )
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry_after = (self.status == StatusCode::TOO_MANY_REQUESTS)
            .then(|| self.details.get("retry_after_secs").and_then(Value::as_u64))
            .flatten();
        let body = json!({ "error": { "code": self.code, "message": self.message, "details": self.details } });
        let mut res = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            e.to_string(),
        )
        .with_details(json!({ "fields": e.0 }))
    }
}

impl From<TransitionError> for ApiError {
    fn from(e: TransitionError) -> Self {
        let message = e.to_string();
        match e {
            TransitionError::Forbidden { .. } => ApiError::forbidden(message),
            TransitionError::NotAllowed {
                state,
                action,
                allowed,
            } => ApiError::new(StatusCode::CONFLICT, "invalid_transition", message).with_details(
                json!({ "state": state, "action": action, "allowed_actions": allowed }),
            ),
            TransitionError::GateFailed { gate, .. } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "gate_failed", message)
                    .with_details(json!({ "gate": gate }))
            }
        }
    }
}

impl From<VettingError> for ApiError {
    fn from(e: VettingError) -> Self {
        let message = e.to_string();
        match e {
            VettingError::Forbidden => ApiError::forbidden(message),
            VettingError::NotAllowed {
                state,
                action,
                allowed,
            } => ApiError::new(StatusCode::CONFLICT, "invalid_transition", message).with_details(
                json!({ "state": state, "action": action, "allowed_actions": allowed }),
            ),
            VettingError::ReasonRequired(_) => ValidationErrors::single("reason", message).into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound { entity, id } => ApiError::not_found(entity, id),
            StoreError::Conflict(m) => ApiError::conflict(m),
            StoreError::Duplicate(m) => ApiError::new(StatusCode::CONFLICT, "duplicate", m),
            StoreError::Refused(t) => t.into(),
            StoreError::Vetting(v) => v.into(),
            StoreError::Invalid(v) => v.into(),
            StoreError::Quota(q) => q.into(),
            StoreError::Database(sqlx::Error::PoolTimedOut) => {
                tracing::warn!("database pool exhausted");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is busy; retry shortly",
                )
            }
            other => ApiError::internal(&other),
        }
    }
}

impl From<QuotaExceeded> for ApiError {
    fn from(q: QuotaExceeded) -> Self {
        ApiError::new(StatusCode::CONFLICT, "quota_exceeded", q.message).with_details(json!({
            "files": q.used.files, "bytes": q.used.bytes,
            "max_files": q.quota.files, "max_bytes": q.quota.bytes,
        }))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ),
            JsonRejection::BytesRejection(b) if is_body_timeout(&b) => body_timeout(),
            JsonRejection::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is too large",
                )
            }
            // Syntax errors and shape errors (missing field, wrong type, unknown
            // enum value) are both malformed input: 400 with serde's explanation.
            other => ApiError::bad_request(other.body_text()),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::bad_request(format!("invalid id in the path: {}", r.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

//! The HTTP error type: every failure becomes `{"error": {"code", "message",
//! "details"}}` with a fitting status. Server-side faults are logged in full and
//! shown to the caller only as an opaque message.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({ "error": { "code": self.code, "message": self.message, "details": self.details } });
        (self.status, axum::Json(body)).into_response()
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

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with `Content-Type: application/json`",
            ),
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

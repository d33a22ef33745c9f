//! The one error type of the HTTP handlers: an [`ErrorCode`] with its status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use connectit_protocol::ErrorCode;

use crate::db::DbError;
use crate::hub::AppendError;

/// An error answered as `{"code": …, "details": …}` with the fitting status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppError(pub ErrorCode);

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self.0 {
            ErrorCode::InvalidOrExpiredPin
            | ErrorCode::InvalidOrExpiredLink
            | ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::TooManyAttempts { .. } | ErrorCode::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ErrorCode::InvalidInput { .. } | ErrorCode::MalformedMessage => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidCredentials | ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidSetupCode
            | ErrorCode::Forbidden
            | ErrorCode::CrossOrigin
            | ErrorCode::AdminOnly
            | ErrorCode::InvalidInvitation
            | ErrorCode::SingleSignOnFailed
            | ErrorCode::NoAccount
            | ErrorCode::AccountDisabled
            | ErrorCode::PasswordsOff
            | ErrorCode::TokenScope => StatusCode::FORBIDDEN,
            ErrorCode::LastAdmin => StatusCode::CONFLICT,
            ErrorCode::UnsupportedContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::LogFull { .. }
            | ErrorCode::NotesFull { .. }
            | ErrorCode::RepliesFull { .. } => StatusCode::INSUFFICIENT_STORAGE,
            ErrorCode::MessageTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::OutOfOrder
            | ErrorCode::NotAllowed { .. }
            | ErrorCode::AlreadyPickedUp
            | ErrorCode::NoQueue => StatusCode::CONFLICT,
            ErrorCode::NoSuchColleague => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::EmailUnavailable => StatusCode::NOT_IMPLEMENTED,
            ErrorCode::EmailFailed => StatusCode::BAD_GATEWAY,
            ErrorCode::QueueFull | ErrorCode::QueueClosed => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::StorageUnavailable | ErrorCode::Stopping => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<ErrorCode> for AppError {
    fn from(code: ErrorCode) -> Self {
        AppError(code)
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "storage failed");
        AppError(ErrorCode::StorageUnavailable)
    }
}

impl From<AppendError> for AppError {
    fn from(e: AppendError) -> Self {
        AppError(append_error_code(e))
    }
}

/// The code an append's failure is answered with (the storage detail goes to the log).
pub fn append_error_code(e: AppendError) -> ErrorCode {
    match e {
        AppendError::Rule(v) => v.into(),
        AppendError::Storage(e) => {
            tracing::error!(error = %e, "could not store an entry");
            ErrorCode::StorageUnavailable
        }
        AppendError::Full {
            max_entries,
            max_bytes,
        } => ErrorCode::LogFull {
            max_entries,
            max_bytes,
        },
        AppendError::Taken => ErrorCode::AlreadyPickedUp,
        AppendError::Stopped => ErrorCode::Internal,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.0)).into_response();
        if let ErrorCode::TooManyAttempts { retry_after_secs }
        | ErrorCode::RateLimited { retry_after_secs } = self.0
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        response
    }
}

/// Decodes a JSON body into `T`, or answers `malformed_message`.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    serde_json::from_slice(body).map_err(|_| AppError(ErrorCode::MalformedMessage))
}

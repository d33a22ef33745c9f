//! The one error type of the HTTP handlers: an [`ErrorCode`] with its status.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use connectit_protocol::ErrorCode;

use crate::db::DbError;

/// An error answered as `{"code": …, "details": …}` with the fitting status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppError(pub ErrorCode);

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self.0 {
            ErrorCode::InvalidOrExpiredPin | ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::TooManyAttempts { .. } | ErrorCode::RateLimited { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            ErrorCode::InvalidInput { .. } | ErrorCode::MalformedMessage => StatusCode::BAD_REQUEST,
            ErrorCode::InvalidCredentials | ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::InvalidSetupCode | ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::MessageTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::OutOfOrder | ErrorCode::NotAllowed { .. } => StatusCode::CONFLICT,
            ErrorCode::StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
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

//! The broker's HTTP API: JSON over `fetch`, on the same origin, with the sign-in
//! cookie. Every failure is an [`ApiError`]: the broker's own [`ErrorCode`] when it
//! refused, or a reason it could not be asked at all.

use connectit_protocol::api::{
    CreatedSession, PublicConfig, SessionSummary, SetupRequest, SetupStatus, SignInRequest,
    SurveyRequest, Technician, VerifyPinRequest, VerifyPinResponse,
};
use connectit_protocol::ErrorCode;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Headers, Request, RequestCache, RequestCredentials, RequestInit, Response};

/// Why an API call did not give its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiError {
    /// The broker could not be reached (network down, broker stopped).
    Unreachable,
    /// The broker refused, saying why.
    Refused { status: u16, code: ErrorCode },
    /// The broker answered something this app does not understand.
    BadAnswer { status: u16 },
}

impl ApiError {
    /// The broker's error code, if it gave one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ApiError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }
}

async fn send(method: &str, path: &str, body: Option<String>) -> Result<Response, ApiError> {
    let window = web_sys::window().ok_or(ApiError::Unreachable)?;
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    init.set_cache(RequestCache::NoStore);
    let headers = Headers::new().map_err(|_| ApiError::Unreachable)?;
    headers
        .set("Accept", "application/json")
        .map_err(|_| ApiError::Unreachable)?;
    if let Some(body) = body {
        headers
            .set("Content-Type", "application/json")
            .map_err(|_| ApiError::Unreachable)?;
        init.set_body(&JsValue::from_str(&body));
    }
    init.set_headers_headers(&headers);
    let request = Request::new_with_str_and_init(path, &init).map_err(|_| ApiError::Unreachable)?;
    let answer = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| ApiError::Unreachable)?;
    answer
        .dyn_into::<Response>()
        .map_err(|_| ApiError::Unreachable)
}

async fn body_text(response: &Response) -> Result<String, ApiError> {
    let status = response.status();
    let promise = response
        .text()
        .map_err(|_| ApiError::BadAnswer { status })?;
    JsFuture::from(promise)
        .await
        .map_err(|_| ApiError::Unreachable)?
        .as_string()
        .ok_or(ApiError::BadAnswer { status })
}

/// Turns a non-2xx answer into its error.
async fn refusal(response: &Response) -> ApiError {
    let status = response.status();
    // A proxy in front of a stopped broker answers 502–504 without our JSON.
    let text = body_text(response).await.unwrap_or_default();
    match serde_json::from_str::<ErrorCode>(&text) {
        Ok(code) => ApiError::Refused { status, code },
        Err(_) if (502..=504).contains(&status) => ApiError::Unreachable,
        Err(_) => ApiError::BadAnswer { status },
    }
}

async fn call<T: DeserializeOwned>(
    method: &str,
    path: &str,
    body: Option<String>,
) -> Result<T, ApiError> {
    let response = send(method, path, body).await?;
    if !response.ok() {
        return Err(refusal(&response).await);
    }
    let status = response.status();
    let text = body_text(&response).await?;
    serde_json::from_str(&text).map_err(|_| ApiError::BadAnswer { status })
}

async fn call_no_content(method: &str, path: &str, body: Option<String>) -> Result<(), ApiError> {
    let response = send(method, path, body).await?;
    if response.ok() {
        Ok(())
    } else {
        Err(refusal(&response).await)
    }
}

fn json<B: Serialize>(body: &B) -> Option<String> {
    // Serialising these plain structs cannot fail; an empty body would be refused.
    serde_json::to_string(body).ok()
}

pub async fn config() -> Result<PublicConfig, ApiError> {
    call("GET", "/api/config", None).await
}

pub async fn verify_pin(pin: &str) -> Result<VerifyPinResponse, ApiError> {
    let body = VerifyPinRequest {
        pin: pin.to_owned(),
    };
    call("POST", "/api/pin", json(&body)).await
}

pub async fn submit_survey(request: &SurveyRequest) -> Result<(), ApiError> {
    call_no_content("POST", "/api/survey", json(request)).await
}

pub async fn setup_status() -> Result<SetupStatus, ApiError> {
    call("GET", "/api/setup", None).await
}

pub async fn setup(request: &SetupRequest) -> Result<Technician, ApiError> {
    call("POST", "/api/setup", json(request)).await
}

pub async fn sign_in(request: &SignInRequest) -> Result<Technician, ApiError> {
    call("POST", "/api/auth/sign-in", json(request)).await
}

pub async fn sign_out() -> Result<(), ApiError> {
    call_no_content("POST", "/api/auth/sign-out", None).await
}

pub async fn me() -> Result<Technician, ApiError> {
    call("GET", "/api/auth/me", None).await
}

pub async fn create_session() -> Result<CreatedSession, ApiError> {
    call("POST", "/api/sessions", None).await
}

pub async fn sessions() -> Result<Vec<SessionSummary>, ApiError> {
    call("GET", "/api/sessions", None).await
}

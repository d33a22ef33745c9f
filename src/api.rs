//! The broker's HTTP API: JSON over `fetch`, on the same origin, with the sign-in
//! cookie. Every failure is an [`ApiError`]: the broker's own [`ErrorCode`] when it
//! refused, or a reason it could not be asked at all.

use connectit_protocol::api::{
    AcceptInvitation, Account, AccountUpdate, AuditEntry, CannedReply, CreatedSession,
    HandOverRequest, HistoryRow, Invitation, InviteRequest, JoinRequest, NewAccount, NewTeam,
    NoteRequest, PasswordChange, PublicConfig, RecordFormat, RecordRequest, ReplyRequest, Report,
    SessionDetails, SessionNote, SessionSummary, SetupRequest, SetupStatus, SignInRequest,
    SurveyRequest, TeamAdmin, TeamJoinRequest, TeamPage, TeamRef, Technician, TechnicianRef,
    VerifyPinRequest, VerifyPinResponse,
};
use connectit_protocol::{ErrorCode, SessionId};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, Headers, Request, RequestCache, RequestCredentials, RequestInit, Response};

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
    send_with_cache(method, path, body, RequestCache::NoStore).await
}

async fn send_with_cache(
    method: &str,
    path: &str,
    body: Option<String>,
    cache: RequestCache,
) -> Result<Response, ApiError> {
    let window = web_sys::window().ok_or(ApiError::Unreachable)?;
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    init.set_cache(cache);
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

/// `GET /api/config` as the customer page preloads it (index.html's `<link
/// rel="preload">`, fetched while the app itself downloads), and when its request left
/// and its answer came, in local time, from Resource Timing: the clock sample must not
/// take the moment the page picked up an answer that came long before for the moment
/// it was sent. (The answer is `no-store`: the preload is used once, never cached.)
pub async fn config_preloaded() -> Result<(PublicConfig, Option<(f64, f64)>), ApiError> {
    let response = send_with_cache("GET", "/api/config", None, RequestCache::Default).await?;
    if !response.ok() {
        return Err(refusal(&response).await);
    }
    let status = response.status();
    let text = body_text(&response).await?;
    let config = serde_json::from_str(&text).map_err(|_| ApiError::BadAnswer { status })?;
    Ok((config, request_times(&response.url())))
}

/// The local times (`Date.now()` scale) the last request for `url` left and its
/// answer began to arrive, if the browser timed it.
fn request_times(url: &str) -> Option<(f64, f64)> {
    let performance = web_sys::window()?.performance()?;
    let entries = performance.get_entries_by_name(url);
    let last = entries.get(entries.length().checked_sub(1)?);
    let timing: web_sys::PerformanceResourceTiming = last.dyn_into().ok()?;
    let (sent, received) = (timing.request_start(), timing.response_start());
    (sent > 0.0 && received >= sent).then(|| {
        let origin = performance.time_origin();
        (origin + sent, origin + received)
    })
}

/// `GET /api/catalog/{lang}`: a built-in language's catalog, key → template (the app
/// has only English compiled in).
pub async fn catalog(lang: &str) -> Result<std::collections::BTreeMap<String, String>, ApiError> {
    call("GET", &format!("/api/catalog/{lang}"), None).await
}

pub async fn verify_pin(pin: &str) -> Result<VerifyPinResponse, ApiError> {
    let body = VerifyPinRequest {
        pin: pin.to_owned(),
    };
    call("POST", "/api/pin", json(&body)).await
}

/// `POST /api/join`: the link's join token instead of a PIN.
pub async fn join_link(token: &str) -> Result<VerifyPinResponse, ApiError> {
    let body = JoinRequest {
        token: token.to_owned(),
    };
    call("POST", "/api/join", json(&body)).await
}

/// `GET /api/teams/{slug}`: what a team's link page shows.
pub async fn team_page(slug: &str) -> Result<TeamPage, ApiError> {
    call("GET", &format!("/api/teams/{slug}"), None).await
}

/// `POST /api/teams/{slug}/join`: join the team's queue.
pub async fn team_join(
    slug: &str,
    request: &TeamJoinRequest,
) -> Result<VerifyPinResponse, ApiError> {
    call("POST", &format!("/api/teams/{slug}/join"), json(request)).await
}

/// `POST /api/sessions/{id}/pick-up`: take a customer from a team's queue.
pub async fn pick_up(session: &SessionId) -> Result<(), ApiError> {
    call_no_content("POST", &format!("/api/sessions/{session}/pick-up"), None).await
}

/// `GET /api/colleagues`: whom one may hand a session to or invite.
pub async fn colleagues() -> Result<Vec<TechnicianRef>, ApiError> {
    call("GET", "/api/colleagues", None).await
}

/// `POST /api/sessions/{id}/hand-over`: to a colleague (their user name), or back to
/// the team's queue (`None`), with a private note.
pub async fn hand_over(
    session: &SessionId,
    to: Option<String>,
    note: &str,
) -> Result<(), ApiError> {
    let body = HandOverRequest {
        to,
        note: note.to_owned(),
    };
    call_no_content(
        "POST",
        &format!("/api/sessions/{session}/hand-over"),
        json(&body),
    )
    .await
}

/// `POST /api/sessions/{id}/invite`: a colleague may join.
pub async fn invite(session: &SessionId, username: &str) -> Result<(), ApiError> {
    let body = InviteRequest {
        username: username.to_owned(),
    };
    call_no_content(
        "POST",
        &format!("/api/sessions/{session}/invite"),
        json(&body),
    )
    .await
}

/// `POST /api/sessions/{id}/join`: join a session one was invited into.
pub async fn join_session(session: &SessionId) -> Result<(), ApiError> {
    call_no_content("POST", &format!("/api/sessions/{session}/join"), None).await
}

/// `POST /api/sessions/{id}/leave`: leave a session one joined.
pub async fn leave_session(session: &SessionId) -> Result<(), ApiError> {
    call_no_content("POST", &format!("/api/sessions/{session}/leave"), None).await
}

/// `PUT /api/sessions/{id}/details`: the customer's name, the problem, the ticket.
pub async fn set_details(session: &SessionId, details: &SessionDetails) -> Result<(), ApiError> {
    call_no_content(
        "PUT",
        &format!("/api/sessions/{session}/details"),
        json(details),
    )
    .await
}

/// `GET /api/sessions/{id}/notes`: the session's private notes.
pub async fn notes(session: &SessionId) -> Result<Vec<SessionNote>, ApiError> {
    call("GET", &format!("/api/sessions/{session}/notes"), None).await
}

/// `POST /api/sessions/{id}/notes`: a private note.
pub async fn add_note(session: &SessionId, text: &str) -> Result<SessionNote, ApiError> {
    let body = NoteRequest {
        text: text.to_owned(),
    };
    call(
        "POST",
        &format!("/api/sessions/{session}/notes"),
        json(&body),
    )
    .await
}

/// `POST /api/auth/accept-invitation`: the password chosen from an invitation link;
/// signs this browser in.
pub async fn accept_invitation(token: &str, password: &str) -> Result<Technician, ApiError> {
    let body = AcceptInvitation {
        token: token.to_owned(),
        password: password.to_owned(),
    };
    call("POST", "/api/auth/accept-invitation", json(&body)).await
}

/// `POST /api/auth/password`: one's own new password (other browsers signed out).
pub async fn change_password(current: &str, new: &str) -> Result<(), ApiError> {
    let body = PasswordChange {
        current: current.to_owned(),
        new: new.to_owned(),
    };
    call_no_content("POST", "/api/auth/password", json(&body)).await
}

/// `POST /api/auth/sign-out-others`.
pub async fn sign_out_others() -> Result<(), ApiError> {
    call_no_content("POST", "/api/auth/sign-out-others", None).await
}

/// `GET /api/admin/accounts`.
pub async fn accounts() -> Result<Vec<Account>, ApiError> {
    call("GET", "/api/admin/accounts", None).await
}

/// `POST /api/admin/accounts`: a new account and its invitation link.
pub async fn create_account(request: &NewAccount) -> Result<Invitation, ApiError> {
    call("POST", "/api/admin/accounts", json(request)).await
}

/// `PATCH /api/admin/accounts/{username}`.
pub async fn update_account(username: &str, update: &AccountUpdate) -> Result<Account, ApiError> {
    call(
        "PATCH",
        &format!("/api/admin/accounts/{username}"),
        json(update),
    )
    .await
}

/// `POST /api/admin/accounts/{username}/reset`: a new link; the account is signed out.
pub async fn reset_account(username: &str) -> Result<Invitation, ApiError> {
    call(
        "POST",
        &format!("/api/admin/accounts/{username}/reset"),
        None,
    )
    .await
}

/// `POST /api/admin/accounts/{username}/sign-out`.
pub async fn sign_out_account(username: &str) -> Result<(), ApiError> {
    call_no_content(
        "POST",
        &format!("/api/admin/accounts/{username}/sign-out"),
        None,
    )
    .await
}

/// `GET /api/admin/teams`.
pub async fn admin_teams() -> Result<Vec<TeamAdmin>, ApiError> {
    call("GET", "/api/admin/teams", None).await
}

/// `POST /api/admin/teams`.
pub async fn create_team(request: &NewTeam) -> Result<TeamRef, ApiError> {
    call("POST", "/api/admin/teams", json(request)).await
}

/// `PUT` or `DELETE /api/admin/teams/{slug}/members/{username}`.
pub async fn set_member(slug: &str, username: &str, member: bool) -> Result<(), ApiError> {
    let method = if member { "PUT" } else { "DELETE" };
    call_no_content(
        method,
        &format!("/api/admin/teams/{slug}/members/{username}"),
        None,
    )
    .await
}

/// `GET /api/history?…` (`query` with its `?`, or empty).
pub async fn history(query: &str) -> Result<Vec<HistoryRow>, ApiError> {
    call("GET", &format!("/api/history{query}"), None).await
}

/// `GET /api/reports?from=&to=` (`query` with its `?`, or empty).
pub async fn report(query: &str) -> Result<Report, ApiError> {
    call("GET", &format!("/api/reports{query}"), None).await
}

/// `GET /api/replies`: the canned replies of the technician's teams.
pub async fn replies() -> Result<Vec<CannedReply>, ApiError> {
    call("GET", "/api/replies", None).await
}

/// `POST /api/replies`: a canned reply for a team.
pub async fn add_reply(request: &ReplyRequest) -> Result<CannedReply, ApiError> {
    call("POST", "/api/replies", json(request)).await
}

/// `PUT /api/replies/{id}`: a canned reply's new title and text.
pub async fn update_reply(id: i64, request: &ReplyRequest) -> Result<(), ApiError> {
    call_no_content("PUT", &format!("/api/replies/{id}"), json(request)).await
}

/// `DELETE /api/replies/{id}`.
pub async fn delete_reply(id: i64) -> Result<(), ApiError> {
    call_no_content("DELETE", &format!("/api/replies/{id}"), None).await
}

/// `GET /api/audit`: the security log, newest first (before the line `before`).
pub async fn audit(before: Option<i64>) -> Result<Vec<AuditEntry>, ApiError> {
    let path = match before {
        Some(id) => format!("/api/audit?limit=100&before={id}"),
        None => "/api/audit?limit=100".to_owned(),
    };
    call("GET", &path, None).await
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

/// `POST /api/sessions`: the ready e-mail in `language`.
pub async fn create_session(language: &str) -> Result<CreatedSession, ApiError> {
    let body = connectit_protocol::api::CreateSession {
        language: Some(language.to_owned()),
        ..Default::default()
    };
    call("POST", "/api/sessions", json(&body)).await
}

/// `POST /api/sessions/{id}/email`: the broker e-mails the customer the link and PIN.
pub async fn send_email(
    session: &SessionId,
    request: &connectit_protocol::api::SendEmail,
) -> Result<(), ApiError> {
    call_no_content(
        "POST",
        &format!("/api/sessions/{session}/email"),
        json(request),
    )
    .await
}

pub async fn sessions() -> Result<Vec<SessionSummary>, ApiError> {
    call("GET", "/api/sessions", None).await
}

/// A downloaded file: its bytes and the name the broker suggests.
pub struct Download {
    pub blob: Blob,
    /// From `Content-Disposition`, when the broker gave one.
    pub file_name: Option<String>,
}

async fn download(method: &str, path: &str, body: Option<String>) -> Result<Download, ApiError> {
    let response = send(method, path, body).await?;
    if !response.ok() {
        return Err(refusal(&response).await);
    }
    let status = response.status();
    let file_name = response
        .headers()
        .get("content-disposition")
        .ok()
        .flatten()
        .and_then(|v| attachment_name(&v));
    let promise = response
        .blob()
        .map_err(|_| ApiError::BadAnswer { status })?;
    let blob = JsFuture::from(promise)
        .await
        .map_err(|_| ApiError::Unreachable)?
        .dyn_into::<Blob>()
        .map_err(|_| ApiError::BadAnswer { status })?;
    Ok(Download { blob, file_name })
}

/// The `filename="…"` of a `Content-Disposition` header.
pub fn attachment_name(header: &str) -> Option<String> {
    let start = header.find("filename=")? + "filename=".len();
    let name = header[start..].split(';').next()?.trim().trim_matches('"');
    (!name.is_empty()).then(|| name.to_owned())
}

/// `POST /api/record`: the customer's copy of the record.
pub async fn customer_record(
    token: &str,
    format: RecordFormat,
    language: &str,
) -> Result<Download, ApiError> {
    let body = RecordRequest {
        token: token.to_owned(),
        format,
        language: Some(language.to_owned()),
    };
    download("POST", "/api/record", json(&body)).await
}

/// `GET /api/sessions/{id}/record?format=…`: the technician's copy.
pub async fn technician_record(
    session: &SessionId,
    format: RecordFormat,
    language: &str,
) -> Result<Download, ApiError> {
    let format = match format {
        RecordFormat::Html => "html",
        RecordFormat::Json => "json",
    };
    let path = format!(
        "/api/sessions/{}/record?format={format}&language={}",
        url_part(&session.0),
        url_part(language)
    );
    download("GET", &path, None).await
}

/// A path segment, with everything but unreserved characters percent-encoded.
fn url_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `GET /api/admin/tokens`.
pub async fn admin_tokens() -> Result<Vec<connectit_protocol::api::ApiToken>, ApiError> {
    call("GET", "/api/admin/tokens", None).await
}

/// `POST /api/admin/tokens`: the secret, once.
pub async fn issue_token(
    request: &connectit_protocol::api::NewApiToken,
) -> Result<connectit_protocol::api::IssuedApiToken, ApiError> {
    call("POST", "/api/admin/tokens", json(request)).await
}

/// `DELETE /api/admin/tokens/{id}`.
pub async fn revoke_token(id: i64) -> Result<(), ApiError> {
    call_no_content("DELETE", &format!("/api/admin/tokens/{id}"), None).await
}

/// `GET /api/admin/webhooks`.
pub async fn webhooks() -> Result<Vec<connectit_protocol::api::Webhook>, ApiError> {
    call("GET", "/api/admin/webhooks", None).await
}

/// `POST /api/admin/webhooks`: the signing secret, once.
pub async fn add_webhook(
    request: &connectit_protocol::api::NewWebhook,
) -> Result<connectit_protocol::api::CreatedWebhook, ApiError> {
    call("POST", "/api/admin/webhooks", json(request)).await
}

/// `DELETE /api/admin/webhooks/{id}`.
pub async fn remove_webhook(id: i64) -> Result<(), ApiError> {
    call_no_content("DELETE", &format!("/api/admin/webhooks/{id}"), None).await
}

/// `GET /api/admin/webhooks/{id}/deliveries`.
pub async fn webhook_deliveries(
    id: i64,
) -> Result<Vec<connectit_protocol::api::WebhookDelivery>, ApiError> {
    call("GET", &format!("/api/admin/webhooks/{id}/deliveries"), None).await
}

//! Technician accounts and sign-in: Argon2 password hashes, a random sign-in token in
//! an HttpOnly, SameSite=Strict cookie (only its hash is stored), the one-time setup
//! code for the first account.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use connectit_protocol::api::{SetupRequest, SetupStatus, SignInRequest, Technician};
use connectit_protocol::error::Field;
use connectit_protocol::{check_text, ErrorCode};

use crate::client::ClientIp;
use crate::db::{self, TechnicianRow};
use crate::error::{parse_json, AppError};
use crate::hub::now_ms;
use crate::secrets;
use crate::AppState;

/// The sign-in cookie's name.
pub const COOKIE: &str = "connectit_auth";

/// The sign-in token in the request's cookies, if any.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_string())
}

/// The signed-in technician, if the cookie names a live sign-in.
pub async fn technician_from_headers(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<TechnicianRow>, AppError> {
    let Some(token) = cookie_token(headers) else {
        return Ok(None);
    };
    let hash = secrets::token_hash(&token);
    let now = now_ms();
    Ok(state
        .hub
        .db()
        .call(move |conn| db::technician_by_sign_in(conn, &hash, now))
        .await?)
}

/// The signed-in technician, or `unauthorized`.
pub async fn require_technician(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<TechnicianRow, AppError> {
    technician_from_headers(state, headers)
        .await?
        .ok_or(AppError(ErrorCode::Unauthorized))
}

fn public(t: &TechnicianRow) -> Technician {
    Technician {
        username: t.username.clone(),
        display_name: t.display_name.clone(),
    }
}

/// Signs `technician` in: stores a new token's hash, answers with the cookie.
async fn start_sign_in(state: &AppState, technician: &TechnicianRow) -> Result<Response, AppError> {
    let token = secrets::new_token();
    let hash = secrets::token_hash(&token);
    let validity = state.config.sign_in_validity_secs;
    let (id, expires) = (technician.id, now_ms() + validity * 1000);
    state
        .hub
        .db()
        .call(move |conn| db::insert_sign_in(conn, &hash, id, expires))
        .await?;
    let secure = if state.config.is_https() {
        "; Secure"
    } else {
        ""
    };
    let cookie =
        format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={validity}{secure}");
    let mut response = Json(public(technician)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

pub async fn setup_status(State(state): State<AppState>) -> Result<Json<SetupStatus>, AppError> {
    let count = state
        .hub
        .db()
        .call(|conn| db::technician_count(conn))
        .await?;
    Ok(Json(SetupStatus {
        needs_setup: count == 0,
    }))
}

/// Checks a new account's fields.
fn validate_account(username: &str, display_name: &str, password: &str) -> Result<(), AppError> {
    let bad = |field| AppError(ErrorCode::InvalidInput { field });
    let username_ok = (1..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b));
    if !username_ok {
        return Err(bad(Field::Username));
    }
    check_text(display_name, connectit_protocol::reducer::NAME_MAX_CHARS)
        .map_err(|_| bad(Field::DisplayName))?;
    if password.chars().count() < 8 || password.len() > 1024 {
        return Err(bad(Field::Password));
    }
    Ok(())
}

/// Creates an account (used by `POST /api/setup` and the `create-technician` command).
pub fn create_account(
    conn: &rusqlite::Connection,
    username: &str,
    display_name: &str,
    password: &str,
) -> Result<TechnicianRow, AppError> {
    validate_account(username, display_name, password)?;
    let hash = secrets::hash_password(password).map_err(|_| AppError(ErrorCode::Internal))?;
    let id = db::create_technician(conn, username, display_name.trim(), &hash, now_ms())?.ok_or(
        AppError(ErrorCode::InvalidInput {
            field: Field::Username,
        }),
    )?;
    Ok(TechnicianRow {
        id,
        username: username.into(),
        display_name: display_name.trim().into(),
        password_hash: hash,
    })
}

pub async fn setup(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> Result<Response, AppError> {
    let request: SetupRequest = parse_json(&body)?;
    state.sign_in_throttle.attempt(client).map_err(|s| {
        AppError(ErrorCode::TooManyAttempts {
            retry_after_secs: s,
        })
    })?;
    let expected = state
        .setup_code
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let given = secrets::normalise_setup_code(&request.code);
    let matches = expected
        .as_deref()
        .is_some_and(|e| secrets::constant_time_eq(e.as_bytes(), given.as_bytes()));
    if !matches {
        return Err(AppError(ErrorCode::InvalidSetupCode));
    }
    state.sign_in_throttle.succeed(client);
    let technician = state
        .hub
        .db()
        .call(move |conn| {
            if db::technician_count(conn)? > 0 {
                return Ok(Err(AppError(ErrorCode::InvalidSetupCode)));
            }
            Ok(create_account(
                conn,
                &request.username,
                &request.display_name,
                &request.password,
            ))
        })
        .await??;
    *state.setup_code.lock().unwrap_or_else(|p| p.into_inner()) = None;
    tracing::info!(username = %technician.username, "first technician account created with the setup code");
    start_sign_in(&state, &technician).await
}

pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> Result<Response, AppError> {
    let request: SignInRequest = parse_json(&body)?;
    state.sign_in_throttle.attempt(client).map_err(|s| {
        AppError(ErrorCode::TooManyAttempts {
            retry_after_secs: s,
        })
    })?;
    let username = request.username.trim().to_string();
    let found = state
        .hub
        .db()
        .call(move |conn| db::technician_by_username(conn, &username))
        .await?;
    // Verify against a real hash even for an unknown name, so timing does not tell.
    let stored = found
        .as_ref()
        .map(|t| t.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.clone());
    let password = request.password;
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&password, &stored))
        .await
        .map_err(|_| AppError(ErrorCode::Internal))?;
    match found {
        Some(technician) if ok => {
            state.sign_in_throttle.succeed(client);
            start_sign_in(&state, &technician).await
        }
        _ => Err(AppError(ErrorCode::InvalidCredentials)),
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(token) = cookie_token(&headers) {
        let hash = secrets::token_hash(&token);
        state
            .hub
            .db()
            .call(move |conn| db::delete_sign_in(conn, &hash))
            .await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    let cookie = format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(response)
}

pub async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Technician>, AppError> {
    Ok(Json(public(&require_technician(&state, &headers).await?)))
}

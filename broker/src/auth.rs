//! Technician accounts and sign-in: Argon2 password hashes, a random sign-in token in
//! an HttpOnly, SameSite=Strict cookie (only its hash is stored), a device cookie that
//! lets a browser the account used before through while strangers hammer the account,
//! the one-time setup code for the first account (kept hashed in the database, valid
//! for an hour), and the closing of a technician's sockets when their sign-in ends.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use connectit_protocol::api::{
    AuditEntry, AuditKind, SetupRequest, SetupStatus, SignInRequest, Technician,
};
use connectit_protocol::error::Field;
use connectit_protocol::wire::Join;
use connectit_protocol::{check_name, ErrorCode, Role};
use serde::Deserialize;
use tokio::sync::broadcast;

use crate::client::ClientIp;
use crate::db::{self, DbError, SignedIn, TechnicianRow};
use crate::error::{parse_json, AppError};
use crate::hub::{now_ms, LiveSession};
use crate::secrets;
use crate::throttle::{Refusal, Scope};
use crate::AppState;

/// The sign-in cookie's name.
pub const COOKIE: &str = "connectit_auth";
/// The device cookie's name: which account this browser signed in to before.
pub const DEVICE_COOKIE: &str = "connectit_device";
/// How long a device cookie is good for.
const DEVICE_VALIDITY_SECS: u64 = 365 * 24 * 3600;
/// The `meta` key of the setup code's hash and expiry.
const SETUP_META: &str = "setup_code";

/// A cookie's value in the request, if any.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, value)| value.to_string())
}

/// The live sign-in the cookie names, if any.
pub async fn signed_in(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<SignedIn>, AppError> {
    let Some(token) = cookie(headers, COOKIE) else {
        return Ok(None);
    };
    let hash = secrets::token_hash(&token);
    let now = now_ms();
    Ok(state
        .db
        .call(move |conn| db::technician_by_sign_in(conn, &hash, now))
        .await?)
}

/// The signed-in technician, or `unauthorized`.
pub async fn require_technician(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<TechnicianRow, AppError> {
    signed_in(state, headers)
        .await?
        .map(|s| s.technician)
        .ok_or(AppError(ErrorCode::Unauthorized))
}

/// The account as its console sees it, with its teams.
async fn public(state: &AppState, t: &TechnicianRow) -> Result<Technician, AppError> {
    let id = t.id;
    let (teams, role) = state
        .db
        .call(move |conn| Ok((db::team_refs_of(conn, id)?, db::role_of(conn, id)?)))
        .await?;
    Ok(Technician {
        username: t.username.clone(),
        display_name: t.display_name.clone(),
        teams,
        role,
    })
}

fn set_cookie(response: &mut Response, cookie: String) {
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn secure(state: &AppState) -> &'static str {
    if state.config.is_https() {
        "; Secure"
    } else {
        ""
    }
}

/// A device cookie's value: the device's id and the account's, and a MAC under the
/// broker's key, so it cannot be made or moved to another account.
fn device_value(state: &AppState, device: [u8; 16], technician_id: i64) -> String {
    let mut payload = device.to_vec();
    payload.extend(technician_id.to_be_bytes());
    let mac = state.pin_key.mac("device cookie", &payload);
    payload.extend(&mac[..16]);
    URL_SAFE_NO_PAD.encode(payload)
}

/// The device id in the request's device cookie, if the cookie is genuine and names
/// `technician_id`.
fn known_device(state: &AppState, headers: &HeaderMap, technician_id: i64) -> Option<[u8; 16]> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cookie(headers, DEVICE_COOKIE)?)
        .ok()?;
    if bytes.len() != 16 + 8 + 16 {
        return None;
    }
    let (payload, mac) = bytes.split_at(24);
    let expected = state.pin_key.mac("device cookie", payload);
    let id = i64::from_be_bytes(payload[16..24].try_into().ok()?);
    (secrets::constant_time_eq(mac, &expected[..16]) && id == technician_id)
        .then(|| payload[..16].try_into().ok())
        .flatten()
}

/// Signs `technician` in: stores a new token's hash, answers with the sign-in cookie and
/// a device cookie (the same device as before, if the browser had one for this account).
pub(crate) async fn start_sign_in(
    state: &AppState,
    technician: &TechnicianRow,
    device: Option<[u8; 16]>,
) -> Result<Response, AppError> {
    let cookies = sign_in_cookies(state, technician, device).await?;
    let mut response = Json(public(state, technician).await?).into_response();
    for cookie in cookies {
        set_cookie(&mut response, cookie);
    }
    Ok(response)
}

/// Stores a new sign-in for `technician`: its cookies (`Set-Cookie` values).
pub(crate) async fn sign_in_cookies(
    state: &AppState,
    technician: &TechnicianRow,
    device: Option<[u8; 16]>,
) -> Result<Vec<String>, AppError> {
    let token = secrets::new_token();
    let hash = secrets::token_hash(&token);
    let validity = state.config.sign_in_validity_secs;
    let (id, expires) = (technician.id, now_ms() + validity * 1000);
    state
        .db
        .call(move |conn| db::insert_sign_in(conn, &hash, id, expires))
        .await?;
    let secure = secure(state);
    let device = device_value(
        state,
        device.unwrap_or_else(secrets::new_id_bytes),
        technician.id,
    );
    Ok(vec![
        format!("{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={validity}{secure}"),
        format!(
            "{DEVICE_COOKIE}={device}; Path=/api/auth; HttpOnly; SameSite=Strict; Max-Age={DEVICE_VALIDITY_SECS}{secure}"
        ),
    ])
}

/// Refuses a password when the organisation turned passwords off.
pub fn require_passwords(state: &AppState) -> Result<(), AppError> {
    if state.config.local_passwords {
        Ok(())
    } else {
        Err(AppError(ErrorCode::PasswordsOff))
    }
}

fn too_many(refusal: Refusal) -> AppError {
    AppError(ErrorCode::TooManyAttempts {
        retry_after_secs: refusal.wait_secs,
    })
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Address => "address",
        Scope::Network => "network",
        Scope::Account => "account, from browsers it does not know",
        Scope::Device => "device",
    }
}

// ---- the first account ------------------------------------------------------------------

/// While no account exists, makes a new setup code valid `validity_secs`, keeps its
/// hash, and answers it grouped for printing (`K7QM-3XHD-9TPW`); once one exists,
/// forgets any code. Used at start and by `connectit-broker setup-code`.
pub fn prepare_setup_code(
    conn: &mut crate::sql::Connection,
    validity_secs: u64,
) -> Result<Option<String>, DbError> {
    if db::technician_count(conn)? > 0 {
        db::meta_delete(conn, SETUP_META)?;
        return Ok(None);
    }
    let code = secrets::new_setup_code();
    let mut value = secrets::token_hash(&secrets::normalise_setup_code(&code));
    value.extend((now_ms() + validity_secs * 1000).to_be_bytes());
    db::meta_set(conn, SETUP_META, &value)?;
    Ok(Some(code))
}

/// Whether `given` is the live setup code.
fn setup_code_matches(conn: &crate::sql::Connection, given: &str) -> Result<bool, DbError> {
    let Some(value) = db::meta_get(conn, SETUP_META)? else {
        return Ok(false);
    };
    if value.len() != 32 + 8 {
        return Ok(false);
    }
    let (hash, expires) = value.split_at(32);
    let expires = u64::from_be_bytes(expires.try_into().unwrap_or_default());
    let given = secrets::token_hash(&secrets::normalise_setup_code(given));
    Ok(now_ms() < expires && secrets::constant_time_eq(hash, &given))
}

pub async fn setup_status(State(state): State<AppState>) -> Result<Json<SetupStatus>, AppError> {
    let count = state.db.call(|conn| db::technician_count(conn)).await?;
    Ok(Json(SetupStatus {
        needs_setup: count == 0,
    }))
}

/// Checks a password's length (8 characters at least, 1 KiB at most).
pub fn validate_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < 8 || password.len() > 1024 {
        return Err(AppError(ErrorCode::InvalidInput {
            field: Field::Password,
        }));
    }
    Ok(())
}

/// Checks a new account's fields.
pub fn validate_account(
    username: &str,
    display_name: &str,
    password: &str,
) -> Result<(), AppError> {
    let bad = |field| AppError(ErrorCode::InvalidInput { field });
    let username_ok = (1..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@".contains(&b));
    if !username_ok {
        return Err(bad(Field::Username));
    }
    // A name stands on one line, in its own order (no characters that reorder text).
    check_name(display_name, connectit_protocol::limits::NAME_MAX_CHARS)
        .map_err(|_| bad(Field::DisplayName))?;
    validate_password(password)
}

/// Creates an account (used by `POST /api/setup` and the `create-technician` command).
pub fn create_account(
    conn: &crate::sql::Connection,
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
    // With no admin yet (the first account, made with the setup code or the command
    // line), this one administers.
    if db::other_active_admins(conn, username)? == 0 {
        db::set_role(conn, username, connectit_protocol::api::AccountRole::Admin)?;
    }
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
    require_passwords(&state)?;
    if let Err(refusal) = state.setup_throttle.attempt(client).await {
        state
            .audit
            .count(AuditKind::SetupThrottled, Some(client), None, "");
        return Err(too_many(refusal));
    }
    let given = request.code.clone();
    let matches = state
        .db
        .call(move |conn| setup_code_matches(conn, &given))
        .await?;
    if !matches {
        state
            .audit
            .event(
                AuditKind::SetupFailed,
                Some(client),
                None,
                "wrong or expired setup code",
            )
            .await;
        return Err(AppError(ErrorCode::InvalidSetupCode));
    }
    state.setup_throttle.succeed(client).await;
    let technician = state
        .db
        .call(move |conn| {
            if db::technician_count(conn)? > 0 {
                return Ok(Err(AppError(ErrorCode::InvalidSetupCode)));
            }
            let made = create_account(
                conn,
                &request.username,
                &request.display_name,
                &request.password,
            );
            if made.is_ok() {
                db::meta_delete(conn, SETUP_META)?;
            }
            Ok(made)
        })
        .await??;
    *state.setup_code.lock().unwrap_or_else(|p| p.into_inner()) = None;
    state
        .audit
        .event(
            AuditKind::SetupSucceeded,
            Some(client),
            Some(&technician.username),
            "first account created with the setup code",
        )
        .await;
    start_sign_in(&state, &technician, None).await
}

// ---- signing in and out -----------------------------------------------------------------

pub async fn sign_in(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let request: SignInRequest = parse_json(&body)?;
    require_passwords(&state)?;
    let username = request.username.trim().to_string();
    let account = username.to_lowercase();
    let lookup = username.clone();
    let found = state
        .db
        .call(move |conn| db::technician_by_username(conn, &lookup))
        .await?;
    let device = found
        .as_ref()
        .and_then(|t| known_device(&state, &headers, t.id));
    let counted = match state
        .sign_in_throttle
        .attempt(client, &account, device)
        .await
    {
        Ok(counted) => counted,
        Err(refusal) => {
            state.audit.count(
                AuditKind::SignInThrottled,
                Some(client),
                Some(&username),
                scope_name(refusal.scope),
            );
            return Err(too_many(refusal));
        }
    };
    // Verify against a real hash even for an unknown name, so timing does not tell.
    let stored = found
        .as_ref()
        .map(|t| t.password_hash.clone())
        .unwrap_or_else(|| state.dummy_hash.clone());
    let password = request.password;
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&password, &stored))
        .await
        .map_err(|_| AppError(ErrorCode::Internal))?;
    let how = if device.is_some() {
        "from a known device"
    } else {
        "from a new device"
    };
    match found {
        Some(technician) if ok => {
            state.sign_in_throttle.succeed(&counted).await;
            state
                .audit
                .event(
                    AuditKind::SignInSucceeded,
                    Some(client),
                    Some(&technician.username),
                    how,
                )
                .await;
            start_sign_in(&state, &technician, device).await
        }
        Some(_) => {
            state
                .audit
                .event(AuditKind::SignInFailed, Some(client), Some(&username), how)
                .await;
            Err(AppError(ErrorCode::InvalidCredentials))
        }
        None => {
            // Any number of made-up names: counted, one line per address a minute.
            state.audit.count(
                AuditKind::SignInFailed,
                Some(client),
                None,
                "unknown user name",
            );
            Err(AppError(ErrorCode::InvalidCredentials))
        }
    }
}

pub async fn sign_out(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(signed) = signed_in(&state, &headers).await? {
        let hash = signed.token_hash.clone();
        state
            .db
            .call(move |conn| db::delete_sign_in(conn, &hash))
            .await?;
        // Its sockets close now, not at the next check.
        state.sign_ins.end(&signed.token_hash);
        state
            .audit
            .event(
                AuditKind::SignedOut,
                Some(client),
                Some(&signed.technician.username),
                "",
            )
            .await;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    set_cookie(
        &mut response,
        format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(response)
}

pub async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Technician>, AppError> {
    let technician = require_technician(&state, &headers).await?;
    Ok(Json(public(&state, &technician).await?))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
    limit: Option<u32>,
}

/// `GET /api/audit?before=ID&limit=N`: the security log, newest first.
pub async fn audit_log(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
    headers: HeaderMap,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    require_technician(&state, &headers).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, 500);
    let before = query.before;
    Ok(Json(
        state
            .db
            .call(move |conn| crate::audit::list(conn, before, limit))
            .await?,
    ))
}

// ---- sockets follow their sign-in -------------------------------------------------------

/// The sign-ins technicians' sockets were opened with, and the news that one ended.
pub struct SignIns {
    open: Mutex<HashMap<Vec<u8>, usize>>,
    ended: broadcast::Sender<Vec<u8>>,
}

impl Default for SignIns {
    fn default() -> Self {
        SignIns {
            open: Mutex::new(HashMap::new()),
            ended: broadcast::channel(256).0,
        }
    }
}

impl SignIns {
    /// Registers a socket opened with this sign-in until the guard is dropped.
    pub fn hold(&self, token_hash: &[u8]) -> HeldSignIn<'_> {
        *self
            .open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(token_hash.to_vec())
            .or_insert(0) += 1;
        HeldSignIn {
            sign_ins: self,
            token_hash: token_hash.to_vec(),
            ended: self.ended.subscribe(),
        }
    }

    /// The sign-in ended: its sockets close.
    pub fn end(&self, token_hash: &[u8]) {
        let _ = self.ended.send(token_hash.to_vec());
    }

    /// The sign-ins of the sockets open now.
    pub fn open(&self) -> Vec<Vec<u8>> {
        self.open
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }
}

/// A socket's hold on its sign-in.
pub struct HeldSignIn<'a> {
    sign_ins: &'a SignIns,
    token_hash: Vec<u8>,
    ended: broadcast::Receiver<Vec<u8>>,
}

impl HeldSignIn<'_> {
    /// Completes when this sign-in ends (signed out, expired, account disabled).
    pub async fn ended(&mut self) {
        loop {
            match self.ended.recv().await {
                Ok(hash) if hash == self.token_hash => return,
                // Another's, or missed some: the watcher says it again while we are open.
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            }
        }
    }
}

impl Drop for HeldSignIn<'_> {
    fn drop(&mut self) {
        let mut open = self.sign_ins.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.token_hash) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.token_hash);
            }
        }
    }
}

/// How often the sign-ins of open sockets are checked against the database (expiry,
/// an account disabled from the command line, a sign-out on another broker).
const SIGN_IN_CHECK_EVERY: Duration = Duration::from_millis(400);

/// Closes the sockets of sign-ins that are no longer good, within a second.
pub async fn watch_sign_ins(state: AppState) {
    let mut tick = tokio::time::interval(SIGN_IN_CHECK_EVERY);
    let mut told: HashSet<Vec<u8>> = HashSet::new();
    loop {
        tick.tick().await;
        let open = state.sign_ins.open();
        told.retain(|h| open.contains(h));
        if open.is_empty() {
            continue;
        }
        let now = now_ms();
        let dead = match state
            .db
            .call(move |conn| db::dead_sign_ins(conn, &open, now))
            .await
        {
            Ok(dead) => dead,
            Err(e) => {
                tracing::warn!(error = %e, "could not check the sign-ins of open sockets");
                continue;
            }
        };
        for hash in dead {
            state.sign_ins.end(&hash);
            if told.insert(hash.clone()) {
                let detail = format!("sign-in {}…", &secrets::hex(&hash)[..8]);
                state
                    .audit
                    .event(
                        AuditKind::SocketsClosed,
                        None::<IpAddr>,
                        None,
                        &format!("{detail} ended (signed out, expired or disabled)"),
                    )
                    .await;
            }
        }
    }
}

/// Who a socket's `hello` says it is, checked: a customer by the token their PIN or
/// link gave them, a technician by their sign-in and only on a session they made.
/// Answers the session, the role and the name the log gives a pick-up.
pub async fn admit(
    state: &AppState,
    join: Join,
    technician: Option<&TechnicianRow>,
) -> Result<(Arc<LiveSession>, Role, String, Option<i64>), ErrorCode> {
    match join {
        Join::Customer { token } => {
            let hash = crate::secrets::token_hash(&token);
            let id = state
                .db
                .call(move |conn| db::session_by_token(conn, &hash))
                .await
                .map_err(|_| ErrorCode::StorageUnavailable)?
                .ok_or(ErrorCode::Unauthorized)?;
            let live = state
                .hub
                .get(&id)
                .await
                .map_err(|_| ErrorCode::StorageUnavailable)?
                .ok_or(ErrorCode::Unauthorized)?;
            Ok((live, Role::Customer, String::new(), None))
        }
        Join::Technician { session } => {
            let tech = technician.ok_or(ErrorCode::Unauthorized)?;
            let live = state
                .hub
                .get(&session)
                .await
                .map_err(|_| ErrorCode::StorageUnavailable)?
                .ok_or(ErrorCode::NotFound)?;
            // Whoever has the session, or a colleague who joined it on an invitation.
            if live.owner() != Some(tech.id) && !live.is_guest(tech.id).await {
                return Err(ErrorCode::Forbidden);
            }
            Ok((
                live,
                Role::Technician,
                tech.display_name.clone(),
                Some(tech.id),
            ))
        }
    }
}

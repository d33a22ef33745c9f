//! Accounts and teams, for admins (`/api/admin/…`), and what every technician does to
//! their own account (`/api/auth/password`, `/api/auth/sign-out-others`,
//! `/api/auth/accept-invitation`).
//!
//! An admin creates an account without a password: the answer carries a link, shown
//! once, with which its owner chooses one (`/console/welcome#TOKEN`, good for three
//! days, one use; the broker keeps only a hash of the token). A reset makes a new link
//! the same way, and signs the account out everywhere. Disabling an account or signing
//! it out everywhere closes its sockets at once. The last admin cannot be disabled or
//! made a technician. Each step is a line of the security log.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use connectit_protocol::api::{
    AcceptInvitation, Account, AccountRole, AccountUpdate, AuditKind, Invitation, NewAccount,
    NewTeam, PasswordChange, TeamAdmin, TeamRef,
};
use connectit_protocol::error::Field;
use connectit_protocol::ErrorCode;

use crate::auth::{self, require_technician, signed_in};
use crate::client::ClientIp;
use crate::db::{self, TechnicianRow};
use crate::error::{parse_json, AppError};
use crate::hub::now_ms;
use crate::{secrets, AppState};

/// How long an invitation link works.
pub const INVITATION_VALIDITY_SECS: u64 = 3 * 24 * 3600;

/// The signed-in admin, `unauthorized` or `admin_only`.
pub async fn require_admin(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<TechnicianRow, AppError> {
    let technician = require_technician(state, headers).await?;
    let id = technician.id;
    match state.db.call(move |conn| db::role_of(conn, id)).await? {
        AccountRole::Admin => Ok(technician),
        AccountRole::Technician | AccountRole::TeamLead => Err(AppError(ErrorCode::AdminOnly)),
    }
}

async fn account(state: &AppState, username: &str) -> Result<Account, AppError> {
    let name = username.to_string();
    state
        .db
        .call(move |conn| db::account(conn, &name))
        .await?
        .ok_or(AppError(ErrorCode::NotFound))
}

/// Ends sign-ins (their sockets close now, not at the next check).
fn close_sockets(state: &AppState, ended: &[Vec<u8>]) {
    for hash in ended {
        state.sign_ins.end(hash);
    }
}

/// A new invitation link for the account `id`: its password is cleared (so the old
/// one no longer works) and it is signed out everywhere.
async fn invite(state: &AppState, id: i64, username: &str) -> Result<Invitation, AppError> {
    let token = secrets::new_token();
    let hash = secrets::token_hash(&token);
    let expires_at = now_ms() + INVITATION_VALIDITY_SECS * 1000;
    let ended = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            db::set_password(&tx, id, "")?;
            db::create_invitation(&tx, id, &hash, expires_at)?;
            let ended = db::end_sign_ins(&tx, id, None)?;
            tx.commit()?;
            Ok(ended)
        })
        .await?;
    close_sockets(state, &ended);
    Ok(Invitation {
        account: account(state, username).await?,
        url: format!("{}/console/welcome#{token}", state.config.base_url()),
        expires_at,
    })
}

/// `GET /api/admin/accounts`.
pub async fn accounts(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<Account>>, AppError> {
    require_admin(&state, &headers).await?;
    Ok(Json(state.db.call(|conn| db::accounts(conn)).await?))
}

/// `POST /api/admin/accounts {username, display_name, role}` → 201 with the link.
pub async fn create_account(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Invitation>), AppError> {
    let admin = require_admin(&state, &headers).await?;
    let request: NewAccount = parse_json(&body)?;
    let username = request.username.trim().to_string();
    auth::validate_account(&username, &request.display_name, "a placeholder password")?;
    let (name, display, role) = (
        username.clone(),
        request.display_name.trim().to_string(),
        request.role,
    );
    let id = state
        .db
        .call(move |conn| {
            let id = db::create_technician(conn, &name, &display, "", now_ms())?;
            if let Some(id) = id {
                db::set_role(conn, &name, role)?;
                return Ok(Some(id));
            }
            Ok(None)
        })
        .await?
        .ok_or(AppError(ErrorCode::InvalidInput {
            field: Field::Username,
        }))?;
    let invitation = invite(&state, id, &username).await?;
    state
        .audit
        .event(
            AuditKind::AccountCreated,
            Some(client),
            Some(&admin.username),
            &format!("created {username} ({role:?})"),
        )
        .await;
    Ok((StatusCode::CREATED, Json(invitation)))
}

/// `PATCH /api/admin/accounts/{username} {role?, disabled?}`.
pub async fn update_account(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(username): Path<String>,
    body: Bytes,
) -> Result<Json<Account>, AppError> {
    let admin = require_admin(&state, &headers).await?;
    let update: AccountUpdate = parse_json(&body)?;
    let before = account(&state, &username).await?;
    let losing_admin = before.role == AccountRole::Admin
        && !before.disabled
        && (update.role.is_some_and(|r| r != AccountRole::Admin) || update.disabled == Some(true));
    let name = username.clone();
    let ended = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            if losing_admin && db::other_active_admins(&tx, &name)? == 0 {
                return Ok(Err(AppError(ErrorCode::LastAdmin)));
            }
            if let Some(role) = update.role {
                db::set_role(&tx, &name, role)?;
            }
            let mut ended = Vec::new();
            if let Some(disabled) = update.disabled {
                if disabled {
                    if let Some(id) = db::technician_id(&tx, &name)? {
                        ended = db::end_sign_ins(&tx, id, None)?;
                    }
                }
                db::set_disabled(&tx, &name, disabled)?;
            }
            tx.commit()?;
            Ok(Ok(ended))
        })
        .await??;
    close_sockets(&state, &ended);
    let after = account(&state, &username).await?;
    state
        .audit
        .event(
            AuditKind::AccountChanged,
            Some(client),
            Some(&admin.username),
            &format!(
                "{username}: role {:?} → {:?}, disabled {} → {}",
                before.role, after.role, before.disabled, after.disabled
            ),
        )
        .await;
    Ok(Json(after))
}

/// `POST /api/admin/accounts/{username}/reset`: a new link; the password and every
/// sign-in end.
pub async fn reset_password(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Result<Json<Invitation>, AppError> {
    let admin = require_admin(&state, &headers).await?;
    let name = username.clone();
    let id = state
        .db
        .call(move |conn| db::technician_id(conn, &name))
        .await?
        .ok_or(AppError(ErrorCode::NotFound))?;
    let invitation = invite(&state, id, &username).await?;
    state
        .audit
        .event(
            AuditKind::PasswordReset,
            Some(client),
            Some(&admin.username),
            &format!("{username}: a new link; signed out everywhere"),
        )
        .await;
    Ok(Json(invitation))
}

/// `POST /api/admin/accounts/{username}/sign-out`: every sign-in of the account ends.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(username): Path<String>,
) -> Result<StatusCode, AppError> {
    let admin = require_admin(&state, &headers).await?;
    let name = username.clone();
    let ended = state
        .db
        .call(move |conn| match db::technician_id(conn, &name)? {
            Some(id) => Ok(Some(db::end_sign_ins(conn, id, None)?)),
            None => Ok(None),
        })
        .await?
        .ok_or(AppError(ErrorCode::NotFound))?;
    close_sockets(&state, &ended);
    state
        .audit
        .event(
            AuditKind::SignedOutEverywhere,
            Some(client),
            Some(&admin.username),
            &format!("{username}: {} sign-ins ended by an admin", ended.len()),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/admin/teams`: every team with its members.
pub async fn teams(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<TeamAdmin>>, AppError> {
    require_admin(&state, &headers).await?;
    let teams = state.db.call(|conn| db::teams(conn)).await?;
    Ok(Json(
        teams
            .into_iter()
            .map(|(team, members)| TeamAdmin {
                team: TeamRef {
                    slug: team.slug,
                    name: team.name,
                },
                members,
            })
            .collect(),
    ))
}

/// `POST /api/admin/teams {slug, name}` → 201.
pub async fn create_team(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<TeamRef>), AppError> {
    let admin = require_admin(&state, &headers).await?;
    let request: NewTeam = parse_json(&body)?;
    let slug = request.slug.trim().to_ascii_lowercase();
    let name = request.name.trim().to_string();
    let bad = |field| AppError(ErrorCode::InvalidInput { field });
    if !crate::api::valid_slug(&slug) {
        return Err(bad(Field::TeamSlug));
    }
    connectit_protocol::check_name(&name, connectit_protocol::limits::SLUG_MAX_CHARS)
        .map_err(|_| bad(Field::TeamName))?;
    let (s, n) = (slug.clone(), name.clone());
    state
        .db
        .call(move |conn| db::create_team(conn, &s, &n, now_ms()))
        .await?
        .ok_or(bad(Field::TeamSlug))?;
    state
        .audit
        .event(
            AuditKind::TeamChanged,
            Some(client),
            Some(&admin.username),
            &format!("created team {slug}"),
        )
        .await;
    Ok((StatusCode::CREATED, Json(TeamRef { slug, name })))
}

/// `PUT` (add) or `DELETE` (remove) `/api/admin/teams/{slug}/members/{username}`.
async fn membership(
    state: AppState,
    client: std::net::IpAddr,
    headers: HeaderMap,
    slug: String,
    username: String,
    member: bool,
) -> Result<StatusCode, AppError> {
    let admin = require_admin(&state, &headers).await?;
    let (s, u) = (slug.clone(), username.clone());
    state
        .db
        .call(move |conn| {
            let Some(team) = db::team_by_slug(conn, &s)? else {
                return Ok(None);
            };
            let Some(id) = db::technician_id(conn, &u)? else {
                return Ok(None);
            };
            db::set_member(conn, team.id, id, member)?;
            Ok(Some(()))
        })
        .await?
        .ok_or(AppError(ErrorCode::NotFound))?;
    let verb = if member { "added to" } else { "removed from" };
    state
        .audit
        .event(
            AuditKind::TeamChanged,
            Some(client),
            Some(&admin.username),
            &format!("{username} {verb} {slug}"),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn add_member(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path((slug, username)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    membership(state, client, headers, slug, username, true).await
}

pub async fn remove_member(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path((slug, username)): Path<(String, String)>,
) -> Result<StatusCode, AppError> {
    membership(state, client, headers, slug, username, false).await
}

// ---- one's own account ---------------------------------------------------------------

/// `POST /api/auth/accept-invitation {token, password}`: the account's password is set,
/// and this browser signed in. Tried like setup codes (per address).
pub async fn accept_invitation(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> Result<Response, AppError> {
    let request: AcceptInvitation = parse_json(&body)?;
    crate::auth::require_passwords(&state)?;
    if let Err(refusal) = state.setup_throttle.attempt(client).await {
        state
            .audit
            .count(AuditKind::SetupThrottled, Some(client), None, "invitation");
        return Err(AppError(ErrorCode::TooManyAttempts {
            retry_after_secs: refusal.wait_secs,
        }));
    }
    auth::validate_password(&request.password)?;
    let hash = secrets::token_hash(request.token.trim());
    let password = request.password.clone();
    let found = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            let Some(technician) = db::take_invitation(&tx, &hash, now_ms())? else {
                tx.commit()?;
                return Ok(None);
            };
            let stored = secrets::hash_password(&password)
                .map_err(|e| db::DbError::TaskFailed(e.to_string()))?;
            db::set_password(&tx, technician.id, &stored)?;
            tx.commit()?;
            Ok(Some(TechnicianRow {
                password_hash: stored,
                ..technician
            }))
        })
        .await?;
    let Some(technician) = found else {
        state
            .audit
            .event(
                AuditKind::InvitationFailed,
                Some(client),
                None,
                "wrong, used or expired invitation link",
            )
            .await;
        return Err(AppError(ErrorCode::InvalidInvitation));
    };
    state.setup_throttle.succeed(client).await;
    state
        .audit
        .event(
            AuditKind::PasswordSet,
            Some(client),
            Some(&technician.username),
            "from an invitation link",
        )
        .await;
    auth::start_sign_in(&state, &technician, None).await
}

/// `POST /api/auth/password {current, new}`: one's own password; the account's other
/// sign-ins end (this one goes on).
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    crate::auth::require_passwords(&state)?;
    let signed = signed_in(&state, &headers)
        .await?
        .ok_or(AppError(ErrorCode::Unauthorized))?;
    let request: PasswordChange = parse_json(&body)?;
    auth::validate_password(&request.new)?;
    let stored = signed.technician.password_hash.clone();
    let current = request.current.clone();
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&current, &stored))
        .await
        .map_err(|_| AppError(ErrorCode::Internal))?;
    if !ok {
        state
            .audit
            .event(
                AuditKind::SignInFailed,
                Some(client),
                Some(&signed.technician.username),
                "wrong current password when changing it",
            )
            .await;
        return Err(AppError(ErrorCode::InvalidCredentials));
    }
    let new = request.new.clone();
    let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&new))
        .await
        .map_err(|_| AppError(ErrorCode::Internal))?
        .map_err(|_| AppError(ErrorCode::Internal))?;
    let (id, keep) = (signed.technician.id, signed.token_hash.clone());
    let ended = state
        .db
        .call(move |conn| {
            let tx = conn.transaction()?;
            db::set_password(&tx, id, &hash)?;
            let ended = db::end_sign_ins(&tx, id, Some(&keep))?;
            tx.commit()?;
            Ok(ended)
        })
        .await?;
    close_sockets(&state, &ended);
    state
        .audit
        .event(
            AuditKind::PasswordSet,
            Some(client),
            Some(&signed.technician.username),
            &format!("changed by its owner; {} other sign-ins ended", ended.len()),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/auth/sign-out-others`: every other sign-in of the account ends.
pub async fn sign_out_others(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
) -> Result<StatusCode, AppError> {
    let signed = signed_in(&state, &headers)
        .await?
        .ok_or(AppError(ErrorCode::Unauthorized))?;
    let (id, keep) = (signed.technician.id, signed.token_hash.clone());
    let ended = state
        .db
        .call(move |conn| db::end_sign_ins(conn, id, Some(&keep)))
        .await?;
    close_sockets(&state, &ended);
    state
        .audit
        .event(
            AuditKind::SignedOutEverywhere,
            Some(client),
            Some(&signed.technician.username),
            &format!("{} other sign-ins ended by their owner", ended.len()),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

//! HTTP handlers for sessions: configuration, creating a session, the PIN, the survey.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use connectit_protocol::api::{
    CreatedSession, PublicConfig, SessionSummary, SurveyRequest, VerifyPinRequest,
    VerifyPinResponse,
};
use connectit_protocol::error::Field;
use connectit_protocol::{clean_pin, Author, EntryKind, ErrorCode, SessionId};

use crate::auth::require_technician;
use crate::client::ClientIp;
use crate::db;
use crate::error::{parse_json, AppError};
use crate::hub::{now_ms, AppendError};
use crate::secrets;
use crate::AppState;

/// How long ended sessions stay in the console's list.
const ENDED_SHOWN_FOR_MS: u64 = 24 * 3600 * 1000;

pub async fn config(State(state): State<AppState>) -> Json<PublicConfig> {
    let c = &state.config;
    Json(PublicConfig {
        organisation: c.organisation.clone(),
        terms: c.terms.clone(),
        support_contact: c.support_contact.clone(),
        applet_url: c.applet_url.clone(),
        pin_validity_secs: c.pin_validity_secs,
        max_file_bytes: c.max_file_bytes,
        texts: c.texts.clone(),
        now: now_ms(),
    })
}

pub async fn create_session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<CreatedSession>, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let now = now_ms();
    let expires_at = now + state.config.pin_validity_secs * 1000;
    // Draw until the PIN is unused among live sessions (at most a few tries even with
    // many thousands live).
    let mut created = None;
    for _ in 0..32 {
        let pin = secrets::new_pin();
        let hash = state.pin_key.hash(&pin);
        let id = SessionId(secrets::new_session_id());
        let (tid, key) = (technician.id, id.clone());
        let inserted = state
            .hub
            .db()
            .call(move |conn| db::insert_session(conn, &key, tid, &hash, expires_at, now))
            .await?;
        if inserted {
            created = Some((id, pin));
            break;
        }
    }
    let (id, pin) = created.ok_or(AppError(ErrorCode::Internal))?;
    if let Some(live) = state.hub.get(&id).await? {
        state.hub.announce(&live).await;
    }
    tracing::info!(session = %id, technician = %technician.username, "session created");
    let link = format!("{}/#pin={pin}", state.config.base_url());
    let org = &state.config.organisation;
    let minutes = state.config.pin_validity_secs.div_ceil(60);
    let email_subject = format!("Your remote support session with {org}");
    let email_body = format!(
        "Hello,\n\n{name} from {org} is ready to help you.\n\n\
         1. Open {link}\n\
         2. If the page asks for a PIN, enter: {pin}\n\n\
         The PIN works once and expires in {minutes} minutes. Nothing needs to be installed: \
         the session runs in your web browser, and you decide, one request at a time, what \
         the technician may see or do. You can end the session at any moment.\n\n\
         Only use the address above ({base}). We will never ask you for a password.\n\n\
         {name}\n{org}\n{contact}\n",
        name = technician.display_name,
        base = state.config.base_url(),
        contact = state.config.support_contact,
    );
    Ok(Json(CreatedSession {
        id,
        pin,
        expires_at,
        link,
        email_subject,
        email_body,
    }))
}

pub async fn list_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<SessionSummary>>, AppError> {
    let technician = require_technician(&state, &headers).await?;
    Ok(Json(summaries_for(&state, technician.id).await?))
}

/// The sessions a technician's console lists, newest first.
pub async fn summaries_for(
    state: &AppState,
    technician_id: i64,
) -> Result<Vec<SessionSummary>, AppError> {
    let since = now_ms().saturating_sub(ENDED_SHOWN_FOR_MS);
    let ids = state
        .hub
        .db()
        .call(move |conn| db::technician_sessions(conn, technician_id, since))
        .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(live) = state.hub.get(&id).await? {
            out.push(state.hub.summary(&live).await);
        }
    }
    Ok(out)
}

pub async fn verify_pin(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> Result<Json<VerifyPinResponse>, AppError> {
    let request: VerifyPinRequest = parse_json(&body)?;
    let pin =
        clean_pin(&request.pin).ok_or(AppError(ErrorCode::InvalidInput { field: Field::Pin }))?;
    state.pin_throttle.attempt(client).map_err(|s| {
        AppError(ErrorCode::TooManyAttempts {
            retry_after_secs: s,
        })
    })?;
    let pin_hash = state.pin_key.hash(&pin);
    let token = secrets::new_token();
    let token_hash = secrets::token_hash(&token);
    let now = now_ms();
    let (pin_h, token_h) = (pin_hash.clone(), token_hash.clone());
    let claimed = match state
        .hub
        .db()
        .call(move |conn| db::claim_pin(conn, &pin_h, &token_h, now))
        .await
    {
        Ok(claimed) => claimed,
        Err(e) => {
            // The broker's trouble, not a wrong guess.
            state.pin_throttle.succeed(client);
            return Err(e.into());
        }
    };
    let Some(id) = claimed else {
        tracing::info!(%client, "wrong or expired PIN");
        return Err(AppError(ErrorCode::InvalidOrExpiredPin));
    };
    let live = state
        .hub
        .get(&id)
        .await?
        .ok_or(AppError(ErrorCode::Internal))?;
    match state
        .hub
        .append(&live, Author::System, EntryKind::CustomerJoined)
        .await
    {
        Ok(_) => {}
        Err(AppendError::Rule(_)) => return Err(AppError(ErrorCode::InvalidOrExpiredPin)),
        Err(AppendError::Storage(e)) => {
            // Not joined after all: the PIN stays good for when storage is back.
            let released = state
                .hub
                .db()
                .call(move |conn| db::release_pin(conn, &pin_hash, &token_hash))
                .await;
            if let Err(again) = released {
                tracing::error!(error = %again, session = %id, "could not give a PIN back");
            }
            state.pin_throttle.succeed(client);
            return Err(e.into());
        }
    }
    state.pin_throttle.forgive(client);
    tracing::info!(session = %id, %client, "customer joined with a PIN");
    Ok(Json(VerifyPinResponse { session: id, token }))
}

pub async fn survey(State(state): State<AppState>, body: Bytes) -> Result<StatusCode, AppError> {
    let request: SurveyRequest = parse_json(&body)?;
    let hash = secrets::token_hash(&request.token);
    let id = state
        .hub
        .db()
        .call(move |conn| db::session_by_token(conn, &hash))
        .await?
        .ok_or(AppError(ErrorCode::Unauthorized))?;
    let live = state
        .hub
        .get(&id)
        .await?
        .ok_or(AppError(ErrorCode::Unauthorized))?;
    let kind = EntryKind::SurveySubmitted {
        rating: request.rating,
        resolved: request.resolved,
        comment: request.comment,
    };
    match state.hub.append(&live, Author::Customer, kind).await {
        Ok(_) => Ok(StatusCode::NO_CONTENT),
        Err(AppendError::Rule(v)) => Err(AppError(v.into())),
        Err(AppendError::Storage(e)) => Err(e.into()),
    }
}

//! The ticketing system's ways in and out: personal API tokens (issued by an admin for
//! one account, scoped, revocable, stored as hashes) and webhooks (session created,
//! picked up, ended with the record's seal), signed with HMAC-SHA256 and retried with
//! back-off from a queue in the database, each delivery visible on the admin page.
//!
//! A delivery is queued in the same transaction as what it reports (`db::append_entry`,
//! `db::insert_session`): an event that happened is always told, and nothing is told
//! that did not happen. Its body is made at its first attempt and kept, so every retry
//! sends the same bytes under the same delivery id.

use std::time::Duration;

use crate::sql::{params, Connection, OptionalExtension};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Request, StatusCode};
use axum::Json;
use connectit_protocol::api::{
    ApiScope, ApiToken, AuditKind, CreatedWebhook, DeliveryStatus, IssuedApiToken, NewApiToken,
    NewWebhook, RecordSeal, SessionDetails, SessionInfo, Webhook, WebhookDelivery, WebhookEvent,
    WebhookPayload,
};
use connectit_protocol::error::Field;
use connectit_protocol::{ErrorCode, Millis, Phase, SessionId};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::admin::require_admin;
use crate::client::ClientIp;
use crate::db::{self, DbError, TechnicianRow};
use crate::error::{parse_json, AppError};
use crate::hub::now_ms;
use crate::secrets;
use crate::AppState;

/// The first characters of every token, so a leaked one is recognisable (and found by
/// secret scanners).
pub const TOKEN_PREFIX: &str = "cit_";
/// Deliveries tried per pass of the worker.
const BATCH: u32 = 16;

// ---- tokens -------------------------------------------------------------------------------

fn scopes_text(scopes: &[ApiScope]) -> String {
    let mut names: Vec<&str> = scopes.iter().map(|s| s.name()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

fn token_from(r: &crate::sql::Row) -> Result<ApiToken, DbError> {
    let scopes: String = r.get(3)?;
    Ok(ApiToken {
        id: r.get(0)?,
        name: r.get(1)?,
        account: r.get(2)?,
        scopes: scopes.split(',').filter_map(ApiScope::from_name).collect(),
        created_at: r.get::<i64>(4)? as Millis,
        created_by: r.get(5)?,
        last_used_at: r.get::<Option<i64>>(6)?.map(|t| t as Millis),
        revoked: r.get::<Option<i64>>(7)?.is_some(),
    })
}

const TOKEN_COLUMNS: &str = "k.id, k.name, t.username, k.scopes, k.created_at, k.created_by,
     k.last_used_at, k.revoked_at";

fn tokens(conn: &Connection) -> Result<Vec<ApiToken>, DbError> {
    conn.prepare(&format!(
        "SELECT {TOKEN_COLUMNS} FROM api_tokens k JOIN technicians t ON t.id = k.technician_id
             ORDER BY k.id DESC"
    ))?
    .query_map(params![], token_from)?
    .collect::<Result<_, _>>()
}

/// `GET /api/admin/tokens`.
pub async fn list_tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<ApiToken>>, AppError> {
    require_admin(&state, &headers).await?;
    Ok(Json(state.db.call(|conn| tokens(conn)).await?))
}

/// `POST /api/admin/tokens {name, account, scopes}`: the secret, once.
pub async fn issue_token(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IssuedApiToken>, AppError> {
    let admin = require_admin(&state, &headers).await?;
    let request: NewApiToken = parse_json(&body)?;
    let name = request.name.trim().to_owned();
    if connectit_protocol::check_name(&name, 100).is_err() || name.is_empty() {
        return Err(AppError(ErrorCode::InvalidInput { field: Field::Name }));
    }
    if request.scopes.is_empty() {
        return Err(AppError(ErrorCode::InvalidInput {
            field: Field::Scopes,
        }));
    }
    let secret = format!("{TOKEN_PREFIX}{}", secrets::new_token());
    let hash = secrets::token_hash(&secret);
    let (scopes, by, account) = (
        scopes_text(&request.scopes),
        admin.username.clone(),
        request.account.clone(),
    );
    let made = state
        .db
        .call(move |conn| {
            let Some(id) = db::technician_id(conn, &account)? else {
                return Ok(None);
            };
            let id: i64 = conn.query_row(
                "INSERT INTO api_tokens(name, token_hash, technician_id, scopes, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id",
                params![name, hash, id, scopes, now_ms() as i64, by],
                |r| r.get(0),
            )?;
            Ok(tokens(conn)?.into_iter().find(|t| t.id == id))
        })
        .await?
        .ok_or(AppError(ErrorCode::InvalidInput {
            field: Field::Username,
        }))?;
    state
        .audit
        .event(
            AuditKind::ApiToken,
            Some(client),
            Some(&admin.username),
            &format!(
                "issued token {} \"{}\" for {} ({})",
                made.id,
                made.name,
                made.account,
                scopes_text(&made.scopes)
            ),
        )
        .await;
    Ok(Json(IssuedApiToken {
        token: made,
        secret,
    }))
}

/// `DELETE /api/admin/tokens/{id}`: it stops working at once.
pub async fn revoke_token(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    let admin = require_admin(&state, &headers).await?;
    let changed = state
        .db
        .call(move |conn| {
            conn.execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now_ms() as i64],
            )
        })
        .await?;
    if changed == 0 {
        return Err(AppError(ErrorCode::NotFound));
    }
    state
        .audit
        .event(
            AuditKind::ApiToken,
            Some(client),
            Some(&admin.username),
            &format!("revoked token {id}"),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// The `Authorization: Bearer …` token, if the request has one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Who calls: the API token's account when the request carries one (which must allow
/// `scope`), else the signed-in technician.
pub async fn caller(
    state: &AppState,
    client: std::net::IpAddr,
    headers: &HeaderMap,
    scope: ApiScope,
) -> Result<TechnicianRow, AppError> {
    let Some(token) = bearer(headers) else {
        return crate::auth::require_technician(state, headers).await;
    };
    let hash = secrets::token_hash(token);
    let now = now_ms();
    let found = state
        .db
        .call(move |conn| {
            let row = conn
                .query_row(
                    "SELECT k.id, k.scopes, k.technician_id FROM api_tokens k
                     JOIN technicians t ON t.id = k.technician_id
                     WHERE k.token_hash = ?1 AND k.revoked_at IS NULL AND t.disabled = 0",
                    [&hash],
                    |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?, r.get::<i64>(2)?)),
                )
                .optional()?;
            let Some((id, scopes, technician)) = row else {
                return Ok(None);
            };
            conn.execute(
                "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1",
                params![id, now as i64],
            )?;
            Ok(Some((id, scopes, db::technician_by_id(conn, technician)?)))
        })
        .await?;
    match found {
        Some((id, scopes, Some(technician))) => {
            if scopes.split(',').any(|s| s == scope.name()) {
                Ok(technician)
            } else {
                state.audit.count(
                    AuditKind::ApiToken,
                    Some(client),
                    Some(&technician.username),
                    &format!("token {id} used for {} it does not allow", scope.name()),
                );
                Err(AppError(ErrorCode::TokenScope))
            }
        }
        _ => {
            state.audit.count(
                AuditKind::ApiToken,
                Some(client),
                None,
                "unknown or revoked token",
            );
            Err(AppError(ErrorCode::Unauthorized))
        }
    }
}

// ---- sessions as the API reads them -------------------------------------------------------

/// A session's state, for the API and webhooks.
pub fn session_info(conn: &Connection, id: &SessionId) -> Result<Option<SessionInfo>, DbError> {
    conn.query_row(
        "SELECT s.phase, t.username, m.slug, s.customer_name, s.problem, s.ticket,
                    s.created_at, s.picked_up_at,
                    CASE WHEN s.phase = 'ended' THEN s.phase_since END
             FROM sessions s
             LEFT JOIN technicians t ON t.id = s.technician_id
             LEFT JOIN teams m ON m.id = s.team_id
             WHERE s.id = ?1",
        [&id.0],
        |r| {
            let phase: String = r.get(0)?;
            Ok(SessionInfo {
                id: id.clone(),
                phase: serde_json::from_value(serde_json::Value::String(phase))
                    .unwrap_or(Phase::Created),
                technician: r.get(1)?,
                team: r.get(2)?,
                details: SessionDetails {
                    customer_name: r.get(3)?,
                    problem: r.get(4)?,
                    ticket: r.get(5)?,
                },
                created_at: r.get::<i64>(6)? as Millis,
                picked_up_at: r.get::<Option<i64>>(7)?.map(|t| t as Millis),
                ended_at: r.get::<Option<i64>>(8)?.map(|t| t as Millis),
            })
        },
    )
    .optional()
}

/// `GET /api/sessions/{id}`: the session's state, for whoever may see it.
pub async fn session(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<SessionInfo>, AppError> {
    let viewer = viewer(&state, client, &headers).await?;
    let id = SessionId(id);
    let info = state
        .db
        .call(move |conn| {
            if !crate::history::may_see(conn, viewer, &id)? {
                return Ok(None);
            }
            session_info(conn, &id)
        })
        .await?;
    info.map(Json).ok_or(AppError(ErrorCode::NotFound))
}

/// The caller as the history sees them (their role decides what they may read).
pub async fn viewer(
    state: &AppState,
    client: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<crate::history::Viewer, AppError> {
    let technician = caller(state, client, headers, ApiScope::SessionsRead).await?;
    let id = technician.id;
    let role = state.db.call(move |conn| db::role_of(conn, id)).await?;
    Ok(crate::history::Viewer { id, role })
}

// ---- webhooks -----------------------------------------------------------------------------

fn events_text(events: &[WebhookEvent]) -> String {
    let mut names: Vec<&str> = events.iter().map(|e| e.name()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

fn webhook_from(r: &crate::sql::Row) -> Result<Webhook, DbError> {
    let events: String = r.get(2)?;
    Ok(Webhook {
        id: r.get(0)?,
        url: r.get(1)?,
        events: events
            .split(',')
            .filter_map(WebhookEvent::from_name)
            .collect(),
        created_at: r.get::<i64>(3)? as Millis,
        created_by: r.get(4)?,
        disabled: r.get(5)?,
    })
}

fn webhooks(conn: &Connection) -> Result<Vec<Webhook>, DbError> {
    conn.prepare(
        "SELECT id, url, events, created_at, created_by, disabled FROM webhooks ORDER BY id",
    )?
    .query_map(params![], webhook_from)?
    .collect::<Result<_, _>>()
}

/// `GET /api/admin/webhooks`.
pub async fn list_webhooks(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<Webhook>>, AppError> {
    require_admin(&state, &headers).await?;
    Ok(Json(state.db.call(|conn| webhooks(conn)).await?))
}

/// `POST /api/admin/webhooks {url, events}`: the signing secret, once.
pub async fn create_webhook(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CreatedWebhook>, AppError> {
    let admin = require_admin(&state, &headers).await?;
    let request: NewWebhook = parse_json(&body)?;
    let url = request.url.trim().to_owned();
    if !crate::outbound::allowed_url(&url) || url.len() > 2000 {
        return Err(AppError(ErrorCode::InvalidInput { field: Field::Url }));
    }
    if request.events.is_empty() {
        return Err(AppError(ErrorCode::InvalidInput {
            field: Field::Scopes,
        }));
    }
    let secret = secrets::new_token();
    let (events, by, key, address) = (
        events_text(&request.events),
        admin.username.clone(),
        secret.clone(),
        url.clone(),
    );
    let webhook = state
        .db
        .call(move |conn| {
            let id: i64 = conn.query_row(
                "INSERT INTO webhooks(url, secret, events, created_at, created_by)
                 VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
                params![address, key, events, now_ms() as i64, by],
                |r| r.get(0),
            )?;
            Ok(webhooks(conn)?.into_iter().find(|w| w.id == id))
        })
        .await?
        .ok_or(AppError(ErrorCode::Internal))?;
    state
        .audit
        .event(
            AuditKind::WebhookChanged,
            Some(client),
            Some(&admin.username),
            &format!(
                "added webhook {} to {url} ({})",
                webhook.id,
                events_text(&webhook.events)
            ),
        )
        .await;
    Ok(Json(CreatedWebhook { webhook, secret }))
}

/// `DELETE /api/admin/webhooks/{id}`: no new deliveries; those queued are dropped, and
/// past ones stay listed.
pub async fn remove_webhook(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<StatusCode, AppError> {
    let admin = require_admin(&state, &headers).await?;
    let changed = state
        .db
        .call(move |conn| {
            let changed = conn.execute(
                "UPDATE webhooks SET disabled = 1 WHERE id = ?1 AND disabled = 0",
                [id],
            )?;
            conn.execute(
                "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL,
                     last_error = 'the webhook was removed'
                 WHERE webhook_id = ?1 AND status = 'pending'",
                [id],
            )?;
            Ok(changed)
        })
        .await?;
    if changed == 0 {
        return Err(AppError(ErrorCode::NotFound));
    }
    state
        .audit
        .event(
            AuditKind::WebhookChanged,
            Some(client),
            Some(&admin.username),
            &format!("removed webhook {id}"),
        )
        .await;
    Ok(StatusCode::NO_CONTENT)
}

fn status_name(status: DeliveryStatus) -> &'static str {
    match status {
        DeliveryStatus::Pending => "pending",
        DeliveryStatus::Delivered => "delivered",
        DeliveryStatus::Failed => "failed",
    }
}

fn delivery_from(r: &crate::sql::Row) -> Result<WebhookDelivery, DbError> {
    let status = match r.get::<String>(4)?.as_str() {
        "delivered" => DeliveryStatus::Delivered,
        "failed" => DeliveryStatus::Failed,
        _ => DeliveryStatus::Pending,
    };
    Ok(WebhookDelivery {
        id: r.get(0)?,
        webhook: r.get(1)?,
        event: WebhookEvent::from_name(&r.get::<String>(2)?)
            .unwrap_or(WebhookEvent::SessionCreated),
        session: SessionId(r.get(3)?),
        status,
        attempts: r.get(5)?,
        last_status: r.get::<Option<i64>>(6)?.map(|s| s as u16),
        last_error: r.get(7)?,
        created_at: r.get::<i64>(8)? as Millis,
        next_attempt_at: r.get::<Option<i64>>(9)?.map(|t| t as Millis),
        delivered_at: r.get::<Option<i64>>(10)?.map(|t| t as Millis),
    })
}

/// `GET /api/admin/webhooks/{id}/deliveries`: the latest 100, newest first.
pub async fn deliveries(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Vec<WebhookDelivery>>, AppError> {
    require_admin(&state, &headers).await?;
    let list = state
        .db
        .call(move |conn| {
            conn.prepare(
                "SELECT id, webhook_id, event, session_id, status, attempts, last_status,
                            last_error, created_at, next_attempt_at, delivered_at
                     FROM webhook_deliveries WHERE webhook_id = ?1 ORDER BY id DESC LIMIT 100",
            )?
            .query_map([id], delivery_from)?
            .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    Ok(Json(list))
}

/// `ConnectIT-Signature`'s value for `body` sent at `unix` seconds.
pub fn signature(secret: &str, unix: u64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256>>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(unix.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={unix},v1={}", secrets::hex(&mac.finalize().into_bytes()))
}

/// One due delivery, with what is needed to send it.
struct Due {
    id: i64,
    url: String,
    secret: String,
    event: WebhookEvent,
    session: SessionId,
    at: Millis,
    payload: Option<String>,
    attempts: u32,
}

/// The body of a delivery: the session's state, and for an end the record's seal.
async fn payload(state: &AppState, due: &Due) -> Result<String, AppError> {
    let (session, organisation) = (due.session.clone(), state.config.organisation.clone());
    let want_record = due.event == WebhookEvent::SessionEnded;
    let (info, record) = state
        .db
        .call(move |conn| {
            let info = session_info(conn, &session)?;
            let record = if want_record {
                crate::record::load_unsigned(conn, &organisation, &session, now_ms())?
            } else {
                None
            };
            Ok((info, record))
        })
        .await?;
    let info = info.ok_or(AppError(ErrorCode::NotFound))?;
    let record = record.map(|mut record| {
        crate::record::sign(&mut record, &state.signer);
        RecordSeal {
            entries: record.entries.len() as u64,
            final_hash: record.final_hash,
            exported_at: record.exported_at,
            signature: record.signature,
        }
    });
    serde_json::to_string(&WebhookPayload {
        event: due.event,
        delivery: due.id,
        at: due.at,
        session: info,
        record,
    })
    .map_err(|_| AppError(ErrorCode::Internal))
}

/// Sends the deliveries that are due, once each; answers how many were tried.
pub async fn deliver_due(state: &AppState) -> Result<usize, AppError> {
    let now = now_ms();
    let due: Vec<Due> = state
        .db
        .call(move |conn| {
            // Claimed first (their next attempt moved past this one's time limit), so
            // that brokers sharing the database never deliver one twice at once; one
            // that dies meanwhile leaves them to be tried again after CLAIM_MS.
            let claimed: Vec<i64> = conn
                .prepare(
                    "UPDATE webhook_deliveries SET next_attempt_at = ?1 + ?3
                     WHERE id IN (SELECT id FROM webhook_deliveries
                                  WHERE status = 'pending' AND next_attempt_at <= ?1
                                  ORDER BY next_attempt_at, id LIMIT ?2)
                       AND status = 'pending' AND next_attempt_at <= ?1
                     RETURNING id",
                )?
                .query_map(params![now as i64, BATCH, CLAIM_MS], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            if claimed.is_empty() {
                return Ok(Vec::new());
            }
            let list = (1..=claimed.len())
                .map(|i| format!("?{i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let values: Vec<crate::sql::Value> = claimed
                .iter()
                .map(|id| crate::sql::Value::Integer(*id))
                .collect();
            conn.prepare(&format!(
                "SELECT d.id, w.url, w.secret, d.event, d.session_id, d.at, d.payload, d.attempts
                     FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
                     WHERE d.id IN ({list})
                     ORDER BY d.id"
            ))?
            .query_map(values, |r| {
                Ok(Due {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    secret: r.get(2)?,
                    event: WebhookEvent::from_name(&r.get::<String>(3)?)
                        .unwrap_or(WebhookEvent::SessionCreated),
                    session: SessionId(r.get(4)?),
                    at: r.get::<i64>(5)? as Millis,
                    payload: r.get(6)?,
                    attempts: r.get(7)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .await?;
    let tried = due.len();
    for mut due in due {
        if due.payload.is_none() {
            let body = payload(state, &due).await?;
            let (id, kept) = (due.id, body.clone());
            state
                .db
                .call(move |conn| {
                    conn.execute(
                        "UPDATE webhook_deliveries SET payload = ?2 WHERE id = ?1",
                        params![id, kept],
                    )?;
                    Ok(())
                })
                .await?;
            due.payload = Some(body);
        }
        let body = due.payload.clone().unwrap_or_default();
        let outcome = attempt(state, &due, body.as_bytes()).await;
        record_attempt(state, &due, outcome).await?;
    }
    Ok(tried)
}

/// One POST: `Ok(status)` for a 2xx, else what went wrong (and the status, if any).
async fn attempt(state: &AppState, due: &Due, body: &[u8]) -> Result<u16, (Option<u16>, String)> {
    let unix = now_ms() / 1000;
    let request = Request::post(&due.url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "ConnectIT-Webhook/1")
        .header("ConnectIT-Event", due.event.name())
        .header("ConnectIT-Delivery", due.id.to_string())
        .header(
            "ConnectIT-Signature",
            HeaderValue::from_str(&signature(&due.secret, unix, body))
                .map_err(|e| (None, e.to_string()))?,
        )
        .body(body.to_vec())
        .map_err(|e| (None, e.to_string()))?;
    match state.outbound.send(request).await {
        Ok(response) if response.status().is_success() => Ok(response.status().as_u16()),
        Ok(response) => Err((
            Some(response.status().as_u16()),
            format!("answered {}", response.status()),
        )),
        Err(e) => Err((None, e.to_string())),
    }
}

async fn record_attempt(
    state: &AppState,
    due: &Due,
    outcome: Result<u16, (Option<u16>, String)>,
) -> Result<(), AppError> {
    let now = now_ms();
    let attempts = due.attempts + 1;
    let id = due.id;
    // The waits before each retry: tried at most once more than there are waits.
    let retries = &state.config.webhook_retry_secs;
    let given_up = match &outcome {
        Ok(_) => false,
        Err(_) => attempts as usize > retries.len(),
    };
    let (status, code, error, next, delivered) = match &outcome {
        Ok(code) => (
            DeliveryStatus::Delivered,
            Some(*code),
            String::new(),
            None,
            Some(now),
        ),
        Err((code, error)) if given_up => {
            (DeliveryStatus::Failed, *code, error.clone(), None, None)
        }
        Err((code, error)) => {
            let wait = retries[attempts as usize - 1];
            (
                DeliveryStatus::Pending,
                *code,
                error.clone(),
                Some(now + wait * 1000),
                None,
            )
        }
    };
    let error_text = error.chars().take(300).collect::<String>();
    state
        .db
        .call(move |conn| {
            conn.execute(
                "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, last_status = ?4,
                     last_error = ?5, next_attempt_at = ?6, delivered_at = ?7
                 WHERE id = ?1",
                params![
                    id,
                    status_name(status),
                    attempts,
                    code.map(i64::from),
                    error_text,
                    next.map(|t| t as i64),
                    delivered.map(|t| t as i64)
                ],
            )?;
            Ok(())
        })
        .await?;
    if given_up {
        state
            .audit
            .event(
                AuditKind::WebhookFailed,
                None,
                None,
                &format!(
                    "delivery {id} of {} for session {} to {} after {attempts} attempts: {error}",
                    due.event.name(),
                    due.session,
                    due.url
                ),
            )
            .await;
    }
    Ok(())
}

/// Runs deliveries until the broker stops: every second, or at once while some are due.
/// How long a broker holds the deliveries it took before another may try them.
const CLAIM_MS: i64 = 60_000;

pub async fn run_deliveries(state: AppState) {
    loop {
        let tried = match deliver_due(&state).await {
            Ok(tried) => tried,
            Err(e) => {
                tracing::warn!(error = ?e, "webhook deliveries");
                0
            }
        };
        if tried == BATCH as usize {
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = state.shutdown.cancelled() => return,
        }
    }
}

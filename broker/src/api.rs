//! HTTP handlers for sessions: configuration, creating a session, the PIN, the survey.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use connectit_protocol::api::{
    AuditKind, CannedReply, CreateSession, CreatedSession, FieldRule, HandOverRequest,
    InviteRequest, JoinRequest, NoteRequest, PublicConfig, ReplyRequest, SendEmail, SessionDetails,
    SessionNote, SessionSummary, SurveyRequest, TeamJoinRequest, TeamPage, TeamRef, TechnicianRef,
    VerifyPinRequest, VerifyPinResponse,
};
use connectit_protocol::error::Field;
use connectit_protocol::{clean_pin, limits, Author, EndReason, EntryKind, ErrorCode, SessionId};

use crate::auth::require_technician;
use crate::client::ClientIp;
use crate::db::{self, Claim, Credential, TeamRow};
use crate::error::{parse_json, AppError};
use crate::hub::{now_ms, AppendError, LiveSession};
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
        screen_max_kbps: c.screen_max_kbps,
        texts: c.texts.clone(),
        now: now_ms(),
        warnings: c.warnings(),
        sign_in: connectit_protocol::api::SignInMethods {
            passwords: c.local_passwords,
            single_sign_on: state.sso.as_ref().map(|_| c.oidc_label.clone()),
        },
        sends_email: state.mailer.is_some(),
        grant_default_mins: c.grant_default_mins,
    })
}

/// `GET /api/catalog/{lang}`: a built-in language's whole catalog, key → template. The
/// app has only English compiled in and loads the language it shows from here; the
/// organisation's texts come with `/api/config` and go over it. The catalog changes
/// only with the broker's version, so browsers may keep it for a day.
pub async fn catalog(Path(lang): Path<String>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match connectit_wording::catalog_of(&lang) {
        Some(catalog) => (
            [(axum::http::header::CACHE_CONTROL, "public, max-age=86400")],
            Json(catalog),
        )
            .into_response(),
        None => AppError(ErrorCode::NotFound).into_response(),
    }
}

/// The e-mail that brings the customer to the session, in `catalog`'s language.
fn invitation_email(
    state: &AppState,
    catalog: &connectit_wording::Catalog,
    technician: &crate::db::TechnicianRow,
    link: &str,
    pin: &str,
) -> (String, String) {
    let c = &state.config;
    connectit_wording::email::compose(
        catalog,
        &connectit_wording::email::Invitation {
            technician: &technician.display_name,
            organisation: &c.organisation,
            link,
            pin,
            minutes: c.pin_validity_secs.div_ceil(60),
            base: c.base_url(),
            contact: &c.support_contact,
        },
    )
}

/// `POST /api/sessions`: from the console (signed in), or from a ticketing system
/// with an API token allowing `sessions:create` (the session is the token's account's).
pub async fn create_session(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<CreatedSession>, AppError> {
    let technician = crate::integrations::caller(
        &state,
        client,
        &headers,
        connectit_protocol::api::ApiScope::SessionsCreate,
    )
    .await?;
    let request: CreateSession = if body.is_empty() {
        CreateSession::default()
    } else {
        parse_json(&body)?
    };
    let details = request.details.trimmed();
    details
        .check()
        .map_err(|field| AppError(ErrorCode::InvalidInput { field }))?;
    let now = now_ms();
    let expires_at = now + state.config.pin_validity_secs * 1000;
    // Draw until the PIN is unused among live sessions (at most a few tries even with
    // many thousands live).
    let join_token = secrets::new_join_token();
    let mut created = None;
    for _ in 0..32 {
        let pin = secrets::new_pin();
        let hash = state.pin_key.hash(&pin);
        let join_hash = secrets::token_hash(&join_token);
        let id = SessionId(secrets::new_session_id());
        let (tid, key) = (technician.id, id.clone());
        let inserted = state
            .db
            .call(move |conn| {
                db::insert_session(conn, &key, tid, &hash, &join_hash, expires_at, now)
            })
            .await?;
        if inserted {
            created = Some((id, pin));
            break;
        }
    }
    let (id, pin) = created.ok_or(AppError(ErrorCode::Internal))?;
    if let Some(live) = state.hub.get(&id).await? {
        if details != SessionDetails::default() {
            live.set_details(details).await?;
        }
        live.announce().await;
    }
    tracing::info!(session = %id, technician = %technician.username, "session created");
    let link = format!("{}/#join={join_token}", state.config.base_url());
    let catalog = state.catalog(request.language.as_deref().unwrap_or("en"));
    let (email_subject, email_body) = invitation_email(&state, &catalog, &technician, &link, &pin);
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
        .db
        .call(move |conn| {
            let mut ids = db::technician_sessions(conn, technician_id, since)?;
            let teams = db::teams_of(conn, technician_id)?;
            ids.extend(db::queued_sessions(conn, &teams)?);
            for id in db::guest_sessions(conn, technician_id)? {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            Ok(ids)
        })
        .await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(live) = state.hub.get(&id).await? {
            if let Some(summary) = live.summary().await {
                out.push(summary);
            }
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
    if let Err(refusal) = state.pin_throttle.attempt(client).await {
        let detail = match refusal.scope {
            crate::throttle::Scope::Network => "its network is throttled",
            _ => "the address is throttled",
        };
        state
            .audit
            .count(AuditKind::PinThrottled, Some(client), None, detail);
        return Err(AppError(ErrorCode::TooManyAttempts {
            retry_after_secs: refusal.wait_secs,
        }));
    }
    let hash = state.pin_key.hash(&pin);
    match join(&state, client, Credential::Pin(&hash)).await {
        Ok(Some(joined)) => {
            state.pin_throttle.forgive(client).await;
            Ok(Json(joined))
        }
        Ok(None) => {
            state.audit.count(
                AuditKind::PinFailed,
                Some(client),
                None,
                "wrong or expired PIN",
            );
            Err(AppError(ErrorCode::InvalidOrExpiredPin))
        }
        Err(e) => {
            // The broker's trouble, not a wrong guess.
            state.pin_throttle.succeed(client).await;
            Err(e)
        }
    }
}

/// `POST /api/join {token}`: the link's join token stands in for the PIN. It has 128
/// bits, so no throttle is needed (nor could guessing it be blocked for anyone else).
pub async fn join_link(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    body: Bytes,
) -> Result<Json<VerifyPinResponse>, AppError> {
    let request: JoinRequest = parse_json(&body)?;
    let token = request.token.trim();
    let well_formed = token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit());
    let hash = secrets::token_hash(&token.to_ascii_lowercase());
    if well_formed {
        if let Some(joined) = join(&state, client, Credential::Link(&hash)).await? {
            return Ok(Json(joined));
        }
    }
    state.audit.count(
        AuditKind::LinkFailed,
        Some(client),
        None,
        "unknown, used or expired link",
    );
    Err(AppError(ErrorCode::InvalidOrExpiredLink))
}

/// Lets a customer in by a PIN or link: `None` if nothing live has it (or as many as
/// may are already joining with it, which looks the same from outside).
async fn join(
    state: &AppState,
    client: std::net::IpAddr,
    by: Credential<'_>,
) -> Result<Option<VerifyPinResponse>, AppError> {
    let token = secrets::new_token();
    let token_hash = secrets::token_hash(&token);
    let now = now_ms();
    let max_open = state.config.pin_candidates;
    let new_id = SessionId(secrets::new_session_id());
    let (by_owned, how) = match by {
        Credential::Pin(h) => (OwnedCredential::Pin(h.to_vec()), "PIN"),
        Credential::Link(h) => (OwnedCredential::Link(h.to_vec()), "link"),
    };
    let th = token_hash.clone();
    let claim = state
        .db
        .call(move |conn| db::claim(conn, by_owned.borrow(), &th, &new_id, max_open, now))
        .await?;
    let claimed = match claim {
        Claim::In(claimed) => claimed,
        Claim::Unknown => return Ok(None),
        Claim::Full => {
            state.audit.count(
                AuditKind::SecondCandidate,
                Some(client),
                None,
                &format!("refused: {max_open} already joining with one {how}"),
            );
            return Ok(None);
        }
    };
    let live = state
        .hub
        .get(&claimed.session)
        .await?
        .ok_or(AppError(ErrorCode::Internal))?;
    live.set_check_code(Some(claimed.check_code.clone())).await;
    match live.append(Author::System, EntryKind::CustomerJoined).await {
        Ok(_) => {}
        Err(AppendError::Rule(_)) => return Ok(None),
        Err(e) => {
            // Not joined after all: the PIN stays as it was for when storage is back.
            let undo = claimed.clone();
            let released = state.db.call(move |conn| db::release(conn, &undo)).await;
            if let Err(again) = released {
                tracing::error!(error = %again, session = %claimed.session, "could not undo a join");
            }
            live.set_check_code(None).await;
            if claimed.second {
                state.hub.forget(&claimed.session);
            }
            return Err(e.into());
        }
    }
    if claimed.second {
        state
            .audit
            .event(
                AuditKind::SecondCandidate,
                Some(client),
                None,
                &format!(
                    "a second person joined with the {how} of session {}",
                    claimed.invitation
                ),
            )
            .await;
        state.hub.refresh_invitation(&claimed.invitation).await;
    }
    tracing::info!(session = %claimed.session, %client, how, "customer joined");
    Ok(Some(VerifyPinResponse {
        session: claimed.session,
        token,
    }))
}

/// A [`Credential`] that can be moved to the database thread.
enum OwnedCredential {
    Pin(Vec<u8>),
    Link(Vec<u8>),
}

impl OwnedCredential {
    fn borrow(&self) -> Credential<'_> {
        match self {
            OwnedCredential::Pin(h) => Credential::Pin(h),
            OwnedCredential::Link(h) => Credential::Link(h),
        }
    }
}

pub async fn survey(State(state): State<AppState>, body: Bytes) -> Result<StatusCode, AppError> {
    let request: SurveyRequest = parse_json(&body)?;
    let hash = secrets::token_hash(&request.token);
    let id = state
        .db
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
    live.append(Author::Customer, kind).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The technician picked up `live`: nobody else gets in with its PIN or link, and the
/// others who did are told that someone else is being helped.
pub async fn close_invitation(state: &AppState, live: &LiveSession) {
    let (invitation, picked) = (live.invitation.clone(), live.id.clone());
    let others = match state
        .db
        .call(move |conn| db::close_invitation(conn, &invitation, &picked))
        .await
    {
        Ok(others) => others,
        Err(e) => {
            tracing::error!(error = %e, session = %live.id, "could not close a PIN after the pick-up");
            return;
        }
    };
    for id in others {
        let reason = EndReason::OtherCustomerChosen;
        let ended = match state.hub.get(&id).await {
            Ok(Some(other)) => other
                .append(Author::System, EntryKind::SessionEnded { reason })
                .await
                .map(|_| ())
                .map_err(|e| format!("{e:?}")),
            Ok(None) => Ok(()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = ended {
            tracing::warn!(session = %id, error = %e, "could not end a session whose PIN someone else used");
        }
    }
}

// ---- teams' links and queues -------------------------------------------------------------

/// The team behind a link's slug, or `not_found`.
async fn team(state: &AppState, slug: &str) -> Result<TeamRow, AppError> {
    let slug = slug.to_ascii_lowercase();
    if slug.is_empty() || slug.len() > limits::SLUG_MAX_CHARS || !valid_slug(&slug) {
        return Err(AppError(ErrorCode::NotFound));
    }
    state
        .db
        .call(move |conn| db::team_by_slug(conn, &slug))
        .await?
        .ok_or(AppError(ErrorCode::NotFound))
}

/// Whether `slug` may name a team's link: lower-case letters, digits and dashes.
pub fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= limits::SLUG_MAX_CHARS
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
}

/// `GET /api/teams/{slug}`: what the team's link page shows.
pub async fn team_page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Json<TeamPage>, AppError> {
    let team = team(&state, &slug).await?;
    let queues = state.hub.queues();
    let waiting = queues.waiting(team.id);
    Ok(Json(TeamPage {
        team: TeamRef {
            slug: team.slug.clone(),
            name: team.name.clone(),
        },
        open: crate::hours::team_is_open(&team, &state.config.time_zone, now_ms()),
        hours: team.hours.clone(),
        closed_message: team.closed_message.clone(),
        problem_field: state.config.queue_problem_field,
        waiting,
        estimated_wait_secs: queues.estimate_secs(team.id, waiting + 1, now_ms()),
    }))
}

/// `POST /api/teams/{slug}/join {name, problem}`: a session in the team's queue for
/// this customer, answered like a right PIN. Throttled per address and network (every
/// join counts) and capped per team; the name (and the problem, if the organisation
/// asks for it) must be given.
pub async fn team_join(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Path(slug): Path<String>,
    body: Bytes,
) -> Result<Json<VerifyPinResponse>, AppError> {
    let request: TeamJoinRequest = parse_json(&body)?;
    let team = team(&state, &slug).await?;
    let details = SessionDetails {
        customer_name: request.name,
        problem: match state.config.queue_problem_field {
            FieldRule::Off => String::new(),
            _ => request.problem,
        },
        ticket: String::new(),
    }
    .trimmed();
    details
        .check()
        .map_err(|field| AppError(ErrorCode::InvalidInput { field }))?;
    if details.customer_name.is_empty() {
        return Err(AppError(ErrorCode::InvalidInput {
            field: Field::CustomerName,
        }));
    }
    if details.problem.is_empty() && state.config.queue_problem_field == FieldRule::Required {
        return Err(AppError(ErrorCode::InvalidInput {
            field: Field::Problem,
        }));
    }
    if !crate::hours::team_is_open(&team, &state.config.time_zone, now_ms()) {
        return Err(AppError(ErrorCode::QueueClosed));
    }
    if let Err(refusal) = state.queue_throttle.attempt(client).await {
        let detail = format!(
            "queue joins to team {}: {:?} throttled",
            team.slug, refusal.scope
        );
        state
            .audit
            .count(AuditKind::QueueThrottled, Some(client), None, &detail);
        return Err(AppError(ErrorCode::TooManyAttempts {
            retry_after_secs: refusal.wait_secs,
        }));
    }
    let token = secrets::new_token();
    let token_hash = secrets::token_hash(&token);
    let id = SessionId(secrets::new_session_id());
    let now = now_ms();
    // Nothing is due before the customer joins, which is at once.
    let expires_at = now + state.config.pin_validity_secs * 1000;
    let (key, row, stored) = (id.clone(), team.clone(), details.clone());
    let inserted = state
        .db
        .call(move |conn| {
            db::insert_queued(conn, &key, &row, &token_hash, &stored, expires_at, now)
        })
        .await?;
    if !inserted {
        state.queue_throttle.succeed(client).await;
        let detail = format!("team {}: {} in the queue", team.slug, team.max_queue);
        state
            .audit
            .count(AuditKind::QueueFull, Some(client), None, &detail);
        return Err(AppError(ErrorCode::QueueFull));
    }
    let live = state
        .hub
        .get(&id)
        .await?
        .ok_or(AppError(ErrorCode::Internal))?;
    live.append(Author::System, EntryKind::CustomerJoined)
        .await?;
    tracing::info!(session = %id, team = %team.slug, %client, "customer joined a team's queue");
    Ok(Json(VerifyPinResponse { session: id, token }))
}

/// Whether `technician_id` belongs to team `team_id`.
async fn member_of(state: &AppState, technician_id: i64, team_id: i64) -> Result<bool, AppError> {
    Ok(state
        .db
        .call(move |conn| db::teams_of(conn, technician_id))
        .await?
        .contains(&team_id))
}

/// The live session `id`, or `not_found`.
/// `POST /api/sessions/{id}/email {to, language, pin, link}`: the broker sends the
/// customer the session's link and PIN from the organisation's address. Only the
/// technician who has the session, only while its PIN is unused and unexpired, only
/// the link and PIN it was created with (checked against their hashes: the text cannot
/// carry another address), and at most [`EMAILS_PER_HOUR`] an hour per technician.
pub async fn send_email(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let request: SendEmail = parse_json(&body)?;
    let Some(mailer) = state.mailer.as_ref() else {
        return Err(AppError(ErrorCode::EmailUnavailable));
    };
    let live = own_session(&state, technician.id, id).await?;
    let base = format!("{}/#join=", state.config.base_url());
    let token = request
        .link
        .strip_prefix(&base)
        .filter(|t| !t.is_empty())
        .ok_or(AppError(ErrorCode::InvalidInput {
            field: Field::Token,
        }))?
        .to_owned();
    let (pin_hash, join_hash) = (
        state.pin_key.hash(request.pin.trim()),
        secrets::token_hash(&token),
    );
    let session = live.id.clone();
    let now = now_ms();
    let unused = state
        .db
        .call(move |conn| db::invitation_unused(conn, &session, &pin_hash, &join_hash, now))
        .await?;
    if !unused {
        return Err(AppError(ErrorCode::InvalidOrExpiredPin));
    }
    if let Err(wait) = state.email_quota.take(technician.id) {
        return Err(AppError(ErrorCode::RateLimited {
            retry_after_secs: wait,
        }));
    }
    let catalog = state.catalog(&request.language);
    let (subject, text) = invitation_email(
        &state,
        &catalog,
        &technician,
        &request.link,
        request.pin.trim(),
    );
    let to = request.to.trim().to_owned();
    match mailer.send(&to, &subject, &text).await {
        Ok(()) => {
            state
                .audit
                .event(
                    AuditKind::EmailSent,
                    Some(client),
                    Some(&technician.username),
                    &format!("session {} to {to} ({})", live.id, catalog.lang()),
                )
                .await;
            Ok(StatusCode::NO_CONTENT)
        }
        Err(crate::mail::MailError::BadAddress) => {
            state.email_quota.give_back(technician.id);
            Err(AppError(ErrorCode::InvalidInput {
                field: Field::Email,
            }))
        }
        Err(crate::mail::MailError::Failed(why)) => {
            state.email_quota.give_back(technician.id);
            tracing::warn!(session = %live.id, error = %why, "e-mail not sent");
            state
                .audit
                .event(
                    AuditKind::EmailSent,
                    Some(client),
                    Some(&technician.username),
                    &format!("session {}: not sent: {why}", live.id),
                )
                .await;
            Err(AppError(ErrorCode::EmailFailed))
        }
    }
}

/// E-mails a technician may send an hour.
pub const EMAILS_PER_HOUR: u32 = 30;

async fn live_session(
    state: &AppState,
    id: String,
) -> Result<std::sync::Arc<LiveSession>, AppError> {
    state
        .hub
        .get(&SessionId(id))
        .await?
        .ok_or(AppError(ErrorCode::NotFound))
}

/// `POST /api/sessions/{id}/pick-up`: a member of the session's team takes the waiting
/// customer; the first to ask gets them, anyone after is told `already_picked_up`.
pub async fn pick_up(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let live = live_session(&state, id).await?;
    let allowed = match (live.owner(), live.team_id) {
        (Some(owner), _) => owner == technician.id,
        (None, Some(team)) => member_of(&state, technician.id, team).await?,
        (None, None) => false,
    };
    if !allowed {
        return Err(match live.owner() {
            Some(_) if live.team_id.is_some() => AppError(ErrorCode::AlreadyPickedUp),
            _ => AppError(ErrorCode::Forbidden),
        });
    }
    let who = TechnicianRef {
        username: technician.username.clone(),
        display_name: technician.display_name.clone(),
    };
    live.pick_up(technician.id, who).await?;
    close_invitation(&state, &live).await;
    tracing::info!(session = %live.id, technician = %technician.username, "picked up");
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/sessions/{id}/details`: the technician who has the session says who the
/// customer is, what the problem is and the ticket.
pub async fn set_details(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let details: SessionDetails = parse_json(&body)?;
    let details = details.trimmed();
    details
        .check()
        .map_err(|field| AppError(ErrorCode::InvalidInput { field }))?;
    let live = own_session(&state, technician.id, id).await?;
    live.set_details(details).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- handing over ------------------------------------------------------------------------

/// `GET /api/colleagues`: the technicians who share a team with the one asking (whom
/// they may hand a session to or invite), by name.
pub async fn colleagues(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<TechnicianRef>>, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let tid = technician.id;
    let rows = state.db.call(move |conn| db::colleagues(conn, tid)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|t| TechnicianRef {
                username: t.username,
                display_name: t.display_name,
            })
            .collect(),
    ))
}

/// The colleague named `username` of `technician_id` (sharing a team with them), or
/// `no_such_colleague`.
async fn colleague(
    state: &AppState,
    technician_id: i64,
    username: &str,
) -> Result<(i64, TechnicianRef), AppError> {
    let username = username.trim().to_string();
    let found = state
        .db
        .call(move |conn| {
            Ok(db::colleagues(conn, technician_id)?
                .into_iter()
                .find(|t| t.username == username))
        })
        .await?
        .ok_or(AppError(ErrorCode::NoSuchColleague))?;
    Ok((
        found.id,
        TechnicianRef {
            username: found.username,
            display_name: found.display_name,
        },
    ))
}

/// The session `id`, if `technician_id` has it.
async fn own_session(
    state: &AppState,
    technician_id: i64,
    id: String,
) -> Result<std::sync::Arc<LiveSession>, AppError> {
    let live = live_session(state, id).await?;
    if live.owner() != Some(technician_id) {
        return Err(AppError(ErrorCode::Forbidden));
    }
    Ok(live)
}

/// `POST /api/sessions/{id}/hand-over {to, note}`: the technician who has the session
/// hands it to a colleague (`to`: their user name), or back to its team's queue (`to`
/// empty). The note, if any, is kept as a private note for whoever takes it; the
/// customer reads who has the session now.
pub async fn hand_over(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let request: HandOverRequest = parse_json(&body)?;
    let note = request.note.trim().to_string();
    if !note.is_empty() {
        connectit_protocol::check_text(&note, limits::NOTE_MAX_CHARS)
            .map_err(|_| AppError(ErrorCode::InvalidInput { field: Field::Note }))?;
    }
    let live = own_session(&state, technician.id, id).await?;
    let to = match request.to.as_deref().map(str::trim) {
        Some(username) if !username.is_empty() => {
            Some(colleague(&state, technician.id, username).await?)
        }
        _ if live.team_id.is_none() => return Err(AppError(ErrorCode::NoQueue)),
        _ => None,
    };
    // What the session's task would refuse, refused before the note is kept.
    let phase = live
        .state()
        .await
        .map_or(connectit_protocol::Phase::Ended, |s| s.phase());
    if phase != connectit_protocol::Phase::Active {
        let violation = connectit_protocol::RuleViolation::WrongPhase { phase };
        return Err(AppError(ErrorCode::NotAllowed { violation }));
    }
    if !note.is_empty() {
        // Kept first: a hand-over is not refused for want of room for its note.
        let (key, tid, at) = (live.id.clone(), technician.id, now_ms());
        let stored = note.clone();
        state
            .db
            .call(move |conn| db::add_note(conn, &key, tid, &stored, at, limits::NOTES_MAX))
            .await?;
    }
    let to_name = to.as_ref().map(|(_, t)| t.username.clone());
    live.hand_over(technician.id, to).await?;
    tracing::info!(session = %live.id, from = %technician.username, to = ?to_name, "handed over");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/sessions/{id}/invite {username}`: the technician who has the session
/// invites a colleague, who may then join it.
pub async fn invite(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let request: InviteRequest = parse_json(&body)?;
    let live = own_session(&state, technician.id, id).await?;
    let guest = colleague(&state, technician.id, &request.username).await?;
    live.invite(technician.id, guest).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/sessions/{id}/join`: an invited colleague joins the session.
pub async fn join_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let live = live_session(&state, id).await?;
    live.join(technician.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/sessions/{id}/leave`: a colleague who joined leaves the session.
pub async fn leave_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let live = live_session(&state, id).await?;
    live.leave(technician.id, technician.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- private notes -----------------------------------------------------------------------

/// The session `id`, if `technician` may work on it: it is theirs, it came through the
/// queue of a team they belong to, or they joined it on an invitation.
async fn colleague_session(
    state: &AppState,
    technician_id: i64,
    id: String,
) -> Result<std::sync::Arc<LiveSession>, AppError> {
    let live = live_session(state, id).await?;
    if live.owner() == Some(technician_id) {
        return Ok(live);
    }
    if let Some(team) = live.team_id {
        if member_of(state, technician_id, team).await? {
            return Ok(live);
        }
    }
    if live.is_guest(technician_id).await {
        return Ok(live);
    }
    Err(AppError(ErrorCode::Forbidden))
}

/// `GET /api/sessions/{id}/notes`: the session's private notes, oldest first.
pub async fn notes(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<SessionNote>>, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let live = colleague_session(&state, technician.id, id).await?;
    let key = live.id.clone();
    Ok(Json(
        state.db.call(move |conn| db::notes(conn, &key)).await?,
    ))
}

/// `POST /api/sessions/{id}/notes {text}`: a private note, kept with the session and
/// never shown to the customer.
pub async fn add_note(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<SessionNote>), AppError> {
    let technician = require_technician(&state, &headers).await?;
    let request: NoteRequest = parse_json(&body)?;
    let text = request.text.trim().to_string();
    connectit_protocol::check_text(&text, limits::NOTE_MAX_CHARS)
        .map_err(|_| AppError(ErrorCode::InvalidInput { field: Field::Note }))?;
    let live = colleague_session(&state, technician.id, id).await?;
    let (key, tid, stored, at) = (live.id.clone(), technician.id, text.clone(), now_ms());
    let added = state
        .db
        .call(move |conn| db::add_note(conn, &key, tid, &stored, at, limits::NOTES_MAX))
        .await?
        .ok_or(AppError(ErrorCode::NotesFull {
            max_notes: limits::NOTES_MAX as u32,
        }))?;
    Ok((
        StatusCode::CREATED,
        Json(SessionNote {
            id: added,
            at,
            author: TechnicianRef {
                username: technician.username,
                display_name: technician.display_name,
            },
            text,
        }),
    ))
}

// ---- canned replies ----------------------------------------------------------------------

/// `GET /api/replies`: the canned replies of the technician's teams.
pub async fn replies(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<CannedReply>>, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let tid = technician.id;
    let list = state
        .db
        .call(move |conn| {
            let teams = db::teams_of(conn, tid)?;
            db::replies(conn, &teams)
        })
        .await?;
    Ok(Json(list))
}

/// The request's fields checked and trimmed, or the first bad one.
fn checked_reply(body: &Bytes) -> Result<ReplyRequest, AppError> {
    let request: ReplyRequest = parse_json(body)?;
    request
        .check()
        .map_err(|field| AppError(ErrorCode::InvalidInput { field }))?;
    Ok(ReplyRequest {
        team: request.team.trim().to_ascii_lowercase(),
        title: request.title.trim().to_string(),
        text: request.text.trim().to_string(),
    })
}

/// `POST /api/replies {team, title, text}`: a canned reply for a team one belongs to.
pub async fn add_reply(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<CannedReply>), AppError> {
    let technician = require_technician(&state, &headers).await?;
    let request = checked_reply(&body)?;
    let team = team(&state, &request.team).await?;
    let team_id = team.id;
    if !member_of(&state, technician.id, team_id).await? {
        return Err(AppError(ErrorCode::Forbidden));
    }
    let (title, text, now) = (request.title.clone(), request.text.clone(), now_ms());
    let id = state
        .db
        .call(move |conn| db::add_reply(conn, team_id, &title, &text, now, limits::REPLIES_MAX))
        .await?
        .ok_or(AppError(ErrorCode::RepliesFull {
            max_replies: limits::REPLIES_MAX as u32,
        }))?;
    Ok((
        StatusCode::CREATED,
        Json(CannedReply {
            id,
            team: TeamRef {
                slug: team.slug,
                name: team.name,
            },
            title: request.title,
            text: request.text,
        }),
    ))
}

/// A canned reply's id from its path (anything else is no reply).
fn reply_id(text: &str) -> Result<i64, AppError> {
    text.parse().map_err(|_| AppError(ErrorCode::NotFound))
}

/// The team of canned reply `id`, if the technician belongs to it.
async fn own_reply(state: &AppState, technician_id: i64, id: i64) -> Result<(), AppError> {
    let team = state
        .db
        .call(move |conn| db::reply_team(conn, id))
        .await?
        .ok_or(AppError(ErrorCode::NotFound))?;
    if member_of(state, technician_id, team).await? {
        Ok(())
    } else {
        Err(AppError(ErrorCode::Forbidden))
    }
}

/// `PUT /api/replies/{id} {title, text}`.
pub async fn update_reply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<StatusCode, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let id = reply_id(&id)?;
    let request = checked_reply(&body)?;
    own_reply(&state, technician.id, id).await?;
    state
        .db
        .call(move |conn| db::update_reply(conn, id, &request.title, &request.text))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /api/replies/{id}`.
pub async fn delete_reply(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    let technician = require_technician(&state, &headers).await?;
    let id = reply_id(&id)?;
    own_reply(&state, technician.id, id).await?;
    state
        .db
        .call(move |conn| db::delete_reply(conn, id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

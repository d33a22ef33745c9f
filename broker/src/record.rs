//! The session record: the whole log with its chain hashes, as JSON (to verify) and as a
//! readable page (to keep), for the customer and the technician, signed by the broker;
//! and the two checks of a downloaded record: offline, with the broker's public key
//! only ([`verify_signed`]: a copy stands on its own, whatever happens to the database
//! later), and against the stored log ([`verify`]).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use connectit_protocol::api::{
    RecordEntry, RecordFormat, RecordKey, RecordRequest, RecordSignature, SessionRecord,
};
use connectit_protocol::{
    shown_text, Author, EndReason, EntryKind, ErrorCode, FileFailure, Link, LogEntry, Media,
    MediaChange, Millis, PathFailure, Permission, Role, SessionId, SessionState, StopCause,
};
use serde::Deserialize;

use crate::db::{self, DbError};
use crate::error::{parse_json, AppError};
use crate::hub::now_ms;
use crate::secrets::hex;
use crate::signing::{self, RecordSigner};
use crate::static_files::escape_html;
use crate::{chain, AppState};

/// The record format's name and version.
pub const FORMAT: &str = "connectit-record/2";
/// The line before the signed header.
const SIGNED_PREFIX: &[u8] = b"connectit-record-signature/1\n";

/// What a record's signature covers: every header field, the number of entries and the
/// final chain hash (which covers every entry), as JSON in this field order after the
/// line `connectit-record-signature/1`.
#[derive(serde::Serialize)]
struct SignedHeader<'a> {
    format: &'a str,
    session: &'a SessionId,
    organisation: &'a str,
    technician: &'a str,
    created_at: Millis,
    exported_at: Millis,
    entries: u64,
    final_hash: &'a str,
}

/// The exact bytes the broker signs and a verifier checks.
pub fn signed_bytes(record: &SessionRecord) -> Vec<u8> {
    let header = SignedHeader {
        format: &record.format,
        session: &record.session,
        organisation: &record.organisation,
        technician: &record.technician,
        created_at: record.created_at,
        exported_at: record.exported_at,
        entries: record.entries.len() as u64,
        final_hash: &record.final_hash,
    };
    let mut out = SIGNED_PREFIX.to_vec();
    out.extend(serde_json::to_vec(&header).unwrap_or_default());
    out
}

/// Signs `record` with the broker's key.
pub fn sign(record: &mut SessionRecord, signer: &RecordSigner) {
    record.signature = Some(RecordSignature {
        algorithm: "ed25519".into(),
        key_id: signer.key_id(),
        value: signer.sign(&signed_bytes(record)),
    });
}

/// Reads a session's record from the database, signed.
pub fn load(
    conn: &rusqlite::Connection,
    organisation: &str,
    signer: &RecordSigner,
    id: &SessionId,
    now: Millis,
) -> Result<Option<SessionRecord>, DbError> {
    let mut record = load_unsigned(conn, organisation, id, now)?;
    if let Some(record) = record.as_mut() {
        sign(record, signer);
    }
    Ok(record)
}

/// Reads a session's record from the database, to be signed.
pub fn load_unsigned(
    conn: &rusqlite::Connection,
    organisation: &str,
    id: &SessionId,
    now: Millis,
) -> Result<Option<SessionRecord>, DbError> {
    let Some(row) = db::session_row(conn, id)? else {
        return Ok(None);
    };
    let technician = row.technician.map(|t| t.display_name).unwrap_or_default();
    let chained = db::entries_with_hashes(conn, id)?;
    let final_hash = chained
        .last()
        .map(|(_, h)| hex(h))
        .unwrap_or_else(|| hex(&chain::genesis(id)));
    Ok(Some(SessionRecord {
        format: FORMAT.into(),
        session: id.clone(),
        organisation: organisation.into(),
        technician,
        created_at: row.created_at,
        exported_at: now,
        entries: chained
            .into_iter()
            .map(|(entry, h)| RecordEntry {
                entry,
                hash: hex(&h),
            })
            .collect(),
        final_hash,
        signature: None,
    }))
}

/// What checking a record with the broker's public key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signed {
    /// The signature is the key's, over this very header, entry count and final hash,
    /// and every entry fits its chain up to that hash.
    Intact { entries: usize, final_hash: String },
    /// The record carries no signature (`connectit-record/1`): only the database can
    /// say whether it is genuine.
    Unsigned,
    /// Signed with another key than the one given.
    OtherKey { key_id: String },
    /// The signature does not cover what the file says: a header field, the number of
    /// entries or the final hash was changed (or entries were cut off).
    BadSignature,
    /// The record's own hashes do not fit its entries from this entry on.
    BrokenChain { seq: u64 },
    /// The final hash is not the last entry's (entries added, removed or changed).
    WrongFinalHash,
}

/// Checks `record` with no database: its chain, its final hash, and the broker's
/// signature over both and the header.
pub fn verify_signed(public_key: &[u8], record: &SessionRecord) -> Signed {
    let Some(signature) = &record.signature else {
        return Signed::Unsigned;
    };
    let key_id = signing::key_id(public_key);
    if signature.algorithm != "ed25519" || signature.key_id != key_id {
        return Signed::OtherKey {
            key_id: signature.key_id.clone(),
        };
    }
    if !signing::verify(public_key, &signed_bytes(record), &signature.value) {
        return Signed::BadSignature;
    }
    match own_chain(record) {
        Ok((entries, final_hash)) => Signed::Intact {
            entries,
            final_hash,
        },
        Err(Verdict::BrokenChain { seq }) => Signed::BrokenChain { seq },
        Err(_) => Signed::WrongFinalHash,
    }
}

/// Checks the record's entries against its own hashes and final hash: the number of
/// entries and the final hash, or where it breaks.
fn own_chain(record: &SessionRecord) -> Result<(usize, String), Verdict> {
    let mut own = Vec::with_capacity(record.entries.len());
    for e in &record.entries {
        let Some(hash) = unhex(&e.hash) else {
            return Err(Verdict::BrokenChain { seq: e.entry.seq });
        };
        own.push((e.entry.clone(), hash));
    }
    if let Some(seq) = chain::first_break(&record.session, &own) {
        return Err(Verdict::BrokenChain { seq });
    }
    let expected_final = own
        .last()
        .map(|(_, h)| hex(h))
        .unwrap_or_else(|| hex(&chain::genesis(&record.session)));
    if record.final_hash != expected_final {
        return Err(Verdict::WrongFinalHash);
    }
    Ok((own.len(), expected_final))
}

/// What checking a record against the database found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Every entry and hash matches the stored log.
    Intact { entries: usize, final_hash: String },
    /// The record's own hashes do not fit its entries from this entry on.
    BrokenChain { seq: u64 },
    /// The record differs from the stored log at this entry (changed, added or missing).
    Differs { seq: u64 },
    /// The final hash is not the last entry's.
    WrongFinalHash,
    /// The database has no such session.
    UnknownSession,
}

/// Checks `record` against its own chain and against the stored log (what the
/// database says now: the signature is [`verify_signed`]'s business).
pub fn verify(conn: &rusqlite::Connection, record: &SessionRecord) -> Result<Verdict, DbError> {
    let (entries, final_hash) = match own_chain(record) {
        Ok(found) => found,
        Err(verdict) => return Ok(verdict),
    };
    if db::session_row(conn, &record.session)?.is_none() {
        return Ok(Verdict::UnknownSession);
    }
    let stored = db::entries_with_hashes(conn, &record.session)?;
    for (i, e) in record.entries.iter().enumerate() {
        match stored.get(i) {
            Some((s, h)) if *s == e.entry && hex(h) == e.hash => {}
            _ => return Ok(Verdict::Differs { seq: e.entry.seq }),
        }
    }
    // A record made before later entries is still intact: it is a prefix of the log.
    Ok(Verdict::Intact {
        entries,
        final_hash,
    })
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

#[derive(Deserialize)]
pub struct FormatQuery {
    format: Option<RecordFormat>,
}

/// `GET /api/sessions/{id}/record?format=html|json`: the technician's copy.
pub async fn technician_record(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let viewer = crate::history::viewer(&state, &headers).await?;
    let id = SessionId(id);
    let live = state
        .hub
        .get(&id)
        .await?
        .ok_or(AppError(ErrorCode::NotFound))?;
    // Whoever has it; or, once seen in the history: a team lead their teams', an
    // admin any.
    let key = id.clone();
    let allowed = live.owner() == Some(viewer.id)
        || state
            .db
            .call(move |conn| crate::history::may_see(conn, viewer, &key))
            .await?;
    if !allowed {
        return Err(AppError(ErrorCode::Forbidden));
    }
    respond(&state, id, query.format.unwrap_or(RecordFormat::Html)).await
}

/// `POST /api/record {token, format}`: the customer's copy (the token stays out of URLs).
pub async fn customer_record(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, AppError> {
    let request: RecordRequest = parse_json(&body)?;
    let hash = crate::secrets::token_hash(&request.token);
    let id = state
        .db
        .call(move |conn| db::session_by_token(conn, &hash))
        .await?
        .ok_or(AppError(ErrorCode::Unauthorized))?;
    respond(&state, id, request.format).await
}

async fn respond(
    state: &AppState,
    id: SessionId,
    format: RecordFormat,
) -> Result<Response, AppError> {
    let organisation = state.config.organisation.clone();
    let key = id.clone();
    let found = state
        .db
        .call(move |conn| load_unsigned(conn, &organisation, &key, now_ms()))
        .await?;
    let mut record = found.ok_or(AppError(ErrorCode::NotFound))?;
    sign(&mut record, &state.signer);
    let short: String = id.0.chars().take(8).collect();
    let (body, content_type, extension) = match format {
        RecordFormat::Json => (
            serde_json::to_string_pretty(&record).map_err(|_| AppError(ErrorCode::Internal))?,
            "application/json",
            "json",
        ),
        RecordFormat::Html => {
            // The organisation's own time, with its offset from UTC.
            let zone =
                crate::hours::time_zone(&state.config.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
            (to_html(&record, &zone), "text/html; charset=utf-8", "html")
        }
    };
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"connectit-session-{short}.{extension}\""
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(response)
}

/// `GET /api/record-key`: the public key that checks records' signatures.
pub async fn public_key(State(state): State<AppState>) -> axum::Json<RecordKey> {
    axum::Json(RecordKey {
        algorithm: "ed25519".into(),
        public_key: state.signer.public_key_base64(),
        key_id: state.signer.key_id(),
    })
}

/// A plain-English line for an entry; `before` is the session's state before it (for
/// the names of the files later entries speak of, and of the technician who had the
/// session then; `technician` names whoever has it last, for entries before anyone).
pub fn describe(entry: &LogEntry, technician: &str, before: &SessionState) -> String {
    let technician = before.technician().unwrap_or(technician);
    let file_name = |file: &u32| {
        before
            .transfer(*file)
            .map(|t| format!("“{}”", t.name))
            .unwrap_or_else(|_| format!("file {file}"))
    };
    let who = |a: Author| match a {
        Author::Customer => "The customer".to_string(),
        Author::Technician => technician.to_string(),
        Author::System => "ConnectIT".to_string(),
    };
    let role = |r: Role| match r {
        Role::Customer => "The customer",
        Role::Technician => "The technician",
    };
    let list = |ps: &[Permission]| {
        ps.iter()
            .map(|p| permission_words(*p))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let media = |m: Media| match m {
        Media::Screen => "screen sharing",
        Media::Camera => "the camera",
    };
    match &entry.kind {
        EntryKind::CustomerJoined => "The customer joined with the PIN.".into(),
        EntryKind::TermsAccepted => "The customer accepted the terms and conditions.".into(),
        EntryKind::TermsDeclined => {
            "The customer declined the terms and conditions; the session ended.".into()
        }
        EntryKind::TechnicianPickedUp { name } => format!("{name} picked up the session."),
        EntryKind::Chat { text, by: None } => format!("{}: {text}", who(entry.author)),
        EntryKind::Chat { text, by: Some(by) } => format!("{by}: {text}"),
        EntryKind::Disconnected { role: r } => format!("{}'s connection dropped.", role(*r)),
        EntryKind::Reconnected { role: r } => format!("{} reconnected.", role(*r)),
        EntryKind::SessionEnded { reason } => match reason {
            EndReason::CustomerEnded => "The customer ended the session.".into(),
            EndReason::TechnicianEnded => format!("{technician} ended the session."),
            EndReason::TermsDeclined => "The session ended: terms declined.".into(),
            EndReason::PinExpired => "The session ended: the PIN expired unused.".into(),
            EndReason::WaitingTimeout => {
                "The session ended: no technician picked up in time.".into()
            }
            EndReason::OtherCustomerChosen => {
                "The session ended: someone else had used the same PIN or link, and the technician helped them.".into()
            }
            EndReason::CustomerGone => {
                "The session ended: the customer's connection dropped and they did not come back.".into()
            }
            EndReason::QueueClosed => {
                "The session ended: the help desk's queue closed before anyone picked up.".into()
            }
        },
        EntryKind::SurveySubmitted {
            rating,
            resolved,
            comment,
        } => format!(
            "Survey: rating {rating} of 5; resolved: {}{}",
            match resolved {
                Some(true) => "yes",
                Some(false) => "no",
                None => "not answered",
            },
            if comment.is_empty() {
                String::new()
            } else {
                format!("; comment: {comment}")
            }
        ),
        EntryKind::PermissionRequested {
            request,
            permissions,
            reason,
            ..
        } => format!(
            "{technician} asked (request {request}) to {}{}.",
            list(permissions),
            if reason.is_empty() {
                String::new()
            } else {
                format!(", because: {reason}")
            }
        ),
        EntryKind::PermissionGranted { request, granted } => format!(
            "The customer allowed (request {request}): {}.",
            list(granted)
        ),
        EntryKind::PermissionDenied { request } => {
            format!("The customer refused request {request}.")
        }
        EntryKind::PermissionExpired { request } => {
            format!("Request {request} had no answer in time: refused.")
        }
        EntryKind::PermissionExtended { request, .. } => {
            format!("The customer asked for more time to answer request {request}.")
        }
        EntryKind::PermissionsRevoked { permissions } => {
            format!("The customer took back: {}.", list(permissions))
        }
        EntryKind::AppletOffered { request } => format!(
            "Remote control needs the native applet: its link was offered (request {request})."
        ),
        EntryKind::Media { media: m, change } => match change {
            MediaChange::Started => format!("The customer started {}.", media(*m)),
            MediaChange::Paused => format!("The customer paused {}.", media(*m)),
            MediaChange::Resumed => format!("The customer resumed {}.", media(*m)),
            MediaChange::Stopped { cause } => match cause {
                StopCause::Customer => format!("The customer stopped {}.", media(*m)),
                StopCause::Browser => format!("The browser stopped {}.", media(*m)),
                StopCause::Failed => format!("{} failed and stopped.", capitalise(media(*m))),
            },
        },
        EntryKind::PeerRestarted { media: m } => {
            format!("The connection for {} was restarted.", media(*m))
        }
        EntryKind::PathFailed { link, reason } => format!(
            "{} could not connect {}: {}.",
            who(entry.author),
            match link {
                Link::Screen => "screen sharing",
                Link::Camera => "the camera",
                Link::Files => "the file transfers",
            },
            match reason {
                PathFailure::IceFailed => "no network path worked, also after retrying",
                PathFailure::TimedOut => "no network path was found in time",
            }
        ),
        EntryKind::FileOffered { name, size, .. } => {
            format!(
                "{} offered the file “{name}” ({}).",
                who(entry.author),
                human_size(*size)
            )
        }
        EntryKind::FileAccepted { file } => format!("The customer accepted {}.", file_name(file)),
        EntryKind::FileRefused { file } => format!("The customer refused {}.", file_name(file)),
        EntryKind::FileSent { file, sha256 } => {
            format!("{} was sent (SHA-256 {sha256}).", file_name(file))
        }
        EntryKind::FileDelivered { file, sha256 } => {
            format!("{} arrived intact (SHA-256 {sha256}).", file_name(file))
        }
        EntryKind::FileFailed { file, reason } => format!(
            "{} was not delivered: {}.",
            file_name(file),
            match reason {
                FileFailure::Cancelled { by } =>
                    format!("cancelled by {}", role(*by).to_lowercase()),
                FileFailure::HashMismatch =>
                    "its SHA-256 did not match, so it was not saved".into(),
                FileFailure::ConnectionLost => "the connection broke".into(),
                FileFailure::Revoked => "the permission was taken back".into(),
                FileFailure::Ended => "the session ended".into(),
                FileFailure::Unreadable => "it could not be read or saved".into(),
                FileFailure::HandedOver => "the technician handed the session over".into(),
            }
        ),
        EntryKind::HandedOver { from, to: Some(to) } => format!(
            "{from} handed the session over to {to}; what was granted to {from} stopped."
        ),
        EntryKind::HandedOver { from, to: None } => format!(
            "{from} put the session back in the team's queue; what was granted to {from} stopped."
        ),
        EntryKind::TechnicianInvited { by, name } => {
            format!("{by} invited {name} to join the session.")
        }
        EntryKind::TechnicianJoined { name } => format!("{name} joined the session."),
        EntryKind::TechnicianLeft { name } => format!("{name} left the session."),
        EntryKind::SystemInfoShared { items } => format!(
            "The customer shared system information: {}.",
            items
                .iter()
                .map(|i| format!("{}: {}", i.label, i.value))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    }
}

/// A size in bytes as people read it (1,5 MB style, binary units).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} bytes");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

fn permission_words(p: Permission) -> &'static str {
    match p {
        Permission::ViewScreen => "see the screen",
        Permission::Camera => "see the camera",
        Permission::SendFiles => "send files",
        Permission::ReceiveFiles => "receive files",
        Permission::SystemInfo => "read system information",
        Permission::RemoteControl => "control the computer remotely",
    }
}

/// UTC date and time of a broker timestamp, `YYYY-MM-DD HH:MM:SS`.
pub fn utc(ms: Millis) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// A broker timestamp in `zone`, with its offset: `2026-11-27 23:53:20 +01:00`, in a
/// `<time>` element that also carries the exact instant.
pub fn local_time(ms: Millis, zone: &jiff::tz::TimeZone) -> String {
    match jiff::Timestamp::from_millisecond(ms as i64) {
        Ok(ts) => {
            let local = ts.to_zoned_datetime(zone.clone());
            format!(
                "<time datetime=\"{}\">{}</time>",
                ts,
                local.strftime("%Y-%m-%d %H:%M:%S %:z")
            )
        }
        Err(_) => format!("{} UTC", utc(ms)),
    }
}

/// The record as a self-contained page (all text escaped), its times in `zone`.
pub fn to_html(record: &SessionRecord, zone: &jiff::tz::TimeZone) -> String {
    let mut rows = String::new();
    let mut state = SessionState::default();
    for e in &record.entries {
        let line = describe(&e.entry, &record.technician, &state);
        // A record that breaks the rules still renders; verification is separate.
        let _ = state.apply(&e.entry);
        let class = match e.entry.kind {
            EntryKind::Chat { .. } => "chat",
            _ => "event",
        };
        // Each line in its own direction, without characters that reorder text.
        rows.push_str(&format!(
            "<tr class=\"{class}\"><td>{}</td><td class=\"at\">{}</td><td><bdi>{}</bdi></td><td class=\"hash\">{}</td></tr>\n",
            e.entry.seq,
            local_time(e.entry.at, zone),
            escape_html(&shown_text(&line)),
            e.hash.get(..16).unwrap_or(&e.hash),
        ));
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Support session record: {org}</title>\
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1f2b}}\
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #d8dce3;padding:.35rem .5rem;text-align:left;vertical-align:top}}\
tr.chat td:nth-child(3){{font-weight:600}}.hash{{font-family:monospace;color:#4a5263}}code{{word-break:break-all}}\
.at{{white-space:nowrap;font-variant-numeric:tabular-nums}}</style>\
</head><body>\n<h1>Support session record</h1>\n\
<p><strong>{org}</strong>, technician {tech}. Session {id}, opened {created}; this copy made {exported}. \
Times are in {zone_name} (with their offset from UTC).</p>\n\
<table><thead><tr><th>#</th><th>Time</th><th>What happened</th><th>Chain hash</th></tr></thead><tbody>\n{rows}</tbody></table>\n\
<p>Final hash of the log (SHA-256 chain): <code>{hash}</code></p>\n\
<p>Signed by the broker's key <code>{key_id}</code> (Ed25519): <code>{signature}</code></p>\n\
<p>Each entry's hash covers the one before it, so a change anywhere changes this final hash. \
The broker's signature covers this page's header, the number of entries and the final hash: \
anyone with the organisation's public key (at <code>/api/record-key</code>) can check the JSON \
form of this record, without the organisation's database, with \
<code>connectit-broker verify-record --public-key KEY FILE.json</code>.</p>\n</body></html>\n",
        org = escape_html(&shown_text(&record.organisation)),
        tech = escape_html(&shown_text(&record.technician)),
        key_id = escape_html(record.signature.as_ref().map(|s| s.key_id.as_str()).unwrap_or("none")),
        signature = escape_html(record.signature.as_ref().map(|s| s.value.as_str()).unwrap_or("none")),
        id = escape_html(&record.session.0),
        created = local_time(record.created_at, zone),
        exported = local_time(record.exported_at, zone),
        zone_name = escape_html(zone.iana_name().unwrap_or("UTC")),
        hash = escape_html(&record.final_hash),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(1_795_820_000_000), "2026-11-27 22:53:20");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00");
    }

    #[test]
    fn hex_round_trip() {
        let h = [0xabu8; 32];
        assert_eq!(unhex(&hex(&h)), Some(h));
        assert_eq!(unhex("zz"), None);
    }
}

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
use connectit_protocol::{shown_text, EntryKind, ErrorCode, LogEntry, Millis, Role, SessionId};
use serde::Deserialize;

use connectit_wording::{entry, Catalog, Msg};

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
    conn: &crate::sql::Connection,
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
    conn: &crate::sql::Connection,
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
                line: String::new(),
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
pub fn verify(conn: &crate::sql::Connection, record: &SessionRecord) -> Result<Verdict, DbError> {
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
    /// The language of the page and the lines (English by default).
    language: Option<String>,
}

/// `GET /api/sessions/{id}/record?format=html|json`: the technician's copy.
pub async fn technician_record(
    State(state): State<AppState>,
    crate::client::ClientIp(client): crate::client::ClientIp,
    Path(id): Path<String>,
    Query(query): Query<FormatQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    // Signed in, or an API token allowing `sessions:read`.
    let viewer = crate::integrations::viewer(&state, client, &headers).await?;
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
    let catalog = state.catalog(query.language.as_deref().unwrap_or("en"));
    respond(
        &state,
        id,
        query.format.unwrap_or(RecordFormat::Html),
        &catalog,
        Role::Technician,
    )
    .await
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
    let catalog = state.catalog(request.language.as_deref().unwrap_or("en"));
    respond(&state, id, request.format, &catalog, Role::Customer).await
}

async fn respond(
    state: &AppState,
    id: SessionId,
    format: RecordFormat,
    catalog: &Catalog,
    viewer: Role,
) -> Result<Response, AppError> {
    let organisation = state.config.organisation.clone();
    let key = id.clone();
    let found = state
        .db
        .call(move |conn| load_unsigned(conn, &organisation, &key, now_ms()))
        .await?;
    let mut record = found.ok_or(AppError(ErrorCode::NotFound))?;
    sign(&mut record, &state.signer);
    let lines = sentences(&record, catalog, viewer);
    for (entry, line) in record.entries.iter_mut().zip(lines) {
        entry.line = line;
    }
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
            (
                to_html(&record, &zone, catalog, viewer),
                "text/html; charset=utf-8",
                "html",
            )
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

/// Each entry's sentence as `viewer` reads it on their own page, in `catalog`'s
/// language: the app's own wording (`connectit_wording::entry::line`).
pub fn sentences(record: &SessionRecord, catalog: &Catalog, viewer: Role) -> Vec<String> {
    let entries: Vec<LogEntry> = record.entries.iter().map(|e| e.entry.clone()).collect();
    let in_charge = entry::in_charge_at(&entries);
    let files = entry::file_names(&entries);
    entries
        .iter()
        .zip(in_charge)
        .map(|(e, technician)| {
            let technician = technician.or(Some(record.technician.as_str()));
            let line = entry::line(catalog, e, viewer, None, technician, &files);
            match (line.chat, line.name, &e.kind) {
                (true, Some(name), _) => catalog.t(Msg::RecordChat {
                    name,
                    text: line.text,
                }),
                // A record proves which bytes went across: the whole hash, not the
                // page's short one.
                (
                    _,
                    _,
                    EntryKind::FileSent { sha256, .. } | EntryKind::FileDelivered { sha256, .. },
                ) => catalog.t(Msg::RecordWithHash {
                    line: line.text,
                    sha256: sha256.clone(),
                }),
                _ => line.text,
            }
        })
        .collect()
}

/// The record as a self-contained page (all text escaped), its times in `zone`, worded
/// in `catalog`'s language as `viewer` reads the log.
pub fn to_html(
    record: &SessionRecord,
    zone: &jiff::tz::TimeZone,
    catalog: &Catalog,
    viewer: Role,
) -> String {
    let mut rows = String::new();
    for (e, line) in record
        .entries
        .iter()
        .zip(sentences(record, catalog, viewer))
    {
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
    let t = |msg: Msg| escape_html(&catalog.t(msg));
    let organisation = shown_text(&record.organisation).into_owned();
    // The times are markup (`<time>`): escaped text around them, then put in.
    let (created, exported) = ("\u{e000}", "\u{e001}");
    let intro = t(Msg::RecordPageIntro {
        organisation: organisation.clone(),
        technician: shown_text(&record.technician).into_owned(),
        session: record.session.0.clone(),
        created: created.into(),
        exported: exported.into(),
        zone: zone.iana_name().unwrap_or("UTC").to_owned(),
    })
    .replace(created, &local_time(record.created_at, zone))
    .replace(exported, &local_time(record.exported_at, zone));
    let key_id = record
        .signature
        .as_ref()
        .map(|s| s.key_id.as_str())
        .unwrap_or("none");
    format!(
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<title>{title}</title>\
<style>body{{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1f2b}}\
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #d8dce3;padding:.35rem .5rem;text-align:left;vertical-align:top}}\
tr.chat td:nth-child(3){{font-weight:600}}.hash{{font-family:monospace;color:#4a5263}}code{{word-break:break-all}}\
.at{{white-space:nowrap;font-variant-numeric:tabular-nums}}</style>\
</head><body>\n<h1>{heading}</h1>\n<p>{intro}</p>\n\
<table><thead><tr><th>#</th><th>{col_time}</th><th>{col_what}</th><th>{col_hash}</th></tr></thead><tbody>\n{rows}</tbody></table>\n\
<p>{final_hash} <code>{hash}</code></p>\n\
<p>{signed_by} <code>{signature}</code></p>\n\
<p>{explain}</p>\n</body></html>\n",
        lang = escape_html(catalog.lang()),
        title = t(Msg::RecordTitle { organisation }),
        heading = t(Msg::RecordPageHeading),
        col_time = t(Msg::RecordColTime),
        col_what = t(Msg::RecordColWhat),
        col_hash = t(Msg::RecordColHash),
        final_hash = t(Msg::RecordFinalHash),
        signed_by = t(Msg::RecordSignedBy {
            key: key_id.to_owned()
        }),
        explain = t(Msg::RecordExplain),
        signature = escape_html(record.signature.as_ref().map(|s| s.value.as_str()).unwrap_or("none")),
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

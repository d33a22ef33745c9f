//! The history of ended sessions, and reports over it, for whom each may see: a
//! technician their own sessions, a team lead also their teams', an admin all.
//! `GET /api/history` searches (customer, technician, team, ticket, chat text, a range
//! of end times), `GET /api/history.csv` exports the same search, `GET /api/reports`
//! sums up the survey answers (by technician and team) and the waiting and session
//! times over a range. A session one may see here opens with its record
//! (`/api/sessions/{id}/record`).

use crate::sql::Value;
use crate::sql::{Connection, OptionalExtension};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use connectit_protocol::api::{
    AccountRole, HistoryQuery, HistoryRow, Report, SessionDetails, SurveyFigures, TeamRef,
    TechnicianRef, TimeFigures,
};
use connectit_protocol::{EntryKind, Millis, SessionId};
use serde::Deserialize;

use crate::auth::require_technician;
use crate::db::{self, DbError};
use crate::error::AppError;
use crate::AppState;

/// Rows one search answers at most.
pub const MAX_ROWS: u32 = 500;
/// Sessions one report reads at most.
const REPORT_ROWS: u32 = 100_000;

/// Who is looking, and so what they may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Viewer {
    pub id: i64,
    pub role: AccountRole,
}

/// The SQL condition on `s` (sessions) for what `viewer` may see, with its parameters.
fn scope(viewer: Viewer) -> (&'static str, Vec<Value>) {
    match viewer.role {
        AccountRole::Admin => ("1 = 1", vec![]),
        AccountRole::TeamLead => (
            "(s.technician_id = ? OR s.team_id IN
              (SELECT team_id FROM team_members WHERE technician_id = ?))",
            vec![Value::Integer(viewer.id), Value::Integer(viewer.id)],
        ),
        AccountRole::Technician => ("s.technician_id = ?", vec![Value::Integer(viewer.id)]),
    }
}

/// Whether `viewer` may see session `id` (and its record).
pub fn may_see(conn: &Connection, viewer: Viewer, id: &SessionId) -> Result<bool, DbError> {
    let (clause, mut values) = scope(viewer);
    values.push(Value::Text(id.0.clone()));
    Ok(conn
        .query_row(
            &format!("SELECT 1 FROM sessions s WHERE {clause} AND s.id = ?"),
            values,
            |_| Ok(()),
        )
        .optional()?
        .is_some())
}

/// `%text%` for LIKE, with the wildcards in `text` taken literally (escape `\`).
fn contains(text: &str) -> Value {
    let escaped: String = text
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    Value::Text(format!("%{escaped}%"))
}

/// The ended sessions `viewer` may see that `q` asks for, newest first.
pub fn search(
    conn: &Connection,
    viewer: Viewer,
    q: &HistoryQuery,
    limit: u32,
) -> Result<Vec<HistoryRow>, DbError> {
    let (clause, mut values) = scope(viewer);
    let mut sql = format!(
        r#"SELECT s.id, s.created_at, s.phase_since, s.customer_name, s.problem, s.ticket,
              tm.slug, tm.name, t.username, t.display_name,
              (SELECT kind FROM entries e WHERE e.session_id = s.id
                 AND e.kind LIKE '{{"type":"session_ended"%' LIMIT 1),
              (SELECT count(*) FROM entries e WHERE e.session_id = s.id
                 AND e.kind LIKE '{{"type":"chat"%'),
              (SELECT min(at) FROM entries e WHERE e.session_id = s.id
                 AND e.kind LIKE '{{"type":"terms_accepted"%'),
              (SELECT min(at) FROM entries e WHERE e.session_id = s.id
                 AND e.kind LIKE '{{"type":"technician_picked_up"%'),
              sv.rating, sv.resolved
         FROM sessions s
         LEFT JOIN teams tm ON tm.id = s.team_id
         LEFT JOIN technicians t ON t.id = s.technician_id
         LEFT JOIN surveys sv ON sv.session_id = s.id
         WHERE s.phase = 'ended' AND {clause}"#
    );
    let mut like = |column: &str, text: &str| {
        let text = text.trim();
        if !text.is_empty() {
            sql.push_str(&format!(" AND {column} LIKE ? ESCAPE '\\'"));
            values.push(contains(text));
        }
    };
    like("s.customer_name", &q.customer);
    like("s.ticket", &q.ticket);
    like("tm.slug", &q.team);
    let technician = q.technician.trim();
    if !technician.is_empty() {
        sql.push_str(" AND (t.username LIKE ? ESCAPE '\\' OR t.display_name LIKE ? ESCAPE '\\')");
        values.push(contains(technician));
        values.push(contains(technician));
    }
    let text = q.text.trim();
    if !text.is_empty() {
        // As the words are stored: inside the entry's JSON.
        let json = serde_json::to_string(text).map_err(DbError::Encode)?;
        let json = json.trim_matches('"');
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM entries e WHERE e.session_id = s.id
               AND e.kind LIKE '{\"type\":\"chat\"%' AND e.kind LIKE ? ESCAPE '\\')",
        );
        values.push(contains(json));
    }
    if let Some(from) = q.from {
        sql.push_str(" AND s.phase_since >= ?");
        values.push(Value::Integer(from as i64));
    }
    if let Some(to) = q.to {
        sql.push_str(" AND s.phase_since < ?");
        values.push(Value::Integer(to as i64));
    }
    sql.push_str(" ORDER BY s.phase_since DESC, s.id LIMIT ?");
    values.push(Value::Integer(i64::from(limit)));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map(values, |r| {
            let ended_at = r.get::<i64>(2)? as Millis;
            let accepted: Option<i64> = r.get(12)?;
            let picked: Option<i64> = r.get(13)?;
            let end_kind: Option<String> = r.get(10)?;
            let team = match (r.get::<Option<String>>(6)?, r.get(7)?) {
                (Some(slug), Some(name)) => Some(TeamRef { slug, name }),
                _ => None,
            };
            let technician = match (r.get::<Option<String>>(8)?, r.get(9)?) {
                (Some(username), Some(display_name)) => Some(TechnicianRef {
                    username,
                    display_name,
                }),
                _ => None,
            };
            Ok(HistoryRow {
                id: SessionId(r.get(0)?),
                created_at: r.get::<i64>(1)? as Millis,
                ended_at,
                details: SessionDetails {
                    customer_name: r.get(3)?,
                    problem: r.get(4)?,
                    ticket: r.get(5)?,
                },
                team,
                technician,
                end_reason: end_kind
                    .and_then(|k| serde_json::from_str::<EntryKind>(&k).ok())
                    .and_then(|k| match k {
                        EntryKind::SessionEnded { reason } => Some(reason),
                        _ => None,
                    }),
                messages: r.get::<i64>(11)? as u64,
                waited_secs: match (accepted, picked) {
                    (Some(a), Some(p)) if p >= a => Some(((p - a) / 1000) as u64),
                    _ => None,
                },
                duration_secs: picked
                    .filter(|p| *p as Millis <= ended_at)
                    .map(|p| (ended_at - p as Millis) / 1000),
                rating: r.get::<Option<i64>>(14)?.map(|v| v as u8),
                resolved: r.get(15)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

fn figures<'a>(rows: impl Iterator<Item = &'a HistoryRow>) -> SurveyFigures {
    let (mut sessions, mut answered, mut ratings, mut said, mut resolved) = (0, 0, 0u64, 0, 0);
    for row in rows {
        sessions += 1;
        if let Some(rating) = row.rating {
            answered += 1;
            ratings += u64::from(rating);
        }
        if let Some(r) = row.resolved {
            said += 1;
            resolved += u64::from(r);
        }
    }
    SurveyFigures {
        sessions,
        answered,
        average_rating: (answered > 0).then(|| ratings as f64 / answered as f64),
        resolved_share: (said > 0).then(|| resolved as f64 / said as f64),
    }
}

/// The median and 90th percentile (nearest rank) of `values`.
pub fn times(mut values: Vec<u64>) -> TimeFigures {
    values.sort_unstable();
    let rank = |p: f64| {
        let n = values.len();
        (n > 0).then(|| values[((p * n as f64).ceil() as usize).clamp(1, n) - 1])
    };
    TimeFigures {
        count: values.len() as u64,
        median_secs: rank(0.5),
        p90_secs: rank(0.9),
    }
}

/// The report over the ended sessions `viewer` may see that ended in `[from, to)`.
pub fn report(
    conn: &Connection,
    viewer: Viewer,
    from: Option<Millis>,
    to: Option<Millis>,
) -> Result<Report, DbError> {
    let query = HistoryQuery {
        from,
        to,
        ..Default::default()
    };
    let rows = search(conn, viewer, &query, REPORT_ROWS)?;
    let mut technicians: Vec<TechnicianRef> = Vec::new();
    let mut teams: Vec<TeamRef> = Vec::new();
    for row in &rows {
        if let Some(t) = row.technician.as_ref().filter(|t| !technicians.contains(t)) {
            technicians.push(t.clone());
        }
        if let Some(t) = row.team.as_ref().filter(|t| !teams.contains(t)) {
            teams.push(t.clone());
        }
    }
    technicians.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    teams.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Report {
        from,
        to,
        surveys: figures(rows.iter()),
        by_technician: technicians
            .into_iter()
            .map(|t| {
                let f = figures(rows.iter().filter(|r| r.technician.as_ref() == Some(&t)));
                (t, f)
            })
            .collect(),
        by_team: teams
            .into_iter()
            .map(|t| {
                let f = figures(rows.iter().filter(|r| r.team.as_ref() == Some(&t)));
                (t, f)
            })
            .collect(),
        waiting: times(rows.iter().filter_map(|r| r.waited_secs).collect()),
        sessions: times(rows.iter().filter_map(|r| r.duration_secs).collect()),
    })
}

/// A CSV cell: quoted, quotes doubled, and a leading `=`, `+`, `-`, `@`, tab or
/// carriage return defused with `'` (a spreadsheet would run it as a formula).
fn cell(text: &str) -> String {
    let defused = match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

fn iso(at: Millis) -> String {
    jiff::Timestamp::from_millisecond(at as i64)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// The rows as CSV (RFC 4180, CRLF), with a header line.
pub fn csv(rows: &[HistoryRow]) -> String {
    let mut out = String::from(
        "session,created,ended,customer,problem,ticket,team,technician,end_reason,messages,waited_secs,duration_secs,rating,resolved\r\n",
    );
    for r in rows {
        let reason = r
            .end_reason
            .and_then(|e| serde_json::to_value(e).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let number = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
        let fields = [
            cell(&r.id.0),
            cell(&iso(r.created_at)),
            cell(&iso(r.ended_at)),
            cell(&r.details.customer_name),
            cell(&r.details.problem),
            cell(&r.details.ticket),
            cell(r.team.as_ref().map_or("", |t| t.slug.as_str())),
            cell(r.technician.as_ref().map_or("", |t| t.username.as_str())),
            cell(&reason),
            r.messages.to_string(),
            number(r.waited_secs),
            number(r.duration_secs),
            number(r.rating.map(u64::from)),
            r.resolved.map(|b| b.to_string()).unwrap_or_default(),
        ];
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The signed-in technician as a viewer.
pub async fn viewer(state: &AppState, headers: &HeaderMap) -> Result<Viewer, AppError> {
    let technician = require_technician(state, headers).await?;
    let id = technician.id;
    let role = state.db.call(move |conn| db::role_of(conn, id)).await?;
    Ok(Viewer { id, role })
}

fn limit_of(q: &HistoryQuery) -> u32 {
    q.limit.unwrap_or(100).clamp(1, MAX_ROWS)
}

/// `GET /api/history?…`.
pub async fn history(
    State(state): State<AppState>,
    Query(q): Query<HistoryQuery>,
    headers: HeaderMap,
) -> Result<Json<Vec<HistoryRow>>, AppError> {
    let viewer = viewer(&state, &headers).await?;
    let limit = limit_of(&q);
    Ok(Json(
        state
            .db
            .call(move |conn| search(conn, viewer, &q, limit))
            .await?,
    ))
}

/// `GET /api/history.csv?…`: the same search as a file.
pub async fn history_csv(
    State(state): State<AppState>,
    Query(q): Query<HistoryQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let viewer = viewer(&state, &headers).await?;
    let limit = limit_of(&q);
    let rows = state
        .db
        .call(move |conn| search(conn, viewer, &q, limit))
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"connectit-history.csv\"",
            ),
        ],
        csv(&rows),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct RangeQuery {
    from: Option<Millis>,
    to: Option<Millis>,
}

/// `GET /api/reports?from=&to=`.
pub async fn reports(
    State(state): State<AppState>,
    Query(range): Query<RangeQuery>,
    headers: HeaderMap,
) -> Result<Json<Report>, AppError> {
    let viewer = viewer(&state, &headers).await?;
    Ok(Json(
        state
            .db
            .call(move |conn| report(conn, viewer, range.from, range.to))
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_nearest_rank() {
        let t = times((1..=10).collect());
        assert_eq!((t.count, t.median_secs, t.p90_secs), (10, Some(5), Some(9)));
        assert_eq!(times(vec![]).median_secs, None);
        assert_eq!(times(vec![7]).p90_secs, Some(7));
    }

    #[test]
    fn a_cell_cannot_become_a_formula() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(cell("-1"), "\"'-1\"");
        assert_eq!(cell("Ann"), "\"Ann\"");
    }

    #[test]
    fn wildcards_in_a_search_are_literal() {
        assert_eq!(contains("50%_off"), Value::Text("%50\\%\\_off%".into()));
    }
}

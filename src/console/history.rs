//! The history (`#history`): ended sessions one may see (one's own; a team lead's
//! teams'; an admin's all), searched by words of the chat, customer, technician, team,
//! ticket and a range of days, each opening its record; the search as a CSV file; and
//! the report over the same days: survey answers (by technician and team) and the
//! waiting and session times.

use connectit_protocol::api::{HistoryRow, Report, SurveyFigures, TimeFigures};
use connectit_protocol::{shown_text, Millis};
use wasm_bindgen::JsValue;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::form::Field;
use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, I18n, Msg};
use crate::time;
use crate::widgets::ErrorText;

/// The search as the form holds it.
#[derive(Debug, Clone, PartialEq, Default)]
struct Search {
    text: String,
    customer: String,
    technician: String,
    team: String,
    ticket: String,
    /// `YYYY-MM-DD`, as a date field gives it.
    from: String,
    to: String,
}

/// Local midnight of a `YYYY-MM-DD` day, `days` days later, in broker time (ms).
fn day_start(day: &str, days: u32) -> Option<Millis> {
    if day.len() != 10 {
        return None;
    }
    let date = js_sys::Date::new(&JsValue::from_str(&format!("{day}T00:00")));
    let ms = date.get_time();
    if ms.is_nan() {
        return None;
    }
    Some(ms as Millis + u64::from(days) * 24 * 3600 * 1000)
}

impl Search {
    /// The query string (with its `?`), for the search and for the report.
    fn query(&self, report: bool) -> String {
        let mut parts = Vec::new();
        let mut put = |key: &str, value: &str| {
            let value = value.trim();
            if !value.is_empty() {
                let encoded: String = js_sys::encode_uri_component(value).into();
                parts.push(format!("{key}={encoded}"));
            }
        };
        if !report {
            put("text", &self.text);
            put("customer", &self.customer);
            put("technician", &self.technician);
            put("team", &self.team);
            put("ticket", &self.ticket);
        }
        if let Some(from) = day_start(&self.from, 0) {
            parts.push(format!("from={from}"));
        }
        // The "to" day is included: up to the next midnight.
        if let Some(to) = day_start(&self.to, 1) {
            parts.push(format!("to={to}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
    }
}

fn duration(secs: Option<u64>) -> String {
    secs.map(time::clock_duration).unwrap_or_default()
}

fn figures_row(i18n: &I18n, name: String, f: &SurveyFigures) -> Html {
    html! {
        <tr>
            <td><bdi>{ name }</bdi></td>
            <td class="number">{ f.sessions }</td>
            <td class="number">{ f.answered }</td>
            <td class="number">{ f.average_rating.map(|r| i18n.decimal(r, 1)).unwrap_or_default() }</td>
            <td class="number">{ f.resolved_share.map(|s| format!("{} %", i18n.decimal(s * 100.0, 0))).unwrap_or_default() }</td>
        </tr>
    }
}

fn times_text(i18n: &I18n, t: &TimeFigures) -> String {
    match (t.median_secs, t.p90_secs) {
        (Some(median), Some(p90)) => i18n.t(Msg::ReportTimes {
            count: t.count,
            median: time::clock_duration(median),
            p90: time::clock_duration(p90),
        }),
        _ => i18n.t(Msg::ReportNoTimes),
    }
}

#[derive(Properties, PartialEq)]
pub struct HistoryPageProps {
    pub on_back: Callback<()>,
}

#[component]
pub fn HistoryPage(props: &HistoryPageProps) -> Html {
    let i18n = use_i18n();
    let search = use_state(Search::default);
    let asked = use_state(Search::default);
    let rows = use_state(|| None::<Vec<HistoryRow>>);
    let report = use_state(|| None::<Report>);
    let problem = use_state(|| None::<ApiError>);
    {
        let (rows, report, problem) = (rows.clone(), report.clone(), problem.clone());
        use_effect_with((*asked).clone(), move |asked| {
            let (query, range) = (asked.query(false), asked.query(true));
            spawn_local(async move {
                match (api::history(&query).await, api::report(&range).await) {
                    (Ok(found), Ok(figures)) => {
                        rows.set(Some(found));
                        report.set(Some(figures));
                        problem.set(None);
                    }
                    (Err(e), _) | (_, Err(e)) => problem.set(Some(e)),
                }
            });
        });
    }
    let field = |pick: fn(&mut Search) -> &mut String| {
        let search = search.clone();
        Callback::from(move |value: String| {
            let mut next = (*search).clone();
            *pick(&mut next) = value;
            search.set(next);
        })
    };
    let submit = {
        let (search, asked) = (search.clone(), asked.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            asked.set((*search).clone());
        })
    };
    let export = format!("/api/history.csv{}", asked.query(false));
    let body = rows.as_ref().map(|rows| {
        rows.iter()
            .map(|r| {
                let customer = match r.details.customer_name.as_str() {
                    "" => i18n.t(Msg::Unknown),
                    name => shown_text(name).into_owned(),
                };
                let record = format!(
                    "/api/sessions/{}/record?format=html&language={}",
                    r.id,
                    i18n.lang()
                );
                html! {
                    <tr key={r.id.0.clone()} class="history-row" data-session-id={r.id.0.clone()}>
                        <td><time datetime={time::iso(r.ended_at)}>{ time::date_time(r.ended_at) }</time></td>
                        <td><bdi>{ customer }</bdi></td>
                        <td><bdi>{ shown_text(&r.details.problem).into_owned() }</bdi></td>
                        <td><bdi>{ shown_text(&r.details.ticket).into_owned() }</bdi></td>
                        <td>{ r.team.as_ref().map(|t| shown_text(&t.name).into_owned()).unwrap_or_default() }</td>
                        <td>{ r.technician.as_ref().map(|t| shown_text(&t.display_name).into_owned()).unwrap_or_default() }</td>
                        <td>{ r.end_reason.map(|e| i18n.end_reason_technician(e)).unwrap_or_default() }</td>
                        <td class="number">{ r.rating.map(|v| v.to_string()).unwrap_or_default() }</td>
                        <td class="number">{ duration(r.waited_secs) }</td>
                        <td class="number">{ duration(r.duration_secs) }</td>
                        <td><a class="history-record" href={record} target="_blank" rel="noopener">{ i18n.t(Msg::HistoryRecord) }</a></td>
                    </tr>
                }
            })
            .collect::<Html>()
    });
    let back = props.on_back.reform(|_: MouseEvent| ());
    let s = &*search;
    html! {
        <section id="history" class="card history" aria-labelledby="history-heading">
            <button id="history-back" type="button" class="link-button" onclick={back}>{ "← " }{ i18n.t(Msg::BackToList) }</button>
            <h1 id="history-heading">{ i18n.t(Msg::HistoryHeading) }</h1>
            <form id="history-form" class="history-form" onsubmit={submit} novalidate=true>
                <Field id="history-text" label={i18n.t(Msg::HistoryText)} value={AttrValue::from(s.text.clone())} on_change={field(|s| &mut s.text)} />
                <Field id="history-customer" label={i18n.t(Msg::DetailsName)} value={AttrValue::from(s.customer.clone())} on_change={field(|s| &mut s.customer)} />
                <Field id="history-technician" label={i18n.t(Msg::HistoryTechnician)} value={AttrValue::from(s.technician.clone())} on_change={field(|s| &mut s.technician)} />
                <Field id="history-team" label={i18n.t(Msg::HistoryTeam)} value={AttrValue::from(s.team.clone())} on_change={field(|s| &mut s.team)} />
                <Field id="history-ticket" label={i18n.t(Msg::DetailsTicket)} value={AttrValue::from(s.ticket.clone())} on_change={field(|s| &mut s.ticket)} />
                <Field id="history-from" kind="date" label={i18n.t(Msg::HistoryFrom)} value={AttrValue::from(s.from.clone())} on_change={field(|s| &mut s.from)} />
                <Field id="history-to" kind="date" label={i18n.t(Msg::HistoryTo)} value={AttrValue::from(s.to.clone())} on_change={field(|s| &mut s.to)} />
                <div class="actions">
                    <button id="history-search" type="submit" class="primary">{ i18n.t(Msg::HistorySearch) }</button>
                    <a id="history-export" class="button-link" href={export} download="connectit-history.csv">{ i18n.t(Msg::HistoryExport) }</a>
                </div>
            </form>
            <ErrorText id="history-error" message={problem.as_ref().map(|e| i18n.api_error(e))} />
            if let Some(body) = body {
                <div class="table-scroll">
                    <table id="history-results" data-count={rows.as_ref().map_or(0, |r| r.len()).to_string()}>
                        <thead>
                            <tr>
                                <th scope="col">{ i18n.t(Msg::HistoryEnded) }</th>
                                <th scope="col">{ i18n.t(Msg::DetailsName) }</th>
                                <th scope="col">{ i18n.t(Msg::DetailsProblem) }</th>
                                <th scope="col">{ i18n.t(Msg::DetailsTicket) }</th>
                                <th scope="col">{ i18n.t(Msg::HistoryTeam) }</th>
                                <th scope="col">{ i18n.t(Msg::HistoryTechnician) }</th>
                                <th scope="col">{ i18n.t(Msg::HistoryOutcome) }</th>
                                <th scope="col">{ i18n.t(Msg::HistoryRating) }</th>
                                <th scope="col">{ i18n.t(Msg::HistoryWaited) }</th>
                                <th scope="col">{ i18n.t(Msg::HistoryDuration) }</th>
                                <th scope="col"><span class="visually-hidden">{ i18n.t(Msg::HistoryRecord) }</span></th>
                            </tr>
                        </thead>
                        <tbody>{ body }</tbody>
                    </table>
                </div>
            } else {
                <p class="loading" role="status">{ i18n.t(Msg::Loading) }</p>
            }
            if let Some(report) = &*report {
                <section id="report" class="report" aria-labelledby="report-heading"
                    data-sessions={report.surveys.sessions.to_string()}
                    data-answered={report.surveys.answered.to_string()}
                    data-average={report.surveys.average_rating.map(|r| format!("{r:.2}")).unwrap_or_default()}>
                    <h2 id="report-heading">{ i18n.t(Msg::ReportHeading) }</h2>
                    <div class="table-scroll">
                        <table id="report-surveys">
                            <thead>
                                <tr>
                                    <th scope="col"></th>
                                    <th scope="col">{ i18n.t(Msg::ReportSessions) }</th>
                                    <th scope="col">{ i18n.t(Msg::ReportAnswered) }</th>
                                    <th scope="col">{ i18n.t(Msg::ReportAverage) }</th>
                                    <th scope="col">{ i18n.t(Msg::ReportResolved) }</th>
                                </tr>
                            </thead>
                            <tbody>
                                { figures_row(&i18n, i18n.t(Msg::ReportAll), &report.surveys) }
                                { for report.by_team.iter().map(|(t, f)| figures_row(&i18n, shown_text(&t.name).into_owned(), f)) }
                                { for report.by_technician.iter().map(|(t, f)| figures_row(&i18n, shown_text(&t.display_name).into_owned(), f)) }
                            </tbody>
                        </table>
                    </div>
                    <p id="report-waiting">{ i18n.t(Msg::ReportWaiting) }{ " " }{ times_text(&i18n, &report.waiting) }</p>
                    <p id="report-durations">{ i18n.t(Msg::ReportDurations) }{ " " }{ times_text(&i18n, &report.sessions) }</p>
                </section>
            }
        </section>
    }
}

//! The security log (`#audit-log`): sign-ins, sign-outs and the broker's refusals,
//! newest first, a hundred lines at a time.

use std::rc::Rc;

use connectit_protocol::api::AuditEntry;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, Msg};
use crate::time;
use crate::widgets::use_title;

/// Lines per page (the broker's `limit`).
const PAGE: usize = 100;

#[derive(Properties, PartialEq)]
pub struct AuditLogProps {
    pub on_back: Callback<()>,
}

/// What has been read so far.
#[derive(Debug, Clone, PartialEq, Default)]
struct Lines {
    items: Rc<Vec<AuditEntry>>,
    /// Whether older lines may exist.
    more: bool,
    loading: bool,
    problem: Option<ApiError>,
}

#[component]
pub fn AuditLog(props: &AuditLogProps) -> Html {
    let i18n = use_i18n();
    use_title(i18n.title(Msg::AuditHeading, &i18n.t(Msg::ConsoleTitle)));
    let lines = use_state(|| Lines {
        loading: true,
        ..Lines::default()
    });
    let load = {
        let lines = lines.clone();
        Callback::from(move |before: Option<i64>| {
            let lines = lines.clone();
            lines.set(Lines {
                loading: true,
                ..(*lines).clone()
            });
            spawn_local(async move {
                match api::audit(before).await {
                    Ok(page) => {
                        let mut items = if before.is_some() {
                            (*lines.items).clone()
                        } else {
                            Vec::new()
                        };
                        let more = page.len() == PAGE;
                        items.extend(page);
                        lines.set(Lines {
                            items: Rc::new(items),
                            more,
                            loading: false,
                            problem: None,
                        });
                    }
                    Err(e) => lines.set(Lines {
                        loading: false,
                        problem: Some(e),
                        ..(*lines).clone()
                    }),
                }
            });
        })
    };
    {
        let load = load.clone();
        use_effect_with((), move |_| load.emit(None));
    }
    let older = {
        let (load, last) = (load.clone(), lines.items.last().map(|l| l.id));
        Callback::from(move |_: MouseEvent| load.emit(last))
    };
    let back = props.on_back.reform(|_: MouseEvent| ());
    let items = lines.items.clone();
    let rows: Vec<Html> = items.iter().map(|l| {
        html! {
            <tr key={l.id.to_string()} data-kind={kind_attr(l)}>
                <td><time datetime={time::iso(l.at)}>{ time::date_time(l.at) }</time></td>
                <td>{ i18n.audit_kind(l.kind) }</td>
                <td>{ l.address.clone().unwrap_or_default() }</td>
                <td><bdi>{ l.account.as_deref().map(|a| connectit_protocol::shown_text(a).into_owned()).unwrap_or_default() }</bdi></td>
                <td class="number">{ l.count }</td>
                <td><bdi>{ connectit_protocol::shown_text(&l.detail).into_owned() }</bdi></td>
            </tr>
        }
    }).collect();
    html! {
        <section id="audit-log" class="card audit" aria-labelledby="audit-heading">
            <div class="session-bar">
                <button id="back-to-list" type="button" class="link-button" onclick={back}>
                    { "← " }{ i18n.t(Msg::BackToList) }
                </button>
            </div>
            <h1 id="audit-heading">{ i18n.t(Msg::AuditHeading) }</h1>
            <p class="intro">{ i18n.t(Msg::AuditIntro) }</p>
            if let Some(error) = lines.problem {
                <p class="notice" role="alert">{ i18n.api_error(&error) }</p>
            }
            if lines.items.is_empty() && !lines.loading {
                <p class="empty">{ i18n.t(Msg::AuditEmpty) }</p>
            } else {
                <div class="table-scroll">
                    <table>
                        <thead><tr>
                            <th scope="col">{ i18n.t(Msg::AuditTime) }</th>
                            <th scope="col">{ i18n.t(Msg::AuditEvent) }</th>
                            <th scope="col">{ i18n.t(Msg::AuditAddress) }</th>
                            <th scope="col">{ i18n.t(Msg::AuditAccount) }</th>
                            <th scope="col">{ i18n.t(Msg::AuditCount) }</th>
                            <th scope="col">{ i18n.t(Msg::AuditDetail) }</th>
                        </tr></thead>
                        <tbody>{ for rows }</tbody>
                    </table>
                </div>
            }
            if lines.loading {
                <p class="loading" role="status">{ i18n.t(Msg::Loading) }</p>
            } else if lines.more {
                <button id="audit-older" type="button" class="secondary" onclick={older}>{ i18n.t(Msg::AuditOlder) }</button>
            }
        </section>
    }
}

/// The `data-kind` value of a line (the broker's own name for its kind).
pub fn kind_attr(line: &AuditEntry) -> String {
    serde_json::to_value(line.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

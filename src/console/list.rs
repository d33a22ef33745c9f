//! The list of the technician's sessions (`#session-list`): one row per session with
//! its phase, live, and a button to open it.

use connectit_protocol::api::SessionSummary;
use connectit_protocol::{Phase, SessionId};
use yew::prelude::*;

use crate::i18n::{use_i18n, Msg};
use crate::widgets::use_now;
use crate::{clock, time};

/// The `data-phase` value (the protocol's own name for it).
pub fn phase_attr(phase: Phase) -> &'static str {
    match phase {
        Phase::Created => "created",
        Phase::Connecting => "connecting",
        Phase::Waiting => "waiting",
        Phase::Active => "active",
        Phase::Ended => "ended",
    }
}

#[derive(Properties, PartialEq)]
pub struct SessionListProps {
    pub sessions: Vec<SessionSummary>,
    /// Each session's messages the technician has not seen, in the same order.
    #[prop_or_default]
    pub unread: Vec<u64>,
    pub on_open: Callback<SessionId>,
}

#[component]
pub fn SessionList(props: &SessionListProps) -> Html {
    let i18n = use_i18n();
    // Re-render every second for the PIN countdowns.
    let _tick = use_now(1000);
    if props.sessions.is_empty() {
        return html! {
            <ul id="session-list" class="session-list"><li class="empty">{ i18n.t(Msg::NoSessions) }</li></ul>
        };
    }
    let rows = props.sessions.iter().enumerate().map(|(i, s)| {
        let unread = props.unread.get(i).copied().unwrap_or(0);
        let id = s.id.clone();
        let open = props.on_open.reform(move |_: MouseEvent| id.clone());
        let created = time::hh_mm(s.created_at);
        let pin_left = s.pin_valid_until().map(clock::secs_until);
        html! {
            <li key={s.id.0.clone()} class="session-row" data-session-id={s.id.0.clone()}
                data-phase={phase_attr(s.phase)}>
                <div class="session-row-main">
                    <span class={classes!("badge", format!("phase-{}", phase_attr(s.phase)))}>
                        { i18n.phase(s.phase) }
                    </span>
                    if !s.details.customer_name.is_empty() {
                        <span class="session-customer"><bdi>{ connectit_protocol::shown_text(&s.details.customer_name).into_owned() }</bdi></span>
                    }
                    <span class="session-created">{ i18n.t(Msg::SessionRowLabel { created: created.clone() }) }</span>
                </div>
                if !s.details.problem.is_empty() {
                    <p class="queue-problem"><bdi>{ connectit_protocol::shown_text(&s.details.problem).into_owned() }</bdi></p>
                }
                <div class="session-row-meta">
                    <span>{ i18n.messages(s.messages) }</span>
                    if unread > 0 {
                        <span class="unread" data-count={unread.to_string()}>
                            { i18n.t(Msg::UnreadMessages { count: unread }) }
                        </span>
                    }
                    if s.phase != Phase::Ended && s.phase != Phase::Created {
                        <span class={classes!("presence", s.customer_online.then_some("online"))}>
                            { i18n.t(if s.customer_online { Msg::CustomerOnline } else { Msg::CustomerOffline }) }
                        </span>
                    }
                    if let (Some(code), Phase::Connecting | Phase::Waiting) = (&s.check_code, s.phase) {
                        <span class="row-check-code" data-code={code.clone()}>
                            { i18n.t(Msg::ListCheckCode { code: crate::widgets::spaced(code) }) }
                        </span>
                    }
                    if s.candidates > 1 && matches!(s.phase, Phase::Connecting | Phase::Waiting) {
                        <span class="row-candidates warning">{ i18n.t(Msg::ListCandidates { count: s.candidates.into() }) }</span>
                    }
                    if let Some(left) = pin_left {
                        <span>{ i18n.t(if left > 0 { Msg::PinValidFor { left: time::clock_duration(left) } } else { Msg::PinExpired }) }</span>
                    }
                </div>
                <button type="button" class="open-session secondary" onclick={open}
                    aria-label={i18n.t(Msg::OpenSessionLabel { created })}>
                    { i18n.t(Msg::OpenSession) }
                </button>
            </li>
        }
    });
    html! { <ul id="session-list" class="session-list">{ for rows }</ul> }
}

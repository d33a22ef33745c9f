//! Handing a session over (`#hand-over-panel`), for the technician who has it: to a
//! colleague from their teams, or back to the team's queue, with a note kept as a
//! private note for whoever takes it; and inviting a colleague to join. Who else is in
//! the session, or invited, is listed here too. The log says each step to everyone.

use connectit_protocol::api::{SessionSummary, TechnicianRef};
use connectit_protocol::{limits, shown_text, SessionId};
use wasm_bindgen::JsCast;
use web_sys::{HtmlSelectElement, HtmlTextAreaElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, Msg};

/// The value of the "to" list that stands for the team's queue.
const QUEUE: &str = "";

#[derive(Properties, PartialEq)]
pub struct HandOverPanelProps {
    pub session: SessionId,
    /// The session as the console's list has it (its team, who joined, who is invited).
    pub summary: Option<SessionSummary>,
}

fn names(list: &[TechnicianRef]) -> String {
    list.iter()
        .map(|t| shown_text(&t.display_name).into_owned())
        .collect::<Vec<_>>()
        .join(", ")
}

fn selected(e: &Event) -> Option<String> {
    e.target()?
        .dyn_ref::<HtmlSelectElement>()
        .map(HtmlSelectElement::value)
}

#[component]
pub fn HandOverPanel(props: &HandOverPanelProps) -> Html {
    let i18n = use_i18n();
    let colleagues = use_state(|| None::<Vec<TechnicianRef>>);
    let problem = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let has_team = props.summary.as_ref().is_some_and(|s| s.team.is_some());
    let to = use_state(String::new);
    let guest = use_state(String::new);
    let note = use_state(String::new);
    {
        let (colleagues, problem) = (colleagues.clone(), problem.clone());
        use_effect_with(props.session.clone(), move |_| {
            spawn_local(async move {
                match api::colleagues().await {
                    Ok(list) => colleagues.set(Some(list)),
                    Err(e) => problem.set(Some(e)),
                }
            });
        });
    }
    let list = (*colleagues).clone().unwrap_or_default();
    // The first choice until one is made: the queue if there is one, else the first
    // colleague.
    let to_value = match (to.as_str(), has_team, list.first()) {
        ("", false, Some(first)) => first.username.clone(),
        (chosen, _, _) => chosen.to_string(),
    };
    let guest_value = match (guest.as_str(), list.first()) {
        ("", Some(first)) => first.username.clone(),
        (chosen, _) => chosen.to_string(),
    };
    let hand_over = {
        let (busy, problem, note, session) = (
            busy.clone(),
            problem.clone(),
            note.clone(),
            props.session.clone(),
        );
        let to_value = to_value.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            problem.set(None);
            let target = (to_value != QUEUE).then(|| to_value.clone());
            let (busy, problem, text, session) = (
                busy.clone(),
                problem.clone(),
                note.trim().to_string(),
                session.clone(),
            );
            spawn_local(async move {
                // Done: the socket closes and the session leaves this console.
                if let Err(e) = api::hand_over(&session, target, &text).await {
                    problem.set(Some(e));
                }
                busy.set(false);
            });
        })
    };
    let invite = {
        let (busy, problem, session) = (busy.clone(), problem.clone(), props.session.clone());
        let guest_value = guest_value.clone();
        Callback::from(move |_: MouseEvent| {
            if *busy || guest_value.is_empty() {
                return;
            }
            busy.set(true);
            problem.set(None);
            let (busy, problem, session, who) = (
                busy.clone(),
                problem.clone(),
                session.clone(),
                guest_value.clone(),
            );
            spawn_local(async move {
                if let Err(e) = api::invite(&session, &who).await {
                    problem.set(Some(e));
                }
                busy.set(false);
            });
        })
    };
    let on_to = {
        let to = to.clone();
        Callback::from(move |e: Event| {
            if let Some(v) = selected(&e) {
                to.set(v);
            }
        })
    };
    let on_guest = {
        let guest = guest.clone();
        Callback::from(move |e: Event| {
            if let Some(v) = selected(&e) {
                guest.set(v);
            }
        })
    };
    let on_note = {
        let note = note.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(t) = e
                .target()
                .and_then(|t| t.dyn_ref::<HtmlTextAreaElement>().map(|t| t.value()))
            {
                note.set(t);
            }
        })
    };
    let joined = props.summary.as_ref().map(|s| names(&s.guests));
    let invited = props.summary.as_ref().map(|s| names(&s.invited));
    let options = |chosen: &str| {
        list.iter()
            .map(|t| {
                html! {
                    <option value={t.username.clone()} selected={t.username == chosen}>
                        { shown_text(&t.display_name).into_owned() }
                    </option>
                }
            })
            .collect::<Html>()
    };
    let nobody = colleagues.as_ref().is_some_and(|l| l.is_empty());
    html! {
        <section id="hand-over-panel" class="panel hand-over" aria-labelledby="hand-over-heading">
            <h2 id="hand-over-heading">{ i18n.t(Msg::HandOverHeading) }</h2>
            if let Some(names) = joined.filter(|n| !n.is_empty()) {
                <p id="session-guests" data-names={names.clone()}>{ i18n.t(Msg::AlsoInSession { names }) }</p>
            }
            if let Some(names) = invited.filter(|n| !n.is_empty()) {
                <p id="session-invited" data-names={names.clone()}>{ i18n.t(Msg::InvitedPending { names }) }</p>
            }
            if nobody {
                <p class="hint">{ i18n.t(Msg::HandOverNobody) }</p>
            }
            if has_team || !list.is_empty() {
                <form class="hand-over-form" onsubmit={hand_over}>
                    <label for="hand-over-to">{ i18n.t(Msg::HandOverTo) }</label>
                    <select id="hand-over-to" onchange={on_to}>
                        if has_team {
                            <option value={QUEUE} selected={to_value == QUEUE}>{ i18n.t(Msg::HandOverQueue) }</option>
                        }
                        { options(&to_value) }
                    </select>
                    <label for="hand-over-note">{ i18n.t(Msg::HandOverNote) }</label>
                    <textarea id="hand-over-note" rows="2" maxlength={limits::NOTE_MAX_CHARS.to_string()}
                        value={(*note).clone()} oninput={on_note} />
                    <button id="hand-over" type="submit" class="secondary" disabled={*busy}>
                        { i18n.t(Msg::HandOverButton) }
                    </button>
                </form>
            }
            if !list.is_empty() {
                <div class="invite-row">
                    <label for="invite-who">{ i18n.t(Msg::InviteLabel) }</label>
                    <select id="invite-who" onchange={on_guest}>{ options(&guest_value) }</select>
                    <button id="invite" type="button" class="secondary" disabled={*busy} onclick={invite}>
                        { i18n.t(Msg::InviteButton) }
                    </button>
                </div>
            }
            if let Some(error) = &*problem {
                <p class="notice" role="alert">{ i18n.api_error(error) }</p>
            }
        </section>
    }
}

//! The teams' queues (`#queue`): the customers waiting in the queues of the technician's
//! teams, oldest first, with their name, problem and how long they have waited (ticking),
//! and "Pick up". The first technician to pick someone up gets them; the others' rows go
//! (the broker sends the session again with its technician) and a late click is told a
//! colleague was first.

use connectit_protocol::api::SessionSummary;
use connectit_protocol::{Phase, SessionId};
use yew::prelude::*;

use super::list::phase_attr;
use crate::i18n::{use_i18n, Msg};
use crate::widgets::use_now;
use crate::{clock, time};

/// The sessions waiting in a team's queue (nobody has them), oldest first.
pub fn queued(sessions: &[SessionSummary]) -> Vec<SessionSummary> {
    let mut waiting: Vec<SessionSummary> = sessions
        .iter()
        .filter(|s| s.team.is_some() && s.technician.is_none())
        .filter(|s| matches!(s.phase, Phase::Connecting | Phase::Waiting))
        .cloned()
        .collect();
    waiting.sort_by(|a, b| {
        (a.phase != Phase::Waiting, a.phase_since, &a.id).cmp(&(
            b.phase != Phase::Waiting,
            b.phase_since,
            &b.id,
        ))
    });
    waiting
}

#[derive(Properties, PartialEq)]
pub struct QueuePanelProps {
    pub sessions: Vec<SessionSummary>,
    /// A pick-up is on its way for this session.
    #[prop_or_default]
    pub busy: Option<SessionId>,
    pub on_pick_up: Callback<SessionId>,
}

#[component]
pub fn QueuePanel(props: &QueuePanelProps) -> Html {
    let i18n = use_i18n();
    // The waiting times tick.
    let _tick = use_now(1000);
    let rows = props.sessions.iter().map(|s| {
        let id = s.id.clone();
        let pick = props.on_pick_up.reform(move |_: MouseEvent| id.clone());
        let waited = (clock::server_now() as u64).saturating_sub(s.phase_since) / 1000;
        let name = match s.details.customer_name.as_str() {
            "" => i18n.t(Msg::Unknown),
            name => connectit_protocol::shown_text(name).into_owned(),
        };
        let problem = match s.details.problem.as_str() {
            "" => i18n.t(Msg::QueueNoProblem),
            problem => connectit_protocol::shown_text(problem).into_owned(),
        };
        let waiting = s.phase == Phase::Waiting;
        let busy = props.busy.as_ref() == Some(&s.id);
        html! {
            <li key={s.id.0.clone()} class="queue-row" data-session-id={s.id.0.clone()}
                data-phase={phase_attr(s.phase)}>
                <div class="queue-row-main">
                    <strong class="queue-name"><bdi>{ name.clone() }</bdi></strong>
                    <span class="queue-wait" data-waited={waited.to_string()}>
                        { if waiting {
                            i18n.t(Msg::QueueWaitingFor { time: time::clock_duration(waited) })
                        } else {
                            i18n.t(Msg::QueueReadingTerms)
                        } }
                    </span>
                </div>
                <p class="queue-problem"><bdi>{ problem }</bdi></p>
                <div class="queue-row-meta">
                    if let Some(team) = &s.team {
                        <span class="queue-team">{ i18n.t(Msg::QueueTeam { team: team.name.clone() }) }</span>
                    }
                    <span class={classes!("presence", s.customer_online.then_some("online"))}>
                        { i18n.t(if s.customer_online { Msg::CustomerOnline } else { Msg::CustomerOffline }) }
                    </span>
                </div>
                <button type="button" class="pick-up-queued primary" disabled={!waiting || busy}
                    onclick={pick} aria-label={format!("{} — {}", i18n.t(Msg::PickUp), name)}>
                    { i18n.t(Msg::PickUp) }
                </button>
            </li>
        }
    });
    html! {
        <section id="queue" class="card queue" aria-labelledby="queue-heading">
            <h2 id="queue-heading">{ i18n.t(Msg::QueueHeading) }</h2>
            if props.sessions.is_empty() {
                <p class="empty">{ i18n.t(Msg::QueueEmpty) }</p>
            } else {
                <ul class="queue-list">{ for rows }</ul>
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct InvitationsPanelProps {
    /// Sessions a colleague invited this technician into.
    pub sessions: Vec<SessionSummary>,
    /// A join is on its way for this session.
    #[prop_or_default]
    pub busy: Option<SessionId>,
    pub on_join: Callback<SessionId>,
}

/// The sessions colleagues invited this technician into (`#invitations`), each with
/// "Join".
#[component]
pub fn InvitationsPanel(props: &InvitationsPanelProps) -> Html {
    let i18n = use_i18n();
    let rows = props.sessions.iter().map(|s| {
        let id = s.id.clone();
        let join = props.on_join.reform(move |_: MouseEvent| id.clone());
        let customer = match s.details.customer_name.as_str() {
            "" => i18n.t(Msg::Unknown),
            name => connectit_protocol::shown_text(name).into_owned(),
        };
        let by = s
            .technician
            .as_ref()
            .map(|t| connectit_protocol::shown_text(&t.display_name).into_owned())
            .unwrap_or_default();
        let busy = props.busy.as_ref() == Some(&s.id);
        html! {
            <li key={s.id.0.clone()} class="invitation-row" data-session-id={s.id.0.clone()}>
                <span><bdi>{ i18n.t(Msg::InvitedBy { name: by, customer }) }</bdi></span>
                <button type="button" class="join-session primary" disabled={busy} onclick={join}>
                    { i18n.t(Msg::JoinSession) }
                </button>
            </li>
        }
    });
    html! {
        <section id="invitations" class="card invitations" aria-labelledby="invitations-heading">
            <h2 id="invitations-heading">{ i18n.t(Msg::InvitationsHeading) }</h2>
            <ul class="invitation-list">{ for rows }</ul>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connectit_protocol::api::{SessionDetails, TeamRef, TechnicianRef};

    fn summary(id: &str, phase: Phase, since: u64, team: bool, taken: bool) -> SessionSummary {
        SessionSummary {
            id: SessionId(id.into()),
            phase,
            created_at: 0,
            pin_expires_at: 0,
            last_activity: 0,
            messages: 0,
            customer_online: true,
            check_code: None,
            candidates: 1,
            phase_since: since,
            team: team.then(|| TeamRef {
                slug: "helpdesk".into(),
                name: "Help desk".into(),
            }),
            technician: taken.then(|| TechnicianRef {
                username: "bob".into(),
                display_name: "Bob".into(),
            }),
            details: SessionDetails::default(),
            guests: Vec::new(),
            invited: Vec::new(),
        }
    }

    #[test]
    fn the_queue_is_the_untaken_team_sessions_oldest_waiting_first() {
        let all = vec![
            summary("late", Phase::Waiting, 300, true, false),
            summary("early", Phase::Waiting, 100, true, false),
            summary("terms", Phase::Connecting, 50, true, false),
            summary("taken", Phase::Active, 10, true, true),
            summary("mine", Phase::Waiting, 10, false, true),
            summary("gone", Phase::Ended, 10, true, false),
        ];
        let ids: Vec<String> = queued(&all).into_iter().map(|s| s.id.0).collect();
        assert_eq!(ids, ["early", "late", "terms"]);
    }
}

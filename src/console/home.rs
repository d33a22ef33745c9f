//! The signed-in console: who is signed in, sign out, "New session", the security log,
//! and either the list of sessions or one opened session ([`View`]). When the broker
//! ends the sign-in (signed out elsewhere, expired, disabled) the console goes back to
//! the sign-in form and says why; a session opened in another window stops here until
//! the technician takes it back.

use std::rc::Rc;

use connectit_protocol::api::{CreatedSession, Technician};
use connectit_protocol::wire::CloseReason;
use connectit_protocol::SessionId;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::audit::AuditLog;
use super::list::SessionList;
use super::new_session::NewSessionPanel;
use super::queue::{queued, QueuePanel};
use super::session_view::TechnicianSession;
use super::sessions::use_console_sessions;
use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, Msg};
use crate::session::link::LinkStatus;

/// What the main area shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum View {
    List,
    Session(SessionId),
    /// The session was opened in another tab or window and stopped here.
    Elsewhere(SessionId),
    Audit,
}

#[derive(Properties, PartialEq)]
pub struct HomeProps {
    pub technician: Rc<Technician>,
    /// Signed out: `true` when the broker ended the sign-in.
    pub on_signed_out: Callback<bool>,
}

#[component]
pub fn Home(props: &HomeProps) -> Html {
    let i18n = use_i18n();
    let view = use_state(|| View::List);
    let created = use_state(|| None::<Rc<CreatedSession>>);
    let creating = use_state(|| false);
    let problem = use_state(|| None::<ApiError>);
    let sessions = use_console_sessions();
    {
        let on_signed_out = props.on_signed_out.clone();
        use_effect_with(sessions.signed_out, move |signed_out| {
            if *signed_out {
                on_signed_out.emit(true);
            }
        });
    }

    let create = {
        let (created, creating, problem, view) = (
            created.clone(),
            creating.clone(),
            problem.clone(),
            view.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            if *creating {
                return;
            }
            creating.set(true);
            problem.set(None);
            let (created, creating, problem, view) = (
                created.clone(),
                creating.clone(),
                problem.clone(),
                view.clone(),
            );
            spawn_local(async move {
                match api::create_session().await {
                    Ok(session) => {
                        created.set(Some(Rc::new(session)));
                        view.set(View::List);
                    }
                    Err(e) => problem.set(Some(e)),
                }
                creating.set(false);
            });
        })
    };
    let sign_out = {
        let (problem, on_signed_out) = (problem.clone(), props.on_signed_out.clone());
        Callback::from(move |_: MouseEvent| {
            let (problem, on_signed_out) = (problem.clone(), on_signed_out.clone());
            spawn_local(async move {
                match api::sign_out().await {
                    Ok(()) => on_signed_out.emit(false),
                    Err(e) => problem.set(Some(e)),
                }
            });
        })
    };
    let open = {
        let (view, created) = (view.clone(), created.clone());
        Callback::from(move |id: SessionId| {
            // Opening the new session's own view: its panel has done its job.
            if created.as_ref().is_some_and(|c| c.id == id) {
                created.set(None);
            }
            view.set(View::Session(id))
        })
    };
    // Taking a customer from a team's queue: theirs to open if the broker says so.
    let picking = use_state(|| None::<SessionId>);
    let pick_up = {
        let (view, picking, problem) = (view.clone(), picking.clone(), problem.clone());
        Callback::from(move |id: SessionId| {
            if picking.is_some() {
                return;
            }
            picking.set(Some(id.clone()));
            problem.set(None);
            let (view, picking, problem) = (view.clone(), picking.clone(), problem.clone());
            spawn_local(async move {
                match api::pick_up(&id).await {
                    Ok(()) => view.set(View::Session(id)),
                    Err(e) => problem.set(Some(e)),
                }
                picking.set(None);
            });
        })
    };
    let back = {
        let view = view.clone();
        Callback::from(move |()| view.set(View::List))
    };
    let close_new = {
        let created = created.clone();
        Callback::from(move |()| created.set(None))
    };

    let show_audit = {
        let view = view.clone();
        Callback::from(move |_: MouseEvent| view.set(View::Audit))
    };
    // Sessions that are this technician's, and those waiting in their teams' queues
    // (what a colleague picked up is neither).
    let me = props.technician.username.clone();
    let mine: Vec<_> = sessions
        .items
        .iter()
        .filter(|s| s.technician.as_ref().is_none_or(|t| t.username == me))
        .filter(|s| s.team.is_none() || s.technician.is_some())
        .cloned()
        .collect();
    let queue = queued(&sessions.items);
    // A technician in a team sees its queue, empty or not.
    let teams_shown = !props.technician.teams.is_empty();
    let main = match &*view {
        View::Session(id) => {
            let on_closed = {
                let (view, id, on_signed_out) =
                    (view.clone(), id.clone(), props.on_signed_out.clone());
                Callback::from(move |reason| match reason {
                    CloseReason::SignedOut => on_signed_out.emit(true),
                    CloseReason::Replaced => view.set(View::Elsewhere(id.clone())),
                })
            };
            let summary = sessions.items.iter().find(|s| &s.id == id).cloned();
            html! {
                <TechnicianSession key={id.0.clone()} id={id.clone()} {summary} on_back={back} {on_closed} />
            }
        }
        View::Elsewhere(id) => {
            let take_back = {
                let (view, id) = (view.clone(), id.clone());
                Callback::from(move |_: MouseEvent| view.set(View::Session(id.clone())))
            };
            let to_list = back.reform(|_: MouseEvent| ());
            html! {
                <section id="opened-elsewhere" class="card" role="alert">
                    <p>{ i18n.t(Msg::OpenedElsewhere) }</p>
                    <div class="actions">
                        <button id="use-here" type="button" class="primary" onclick={take_back}>
                            { i18n.t(Msg::UseHere) }
                        </button>
                        <button type="button" class="secondary" onclick={to_list}>{ i18n.t(Msg::BackToList) }</button>
                    </div>
                </section>
            }
        }
        View::Audit => html! { <AuditLog on_back={back} /> },
        View::List => html! {
            <>
                if sessions.loaded && (!queue.is_empty() || teams_shown) {
                    <QueuePanel sessions={queue} busy={(*picking).clone()} on_pick_up={pick_up} />
                }
                if let Some(session) = (*created).clone() {
                    <NewSessionPanel
                        phase={sessions.items.iter().find(|s| s.id == session.id).map(|s| s.phase)}
                        created={session}
                        on_close={close_new}
                    />
                }
                <section class="card sessions" aria-labelledby="sessions-heading">
                    <div class="card-head">
                        <h2 id="sessions-heading">{ i18n.t(Msg::SessionsHeading) }</h2>
                        if sessions.status == LinkStatus::Reconnecting {
                            <p class="connection-status" role="status">{ i18n.t(Msg::Reconnecting) }</p>
                        }
                    </div>
                    if sessions.loaded {
                        <SessionList sessions={mine} on_open={open} />
                    } else {
                        <p class="loading" role="status">{ i18n.t(Msg::Loading) }</p>
                    }
                </section>
            </>
        },
    };

    html! {
        <>
            <div class="toolbar">
                <p class="who">
                    { i18n.t(Msg::SignedInAs) }{ " " }
                    <strong id="signed-in-as">{ props.technician.display_name.clone() }</strong>
                </p>
                <button id="create-session" type="button" class="primary" disabled={*creating} onclick={create}>
                    { i18n.t(if *creating { Msg::CreatingSession } else { Msg::CreateSession }) }
                </button>
                <button id="show-audit" type="button" class="secondary" onclick={show_audit}>{ i18n.t(Msg::AuditOpen) }</button>
                <button id="sign-out" type="button" class="secondary" onclick={sign_out}>{ i18n.t(Msg::SignOut) }</button>
            </div>
            if let Some(error) = *problem {
                <p class="notice" role="alert">{ i18n.api_error(&error) }</p>
            }
            { main }
        </>
    }
}

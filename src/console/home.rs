//! The signed-in console: who is signed in, sign out, "New session", alerts, the
//! security log, the teams' queues and the technician's sessions, and the sessions open
//! as tabs ([`super::workspace`]). Every open tab keeps its session's socket, so switching
//! between customers disconnects nobody; each view has its own address. When the broker
//! ends the sign-in (signed out elsewhere, expired, disabled) the console goes back to
//! the sign-in form and says why; a session opened in another window stops here until
//! the technician takes it back.

use std::rc::Rc;

use connectit_protocol::api::{AccountRole, CreatedSession, SessionSummary, Technician};
use connectit_protocol::wire::CloseReason;
use connectit_protocol::{Phase, SessionId};
use gloo_events::EventListener;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::audit::AuditLog;
use super::list::SessionList;
use super::new_session::NewSessionPanel;
use super::queue::{queued, InvitationsPanel, QueuePanel};
use super::replies::{use_replies, RepliesPanel};
use super::session_view::TechnicianSession;
use super::sessions::use_console_sessions;
use super::workspace::{path_of, titled, view_from_path, View, Workspace, WorkspaceAction};
use crate::alerts;
use crate::api::{self, ApiError};
use crate::browser;
use crate::i18n::{use_i18n, I18n, Msg};
use crate::session::link::LinkStatus;

/// How a session is named on its tab and in alerts: the customer's name, or when it
/// was made.
fn session_name(i18n: &I18n, s: Option<&SessionSummary>, id: &SessionId) -> String {
    match s {
        Some(s) if !s.details.customer_name.is_empty() => {
            connectit_protocol::shown_text(&s.details.customer_name).into_owned()
        }
        Some(s) => i18n.t(Msg::TabSessionAt {
            created: crate::time::hh_mm(s.created_at),
        }),
        None => i18n.t(Msg::TabSessionAt {
            created: id.0.chars().take(6).collect(),
        }),
    }
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
    let workspace = use_reducer(|| Workspace::new(view_from_path(&browser::pathname())));
    let view = workspace.view();
    let created = use_state(|| None::<Rc<CreatedSession>>);
    let creating = use_state(|| false);
    let problem = use_state(|| None::<ApiError>);
    let sessions = use_console_sessions();
    let replies = use_replies();
    let page_hidden = alerts::use_page_hidden();
    // Set while this window's own "Sign out" is under way: the broker then closes this
    // window's console socket too, and that close may arrive before the answer does.
    let signing_out = use_mut_ref(|| false);
    {
        let (on_signed_out, signing_out) = (props.on_signed_out.clone(), signing_out.clone());
        use_effect_with(sessions.signed_out, move |signed_out| {
            if *signed_out {
                on_signed_out.emit(!*signing_out.borrow());
            }
        });
    }

    // Sessions that are this technician's, and those waiting in their teams' queues
    // (what a colleague picked up is neither).
    let me = props.technician.username.clone();
    let mine: Rc<Vec<SessionSummary>> = Rc::new(
        sessions
            .items
            .iter()
            .filter(|s| match &s.technician {
                Some(t) => t.username == me || s.guests.iter().any(|g| g.username == me),
                None => s.team.is_none(),
            })
            .cloned()
            .collect(),
    );
    // Sessions a colleague invited this technician into, not joined yet.
    let invitations: Vec<SessionSummary> = sessions
        .items
        .iter()
        .filter(|s| s.phase != Phase::Ended && s.invited.iter().any(|g| g.username == me))
        .cloned()
        .collect();
    // The last session that left this console because the technician's place in it
    // changed (handed over, left).
    let moved_on = use_state(|| false);
    let queue = Rc::new(queued(&sessions.items));
    // A technician in a team sees its queue, empty or not.
    let teams_shown = !props.technician.teams.is_empty();

    // What is in front of the technician is seen; the rest counts in the title.
    {
        let workspace = workspace.clone();
        use_effect_with(
            (mine.clone(), queue.clone(), view.clone(), page_hidden),
            move |(mine, queue, _, hidden)| {
                workspace.dispatch(WorkspaceAction::Observe {
                    mine: mine.clone(),
                    queue: queue.clone(),
                    page_visible: !*hidden,
                });
            },
        );
    }
    let attention = workspace.attention(&mine, &queue, !page_hidden);
    let new_in_queue: Vec<SessionSummary> = queue
        .iter()
        .filter(|s| workspace.attention(&[], std::slice::from_ref(s), !page_hidden) > 0)
        .cloned()
        .collect();
    {
        // The title says the view and, in front, what calls for attention.
        let title = match &view {
            View::Session(id) => {
                let name = session_name(&i18n, mine.iter().find(|s| &s.id == id), id);
                format!("{name} — {}", i18n.t(Msg::ConsoleTitle))
            }
            _ => i18n.t(Msg::ConsoleTitle),
        };
        use_effect_with(titled(attention, &title), |title| browser::set_title(title));
    }
    {
        // Something new while the page is hidden: a notification; a tone if wanted.
        let last = use_mut_ref(|| attention);
        let i18n = i18n.clone();
        // Whose message it is: a session with messages the technician has not seen.
        let unread_from = mine
            .iter()
            .find(|s| workspace.unread(s, !page_hidden) > 0)
            .cloned();
        let newest = new_in_queue.last().cloned();
        use_effect_with(attention, move |count| {
            let before = std::mem::replace(&mut *last.borrow_mut(), *count);
            if *count > before {
                let title = match &newest {
                    Some(s) => i18n.t(Msg::AlertNewCustomer {
                        name: session_name(&i18n, Some(s), &s.id),
                    }),
                    None => i18n.t(Msg::AlertNewMessage {
                        name: unread_from
                            .as_ref()
                            .map(|s| session_name(&i18n, Some(s), &s.id))
                            .unwrap_or_else(|| i18n.t(Msg::ACustomer)),
                    }),
                };
                if alerts::page_hidden() {
                    let _ = alerts::notify(&title, &i18n.t(Msg::AlertBody), "connectit-console");
                }
                if super::alert_settings::sound_on() {
                    alerts::tone();
                }
            }
        });
    }
    {
        // Each view has its own address; the browser's back and forward move between them.
        let path = path_of(&view);
        use_effect_with(path, |path| {
            if browser::pathname().trim_end_matches('/') != path {
                browser::push_path(path);
            }
        });
        let workspace = workspace.clone();
        use_effect_with((), move |_| {
            let listener = browser::window().map(|window| {
                EventListener::new(&window, "popstate", move |_| {
                    workspace.dispatch(WorkspaceAction::Show(view_from_path(&browser::pathname())));
                })
            });
            move || drop(listener)
        });
    }

    let show = {
        let (workspace, moved_on) = (workspace.clone(), moved_on.clone());
        Callback::from(move |view: View| {
            moved_on.set(false);
            workspace.dispatch(WorkspaceAction::Show(view))
        })
    };
    let create = {
        let (created, creating, problem, show) = (
            created.clone(),
            creating.clone(),
            problem.clone(),
            show.clone(),
        );
        let language = i18n.lang().to_owned();
        Callback::from(move |_: MouseEvent| {
            if *creating {
                return;
            }
            creating.set(true);
            problem.set(None);
            let (created, creating, problem, show) = (
                created.clone(),
                creating.clone(),
                problem.clone(),
                show.clone(),
            );
            let language = language.clone();
            spawn_local(async move {
                match api::create_session(&language).await {
                    Ok(session) => {
                        created.set(Some(Rc::new(session)));
                        show.emit(View::List);
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
            let signing_out = signing_out.clone();
            *signing_out.borrow_mut() = true;
            spawn_local(async move {
                match api::sign_out().await {
                    Ok(()) => on_signed_out.emit(false),
                    Err(e) => {
                        *signing_out.borrow_mut() = false;
                        problem.set(Some(e));
                    }
                }
            });
        })
    };
    let open = {
        let (show, created) = (show.clone(), created.clone());
        Callback::from(move |id: SessionId| {
            // Opening the new session's own view: its panel has done its job.
            if created.as_ref().is_some_and(|c| c.id == id) {
                created.set(None);
            }
            show.emit(View::Session(id))
        })
    };
    // Taking a customer from a team's queue: theirs to open if the broker says so.
    let picking = use_state(|| None::<SessionId>);
    let pick_up = {
        let (show, picking, problem) = (show.clone(), picking.clone(), problem.clone());
        Callback::from(move |id: SessionId| {
            if picking.is_some() {
                return;
            }
            picking.set(Some(id.clone()));
            problem.set(None);
            let (show, picking, problem) = (show.clone(), picking.clone(), problem.clone());
            spawn_local(async move {
                match api::pick_up(&id).await {
                    Ok(()) => show.emit(View::Session(id)),
                    Err(e) => problem.set(Some(e)),
                }
                picking.set(None);
            });
        })
    };
    // Joining a session a colleague invited this technician into.
    let join = {
        let (show, picking, problem) = (show.clone(), picking.clone(), problem.clone());
        Callback::from(move |id: SessionId| {
            if picking.is_some() {
                return;
            }
            picking.set(Some(id.clone()));
            problem.set(None);
            let (show, picking, problem) = (show.clone(), picking.clone(), problem.clone());
            spawn_local(async move {
                match api::join_session(&id).await {
                    Ok(()) => show.emit(View::Session(id)),
                    Err(e) => problem.set(Some(e)),
                }
                picking.set(None);
            });
        })
    };
    let back = show.reform(|()| View::List);
    let close_new = {
        let created = created.clone();
        Callback::from(move |()| created.set(None))
    };
    let show_audit = show.reform(|_: MouseEvent| View::Audit);
    let show_admin = show.reform(|_: MouseEvent| View::Admin);
    let show_account = show.reform(|_: MouseEvent| View::Account);
    let show_history = show.reform(|_: MouseEvent| View::History);
    let is_admin = props.technician.role == AccountRole::Admin;

    let main = match &view {
        // Open sessions are drawn below, each in its tab.
        View::Session(_) => html! {},
        View::Elsewhere(id) => {
            let take_back = show.reform({
                let id = id.clone();
                move |_: MouseEvent| View::Session(id.clone())
            });
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
        View::Audit => html! { <AuditLog on_back={back.clone()} /> },
        View::Admin => html! {
            <super::admin::AdminPage on_back={back.clone()} on_audit={show.reform(|()| View::Audit)} />
        },
        View::Account => html! { <super::account::AccountPage on_back={back.clone()} /> },
        View::History => html! { <super::history::HistoryPage on_back={back.clone()} /> },
        View::List => html! {
            <>
                <h1 id="console-heading" class="visually-hidden">{ i18n.t(Msg::ConsoleTitle) }</h1>
                if *moved_on {
                    <p id="no-longer-in-session" class="notice info" role="status">{ i18n.t(Msg::NoLongerInSession) }</p>
                }
                if !invitations.is_empty() {
                    <InvitationsPanel sessions={invitations.clone()} busy={(*picking).clone()} on_join={join} />
                }
                if sessions.loaded && (!queue.is_empty() || teams_shown) {
                    <QueuePanel sessions={(*queue).clone()} busy={(*picking).clone()} on_pick_up={pick_up} />
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
                        <SessionList sessions={(*mine).clone()} on_open={open}
                            unread={mine.iter().map(|s| workspace.unread(s, !page_hidden)).collect::<Vec<_>>()} />
                    } else {
                        <p class="loading" role="status">{ i18n.t(Msg::Loading) }</p>
                    }
                </section>
                if teams_shown {
                    <RepliesPanel teams={props.technician.teams.clone()} replies={replies.clone()} />
                }
            </>
        },
    };

    // The tabs: the list, then each open session with its unread count.
    let list_selected = !matches!(view, View::Session(_));
    let tabs = workspace.open.iter().map(|id| {
        let summary = mine.iter().find(|s| &s.id == id);
        let name = session_name(&i18n, summary, id);
        let unread = summary.map_or(0, |s| workspace.unread(s, !page_hidden));
        let selected = view == View::Session(id.clone());
        let select = show.reform({
            let id = id.clone();
            move |_: MouseEvent| View::Session(id.clone())
        });
        let close = {
            let (workspace, id) = (workspace.clone(), id.clone());
            Callback::from(move |_: MouseEvent| {
                workspace.dispatch(WorkspaceAction::Close(id.clone()))
            })
        };
        html! {
            <li key={id.0.clone()} class={classes!("tab-item", selected.then_some("selected"))}>
                <button type="button" class="session-tab" data-session-id={id.0.clone()}
                    aria-current={selected.then_some("page")} onclick={select}>
                    <bdi>{ name.clone() }</bdi>
                    if unread > 0 {
                        <span class="unread" data-count={unread.to_string()}>
                            { i18n.t(Msg::UnreadMessages { count: unread }) }
                        </span>
                    }
                </button>
                <button type="button" class="close-tab" data-session-id={id.0.clone()}
                    aria-label={i18n.t(Msg::TabClose { name })} onclick={close}>{ "×" }</button>
            </li>
        }
    });
    let waiting = queue.len() as u64;
    let sessions_for_tabs = workspace.open.clone();

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
                <super::alert_settings::AlertSettings />
                <button id="show-history" type="button" class="secondary" onclick={show_history}>{ i18n.t(Msg::ShowHistory) }</button>
                <button id="show-audit" type="button" class="secondary" onclick={show_audit}>{ i18n.t(Msg::AuditOpen) }</button>
                if is_admin {
                    <button id="show-admin" type="button" class="secondary" onclick={show_admin}>{ i18n.t(Msg::ShowAdmin) }</button>
                }
                <button id="show-account" type="button" class="secondary" onclick={show_account}>{ i18n.t(Msg::ShowAccount) }</button>
                <button id="sign-out" type="button" class="secondary" onclick={sign_out}>{ i18n.t(Msg::SignOut) }</button>
            </div>
            <nav id="session-tabs" aria-label={i18n.t(Msg::TabsLabel)} data-attention={attention.to_string()}>
                <ul class="tabs">
                    <li class={classes!("tab-item", list_selected.then_some("selected"))}>
                        <button id="tab-list" type="button" aria-current={list_selected.then_some("page")}
                            onclick={show.reform(|_: MouseEvent| View::List)}>
                            { i18n.t(Msg::TabList) }
                            if waiting > 0 {
                                <span id="queue-badge" class="unread" data-count={waiting.to_string()}>
                                    { i18n.t(Msg::QueueBadge { count: waiting }) }
                                </span>
                            }
                        </button>
                    </li>
                    { for tabs }
                </ul>
            </nav>
            if let Some(error) = *problem {
                <p class="notice" role="alert">{ i18n.api_error(&error) }</p>
            }
            { main }
            // One element around the open sessions, so that what the main area shows
            // never shifts them: each keeps its component (and socket) across views.
            <div class="open-sessions">
            { for sessions_for_tabs.into_iter().map(|id| {
                let shown = view == View::Session(id.clone());
                let on_closed = {
                    let (workspace, id, on_signed_out) =
                        (workspace.clone(), id.clone(), props.on_signed_out.clone());
                    let moved_on = moved_on.clone();
                    Callback::from(move |reason| match reason {
                        CloseReason::SignedOut => on_signed_out.emit(true),
                        CloseReason::Replaced => workspace.dispatch(WorkspaceAction::Elsewhere(id.clone())),
                        CloseReason::HandedOver => {
                            moved_on.set(true);
                            workspace.dispatch(WorkspaceAction::Close(id.clone()));
                        }
                    })
                };
                let summary = sessions.items.iter().find(|s| s.id == id).cloned();
                html! {
                    <TechnicianSession key={id.0.clone()} id={id.clone()} {summary} {shown}
                        me={AttrValue::from(props.technician.display_name.clone())}
                        replies={replies.list.clone()}
                        on_back={back.clone()} {on_closed} />
                }
            }) }
            </div>
        </>
    }
}

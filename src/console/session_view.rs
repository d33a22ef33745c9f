//! One session as the technician sees it (`#session-view`): its log from the start,
//! "Pick up" while the customer waits, the chat once active, the permission requests
//! and the customer's screen and camera, "End session" with a confirmation, and the
//! way back to the list.

use std::rc::Rc;

use connectit_protocol::api::SessionSummary;
use connectit_protocol::wire::{CloseReason, Join};
use connectit_protocol::{Action, EntryKind, Link, LogEntry, Media, Phase, Role, SessionId};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::files::ConsoleFiles;
use super::handover::HandOverPanel;
use super::list::phase_attr;
use super::media::use_technician_media;
use super::notes::CustomerNotes;
use super::permissions::PermissionsPanel;
use super::replies::ReplyPicker;
use super::screen::MediaView;
use super::system_info::SystemInfoPanel;
use crate::api;
use crate::files::use_transfers;
use crate::i18n::{use_i18n, Msg};
use crate::record::{RecordDownloads, RecordSource};
use crate::session::live::LiveAction;
use crate::session::notice::NoticeLine;
use crate::session::paths::path_failure;
use crate::session::{use_session, ChatInput, ChatLog, ConfirmEnd, Pending};
use crate::widgets::ConnectionStatus;

/// Whether the log holds the technician's confirmation of `code` for `media`: a new
/// connection has new certificates, so a new code, which is confirmed anew.
fn code_confirmed(entries: &[LogEntry], media: Media, code: &str) -> bool {
    let code = crate::rtc::verify::digits(code);
    entries.iter().any(|e| {
        matches!(&e.kind, EntryKind::CodeConfirmed { media: m, code: c } if *m == media && *c == code)
    })
}

#[derive(Properties)]
pub struct TechnicianSessionProps {
    pub id: SessionId,
    /// The session as the console's list has it (how many used its PIN).
    #[prop_or_default]
    pub summary: Option<SessionSummary>,
    /// The teams' canned replies.
    #[prop_or_default]
    pub replies: std::rc::Rc<Vec<connectit_protocol::api::CannedReply>>,
    /// The signed-in technician's display name (as the log names them).
    #[prop_or_default]
    pub me: AttrValue,
    /// Whether its tab is the one shown: a hidden session keeps its socket, media and
    /// transfers and draws nothing.
    #[prop_or(true)]
    pub shown: bool,
    pub on_back: Callback<()>,
    /// The broker closed the socket for good: signed out, or opened elsewhere.
    pub on_closed: Callback<CloseReason>,
}

/// Equal when what the session shows is: the callbacks are left out. The workspace makes
/// them afresh each time it draws (they do the same thing every time), and comparing
/// them would redraw every open session, hidden ones included, whenever any one
/// session's summary changes.
impl PartialEq for TechnicianSessionProps {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
            && self.summary == other.summary
            && self.replies == other.replies
            && self.me == other.me
            && self.shown == other.shown
    }
}

#[component]
pub fn TechnicianSession(props: &TechnicianSessionProps) -> Html {
    let i18n = use_i18n();
    let handle = use_session(Join::Technician {
        session: props.id.clone(),
    });
    // A colleague who joined reads and chats; the media and files are the session's
    // owner's.
    let guest = handle
        .live
        .state
        .guests()
        .iter()
        .any(|g| g.as_str() == props.me.as_str());
    let incoming = use_technician_media(&handle, !guest, &props.id.0);
    // The size limit, from `/api/config` (until it comes, the broker's check alone).
    let max_file_bytes = use_state(|| u64::MAX);
    {
        let max_file_bytes = max_file_bytes.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                if let Ok(config) = api::config().await {
                    max_file_bytes.set(config.max_file_bytes);
                }
            });
        });
    }
    let transfers = Rc::new(use_transfers(
        &handle,
        &props.id.0,
        Role::Technician,
        *max_file_bytes,
        !guest,
    ));
    {
        let on_closed = props.on_closed.clone();
        use_effect_with(handle.live.ended_by, move |ended_by| {
            if let Some(reason) = ended_by {
                on_closed.emit(*reason);
            }
        });
    }
    // A canned reply chosen: into the chat field, numbered so the same one can be
    // chosen twice.
    let inserted = use_state(|| None::<(u32, AttrValue)>);
    let leaving = use_state(|| false);
    let leave_problem = use_state(|| None::<api::ApiError>);
    // The view's callbacks that only act stay the same between renders (the session's
    // `act` does), so the panels given them are redrawn only when what they show changes.
    let on_request = {
        let act = handle.act.clone();
        use_callback((), move |action: Action, _| {
            let _ = act.emit(action);
        })
    };
    let on_confirm = {
        let act = handle.act.clone();
        use_callback((), move |(media, code): (Media, String), _| {
            let _ = act.emit(Action::ConfirmCode { media, code });
        })
    };
    let on_chat = {
        let act = handle.act.clone();
        use_callback((), move |text: String, _| {
            act.emit(Action::Chat { text }).map(|_| ())
        })
    };
    let dismiss = {
        let dispatcher = handle.live.dispatcher();
        use_callback((), move |(), _| {
            dispatcher.dispatch(LiveAction::DismissNotice)
        })
    };
    if !props.shown {
        return html! {};
    }
    let on_pick = {
        let inserted = inserted.clone();
        Callback::from(move |text: String| {
            let n = inserted.as_ref().map_or(1, |(n, _)| n + 1);
            inserted.set(Some((n, AttrValue::from(text))));
        })
    };
    let live = &*handle.live;
    let state = &live.state;
    let back = props.on_back.reform(|_: MouseEvent| ());
    let act = handle.act.clone();
    let send = move |action: Action| {
        let act = act.clone();
        Callback::from(move |()| {
            let _ = act.emit(action.clone());
        })
    };

    let candidates = props.summary.as_ref().map_or(0, |s| s.candidates);
    // From the pick-up on, the customer's screen and the chat sit side by side on a
    // wide window (stacked on a narrow one).
    // A hand-over brings a note: the notes are read again.
    let handovers = live
        .entries
        .borrow()
        .iter()
        .filter(|e| matches!(e.kind, connectit_protocol::EntryKind::HandedOver { .. }))
        .count() as u64;
    let with_media = !guest && matches!(state.phase(), Phase::Active | Phase::Ended);
    let leave = {
        let (session, busy, problem) = (props.id.clone(), leaving.clone(), leave_problem.clone());
        Callback::from(move |_: MouseEvent| {
            if *busy {
                return;
            }
            busy.set(true);
            let (session, busy, problem) = (session.clone(), busy.clone(), problem.clone());
            spawn_local(async move {
                // Done: the socket closes and the session leaves this console.
                if let Err(e) = api::leave_session(&session).await {
                    problem.set(Some(e));
                }
                busy.set(false);
            });
        })
    };
    let status_line = match state.phase() {
        Phase::Created => Some(i18n.t(Msg::SessionCreatedWait)),
        Phase::Connecting => Some(i18n.t(Msg::SessionConnectingWait)),
        Phase::Waiting => Some(i18n.t(Msg::SessionWaiting)),
        Phase::Active if state.away(Role::Customer) => Some(i18n.t(Msg::CustomerAway)),
        Phase::Active => None,
        Phase::Ended => state.end_reason().map(|r| i18n.end_reason_technician(r)),
    };

    html! {
        <section id="session-view" class="card session-view" data-phase={phase_attr(state.phase())}
            aria-labelledby="session-heading">
            <div class="session-bar">
                <button id="back-to-list" type="button" class="link-button" onclick={back}>
                    { "← " }{ i18n.t(Msg::BackToList) }
                </button>
                <ConnectionStatus status={live.status} />
                if guest {
                    <button id="leave-session" type="button" class="secondary" disabled={*leaving}
                        onclick={leave}>{ i18n.t(Msg::LeaveSession) }</button>
                } else if state.phase() != Phase::Ended && live.fatal.is_none() {
                    <ConfirmEnd trigger_id="end-session" trigger_class={classes!("danger")}
                        detail={i18n.t(Msg::EndConfirmDetailTechnician)} busy={live.is_pending(Pending::End)}
                        on_confirm={send(Action::End)}>
                        { i18n.t(Msg::EndSession) }
                    </ConfirmEnd>
                }
            </div>
            <h1 id="session-heading">
                { i18n.t(Msg::SessionViewTitle) }{ " · " }
                <span class={classes!("badge", format!("phase-{}", phase_attr(state.phase())))}>
                    { i18n.phase(state.phase()) }
                </span>
            </h1>
            if let Some(error) = live.fatal {
                <p class="notice" role="alert">{ i18n.error(error) }</p>
            }
            if let Some(line) = status_line {
                <p class="status-line" role="status">{ line }</p>
            }
            if guest {
                <p id="guest-notice" class="notice info" role="status">
                    { i18n.t(Msg::GuestNotice { name: state.technician().unwrap_or_default().to_string() }) }
                </p>
            }
            if let Some(error) = &*leave_problem {
                <p class="notice" role="alert">{ i18n.api_error(error) }</p>
            }
            if candidates > 1 && matches!(state.phase(), Phase::Connecting | Phase::Waiting) {
                <p id="several-candidates" class="notice warning" role="alert">
                    { i18n.t(Msg::SeveralCandidates { count: candidates.into() }) }
                </p>
            }
            if let (Some(code), Phase::Connecting | Phase::Waiting) = (&live.check_code, state.phase()) {
                <div class="check-code">
                    <p id="tech-check-code" data-code={code.clone()}>
                        { i18n.t(Msg::TechCheckCode { code: crate::widgets::spaced(code) }) }
                    </p>
                    <p class="hint">{ i18n.t(Msg::TechCheckCodeHint) }</p>
                </div>
            }
            if state.phase() == Phase::Waiting && !guest {
                <button id="pick-up" type="button" class="primary" disabled={live.is_pending(Pending::PickUp)}
                    onclick={send(Action::PickUp).reform(|_: MouseEvent| ())}>
                    { i18n.t(Msg::PickUp) }
                </button>
            }
            <NoticeLine notice={live.notice} on_dismiss={dismiss} />
            <div class={classes!("session-layout", with_media.then_some("with-media"))}>
                <div class="session-main">
                    if with_media {
                        <div class="media-views">
                            { for [Media::Screen, Media::Camera].into_iter().map(|media| {
                                let shown = incoming.media(media);
                                let failed = shown.failed.or_else(|| path_failure(&live.entries.borrow(), Link::from(media)));
                                let confirmed = shown.code.as_deref().is_some_and(|code| code_confirmed(&live.entries.borrow(), media, code));
                                html! {
                                    <MediaView key={format!("{media:?}")} {media} state={state.media(media)}
                                        stream={shown.stream.clone()} connection={shown.connection.clone()} {failed}
                                        code={shown.code.clone().map(AttrValue::from)} {confirmed}
                                        hidden_areas={state.hidden_areas(media)}
                                        on_confirm={(!guest).then(|| on_confirm.clone())} />
                                }
                            }) }
                        </div>
                        <PermissionsPanel state={state.clone()} busy={live.is_pending(Pending::Request)}
                            on_request={on_request} />
                        <ConsoleFiles can_send={state.may_offer_file(Role::Technician)}
                            transfers={transfers.clone()} failed={path_failure(&live.entries.borrow(), Link::Files)} />
                        <SystemInfoPanel entries={live.entries.clone()} />
                    }
                    if !guest && state.phase() == Phase::Active {
                        <HandOverPanel session={props.id.clone()} summary={props.summary.clone()} />
                    }
                    <CustomerNotes session={props.id.clone()} revision={handovers}
                        details={props.summary.as_ref().map(|s| s.details.clone()).unwrap_or_default()} />
                </div>
                <section class="session-chat" aria-labelledby="console-chat-heading">
                    <h2 id="console-chat-heading">{ i18n.t(Msg::ConsoleChatHeading) }</h2>
                    <ChatLog entries={live.entries.clone()} viewer={Role::Technician} me={props.me.clone()} />
                    if state.phase() == Phase::Active {
                        <ReplyPicker replies={props.replies.clone()} on_pick={on_pick} />
                        <ChatInput on_send={on_chat} insert={(*inserted).clone()} />
                    }
                </section>
            </div>
            <RecordDownloads source={RecordSource::Technician { session: props.id.clone() }} />
        </section>
    }
}

//! One session as the technician sees it (`#session-view`): its log from the start,
//! "Pick up" while the customer waits, the chat once active, the permission requests
//! and the customer's screen and camera, "End session" with a confirmation, and the
//! way back to the list.

use std::rc::Rc;

use connectit_protocol::wire::Join;
use connectit_protocol::{Action, Media, Permission, Phase, Role, SessionId};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::files::ConsoleFiles;
use super::list::phase_attr;
use super::media::use_technician_media;
use super::permissions::PermissionsPanel;
use super::screen::MediaView;
use super::system_info::SystemInfoPanel;
use crate::api;
use crate::files::use_transfers;
use crate::record::{RecordDownloads, RecordSource};
use crate::session::live::LiveAction;
use crate::session::notice::NoticeLine;
use crate::session::{use_session, ChatInput, ChatLog, ConfirmEnd, Pending};
use crate::text;
use crate::widgets::{use_title, ConnectionStatus};

#[derive(Properties, PartialEq)]
pub struct TechnicianSessionProps {
    pub id: SessionId,
    pub on_back: Callback<()>,
}

#[component]
pub fn TechnicianSession(props: &TechnicianSessionProps) -> Html {
    use_title(text::title(text::SESSION_VIEW_TITLE, text::CONSOLE_TITLE));
    let handle = use_session(Join::Technician {
        session: props.id.clone(),
    });
    let incoming = use_technician_media(&handle);
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
    let transfers = Rc::new(use_transfers(&handle, Role::Technician, *max_file_bytes));
    let live = &*handle.live;
    let state = &live.state;
    let back = props.on_back.reform(|_: MouseEvent| ());
    let dismiss = handle
        .live
        .dispatcher()
        .to_callback()
        .reform(|()| LiveAction::DismissNotice);
    let act = handle.act.clone();
    let send = move |action: Action| {
        let act = act.clone();
        Callback::from(move |()| {
            let _ = act.emit(action.clone());
        })
    };
    let on_request = {
        let act = handle.act.clone();
        Callback::from(move |action: Action| {
            let _ = act.emit(action);
        })
    };
    let on_chat = {
        let act = handle.act.clone();
        Callback::from(move |text: String| act.emit(Action::Chat { text }).map(|_| ()))
    };

    let status_line = match state.phase {
        Phase::Created => Some(text::SESSION_CREATED_WAIT),
        Phase::Connecting => Some(text::SESSION_CONNECTING_WAIT),
        Phase::Waiting => Some(text::SESSION_WAITING),
        Phase::Active if state.customer_away => Some(text::CUSTOMER_AWAY),
        Phase::Active => None,
        Phase::Ended => state.end_reason.map(text::end_reason_technician),
    };

    html! {
        <section id="session-view" class="card session-view" data-phase={phase_attr(state.phase)}
            aria-labelledby="session-heading">
            <div class="session-bar">
                <button id="back-to-list" type="button" class="link-button" onclick={back}>
                    { "← " }{ text::BACK_TO_LIST }
                </button>
                <ConnectionStatus status={live.status} />
                if state.phase != Phase::Ended && live.fatal.is_none() {
                    <ConfirmEnd trigger_id="end-session" trigger_class={classes!("danger")}
                        detail={text::END_CONFIRM_DETAIL_TECHNICIAN} busy={live.is_pending(Pending::End)}
                        on_confirm={send(Action::End)}>
                        { text::END_SESSION }
                    </ConfirmEnd>
                }
            </div>
            <h1 id="session-heading">
                { text::SESSION_VIEW_TITLE }{ " · " }
                <span class={classes!("badge", format!("phase-{}", phase_attr(state.phase)))}>
                    { text::phase(state.phase) }
                </span>
            </h1>
            if let Some(error) = live.fatal {
                <p class="notice" role="alert">{ text::error(error) }</p>
            }
            if let Some(line) = status_line {
                <p class="status-line" role="status">{ line }</p>
            }
            if state.phase == Phase::Waiting {
                <button id="pick-up" type="button" class="primary" disabled={live.is_pending(Pending::PickUp)}
                    onclick={send(Action::PickUp).reform(|_: MouseEvent| ())}>
                    { text::PICK_UP }
                </button>
            }
            <NoticeLine notice={live.notice} on_dismiss={dismiss} />
            if matches!(state.phase, Phase::Active | Phase::Ended) {
                <div class="media-views">
                    <MediaView media={Media::Screen} state={state.screen} stream={incoming.get(Media::Screen)} />
                    <MediaView media={Media::Camera} state={state.camera} stream={incoming.get(Media::Camera)} />
                </div>
                <PermissionsPanel state={state.clone()} busy={live.is_pending(Pending::Request)}
                    on_request={on_request} />
                <ConsoleFiles can_send={state.phase == Phase::Active && state.has(Permission::SendFiles)}
                    transfers={transfers.clone()} />
                <SystemInfoPanel entries={live.entries.clone()} />
            }
            <ChatLog entries={live.entries.clone()} viewer={Role::Technician} />
            if state.phase == Phase::Active {
                <ChatInput on_send={on_chat} />
            }
            <RecordDownloads source={RecordSource::Technician { session: props.id.clone() }} />
        </section>
    }
}

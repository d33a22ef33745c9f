//! The customer's live session: opens the session socket with the token, folds the log,
//! and shows what the session's phase calls for: the terms, the waiting room or the
//! chat (with the permission prompt, the sharing indicators and what is granted), with
//! the X to end it. When the log says it ended, the flow moves on.

use std::rc::Rc;

use connectit_protocol::api::PublicConfig;
use connectit_protocol::wire::{CloseReason, Join};
use connectit_protocol::{Action, EndReason, Link, Media, Permission, Phase, Role, SessionId};

use crate::session::link::QueuePlace;
use crate::session::paths::path_failure;
use yew::prelude::*;

use super::chat::CustomerChat;
use super::files::CustomerFiles;
use super::granted::GrantedPanel;
use super::media::use_customer_media;
use super::prompt::PermissionPrompt;
use super::sharing::SharingIndicator;
use super::system_info::{report_due, SystemInfo};
use super::terms::Terms;
use super::watch_bar::{self, WatchBar};
use crate::files::use_transfers;
use crate::i18n::{use_i18n, Msg};
use crate::record::{RecordDownloads, RecordSource};
use crate::session::entry::{announcement, media_attr};
use crate::session::notice::NoticeLine;
use crate::session::{use_session, ConfirmEnd, Pending};
use crate::widgets::{use_focus_if_lost, use_title, ConnectionStatus};

#[derive(Properties, PartialEq)]
pub struct CustomerSessionProps {
    pub session: SessionId,
    pub token: AttrValue,
    pub config: Rc<PublicConfig>,
    /// The session ended: why, whether the survey was already answered, and whether a
    /// technician had picked it up.
    pub on_ended: Callback<(EndReason, bool, bool)>,
    /// The session cannot be resumed: back to the PIN.
    pub on_restart: Callback<()>,
    /// The broker closed the socket for good (the session was opened elsewhere).
    pub on_closed: Callback<CloseReason>,
}

#[component]
pub fn CustomerSession(props: &CustomerSessionProps) -> Html {
    let i18n = use_i18n();
    let handle = use_session(Join::Customer {
        token: props.token.to_string(),
    });
    let media = use_customer_media(&handle, props.config.screen_max_kbps, &props.session.0);
    let transfers = Rc::new(use_transfers(
        &handle,
        &props.session.0,
        Role::Customer,
        props.config.max_file_bytes,
        true,
    ));
    let live = &*handle.live;
    let state = &live.state;
    let organisation: AttrValue = props.config.organisation.clone().into();

    {
        let on_ended = props.on_ended.clone();
        let ended = (state.phase() == Phase::Ended).then(|| {
            (
                state.end_reason().unwrap_or(EndReason::CustomerEnded),
                state.survey_submitted(),
                state.technician().is_some(),
            )
        });
        use_effect_with(ended, move |ended| {
            if let Some(ended) = ended {
                on_ended.emit(*ended);
            }
        });
    }

    {
        let on_closed = props.on_closed.clone();
        use_effect_with(live.ended_by, move |ended_by| {
            if let Some(reason) = ended_by {
                on_closed.emit(*reason);
            }
        });
    }

    if live.fatal.is_some() {
        let restart = props.on_restart.reform(|_: MouseEvent| ());
        return html! {
            <section class="card" role="alert">
                <p>{ i18n.t(Msg::SessionGone) }</p>
                <button type="button" class="primary" onclick={restart}>{ i18n.t(Msg::EnterNewPin) }</button>
            </section>
        };
    }

    let act = handle.act.clone();
    let send = move |action: Action| {
        let act = act.clone();
        Callback::from(move |()| {
            // A failure is shown by the notice line (nothing was sent).
            let _ = act.emit(action.clone());
        })
    };
    let dismiss = handle
        .live
        .dispatcher()
        .to_callback()
        .reform(|()| crate::session::live::LiveAction::DismissNotice);

    let mut live_bar = html! {};
    let body = match state.phase() {
        Phase::Created => html! { <Joining organisation={organisation.clone()} /> },
        Phase::Connecting => html! {
            <Terms organisation={organisation.clone()} terms={AttrValue::from(props.config.terms.clone())}
                busy={live.is_pending(Pending::AcceptTerms) || live.is_pending(Pending::DeclineTerms)}
                on_accept={send(Action::AcceptTerms)} on_decline={send(Action::DeclineTerms)} />
        },
        Phase::Waiting => html! {
            <Waiting organisation={organisation.clone()}
                check_code={live.check_code.clone().map(AttrValue::from)} queue={live.queue} />
        },
        Phase::Active => {
            let technician =
                AttrValue::from(state.technician().map(str::to_owned).unwrap_or_default());
            let prompt = state.pending().cloned().map(|pending| {
                let request = pending.request;
                let on_answer = media.on_answer.reform(move |answer| (request, answer));
                html! {
                    <PermissionPrompt key={request.to_string()} {pending} technician={technician.clone()}
                        organisation={organisation.clone()}
                        applet_url={AttrValue::from(props.config.applet_url.clone())}
                        default_mins={props.config.grant_default_mins}
                        busy={live.is_pending(Pending::Answer) || live.is_pending(Pending::MoreTime)}
                        {on_answer} />
                }
            });
            let indicators: Vec<Html> = [Media::Screen, Media::Camera].into_iter().filter_map(|m| {
                media.shares.get(m).map(|shown| html! {
                    <SharingIndicator key={media_attr(m)} media={m} stream={Clone::clone(&shown.stream)}
                        paused={shown.paused} code={shown.code.clone().map(AttrValue::from)}
                        on_control={media.on_control.clone()} areas={shown.areas.clone()}
                        on_areas={(m == Media::Screen).then(|| media.on_areas.reform(move |areas| (m, areas)))}
                        pipeline={shown.pipeline.map(AttrValue::from)} redact_failed={shown.redact_failed} />
                })
            }).collect();
            let connections: Rc<dyn Fn() -> Vec<web_sys::RtcPeerConnection>> = {
                let mut all: Vec<_> = transfers.connection.iter().cloned().collect();
                all.extend(media.connections.iter().cloned());
                Rc::new(move || all.clone())
            };
            let on_share = {
                let act = handle.act.clone();
                Callback::from(move |items| act.emit(Action::ShareSystemInfo { items }))
            };
            // Who receives what, and the controls of what is shared: kept in view
            // with the X while the page scrolls.
            if watch_bar::shown(state) || !indicators.is_empty() {
                live_bar = html! {
                    <div class="live-bar">
                        <WatchBar state={state.clone()} busy={live.is_pending(Pending::Revoke)}
                            on_revoke={media.on_revoke.clone()} />
                        { for indicators }
                    </div>
                };
            }
            let present = state.technicians_present().join(", ");
            html! {
                <>
                    <p id="present-technicians" class="present" role="status"
                        data-names={present.clone()}>
                        { i18n.t(Msg::PresentTechnicians { names: present }) }
                    </p>
                    { for prompt }
                    if media.problem.is_some() {
                        <p id="capture-problem" class="notice" role="alert">{ i18n.t(Msg::CaptureFailed) }</p>
                    }
                    { for [Link::Screen, Link::Camera, Link::Files].into_iter().filter_map(|link| {
                        path_failure(&live.entries.borrow(), link).map(|_| html! {
                            <div key={format!("{link:?}")} class="notice warning path-failed" role="alert"
                                data-link={link_attr(link)}>
                                <p>{ i18n.t(Msg::PathFailedCustomer { what: i18n.path_what(link) }) }</p>
                                <a href={props.config.applet_url.clone()}>{ i18n.t(Msg::AppletLink) }</a>
                            </div>
                        })
                    }) }
                    <CustomerChat organisation={organisation.clone()} technician={technician.clone()}
                        entries={live.entries.clone()} act={handle.act.clone()} />
                    // Also after the grants went: what happened to each file stays shown.
                    if state.may_open(Link::Files) || !state.files().is_empty() {
                        <CustomerFiles can_send={state.may_offer_file(Role::Customer)}
                            technician={technician.clone()} transfers={transfers.clone()} />
                    }
                    if state.has(Permission::SystemInfo) {
                        <SystemInfo due={report_due(&live.entries.borrow())} {connections} on_send={on_share}
                            busy={live.is_pending(Pending::SystemInfo)} />
                    }
                    <GrantedPanel granted={state.granted().to_vec()} until={state.granted_until().to_vec()}
                        busy={live.is_pending(Pending::Revoke)}
                        on_revoke={media.on_revoke.clone()} />
                    <RecordDownloads source={RecordSource::Customer {
                        session: props.session.clone(),
                        token: props.token.to_string(),
                    }} />
                </>
            }
        }
        Phase::Ended => html! {},
    };
    let can_end = matches!(
        state.phase(),
        Phase::Connecting | Phase::Waiting | Phase::Active
    );

    // The connection's state and the X, then what is shared: in the page's host that
    // stays in view down to the end of the page, so the customer always sees what they
    // share and can end the session at any moment.
    let top = html! {
        <>
            <div class="session-bar">
                <ConnectionStatus status={live.status} />
                if can_end {
                    <ConfirmEnd trigger_id="end-button" trigger_class={classes!("close-button")}
                        trigger_label={AttrValue::from(i18n.t(Msg::EndButtonLabel))}
                        detail={i18n.t(Msg::EndConfirmDetail)} busy={live.is_pending(Pending::End)}
                        on_confirm={send(Action::End)}>
                        <span aria-hidden="true">{ "✕" }</span>
                    </ConfirmEnd>
                }
            </div>
            { live_bar }
        </>
    };
    let top =
        match crate::browser::document().and_then(|d| d.get_element_by_id(super::LIVE_BAR_HOST)) {
            Some(host) => create_portal(top, host),
            None => top,
        };

    html! {
        <div class="session card">
            { top }
            <NoticeLine notice={live.notice} on_dismiss={dismiss} />
            // Read out when it changes: picked up, a file finished, the end.
            <p id="announcer" class="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
                { announcement(&i18n, &live.entries.borrow(), Role::Customer).unwrap_or_default() }
            </p>
            { body }
        </div>
    }
}

/// The `data-link` value (the protocol's own name for it).
fn link_attr(link: Link) -> &'static str {
    match link {
        Link::Screen => "screen",
        Link::Camera => "camera",
        Link::Files => "files",
    }
}

#[derive(Properties, PartialEq)]
struct StepProps {
    organisation: AttrValue,
}

#[component]
fn Joining(props: &StepProps) -> Html {
    let i18n = use_i18n();
    use_title(i18n.title(Msg::JoiningTitle, &props.organisation));
    html! { <p class="loading" role="status">{ i18n.t(Msg::Joining) }</p> }
}

#[derive(Properties, PartialEq)]
struct WaitingProps {
    organisation: AttrValue,
    /// The code to read out to the technician, once the broker gave it.
    check_code: Option<AttrValue>,
    /// The place in a team's queue, while waiting in one.
    queue: Option<QueuePlace>,
}

#[component]
fn Waiting(props: &WaitingProps) -> Html {
    let i18n = use_i18n();
    use_title(i18n.title(Msg::WaitingTitle, &props.organisation));
    let heading = use_node_ref();
    use_focus_if_lost(heading.clone());
    html! {
        <section id="waiting" class="waiting">
            <div role="status">
                <span class="pulse" aria-hidden="true"></span>
                <h1 tabindex="-1" ref={heading}>{ i18n.t(Msg::Waiting) }</h1>
                <p>{ i18n.t(Msg::WaitingDetail) }</p>
            </div>
            if let Some(place) = props.queue {
                <div id="queue-place" class="queue-place" role="status" aria-live="polite"
                    data-position={place.position.to_string()} data-waiting={place.waiting.to_string()}>
                    <p class="queue-position">
                        { if place.position == 1 {
                            i18n.t(Msg::QueueNext)
                        } else {
                            i18n.t(Msg::QueuePosition { position: place.position, waiting: place.waiting })
                        } }
                    </p>
                    if let Some(secs) = place.estimated_wait_secs {
                        <p class="queue-estimate">
                            { i18n.t(Msg::QueueEstimate { wait: i18n.expected_wait(secs) }) }
                        </p>
                    }
                </div>
            }
            if let Some(code) = &props.check_code {
                <div class="check-code">
                    <p id="check-code" data-code={code.clone()}>
                        { i18n.t(Msg::CheckCode { code: crate::widgets::spaced(code) }) }
                    </p>
                    <p class="hint">{ i18n.t(Msg::CheckCodeHint) }</p>
                </div>
            }
        </section>
    }
}

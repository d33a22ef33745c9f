//! The customer's permission prompt (`#permission-prompt`, an alertdialog in the page):
//! each requested permission in plain words with a checkbox, the reason, a reminder to
//! close confidential documents, the countdown to the broker's deadline, and the
//! answers: allow all, allow the chosen ones, refuse, or "More time" once. Focus moves
//! into the prompt when it appears and back when it goes; Escape does not dismiss it.
//! While the tab is hidden the title starts with "(!) " (and a notification is shown
//! where the customer already allowed them).

use connectit_protocol::PendingRequest;
use connectit_protocol::{Media, Permission};
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlInputElement};
use yew::prelude::*;

use crate::browser;
use crate::i18n::words::capitalised;
use crate::i18n::{use_i18n, Msg};
use crate::rtc::capture;
use crate::session::countdown::Countdown;
use crate::session::entry::permission_attr;

/// The customer's answer to a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Allow these (a non-empty subset of what was asked), for so many seconds (`None`:
    /// until the session ends).
    Grant(Vec<Permission>, Option<u64>),
    Deny,
    MoreTime,
}

#[derive(Properties, PartialEq)]
pub struct PromptProps {
    pub pending: PendingRequest,
    pub technician: AttrValue,
    pub organisation: AttrValue,
    pub applet_url: AttrValue,
    /// How long the prompt proposes to grant for, in minutes (0: until the session
    /// ends); the organisation's `grant_default_mins`.
    #[prop_or_default]
    pub default_mins: u32,
    /// An answer is on its way: the buttons wait.
    #[prop_or_default]
    pub busy: bool,
    /// Called synchronously from the click (screen capture needs the user's gesture).
    pub on_answer: Callback<Answer>,
}

/// The requested permissions this browser can grant, in the request's order: a page
/// cannot grant remote control, and a browser without screen capture cannot share the
/// screen (feature detection, [`capture::supported`]).
fn grantable(pending: &PendingRequest) -> Vec<Permission> {
    pending
        .permissions
        .iter()
        .copied()
        .filter(|p| p.grantable() && p.media().is_none_or(capture::supported))
        .collect()
}

#[component]
pub fn PermissionPrompt(props: &PromptProps) -> Html {
    let i18n = use_i18n();
    let offered = grantable(&props.pending);
    let chosen = use_state(|| offered.clone());
    let heading = use_node_ref();
    use_focus_inside(heading.clone());
    use_attention(props.organisation.clone());

    let toggle = {
        let chosen = chosen.clone();
        let offered = offered.clone();
        Callback::from(move |(p, on): (Permission, bool)| {
            let mut next: Vec<Permission> = (*chosen).clone();
            next.retain(|x| *x != p);
            if on {
                next.push(p);
            }
            // Keep the request's order.
            next.sort_by_key(|x| offered.iter().position(|o| o == x));
            chosen.set(next);
        })
    };
    let minutes = use_state(|| props.default_mins);
    let for_secs = (*minutes > 0).then(|| u64::from(*minutes) * 60);
    let answer = |a: Answer| props.on_answer.reform(move |_: MouseEvent| a.clone());
    let grant_all = answer(Answer::Grant(offered.clone(), for_secs));
    let grant_selected = answer(Answer::Grant((*chosen).clone(), for_secs));
    let mut durations = vec![10, 30, 60, 0];
    if !durations.contains(&props.default_mins) {
        durations.insert(0, props.default_mins);
    }
    let on_duration = {
        let minutes = minutes.clone();
        Callback::from(move |e: Event| {
            if let Some(select) = e
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlSelectElement>().ok())
            {
                minutes.set(select.value().parse().unwrap_or(0));
            }
        })
    };
    let deny = answer(Answer::Deny);
    let more_time = answer(Answer::MoreTime);
    let asks_remote = props
        .pending
        .permissions
        .contains(&Permission::RemoteControl);
    let nothing_grantable = offered.is_empty();
    let screen_unsupported = props.pending.permissions.contains(&Permission::ViewScreen)
        && !capture::supported(Media::Screen);
    let camera_instead = screen_unsupported && offered.contains(&Permission::Camera);

    let items = offered.iter().map(|p| {
        let id = format!("prompt-perm-{}", permission_attr(*p));
        let checked = chosen.contains(p);
        let (p, toggle) = (*p, toggle.clone());
        let onchange = Callback::from(move |e: Event| {
            if let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            {
                toggle.emit((p, input.checked()));
            }
        });
        let detail_id = format!("prompt-detail-{}", permission_attr(p));
        html! {
            <li key={id.clone()} class="prompt-perm">
                <input type="checkbox" id={id.clone()} {checked} {onchange}
                    aria-describedby={detail_id.clone()} />
                <label for={id}>
                    { capitalised(&i18n.permission_for_customer(p)) }
                    <span id={detail_id} class="hint">{ i18n.permission_detail(p) }</span>
                </label>
            </li>
        }
    });

    html! {
        <section id="permission-prompt" class="prompt" role="alertdialog" aria-modal="false"
            aria-labelledby="prompt-heading" aria-describedby="prompt-intro prompt-warning"
            data-request={props.pending.request.to_string()}>
            <h2 id="prompt-heading" tabindex="-1" ref={heading}>
                { i18n.t(Msg::PromptHeading { technician: props.technician.to_string() }) }
            </h2>
            <p id="prompt-intro">{ i18n.t(Msg::PromptIntro) }</p>
            if !nothing_grantable {
                <ul class="prompt-perms">{ for items }</ul>
            }
            if screen_unsupported {
                <div id="screen-unsupported" class="applet-offer">
                    <p>{ i18n.t(Msg::ScreenUnsupported) }</p>
                    if camera_instead {
                        <p>{ i18n.t(Msg::ScreenUnsupportedCamera) }</p>
                    }
                    <a id="screen-unsupported-applet" href={props.applet_url.clone()} class="applet-link">
                        { i18n.t(Msg::AppletLink) }
                    </a>
                </div>
            }
            if asks_remote {
                <div id="applet-offer" class="applet-offer">
                    <p>{ i18n.t(Msg::AppletOffer) }</p>
                    <a href={props.applet_url.clone()} class="applet-link">{ i18n.t(Msg::AppletLink) }</a>
                </div>
            }
            <p class="prompt-reason">
                { i18n.t(Msg::PromptReason) }{ " " }
                if props.pending.reason.trim().is_empty() {
                    <span id="prompt-reason" class="muted">{ i18n.t(Msg::PromptNoReason) }</span>
                } else {
                    <q id="prompt-reason" dir="auto">{ connectit_protocol::shown_text(&props.pending.reason).into_owned() }</q>
                }
            </p>
            <p id="prompt-warning" class="prompt-warning">{ i18n.t(Msg::PromptConfidential) }</p>
            if !nothing_grantable {
                <p class="prompt-duration">
                    <label for="grant-duration">{ i18n.t(Msg::PromptDuration) }</label>{ " " }
                    <select id="grant-duration" onchange={on_duration}>
                        { for durations.into_iter().map(|m| html! {
                            <option value={m.to_string()} selected={m == *minutes}>
                                { if m == 0 { i18n.t(Msg::DurationUntilEnd) } else { i18n.t(Msg::DurationMinutes { m }) } }
                            </option>
                        }) }
                    </select>
                </p>
            }
            <p class="prompt-time">
                { i18n.t(Msg::PromptRemainingBefore) }{ " " }
                <Countdown id="prompt-remaining" deadline={props.pending.deadline} announce=true />
                { " " }{ i18n.t(Msg::PromptRemainingAfter) }
            </p>
            <div class="actions">
                if !nothing_grantable {
                    <button id="grant-all" type="button" class="primary" disabled={props.busy} onclick={grant_all}>
                        { i18n.t(Msg::GrantAll) }
                    </button>
                    <button id="grant-selected" type="button" class="secondary"
                        disabled={props.busy || chosen.is_empty()} onclick={grant_selected}>
                        { i18n.t(Msg::GrantSelected) }
                    </button>
                }
                <button id="deny" type="button" class="secondary" disabled={props.busy} onclick={deny}>
                    { i18n.t(Msg::Deny) }
                </button>
                <button id="more-time" type="button" class="link-button"
                    disabled={props.busy || props.pending.extended} onclick={more_time}
                    title={props.pending.extended.then(|| i18n.t(Msg::MoreTimeUsed))}>
                    { i18n.t(Msg::MoreTime) }
                </button>
            </div>
        </section>
    }
}

/// Moves focus to `target` when the component appears, and back to where it was (or to
/// the message field) when it goes.
#[hook]
fn use_focus_inside(target: NodeRef) {
    use_effect_with((), move |_| {
        let before = browser::document()
            .and_then(|d| d.active_element())
            .and_then(|e| e.dyn_into::<HtmlElement>().ok());
        if let Some(element) = target.cast::<HtmlElement>() {
            let _ = element.focus();
        }
        move || match before.filter(|e| e.is_connected() && e.tag_name() != "BODY") {
            Some(element) => {
                let _ = element.focus();
            }
            None => browser::focus_id("chat-input"),
        }
    });
}

/// While the prompt is shown and the tab is hidden: "(!) " in the title, and a
/// notification if the customer already allowed them (never asked for here).
#[hook]
fn use_attention(organisation: AttrValue) {
    let i18n = use_i18n();
    let hidden = crate::alerts::use_page_hidden();
    use_effect_with(hidden, move |hidden| {
        let mut restore = None;
        let mut notification = None;
        if *hidden {
            restore = browser::document().map(|d| d.title());
            let title = i18n.t(Msg::PromptWaitingTitle {
                title: i18n.title(Msg::PromptTitle, &organisation),
            });
            browser::set_title(&title);
            notification = crate::alerts::notify(
                &title,
                &i18n.t(Msg::NotificationBody),
                "connectit-permission",
            );
        }
        move || {
            if let Some(title) = restore {
                browser::set_title(&title);
            }
            if let Some(notification) = notification {
                notification.close();
            }
        }
    });
}

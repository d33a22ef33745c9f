//! Small pieces both pages use: the window title hook, a ticking clock for countdowns,
//! the reconnecting banner and the footer.

use gloo_timers::callback::Interval;
use yew::prelude::*;

use crate::i18n::{use_i18n, Msg};
use crate::session::link::LinkStatus;
use crate::{browser, clock};

/// Sets the window title while the component is shown.
#[hook]
pub fn use_title(title: String) {
    use_effect_with(title, |title| browser::set_title(title));
}

/// The local clock, refreshed every `period_ms`. Countdowns compute what is left from
/// it and a deadline, so a throttled background tab still shows the right time. The
/// timer is dropped with the component.
#[hook]
pub fn use_now(period_ms: u32) -> f64 {
    let now = use_state(clock::local_now);
    {
        let now = now.clone();
        use_effect_with(period_ms, move |period| {
            let interval = Interval::new(*period, move || now.set(clock::local_now()));
            move || drop(interval)
        });
    }
    *now
}

/// When the component appears and the focus was lost (the previous step's element went
/// away), moves it to `target` (a heading with `tabindex="-1"`, or a field), so keyboard
/// and screen-reader users continue from the new step rather than from the top.
#[hook]
pub fn use_focus_if_lost(target: NodeRef) {
    use_effect_with((), move |_| {
        if browser::focus_lost() {
            if let Some(element) = target.cast::<web_sys::HtmlElement>() {
                let _ = element.focus();
            }
        }
    });
}

#[derive(Properties, PartialEq)]
pub struct ConnectionStatusProps {
    pub status: LinkStatus,
}

/// `#connection-status`: shown while the socket is reconnecting.
#[component]
pub fn ConnectionStatus(props: &ConnectionStatusProps) -> Html {
    let i18n = use_i18n();
    if props.status != LinkStatus::Reconnecting {
        return html! {};
    }
    html! {
        <p id="connection-status" class="connection-status" role="status">
            <span class="spinner" aria-hidden="true"></span>
            { i18n.t(Msg::Reconnecting) }
        </p>
    }
}

#[derive(Properties, PartialEq)]
pub struct FooterProps {
    pub applet_url: AttrValue,
    pub support_contact: AttrValue,
}

/// The footer of every customer step: the native applet and other ways to get help.
#[component]
pub fn Footer(props: &FooterProps) -> Html {
    let i18n = use_i18n();
    html! {
        <footer class="page-footer">
            <p>
                { i18n.t(Msg::AppletHint) }{ " " }
                <a id="applet-link" href={props.applet_url.clone()}>{ i18n.t(Msg::AppletLink) }</a>
            </p>
            <p>
                { i18n.t(Msg::SupportContact) }{ " " }
                <span id="support-contact">{ props.support_contact.clone() }</span>
            </p>
        </footer>
    }
}

#[derive(Properties, PartialEq)]
pub struct ErrorTextProps {
    pub id: AttrValue,
    pub message: Option<String>,
    #[prop_or_default]
    pub code: Option<AttrValue>,
}

/// A field's error line (always in the DOM while shown, tied with aria-describedby).
#[component]
pub fn ErrorText(props: &ErrorTextProps) -> Html {
    match &props.message {
        Some(message) => html! {
            <p id={props.id.clone()} class="field-error" role="alert" data-error={props.code.clone()}>
                { message.clone() }
            </p>
        },
        None => html! {},
    }
}

#[derive(Properties, PartialEq)]
pub struct InfoTableProps {
    pub id: AttrValue,
    pub items: Vec<connectit_protocol::InfoItem>,
}

/// The items as a two-column table, one `tr[data-label]` per item (text only).
#[component]
pub fn InfoTable(props: &InfoTableProps) -> Html {
    let i18n = use_i18n();
    let rows = props.items.iter().map(|i| {
        html! {
            <tr data-label={i.label.clone()}>
                <th scope="row">{ i.label.clone() }</th>
                <td>{ i.value.clone() }</td>
            </tr>
        }
    });
    html! {
        <table id={props.id.clone()} class="info-table">
            <thead class="visually-hidden">
                <tr><th scope="col">{ i18n.t(Msg::SystemInfoLabel) }</th><th scope="col">{ i18n.t(Msg::SystemInfoValue) }</th></tr>
            </thead>
            <tbody>{ for rows }</tbody>
        </table>
    }
}

/// A check code as it is read out: its digits in pairs (`47 12`).
pub fn spaced(code: &str) -> String {
    let chars: Vec<char> = code.chars().collect();
    chars
        .chunks(2)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

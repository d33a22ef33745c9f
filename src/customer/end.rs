//! The end of the session (`#session-ended`, saying why) and the thank-you
//! (`#thank-you`).

use connectit_protocol::EndReason;
use yew::prelude::*;

use crate::i18n::{use_i18n, Msg};
use crate::widgets::{use_focus_if_lost, use_title};

#[derive(Properties, PartialEq)]
pub struct SessionEndedProps {
    pub organisation: AttrValue,
    pub reason: EndReason,
}

#[component]
pub fn SessionEnded(props: &SessionEndedProps) -> Html {
    let i18n = use_i18n();
    use_title(i18n.title(Msg::EndedTitle, &props.organisation));
    let heading = use_node_ref();
    use_focus_if_lost(heading.clone());
    html! {
        <section id="session-ended" class="card ended" role="status" aria-labelledby="ended-heading"
            data-reason={reason_attr(props.reason)}>
            <h1 id="ended-heading" tabindex="-1" ref={heading}>{ i18n.t(Msg::EndedHeading) }</h1>
            <p>{ i18n.end_reason(props.reason) }</p>
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct ThankYouProps {
    pub organisation: AttrValue,
    pub on_restart: Callback<()>,
}

#[component]
pub fn ThankYou(props: &ThankYouProps) -> Html {
    let i18n = use_i18n();
    use_title(i18n.title(Msg::ThanksTitle, &props.organisation));
    let heading = use_node_ref();
    {
        let heading = heading.clone();
        use_effect_with((), move |_| {
            if let Some(h) = heading.cast::<web_sys::HtmlElement>() {
                let _ = h.focus();
            }
        });
    }
    let restart = props.on_restart.reform(|_: MouseEvent| ());
    html! {
        <section id="thank-you" class="card thanks">
            <h1 ref={heading} tabindex="-1">{ i18n.t(Msg::ThanksHeading) }</h1>
            <p>{ i18n.t(Msg::ThanksText) }</p>
            <button type="button" class="link-button" onclick={restart}>{ i18n.t(Msg::NewSessionCustomer) }</button>
        </section>
    }
}

/// The `data-reason` value (the protocol's own name for it).
fn reason_attr(reason: EndReason) -> String {
    serde_json::to_value(reason)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

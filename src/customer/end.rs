//! The end of the session (`#session-ended`, saying why) and the thank-you
//! (`#thank-you`).

use connectit_protocol::EndReason;
use yew::prelude::*;

use crate::text;
use crate::widgets::{use_focus_if_lost, use_title};

#[derive(Properties, PartialEq)]
pub struct SessionEndedProps {
    pub organisation: AttrValue,
    pub reason: EndReason,
}

#[component]
pub fn SessionEnded(props: &SessionEndedProps) -> Html {
    use_title(text::title(text::ENDED_TITLE, &props.organisation));
    let heading = use_node_ref();
    use_focus_if_lost(heading.clone());
    html! {
        <section id="session-ended" class="card ended" role="status" aria-labelledby="ended-heading">
            <h1 id="ended-heading" tabindex="-1" ref={heading}>{ text::ENDED_HEADING }</h1>
            <p>{ text::end_reason(props.reason) }</p>
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
    use_title(text::title(text::THANKS_TITLE, &props.organisation));
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
            <h1 ref={heading} tabindex="-1">{ text::THANKS_HEADING }</h1>
            <p>{ text::THANKS_TEXT }</p>
            <button type="button" class="link-button" onclick={restart}>{ text::NEW_SESSION_CUSTOMER }</button>
        </section>
    }
}

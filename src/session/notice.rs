//! The line that explains the last problem with an action (refused, unconfirmed, not
//! sent), in words, with a way to dismiss it.

use yew::prelude::*;

use super::live::Notice;
use crate::text;

#[derive(Properties, PartialEq)]
pub struct NoticeLineProps {
    pub notice: Option<Notice>,
    pub on_dismiss: Callback<()>,
}

#[component]
pub fn NoticeLine(props: &NoticeLineProps) -> Html {
    let Some(notice) = props.notice else {
        return html! {};
    };
    let message = match notice {
        Notice::Refused(code) => text::error(code),
        Notice::Unconfirmed => text::UNCONFIRMED.to_owned(),
        Notice::NotConnected => text::NOT_CONNECTED.to_owned(),
    };
    let dismiss = props.on_dismiss.reform(|_: MouseEvent| ());
    html! {
        <div class="notice" role="alert" id="action-error">
            <p>{ message }</p>
            <button type="button" class="link-button" onclick={dismiss}>{ text::CLOSE }</button>
        </div>
    }
}

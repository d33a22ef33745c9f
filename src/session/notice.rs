//! The line that explains the last problem with an action (refused, unconfirmed, not
//! sent), in words, with a way to dismiss it.

use yew::prelude::*;

use super::live::Notice;
use crate::i18n::{use_i18n, Msg};

#[derive(Properties, PartialEq)]
pub struct NoticeLineProps {
    pub notice: Option<Notice>,
    pub on_dismiss: Callback<()>,
}

#[component]
pub fn NoticeLine(props: &NoticeLineProps) -> Html {
    let i18n = use_i18n();
    let Some(notice) = props.notice else {
        return html! {};
    };
    let message = match notice {
        Notice::Refused(code) => i18n.error(code),
        Notice::Unconfirmed => i18n.t(Msg::Unconfirmed),
        Notice::NotConnected => i18n.t(Msg::NotConnected),
    };
    let dismiss = props.on_dismiss.reform(|_: MouseEvent| ());
    html! {
        <div class="notice" role="alert" id="action-error">
            <p>{ message }</p>
            <button type="button" class="link-button" onclick={dismiss}>{ i18n.t(Msg::Close) }</button>
        </div>
    }
}

//! The customer's view once a technician picked up: who they are talking with
//! (`#technician-name`), the conversation and the message field.

use connectit_protocol::{Action, Role};
use yew::prelude::*;

use crate::browser;
use crate::i18n::{use_i18n, Msg};
use crate::session::{ChatInput, ChatLog, Entries};
use crate::socket::NotConnected;
use crate::widgets::use_title;

#[derive(Properties, PartialEq)]
pub struct CustomerChatProps {
    pub organisation: AttrValue,
    pub technician: AttrValue,
    pub entries: Entries,
    pub act: Callback<Action, Result<u32, NotConnected>>,
}

#[component]
pub fn CustomerChat(props: &CustomerChatProps) -> Html {
    let i18n = use_i18n();
    use_title(i18n.title(Msg::ChatTitle, &props.organisation));
    // Picked up: a customer whose focus was on the waiting room goes on in the message
    // field.
    use_effect_with((), |_| {
        if browser::focus_lost() {
            browser::focus_id("chat-input");
        }
    });
    let on_send = {
        let act = props.act.clone();
        Callback::from(move |text: String| act.emit(Action::Chat { text }).map(|_| ()))
    };
    html! {
        <section class="chat" aria-labelledby="chat-heading">
            <h1 id="chat-heading" class="chat-heading">
                { i18n.t(Msg::ChatWith) }{ " " }
                <bdi id="technician-name">{ props.technician.clone() }</bdi>
                <span class="muted">{ " " }{ i18n.t(Msg::FromOrganisation { organisation: props.organisation.to_string() }) }</span>
            </h1>
            <ChatLog entries={props.entries.clone()} viewer={Role::Customer} />
            <ChatInput {on_send} />
        </section>
    }
}

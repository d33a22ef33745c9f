//! What the technician may do right now (`#granted`), for the whole session: one line
//! per grant with its own "Take back" (`button.revoke`), and "Take back everything"
//! (`#revoke-all`). Each button emits the [`Action::Revoke`] to send.

use connectit_protocol::{Action, Permission};
use yew::prelude::*;

use crate::i18n::words::capitalised;
use crate::i18n::{use_i18n, Msg};
use crate::session::entry::permission_attr;

#[derive(Properties, PartialEq)]
pub struct GrantedProps {
    /// What is granted now (the session state's `granted`).
    pub granted: Vec<Permission>,
    /// A revocation is on its way.
    #[prop_or_default]
    pub busy: bool,
    pub on_revoke: Callback<Action>,
}

#[component]
pub fn GrantedPanel(props: &GrantedProps) -> Html {
    let i18n = use_i18n();
    let revoke = |permissions: Vec<Permission>| {
        props.on_revoke.reform(move |_: MouseEvent| Action::Revoke {
            permissions: permissions.clone(),
        })
    };
    let items = props.granted.iter().map(|p| {
        html! {
            <li key={permission_attr(*p)} data-permission={permission_attr(*p)} class="grant">
                <span>{ capitalised(&i18n.permission_for_customer(*p)) }</span>
                <button type="button" class="revoke secondary" disabled={props.busy}
                    aria-label={i18n.t(Msg::RevokeLabel { what: i18n.permission_for_customer(*p) })} onclick={revoke(vec![*p])}>
                    { i18n.t(Msg::Revoke) }
                </button>
            </li>
        }
    });
    let empty = props.granted.is_empty();
    html! {
        <section id="granted" class="granted" aria-labelledby="granted-heading">
            <h2 id="granted-heading">{ i18n.t(Msg::GrantedHeading) }</h2>
            if empty {
                <p class="muted">{ i18n.t(Msg::GrantedNothing) }</p>
            } else {
                <ul class="grant-list">{ for items }</ul>
                <button id="revoke-all" type="button" class="danger" disabled={props.busy}
                    onclick={revoke(props.granted.clone())}>
                    { i18n.t(Msg::RevokeAll) }
                </button>
            }
        </section>
    }
}

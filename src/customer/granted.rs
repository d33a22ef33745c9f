//! What the technician may do right now (`#granted`): one line per grant with its own
//! "Take back" (`button.revoke`), the time a grant given for a time has left with "10
//! more min" (`button.renew`: ten minutes from now), and "Take back everything" (`#revoke-all`). Each button emits
//! the [`Action`] to send.

use connectit_protocol::{Action, Millis, Permission};
use yew::prelude::*;

use crate::i18n::words::capitalised;
use crate::i18n::{use_i18n, Msg};
use crate::session::entry::permission_attr;
use crate::session::grant_time::GrantTime;

/// How long "10 more min" lets a grant go on, from the click.
const RENEW_SECS: u64 = 600;

#[derive(Properties, PartialEq)]
pub struct GrantedProps {
    /// What is granted now (the session state's `granted`).
    pub granted: Vec<Permission>,
    /// When grants given for a time run out (the state's `granted_until`).
    #[prop_or_default]
    pub until: Vec<(Permission, Millis)>,
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
    let renew = |p: Permission| {
        props.on_revoke.reform(move |_: MouseEvent| Action::Renew {
            permissions: vec![p],
            for_secs: Some(RENEW_SECS),
        })
    };
    let items = props.granted.iter().map(|p| {
        let until = props.until.iter().find(|(g, _)| g == p).map(|(_, u)| *u);
        html! {
            <li key={permission_attr(*p)} data-permission={permission_attr(*p)} class="grant">
                <span>{ capitalised(&i18n.permission_for_customer(*p)) }</span>
                if let Some(until) = until {
                    <GrantTime {until} />
                    <button type="button" class="renew secondary" disabled={props.busy}
                        aria-label={i18n.t(Msg::RenewLabel { what: i18n.permission_for_customer(*p) })}
                        onclick={renew(*p)}>
                        { i18n.t(Msg::RenewGrant) }
                    </button>
                }
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

//! The technician's view of the permissions: the request form, the request waiting for
//! an answer with its countdown (`#pending-request`), and what the customer has granted
//! right now (`#customer-granted`).

use connectit_protocol::{Action, Phase, SessionState};
use yew::prelude::*;

use super::request::RequestForm;
use crate::i18n::words::capitalised;
use crate::i18n::{use_i18n, Msg};
use crate::session::countdown::Countdown;
use crate::session::entry::permission_attr;
use crate::session::grant_time::GrantTime;

#[derive(Properties, PartialEq)]
pub struct PermissionsProps {
    pub state: SessionState,
    /// A request is on its way to the broker.
    #[prop_or_default]
    pub busy: bool,
    pub on_request: Callback<Action>,
}

#[component]
pub fn PermissionsPanel(props: &PermissionsProps) -> Html {
    let i18n = use_i18n();
    let state = &props.state;
    let active = state.phase() == Phase::Active;
    let enabled = active && state.pending().is_none() && !props.busy;
    let granted = state.granted().iter().map(|p| {
        html! {
            <li key={permission_attr(*p)} data-permission={permission_attr(*p)}>
                { capitalised(&i18n.permission_for_technician(*p)) }
                if let Some(until) = state.grant_ends(*p) {
                    { " " }<GrantTime {until} />
                }
            </li>
        }
    });
    html! {
        <section class="permissions" aria-labelledby="permissions-heading">
            <h2 id="permissions-heading" class="visually-hidden">{ i18n.t(Msg::RequestHeading) }</h2>
            if active {
                <RequestForm {enabled} granted={state.granted().to_vec()} on_request={props.on_request.clone()} />
            }
            if let Some(pending) = &state.pending() {
                <div id="pending-request" class="pending-request" role="status"
                    data-request={pending.request.to_string()}>
                    <p>
                        <strong>{ i18n.t(Msg::PendingHeading) }</strong>{ i18n.t(Msg::Colon) }
                        { i18n.and_list(&pending.permissions.iter()
                            .map(|p| i18n.permission_for_technician(*p)).collect::<Vec<_>>()) }
                    </p>
                    <p class="remaining">
                        <Countdown id="pending-remaining" deadline={pending.deadline} />
                        { " " }{ i18n.t(Msg::PendingRemainingAfter) }
                    </p>
                </div>
            }
            <div class="customer-granted">
                <h3>{ i18n.t(Msg::CustomerGrantedHeading) }</h3>
                <ul id="customer-granted" class="grant-list">{ for granted }</ul>
                if state.granted().is_empty() {
                    <p class="muted">{ i18n.t(Msg::CustomerGrantedNothing) }</p>
                }
            </div>
        </section>
    }
}

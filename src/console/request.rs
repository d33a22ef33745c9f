//! The technician's request form (`#request-form`): one checkbox per permission, an
//! optional reason, and "Ask" (`#request-submit`), which waits while a request is
//! pending or the session is not active. Emits the [`Action::RequestPermissions`]. The
//! choice and the reason stay after asking, so a request that was refused or ran out
//! can be asked again as it was; what the customer granted leaves the choice.

use connectit_protocol::{limits, Action, Permission};
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::i18n::words::capitalised;
use crate::i18n::{use_i18n, Msg};
use crate::session::entry::permission_attr;

#[derive(Properties, PartialEq)]
pub struct RequestFormProps {
    /// Whether a request may be made now (active, nothing pending, nothing on its way).
    pub enabled: bool,
    /// What the customer granted (and has not taken back).
    #[prop_or_default]
    pub granted: Vec<Permission>,
    pub on_request: Callback<Action>,
}

#[component]
pub fn RequestForm(props: &RequestFormProps) -> Html {
    let i18n = use_i18n();
    let chosen = use_state(Vec::<Permission>::new);
    let reason = use_state(String::new);
    let problem = use_state(|| false);
    {
        // Granted: nothing left to ask for those.
        let chosen = chosen.clone();
        use_effect_with(props.granted.clone(), move |granted| {
            if chosen.iter().any(|p| granted.contains(p)) {
                chosen.set(
                    chosen
                        .iter()
                        .copied()
                        .filter(|p| !granted.contains(p))
                        .collect(),
                );
            }
        });
    }

    let toggle = |p: Permission| {
        let (chosen, problem) = (chosen.clone(), problem.clone());
        Callback::from(move |e: Event| {
            let on = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
                .is_some_and(|i| i.checked());
            let mut next: Vec<Permission> = (*chosen).iter().copied().filter(|x| *x != p).collect();
            if on {
                next.push(p);
            }
            next.sort();
            problem.set(false);
            chosen.set(next);
        })
    };
    let oninput = {
        let reason = reason.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            {
                reason.set(input.value());
            }
        })
    };
    let onsubmit = {
        let (chosen, reason, problem) = (chosen.clone(), reason.clone(), problem.clone());
        let (on_request, enabled) = (props.on_request.clone(), props.enabled);
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if !enabled {
                return;
            }
            if chosen.is_empty() {
                problem.set(true);
                return;
            }
            on_request.emit(Action::RequestPermissions {
                permissions: (*chosen).clone(),
                reason: reason.trim().to_owned(),
            });
        })
    };

    let boxes = Permission::ALL.iter().map(|p| {
        let id = format!("perm-{}", permission_attr(*p));
        html! {
            <li key={id.clone()}>
                <input type="checkbox" id={id.clone()} checked={chosen.contains(p)} onchange={toggle(*p)} />
                <label for={id}>{ capitalised(&i18n.permission_for_technician(*p)) }</label>
            </li>
        }
    });
    html! {
        <form id="request-form" class="request-form" {onsubmit} novalidate=true>
            <fieldset>
                <legend>{ i18n.t(Msg::RequestHeading) }</legend>
                <ul class="checks">{ for boxes }</ul>
            </fieldset>
            <label for="request-reason">{ i18n.t(Msg::RequestReason) }</label>
            <input id="request-reason" type="text" value={(*reason).clone()} {oninput}
                maxlength={limits::REASON_MAX_CHARS.to_string()} />
            if *problem {
                <p id="request-error" class="field-error" role="alert">{ i18n.t(Msg::ErrorInvalidPermissions) }</p>
            }
            <button id="request-submit" type="submit" class="primary" disabled={!props.enabled}>
                { i18n.t(Msg::RequestSubmit) }
            </button>
        </form>
    }
}

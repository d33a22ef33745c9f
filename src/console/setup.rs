//! The first-account form (`#setup-form`), shown while the broker says setup is
//! needed: the one-time code it printed, and the new account's details.

use connectit_protocol::api::{SetupRequest, Technician};
use connectit_protocol::error::Field as FieldName;
use connectit_protocol::ErrorCode;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::form::Field;
use super::signin::FormProblem;
use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, Msg};
use crate::widgets::ErrorText;

/// Which field an error is about.
fn field_of(error: &ApiError) -> Option<FieldName> {
    match error.code() {
        Some(ErrorCode::InvalidSetupCode) => Some(FieldName::SetupCode),
        Some(ErrorCode::InvalidInput { field }) => Some(field),
        _ => None,
    }
}

#[derive(Properties, PartialEq)]
pub struct SetupProps {
    pub on_done: Callback<Technician>,
}

#[component]
pub fn SetupForm(props: &SetupProps) -> Html {
    let i18n = use_i18n();
    let code = use_state(String::new);
    let username = use_state(String::new);
    let display_name = use_state(String::new);
    let password = use_state(String::new);
    let busy = use_state(|| false);
    // The message, and the field it is about (None: the whole form).
    let error = use_state(|| None::<(FormProblem, Option<FieldName>)>);

    let onsubmit = {
        let (code, username, display_name, password, busy, error) = (
            code.clone(),
            username.clone(),
            display_name.clone(),
            password.clone(),
            busy.clone(),
            error.clone(),
        );
        let on_done = props.on_done.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let request = SetupRequest {
                code: code.trim().to_owned(),
                username: username.trim().to_owned(),
                display_name: display_name.trim().to_owned(),
                password: (*password).clone(),
            };
            if request.code.is_empty()
                || request.username.is_empty()
                || request.display_name.is_empty()
                || request.password.is_empty()
            {
                error.set(Some((FormProblem::FillAllFields, None)));
                return;
            }
            busy.set(true);
            let (busy, error, on_done) = (busy.clone(), error.clone(), on_done.clone());
            spawn_local(async move {
                match api::setup(&request).await {
                    Ok(technician) => on_done.emit(technician),
                    Err(e) => {
                        busy.set(false);
                        error.set(Some((FormProblem::Api(e), field_of(&e))));
                    }
                }
            });
        })
    };
    let about = |field: FieldName| -> Option<AttrValue> {
        match &*error {
            Some((_, Some(f))) if *f == field => Some("setup-error".into()),
            Some((_, None)) => Some("setup-error".into()),
            _ => None,
        }
    };
    let setter = |state: &UseStateHandle<String>| {
        let state = state.clone();
        Callback::from(move |v: String| state.set(v))
    };
    html! {
        <form id="setup-form" class="card narrow" {onsubmit} novalidate=true aria-labelledby="setup-heading">
            <h1 id="setup-heading">{ i18n.t(Msg::SetupHeading) }</h1>
            <p class="intro">{ i18n.t(Msg::SetupIntro) }</p>
            <Field id="setup-code" label={i18n.t(Msg::SetupCode)} value={AttrValue::from((*code).clone())}
                autocomplete={AttrValue::from("off")} error_id={about(FieldName::SetupCode)}
                on_change={setter(&code)} />
            <Field id="setup-username" label={i18n.t(Msg::Username)} value={AttrValue::from((*username).clone())}
                autocomplete={AttrValue::from("username")} error_id={about(FieldName::Username)}
                on_change={setter(&username)} />
            <Field id="setup-display-name" label={i18n.t(Msg::DisplayName)}
                value={AttrValue::from((*display_name).clone())} autocomplete={AttrValue::from("name")}
                error_id={about(FieldName::DisplayName)} on_change={setter(&display_name)} />
            <Field id="setup-password" label={i18n.t(Msg::Password)} kind="password"
                value={AttrValue::from((*password).clone())} autocomplete={AttrValue::from("new-password")}
                error_id={about(FieldName::Password)} on_change={setter(&password)} />
            <ErrorText id="setup-error" message={error.as_ref().map(|(p, _)| p.describe(&i18n))} />
            <button id="setup-submit" type="submit" class="primary" disabled={*busy}>{ i18n.t(Msg::SetupSubmit) }</button>
        </form>
    }
}

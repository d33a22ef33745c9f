//! The sign-in form (`#signin-form`).

use connectit_protocol::api::{SignInRequest, Technician};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::form::Field;
use crate::api::{self, ApiError};
use crate::text;
use crate::widgets::ErrorText;

/// An API failure in words.
pub fn failure(error: ApiError) -> String {
    match error {
        ApiError::Refused { code, .. } => text::error(code),
        ApiError::Unreachable => text::UNREACHABLE.to_owned(),
        ApiError::BadAnswer { .. } => text::BAD_ANSWER.to_owned(),
    }
}

#[derive(Properties, PartialEq)]
pub struct SignInProps {
    pub on_done: Callback<Technician>,
}

#[component]
pub fn SignInForm(props: &SignInProps) -> Html {
    let username = use_state(String::new);
    let password = use_state(String::new);
    let busy = use_state(|| false);
    let error = use_state(|| None::<String>);

    let onsubmit = {
        let (username, password, busy, error) = (
            username.clone(),
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
            if username.trim().is_empty() || password.is_empty() {
                error.set(Some(text::FILL_ALL_FIELDS.to_owned()));
                return;
            }
            let request = SignInRequest {
                username: username.trim().to_owned(),
                password: (*password).clone(),
            };
            busy.set(true);
            let (busy, error, on_done) = (busy.clone(), error.clone(), on_done.clone());
            spawn_local(async move {
                match api::sign_in(&request).await {
                    Ok(technician) => on_done.emit(technician),
                    Err(e) => {
                        busy.set(false);
                        error.set(Some(failure(e)));
                    }
                }
            });
        })
    };
    let error_id = error.is_some().then_some(AttrValue::from("signin-error"));
    html! {
        <form id="signin-form" class="card narrow" {onsubmit} novalidate=true aria-labelledby="signin-heading">
            <h1 id="signin-heading">{ text::SIGNIN_HEADING }</h1>
            <Field id="signin-username" label={text::USERNAME} value={AttrValue::from((*username).clone())}
                autocomplete={AttrValue::from("username")} error_id={error_id.clone()}
                on_change={Callback::from({ let s = username.clone(); move |v| s.set(v) })} />
            <Field id="signin-password" label={text::PASSWORD} kind="password"
                value={AttrValue::from((*password).clone())}
                autocomplete={AttrValue::from("current-password")} error_id={error_id}
                on_change={Callback::from({ let s = password.clone(); move |v| s.set(v) })} />
            <ErrorText id="signin-error" message={(*error).clone()} />
            <button id="signin-submit" type="submit" class="primary" disabled={*busy}>
                { if *busy { text::SIGNING_IN } else { text::SIGNIN_SUBMIT } }
            </button>
        </form>
    }
}

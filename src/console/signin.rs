//! The sign-in form (`#signin-form`).

use connectit_protocol::api::{SignInMethods, SignInRequest, Technician};
use connectit_protocol::ErrorCode;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::form::Field;
use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, I18n, Msg};
use crate::widgets::ErrorText;

/// What went wrong with a console form: kept as facts, put in words when shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormProblem {
    /// A field was left empty.
    FillAllFields,
    /// The broker did not accept it.
    Api(ApiError),
}

impl FormProblem {
    /// The problem in the reader's words.
    pub fn describe(self, i18n: &I18n) -> String {
        match self {
            FormProblem::FillAllFields => i18n.t(Msg::FillAllFields),
            FormProblem::Api(error) => i18n.api_error(&error),
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct SignInProps {
    pub on_done: Callback<Technician>,
    /// The broker ended the last sign-in (signed out elsewhere, expired, disabled).
    #[prop_or_default]
    pub signed_out: bool,
    /// How this installation lets technicians sign in.
    #[prop_or_default]
    pub methods: SignInMethods,
    /// Why the last single sign-on came back refused, if it did.
    #[prop_or_default]
    pub sso_error: Option<ErrorCode>,
}

#[component]
pub fn SignInForm(props: &SignInProps) -> Html {
    let i18n = use_i18n();
    let username = use_state(String::new);
    let password = use_state(String::new);
    let busy = use_state(|| false);
    let error = {
        let sso_error = props.sso_error;
        use_state(move || {
            sso_error.map(|code| FormProblem::Api(ApiError::Refused { status: 403, code }))
        })
    };

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
                error.set(Some(FormProblem::FillAllFields));
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
                        error.set(Some(FormProblem::Api(e)));
                    }
                }
            });
        })
    };
    let error_id = error.is_some().then_some(AttrValue::from("signin-error"));
    let passwords = props.methods.passwords;
    html! {
        <form id="signin-form" class="card narrow" {onsubmit} novalidate=true aria-labelledby="signin-heading">
            <h1 id="signin-heading">{ i18n.t(Msg::SigninHeading) }</h1>
            if props.signed_out {
                <p id="signed-out" class="notice" role="status">{ i18n.t(Msg::SignedOutElsewhere) }</p>
            }
            if let Some(name) = &props.methods.single_sign_on {
                // A plain link: the broker sends the browser on to the provider.
                <a id="sso-sign-in" class="button-link sso-button" href="/api/auth/oidc/start">
                    { i18n.t(Msg::SignInWith { name: name.clone() }) }
                </a>
                if passwords {
                    <p class="sign-in-or">{ i18n.t(Msg::SignInOr) }</p>
                }
            }
            if passwords {
                <Field id="signin-username" label={i18n.t(Msg::Username)} value={AttrValue::from((*username).clone())}
                    autocomplete={AttrValue::from("username")} error_id={error_id.clone()}
                    on_change={Callback::from({ let s = username.clone(); move |v| s.set(v) })} />
                <Field id="signin-password" label={i18n.t(Msg::Password)} kind="password"
                    value={AttrValue::from((*password).clone())}
                    autocomplete={AttrValue::from("current-password")} error_id={error_id}
                    on_change={Callback::from({ let s = password.clone(); move |v| s.set(v) })} />
            }
            <ErrorText id="signin-error" message={error.map(|p| p.describe(&i18n))} />
            if passwords {
                <button id="signin-submit" type="submit" class="primary" disabled={*busy}>
                    { i18n.t(if *busy { Msg::SigningIn } else { Msg::SigninSubmit }) }
                </button>
            }
        </form>
    }
}

//! One's own account (`#account`): a new password (the other browsers are signed out),
//! and signing out one's other browsers. And the page an invitation link opens
//! (`/console/welcome#TOKEN`, [`WelcomeForm`]): the new account's owner chooses its
//! password and is signed in.

use connectit_protocol::api::Technician;
use yew::platform::spawn_local;
use yew::prelude::*;

use super::form::Field;
use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, Msg};
use crate::widgets::ErrorText;

fn setter(state: &UseStateHandle<String>) -> Callback<String> {
    let state = state.clone();
    Callback::from(move |v: String| state.set(v))
}

#[derive(Properties, PartialEq)]
pub struct AccountPageProps {
    pub on_back: Callback<()>,
}

#[component]
pub fn AccountPage(props: &AccountPageProps) -> Html {
    let i18n = use_i18n();
    let current = use_state(String::new);
    let new = use_state(String::new);
    let busy = use_state(|| false);
    let problem = use_state(|| None::<ApiError>);
    let done = use_state(|| None::<Msg>);
    let change = {
        let (current, new, busy, problem, done) = (
            current.clone(),
            new.clone(),
            busy.clone(),
            problem.clone(),
            done.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            busy.set(true);
            problem.set(None);
            done.set(None);
            let (c, n) = ((*current).clone(), (*new).clone());
            let (current, new, busy, problem, done) = (
                current.clone(),
                new.clone(),
                busy.clone(),
                problem.clone(),
                done.clone(),
            );
            spawn_local(async move {
                match api::change_password(&c, &n).await {
                    Ok(()) => {
                        current.set(String::new());
                        new.set(String::new());
                        done.set(Some(Msg::PasswordChanged));
                    }
                    Err(e) => problem.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let others = {
        let (busy, problem, done) = (busy.clone(), problem.clone(), done.clone());
        Callback::from(move |_: MouseEvent| {
            busy.set(true);
            problem.set(None);
            let (busy, problem, done) = (busy.clone(), problem.clone(), done.clone());
            spawn_local(async move {
                match api::sign_out_others().await {
                    Ok(()) => done.set(Some(Msg::OthersSignedOut)),
                    Err(e) => problem.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let back = props.on_back.reform(|_: MouseEvent| ());
    html! {
        <section id="account" class="card narrow" aria-labelledby="account-heading">
            <button id="account-back" type="button" class="link-button" onclick={back}>{ "← " }{ i18n.t(Msg::BackToList) }</button>
            <h1 id="account-heading">{ i18n.t(Msg::AccountHeading) }</h1>
            <form id="password-form" onsubmit={change} novalidate=true>
                <Field id="current-password" label={i18n.t(Msg::CurrentPassword)} kind="password"
                    value={AttrValue::from((*current).clone())} autocomplete={AttrValue::from("current-password")}
                    on_change={setter(&current)} />
                <Field id="new-password" label={i18n.t(Msg::NewPassword)} kind="password"
                    value={AttrValue::from((*new).clone())} autocomplete={AttrValue::from("new-password")}
                    on_change={setter(&new)} />
                <button id="change-password" type="submit" class="primary" disabled={*busy}>
                    { i18n.t(Msg::ChangePassword) }
                </button>
            </form>
            <button id="sign-out-others" type="button" class="secondary" disabled={*busy} onclick={others}>
                { i18n.t(Msg::SignOutOthers) }
            </button>
            if let Some(msg) = (*done).clone() {
                <p id="account-done" class="notice info" role="status">{ i18n.t(msg) }</p>
            }
            <ErrorText id="account-error" message={problem.as_ref().map(|e| i18n.api_error(e))} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct WelcomeProps {
    /// The token from the link's fragment.
    pub token: AttrValue,
    pub on_done: Callback<Technician>,
}

#[component]
pub fn WelcomeForm(props: &WelcomeProps) -> Html {
    let i18n = use_i18n();
    let password = use_state(String::new);
    let again = use_state(String::new);
    let busy = use_state(|| false);
    let problem = use_state(|| None::<String>);
    let submit = {
        let (password, again, busy, problem) = (
            password.clone(),
            again.clone(),
            busy.clone(),
            problem.clone(),
        );
        let (token, on_done, i18n) = (props.token.clone(), props.on_done.clone(), i18n.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            if *password != *again {
                problem.set(Some(i18n.t(Msg::PasswordsDiffer)));
                return;
            }
            busy.set(true);
            problem.set(None);
            let (p, busy, problem, token, on_done, i18n) = (
                (*password).clone(),
                busy.clone(),
                problem.clone(),
                token.clone(),
                on_done.clone(),
                i18n.clone(),
            );
            spawn_local(async move {
                match api::accept_invitation(&token, &p).await {
                    Ok(technician) => {
                        // The link is used: the console's own address from now on.
                        crate::browser::replace_path("/console");
                        on_done.emit(technician);
                    }
                    Err(e) => {
                        problem.set(Some(i18n.api_error(&e)));
                        busy.set(false);
                    }
                }
            });
        })
    };
    html! {
        <form id="welcome-form" class="card narrow" onsubmit={submit} novalidate=true aria-labelledby="welcome-heading">
            <h1 id="welcome-heading">{ i18n.t(Msg::WelcomeHeading) }</h1>
            <p class="intro">{ i18n.t(Msg::WelcomeIntro) }</p>
            <Field id="welcome-password" label={i18n.t(Msg::NewPassword)} kind="password"
                value={AttrValue::from((*password).clone())} autocomplete={AttrValue::from("new-password")}
                on_change={setter(&password)} />
            <Field id="welcome-again" label={i18n.t(Msg::RepeatPassword)} kind="password"
                value={AttrValue::from((*again).clone())} autocomplete={AttrValue::from("new-password")}
                on_change={setter(&again)} />
            <ErrorText id="welcome-error" message={(*problem).clone()} />
            <button id="welcome-submit" type="submit" class="primary" disabled={*busy}>
                { i18n.t(Msg::WelcomeSubmit) }
            </button>
        </form>
    }
}

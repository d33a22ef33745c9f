//! The technician console (`/console`): first-account setup, sign-in, then the home
//! view with the teams' queues ([`queue`]), the sessions ([`home`]) and the security
//! log ([`audit`]); in one session,
//! the permission requests ([`request`], [`permissions`]) and the customer's screen and
//! camera ([`screen`], [`media`]). [`Auth`] is the one state machine of who is signed
//! in.

pub mod account;
pub mod admin;
pub mod alert_settings;
pub mod audit;
pub mod files;
pub mod form;
pub mod handover;
pub mod history;
pub mod home;
pub mod integrations;
pub mod list;
pub mod media;
pub mod new_session;
pub mod notes;
pub mod path;
pub mod permissions;
pub mod queue;
pub mod replies;
pub mod request;
pub mod screen;
pub mod session_view;
pub mod sessions;
pub mod setup;
pub mod signin;
pub mod system_info;
pub mod workspace;

use std::rc::Rc;

use connectit_protocol::api::{ConfigWarning, SignInMethods, Technician};
use connectit_protocol::ErrorCode;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::clock;
use crate::i18n::{use_i18n, LanguageSelect, Msg};

/// Who is at the console.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// Asking the broker.
    Checking,
    /// The broker cannot be reached.
    Unreachable,
    /// No account exists yet: create the first with the setup code.
    Setup,
    /// Signing in; `true` when the broker ended the last sign-in (say so).
    SignIn(bool),
    /// An invitation link was opened: its owner chooses a password (the token).
    Welcome(Rc<str>),
    SignedIn(Rc<Technician>),
}

/// The `data-warning` value (the protocol's own name for it).
fn warning_attr(warning: ConfigWarning) -> &'static str {
    match warning {
        ConfigWarning::NoRelay => "no_relay",
    }
}

/// The token of an invitation link opened here (`/console/welcome#TOKEN`), taken out
/// of the address bar.
fn invitation_token() -> Option<Rc<str>> {
    if crate::browser::pathname().trim_end_matches('/') != "/console/welcome" {
        return None;
    }
    let hash = crate::browser::hash();
    let token = hash.trim_start_matches('#').trim();
    if token.is_empty() {
        return None;
    }
    let token: Rc<str> = token.into();
    let _ = crate::browser::clear_hash();
    Some(token)
}

/// Why single sign-on came back refused (`/console/#sign-in-error=…`: the typed error
/// as JSON, base64url), taken out of the address bar.
fn sso_error() -> Option<ErrorCode> {
    let hash = crate::browser::hash();
    let encoded = hash
        .trim_start_matches('#')
        .strip_prefix("sign-in-error=")?;
    let _ = crate::browser::clear_hash();
    let json = crate::browser::base64url_decode(encoded)?;
    serde_json::from_slice(&json).ok()
}

/// Finds out whether setup is needed and who is signed in.
async fn check() -> Auth {
    match api::setup_status().await {
        Err(_) => Auth::Unreachable,
        Ok(status) if status.needs_setup => Auth::Setup,
        Ok(_) => match api::me().await {
            Ok(technician) => Auth::SignedIn(Rc::new(technician)),
            Err(ApiError::Refused {
                code: ErrorCode::Unauthorized,
                ..
            }) => Auth::SignIn(false),
            Err(ApiError::Refused { .. }) => Auth::SignIn(false),
            Err(_) => Auth::Unreachable,
        },
    }
}

#[component]
pub fn ConsolePage() -> Html {
    let i18n = use_i18n();
    let auth = use_state(|| Auth::Checking);
    let organisation = use_state(String::new);
    let warnings = use_state(Vec::<ConfigWarning>::new);
    let attempt = use_state(|| 0u32);
    // Read once, before anything else: the link's token leaves the address bar.
    let invitation = use_state(invitation_token);
    let sso_error = use_state(sso_error);
    let methods = use_state(SignInMethods::default);
    {
        let (auth, organisation, warnings) = (auth.clone(), organisation.clone(), warnings.clone());
        let methods = methods.clone();
        let invitation = (*invitation).clone();
        let set_texts = i18n.set_texts.clone();
        use_effect_with(*attempt, move |_| {
            auth.set(Auth::Checking);
            spawn_local(async move {
                let sent = clock::local_now();
                if let Ok(config) = api::config().await {
                    // The broker read its clock between our request and its answer.
                    clock::pong_sample(sent, config.now, clock::local_now());
                    set_texts.emit(std::sync::Arc::new(config.texts.clone()));
                    warnings.set(config.warnings.clone());
                    methods.set(config.sign_in.clone());
                    organisation.set(config.organisation);
                }
                auth.set(match invitation {
                    Some(token) => Auth::Welcome(token),
                    None => check().await,
                });
            });
        });
    }
    // Signed in, the workspace titles the window (with what calls for attention).
    {
        let title = i18n.title(Msg::ConsoleTitle, &organisation);
        let signed_in = matches!(*auth, Auth::SignedIn(_));
        use_effect_with((title, signed_in), |(title, signed_in)| {
            if !*signed_in {
                crate::browser::set_title(title);
            }
        });
    }

    let signed_in = {
        let auth = auth.clone();
        Callback::from(move |technician: Technician| auth.set(Auth::SignedIn(Rc::new(technician))))
    };
    // `true`: the broker ended the sign-in (not the technician's own "Sign out").
    let signed_out = {
        let auth = auth.clone();
        Callback::from(move |by_broker: bool| auth.set(Auth::SignIn(by_broker)))
    };
    let body = match &*auth {
        Auth::Checking => html! { <p class="loading" role="status">{ i18n.t(Msg::Loading) }</p> },
        Auth::Unreachable => {
            let retry = Callback::from(move |_: MouseEvent| attempt.set(*attempt + 1));
            html! {
                <section class="card" role="alert">
                    <p data-error="unreachable">{ i18n.t(Msg::Unreachable) }</p>
                    <button type="button" class="primary" onclick={retry}>{ i18n.t(Msg::TryAgain) }</button>
                </section>
            }
        }
        Auth::Setup => html! { <setup::SetupForm on_done={signed_in} /> },
        Auth::Welcome(token) => html! {
            <account::WelcomeForm token={AttrValue::from(token.to_string())} on_done={signed_in} />
        },
        Auth::SignIn(by_broker) => html! {
            <signin::SignInForm on_done={signed_in} signed_out={*by_broker}
                methods={(*methods).clone()} sso_error={*sso_error} />
        },
        Auth::SignedIn(technician) => html! {
            <home::Home technician={technician.clone()} on_signed_out={signed_out} />
        },
    };
    html! {
        <>
            <header class="page-header console-header">
                <p id="org-name" class="org-name">{ (*organisation).clone() }</p>
                <p class="product">{ i18n.t(Msg::ConsoleTitle) }</p>
                <LanguageSelect />
            </header>
            <main class={classes!("page", "page-wide", matches!(*auth, Auth::SignedIn(_)).then_some("page-console"))}>
                if matches!(*auth, Auth::SignedIn(_)) {
                    { for warnings.iter().map(|w| html! {
                        <p class="notice warning config-warning" role="status" data-warning={warning_attr(*w)}>
                            { i18n.t(match w { ConfigWarning::NoRelay => Msg::WarningNoRelay }) }
                        </p>
                    }) }
                }
                { body }
            </main>
        </>
    }
}

//! The customer page (`/`, and a team's link `/t/{slug}`): loads the public
//! configuration, then runs the customer's [`flow`]: PIN ([`pin`]) or a team's queue
//! ([`team`]), terms ([`terms`]), waiting and chat ([`session`],
//! [`chat`]), the permission prompt ([`prompt`]), what is granted ([`granted`]), the
//! sharing indicators ([`sharing`]) and the outgoing media behind them ([`media`]), the
//! end and the survey ([`end`], [`survey`]), and the text size in the header
//! ([`text_size`]).

pub mod area_editor;
pub mod boot;
pub mod chat;
pub mod end;
pub mod files;
pub mod flow;
pub mod granted;
pub mod media;
pub mod pin;
pub mod prompt;
pub mod saved;
pub mod session;
pub mod sharing;
pub mod survey;
pub mod system_info;
pub mod team;
pub mod terms;
pub mod text_size;
pub mod watch_bar;

use std::rc::Rc;

use connectit_protocol::api::{PublicConfig, VerifyPinResponse};
use connectit_protocol::EndReason;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::i18n::{use_i18n, LanguageSelect, Msg};
use crate::record::{RecordDownloads, RecordSource};
use crate::session::hook::SESSION_WS_PATH;
use crate::widgets::{use_title, Footer};
use crate::{api, clock, socket};
use flow::{Flow, FlowAction, Joined, PinError, Step};

/// The public configuration, while it loads.
#[derive(Debug, Clone, PartialEq)]
enum ConfigState {
    Loading,
    Loaded(Rc<PublicConfig>),
    Failed,
}

#[component]
pub fn CustomerPage() -> Html {
    let i18n = use_i18n();
    let config = use_state(|| ConfigState::Loading);
    let attempt = use_state(|| 0u32);
    {
        let config = config.clone();
        let set_texts = i18n.set_texts.clone();
        use_effect_with(*attempt, move |_| {
            config.set(ConfigState::Loading);
            spawn_local(async move {
                match api::config_preloaded().await {
                    Ok((loaded, times)) => {
                        match times {
                            Some((sent, received)) => {
                                clock::pong_sample(sent, loaded.now, received)
                            }
                            None => clock::rough_sample(loaded.now),
                        }
                        set_texts.emit(std::sync::Arc::new(loaded.texts.clone()));
                        config.set(ConfigState::Loaded(Rc::new(loaded)));
                    }
                    Err(_) => config.set(ConfigState::Failed),
                }
            });
        });
    }
    // Once the configuration has come (or could not), the page's own PIN form goes:
    // the PIN step has taken it over already, any other first step has no use for it.
    use_effect_with(*config != ConfigState::Loading, |settled| {
        if *settled {
            boot::take();
        }
    });
    match &*config {
        // The page's own PIN form is on screen meanwhile (see `boot`): nothing beside it.
        ConfigState::Loading if boot::shown() => html! {},
        ConfigState::Loading => html! {
            <main class="page"><p class="loading" role="status">{ i18n.t(Msg::Loading) }</p></main>
        },
        ConfigState::Failed => {
            let retry = Callback::from(move |_: MouseEvent| attempt.set(*attempt + 1));
            html! { <ConfigFailed {retry} /> }
        }
        ConfigState::Loaded(config) => html! { <CustomerFlow config={config.clone()} /> },
    }
}

#[derive(Properties, PartialEq)]
struct ConfigFailedProps {
    retry: Callback<MouseEvent>,
}

#[component]
fn ConfigFailed(props: &ConfigFailedProps) -> Html {
    let i18n = use_i18n();
    use_title(i18n.t(Msg::AppName));
    html! {
        <main class="page">
            <section class="card" role="alert">
                <p data-error="unreachable">{ i18n.t(Msg::ConfigUnreachable) }</p>
                <button type="button" class="primary" onclick={props.retry.clone()}>{ i18n.t(Msg::TryAgain) }</button>
            </section>
        </main>
    }
}

/// The customer's ticket as the record downloads use it.
fn record_source(joined: &Joined) -> RecordSource {
    RecordSource::Customer {
        session: joined.session.clone(),
        token: joined.token.clone(),
    }
}

/// Lets the customer in by what `request` checks (a PIN, a link, a team's form). The
/// session's socket opens meanwhile ([`socket::open_ahead`]): its handshake overlaps
/// the check, and the session starts a round trip sooner. A refusal closes it.
fn join_by(
    flow: &UseReducerHandle<Flow>,
    request: impl std::future::Future<Output = Result<VerifyPinResponse, api::ApiError>> + 'static,
) {
    flow.dispatch(FlowAction::Verify);
    if let Some(url) = crate::browser::ws_url(SESSION_WS_PATH) {
        socket::open_ahead(&url);
    }
    let flow = flow.clone();
    spawn_local(async move {
        match request.await {
            Ok(answer) => flow.dispatch(FlowAction::Verified(Joined {
                session: answer.session,
                token: answer.token,
            })),
            Err(e) => {
                socket::close_ahead();
                flow.dispatch(FlowAction::Failed(PinError::from_api(
                    e,
                    clock::local_now(),
                )))
            }
        }
    });
}

#[derive(Properties, PartialEq)]
pub struct CustomerFlowProps {
    pub config: Rc<PublicConfig>,
}

/// Where the session puts what must stay in view while the page scrolls (a child of
/// the whole page, so it stays in view to its very end).
pub const LIVE_BAR_HOST: &str = "live-bar-host";

/// The customer's steps, with the organisation's header and footer around them.
#[component]
pub fn CustomerFlow(props: &CustomerFlowProps) -> Html {
    let flow = use_reducer(|| Flow {
        step: saved::restore(),
    });
    use_effect_with(flow.step.clone(), saved::store);

    // The session is open in another tab or window (the broker said so): this one
    // stops, until the person takes it back here.
    let elsewhere = use_state(|| false);
    {
        // A link's `#join=…` lets the customer in without a PIN.
        let flow = flow.clone();
        use_effect_with((), move |_| {
            let token = pin::join_token_from_fragment(&crate::browser::hash());
            if let (Some(token), Step::Pin { .. }) = (token, &flow.step) {
                let _ = crate::browser::clear_hash();
                join_by(&flow, async move { api::join_link(&token).await });
            }
        });
    }
    let on_verify = {
        let flow = flow.clone();
        Callback::from(move |pin: String| {
            join_by(&flow, async move { api::verify_pin(&pin).await });
        })
    };
    // A team's link (`/t/{slug}`) asks for a name and the problem instead of a PIN.
    let team_slug = use_memo((), |_| team::slug_from_path(&crate::browser::pathname()));
    let on_team_join = {
        let (flow, slug) = (flow.clone(), team_slug.clone());
        Callback::from(move |request: connectit_protocol::api::TeamJoinRequest| {
            let Some(slug) = (*slug).clone() else {
                return;
            };
            join_by(&flow, async move { api::team_join(&slug, &request).await });
        })
    };
    let on_edit = flow
        .dispatcher()
        .to_callback()
        .reform(|()| FlowAction::Edited);
    let on_ended = flow
        .dispatcher()
        .to_callback()
        .reform(|(reason, survey_done, helped)| FlowAction::Ended {
            reason,
            survey_done,
            helped,
        });
    let on_survey_done = flow
        .dispatcher()
        .to_callback()
        .reform(|()| FlowAction::SurveyDone);
    let on_restart = flow
        .dispatcher()
        .to_callback()
        .reform(|()| FlowAction::Restart);
    let config = &props.config;
    let organisation: AttrValue = config.organisation.clone().into();
    let i18n = use_i18n();

    let body = match &flow.step {
        Step::Pin { .. } | Step::Joining => {
            let error = match &flow.step {
                Step::Pin { error } => *error,
                _ => None,
            };
            match &*team_slug {
                Some(slug) => html! {
                    <team::TeamForm slug={AttrValue::from(slug.clone())} organisation={organisation.clone()}
                        busy={flow.step == Step::Joining} {error} on_submit={on_team_join} {on_edit} />
                },
                None => html! {
                    <pin::PinForm organisation={organisation.clone()} busy={flow.step == Step::Joining}
                        {error} on_submit={on_verify} {on_edit} />
                },
            }
        }
        Step::Session(_) if *elsewhere => {
            let take_back = {
                let elsewhere = elsewhere.clone();
                Callback::from(move |_: MouseEvent| elsewhere.set(false))
            };
            html! {
                <section id="opened-elsewhere" class="card" role="alert">
                    <p>{ i18n.t(Msg::OpenedElsewhere) }</p>
                    <button id="use-here" type="button" class="primary" onclick={take_back}>
                        { i18n.t(Msg::UseHere) }
                    </button>
                </section>
            }
        }
        Step::Session(joined) => {
            let on_closed = {
                let elsewhere = elsewhere.clone();
                Callback::from(move |_| elsewhere.set(true))
            };
            html! {
                <session::CustomerSession key={joined.token.clone()} session={joined.session.clone()}
                    token={AttrValue::from(joined.token.clone())}
                    config={config.clone()} {on_ended} {on_restart} {on_closed} />
            }
        }
        Step::Survey {
            joined,
            reason,
            helped,
        } if !*helped || *reason == EndReason::OtherCustomerChosen => {
            // Nobody helped them (or not this person): nothing to rate.
            let restart = on_restart.reform(|_: MouseEvent| ());
            html! {
                <>
                    <end::SessionEnded organisation={organisation.clone()} reason={*reason} />
                    <section class="card">
                        <button id="start-again" type="button" class="primary" onclick={restart}>
                            { i18n.t(if team_slug.is_some() { Msg::TeamJoin } else { Msg::EnterNewPin }) }
                        </button>
                    </section>
                    <section class="card">
                        <RecordDownloads source={record_source(joined)} />
                    </section>
                </>
            }
        }
        Step::Survey { joined, reason, .. } => html! {
            <>
                <end::SessionEnded organisation={organisation.clone()} reason={*reason} />
                <survey::Survey token={AttrValue::from(joined.token.clone())} on_done={on_survey_done} />
                <section class="card">
                    <RecordDownloads source={record_source(joined)} />
                </section>
            </>
        },
        Step::ThankYou { joined } => html! {
            <>
                <end::ThankYou organisation={organisation.clone()} {on_restart} />
                if let Some(joined) = joined {
                    <section class="card">
                        <RecordDownloads source={record_source(joined)} />
                    </section>
                }
            </>
        },
    };

    html! {
        <>
            <header class="page-header">
                <p id="org-name" class="org-name">{ organisation }</p>
                <div class="header-tools">
                    <LanguageSelect />
                    <text_size::TextSize />
                </div>
            </header>
            // Who receives what while anything is shared (filled by the session, kept
            // in view down to the end of the page).
            <div id={LIVE_BAR_HOST} class="live-bar-host"></div>
            <main class="page">{ body }</main>
            <Footer applet_url={AttrValue::from(config.applet_url.clone())}
                support_contact={AttrValue::from(config.support_contact.clone())} />
        </>
    }
}

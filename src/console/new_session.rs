//! The new session panel (`#new-session`): the PIN, large and grouped (`#new-pin`, the
//! digits also in `data-pin`), how long it stays valid (a live countdown on the
//! broker's clock), the link and a ready e-mail, with Copy buttons.

use std::rc::Rc;

use connectit_protocol::api::CreatedSession;
use connectit_protocol::Phase;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, Msg};
use crate::widgets::{use_now, ErrorText};
use crate::{browser, clock, time};

/// The e-mail's text: subject line, blank line, body.
pub fn email_text(created: &CreatedSession) -> String {
    format!(
        "Subject: {}\n\n{}",
        created.email_subject, created.email_body
    )
}

#[derive(Properties, PartialEq)]
pub struct NewSessionProps {
    pub created: Rc<CreatedSession>,
    /// The session's phase as the live list last said (`None` before it is listed).
    pub phase: Option<Phase>,
    pub on_close: Callback<()>,
}

#[component]
pub fn NewSessionPanel(props: &NewSessionProps) -> Html {
    let i18n = use_i18n();
    let _tick = use_now(1000);
    let status = use_state(|| None::<Msg>);
    let created = &props.created;
    let left = clock::secs_until(created.expires_at);
    // Once the customer joined (or the session ended) the PIN is spent, whatever the clock says.
    let validity = match props.phase {
        None | Some(Phase::Created) if left > 0 => Msg::PinValidFor {
            left: time::clock_duration(left),
        },
        None | Some(Phase::Created) => Msg::PinExpired,
        Some(Phase::Ended) => Msg::PinSessionEnded,
        Some(_) => Msg::PinUsed,
    };
    let validity = i18n.t(validity);
    let expired = matches!(props.phase, None | Some(Phase::Created)) && left == 0;
    let used = !matches!(props.phase, None | Some(Phase::Created | Phase::Ended));
    let email = email_text(created);

    let copy = |value: String, element_id: &'static str| {
        let status = status.clone();
        Callback::from(move |_: MouseEvent| {
            let (status, value) = (status.clone(), value.clone());
            spawn_local(async move {
                match browser::copy_text(&value).await {
                    Ok(()) => status.set(Some(Msg::Copied)),
                    Err(_) => {
                        if let Some(element) =
                            browser::document().and_then(|d| d.get_element_by_id(element_id))
                        {
                            browser::select_contents(&element);
                        }
                        status.set(Some(Msg::CopyFailed));
                    }
                }
            });
        })
    };
    let (first, second) = created.pin.split_at(created.pin.len().min(3));
    let close = props.on_close.reform(|_: MouseEvent| ());

    html! {
        <section id="new-session" class="card new-session" aria-labelledby="new-session-heading">
            <div class="card-head">
                <h2 id="new-session-heading">{ i18n.t(Msg::NewSessionHeading) }</h2>
                <button type="button" class="link-button" onclick={close}>{ i18n.t(Msg::Close) }</button>
            </div>
            <p class="intro">{ i18n.t(Msg::NewSessionIntro) }</p>
            <p class="label">{ i18n.t(Msg::NewPinLabel) }</p>
            <p id="new-pin" class="big-pin" data-pin={created.pin.clone()}>
                <span class="pin-group">{ first }</span><span class="pin-group">{ second }</span>
            </p>
            // The customer using the PIN is good news: only an expiry is said in red.
            <p id="new-pin-remaining" class={classes!("remaining", expired.then_some("expired"),
                used.then_some("used"))} role="status">
                { validity }
            </p>
            <p class="label">{ i18n.t(Msg::LinkLabel) }</p>
            <div class="copy-row">
                <a id="new-link" href={created.link.clone()} target="_blank" rel="noopener noreferrer">
                    { created.link.clone() }
                </a>
                <button id="copy-link" type="button" class="secondary" onclick={copy(created.link.clone(), "new-link")}>
                    { i18n.t(Msg::CopyLink) }
                </button>
            </div>
            <p class="label">{ i18n.t(Msg::EmailLabel) }</p>
            <div class="actions">
                <button id="copy-email" type="button" class="secondary" onclick={copy(email.clone(), "new-email")}>
                    { i18n.t(Msg::CopyEmail) }
                </button>
            </div>
            // The e-mail's text folds away, so the list stays in view below the panel.
            <details class="email-preview">
                <summary>{ i18n.t(Msg::EmailShow) }</summary>
                <textarea id="new-email" readonly=true rows="8" value={email}
                    aria-label={i18n.t(Msg::EmailLabel)} />
            </details>
            <p class="copy-status" role="status">{ (*status).clone().map(|msg| i18n.t(msg)).unwrap_or_default() }</p>
            if !expired && !used {
                <SendEmailForm created={created.clone()} />
            }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct SendEmailProps {
    created: Rc<CreatedSession>,
}

/// `#send-email-form`: the broker sends the customer the link and PIN from the
/// organisation's address, in the language chosen here (the console's by default).
/// Shown only where the broker sends e-mail.
#[component]
fn SendEmailForm(props: &SendEmailProps) -> Html {
    let i18n = use_i18n();
    let available = use_state(|| false);
    let to = use_state(String::new);
    let language = use_state({
        let lang = i18n.lang().to_owned();
        move || lang
    });
    let busy = use_state(|| false);
    let sent = use_state(|| None::<String>);
    let problem = use_state(|| None::<ApiError>);
    {
        let available = available.clone();
        use_effect_with((), move |_| {
            spawn_local(async move {
                if let Ok(config) = api::config().await {
                    available.set(config.sends_email);
                }
            });
        });
    }
    if !*available {
        return html! {};
    }
    let onsubmit = {
        let (to, language, busy, sent, problem) = (
            to.clone(),
            language.clone(),
            busy.clone(),
            sent.clone(),
            problem.clone(),
        );
        let created = props.created.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let request = connectit_protocol::api::SendEmail {
                to: to.trim().to_owned(),
                language: (*language).clone(),
                pin: created.pin.clone(),
                link: created.link.clone(),
            };
            busy.set(true);
            sent.set(None);
            problem.set(None);
            let (busy, sent, problem, id) = (
                busy.clone(),
                sent.clone(),
                problem.clone(),
                created.id.clone(),
            );
            spawn_local(async move {
                match api::send_email(&id, &request).await {
                    Ok(()) => sent.set(Some(request.to)),
                    Err(e) => problem.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let on_to = {
        let to = to.clone();
        Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            to.set(input.value());
        })
    };
    let on_language = {
        let language = language.clone();
        Callback::from(move |e: Event| {
            let select: web_sys::HtmlSelectElement = e.target_unchecked_into();
            language.set(select.value());
        })
    };
    html! {
        <form id="send-email-form" class="send-email" {onsubmit} novalidate=true>
            <p class="label">{ i18n.t(Msg::SendEmailHeading) }</p>
            <div class="send-email-row">
                <label for="email-to">{ i18n.t(Msg::EmailTo) }</label>
                <input id="email-to" type="email" autocomplete="off" value={(*to).clone()}
                    oninput={on_to} aria-describedby="email-error" />
                <label for="email-language">{ i18n.t(Msg::EmailLanguage) }</label>
                <select id="email-language" onchange={on_language}>
                    { for i18n.names().into_iter().map(|(code, name)| html! {
                        <option value={code.clone()} selected={code == *language}>{ name }</option>
                    }) }
                </select>
                <button id="send-email" type="submit" class="secondary" disabled={*busy}>
                    { i18n.t(if *busy { Msg::SendingEmail } else { Msg::SendEmail }) }
                </button>
            </div>
            if let Some(address) = &*sent {
                <p id="email-sent" class="copy-status" role="status">
                    { i18n.t(Msg::EmailSentTo { to: address.clone() }) }
                </p>
            }
            <ErrorText id="email-error" message={(*problem).map(|e| i18n.api_error(&e))} />
        </form>
    }
}

//! A team's link (`/t/{slug}`, `#team-form`): the customer gives a name and, if the
//! organisation asks for it, the problem, and joins the team's queue with no PIN. The
//! page says how many wait and the wait to expect; outside the queue's hours it says
//! the queue is closed (with the organisation's message) and offers no form.

use connectit_protocol::api::{FieldRule, TeamJoinRequest, TeamPage};
use connectit_protocol::{check_name, check_text, limits, ErrorCode};
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlInputElement, HtmlTextAreaElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use super::flow::PinError;
use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, Msg};
use crate::widgets::{use_now, use_title, ErrorText};

/// The team slug of a `/t/{slug}` path, if the path is one.
pub fn slug_from_path(path: &str) -> Option<String> {
    let slug = path.strip_prefix("/t/")?.trim_end_matches('/');
    let ok = !slug.is_empty()
        && slug.len() <= limits::SLUG_MAX_CHARS
        && slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    ok.then(|| slug.to_ascii_lowercase())
}

/// What the form sends, if it may be sent: the name given (one line), and the
/// problem when the organisation asks for it.
pub fn request(name: &str, problem: &str, rule: FieldRule) -> Option<TeamJoinRequest> {
    let (name, problem) = (name.trim(), problem.trim());
    check_name(name, limits::NAME_MAX_CHARS).ok()?;
    let problem = match rule {
        FieldRule::Off => String::new(),
        FieldRule::Optional if problem.is_empty() => String::new(),
        _ => {
            check_text(problem, limits::PROBLEM_MAX_CHARS).ok()?;
            problem.to_string()
        }
    };
    Some(TeamJoinRequest {
        name: name.to_string(),
        problem,
    })
}

/// The team's page while it loads.
#[derive(Debug, Clone, PartialEq)]
enum Loaded {
    Loading,
    Found(Box<TeamPage>),
    NotFound,
    Unreachable,
}

#[derive(Properties, PartialEq)]
pub struct TeamFormProps {
    pub slug: AttrValue,
    pub organisation: AttrValue,
    /// The request is being sent.
    #[prop_or_default]
    pub busy: bool,
    /// The last attempt's error.
    #[prop_or_default]
    pub error: Option<PinError>,
    pub on_submit: Callback<TeamJoinRequest>,
    /// A field changed.
    #[prop_or_default]
    pub on_edit: Callback<()>,
}

#[component]
pub fn TeamForm(props: &TeamFormProps) -> Html {
    let i18n = use_i18n();
    use_title(i18n.title(Msg::TeamTitle, &props.organisation));
    let page = use_state(|| Loaded::Loading);
    let name = use_state(String::new);
    let problem = use_state(String::new);
    let name_field = use_node_ref();
    let now = use_now(1000);
    {
        let (page, slug) = (page.clone(), props.slug.to_string());
        // Read again after each answer: the queue's length and state move.
        use_effect_with(props.error, move |_| {
            spawn_local(async move {
                page.set(match api::team_page(&slug).await {
                    Ok(found) => Loaded::Found(Box::new(found)),
                    Err(ApiError::Refused {
                        code: ErrorCode::NotFound,
                        ..
                    }) => Loaded::NotFound,
                    Err(_) => Loaded::Unreachable,
                });
            });
        });
    }
    {
        let field = name_field.clone();
        use_effect_with(
            (props.error, matches!(*page, Loaded::Found(_))),
            move |_| {
                if let Some(input) = field.cast::<HtmlElement>() {
                    let _ = input.focus();
                }
            },
        );
    }

    let found = match &*page {
        Loaded::Loading => {
            return html! { <p class="loading" role="status">{ i18n.t(Msg::Loading) }</p> };
        }
        Loaded::NotFound => {
            return html! {
                <section class="card" role="alert">
                    <p data-error="team_not_found">{ i18n.t(Msg::TeamNotFound) }</p>
                </section>
            };
        }
        Loaded::Unreachable => {
            return html! {
                <section class="card" role="alert">
                    <p data-error="unreachable">{ i18n.t(Msg::PinUnreachable) }</p>
                </section>
            };
        }
        Loaded::Found(found) => found,
    };
    let heading = i18n.t(Msg::TeamHeading {
        team: found.team.name.clone(),
    });
    let estimate = found.estimated_wait_secs.map(|secs| {
        i18n.t(Msg::QueueEstimate {
            wait: i18n.expected_wait(secs),
        })
    });
    if !found.open {
        let message = match found.closed_message.trim() {
            "" => i18n.t(Msg::TeamClosed),
            custom => custom.to_string(),
        };
        return html! {
            <section id="team-closed" class="card" aria-labelledby="team-heading">
                <h1 id="team-heading">{ heading }</h1>
                <p role="status" data-state="closed">{ message }</p>
                if !found.hours.is_empty() {
                    <p id="team-hours" class="hint">{ i18n.t(Msg::TeamHours { hours: found.hours.clone() }) }</p>
                }
            </section>
        };
    }

    let rule = found.problem_field;
    let wait_left = props.error.map_or(0, |e| e.wait_left(now));
    let ready = request(&name, &problem, rule);
    let can_join = ready.is_some() && !props.busy && wait_left == 0;
    let on_name = {
        let (name, on_edit) = (name.clone(), props.on_edit.clone());
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            {
                name.set(input.value());
                on_edit.emit(());
            }
        })
    };
    let on_problem = {
        let (problem, on_edit) = (problem.clone(), props.on_edit.clone());
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlTextAreaElement>().ok())
            {
                problem.set(input.value());
                on_edit.emit(());
            }
        })
    };
    let onsubmit = {
        let on_submit = props.on_submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if can_join {
                if let Some(request) = ready.clone() {
                    on_submit.emit(request);
                }
            }
        })
    };
    let message = props.error.map(|error| match error {
        PinError::TooManyAttempts { .. } if wait_left > 0 => {
            i18n.t(Msg::PinWait { secs: wait_left })
        }
        PinError::TooManyAttempts { .. } => i18n.t(Msg::PinCanRetry),
        PinError::InvalidInput(field) => i18n.error(ErrorCode::InvalidInput { field }),
        PinError::Other(code) => i18n.error(code),
        PinError::InvalidOrExpired | PinError::LinkInvalid | PinError::Unreachable => {
            i18n.t(Msg::PinUnreachable)
        }
    });
    let code = props.error.map(|error| match error {
        PinError::Other(ErrorCode::QueueFull) => "queue_full",
        PinError::Other(ErrorCode::QueueClosed) => "queue_closed",
        other => other.code(),
    });
    html! {
        <section id="team" class="card" aria-labelledby="team-heading">
            <h1 id="team-heading">{ heading }</h1>
            <p class="intro">{ i18n.t(Msg::TeamIntro) }</p>
            <p id="team-queue" class="hint" data-waiting={found.waiting.to_string()}>
                { i18n.t(Msg::TeamWaitingNow { count: found.waiting }) }
                if let Some(estimate) = estimate {
                    { " " }{ estimate }
                }
            </p>
            <form id="team-form" class="team-form" {onsubmit} novalidate=true>
                <label for="team-name">{ i18n.t(Msg::TeamNameLabel) }</label>
                <input id="team-name" ref={name_field} type="text" autocomplete="name"
                    maxlength={limits::NAME_MAX_CHARS.to_string()} value={(*name).clone()}
                    aria-describedby="team-error" oninput={on_name} />
                if rule != FieldRule::Off {
                    <label for="team-problem">
                        { i18n.t(Msg::TeamProblemLabel) }
                        if rule == FieldRule::Optional {
                            { " " }<span class="optional">{ i18n.t(Msg::TeamOptional) }</span>
                        }
                    </label>
                    <textarea id="team-problem" rows="3" maxlength={limits::PROBLEM_MAX_CHARS.to_string()}
                        value={(*problem).clone()} aria-describedby="team-error" oninput={on_problem} />
                }
                <ErrorText id="team-error" {message} code={code.map(AttrValue::from)} />
                <button id="join-queue" type="submit" class="primary" disabled={!can_join}>
                    { if props.busy { i18n.t(Msg::TeamJoining) } else { i18n.t(Msg::TeamJoin) } }
                </button>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn team_paths() {
        assert_eq!(slug_from_path("/t/helpdesk").as_deref(), Some("helpdesk"));
        assert_eq!(
            slug_from_path("/t/Help-Desk/").as_deref(),
            Some("help-desk")
        );
        assert_eq!(slug_from_path("/t/"), None);
        assert_eq!(slug_from_path("/t/a b"), None);
        assert_eq!(slug_from_path("/t/../x"), None);
        assert_eq!(slug_from_path("/"), None);
        assert_eq!(slug_from_path("/console"), None);
    }

    #[test]
    fn what_the_form_may_send() {
        let sent = request(" Ann ", " Printer ", FieldRule::Required).unwrap();
        assert_eq!(
            (sent.name.as_str(), sent.problem.as_str()),
            ("Ann", "Printer")
        );
        assert!(request("", "Printer", FieldRule::Required).is_none());
        assert!(request("Ann", " ", FieldRule::Required).is_none());
        assert!(request("A\nB", "x", FieldRule::Required).is_none());
        assert_eq!(request("Ann", "", FieldRule::Optional).unwrap().problem, "");
        assert_eq!(
            request("Ann", "ignored", FieldRule::Off).unwrap().problem,
            ""
        );
        assert!(request("Ann", &"x".repeat(501), FieldRule::Optional).is_none());
    }
}

//! The optional survey after the end (`#survey`): a rating from 1 to 5, whether the
//! problem was resolved, and a comment. Nothing is required: Skip always works; "Send
//! answers" with nothing chosen says so instead of sending nothing without a word.

use connectit_protocol::api::SurveyRequest;
use connectit_protocol::{check_text, limits, ErrorCode, RuleViolation};
use wasm_bindgen::JsCast;
use web_sys::HtmlTextAreaElement;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, I18n, Msg};

/// What the customer answered so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    pub rating: Option<u8>,
    pub resolved: Option<bool>,
    pub comment: String,
}

/// What pressing "Send answers" does with these answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Submission {
    /// Send this.
    Send { rating: u8 },
    /// Answers that cannot be sent as they are, explained.
    Problem(String),
}

impl Answers {
    pub fn submission(&self, i18n: &I18n) -> Submission {
        let comment = self.comment.trim();
        if !comment.is_empty() {
            if let Err(v) = check_text(comment, limits::COMMENT_MAX_CHARS) {
                return Submission::Problem(i18n.error(ErrorCode::from(v)));
            }
        }
        match self.rating {
            Some(rating) => Submission::Send { rating },
            None if self.resolved.is_none() && comment.is_empty() => {
                Submission::Problem(i18n.t(Msg::SurveyNothingChosen))
            }
            // The broker's survey needs a rating with any other answer.
            None => Submission::Problem(i18n.t(Msg::SurveyNeedsRating)),
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct SurveyProps {
    /// The customer's session token (the survey is theirs).
    pub token: AttrValue,
    /// Answered or skipped.
    pub on_done: Callback<()>,
}

#[component]
pub fn Survey(props: &SurveyProps) -> Html {
    let i18n = use_i18n();
    let answers = use_state(Answers::default);
    let sending = use_state(|| false);
    let problem = use_state(|| None::<String>);

    let onsubmit = {
        let (answers, sending, problem) = (answers.clone(), sending.clone(), problem.clone());
        let (token, on_done) = (props.token.clone(), props.on_done.clone());
        let i18n = i18n.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *sending {
                return;
            }
            match answers.submission(&i18n) {
                Submission::Problem(message) => problem.set(Some(message)),
                Submission::Send { rating } => {
                    let request = SurveyRequest {
                        token: token.to_string(),
                        rating,
                        resolved: answers.resolved,
                        comment: answers.comment.trim().to_owned(),
                    };
                    sending.set(true);
                    problem.set(None);
                    let (sending, problem, on_done, i18n) = (
                        sending.clone(),
                        problem.clone(),
                        on_done.clone(),
                        i18n.clone(),
                    );
                    spawn_local(async move {
                        match api::submit_survey(&request).await {
                            Ok(())
                            | Err(ApiError::Refused {
                                code:
                                    ErrorCode::NotAllowed {
                                        violation: RuleViolation::SurveyAlreadySubmitted,
                                    },
                                ..
                            }) => on_done.emit(()),
                            Err(error) => {
                                sending.set(false);
                                problem.set(Some(i18n.api_error(&error)));
                            }
                        }
                    });
                }
            }
        })
    };
    let skip = props.on_done.reform(|_: MouseEvent| ());

    let rating_inputs = (1u8..=5).map(|n| {
        let handle = answers.clone();
        let onchange = Callback::from(move |_: Event| {
            handle.set(Answers {
                rating: Some(n),
                ..(*handle).clone()
            })
        });
        let id = format!("rating-{n}");
        let name = i18n.t(rating_name(n));
        html! {
            <span class="choice">
                <input type="radio" id={id.clone()} name="rating" value={n.to_string()}
                    checked={answers.rating == Some(n)} {onchange} />
                <label for={id}><span class="choice-number">{ n }</span>
                    <span class="choice-name">{ name }</span></label>
            </span>
        }
    });
    let resolved_input = |value: bool, id: &'static str, label: String| {
        let handle = answers.clone();
        let onchange = Callback::from(move |_: Event| {
            handle.set(Answers {
                resolved: Some(value),
                ..(*handle).clone()
            })
        });
        html! {
            <span class="choice">
                <input type="radio" {id} name="resolved" checked={answers.resolved == Some(value)} {onchange} />
                <label for={id}>{ label }</label>
            </span>
        }
    };
    let oninput = {
        let answers = answers.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlTextAreaElement>().ok())
            {
                answers.set(Answers {
                    comment: area.value(),
                    ..(*answers).clone()
                });
            }
        })
    };
    let used = answers.comment.chars().count();
    let described = if problem.is_some() {
        "survey-comment-count survey-error"
    } else {
        "survey-comment-count"
    };

    html! {
        <form id="survey" class="card survey" {onsubmit} novalidate=true aria-labelledby="survey-heading">
            <h2 id="survey-heading">{ i18n.t(Msg::SurveyHeading) }</h2>
            <p class="intro">{ i18n.t(Msg::SurveyIntro) }</p>
            <fieldset class="choices rating">
                <legend>{ i18n.t(Msg::SurveyRating) }</legend>
                { for rating_inputs }
            </fieldset>
            <fieldset class="choices">
                <legend>{ i18n.t(Msg::SurveyResolved) }</legend>
                { resolved_input(true, "resolved-yes", i18n.t(Msg::SurveyYes)) }
                { resolved_input(false, "resolved-no", i18n.t(Msg::SurveyNo)) }
            </fieldset>
            <label for="survey-comment">{ i18n.t(Msg::SurveyComment) }</label>
            <textarea id="survey-comment" rows="4" value={answers.comment.clone()}
                maxlength={limits::COMMENT_MAX_CHARS.to_string()} aria-describedby={described} {oninput} />
            <p id="survey-comment-count" class="hint">
                { i18n.t(Msg::SurveyCommentCount { used, max: limits::COMMENT_MAX_CHARS }) }
            </p>
            if let Some(message) = (*problem).clone() {
                <p id="survey-error" class="field-error" role="alert">{ message }</p>
            }
            <div class="actions">
                <button id="survey-submit" type="submit" class="primary" disabled={*sending}>
                    { if *sending { i18n.t(Msg::SurveySending) } else { i18n.t(Msg::SurveySubmit) } }
                </button>
                <button id="survey-skip" type="button" class="secondary" onclick={skip}>
                    { i18n.t(Msg::SurveySkip) }
                </button>
            </div>
        </form>
    }
}

/// The name of rating `n` (1 to 5).
fn rating_name(n: u8) -> Msg {
    match n {
        1 => Msg::SurveyRating1,
        2 => Msg::SurveyRating2,
        3 => Msg::SurveyRating3,
        4 => Msg::SurveyRating4,
        _ => Msg::SurveyRating5,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_required_but_sending_nothing_is_said() {
        assert_eq!(
            Answers::default().submission(&I18n::default()),
            Submission::Problem(I18n::default().t(Msg::SurveyNothingChosen))
        );
        let rated = Answers {
            rating: Some(4),
            ..Answers::default()
        };
        assert_eq!(
            rated.submission(&I18n::default()),
            Submission::Send { rating: 4 }
        );
        let only_comment = Answers {
            comment: "thanks".into(),
            ..Answers::default()
        };
        assert!(matches!(
            only_comment.submission(&I18n::default()),
            Submission::Problem(_)
        ));
    }
}

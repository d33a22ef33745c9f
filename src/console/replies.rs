//! A team's canned replies: chosen in a session (`#canned-reply`, which puts the text in
//! the chat field to edit or send), and kept in the console's list view (`#replies`:
//! add, edit, delete, for the teams the technician belongs to).

use std::rc::Rc;

use connectit_protocol::api::{CannedReply, ReplyRequest, TeamRef};
use connectit_protocol::limits;
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlSelectElement, HtmlTextAreaElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, Msg};

/// The canned replies of the technician's teams, and a way to read them again.
#[derive(Clone, PartialEq)]
pub struct Replies {
    pub list: Rc<Vec<CannedReply>>,
    pub reload: Callback<()>,
}

#[hook]
pub fn use_replies() -> Replies {
    let list = use_state(|| Rc::new(Vec::<CannedReply>::new()));
    let round = use_state(|| 0u32);
    {
        let list = list.clone();
        use_effect_with(*round, move |_| {
            spawn_local(async move {
                if let Ok(found) = api::replies().await {
                    list.set(Rc::new(found));
                }
            });
        });
    }
    let reload = {
        let round = round.clone();
        Callback::from(move |()| round.set(*round + 1))
    };
    Replies {
        list: (*list).clone(),
        reload,
    }
}

#[derive(Properties, PartialEq)]
pub struct ReplyPickerProps {
    pub replies: Rc<Vec<CannedReply>>,
    /// The chosen reply's text.
    pub on_pick: Callback<String>,
}

/// The menu in a session that puts a canned reply in the chat field: choose, then
/// "Insert" (a menu that acted as soon as it changed would act while one browses it
/// with the keyboard).
#[component]
pub fn ReplyPicker(props: &ReplyPickerProps) -> Html {
    let i18n = use_i18n();
    let chosen = use_state(|| None::<i64>);
    if props.replies.is_empty() {
        return html! {};
    }
    let onchange = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| {
            if let Some(select) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlSelectElement>().ok())
            {
                chosen.set(select.value().parse::<i64>().ok());
            }
        })
    };
    let insert = {
        let (replies, on_pick, chosen) =
            (props.replies.clone(), props.on_pick.clone(), chosen.clone());
        Callback::from(move |_: MouseEvent| {
            if let Some(reply) = chosen.and_then(|id| replies.iter().find(|r| r.id == id)) {
                on_pick.emit(reply.text.clone());
            }
        })
    };
    html! {
        <div class="reply-picker">
            <label for="canned-reply">{ i18n.t(Msg::ReplyInsert) }</label>
            <select id="canned-reply" {onchange}>
                <option value="" selected={chosen.is_none()}>{ i18n.t(Msg::ReplyChoose) }</option>
                { for props.replies.iter().map(|r| html! {
                    <option value={r.id.to_string()} selected={*chosen == Some(r.id)}>
                        { format!("{} · {}", r.title, r.team.name) }
                    </option>
                }) }
            </select>
            <button id="insert-reply" type="button" class="secondary" disabled={chosen.is_none()}
                onclick={insert}>{ i18n.t(Msg::ReplyInsertButton) }</button>
        </div>
    }
}

/// What the form is writing.
#[derive(Debug, Clone, PartialEq, Default)]
struct Form {
    /// The reply being edited (`None`: a new one).
    editing: Option<i64>,
    team: String,
    title: String,
    text: String,
}

#[derive(Properties, PartialEq)]
pub struct RepliesPanelProps {
    pub teams: Vec<TeamRef>,
    pub replies: Replies,
}

/// The list view's panel that keeps the teams' canned replies.
#[component]
pub fn RepliesPanel(props: &RepliesPanelProps) -> Html {
    let i18n = use_i18n();
    let form = use_state(|| Form {
        team: props
            .teams
            .first()
            .map(|t| t.slug.clone())
            .unwrap_or_default(),
        ..Form::default()
    });
    let problem = use_state(|| None::<ApiError>);
    let set = |pick: fn(&mut Form, String)| {
        let form = form.clone();
        Callback::from(move |e: Event| {
            let target = e.target();
            let value = target
                .as_ref()
                .and_then(|t| t.dyn_ref::<HtmlInputElement>().map(|i| i.value()))
                .or_else(|| {
                    target
                        .as_ref()
                        .and_then(|t| t.dyn_ref::<HtmlTextAreaElement>().map(|t| t.value()))
                })
                .or_else(|| {
                    target
                        .as_ref()
                        .and_then(|t| t.dyn_ref::<HtmlSelectElement>().map(|s| s.value()))
                });
            if let Some(value) = value {
                let mut next = (*form).clone();
                pick(&mut next, value);
                form.set(next);
            }
        })
    };
    let submit = {
        let (form, problem, reload) = (form.clone(), problem.clone(), props.replies.reload.clone());
        let first_team = props
            .teams
            .first()
            .map(|t| t.slug.clone())
            .unwrap_or_default();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let current = (*form).clone();
            let request = ReplyRequest {
                team: current.team.clone(),
                title: current.title.clone(),
                text: current.text.clone(),
            };
            let (form, problem, reload, first_team) = (
                form.clone(),
                problem.clone(),
                reload.clone(),
                first_team.clone(),
            );
            problem.set(None);
            spawn_local(async move {
                let done = match current.editing {
                    Some(id) => api::update_reply(id, &request).await,
                    None => api::add_reply(&request).await.map(|_| ()),
                };
                match done {
                    Ok(()) => {
                        form.set(Form {
                            team: first_team,
                            ..Form::default()
                        });
                        reload.emit(());
                    }
                    Err(e) => problem.set(Some(e)),
                }
            });
        })
    };
    let cancel = {
        let form = form.clone();
        let first_team = props
            .teams
            .first()
            .map(|t| t.slug.clone())
            .unwrap_or_default();
        Callback::from(move |_: MouseEvent| {
            form.set(Form {
                team: first_team.clone(),
                ..Form::default()
            })
        })
    };
    let rows = props.replies.list.iter().map(|r| {
        let edit = {
            let (form, reply) = (form.clone(), r.clone());
            Callback::from(move |_: MouseEvent| {
                form.set(Form {
                    editing: Some(reply.id),
                    team: reply.team.slug.clone(),
                    title: reply.title.clone(),
                    text: reply.text.clone(),
                })
            })
        };
        let delete = {
            let (id, problem, reload) = (r.id, problem.clone(), props.replies.reload.clone());
            Callback::from(move |_: MouseEvent| {
                let (problem, reload) = (problem.clone(), reload.clone());
                spawn_local(async move {
                    match api::delete_reply(id).await {
                        Ok(()) => reload.emit(()),
                        Err(e) => problem.set(Some(e)),
                    }
                });
            })
        };
        html! {
            <li key={r.id} class="reply" data-reply-id={r.id.to_string()}>
                <p class="reply-title"><strong><bdi>{ r.title.clone() }</bdi></strong>
                    <span class="muted">{ " · " }{ r.team.name.clone() }</span></p>
                <p class="reply-text"><bdi>{ r.text.clone() }</bdi></p>
                <div class="actions">
                    <button type="button" class="edit-reply link-button" onclick={edit}>{ i18n.t(Msg::ReplyEdit) }</button>
                    <button type="button" class="delete-reply link-button" onclick={delete}>{ i18n.t(Msg::ReplyDelete) }</button>
                </div>
            </li>
        }
    });
    let current = &*form;
    html! {
        <section id="replies" class="card replies" aria-labelledby="replies-heading">
            <h2 id="replies-heading">{ i18n.t(Msg::RepliesHeading) }</h2>
            if props.replies.list.is_empty() {
                <p class="muted">{ i18n.t(Msg::RepliesNone) }</p>
            } else {
                <ul class="reply-list">{ for rows }</ul>
            }
            <form id="reply-form" class="reply-form" onsubmit={submit}>
                if current.editing.is_none() && props.teams.len() > 1 {
                    <label for="reply-team">{ i18n.t(Msg::ReplyTeam) }</label>
                    <select id="reply-team" onchange={set(|f, v| f.team = v)}>
                        { for props.teams.iter().map(|t| html! {
                            <option value={t.slug.clone()} selected={t.slug == current.team}>{ t.name.clone() }</option>
                        }) }
                    </select>
                }
                <label for="reply-title">{ i18n.t(Msg::ReplyTitle) }</label>
                <input id="reply-title" type="text" maxlength={limits::REPLY_TITLE_MAX_CHARS.to_string()}
                    value={current.title.clone()} oninput={set(|f, v| f.title = v).reform(Event::from)} />
                <label for="reply-text">{ i18n.t(Msg::ReplyText) }</label>
                <textarea id="reply-text" rows="3" maxlength={limits::CHAT_MAX_CHARS.to_string()}
                    value={current.text.clone()} oninput={set(|f, v| f.text = v).reform(Event::from)} />
                <div class="actions">
                    <button id="reply-submit" type="submit" class="secondary"
                        disabled={current.title.trim().is_empty() || current.text.trim().is_empty()}>
                        { i18n.t(if current.editing.is_some() { Msg::ReplySave } else { Msg::ReplyAdd }) }
                    </button>
                    if current.editing.is_some() {
                        <button type="button" class="link-button" onclick={cancel}>{ i18n.t(Msg::ReplyCancel) }</button>
                    }
                </div>
            </form>
            if let Some(error) = *problem {
                <p class="field-error" role="alert">{ i18n.api_error(&error) }</p>
            }
        </section>
    }
}

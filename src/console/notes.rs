//! Who the customer is and what is written about them, for the technicians only:
//! the customer's name, the problem and the ticket reference (`#details`, given by the
//! customer on a team's link or typed here), and the session's private notes
//! (`#notes`), which are kept with the session and never sent to the customer.

use connectit_protocol::api::{SessionDetails, SessionNote};
use connectit_protocol::{limits, shown_text, SessionId};
use wasm_bindgen::JsCast;
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::i18n::{use_i18n, Msg};
use crate::time;

/// The text of the input or text area an event came from.
fn field_value(e: &InputEvent) -> Option<String> {
    let target = e.target()?;
    if let Some(input) = target.dyn_ref::<HtmlInputElement>() {
        return Some(input.value());
    }
    target.dyn_ref::<HtmlTextAreaElement>().map(|t| t.value())
}

#[derive(Properties, PartialEq)]
pub struct CustomerNotesProps {
    pub session: SessionId,
    /// What the broker has now (from the console's list).
    pub details: SessionDetails,
    /// Grows when the notes are to be read again (a hand-over brings its note).
    #[prop_or_default]
    pub revision: u64,
}

#[component]
pub fn CustomerNotes(props: &CustomerNotesProps) -> Html {
    let i18n = use_i18n();
    let draft = use_state(|| props.details.clone());
    let saved = use_state(|| false);
    let problem = use_state(|| None::<ApiError>);
    let notes = use_state(Vec::<SessionNote>::new);
    let note = use_state(String::new);
    let busy = use_state(|| false);
    {
        // What someone else saved (or the customer gave) replaces the form; the echo
        // of this form's own save changes nothing (and "Saved." stays).
        let (draft, saved) = (draft.clone(), saved.clone());
        use_effect_with(props.details.clone(), move |details| {
            if *details != draft.trimmed() {
                draft.set(details.clone());
                saved.set(false);
            }
        });
    }
    {
        let (notes, problem) = (notes.clone(), problem.clone());
        use_effect_with(
            (props.session.clone(), props.revision),
            move |(session, _)| {
                let session = session.clone();
                spawn_local(async move {
                    match api::notes(&session).await {
                        Ok(list) => notes.set(list),
                        Err(e) => problem.set(Some(e)),
                    }
                });
            },
        );
    }
    let edit = |pick: fn(&mut SessionDetails, String)| {
        let (draft, saved) = (draft.clone(), saved.clone());
        Callback::from(move |e: InputEvent| {
            if let Some(value) = field_value(&e) {
                let mut next = (*draft).clone();
                pick(&mut next, value);
                draft.set(next);
                saved.set(false);
            }
        })
    };
    let save = {
        let (draft, saved, problem, session) = (
            draft.clone(),
            saved.clone(),
            problem.clone(),
            props.session.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (details, saved, problem, session) = (
                (*draft).clone(),
                saved.clone(),
                problem.clone(),
                session.clone(),
            );
            problem.set(None);
            spawn_local(async move {
                match api::set_details(&session, &details).await {
                    Ok(()) => saved.set(true),
                    Err(e) => problem.set(Some(e)),
                }
            });
        })
    };
    let add = {
        let (note, notes, busy, problem, session) = (
            note.clone(),
            notes.clone(),
            busy.clone(),
            problem.clone(),
            props.session.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let text = note.trim().to_string();
            if text.is_empty() || *busy {
                return;
            }
            busy.set(true);
            problem.set(None);
            let (note, notes, busy, problem, session) = (
                note.clone(),
                notes.clone(),
                busy.clone(),
                problem.clone(),
                session.clone(),
            );
            spawn_local(async move {
                match api::add_note(&session, &text).await {
                    Ok(added) => {
                        let mut list = (*notes).clone();
                        list.push(added);
                        notes.set(list);
                        note.set(String::new());
                    }
                    Err(e) => problem.set(Some(e)),
                }
                busy.set(false);
            });
        })
    };
    let on_note = {
        let note = note.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(value) = field_value(&e) {
                note.set(value);
            }
        })
    };
    let details = &*draft;
    html! {
        <>
            <section id="details" class="details" aria-labelledby="details-heading">
                <h2 id="details-heading">{ i18n.t(Msg::DetailsHeading) }</h2>
                <form class="details-form" onsubmit={save}>
                    <label for="details-name">{ i18n.t(Msg::DetailsName) }</label>
                    <input id="details-name" type="text" maxlength={limits::NAME_MAX_CHARS.to_string()}
                        value={details.customer_name.clone()}
                        oninput={edit(|d, v| d.customer_name = v)} />
                    <label for="details-problem">{ i18n.t(Msg::DetailsProblem) }</label>
                    <textarea id="details-problem" rows="2" maxlength={limits::PROBLEM_MAX_CHARS.to_string()}
                        value={details.problem.clone()} oninput={edit(|d, v| d.problem = v)} />
                    <label for="details-ticket">{ i18n.t(Msg::DetailsTicket) }</label>
                    <input id="details-ticket" type="text" maxlength={limits::TICKET_MAX_CHARS.to_string()}
                        value={details.ticket.clone()} oninput={edit(|d, v| d.ticket = v)} />
                    <div class="actions">
                        <button id="details-save" type="submit" class="secondary">{ i18n.t(Msg::DetailsSave) }</button>
                        if *saved {
                            <span id="details-saved" class="copy-status" role="status">{ i18n.t(Msg::DetailsSaved) }</span>
                        }
                    </div>
                </form>
            </section>
            <section id="notes" class="notes" aria-labelledby="notes-heading">
                <h2 id="notes-heading">{ i18n.t(Msg::NotesHeading) }</h2>
                <p class="hint">{ i18n.t(Msg::NotesHint) }</p>
                if notes.is_empty() {
                    <p class="muted">{ i18n.t(Msg::NotesNone) }</p>
                } else {
                    <ol class="note-list">
                        { for notes.iter().map(|n| html! {
                            <li key={n.id} class="note" data-note-id={n.id.to_string()}>
                                <p class="note-meta">{ i18n.t(Msg::NoteBy {
                                    name: n.author.display_name.clone(),
                                    time: time::date_time(n.at),
                                }) }</p>
                                <p class="note-text"><bdi>{ shown_text(&n.text).into_owned() }</bdi></p>
                            </li>
                        }) }
                    </ol>
                }
                <form class="note-form" onsubmit={add}>
                    <label for="note-input">{ i18n.t(Msg::NoteLabel) }</label>
                    <textarea id="note-input" rows="2" maxlength={limits::NOTE_MAX_CHARS.to_string()}
                        value={(*note).clone()} oninput={on_note} />
                    <button id="note-add" type="submit" class="secondary"
                        disabled={note.trim().is_empty() || *busy}>{ i18n.t(Msg::NoteAdd) }</button>
                </form>
                if let Some(error) = *problem {
                    <p class="field-error" role="alert">{ i18n.api_error(&error) }</p>
                }
            </section>
        </>
    }
}

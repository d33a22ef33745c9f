//! The conversation: [`ChatLog`] shows the log's entries (`#chat-log`, a live region
//! that screen readers announce), [`ChatInput`] writes a message (Enter sends,
//! Shift+Enter starts a new line, focus stays in the field).

use connectit_protocol::{check_text, limits, ErrorCode, Role};
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlTextAreaElement};
use yew::prelude::*;

use super::entries::Entries;
use super::entry::{file_names, in_charge_at, line};
use crate::i18n::{use_i18n, Msg};
use crate::socket::NotConnected;
use crate::time;

#[derive(Properties, PartialEq)]
pub struct ChatLogProps {
    pub entries: Entries,
    /// Whose page this is (decides "You" and how events are worded).
    pub viewer: Role,
    /// A technician viewer's name (tells their lines from a colleague's).
    #[prop_or_default]
    pub me: Option<AttrValue>,
}

/// The log's lines as rendered, kept between renders: the log only grows and a line
/// depends only on its entry and those before it, so a new entry costs one line, not
/// the whole log again. Cleared when the language, the viewer or the log itself (a
/// reload) changes.
#[derive(Default)]
struct Lines {
    catalog: Option<crate::i18n::Catalog>,
    viewer: Option<(Role, Option<AttrValue>)>,
    /// Each rendered entry's sequence number and line.
    lines: Vec<(u64, Html)>,
}

#[component]
pub fn ChatLog(props: &ChatLogProps) -> Html {
    let i18n = use_i18n();
    let cache = use_mut_ref(Lines::default);
    let entries = props.entries.borrow();
    let mut cache = cache.borrow_mut();
    let viewer = (props.viewer, props.me.clone());
    let stale = cache.catalog.as_ref() != Some(i18n.catalog())
        || cache.viewer.as_ref() != Some(&viewer)
        || cache.lines.len() > entries.len()
        || cache.lines.last().is_some_and(|(seq, _)| {
            entries.get(cache.lines.len() - 1).map(|e| e.seq) != Some(*seq)
        });
    if stale {
        *cache = Lines {
            catalog: Some(i18n.catalog().clone()),
            viewer: Some(viewer),
            lines: Vec::new(),
        };
    }
    if cache.lines.len() < entries.len() {
        let names = in_charge_at(&entries);
        let files = file_names(&entries);
        let me = props.me.as_deref();
        let from = cache.lines.len();
        for (entry, technician) in entries.iter().zip(names).skip(from) {
            let node = entry_line(&i18n, entry, props.viewer, me, technician, &files);
            cache.lines.push((entry.seq, node));
        }
    }
    let items = cache.lines.iter().map(|(_, node)| node.clone());
    html! {
        // The log role sits on a wrapper: on the <ol> it would take away the list role its
        // items need.
        <div id="chat-log" class="chat-log" role="log" aria-live="polite" aria-label={i18n.t(Msg::ChatLogLabel)}
            tabindex="0">
            <ol class="chat-entries">{ for items }</ol>
        </div>
    }
}

/// One entry of the log as a list item.
fn entry_line(
    i18n: &crate::i18n::I18n,
    entry: &connectit_protocol::LogEntry,
    viewer: Role,
    me: Option<&str>,
    technician: Option<&str>,
    files: &[(&str, u64)],
) -> Html {
    let line = line(i18n, entry, viewer, me, technician, files);
    let class = classes!(
        "entry",
        if line.chat {
            "entry-chat"
        } else {
            "entry-event"
        },
        format!("from-{}", line.author),
        line.mine.then_some("mine"),
    );
    html! {
        <li key={entry.seq.to_string()} {class} data-seq={entry.seq.to_string()} data-author={line.author} data-kind={line.kind}>
            <div class="entry-meta">
                if let Some(name) = line.name {
                    <span class="entry-author"><bdi>{ name }</bdi></span>
                }
                <time datetime={time::iso(entry.at)}>{ time::hh_mm(entry.at) }</time>
            </div>
            // Each line in its own direction, isolated from the rest of the page.
            <p class="entry-text" dir="auto">{ line.text }</p>
        </li>
    }
}

#[derive(Properties, PartialEq)]
pub struct ChatInputProps {
    /// Sends the text; `Err` when it could not leave (the text is then kept).
    pub on_send: Callback<String, Result<(), NotConnected>>,
    /// Text to put in the field (a canned reply), numbered so that the same text can
    /// be put in twice; it replaces what is there and can be edited before sending.
    #[prop_or_default]
    pub insert: Option<(u32, AttrValue)>,
}

#[component]
pub fn ChatInput(props: &ChatInputProps) -> Html {
    let i18n = use_i18n();
    let draft = use_state(String::new);
    let problem = use_state(|| None::<String>);
    let field = use_node_ref();
    {
        let (draft, field) = (draft.clone(), field.clone());
        use_effect_with(props.insert.clone(), move |insert| {
            if let Some((_, text)) = insert {
                draft.set(text.to_string());
                if let Some(f) = field.cast::<HtmlTextAreaElement>() {
                    f.set_value(text);
                    let _ = f.focus();
                }
            }
        });
    }

    let send = {
        let (draft, problem, field, on_send, i18n) = (
            draft.clone(),
            problem.clone(),
            field.clone(),
            props.on_send.clone(),
            i18n.clone(),
        );
        Callback::from(move |()| {
            let current = field
                .cast::<HtmlTextAreaElement>()
                .map(|f| f.value())
                .unwrap_or_else(|| (*draft).clone());
            if current.trim().is_empty() {
                problem.set(None);
            } else if let Err(violation) = check_text(&current, limits::CHAT_MAX_CHARS) {
                problem.set(Some(i18n.error(ErrorCode::from(violation))));
            } else if on_send.emit(current).is_ok() {
                draft.set(String::new());
                problem.set(None);
                if let Some(f) = field.cast::<HtmlTextAreaElement>() {
                    f.set_value("");
                }
            } else {
                problem.set(Some(i18n.t(Msg::NotConnected)));
            }
            if let Some(f) = field.cast::<HtmlElement>() {
                let _ = f.focus();
            }
        })
    };

    let oninput = {
        let draft = draft.clone();
        Callback::from(move |e: InputEvent| {
            if let Some(area) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlTextAreaElement>().ok())
            {
                draft.set(area.value());
            }
        })
    };
    let onkeydown = {
        let send = send.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Enter" && !e.shift_key() && !e.is_composing() {
                e.prevent_default();
                send.emit(());
            }
        })
    };
    let onsubmit = Callback::from(move |e: SubmitEvent| {
        e.prevent_default();
        send.emit(());
    });
    let described = if problem.is_some() {
        "chat-hint chat-error"
    } else {
        "chat-hint"
    };

    html! {
        <form class="chat-form" {onsubmit} novalidate=true>
            <label for="chat-input" class="visually-hidden">{ i18n.t(Msg::ChatInputLabel) }</label>
            <div class="chat-row">
                <textarea id="chat-input" ref={field} rows="2" value={(*draft).clone()}
                    placeholder={i18n.t(Msg::ChatInputLabel)}
                    aria-describedby={described} aria-invalid={problem.is_some().to_string()}
                    maxlength={limits::CHAT_MAX_CHARS.to_string()}
                    {oninput} {onkeydown} />
                <button id="chat-send" type="submit" class="primary">{ i18n.t(Msg::ChatSend) }</button>
            </div>
            // Phones have no Shift key to speak of: they are told about the button.
            <p id="chat-hint" class="hint">
                { i18n.t(if crate::browser::coarse_pointer() { Msg::ChatInputHintTouch } else { Msg::ChatInputHint }) }
            </p>
            if let Some(message) = (*problem).clone() {
                <p id="chat-error" class="field-error" role="alert">{ message }</p>
            }
        </form>
    }
}

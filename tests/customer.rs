//! The customer page's parts in headless Chromium: the PIN field, the conversation,
//! the end confirmation and the survey, rendered for real and checked in the DOM.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use connectit::customer::pin::{PinForm, PinFormProps};
use connectit::customer::survey::{Survey, SurveyProps};
use connectit::session::{ChatInput, ChatLog, ConfirmEnd, Entries};
use connectit::socket::NotConnected;
use connectit_protocol::{Author, EntryKind, LogEntry, Phase, Role, SessionState};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::prelude::*;
use yew::scheduler::flush;

wasm_bindgen_test_configure!(run_in_browser);

fn recorder<T: 'static>() -> (Rc<RefCell<Vec<T>>>, Callback<T>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    (seen, Callback::from(move |v| sink.borrow_mut().push(v)))
}

#[wasm_bindgen_test]
async fn pin_field_cleans_pastes_and_enables_connect_for_six_digits() {
    let root = fresh_root();
    let (submitted, on_submit) = recorder::<String>();
    yew::Renderer::<PinForm>::with_root_and_props(
        root.clone(),
        PinFormProps {
            organisation: "Acme IT".into(),
            busy: false,
            error: None,
            on_submit,
            on_edit: Callback::noop(),
        },
    )
    .render();
    flush().await;

    let input = get(&root, "#pin-input");
    let button = get(&root, "#connect-button");
    assert!(is_disabled(&button), "nothing typed yet");
    assert_eq!(input.get_attribute("inputmode").as_deref(), Some("numeric"));
    assert_eq!(
        input.get_attribute("autocomplete").as_deref(),
        Some("one-time-code")
    );
    assert_eq!(
        get(&root, "label[for=pin-input]").text_content().as_deref(),
        Some("PIN")
    );

    type_into(&input, "12345");
    flush().await;
    assert!(is_disabled(&button), "five digits are not a PIN");

    type_into(&input, " 123 456 ");
    flush().await;
    let value = input
        .dyn_ref::<web_sys::HtmlInputElement>()
        .map(|i| i.value());
    assert_eq!(value.as_deref(), Some("123456"), "spaces are cleaned away");
    assert!(!is_disabled(&button), "six digits enable Connect");

    type_into(&input, "12a456");
    flush().await;
    assert!(is_disabled(&button));
    let error = get(&root, "#pin-error");
    assert_eq!(
        error.get_attribute("data-error").as_deref(),
        Some("invalid_input")
    );
    assert_eq!(error.get_attribute("role").as_deref(), Some("alert"));
    assert!(input
        .get_attribute("aria-describedby")
        .unwrap_or_default()
        .contains("pin-error"));

    type_into(&input, "12-34-56");
    flush().await;
    assert!(
        find(&root, "#pin-error").is_none(),
        "the error goes with the problem"
    );
    click(&button);
    flush().await;
    assert_eq!(*submitted.borrow(), vec!["123456".to_owned()]);
}

#[wasm_bindgen_test]
async fn pin_errors_are_shown_with_their_code() {
    let root = fresh_root();
    yew::Renderer::<PinForm>::with_root_and_props(
        root.clone(),
        PinFormProps {
            organisation: "Acme IT".into(),
            busy: false,
            error: Some(connectit::customer::flow::PinError::TooManyAttempts {
                until: js_sys::Date::now() + 30_000.0,
            }),
            on_submit: Callback::noop(),
            on_edit: Callback::noop(),
        },
    )
    .render();
    flush().await;
    type_into(&get(&root, "#pin-input"), "123456");
    flush().await;
    let error = get(&root, "#pin-error");
    assert_eq!(
        error.get_attribute("data-error").as_deref(),
        Some("too_many_attempts")
    );
    let text = error.text_content().unwrap_or_default();
    assert!(
        text.contains("30 seconds") || text.contains("29 seconds"),
        "{text}"
    );
    assert!(
        is_disabled(&get(&root, "#connect-button")),
        "no new attempt during the wait"
    );
}

fn entry(seq: u64, author: Author, kind: EntryKind) -> LogEntry {
    LogEntry {
        seq,
        at: 1_700_000_000_000 + seq * 60_000,
        author,
        kind,
    }
}

#[wasm_bindgen_test]
async fn chat_log_shows_a_folded_log_with_authors_and_text_as_text() {
    let log = vec![
        entry(1, Author::System, EntryKind::CustomerJoined),
        entry(2, Author::Customer, EntryKind::TermsAccepted),
        entry(
            3,
            Author::Technician,
            EntryKind::TechnicianPickedUp {
                name: "Alice".into(),
            },
        ),
        entry(
            4,
            Author::Customer,
            EntryKind::Chat {
                text: "<b>bold?</b> & <script>x</script>".into(),
                by: None,
            },
        ),
        entry(
            5,
            Author::Technician,
            EntryKind::Chat {
                text: "Hello,\nhow can I help?".into(),
                by: None,
            },
        ),
    ];
    let state = SessionState::fold(&log).expect("a valid log");
    assert_eq!(state.phase(), Phase::Active);

    let root = fresh_root();
    yew::Renderer::<ChatLog>::with_root_and_props(
        root.clone(),
        connectit::session::chat::ChatLogProps {
            entries: Entries::from(log),
            viewer: Role::Customer,
            me: None,
        },
    )
    .render();
    flush().await;

    let list = get(&root, "#chat-log");
    assert_eq!(list.get_attribute("role").as_deref(), Some("log"));
    assert_eq!(list.get_attribute("aria-live").as_deref(), Some("polite"));
    let entries = all(&root, "#chat-log li.entry");
    assert_eq!(entries.len(), 5);
    let seqs: Vec<_> = entries
        .iter()
        .map(|e| e.get_attribute("data-seq").unwrap_or_default())
        .collect();
    assert_eq!(seqs, ["1", "2", "3", "4", "5"]);
    let authors: Vec<_> = entries
        .iter()
        .map(|e| e.get_attribute("data-author").unwrap_or_default())
        .collect();
    assert_eq!(
        authors,
        ["system", "system", "system", "customer", "technician"],
        "chat messages carry their author; joined, accepted, picked up are system lines"
    );
    assert_eq!(
        entries[3].get_attribute("data-kind").as_deref(),
        Some("chat")
    );
    for e in &entries {
        assert!(find(e, "time").is_some(), "every entry has a time");
    }

    let mine = get(&entries[3], ".entry-text");
    assert_eq!(
        mine.text_content().as_deref(),
        Some("<b>bold?</b> & <script>x</script>"),
        "markup is shown literally"
    );
    assert!(find(&entries[3], "b").is_none(), "never parsed as HTML");
    assert!(find(&entries[3], "script").is_none());
    assert_eq!(
        get(&entries[4], ".entry-author").text_content().as_deref(),
        Some("Alice")
    );
    assert!(get(&entries[2], ".entry-text")
        .text_content()
        .unwrap_or_default()
        .contains("Alice"));
}

#[wasm_bindgen_test]
async fn chat_input_sends_on_enter_keeps_newlines_on_shift_enter_and_keeps_focus() {
    let root = fresh_root();
    let sent = Rc::new(RefCell::new(Vec::<String>::new()));
    let sink = sent.clone();
    let on_send = Callback::from(move |text: String| -> Result<(), NotConnected> {
        sink.borrow_mut().push(text);
        Ok(())
    });
    yew::Renderer::<ChatInput>::with_root_and_props(
        root.clone(),
        connectit::session::chat::ChatInputProps {
            on_send,
            insert: None,
        },
    )
    .render();
    flush().await;

    let field = get(&root, "#chat-input");
    type_into(&field, "first line");
    flush().await;
    let not_cancelled = key(&field, "Enter", true);
    flush().await;
    assert!(
        not_cancelled,
        "Shift+Enter is left to the textarea (a new line)"
    );
    assert!(sent.borrow().is_empty());

    type_into(&field, "first line\nsecond line");
    flush().await;
    let not_cancelled = key(&field, "Enter", false);
    flush().await;
    assert!(!not_cancelled, "Enter does not add a line");
    assert_eq!(*sent.borrow(), vec!["first line\nsecond line".to_owned()]);
    let value = field
        .dyn_ref::<web_sys::HtmlTextAreaElement>()
        .map(|a| a.value());
    assert_eq!(value.as_deref(), Some(""), "the field is emptied");
    assert_eq!(active_id(), "chat-input", "focus stays in the field");

    // The Send button works too, and gives the focus back to the field.
    type_into(&field, "via the button");
    flush().await;
    click(&get(&root, "#chat-send"));
    flush().await;
    assert_eq!(sent.borrow().len(), 2);
    assert_eq!(active_id(), "chat-input");

    // Blank messages are not sent.
    type_into(&field, "   ");
    flush().await;
    key(&field, "Enter", false);
    flush().await;
    assert_eq!(sent.borrow().len(), 2);
}

#[wasm_bindgen_test]
async fn chat_input_keeps_the_text_when_not_connected() {
    let root = fresh_root();
    let on_send = Callback::from(|_: String| -> Result<(), NotConnected> { Err(NotConnected) });
    yew::Renderer::<ChatInput>::with_root_and_props(
        root.clone(),
        connectit::session::chat::ChatInputProps {
            on_send,
            insert: None,
        },
    )
    .render();
    flush().await;
    let field = get(&root, "#chat-input");
    type_into(&field, "please keep me");
    flush().await;
    key(&field, "Enter", false);
    flush().await;
    let value = field
        .dyn_ref::<web_sys::HtmlTextAreaElement>()
        .map(|a| a.value());
    assert_eq!(value.as_deref(), Some("please keep me"));
    assert!(find(&root, "#chat-error").is_some());
}

#[derive(Properties, PartialEq)]
struct EndHostProps {
    on_confirm: Callback<()>,
}

#[component]
fn EndHost(props: &EndHostProps) -> Html {
    html! {
        <ConfirmEnd trigger_id="end-button" trigger_label={AttrValue::from("End the session")}
            detail="detail" on_confirm={props.on_confirm.clone()}>
            { "✕" }
        </ConfirmEnd>
    }
}

#[wasm_bindgen_test]
async fn end_confirmation_opens_on_x_and_closes_on_no_and_escape() {
    let root = fresh_root();
    let (confirmed, on_confirm) = recorder::<()>();
    yew::Renderer::<EndHost>::with_root_and_props(root.clone(), EndHostProps { on_confirm })
        .render();
    flush().await;

    let x = get(&root, "#end-button");
    assert_eq!(
        x.get_attribute("aria-label").as_deref(),
        Some("End the session")
    );
    assert!(find(&root, "#end-confirm").is_none());

    click(&x);
    flush().await;
    let dialog = get(&root, "#end-confirm");
    assert_eq!(dialog.get_attribute("role").as_deref(), Some("alertdialog"));
    assert!(dialog
        .text_content()
        .unwrap_or_default()
        .contains("End the session?"));
    assert_eq!(active_id(), "end-no", "focus moves into the dialog");

    click(&get(&root, "#end-no"));
    flush().await;
    assert!(find(&root, "#end-confirm").is_none(), "No closes it");
    assert_eq!(active_id(), "end-button", "focus comes back to the X");

    click(&x);
    flush().await;
    key(&get(&root, "#end-confirm"), "Escape", false);
    flush().await;
    assert!(find(&root, "#end-confirm").is_none(), "Escape closes it");
    assert!(confirmed.borrow().is_empty(), "neither No nor Escape ends");

    click(&x);
    flush().await;
    click(&get(&root, "#end-yes"));
    flush().await;
    assert_eq!(confirmed.borrow().len(), 1, "Yes ends");
    assert!(find(&root, "#end-confirm").is_none());
}

fn render_survey() -> (web_sys::Element, Rc<RefCell<Vec<()>>>) {
    let root = fresh_root();
    let (done, on_done) = recorder::<()>();
    yew::Renderer::<Survey>::with_root_and_props(
        root.clone(),
        SurveyProps {
            token: "token".into(),
            on_done,
        },
    )
    .render();
    (root, done)
}

#[wasm_bindgen_test]
async fn survey_requires_nothing() {
    let (root, done) = render_survey();
    flush().await;
    for id in [
        "#rating-1",
        "#rating-5",
        "#resolved-yes",
        "#resolved-no",
        "#survey-comment",
    ] {
        let field = get(&root, id);
        assert!(!field.has_attribute("required"), "{id} is optional");
        assert!(
            find(&root, &format!("label[for={}]", &id[1..])).is_some(),
            "{id} has a label"
        );
    }
    click(&get(&root, "#survey-submit"));
    flush().await;
    assert!(
        done.borrow().is_empty(),
        "sending nothing is not a silent skip"
    );
    assert!(
        find(&root, "#survey-error").is_some(),
        "the page says to choose a rating or skip"
    );

    let (root, done) = render_survey();
    flush().await;
    click(&get(&root, "#survey-skip"));
    flush().await;
    assert_eq!(done.borrow().len(), 1, "skip always works");
}

#[wasm_bindgen_test]
async fn survey_radio_choices_are_checked() {
    let (root, _done) = render_survey();
    flush().await;
    let four = get(&root, "#rating-4");
    click(&four);
    flush().await;
    let checked = |id: &str| {
        get(&root, id)
            .dyn_ref::<web_sys::HtmlInputElement>()
            .map(|i| i.checked())
            .unwrap_or(false)
    };
    assert!(checked("#rating-4"));
    assert!(!checked("#rating-5"));
    click(&get(&root, "#resolved-no"));
    flush().await;
    assert!(checked("#resolved-no"));
    assert!(checked("#rating-4"), "one group does not clear the other");
}

/// Each message carries the name of whoever wrote it: the technician who had the
/// session then, or the colleague who joined; "You" for the viewer's own.
#[wasm_bindgen_test]
async fn chat_names_follow_a_hand_over_and_a_colleague_who_joined() {
    let chat = |seq, author, text: &str, by: Option<&str>| {
        entry(
            seq,
            author,
            EntryKind::Chat {
                text: text.into(),
                by: by.map(str::to_owned),
            },
        )
    };
    let log = vec![
        entry(1, Author::System, EntryKind::CustomerJoined),
        entry(2, Author::Customer, EntryKind::TermsAccepted),
        entry(
            3,
            Author::Technician,
            EntryKind::TechnicianPickedUp {
                name: "Alice".into(),
            },
        ),
        chat(4, Author::Technician, "Alice speaking", None),
        entry(
            5,
            Author::Technician,
            EntryKind::TechnicianInvited {
                by: "Alice".into(),
                name: "Bob".into(),
            },
        ),
        entry(
            6,
            Author::Technician,
            EntryKind::TechnicianJoined { name: "Bob".into() },
        ),
        chat(7, Author::Technician, "Bob here", Some("Bob")),
        entry(
            8,
            Author::Technician,
            EntryKind::HandedOver {
                from: "Alice".into(),
                to: Some("Bob".into()),
            },
        ),
        chat(9, Author::Technician, "Bob has it now", None),
    ];
    let state = SessionState::fold(&log).expect("a valid log");
    assert_eq!(state.technicians_present(), ["Bob"]);
    for (viewer, me, names) in [
        (Role::Customer, None, ["Alice", "Bob", "Bob"]),
        (Role::Technician, Some("Bob"), ["Alice", "You", "You"]),
        (Role::Technician, Some("Alice"), ["You", "Bob", "Bob"]),
    ] {
        let root = fresh_root();
        yew::Renderer::<ChatLog>::with_root_and_props(
            root.clone(),
            connectit::session::chat::ChatLogProps {
                entries: Entries::from(log.clone()),
                viewer,
                me: me.map(AttrValue::from),
            },
        )
        .render();
        flush().await;
        let shown: Vec<String> = all(&root, "#chat-log li.entry-chat .entry-author")
            .iter()
            .map(|e| e.text_content().unwrap_or_default())
            .collect();
        assert_eq!(shown, names, "{viewer:?} {me:?}");
        let handed = get(&root, "li[data-kind='handed_over'] .entry-text")
            .text_content()
            .unwrap_or_default();
        assert!(
            handed.contains("Alice") && handed.contains("Bob"),
            "{handed}"
        );
    }
}

//! The permission parts in headless Chromium: the customer's prompt (checkboxes, the
//! countdown from the deadline, the answers, More time once, focus, Escape), the list
//! of grants with its revoke buttons, the console's request form and the log lines.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::RefCell;
use std::rc::Rc;

use common::*;
use connectit::console::permissions::{PermissionsPanel, PermissionsProps};
use connectit::console::request::{RequestForm, RequestFormProps};
use connectit::customer::granted::{GrantedPanel, GrantedProps};
use connectit::customer::prompt::{Answer, PermissionPrompt, PromptProps};
use connectit::session::{ChatLog, Entries};
use connectit_protocol::{
    Action, Author, EntryKind, LogEntry, Media, MediaChange, PendingRequest, Permission, Phase,
    Role, SessionState, StopCause,
};
use wasm_bindgen_test::*;
use yew::prelude::*;
use yew::scheduler::flush;

wasm_bindgen_test_configure!(run_in_browser);

fn recorder<T: 'static>() -> (Rc<RefCell<Vec<T>>>, Callback<T>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    (seen, Callback::from(move |v| sink.borrow_mut().push(v)))
}

fn pending(permissions: Vec<Permission>, in_ms: f64, extended: bool) -> PendingRequest {
    PendingRequest {
        request: 7,
        permissions,
        reason: "To look at the printer settings".into(),
        deadline: (js_sys::Date::now() + in_ms) as u64,
        extended,
    }
}

async fn prompt(pending: PendingRequest) -> (web_sys::Element, Rc<RefCell<Vec<Answer>>>) {
    let root = fresh_root();
    let (answers, on_answer) = recorder::<Answer>();
    yew::Renderer::<PermissionPrompt>::with_root_and_props(
        root.clone(),
        PromptProps {
            pending,
            technician: "Tess".into(),
            organisation: "Acme IT".into(),
            applet_url: "https://example.com/applet".into(),
            default_mins: 0,
            busy: false,
            on_answer,
        },
    )
    .render();
    flush().await;
    (root, answers)
}

fn text(root: &web_sys::Element, selector: &str) -> String {
    get(root, selector).text_content().unwrap_or_default()
}

fn checked(root: &web_sys::Element, selector: &str) -> bool {
    use wasm_bindgen::JsCast;
    get(root, selector)
        .dyn_into::<web_sys::HtmlInputElement>()
        .map(|i| i.checked())
        .unwrap_or(false)
}

#[wasm_bindgen_test]
async fn the_prompt_lists_each_permission_checked_with_reason_and_countdown() {
    let (root, answers) = prompt(pending(
        vec![Permission::ViewScreen, Permission::SystemInfo],
        42_000.0,
        false,
    ))
    .await;
    let dialog = get(&root, "#permission-prompt");
    assert_eq!(dialog.get_attribute("role").as_deref(), Some("alertdialog"));
    assert_eq!(dialog.get_attribute("data-request").as_deref(), Some("7"));
    assert!(checked(&root, "#prompt-perm-view_screen"));
    assert!(checked(&root, "#prompt-perm-system_info"));
    assert!(find(&root, "#prompt-perm-camera").is_none());
    assert!(find(&root, "#applet-offer").is_none());
    assert!(text(&root, "#prompt-reason").contains("printer settings"));
    assert!(text(&root, "#permission-prompt").contains("confidential"));
    let left: u64 = text(&root, "#prompt-remaining")
        .trim()
        .parse()
        .expect("seconds");
    assert!((41..=42).contains(&left), "{left} seconds left");
    assert_eq!(active_id(), "prompt-heading", "focus moves into the prompt");

    // Escape does not dismiss a pending prompt.
    key(&get(&root, "#permission-prompt"), "Escape", false);
    flush().await;
    assert!(find(&root, "#permission-prompt").is_some());
    assert!(answers.borrow().is_empty());

    click(&get(&root, "#grant-all"));
    flush().await;
    assert_eq!(
        *answers.borrow(),
        vec![Answer::Grant(
            vec![Permission::ViewScreen, Permission::SystemInfo],
            None
        )]
    );
}

#[wasm_bindgen_test]
async fn a_subset_is_granted_when_boxes_are_unchecked() {
    let (root, answers) = prompt(pending(
        vec![
            Permission::ViewScreen,
            Permission::Camera,
            Permission::SendFiles,
        ],
        60_000.0,
        false,
    ))
    .await;
    let camera = get(&root, "#prompt-perm-camera");
    click(&camera);
    flush().await;
    assert!(!checked(&root, "#prompt-perm-camera"));
    // For half an hour, not until the session ends.
    let duration: web_sys::HtmlSelectElement =
        wasm_bindgen::JsCast::unchecked_into(get(&root, "#grant-duration"));
    duration.set_value("30");
    duration
        .dispatch_event(&web_sys::Event::new("change").unwrap())
        .unwrap();
    flush().await;
    click(&get(&root, "#grant-selected"));
    flush().await;
    assert_eq!(
        *answers.borrow(),
        vec![Answer::Grant(
            vec![Permission::ViewScreen, Permission::SendFiles],
            Some(1800)
        )]
    );
    // Nothing chosen: "Allow the chosen ones" waits.
    click(&get(&root, "#prompt-perm-view_screen"));
    click(&get(&root, "#prompt-perm-send_files"));
    flush().await;
    assert!(is_disabled(&get(&root, "#grant-selected")));
    click(&get(&root, "#deny"));
    flush().await;
    assert_eq!(answers.borrow().last(), Some(&Answer::Deny));
}

#[wasm_bindgen_test]
async fn more_time_once_and_the_applet_for_remote_control() {
    let (root, answers) = prompt(pending(
        vec![Permission::RemoteControl, Permission::ViewScreen],
        30_000.0,
        false,
    ))
    .await;
    let applet = get(&root, "#applet-offer a");
    assert_eq!(
        applet.get_attribute("href").as_deref(),
        Some("https://example.com/applet")
    );
    assert!(
        find(&root, "#prompt-perm-remote_control").is_none(),
        "a browser cannot grant it"
    );
    click(&get(&root, "#more-time"));
    flush().await;
    assert_eq!(*answers.borrow(), vec![Answer::MoreTime]);

    let (used, _) = prompt(pending(vec![Permission::Camera], 90_000.0, true)).await;
    assert!(
        is_disabled(&get(&used, "#more-time")),
        "More time works once"
    );
    let left: u64 = text(&used, "#prompt-remaining")
        .trim()
        .parse()
        .expect("seconds");
    assert!((89..=90).contains(&left));

    let (late, _) = prompt(pending(vec![Permission::Camera], -5_000.0, false)).await;
    assert_eq!(text(&late, "#prompt-remaining").trim(), "0");
}

#[wasm_bindgen_test]
async fn each_grant_can_be_revoked_alone_or_all_at_once() {
    let root = fresh_root();
    let (sent, on_revoke) = recorder::<Action>();
    yew::Renderer::<GrantedPanel>::with_root_and_props(
        root.clone(),
        GrantedProps {
            granted: vec![Permission::ViewScreen, Permission::Camera],
            until: vec![(Permission::Camera, (js_sys::Date::now() + 45_000.0) as u64)],
            busy: false,
            on_revoke,
        },
    )
    .render();
    flush().await;
    assert_eq!(all(&root, "#granted li[data-permission]").len(), 2);
    // The camera was given for a time: what is left, its last minute said, and "+10 min".
    assert!(find(&root, "li[data-permission=view_screen] .grant-left").is_none());
    let left = get(&root, "li[data-permission=camera] .grant-left");
    let secs: u64 = left.get_attribute("data-seconds").unwrap().parse().unwrap();
    assert!((40..=45).contains(&secs), "{secs}");
    assert!(find(&root, "li[data-permission=camera] .grant-ending").is_some());
    click(&get(&root, "li[data-permission=camera] button.renew"));
    flush().await;
    assert_eq!(
        sent.borrow_mut().remove(0),
        Action::Renew {
            permissions: vec![Permission::Camera],
            for_secs: Some(600)
        }
    );
    click(&get(&root, "li[data-permission=camera] button.revoke"));
    flush().await;
    click(&get(&root, "#revoke-all"));
    flush().await;
    assert_eq!(
        *sent.borrow(),
        vec![
            Action::Revoke {
                permissions: vec![Permission::Camera]
            },
            Action::Revoke {
                permissions: vec![Permission::ViewScreen, Permission::Camera]
            },
        ]
    );

    let empty = fresh_root();
    yew::Renderer::<GrantedPanel>::with_root_and_props(
        empty.clone(),
        GrantedProps {
            granted: vec![],
            until: vec![],
            busy: false,
            on_revoke: Callback::noop(),
        },
    )
    .render();
    flush().await;
    assert!(find(&empty, "#granted").is_some());
    assert!(find(&empty, "#revoke-all").is_none());
}

#[wasm_bindgen_test]
async fn the_console_asks_for_the_chosen_permissions_with_a_reason() {
    let root = fresh_root();
    let (sent, on_request) = recorder::<Action>();
    yew::Renderer::<RequestForm>::with_root_and_props(
        root.clone(),
        RequestFormProps {
            enabled: true,
            granted: Vec::new(),
            on_request,
        },
    )
    .render();
    flush().await;
    for name in [
        "view_screen",
        "camera",
        "send_files",
        "receive_files",
        "system_info",
        "remote_control",
    ] {
        assert!(find(&root, &format!("#perm-{name}")).is_some(), "{name}");
    }
    click(&get(&root, "#request-submit"));
    flush().await;
    assert!(
        find(&root, "#request-error").is_some(),
        "nothing chosen yet"
    );
    assert!(sent.borrow().is_empty());
    click(&get(&root, "#perm-camera"));
    click(&get(&root, "#perm-view_screen"));
    type_into(&get(&root, "#request-reason"), "  To see the error  ");
    flush().await;
    click(&get(&root, "#request-submit"));
    flush().await;
    assert_eq!(
        *sent.borrow(),
        vec![Action::RequestPermissions {
            permissions: vec![Permission::ViewScreen, Permission::Camera],
            reason: "To see the error".into(),
        }]
    );
    // Asked: the choice and the reason stay, for asking again if it is refused.
    assert!(checked(&root, "#perm-camera"));
    let reason =
        wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlInputElement>(get(&root, "#request-reason"))
            .unwrap();
    assert_eq!(reason.value(), "  To see the error  ");
}

#[wasm_bindgen_test]
async fn the_console_shows_the_pending_request_and_the_grants() {
    let root = fresh_root();
    // Active, system information granted, the camera asked for (20 s left).
    let now = js_sys::Date::now() as u64;
    let log = [
        (Author::System, EntryKind::CustomerJoined),
        (Author::Customer, EntryKind::TermsAccepted),
        (
            Author::Technician,
            EntryKind::TechnicianPickedUp {
                name: "Tess".into(),
            },
        ),
        (
            Author::Technician,
            EntryKind::PermissionRequested {
                request: 1,
                permissions: vec![Permission::SystemInfo],
                reason: String::new(),
                deadline: now + 20_000,
            },
        ),
        (
            Author::Customer,
            EntryKind::PermissionGranted {
                request: 1,
                granted: vec![Permission::SystemInfo],
                until: None,
            },
        ),
        (
            Author::Technician,
            EntryKind::PermissionRequested {
                request: 2,
                permissions: vec![Permission::Camera],
                reason: String::new(),
                deadline: now + 20_000,
            },
        ),
    ];
    let log: Vec<LogEntry> = log
        .into_iter()
        .enumerate()
        .map(|(i, (author, kind))| LogEntry {
            seq: i as u64 + 1,
            at: now,
            author,
            kind,
        })
        .collect();
    let state = SessionState::fold(&log).expect("a log by the rules");
    assert_eq!(state.phase(), Phase::Active);
    yew::Renderer::<PermissionsPanel>::with_root_and_props(
        root.clone(),
        PermissionsProps {
            state,
            busy: false,
            on_request: Callback::noop(),
        },
    )
    .render();
    flush().await;
    assert!(
        is_disabled(&get(&root, "#request-submit")),
        "one request at a time"
    );
    assert_eq!(
        get(&root, "#pending-request")
            .get_attribute("data-request")
            .as_deref(),
        Some("2")
    );
    let left: u64 = text(&root, "#pending-remaining")
        .trim()
        .parse()
        .expect("seconds");
    assert!((19..=20).contains(&left));
    assert_eq!(
        all(&root, "#customer-granted li[data-permission=system_info]").len(),
        1
    );
}

fn entry(seq: u64, author: Author, kind: EntryKind) -> LogEntry {
    LogEntry {
        seq,
        at: 1_700_000_000_000,
        author,
        kind,
    }
}

#[wasm_bindgen_test]
async fn permission_entries_are_log_lines_on_both_sides() {
    let entries = Entries::from(vec![
        entry(
            1,
            Author::Technician,
            EntryKind::TechnicianPickedUp {
                name: "Tess".into(),
            },
        ),
        entry(
            2,
            Author::Technician,
            EntryKind::PermissionRequested {
                request: 1,
                permissions: vec![Permission::ViewScreen, Permission::Camera],
                reason: "to check".into(),
                deadline: 1_700_000_060_000,
            },
        ),
        entry(
            3,
            Author::Customer,
            EntryKind::PermissionGranted {
                request: 1,
                granted: vec![Permission::ViewScreen],
                until: None,
            },
        ),
        entry(
            4,
            Author::Customer,
            EntryKind::Media {
                media: Media::Screen,
                change: MediaChange::Stopped {
                    cause: StopCause::Browser,
                },
            },
        ),
        entry(
            5,
            Author::System,
            EntryKind::PermissionExpired { request: 2 },
        ),
    ]);
    for (viewer, requested, granted) in [
        (
            Role::Customer,
            "Tess asked to see your screen and camera: “to check”",
            "You allowed: see your screen",
        ),
        (
            Role::Technician,
            "You asked to see the screen and camera: “to check”",
            "The customer allowed: see the screen",
        ),
    ] {
        let root = fresh_root();
        yew::Renderer::<ChatLog>::with_root_and_props(
            root.clone(),
            connectit::session::chat::ChatLogProps {
                entries: entries.clone(),
                viewer,
                me: None,
            },
        )
        .render();
        flush().await;
        assert_eq!(
            text(&root, "li[data-kind=permission_requested] .entry-text"),
            requested
        );
        assert_eq!(
            text(&root, "li[data-kind=permission_granted] .entry-text"),
            granted
        );
        assert_eq!(
            text(&root, "li[data-kind=media] .entry-text"),
            "Sharing stopped by the browser"
        );
        assert!(find(&root, "li.entry[data-kind=permission_expired]").is_some());
    }
}

//! The whole customer ⇄ technician flow through the real broker, the real build and two
//! headless Chromium browsers, and its failure paths. Each test has its own broker and
//! browsers. Run with `cargo test -p connectit-e2e -- --test-threads=2` after
//! `cargo build -p connectit-broker` and `trunk build`.

use connectit_protocol::{Author, EntryType};
use std::time::Duration;

use connectit_e2e::broker::{APPLET_URL, ORGANISATION, SUPPORT_CONTACT, TERMS_FIRST};
use connectit_e2e::{
    db, other_pin, spaced_pin, timeline, wait_until, BrokerOptions, Survey, World,
};

/// Sign in, create, join by typing the PIN, accept, pick up, chat both ways, X (No,
/// then Yes), survey; the survey lands in the database.
#[tokio::test(flavor = "multi_thread")]
async fn happy_path_from_pin_to_survey() {
    let w = World::start(BrokerOptions::default()).await;
    let tech_name = w.broker.technician().display_name.clone();
    let console = w.signed_in_console().await;
    let customer = w.customer();

    let session = console.create_session().await;
    console.wait_row_phase(&session.id, "created").await;
    assert!(
        session.link.contains("/#join=") && !session.link.contains(&session.pin),
        "#new-link {:?} should carry its own join token, not the PIN",
        session.link
    );

    w.tech.wait_visible("#new-pin-remaining").await;
    let email = w.tech.value("#new-email").await;
    assert!(
        email.contains(&session.pin) || email.contains(&spaced_pin(&session.pin)),
        "the ready e-mail carries the PIN: {email:?}"
    );

    // The customer types the PIN with a space, as read out over the phone.
    customer.open().await;
    assert_eq!(customer.organisation().await.trim(), ORGANISATION);
    assert_eq!(
        w.cust.attr("#applet-link", "href").await.as_deref(),
        Some(APPLET_URL),
        "#applet-link points at the configured applet"
    );
    w.cust
        .wait_text_contains("#support-contact", SUPPORT_CONTACT)
        .await;
    customer.type_pin(&spaced_pin(&session.pin)).await;
    customer.connect().await;
    customer.wait_terms().await;
    w.cust.wait_text_contains("#terms-text", TERMS_FIRST).await;
    assert!(
        w.cust.is_visible("#end-button").await,
        "X is visible from the terms on"
    );
    console.wait_row_phase(&session.id, "connecting").await;

    customer.accept_terms().await;
    // The console's list follows live: no reload.
    console.wait_row_phase(&session.id, "waiting").await;

    console.open_session(&session.id).await;
    console.pick_up().await;
    customer.wait_technician(&tech_name).await;
    console
        .wait_row_phase_if_listed(&session.id, "active")
        .await;

    assert_eq!(
        w.cust.attr("#chat-log", "role").await.as_deref(),
        Some("log"),
        "screen readers announce new messages"
    );

    // Chat both ways; the customer sends with Enter and keeps typing in the same field.
    let from_customer = "My printer prints only blank pages.";
    customer.send_chat_with_enter(from_customer).await;
    assert_eq!(
        w.cust.focused_id().await,
        "chat-input",
        "focus stays in the chat input"
    );
    assert_eq!(
        w.cust.value("#chat-input").await,
        "",
        "the input is emptied"
    );
    w.tech
        .wait_chat_message(Author::Customer, from_customer)
        .await;

    let from_tech = "Let us look at the toner together.";
    console.send_chat(from_tech).await;
    w.cust
        .wait_chat_message(Author::Technician, from_tech)
        .await;

    // X, then No: nothing ends.
    w.cust.click("#end-button").await;
    w.cust
        .wait_text_contains("#end-confirm", "End the session?")
        .await;
    assert_eq!(
        w.cust.attr("#end-confirm", "role").await.as_deref(),
        Some("alertdialog")
    );
    w.cust.click("#end-no").await;
    w.cust.wait_hidden("#end-confirm").await;
    assert!(
        !w.cust.is_visible("#session-ended").await,
        "No keeps the session"
    );
    assert_eq!(console.view_phase().await.as_deref(), Some("active"));

    // X, then Yes: both sides see the end.
    customer.end().await;
    w.tech
        .wait_attr("#session-view", "data-phase", "ended")
        .await;

    let survey = Survey {
        rating: 4,
        resolved: Some(true),
        comment: "Quick and friendly, thank you!".into(),
    };
    customer.submit_survey(&survey).await;

    let db_path = w.broker.db_path();
    let row = wait_until(
        "the survey row in the database",
        Duration::from_secs(5),
        || {
            let found = db::survey(&db_path, &session.id);
            async move { found.ok_or_else(|| "no surveys row yet".to_owned()) }
        },
    )
    .await;
    assert_eq!(row.rating, 4);
    assert_eq!(row.resolved, Some(true));
    assert_eq!(row.comment, survey.comment);
    assert!(row.submitted_at > 0);
    assert_eq!(db::surveys(&db_path).len(), 1, "exactly one survey stored");
    assert_eq!(
        db::session_phase(&db_path, &session.id).as_deref(),
        Some("ended"),
        "the end is stored"
    );

    w.close().await;
}

/// A conversation longer than the log's box: both pages keep its newest line in view as
/// lines arrive, whoever wrote them.
#[tokio::test(flavor = "multi_thread")]
async fn a_long_conversation_keeps_its_newest_line_in_view() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _) = w.active_session().await;
    for i in 1..=8 {
        let question = format!("Question {i}: the printer still says paper jam.");
        customer.send_chat(&question).await;
        w.tech.wait_chat_message(Author::Customer, &question).await;
        let answer = format!("Answer {i}: open tray {i} and look behind the roller.");
        console.send_chat(&answer).await;
        w.cust.wait_chat_message(Author::Technician, &answer).await;
    }
    w.cust.wait_newest_line_in_view().await;
    w.tech.wait_newest_line_in_view().await;
    // And after a message from the other side, too.
    customer.send_chat("One more thing.").await;
    w.tech
        .wait_chat_message(Author::Customer, "One more thing.")
        .await;
    w.tech.wait_newest_line_in_view().await;
    w.close().await;
}

/// A hand-made link `/#pin=NNNNNN` fills the field; Connect joins.
#[tokio::test(flavor = "multi_thread")]
async fn join_by_link() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let session = console.create_session().await;

    customer.open_link(&session.pin).await;
    customer.connect().await;
    customer.wait_terms().await;
    console.wait_row_phase(&session.id, "connecting").await;

    w.close().await;
}

/// A wrong PIN is refused with `invalid_or_expired`; the right one still works after.
#[tokio::test(flavor = "multi_thread")]
async fn wrong_pin_is_refused_then_right_pin_joins() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let session = console.create_session().await;

    customer.open().await;
    customer
        .type_pin(&spaced_pin(&other_pin(&session.pin)))
        .await;
    customer.connect().await;
    customer.wait_pin_error("invalid_or_expired").await;
    assert_eq!(
        w.cust.attr("#pin-error", "role").await.as_deref(),
        Some("alert")
    );
    assert!(
        !w.cust.is_visible("#terms").await,
        "no terms for a wrong PIN"
    );

    customer.type_pin(&session.pin).await;
    customer.connect().await;
    customer.wait_terms().await;
    w.cust.wait_hidden("#pin-error").await;

    w.close().await;
}

/// The session's socket opens while the PIN is checked (its handshake overlaps the
/// request, a round trip less to join) and is the one the session then uses, its hello
/// said once; the one opened for a refused PIN is closed by the page at once, not left
/// to the broker's timeout for a socket that never says hello.
#[tokio::test(flavor = "multi_thread")]
async fn the_session_socket_opens_while_the_pin_is_checked() {
    let w = World::start(BrokerOptions::default()).await;
    w.cust.before_page_scripts(timeline::STAMPS).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let session = console.create_session().await;
    customer.open().await;
    let sockets = |list: &[(f64, String)], what: &str| {
        list.iter()
            .filter(|(_, e)| e.starts_with(what))
            .map(|(t, _)| *t)
            .collect::<Vec<_>>()
    };

    // A wrong PIN: a socket opens with the request and closes with its refusal.
    let start = w
        .cust
        .eval("return performance.timeOrigin + performance.now();", vec![])
        .await;
    let start = start.as_f64().expect("the page's clock");
    customer
        .type_pin(&spaced_pin(&other_pin(&session.pin)))
        .await;
    customer.connect().await;
    customer.wait_pin_error("invalid_or_expired").await;
    let closed = wait_until(
        "the socket opened for the wrong PIN is closed",
        Duration::from_secs(3),
        || async {
            let list = timeline::stamps(&w.cust, start).await;
            if sockets(&list, "socket closed").is_empty() {
                Err(format!("{list:?}"))
            } else {
                Ok(list)
            }
        },
    )
    .await;
    let created = sockets(&closed, "socket created");
    assert_eq!(created.len(), 1, "one socket for the attempt: {closed:?}");
    let refused = sockets(&closed, "response /api/pin");
    assert!(
        created[0] <= refused[0] && refused[0] <= sockets(&closed, "socket closed")[0],
        "opened with the request, closed after its answer: {closed:?}"
    );

    // The right PIN: the socket opened with the request carries the session.
    let again = closed.last().map_or(start, |(t, _)| *t) + 0.001;
    customer.type_pin(&session.pin).await;
    customer.connect().await;
    customer.wait_terms().await;
    let list = timeline::stamps(&w.cust, again).await;
    let created = sockets(&list, "socket created");
    assert_eq!(
        created.len(),
        1,
        "no second socket for the session: {list:?}"
    );
    assert!(
        created[0] <= sockets(&list, "response /api/pin")[0],
        "the socket opened before the PIN's answer: {list:?}"
    );
    assert!(sockets(&list, "socket closed").is_empty(), "{list:?}");
    let hellos = sockets(&list, "sent {\"type\":\"hello\"");
    assert_eq!(
        hellos.len(),
        1,
        "the session said hello on it once: {list:?}"
    );
    // And it works: the technician hears the customer.
    customer.accept_terms().await;
    customer.wait_waiting().await;
    console.wait_row_phase(&session.id, "waiting").await;

    w.close().await;
}

/// A PIN used after its validity is refused like a wrong one.
#[tokio::test(flavor = "multi_thread")]
async fn expired_pin_is_refused() {
    let w = World::start(BrokerOptions {
        pin_validity_secs: Some(2),
        ..Default::default()
    })
    .await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let session = console.create_session().await;
    let created = tokio::time::Instant::now();
    customer.open().await;

    // Time itself is the subject here.
    tokio::time::sleep_until(created + Duration::from_secs(3)).await;

    customer.type_pin(&session.pin).await;
    customer.connect().await;
    customer.wait_pin_error("invalid_or_expired").await;
    assert!(
        !w.cust.is_visible("#terms").await,
        "no terms for an expired PIN"
    );

    w.close().await;
}

/// A PIN works until the technician picks someone up: then a second browser trying it
/// is refused, and the one picked up stays in.
#[tokio::test(flavor = "multi_thread")]
async fn pin_works_until_someone_is_picked_up() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let session = console.create_session().await;

    customer.join(&session.pin).await;
    customer.accept_terms().await;
    console.wait_row_phase(&session.id, "waiting").await;
    console.open_session(&session.id).await;
    console.pick_up().await;

    // Someone else (here: the technician's browser, as a second customer) tries it.
    let second = connectit_e2e::Customer::new(&w.tech, w.broker.url());
    second.open().await;
    second.type_pin(&session.pin).await;
    second.connect().await;
    second.wait_pin_error("invalid_or_expired").await;
    assert!(!w.tech.is_visible("#terms").await);

    // The same browser, once it forgot its session, is refused too.
    customer.forget_session().await;
    customer.open().await;
    customer.type_pin(&session.pin).await;
    customer.connect().await;
    customer.wait_pin_error("invalid_or_expired").await;

    w.close().await;
}

/// Declining the terms ends the session, for the customer and in the console.
#[tokio::test(flavor = "multi_thread")]
async fn declining_terms_ends_the_session() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let session = console.create_session().await;

    customer.join(&session.pin).await;
    console.wait_row_phase(&session.id, "connecting").await;
    customer.decline_terms().await;
    w.cust.wait_visible("#session-ended").await;
    assert!(!w.cust.is_visible("#waiting").await);
    console.wait_row_phase(&session.id, "ended").await;
    // Nobody helped: there is nothing to rate, only the way to start again.
    w.cust.wait_visible("#start-again").await;
    assert!(!w.cust.is_visible("#survey").await);

    w.close().await;
}

/// The technician ends the session: the customer sees it ended and is offered the survey.
#[tokio::test(flavor = "multi_thread")]
async fn technician_ends_the_session() {
    let w = World::start(BrokerOptions::default()).await;
    let tech_name = w.broker.technician().display_name.clone();
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let session = console.create_session().await;

    customer.join(&session.pin).await;
    customer.accept_terms().await;
    console.wait_row_phase(&session.id, "waiting").await;
    console.open_session(&session.id).await;
    console.pick_up().await;
    customer.wait_technician(&tech_name).await;
    console.send_chat("All fixed, have a good day.").await;
    w.cust
        .wait_chat_message(Author::Technician, "All fixed, have a good day.")
        .await;

    console.end_session().await;
    w.cust.wait_visible("#session-ended").await;
    w.cust.wait_visible("#survey").await;
    let can_still_type = w
        .cust
        .eval(
            "const e = document.querySelector('#chat-input'); \
             return !!e && e.getClientRects().length > 0 && !e.disabled && !e.readOnly;",
            vec![],
        )
        .await;
    assert_eq!(
        can_still_type,
        serde_json::json!(false),
        "the customer cannot write once the session ended"
    );

    w.cust.click("#survey-skip").await;
    w.cust.wait_hidden("#survey").await;
    let db_path = w.broker.db_path();
    assert!(
        db::survey(&db_path, &session.id).is_none(),
        "a skipped survey stores nothing"
    );

    w.close().await;
}

/// The customer closes the page and does not come back: after the configured time the
/// session ends by itself with its own reason, and the console says so instead of an
/// "in progress" session nobody is in.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_whose_customer_is_gone_ends_itself() {
    let w = World::start(BrokerOptions {
        customer_gone_after_secs: Some(2),
        ..BrokerOptions::default()
    })
    .await;
    let gone = connectit_e2e::Browser::start().await;
    let console = w.console();
    let customer = connectit_e2e::Customer::new(&gone, w.broker.url());
    let session = connectit_e2e::start_session(&w.broker, &console, &customer).await;
    // The customer's browser goes (closed, crashed, the laptop shut).
    gone.close().await;
    w.tech.wait_entry_kind(EntryType::Disconnected).await;
    w.tech
        .wait_attr("#session-view", "data-phase", "ended")
        .await;
    w.tech
        .wait_text_contains(".status-line", "did not come back")
        .await;
    w.tech.click("#back-to-list").await;
    console.wait_row_phase(&session.id, "ended").await;
    w.close().await;
}

/// The customer navigates away: the technician hears it at once (the page closes its
/// socket even if the browser keeps the page in its cache), and when the customer comes
/// back with the browser's Back button, they are back in the session.
#[tokio::test(flavor = "multi_thread")]
async fn leaving_the_page_is_heard_at_once_and_back_returns() {
    let w = World::start(BrokerOptions::default()).await;
    let (_console, customer, _session) = w.active_session().await;
    w.cust.goto("about:blank").await;
    w.tech.wait_entry_kind(EntryType::Disconnected).await;
    w.cust.back().await;
    w.tech.wait_entry_kind(EntryType::Reconnected).await;
    customer
        .wait_technician(&w.broker.technician().display_name)
        .await;
    w.close().await;
}

//! Joining that nobody can block or win, through the real broker, the real build and
//! headless Chromium: the e-mailed link opens the session without a PIN (and only
//! until someone is picked up); two people who entered one PIN both wait, each with a
//! check code, and the technician picks the one the customer reads out; a session
//! opened in a second console window takes over from the first; a sign-out in one
//! window sends the others to the sign-in form; the security log lists sign-ins.

use connectit_e2e::browser::Browser;
use connectit_e2e::console::Console;
use connectit_e2e::customer::Customer;
use connectit_e2e::{BrokerOptions, World};
use connectit_protocol::EntryType;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn the_link_opens_the_session_without_a_pin_until_someone_is_picked_up() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let session = console.create_session().await;
    let token = session
        .link
        .split("#join=")
        .nth(1)
        .unwrap_or_else(|| panic!("#new-link {:?} carries a join token", session.link));
    assert!(
        !session.link.contains(&session.pin),
        "the PIN is not in the link"
    );
    assert_eq!(token.len(), 32);

    // The link goes straight to the terms: no PIN to type.
    w.cust.goto(&session.link).await;
    customer.wait_terms().await;
    let url = w.cust.eval("return location.href;", vec![]).await;
    assert!(
        !url.as_str().unwrap_or("").contains(token),
        "the token left the address bar: {url}"
    );
    customer.accept_terms().await;
    customer.wait_waiting().await;
    // The waiting customer has a check code; the technician sees the same one.
    let code = w
        .cust
        .attr("#check-code", "data-code")
        .await
        .expect("a check code");
    assert_eq!(code.len(), 4);
    console.wait_row_phase(&session.id, "waiting").await;
    console.open_session(&session.id).await;
    // The code comes with the session's state over its own socket, just after the view.
    w.tech
        .wait_attr("#tech-check-code", "data-code", &code)
        .await;
    assert!(!w.tech.is_visible("#several-candidates").await);
    console.pick_up().await;
    customer
        .wait_technician(&w.broker.technician().display_name)
        .await;

    // Picked up: the link is used. Someone opening it now is told so.
    let other = Browser::start().await;
    let late = Customer::new(&other, w.broker.url());
    other.goto(&session.link).await;
    late.wait_pin_error("link_invalid").await;
    other.close().await;
    w.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_people_with_one_pin_both_wait_and_the_technician_picks_the_right_one() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let session = console.create_session().await;
    // Someone who guessed the PIN got in first; the real customer types it too.
    let stranger_browser = Browser::start().await;
    let stranger = Customer::new(&stranger_browser, w.broker.url());
    let real = w.customer();
    stranger.join(&session.pin).await;
    stranger.accept_terms().await;
    real.join(&session.pin).await;
    real.accept_terms().await;
    real.wait_waiting().await;
    stranger.wait_waiting().await;
    let real_code = w.cust.attr("#check-code", "data-code").await.unwrap();
    let stranger_code = stranger_browser
        .attr("#check-code", "data-code")
        .await
        .unwrap();
    assert_ne!(real_code, stranger_code);

    // The console lists both, with their codes and a warning.
    let b = &w.tech;
    let rows = b
        .wait_for("two rows waiting with check codes", || async {
            let script =
                "return Array.from(document.querySelectorAll('#session-list .session-row'))\
                .filter((r) => r.getAttribute('data-phase') === 'waiting')\
                .map((r) => [r.getAttribute('data-session-id'),\
                    (r.querySelector('.row-check-code') || {}).dataset?.code || '',\
                    !!r.querySelector('.row-candidates')]);";
            match b.eval(script, vec![]).await {
                Value::Array(rows) if rows.len() == 2 => Ok(rows),
                other => Err(format!("rows: {other}")),
            }
        })
        .await;
    let row_of = |code: &str| {
        rows.iter()
            .find(|r| r[1].as_str() == Some(code))
            .and_then(|r| r[0].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("a row with code {code}: {rows:?}"))
    };
    assert!(
        rows.iter().all(|r| r[2] == Value::Bool(true)),
        "both flagged: {rows:?}"
    );
    let real_id = row_of(&real_code);
    // The customer on the phone reads out their code: the technician opens that one.
    console.open_session(&real_id).await;
    b.wait_visible("#several-candidates").await;
    b.wait_attr("#tech-check-code", "data-code", &real_code)
        .await;
    console.pick_up().await;
    real.wait_technician(&w.broker.technician().display_name)
        .await;
    // The other person is told someone else is being helped, with no survey to fill.
    stranger_browser
        .wait_attr("#session-ended", "data-reason", "other_customer_chosen")
        .await;
    assert!(!stranger_browser.is_visible("#survey-form").await);
    stranger_browser.close().await;
    w.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_opened_in_a_second_window_takes_over_and_the_first_can_take_it_back() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, session) = w.active_session().await;
    let b = &w.tech;
    let client = b.client();
    let first = client.window().await.unwrap();
    let second = client.new_window(false).await.unwrap().handle;
    client.switch_to_window(second.clone()).await.unwrap();
    let again = Console::new(b, w.broker.url());
    b.goto(&format!("{}/console", w.broker.url())).await;
    b.wait_visible("#create-session").await;
    again.open_session(&session.id).await;
    b.wait_attr("#session-view", "data-phase", "active").await;

    // The first window was told, and does not fight back by itself.
    client.switch_to_window(first.clone()).await.unwrap();
    b.wait_visible("#opened-elsewhere").await;
    // The customer never saw the technician drop.
    customer.send_chat("are you still there?").await;
    assert_eq!(w.cust.count_entry_kind(EntryType::Disconnected).await, 0);
    // Taking it back here: the second window is told in turn.
    b.click("#use-here").await;
    b.wait_attr("#session-view", "data-phase", "active").await;
    console.send_chat("yes, here").await;
    client.switch_to_window(second).await.unwrap();
    b.wait_visible("#opened-elsewhere").await;
    client.switch_to_window(first).await.unwrap();
    w.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_in_one_window_sends_the_others_to_sign_in_and_the_log_shows_it() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let b = &w.tech;
    let client = b.client();
    let first = client.window().await.unwrap();
    let second = client.new_window(false).await.unwrap();
    client.switch_to_window(second.handle).await.unwrap();
    b.goto(&format!("{}/console", w.broker.url())).await;
    b.wait_visible("#sign-out").await;
    b.click("#sign-out").await;
    b.wait_visible("#signin-form").await;
    assert!(
        !b.is_visible("#signed-out").await,
        "signing out oneself needs no notice"
    );
    // The first window's console socket was closed by the broker: it says why.
    client.switch_to_window(first).await.unwrap();
    b.wait_visible("#signin-form").await;
    b.wait_visible("#signed-out").await;
    // A wrong password, then the right one: both in the security log.
    b.type_into("#signin-username", &w.broker.technician().username)
        .await;
    b.type_into("#signin-password", "not the password").await;
    b.click("#signin-submit").await;
    b.wait_visible("#signin-error").await;
    console.sign_in(w.broker.technician()).await;
    b.click("#show-audit").await;
    b.wait_visible("#audit-log table").await;
    let kinds = b.attr_all("#audit-log tbody tr", "data-kind").await;
    assert_eq!(
        kinds.first().map(String::as_str),
        Some("sign_in_succeeded"),
        "newest first"
    );
    for kind in ["sign_in_succeeded", "sign_in_failed", "signed_out"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    w.close().await;
}

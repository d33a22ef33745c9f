//! The customer flow with the keyboard alone (issue 5): after the page opens, the
//! customer's browser gets only key presses sent to the focused element (Tab,
//! Shift+Tab, Enter, Space, arrows, Escape, typing), never a click. The technician's
//! side uses clicks. Each focused control must show a visible focus ring.
//!
//! Run with `cargo test -p connectit-e2e --test keyboard` after `cargo build -p
//! connectit-broker` and `scripts/build-app`.

use connectit_e2e::{db, BrokerOptions, Browser, World};
use connectit_protocol::Author;
use serde_json::Value;

const TAB: &str = "\u{e004}";
const SHIFT_TAB: &str = "\u{e008}\u{e004}";
const ENTER: &str = "\u{e007}";
const SPACE: &str = "\u{e00d}";
const ESCAPE: &str = "\u{e00c}";
const RIGHT: &str = "\u{e014}";

/// Whether the focused element shows a focus indicator: its own outline, or (for the
/// survey's hidden radio inputs) its label's.
async fn assert_focus_visible(b: &Browser, id: &str) {
    assert_eq!(b.focused_id().await, id, "#{id} has the focus");
    assert_focus_visible_on(b, &format!("#{id}")).await;
}

/// Tabs forwards to `id` and checks its focus ring.
async fn tab_to(b: &Browser, id: &str) {
    b.tab_to(id, false, 40).await;
    assert_focus_visible(b, id).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_customer_flow_by_keyboard_alone() {
    let w = World::start(BrokerOptions::default()).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let b = &w.cust;
    let session = console.create_session().await;

    // The PIN: the field has the focus when the page opens; Enter connects.
    customer.open().await;
    assert_eq!(
        b.focused_id().await,
        "pin-input",
        "the PIN field starts focused"
    );
    b.press(&session.pin).await;
    tab_to(b, "connect-button").await;
    b.press(ENTER).await;
    customer.wait_terms().await;

    // The terms: Tab to Accept, Space presses it.
    tab_to(b, "accept-terms").await;
    b.press(SPACE).await;
    customer.wait_waiting().await;

    // Picked up: the message field gets the focus; Enter sends.
    console.wait_row_phase(&session.id, "waiting").await;
    console.open_session(&session.id).await;
    console.pick_up().await;
    customer
        .wait_technician(&w.broker.technician().display_name)
        .await;
    b.wait_for("the focus in #chat-input once picked up", || async {
        match b.focused_id().await.as_str() {
            "chat-input" => Ok(()),
            other => Err(format!("focus on {other:?}")),
        }
    })
    .await;
    b.press(&format!("My printer is broken{ENTER}")).await;
    b.wait_chat_message(Author::Customer, "My printer is broken")
        .await;
    assert_eq!(
        b.focused_id().await,
        "chat-input",
        "focus stays in the field"
    );
    console.send_chat("Let me see").await;
    b.wait_chat_message(Author::Technician, "Let me see").await;

    // A permission prompt takes the focus; Escape does not dismiss it; Tab reaches the
    // answers; after answering, the focus comes back to the message field.
    let request = console
        .request_permissions(&["view_screen"], "To look at the printer settings")
        .await;
    customer.wait_prompt_for(request).await;
    b.wait_for("the focus inside #permission-prompt", || async {
        let inside = b
            .eval(
                "const p = document.querySelector('#permission-prompt'); \
                 return !!p && p.contains(document.activeElement);",
                vec![],
            )
            .await;
        if inside == Value::Bool(true) {
            Ok(())
        } else {
            Err(format!("focus on {:?}", b.focused_id().await))
        }
    })
    .await;
    b.press(ESCAPE).await;
    assert!(
        b.is_visible("#permission-prompt").await,
        "Escape must not dismiss a pending prompt"
    );
    tab_to(b, "grant-all").await;
    b.press(ENTER).await;
    b.wait_hidden("#permission-prompt").await;
    customer.wait_sharing("live").await;
    assert_eq!(
        b.focused_id().await,
        "chat-input",
        "after the prompt, focus goes back where it was"
    );

    // X by keyboard: Shift+Tab back to it; Escape closes the confirmation, focus returns
    // to X; then Yes.
    b.tab_to("end-button", true, 60).await;
    assert_focus_visible(b, "end-button").await;
    b.press(ENTER).await;
    b.wait_visible("#end-confirm").await;
    assert_eq!(
        b.focused_id().await,
        "end-no",
        "the safe answer has the focus"
    );
    b.press(ESCAPE).await;
    b.wait_hidden("#end-confirm").await;
    assert_eq!(b.focused_id().await, "end-button", "focus back on X");
    b.press(ENTER).await;
    b.wait_visible("#end-confirm").await;
    b.press(TAB).await;
    assert_focus_visible(b, "end-yes").await;
    b.press(SHIFT_TAB).await;
    assert_eq!(
        b.focused_id().await,
        "end-no",
        "Tab stays inside the dialog"
    );
    b.press(SHIFT_TAB).await;
    b.press(ENTER).await;
    b.wait_visible("#session-ended").await;

    // The survey: arrows choose within a radio group, Space picks, Enter submits.
    b.wait_visible("#survey").await;
    tab_to(b, "rating-1").await;
    b.press(&RIGHT.repeat(3)).await;
    assert_focus_visible(b, "rating-4").await;
    tab_to(b, "resolved-yes").await;
    b.press(SPACE).await;
    tab_to(b, "survey-comment").await;
    b.press("Quick and kind").await;
    tab_to(b, "survey-submit").await;
    b.press(ENTER).await;
    b.wait_visible("#thank-you").await;
    let stored = db::survey(&w.broker.db_path(), &session.id)
        .unwrap_or_else(|| panic!("no survey stored for {}", session.id));
    assert_eq!(stored.rating, 4, "{stored:?}");
    assert_eq!(stored.resolved, Some(true), "{stored:?}");
    assert_eq!(stored.comment, "Quick and kind", "{stored:?}");

    w.close().await;
}

/// Whether the focused element matches `selector` and shows a focus ring: its own
/// outline, or (for the survey's hidden radio inputs) its label's.
async fn assert_focus_visible_on(b: &Browser, selector: &str) {
    let script = "const e = document.activeElement; if (!e) return 'nothing focused'; \
        if (!e.matches(arguments[0])) return `focus on ${e.outerHTML.slice(0, 80)}`; \
        const ring = (el) => { const s = getComputedStyle(el); \
          return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }; \
        if (ring(e)) return true; \
        const label = e.id && document.querySelector(`label[for=\"${e.id}\"]`); \
        if (label && ring(label)) return true; \
        return 'no focus ring';";
    match b.eval(script, vec![Value::from(selector)]).await {
        Value::Bool(true) => {}
        other => panic!("{selector}: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_by_keyboard_alone() {
    let w = World::start(BrokerOptions::default()).await;
    let tech = &w.tech;
    let account = w.broker.technician();
    let console = w.console();
    let customer = w.customer();

    // Sign in: type, Tab, type, Enter submits the form.
    tech.goto(&w.broker.console_url()).await;
    tech.wait_visible("#signin-form").await;
    tab_to(tech, "signin-username").await;
    tech.press(&account.username).await;
    tab_to(tech, "signin-password").await;
    tech.press(&format!("{}{ENTER}", account.password)).await;
    tech.wait_text_contains("#signed-in-as", &account.display_name)
        .await;

    // A new session: Enter on the button; its PIN is shown and the copy buttons are
    // reachable.
    tab_to(tech, "create-session").await;
    tech.press(ENTER).await;
    tech.wait_visible("#new-pin").await;
    let pin = tech
        .attr("#new-pin", "data-pin")
        .await
        .expect("#new-pin has data-pin");
    tab_to(tech, "copy-link").await;
    tab_to(tech, "copy-email").await;

    // The customer joins (by mouse: this test is about the console).
    customer.join(&pin).await;
    customer.accept_terms().await;
    let id = console.session_ids().await[0].clone();
    console.wait_row_phase(&id, "waiting").await;

    // Open the row with the keyboard, then pick up.
    let open = format!(".session-row[data-session-id=\"{id}\"] .open-session");
    tech.tab_to_matching(&open, false, 60).await;
    assert_focus_visible_on(tech, &open).await;
    tech.press(ENTER).await;
    tech.wait_visible("#session-view").await;
    tab_to(tech, "pick-up").await;
    tech.press(SPACE).await;
    tech.wait_attr("#session-view", "data-phase", "active")
        .await;
    customer.wait_technician(&account.display_name).await;

    // Chat: Enter sends, the focus stays in the field.
    tab_to(tech, "chat-input").await;
    tech.press(&format!("Hello, how can I help?{ENTER}")).await;
    tech.wait_chat_message(Author::Technician, "Hello, how can I help?")
        .await;
    w.cust
        .wait_chat_message(Author::Technician, "Hello, how can I help?")
        .await;
    assert_eq!(tech.focused_id().await, "chat-input");

    // The request form: Space ticks a permission, the reason is typed, Enter on the
    // submit button sends it; the customer grants and frames arrive.
    tab_to(tech, "perm-view_screen").await;
    tech.press(SPACE).await;
    tab_to(tech, "request-reason").await;
    tech.press("To see the error message").await;
    tab_to(tech, "request-submit").await;
    tech.press(ENTER).await;
    tech.wait_visible("#pending-request").await;
    customer.wait_prompt().await;
    customer.grant_all().await;
    console.wait_screen_frames(3).await;
    tab_to(tech, "view-actual").await;
    tech.press(ENTER).await;

    // End: Escape closes the confirmation and gives the focus back; then Yes.
    tab_to(tech, "end-session").await;
    tech.press(ENTER).await;
    tech.wait_visible("#end-confirm").await;
    assert_eq!(tech.focused_id().await, "end-no", "the safe answer first");
    tech.press(ESCAPE).await;
    tech.wait_hidden("#end-confirm").await;
    assert_eq!(tech.focused_id().await, "end-session", "focus back");
    tech.press(ENTER).await;
    tech.wait_visible("#end-confirm").await;
    tech.press(TAB).await;
    assert_focus_visible(tech, "end-yes").await;
    tech.press(ENTER).await;
    tech.wait_attr("#session-view", "data-phase", "ended").await;
    w.cust.wait_visible("#session-ended").await;

    // Back to the list, then sign out.
    tab_to(tech, "back-to-list").await;
    tech.press(ENTER).await;
    tech.wait_visible("#session-list").await;
    tab_to(tech, "sign-out").await;
    tech.press(ENTER).await;
    tech.wait_visible("#signin-form").await;

    w.close().await;
}

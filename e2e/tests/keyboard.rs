//! The customer flow with the keyboard alone (issue 5): after the page opens, the
//! customer's browser gets only key presses sent to the focused element (Tab,
//! Shift+Tab, Enter, Space, arrows, Escape, typing), never a click. The technician's
//! side uses clicks. Each focused control must show a visible focus ring.
//!
//! Run with `cargo test -p connectit-e2e --test keyboard` after `cargo build -p
//! connectit-broker` and `scripts/build-app`.

use connectit_e2e::{db, BrokerOptions, Browser, World};
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
    let script = "const e = document.activeElement; if (!e) return 'nothing focused'; \
        const ring = (el) => { const s = getComputedStyle(el); \
          return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; }; \
        if (ring(e)) return true; \
        const label = e.id && document.querySelector(`label[for=\"${e.id}\"]`); \
        if (label && ring(label)) return true; \
        return `no focus ring on #${e.id}`;";
    match b.eval(script, vec![]).await {
        Value::Bool(true) => {}
        other => panic!("#{id}: {other}"),
    }
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
    b.wait_chat_message("customer", "My printer is broken")
        .await;
    assert_eq!(
        b.focused_id().await,
        "chat-input",
        "focus stays in the field"
    );
    console.send_chat("Let me see").await;
    b.wait_chat_message("technician", "Let me see").await;

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

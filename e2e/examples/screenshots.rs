//! Walks the whole flow in two headless Chromium browsers and saves a screenshot of
//! every step of the customer page and the console, to look at what people see.
//!
//! Run: `cargo build -p connectit-broker && scripts/build-app &&
//! cargo run -p connectit-e2e --example screenshots -- [FOLDER]` (default
//! `e2e/artifacts/screens`).

use std::path::{Path, PathBuf};

use connectit_e2e::{proof, BrokerOptions, Browser, Survey, World};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let folder: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| connectit_e2e::broker::workspace_root().join("e2e/artifacts/screens"));
    std::fs::create_dir_all(&folder).expect("create the screenshot folder");
    let w = World::start(BrokerOptions::default()).await;
    let customer = w.customer();
    let shot = |b: &'static str, name: &'static str| {
        let folder = folder.clone();
        let browser: &Browser = if b == "customer" { &w.cust } else { &w.tech };
        async move { save(browser, &folder, &format!("{b}-{name}.png")).await }
    };

    w.tech.goto(&w.broker.console_url()).await;
    w.tech.wait_visible("#signin-form").await;
    shot("console", "1-sign-in").await;
    let console = w.signed_in_console().await;
    let session = console.create_session().await;
    shot("console", "2-new-session").await;

    customer.open().await;
    customer.type_pin(&session.pin[..3]).await;
    shot("customer", "1-pin").await;
    w.cust.type_into("#pin-input", &session.pin[3..]).await;
    customer.connect().await;
    customer.wait_terms().await;
    shot("customer", "2-terms").await;
    customer.accept_terms().await;
    shot("customer", "3-waiting").await;

    console.open_session(&session.id).await;
    console.pick_up().await;
    customer
        .wait_technician(&w.broker.technician().display_name)
        .await;
    customer
        .send_chat("Hello, my printer prints only blank pages.")
        .await;
    console
        .send_chat("Hello! Let us look at it together. Which printer is it?")
        .await;
    customer
        .send_chat("The one in the hall, an office laser printer.")
        .await;
    shot("customer", "4-chat").await;
    shot("console", "3-session").await;
    // The workspace at 1280×800: the customer's screen beside the chat.
    w.tech.set_window_size(1280, 800).await;
    let bars = w
        .tech
        .eval(
            "return [outerWidth - innerWidth, outerHeight - innerHeight];",
            vec![],
        )
        .await;
    let (dw, dh) = (bars[0].as_u64().unwrap_or(0), bars[1].as_u64().unwrap_or(0));
    w.tech
        .set_window_size(1280 + dw as u32, 800 + dh as u32)
        .await;
    let request = console
        .request_permissions(&["view_screen"], "To see the printer settings")
        .await;
    customer.wait_prompt_for(request).await;
    customer.grant_all().await;
    console.wait_screen_frames(5).await;
    w.tech
        .eval("window.scrollTo(0, 0); return true;", vec![])
        .await;
    shot("console", "3b-workspace").await;
    // The customer hides the middle of their screen; both read the verification code.
    w.cust.set_window_size(1000, 900).await;
    w.cust.click("#hide-area").await;
    w.tech.wait_visible("#screen-hidden").await;
    proof::wait_black(&w.tech, proof::inside(proof::ADDED)).await;
    proof::shown_code(&w.cust, proof::CUSTOMER_CODE).await;
    proof::shown_code(&w.tech, proof::TECHNICIAN_CODE).await;
    w.cust
        .eval("window.scrollTo(0, 0); return true;", vec![])
        .await;
    shot("customer", "4b-sharing").await;
    w.tech
        .eval(
            "document.querySelector('#screen-view').scrollIntoView(); return true;",
            vec![],
        )
        .await;
    shot("console", "3c-hidden-area").await;
    customer.stop_sharing().await;

    w.cust.click("#end-button").await;
    w.cust.wait_visible("#end-confirm").await;
    shot("customer", "5-end-confirm").await;
    w.cust.click("#end-yes").await;
    w.cust.wait_visible("#session-ended").await;
    shot("customer", "6-survey").await;
    customer
        .submit_survey(&Survey {
            rating: 5,
            resolved: Some(true),
            comment: "Thank you!".into(),
        })
        .await;
    shot("customer", "7-thank-you").await;
    console.back_to_list().await;
    shot("console", "4-list").await;
    // A team's link, as a help desk puts it on its web page.
    w.broker
        .admin(&["create-team", "--slug", "helpdesk", "--name", "Help desk"])
        .await;
    w.cust.goto(&format!("{}/t/helpdesk", w.broker.url())).await;
    w.cust.wait_visible("#team-form").await;
    w.cust.type_into("#team-name", "Sam Lee").await;
    w.cust
        .type_into(
            "#team-problem",
            "Outlook asks for my password again and again.",
        )
        .await;
    shot("customer", "8-team-link").await;
    // The admin page, with an account just made and the team's members.
    w.broker
        .admin(&[
            "add-to-team",
            "--slug",
            "helpdesk",
            "--username",
            &w.broker.technician().username,
        ])
        .await;
    w.tech.click("#show-admin").await;
    w.tech.wait_visible("#accounts").await;
    w.tech.type_into("#new-username", "ben").await;
    w.tech.type_into("#new-display-name", "Ben Brown").await;
    w.tech.click("#create-account").await;
    w.tech.wait_visible("#invitation-link").await;
    w.tech
        .wait_visible(".team-admin[data-slug=\"helpdesk\"]")
        .await;
    shot("console", "5-admin").await;
    // The history with its report (the session above, ended and rated).
    w.tech.click("#show-history").await;
    w.tech.wait_visible("#report").await;
    w.tech.wait_visible(".history-row").await;
    shot("console", "6-history").await;
    println!("screenshots in {}", folder.display());
    w.close().await;
}

async fn save(browser: &Browser, folder: &Path, name: &str) {
    let png = browser.client().screenshot().await.expect("a screenshot");
    std::fs::write(folder.join(name), png).expect("write the screenshot");
}

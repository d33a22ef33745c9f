//! The admin page through the real broker, the real build and headless Chromium: the
//! first account (an admin) creates an account whose owner sets their password from the
//! one-use link, makes a team and puts them in it, disables them (their console is
//! signed out at once) and enables them again, resets their password with a new link;
//! the owner changes their password on their account page.

use connectit_e2e::browser::Browser;
use connectit_e2e::{BrokerOptions, World};

/// Opens an invitation link in `browser` and chooses `password`; waits until signed in.
async fn welcome(browser: &Browser, link: &str, password: &str, name: &str) {
    browser.goto(link).await;
    browser.wait_visible("#welcome-form").await;
    let path = browser
        .eval("return location.pathname + location.hash;", vec![])
        .await;
    assert_eq!(
        path, "/console/welcome",
        "the token leaves the address bar at once"
    );
    browser.type_into("#welcome-password", password).await;
    browser.type_into("#welcome-again", password).await;
    browser.click("#welcome-submit").await;
    browser.wait_text_contains("#signed-in-as", name).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_creates_an_account_puts_it_in_a_team_disables_and_resets_it() {
    let w = World::start(BrokerOptions::default()).await;
    let tess = w.signed_in_console().await;
    let admin = tess.browser;
    admin.click("#show-admin").await;
    admin.wait_visible("#accounts").await;
    let path = admin.eval("return location.pathname;", vec![]).await;
    assert_eq!(path, "/console/admin");

    // A new account: its link is shown once.
    admin.type_into("#new-username", "ben").await;
    admin.type_into("#new-display-name", "Ben Brown").await;
    admin.click("#create-account").await;
    admin.wait_attr("#invitation", "data-username", "ben").await;
    let link = admin.value("#invitation-link").await;
    assert!(link.contains("/console/welcome#"), "{link}");
    admin
        .wait_visible(".account-row[data-username=\"ben\"]")
        .await;

    let ben = Browser::start().await;
    welcome(&ben, &link, "ben's first password", "Ben Brown").await;
    assert!(
        !ben.is_visible("#show-admin").await,
        "a technician has no admin page"
    );

    // A team, with Ben in it: his console serves its queue after a reload.
    admin.type_into("#new-team-slug", "helpdesk").await;
    admin.type_into("#new-team-name", "Help desk").await;
    admin.click("#create-team").await;
    let team = ".team-admin[data-slug=\"helpdesk\"]";
    admin.wait_visible(team).await;
    admin
        .select_value(&format!("{team} .add-member-who"), "ben")
        .await;
    admin.click(&format!("{team} .add-member")).await;
    admin
        .wait_visible(&format!("{team} li[data-username=\"ben\"]"))
        .await;
    ben.goto(&format!("{}/console", w.broker.url())).await;
    ben.wait_visible("#queue").await;

    // Disabled: his console is signed out at once; enabled again, he signs in.
    admin
        .click(".account-row[data-username=\"ben\"] .disable-account")
        .await;
    admin
        .wait_attr(
            ".account-row[data-username=\"ben\"]",
            "data-disabled",
            "true",
        )
        .await;
    ben.wait_visible("#signed-out").await;
    admin
        .click(".account-row[data-username=\"ben\"] .enable-account")
        .await;
    admin
        .wait_attr(
            ".account-row[data-username=\"ben\"]",
            "data-disabled",
            "false",
        )
        .await;

    // A reset: a new link; the old password no longer works.
    admin
        .click(".account-row[data-username=\"ben\"] .reset-account")
        .await;
    admin.wait_attr("#invitation", "data-username", "ben").await;
    // The panel showed ben's first link already: the new one replaces it.
    let again = admin
        .wait_for("a new link for ben", || {
            let (admin, link) = (&admin, &link);
            async move {
                let shown = admin.value("#invitation-link").await;
                if shown != *link && !shown.is_empty() {
                    Ok(shown)
                } else {
                    Err(format!("still {shown:?}"))
                }
            }
        })
        .await;
    welcome(&ben, &again, "ben's second password", "Ben Brown").await;

    // Ben changes his own password on his account page.
    ben.click("#show-account").await;
    ben.wait_visible("#password-form").await;
    ben.type_into("#current-password", "ben's second password")
        .await;
    ben.type_into("#new-password", "ben's third password").await;
    ben.click("#change-password").await;
    ben.wait_visible("#account-done").await;

    // The security log names each step.
    admin.click("#admin-audit").await;
    for said in [
        "Account created",
        "Password reset by an admin",
        "Team created",
    ] {
        admin.wait_text_contains("#audit-log", said).await;
    }
    ben.close().await;
    w.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_history_finds_an_ended_session_exports_it_and_reports_its_survey() {
    let w = World::start(BrokerOptions::default()).await;
    let console = connectit_e2e::console::Console::new(&w.tech, w.broker.url());
    let customer = w.customer();
    let session = connectit_e2e::world::start_session(&w.broker, &console, &customer).await;
    customer
        .send_chat("The scanner makes a grinding noise")
        .await;
    customer.end().await;
    customer
        .submit_survey(&connectit_e2e::customer::Survey {
            rating: 4,
            resolved: Some(true),
            comment: String::new(),
        })
        .await;

    let b = &w.tech;
    b.click("#back-to-list").await;
    b.click("#show-history").await;
    b.wait_visible("#history-results").await;
    let row = format!(".history-row[data-session-id=\"{}\"]", session.id);
    b.wait_visible(&row).await;
    b.wait_attr("#report", "data-sessions", "1").await;
    b.wait_attr("#report", "data-average", "4.00").await;
    // A search that matches, then one that does not.
    b.type_into("#history-text", "grinding").await;
    b.click("#history-search").await;
    b.wait_attr("#history-results", "data-count", "1").await;
    b.clear_field("#history-text").await;
    b.type_into("#history-text", "no such words").await;
    b.click("#history-search").await;
    b.wait_attr("#history-results", "data-count", "0").await;
    let export = b.attr("#history-export", "href").await.unwrap_or_default();
    assert!(
        export.contains("/api/history.csv?text=no%20such%20words"),
        "{export}"
    );
    // The record opens from the row.
    b.clear_field("#history-text").await;
    b.type_into("#history-text", "SCANNER").await;
    b.click("#history-search").await;
    b.wait_attr("#history-results", "data-count", "1").await;
    let record = b
        .attr(&format!("{row} .history-record"), "href")
        .await
        .unwrap_or_default();
    assert!(
        record.ends_with("/record?format=html&language=en"),
        "{record}"
    );
    w.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_admin_issues_a_token_the_ticketing_system_uses_and_watches_a_webhooks_deliveries() {
    let w = World::start(BrokerOptions {
        extra_config: vec![("webhook_retry_secs".into(), "[1]".into())],
        ..Default::default()
    })
    .await;
    let tess = w.signed_in_console().await;
    let admin = tess.browser;
    admin.click("#show-admin").await;
    admin.wait_visible("#integrations").await;

    // A token for Tess that creates sessions: its secret is shown once.
    admin
        .type_into("#new-token-name", "Service desk tickets")
        .await;
    admin.set_checked("#scope-sessions-create", true).await;
    admin.click("#issue-token").await;
    admin.wait_visible("#issued-token").await;
    let secret = admin.value("#issued-token").await;
    assert!(secret.starts_with("cit_"), "{secret}");
    admin
        .wait_visible(".token-row[data-revoked=\"false\"]")
        .await;

    // A receiver nobody answers for: its delivery is tried, then given up.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    admin
        .type_into("#new-webhook-url", &format!("http://{closed}/hook"))
        .await;
    admin.click("#add-webhook").await;
    admin.wait_visible("#webhook-secret").await;
    admin.wait_visible(".webhook").await;

    // The ticketing system creates a session with the token (here from a script).
    let made = admin
        .eval_async(
            "const [token, done] = arguments;
             fetch('/api/sessions', { method: 'POST', credentials: 'omit',
                 headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token },
                 body: JSON.stringify({ ticket: 'INC-9', customer_name: 'Dana' }) })
               .then(r => r.json().then(body => done([r.status, body])));",
            vec![serde_json::json!(secret)],
        )
        .await;
    assert_eq!(made[0], 200, "{made:?}");

    // Its delivery shows on the admin page, failed after its two attempts.
    admin
        .wait_for("the delivery to be given up", || async {
            admin
                .goto(&format!("{}/console/admin", w.broker.url()))
                .await;
            admin.wait_visible("#integrations").await;
            if admin
                .is_visible(".delivery[data-event=\"session.created\"][data-status=\"failed\"]")
                .await
            {
                Ok(())
            } else {
                Err("not yet".to_string())
            }
        })
        .await;

    // Revoked, the token no longer works.
    admin.click(".token-row .revoke-token").await;
    admin
        .wait_visible(".token-row[data-revoked=\"true\"]")
        .await;
    let refused = admin
        .eval_async(
            "const [token, done] = arguments;
             fetch('/api/sessions', { method: 'POST', credentials: 'omit',
                 headers: { 'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token },
                 body: '{}' }).then(r => done(r.status));",
            vec![serde_json::json!(secret)],
        )
        .await;
    assert_eq!(refused, 401);
    w.close().await;
}

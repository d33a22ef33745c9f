//! Single sign-on through a real OpenID provider (the certified `oidc-provider` package,
//! run by Node on loopback), the real broker and headless Chromium: a technician signs
//! in at the provider and lands in the console; the provider's groups make them a team
//! member and an admin, or not; the account is bound to the provider's subject; someone
//! who cancels at the provider reads why in the console; with passwords turned off, the
//! password form is gone and the API refuses a password.

use connectit_e2e::browser::Browser;
use connectit_e2e::oidc::Provider;
use connectit_e2e::{Broker, BrokerOptions};
use connectit_protocol::ErrorCode;
use serde_json::json;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A provider that knows Nora (help desk, admin) and Omar (help desk), and a broker
/// that uses it, with passwords on or off.
async fn start(passwords: bool) -> (Provider, Broker) {
    let port = free_port();
    let provider = Provider::start(
        &format!("http://127.0.0.1:{port}/api/auth/oidc/callback"),
        json!({
            "nora": {
                "preferred_username": "nora", "name": "Nora North",
                "email": "nora@example.org", "groups": ["helpdesk", "helpdesk-admins"]
            },
            "omar": { "preferred_username": "omar", "name": "Omar Ortiz", "groups": ["helpdesk"] },
        }),
    );
    let mut extra_config = provider.broker_config();
    if !passwords {
        extra_config.push(("local_passwords".into(), "false".into()));
    }
    let broker = Broker::start(BrokerOptions {
        listen: Some(format!("127.0.0.1:{port}")),
        extra_config,
        ..Default::default()
    })
    .await;
    broker
        .admin(&["create-team", "--slug", "helpdesk", "--name", "Help desk"])
        .await;
    (provider, broker)
}

/// Signs in at the provider's own pages as `login`, consenting when asked.
async fn at_the_provider(browser: &Browser, login: &str) {
    browser.wait_visible("input[name=login]").await;
    let here = browser.eval("return location.host;", vec![]).await;
    assert!(
        here.as_str().is_some_and(|h| !h.is_empty()),
        "on the provider's page"
    );
    browser.type_into("input[name=login]", login).await;
    browser
        .type_into("input[name=password]", "not checked")
        .await;
    browser.click("button[type=submit]").await;
    // The consent page: the same kind of button, on a form with prompt=consent.
    browser
        .wait_attr("form input[name=prompt]", "value", "consent")
        .await;
    browser.click("button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_technician_signs_in_at_the_provider_and_its_groups_give_teams_and_the_admin_role() {
    let (_provider, broker) = start(true).await;
    let nora = Browser::start().await;
    nora.goto(&broker.console_url()).await;
    nora.wait_text_contains("#sso-sign-in", "Sign in with Example University")
        .await;
    assert!(
        nora.is_visible("#signin-password").await,
        "passwords stay available"
    );
    nora.click("#sso-sign-in").await;
    at_the_provider(&nora, "nora").await;
    nora.wait_text_contains("#signed-in-as", "Nora North").await;
    let path = nora
        .eval("return location.pathname + location.hash;", vec![])
        .await;
    assert_eq!(
        path, "/console/",
        "back at the console, nothing in the address"
    );
    // The admin group: an admin. The helpdesk group: the team's queue.
    nora.wait_visible("#show-admin").await;
    nora.wait_visible("#queue").await;

    // Omar: in the team, not an admin.
    let omar = Browser::start().await;
    omar.goto(&broker.console_url()).await;
    omar.wait_visible("#sso-sign-in").await;
    omar.click("#sso-sign-in").await;
    at_the_provider(&omar, "omar").await;
    omar.wait_text_contains("#signed-in-as", "Omar Ortiz").await;
    omar.wait_visible("#queue").await;
    assert!(
        !omar.is_visible("#show-admin").await,
        "not in the admin group"
    );

    // Both accounts exist, bound to the provider, with the team from the groups.
    let db = connectit_e2e::db::open(&broker.db_path());
    let bound: Vec<(String, String)> = db
        .prepare("SELECT username, sso_subject FROM technicians WHERE sso_subject IS NOT NULL ORDER BY username")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(bound.len(), 2, "{bound:?}");
    assert!(bound[0].1.ends_with(" nora"), "{bound:?}");
    let roles: Vec<(String, String)> = db
        .prepare("SELECT username, role FROM technicians WHERE username IN ('nora', 'omar') ORDER BY username")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        roles,
        vec![
            ("nora".to_string(), "admin".to_string()),
            ("omar".to_string(), "technician".to_string())
        ]
    );
    // The security log says how they signed in (its lines are stored before the
    // redirect back to the console is sent).
    let said: Vec<String> = db
        .prepare("SELECT detail FROM audit WHERE kind = 'sign_in_succeeded' ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let by_sign_on = said
        .iter()
        .filter(|d| d.starts_with("single sign-on"))
        .count();
    assert_eq!(by_sign_on, 2, "{said:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_at_the_provider_is_said_and_passwords_can_be_turned_off() {
    let (_provider, broker) = start(false).await;
    let browser = Browser::start().await;
    browser.goto(&broker.console_url()).await;
    browser.wait_visible("#sso-sign-in").await;
    assert!(
        !browser.is_visible("#signin-password").await,
        "no password form when passwords are off"
    );
    browser.click("#sso-sign-in").await;
    browser.wait_visible("input[name=login]").await;
    browser.click(".login-help a").await;
    browser
        .wait_text_contains("#signin-error", "did not succeed")
        .await;
    let hash = browser.eval("return location.hash;", vec![]).await;
    assert_eq!(hash, "", "the error leaves the address bar");

    // A password is refused by the broker itself, not only hidden.
    let account = broker.technician();
    let answer = browser
        .eval_async(
            "const [username, password, done] = arguments;
             fetch('/api/auth/sign-in', { method: 'POST',
                 headers: { 'Content-Type': 'application/json' },
                 body: JSON.stringify({ username, password }) })
               .then(r => r.json().then(body => done([r.status, body])));",
            vec![json!(account.username), json!(account.password)],
        )
        .await;
    assert_eq!(answer[0], 403, "{answer:?}");
    let error: ErrorCode = serde_json::from_value(answer[1].clone()).expect("a typed error");
    assert_eq!(error, ErrorCode::PasswordsOff);
}

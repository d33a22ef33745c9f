//! Single sign-on's refusals through the real broker, with no provider needed to refuse:
//! a callback this browser did not start (no cookie, a forged or altered one) and a
//! provider that cannot be reached each send the browser to the console with a typed
//! error and leave a line in the security log; callbacks from one address are
//! throttled; with sign-on configured the console is told, and with passwords off a
//! password is refused. The whole sign-in against a real provider is in
//! `e2e/tests/sign_on.rs`; the ID token's checks are unit tests of `oidc`.

mod support;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use connectit_protocol::api::PublicConfig;
use connectit_protocol::ErrorCode;
use serde_json::json;
use support::{Broker, Reply};

/// A broker whose provider is a loopback port nothing listens on.
async fn broker(passwords: bool) -> Broker {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    Broker::start(move |c| {
        c.oidc_issuer = format!("http://127.0.0.1:{closed}");
        c.oidc_client_id = "connectit".into();
        c.oidc_client_secret = "secret".into();
        c.oidc_label = "Example University".into();
        c.local_passwords = passwords;
    })
    .await
}

/// The typed error a redirect to the console carries.
fn console_error(reply: &Reply) -> ErrorCode {
    assert_eq!(reply.status, 303, "{}", reply.text());
    let location = reply.header("location").expect("a Location");
    let encoded = location
        .strip_prefix("/console/#sign-in-error=")
        .unwrap_or_else(|| panic!("to the console with an error: {location}"));
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(encoded).unwrap()).unwrap()
}

#[tokio::test]
async fn the_console_is_told_how_to_sign_in() {
    let b = broker(true).await;
    let config: PublicConfig = b.http("GET", "/api/config", None, None).await.json();
    assert_eq!(
        config.sign_in.single_sign_on.as_deref(),
        Some("Example University")
    );
    assert!(config.sign_in.passwords);
    let plain = Broker::start(|_| {}).await;
    let config: PublicConfig = plain.http("GET", "/api/config", None, None).await.json();
    assert_eq!(config.sign_in.single_sign_on, None);
    let r = plain.http("GET", "/api/auth/oidc/start", None, None).await;
    assert_eq!(r.status, 404, "no sign-on configured");
}

#[tokio::test]
async fn a_callback_this_browser_did_not_start_is_refused_and_logged() {
    let b = broker(true).await;
    let plain = "/api/auth/oidc/callback?code=stolen-code&state=guessed";
    let r = b.http("GET", plain, None, None).await;
    assert_eq!(console_error(&r), ErrorCode::SingleSignOnFailed);
    assert!(
        r.header("set-cookie")
            .is_some_and(|c| c.starts_with("connectit_sso=;") && c.contains("Max-Age=0")),
        "the flow's cookie is cleared"
    );
    // A made-up cookie, and a genuine-looking one with a flipped byte.
    let forged = format!("connectit_sso={}", URL_SAFE_NO_PAD.encode([0u8; 56]));
    let r = b.http("GET", plain, None, Some(&forged)).await;
    assert_eq!(console_error(&r), ErrorCode::SingleSignOnFailed);
    assert!(r.header("set-cookie").is_some());
    b.flush_audit().await;
    let failed = b.audit("sign_in_failed");
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(
        failed
            .iter()
            .all(|(address, _, _, detail)| address.is_some()
                && detail.contains("single sign-on: no sign-in started in this browser")),
        "{failed:?}"
    );
}

#[tokio::test]
async fn an_unreachable_provider_is_said_not_hidden() {
    let b = broker(true).await;
    let r = b.http("GET", "/api/auth/oidc/start", None, None).await;
    assert_eq!(console_error(&r), ErrorCode::SingleSignOnFailed);
    b.flush_audit().await;
    let failed = b.audit("sign_in_failed");
    assert_eq!(failed.len(), 1);
    assert!(failed[0].3.contains("discovery"), "{failed:?}");
    // The broker itself is fine.
    assert_eq!(b.http("GET", "/readyz", None, None).await.status, 200);
}

#[tokio::test]
async fn callbacks_from_one_address_are_throttled() {
    let b = broker(true).await;
    let path = "/api/auth/oidc/callback?code=c&state=s";
    let mut throttled = None;
    for _ in 0..50 {
        let code = console_error(&b.http("GET", path, None, None).await);
        if let ErrorCode::TooManyAttempts { retry_after_secs } = code {
            throttled = Some(retry_after_secs);
            break;
        }
    }
    assert!(throttled.is_some_and(|s| s > 0), "throttled within 50");
    // Password sign-in has its own allowance: a throttled sign-on does not lock it.
    let r = b
        .http(
            "POST",
            "/api/auth/sign-in",
            Some(json!({"username": "alice", "password": support::PASSWORD})),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn with_passwords_off_every_password_route_refuses() {
    let b = broker(false).await;
    let config: PublicConfig = b.http("GET", "/api/config", None, None).await.json();
    assert!(!config.sign_in.passwords);
    for (path, body) in [
        (
            "/api/auth/sign-in",
            json!({"username": "alice", "password": support::PASSWORD}),
        ),
        (
            "/api/setup",
            json!({"code": "x", "username": "a", "display_name": "A", "password": "12345678"}),
        ),
        (
            "/api/auth/accept-invitation",
            json!({"token": "t", "password": "12345678"}),
        ),
    ] {
        let r = b.http("POST", path, Some(body), None).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text());
        let code: ErrorCode = r.json();
        assert_eq!(code, ErrorCode::PasswordsOff, "{path}");
    }
}

#[test]
fn passwords_off_without_sign_on_is_a_configuration_error() {
    let refused = connectit_broker::config::Config::load(
        None,
        [("CONNECTIT_LOCAL_PASSWORDS".to_string(), "false".to_string())],
        &[],
    )
    .expect_err("nobody could sign in");
    assert!(refused.0.contains("local_passwords"), "{refused}");
    let insecure = connectit_broker::config::Config::load(
        None,
        [
            (
                "CONNECTIT_OIDC_ISSUER".to_string(),
                "http://id.example.org".to_string(),
            ),
            ("CONNECTIT_OIDC_CLIENT_ID".into(), "c".into()),
            ("CONNECTIT_OIDC_CLIENT_SECRET".into(), "s".into()),
        ],
        &[],
    )
    .expect_err("plain HTTP to a provider elsewhere");
    assert!(insecure.0.contains("https"), "{insecure}");
}

//! The ticketing system's API and webhooks through the real broker: an admin issues a
//! scoped token for one account (its secret shown once, only its hash kept); with it a
//! script creates a session with its ticket and customer and reads its state and
//! record, and is refused what its scopes do not allow, once revoked, and for a
//! disabled account. Webhooks deliver session created, picked up and ended (with the
//! record's seal) to a real receiver on loopback, signed with HMAC-SHA256, retried
//! while it fails with the same body and delivery id, and given up (in the security
//! log) when nothing answers. The deliveries are listed for the admin page.

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use connectit_protocol::api::{
    ApiToken, CreatedSession, CreatedWebhook, DeliveryStatus, IssuedApiToken, SessionInfo,
    SessionRecord, WebhookDelivery, WebhookPayload,
};
use connectit_protocol::{Action, ErrorCode, Phase};
use serde_json::json;
use support::{http_with_headers, Broker, Reply};

fn error(r: &Reply) -> ErrorCode {
    serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("an error: {}", r.text()))
}

/// A webhook receiver on loopback that answers 500 to its first `failures` requests.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    failures: Arc<Mutex<u32>>,
}

impl Receiver {
    async fn start(failures: u32) -> (Receiver, String) {
        let receiver = Receiver::default();
        *receiver.failures.lock().unwrap() = failures;
        let kept = receiver.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let kept = kept.clone();
                async move {
                    kept.got.lock().unwrap().push((headers, body));
                    let mut failures = kept.failures.lock().unwrap();
                    if *failures > 0 {
                        *failures -= 1;
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn requests(&self) -> Vec<(HeaderMap, Bytes)> {
        self.got.lock().unwrap().clone()
    }
}

async fn with_token(
    b: &Broker,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    token: &str,
) -> Reply {
    http_with_headers(
        b.addr,
        method,
        path,
        body.map(|b| b.to_string().into_bytes()),
        None,
        &[("authorization", &format!("Bearer {token}"))],
    )
    .await
}

async fn issue(b: &Broker, admin: &str, account: &str, scopes: &[&str]) -> IssuedApiToken {
    let r = b
        .http(
            "POST",
            "/api/admin/tokens",
            Some(json!({"name": "Tickets", "account": account, "scopes": scopes})),
            Some(admin),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// Waits (bounded) until `check` holds on the webhook's deliveries.
async fn wait_deliveries(
    b: &Broker,
    admin: &str,
    webhook: i64,
    what: &str,
    check: impl Fn(&[WebhookDelivery]) -> bool,
) -> Vec<WebhookDelivery> {
    for _ in 0..200 {
        let list: Vec<WebhookDelivery> = b
            .http(
                "GET",
                &format!("/api/admin/webhooks/{webhook}/deliveries"),
                None,
                Some(admin),
            )
            .await
            .json();
        if check(&list) {
            return list;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("deliveries never showed {what}");
}

#[tokio::test]
async fn a_scoped_token_creates_and_reads_a_session_and_nothing_more() {
    let b = Broker::start(|_| {}).await;
    let alice = b.sign_in("alice").await; // the first account: an admin
    let bob = b.sign_in("bob").await;

    // Only an admin issues tokens.
    let r = b
        .http(
            "POST",
            "/api/admin/tokens",
            Some(json!({"name": "x", "account": "bob", "scopes": ["sessions:create"]})),
            Some(&bob),
        )
        .await;
    assert_eq!(error(&r), ErrorCode::AdminOnly);
    let create = issue(&b, &alice, "bob", &["sessions:create"]).await;
    assert!(create.secret.starts_with("cit_"));
    assert_eq!(create.token.account, "bob");
    let stored: Vec<u8> = b
        .sqlite()
        .query_row(
            "SELECT token_hash FROM api_tokens WHERE id = ?1",
            [create.token.id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!stored
        .windows(8)
        .any(|w| create.secret.as_bytes().windows(8).any(|s| s == w)));
    let listed: Vec<ApiToken> = b
        .http("GET", "/api/admin/tokens", None, Some(&alice))
        .await
        .json();
    assert!(
        !format!("{listed:?}").contains(&create.secret),
        "never listed"
    );

    // A session with its ticket, as the ticketing system makes it.
    let r = with_token(
        &b,
        "POST",
        "/api/sessions",
        Some(json!({"customer_name": "Carol Customer", "ticket": "INC-4711", "language": "fr"})),
        &create.secret,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let session: CreatedSession = r.json();
    assert!(session.email_subject.starts_with("Votre session"));
    // Reading needs sessions:read.
    let path = format!("/api/sessions/{}", session.id);
    assert_eq!(
        error(&with_token(&b, "GET", &path, None, &create.secret).await),
        ErrorCode::TokenScope
    );
    let read = issue(&b, &alice, "bob", &["sessions:read"]).await;
    let info: SessionInfo = with_token(&b, "GET", &path, None, &read.secret)
        .await
        .json();
    assert_eq!(info.technician.as_deref(), Some("bob"));
    assert_eq!(info.details.ticket, "INC-4711");
    assert_eq!(info.details.customer_name, "Carol Customer");
    assert_eq!(info.phase, Phase::Created);
    let record = with_token(
        &b,
        "GET",
        &format!("{path}/record?format=json"),
        None,
        &read.secret,
    )
    .await;
    assert_eq!(record.status, 200, "{}", record.text());
    let _: SessionRecord = record.json();
    // Bad details are refused before anything is made.
    let r = with_token(
        &b,
        "POST",
        "/api/sessions",
        Some(json!({"ticket": "a\u{7}b"})),
        &create.secret,
    )
    .await;
    assert!(matches!(error(&r), ErrorCode::InvalidInput { .. }));

    // Wrong, revoked, or of a disabled account: unauthorized, and logged.
    assert_eq!(
        error(&with_token(&b, "GET", &path, None, "cit_made_up").await),
        ErrorCode::Unauthorized
    );
    let r = b
        .http(
            "DELETE",
            &format!("/api/admin/tokens/{}", read.token.id),
            None,
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        error(&with_token(&b, "GET", &path, None, &read.secret).await),
        ErrorCode::Unauthorized
    );
    let r = b
        .http(
            "PATCH",
            "/api/admin/accounts/bob",
            Some(json!({"disabled": true})),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = with_token(&b, "POST", "/api/sessions", None, &create.secret).await;
    assert_eq!(error(&r), ErrorCode::Unauthorized);
    b.flush_audit().await;
    let said: Vec<String> = b.audit("api_token").into_iter().map(|l| l.3).collect();
    assert!(said.iter().any(|d| d.contains("issued token")), "{said:?}");
    assert!(said.iter().any(|d| d.contains("revoked token")), "{said:?}");
    assert!(
        said.iter().any(|d| d.contains("does not allow")),
        "{said:?}"
    );
    assert!(
        said.iter().any(|d| d.contains("unknown or revoked")),
        "{said:?}"
    );
}

#[tokio::test]
async fn webhooks_are_signed_retried_with_the_same_body_and_carry_the_records_seal() {
    let b = Broker::start(|c| c.webhook_retry_secs = vec![1, 1, 1]).await;
    let alice = b.sign_in("alice").await;
    let (receiver, url) = Receiver::start(2).await;
    let r = b
        .http(
            "POST",
            "/api/admin/webhooks",
            Some(json!({"url": url, "events": ["session.created", "session.picked_up", "session.ended"]})),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let hook: CreatedWebhook = r.json();
    // Only https://, or http:// to loopback.
    let r = b
        .http(
            "POST",
            "/api/admin/webhooks",
            Some(json!({"url": "http://example.org/hook", "events": ["session.ended"]})),
            Some(&alice),
        )
        .await;
    assert!(matches!(error(&r), ErrorCode::InvalidInput { .. }));

    let mut active = b.active_session_with_ids().await;
    let mut seen = Vec::new();
    active.tech.act_ok(Action::End, &mut seen).await;
    let list = wait_deliveries(&b, &alice, hook.webhook.id, "three delivered", |l| {
        l.len() == 3 && l.iter().all(|d| d.status == DeliveryStatus::Delivered)
    })
    .await;
    // Two attempts were refused, then retried until taken.
    let attempts: u32 = list.iter().map(|d| d.attempts).sum();
    assert_eq!(attempts, 5, "{list:?}");
    assert!(list.iter().all(|d| d.last_status == Some(204)), "{list:?}");

    let requests = receiver.requests();
    assert_eq!(requests.len(), 5, "2 refused + 3 accepted");
    let mut payloads: Vec<(WebhookPayload, Bytes)> = Vec::new();
    for (headers, body) in &requests {
        let signature = headers["connectit-signature"].to_str().unwrap();
        let unix: u64 = signature
            .strip_prefix("t=")
            .and_then(|s| s.split(',').next())
            .and_then(|t| t.parse().ok())
            .unwrap();
        assert_eq!(
            signature,
            connectit_broker::integrations::signature(&hook.secret, unix, body),
            "signed with the webhook's secret"
        );
        let payload: WebhookPayload = serde_json::from_slice(body).unwrap();
        assert_eq!(
            headers["connectit-delivery"].to_str().unwrap(),
            payload.delivery.to_string()
        );
        assert_eq!(
            headers["connectit-event"].to_str().unwrap(),
            payload.event.name()
        );
        payloads.push((payload, body.clone()));
    }
    // Every attempt of one delivery sends the very same body.
    for (payload, body) in &payloads {
        for (other, other_body) in &payloads {
            if other.delivery == payload.delivery {
                assert_eq!(body, other_body, "delivery {}", payload.delivery);
            }
        }
    }
    let mut events: Vec<&str> = list.iter().map(|d| d.event.name()).collect();
    events.sort_unstable();
    assert_eq!(
        events,
        ["session.created", "session.ended", "session.picked_up"]
    );
    let (ended, _) = payloads
        .iter()
        .find(|(p, _)| p.event.name() == "session.ended")
        .unwrap();
    assert_eq!(ended.session.id, active.created.id);
    assert_eq!(ended.session.phase, Phase::Ended);
    let seal = ended.record.as_ref().expect("the record's seal");
    let record: SessionRecord = b
        .http(
            "GET",
            &format!("/api/sessions/{}/record?format=json", active.created.id),
            None,
            Some(&active.cookie),
        )
        .await
        .json();
    assert_eq!(seal.final_hash, record.final_hash);
    assert_eq!(seal.entries, record.entries.len() as u64);
    assert!(seal.signature.is_some());
}

#[tokio::test]
async fn a_receiver_that_never_answers_is_given_up_and_said() {
    let b = Broker::start(|c| c.webhook_retry_secs = vec![1]).await;
    let alice = b.sign_in("alice").await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let hook: CreatedWebhook = b
        .http(
            "POST",
            "/api/admin/webhooks",
            Some(json!({"url": format!("http://{closed}/hook"), "events": ["session.created"]})),
            Some(&alice),
        )
        .await
        .json();
    b.create_session(&alice).await;
    let list = wait_deliveries(&b, &alice, hook.webhook.id, "one failed", |l| {
        l.len() == 1 && l[0].status == DeliveryStatus::Failed
    })
    .await;
    assert_eq!(list[0].attempts, 2);
    assert!(!list[0].last_error.is_empty());
    b.flush_audit().await;
    let failed = b.audit("webhook_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].3.contains("session.created"), "{failed:?}");
    // Removed: nothing more is queued for it.
    let r = b
        .http(
            "DELETE",
            &format!("/api/admin/webhooks/{}", hook.webhook.id),
            None,
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 204);
    b.create_session(&alice).await;
    let count: i64 = b
        .sqlite()
        .query_row("SELECT count(*) FROM webhook_deliveries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 1);
}

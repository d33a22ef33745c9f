//! E-mail to a customer over real SMTP: aiosmtpd on loopback, requiring STARTTLS (a
//! certificate the broker trusts through `outbound_ca_file`) and a password. The broker
//! sends the link and PIN from the organisation's address in the customer's language,
//! worded by the shared catalogs; the delivered message is read back as a mail reader
//! parses it. Every refusal is typed and sends nothing: a wrong PIN or a link to another
//! address, a bad address, someone else's session, no SMTP configured, the server
//! refusing the broker's password, and more than the hourly allowance.

mod support;

use connectit_e2e::smtp::{Smtp, PASSWORD, USER};
use connectit_protocol::api::{CreatedSession, PublicConfig};
use connectit_protocol::error::Field;
use connectit_protocol::ErrorCode;
use serde_json::{json, Value};
use support::Broker;

async fn broker(smtp: &Smtp, password: &str) -> Broker {
    let (port, cert, password) = (smtp.port, smtp.cert.clone(), password.to_string());
    Broker::start(move |c| {
        c.smtp_host = "localhost".into();
        c.smtp_port = port;
        c.smtp_username = USER.into();
        c.smtp_password = password;
        c.smtp_from = "Example Help Desk <help@example.org>".into();
        c.outbound_ca_file = cert.to_string_lossy().into_owned();
        c.organisation = "Example University".into();
    })
    .await
}

async fn create(b: &Broker, cookie: &str, language: &str) -> CreatedSession {
    let r = b
        .http(
            "POST",
            "/api/sessions",
            Some(json!({ "language": language })),
            Some(cookie),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

async fn send(b: &Broker, cookie: &str, session: &CreatedSession, body: Value) -> support::Reply {
    b.http(
        "POST",
        &format!("/api/sessions/{}/email", session.id.0),
        Some(body),
        Some(cookie),
    )
    .await
}

fn error(r: &support::Reply) -> ErrorCode {
    serde_json::from_slice(&r.body).unwrap_or_else(|_| panic!("an error: {}", r.text()))
}

#[tokio::test]
async fn the_customer_receives_the_link_and_pin_in_their_language_from_the_organisation() {
    let smtp = Smtp::start();
    let b = broker(&smtp, PASSWORD).await;
    let config: PublicConfig = b.http("GET", "/api/config", None, None).await.json();
    assert!(config.sends_email);
    let cookie = b.sign_in("alice").await;
    let session = create(&b, &cookie, "fr").await;
    // The copy offered in the console is worded by the same catalog.
    assert!(
        session.email_subject.starts_with("Votre session"),
        "{}",
        session.email_subject
    );

    let r = send(
        &b,
        &cookie,
        &session,
        json!({ "to": "client@example.net", "language": "fr-CA", "pin": session.pin, "link": session.link }),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let delivered = smtp.delivered();
    assert_eq!(delivered.len(), 1);
    let m = &delivered[0];
    assert_eq!(m["mail_from"], "help@example.org");
    assert_eq!(m["rcpt_tos"], json!(["client@example.net"]));
    assert_eq!(m["from"], "Example Help Desk <help@example.org>");
    assert_eq!(m["to"], "client@example.net");
    assert_eq!(m["content_type"], "text/plain");
    assert_eq!(m["subject"], session.email_subject);
    let body = m["body"].as_str().unwrap();
    assert_eq!(
        body.replace("\r\n", "\n").trim_end(),
        session.email_body.trim_end(),
        "the console's copy, word for word"
    );
    assert!(
        body.contains(&session.link) && body.contains(&session.pin),
        "{body}"
    );
    assert!(
        body.contains("Alice Smith, de Example University"),
        "{body}"
    );

    // English, for another customer.
    let r = send(
        &b,
        &cookie,
        &session,
        json!({ "to": "Customer <customer@example.net>", "language": "en", "pin": session.pin, "link": session.link }),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let delivered = smtp.delivered();
    assert_eq!(
        delivered[1]["subject"],
        "Your remote support session with Example University"
    );
    b.flush_audit().await;
    let sent = b.audit("email_sent");
    assert_eq!(sent.len(), 2);
    assert!(
        sent[0].3.contains("client@example.net") && sent[0].3.contains("(fr)"),
        "{sent:?}"
    );
}

#[tokio::test]
async fn nothing_is_sent_for_a_wrong_pin_another_link_a_bad_address_or_someone_elses_session() {
    let smtp = Smtp::start();
    let b = broker(&smtp, PASSWORD).await;
    let alice = b.sign_in("alice").await;
    let bob = b.sign_in("bob").await;
    let session = create(&b, &alice, "en").await;
    let token = session.link.split("#join=").nth(1).unwrap().to_string();
    let wrong_pin = if session.pin == "000000" {
        "000001"
    } else {
        "000000"
    };
    let cases = [
        (
            &alice,
            json!({ "to": "c@example.net", "language": "en", "pin": wrong_pin, "link": session.link }),
            ErrorCode::InvalidOrExpiredPin,
        ),
        (
            &alice,
            json!({ "to": "c@example.net", "language": "en", "pin": session.pin,
                    "link": format!("https://evil.example/#join={token}") }),
            ErrorCode::InvalidInput {
                field: Field::Token,
            },
        ),
        (
            &alice,
            json!({ "to": "not an address", "language": "en", "pin": session.pin, "link": session.link }),
            ErrorCode::InvalidInput {
                field: Field::Email,
            },
        ),
        (
            &bob,
            json!({ "to": "c@example.net", "language": "en", "pin": session.pin, "link": session.link }),
            ErrorCode::Forbidden,
        ),
    ];
    for (cookie, body, expected) in cases {
        let r = send(&b, cookie, &session, body.clone()).await;
        assert_eq!(error(&r), expected, "{body}");
    }
    let r = send(&b, &alice, &session, json!({ "to": 1 })).await;
    assert_eq!(error(&r), ErrorCode::MalformedMessage);
    assert!(smtp.delivered().is_empty(), "nothing sent");

    // Within the hour's allowance, and not beyond.
    let good = json!({ "to": "c@example.net", "language": "en", "pin": session.pin, "link": session.link });
    for _ in 0..connectit_broker::api::EMAILS_PER_HOUR {
        let r = send(&b, &alice, &session, good.clone()).await;
        assert_eq!(r.status, 204, "{}", r.text());
    }
    let r = send(&b, &alice, &session, good).await;
    assert!(
        matches!(error(&r), ErrorCode::RateLimited { retry_after_secs } if retry_after_secs > 0)
    );
    assert_eq!(
        smtp.delivered().len(),
        connectit_broker::api::EMAILS_PER_HOUR as usize
    );
}

#[tokio::test]
async fn a_server_that_refuses_and_no_server_at_all_are_typed_errors() {
    let smtp = Smtp::start();
    let b = broker(&smtp, "the wrong password").await;
    let cookie = b.sign_in("alice").await;
    let session = create(&b, &cookie, "en").await;
    let body = json!({ "to": "c@example.net", "language": "en", "pin": session.pin, "link": session.link });
    let r = send(&b, &cookie, &session, body.clone()).await;
    assert_eq!(r.status, 502);
    assert_eq!(error(&r), ErrorCode::EmailFailed);
    assert!(smtp.delivered().is_empty());
    b.flush_audit().await;
    let said = b.audit("email_sent");
    assert!(
        said.len() == 1 && said[0].3.contains("not sent"),
        "{said:?}"
    );

    let plain = Broker::start(|_| {}).await;
    let cookie = plain.sign_in("alice").await;
    let config: PublicConfig = plain.http("GET", "/api/config", None, None).await.json();
    assert!(!config.sends_email);
    let session = create(&plain, &cookie, "en").await;
    assert!(session.email_body.contains(&session.pin));
    let r = send(&plain, &cookie, &session, body).await;
    assert_eq!(error(&r), ErrorCode::EmailUnavailable);
}

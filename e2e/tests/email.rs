//! The e-mail from the console through a real SMTP server (aiosmtpd on loopback, with
//! STARTTLS and a password): the technician sends a new session's link and PIN to the
//! customer in French from the panel; the delivered message, read back as a mail reader
//! decodes it, is in French, comes from the organisation's address, and its link takes
//! the customer's browser straight to the terms of that session.

use connectit_e2e::broker::quoted;
use connectit_e2e::smtp::{Smtp, PASSWORD, USER};
use connectit_e2e::{BrokerOptions, World};

#[tokio::test(flavor = "multi_thread")]
async fn the_technician_emails_the_link_in_french_and_it_brings_the_customer_in() {
    let smtp = Smtp::start();
    let w = World::start(BrokerOptions {
        extra_config: vec![
            ("smtp_host".into(), quoted("localhost")),
            ("smtp_port".into(), smtp.port.to_string()),
            ("smtp_username".into(), quoted(USER)),
            ("smtp_password".into(), quoted(PASSWORD)),
            (
                "smtp_from".into(),
                quoted("Example Help Desk <help@example.org>"),
            ),
            (
                "outbound_ca_file".into(),
                quoted(&smtp.cert.to_string_lossy()),
            ),
        ],
        ..Default::default()
    })
    .await;
    let console = w.signed_in_console().await;
    let session = console.create_session().await;
    let b = console.browser;
    b.wait_visible("#send-email-form").await;
    b.type_into("#email-to", "client@example.net").await;
    b.select_value("#email-language", "fr").await;
    b.click("#send-email").await;
    b.wait_text_contains("#email-sent", "client@example.net")
        .await;

    let delivered = smtp.delivered();
    assert_eq!(delivered.len(), 1);
    let m = &delivered[0];
    assert_eq!(m["from"], "Example Help Desk <help@example.org>");
    assert_eq!(m["to"], "client@example.net");
    let subject = m["subject"].as_str().unwrap();
    assert!(subject.starts_with("Votre session"), "{subject}");
    let body = m["body"].as_str().unwrap();
    assert!(body.contains(&session.pin), "{body}");
    let link = body
        .lines()
        .find_map(|l| l.strip_prefix("1. Ouvrez "))
        .unwrap_or_else(|| panic!("a link in {body}"))
        .trim();
    assert_eq!(link, session.link);
    assert!(
        link.starts_with(w.broker.url()),
        "the organisation's own address"
    );

    // The link alone brings the customer to that session's terms.
    w.cust.goto(link).await;
    w.customer().wait_terms().await;
}

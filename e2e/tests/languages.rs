//! Languages: the customer switches `#language` and the page re-renders from the French
//! catalog, with the organisation's overrides; a language added only by configuration
//! shows its configured text and English elsewhere; the choice survives a reload; a
//! French browser starts in French; the console and the log lines already shown switch
//! too, each reader in their own language. Run with
//! `cargo test -p connectit-e2e -- --test-threads=2` after `cargo build -p
//! connectit-broker` and `scripts/build-app`.

use connectit_e2e::{Broker, BrokerOptions, Browser, Customer, StartOptions, World};
use connectit_protocol::EntryType;
use serde_json::json;

/// The French catalog's PIN heading.
const FR_PIN_HEADING: &str = "Se connecter à un conseiller";
/// The English catalog's PIN heading.
const EN_PIN_HEADING: &str = "Connect to a support representative";
/// The organisation's French waiting text.
const FR_WAITING: &str = "Merci de patienter, un technicien de Acme arrive.";
/// The heading of the language the organisation adds.
const DE_PIN_HEADING: &str = "Mit dem Support verbinden";

fn options() -> BrokerOptions {
    let text = |l: &str, k: &str, t: &str| (l.to_owned(), k.to_owned(), t.to_owned());
    BrokerOptions {
        texts: vec![
            text("fr", "waiting", FR_WAITING),
            text("de", "pin_heading", DE_PIN_HEADING),
            text("de", "language_name", "Deutsch"),
        ],
        ..BrokerOptions::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_customer_switches_language_and_sees_the_catalogs() {
    let w = World::start(options()).await;
    let console = w.signed_in_console().await;
    let customer = w.customer();
    let b = &w.cust;

    customer.open().await;
    b.wait_text_contains("#pin-heading", EN_PIN_HEADING).await;
    assert_eq!(b.attr("html", "lang").await.as_deref(), Some("en"));
    assert_eq!(
        b.attr_all("#language option", "value").await,
        vec!["en", "fr", "de"],
        "the compiled languages, then the one the configuration adds"
    );

    // French: the catalog's text at once, and <html lang> follows.
    b.select_value("#language", "fr").await;
    b.wait_text_contains("#pin-heading", FR_PIN_HEADING).await;
    b.wait_attr("html", "lang", "fr").await;
    b.wait_text_contains("label[for=\"language\"]", "Langue")
        .await;

    // A language added by configuration: its heading, English elsewhere.
    b.select_value("#language", "de").await;
    b.wait_text_contains("#pin-heading", DE_PIN_HEADING).await;
    b.wait_text_contains("#connect-button", "Connect").await;
    b.wait_attr("html", "lang", "de").await;

    // The choice survives a reload.
    b.select_value("#language", "fr").await;
    b.wait_text_contains("#pin-heading", FR_PIN_HEADING).await;
    customer.open().await;
    b.wait_text_contains("#pin-heading", FR_PIN_HEADING).await;
    assert_eq!(b.value("#language").await, "fr");

    // In the waiting room: the organisation's French override.
    let session = console.create_session().await;
    b.type_into("#pin-input", &session.pin).await;
    b.click("#connect-button").await;
    b.wait_visible("#terms-text").await;
    b.wait_text_contains("#terms-heading", "Conditions d’utilisation")
        .await;
    b.click("#accept-terms").await;
    b.wait_text_contains("#waiting", FR_WAITING).await;

    w.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_french_browser_starts_in_french() {
    let broker = Broker::start(options()).await;
    let mut prefs = serde_json::Map::new();
    prefs.insert("intl.accept_languages".into(), json!("fr"));
    let browser = Browser::start_with_options(StartOptions {
        args: vec!["--lang=fr".into()],
        prefs,
        ..StartOptions::default()
    })
    .await;
    let customer = Customer::new(&browser, broker.url());
    customer.open().await;
    browser
        .wait_text_contains("#pin-heading", FR_PIN_HEADING)
        .await;
    browser.wait_attr("html", "lang", "fr").await;
    assert_eq!(browser.value("#language").await, "fr");
    browser.close().await;
}

/// The text of the first `#chat-log` entry of `kind`, once there is one that satisfies
/// `wanted`.
async fn wait_line(b: &Browser, kind: EntryType, wanted: &str) {
    b.wait_chat(
        &format!("a {} line reading {wanted:?}", kind.name()),
        |entries| {
            let line = entries.iter().find(|e| e.kind == Some(kind));
            match line.and_then(|e| e.text.as_deref()) {
                Some(text) if text == wanted => Ok(()),
                other => Err(format!("{}: {other:?}", kind.name())),
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_and_the_log_lines_switch_to_french() {
    let w = World::start(options()).await;
    let (_console, _customer, _session) = w.active_session().await;
    let (t, c) = (&w.tech, &w.cust);

    // The console in English first, its log lines too.
    wait_line(
        t,
        EntryType::TechnicianPickedUp,
        "You picked up the session.",
    )
    .await;
    wait_line(
        t,
        EntryType::CustomerJoined,
        "The customer joined with the PIN.",
    )
    .await;

    // The technician switches: the console's own words and the lines already shown.
    t.select_value("#language", "fr").await;
    t.wait_attr("html", "lang", "fr").await;
    t.wait_text_contains(".console-header .product", "Console du technicien")
        .await;
    t.wait_text_contains("#back-to-list", "Retour à la liste")
        .await;
    t.wait_text_contains("#end-session", "Terminer la session")
        .await;
    wait_line(
        t,
        EntryType::TechnicianPickedUp,
        "Vous avez pris la session en charge.",
    )
    .await;
    wait_line(
        t,
        EntryType::CustomerJoined,
        "Le client s’est connecté avec le code PIN.",
    )
    .await;

    // Each reader has their own language: the customer still reads English…
    wait_line(
        c,
        EntryType::TechnicianPickedUp,
        "Tess Tester joined the session.",
    )
    .await;
    // …until they switch too.
    c.select_value("#language", "fr").await;
    wait_line(
        c,
        EntryType::TechnicianPickedUp,
        "Tess Tester a rejoint la session.",
    )
    .await;
    wait_line(
        c,
        EntryType::CustomerJoined,
        "Vous avez rejoint la session.",
    )
    .await;

    // Back to English on the console: the same entries, English words again.
    t.select_value("#language", "en").await;
    wait_line(
        t,
        EntryType::TechnicianPickedUp,
        "You picked up the session.",
    )
    .await;
    t.wait_text_contains("#back-to-list", "Back to the list")
        .await;

    w.close().await;
}

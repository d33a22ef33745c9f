//! PIN guessing, tried as an attacker would, against a real broker: nothing an attacker
//! does from their own addresses keeps a customer with the right PIN out, and guessing
//! stays useless.
//!
//! - A hundred thousand guesses from a thousand addresses (Linux lets a socket bind any
//!   127.0.0.0/8 address; half the guesses with forged `X-Forwarded-For`) against 100
//!   live PINs: the broker checks only what the attackers' own address and network
//!   buckets allow, and every real PIN typed meanwhile from elsewhere gets in.
//! - A slow attack that keeps every bucket it can reach empty, as the issue that led
//!   here did against the old global bucket: customers keep getting in.
//! - Throttled and wrong guesses are in the security log, counted per address.

mod support;

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use connectit_broker::config::Config;
use connectit_protocol::api::VerifyPinResponse;
use connectit_protocol::ErrorCode;
use support::{Broker, Source};

const LIVE_PINS: usize = 100;
const ADDRESSES: u32 = 1000;
const GUESSES_PER_ADDRESS: u32 = 100;
/// Addresses guessing at the same time.
const CONCURRENCY: usize = 32;

/// What one guess got back.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// The broker checked the PIN: wrong.
    Checked,
    /// Refused before checking (too many attempts from this address or network).
    Throttled,
    /// In: the customer's session and token.
    Opened(VerifyPinResponse),
}

async fn guess(from: &mut Source, pin: &str, forwarded_for: Option<&str>) -> Outcome {
    let headers: Vec<(&str, &str)> = forwarded_for
        .map(|f| vec![("x-forwarded-for", f)])
        .unwrap_or_default();
    let r = from
        .post("/api/pin", &serde_json::json!({ "pin": pin }), &headers)
        .await;
    match (r.status, serde_json::from_slice::<ErrorCode>(&r.body).ok()) {
        (404, Some(ErrorCode::InvalidOrExpiredPin)) => Outcome::Checked,
        (429, Some(ErrorCode::TooManyAttempts { .. })) => Outcome::Throttled,
        (200, _) => Outcome::Opened(r.json()),
        other => panic!("unexpected answer to a guess: {other:?} {}", r.text()),
    }
}

/// An attacker's address: 127.1.x.y, 250 to a /24 network.
fn attacker(n: u32) -> Ipv4Addr {
    Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250 + 1) as u8)
}

/// A customer's address: each in a network no attacker uses.
fn customer(n: u64) -> Ipv4Addr {
    Ipv4Addr::new(127, 2, (n / 250) as u8, (n % 250 + 1) as u8)
}

/// A small deterministic generator (the guesses need not be secret, only spread).
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// A wrong PIN: never one of `live`.
fn wrong_pin(rng: &mut u64, live: &HashSet<String>) -> String {
    loop {
        let pin = format!("{:06}", next(rng) % 1_000_000);
        if !live.contains(&pin) {
            return pin;
        }
    }
}

#[tokio::test]
async fn a_hundred_thousand_guesses_from_a_thousand_addresses_keep_no_customer_out() {
    let defaults = Config::load(None, vec![], &[]).unwrap();
    // The default bursts; the refills stretched to an hour, so that no token grows back
    // during the run whatever the machine's speed, and what was checked is exact.
    let broker = Broker::start(|c| {
        c.pin_address_refill_secs = 3600;
        c.pin_network_refill_secs = 3600;
        c.audit_window_secs = 3600;
    })
    .await;
    let limits = broker.state.config.clone();
    let cookie = broker.sign_in("alice").await;
    let mut live = Vec::new();
    for _ in 0..LIVE_PINS {
        live.push(broker.create_session(&cookie).await.pin);
    }
    let live_set: Arc<HashSet<String>> = Arc::new(live.iter().cloned().collect());

    let checked = Arc::new(AtomicU64::new(0));
    let throttled = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut pins = live.clone().into_iter();
    let mut customers = 0u64;
    let mut customer_waits = Vec::new();
    let batches = ADDRESSES as usize / CONCURRENCY + 1;
    for batch in 0..batches {
        let mut tasks = Vec::new();
        let first = (batch * CONCURRENCY) as u32;
        for n in first..(first + CONCURRENCY as u32).min(ADDRESSES) {
            let (addr, live_set) = (broker.addr, live_set.clone());
            let (checked, throttled) = (checked.clone(), throttled.clone());
            tasks.push(tokio::spawn(async move {
                let mut from = Source::new(attacker(n), addr).await;
                let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (u64::from(n) << 20 | 1);
                for i in 0..GUESSES_PER_ADDRESS {
                    let pin = wrong_pin(&mut rng, &live_set);
                    // Half the guesses claim to come from somewhere else.
                    let forged = format!("203.0.{}.{}", i % 250, n % 250);
                    let claim = (i % 2 == 1).then_some(forged.as_str());
                    match guess(&mut from, &pin, claim).await {
                        Outcome::Checked => checked.fetch_add(1, Ordering::Relaxed),
                        Outcome::Throttled => throttled.fetch_add(1, Ordering::Relaxed),
                        Outcome::Opened(_) => panic!("a wrong PIN opened a session"),
                    };
                }
            }));
        }
        // Meanwhile customers type their right PINs, each from their own address.
        let mut waits = Vec::new();
        for _ in 0..4 {
            let Some(pin) = pins.next() else { break };
            let source = customer(customers);
            customers += 1;
            let addr = broker.addr;
            waits.push(tokio::spawn(async move {
                let mut from = Source::new(source, addr).await;
                let asked = Instant::now();
                let outcome = guess(&mut from, &pin, None).await;
                (pin, source, outcome, asked.elapsed())
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        for wait in waits {
            let (pin, source, outcome, took) = wait.await.unwrap();
            assert!(
                matches!(outcome, Outcome::Opened(_)),
                "the right PIN {pin} from {source} during the attack: {outcome:?}"
            );
            customer_waits.push(took);
        }
    }
    let elapsed = started.elapsed();
    let checked = checked.load(Ordering::Relaxed);
    let throttled = throttled.load(Ordering::Relaxed);
    let sent = u64::from(ADDRESSES * GUESSES_PER_ADDRESS);
    assert_eq!(checked + throttled, sent);
    assert_eq!(
        customers, LIVE_PINS as u64,
        "every live PIN was used by its customer"
    );

    // What the buckets allow: the attackers' networks' bursts (the addresses' are
    // larger in all), however many addresses or forged headers. Nothing grew back.
    let networks = u64::from(ADDRESSES.div_ceil(250));
    let per_network = u64::from(limits.pin_attempts_per_network);
    let per_address = u64::from(limits.pin_attempts_per_address);
    let allowed = networks * per_network.min(250 * per_address);
    assert_eq!(
        checked, allowed,
        "each attacking network's burst, then nothing"
    );

    // Exactly the customers' sessions opened; no guess made one.
    let db = broker.sqlite();
    let joined: i64 = db
        .query_row(
            "SELECT count(*) FROM entries WHERE kind LIKE '%customer_joined%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(joined, LIVE_PINS as i64);

    // The refusals are in the security log, one line per address, summing up.
    broker.flush_audit().await;
    let throttled_lines = broker.audit("pin_throttled");
    let logged: u64 = throttled_lines.iter().map(|l| l.2).sum();
    assert_eq!(logged, throttled, "every throttled guess is counted");
    assert!(
        throttled_lines.len() <= ADDRESSES as usize,
        "one line per address and minute, not per request: {}",
        throttled_lines.len()
    );
    let failed: u64 = broker.audit("pin_failed").iter().map(|l| l.2).sum();
    assert_eq!(failed, checked, "every wrong PIN is counted");

    customer_waits.sort();
    let median = customer_waits[customer_waits.len() / 2];
    let window = defaults.pin_validity_secs;
    eprintln!(
        "PIN attack: {sent} guesses from {ADDRESSES} addresses in {networks} /24 networks in {:.1} s \
         ({:.0} guesses/s): {checked} checked, {throttled} throttled; {customers} of {customers} \
         customers with the right PIN got in (median answer {:.1} ms); \
         {} security log lines for the throttled ones",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64(),
        median.as_secs_f64() * 1000.0,
        throttled_lines.len()
    );
    let per_address_window =
        u64::from(defaults.pin_attempts_per_address) + window / defaults.pin_address_refill_secs;
    let per_network_window =
        u64::from(defaults.pin_attempts_per_network) + window / defaults.pin_network_refill_secs;
    eprintln!(
        "with the defaults, over one PIN's validity ({window} s): at most {per_address_window} \
         checked guesses per address and {per_network_window} per /24 (IPv6 /48) network"
    );
    broker.stop().await;
}

#[tokio::test]
async fn a_slow_attack_that_keeps_every_bucket_it_can_reach_empty_keeps_nobody_else_out() {
    // The attack that locked everyone out of the old global bucket: a burst, then one
    // wrong guess whenever a token grows back, from three rotating addresses. Here the
    // refill is a second so that the test takes seconds, not hours.
    let broker = Broker::start(|c| {
        c.pin_attempts_per_address = 3;
        c.pin_address_refill_secs = 1;
        c.pin_attempts_per_network = 5;
        c.pin_network_refill_secs = 1;
    })
    .await;
    let cookie = broker.sign_in("alice").await;
    let live: HashSet<String> = HashSet::new();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attack = {
        let (addr, stop) = (broker.addr, stop.clone());
        tokio::spawn(async move {
            let mut attackers = Vec::new();
            for n in 1..=3u8 {
                attackers.push(Source::new(Ipv4Addr::new(127, 7, 0, n), addr).await);
            }
            let (mut rng, mut sent, mut refused) = (7u64, 0u64, 0u64);
            while !stop.load(Ordering::Relaxed) {
                for from in attackers.iter_mut() {
                    let pin = wrong_pin(&mut rng, &live);
                    if guess(from, &pin, None).await == Outcome::Throttled {
                        refused += 1;
                    }
                    sent += 1;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            (sent, refused)
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut got_in = 0;
    let tries = 12u64;
    for n in 0..tries {
        let session = broker.create_session(&cookie).await;
        let mut from = Source::new(customer(n), broker.addr).await;
        if let Outcome::Opened(_) = guess(&mut from, &session.pin, None).await {
            got_in += 1;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    stop.store(true, Ordering::Relaxed);
    let (sent, refused) = attack.await.unwrap();
    assert!(refused > 0, "the attackers' own buckets were empty");
    assert_eq!(got_in, tries, "every customer with the right PIN got in");
    eprintln!(
        "slow attack: {sent} guesses from 3 rotating addresses ({refused} refused as throttled); \
         {got_in} of {tries} customers with the right PIN got in"
    );
    broker.stop().await;
}

#[tokio::test]
async fn a_forged_forwarded_for_from_an_untrusted_peer_is_no_new_address() {
    let broker = Broker::start(|c| {
        c.pin_attempts_per_address = 3;
        c.pin_address_refill_secs = 3600;
    })
    .await;
    let mut from = Source::new(Ipv4Addr::new(127, 3, 0, 1), broker.addr).await;
    for i in 0..3 {
        let claim = format!("203.0.113.{i}");
        assert_eq!(
            guess(&mut from, "999999", Some(&claim)).await,
            Outcome::Checked
        );
    }
    for claim in ["203.0.113.200", "198.51.100.1, 203.0.113.201", "unknown"] {
        assert_eq!(
            guess(&mut from, "999999", Some(claim)).await,
            Outcome::Throttled,
            "claiming {claim:?}"
        );
    }
    // A really different address is another bucket.
    let mut other = Source::new(Ipv4Addr::new(127, 3, 0, 2), broker.addr).await;
    assert_eq!(guess(&mut other, "999999", None).await, Outcome::Checked);
    broker.stop().await;
}

#[tokio::test]
async fn a_network_is_throttled_as_one_and_its_customers_still_have_the_link() {
    let broker = Broker::start(|c| {
        c.pin_attempts_per_address = 100;
        c.pin_attempts_per_network = 4;
        c.pin_network_refill_secs = 3600;
    })
    .await;
    let cookie = broker.sign_in("alice").await;
    let session = broker.create_session(&cookie).await;
    // Four addresses of one /24 spend its allowance: a fifth is refused, right PIN or not.
    for n in 1..=4u8 {
        let mut from = Source::new(Ipv4Addr::new(127, 8, 0, n), broker.addr).await;
        assert_eq!(guess(&mut from, "999999", None).await, Outcome::Checked);
    }
    let mut neighbour = Source::new(Ipv4Addr::new(127, 8, 0, 99), broker.addr).await;
    assert_eq!(
        guess(&mut neighbour, &session.pin, None).await,
        Outcome::Throttled
    );
    // The e-mailed link needs no PIN and meets no throttle.
    let token = session.link.split("#join=").nth(1).expect("a join link");
    let r = neighbour
        .post("/api/join", &serde_json::json!({ "token": token }), &[])
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Another network is not held back at all.
    let other = broker.create_session(&cookie).await;
    let mut elsewhere = Source::new(Ipv4Addr::new(127, 9, 0, 1), broker.addr).await;
    assert!(matches!(
        guess(&mut elsewhere, &other.pin, None).await,
        Outcome::Opened(_)
    ));
    broker.stop().await;
}

#[tokio::test]
async fn a_customers_typos_are_forgiven_by_the_right_pin() {
    let broker = Broker::start(|c| {
        c.pin_attempts_per_address = 3;
        c.pin_address_refill_secs = 3600;
    })
    .await;
    let cookie = broker.sign_in("alice").await;
    let session = broker.create_session(&cookie).await;
    let wrong = if session.pin == "000000" {
        "000001"
    } else {
        "000000"
    };
    // Two typos, then the right PIN: the customer is in, and the typos are forgiven.
    let mut from = Source::new(Ipv4Addr::new(127, 4, 0, 1), broker.addr).await;
    assert_eq!(guess(&mut from, wrong, None).await, Outcome::Checked);
    assert_eq!(guess(&mut from, wrong, None).await, Outcome::Checked);
    assert!(matches!(
        guess(&mut from, &session.pin, None).await,
        Outcome::Opened(_)
    ));
    for _ in 0..3 {
        assert_eq!(guess(&mut from, wrong, None).await, Outcome::Checked);
    }
    assert_eq!(guess(&mut from, wrong, None).await, Outcome::Throttled);
    broker.stop().await;
}

#[tokio::test]
async fn another_sites_page_cannot_make_its_visitors_guess() {
    let broker = Broker::start(|_| {}).await;
    let mut from = Source::new(Ipv4Addr::new(127, 10, 0, 1), broker.addr).await;
    let body = serde_json::json!({ "pin": "123456" });
    // A form or a "simple" fetch from elsewhere: text/plain, a foreign Origin.
    for (headers, status, code) in [
        (
            vec![
                ("origin", "http://evil.example"),
                ("content-type", "text/plain"),
            ],
            403,
            ErrorCode::CrossOrigin,
        ),
        (
            vec![("sec-fetch-site", "cross-site")],
            403,
            ErrorCode::CrossOrigin,
        ),
        (vec![("origin", "null")], 403, ErrorCode::CrossOrigin),
    ] {
        let r = from.post("/api/pin", &body, &headers).await;
        assert_eq!(
            (r.status, r.json::<ErrorCode>()),
            (status, code),
            "{headers:?}"
        );
    }
    // JSON is the only body taken, even from the site itself.
    let r = from
        .post(
            "/api/pin",
            &body,
            &[("origin", &broker.origin()), ("content-type", "text/plain")],
        )
        .await;
    assert_eq!(
        (r.status, r.json::<ErrorCode>()),
        (415, ErrorCode::UnsupportedContentType)
    );
    // The site's own page is let through.
    let r = from
        .post("/api/pin", &body, &[("origin", &broker.origin())])
        .await;
    assert_eq!(r.status, 404, "{}", r.text());
    broker.flush_audit().await;
    let refused: u64 = broker
        .audit("cross_origin_refused")
        .iter()
        .map(|l| l.2)
        .sum();
    assert_eq!(refused, 4, "each refusal is in the security log");
    let _: SocketAddr = broker.addr;
    broker.stop().await;
}

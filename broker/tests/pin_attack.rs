//! A PIN guessing attack on a broker holding 100 live PINs: 100,000 guesses from a
//! thousand real client addresses (Linux lets a socket bind any 127.0.0.0/8 address),
//! with forged `X-Forwarded-For` headers, and the real PINs slipped into the stream
//! while the throttles are spent. No session opens, and the number of guesses the
//! broker actually checked is what its buckets allow.

mod support;

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use connectit_broker::config::Config;
use connectit_protocol::ErrorCode;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use support::Broker;
use tokio::net::TcpSocket;

const LIVE_PINS: usize = 100;
const ADDRESSES: u32 = 1000;
const GUESSES_PER_ADDRESS: u32 = 100;
/// Addresses guessing at the same time.
const CONCURRENCY: usize = 32;

/// What one guess got back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// The broker checked the PIN: wrong.
    Checked,
    /// Refused before checking (too many attempts).
    Throttled,
    /// A session opened.
    Opened,
}

/// A keep-alive HTTP connection from one local address.
struct Guesser {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl Guesser {
    async fn from(source: Ipv4Addr, broker: SocketAddr) -> Guesser {
        let socket = TcpSocket::new_v4().unwrap();
        socket
            .bind(SocketAddr::new(IpAddr::V4(source), 0))
            .unwrap_or_else(|e| panic!("bind {source}: {e}"));
        let tcp = socket.connect(broker).await.expect("connect");
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
            .await
            .unwrap();
        tokio::spawn(conn);
        Guesser { sender }
    }

    async fn guess(&mut self, pin: &str, forwarded_for: Option<&str>) -> Outcome {
        let mut request = hyper::Request::post("/api/pin")
            .header("host", "localhost")
            .header("content-type", "application/json");
        if let Some(f) = forwarded_for {
            request = request.header("x-forwarded-for", f);
        }
        let body = serde_json::json!({ "pin": pin }).to_string();
        let request = request.body(Full::new(Bytes::from(body))).unwrap();
        self.sender.ready().await.expect("connection open");
        let response = self.sender.send_request(request).await.expect("answer");
        let status = response.status().as_u16();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let code: Option<ErrorCode> = serde_json::from_slice(&body).ok();
        match (status, code) {
            (404, Some(ErrorCode::InvalidOrExpiredPin)) => Outcome::Checked,
            (429, Some(ErrorCode::TooManyAttempts { .. })) => Outcome::Throttled,
            (200, _) => Outcome::Opened,
            other => panic!("unexpected answer to a guess: {other:?}"),
        }
    }
}

/// An attacker's address: 127.1.x.y.
fn attacker(n: u32) -> Ipv4Addr {
    Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250 + 1) as u8)
}

/// A small deterministic generator (the guesses need not be secret, only spread).
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[tokio::test]
async fn a_hundred_thousand_guesses_from_a_thousand_addresses_open_nothing() {
    let defaults = Config::load(None, vec![], &[]).unwrap();
    // The default bursts; the refill stretched to an hour, so that no token grows back
    // during the run whatever the machine's speed: the real PINs sent while the buckets
    // are spent must be refused, and exactly the burst is checked.
    let broker = Broker::start(|c| {
        c.pin_global_refill_secs = 3600;
        c.pin_address_refill_secs = 3600;
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
    let mut probes = live.clone().into_iter();
    let mut probed = 0u64;
    let batches = ADDRESSES as usize / CONCURRENCY + 1;
    for batch in 0..batches {
        let mut tasks = Vec::new();
        let first = (batch * CONCURRENCY) as u32;
        for n in first..(first + CONCURRENCY as u32).min(ADDRESSES) {
            let (addr, live_set) = (broker.addr, live_set.clone());
            let (checked, throttled) = (checked.clone(), throttled.clone());
            tasks.push(tokio::spawn(async move {
                let mut guesser = Guesser::from(attacker(n), addr).await;
                let mut rng = 0x9E37_79B9_7F4A_7C15u64 ^ (u64::from(n) << 20 | 1);
                for i in 0..GUESSES_PER_ADDRESS {
                    // Never a live PIN by chance: those go in only as probes, below.
                    let pin = loop {
                        let pin = format!("{:06}", next(&mut rng) % 1_000_000);
                        if !live_set.contains(&pin) {
                            break pin;
                        }
                    };
                    // Half the guesses claim to come from somewhere else.
                    let forged = format!("203.0.{}.{}", i % 250, n % 250);
                    let claim = (i % 2 == 1).then_some(forged.as_str());
                    match guesser.guess(&pin, claim).await {
                        Outcome::Checked => checked.fetch_add(1, Ordering::Relaxed),
                        Outcome::Throttled => throttled.fetch_add(1, Ordering::Relaxed),
                        Outcome::Opened => panic!("a wrong PIN opened a session"),
                    };
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        // Now the buckets are spent: real PINs, from addresses that never guessed (their
        // own buckets full) and from one that did, forged header and all, are refused.
        for k in 0..4 {
            let Some(pin) = probes.next() else { break };
            let fresh = Ipv4Addr::new(127, 2, (probed / 250) as u8, (probed % 250 + 1) as u8);
            let source = if k == 2 { attacker(first) } else { fresh };
            let mut prober = Guesser::from(source, broker.addr).await;
            let outcome = prober.guess(&pin, (k == 1).then_some("198.51.100.7")).await;
            assert_eq!(
                outcome,
                Outcome::Throttled,
                "the right PIN {pin} from {source} while the buckets are spent"
            );
            probed += 1;
        }
    }
    let elapsed = started.elapsed();
    let checked = checked.load(Ordering::Relaxed);
    let throttled = throttled.load(Ordering::Relaxed);
    let sent = u64::from(ADDRESSES * GUESSES_PER_ADDRESS);
    assert_eq!(checked + throttled, sent);
    assert_eq!(probed, LIVE_PINS as u64, "every live PIN was tried");
    // What the buckets allow: the global burst, plus what grows back meanwhile (nothing
    // in an hour's refill), whatever the number of addresses or forged headers.
    let allowed =
        u64::from(limits.pin_attempts_global) + elapsed.as_secs() / limits.pin_global_refill_secs;
    assert!(
        checked <= allowed,
        "{checked} guesses checked, the buckets allow {allowed}"
    );
    assert_eq!(
        checked,
        u64::from(limits.pin_attempts_global),
        "the burst is spent, then nothing more"
    );
    // No session opened: every PIN is unclaimed, nobody joined.
    let db = broker.sqlite();
    let claimed: i64 = db
        .query_row(
            "SELECT count(*) FROM sessions WHERE customer_token_hash IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let joined: i64 = db
        .query_row(
            "SELECT count(*) FROM entries WHERE kind LIKE '%customer_joined%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        (claimed, joined),
        (0, 0),
        "no PIN was claimed, nobody joined"
    );
    // The bound with the default settings, over one PIN's validity.
    let window = defaults.pin_validity_secs;
    let guesses =
        u64::from(defaults.pin_attempts_global) + window / defaults.pin_global_refill_secs;
    let bound = guesses as f64 * LIVE_PINS as f64 / 1e6;
    eprintln!(
        "PIN attack: {sent} guesses from {ADDRESSES} addresses (+{probed} real PINs as probes) \
         in {:.1} s ({:.0} guesses/s): {checked} checked, {throttled} throttled, 0 sessions opened",
        elapsed.as_secs_f64(),
        sent as f64 / elapsed.as_secs_f64()
    );
    eprintln!(
        "bound with the defaults: ({} + {window} s / {} s) = {guesses} checked guesses per PIN \
         validity x {LIVE_PINS} live PINs / 10^6 = {:.2} %",
        defaults.pin_attempts_global,
        defaults.pin_global_refill_secs,
        bound * 100.0
    );
    broker.stop().await;
}

#[tokio::test]
async fn a_forged_forwarded_for_from_an_untrusted_peer_is_no_new_address() {
    // A global bucket too large to matter: only the address's own bucket counts.
    let broker = Broker::start(|c| {
        c.pin_attempts_per_address = 3;
        c.pin_address_refill_secs = 3600;
        c.pin_attempts_global = 1000;
    })
    .await;
    let mut guesser = Guesser::from(Ipv4Addr::new(127, 3, 0, 1), broker.addr).await;
    for i in 0..3 {
        let claim = format!("203.0.113.{i}");
        assert_eq!(
            guesser.guess("999999", Some(&claim)).await,
            Outcome::Checked
        );
    }
    for claim in ["203.0.113.200", "198.51.100.1, 203.0.113.201", "unknown"] {
        assert_eq!(
            guesser.guess("999999", Some(claim)).await,
            Outcome::Throttled,
            "claiming {claim:?}"
        );
    }
    // A really different address is another bucket.
    let mut other = Guesser::from(Ipv4Addr::new(127, 3, 0, 2), broker.addr).await;
    assert_eq!(other.guess("999999", None).await, Outcome::Checked);
    broker.stop().await;
}

#[tokio::test]
async fn a_customers_typos_cost_nobody_a_guess() {
    let broker = Broker::start(|c| {
        c.pin_attempts_global = 3;
        c.pin_global_refill_secs = 3600;
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
    let mut customer = Guesser::from(Ipv4Addr::new(127, 4, 0, 1), broker.addr).await;
    assert_eq!(customer.guess(wrong, None).await, Outcome::Checked);
    assert_eq!(customer.guess(wrong, None).await, Outcome::Checked);
    assert_eq!(customer.guess(&session.pin, None).await, Outcome::Opened);
    // So a guesser elsewhere still meets the whole global burst, and no more.
    let mut guesser = Guesser::from(Ipv4Addr::new(127, 4, 0, 2), broker.addr).await;
    let mut other = Guesser::from(Ipv4Addr::new(127, 4, 0, 3), broker.addr).await;
    assert_eq!(guesser.guess(wrong, None).await, Outcome::Checked);
    assert_eq!(guesser.guess(wrong, None).await, Outcome::Checked);
    assert_eq!(other.guess(wrong, None).await, Outcome::Checked);
    assert_eq!(other.guess(wrong, None).await, Outcome::Throttled);
    broker.stop().await;
}

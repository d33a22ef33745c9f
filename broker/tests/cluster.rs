//! Several brokers over one PostgreSQL and one Redis, behind HAProxy with no
//! stickiness (all real, started by the test on loopback ports): a customer and a
//! technician whose sockets reach different brokers work together, and the session
//! goes on when the broker that ran it is killed.

mod support;

use std::net::SocketAddr;

use connectit_e2e::broker::{BrokerOptions, TechnicianAccount};
use connectit_e2e::cluster::Cluster;
use connectit_protocol::api::{CreatedSession, VerifyPinResponse};
use connectit_protocol::wire::{ClientMessage, Join, ServerMessage};
use connectit_protocol::{Action, EntryKind, LogEntry, Seq};
use support::{Client, Frame, Ws};

/// Signs in at `addr` as the cluster's technician; the cookie.
async fn sign_in(addr: SocketAddr) -> String {
    let account = TechnicianAccount::default();
    let r = Client::new(addr)
        .http(
            "POST",
            "/api/auth/sign-in",
            Some(serde_json::json!({"username": account.username, "password": account.password})),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "sign-in: {}", r.text());
    r.header("set-cookie")
        .expect("a cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// A session made at `addr` by the signed-in technician.
async fn create_session(addr: SocketAddr, cookie: &str) -> CreatedSession {
    let r = Client::new(addr)
        .http("POST", "/api/sessions", None, Some(cookie))
        .await;
    assert_eq!(r.status, 200, "create: {}", r.text());
    r.json()
}

/// `pin` verified at `addr`: the customer's token.
async fn verify_pin(addr: SocketAddr, pin: &str) -> VerifyPinResponse {
    let r = Client::new(addr)
        .http(
            "POST",
            "/api/pin",
            Some(serde_json::json!({ "pin": pin })),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "pin: {}", r.text());
    r.json()
}

/// A session socket at `addr` that said hello (after `after`) and was welcomed.
async fn join(addr: SocketAddr, origin: &str, join: Join, after: Seq, cookie: Option<&str>) -> Ws {
    let mut ws = Client::new(addr).socket_with(origin, cookie).await;
    ws.send(&ClientMessage::Hello { join, after }).await;
    match ws.recv().await {
        ServerMessage::Welcome { .. } => ws,
        other => panic!("expected welcome, got {other:?}"),
    }
}

/// Sends chat `text` and waits for its acknowledgement: its entry's number, or the
/// close code if the socket closed first.
async fn chat(ws: &mut Ws, text: &str) -> Result<Seq, Option<u16>> {
    let id = ws.act(Action::Chat { text: text.into() }).await;
    loop {
        match ws.next_frame().await {
            Frame::Message(ServerMessage::Ack { id: got, seq }) if got == id => return Ok(seq),
            Frame::Message(ServerMessage::Error {
                id: Some(got),
                error,
            }) if got == id => {
                panic!("chat refused: {error:?}")
            }
            Frame::Message(_) => {}
            Frame::Closed(code) => return Err(code),
        }
    }
}

/// Every chat text of `entries`, in order.
fn chats(entries: &[LogEntry]) -> Vec<String> {
    entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryKind::Chat { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// The whole log as a fresh socket at `addr` reads it.
async fn read_log(addr: SocketAddr, origin: &str, token: &str) -> Vec<LogEntry> {
    let mut ws = Client::new(addr).socket_with(origin, None).await;
    ws.send(&ClientMessage::Hello {
        join: Join::Customer {
            token: token.into(),
        },
        after: 0,
    })
    .await;
    let last = match ws.recv().await {
        ServerMessage::Welcome { last_seq, .. } => last_seq,
        other => panic!("expected welcome, got {other:?}"),
    };
    ws.entries_until(last).await
}

/// The brokers are this build's binary, serving a stand-in page (these tests need no
/// browser, and run before the app is built).
fn use_this_build() -> tempfile::TempDir {
    let dist = tempfile::tempdir().expect("a folder for the page");
    std::fs::write(
        dist.path().join("index.html"),
        "<html><body>ConnectIT</body></html>",
    )
    .unwrap();
    std::env::set_var("CONNECTIT_DIST_DIR", dist.path());
    std::env::set_var(
        "CONNECTIT_BROKER_BIN",
        env!("CARGO_BIN_EXE_connectit-broker"),
    );
    dist
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_and_a_technician_on_different_brokers_work_together_and_outlive_the_owner() {
    let _dist = use_this_build();
    let mut cluster = Cluster::start(3, BrokerOptions::default()).await;
    let origin = cluster.url();
    let [a, b, c] = [0, 1, 2].map(|i| cluster.brokers[i].addr());

    // The technician makes the session on broker A: A runs it.
    let cookie = sign_in(a).await;
    let created = create_session(a, &cookie).await;
    // The customer's PIN is checked on B, their socket reaches C; the technician's
    // socket reaches B.
    let joined = verify_pin(b, &created.pin).await;
    let customer = Join::Customer {
        token: joined.token.clone(),
    };
    let technician = Join::Technician {
        session: created.id.clone(),
    };
    let mut cust = join(c, &origin, customer.clone(), 0, None).await;
    let mut seen = Vec::new();
    cust.act_ok(Action::AcceptTerms, &mut seen).await;
    let mut tech = join(b, &origin, technician.clone(), 0, Some(&cookie)).await;
    let picked = tech.act_ok(Action::PickUp, &mut seen).await;
    cust.entries_until(picked).await;

    // They chat, each from their own broker, and each hears the other in order.
    let mut sent = Vec::new();
    for i in 0..20 {
        let (from, text) = if i % 2 == 0 {
            (&mut cust, format!("customer {i}"))
        } else {
            (&mut tech, format!("technician {i}"))
        };
        chat(from, &text).await.expect("acknowledged");
        sent.push(text);
    }
    let last = chat(&mut tech, "before the crash")
        .await
        .expect("acknowledged");
    sent.push("before the crash".into());
    // Broker A, which runs the session, is killed. Both sockets are told to reconnect
    // at once (1012), and the brokers they reach take the session over.
    cluster.brokers[0].kill().await;
    for ws in [&mut cust, &mut tech] {
        // What was on its way arrives first (at most the whole log).
        let mut closed = None;
        for _ in 0..100 {
            if let Frame::Closed(code) = ws.next_frame().await {
                closed = Some(code);
                break;
            }
        }
        assert_eq!(closed, Some(Some(1012)), "closed to reconnect at once");
    }
    let mut cust = join(c, &origin, customer.clone(), last, None).await;
    let mut tech = join(b, &origin, technician.clone(), last, Some(&cookie)).await;
    let after = chat(&mut cust, "after the crash")
        .await
        .expect("stored by the new owner");
    assert_eq!(after, last + 1, "the next number: no gap, nothing lost");
    sent.push("after the crash".into());
    let got = tech.entries_until(after).await;
    assert_eq!(chats(&got), ["after the crash"]);

    // Through HAProxy, the whole log reads the same: every acknowledged message
    // once, in order.
    let log = read_log(cluster.haproxy.addr(), &origin, &joined.token).await;
    assert!(log.iter().zip(1..).all(|(e, n)| e.seq == n), "no gap");
    assert_eq!(
        chats(&log),
        sent,
        "every acknowledged message once, in order"
    );
}

/// One wrong PIN guess through `addr` from `from` (named in `X-Forwarded-For`, which
/// HAProxy and the brokers pass on): the status the broker answered.
async fn guess(addr: SocketAddr, from: &str, pin: &str) -> u16 {
    support::http_with_headers(
        addr,
        "POST",
        "/api/pin",
        Some(serde_json::json!({ "pin": pin }).to_string().into_bytes()),
        None,
        &[("x-forwarded-for", from)],
    )
    .await
    .status
}

/// Guesses from `from` until one is refused as too many (at most `limit`): how many
/// were checked.
async fn checked_before_refused(addr: SocketAddr, from: &str, limit: u32) -> u32 {
    for n in 0..limit {
        match guess(addr, from, &format!("{:06}", 100_000 + n)).await {
            // invalid_or_expired_pin: checked, and wrong.
            404 => {}
            429 => return n,
            other => panic!("guess {n} from {from}: {other}"),
        }
    }
    panic!("{limit} guesses from {from} and none refused")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pin_guessing_bound_of_the_cluster_is_one_brokers() {
    let _dist = use_this_build();
    let cluster = Cluster::start(3, BrokerOptions::default()).await;
    let front = cluster.haproxy.addr();
    // Round robin: consecutive guesses reach the three brokers in turn, and still one
    // address gets what one broker allows it (pin_attempts_per_address, 5), not three
    // times that.
    assert_eq!(checked_before_refused(front, "198.51.100.7", 50).await, 5);
    // Its network (a /24) has 20 in all, whichever brokers its addresses reach: three
    // more addresses of it get 5 each, the fifth address what is left (0).
    for host in [8, 9, 10] {
        let from = format!("198.51.100.{host}");
        assert_eq!(checked_before_refused(front, &from, 50).await, 5, "{from}");
    }
    assert_eq!(checked_before_refused(front, "198.51.100.11", 50).await, 0);
    // Straight to each broker (no balancer): the same buckets, still empty.
    for broker in &cluster.brokers {
        assert_eq!(guess(broker.addr(), "198.51.100.7", "123456").await, 429);
    }
    // Another network is untouched by all of it.
    assert_eq!(checked_before_refused(front, "203.0.113.1", 50).await, 5);
}

/// One member of a session chatting through the cluster, exactly once whatever happens
/// to its socket: after a cut it reconnects (through HAProxy: to whichever broker is
/// next) with the last entry it saw, reads what it missed, and sends again only a
/// message the log does not have.
struct Chatter {
    front: SocketAddr,
    origin: String,
    join: Join,
    cookie: Option<String>,
    ws: Option<Ws>,
    /// The last entry seen.
    seen: Seq,
    /// Texts seen stored since the last look (to tell whether an unanswered one was).
    stored: std::collections::HashSet<String>,
    reconnects: u32,
}

impl Chatter {
    fn new(front: SocketAddr, origin: &str, join: Join, cookie: Option<String>) -> Chatter {
        Chatter {
            front,
            origin: origin.into(),
            join,
            cookie,
            ws: None,
            seen: 0,
            stored: Default::default(),
            reconnects: 0,
        }
    }

    fn note(&mut self, entry: &LogEntry) {
        self.seen = self.seen.max(entry.seq);
        if let EntryKind::Chat { text, .. } = &entry.kind {
            self.stored.insert(text.clone());
        }
    }

    /// A socket that said hello and read what it missed (retrying, for at most 30 s,
    /// while brokers stop and start).
    async fn connect(&mut self) {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no broker took the socket for 30 s"
            );
            let mut ws = match tokio::time::timeout(
                std::time::Duration::from_secs(5),
                Client::new(self.front).try_socket_with(&self.origin, self.cookie.as_deref()),
            )
            .await
            {
                Ok(Some(ws)) => ws,
                _ => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            ws.send(&ClientMessage::Hello {
                join: self.join.clone(),
                after: self.seen,
            })
            .await;
            let last = match ws.next_frame().await {
                Frame::Message(ServerMessage::Welcome { last_seq, .. }) => last_seq,
                Frame::Message(other) => panic!("expected welcome, got {other:?}"),
                Frame::Closed(_) => {
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            };
            let mut caught_up = last <= self.seen;
            while !caught_up {
                match ws.next_frame().await {
                    Frame::Message(ServerMessage::Entry(e)) => {
                        self.note(&e);
                        caught_up = e.seq >= last;
                    }
                    Frame::Message(_) => {}
                    Frame::Closed(_) => break,
                }
            }
            if caught_up {
                self.ws = Some(ws);
                return;
            }
        }
    }

    /// Sends `text` until the log has it once. With `cut`, the socket is dropped right
    /// after sending (the message or its answer is on its way).
    async fn say(&mut self, text: &str, mut cut: bool) {
        loop {
            if self.ws.is_none() {
                self.connect().await;
                self.reconnects += 1;
                if self.stored.contains(text) {
                    return;
                }
            }
            let mut ws = self.ws.take().expect("connected");
            let id = ws.act(Action::Chat { text: text.into() }).await;
            if cut {
                cut = false;
                drop(ws);
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                continue;
            }
            loop {
                match ws.next_frame().await {
                    Frame::Message(ServerMessage::Ack { id: got, seq }) if got == id => {
                        self.seen = self.seen.max(seq);
                        self.stored.insert(text.into());
                        self.ws = Some(ws);
                        return;
                    }
                    Frame::Message(ServerMessage::Error {
                        id: Some(got),
                        error,
                    }) if got == id => match error {
                        connectit_protocol::ErrorCode::RateLimited { .. } => {
                            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                            self.ws = Some(ws);
                            break;
                        }
                        other => panic!("{text:?} refused: {other:?}"),
                    },
                    Frame::Message(ServerMessage::Entry(e)) => self.note(&e),
                    Frame::Message(_) => {}
                    Frame::Closed(_) => break,
                }
            }
        }
    }
}

/// A session made on `cluster` and joined by both (terms accepted, picked up): the
/// customer's and the technician's chatters, through HAProxy, and the customer's token.
async fn chatting_pair(cluster: &Cluster) -> (Chatter, Chatter, String) {
    let origin = cluster.url();
    let front = cluster.haproxy.addr();
    let cookie = sign_in(front).await;
    let created = create_session(front, &cookie).await;
    let joined = verify_pin(front, &created.pin).await;
    let customer = Join::Customer {
        token: joined.token.clone(),
    };
    let technician = Join::Technician {
        session: created.id.clone(),
    };
    let mut cust = join(front, &origin, customer.clone(), 0, None).await;
    let mut seen = Vec::new();
    cust.act_ok(Action::AcceptTerms, &mut seen).await;
    let mut tech = join(front, &origin, technician.clone(), 0, Some(&cookie)).await;
    tech.act_ok(Action::PickUp, &mut seen).await;
    drop((cust, tech));
    (
        Chatter::new(front, &origin, customer, None),
        Chatter::new(front, &origin, technician, Some(cookie)),
        joined.token,
    )
}

/// `n` numbered messages from `who`, about 15 a second (under the session's rate of
/// 20 per role), each cut at random with probability `cut_per_mille`/1000.
async fn chat_numbered(
    mut who: Chatter,
    name: &'static str,
    n: usize,
    seed: u64,
    cut_per_mille: u64,
) -> (Chatter, Vec<String>) {
    let mut rng = seed;
    let mut sent = Vec::with_capacity(n);
    for i in 0..n {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let cut = (rng >> 33) % 1000 < cut_per_mille;
        let text = format!("{name} {i:04}");
        who.say(&text, cut).await;
        sent.push(text);
        tokio::time::sleep(std::time::Duration::from_millis(65)).await;
    }
    (who, sent)
}

/// The stored log, read through HAProxy: no gap, and each side's texts once, in order.
async fn assert_exactly_once(
    cluster: &Cluster,
    token: &str,
    customer: &[String],
    technician: &[String],
) {
    let log = read_log(cluster.haproxy.addr(), &cluster.url(), token).await;
    assert!(
        log.iter().zip(1..).all(|(e, n)| e.seq == n),
        "no gap in the log"
    );
    for (author, want) in [
        (connectit_protocol::Author::Customer, customer),
        (connectit_protocol::Author::Technician, technician),
    ] {
        let got: Vec<String> = log
            .iter()
            .filter(|e| e.author == author)
            .filter_map(|e| match &e.kind {
                EntryKind::Chat { text, .. } => Some(text.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            got.len(),
            want.len(),
            "{author:?}: {} stored, {} sent",
            got.len(),
            want.len()
        );
        assert_eq!(got, want, "{author:?}: each once, in order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_messages_with_random_cuts_across_brokers_are_stored_once_in_order() {
    let _dist = use_this_build();
    let cluster = Cluster::start(3, BrokerOptions::default()).await;
    let (cust, tech, token) = chatting_pair(&cluster).await;
    let seed: u64 = rand_seed();
    eprintln!("seed {seed}");
    // One message in ten is cut on its way; every reconnection goes through HAProxy to
    // the next broker, which forwards it to the session's.
    let customer = tokio::spawn(chat_numbered(cust, "customer", 500, seed, 100));
    let technician = tokio::spawn(chat_numbered(tech, "technician", 500, seed ^ 0x5eed, 100));
    let (cust, customer) = customer.await.expect("the customer's chat");
    let (tech, technician) = technician.await.expect("the technician's chat");
    assert!(
        cust.reconnects + tech.reconnects >= 50,
        "cut often enough: {} and {}",
        cust.reconnects,
        tech.reconnects
    );
    assert_exactly_once(&cluster, &token, &customer, &technician).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_of_every_broker_during_a_chat_loses_nothing() {
    let _dist = use_this_build();
    let mut cluster = Cluster::start(3, BrokerOptions::default()).await;
    let (cust, tech, token) = chatting_pair(&cluster).await;
    let seed = rand_seed();
    let customer = tokio::spawn(chat_numbered(cust, "customer", 200, seed, 0));
    let technician = tokio::spawn(chat_numbered(tech, "technician", 200, seed ^ 1, 0));
    // Each broker in turn: stopped with SIGTERM (it hands its sessions back and tells
    // its sockets to reconnect at once), then started again, while both chat.
    for i in 0..3 {
        tokio::time::sleep(std::time::Duration::from_millis(2_500)).await;
        let status = cluster.brokers[i]
            .terminate(std::time::Duration::from_secs(15))
            .await
            .expect("the broker stops within 15 s");
        assert!(status.success(), "broker {i} stopped with {status}");
        cluster.brokers[i].restart().await;
    }
    let (cust, customer) = customer.await.expect("the customer's chat");
    let (tech, technician) = technician.await.expect("the technician's chat");
    assert!(
        cust.reconnects + tech.reconnects >= 2,
        "the restarts reached the sockets"
    );
    assert_exactly_once(&cluster, &token, &customer, &technician).await;
}

fn rand_seed() -> u64 {
    std::env::var("CONNECTIT_CLUSTER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        })
}

/// A customer in the `printers` team's queue through `addr`: their socket (terms
/// accepted, at `addr` too).
async fn queued_customer(addr: SocketAddr, origin: &str, name: &str) -> Ws {
    let r = Client::new(addr)
        .http(
            "POST",
            "/api/teams/printers/join",
            Some(serde_json::json!({"name": name, "problem": "It prints nothing"})),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let joined: VerifyPinResponse = r.json();
    let mut ws = join(
        addr,
        origin,
        Join::Customer {
            token: joined.token,
        },
        0,
        None,
    )
    .await;
    let mut seen = Vec::new();
    ws.act_ok(Action::AcceptTerms, &mut seen).await;
    ws
}

/// Reads `ws` until it is told `position` of `waiting`.
async fn told_place(ws: &mut Ws, position: u32, waiting: u32) {
    for _ in 0..200 {
        if let ServerMessage::Queue {
            position: p,
            waiting: w,
            ..
        } = ws.recv().await
        {
            if (p, w) == (position, waiting) {
                return;
            }
        }
    }
    panic!("never told {position} of {waiting}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_teams_queue_is_one_across_brokers() {
    let _dist = use_this_build();
    let cluster = Cluster::start(3, BrokerOptions::default()).await;
    let origin = cluster.url();
    cluster.brokers[0]
        .admin(&["create-team", "--slug", "printers", "--name", "Printers"])
        .await;
    cluster.brokers[1]
        .admin(&["add-to-team", "--slug", "printers", "--username", "tess"])
        .await;
    let [a, b, c] = [0, 1, 2].map(|i| cluster.brokers[i].addr());
    // Three customers join through three brokers: each session runs where it was made.
    let mut first = queued_customer(a, &origin, "Ann").await;
    told_place(&mut first, 1, 1).await;
    let mut second = queued_customer(b, &origin, "Bob").await;
    told_place(&mut second, 2, 2).await;
    told_place(&mut first, 1, 2).await;
    let mut third = queued_customer(c, &origin, "Cem").await;
    told_place(&mut third, 3, 3).await;
    // The team's technician, on a fourth way in (HAProxy), sees all three in its list,
    // and picks up the one who waited longest: the others move up.
    let front = cluster.haproxy.addr();
    let cookie = sign_in(front).await;
    let mut list: Vec<connectit_protocol::api::SessionSummary> = Client::new(front)
        .http("GET", "/api/sessions", None, Some(&cookie))
        .await
        .json();
    assert_eq!(list.len(), 3, "every broker's queued sessions: {list:?}");
    list.sort_by_key(|s| s.created_at);
    // Picked up through whichever broker the request reaches (it calls the one that
    // runs the session).
    let picked = Client::new(front)
        .http(
            "POST",
            &format!("/api/sessions/{}/pick-up", list[0].id),
            None,
            Some(&cookie),
        )
        .await;
    assert_eq!(picked.status, 204, "pick-up: {}", picked.text());
    told_place(&mut second, 1, 2).await;
    told_place(&mut third, 2, 2).await;
    drop(first);
}

/// What `/readyz` at `addr` answers.
async fn ready(addr: SocketAddr) -> u16 {
    Client::new(addr)
        .http("GET", "/readyz", None, None)
        .await
        .status
}

/// Sends chat `text`: its entry's number, or the error it was refused with.
async fn chat_answer(ws: &mut Ws, text: &str) -> Result<Seq, connectit_protocol::ErrorCode> {
    let id = ws.act(Action::Chat { text: text.into() }).await;
    ws.answer(id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_postgresql_or_redis_new_work_is_refused_typed_and_nothing_unstored_is_acknowledged(
) {
    let _dist = use_this_build();
    let mut cluster = Cluster::start(2, BrokerOptions::default()).await;
    let origin = cluster.url();
    let [a, b] = [0, 1].map(|i| cluster.brokers[i].addr());
    let cookie = sign_in(a).await;
    let created = create_session(a, &cookie).await;
    let joined = verify_pin(a, &created.pin).await;
    let customer = Join::Customer {
        token: joined.token.clone(),
    };
    let mut cust = join(a, &origin, customer.clone(), 0, None).await;
    let mut seen = Vec::new();
    cust.act_ok(Action::AcceptTerms, &mut seen).await;
    let technician = Join::Technician {
        session: created.id.clone(),
    };
    let mut tech = join(a, &origin, technician, 0, Some(&cookie)).await;
    tech.act_ok(Action::PickUp, &mut seen).await;
    let before = chat_answer(&mut cust, "stored before")
        .await
        .expect("stored");

    // PostgreSQL stops: nothing can be stored, so nothing is acknowledged.
    cluster.postgres.stop();
    let refused = chat_answer(&mut cust, "never stored").await;
    assert_eq!(
        refused,
        Err(connectit_protocol::ErrorCode::StorageUnavailable)
    );
    assert_eq!(ready(a).await, 503, "not ready without its database");
    cluster.postgres.start_again();
    // Back: the next message is the next number, and the refused one is nowhere.
    let mut after = Err(connectit_protocol::ErrorCode::StorageUnavailable);
    for _ in 0..50 {
        after = chat_answer(&mut cust, "stored after").await;
        if after.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        after,
        Ok(before + 1),
        "no gap, the refused message not stored"
    );
    assert_eq!(ready(a).await, 200);

    // Redis stops: broker B cannot know who runs the session, and refuses a socket for
    // it with a typed error rather than guessing.
    cluster.redis.stop();
    assert_eq!(ready(b).await, 503, "not ready without Redis");
    let mut ws = Client::new(b).socket_with(&origin, None).await;
    ws.send(&ClientMessage::Hello {
        join: customer.clone(),
        after: 0,
    })
    .await;
    match ws.recv().await {
        ServerMessage::Error { error, .. } => {
            assert_eq!(error, connectit_protocol::ErrorCode::StorageUnavailable)
        }
        other => panic!("expected a typed refusal, got {other:?}"),
    }
    // Redis is back (empty): the session is taken again, and goes on.
    cluster.redis.start_again();
    let mut back = None;
    for _ in 0..100 {
        if ready(b).await == 200 {
            let mut ws = Client::new(b).socket_with(&origin, None).await;
            ws.send(&ClientMessage::Hello {
                join: customer.clone(),
                after: 0,
            })
            .await;
            if let ServerMessage::Welcome { .. } = ws.recv().await {
                back = Some(ws);
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let mut back = back.expect("the session is served again once Redis is back");
    let mut seen = Vec::new();
    let last = back
        .act_ok(
            Action::Chat {
                text: "after Redis came back".into(),
            },
            &mut seen,
        )
        .await;
    let log = read_log(cluster.haproxy.addr(), &origin, &joined.token).await;
    assert_eq!(log.last().map(|e| e.seq), Some(last));
    assert_eq!(
        chats(&log),
        ["stored before", "stored after", "after Redis came back"],
        "exactly what was acknowledged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_between_brokers_must_be_signed_fresh_and_are_answered_once() {
    let _dist = use_this_build();
    let cluster = Cluster::start(1, BrokerOptions::default()).await;
    let front = cluster.haproxy.addr();
    let cookie = sign_in(front).await;
    let created = create_session(front, &cookie).await;
    let key = connectit_broker::secrets::PinKey::load_or_create(cluster.brokers[0].data_dir())
        .expect("the cluster's key");
    let sign = |body: &[u8]| -> String {
        key.mac("cluster-call", body)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let call = |at: u64| {
        serde_json::json!({"at": at, "session": created.id, "call": "Summary"})
            .to_string()
            .into_bytes()
    };
    let post = |body: Vec<u8>, signature: String| async move {
        support::http_with_headers(
            front,
            "POST",
            "/api/cluster/call",
            Some(body),
            None,
            &[("x-connectit-cluster", signature.as_str())],
        )
        .await
    };
    let now = connectit_broker::hub::now_ms();
    // Signed with the cluster's key, fresh: answered (the session's summary).
    let genuine = call(now);
    let answered = post(genuine.clone(), sign(&genuine)).await;
    assert_eq!(answered.status, 200, "{}", answered.text());
    assert!(
        answered.text().contains(created.id.0.as_str()),
        "{}",
        answered.text()
    );
    // The same bytes again: a replay.
    assert_eq!(post(genuine.clone(), sign(&genuine)).await.status, 409);
    // Unsigned, signed with another key, or stale: refused.
    assert_eq!(post(call(now + 1), String::new()).await.status, 403);
    let other = connectit_broker::secrets::PinKey::random();
    let forged = call(now + 2);
    let forged_signature: String = other
        .mac("cluster-call", &forged)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(post(forged, forged_signature).await.status, 403);
    let stale = call(now - 60_000);
    assert_eq!(post(stale.clone(), sign(&stale)).await.status, 403);
}

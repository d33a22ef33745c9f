//! Sockets follow their credentials: a technician's open sockets close within a second
//! of a sign-out, of the sign-in's expiry and of the account being disabled, with a
//! typed reason. One socket per role per session: a newer one takes over from the
//! older (which is told why), the message rate counts per session and role whatever
//! the number of sockets, and a session's log has a cap. A close frame is answered.

mod support;

use std::time::{Duration, Instant};

use connectit_protocol::wire::{ClientMessage, CloseReason, Join};
use connectit_protocol::{Action, EntryKind, ErrorCode};
use futures_util::SinkExt;
use support::{Broker, Ws};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

fn customer(token: &str) -> Join {
    Join::Customer {
        token: token.to_string(),
    }
}

/// Waits for the close frame and checks it is `reason`'s; answers how long it took.
async fn closed_with(ws: &mut Ws, reason: CloseReason, since: Instant) -> Duration {
    let frame = ws.close_frame(Duration::from_secs(5)).await;
    assert_eq!(
        frame,
        Some((reason.code(), reason.text().to_string())),
        "closed with {reason:?}"
    );
    since.elapsed()
}

#[tokio::test]
async fn signing_out_closes_the_technicians_sockets_at_once() {
    let broker = Broker::start(|_| {}).await;
    let mut active = broker.active_session_with_ids().await;
    let mut console = broker
        .socket("/api/console/ws", &broker.origin(), Some(&active.cookie))
        .await
        .expect("console socket");
    let r = broker
        .http("POST", "/api/auth/sign-out", None, Some(&active.cookie))
        .await;
    assert_eq!(r.status, 204);
    let since = Instant::now();
    let tech = closed_with(&mut active.tech, CloseReason::SignedOut, since).await;
    let list = closed_with(&mut console, CloseReason::SignedOut, since).await;
    assert!(tech < Duration::from_secs(1) && list < Duration::from_secs(1));
    // The customer is still there, and is told the technician dropped.
    let mut seen = Vec::new();
    active
        .cust
        .act_ok(
            Action::Chat {
                text: "hello?".into(),
            },
            &mut seen,
        )
        .await;
    // A new socket with the old cookie gets nothing.
    assert_eq!(
        broker
            .socket("/api/console/ws", &broker.origin(), Some(&active.cookie))
            .await
            .err(),
        Some(401)
    );
    broker.flush_audit().await;
    assert_eq!(broker.audit("signed_out").len(), 1);
    eprintln!(
        "signed out: session socket closed in {:.0} ms, console socket in {:.0} ms",
        tech.as_secs_f64() * 1000.0,
        list.as_secs_f64() * 1000.0
    );
    broker.stop().await;
}

#[tokio::test]
async fn an_expired_sign_in_closes_its_sockets_within_a_second() {
    let broker = Broker::start(|c| c.sign_in_validity_secs = 2).await;
    let signed_in_at = Instant::now();
    let mut active = broker.active_session_with_ids().await;
    let mut console = broker
        .socket("/api/console/ws", &broker.origin(), Some(&active.cookie))
        .await
        .expect("console socket");
    let expiry = signed_in_at + Duration::from_secs(2);
    let tech = closed_with(&mut active.tech, CloseReason::SignedOut, expiry).await;
    let list = closed_with(&mut console, CloseReason::SignedOut, expiry).await;
    assert!(
        tech < Duration::from_secs(1) && list < Duration::from_secs(1),
        "{tech:?} {list:?} after the expiry"
    );
    broker.stop().await;
}

#[tokio::test]
async fn disabling_the_account_closes_its_sockets_within_a_second() {
    let broker = Broker::start(|_| {}).await;
    let mut active = broker.active_session_with_ids().await;
    let mut console = broker
        .socket("/api/console/ws", &broker.origin(), Some(&active.cookie))
        .await
        .expect("console socket");
    // From the command line, another process: only the database is shared.
    let data = broker.db_path().parent().unwrap().to_path_buf();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_connectit-broker"))
        .arg("--data")
        .arg(&data)
        .args(["disable-technician", "--username", "alice"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let since = Instant::now();
    let tech = closed_with(&mut active.tech, CloseReason::SignedOut, since).await;
    let list = closed_with(&mut console, CloseReason::SignedOut, since).await;
    assert!(tech < Duration::from_secs(1) && list < Duration::from_secs(1));
    // Disabled: no sign-in either.
    let r = broker
        .http(
            "POST",
            "/api/auth/sign-in",
            Some(serde_json::json!({"username": "alice", "password": support::PASSWORD})),
            None,
        )
        .await;
    assert_eq!(r.json::<ErrorCode>(), ErrorCode::InvalidCredentials);
    broker.stop().await;
}

#[tokio::test]
async fn a_second_socket_for_a_role_takes_over_and_logs_no_drop() {
    let broker = Broker::start(|_| {}).await;
    let mut active = broker.active_session_with_ids().await;
    // The customer opens the session in another tab.
    let mut second = broker.join(customer(&active.joined.token), 0, None).await;
    let since = Instant::now();
    closed_with(&mut active.cust, CloseReason::Replaced, since).await;
    let mut seen = Vec::new();
    let seq = second
        .act_ok(
            Action::Chat {
                text: "here now".into(),
            },
            &mut seen,
        )
        .await;
    // The technician saw the chat, and no "dropped" or "reconnected" on the way.
    let entries = active.tech.entries_until(seq).await;
    assert!(
        entries.iter().all(|e| !matches!(
            e.kind,
            EntryKind::Disconnected { .. } | EntryKind::Reconnected { .. }
        )),
        "{entries:?}"
    );
    // Same for the technician's side.
    let mut tech2 = broker
        .join(
            Join::Technician {
                session: active.created.id.clone(),
            },
            seq,
            Some(&active.cookie),
        )
        .await;
    closed_with(&mut active.tech, CloseReason::Replaced, Instant::now()).await;
    let seq = tech2
        .act_ok(
            Action::Chat {
                text: "me too".into(),
            },
            &mut seen,
        )
        .await;
    let entries = second.entries_until(seq).await;
    assert!(entries
        .iter()
        .all(|e| !matches!(e.kind, EntryKind::Disconnected { .. })));
    broker.stop().await;
}

#[tokio::test]
async fn one_token_holds_one_socket_and_its_rate_is_the_sessions() {
    let broker = Broker::start(|_| {}).await;
    let active = broker.active_session_with_ids().await;
    let token = active.joined.token.clone();
    // A thousand sockets with one token: each new one replaces the one before.
    let mut last = broker.join(customer(&token), 0, None).await;
    let mut replaced = 0;
    for _ in 0..200 {
        let next = broker.join(customer(&token), 0, None).await;
        if let Some((code, _)) = last.close_frame(Duration::from_secs(5)).await {
            if code == CloseReason::Replaced.code() {
                replaced += 1;
            }
        }
        last = next;
    }
    assert_eq!(replaced, 200);
    // The flood the old per-socket limit let through: socket after socket, each as fast
    // as it can, for two seconds. A new socket brings no fresh allowance.
    let started = Instant::now();
    let (mut stored, mut limited, mut sockets) = (0u64, 0u64, 1u32);
    let mut ws = last;
    while started.elapsed() < Duration::from_secs(2) {
        let mut ids = Vec::new();
        for _ in 0..30 {
            ids.push(
                ws.act(Action::Chat {
                    text: "spam".into(),
                })
                .await,
            );
        }
        for id in ids {
            match ws.answer(id).await {
                Ok(_) => stored += 1,
                Err(ErrorCode::RateLimited { .. }) => limited += 1,
                Err(other) => panic!("{other:?}"),
            }
        }
        ws = broker.join(customer(&token), u64::MAX, None).await;
        sockets += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    // The burst (60) and 20 a second after it, with a little slack for timing.
    let allowed = 60.0 + 20.0 * secs + 5.0;
    assert!(
        (stored as f64) <= allowed,
        "{stored} chats stored in {secs:.1} s, the session's rate allows {allowed:.0}"
    );
    assert!(limited > 0);
    broker.flush_audit().await;
    let floods: u64 = broker.audit("flood").iter().map(|l| l.2).sum();
    assert!(floods >= limited);
    eprintln!(
        "one token: 200 sockets in a row, each replaced by the next; a flood from {sockets} \
         sockets in turn stored {stored} chats in {secs:.1} s ({limited} refused as over the rate)"
    );
    broker.stop().await;
}

#[tokio::test]
async fn a_full_log_refuses_more_but_the_session_can_still_end() {
    let broker = Broker::start(|c| c.session_max_entries = 12).await;
    let mut active = broker.active_session_with_ids().await;
    let mut seen = Vec::new();
    let mut stored = 0;
    let error = loop {
        let id = active
            .cust
            .act(Action::Chat {
                text: "more".into(),
            })
            .await;
        match active.cust.answer(id).await {
            Ok(_) => stored += 1,
            Err(error) => break error,
        }
        assert!(stored <= 20, "no cap");
    };
    assert_eq!(
        error,
        ErrorCode::LogFull {
            max_entries: 12,
            max_bytes: broker.state.config.session_max_bytes
        }
    );
    let count: i64 = broker
        .sqlite()
        .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, 12, "nothing past the cap");
    // The end still goes in.
    active.tech.act_ok(Action::End, &mut seen).await;
    broker.flush_audit().await;
    assert!(!broker.audit("log_full").is_empty());
    broker.stop().await;
}

#[tokio::test]
async fn a_close_frame_is_answered_with_one() {
    let broker = Broker::start(|_| {}).await;
    let active = broker.active_session_with_ids().await;
    let mut console = broker
        .socket("/api/console/ws", &broker.origin(), Some(&active.cookie))
        .await
        .unwrap();
    for ws in [&mut console] {
        ws.stream
            .send(Message::Close(Some(CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            })))
            .await
            .unwrap();
        let answered = ws.close_frame(Duration::from_secs(5)).await;
        assert_eq!(answered.map(|(code, _)| code), Some(1000));
    }
    let mut cust = active.cust;
    cust.stream
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::Away,
            reason: "leaving".into(),
        })))
        .await
        .unwrap();
    let answered = cust.close_frame(Duration::from_secs(5)).await;
    assert_eq!(
        answered.map(|(code, _)| code),
        Some(1001),
        "the peer's code echoed"
    );
    // Before hello too.
    let mut fresh = broker
        .socket("/api/ws", &broker.origin(), None)
        .await
        .unwrap();
    fresh
        .stream
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        })))
        .await
        .unwrap();
    assert_eq!(
        fresh.close_frame(Duration::from_secs(5)).await.map(|f| f.0),
        Some(1000)
    );
    let _ = ClientMessage::Ping { t: 0 };
    broker.stop().await;
}

//! What time does to a session, on the broker's clock: each live session's own task
//! ends a wait that runs out and an unused PIN, and expires an unanswered prompt, at
//! the time the rules say; after a restart too.

mod support;

use std::time::Duration;

use connectit_protocol::wire::{Join, ServerMessage};
use connectit_protocol::{Action, Author, EndReason, EntryKind, LogEntry, Permission};
use support::*;

/// Waits (5 s at most) for the entry `matches` picks on `ws`.
async fn entry_where(ws: &mut Ws, matches: impl Fn(&LogEntry) -> bool) -> LogEntry {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let message = tokio::time::timeout_at(deadline, ws.recv())
            .await
            .expect("the entry came in time");
        if let ServerMessage::Entry(e) = message {
            if matches(&e) {
                return e;
            }
        }
    }
}

/// The session's phase and its last entry's kind, read from the database file.
fn stored_end(broker: &Broker, session: &str) -> (String, Option<String>) {
    let db = broker.sqlite();
    let phase: String = db
        .query_row("SELECT phase FROM sessions WHERE id = ?1", [session], |r| {
            r.get(0)
        })
        .unwrap();
    let last: Option<String> = db
        .query_row(
            "SELECT kind FROM entries WHERE session_id = ?1 ORDER BY seq DESC LIMIT 1",
            [session],
            |r| r.get(0),
        )
        .ok();
    (phase, last)
}

#[tokio::test]
async fn a_customer_who_waits_too_long_is_let_go_at_the_limit() {
    let broker = Broker::start(|c| c.waiting_timeout_secs = 1).await;
    let (_, created, joined) = broker.joined_session().await;
    let mut cust = broker
        .join(
            Join::Customer {
                token: joined.token,
            },
            0,
            None,
        )
        .await;
    let mut seen = Vec::new();
    let accepted = cust.act_ok(Action::AcceptTerms, &mut seen).await;
    seen.extend(cust.entries_until(accepted).await);
    let accepted_at = seen
        .iter()
        .find(|e| e.seq == accepted)
        .map(|e| e.at)
        .expect("the acceptance");
    let ended = entry_where(&mut cust, |e| {
        matches!(e.kind, EntryKind::SessionEnded { .. })
    })
    .await;
    assert_eq!(
        ended.kind,
        EntryKind::SessionEnded {
            reason: EndReason::WaitingTimeout
        }
    );
    assert_eq!(ended.author, Author::System);
    let waited = ended.at - accepted_at;
    assert!(
        (1000..2000).contains(&waited),
        "ended {waited} ms into the wait, at the limit"
    );
    assert_eq!(stored_end(&broker, &created.id.0).0, "ended");
    broker.stop().await;
}

#[tokio::test]
async fn a_pin_that_expired_while_the_broker_was_down_ends_its_session_at_start() {
    let broker = Broker::start(|c| c.pin_validity_secs = 1).await;
    let cookie = broker.sign_in("alice").await;
    let created = broker.create_session(&cookie).await;
    let still = broker.create_session(&cookie).await;
    // Down before the PIN expires, back after (with a longer validity for new PINs:
    // these sessions' expiry was set when they were made).
    let broker = broker
        .restart(Duration::from_millis(1500), |c| c.pin_validity_secs = 600)
        .await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let (phase, last) = stored_end(&broker, &created.id.0);
        if phase == "ended" {
            assert!(
                last.as_deref().is_some_and(|k| k.contains("pin_expired")),
                "{last:?}"
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "still {phase}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Both were made with a one-second PIN: both are over, and neither PIN works.
    for pin in [&created.pin, &still.pin] {
        assert_eq!(broker.verify_pin(pin).await.status, 404);
    }
    broker.stop().await;
}

#[tokio::test]
async fn a_prompt_pending_across_a_restart_still_expires() {
    let broker = Broker::start(|c| c.prompt_deadline_secs = 2).await;
    let mut active = broker.active_session_with_ids().await;
    let mut seen = Vec::new();
    let asked = active
        .tech
        .act_ok(
            Action::RequestPermissions {
                permissions: vec![Permission::ViewScreen],
                reason: String::new(),
            },
            &mut seen,
        )
        .await;
    seen.extend(active.tech.entries_until(asked).await);
    let asked_at = seen.last().map(|e| e.at).expect("the request");
    drop(active.cust);
    drop(active.tech);
    let broker = broker
        .restart(Duration::ZERO, |c| c.prompt_deadline_secs = 2)
        .await;
    let mut tech = broker
        .join(
            Join::Technician {
                session: active.created.id.clone(),
            },
            0,
            Some(&active.cookie),
        )
        .await;
    let expired = entry_where(&mut tech, |e| {
        matches!(e.kind, EntryKind::PermissionExpired { .. })
    })
    .await;
    assert_eq!(expired.kind, EntryKind::PermissionExpired { request: 1 });
    assert!(expired.at >= asked_at + 2000, "not before its deadline");
    broker.stop().await;
}

#[tokio::test]
async fn a_session_whose_customer_stays_gone_ends_itself_and_one_who_returns_goes_on() {
    let broker = Broker::start(|c| c.customer_gone_after_secs = 1).await;
    let mut active = broker.active_session_with_ids().await;
    // The customer drops and comes back within the time: nothing ends.
    drop(active.cust);
    entry_where(&mut active.tech, |e| {
        e.kind
            == EntryKind::Disconnected {
                role: connectit_protocol::Role::Customer,
            }
    })
    .await;
    let mut cust = broker
        .join(
            Join::Customer {
                token: active.joined.token.clone(),
            },
            0,
            None,
        )
        .await;
    entry_where(&mut active.tech, |e| {
        matches!(e.kind, EntryKind::Reconnected { .. })
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut seen = Vec::new();
    cust.act_ok(
        Action::Chat {
            text: "still here".into(),
        },
        &mut seen,
    )
    .await;
    // Gone for good: the session ends with its own reason, which the console lists.
    drop(cust);
    let ended = entry_where(&mut active.tech, |e| {
        matches!(e.kind, EntryKind::SessionEnded { .. })
    })
    .await;
    assert_eq!(
        (ended.author, ended.kind),
        (
            Author::System,
            EntryKind::SessionEnded {
                reason: EndReason::CustomerGone
            }
        )
    );
    assert_eq!(stored_end(&broker, &active.created.id.0).0, "ended");
    broker.stop().await;
}

#[tokio::test]
async fn after_a_crash_a_member_who_does_not_come_back_is_logged_gone() {
    let broker = Broker::start(|c| c.customer_gone_after_secs = 1).await;
    let active = broker.active_session_with_ids().await;
    let id = active.created.id.clone();
    let last_before: i64 = broker
        .sqlite()
        .query_row(
            "SELECT max(seq) FROM entries WHERE session_id = ?1",
            [&id.0],
            |r| r.get(0),
        )
        .unwrap();
    // A crash logs no drop: what the stop logged is cut off, so that the log says both
    // members are present when the broker starts again.
    let cut = id.clone();
    let broker = broker
        .restart_editing(
            move |path| {
                let db = rusqlite::Connection::open(path).unwrap();
                db.execute(
                    "DELETE FROM entries WHERE session_id = ?1 AND seq > ?2",
                    rusqlite::params![cut.0, last_before],
                )
                .unwrap();
            },
            |c| c.customer_gone_after_secs = 1,
        )
        .await;
    drop(active);
    // Nobody comes back: each is logged gone after the grace, then the session ends.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (phase, last) = stored_end(&broker, &id.0);
        if phase == "ended" {
            assert!(last.unwrap_or_default().contains("customer_gone"));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "still {phase}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kinds: Vec<String> = broker
        .sqlite()
        .prepare("SELECT kind FROM entries WHERE session_id = ?1 AND seq > ?2 ORDER BY seq")
        .unwrap()
        .query_map(rusqlite::params![id.0, last_before], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    assert!(kinds[0].contains("disconnected") && kinds[1].contains("disconnected"));
    broker.stop().await;
}

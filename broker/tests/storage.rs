//! A database that cannot store (full, capped by `database_max_bytes`, locked by another
//! program, failing one write): the broker refuses new work with a typed error,
//! acknowledges and sends nothing it did not store, burns no PIN, and carries on,
//! without a gap, once the cause is gone. A log another writer added to behind the
//! broker's back is read again, not left refusing every action.

mod support;

use connectit_protocol::{Action, EntryKind, ErrorCode, ServerMessage};
use support::{Broker, Frame, Ws};

/// Sets the broker's own connection's page limit (`SQLITE_FULL` past it).
async fn limit_pages(broker: &Broker, extra: Option<i64>) {
    broker
        .state
        .db
        .call(move |conn| {
            let conn = conn.as_sqlite().expect("the embedded database");
            let count: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            let limit = extra.map(|e| count + e).unwrap_or(1 << 30);
            conn.pragma_update(None, "max_page_count", limit)?;
            Ok(())
        })
        .await
        .unwrap();
}

/// Whether anything but control frames arrives on `ws` within half a second.
async fn quiet(ws: &mut Ws) -> bool {
    match tokio::time::timeout(std::time::Duration::from_millis(500), ws.next_frame()).await {
        Err(_) => true,
        Ok(Frame::Message(m)) => panic!("unexpected {m:?}"),
        Ok(Frame::Closed(c)) => panic!("closed {c:?}"),
    }
}

#[tokio::test]
async fn a_full_database_refuses_work_and_loses_nothing() {
    let broker = Broker::start(|_| {}).await;
    let (mut cust, mut tech) = broker.active_session().await;
    let mut seen = Vec::new();
    let before = cust
        .act_ok(
            Action::Chat {
                text: "before".into(),
            },
            &mut seen,
        )
        .await;
    tech.entries_until(before).await;

    limit_pages(&broker, Some(0)).await;
    // Big messages fill what free pages are left; the first that does not fit is refused.
    let text = "x".repeat(3000);
    let mut stored_last = before;
    let mut cust_seen = before;
    let refused = loop {
        let id = cust.act(Action::Chat { text: text.clone() }).await;
        let answer = loop {
            match cust.recv().await {
                ServerMessage::Entry(e) => {
                    cust_seen = cust_seen.max(e.seq);
                    continue;
                }
                ServerMessage::Ack { id: got, seq } if got == id => break Ok(seq),
                ServerMessage::Error {
                    id: Some(got),
                    error,
                } if got == id => break Err(error),
                other => panic!("unexpected {other:?}"),
            }
        };
        match answer {
            Ok(seq) => stored_last = seq,
            Err(error) => break error,
        }
    };
    // Both sides hold everything stored so far, and then hear nothing more.
    if stored_last > before {
        tech.entries_until(stored_last).await;
    }
    if stored_last > cust_seen {
        cust.entries_until(stored_last).await;
    }
    assert_eq!(refused, ErrorCode::StorageUnavailable);
    assert!(
        quiet(&mut tech).await,
        "nothing unstored reaches the other side"
    );
    assert!(quiet(&mut cust).await, "nor the sender");

    // Room again: the next entry follows the last stored one, with no gap.
    limit_pages(&broker, None).await;
    let after = cust
        .act_ok(
            Action::Chat {
                text: "after".into(),
            },
            &mut seen,
        )
        .await;
    let got = tech.entries_until(after).await;
    let last = got.last().unwrap();
    assert_eq!(
        last.kind,
        EntryKind::Chat {
            text: "after".into(),
            by: None,
        }
    );
    let stored: i64 = broker
        .sqlite()
        .query_row("SELECT max(seq) FROM entries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        stored as u64, after,
        "the log in the file ends with the acknowledged entry"
    );
    let seqs: Vec<i64> = {
        let db = broker.sqlite();
        let mut stmt = db.prepare("SELECT seq FROM entries ORDER BY seq").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    assert_eq!(
        seqs,
        (1..=after as i64).collect::<Vec<_>>(),
        "no gap, no duplicate"
    );
    broker.stop().await;
}

/// Sends chat until the broker refuses one; answers the refusal and the last stored seq
/// (acks, and the entries the sender saw, are drained on the way).
async fn chat_until_refused(ws: &mut Ws, text: &str, mut stored_last: u64) -> (ErrorCode, u64) {
    loop {
        let id = ws.act(Action::Chat { text: text.into() }).await;
        let answer = loop {
            match ws.recv().await {
                ServerMessage::Entry(_) => continue,
                ServerMessage::Ack { id: got, seq } if got == id => break Ok(seq),
                ServerMessage::Error {
                    id: Some(got),
                    error,
                } if got == id => break Err(error),
                other => panic!("unexpected {other:?}"),
            }
        };
        match answer {
            Ok(seq) => stored_last = seq,
            Err(error) => return (error, stored_last),
        }
    }
}

/// The stored sequence numbers of every session: each log must run 1, 2, 3, … with
/// no gap.
fn assert_no_gaps(broker: &Broker) {
    let db = broker.sqlite();
    let mut stmt = db
        .prepare("SELECT session_id, seq FROM entries ORDER BY session_id, seq")
        .unwrap();
    let rows: Vec<(String, i64)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut expected = std::collections::HashMap::new();
    for (session, seq) in rows {
        let next = expected.entry(session.clone()).or_insert(1);
        assert_eq!(seq, *next, "session {session}: a gap or a duplicate");
        *next += 1;
    }
}

#[tokio::test]
async fn database_max_bytes_caps_the_file_and_full_means_refused_not_lost() {
    // Room for the empty schema (about 45 pages of 4 KiB) and a little more.
    const CAP: u64 = 240 * 1024;
    let broker = Broker::start(|c| c.database_max_bytes = CAP).await;
    let cookie = broker.sign_in("alice").await;
    let (mut cust, mut tech) = broker.active_session().await;
    let spare = broker.create_session(&cookie).await;
    // Fill the log with big messages, then with small ones, until nothing fits.
    let mut stored_last = 0;
    for size in [3500, 400, 1] {
        let (refused, last) = chat_until_refused(&mut cust, &"y".repeat(size), stored_last).await;
        assert_eq!(refused, ErrorCode::StorageUnavailable);
        stored_last = last;
    }
    tech.entries_until(stored_last).await;
    assert!(
        quiet(&mut tech).await,
        "nothing unstored reaches the other side"
    );
    // New sessions are refused with the typed error once their rows no longer fit.
    let mut created = 0;
    let refused = loop {
        let r = broker
            .http("POST", "/api/sessions", None, Some(&cookie))
            .await;
        match r.status {
            200 => created += 1,
            _ => break r,
        }
        assert!(created < 500, "the cap never refused a session");
    };
    assert_eq!(
        (refused.status, refused.json::<ErrorCode>()),
        (503, ErrorCode::StorageUnavailable)
    );
    let (pages, page_size): (u64, u64) = {
        let db = broker.sqlite();
        let pages: i64 = db.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        let size: i64 = db.query_row("PRAGMA page_size", [], |r| r.get(0)).unwrap();
        (pages as u64, size as u64)
    };
    eprintln!(
        "full at {} KiB of {} KiB: {stored_last} entries in the log, {created} more sessions",
        pages * page_size / 1024,
        CAP / 1024
    );
    assert!(pages * page_size <= CAP, "the database stays under the cap");
    // A PIN entered now is either refused (and stays good) or joins: never half-used.
    let early = broker.verify_pin(&spare.pin).await;
    eprintln!("a PIN entered while full: {}", early.status);
    assert!(
        [200, 503].contains(&early.status),
        "{}: {}",
        early.status,
        early.text()
    );

    // Room again (the operator raised the cap): the session goes on after its last
    // stored entry, and a PIN refused for want of room works.
    broker.state.db.limit_size(0).unwrap();
    if early.status == 503 {
        assert_eq!(early.json::<ErrorCode>(), ErrorCode::StorageUnavailable);
        let join = broker.verify_pin(&spare.pin).await;
        assert_eq!(join.status, 200, "the PIN was given back: {}", join.text());
    }
    let mut seen = Vec::new();
    let after = cust
        .act_ok(
            Action::Chat {
                text: "room again".into(),
            },
            &mut seen,
        )
        .await;
    assert_eq!(after, stored_last + 1, "no gap");
    tech.entries_until(after).await;
    assert_no_gaps(&broker);
    broker.stop().await;
}

#[tokio::test]
async fn a_database_locked_by_another_process_refuses_writes_and_loses_nothing() {
    let broker = Broker::start(|_| {}).await;
    let (mut cust, mut tech) = broker.active_session().await;
    let mut seen = Vec::new();
    let before = cust
        .act_ok(
            Action::Chat {
                text: "before".into(),
            },
            &mut seen,
        )
        .await;
    tech.entries_until(before).await;
    // The sender's own copy of the entry may still be on its way.
    while !quiet_or_entry(&mut cust).await {}

    // Another program (a backup tool, a shell) takes the write lock and keeps it.
    let other = rusqlite::Connection::open(broker.db_path()).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let id = cust
        .act(Action::Chat {
            text: "while locked".into(),
        })
        .await;
    // The broker waits its busy time-out (5 s), then refuses.
    assert_eq!(
        error_within(&mut cust, id, 15).await,
        ErrorCode::StorageUnavailable
    );
    assert!(
        quiet(&mut tech).await,
        "nothing unstored reaches the other side"
    );
    assert!(quiet(&mut cust).await, "nor the sender");
    let stored: i64 = other
        .query_row("SELECT max(seq) FROM entries", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored as u64, before, "nothing was stored");

    // The lock goes: the session goes on, with no gap.
    other.execute_batch("ROLLBACK").unwrap();
    drop(other);
    let after = cust
        .act_ok(
            Action::Chat {
                text: "after".into(),
            },
            &mut seen,
        )
        .await;
    assert_eq!(after, before + 1);
    let got = tech.entries_until(after).await;
    assert_eq!(
        got.last().unwrap().kind,
        EntryKind::Chat {
            text: "after".into(),
            by: None,
        }
    );
    assert_no_gaps(&broker);
    broker.stop().await;
}

/// The error answering action `id`, waiting up to `secs` (longer than the broker's busy
/// time-out); an ack fails the test.
async fn error_within(ws: &mut Ws, id: u32, secs: u64) -> ErrorCode {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::Message;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.stream.next())
            .await
            .expect("an answer in time")
            .expect("socket open")
            .expect("a frame");
        let Message::Text(text) = frame else { continue };
        match serde_json::from_str::<ServerMessage>(text.as_str()).unwrap() {
            ServerMessage::Error {
                id: Some(got),
                error,
            } if got == id => return error,
            ServerMessage::Ack { id: got, .. } if got == id => panic!("acknowledged"),
            ServerMessage::Entry(e) => panic!("an entry while the database is locked: {e:?}"),
            _ => {}
        }
    }
}

/// True when nothing arrives within half a second; false after an entry.
async fn quiet_or_entry(ws: &mut Ws) -> bool {
    match tokio::time::timeout(std::time::Duration::from_millis(500), ws.next_frame()).await {
        Err(_) => true,
        Ok(Frame::Message(ServerMessage::Entry(_))) => false,
        Ok(Frame::Message(m)) => panic!("unexpected {m:?}"),
        Ok(Frame::Closed(c)) => panic!("closed {c:?}"),
    }
}

#[tokio::test]
async fn a_pin_whose_join_cannot_be_stored_stays_good() {
    let broker = Broker::start(|_| {}).await;
    let cookie = broker.sign_in("alice").await;
    let session = broker.create_session(&cookie).await;
    // Writing the join entry fails inside SQLite (as a full or failing disk would make
    // it), after the PIN was claimed in the same request.
    let other = rusqlite::Connection::open(broker.db_path()).unwrap();
    other
        .execute_batch(
            "CREATE TRIGGER no_joins BEFORE INSERT ON entries
             WHEN NEW.kind LIKE '%customer_joined%'
             BEGIN SELECT RAISE(ABORT, 'no room for the join'); END;",
        )
        .unwrap();
    let refused = broker.verify_pin(&session.pin).await;
    assert_eq!(
        (refused.status, refused.json::<ErrorCode>()),
        (503, ErrorCode::StorageUnavailable)
    );
    let claimed: Option<Vec<u8>> = other
        .query_row(
            "SELECT customer_token_hash FROM sessions WHERE id = ?1",
            [&session.id.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(claimed, None, "the PIN was given back, no token stands");
    other.execute_batch("DROP TRIGGER no_joins").unwrap();
    let joined = broker.verify_pin(&session.pin).await;
    assert_eq!(joined.status, 200, "{}", joined.text());
    assert_no_gaps(&broker);
    broker.stop().await;
}

#[tokio::test]
async fn an_entry_another_broker_stored_is_read_back_and_the_session_goes_on() {
    let broker = Broker::start(|_| {}).await;
    let active = broker.active_session_with_ids().await;
    let (mut cust, mut tech) = (active.cust, active.tech);
    let session = active.created.id.clone();
    let mut seen = Vec::new();
    let before = cust
        .act_ok(
            Action::Chat {
                text: "before".into(),
            },
            &mut seen,
        )
        .await;
    tech.entries_until(before).await;
    while !quiet_or_entry(&mut cust).await {}

    // The broker that ran the session before this one took it over stores one last
    // entry under the next number, behind this broker's back (in the scale-out mode,
    // a broker that has just lost its lease logging a drop on its way out).
    let theirs = connectit_protocol::LogEntry {
        seq: before + 1,
        at: connectit_broker::hub::now_ms(),
        author: connectit_protocol::Author::Customer,
        kind: EntryKind::Chat {
            text: "stored elsewhere".into(),
            by: None,
        },
    };
    let stored = theirs.clone();
    let id = session.clone();
    broker
        .state
        .db
        .call(move |conn| {
            connectit_broker::db::append_entry(
                conn,
                &id,
                &stored,
                None,
                connectit_broker::db::Staffing::Same,
            )
        })
        .await
        .expect("stored by the other writer");

    seen.clear();
    // This broker's next append finds the number taken: it reads the log again and
    // stores under the one after, rather than refusing the session's work from now on.
    let after = cust
        .act_ok(
            Action::Chat {
                text: "after".into(),
            },
            &mut seen,
        )
        .await;
    assert_eq!(after, before + 2);
    // Both members see both, in order, with no gap.
    let got = tech.entries_until(after).await;
    assert_eq!(
        got.iter().map(|e| (e.seq, &e.kind)).collect::<Vec<_>>(),
        [
            (before + 1, &theirs.kind),
            (
                after,
                &EntryKind::Chat {
                    text: "after".into(),
                    by: None,
                }
            )
        ]
    );
    if !seen.iter().any(|e| e.seq == after) {
        seen.extend(cust.entries_until(after).await);
    }
    assert!(
        seen.iter()
            .any(|e| e.seq == before + 1 && e.kind == theirs.kind),
        "the customer saw the other broker's entry too: {seen:?}"
    );
    // And the next goes on from there.
    let next = cust
        .act_ok(
            Action::Chat {
                text: "next".into(),
            },
            &mut seen,
        )
        .await;
    assert_eq!(next, after + 1);
    assert_no_gaps(&broker);
    broker.stop().await;
}

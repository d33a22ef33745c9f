//! A full database: the broker refuses new work with a typed error, acknowledges and
//! sends nothing it did not store, and carries on, without a gap, once there is room.

mod support;

use connectit_protocol::{Action, EntryKind, ErrorCode, ServerMessage};
use support::{Broker, Frame, Ws};

/// Sets the broker's own connection's page limit (`SQLITE_FULL` past it).
async fn limit_pages(broker: &Broker, extra: Option<i64>) {
    broker
        .state
        .hub
        .db()
        .call(move |conn| {
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
            text: "after".into()
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

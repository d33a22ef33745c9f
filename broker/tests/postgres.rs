//! The scale-out mode's storage on a real PostgreSQL server (started by the test, on a
//! loopback port, as its own unprivileged user): brokers appending to one session at
//! once leave no gap and no duplicate, and an embedded database moves across whole.
//! (`CONNECTIT_TEST_DATABASE=postgres` runs the other broker tests on it too.)

mod support;

use std::sync::Arc;

use connectit_broker::chain;
use connectit_broker::db::{self, Db, Staffing};
use connectit_protocol::api::SessionRecord;
use connectit_protocol::{Action, Author, EntryKind, LogEntry, SessionId};
use support::{new_postgres_database, Broker, PASSWORD};

/// The next entry of `session` as `db` sees it, appended; `Err` if another writer took
/// that number first (the caller reads again and retries).
fn append_next(db: &Db, session: &SessionId, text: &str) -> Result<u64, db::DbError> {
    db.blocking(|conn| {
        let last: i64 = conn.query_row(
            "SELECT coalesce(max(seq), 0) FROM entries WHERE session_id = ?1",
            [&session.0],
            |r| r.get(0),
        )?;
        let entry = LogEntry {
            seq: last as u64 + 1,
            at: 1_000 + last as u64,
            author: Author::Customer,
            kind: EntryKind::Chat {
                text: text.into(),
                by: None,
            },
        };
        db::append_entry(conn, session, &entry, None, Staffing::Same)?;
        Ok(entry.seq)
    })
}

#[test]
fn brokers_appending_to_one_session_at_once_leave_no_gap_and_no_duplicate() {
    let (_server, url) = new_postgres_database();
    let session = SessionId("one-session".into());
    let first = Db::postgres(&url, 2).expect("the first broker's pool");
    first
        .blocking(|conn| {
            let t = db::create_technician(conn, "alice", "Alice", "x", 1)?.expect("new");
            db::insert_session(conn, &session, t, b"pin", b"link", u64::MAX / 2, 1)
        })
        .expect("a session");
    // Four writers (two pools of two, as two brokers would have) race for each number.
    const EACH: usize = 60;
    let pools = [
        first,
        Db::postgres(&url, 2).expect("the second broker's pool"),
    ];
    let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let db = pools[w % 2].clone();
            let session = session.clone();
            let refused = refused.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for i in 0..EACH {
                    let mut tries = 0;
                    loop {
                        tries += 1;
                        assert!(tries < 1_000, "writer {w} never got a number in");
                        match append_next(&db, &session, &format!("{w}:{i}")) {
                            Ok(seq) => break mine.push(seq),
                            Err(e) => {
                                assert!(
                                    e.is_conflict() || matches!(e, db::DbError::Corrupt(_)),
                                    "a lost race is refused as such, not as {e}"
                                );
                                refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                    }
                }
                mine
            })
        })
        .collect();
    let mut acknowledged: Vec<u64> = writers
        .into_iter()
        .flat_map(|w| w.join().expect("a writer"))
        .collect();
    acknowledged.sort();
    let total = 4 * EACH as u64;
    assert_eq!(
        acknowledged,
        (1..=total).collect::<Vec<_>>(),
        "every number acknowledged once"
    );
    let stored = pools[1]
        .blocking(|conn| db::entries_with_hashes(conn, &session))
        .expect("the log");
    assert_eq!(stored.len() as u64, total);
    assert!(
        stored.iter().zip(1..).all(|((e, _), n)| e.seq == n),
        "stored without a gap"
    );
    assert_eq!(
        chain::first_break(&session, &stored),
        None,
        "one hash chain"
    );
    let texts: std::collections::HashSet<_> = stored
        .iter()
        .map(|(e, _)| match &e.kind {
            EntryKind::Chat { text, .. } => text.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(texts.len() as u64, total, "no entry stored twice");
}

#[tokio::test]
async fn an_embedded_database_moves_to_postgres_whole_and_the_broker_serves_from_it() {
    // A broker on its SQLite file (whatever CONNECTIT_TEST_DATABASE says), with a
    // session that has a log, and a team.
    let broker = Broker::start(|c| c.database_url.clear()).await;
    let active = broker.active_session_with_ids().await;
    let (mut cust, mut tech) = (active.cust, active.tech);
    let mut seen = Vec::new();
    tech.act_ok(
        Action::Chat {
            text: "Bonjour, ça va ? 🖨".into(),
        },
        &mut seen,
    )
    .await;
    let last = cust
        .act_ok(
            Action::Chat {
                text: "My printer is sad.".into(),
            },
            &mut seen,
        )
        .await;
    tech.entries_until(last).await;
    let id = active.created.id.clone();
    let team = broker
        .state
        .db
        .call(|conn| db::create_team(conn, "printers", "Printers", 5))
        .await
        .unwrap()
        .expect("a team");
    let before = broker
        .http(
            "GET",
            &format!("/api/sessions/{id}/record?format=json"),
            None,
            Some(&active.cookie),
        )
        .await
        .json::<SessionRecord>();
    drop((cust, tech));
    let folder = broker.stop_keeping_folder().await;
    let data = folder.path().join("data");

    // Into an empty PostgreSQL database.
    let (server, url) = new_postgres_database();
    let migrate = |to: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_connectit-broker"))
            .arg("--data")
            .arg(&data)
            .args(["migrate-to-postgres", "--to", to])
            .output()
            .expect("run migrate-to-postgres")
    };
    let out = migrate(&url);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("2 accounts, 1 sessions") && said.contains("1 hash chains verified"),
        "{said}"
    );
    // A second time it refuses: the database is no longer empty.
    let again = migrate(&url);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );

    // A broker on PostgreSQL (with the same keys) serves what was copied.
    let broker = Broker::start_on_postgres((server, url), folder, false).await;
    let cookie = broker.sign_in("alice").await;
    let after = broker
        .http(
            "GET",
            &format!("/api/sessions/{id}/record?format=json"),
            None,
            Some(&cookie),
        )
        .await;
    assert_eq!(after.status, 200, "{}", after.text());
    let after: SessionRecord = after.json();
    // The same chain: what the record had then, hash for hash (the sockets' closing
    // added entries after it).
    assert!(after.entries.len() >= before.entries.len());
    for (was, is) in before.entries.iter().zip(&after.entries) {
        assert_eq!(was.hash, is.hash, "entry {}", was.entry.seq);
    }
    // Ids go on after the copied ones: a new team and a new account are stored.
    let next = broker
        .state
        .db
        .call(|conn| db::create_team(conn, "network", "Network", 6))
        .await
        .unwrap()
        .expect("a second team");
    assert!(next > team);
    broker
        .state
        .db
        .call(|conn| {
            connectit_broker::auth::create_account(conn, "carol", "Carol", PASSWORD)
                .expect("carol");
            Ok(())
        })
        .await
        .unwrap();
    // And the flow goes on there: a new session, joined and chatted in.
    let (mut cust, mut tech) = broker.active_session().await;
    let mut seen = Vec::new();
    let at = cust
        .act_ok(
            Action::Chat {
                text: "Still sad.".into(),
            },
            &mut seen,
        )
        .await;
    tech.entries_until(at).await;
}

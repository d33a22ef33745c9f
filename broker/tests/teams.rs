//! A help desk's one link: customers join a team's queue by its link with a name and a
//! problem, wait with their place in it, and whichever member of the team is free
//! picks them up; the first pick-up wins. The link refuses bad input with typed
//! errors, is throttled per address and capped per team, and an attacker who trips
//! either limit keeps out only themselves (the cap: until a technician ends their
//! sessions).

mod support;

use std::net::Ipv4Addr;
use std::time::Duration;

use connectit_broker::db;
use connectit_protocol::api::{
    SessionNote, SessionSummary, TeamPage, TechnicianRef, VerifyPinResponse,
};
use connectit_protocol::error::Field;
use connectit_protocol::wire::{ClientMessage, ConsoleMessage, Join, ServerMessage};
use connectit_protocol::{
    Action, EntryKind, ErrorCode, LogEntry, Permission, Phase, RuleViolation, SessionId,
};
use serde_json::json;
use support::{Broker, Source, Ws};

/// Makes team `helpdesk` with `members`.
async fn team(broker: &Broker, members: &[&str]) -> i64 {
    let members: Vec<String> = members.iter().map(|m| m.to_string()).collect();
    broker
        .state
        .db
        .call(move |conn| {
            let id = db::create_team(conn, "helpdesk", "Help desk", 0)?.expect("new team");
            for name in members {
                let t = db::technician_by_username(conn, &name)?.expect("account");
                db::set_member(conn, id, t.id, true)?;
            }
            Ok(id)
        })
        .await
        .unwrap()
}

/// Joins the team's queue as `name`: the session and token.
async fn join_queue(broker: &Broker, name: &str) -> VerifyPinResponse {
    let r = broker
        .http(
            "POST",
            "/api/teams/helpdesk/join",
            Some(json!({"name": name, "problem": "The printer is offline"})),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// The customer's socket, terms accepted.
async fn waiting_customer(broker: &Broker, joined: &VerifyPinResponse) -> Ws {
    let mut ws = broker
        .join(
            Join::Customer {
                token: joined.token.clone(),
            },
            0,
            None,
        )
        .await;
    let mut seen = Vec::new();
    ws.act_ok(Action::AcceptTerms, &mut seen).await;
    ws
}

/// Reads the customer's socket until it says they are `position` of `waiting`; the
/// estimate it gave.
async fn place(ws: &mut Ws, position: u32, waiting: u32) -> Option<u64> {
    for _ in 0..200 {
        if let ServerMessage::Queue {
            position: p,
            waiting: w,
            estimated_wait_secs,
        } = ws.recv().await
        {
            if (p, w) == (position, waiting) {
                return estimated_wait_secs;
            }
        }
    }
    panic!("never told {position} of {waiting}");
}

/// The console's view of `id` once it satisfies `want`.
async fn summary_until(
    console: &mut Ws,
    id: &SessionId,
    want: impl Fn(&SessionSummary) -> bool,
) -> SessionSummary {
    for _ in 0..200 {
        let text = console.stream_next_text().await.expect("console open");
        let found = match serde_json::from_str::<ConsoleMessage>(&text).unwrap() {
            ConsoleMessage::Sessions(list) => list.into_iter().find(|s| &s.id == id),
            ConsoleMessage::Session(s) => Some(*s).filter(|s| &s.id == id),
        };
        if let Some(s) = found.filter(|s| want(s)) {
            return s;
        }
    }
    panic!("the console never showed {id} as wanted");
}

async fn pick_up(broker: &Broker, id: &SessionId, cookie: &str) -> support::Reply {
    broker
        .http(
            "POST",
            &format!("/api/sessions/{id}/pick-up"),
            None,
            Some(cookie),
        )
        .await
}

fn error(reply: &support::Reply) -> ErrorCode {
    serde_json::from_slice(&reply.body).unwrap_or_else(|_| panic!("an error: {}", reply.text()))
}

#[tokio::test]
async fn customers_wait_in_order_and_the_first_pick_up_wins() {
    let broker = Broker::start(|_| {}).await;
    team(&broker, &["alice", "bob"]).await;
    broker
        .state
        .db
        .call(|conn| {
            connectit_broker::auth::create_account(conn, "carol", "Carol Ng", support::PASSWORD)
                .expect("carol");
            Ok(())
        })
        .await
        .unwrap();
    let page: TeamPage = broker
        .http("GET", "/api/teams/helpdesk", None, None)
        .await
        .json();
    assert!(page.open);
    assert_eq!((page.team.name.as_str(), page.waiting), ("Help desk", 0));
    assert_eq!(page.estimated_wait_secs, None, "no pick-ups to go by");

    let alice = broker.sign_in("alice").await;
    let bob = broker.sign_in("bob").await;
    let carol = broker.sign_in("carol").await;
    let mut console = broker
        .socket("/api/console/ws", &broker.origin(), Some(&alice))
        .await
        .expect("console");

    let (one, two, three) = (
        join_queue(&broker, "Ann").await,
        join_queue(&broker, "Ben").await,
        join_queue(&broker, "Cat").await,
    );
    let mut ws1 = waiting_customer(&broker, &one).await;
    place(&mut ws1, 1, 1).await;
    let mut ws2 = waiting_customer(&broker, &two).await;
    place(&mut ws2, 2, 2).await;
    let mut ws3 = waiting_customer(&broker, &three).await;
    place(&mut ws3, 3, 3).await;
    place(&mut ws1, 1, 3).await;

    // Alice's console lists the queue with who waits and why; nobody has them yet.
    let s = summary_until(&mut console, &two.session, |s| s.phase == Phase::Waiting).await;
    assert_eq!(s.details.customer_name, "Ben");
    assert_eq!(s.details.problem, "The printer is offline");
    assert_eq!(s.team.as_ref().map(|t| t.slug.as_str()), Some("helpdesk"));
    assert!(s.technician.is_none());
    assert!(s.phase_since > 0);

    // Carol is not in the team: she cannot take anyone.
    let r = pick_up(&broker, &two.session, &carol).await;
    assert_eq!((r.status, error(&r)), (403, ErrorCode::Forbidden));

    // Alice and Bob both click "Pick up" on Ben: one of them gets him.
    let (a, b) = tokio::join!(
        pick_up(&broker, &two.session, &alice),
        pick_up(&broker, &two.session, &bob)
    );
    let (winner, loser) = match (a.status, b.status) {
        (204, 409) => ("alice", b),
        (409, 204) => ("bob", a),
        other => panic!("one pick-up wins, one is refused: {other:?}"),
    };
    assert_eq!(error(&loser), ErrorCode::AlreadyPickedUp);
    let s = summary_until(&mut console, &two.session, |s| s.phase == Phase::Active).await;
    assert_eq!(s.technician.map(|t| t.username), Some(winner.to_string()));

    // The others move up; the pick-up is in Ben's log with the winner's name.
    place(&mut ws3, 2, 2).await;
    place(&mut ws1, 1, 2).await;
    let picked = loop {
        if let ServerMessage::Entry(e) = ws2.recv().await {
            if let EntryKind::TechnicianPickedUp { name } = e.kind {
                break name;
            }
        }
    };
    let expected = if winner == "alice" {
        "Alice Smith"
    } else {
        "Bob Jones"
    };
    assert_eq!(picked, expected);

    // Only the winner may open Ben's session.
    let (winner_cookie, loser_cookie) = if winner == "alice" {
        (&alice, &bob)
    } else {
        (&bob, &alice)
    };
    let mut sock = broker
        .socket("/api/ws", &broker.origin(), Some(loser_cookie))
        .await
        .unwrap();
    sock.send(&connectit_protocol::ClientMessage::Hello {
        join: Join::Technician {
            session: two.session.clone(),
        },
        after: 0,
    })
    .await;
    match sock.recv().await {
        ServerMessage::Error { error, .. } => assert_eq!(error, ErrorCode::Forbidden),
        other => panic!("refused, not {other:?}"),
    }
    broker
        .join(
            Join::Technician {
                session: two.session.clone(),
            },
            0,
            Some(winner_cookie),
        )
        .await;

    // A second pick-up makes a pace to go by: the last in line hears an estimate.
    assert_eq!(pick_up(&broker, &one.session, &bob).await.status, 204);
    let estimate = place(&mut ws3, 1, 1).await;
    assert!(estimate.is_some(), "two pick-ups give an estimate");
    let page: TeamPage = broker
        .http("GET", "/api/teams/helpdesk", None, None)
        .await
        .json();
    assert_eq!(page.waiting, 1);
    assert!(page.estimated_wait_secs.is_some());

    // Leaving the queue (the X) takes Cat out of it.
    let mut seen = Vec::new();
    ws3.act_ok(Action::End, &mut seen).await;
    let page: TeamPage = broker
        .http("GET", "/api/teams/helpdesk", None, None)
        .await
        .json();
    assert_eq!(page.waiting, 0);
    broker.stop().await;
}

#[tokio::test]
async fn the_link_refuses_bad_input_with_typed_errors_and_stores_nothing() {
    let broker = Broker::start(|_| {}).await;
    team(&broker, &["alice"]).await;
    let join = |body: serde_json::Value, slug: &'static str| {
        let broker = &broker;
        async move {
            broker
                .http("POST", &format!("/api/teams/{slug}/join"), Some(body), None)
                .await
        }
    };
    for slug in ["nobody", "Help%20desk", "..", "-x"] {
        let r = join(json!({"name": "Ann", "problem": "x"}), slug).await;
        assert_eq!((r.status, error(&r)), (404, ErrorCode::NotFound), "{slug}");
    }
    let cases = [
        (json!({"name": "  ", "problem": "x"}), Field::CustomerName),
        (
            json!({"name": "Ann\u{7}", "problem": "x"}),
            Field::CustomerName,
        ),
        (json!({"name": "A\nB", "problem": "x"}), Field::CustomerName),
        (
            json!({"name": "x".repeat(101), "problem": "x"}),
            Field::CustomerName,
        ),
        (json!({"name": "Ann", "problem": ""}), Field::Problem),
        (
            json!({"name": "Ann", "problem": "y".repeat(501)}),
            Field::Problem,
        ),
    ];
    for (body, field) in cases {
        let r = join(body.clone(), "helpdesk").await;
        assert_eq!(
            (r.status, error(&r)),
            (400, ErrorCode::InvalidInput { field }),
            "{body}"
        );
    }
    let r = join(json!({"problem": "x"}), "helpdesk").await;
    assert_eq!((r.status, error(&r)), (400, ErrorCode::MalformedMessage));
    let stored: i64 = broker
        .sqlite()
        .query_row("SELECT count(*) FROM sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 0, "nothing refused was stored");

    // Closed: the queue says so and takes nobody; open again, it does.
    let team_id = broker
        .state
        .db
        .call(|conn| Ok(db::team_by_slug(conn, "helpdesk")?.unwrap().id))
        .await
        .unwrap();
    broker
        .state
        .db
        .call(move |conn| db::set_team_open(conn, team_id, false, "Back at 8:00"))
        .await
        .unwrap();
    let page: TeamPage = broker
        .http("GET", "/api/teams/helpdesk", None, None)
        .await
        .json();
    assert!(!page.open);
    assert_eq!(page.closed_message, "Back at 8:00");
    let r = join(json!({"name": "Ann", "problem": "x"}), "helpdesk").await;
    assert_eq!((r.status, error(&r)), (503, ErrorCode::QueueClosed));
    broker
        .state
        .db
        .call(move |conn| db::set_team_open(conn, team_id, true, ""))
        .await
        .unwrap();
    let r = join(json!({"name": "Ann", "problem": "x"}), "helpdesk").await;
    assert_eq!(r.status, 200, "{}", r.text());

    // Details: only the technician who has the session sets them, and typed errors.
    let joined: VerifyPinResponse = r.json();
    let alice = broker.sign_in("alice").await;
    let path = format!("/api/sessions/{}/details", joined.session);
    let body = json!({"customer_name": "Ann Lee", "problem": "x", "ticket": "INC-1042"});
    let r = broker
        .http("PUT", &path, Some(body.clone()), Some(&alice))
        .await;
    assert_eq!(
        (r.status, error(&r)),
        (403, ErrorCode::Forbidden),
        "not hers yet"
    );
    let mut ws = waiting_customer(&broker, &joined).await;
    assert_eq!(pick_up(&broker, &joined.session, &alice).await.status, 204);
    let r = broker.http("PUT", &path, Some(body), Some(&alice)).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let bad = json!({"customer_name": "Ann", "ticket": "INC\n1"});
    let r = broker.http("PUT", &path, Some(bad), Some(&alice)).await;
    assert_eq!(
        (r.status, error(&r)),
        (
            400,
            ErrorCode::InvalidInput {
                field: Field::Ticket
            }
        )
    );
    let ticket: String = broker
        .sqlite()
        .query_row(
            "SELECT ticket FROM sessions WHERE id = ?1",
            [&joined.session.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(ticket, "INC-1042", "the refused change lost nothing");
    // The customer cannot pick themselves up, nor be picked up twice.
    let id = ws.act(Action::PickUp).await;
    assert!(matches!(
        ws.error_for(id).await,
        ErrorCode::NotAllowed { .. }
    ));
    broker.stop().await;
}

#[tokio::test]
async fn one_address_that_floods_the_link_keeps_out_only_itself() {
    let broker = Broker::start(|c| {
        c.queue_joins_per_address = 3;
        c.queue_address_refill_secs = 3600;
    })
    .await;
    team(&broker, &["alice"]).await;
    let body = json!({"name": "Spam", "problem": "x"});
    let mut attacker = Source::new(Ipv4Addr::new(127, 0, 0, 2), broker.addr).await;
    for _ in 0..3 {
        let r = attacker.post("/api/teams/helpdesk/join", &body, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let r = attacker.post("/api/teams/helpdesk/join", &body, &[]).await;
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(matches!(error(&r), ErrorCode::TooManyAttempts { .. }));
    // A customer at another address is not held back.
    let mut customer = Source::new(Ipv4Addr::new(127, 0, 1, 3), broker.addr).await;
    let ok = json!({"name": "Ann", "problem": "Locked out"});
    let r = customer.post("/api/teams/helpdesk/join", &ok, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    broker.flush_audit().await;
    let lines = broker.audit("queue_throttled");
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0].0.as_deref(), Some("127.0.0.2"));
    broker.stop().await;
}

#[tokio::test]
async fn a_full_queue_refuses_more_and_takes_them_again_once_it_moves() {
    let broker = Broker::start(|_| {}).await;
    let team_id = team(&broker, &["alice"]).await;
    broker
        .state
        .db
        .call(move |conn| {
            conn.execute("UPDATE teams SET max_queue = 2 WHERE id = ?1", [team_id])?;
            Ok(())
        })
        .await
        .unwrap();
    let first = join_queue(&broker, "Ann").await;
    join_queue(&broker, "Ben").await;
    let r = broker
        .http(
            "POST",
            "/api/teams/helpdesk/join",
            Some(json!({"name": "Cat", "problem": "x"})),
            None,
        )
        .await;
    assert_eq!((r.status, error(&r)), (503, ErrorCode::QueueFull));
    // Picking someone up makes room.
    let alice = broker.sign_in("alice").await;
    waiting_customer(&broker, &first).await;
    assert_eq!(pick_up(&broker, &first.session, &alice).await.status, 204);
    join_queue(&broker, "Cat").await;
    broker.flush_audit().await;
    assert_eq!(broker.audit("queue_full").len(), 1);
    broker.stop().await;
}

#[tokio::test]
async fn the_queue_and_who_has_a_session_survive_a_restart() {
    let broker = Broker::start(|_| {}).await;
    team(&broker, &["alice"]).await;
    let (a, b) = (
        join_queue(&broker, "Ann").await,
        join_queue(&broker, "Ben").await,
    );
    waiting_customer(&broker, &a).await;
    waiting_customer(&broker, &b).await;
    let alice = broker.sign_in("alice").await;
    assert_eq!(pick_up(&broker, &a.session, &alice).await.status, 204);
    let broker = broker.restart(Duration::from_millis(50), |_| {}).await;
    let alice = broker.sign_in("alice").await;
    // Ben still waits, first in line; Ann's session is still Alice's.
    let mut ws = broker
        .join(
            Join::Customer {
                token: b.token.clone(),
            },
            0,
            None,
        )
        .await;
    place(&mut ws, 1, 1).await;
    broker
        .join(
            Join::Technician {
                session: a.session.clone(),
            },
            0,
            Some(&alice),
        )
        .await;
    broker.stop().await;
}

#[test]
fn a_database_from_before_teams_is_brought_up_to_date_with_nothing_lost() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        // The tables as an earlier version made them: every session had its technician.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "CREATE TABLE technicians (id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE,
                 display_name TEXT NOT NULL, password_hash TEXT NOT NULL, created_at INTEGER NOT NULL);
             CREATE TABLE sessions (
                 id TEXT PRIMARY KEY,
                 technician_id INTEGER NOT NULL REFERENCES technicians(id),
                 pin_hash BLOB UNIQUE,
                 pin_expires_at INTEGER NOT NULL,
                 customer_token_hash BLOB UNIQUE,
                 created_at INTEGER NOT NULL,
                 phase TEXT NOT NULL DEFAULT 'created',
                 phase_since INTEGER NOT NULL,
                 last_activity INTEGER NOT NULL);
             CREATE TABLE entries (session_id TEXT NOT NULL REFERENCES sessions(id), seq INTEGER NOT NULL,
                 at INTEGER NOT NULL, author TEXT NOT NULL, kind TEXT NOT NULL,
                 PRIMARY KEY (session_id, seq)) WITHOUT ROWID;
             INSERT INTO technicians VALUES (1, 'alice', 'Alice Smith', 'x', 0);
             INSERT INTO sessions(id, technician_id, pin_expires_at, created_at, phase, phase_since, last_activity)
                 VALUES ('s1', 1, 10, 1, 'connecting', 2, 2);
             INSERT INTO entries VALUES ('s1', 1, 2, 'system', '{\"type\":\"customer_joined\"}');",
        )
        .unwrap();
    }
    let db = db::Db::open(&path).expect("opens and migrates");
    db.blocking(|conn| {
        let required: bool = conn.query_row(
            "SELECT \"notnull\" FROM pragma_table_info('sessions') WHERE name = 'technician_id'",
            connectit_broker::params![],
            |r| r.get(0),
        )?;
        assert!(!required, "a queued session has no technician");
        let row = db::session_row(conn, &SessionId("s1".into()))?.expect("kept");
        assert_eq!(row.technician_id, Some(1));
        assert_eq!(
            row.technician.map(|t| t.display_name).as_deref(),
            Some("Alice Smith")
        );
        assert_eq!(
            db::entries_after(conn, &SessionId("s1".into()), 0)?.len(),
            1
        );
        let broken: i64 = conn.query_row(
            "SELECT count(*) FROM pragma_foreign_key_check",
            connectit_broker::params![],
            |r| r.get(0),
        )?;
        assert_eq!(broken, 0);
        Ok(())
    })
    .unwrap();
    drop(db);
    // Opening it again changes nothing more.
    db::Db::open(&path).expect("opens again");
}

/// Hours open all of one day of the week that is neither today nor tomorrow (UTC), and
/// hours open all week.
fn hours_closed_now_and_open_now() -> (String, String) {
    const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    // 1970-01-01 was a Thursday (3, Monday first).
    let today = ((support::now_ms() / 86_400_000 + 3) % 7) as usize;
    (
        format!("{} 00:00-24:00", DAYS[(today + 3) % 7]),
        "daily 00:00-24:00".to_string(),
    )
}

#[tokio::test]
async fn outside_its_hours_the_queue_takes_nobody_and_those_waiting_are_told() {
    let broker = Broker::start(|_| {}).await;
    let team_id = team(&broker, &["alice"]).await;
    let (closed, open) = hours_closed_now_and_open_now();
    let set = |hours: String| {
        let db = broker.state.db.clone();
        async move {
            db.call(move |conn| db::set_team_hours(conn, team_id, &hours, "UTC"))
                .await
                .unwrap()
        }
    };
    // Open now: a customer joins and waits; another reads the terms.
    set(open).await;
    let waiting = join_queue(&broker, "Ann").await;
    let mut ws = waiting_customer(&broker, &waiting).await;
    place(&mut ws, 1, 1).await;
    let page: TeamPage = broker
        .http("GET", "/api/teams/helpdesk", None, None)
        .await
        .json();
    assert!(page.open);
    assert_eq!(page.hours, "daily 00:00-24:00");

    // The hours end: the queue takes nobody, and Ann is told it closed.
    set(closed.clone()).await;
    let ended = loop {
        if let ServerMessage::Entry(e) = ws.recv().await {
            if let EntryKind::SessionEnded { reason } = e.kind {
                break reason;
            }
        }
    };
    assert_eq!(ended, connectit_protocol::EndReason::QueueClosed);
    let page: TeamPage = broker
        .http("GET", "/api/teams/helpdesk", None, None)
        .await
        .json();
    assert!(!page.open, "{closed} is not now");
    let r = broker
        .http(
            "POST",
            "/api/teams/helpdesk/join",
            Some(json!({"name": "Ben", "problem": "x"})),
            None,
        )
        .await;
    assert_eq!((r.status, error(&r)), (503, ErrorCode::QueueClosed));
    broker.stop().await;
}

#[tokio::test]
async fn private_notes_stay_with_the_technicians_and_never_reach_the_customer() {
    let broker = Broker::start(|_| {}).await;
    team(&broker, &["alice", "bob"]).await;
    broker
        .state
        .db
        .call(|conn| {
            connectit_broker::auth::create_account(conn, "carol", "Carol Ng", support::PASSWORD)
                .expect("carol");
            Ok(())
        })
        .await
        .unwrap();
    let (alice, bob, carol) = (
        broker.sign_in("alice").await,
        broker.sign_in("bob").await,
        broker.sign_in("carol").await,
    );
    let joined = join_queue(&broker, "Ann").await;
    let mut cust = waiting_customer(&broker, &joined).await;
    assert_eq!(pick_up(&broker, &joined.session, &alice).await.status, 204);
    let path = format!("/api/sessions/{}/notes", joined.session);
    let secret = "Customer's licence expired on 1 March; renewal ticket INC-77";
    let r = broker
        .http("POST", &path, Some(json!({ "text": secret })), Some(&alice))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let note: connectit_protocol::api::SessionNote = r.json();
    assert_eq!(note.author.username, "alice");
    // A colleague in the team reads it (for a handover); someone outside does not.
    let r = broker.http("GET", &path, None, Some(&bob)).await;
    let notes: Vec<connectit_protocol::api::SessionNote> = r.json();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].text, secret);
    let r = broker.http("GET", &path, None, Some(&carol)).await;
    assert_eq!((r.status, error(&r)), (403, ErrorCode::Forbidden));
    let r = broker.http("GET", &path, None, None).await;
    assert_eq!(r.status, 401);
    // Bad notes get a typed error and store nothing.
    for bad in [
        json!({"text": "  "}),
        json!({"text": "x".repeat(4001)}),
        json!({"text": "bell\u{7}"}),
    ] {
        let r = broker.http("POST", &path, Some(bad), Some(&alice)).await;
        assert_eq!(
            (r.status, error(&r)),
            (400, ErrorCode::InvalidInput { field: Field::Note })
        );
    }
    // Nothing of it reached the customer's log or their record.
    let mut seen = Vec::new();
    cust.act_ok(
        Action::Chat {
            text: "hello".into(),
        },
        &mut seen,
    )
    .await;
    let record = broker
        .http(
            "POST",
            "/api/record",
            Some(json!({"token": joined.token, "format": "json"})),
            None,
        )
        .await;
    assert_eq!(record.status, 200);
    assert!(!record.text().contains("licence expired"));
    assert!(seen.iter().all(|e| !format!("{e:?}").contains("licence")));
    let stored: i64 = broker
        .sqlite()
        .query_row("SELECT count(*) FROM notes", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, 1);
    broker.stop().await;
}

#[tokio::test]
async fn a_team_keeps_its_canned_replies_for_its_members_only() {
    let broker = Broker::start(|_| {}).await;
    team(&broker, &["alice", "bob"]).await;
    broker
        .state
        .db
        .call(|conn| {
            connectit_broker::auth::create_account(conn, "carol", "Carol Ng", support::PASSWORD)
                .expect("carol");
            Ok(())
        })
        .await
        .unwrap();
    let (alice, bob, carol) = (
        broker.sign_in("alice").await,
        broker.sign_in("bob").await,
        broker.sign_in("carol").await,
    );
    let body = json!({"team": "helpdesk", "title": "Restart", "text": "Please restart your computer, then tell me when it is back."});
    let r = broker
        .http("POST", "/api/replies", Some(body.clone()), Some(&alice))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let made: connectit_protocol::api::CannedReply = r.json();
    // Bob (same team) sees and edits it; Carol (no team) neither sees nor touches it.
    let list: Vec<connectit_protocol::api::CannedReply> = broker
        .http("GET", "/api/replies", None, Some(&bob))
        .await
        .json();
    assert_eq!(list, vec![made.clone()]);
    let none: Vec<connectit_protocol::api::CannedReply> = broker
        .http("GET", "/api/replies", None, Some(&carol))
        .await
        .json();
    assert!(none.is_empty());
    let path = format!("/api/replies/{}", made.id);
    let edit = json!({"title": "Restart, then wait", "text": "Restart and wait two minutes."});
    let r = broker
        .http("PUT", &path, Some(edit.clone()), Some(&carol))
        .await;
    assert_eq!((r.status, error(&r)), (403, ErrorCode::Forbidden));
    let r = broker
        .http("POST", "/api/replies", Some(body), Some(&carol))
        .await;
    assert_eq!((r.status, error(&r)), (403, ErrorCode::Forbidden));
    assert_eq!(
        broker
            .http("PUT", &path, Some(edit), Some(&bob))
            .await
            .status,
        204
    );
    // Bad input: typed, nothing changed.
    for (bad, field) in [
        (json!({"title": "A\nB", "text": "x"}), Field::ReplyTitle),
        (json!({"title": "ok", "text": "  "}), Field::ReplyText),
        (
            json!({"title": "ok", "text": "x".repeat(4001)}),
            Field::ReplyText,
        ),
    ] {
        let r = broker.http("PUT", &path, Some(bad), Some(&bob)).await;
        assert_eq!(
            (r.status, error(&r)),
            (400, ErrorCode::InvalidInput { field })
        );
    }
    let r = broker
        .http(
            "PUT",
            "/api/replies/x",
            Some(json!({"title": "t", "text": "t"})),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, error(&r)), (404, ErrorCode::NotFound));
    let list: Vec<connectit_protocol::api::CannedReply> = broker
        .http("GET", "/api/replies", None, Some(&alice))
        .await
        .json();
    assert_eq!(list[0].title, "Restart, then wait");
    assert_eq!(
        broker
            .http("DELETE", &path, None, Some(&alice))
            .await
            .status,
        204
    );
    let list: Vec<connectit_protocol::api::CannedReply> = broker
        .http("GET", "/api/replies", None, Some(&alice))
        .await
        .json();
    assert!(list.is_empty());
    broker.stop().await;
}

/// Waits for an entry of the customer's log that `want` matches (others are kept).
async fn entry_until(ws: &mut Ws, seen: &mut Vec<LogEntry>, want: impl Fn(&EntryKind) -> bool) {
    for _ in 0..200 {
        if let ServerMessage::Entry(e) = ws.recv().await {
            let done = want(&e.kind);
            seen.push(e);
            if done {
                return;
            }
        }
    }
    panic!("no such entry came: {seen:?}");
}

/// A technician's socket's `hello` refused: the error it got.
async fn refused_hello(broker: &Broker, session: &SessionId, cookie: &str) -> ErrorCode {
    let mut ws = broker
        .socket("/api/ws", &broker.origin(), Some(cookie))
        .await
        .expect("handshake");
    ws.send(&ClientMessage::Hello {
        join: Join::Technician {
            session: session.clone(),
        },
        after: 0,
    })
    .await;
    match ws.recv().await {
        ServerMessage::Error { error, .. } => error,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_session_is_handed_over_and_a_colleague_invited_with_every_step_in_the_log() {
    let broker = Broker::start(|_| {}).await;
    team(&broker, &["alice", "bob"]).await;
    broker
        .state
        .db
        .call(|conn| {
            connectit_broker::auth::create_account(conn, "carol", "Carol Ng", support::PASSWORD)
                .expect("carol");
            Ok(())
        })
        .await
        .unwrap();
    let (alice, bob, carol) = (
        broker.sign_in("alice").await,
        broker.sign_in("bob").await,
        broker.sign_in("carol").await,
    );
    let names: Vec<TechnicianRef> = broker
        .http("GET", "/api/colleagues", None, Some(&alice))
        .await
        .json();
    assert_eq!(
        names
            .iter()
            .map(|t| t.username.as_str())
            .collect::<Vec<_>>(),
        ["bob"],
        "a colleague shares a team; carol does not, alice is herself"
    );
    let bob_name = names[0].display_name.clone();

    let joined = join_queue(&broker, "Ann").await;
    let id = joined.session.clone();
    let mut cust = waiting_customer(&broker, &joined).await;
    assert_eq!(pick_up(&broker, &id, &alice).await.status, 204);
    let tech_join = Join::Technician {
        session: id.clone(),
    };
    let mut alice_ws = broker.join(tech_join.clone(), 0, Some(&alice)).await;
    let mut seen = Vec::new();
    let asked = alice_ws
        .act_ok(
            Action::RequestPermissions {
                permissions: vec![Permission::ViewScreen],
                reason: String::new(),
            },
            &mut seen,
        )
        .await;
    cust.entries_until(asked).await;
    cust.act_ok(
        Action::Grant {
            request: 1,
            permissions: vec![Permission::ViewScreen],
            for_secs: None,
        },
        &mut seen,
    )
    .await;

    let path = |what: &str| format!("/api/sessions/{id}/{what}");
    let post = |what: &'static str, body: Option<serde_json::Value>, cookie: String| {
        let (broker, path) = (&broker, path(what));
        async move { broker.http("POST", &path, body, Some(&cookie)).await }
    };
    // Invitations: only a colleague, only by whoever has the session.
    for who in ["carol", "alice", "nobody"] {
        let r = post("invite", Some(json!({ "username": who })), alice.clone()).await;
        assert_eq!(
            (r.status, error(&r)),
            (422, ErrorCode::NoSuchColleague),
            "{who}"
        );
    }
    let r = post("invite", Some(json!({"username": "alice"})), bob.clone()).await;
    assert_eq!((r.status, error(&r)), (403, ErrorCode::Forbidden));
    // Not invited yet: bob may neither join nor open the session.
    let r = post("join", None, bob.clone()).await;
    assert_eq!(
        error(&r),
        ErrorCode::NotAllowed {
            violation: RuleViolation::NotInvited
        }
    );
    assert_eq!(
        refused_hello(&broker, &id, &bob).await,
        ErrorCode::Forbidden
    );
    let r = post("invite", Some(json!({"username": "bob"})), alice.clone()).await;
    assert_eq!(r.status, 204, "{}", r.text());
    let r = post("invite", Some(json!({"username": "bob"})), alice.clone()).await;
    assert_eq!(
        error(&r),
        ErrorCode::NotAllowed {
            violation: RuleViolation::NotInvited
        },
        "invited once"
    );
    assert_eq!(post("join", None, bob.clone()).await.status, 204);
    assert_eq!(
        refused_hello(&broker, &id, &carol).await,
        ErrorCode::Forbidden
    );
    let mut bob_ws = broker.join(tech_join.clone(), 0, Some(&bob)).await;
    entry_until(
        &mut cust,
        &mut seen,
        |k| matches!(k, EntryKind::TechnicianJoined { name } if *name == bob_name),
    )
    .await;
    // Bob chats under his own name, and may do nothing else.
    let said = bob_ws
        .act_ok(
            Action::Chat {
                text: "Bob here, I know this printer".into(),
            },
            &mut Vec::new(),
        )
        .await;
    let got = cust.entries_until(said).await;
    assert!(matches!(
        &got.last().unwrap().kind,
        EntryKind::Chat { by: Some(by), .. } if *by == bob_name
    ));
    let asked = bob_ws
        .act(Action::RequestPermissions {
            permissions: vec![Permission::SystemInfo],
            reason: String::new(),
        })
        .await;
    assert_eq!(
        bob_ws.error_for(asked).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::NotInCharge
        }
    );
    bob_ws
        .send(&ClientMessage::Signal {
            link: connectit_protocol::Link::Screen,
            payload: r#"{"type":"hangup"}"#.into(),
            id: None,
        })
        .await;
    assert!(matches!(
        bob_ws.recv().await,
        ServerMessage::Error {
            error: ErrorCode::NotAllowed {
                violation: RuleViolation::NotInCharge
            },
            ..
        }
    ));

    // Alice hands the session to Bob with a note the customer never sees.
    let note = "Driver reinstall half done; customer prefers French";
    let r = post("hand-over", Some(json!({"to": "carol"})), alice.clone()).await;
    assert_eq!((r.status, error(&r)), (422, ErrorCode::NoSuchColleague));
    let r = post("hand-over", Some(json!({"to": "bob"})), bob.clone()).await;
    assert_eq!((r.status, error(&r)), (403, ErrorCode::Forbidden));
    let r = post(
        "hand-over",
        Some(json!({"to": "bob", "note": note})),
        alice.clone(),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let handed = 4003;
    assert_eq!(
        alice_ws.close_frame(Duration::from_secs(5)).await,
        Some((handed, "handed_over".into()))
    );
    entry_until(
        &mut cust,
        &mut seen,
        |k| matches!(k, EntryKind::HandedOver { to: Some(to), .. } if *to == bob_name),
    )
    .await;
    assert_eq!(
        refused_hello(&broker, &id, &alice).await,
        ErrorCode::Forbidden
    );
    // Bob's socket stays open, now as the one who has the session.
    let asked = bob_ws
        .act_ok(
            Action::RequestPermissions {
                permissions: vec![Permission::ViewScreen],
                reason: "To finish the driver".into(),
            },
            &mut Vec::new(),
        )
        .await;
    let got = cust.entries_until(asked).await;
    seen.extend(got);
    let notes: Vec<SessionNote> = broker
        .http("GET", &path("notes"), None, Some(&bob))
        .await
        .json();
    assert!(notes.iter().any(|n| n.text == note));

    // Back to the queue: nobody has it; alice picks it up again.
    let r = post("hand-over", Some(json!({"to": null})), bob.clone()).await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        bob_ws.close_frame(Duration::from_secs(5)).await,
        Some((handed, "handed_over".into()))
    );
    entry_until(&mut cust, &mut seen, |k| {
        matches!(k, EntryKind::HandedOver { to: None, .. })
    })
    .await;
    assert_eq!(pick_up(&broker, &id, &alice).await.status, 204);
    entry_until(&mut cust, &mut seen, |k| {
        matches!(k, EntryKind::TechnicianPickedUp { .. })
    })
    .await;

    // Every step is in the log, in order; the moves logged no drop; the note is not in it.
    let types: Vec<&str> = seen
        .iter()
        .map(|e| e.kind.entry_type().name())
        .filter(|t| {
            [
                "technician_invited",
                "technician_joined",
                "handed_over",
                "technician_picked_up",
            ]
            .contains(t)
        })
        .collect();
    assert_eq!(
        types,
        [
            "technician_picked_up",
            "technician_invited",
            "technician_joined",
            "handed_over",
            "handed_over",
            "technician_picked_up"
        ]
    );
    assert!(
        seen.iter()
            .all(|e| !matches!(e.kind, EntryKind::Disconnected { .. })),
        "{seen:?}"
    );
    assert!(seen.iter().all(|e| !format!("{e:?}").contains("reinstall")));
    let record = broker
        .http(
            "POST",
            "/api/record",
            Some(json!({"token": joined.token, "format": "html"})),
            None,
        )
        .await;
    let record = record.text();
    // The customer's copy says it as the customer's page does.
    assert!(
        record.contains(&format!("handed you over to {bob_name}")),
        "{record}"
    );
    assert!(
        record.contains("passed you back to the help desk’s queue"),
        "{record}"
    );
    assert!(!record.contains("reinstall"));

    // Once it is over, nothing is handed over, and the note is not kept either.
    let mut alice_ws = broker.join(tech_join.clone(), 0, Some(&alice)).await;
    alice_ws.act_ok(Action::End, &mut Vec::new()).await;
    let notes_before: Vec<SessionNote> = broker
        .http("GET", &path("notes"), None, Some(&alice))
        .await
        .json();
    let r = post(
        "hand-over",
        Some(json!({"to": "bob", "note": "too late"})),
        alice.clone(),
    )
    .await;
    assert_eq!(
        (r.status, error(&r)),
        (
            409,
            ErrorCode::NotAllowed {
                violation: RuleViolation::WrongPhase {
                    phase: Phase::Ended
                }
            }
        )
    );
    let notes_after: Vec<SessionNote> = broker
        .http("GET", &path("notes"), None, Some(&alice))
        .await
        .json();
    assert_eq!(notes_after.len(), notes_before.len());
    broker.stop().await;
}

#[tokio::test]
async fn a_session_from_no_team_cannot_go_back_to_a_queue() {
    let broker = Broker::start(|_| {}).await;
    let active = broker.active_session_with_ids().await;
    let r = broker
        .http(
            "POST",
            &format!("/api/sessions/{}/hand-over", active.created.id),
            Some(json!({})),
            Some(&active.cookie),
        )
        .await;
    assert_eq!((r.status, error(&r)), (409, ErrorCode::NoQueue));
    let r = broker
        .http(
            "POST",
            &format!("/api/sessions/{}/hand-over", active.created.id),
            Some(json!({"to": 7})),
            Some(&active.cookie),
        )
        .await;
    assert_eq!(r.status, 400, "a malformed body: {}", r.text());
    broker.stop().await;
}

//! The broker through its real interfaces: HTTP, WebSockets, the SQLite file.

mod support;

use connectit_protocol::api::{SessionSummary, Technician};
use connectit_protocol::error::Field;
use connectit_protocol::wire::{ClientMessage, ConsoleMessage, Join, ServerMessage};
use connectit_protocol::{
    Action, Author, EndReason, EntryKind, ErrorCode, Phase, Role, RuleViolation,
};
use serde_json::json;
use support::{Broker, Frame};

fn customer(token: &str) -> Join {
    Join::Customer {
        token: token.to_string(),
    }
}

#[tokio::test]
async fn the_whole_flow_over_real_sockets_and_sqlite() {
    let broker = Broker::start(|_| {}).await;
    let (cookie, created, joined) = broker.joined_session().await;
    assert_eq!(created.pin.len(), 6);
    let token = created.link.split("/#join=").nth(1).expect("a join link");
    assert!(
        token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit()),
        "the link carries its own 128-bit join token, not the PIN: {}",
        created.link
    );
    assert!(
        created.email_body.contains(&created.pin) && created.email_body.contains(&created.link)
    );

    let mut cust = broker.join(customer(&joined.token), 0, None).await;
    let first = cust.entries_until(1).await;
    assert_eq!(first[0].kind, EntryKind::CustomerJoined);
    assert_eq!(first[0].author, Author::System);

    let mut seen = Vec::new();
    let accepted = cust.act_ok(Action::AcceptTerms, &mut seen).await;
    assert_eq!(accepted, 2);

    let mut tech = broker
        .join(
            Join::Technician {
                session: created.id.clone(),
            },
            0,
            Some(&cookie),
        )
        .await;
    let backlog = tech.entries_until(2).await;
    assert_eq!(backlog.len(), 2, "the technician gets the log so far");
    tech.act_ok(Action::PickUp, &mut seen).await;
    let picked = cust.entries_until(3).await;
    assert!(
        matches!(&picked.last().unwrap().kind, EntryKind::TechnicianPickedUp { name } if name == "Alice Smith")
    );

    tech.act_ok(
        Action::Chat {
            text: "Hello, I am Alice.".into(),
        },
        &mut seen,
    )
    .await;
    cust.act_ok(
        Action::Chat {
            text: "Hi! My printer is sad.".into(),
        },
        &mut seen,
    )
    .await;
    let got = tech.entries_until(5).await;
    assert!(got.iter().any(|e| e.kind
        == EntryKind::Chat {
            text: "Hi! My printer is sad.".into(),
            by: None,
        }
        && e.author == Author::Customer));

    // The customer drops; the technician writes; the customer comes back after seq 5.
    drop(cust);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let missed = tech
        .act_ok(
            Action::Chat {
                text: "Still there?".into(),
            },
            &mut seen,
        )
        .await;
    let mut cust = broker.join(customer(&joined.token), 5, None).await;
    let resumed = cust.entries_until(missed + 1).await;
    let seqs: Vec<u64> = resumed.iter().map(|e| e.seq).collect();
    assert_eq!(
        seqs,
        (6..=missed + 1).collect::<Vec<_>>(),
        "exactly the missed entries, in order"
    );
    assert!(resumed.iter().any(|e| e.kind
        == EntryKind::Disconnected {
            role: Role::Customer
        }));
    assert!(resumed.iter().any(|e| e.kind
        == EntryKind::Chat {
            text: "Still there?".into(),
            by: None,
        }));
    assert_eq!(
        resumed.last().unwrap().kind,
        EntryKind::Reconnected {
            role: Role::Customer
        }
    );

    let end = cust.act_ok(Action::End, &mut seen).await;
    let ended = tech.entries_until(end).await;
    assert_eq!(
        ended.last().unwrap().kind,
        EntryKind::SessionEnded {
            reason: EndReason::CustomerEnded
        }
    );

    let r = broker
        .http("POST", "/api/survey", Some(json!({"token": joined.token, "rating": 4, "resolved": true, "comment": "Quick & kind <3"})), None)
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    let again = broker
        .http(
            "POST",
            "/api/survey",
            Some(json!({"token": joined.token, "rating": 5, "resolved": true, "comment": ""})),
            None,
        )
        .await;
    assert_eq!(again.status, 409);
    assert_eq!(
        again.json::<ErrorCode>(),
        ErrorCode::NotAllowed {
            violation: RuleViolation::SurveyAlreadySubmitted
        }
    );

    // Everything acknowledged is in the file.
    let db = broker.sqlite();
    let (rating, resolved, comment): (i64, Option<bool>, String) = db
        .query_row(
            "SELECT rating, resolved, comment FROM surveys WHERE session_id = ?1",
            [&created.id.0],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(
        (rating, resolved, comment.as_str()),
        (4, Some(true), "Quick & kind <3")
    );
    let stored: i64 = db
        .query_row(
            "SELECT count(*) FROM entries WHERE session_id = ?1",
            [&created.id.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored as u64, end + 1, "every entry, the survey last");
    let pin_hash: Option<Vec<u8>> = db
        .query_row(
            "SELECT pin_hash FROM sessions WHERE id = ?1",
            [&created.id.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(pin_hash, None, "a used PIN is forgotten");
    broker.stop().await;
}

#[tokio::test]
async fn pins_work_until_someone_is_picked_up_and_expire() {
    let broker = Broker::start(|c| c.pin_validity_secs = 1).await;
    let cookie = broker.sign_in("alice").await;
    let a = broker.create_session(&cookie).await;
    let b = broker.create_session(&cookie).await;
    assert_ne!(a.pin, b.pin, "live PINs are unique");

    // Pasted with separators: cleaned.
    let spaced = format!("{} {}", &a.pin[..3], &a.pin[3..]);
    let first = broker.verify_pin(&spaced).await;
    assert_eq!(first.status, 200);
    let first: connectit_protocol::api::VerifyPinResponse = first.json();
    assert_eq!(
        first.session, a.id,
        "the first person gets the session made"
    );
    // A second person with the same PIN waits beside them (nobody was picked up yet),
    // in a session of their own.
    let twice = broker.verify_pin(&a.pin).await;
    assert_eq!(twice.status, 200, "{}", twice.text());
    let second: connectit_protocol::api::VerifyPinResponse = twice.json();
    assert_ne!(second.session, a.id);
    assert_ne!(second.token, first.token);

    let malformed = broker.verify_pin("12345a").await;
    assert_eq!(
        (malformed.status, malformed.json::<ErrorCode>()),
        (400, ErrorCode::InvalidInput { field: Field::Pin })
    );

    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let late = broker.verify_pin(&b.pin).await;
    assert_eq!(
        (late.status, late.json::<ErrorCode>()),
        (404, ErrorCode::InvalidOrExpiredPin)
    );
    // The sweeper ended the unused session.
    let list: Vec<SessionSummary> = broker
        .http("GET", "/api/sessions", None, Some(&cookie))
        .await
        .json();
    let b_now = list.iter().find(|s| s.id == b.id).expect("b listed");
    assert_eq!(b_now.phase, Phase::Ended);
    broker.stop().await;
}

#[tokio::test]
async fn pin_guessing_is_throttled_per_address() {
    let broker = Broker::start(|c| {
        c.pin_attempts_per_address = 3;
        c.pin_address_refill_secs = 60;
    })
    .await;
    let cookie = broker.sign_in("alice").await;
    let live = broker.create_session(&cookie).await;
    let wrong = if live.pin == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..3 {
        assert_eq!(broker.verify_pin(wrong).await.status, 404);
    }
    let throttled = broker.verify_pin(wrong).await;
    assert_eq!(throttled.status, 429);
    let ErrorCode::TooManyAttempts { retry_after_secs } = throttled.json() else {
        panic!("{}", throttled.text())
    };
    assert!((1..=60).contains(&retry_after_secs));
    assert_eq!(
        throttled.header("retry-after"),
        Some(retry_after_secs.to_string())
    );
    // Even the right PIN waits: otherwise the throttle would tell nothing apart.
    assert_eq!(broker.verify_pin(&live.pin).await.status, 429);
    broker.stop().await;
}

#[tokio::test]
async fn a_foreign_origin_is_refused() {
    let broker = Broker::start(|_| {}).await;
    assert_eq!(
        broker
            .socket("/api/ws", "http://evil.example", None)
            .await
            .err(),
        Some(403)
    );
    assert_eq!(
        broker
            .socket("/api/console/ws", "http://evil.example", None)
            .await
            .err(),
        Some(403)
    );
    let ok = broker.socket("/api/ws", &broker.origin(), None).await;
    assert!(ok.is_ok(), "the site's own origin is let in");
    broker.stop().await;
}

#[tokio::test]
async fn oversize_message_is_refused_and_closed_with_1009() {
    let broker = Broker::start(|_| {}).await;
    let (_, _, joined) = broker.joined_session().await;
    let mut ws = broker.join(customer(&joined.token), 0, None).await;
    let huge = "x".repeat(connectit_protocol::limits::MAX_MESSAGE_BYTES + 1);
    ws.send_text(format!(r#"{{"type":"act","data":{{"id":1,"action":{{"type":"chat","data":{{"text":"{huge}"}}}}}}}}"#)).await;
    loop {
        match ws.next_frame().await {
            Frame::Message(ServerMessage::Error {
                error: ErrorCode::MessageTooLarge { .. },
                ..
            }) => {}
            Frame::Message(ServerMessage::Entry(_)) => {}
            Frame::Message(other) => panic!("unexpected {other:?}"),
            Frame::Closed(code) => {
                assert_eq!(code, Some(1009));
                break;
            }
        }
    }
    broker.stop().await;
}

#[tokio::test]
async fn malformed_messages_get_typed_errors_and_change_nothing() {
    let broker = Broker::start(|_| {}).await;
    let (_, created, joined) = broker.joined_session().await;
    let mut ws = broker.join(customer(&joined.token), 0, None).await;
    ws.entries_until(1).await;
    for bad in [
        "not json",
        r#"{"type":"launch_missiles","data":{}}"#,
        r#"{"type":"act","data":{"id":"one","action":{"type":"end"}}}"#,
        r#"{"type":"act","data":{"id":1,"action":{"type":"chat","data":{"text":5}}}}"#,
    ] {
        ws.send_text(bad.to_string()).await;
        match ws.recv().await {
            ServerMessage::Error {
                id: None,
                error: ErrorCode::MalformedMessage,
            } => {}
            other => panic!("{bad}: {other:?}"),
        }
    }
    // A second hello is out of order; the socket still works afterwards.
    ws.send(&ClientMessage::Hello {
        join: customer(&joined.token),
        after: 0,
    })
    .await;
    assert!(matches!(
        ws.recv().await,
        ServerMessage::Error {
            error: ErrorCode::OutOfOrder,
            ..
        }
    ));
    ws.send(&ClientMessage::Ping { t: 42 }).await;
    assert!(matches!(ws.recv().await, ServerMessage::Pong { t: 42, .. }));
    let count: i64 = broker
        .sqlite()
        .query_row(
            "SELECT count(*) FROM entries WHERE session_id = ?1",
            [&created.id.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(count, 1, "nothing but the join was logged");
    broker.stop().await;
}

#[tokio::test]
async fn actions_out_of_turn_are_refused_by_the_rules() {
    let broker = Broker::start(|_| {}).await;
    let (cookie, created, joined) = broker.joined_session().await;
    let mut cust = broker.join(customer(&joined.token), 0, None).await;
    let mut tech = broker
        .join(
            Join::Technician {
                session: created.id.clone(),
            },
            0,
            Some(&cookie),
        )
        .await;

    // Chat before the terms are accepted.
    let id = cust
        .act(Action::Chat {
            text: "hello?".into(),
        })
        .await;
    assert_eq!(
        cust.error_for(id).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::WrongPhase {
                phase: Phase::Connecting
            }
        }
    );
    // Picking up before the customer waits.
    let id = tech.act(Action::PickUp).await;
    assert_eq!(
        tech.error_for(id).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::WrongPhase {
                phase: Phase::Connecting
            }
        }
    );
    // A customer cannot pick up.
    let mut seen = Vec::new();
    cust.act_ok(Action::AcceptTerms, &mut seen).await;
    let id = cust.act(Action::PickUp).await;
    assert_eq!(
        cust.error_for(id).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::WrongAuthor
        }
    );
    tech.act_ok(Action::PickUp, &mut seen).await;
    // Control characters and blank text.
    let id = cust
        .act(Action::Chat {
            text: "bell\u{7}".into(),
        })
        .await;
    assert_eq!(
        cust.error_for(id).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::ControlCharacters
        }
    );
    let id = cust.act(Action::Chat { text: "   ".into() }).await;
    assert_eq!(
        cust.error_for(id).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::EmptyText
        }
    );
    // After the end, nothing more.
    tech.act_ok(Action::End, &mut seen).await;
    let id = cust
        .act(Action::Chat {
            text: "wait".into(),
        })
        .await;
    assert_eq!(
        cust.error_for(id).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::WrongPhase {
                phase: Phase::Ended
            }
        }
    );
    broker.stop().await;
}

/// The error a `hello` as `join` gets (with `cookie`, if any).
async fn hello_refused(broker: &Broker, cookie: Option<&str>, join: Join) -> ErrorCode {
    let mut ws = broker
        .socket("/api/ws", &broker.origin(), cookie)
        .await
        .unwrap();
    ws.send(&ClientMessage::Hello { join, after: 0 }).await;
    match ws.recv().await {
        ServerMessage::Error { id: None, error } => error,
        other => panic!("hello was not refused: {other:?}"),
    }
}

#[tokio::test]
async fn tokens_and_cookies_open_only_their_own_session() {
    let broker = Broker::start(|_| {}).await;
    let (_, created, _) = broker.joined_session().await;
    let theirs = || Join::Technician {
        session: created.id.clone(),
    };

    assert_eq!(
        hello_refused(&broker, None, customer(&"0".repeat(64))).await,
        ErrorCode::Unauthorized
    );
    let bob = broker.sign_in("bob").await;
    assert_eq!(
        hello_refused(&broker, Some(&bob), theirs()).await,
        ErrorCode::Forbidden
    );
    assert_eq!(
        hello_refused(&broker, None, theirs()).await,
        ErrorCode::Unauthorized
    );

    // Acting before hello.
    let mut ws = broker
        .socket("/api/ws", &broker.origin(), None)
        .await
        .unwrap();
    ws.send(&ClientMessage::Act {
        id: 7,
        action: Action::End,
    })
    .await;
    assert!(matches!(
        ws.recv().await,
        ServerMessage::Error {
            id: Some(7),
            error: ErrorCode::OutOfOrder
        }
    ));
    broker.stop().await;
}

#[tokio::test]
async fn sign_in_setup_and_sign_out() {
    let broker = Broker::start(|_| {}).await;
    let bad = broker
        .http(
            "POST",
            "/api/auth/sign-in",
            Some(json!({"username": "alice", "password": "wrong password"})),
            None,
        )
        .await;
    assert_eq!(
        (bad.status, bad.json::<ErrorCode>()),
        (401, ErrorCode::InvalidCredentials)
    );
    let unknown = broker
        .http(
            "POST",
            "/api/auth/sign-in",
            Some(json!({"username": "mallory", "password": "whatever1"})),
            None,
        )
        .await;
    assert_eq!(
        unknown.json::<ErrorCode>(),
        ErrorCode::InvalidCredentials,
        "unknown users look the same"
    );
    assert_eq!(
        broker
            .http("POST", "/api/sessions", None, None)
            .await
            .status,
        401
    );

    let cookie = broker.sign_in("alice").await;
    let me: Technician = broker
        .http("GET", "/api/auth/me", None, Some(&cookie))
        .await
        .json();
    assert_eq!(me.display_name, "Alice Smith");
    let out = broker
        .http("POST", "/api/auth/sign-out", None, Some(&cookie))
        .await;
    assert_eq!(out.status, 204);
    assert_eq!(
        broker
            .http("GET", "/api/auth/me", None, Some(&cookie))
            .await
            .status,
        401,
        "the old cookie is dead"
    );

    // Accounts exist, so the setup code (none was made) opens nothing.
    let setup = broker
        .http("POST", "/api/setup", Some(json!({"code": "AAAA-BBBB-CCCC", "username": "eve", "display_name": "Eve", "password": "password123"})), None)
        .await;
    assert_eq!(setup.json::<ErrorCode>(), ErrorCode::InvalidSetupCode);
    broker.stop().await;
}

#[tokio::test]
async fn sign_in_guessing_is_throttled() {
    let broker = Broker::start(|c| c.sign_in_attempts_per_address = 5).await;
    let mut last = 0;
    for _ in 0..6 {
        last = broker
            .http(
                "POST",
                "/api/auth/sign-in",
                Some(json!({"username": "alice", "password": "guess guess"})),
                None,
            )
            .await
            .status;
    }
    assert_eq!(last, 429);
    broker.stop().await;
}

#[tokio::test]
async fn the_first_account_comes_from_the_one_time_setup_code() {
    let broker = Broker::start_empty().await;
    let status: connectit_protocol::api::SetupStatus =
        broker.http("GET", "/api/setup", None, None).await.json();
    assert!(status.needs_setup);
    let code = broker
        .state
        .setup_code()
        .expect("a setup code while no account exists");
    let setup = |code: String, username: &str| json!({"code": code, "username": username, "display_name": "Root Admin", "password": "password123"});
    let wrong = broker
        .http(
            "POST",
            "/api/setup",
            Some(setup("WRNG-CODE-XXXX".into(), "root")),
            None,
        )
        .await;
    assert_eq!(
        (wrong.status, wrong.json::<ErrorCode>()),
        (403, ErrorCode::InvalidSetupCode)
    );
    let weak = broker
        .http(
            "POST",
            "/api/setup",
            Some(
                json!({"code": code, "username": "root", "display_name": "R", "password": "short"}),
            ),
            None,
        )
        .await;
    assert_eq!(
        weak.json::<ErrorCode>(),
        ErrorCode::InvalidInput {
            field: Field::Password
        }
    );
    // Case and separators do not matter.
    let ok = broker
        .http(
            "POST",
            "/api/setup",
            Some(setup(code.to_lowercase().replace('-', " "), "root")),
            None,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert!(
        ok.header("set-cookie")
            .unwrap()
            .starts_with("connectit_auth="),
        "setup signs the new account in"
    );
    let again = broker
        .http("POST", "/api/setup", Some(setup(code, "root2")), None)
        .await;
    assert_eq!(
        again.json::<ErrorCode>(),
        ErrorCode::InvalidSetupCode,
        "the code works once"
    );
    let status: connectit_protocol::api::SetupStatus =
        broker.http("GET", "/api/setup", None, None).await.json();
    assert!(!status.needs_setup);
    broker.stop().await;
}

#[tokio::test]
async fn consoles_see_their_sessions_change_live() {
    let broker = Broker::start(|_| {}).await;
    let cookie = broker.sign_in("alice").await;
    let bob = broker.sign_in("bob").await;
    assert_eq!(
        broker
            .socket("/api/console/ws", &broker.origin(), None)
            .await
            .err(),
        Some(401)
    );
    let mut console = broker
        .socket("/api/console/ws", &broker.origin(), Some(&cookie))
        .await
        .unwrap();
    let mut bobs = broker
        .socket("/api/console/ws", &broker.origin(), Some(&bob))
        .await
        .unwrap();
    let first = console.stream_text().await;
    assert_eq!(first, ConsoleMessage::Sessions(vec![]));
    assert_eq!(bobs.stream_text().await, ConsoleMessage::Sessions(vec![]));

    let created = broker.create_session(&cookie).await;
    let ConsoleMessage::Session(s) = console.stream_text().await else {
        panic!()
    };
    assert_eq!(
        (s.id.clone(), s.phase),
        (created.id.clone(), Phase::Created)
    );
    broker.verify_pin(&created.pin).await;
    loop {
        let ConsoleMessage::Session(s) = console.stream_text().await else {
            panic!()
        };
        if s.phase == Phase::Connecting {
            break;
        }
    }
    // Bob hears nothing of Alice's sessions.
    let quiet = tokio::time::timeout(
        std::time::Duration::from_millis(300),
        bobs.stream.next_text(),
    )
    .await;
    assert!(quiet.is_err(), "bob got {quiet:?}");
    broker.stop().await;
}

#[tokio::test]
async fn pages_carry_strict_headers_and_routes_fall_back_to_the_app() {
    let broker = Broker::start(|c| {
        c.organisation = "Acme <Support>".into();
        c.applet_url = "https://acme.example/applet.exe?a=1&b=2".into();
    })
    .await;
    let page = broker.http("GET", "/console", None, None).await;
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").expect("CSP");
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(
        page.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(
        page.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
    let html = page.text();
    assert!(html.contains("Acme &lt;Support&gt;"), "{html}");
    assert!(
        html.contains("https://acme.example/applet.exe?a=1&amp;b=2"),
        "{html}"
    );

    let js = broker
        .http("GET", "/app-0123456789abcdef0123.js", None, None)
        .await;
    assert_eq!(
        js.header("content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert!(js.header("cache-control").unwrap().contains("immutable"));
    assert_eq!(
        broker.http("GET", "/missing.js", None, None).await.status,
        404
    );
    assert_eq!(
        broker
            .http("GET", "/../../etc/passwd", None, None)
            .await
            .status,
        200,
        "normalised to the app"
    );
    assert_eq!(
        broker.http("GET", "/api/nothing", None, None).await.status,
        404
    );
    let bad_json = broker
        .http_raw("POST", "/api/pin", Some(b"{nope".to_vec()), None)
        .await;
    assert_eq!(
        (bad_json.status, bad_json.json::<ErrorCode>()),
        (400, ErrorCode::MalformedMessage)
    );
    broker.stop().await;
}

trait NextText {
    async fn next_text(&mut self) -> Option<String>;
}

impl NextText
    for tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>
{
    async fn next_text(&mut self) -> Option<String> {
        use futures_util::StreamExt;
        loop {
            match self.next().await? {
                Ok(tokio_tungstenite::tungstenite::Message::Text(t)) => return Some(t.to_string()),
                Ok(_) => continue,
                Err(_) => return None,
            }
        }
    }
}

impl support::Ws {
    async fn stream_text(&mut self) -> ConsoleMessage {
        let text = tokio::time::timeout(std::time::Duration::from_secs(5), self.stream.next_text())
            .await
            .expect("a console message")
            .expect("socket open");
        serde_json::from_str(&text).unwrap()
    }
}

/// A PIN guess "from" an address given in `X-Forwarded-For`.
async fn guess_via(broker: &Broker, forwarded_for: &str) -> u16 {
    let body = json!({ "pin": "999999" }).to_string().into_bytes();
    support::http_with_headers(
        broker.addr,
        "POST",
        "/api/pin",
        Some(body),
        None,
        &[("x-forwarded-for", forwarded_for)],
    )
    .await
    .status
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    let limits = |c: &mut connectit_broker::config::Config| {
        c.pin_attempts_per_address = 2;
        c.pin_address_refill_secs = 60;
    };
    // Not trusted: the header changes nothing, every guess comes from 127.0.0.1.
    let broker = Broker::start(limits).await;
    assert_eq!(guess_via(&broker, "203.0.113.1").await, 404);
    assert_eq!(guess_via(&broker, "203.0.113.2").await, 404);
    assert_eq!(
        guess_via(&broker, "203.0.113.3").await,
        429,
        "a claimed address does not escape the throttle"
    );
    broker.stop().await;

    // Behind a trusted proxy: each forwarded client has its own bucket.
    let broker = Broker::start(|c| {
        limits(c);
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    assert_eq!(guess_via(&broker, "203.0.113.1").await, 404);
    assert_eq!(guess_via(&broker, "203.0.113.1").await, 404);
    assert_eq!(guess_via(&broker, "203.0.113.1").await, 429);
    assert_eq!(
        guess_via(&broker, "203.0.113.2").await,
        404,
        "another client behind the proxy"
    );
    broker.stop().await;
}

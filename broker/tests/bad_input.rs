//! Bad input, one table: each case names the socket it is sent on, the raw frame, the
//! typed answer it must get and what becomes of the connection. After every case the
//! log in the SQLite file is read again: no entry that was there changed (seq, time,
//! author, kind, chain hash), a refused frame added none, and a socket that should
//! survive still answers a ping.
//!
//! Decisions the table records:
//! - control characters: chat keeps newline and tab and refuses every other control
//!   character (`control_characters`); file names refuse them all, newline and tab
//!   included, and the invisible characters that reorder text (U+202A–U+202E,
//!   U+2066–U+2069). Nothing is cleaned silently: what is stored is what was sent.
//! - binary frames and undecodable text get `malformed_message` and the socket stays.
//! - a message over the message limit gets `message_too_large` and close 1009; a frame
//!   beyond the WebSocket layer's own limit is closed with 1009 too.
//! - the console socket only speaks: any text or binary frame closes it with 1003.
//! - a customer token still opens its session after the end, read-only (the log tells
//!   the customer how it ended; every action is refused); a used or expired PIN, an
//!   unknown token, another technician's session and an expired sign-in open nothing.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use connectit_protocol::error::Field;
use connectit_protocol::limits::{CHAT_MAX_CHARS, MAX_MESSAGE_BYTES, MAX_SIGNAL_BYTES};
use connectit_protocol::wire::{ClientMessage, Join, ServerMessage};
use connectit_protocol::{
    files::FILE_NAME_MAX_CHARS, Action, EntryKind, ErrorCode, Link, Permission, Phase,
    RuleViolation, SessionId,
};
use futures_util::{SinkExt, StreamExt};
use support::{Broker, Ws};
use tokio_tungstenite::tungstenite::Message;

/// Which socket a case is sent on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum On {
    Customer,
    Technician,
    Console,
}

/// Where the session stands when the frame arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    /// The socket is open; no `hello` yet.
    BeforeHello,
    /// The customer joined with the PIN; terms not yet accepted.
    Joined,
    /// Terms accepted, waiting for the technician.
    Waiting,
    /// Picked up: chatting.
    Active,
    /// Active, and the customer granted "receive files" (the customer may offer).
    FilesGranted,
    /// Active; a request (1) ran out without an answer.
    RequestExpired,
    /// The customer ended the session (sockets still open).
    Ended,
    /// Ended, and a new customer socket that has not said `hello`.
    EndedBeforeHello,
}

/// What the session's ids are, for frames that name them.
struct Ctx {
    token: String,
    session: SessionId,
    /// A session of bob's.
    others: SessionId,
}

/// A frame to send.
enum Frame {
    Text(String),
    Binary(Vec<u8>),
}

/// The answer the case must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    /// Stored and acknowledged.
    Ack,
    /// This typed error.
    Error(ErrorCode),
    /// The welcome of a `hello`.
    Welcome,
    /// Nothing before the connection's fate.
    Nothing,
}

/// What becomes of the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    Open,
    Closed(u16),
}

struct Case {
    name: &'static str,
    on: On,
    setup: Setup,
    frame: fn(&Ctx) -> Frame,
    answer: Answer,
    fate: Fate,
}

fn act(action: Action) -> Frame {
    msg(&ClientMessage::Act { id: 7, action })
}

fn msg(m: &ClientMessage) -> Frame {
    Frame::Text(serde_json::to_string(m).unwrap())
}

fn chat(text: String) -> Frame {
    act(Action::Chat { text })
}

fn offer(name: &str) -> Frame {
    act(Action::OfferFile {
        name: name.into(),
        size: 10,
    })
}

fn rule(violation: RuleViolation) -> Answer {
    Answer::Error(ErrorCode::NotAllowed { violation })
}

const MALFORMED: Answer = Answer::Error(ErrorCode::MalformedMessage);
const TOO_BIG: Answer = Answer::Error(ErrorCode::MessageTooLarge {
    max_bytes: MAX_MESSAGE_BYTES as u32,
});

#[rustfmt::skip]
fn table() -> Vec<Case> {
    use Fate::*;
    use On::*;
    use Setup::*;
    vec![
        // Frames that do not decode.
        Case { name: "not JSON", on: Customer, setup: Active, frame: |_| Frame::Text("{nope".into()), answer: MALFORMED, fate: Open },
        Case { name: "empty text", on: Technician, setup: Active, frame: |_| Frame::Text(String::new()), answer: MALFORMED, fate: Open },
        Case { name: "unknown message type", on: Customer, setup: Active, frame: |_| Frame::Text(r#"{"type":"launch_missiles","data":{}}"#.into()), answer: MALFORMED, fate: Open },
        Case { name: "unknown action", on: Technician, setup: Active, frame: |_| Frame::Text(r#"{"type":"act","data":{"id":1,"action":{"type":"format_disk"}}}"#.into()), answer: MALFORMED, fate: Open },
        Case { name: "id of the wrong type", on: Customer, setup: Active, frame: |_| Frame::Text(r#"{"type":"act","data":{"id":"one","action":{"type":"end"}}}"#.into()), answer: MALFORMED, fate: Open },
        Case { name: "chat text a number", on: Customer, setup: Active, frame: |_| Frame::Text(r#"{"type":"act","data":{"id":1,"action":{"type":"chat","data":{"text":5}}}}"#.into()), answer: MALFORMED, fate: Open },
        Case { name: "negative file size", on: Customer, setup: FilesGranted, frame: |_| Frame::Text(r#"{"type":"act","data":{"id":1,"action":{"type":"offer_file","data":{"name":"a.txt","size":-1}}}}"#.into()), answer: MALFORMED, fate: Open },
        Case { name: "unknown permission", on: Technician, setup: Active, frame: |_| Frame::Text(r#"{"type":"act","data":{"id":1,"action":{"type":"request_permissions","data":{"permissions":["root"],"reason":"x"}}}}"#.into()), answer: MALFORMED, fate: Open },
        Case { name: "request id beyond u32", on: Customer, setup: Active, frame: |_| Frame::Text(r#"{"type":"act","data":{"id":1,"action":{"type":"deny","data":{"request":4294967296}}}}"#.into()), answer: MALFORMED, fate: Open },
        Case { name: "binary frame", on: Customer, setup: Active, frame: |_| Frame::Binary(b"\x00\x01binary".to_vec()), answer: MALFORMED, fate: Open },
        Case { name: "binary frame before hello", on: Customer, setup: BeforeHello, frame: |_| Frame::Binary(vec![0xff; 16]), answer: MALFORMED, fate: Open },
        // Sizes: just under and just over each limit.
        Case { name: "chat of exactly the limit", on: Customer, setup: Active, frame: |_| chat("é".repeat(CHAT_MAX_CHARS)), answer: Answer::Ack, fate: Open },
        Case { name: "chat one character over", on: Customer, setup: Active, frame: |_| chat("é".repeat(CHAT_MAX_CHARS + 1)), answer: rule(RuleViolation::TextTooLong { max_chars: CHAT_MAX_CHARS as u32 }), fate: Open },
        Case { name: "message just under the size limit", on: Technician, setup: Active, frame: |_| chat("x".repeat(MAX_MESSAGE_BYTES - 100)), answer: rule(RuleViolation::TextTooLong { max_chars: CHAT_MAX_CHARS as u32 }), fate: Open },
        Case { name: "message just over the size limit", on: Customer, setup: Active, frame: |_| chat("x".repeat(MAX_MESSAGE_BYTES)), answer: TOO_BIG, fate: Closed(1009) },
        Case { name: "frame beyond the WebSocket limit", on: Technician, setup: Active, frame: |_| chat("x".repeat(5 * MAX_MESSAGE_BYTES)), answer: Answer::Nothing, fate: Closed(1009) },
        Case { name: "signal just over its limit", on: Customer, setup: Active, frame: |_| msg(&ClientMessage::Signal { link: Link::Screen, payload: "x".repeat(MAX_SIGNAL_BYTES + 1), id: None }), answer: Answer::Error(ErrorCode::MessageTooLarge { max_bytes: MAX_SIGNAL_BYTES as u32 }), fate: Open },
        Case { name: "file name of exactly the limit", on: Customer, setup: FilesGranted, frame: |_| offer(&format!("{}.txt", "n".repeat(FILE_NAME_MAX_CHARS - 4))), answer: Answer::Ack, fate: Open },
        Case { name: "file name one over", on: Customer, setup: FilesGranted, frame: |_| offer(&format!("{}.txt", "n".repeat(FILE_NAME_MAX_CHARS - 3))), answer: rule(RuleViolation::TextTooLong { max_chars: FILE_NAME_MAX_CHARS as u32 }), fate: Open },
        // Control characters.
        Case { name: "chat with newline and tab", on: Customer, setup: Active, frame: |_| chat("line one\n\tline two".into()), answer: Answer::Ack, fate: Open },
        Case { name: "chat with a bell", on: Customer, setup: Active, frame: |_| chat("ding\u{7}".into()), answer: rule(RuleViolation::ControlCharacters), fate: Open },
        Case { name: "chat with an escape sequence", on: Technician, setup: Active, frame: |_| chat("\u{1b}[2J cleared".into()), answer: rule(RuleViolation::ControlCharacters), fate: Open },
        Case { name: "chat with a NUL", on: Customer, setup: Active, frame: |_| chat("a\u{0}b".into()), answer: rule(RuleViolation::ControlCharacters), fate: Open },
        Case { name: "chat with a carriage return", on: Customer, setup: Active, frame: |_| chat("a\rb".into()), answer: rule(RuleViolation::ControlCharacters), fate: Open },
        Case { name: "file name with a newline", on: Customer, setup: FilesGranted, frame: |_| offer("report\n.pdf"), answer: rule(RuleViolation::ControlCharacters), fate: Open },
        Case { name: "file name with a NUL", on: Customer, setup: FilesGranted, frame: |_| offer("report.pdf\u{0}.exe"), answer: rule(RuleViolation::ControlCharacters), fate: Open },
        Case { name: "file name reversed by U+202E", on: Customer, setup: FilesGranted, frame: |_| offer("invoice\u{202e}fdp.exe"), answer: rule(RuleViolation::ControlCharacters), fate: Open },
        Case { name: "file name, plain", on: Customer, setup: FilesGranted, frame: |_| offer("report (1).pdf"), answer: Answer::Ack, fate: Open },
        // The wrong role.
        Case { name: "customer picks up", on: Customer, setup: Waiting, frame: |_| act(Action::PickUp), answer: rule(RuleViolation::WrongAuthor), fate: Open },
        Case { name: "customer asks for permissions", on: Customer, setup: Active, frame: |_| act(Action::RequestPermissions { permissions: vec![Permission::ViewScreen], reason: "x".into() }), answer: rule(RuleViolation::WrongAuthor), fate: Open },
        Case { name: "technician accepts the terms", on: Technician, setup: Joined, frame: |_| act(Action::AcceptTerms), answer: rule(RuleViolation::WrongAuthor), fate: Open },
        Case { name: "technician grants", on: Technician, setup: Active, frame: |_| act(Action::Grant { request: 1, permissions: vec![Permission::ViewScreen], for_secs: None }), answer: rule(RuleViolation::WrongAuthor), fate: Open },
        Case { name: "technician revokes", on: Technician, setup: FilesGranted, frame: |_| act(Action::Revoke { permissions: vec![Permission::ReceiveFiles] }), answer: rule(RuleViolation::WrongAuthor), fate: Open },
        // Out of turn.
        Case { name: "action before hello", on: Customer, setup: BeforeHello, frame: |_| act(Action::AcceptTerms), answer: Answer::Error(ErrorCode::OutOfOrder), fate: Open },
        Case { name: "second hello", on: Customer, setup: Active, frame: |c| msg(&ClientMessage::Hello { join: Join::Customer { token: c.token.clone() }, after: 0 }), answer: Answer::Error(ErrorCode::OutOfOrder), fate: Open },
        Case { name: "chat before the terms", on: Customer, setup: Joined, frame: |_| chat("hello?".into()), answer: rule(RuleViolation::WrongPhase { phase: Phase::Connecting }), fate: Open },
        Case { name: "accepting the terms twice", on: Customer, setup: Waiting, frame: |_| act(Action::AcceptTerms), answer: rule(RuleViolation::WrongPhase { phase: Phase::Waiting }), fate: Open },
        Case { name: "grant with no request", on: Customer, setup: Active, frame: |_| act(Action::Grant { request: 1, permissions: vec![Permission::ViewScreen], for_secs: None }), answer: rule(RuleViolation::NoSuchRequest), fate: Open },
        Case { name: "grant of an expired request", on: Customer, setup: RequestExpired, frame: |_| act(Action::Grant { request: 1, permissions: vec![Permission::ViewScreen], for_secs: None }), answer: rule(RuleViolation::NoSuchRequest), fate: Open },
        Case { name: "more time for an expired request", on: Customer, setup: RequestExpired, frame: |_| act(Action::MoreTime { request: 1 }), answer: rule(RuleViolation::NoSuchRequest), fate: Open },
        Case { name: "accepting a file never offered", on: Customer, setup: Active, frame: |_| act(Action::AcceptFile { file: 1 }), answer: rule(RuleViolation::FileState), fate: Open },
        Case { name: "chat after the end", on: Customer, setup: Ended, frame: |_| chat("still there?".into()), answer: rule(RuleViolation::WrongPhase { phase: Phase::Ended }), fate: Open },
        Case { name: "technician picks up after the end", on: Technician, setup: Ended, frame: |_| act(Action::PickUp), answer: rule(RuleViolation::WrongPhase { phase: Phase::Ended }), fate: Open },
        // Ids and tokens that are not this socket's.
        Case { name: "another technician's session", on: Technician, setup: BeforeHello, frame: |c| msg(&ClientMessage::Hello { join: Join::Technician { session: c.others.clone() }, after: 0 }), answer: Answer::Error(ErrorCode::Forbidden), fate: Closed(1008) },
        Case { name: "an unknown session id", on: Technician, setup: BeforeHello, frame: |_| msg(&ClientMessage::Hello { join: Join::Technician { session: SessionId("0".repeat(32)) }, after: 0 }), answer: Answer::Error(ErrorCode::NotFound), fate: Closed(1008) },
        Case { name: "a technician's hello without a sign-in", on: Customer, setup: BeforeHello, frame: |c| msg(&ClientMessage::Hello { join: Join::Technician { session: c.session.clone() }, after: 0 }), answer: Answer::Error(ErrorCode::Unauthorized), fate: Closed(1008) },
        Case { name: "a made-up customer token", on: Customer, setup: BeforeHello, frame: |_| msg(&ClientMessage::Hello { join: Join::Customer { token: "A".repeat(43) }, after: 0 }), answer: Answer::Error(ErrorCode::Unauthorized), fate: Closed(1008) },
        Case { name: "grant naming a request of another session", on: Customer, setup: Active, frame: |_| act(Action::Grant { request: 1, permissions: vec![Permission::ReceiveFiles], for_secs: None }), answer: rule(RuleViolation::NoSuchRequest), fate: Open },
        Case { name: "resume token after the session ended", on: Customer, setup: EndedBeforeHello, frame: |c| msg(&ClientMessage::Hello { join: Join::Customer { token: c.token.clone() }, after: 0 }), answer: Answer::Welcome, fate: Open },
        // The console socket takes no messages.
        Case { name: "text on the console", on: Console, setup: Active, frame: |_| Frame::Text(r#"{"type":"ping","data":{"t":1}}"#.into()), answer: Answer::Nothing, fate: Closed(1003) },
        Case { name: "binary on the console", on: Console, setup: Active, frame: |_| Frame::Binary(vec![1, 2, 3]), answer: Answer::Nothing, fate: Closed(1003) },
        Case { name: "oversize frame on the console", on: Console, setup: Active, frame: |_| Frame::Text("x".repeat(5 * MAX_MESSAGE_BYTES)), answer: Answer::Nothing, fate: Closed(1009) },
    ]
}

/// Every stored entry: (session, seq) → (at, author, kind, hash).
type Snapshot = BTreeMap<(String, i64), (i64, String, String, Vec<u8>)>;

fn snapshot(broker: &Broker) -> Snapshot {
    let db = broker.sqlite();
    let mut stmt = db
        .prepare("SELECT session_id, seq, at, author, kind, hash FROM entries")
        .unwrap();
    let rows = stmt
        .query_map([], |r| {
            Ok((
                (r.get(0)?, r.get(1)?),
                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
            ))
        })
        .unwrap();
    rows.map(Result::unwrap).collect()
}

/// The sockets of a case, set up as it asks.
struct Scene {
    ctx: Ctx,
    cust: Option<Ws>,
    tech: Option<Ws>,
    console: Option<Ws>,
}

async fn scene(broker: &Broker, alice: &str, others: &SessionId, setup: Setup, on: On) -> Scene {
    let created = broker.create_session(alice).await;
    let joined = broker.verify_pin(&created.pin).await;
    assert_eq!(joined.status, 200, "{}", joined.text());
    let joined: connectit_protocol::api::VerifyPinResponse = joined.json();
    let ctx = Ctx {
        token: joined.token.clone(),
        session: created.id.clone(),
        others: others.clone(),
    };
    let customer = Join::Customer {
        token: joined.token.clone(),
    };
    let technician = Join::Technician {
        session: created.id.clone(),
    };
    let mut seen = Vec::new();
    let mut cust = broker.join(customer.clone(), 0, None).await;
    let mut tech = broker.join(technician.clone(), 0, Some(alice)).await;
    if setup != Setup::Joined && setup != Setup::BeforeHello {
        cust.act_ok(Action::AcceptTerms, &mut seen).await;
    }
    if !matches!(setup, Setup::Joined | Setup::BeforeHello | Setup::Waiting) {
        tech.act_ok(Action::PickUp, &mut seen).await;
    }
    match setup {
        Setup::FilesGranted => {
            tech.act_ok(
                Action::RequestPermissions {
                    permissions: vec![Permission::ReceiveFiles],
                    reason: "your logs".into(),
                },
                &mut seen,
            )
            .await;
            let granted = cust
                .act_ok(
                    Action::Grant {
                        request: 1,
                        permissions: vec![Permission::ReceiveFiles],
                        for_secs: None,
                    },
                    &mut seen,
                )
                .await;
            let _ = granted;
        }
        Setup::RequestExpired => {
            tech.act_ok(
                Action::RequestPermissions {
                    permissions: vec![Permission::ViewScreen],
                    reason: "the error".into(),
                },
                &mut seen,
            )
            .await;
            // The broker's clock runs the (one-second) prompt out.
            loop {
                if let ServerMessage::Entry(e) = cust.recv().await {
                    if matches!(e.kind, EntryKind::PermissionExpired { request: 1 }) {
                        break;
                    }
                }
            }
        }
        Setup::Ended | Setup::EndedBeforeHello => {
            let ended = cust.act_ok(Action::End, &mut seen).await;
            tech.entries_until(ended).await;
        }
        _ => {}
    }
    if matches!(setup, Setup::BeforeHello | Setup::EndedBeforeHello) {
        // The case's socket is a new one that has not said hello; a customer's
        // carries no cookie, a technician's carries alice's.
        let origin = broker.origin();
        match on {
            On::Customer => cust = broker.socket("/api/ws", &origin, None).await.unwrap(),
            On::Technician => {
                tech = broker
                    .socket("/api/ws", &origin, Some(alice))
                    .await
                    .unwrap()
            }
            On::Console => {}
        }
    }
    let console = if on == On::Console {
        let mut c = broker
            .socket("/api/console/ws", &broker.origin(), Some(alice))
            .await
            .unwrap();
        // The list comes first.
        let first = tokio::time::timeout(Duration::from_secs(5), c.stream.next())
            .await
            .unwrap();
        assert!(matches!(first, Some(Ok(Message::Text(_)))), "{first:?}");
        Some(c)
    } else {
        None
    };
    // Drain what the setup sent, so the case's answer is the next thing heard.
    for ws in [&mut cust, &mut tech] {
        while let Ok(Some(Ok(_))) =
            tokio::time::timeout(Duration::from_millis(100), ws.stream.next()).await
        {}
    }
    Scene {
        ctx,
        cust: Some(cust),
        tech: Some(tech),
        console,
    }
}

/// The next data frame, or the close code (`None` for a close without one, or a
/// dropped connection).
async fn next_data(ws: &mut Ws) -> Result<ServerMessage, Option<u16>> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(5), ws.stream.next())
            .await
            .expect("an answer within 5 s");
        match frame {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(t.as_str()).unwrap()),
            Some(Ok(Message::Close(f))) => return Err(f.map(|f| u16::from(f.code))),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Err(None),
        }
    }
}

async fn run_case(broker: &Broker, alice: &str, others: &SessionId, case: &Case) {
    let name = case.name;
    let mut scene = scene(broker, alice, others, case.setup, case.on).await;
    let before = snapshot(broker);
    let ws = match case.on {
        On::Customer => scene.cust.as_mut().unwrap(),
        On::Technician => scene.tech.as_mut().unwrap(),
        On::Console => scene.console.as_mut().unwrap(),
    };
    let frame = match (case.frame)(&scene.ctx) {
        Frame::Text(t) => Message::Text(t.into()),
        Frame::Binary(b) => Message::Binary(b.into()),
    };
    // A frame over the limit may be cut off mid-send: what counts is the answer.
    let _ = ws.stream.send(frame).await;

    // The answer (entries of the session may come first).
    let mut got = Answer::Nothing;
    let mut closed = None;
    loop {
        match next_data(ws).await {
            Ok(ServerMessage::Entry(_)) if case.on != On::Console => continue,
            Ok(ServerMessage::Ack { id: 7, .. }) => got = Answer::Ack,
            Ok(ServerMessage::Error { error, .. }) => got = Answer::Error(error),
            Ok(ServerMessage::Welcome { .. }) => got = Answer::Welcome,
            Ok(other) => panic!("{name}: unexpected {other:?}"),
            Err(code) => closed = Some(code),
        }
        break;
    }
    assert_eq!(
        got,
        if closed.is_some() {
            Answer::Nothing
        } else {
            case.answer
        },
        "{name}: the answer"
    );
    if case.answer == Answer::Nothing {
        assert!(closed.is_some(), "{name}: expected no answer, only a close");
    }

    match case.fate {
        Fate::Closed(_) => {
            let code = match closed {
                Some(code) => code,
                None => loop {
                    match next_data(ws).await {
                        Ok(ServerMessage::Entry(_)) => continue,
                        Ok(other) => panic!("{name}: {other:?} before the close"),
                        Err(code) => break code,
                    }
                },
            };
            assert_eq!(code, Some(case_code(case)), "{name}: the close code");
        }
        Fate::Open => {
            assert!(closed.is_none(), "{name}: closed with {closed:?}");
            if case.on == On::Console {
                ws.stream
                    .send(Message::Ping(b"still".to_vec().into()))
                    .await
                    .unwrap();
                loop {
                    let frame = tokio::time::timeout(Duration::from_secs(5), ws.stream.next())
                        .await
                        .unwrap();
                    match frame {
                        Some(Ok(Message::Pong(p))) => {
                            assert_eq!(&p[..], b"still");
                            break;
                        }
                        Some(Ok(Message::Text(_))) => continue,
                        other => panic!("{name}: no pong: {other:?}"),
                    }
                }
            } else {
                ws.send(&ClientMessage::Ping { t: 4242 }).await;
                loop {
                    match next_data(ws).await {
                        Ok(ServerMessage::Pong { t: 4242, .. }) => break,
                        Ok(ServerMessage::Entry(_) | ServerMessage::Welcome { .. }) => continue,
                        other => panic!("{name}: no pong: {other:?}"),
                    }
                }
            }
        }
    }

    // The log: nothing that was there changed; a refused frame added nothing but the
    // presence entries of a closed socket.
    let after = snapshot(broker);
    for (key, row) in &before {
        assert_eq!(after.get(key), Some(row), "{name}: entry {key:?} changed");
    }
    let added: Vec<&String> = after
        .iter()
        .filter(|(k, _)| !before.contains_key(*k))
        .map(|(_, (_, _, kind, _))| kind)
        .filter(|kind| !kind.contains("disconnected") && !kind.contains("reconnected"))
        .collect();
    let expected_added = usize::from(case.answer == Answer::Ack);
    assert_eq!(
        added.len(),
        expected_added,
        "{name}: entries added: {added:?}"
    );
}

fn case_code(case: &Case) -> u16 {
    match case.fate {
        Fate::Closed(code) => code,
        Fate::Open => unreachable!(),
    }
}

#[tokio::test]
async fn every_bad_frame_gets_its_typed_answer_and_changes_no_stored_entry() {
    let broker = Broker::start(|c| c.prompt_deadline_secs = 1).await;
    let alice = broker.sign_in("alice").await;
    let bob = broker.sign_in("bob").await;
    let others = broker.create_session(&bob).await.id;
    let cases = table();
    for case in &cases {
        run_case(&broker, &alice, &others, case).await;
    }
    eprintln!("{} bad-input cases", cases.len());
    broker.stop().await;
}

#[tokio::test]
async fn used_and_expired_pins_and_sign_ins_open_nothing() {
    let broker = Broker::start(|c| {
        c.sign_in_validity_secs = 3;
        c.pin_validity_secs = 2;
    })
    .await;
    // A PIN is used once its customer is picked up.
    let active = broker.active_session_with_ids().await;
    let (alice, used) = (active.cookie.clone(), active.created.clone());
    let expiring = broker.create_session(&alice).await;
    let before = snapshot(&broker);
    // A used PIN, again.
    let again = broker.verify_pin(&used.pin).await;
    assert_eq!(
        (again.status, again.json::<ErrorCode>()),
        (404, ErrorCode::InvalidOrExpiredPin)
    );
    // Not a PIN at all.
    let letters = broker.verify_pin("12a456").await;
    assert_eq!(
        (letters.status, letters.json::<ErrorCode>()),
        (400, ErrorCode::InvalidInput { field: Field::Pin })
    );
    tokio::time::sleep(Duration::from_millis(3200)).await;
    // An expired PIN.
    let late = broker.verify_pin(&expiring.pin).await;
    assert_eq!(
        (late.status, late.json::<ErrorCode>()),
        (404, ErrorCode::InvalidOrExpiredPin)
    );
    // An expired sign-in: the console refuses the handshake, the session socket the
    // hello, and the API the request.
    assert_eq!(
        broker
            .socket("/api/console/ws", &broker.origin(), Some(&alice))
            .await
            .err(),
        Some(401)
    );
    let mut ws = broker
        .socket("/api/ws", &broker.origin(), Some(&alice))
        .await
        .unwrap();
    ws.send(&ClientMessage::Hello {
        join: Join::Technician {
            session: used.id.clone(),
        },
        after: 0,
    })
    .await;
    assert_eq!(
        next_data(&mut ws).await.ok(),
        Some(ServerMessage::Error {
            id: None,
            error: ErrorCode::Unauthorized
        })
    );
    assert_eq!(next_data(&mut ws).await.err(), Some(Some(1008)));
    let list = broker
        .http("GET", "/api/sessions", None, Some(&alice))
        .await;
    assert_eq!(
        (list.status, list.json::<ErrorCode>()),
        (401, ErrorCode::Unauthorized)
    );
    let after = snapshot(&broker);
    for (key, row) in &before {
        assert_eq!(after.get(key), Some(row), "entry {key:?} changed");
    }
    broker.stop().await;
}

//! Two people, one PIN: a right PIN does not use the session up until the technician
//! picks someone up. Everyone who entered it waits, each with a check code the
//! technician can ask for on the phone; the technician picks one; the others are told,
//! and the PIN and the link stop working. A guessed PIN reaches nobody by itself.

mod support;

use std::time::Duration;

use connectit_protocol::api::{SessionSummary, VerifyPinResponse};
use connectit_protocol::wire::{ConsoleMessage, Join, ServerMessage};
use connectit_protocol::{Action, EndReason, EntryKind, ErrorCode, Phase};
use serde_json::json;
use support::{Broker, Ws};

fn customer(token: &str) -> Join {
    Join::Customer {
        token: token.to_string(),
    }
}

/// Joins as the customer: the socket and the check code from the welcome.
async fn join_customer(broker: &Broker, joined: &VerifyPinResponse) -> (Ws, String) {
    let mut ws = broker
        .socket("/api/ws", &broker.origin(), None)
        .await
        .expect("handshake");
    ws.send(&connectit_protocol::ClientMessage::Hello {
        join: customer(&joined.token),
        after: 0,
    })
    .await;
    match ws.recv().await {
        ServerMessage::Welcome {
            check_code: Some(code),
            ..
        } => (ws, code),
        other => panic!("a welcome with a check code, not {other:?}"),
    }
}

/// The console's view of `id` once it satisfies `want`.
async fn summary_until(
    console: &mut Ws,
    id: &connectit_protocol::SessionId,
    want: impl Fn(&SessionSummary) -> bool,
) -> SessionSummary {
    loop {
        let text = match console.stream_next_text().await {
            Some(text) => text,
            None => panic!("console socket closed"),
        };
        let message: ConsoleMessage = serde_json::from_str(&text).unwrap();
        let found = match message {
            ConsoleMessage::Sessions(list) => list.into_iter().find(|s| &s.id == id),
            ConsoleMessage::Session(s) => Some(*s).filter(|s| &s.id == id),
        };
        if let Some(s) = found.filter(|s| want(s)) {
            return s;
        }
    }
}

#[tokio::test]
async fn two_people_with_one_pin_both_wait_and_the_technician_chooses() {
    let broker = Broker::start(|_| {}).await;
    let cookie = broker.sign_in("alice").await;
    let mut console = broker
        .socket("/api/console/ws", &broker.origin(), Some(&cookie))
        .await
        .unwrap();
    let created = broker.create_session(&cookie).await;

    // Someone guessed the PIN before the customer typed it.
    let stranger: VerifyPinResponse = broker.verify_pin(&created.pin).await.json();
    let (mut stranger_ws, stranger_code) = join_customer(&broker, &stranger).await;
    // The real customer, on the phone, types it too: not refused.
    let r = broker.verify_pin(&created.pin).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let real: VerifyPinResponse = r.json();
    assert_ne!(real.session, stranger.session);
    let (mut real_ws, real_code) = join_customer(&broker, &real).await;
    assert_ne!(real_code, stranger_code, "told apart by their check codes");
    assert!(real_code.len() == 4 && real_code.bytes().all(|b| b.is_ascii_digit()));

    let mut seen = Vec::new();
    stranger_ws.act_ok(Action::AcceptTerms, &mut seen).await;
    real_ws.act_ok(Action::AcceptTerms, &mut seen).await;

    // The console shows both, each with its code and "2 people".
    let first = summary_until(&mut console, &stranger.session, |s| {
        s.phase == Phase::Waiting && s.candidates == 2
    })
    .await;
    assert_eq!(first.check_code.as_deref(), Some(stranger_code.as_str()));
    let second = summary_until(&mut console, &real.session, |s| {
        s.phase == Phase::Waiting && s.candidates == 2
    })
    .await;
    assert_eq!(second.check_code.as_deref(), Some(real_code.as_str()));

    // The technician's socket on each session gets the code in its welcome too.
    let mut tech = broker
        .socket("/api/ws", &broker.origin(), Some(&cookie))
        .await
        .unwrap();
    tech.send(&connectit_protocol::ClientMessage::Hello {
        join: Join::Technician {
            session: real.session.clone(),
        },
        after: 0,
    })
    .await;
    match tech.recv().await {
        ServerMessage::Welcome { check_code, .. } => {
            assert_eq!(check_code.as_deref(), Some(real_code.as_str()))
        }
        other => panic!("{other:?}"),
    }
    // The customer reads out their code; the technician picks that session up.
    tech.act_ok(Action::PickUp, &mut seen).await;

    // The stranger is told, and their session is over.
    let ended = loop {
        match stranger_ws.recv().await {
            ServerMessage::Entry(e) => {
                if let EntryKind::SessionEnded { reason } = e.kind {
                    break reason;
                }
            }
            _ => continue,
        }
    };
    assert_eq!(ended, EndReason::OtherCustomerChosen);
    let id = stranger_ws
        .act(Action::Chat {
            text: "hello?".into(),
        })
        .await;
    assert!(matches!(
        stranger_ws.error_for(id).await,
        ErrorCode::NotAllowed { .. }
    ));

    // The PIN and the link are used now: nobody else gets in.
    let again = broker.verify_pin(&created.pin).await;
    assert_eq!(
        (again.status, again.json::<ErrorCode>()),
        (404, ErrorCode::InvalidOrExpiredPin)
    );
    let token = created.link.split("#join=").nth(1).unwrap();
    let link = broker
        .http("POST", "/api/join", Some(json!({ "token": token })), None)
        .await;
    assert_eq!(
        (link.status, link.json::<ErrorCode>()),
        (404, ErrorCode::InvalidOrExpiredLink)
    );
    // The one picked up chats with the technician.
    real_ws
        .act_ok(
            Action::Chat {
                text: "it is me".into(),
            },
            &mut seen,
        )
        .await;
    broker.flush_audit().await;
    assert_eq!(broker.audit("second_candidate").len(), 1);
    broker.stop().await;
}

#[tokio::test]
async fn the_link_joins_like_the_pin_and_needs_no_pin() {
    let broker = Broker::start(|_| {}).await;
    let cookie = broker.sign_in("alice").await;
    let created = broker.create_session(&cookie).await;
    let token = created.link.split("#join=").nth(1).unwrap().to_string();
    assert!(
        !created.link.contains(&created.pin),
        "the PIN is not in the link"
    );
    let r = broker
        .http("POST", "/api/join", Some(json!({ "token": token })), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let joined: VerifyPinResponse = r.json();
    assert_eq!(joined.session, created.id);
    // Wrong, malformed or empty tokens: one typed answer.
    for bad in [
        "",
        "0123",
        &"f".repeat(32),
        "not hex at all, not hex at all!!",
    ] {
        let r = broker
            .http("POST", "/api/join", Some(json!({ "token": bad })), None)
            .await;
        assert_eq!(
            (r.status, r.json::<ErrorCode>()),
            (404, ErrorCode::InvalidOrExpiredLink),
            "{bad:?}"
        );
    }
    broker.stop().await;
}

#[tokio::test]
async fn a_pin_holds_a_few_people_at_once_not_any_number() {
    let broker = Broker::start(|c| c.pin_candidates = 3).await;
    let cookie = broker.sign_in("alice").await;
    let created = broker.create_session(&cookie).await;
    let mut joined = Vec::new();
    for _ in 0..3 {
        let r = broker.verify_pin(&created.pin).await;
        assert_eq!(r.status, 200);
        joined.push(r.json::<VerifyPinResponse>());
    }
    // A fourth is refused like a wrong PIN (the answer tells a guesser nothing).
    let r = broker.verify_pin(&created.pin).await;
    assert_eq!(r.json::<ErrorCode>(), ErrorCode::InvalidOrExpiredPin);
    // One leaves: a place is free again.
    let (mut ws, _) = join_customer(&broker, &joined[1]).await;
    let mut seen = Vec::new();
    ws.act_ok(Action::DeclineTerms, &mut seen).await;
    let r = broker.verify_pin(&created.pin).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // The technician ending the session they made cancels the PIN for everyone.
    let mut tech = broker
        .join(
            Join::Technician {
                session: created.id.clone(),
            },
            0,
            Some(&cookie),
        )
        .await;
    tech.act_ok(Action::End, &mut seen).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let r = broker.verify_pin(&created.pin).await;
    assert_eq!(r.json::<ErrorCode>(), ErrorCode::InvalidOrExpiredPin);
    broker.stop().await;
}

/// The summaries of a customer's chat: messages in quick succession make one summary,
/// sent a moment after the first, so each message reaches the technician before any
/// console has work to do for it. The technician's own message is summarised at once
/// (a console counts what it has not seen from the summaries, and must not count its
/// own words as unseen: e2e/tests/workspace.rs).
#[tokio::test]
async fn a_customers_chat_is_summarised_once_and_after_the_message() {
    let broker = Broker::start(|_| {}).await;
    let mut active = broker.active_session_with_ids().await;
    let id = active.created.id.clone();
    let mut console = broker
        .socket("/api/console/ws", &broker.origin(), Some(&active.cookie))
        .await
        .unwrap();
    let before = summary_until(&mut console, &id, |_| true).await.messages;

    // Three messages at once (as fast as someone pastes three lines).
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            active
                .cust
                .act(Action::Chat {
                    text: format!("message {i}"),
                })
                .await,
        );
    }
    let mut last = 0;
    for id in ids {
        last = active.cust.answer(id).await.expect("stored");
    }
    // The three come to the technician's socket...
    active.tech.entries_until(last).await;
    // ...and one summary counts them all: no summary in between counts one or two.
    let mut counts = Vec::new();
    let summary = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let s = summary_until(&mut console, &id, |_| true).await;
            counts.push(s.messages);
            if s.messages >= before + 3 {
                return s;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no summary counting the three; saw {counts:?}"));
    assert_eq!(summary.messages, before + 3);
    assert_eq!(counts, [before + 3], "one summary for the three messages");

    // The technician's own message: summarised without waiting.
    let mut seen = Vec::new();
    active
        .tech
        .act_ok(
            Action::Chat {
                text: "hello".into(),
            },
            &mut seen,
        )
        .await;
    let s = summary_until(&mut console, &id, |s| s.messages == before + 4).await;
    assert_eq!(s.messages, before + 4);
    broker.stop().await;
}

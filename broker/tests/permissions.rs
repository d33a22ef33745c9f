//! Permission prompts and the WebRTC signal relay, through a real broker: the rules are
//! the broker's to enforce, on its own clock.

mod support;

use std::time::Duration;

use connectit_protocol::wire::{ClientMessage, Join, ServerMessage};
use connectit_protocol::{
    Action, Author, EntryKind, ErrorCode, LogEntry, Media, MediaChange, Permission, RuleViolation,
};
use support::{Broker, Frame, Ws};

/// Sends a request and returns its entry, as the customer sees it.
async fn request(tech: &mut Ws, cust: &mut Ws, permissions: &[Permission]) -> LogEntry {
    let mut seen = Vec::new();
    let seq = tech
        .act_ok(
            Action::RequestPermissions {
                permissions: permissions.to_vec(),
                reason: "to see the error".into(),
            },
            &mut seen,
        )
        .await;
    let entries = cust.entries_until(seq).await;
    entries
        .into_iter()
        .find(|e| e.seq == seq)
        .expect("the request entry")
}

fn request_id(entry: &LogEntry) -> (u32, u64) {
    match &entry.kind {
        EntryKind::PermissionRequested {
            request, deadline, ..
        } => (*request, *deadline),
        other => panic!("not a request: {other:?}"),
    }
}

async fn signal(ws: &mut Ws, media: Media, payload: &str) {
    ws.send(&ClientMessage::Signal {
        link: media.into(),
        payload: payload.into(),
        id: None,
    })
    .await;
}

/// The next signal or error on `ws` (entries skipped), or `None` if nothing comes soon.
async fn next_signal_or_error(ws: &mut Ws) -> Option<ServerMessage> {
    loop {
        let frame = tokio::time::timeout(Duration::from_millis(500), ws.next_frame())
            .await
            .ok()?;
        match frame {
            Frame::Message(m @ (ServerMessage::Signal { .. } | ServerMessage::Error { .. })) => {
                return Some(m)
            }
            Frame::Message(_) => continue,
            Frame::Closed(code) => panic!("closed {code:?}"),
        }
    }
}

#[tokio::test]
async fn signals_flow_only_while_the_grant_stands() {
    let broker = Broker::start(|_| {}).await;
    let (mut cust, mut tech) = broker.active_session().await;

    // Before any grant: refused, and the technician hears nothing.
    signal(&mut cust, Media::Screen, r#"{"type":"offer","sdp":"v=0"}"#).await;
    assert_eq!(
        next_signal_or_error(&mut cust).await,
        Some(ServerMessage::Error {
            id: None,
            error: ErrorCode::NotAllowed {
                violation: RuleViolation::NotGranted
            }
        })
    );
    assert_eq!(next_signal_or_error(&mut tech).await, None);

    let entry = request(
        &mut tech,
        &mut cust,
        &[Permission::ViewScreen, Permission::SystemInfo],
    )
    .await;
    let (id, _) = request_id(&entry);
    let mut seen = Vec::new();
    cust.act_ok(
        Action::Grant {
            request: id,
            permissions: vec![Permission::ViewScreen],
            for_secs: None,
        },
        &mut seen,
    )
    .await;

    // Granted: relayed to the other member only, both ways, untouched.
    let offer = r#"{"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n"}"#;
    signal(&mut cust, Media::Screen, offer).await;
    assert_eq!(
        next_signal_or_error(&mut tech).await,
        Some(ServerMessage::Signal {
            link: connectit_protocol::Link::Screen,
            payload: offer.into()
        })
    );
    assert_eq!(
        next_signal_or_error(&mut cust).await,
        None,
        "no echo to the sender"
    );
    signal(&mut tech, Media::Screen, r#"{"type":"answer","sdp":"v=0"}"#).await;
    assert!(matches!(
        next_signal_or_error(&mut cust).await,
        Some(ServerMessage::Signal { .. })
    ));
    // The camera was not granted.
    signal(&mut cust, Media::Camera, r#"{"type":"hangup"}"#).await;
    assert!(matches!(
        next_signal_or_error(&mut cust).await,
        Some(ServerMessage::Error {
            error: ErrorCode::NotAllowed {
                violation: RuleViolation::NotGranted
            },
            ..
        })
    ));

    // Revoked: refused again at once.
    cust.act_ok(
        Action::Revoke {
            permissions: vec![Permission::ViewScreen],
        },
        &mut seen,
    )
    .await;
    signal(
        &mut cust,
        Media::Screen,
        r#"{"type":"candidate","candidate":"x"}"#,
    )
    .await;
    assert!(matches!(
        next_signal_or_error(&mut cust).await,
        Some(ServerMessage::Error {
            error: ErrorCode::NotAllowed {
                violation: RuleViolation::NotGranted
            },
            ..
        })
    ));
    assert_eq!(next_signal_or_error(&mut tech).await, None);
    broker.stop().await;
}

#[tokio::test]
async fn unanswered_requests_expire_on_the_brokers_clock_and_late_answers_are_refused() {
    let broker = Broker::start(|c| c.prompt_deadline_secs = 1).await;
    let (mut cust, mut tech) = broker.active_session().await;
    let entry = request(&mut tech, &mut cust, &[Permission::ViewScreen]).await;
    let (id, deadline) = request_id(&entry);
    assert_eq!(
        deadline,
        entry.at + 1000,
        "the deadline comes from the broker's configuration"
    );

    // A second request while one is pending is refused.
    let second = tech
        .act(Action::RequestPermissions {
            permissions: vec![Permission::Camera],
            reason: String::new(),
        })
        .await;
    assert_eq!(
        tech.error_for(second).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::RequestPending
        }
    );

    // The broker expires it by itself.
    let expired = loop {
        match cust.recv().await {
            ServerMessage::Entry(e) if matches!(e.kind, EntryKind::PermissionExpired { .. }) => {
                break e
            }
            _ => {}
        }
    };
    assert_eq!(expired.kind, EntryKind::PermissionExpired { request: id });
    assert_eq!(expired.author, Author::System);
    assert!(
        expired.at >= deadline && expired.at < deadline + 500,
        "on time: {} vs {deadline}",
        expired.at
    );

    // An answer now is refused: the technician must ask again.
    let late = cust
        .act(Action::Grant {
            request: id,
            permissions: vec![Permission::ViewScreen],
            for_secs: None,
        })
        .await;
    assert_eq!(
        cust.error_for(late).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::NoSuchRequest
        }
    );
    let again = request(&mut tech, &mut cust, &[Permission::ViewScreen]).await;
    assert_eq!(request_id(&again).0, id + 1);
    broker.stop().await;
}

#[tokio::test]
async fn more_time_once_and_the_new_deadline_holds() {
    let broker = Broker::start(|c| c.prompt_deadline_secs = 1).await;
    let (mut cust, mut tech) = broker.active_session().await;
    let (id, deadline) = request_id(&request(&mut tech, &mut cust, &[Permission::Camera]).await);
    let mut seen = Vec::new();
    cust.act_ok(Action::MoreTime { request: id }, &mut seen)
        .await;
    let twice = cust.act(Action::MoreTime { request: id }).await;
    assert_eq!(
        cust.error_for(twice).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::AlreadyExtended
        }
    );
    // Past the first deadline the answer still counts.
    tokio::time::sleep(Duration::from_millis(
        deadline.saturating_sub(support::now_ms()) + 300,
    ))
    .await;
    cust.act_ok(
        Action::Grant {
            request: id,
            permissions: vec![Permission::Camera],
            for_secs: None,
        },
        &mut seen,
    )
    .await;
    assert!(
        seen.iter()
            .all(|e| !matches!(e.kind, EntryKind::PermissionExpired { .. })),
        "{seen:?}"
    );
    broker.stop().await;
}

#[tokio::test]
async fn remote_control_offers_the_applet_and_cannot_be_granted() {
    let broker = Broker::start(|_| {}).await;
    let (mut cust, mut tech) = broker.active_session().await;
    let (id, _) = request_id(
        &request(
            &mut tech,
            &mut cust,
            &[Permission::RemoteControl, Permission::ViewScreen],
        )
        .await,
    );
    let offered = loop {
        if let ServerMessage::Entry(e) = cust.recv().await {
            break e;
        }
    };
    assert_eq!(
        (offered.author, offered.kind),
        (Author::System, EntryKind::AppletOffered { request: id })
    );
    let grant = cust
        .act(Action::Grant {
            request: id,
            permissions: vec![Permission::RemoteControl],
            for_secs: None,
        })
        .await;
    assert_eq!(
        cust.error_for(grant).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::NotRequested
        }
    );
    // The technician cannot answer their own request, nor report the customer's media.
    let own = tech
        .act(Action::Grant {
            request: id,
            permissions: vec![Permission::ViewScreen],
            for_secs: None,
        })
        .await;
    assert_eq!(
        tech.error_for(own).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::WrongAuthor
        }
    );
    let media = tech
        .act(Action::Media {
            media: Media::Screen,
            change: MediaChange::Started,
        })
        .await;
    assert_eq!(
        media_error(&mut tech, media).await,
        RuleViolation::WrongAuthor
    );
    broker.stop().await;
}

async fn media_error(ws: &mut Ws, id: u32) -> RuleViolation {
    match ws.error_for(id).await {
        ErrorCode::NotAllowed { violation } => violation,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn welcome_carries_minted_turn_credentials() {
    let broker = Broker::start(|c| {
        c.stun_urls = vec!["stun:stun.example.org:3478".into()];
        c.turn_urls = vec!["turn:turn.example.org:3478?transport=udp".into()];
        c.turn_secret = "coturn-shared-secret".into();
        c.turn_ttl_secs = 600;
    })
    .await;
    let (_, _, joined) = broker.joined_session().await;
    let mut ws = broker
        .socket("/api/ws", &broker.origin(), None)
        .await
        .unwrap();
    ws.send(&ClientMessage::Hello {
        join: Join::Customer {
            token: joined.token,
        },
        after: 0,
    })
    .await;
    let ServerMessage::Welcome {
        session,
        ice_servers,
        ..
    } = ws.recv().await
    else {
        panic!("welcome")
    };
    assert_eq!(ice_servers.len(), 2);
    let turn = &ice_servers[1];
    let username = turn.username.clone().expect("a TURN user");
    let (expiry, who) = username.split_once(':').expect("expiry:session");
    assert_eq!(who, session.0);
    let expiry: u64 = expiry.parse().unwrap();
    let now = support::now_ms() / 1000;
    assert!(
        expiry > now + 590 && expiry <= now + 601,
        "short-lived: {expiry} vs {now}"
    );
    assert_eq!(
        turn.credential.as_deref(),
        Some(connectit_broker::ice::turn_password("coturn-shared-secret", &username).as_str())
    );
    broker.stop().await;
}

#[tokio::test]
async fn a_signal_the_other_side_could_not_read_is_refused_and_named() {
    let broker = Broker::start(|_| {}).await;
    let (mut cust, mut tech) = broker.active_session().await;
    let mut seen = Vec::new();
    let asked = tech
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
    for (payload, want) in [
        (r#"{"type":"offer"}"#, ErrorCode::MalformedMessage),
        ("not json", ErrorCode::MalformedMessage),
        (
            r#"{"type":"teleport","sdp":"x"}"#,
            ErrorCode::MalformedMessage,
        ),
    ] {
        cust.send(&ClientMessage::Signal {
            link: connectit_protocol::Link::Screen,
            payload: payload.into(),
            id: Some(41),
        })
        .await;
        match next_signal_or_error(&mut cust).await {
            Some(ServerMessage::Error { id, error }) => {
                assert_eq!((id, error), (Some(41), want), "{payload}");
            }
            other => panic!("{payload}: {other:?}"),
        }
    }
    assert_eq!(
        next_signal_or_error(&mut tech).await,
        None,
        "nothing unreadable reached the technician"
    );
    // A readable one for a link not granted: refused, named by its id.
    cust.send(&ClientMessage::Signal {
        link: connectit_protocol::Link::Camera,
        payload: r#"{"type":"hangup"}"#.into(),
        id: Some(42),
    })
    .await;
    assert!(matches!(
        next_signal_or_error(&mut cust).await,
        Some(ServerMessage::Error {
            id: Some(42),
            error: ErrorCode::NotAllowed {
                violation: RuleViolation::NotGranted
            }
        })
    ));
    broker.stop().await;
}

//! File transfers and system information through a real broker: limits, hashes,
//! revocation, and the files link's signals.

mod support;

use connectit_protocol::wire::{ClientMessage, ServerMessage};
use connectit_protocol::{
    Action, Author, EntryKind, ErrorCode, FileFailure, InfoItem, Link, LogEntry, Permission,
    RuleViolation,
};
use support::{Broker, Ws};

/// Grants `permissions` in an active session; returns both sockets.
async fn granted(broker: &Broker, permissions: &[Permission]) -> (Ws, Ws) {
    let (mut cust, mut tech) = broker.active_session().await;
    let mut seen = Vec::new();
    tech.act_ok(
        Action::RequestPermissions {
            permissions: permissions.to_vec(),
            reason: String::new(),
        },
        &mut seen,
    )
    .await;
    let request = loop {
        if let ServerMessage::Entry(LogEntry {
            kind: EntryKind::PermissionRequested { request, .. },
            ..
        }) = cust.recv().await
        {
            break request;
        }
    };
    let seq = cust
        .act_ok(
            Action::Grant {
                request,
                permissions: permissions.to_vec(),
                for_secs: None,
            },
            &mut seen,
        )
        .await;
    tech.entries_until(seq).await;
    (cust, tech)
}

fn refused(error: ErrorCode) -> RuleViolation {
    match error {
        ErrorCode::NotAllowed { violation } => violation,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_file_each_way_with_matching_hashes() {
    let broker = Broker::start(|_| {}).await;
    let (mut cust, mut tech) =
        granted(&broker, &[Permission::SendFiles, Permission::ReceiveFiles]).await;
    let mut seen = Vec::new();
    let hash = "0123456789abcdef".repeat(4);

    tech.act_ok(
        Action::OfferFile {
            name: "driver.zip".into(),
            size: 20 << 20,
        },
        &mut seen,
    )
    .await;
    cust.act_ok(Action::AcceptFile { file: 1 }, &mut seen).await;
    tech.act_ok(
        Action::FileSent {
            file: 1,
            sha256: hash.clone(),
        },
        &mut seen,
    )
    .await;
    let wrong = cust
        .act(Action::FileDelivered {
            file: 1,
            sha256: "f".repeat(64),
        })
        .await;
    assert_eq!(
        refused(cust.error_for(wrong).await),
        RuleViolation::HashMismatch
    );
    let delivered = cust
        .act_ok(
            Action::FileDelivered {
                file: 1,
                sha256: hash.clone(),
            },
            &mut seen,
        )
        .await;

    cust.act_ok(
        Action::OfferFile {
            name: "crash.log".into(),
            size: 1234,
        },
        &mut seen,
    )
    .await;
    cust.act_ok(
        Action::FileSent {
            file: 2,
            sha256: hash.clone(),
        },
        &mut seen,
    )
    .await;
    let last = tech
        .act_ok(
            Action::FileDelivered {
                file: 2,
                sha256: hash.clone(),
            },
            &mut seen,
        )
        .await;
    seen.extend(cust.entries_until(last).await);
    let log = seen;
    assert!(log.iter().any(|e| e.seq == delivered
        && e.kind
            == EntryKind::FileDelivered {
                file: 1,
                sha256: hash.clone()
            }
        && e.author == Author::Customer));
    assert!(log.iter().any(|e| e.kind
        == EntryKind::FileOffered {
            file: 2,
            name: "crash.log".into(),
            size: 1234
        }
        && e.author == Author::Customer));
    broker.stop().await;
}

#[tokio::test]
async fn the_size_limit_and_the_grants_are_enforced() {
    let broker = Broker::start(|c| c.max_file_bytes = 1024 * 1024).await;
    let cfg = broker.http("GET", "/api/config", None, None).await;
    assert_eq!(
        cfg.json::<serde_json::Value>()["max_file_bytes"],
        1024 * 1024
    );
    let (mut cust, mut tech) = granted(&broker, &[Permission::SendFiles]).await;
    let big = tech
        .act(Action::OfferFile {
            name: "big.iso".into(),
            size: 1024 * 1024 + 1,
        })
        .await;
    assert_eq!(
        refused(tech.error_for(big).await),
        RuleViolation::FileTooLarge {
            max_bytes: 1024 * 1024
        }
    );
    let theirs = cust
        .act(Action::OfferFile {
            name: "x.txt".into(),
            size: 1,
        })
        .await;
    assert_eq!(
        refused(cust.error_for(theirs).await),
        RuleViolation::NotGranted,
        "receive files was not granted"
    );
    let info = cust
        .act(Action::ShareSystemInfo {
            items: vec![InfoItem {
                label: "OS".into(),
                value: "Linux".into(),
            }],
        })
        .await;
    assert_eq!(
        refused(cust.error_for(info).await),
        RuleViolation::NotGranted
    );
    broker.stop().await;
}

#[tokio::test]
async fn revoking_stops_transfers_in_flight_and_the_files_link() {
    let broker = Broker::start(|_| {}).await;
    let (mut cust, mut tech) =
        granted(&broker, &[Permission::SendFiles, Permission::ReceiveFiles]).await;
    let mut seen = Vec::new();
    tech.act_ok(
        Action::OfferFile {
            name: "a.bin".into(),
            size: 10,
        },
        &mut seen,
    )
    .await;
    cust.act_ok(Action::AcceptFile { file: 1 }, &mut seen).await;
    cust.act_ok(
        Action::OfferFile {
            name: "b.bin".into(),
            size: 10,
        },
        &mut seen,
    )
    .await;

    // The files link carries signals while a file permission stands.
    cust.send(&ClientMessage::Signal {
        link: Link::Files,
        payload: "{\"type\":\"hangup\"}".into(),
        id: None,
    })
    .await;
    loop {
        if let ServerMessage::Signal { link, .. } = tech.recv().await {
            assert_eq!(link, Link::Files);
            break;
        }
    }

    let revoked = cust
        .act_ok(
            Action::Revoke {
                permissions: vec![Permission::SendFiles],
            },
            &mut seen,
        )
        .await;
    let log = tech.entries_until(revoked + 1).await;
    let failed = log.last().unwrap();
    assert_eq!(failed.author, Author::System);
    assert_eq!(
        failed.kind,
        EntryKind::FileFailed {
            file: 1,
            reason: FileFailure::Revoked
        }
    );
    // The customer's own file (receive files still granted) goes on.
    cust.act_ok(
        Action::FileSent {
            file: 2,
            sha256: "a".repeat(64),
        },
        &mut seen,
    )
    .await;
    let late = tech
        .act(Action::FileSent {
            file: 1,
            sha256: "a".repeat(64),
        })
        .await;
    assert_eq!(
        refused(tech.error_for(late).await),
        RuleViolation::FileState,
        "that transfer is over"
    );

    cust.act_ok(
        Action::Revoke {
            permissions: vec![Permission::ReceiveFiles],
        },
        &mut seen,
    )
    .await;
    cust.send(&ClientMessage::Signal {
        link: Link::Files,
        payload: r#"{"type":"hangup"}"#.into(),
        id: None,
    })
    .await;
    loop {
        match cust.recv().await {
            ServerMessage::Error { id: None, error } => {
                assert_eq!(refused(error), RuleViolation::NotGranted);
                break;
            }
            ServerMessage::Entry(_) => {}
            other => panic!("{other:?}"),
        }
    }
    broker.stop().await;
}

#[tokio::test]
async fn system_information_is_logged_exactly_as_sent() {
    let broker = Broker::start(|_| {}).await;
    let (mut cust, mut tech) = granted(&broker, &[Permission::SystemInfo]).await;
    let items = vec![
        InfoItem {
            label: "Browser".into(),
            value: "Chromium 156".into(),
        },
        InfoItem {
            label: "Time zone".into(),
            value: "Europe/Paris".into(),
        },
    ];
    let mut seen = Vec::new();
    let seq = cust
        .act_ok(
            Action::ShareSystemInfo {
                items: items.clone(),
            },
            &mut seen,
        )
        .await;
    let log = tech.entries_until(seq).await;
    assert_eq!(
        log.last().unwrap().kind,
        EntryKind::SystemInfoShared { items }
    );
    broker.stop().await;
}

//! Grants that run out, through the real broker: the customer gives a permission for a
//! time; the broker logs its end on its own clock (also after a restart in between),
//! the share stops and a transfer in flight fails with that reason, signals are no
//! longer relayed; a renewal before the end moves it; the organisation's default is in
//! the configuration the pages read.

mod support;

use std::time::Duration;

use connectit_protocol::api::PublicConfig;
use connectit_protocol::wire::{ClientMessage, Join, ServerMessage};
use connectit_protocol::{
    Action, EntryKind, ErrorCode, FileFailure, LogEntry, Media, MediaChange, Permission,
    RuleViolation,
};
use support::{Broker, Ws};

/// Asks for the screen and files, grants them for `for_secs`, starts the share and a
/// file from the technician.
async fn grant(tech: &mut Ws, cust: &mut Ws, for_secs: u64) {
    let mut seen = Vec::new();
    tech.act_ok(
        Action::RequestPermissions {
            permissions: vec![Permission::ViewScreen, Permission::SendFiles],
            reason: String::new(),
        },
        &mut seen,
    )
    .await;
    cust.act_ok(
        Action::Grant {
            request: 1,
            permissions: vec![Permission::ViewScreen, Permission::SendFiles],
            for_secs: Some(for_secs),
        },
        &mut seen,
    )
    .await;
    cust.act_ok(
        Action::Media {
            media: Media::Screen,
            change: MediaChange::Started,
        },
        &mut seen,
    )
    .await;
    let offered = tech
        .act_ok(
            Action::OfferFile {
                name: "fix.reg".into(),
                size: 10,
            },
            &mut seen,
        )
        .await;
    cust.entries_until(offered).await;
    cust.act_ok(Action::AcceptFile { file: 1 }, &mut seen).await;
}

/// Entries on `ws` until one matches (bounded by the socket's own 5 s per message).
async fn until_kind(ws: &mut Ws, what: impl Fn(&EntryKind) -> bool) -> Vec<LogEntry> {
    let mut out = Vec::new();
    for _ in 0..200 {
        if let ServerMessage::Entry(e) = ws.recv().await {
            let done = what(&e.kind);
            out.push(e);
            if done {
                return out;
            }
        }
    }
    panic!("no such entry in {out:?}");
}

#[tokio::test]
async fn a_grant_runs_out_on_the_brokers_clock_and_stops_what_it_allowed() {
    let b = Broker::start(|_| {}).await;
    let (mut cust, mut tech) = b.active_session().await;
    grant(&mut tech, &mut cust, 2).await;
    let granted_at = std::time::Instant::now();
    let seen = until_kind(&mut tech, |k| matches!(k, EntryKind::GrantExpired { .. })).await;
    assert!(
        granted_at.elapsed() >= Duration::from_millis(1_500),
        "not before its time"
    );
    let granted = seen.iter().find_map(|e| match &e.kind {
        EntryKind::PermissionGranted { until, .. } => *until,
        _ => None,
    });
    let expired = seen.last().unwrap();
    if let Some(until) = granted {
        assert!(expired.at >= until, "{expired:?} before {until}");
    }
    assert_eq!(
        expired.kind,
        EntryKind::GrantExpired {
            permissions: vec![Permission::ViewScreen, Permission::SendFiles]
        }
    );
    // The file in flight fails with the reason, logged right after.
    let failed = until_kind(&mut tech, |k| matches!(k, EntryKind::FileFailed { .. })).await;
    assert_eq!(
        failed.last().unwrap().kind,
        EntryKind::FileFailed {
            file: 1,
            reason: FileFailure::GrantExpired
        }
    );
    // Signals for the screen are no longer relayed.
    cust.send(&ClientMessage::Signal {
        link: Media::Screen.into(),
        payload: r#"{"type":"hangup"}"#.into(),
        id: Some(77),
    })
    .await;
    loop {
        if let ServerMessage::Error { id, error } = cust.recv().await {
            assert_eq!(id, Some(77));
            assert_eq!(
                error,
                ErrorCode::NotAllowed {
                    violation: RuleViolation::NotGranted
                }
            );
            break;
        }
    }
}

#[tokio::test]
async fn a_renewal_before_the_end_moves_it() {
    let b = Broker::start(|_| {}).await;
    let (mut cust, mut tech) = b.active_session().await;
    grant(&mut tech, &mut cust, 2).await;
    let mut seen = Vec::new();
    let renewed = cust
        .act_ok(
            Action::Renew {
                permissions: vec![Permission::ViewScreen],
                for_secs: Some(600),
            },
            &mut seen,
        )
        .await;
    let entries = tech.entries_until(renewed).await;
    assert!(matches!(
        entries.last().unwrap().kind,
        EntryKind::GrantRenewed { until: Some(_), .. }
    ));
    // Files (not renewed) run out; the screen goes on.
    let expired = until_kind(&mut tech, |k| matches!(k, EntryKind::GrantExpired { .. })).await;
    assert_eq!(
        expired.last().unwrap().kind,
        EntryKind::GrantExpired {
            permissions: vec![Permission::SendFiles]
        }
    );
    // A renewal of something not given for a time is refused.
    let id = cust
        .act(Action::Renew {
            permissions: vec![Permission::SendFiles],
            for_secs: Some(60),
        })
        .await;
    assert_eq!(
        cust.error_for(id).await,
        ErrorCode::NotAllowed {
            violation: RuleViolation::NotGranted
        }
    );
}

#[tokio::test]
async fn a_grant_runs_out_at_its_time_across_a_restart() {
    let b = Broker::start(|_| {}).await;
    let active = b.active_session_with_ids().await;
    let (mut cust, mut tech) = (active.cust, active.tech);
    grant(&mut tech, &mut cust, 3).await;
    drop((cust, tech));
    // Down for a second, back before the end.
    let b = b.restart(Duration::from_millis(500), |_| {}).await;
    let mut tech = b
        .join(
            Join::Technician {
                session: active.created.id.clone(),
            },
            0,
            Some(&active.cookie),
        )
        .await;
    let seen = until_kind(&mut tech, |k| matches!(k, EntryKind::GrantExpired { .. })).await;
    let until = seen
        .iter()
        .find_map(|e| match &e.kind {
            EntryKind::PermissionGranted { until, .. } => *until,
            _ => None,
        })
        .expect("the grant's end");
    let expired = seen.last().unwrap();
    assert!(expired.at >= until, "{} < {until}", expired.at);
    assert!(
        expired.at < until + 3_000,
        "at its stored time, not a new countdown"
    );
}

#[tokio::test]
async fn the_organisations_default_is_in_the_configuration() {
    let b = Broker::start(|c| c.grant_default_mins = 30).await;
    let config: PublicConfig = b.http("GET", "/api/config", None, None).await.json();
    assert_eq!(config.grant_default_mins, 30);
    let plain = Broker::start(|_| {}).await;
    let config: PublicConfig = plain.http("GET", "/api/config", None, None).await.json();
    assert_eq!(config.grant_default_mins, 0, "until the session ends");
}

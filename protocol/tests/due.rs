//! What time makes happen: when it falls due, what is appended then, and a random walk
//! of actions, time and the broker's own entries through `decide` and `due`, checking
//! that whatever they return applies and that the folded log is the state.

use connectit_protocol::{
    decide, Action, Actor, Author, EndReason, EntryKind, FileFailure, InfoItem, Limits, LogEntry,
    Media, MediaChange, Permission, Phase, Role, SessionState, StopCause, Timeouts,
};

const LIMITS: Limits = Limits {
    prompt_ms: 30_000,
    max_file_bytes: 1 << 20,
};

const TIMEOUTS: Timeouts = Timeouts {
    pin_expires_at: 1_200_000,
    waiting_ms: 1_800_000,
    abandon_ms: 600_000,
};

fn apply(state: &mut SessionState, at: u64, (author, kind): (Author, EntryKind)) {
    let entry = LogEntry {
        seq: state.last_seq() + 1,
        at,
        author,
        kind,
    };
    state
        .apply(&entry)
        .unwrap_or_else(|v| panic!("{entry:?}: {v:?}"));
}

fn act(state: &mut SessionState, role: Role, action: Action, at: u64) {
    let actor = Actor::member(role, "Alice");
    for entry in decide(state, actor, action, at, LIMITS).unwrap() {
        apply(state, at, entry);
    }
}

fn ended(reason: EndReason) -> Option<(Author, EntryKind)> {
    Some((Author::System, EntryKind::SessionEnded { reason }))
}

#[test]
fn an_unused_pin_expires_at_its_time_and_not_before() {
    let state = SessionState::default();
    assert_eq!(state.next_due(&TIMEOUTS), Some(TIMEOUTS.pin_expires_at));
    assert_eq!(state.due(TIMEOUTS.pin_expires_at - 1, &TIMEOUTS), None);
    assert_eq!(
        state.due(TIMEOUTS.pin_expires_at, &TIMEOUTS),
        ended(EndReason::PinExpired)
    );
}

#[test]
fn a_customer_may_wait_so_long_from_each_phase_then_is_let_go() {
    let mut state = SessionState::default();
    apply(
        &mut state,
        1_000,
        (Author::System, EntryKind::CustomerJoined),
    );
    // Joined: the PIN no longer expires; the wait counts from the join.
    assert_eq!(state.next_due(&TIMEOUTS), Some(1_000 + TIMEOUTS.waiting_ms));
    act(&mut state, Role::Customer, Action::AcceptTerms, 61_000);
    assert_eq!(state.phase_since(), 61_000);
    let limit = 61_000 + TIMEOUTS.waiting_ms;
    assert_eq!(state.due(limit - 1, &TIMEOUTS), None);
    let due = state.due(limit, &TIMEOUTS);
    assert_eq!(due, ended(EndReason::WaitingTimeout));
    apply(&mut state, limit, due.unwrap());
    assert_eq!(state.phase(), Phase::Ended);
    assert_eq!(state.next_due(&TIMEOUTS), None);
    assert_eq!(state.due(u64::MAX, &TIMEOUTS), None);
}

#[test]
fn a_customer_gone_too_long_ends_the_session_and_coming_back_in_time_does_not() {
    let mut state = SessionState::default();
    apply(
        &mut state,
        1_000,
        (Author::System, EntryKind::CustomerJoined),
    );
    act(&mut state, Role::Customer, Action::AcceptTerms, 2_000);
    act(&mut state, Role::Technician, Action::PickUp, 3_000);
    let gone = |role| (Author::System, EntryKind::Disconnected { role });
    let back = |role| (Author::System, EntryKind::Reconnected { role });
    // The customer drops, comes back within the time: nothing falls due.
    apply(&mut state, 10_000, gone(Role::Customer));
    assert_eq!(
        state.next_due(&TIMEOUTS),
        Some(10_000 + TIMEOUTS.abandon_ms)
    );
    apply(&mut state, 20_000, back(Role::Customer));
    assert_eq!(state.next_due(&TIMEOUTS), None);
    // The technician's drop is not the customer's absence.
    apply(&mut state, 30_000, gone(Role::Technician));
    assert_eq!(state.next_due(&TIMEOUTS), None);
    apply(&mut state, 31_000, back(Role::Technician));
    // Gone again, and for good: the session ends with its own reason.
    apply(&mut state, 40_000, gone(Role::Customer));
    let limit = 40_000 + TIMEOUTS.abandon_ms;
    assert_eq!(state.due(limit - 1, &TIMEOUTS), None);
    let due = state.due(limit, &TIMEOUTS);
    assert_eq!(due, ended(EndReason::CustomerGone));
    apply(&mut state, limit, due.unwrap());
    assert_eq!(state.end_reason(), Some(EndReason::CustomerGone));
}

#[test]
fn whichever_falls_due_first_comes_first() {
    // Waiting, then gone: the absence (10 min) runs out before the wait (30 min).
    let mut state = SessionState::default();
    apply(
        &mut state,
        1_000,
        (Author::System, EntryKind::CustomerJoined),
    );
    act(&mut state, Role::Customer, Action::AcceptTerms, 2_000);
    apply(
        &mut state,
        5_000,
        (
            Author::System,
            EntryKind::Disconnected {
                role: Role::Customer,
            },
        ),
    );
    assert_eq!(state.next_due(&TIMEOUTS), Some(5_000 + TIMEOUTS.abandon_ms));
    assert_eq!(
        state.due(5_000 + TIMEOUTS.abandon_ms, &TIMEOUTS),
        ended(EndReason::CustomerGone)
    );
    // A prompt due before the absence runs out expires first.
    let mut state = SessionState::default();
    apply(
        &mut state,
        1_000,
        (Author::System, EntryKind::CustomerJoined),
    );
    act(&mut state, Role::Customer, Action::AcceptTerms, 2_000);
    act(&mut state, Role::Technician, Action::PickUp, 3_000);
    act(
        &mut state,
        Role::Technician,
        Action::RequestPermissions {
            permissions: vec![Permission::ViewScreen],
            reason: String::new(),
        },
        4_000,
    );
    apply(
        &mut state,
        5_000,
        (
            Author::System,
            EntryKind::Disconnected {
                role: Role::Customer,
            },
        ),
    );
    assert_eq!(state.next_due(&TIMEOUTS), Some(4_000 + LIMITS.prompt_ms));
}

#[test]
fn a_picked_up_session_has_nothing_due_but_its_prompt() {
    let mut state = SessionState::default();
    apply(
        &mut state,
        1_000,
        (Author::System, EntryKind::CustomerJoined),
    );
    act(&mut state, Role::Customer, Action::AcceptTerms, 2_000);
    act(&mut state, Role::Technician, Action::PickUp, 3_000);
    assert_eq!(state.next_due(&TIMEOUTS), None);
    assert_eq!(state.due(u64::MAX, &TIMEOUTS), None);
    act(
        &mut state,
        Role::Technician,
        Action::RequestPermissions {
            permissions: vec![Permission::ViewScreen],
            reason: String::new(),
        },
        4_000,
    );
    let deadline = 4_000 + LIMITS.prompt_ms;
    assert_eq!(state.next_due(&TIMEOUTS), Some(deadline));
    act(
        &mut state,
        Role::Customer,
        Action::MoreTime { request: 1 },
        5_000,
    );
    let extended = deadline + LIMITS.prompt_ms;
    assert_eq!(state.next_due(&TIMEOUTS), Some(extended));
    assert_eq!(state.due(extended - 1, &TIMEOUTS), None);
    let due = state.due(extended, &TIMEOUTS).unwrap();
    assert_eq!(
        due,
        (Author::System, EntryKind::PermissionExpired { request: 1 })
    );
    // Late is fine: whatever time the broker's timer wakes at, the entry applies then.
    apply(&mut state, extended + 250, due);
    assert!(state.pending().is_none());
    assert_eq!(state.next_due(&TIMEOUTS), None);
}

#[test]
fn an_answer_before_the_deadline_leaves_nothing_due() {
    let mut state = SessionState::default();
    apply(
        &mut state,
        1_000,
        (Author::System, EntryKind::CustomerJoined),
    );
    act(&mut state, Role::Customer, Action::AcceptTerms, 2_000);
    act(&mut state, Role::Technician, Action::PickUp, 3_000);
    act(
        &mut state,
        Role::Technician,
        Action::RequestPermissions {
            permissions: vec![Permission::SystemInfo],
            reason: String::new(),
        },
        4_000,
    );
    act(
        &mut state,
        Role::Customer,
        Action::Grant {
            request: 1,
            permissions: vec![Permission::SystemInfo],
            for_secs: None,
        },
        4_000 + LIMITS.prompt_ms,
    );
    assert_eq!(state.due(u64::MAX, &TIMEOUTS), None);
}

/// xorshift64: the same walks on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize].clone()
    }
    fn some_of(&mut self, items: &[Permission]) -> Vec<Permission> {
        items
            .iter()
            .copied()
            .filter(|_| self.below(2) == 0)
            .collect()
    }
}

/// An action worth trying in `state`: mostly one that names what exists (the pending
/// request, a granted permission, a transfer), sometimes one that does not.
fn action(rng: &mut Rng, state: &SessionState) -> Action {
    let request = match rng.below(5) {
        0 => rng.below(4) as u32,
        _ => state.requests(),
    };
    let file = match rng.below(5) {
        0 => rng.below(4) as u32,
        _ => state.files().len() as u32,
    };
    let asked: Vec<Permission> = state
        .pending()
        .map(|p| p.permissions.clone())
        .unwrap_or_default();
    let media = rng.pick(&[Media::Screen, Media::Camera]);
    let hash = "ab".repeat(32);
    match rng.below(22) {
        0 => Action::AcceptTerms,
        1 if rng.below(4) == 0 => Action::DeclineTerms,
        2..=3 => Action::PickUp,
        4..=5 => Action::Chat {
            text: rng.pick(&["hello", " ", "a\u{7}b"]).to_string(),
        },
        6 if rng.below(4) == 0 => Action::End,
        7..=8 => Action::RequestPermissions {
            permissions: rng.some_of(&Permission::ALL),
            reason: String::new(),
        },
        9..=10 => Action::Grant {
            request,
            permissions: rng.some_of(&asked),
            for_secs: rng.pick(&[None, None, Some(60), Some(0), Some(200_000)]),
        },
        11 => Action::Deny { request },
        12 => Action::MoreTime { request },
        13 => Action::Revoke {
            permissions: rng.some_of(state.granted()),
        },
        14 => Action::Media {
            media,
            change: rng.pick(&[
                MediaChange::Started,
                MediaChange::Paused,
                MediaChange::Resumed,
                MediaChange::Stopped {
                    cause: StopCause::Customer,
                },
            ]),
        },
        15 => Action::OfferFile {
            name: "a.txt".into(),
            size: rng.pick(&[1, LIMITS.max_file_bytes, LIMITS.max_file_bytes + 1]),
        },
        16 => Action::AcceptFile { file },
        17 => Action::FileSent { file, sha256: hash },
        18 => Action::FileDelivered { file, sha256: hash },
        19 => Action::FileFailed {
            file,
            reason: FileFailure::ConnectionLost,
        },
        20 => Action::ShareSystemInfo {
            items: vec![InfoItem {
                label: "OS".into(),
                value: "Linux".into(),
            }],
        },
        21 if rng.below(2) == 0 => Action::Renew {
            permissions: rng.some_of(
                &state
                    .granted_until()
                    .iter()
                    .map(|(p, _)| *p)
                    .collect::<Vec<_>>(),
            ),
            for_secs: rng.pick(&[None, Some(30), Some(0)]),
        },
        1 | 6 | 21 => Action::PeerRestarted { media },
        _ => Action::Chat {
            text: "hello".into(),
        },
    }
}

#[test]
fn random_walks_through_decide_and_due_agree_with_the_fold() {
    let mut rng = Rng(0x2545f4914f6cdd1d);
    let (mut decided, mut refused, mut fell_due) = (0, 0, 0);
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..3000 {
        let mut state = SessionState::default();
        let mut log: Vec<LogEntry> = Vec::new();
        let mut now = 0u64;
        for _ in 0..60 {
            // Time passes: sometimes a little, sometimes past a limit.
            now += match rng.below(60) {
                0 if rng.below(5) == 0 => 2_000_000,
                _ => rng.pick(&[0, 1, 500, 5_000, 20_000, 40_000]),
            };
            // The broker's timer: what is due by now goes in first, once.
            if let Some(next) = state.next_due(&TIMEOUTS) {
                assert_eq!(state.due(next.saturating_sub(1), &TIMEOUTS), None);
                assert!(state.due(next, &TIMEOUTS).is_some(), "{state:?}");
            }
            // Several things may have fallen due meanwhile (a prompt and a grant): one
            // at a time, each with what follows from it, as the broker does.
            for _ in 0..4 {
                let Some(due) = state.due(now, &TIMEOUTS) else {
                    break;
                };
                let at = now.max(log.last().map_or(0, |e| e.at));
                for entry in connectit_protocol::decide_due(&state, due) {
                    log.push(append(&mut state, at, entry));
                }
                fell_due += 1;
            }
            assert_eq!(state.due(now, &TIMEOUTS), None, "all that fell due went in");
            if state.phase() == Phase::Created && rng.below(3) == 0 {
                log.push(append(
                    &mut state,
                    now,
                    (Author::System, EntryKind::CustomerJoined),
                ));
                continue;
            }
            // Mostly on through the flow, so that walks reach the active session.
            let (role, action) = match state.phase() {
                Phase::Connecting if rng.below(2) == 0 => (Role::Customer, Action::AcceptTerms),
                Phase::Waiting if rng.below(2) == 0 => (Role::Technician, Action::PickUp),
                _ => (
                    rng.pick(&[Role::Customer, Role::Technician]),
                    action(&mut rng, &state),
                ),
            };
            let actor = Actor::member(role, "Alice");
            match decide(&state, actor, action, now, LIMITS) {
                Ok(entries) => {
                    decided += 1;
                    assert!(!entries.is_empty());
                    assert_eq!(entries[0].0, Author::from(role));
                    for entry in entries {
                        log.push(append(&mut state, now, entry));
                    }
                }
                Err(_) => refused += 1,
            }
        }
        assert_eq!(SessionState::fold(&log).unwrap(), state);
        for entry in &log {
            let kind = format!("{:?}", entry.kind);
            seen.insert(kind.split([' ', '{']).next().unwrap_or("").to_string());
        }
    }
    // The walks reach every kind of outcome, not just refusals.
    assert!(
        decided > 5_000 && refused > 10_000 && fell_due > 500,
        "{decided} decided, {refused} refused, {fell_due} fell due"
    );
    for kind in [
        "PermissionExpired",
        "PermissionExtended",
        "AppletOffered",
        "PermissionsRevoked",
        "GrantRenewed",
        "GrantExpired",
        "Media",
        "FileDelivered",
        "FileFailed",
        "SystemInfoShared",
    ] {
        assert!(seen.contains(kind), "no walk reached {kind}: {seen:?}");
    }
}

fn append(state: &mut SessionState, at: u64, (author, kind): (Author, EntryKind)) -> LogEntry {
    let entry = LogEntry {
        seq: state.last_seq() + 1,
        at,
        author,
        kind,
    };
    state
        .apply(&entry)
        .unwrap_or_else(|v| panic!("decided or due, yet refused: {entry:?}: {v:?}"));
    entry
}

/// An active session at 3 s with a screen share granted at 4 s for `for_secs`.
fn shared_for(for_secs: Option<u64>) -> SessionState {
    let mut state = SessionState::default();
    apply(
        &mut state,
        1_000,
        (Author::System, EntryKind::CustomerJoined),
    );
    act(&mut state, Role::Customer, Action::AcceptTerms, 2_000);
    act(&mut state, Role::Technician, Action::PickUp, 3_000);
    act(
        &mut state,
        Role::Technician,
        Action::RequestPermissions {
            permissions: vec![Permission::ViewScreen, Permission::SendFiles],
            reason: String::new(),
        },
        3_500,
    );
    act(
        &mut state,
        Role::Customer,
        Action::Grant {
            request: 1,
            permissions: vec![Permission::ViewScreen, Permission::SendFiles],
            for_secs,
        },
        4_000,
    );
    act(
        &mut state,
        Role::Customer,
        Action::Media {
            media: Media::Screen,
            change: MediaChange::Started,
        },
        4_500,
    );
    state
}

#[test]
fn a_grant_for_a_time_runs_out_at_its_time_with_its_effects() {
    let mut state = shared_for(Some(600));
    let ends = 4_000 + 600_000;
    assert_eq!(state.grant_ends(Permission::ViewScreen), Some(ends));
    assert_eq!(state.next_due(&TIMEOUTS), Some(ends));
    assert_eq!(state.due(ends - 1, &TIMEOUTS), None);
    // A file in flight from the technician fails with the reason.
    act(
        &mut state,
        Role::Technician,
        Action::OfferFile {
            name: "fix.reg".into(),
            size: 10,
        },
        5_000,
    );
    act(
        &mut state,
        Role::Customer,
        Action::AcceptFile { file: 1 },
        5_500,
    );
    // Too early, the broker's own entry is refused.
    let early = LogEntry {
        seq: state.last_seq() + 1,
        at: ends - 1,
        author: Author::System,
        kind: EntryKind::GrantExpired {
            permissions: vec![Permission::SendFiles, Permission::ViewScreen],
        },
    };
    assert!(state.clone().apply(&early).is_err());
    let due = state.due(ends, &TIMEOUTS).unwrap();
    assert_eq!(
        due,
        (
            Author::System,
            EntryKind::GrantExpired {
                permissions: vec![Permission::ViewScreen, Permission::SendFiles]
            }
        )
    );
    let entries = connectit_protocol::decide_due(&state, due);
    for entry in entries {
        apply(&mut state, ends, entry);
    }
    assert!(state.granted().is_empty());
    assert_eq!(
        state.media(Media::Screen),
        connectit_protocol::MediaState::Off
    );
    assert!(matches!(
        state.files()[0].status,
        connectit_protocol::FileStatus::Failed {
            reason: FileFailure::GrantExpired
        }
    ));
    assert_eq!(state.next_due(&TIMEOUTS), None);
}

#[test]
fn a_renewal_moves_the_end_and_only_grants_that_run_out_renew() {
    let mut state = shared_for(Some(60));
    act(
        &mut state,
        Role::Customer,
        Action::Renew {
            permissions: vec![Permission::ViewScreen],
            for_secs: Some(600),
        },
        50_000,
    );
    assert_eq!(state.grant_ends(Permission::ViewScreen), Some(650_000));
    // The other grant still ends first, alone.
    assert_eq!(state.next_due(&TIMEOUTS), Some(64_000));
    assert_eq!(
        state.due(64_000, &TIMEOUTS).map(|(_, k)| k),
        Some(EntryKind::GrantExpired {
            permissions: vec![Permission::SendFiles]
        })
    );
    // "Until the session ends": nothing runs out any more.
    act(
        &mut state,
        Role::Customer,
        Action::Renew {
            permissions: vec![Permission::ViewScreen, Permission::SendFiles],
            for_secs: None,
        },
        60_000,
    );
    assert_eq!(state.next_due(&TIMEOUTS), None);
    // A grant with no end, a technician, or a zero time cannot renew.
    let refused = |state: &SessionState, role, for_secs| {
        decide(
            state,
            Actor::member(role, "Alice"),
            Action::Renew {
                permissions: vec![Permission::ViewScreen],
                for_secs,
            },
            70_000,
            LIMITS,
        )
        .is_err()
    };
    assert!(refused(&state, Role::Customer, Some(60)));
    let limited = shared_for(Some(60));
    assert!(refused(&limited, Role::Technician, Some(60)));
    assert!(refused(&limited, Role::Customer, Some(0)));
    assert!(refused(&limited, Role::Customer, Some(2 * 24 * 3600)));
    // Once run out (even before the broker logged it), too late to renew.
    let late = decide(
        &limited,
        Actor::member(Role::Customer, "Alice"),
        Action::Renew {
            permissions: vec![Permission::ViewScreen],
            for_secs: Some(60),
        },
        64_000,
        LIMITS,
    );
    assert!(late.is_err(), "{late:?}");
}

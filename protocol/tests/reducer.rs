//! The session rules: every (phase, author, entry) combination against an independent
//! table of what is allowed, plus random walks that check the rules' invariants.

use connectit_protocol::{
    Author, EndReason, EntryKind, FileFailure, InfoItem, Link, LogEntry, Media, MediaChange,
    PathFailure, Permission, Phase, Role, RuleViolation, SessionState, StopCause,
};

/// `check` at broker time 0 (these rules do not depend on time).
trait CheckNow {
    fn check_now(&self, author: Author, kind: &EntryKind) -> Result<(), RuleViolation>;
}

impl CheckNow for SessionState {
    fn check_now(&self, author: Author, kind: &EntryKind) -> Result<(), RuleViolation> {
        self.check(author, kind, 0)
    }
}

const AUTHORS: [Author; 3] = [Author::Customer, Author::Technician, Author::System];
const PHASES: [Phase; 5] = [
    Phase::Created,
    Phase::Connecting,
    Phase::Waiting,
    Phase::Active,
    Phase::Ended,
];

fn kinds() -> Vec<EntryKind> {
    let mut kinds = vec![
        EntryKind::CustomerJoined,
        EntryKind::TermsAccepted,
        EntryKind::TermsDeclined,
        EntryKind::TechnicianPickedUp {
            name: "Alice".into(),
        },
        EntryKind::Chat {
            text: "hello".into(),
            by: None,
        },
        EntryKind::HandedOver {
            from: "Alice".into(),
            to: Some("Bob".into()),
        },
        EntryKind::HandedOver {
            from: "Alice".into(),
            to: None,
        },
        EntryKind::TechnicianInvited {
            by: "Alice".into(),
            name: "Bob".into(),
        },
        EntryKind::TechnicianJoined { name: "Bob".into() },
        EntryKind::TechnicianLeft { name: "Bob".into() },
        EntryKind::SurveySubmitted {
            rating: 5,
            resolved: Some(true),
            comment: String::new(),
        },
    ];
    kinds.extend([
        EntryKind::PermissionRequested {
            request: 1,
            permissions: vec![Permission::ViewScreen],
            reason: String::new(),
            deadline: 60_000,
        },
        EntryKind::PermissionGranted {
            request: 1,
            granted: vec![Permission::ViewScreen],
            until: None,
        },
        EntryKind::PermissionDenied { request: 1 },
        EntryKind::PermissionExpired { request: 1 },
        EntryKind::PermissionExtended {
            request: 1,
            deadline: 120_000,
        },
        EntryKind::PermissionsRevoked {
            permissions: vec![Permission::ViewScreen],
        },
        EntryKind::GrantRenewed {
            permissions: vec![Permission::ViewScreen],
            until: Some(60_000),
        },
        EntryKind::GrantExpired {
            permissions: vec![Permission::ViewScreen],
        },
        EntryKind::AppletOffered { request: 1 },
        EntryKind::Media {
            media: Media::Screen,
            change: MediaChange::Started,
        },
        EntryKind::Media {
            media: Media::Screen,
            change: MediaChange::Stopped {
                cause: StopCause::Customer,
            },
        },
        EntryKind::PeerRestarted {
            media: Media::Screen,
        },
        EntryKind::PathFailed {
            link: Link::Screen,
            reason: PathFailure::TimedOut,
        },
        EntryKind::FileOffered {
            file: 1,
            name: "a.txt".into(),
            size: 1,
        },
        EntryKind::FileAccepted { file: 1 },
        EntryKind::FileSent {
            file: 1,
            sha256: "ab".repeat(32),
        },
        EntryKind::FileFailed {
            file: 1,
            reason: FileFailure::ConnectionLost,
        },
        EntryKind::SystemInfoShared {
            items: vec![InfoItem {
                label: "OS".into(),
                value: "Linux".into(),
            }],
        },
    ]);
    for reason in [
        EndReason::CustomerEnded,
        EndReason::TechnicianEnded,
        EndReason::TermsDeclined,
        EndReason::PinExpired,
        EndReason::WaitingTimeout,
        EndReason::OtherCustomerChosen,
        EndReason::CustomerGone,
        EndReason::QueueClosed,
    ] {
        kinds.push(EntryKind::SessionEnded { reason });
    }
    kinds
}

/// A state in `phase`, reached through a real log.
fn state_in(phase: Phase) -> SessionState {
    let path: &[(Author, EntryKind)] = &[
        (Author::System, EntryKind::CustomerJoined),
        (Author::Customer, EntryKind::TermsAccepted),
        (
            Author::Technician,
            EntryKind::TechnicianPickedUp {
                name: "Alice".into(),
            },
        ),
        (
            Author::Customer,
            EntryKind::SessionEnded {
                reason: EndReason::CustomerEnded,
            },
        ),
    ];
    let steps = PHASES.iter().position(|p| *p == phase).unwrap();
    let mut state = SessionState::default();
    for (i, (author, kind)) in path.iter().take(steps).enumerate() {
        state
            .apply(&LogEntry {
                seq: i as u64 + 1,
                at: 0,
                author: *author,
                kind: kind.clone(),
            })
            .unwrap();
    }
    assert_eq!(state.phase(), phase);
    state
}

/// The rules, written out as a table: which author may append which kind in which phase.
fn allowed(phase: Phase, author: Author, kind: &EntryKind) -> bool {
    use Author as A;
    use Phase as P;
    match kind {
        EntryKind::CustomerJoined => author == A::System && phase == P::Created,
        EntryKind::TermsAccepted | EntryKind::TermsDeclined => {
            author == A::Customer && phase == P::Connecting
        }
        EntryKind::TechnicianPickedUp { .. } => author == A::Technician && phase == P::Waiting,
        EntryKind::Chat { .. } => author != A::System && phase == P::Active,
        // By the technician who has the session (Alice), while it is active.
        EntryKind::HandedOver { .. } | EntryKind::TechnicianInvited { .. } => {
            author == A::Technician && phase == P::Active
        }
        // Nobody was invited, nobody joined.
        EntryKind::TechnicianJoined { .. } | EntryKind::TechnicianLeft { .. } => false,
        EntryKind::SessionEnded { reason } => match reason {
            EndReason::CustomerEnded => {
                author == A::Customer && matches!(phase, P::Connecting | P::Waiting | P::Active)
            }
            EndReason::TechnicianEnded => author == A::Technician && phase != P::Ended,
            EndReason::PinExpired => author == A::System && phase == P::Created,
            EndReason::WaitingTimeout | EndReason::OtherCustomerChosen | EndReason::QueueClosed => {
                author == A::System && matches!(phase, P::Connecting | P::Waiting)
            }
            // Only while the customer is away, which no state here is (due.rs has it).
            EndReason::CustomerGone => false,
            EndReason::TermsDeclined => false,
        },
        // Only after an end that had a customer (our Ended state had one).
        EntryKind::SurveySubmitted { .. } => author == A::Customer && phase == P::Ended,
        // In a fresh active session only a request can start the permission flow.
        EntryKind::PermissionRequested { .. } => author == A::Technician && phase == P::Active,
        EntryKind::PermissionGranted { .. }
        | EntryKind::GrantRenewed { .. }
        | EntryKind::GrantExpired { .. }
        | EntryKind::PermissionDenied { .. }
        | EntryKind::PermissionExpired { .. }
        | EntryKind::PermissionExtended { .. }
        | EntryKind::PermissionsRevoked { .. }
        | EntryKind::AppletOffered { .. }
        | EntryKind::Media { .. }
        | EntryKind::PeerRestarted { .. }
        | EntryKind::PathFailed { .. }
        | EntryKind::FileOffered { .. }
        | EntryKind::FileAccepted { .. }
        | EntryKind::FileRefused { .. }
        | EntryKind::FileSent { .. }
        | EntryKind::FileDelivered { .. }
        | EntryKind::FileFailed { .. }
        | EntryKind::SystemInfoShared { .. }
        | EntryKind::CodeConfirmed { .. }
        | EntryKind::AreasHidden { .. } => false,
        EntryKind::Disconnected { .. } | EntryKind::Reconnected { .. } => unreachable!(),
    }
}

#[test]
fn every_combination_matches_the_table() {
    let mut checked = 0;
    for phase in PHASES {
        let state = state_in(phase);
        for author in AUTHORS {
            for kind in kinds() {
                let verdict = state.check_now(author, &kind);
                assert_eq!(
                    verdict.is_ok(),
                    allowed(phase, author, &kind),
                    "{author:?} appending {kind:?} in {phase:?}: {verdict:?}"
                );
                // A refused entry leaves the state as it was, through apply too.
                if verdict.is_err() {
                    let mut copy = state.clone();
                    let entry = LogEntry {
                        seq: state.last_seq() + 1,
                        at: 0,
                        author,
                        kind: kind.clone(),
                    };
                    assert!(copy.apply(&entry).is_err());
                    assert_eq!(copy, state);
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 5 * 3 * 37);
}

#[test]
fn presence_follows_who_is_there() {
    let mut s = state_in(Phase::Connecting);
    let system = |kind| (Author::System, kind);
    // The technician has not picked up: their connection means nothing yet.
    assert_eq!(
        s.check_now(
            Author::System,
            &EntryKind::Disconnected {
                role: Role::Technician
            }
        ),
        Err(RuleViolation::PresenceMismatch)
    );
    assert_eq!(
        s.check_now(
            Author::System,
            &EntryKind::Reconnected {
                role: Role::Customer
            }
        ),
        Err(RuleViolation::PresenceMismatch),
        "not away"
    );
    let (a, k) = system(EntryKind::Disconnected {
        role: Role::Customer,
    });
    s.apply(&LogEntry {
        seq: 2,
        at: 0,
        author: a,
        kind: k,
    })
    .unwrap();
    assert!(s.away(Role::Customer));
    assert_eq!(
        s.check_now(
            Author::System,
            &EntryKind::Disconnected {
                role: Role::Customer
            }
        ),
        Err(RuleViolation::PresenceMismatch),
        "already away"
    );
    assert_eq!(
        s.check_now(
            Author::Customer,
            &EntryKind::Reconnected {
                role: Role::Customer
            }
        ),
        Err(RuleViolation::WrongAuthor),
        "only the broker says who connected"
    );
    let (a, k) = system(EntryKind::Reconnected {
        role: Role::Customer,
    });
    s.apply(&LogEntry {
        seq: 3,
        at: 0,
        author: a,
        kind: k,
    })
    .unwrap();
    assert!(!s.away(Role::Customer));
}

#[test]
fn sequence_numbers_must_follow() {
    let mut s = SessionState::default();
    let joined = LogEntry {
        seq: 2,
        at: 0,
        author: Author::System,
        kind: EntryKind::CustomerJoined,
    };
    assert_eq!(
        s.apply(&joined),
        Err(RuleViolation::SequenceGap {
            expected: 1,
            got: 2
        })
    );
    let joined = LogEntry { seq: 1, ..joined };
    s.apply(&joined).unwrap();
    assert_eq!(
        s.apply(&joined),
        Err(RuleViolation::SequenceGap {
            expected: 2,
            got: 1
        }),
        "a duplicate"
    );
    assert!(!s.is_next(1) && s.is_next(2));
}

#[test]
fn surveys_need_a_customer_a_valid_rating_and_happen_once() {
    let ended_unused = {
        let mut s = SessionState::default();
        let e = LogEntry {
            seq: 1,
            at: 0,
            author: Author::System,
            kind: EntryKind::SessionEnded {
                reason: EndReason::PinExpired,
            },
        };
        s.apply(&e).unwrap();
        s
    };
    let survey = |rating, comment: &str| EntryKind::SurveySubmitted {
        rating,
        resolved: None,
        comment: comment.into(),
    };
    assert_eq!(
        ended_unused.check_now(Author::Customer, &survey(5, "")),
        Err(RuleViolation::WrongAuthor)
    );
    let mut s = state_in(Phase::Ended);
    assert_eq!(
        s.check_now(Author::Customer, &survey(0, "")),
        Err(RuleViolation::InvalidRating)
    );
    assert_eq!(
        s.check_now(Author::Customer, &survey(6, "")),
        Err(RuleViolation::InvalidRating)
    );
    assert_eq!(
        s.check_now(Author::Customer, &survey(3, "a\u{0}b")),
        Err(RuleViolation::ControlCharacters)
    );
    let e = LogEntry {
        seq: s.last_seq() + 1,
        at: 0,
        author: Author::Customer,
        kind: survey(3, "fine"),
    };
    s.apply(&e).unwrap();
    assert_eq!(
        s.check_now(Author::Customer, &survey(3, "")),
        Err(RuleViolation::SurveyAlreadySubmitted)
    );
}

#[test]
fn declining_the_terms_ends_the_session() {
    let mut s = state_in(Phase::Connecting);
    s.apply(&LogEntry {
        seq: 2,
        at: 0,
        author: Author::Customer,
        kind: EntryKind::TermsDeclined,
    })
    .unwrap();
    assert_eq!(
        (s.phase(), s.end_reason()),
        (Phase::Ended, Some(EndReason::TermsDeclined))
    );
}

#[test]
fn chat_text_is_checked() {
    let s = state_in(Phase::Active);
    let chat = |t: &str| EntryKind::Chat {
        text: t.into(),
        by: None,
    };
    assert!(s
        .check_now(Author::Customer, &chat("multi\nline\ttext"))
        .is_ok());
    assert_eq!(
        s.check_now(Author::Customer, &chat(" \n")),
        Err(RuleViolation::EmptyText)
    );
    assert_eq!(
        s.check_now(Author::Customer, &chat("\u{1b}[2J")),
        Err(RuleViolation::ControlCharacters)
    );
    let long = "é".repeat(connectit_protocol::limits::CHAT_MAX_CHARS + 1);
    assert!(matches!(
        s.check_now(Author::Technician, &chat(&long)),
        Err(RuleViolation::TextTooLong { .. })
    ));
    let exact = "é".repeat(connectit_protocol::limits::CHAT_MAX_CHARS);
    assert!(
        s.check_now(Author::Technician, &chat(&exact)).is_ok(),
        "the limit counts characters, not bytes"
    );
}

/// A small deterministic generator (xorshift), so the walks repeat exactly.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[(self.next() % items.len() as u64) as usize].clone()
    }
}

#[test]
fn random_walks_keep_the_invariants() {
    let mut all_kinds = kinds();
    for role in [Role::Customer, Role::Technician] {
        all_kinds.push(EntryKind::Disconnected { role });
        all_kinds.push(EntryKind::Reconnected { role });
    }
    let mut rng = Rng(0x9e3779b97f4a7c15);
    for _ in 0..2000 {
        let mut state = SessionState::default();
        let mut log = Vec::new();
        for _ in 0..40 {
            let author = rng.pick(&AUTHORS);
            let kind = rng.pick(&all_kinds);
            let before = state.clone();
            let entry = LogEntry {
                seq: state.last_seq() + 1,
                at: 0,
                author,
                kind,
            };
            match state.apply(&entry) {
                Ok(()) => {
                    // Phases only move forward.
                    let rank = |p: Phase| PHASES.iter().position(|x| *x == p).unwrap();
                    assert!(
                        rank(state.phase()) >= rank(before.phase()),
                        "{before:?} -> {state:?}"
                    );
                    if before.phase() == Phase::Ended {
                        assert!(
                            matches!(entry.kind, EntryKind::SurveySubmitted { .. }),
                            "{entry:?} after the end"
                        );
                    }
                    if let EntryKind::Chat { .. } = entry.kind {
                        assert_eq!(state.chat_count(), before.chat_count() + 1);
                    }
                    log.push(entry);
                }
                Err(_) => assert_eq!(state, before, "a refusal changes nothing"),
            }
        }
        // Folding the accepted log again gives the same state: the browser and the broker agree.
        assert_eq!(SessionState::fold(&log).unwrap(), state);
    }
}

//! Permission prompts, grants, revocations and media streams, by the rules.

use connectit_protocol::{
    Author, EntryKind, Link, LogEntry, Media, MediaChange, MediaState, PathFailure, Permission,
    Phase, RuleViolation, SessionState, StopCause,
};

use Permission::*;

/// A session folded through a real log up to `active`, with an `append` helper.
struct Session {
    state: SessionState,
}

impl Session {
    fn active() -> Session {
        let mut s = Session {
            state: SessionState::default(),
        };
        s.ok(0, Author::System, EntryKind::CustomerJoined);
        s.ok(0, Author::Customer, EntryKind::TermsAccepted);
        s.ok(
            0,
            Author::Technician,
            EntryKind::TechnicianPickedUp {
                name: "Alice".into(),
            },
        );
        assert_eq!(s.state.phase(), Phase::Active);
        s
    }

    fn try_at(&mut self, at: u64, author: Author, kind: EntryKind) -> Result<(), RuleViolation> {
        let entry = LogEntry {
            seq: self.state.last_seq() + 1,
            at,
            author,
            kind,
        };
        let before = self.state.clone();
        let result = self.state.apply(&entry);
        if result.is_err() {
            assert_eq!(self.state, before, "a refused entry changes nothing");
        }
        result
    }

    fn ok(&mut self, at: u64, author: Author, kind: EntryKind) {
        if let Err(v) = self.try_at(at, author, kind.clone()) {
            panic!("{author:?} {kind:?} at {at} refused: {v:?}");
        }
    }

    fn request(&mut self, at: u64, permissions: &[Permission], deadline: u64) -> u32 {
        let request = self.state.requests() + 1;
        self.ok(
            at,
            Author::Technician,
            EntryKind::PermissionRequested {
                request,
                permissions: permissions.to_vec(),
                reason: "to look at the error".into(),
                deadline,
            },
        );
        request
    }
}

#[test]
fn grant_a_subset_then_revoke_one_by_one() {
    let mut s = Session::active();
    let r = s.request(1_000, &[ViewScreen, Camera, SystemInfo], 61_000);
    assert!(s.state.pending().is_some());
    s.ok(
        5_000,
        Author::Customer,
        EntryKind::PermissionGranted {
            request: r,
            granted: vec![SystemInfo, ViewScreen],
            until: None,
        },
    );
    assert_eq!(s.state.granted(), vec![ViewScreen, SystemInfo]);
    assert!(s.state.pending().is_none());
    assert!(!s.state.has(Camera), "what was not chosen is not granted");

    s.ok(
        6_000,
        Author::Customer,
        EntryKind::Media {
            media: Media::Screen,
            change: MediaChange::Started,
        },
    );
    assert_eq!(s.state.media(Media::Screen), MediaState::Live);
    // Revoking the screen stops it at once.
    s.ok(
        7_000,
        Author::Customer,
        EntryKind::PermissionsRevoked {
            permissions: vec![ViewScreen],
        },
    );
    assert_eq!(
        (s.state.media(Media::Screen), s.state.granted().to_vec()),
        (MediaState::Off, vec![SystemInfo])
    );
    assert_eq!(
        s.try_at(
            7_500,
            Author::Customer,
            EntryKind::PermissionsRevoked {
                permissions: vec![ViewScreen]
            }
        ),
        Err(RuleViolation::NotGranted)
    );
    assert_eq!(
        s.try_at(
            8_000,
            Author::Customer,
            EntryKind::Media {
                media: Media::Screen,
                change: MediaChange::Started
            }
        ),
        Err(RuleViolation::NotGranted),
        "no sharing without the grant"
    );
}

#[test]
fn answers_count_only_until_the_deadline_decided_by_the_broker_clock() {
    let mut s = Session::active();
    let r = s.request(0, &[ViewScreen], 60_000);
    assert_eq!(
        s.try_at(
            59_999,
            Author::System,
            EntryKind::PermissionExpired { request: r }
        ),
        Err(RuleViolation::Deadline),
        "not expired before the deadline"
    );
    assert_eq!(
        s.try_at(
            60_001,
            Author::Customer,
            EntryKind::PermissionGranted {
                request: r,
                granted: vec![ViewScreen],
                until: None,
            }
        ),
        Err(RuleViolation::Deadline),
        "a late answer is refused"
    );
    s.ok(
        60_000,
        Author::System,
        EntryKind::PermissionExpired { request: r },
    );
    assert!(s.state.pending().is_none() && s.state.granted().is_empty());
    // The technician must ask again; the old id is gone.
    assert_eq!(
        s.try_at(
            61_000,
            Author::Customer,
            EntryKind::PermissionGranted {
                request: r,
                granted: vec![ViewScreen],
                until: None,
            }
        ),
        Err(RuleViolation::NoSuchRequest)
    );
    let again = s.request(62_000, &[ViewScreen], 122_000);
    assert_eq!(again, r + 1);
    s.ok(
        63_000,
        Author::Customer,
        EntryKind::PermissionGranted {
            request: again,
            granted: vec![ViewScreen],
            until: None,
        },
    );
}

#[test]
fn one_request_at_a_time_and_more_time_once() {
    let mut s = Session::active();
    let r = s.request(0, &[Camera], 60_000);
    let second = EntryKind::PermissionRequested {
        request: r + 1,
        permissions: vec![ViewScreen],
        reason: String::new(),
        deadline: 70_000,
    };
    assert_eq!(
        s.try_at(10, Author::Technician, second),
        Err(RuleViolation::RequestPending)
    );
    s.ok(
        50_000,
        Author::Customer,
        EntryKind::PermissionExtended {
            request: r,
            deadline: 110_000,
        },
    );
    assert_eq!(
        s.try_at(
            50_001,
            Author::Customer,
            EntryKind::PermissionExtended {
                request: r,
                deadline: 170_000
            }
        ),
        Err(RuleViolation::AlreadyExtended)
    );
    // The new deadline holds.
    s.ok(
        100_000,
        Author::Customer,
        EntryKind::PermissionDenied { request: r },
    );
    assert!(s.state.granted().is_empty() && s.state.pending().is_none());
}

#[test]
fn requests_and_grants_are_checked() {
    let mut s = Session::active();
    let bad = |permissions: Vec<Permission>| EntryKind::PermissionRequested {
        request: 1,
        permissions,
        reason: String::new(),
        deadline: 10,
    };
    assert_eq!(
        s.try_at(0, Author::Technician, bad(vec![])),
        Err(RuleViolation::InvalidPermissions)
    );
    assert_eq!(
        s.try_at(0, Author::Technician, bad(vec![Camera, Camera])),
        Err(RuleViolation::InvalidPermissions)
    );
    assert_eq!(
        s.try_at(0, Author::Customer, bad(vec![Camera])),
        Err(RuleViolation::WrongAuthor)
    );
    assert_eq!(
        s.try_at(20, Author::Technician, bad(vec![Camera])),
        Err(RuleViolation::Deadline),
        "deadline in the past"
    );
    let reason = EntryKind::PermissionRequested {
        request: 1,
        permissions: vec![Camera],
        reason: "x\u{7}".into(),
        deadline: 10,
    };
    assert_eq!(
        s.try_at(0, Author::Technician, reason),
        Err(RuleViolation::ControlCharacters)
    );

    let r = s.request(0, &[ViewScreen, RemoteControl], 60_000);
    assert_eq!(
        s.state.applet_due(),
        Some(r),
        "remote control asks for the applet offer"
    );
    s.ok(1, Author::System, EntryKind::AppletOffered { request: r });
    assert_eq!(
        s.try_at(2, Author::System, EntryKind::AppletOffered { request: r }),
        Err(RuleViolation::NoSuchRequest)
    );
    for (granted, why) in [
        (vec![RemoteControl], RuleViolation::NotRequested),
        (vec![Camera], RuleViolation::NotRequested),
        (vec![], RuleViolation::InvalidPermissions),
    ] {
        assert_eq!(
            s.try_at(
                3,
                Author::Customer,
                EntryKind::PermissionGranted {
                    request: r,
                    granted,
                    until: None,
                }
            ),
            Err(why)
        );
    }
    assert_eq!(
        s.try_at(
            3,
            Author::Technician,
            EntryKind::PermissionGranted {
                request: r,
                granted: vec![ViewScreen],
                until: None,
            }
        ),
        Err(RuleViolation::WrongAuthor),
        "a technician cannot grant themselves"
    );
}

#[test]
fn media_follows_its_states_and_the_end_stops_everything() {
    let mut s = Session::active();
    let r = s.request(0, &[ViewScreen, Camera], 60_000);
    s.ok(
        1,
        Author::Customer,
        EntryKind::PermissionGranted {
            request: r,
            granted: vec![ViewScreen, Camera],
            until: None,
        },
    );
    let change = |media, change| EntryKind::Media { media, change };
    assert_eq!(
        s.try_at(
            2,
            Author::Customer,
            change(Media::Screen, MediaChange::Paused)
        ),
        Err(RuleViolation::MediaState)
    );
    assert_eq!(
        s.try_at(
            2,
            Author::Technician,
            change(Media::Screen, MediaChange::Started)
        ),
        Err(RuleViolation::WrongAuthor),
        "only the customer's browser reports its streams"
    );
    s.ok(
        2,
        Author::Customer,
        change(Media::Screen, MediaChange::Started),
    );
    assert_eq!(
        s.try_at(
            3,
            Author::Customer,
            change(Media::Screen, MediaChange::Started)
        ),
        Err(RuleViolation::MediaState)
    );
    s.ok(
        3,
        Author::Customer,
        change(Media::Screen, MediaChange::Paused),
    );
    s.ok(
        4,
        Author::Customer,
        change(Media::Screen, MediaChange::Resumed),
    );
    s.ok(
        5,
        Author::Technician,
        EntryKind::PeerRestarted {
            media: Media::Screen,
        },
    );
    assert_eq!(
        s.try_at(
            5,
            Author::Customer,
            EntryKind::PeerRestarted {
                media: Media::Camera
            }
        ),
        Err(RuleViolation::MediaState),
        "nothing to restart"
    );
    // A path that could not be made is told, by either member, under the grant only.
    s.ok(
        5,
        Author::Customer,
        EntryKind::PathFailed {
            link: Link::Screen,
            reason: PathFailure::TimedOut,
        },
    );
    assert_eq!(
        s.try_at(
            5,
            Author::Technician,
            EntryKind::PathFailed {
                link: Link::Files,
                reason: PathFailure::IceFailed,
            }
        ),
        Err(RuleViolation::NotGranted),
        "no file permission, no files link"
    );
    assert_eq!(
        s.try_at(
            5,
            Author::System,
            EntryKind::PathFailed {
                link: Link::Screen,
                reason: PathFailure::IceFailed,
            }
        ),
        Err(RuleViolation::WrongAuthor)
    );
    s.ok(
        6,
        Author::Customer,
        change(
            Media::Screen,
            MediaChange::Stopped {
                cause: StopCause::Browser,
            },
        ),
    );
    s.ok(
        7,
        Author::Customer,
        change(Media::Camera, MediaChange::Started),
    );
    s.ok(
        8,
        Author::Customer,
        change(Media::Screen, MediaChange::Started),
    );
    s.ok(
        9,
        Author::Technician,
        EntryKind::SessionEnded {
            reason: connectit_protocol::EndReason::TechnicianEnded,
        },
    );
    assert_eq!(
        (s.state.media(Media::Screen), s.state.media(Media::Camera)),
        (MediaState::Off, MediaState::Off)
    );
    assert!(s.state.granted().is_empty());
}

#[test]
fn revoke_all_at_once() {
    let mut s = Session::active();
    let r = s.request(0, &[ViewScreen, SendFiles, ReceiveFiles], 60_000);
    s.ok(
        1,
        Author::Customer,
        EntryKind::PermissionGranted {
            request: r,
            granted: vec![ViewScreen, SendFiles, ReceiveFiles],
            until: None,
        },
    );
    let all = s.state.granted().to_vec();
    s.ok(
        2,
        Author::Customer,
        EntryKind::PermissionsRevoked { permissions: all },
    );
    assert!(s.state.granted().is_empty());
    assert_eq!(
        s.try_at(
            3,
            Author::Customer,
            EntryKind::PermissionsRevoked {
                permissions: vec![SendFiles, SendFiles]
            }
        ),
        Err(RuleViolation::InvalidPermissions)
    );
}

//! The rule book: what an action appends, what follows from it by itself, and what
//! each link may carry, asked of the same state the broker and the pages hold.

use connectit_protocol::{
    decide, Action, Actor, Author, EndReason, EntryKind, FileFailure, FileStatus, Limits, Link,
    LogEntry, Media, MediaChange, MediaState, Permission, Phase, Role, RuleViolation, SessionState,
};

use Permission::*;

const LIMITS: Limits = Limits {
    prompt_ms: 30_000,
    max_file_bytes: 1 << 20,
};

const CUSTOMER: Actor<'static> = Actor {
    role: Role::Customer,
    name: "",
    guest: false,
};

const TECHNICIAN: Actor<'static> = Actor {
    role: Role::Technician,
    name: "Alice",
    guest: false,
};

/// A colleague Alice invited, once they joined.
const GUEST: Actor<'static> = Actor {
    role: Role::Technician,
    name: "Bob",
    guest: true,
};

/// A session, driven only through `decide`: every entry it returns is applied in turn,
/// as the broker appends them.
struct Session {
    state: SessionState,
    now: u64,
}

impl Session {
    fn new() -> Session {
        let mut s = Session {
            state: SessionState::default(),
            now: 1_000,
        };
        s.append(Author::System, EntryKind::CustomerJoined);
        s
    }

    /// A session the technician has picked up.
    fn active() -> Session {
        let mut s = Session::new();
        s.ok(CUSTOMER, Action::AcceptTerms);
        s.ok(TECHNICIAN, Action::PickUp);
        s
    }

    /// An active session with `granted` granted.
    fn granted(granted: &[Permission]) -> Session {
        let mut s = Session::active();
        s.ok(
            TECHNICIAN,
            Action::RequestPermissions {
                permissions: granted.to_vec(),
                reason: String::new(),
            },
        );
        let request = s.state.requests();
        s.ok(
            CUSTOMER,
            Action::Grant {
                request,
                permissions: granted.to_vec(),
                for_secs: None,
            },
        );
        s
    }

    fn append(&mut self, author: Author, kind: EntryKind) {
        let entry = LogEntry {
            seq: self.state.last_seq() + 1,
            at: self.now,
            author,
            kind,
        };
        self.state.apply(&entry).expect("decided entries apply");
    }

    /// Decide `action` and apply what it returns; the entries, or the refusal (and
    /// then the state is untouched).
    fn act(
        &mut self,
        actor: Actor<'_>,
        action: Action,
    ) -> Result<Vec<(Author, EntryKind)>, RuleViolation> {
        self.now += 10;
        let before = self.state.clone();
        let out = decide(&self.state, actor, action, self.now, LIMITS);
        assert_eq!(self.state, before, "deciding changes nothing");
        for (author, kind) in out.clone()? {
            self.append(author, kind);
        }
        out
    }

    fn ok(&mut self, actor: Actor<'_>, action: Action) -> Vec<(Author, EntryKind)> {
        let shown = format!("{action:?}");
        self.act(actor, action)
            .unwrap_or_else(|v| panic!("{shown}: {v:?}"))
    }
}

#[test]
fn pick_up_logs_the_technicians_name_and_the_session_becomes_active() {
    let mut s = Session::new();
    s.ok(CUSTOMER, Action::AcceptTerms);
    let out = s.ok(TECHNICIAN, Action::PickUp);
    assert_eq!(
        out,
        vec![(
            Author::Technician,
            EntryKind::TechnicianPickedUp {
                name: "Alice".into()
            }
        )]
    );
    assert_eq!(s.state.phase(), Phase::Active);
}

#[test]
fn a_customer_cannot_pick_up_and_nothing_is_appended() {
    let mut s = Session::new();
    s.ok(CUSTOMER, Action::AcceptTerms);
    let seq = s.state.last_seq();
    assert_eq!(
        s.act(CUSTOMER, Action::PickUp),
        Err(RuleViolation::WrongAuthor)
    );
    assert_eq!(s.state.last_seq(), seq);
    assert_eq!(s.state.phase(), Phase::Waiting);
}

#[test]
fn end_gives_the_reason_of_whoever_ends() {
    let mut s = Session::active();
    assert_eq!(
        s.ok(CUSTOMER, Action::End),
        vec![(
            Author::Customer,
            EntryKind::SessionEnded {
                reason: EndReason::CustomerEnded
            }
        )]
    );
    let mut s = Session::active();
    assert_eq!(
        s.ok(TECHNICIAN, Action::End),
        vec![(
            Author::Technician,
            EntryKind::SessionEnded {
                reason: EndReason::TechnicianEnded
            }
        )]
    );
    assert_eq!(s.state.phase(), Phase::Ended);
    assert!(matches!(
        s.act(CUSTOMER, Action::End),
        Err(RuleViolation::WrongPhase {
            phase: Phase::Ended
        })
    ));
}

#[test]
fn a_request_gets_the_next_id_and_a_deadline_from_the_limits() {
    let mut s = Session::active();
    let at = s.now + 10;
    let out = s.ok(
        TECHNICIAN,
        Action::RequestPermissions {
            permissions: vec![ViewScreen],
            reason: "to look".into(),
        },
    );
    assert_eq!(
        out,
        vec![(
            Author::Technician,
            EntryKind::PermissionRequested {
                request: 1,
                permissions: vec![ViewScreen],
                reason: "to look".into(),
                deadline: at + LIMITS.prompt_ms,
            }
        )]
    );
    s.ok(CUSTOMER, Action::Deny { request: 1 });
    let out = s.ok(
        TECHNICIAN,
        Action::RequestPermissions {
            permissions: vec![SystemInfo],
            reason: String::new(),
        },
    );
    assert!(matches!(
        out[0].1,
        EntryKind::PermissionRequested { request: 2, .. }
    ));
}

#[test]
fn asking_for_remote_control_offers_the_applet_in_the_same_step() {
    let mut s = Session::active();
    let out = s.ok(
        TECHNICIAN,
        Action::RequestPermissions {
            permissions: vec![ViewScreen, RemoteControl],
            reason: String::new(),
        },
    );
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[1],
        (Author::System, EntryKind::AppletOffered { request: 1 })
    );
}

#[test]
fn more_time_extends_the_pending_deadline_once() {
    let mut s = Session::active();
    let out = s.ok(
        TECHNICIAN,
        Action::RequestPermissions {
            permissions: vec![ViewScreen],
            reason: String::new(),
        },
    );
    let EntryKind::PermissionRequested { deadline, .. } = out[0].1 else {
        panic!("{out:?}")
    };
    assert_eq!(
        s.ok(CUSTOMER, Action::MoreTime { request: 1 }),
        vec![(
            Author::Customer,
            EntryKind::PermissionExtended {
                request: 1,
                deadline: deadline + LIMITS.prompt_ms,
            }
        )]
    );
    assert_eq!(
        s.act(CUSTOMER, Action::MoreTime { request: 1 }),
        Err(RuleViolation::AlreadyExtended)
    );
    assert_eq!(
        s.act(CUSTOMER, Action::MoreTime { request: 7 }),
        Err(RuleViolation::NoSuchRequest)
    );
}

#[test]
fn a_file_over_the_limit_is_refused_with_the_limit() {
    let mut s = Session::granted(&[SendFiles]);
    assert_eq!(
        s.act(
            TECHNICIAN,
            Action::OfferFile {
                name: "big.iso".into(),
                size: LIMITS.max_file_bytes + 1,
            },
        ),
        Err(RuleViolation::FileTooLarge {
            max_bytes: LIMITS.max_file_bytes
        })
    );
    assert!(s.state.files().is_empty());
    let out = s.ok(
        TECHNICIAN,
        Action::OfferFile {
            name: "fits.zip".into(),
            size: LIMITS.max_file_bytes,
        },
    );
    assert!(matches!(out[0].1, EntryKind::FileOffered { file: 1, .. }));
}

#[test]
fn revoking_a_file_permission_fails_only_the_transfers_it_carried() {
    let mut s = Session::granted(&[SendFiles, ReceiveFiles]);
    // One file each way, both in flight (the customer's own file needs no answer).
    s.ok(
        TECHNICIAN,
        Action::OfferFile {
            name: "to-customer.zip".into(),
            size: 10,
        },
    );
    s.ok(CUSTOMER, Action::AcceptFile { file: 1 });
    s.ok(
        CUSTOMER,
        Action::OfferFile {
            name: "from-customer.log".into(),
            size: 10,
        },
    );
    assert!(s.state.files().iter().all(|t| t.status.in_flight()));
    let out = s.ok(
        CUSTOMER,
        Action::Revoke {
            permissions: vec![SendFiles],
        },
    );
    assert_eq!(
        out,
        vec![
            (
                Author::Customer,
                EntryKind::PermissionsRevoked {
                    permissions: vec![SendFiles]
                }
            ),
            (
                Author::System,
                EntryKind::FileFailed {
                    file: 1,
                    reason: FileFailure::Revoked
                }
            ),
        ]
    );
    // The other direction still stands, and its link with it.
    assert!(s.state.may_open(Link::Files));
    let out = s.ok(
        CUSTOMER,
        Action::Revoke {
            permissions: vec![ReceiveFiles],
        },
    );
    assert_eq!(out.len(), 2);
    assert!(!s.state.may_open(Link::Files));
}

#[test]
fn a_refused_revocation_fails_no_transfer() {
    let mut s = Session::granted(&[SendFiles]);
    s.ok(
        TECHNICIAN,
        Action::OfferFile {
            name: "a.zip".into(),
            size: 1,
        },
    );
    s.ok(CUSTOMER, Action::AcceptFile { file: 1 });
    assert_eq!(
        s.act(
            CUSTOMER,
            Action::Revoke {
                permissions: vec![ViewScreen]
            }
        ),
        Err(RuleViolation::NotGranted)
    );
    assert!(s.state.files()[0].status.in_flight());
}

#[test]
fn links_open_only_while_active_and_granted() {
    let s = Session::new();
    assert!(matches!(
        s.state.link_allows(Link::Screen),
        Err(RuleViolation::WrongPhase {
            phase: Phase::Connecting
        })
    ));
    let mut s = Session::granted(&[ViewScreen]);
    assert_eq!(s.state.link_allows(Link::Screen), Ok(()));
    assert_eq!(
        s.state.link_allows(Link::Camera),
        Err(RuleViolation::NotGranted)
    );
    assert!(!s.state.may_open(Link::Files));
    s.ok(CUSTOMER, Action::End);
    assert!(!s.state.may_open(Link::Screen));
}

#[test]
fn each_side_may_offer_a_file_only_under_its_own_grant() {
    assert!(!Session::active().state.may_offer_file(Role::Technician));
    let mut s = Session::granted(&[SendFiles]);
    assert!(s.state.may_offer_file(Role::Technician));
    assert!(!s.state.may_offer_file(Role::Customer));
    // What may_offer_file says is what decide does.
    let refused = s.act(
        CUSTOMER,
        Action::OfferFile {
            name: "notes.txt".into(),
            size: 10,
        },
    );
    assert!(refused.is_err());
    let s2 = Session::granted(&[ReceiveFiles]);
    assert!(s2.state.may_offer_file(Role::Customer));
    assert!(!s2.state.may_offer_file(Role::Technician));
    s.ok(CUSTOMER, Action::End);
    assert!(!s.state.may_offer_file(Role::Technician));
}

#[test]
fn an_invited_colleague_joins_chats_under_their_name_and_may_do_nothing_else() {
    let mut s = Session::granted(&[Permission::ViewScreen]);
    // Joining without an invitation is refused.
    let joined = EntryKind::TechnicianJoined { name: "Bob".into() };
    assert_eq!(
        s.state.check(Author::Technician, &joined, s.now),
        Err(RuleViolation::NotInvited)
    );
    // Only whoever has the session invites, and only someone not there yet.
    let invite = |by: &str, name: &str| EntryKind::TechnicianInvited {
        by: by.into(),
        name: name.into(),
    };
    assert_eq!(
        s.state
            .check(Author::Technician, &invite("Carol", "Bob"), s.now),
        Err(RuleViolation::NotInCharge)
    );
    assert_eq!(
        s.state
            .check(Author::Technician, &invite("Alice", "Alice"), s.now),
        Err(RuleViolation::NotInvited)
    );
    s.append(Author::Technician, invite("Alice", "Bob"));
    assert_eq!(s.state.invited(), ["Bob"]);
    assert_eq!(
        s.state
            .check(Author::Technician, &invite("Alice", "Bob"), s.now),
        Err(RuleViolation::NotInvited)
    );
    s.append(Author::Technician, joined);
    assert_eq!(s.state.guests(), ["Bob"]);
    assert!(s.state.invited().is_empty());
    assert_eq!(s.state.technicians_present(), ["Alice", "Bob"]);

    let out = s.ok(
        GUEST,
        Action::Chat {
            text: "Hello, Bob here".into(),
        },
    );
    assert_eq!(
        out,
        vec![(
            Author::Technician,
            EntryKind::Chat {
                text: "Hello, Bob here".into(),
                by: Some("Bob".into())
            }
        )]
    );
    // The grants were Alice's requests: the guest asks for nothing and ends nothing.
    for action in [
        Action::RequestPermissions {
            permissions: vec![Permission::SystemInfo],
            reason: String::new(),
        },
        Action::End,
    ] {
        assert_eq!(s.act(GUEST, action), Err(RuleViolation::NotInCharge));
    }
    assert!(s.state.has(Permission::ViewScreen));
    // A chat in the name of someone who is not there is refused.
    let forged = EntryKind::Chat {
        text: "hi".into(),
        by: Some("Mallory".into()),
    };
    assert_eq!(
        s.state.check(Author::Technician, &forged, s.now),
        Err(RuleViolation::NotInvited)
    );
    s.append(
        Author::Technician,
        EntryKind::TechnicianLeft { name: "Bob".into() },
    );
    assert!(s.state.guests().is_empty());
    assert_eq!(
        s.act(
            GUEST,
            Action::Chat {
                text: "still here?".into()
            }
        )
        .map(|_| ()),
        Err(RuleViolation::NotInvited)
    );
}

#[test]
fn handing_over_stops_what_was_granted_to_the_technician_and_names_the_new_one() {
    let mut s = Session::granted(&[Permission::ViewScreen, Permission::SendFiles]);
    s.ok(
        CUSTOMER,
        Action::Media {
            media: Media::Screen,
            change: MediaChange::Started,
        },
    );
    s.ok(
        TECHNICIAN,
        Action::OfferFile {
            name: "fix.ps1".into(),
            size: 10,
        },
    );
    let over = |from: &str, to: Option<&str>| EntryKind::HandedOver {
        from: from.into(),
        to: to.map(str::to_owned),
    };
    // Only whoever has the session hands it over, and not to themself.
    assert_eq!(
        s.state
            .check(Author::Technician, &over("Bob", Some("Carol")), s.now),
        Err(RuleViolation::NotInCharge)
    );
    assert_eq!(
        s.state
            .check(Author::Customer, &over("Alice", Some("Bob")), s.now),
        Err(RuleViolation::WrongAuthor)
    );
    assert_eq!(
        s.state
            .check(Author::Technician, &over("Alice", Some("Alice")), s.now),
        Err(RuleViolation::NotInvited)
    );
    s.append(Author::Technician, over("Alice", Some("Bob")));
    assert_eq!(s.state.technician(), Some("Bob"));
    assert_eq!(s.state.phase(), Phase::Active);
    assert!(s.state.granted().is_empty());
    assert_eq!(s.state.media(Media::Screen), MediaState::Off);
    assert_eq!(
        s.state.transfer(1).unwrap().status,
        FileStatus::Failed {
            reason: FileFailure::HandedOver
        }
    );
    // Bob asks again, in his own name.
    let bob = Actor {
        name: "Bob",
        guest: false,
        ..TECHNICIAN
    };
    s.ok(
        bob,
        Action::RequestPermissions {
            permissions: vec![Permission::ViewScreen],
            reason: String::new(),
        },
    );
    // Back to the queue: nobody has it, and it waits to be picked up again.
    s.append(Author::Technician, over("Bob", None));
    assert_eq!(s.state.phase(), Phase::Waiting);
    assert_eq!(s.state.technician(), None);
    assert!(s.state.pending().is_none());
    s.ok(TECHNICIAN, Action::PickUp);
    assert_eq!(s.state.technician(), Some("Alice"));
}

#[test]
fn a_session_holds_at_most_so_many_colleagues_besides_its_technician() {
    let mut s = Session::active();
    for i in 0..connectit_protocol::limits::MAX_GUESTS {
        s.append(
            Author::Technician,
            EntryKind::TechnicianInvited {
                by: "Alice".into(),
                name: format!("Colleague {i}"),
            },
        );
    }
    let one_more = EntryKind::TechnicianInvited {
        by: "Alice".into(),
        name: "One too many".into(),
    };
    assert_eq!(
        s.state.check(Author::Technician, &one_more, s.now),
        Err(RuleViolation::NotInvited)
    );
    // The end lets everyone go.
    s.ok(TECHNICIAN, Action::End);
    assert!(s.state.invited().is_empty() && s.state.guests().is_empty());
}

#[test]
fn the_technician_confirms_a_code_of_six_digits_while_the_media_is_shared() {
    let confirm = |code: &str| Action::ConfirmCode {
        media: Media::Screen,
        code: code.into(),
    };
    let mut s = Session::granted(&[ViewScreen]);
    // Nothing shared yet: nothing to confirm.
    assert_eq!(
        s.act(TECHNICIAN, confirm("123456")),
        Err(RuleViolation::MediaState)
    );
    s.ok(
        CUSTOMER,
        Action::Media {
            media: Media::Screen,
            change: MediaChange::Started,
        },
    );
    for bad in ["12345", "1234567", "12345a", "١٢٣٤٥٦", ""] {
        assert_eq!(
            s.act(TECHNICIAN, confirm(bad)),
            Err(RuleViolation::InvalidCode),
            "{bad:?}"
        );
    }
    // The code is the technician's to confirm: not the customer's, not a guest's.
    assert_eq!(
        s.act(CUSTOMER, confirm("123456")),
        Err(RuleViolation::WrongAuthor)
    );
    s.append(
        Author::Technician,
        EntryKind::TechnicianInvited {
            by: "Alice".into(),
            name: "Bob".into(),
        },
    );
    assert_eq!(
        s.act(GUEST, confirm("123456")),
        Err(RuleViolation::NotInCharge)
    );
    let out = s.ok(TECHNICIAN, confirm("123456"));
    assert_eq!(
        out,
        vec![(
            Author::Technician,
            EntryKind::CodeConfirmed {
                media: Media::Screen,
                code: "123456".into()
            }
        )]
    );
}

#[test]
fn the_customer_says_how_many_areas_are_hidden_never_where() {
    let hide = |areas: u8| Action::HideAreas {
        media: Media::Screen,
        areas,
    };
    let mut s = Session::granted(&[ViewScreen, Camera]);
    assert_eq!(s.act(CUSTOMER, hide(1)), Err(RuleViolation::MediaState));
    for media in [Media::Screen, Media::Camera] {
        s.ok(
            CUSTOMER,
            Action::Media {
                media,
                change: MediaChange::Started,
            },
        );
    }
    assert_eq!(s.act(TECHNICIAN, hide(1)), Err(RuleViolation::WrongAuthor));
    // The camera's picture is not painted over.
    assert_eq!(
        s.act(
            CUSTOMER,
            Action::HideAreas {
                media: Media::Camera,
                areas: 1
            }
        ),
        Err(RuleViolation::MediaState)
    );
    let max = connectit_protocol::limits::HIDDEN_AREAS_MAX;
    assert_eq!(
        s.act(CUSTOMER, hide(max + 1)),
        Err(RuleViolation::TooManyAreas { max })
    );
    s.ok(CUSTOMER, hide(2));
    assert_eq!(s.state.hidden_areas(Media::Screen), 2);
    s.ok(CUSTOMER, hide(0));
    assert_eq!(s.state.hidden_areas(Media::Screen), 0);
    s.ok(CUSTOMER, hide(max));
    // A share that stops takes its areas with it; the next one starts whole.
    s.ok(
        CUSTOMER,
        Action::Media {
            media: Media::Screen,
            change: MediaChange::Stopped {
                cause: connectit_protocol::StopCause::Customer,
            },
        },
    );
    assert_eq!(s.state.hidden_areas(Media::Screen), 0);
    s.ok(
        CUSTOMER,
        Action::Media {
            media: Media::Screen,
            change: MediaChange::Started,
        },
    );
    assert_eq!(s.state.hidden_areas(Media::Screen), 0);
}

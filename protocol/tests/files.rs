//! File transfers and system information, by the rules.

use connectit_protocol::{
    Author, EndReason, EntryKind, FileFailure, FileStatus, InfoItem, LogEntry, Permission, Role,
    RuleViolation, SessionState,
};

use Permission::*;

struct Session(SessionState);

impl Session {
    /// An active session with `granted` granted.
    fn with(granted: &[Permission]) -> Session {
        let mut s = Session(SessionState::default());
        s.ok(Author::System, EntryKind::CustomerJoined);
        s.ok(Author::Customer, EntryKind::TermsAccepted);
        s.ok(
            Author::Technician,
            EntryKind::TechnicianPickedUp {
                name: "Alice".into(),
            },
        );
        s.ok(
            Author::Technician,
            EntryKind::PermissionRequested {
                request: 1,
                permissions: granted.to_vec(),
                reason: String::new(),
                deadline: 100,
            },
        );
        s.ok(
            Author::Customer,
            EntryKind::PermissionGranted {
                request: 1,
                granted: granted.to_vec(),
                until: None,
            },
        );
        s
    }

    fn try_(&mut self, author: Author, kind: EntryKind) -> Result<(), RuleViolation> {
        let entry = LogEntry {
            seq: self.0.last_seq() + 1,
            at: 10,
            author,
            kind,
        };
        let before = self.0.clone();
        let r = self.0.apply(&entry);
        if r.is_err() {
            assert_eq!(self.0, before);
        }
        r
    }

    fn ok(&mut self, author: Author, kind: EntryKind) {
        if let Err(v) = self.try_(author, kind.clone()) {
            panic!("{author:?} {kind:?}: {v:?}");
        }
    }

    fn status(&self, file: u32) -> FileStatus {
        self.0.transfer(file).unwrap().status
    }
}

fn hash(c: char) -> String {
    c.to_string().repeat(64)
}

#[test]
fn a_file_from_the_technician_needs_the_customers_yes_and_the_same_hash() {
    let mut s = Session::with(&[SendFiles]);
    let offer = EntryKind::FileOffered {
        file: 1,
        name: "driver.zip".into(),
        size: 20 << 20,
    };
    assert_eq!(
        s.try_(Author::Customer, offer.clone()),
        Err(RuleViolation::NotGranted),
        "the customer may not send"
    );
    s.ok(Author::Technician, offer);
    assert_eq!(s.status(1), FileStatus::Offered);
    assert_eq!(
        s.try_(
            Author::Technician,
            EntryKind::FileSent {
                file: 1,
                sha256: hash('a')
            }
        ),
        Err(RuleViolation::FileState),
        "no bytes before the customer says yes"
    );
    assert_eq!(
        s.try_(Author::Technician, EntryKind::FileAccepted { file: 1 }),
        Err(RuleViolation::WrongAuthor)
    );
    s.ok(Author::Customer, EntryKind::FileAccepted { file: 1 });
    assert_eq!(
        s.try_(
            Author::Technician,
            EntryKind::FileSent {
                file: 1,
                sha256: "nothex".into()
            }
        ),
        Err(RuleViolation::HashMismatch)
    );
    s.ok(
        Author::Technician,
        EntryKind::FileSent {
            file: 1,
            sha256: hash('a'),
        },
    );
    assert_eq!(
        s.try_(
            Author::Customer,
            EntryKind::FileDelivered {
                file: 1,
                sha256: hash('b')
            }
        ),
        Err(RuleViolation::HashMismatch),
        "a different hash is never a delivery"
    );
    assert_eq!(
        s.try_(
            Author::Technician,
            EntryKind::FileDelivered {
                file: 1,
                sha256: hash('a')
            }
        ),
        Err(RuleViolation::FileState),
        "the sender does not confirm its own delivery"
    );
    s.ok(
        Author::Customer,
        EntryKind::FileDelivered {
            file: 1,
            sha256: hash('a'),
        },
    );
    assert_eq!(s.status(1), FileStatus::Delivered);
    assert_eq!(
        s.try_(
            Author::Customer,
            EntryKind::FileFailed {
                file: 1,
                reason: FileFailure::Cancelled { by: Role::Customer }
            }
        ),
        Err(RuleViolation::FileState),
        "a delivered file cannot fail"
    );
}

#[test]
fn a_file_from_the_customer_goes_straight_to_the_technician() {
    let mut s = Session::with(&[ReceiveFiles]);
    s.ok(
        Author::Customer,
        EntryKind::FileOffered {
            file: 1,
            name: "log.txt".into(),
            size: 12,
        },
    );
    assert_eq!(s.status(1), FileStatus::Accepted);
    assert_eq!(
        s.try_(Author::Customer, EntryKind::FileAccepted { file: 1 }),
        Err(RuleViolation::FileState)
    );
    s.ok(
        Author::Customer,
        EntryKind::FileSent {
            file: 1,
            sha256: hash('c'),
        },
    );
    s.ok(
        Author::Technician,
        EntryKind::FileDelivered {
            file: 1,
            sha256: hash('c'),
        },
    );
    assert_eq!(
        s.try_(
            Author::Technician,
            EntryKind::FileOffered {
                file: 2,
                name: "x".into(),
                size: 1
            }
        ),
        Err(RuleViolation::NotGranted),
        "receive files does not let the technician send"
    );
}

#[test]
fn refusals_cancellations_and_mismatches() {
    let mut s = Session::with(&[SendFiles, ReceiveFiles]);
    s.ok(
        Author::Technician,
        EntryKind::FileOffered {
            file: 1,
            name: "a".into(),
            size: 1,
        },
    );
    s.ok(Author::Customer, EntryKind::FileRefused { file: 1 });
    assert_eq!(s.status(1), FileStatus::Refused);
    s.ok(
        Author::Technician,
        EntryKind::FileOffered {
            file: 2,
            name: "b".into(),
            size: 1,
        },
    );
    s.ok(Author::Customer, EntryKind::FileAccepted { file: 2 });
    let cancel = |by| EntryKind::FileFailed {
        file: 2,
        reason: FileFailure::Cancelled { by },
    };
    assert_eq!(
        s.try_(Author::Technician, cancel(Role::Customer)),
        Err(RuleViolation::WrongAuthor),
        "no cancelling in another's name"
    );
    s.ok(Author::Technician, cancel(Role::Technician));
    s.ok(
        Author::Customer,
        EntryKind::FileOffered {
            file: 3,
            name: "c".into(),
            size: 1,
        },
    );
    s.ok(
        Author::Customer,
        EntryKind::FileSent {
            file: 3,
            sha256: hash('d'),
        },
    );
    let mismatch = EntryKind::FileFailed {
        file: 3,
        reason: FileFailure::HashMismatch,
    };
    assert_eq!(
        s.try_(Author::Customer, mismatch.clone()),
        Err(RuleViolation::WrongAuthor),
        "the receiver finds a mismatch"
    );
    s.ok(Author::Technician, mismatch);
    assert_eq!(
        s.try_(
            Author::Technician,
            EntryKind::FileOffered {
                file: 9,
                name: "d".into(),
                size: 1
            }
        ),
        Err(RuleViolation::FileState),
        "ids follow each other"
    );
    assert_eq!(
        s.try_(
            Author::Technician,
            EntryKind::FileOffered {
                file: 4,
                name: "bad\u{0}.txt".into(),
                size: 1
            }
        ),
        Err(RuleViolation::ControlCharacters)
    );
}

#[test]
fn revoking_and_ending_stop_transfers() {
    let mut s = Session::with(&[SendFiles, ReceiveFiles]);
    s.ok(
        Author::Technician,
        EntryKind::FileOffered {
            file: 1,
            name: "a".into(),
            size: 1,
        },
    );
    s.ok(Author::Customer, EntryKind::FileAccepted { file: 1 });
    let revoked = EntryKind::FileFailed {
        file: 1,
        reason: FileFailure::Revoked,
    };
    assert_eq!(
        s.try_(Author::System, revoked.clone()),
        Err(RuleViolation::WrongAuthor),
        "not while the grant stands"
    );
    s.ok(
        Author::Customer,
        EntryKind::PermissionsRevoked {
            permissions: vec![SendFiles],
        },
    );
    assert_eq!(
        s.try_(
            Author::Technician,
            EntryKind::FileSent {
                file: 1,
                sha256: hash('e')
            }
        ),
        Err(RuleViolation::NotGranted)
    );
    s.ok(Author::System, revoked);
    s.ok(
        Author::Customer,
        EntryKind::FileOffered {
            file: 2,
            name: "b".into(),
            size: 1,
        },
    );
    s.ok(
        Author::Technician,
        EntryKind::SessionEnded {
            reason: EndReason::TechnicianEnded,
        },
    );
    assert_eq!(
        s.status(2),
        FileStatus::Failed {
            reason: FileFailure::Ended
        }
    );
}

#[test]
fn system_information_needs_its_grant_and_clean_text() {
    let item = |l: &str, v: &str| InfoItem {
        label: l.into(),
        value: v.into(),
    };
    let mut without = Session::with(&[ViewScreen]);
    let report = EntryKind::SystemInfoShared {
        items: vec![item("Browser", "Chromium 156")],
    };
    assert_eq!(
        without.try_(Author::Customer, report.clone()),
        Err(RuleViolation::NotGranted)
    );
    let mut s = Session::with(&[SystemInfo]);
    assert_eq!(
        s.try_(Author::Technician, report.clone()),
        Err(RuleViolation::WrongAuthor)
    );
    for bad in [
        vec![],
        vec![item("", "x")],
        vec![item("OS", "\u{1b}[31m")],
        vec![item("OS", "x"); 41],
    ] {
        assert_eq!(
            s.try_(Author::Customer, EntryKind::SystemInfoShared { items: bad }),
            Err(RuleViolation::InvalidInfo)
        );
    }
    s.ok(Author::Customer, report);
    assert_eq!(s.0.info_shared(), 1);
}

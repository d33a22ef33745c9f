//! What a page must do when the log moves, as one pure function: [`effects`] takes the
//! state before, the state after and whose page it is, and says which links to open,
//! close or connect again, which streams stopped, which prompt closed, and what each
//! transfer asks of this side. The executors (the customer's media, the console's
//! media, the transfers) own the browser handles and carry these out; they decide
//! nothing from the log themselves.

use connectit_protocol::{FileStatus, Link, Media, MediaState, Role, SessionState};

const LINKS: [Link; 3] = [Link::Screen, Link::Camera, Link::Files];
const MEDIA: [Media; 2] = [Media::Screen, Media::Camera];

/// One thing the page must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `link` may carry something now (granted while active).
    Open(Link),
    /// `link` may carry nothing any more (revoked, or the session is no longer active):
    /// close it, and stop what feeds it.
    Close(Link),
    /// The other member came back after a drop while `link` stays open: the side that
    /// offers connects it again.
    Reconnect(Link),
    /// The log shows `media` running (started, or already running when the page
    /// loaded).
    Started(Media),
    /// The log shows `media` stopped while its link stays open.
    Stopped(Media),
    /// The prompt of this request closed (answered, expired, or the session ended).
    PromptClosed(u32),
    /// A transfer this side sends was offered (or was in flight when the page loaded).
    Outgoing(u32),
    /// The other side accepted this side's file: send it now.
    Send(u32),
    /// The sender says it sent a file to this side: check what arrived.
    Check(u32),
    /// The file arrived whole.
    Delivered(u32),
    /// The transfer ended without delivery (refused, failed): release what this side
    /// holds of it.
    Release(u32),
}

/// What moving from `before` to `after` asks of `role`'s page, in this order: links,
/// streams, the prompt, transfers.
pub fn effects(before: &SessionState, after: &SessionState, role: Role) -> Vec<Effect> {
    let mut out = Vec::new();
    let back = after.returns(role.other()) > before.returns(role.other());
    for link in LINKS {
        match (before.may_open(link), after.may_open(link)) {
            (false, true) => out.push(Effect::Open(link)),
            (true, false) => out.push(Effect::Close(link)),
            (true, true) if back => out.push(Effect::Reconnect(link)),
            _ => {}
        }
    }
    for media in MEDIA {
        let (was, is) = (before.media(media), after.media(media));
        if was == MediaState::Off && is != MediaState::Off {
            out.push(Effect::Started(media));
        }
        if was != MediaState::Off && is == MediaState::Off && after.may_open(Link::from(media)) {
            out.push(Effect::Stopped(media));
        }
    }
    if let Some(p) = before.pending() {
        if after.pending().map(|q| q.request) != Some(p.request) {
            out.push(Effect::PromptClosed(p.request));
        }
    }
    for t in after.files() {
        let was = before.transfer(t.file).ok().map(|b| b.status);
        if was == Some(t.status) {
            continue;
        }
        let mine = t.from == role;
        if mine && was.is_none() && t.status.in_flight() {
            out.push(Effect::Outgoing(t.file));
        }
        match t.status {
            FileStatus::Accepted if mine => out.push(Effect::Send(t.file)),
            FileStatus::Sent if !mine => out.push(Effect::Check(t.file)),
            FileStatus::Delivered => out.push(Effect::Delivered(t.file)),
            FileStatus::Refused | FileStatus::Failed { .. } => out.push(Effect::Release(t.file)),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use connectit_protocol::{
        Author, EndReason, EntryKind, FileFailure, LogEntry, MediaChange, Permission, StopCause,
    };

    use super::*;
    use Effect::*;

    /// A state and the entries that make it, grown one entry at a time.
    struct Log(SessionState);

    impl Log {
        fn active() -> Log {
            let mut log = Log(SessionState::default());
            log.add(Author::System, EntryKind::CustomerJoined);
            log.add(Author::Customer, EntryKind::TermsAccepted);
            log.add(
                Author::Technician,
                EntryKind::TechnicianPickedUp {
                    name: "Alice".into(),
                },
            );
            log
        }

        fn add(&mut self, author: Author, kind: EntryKind) -> &mut Self {
            let entry = LogEntry {
                seq: self.0.last_seq() + 1,
                at: 1_000,
                author,
                kind,
            };
            self.0
                .apply(&entry)
                .unwrap_or_else(|v| panic!("{entry:?}: {v:?}"));
            self
        }

        fn ask(&mut self, permissions: &[Permission]) -> u32 {
            let request = self.0.requests() + 1;
            self.add(
                Author::Technician,
                EntryKind::PermissionRequested {
                    request,
                    permissions: permissions.to_vec(),
                    reason: String::new(),
                    deadline: 60_000,
                },
            );
            request
        }

        fn grant(&mut self, permissions: &[Permission]) -> &mut Self {
            let request = self.ask(permissions);
            self.add(
                Author::Customer,
                EntryKind::PermissionGranted {
                    request,
                    granted: permissions.to_vec(),
                    until: None,
                },
            )
        }

        /// What the next entry asks of `role`.
        fn then(&mut self, role: Role, author: Author, kind: EntryKind) -> Vec<Effect> {
            let before = self.0.clone();
            self.add(author, kind);
            effects(&before, &self.0, role)
        }
    }

    #[test]
    fn a_grant_opens_its_link_on_both_sides_and_a_revocation_closes_it() {
        let mut log = Log::active();
        let request = log.ask(&[Permission::ViewScreen]);
        let grant = EntryKind::PermissionGranted {
            request,
            granted: vec![Permission::ViewScreen],
            until: None,
        };
        let before = log.0.clone();
        log.add(Author::Customer, grant);
        for role in [Role::Customer, Role::Technician] {
            assert_eq!(
                effects(&before, &log.0, role),
                [Open(Link::Screen), PromptClosed(request)]
            );
        }
        let revoked = EntryKind::PermissionsRevoked {
            permissions: vec![Permission::ViewScreen],
        };
        assert_eq!(
            log.then(Role::Technician, Author::Customer, revoked),
            [Close(Link::Screen)]
        );
    }

    #[test]
    fn the_end_closes_every_open_link_and_the_prompt() {
        let mut log = Log::active();
        log.grant(&[Permission::SendFiles, Permission::Camera]);
        let request = log.ask(&[Permission::ViewScreen]);
        let end = EntryKind::SessionEnded {
            reason: EndReason::CustomerEnded,
        };
        assert_eq!(
            log.then(Role::Customer, Author::Customer, end),
            [
                Close(Link::Camera),
                Close(Link::Files),
                PromptClosed(request)
            ]
        );
    }

    #[test]
    fn the_other_side_coming_back_reconnects_the_open_links() {
        let mut log = Log::active();
        log.grant(&[Permission::ViewScreen]);
        let gone = EntryKind::Disconnected {
            role: Role::Technician,
        };
        assert_eq!(log.then(Role::Customer, Author::System, gone), []);
        // Both in one step (the page rendered once): still a return.
        let before = log.0.clone();
        log.add(
            Author::System,
            EntryKind::Reconnected {
                role: Role::Technician,
            },
        );
        log.add(
            Author::System,
            EntryKind::Disconnected {
                role: Role::Technician,
            },
        );
        log.add(
            Author::System,
            EntryKind::Reconnected {
                role: Role::Technician,
            },
        );
        assert_eq!(
            effects(&before, &log.0, Role::Customer),
            [Reconnect(Link::Screen)]
        );
        // Our own return is not a reason to connect again.
        let before = log.0.clone();
        log.add(
            Author::System,
            EntryKind::Disconnected {
                role: Role::Customer,
            },
        );
        log.add(
            Author::System,
            EntryKind::Reconnected {
                role: Role::Customer,
            },
        );
        assert_eq!(effects(&before, &log.0, Role::Customer), []);
        assert_eq!(
            effects(&before, &log.0, Role::Technician),
            [Reconnect(Link::Screen)]
        );
    }

    #[test]
    fn streams_start_and_stop_as_the_log_says() {
        let mut log = Log::active();
        log.grant(&[Permission::ViewScreen]);
        let media = |change| EntryKind::Media {
            media: Media::Screen,
            change,
        };
        assert_eq!(
            log.then(
                Role::Technician,
                Author::Customer,
                media(MediaChange::Started)
            ),
            [Started(Media::Screen)]
        );
        assert_eq!(
            log.then(
                Role::Technician,
                Author::Customer,
                media(MediaChange::Paused)
            ),
            []
        );
        let stopped = MediaChange::Stopped {
            cause: StopCause::Browser,
        };
        assert_eq!(
            log.then(Role::Technician, Author::Customer, media(stopped)),
            [Stopped(Media::Screen)]
        );
    }

    #[test]
    fn a_page_loaded_into_a_running_session_sees_everything_start() {
        let mut log = Log::active();
        log.grant(&[Permission::ViewScreen]);
        log.add(
            Author::Customer,
            EntryKind::Media {
                media: Media::Screen,
                change: MediaChange::Started,
            },
        );
        assert_eq!(
            effects(&SessionState::default(), &log.0, Role::Customer),
            [Open(Link::Screen), Started(Media::Screen)]
        );
    }

    #[test]
    fn each_transfer_step_asks_one_side_for_one_thing() {
        let mut log = Log::active();
        log.grant(&[Permission::SendFiles]);
        let offer = EntryKind::FileOffered {
            file: 1,
            name: "a.zip".into(),
            size: 10,
        };
        let before = log.0.clone();
        log.add(Author::Technician, offer);
        assert_eq!(effects(&before, &log.0, Role::Technician), [Outgoing(1)]);
        assert_eq!(effects(&before, &log.0, Role::Customer), []);
        let accept = EntryKind::FileAccepted { file: 1 };
        let before = log.0.clone();
        log.add(Author::Customer, accept);
        assert_eq!(effects(&before, &log.0, Role::Technician), [Send(1)]);
        assert_eq!(effects(&before, &log.0, Role::Customer), []);
        let hash = "ab".repeat(32);
        let sent = EntryKind::FileSent {
            file: 1,
            sha256: hash.clone(),
        };
        let before = log.0.clone();
        log.add(Author::Technician, sent);
        assert_eq!(effects(&before, &log.0, Role::Customer), [Check(1)]);
        assert_eq!(effects(&before, &log.0, Role::Technician), []);
        let delivered = EntryKind::FileDelivered {
            file: 1,
            sha256: hash,
        };
        for role in [Role::Customer, Role::Technician] {
            let mut copy = Log(log.0.clone());
            assert_eq!(
                copy.then(role, Author::Customer, delivered.clone()),
                [Delivered(1)]
            );
        }
        // A second file, cancelled by its sender: both sides let go.
        log.add(
            Author::Technician,
            EntryKind::FileOffered {
                file: 2,
                name: "b.zip".into(),
                size: 10,
            },
        );
        let cancel = EntryKind::FileFailed {
            file: 2,
            reason: FileFailure::Cancelled {
                by: Role::Technician,
            },
        };
        assert_eq!(
            log.then(Role::Customer, Author::Technician, cancel),
            [Release(2)]
        );
    }

    #[test]
    fn a_revocation_fails_the_transfers_it_carried_and_closes_the_link() {
        let mut log = Log::active();
        log.grant(&[Permission::ReceiveFiles]);
        log.add(
            Author::Customer,
            EntryKind::FileOffered {
                file: 1,
                name: "log.txt".into(),
                size: 10,
            },
        );
        let before = log.0.clone();
        log.add(
            Author::Customer,
            EntryKind::PermissionsRevoked {
                permissions: vec![Permission::ReceiveFiles],
            },
        );
        log.add(
            Author::System,
            EntryKind::FileFailed {
                file: 1,
                reason: FileFailure::Revoked,
            },
        );
        assert_eq!(
            effects(&before, &log.0, Role::Customer),
            [Close(Link::Files), Release(1)]
        );
    }

    #[test]
    fn a_page_loaded_with_its_own_file_in_flight_hears_of_it() {
        let mut log = Log::active();
        log.grant(&[Permission::ReceiveFiles]);
        log.add(
            Author::Customer,
            EntryKind::FileOffered {
                file: 1,
                name: "log.txt".into(),
                size: 10,
            },
        );
        // The customer's own file needs no answer: it is accepted as offered.
        assert_eq!(
            effects(&SessionState::default(), &log.0, Role::Customer),
            [Open(Link::Files), Outgoing(1), Send(1)]
        );
    }
}

//! Which links could not connect, from the log: a link's last `path_failed` stands
//! until the link is tried again (a media started or restarted, a new grant of what it
//! carries).

use connectit_protocol::{EntryKind, Link, LogEntry, MediaChange, PathFailure};

/// Why `link` could not connect, if its last attempt failed.
pub fn path_failure(entries: &[LogEntry], link: Link) -> Option<PathFailure> {
    let mut failed = None;
    for entry in entries {
        match &entry.kind {
            EntryKind::PathFailed { link: l, reason } if *l == link => failed = Some(*reason),
            EntryKind::Media {
                media,
                change: MediaChange::Started,
            }
            | EntryKind::PeerRestarted { media }
                if Link::from(*media) == link =>
            {
                failed = None
            }
            EntryKind::PermissionGranted { granted, .. } if link.allowed(granted) => failed = None,
            _ => {}
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use connectit_protocol::{Author, Media, Permission};

    fn entry(seq: u64, kind: EntryKind) -> LogEntry {
        LogEntry {
            seq,
            at: seq,
            author: Author::Customer,
            kind,
        }
    }

    #[test]
    fn a_failure_stands_until_the_link_is_tried_again() {
        let failed = |link| EntryKind::PathFailed {
            link,
            reason: PathFailure::TimedOut,
        };
        let mut log = vec![
            entry(
                1,
                EntryKind::Media {
                    media: Media::Screen,
                    change: MediaChange::Started,
                },
            ),
            entry(2, failed(Link::Screen)),
        ];
        assert_eq!(
            path_failure(&log, Link::Screen),
            Some(PathFailure::TimedOut)
        );
        assert_eq!(path_failure(&log, Link::Camera), None);
        log.push(entry(
            3,
            EntryKind::Media {
                media: Media::Screen,
                change: MediaChange::Started,
            },
        ));
        assert_eq!(path_failure(&log, Link::Screen), None, "shared again");
        log.push(entry(4, failed(Link::Files)));
        assert_eq!(path_failure(&log, Link::Files), Some(PathFailure::TimedOut));
        log.push(entry(
            5,
            EntryKind::PermissionGranted {
                request: 2,
                granted: vec![Permission::SendFiles],
                until: None,
            },
        ));
        assert_eq!(path_failure(&log, Link::Files), None, "granted anew");
    }
}

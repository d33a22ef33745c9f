//! The hash chain that makes a session log tamper-evident. Each entry's hash covers the
//! previous entry's hash and the entry itself (its JSON, as it is sent and stored), so
//! changing or removing any entry changes every hash after it, and the last hash stands
//! for the whole log.

use connectit_protocol::{LogEntry, SessionId};
use sha2::{Digest, Sha256};

/// The hash "before" a session's first entry: binds the chain to the session.
pub fn genesis(session: &SessionId) -> [u8; 32] {
    Sha256::digest(format!("connectit session log {session}").as_bytes()).into()
}

/// The hash of `entry`, following `prev`.
pub fn entry_hash(prev: &[u8; 32], entry: &LogEntry) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    // LogEntry serialises its fields in declaration order: the same bytes every time.
    h.update(serde_json::to_vec(entry).unwrap_or_default());
    h.finalize().into()
}

/// Where a chain of entries first disagrees with its hashes, if anywhere.
pub fn first_break(session: &SessionId, entries: &[(LogEntry, [u8; 32])]) -> Option<u64> {
    let mut prev = genesis(session);
    for (entry, hash) in entries {
        let expected = entry_hash(&prev, entry);
        if &expected != hash {
            return Some(entry.seq);
        }
        prev = expected;
    }
    None
}

/// Bytes from a stored hash column.
pub fn to_array(bytes: &[u8]) -> Option<[u8; 32]> {
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use connectit_protocol::{Author, EntryKind};

    fn chain(session: &SessionId, texts: &[&str]) -> Vec<(LogEntry, [u8; 32])> {
        let mut prev = genesis(session);
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let entry = LogEntry {
                    seq: i as u64 + 1,
                    at: 1000 + i as u64,
                    author: Author::Customer,
                    kind: EntryKind::Chat {
                        text: t.to_string(),
                        by: None,
                    },
                };
                prev = entry_hash(&prev, &entry);
                (entry, prev)
            })
            .collect()
    }

    #[test]
    fn any_change_breaks_the_chain_from_there() {
        let s = SessionId("s".into());
        let mut c = chain(&s, &["a", "b", "c"]);
        assert_eq!(first_break(&s, &c), None);
        c[1].0.kind = EntryKind::Chat {
            text: "B".into(),
            by: None,
        };
        assert_eq!(first_break(&s, &c), Some(2));
        let c = chain(&s, &["a", "b", "c"]);
        assert_eq!(
            first_break(&SessionId("other".into()), &c),
            Some(1),
            "bound to its session"
        );
        let mut dropped = chain(&s, &["a", "b", "c"]);
        dropped.remove(1);
        assert_eq!(first_break(&s, &dropped), Some(3), "a removal shows");
    }
}

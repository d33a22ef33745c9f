//! The log as received, shared by every version of a page's [`super::Live`] state:
//! appending an entry does not copy the ones before it.
//!
//! The entries live in one append-only buffer; each version of the state sees its own
//! length of it, so an older version (a component still rendering it) keeps seeing
//! exactly what it saw. A version that appends behind a newer one (which a reducer
//! never does, but a clone can) gets a buffer of its own first.

use std::cell::{Ref, RefCell};
use std::rc::Rc;

use connectit_protocol::LogEntry;

#[derive(Clone, Default)]
pub struct Entries {
    buffer: Rc<RefCell<Vec<LogEntry>>>,
    len: usize,
}

impl Entries {
    /// The entries, in order.
    pub fn borrow(&self) -> Ref<'_, [LogEntry]> {
        Ref::map(self.buffer.borrow(), |all| &all[..self.len])
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The last entry.
    pub fn last(&self) -> Option<LogEntry> {
        self.borrow().last().cloned()
    }

    /// Appends `entry`: in place when this is the newest version, else into a copy.
    pub fn push(&mut self, entry: LogEntry) {
        if self.buffer.borrow().len() != self.len {
            let own = self.borrow().to_vec();
            self.buffer = Rc::new(RefCell::new(own));
        }
        self.buffer.borrow_mut().push(entry);
        self.len += 1;
    }
}

impl From<Vec<LogEntry>> for Entries {
    fn from(entries: Vec<LogEntry>) -> Self {
        Entries {
            len: entries.len(),
            buffer: Rc::new(RefCell::new(entries)),
        }
    }
}

/// Two versions are equal when they see the same entries of the same buffer (an
/// appended entry changes the length; a reload changes the buffer).
impl PartialEq for Entries {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && Rc::ptr_eq(&self.buffer, &other.buffer)
    }
}

impl std::fmt::Debug for Entries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.borrow().iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use connectit_protocol::{Author, EntryKind};

    fn entry(seq: u64) -> LogEntry {
        LogEntry {
            seq,
            at: seq,
            author: Author::System,
            kind: EntryKind::CustomerJoined,
        }
    }

    #[test]
    fn older_versions_keep_what_they_saw() {
        let mut a = Entries::default();
        a.push(entry(1));
        let old = a.clone();
        a.push(entry(2));
        assert_eq!(old.len(), 1);
        assert_eq!(old.borrow().len(), 1);
        assert_eq!(a.borrow().iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
        assert_ne!(old, a);
        // Appending in place: the buffer is shared, not copied.
        assert!(Rc::ptr_eq(&old.buffer, &a.buffer));
    }

    #[test]
    fn appending_behind_a_newer_version_copies_first() {
        let mut a = Entries::default();
        a.push(entry(1));
        let mut behind = a.clone();
        a.push(entry(2));
        behind.push(entry(9));
        assert_eq!(
            behind.borrow().iter().map(|e| e.seq).collect::<Vec<_>>(),
            [1, 9]
        );
        assert_eq!(a.borrow().iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 2]);
    }
}

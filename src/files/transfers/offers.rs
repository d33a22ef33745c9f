//! Offering our files: picked files are checked against the size limit and offered
//! under a name the log accepts; each waits in the queue until the log's answer ties
//! it to its transfer id (its `Local` then holds the file) or explains a refusal.

use connectit_protocol::files::safe_file_name;
use connectit_protocol::{check_name, files, Action, EntryKind, LogEntry};
use web_sys::{Blob, File};

use super::ctl::Ctl;
use super::FileProblem;
use crate::clock;
use crate::session::live::Answer;
use crate::socket::NotConnected;

/// A picked file whose offer is on its way.
pub(super) struct Queued {
    /// The `OfferFile` action's id.
    id: u32,
    name: String,
    blob: Blob,
    /// When it was offered (local clock), to give up on an answer lost with the socket.
    at: f64,
}

/// How long an offer may wait for its answer before it counts as lost (when the
/// session no longer lists it as pending).
pub const OFFER_ANSWER_MS: f64 = 10_000.0;

impl Ctl {
    pub(super) fn pick(&self, picked: Vec<File>) {
        self.error.set(None);
        for file in picked {
            let name = file.name();
            let size = file.size() as u64;
            if size > self.max_bytes {
                self.error.set(Some(FileProblem::TooLarge {
                    name,
                    size,
                    max: self.max_bytes,
                }));
                continue;
            }
            let name = offer_name(&name);
            match self.act(Action::OfferFile {
                name: name.clone(),
                size,
            }) {
                Ok(id) => self.queue.borrow_mut().push(Queued {
                    id,
                    name,
                    blob: file.into(),
                    at: clock::local_now(),
                }),
                Err(NotConnected) => {
                    self.error.set(Some(FileProblem::NotConnected));
                    return;
                }
            }
        }
    }

    /// Ties answered offers to their transfer ids, or explains a refusal.
    pub(super) fn bind_offers(&self) {
        let live = self.live.borrow().clone();
        let now = clock::local_now();
        let mut bound = Vec::new();
        self.queue.borrow_mut().retain(|q| match live.answer(q.id) {
            Some(Answer::Refused(code)) => {
                self.error.set(Some(FileProblem::Refused {
                    name: q.name.clone(),
                    code,
                }));
                false
            }
            Some(Answer::Stored(seq)) => match offered_in(&live.entries.borrow(), seq) {
                Some(file) => {
                    bound.push((file, q.blob.clone()));
                    false
                }
                None => true,
            },
            // Lost with the connection: no answer will come.
            None => live.pending.iter().any(|(id, _)| *id == q.id) || now - q.at < OFFER_ANSWER_MS,
        });
        for (file, blob) in bound {
            self.with_local(file, |l| l.source = Some(blob));
        }
    }
}

/// The name a file is offered under: its own, unless the log would refuse it (control
/// characters, too long), then the cleaned one.
pub fn offer_name(name: &str) -> String {
    if check_name(name, files::FILE_NAME_MAX_CHARS).is_ok() {
        name.to_owned()
    } else {
        let clean: String = safe_file_name(name)
            .chars()
            .take(files::FILE_NAME_MAX_CHARS)
            .collect();
        clean
    }
}

/// The transfer id of the `FileOffered` entry stored as `seq`.
fn offered_in(entries: &[LogEntry], seq: u64) -> Option<u32> {
    entries
        .iter()
        .rev()
        .find(|e| e.seq == seq)
        .and_then(|e| match e.kind {
            EntryKind::FileOffered { file, .. } => Some(file),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::offer_name;

    #[test]
    fn names_the_log_would_refuse_are_offered_cleaned() {
        assert_eq!(offer_name("report (1).pdf"), "report (1).pdf");
        assert_eq!(offer_name("a\tb.txt"), "a_b.txt");
        assert_eq!(offer_name("line\nbreak.txt"), "line_break.txt");
        assert_eq!(offer_name("invoice\u{202e}fdp.exe"), "invoice_fdp.exe");
        assert_eq!(offer_name(&"x".repeat(400)).chars().count(), 255);
    }
}

//! Following the log, after every render: the link kept as the permissions say, the
//! answered offers bound, then each transfer's status acted on here (start sending,
//! check, save a delivered file, release an ended one).

use connectit_protocol::files::safe_file_name;
use connectit_protocol::{FileFailure, FileStatus, FileTransfer, Role};

use super::ctl::Ctl;
use crate::files::save::save;

impl Ctl {
    pub(super) fn sync(&self) {
        self.sync_link();
        self.bind_offers();
        let settled = self.queue.borrow().is_empty();
        let files = self.live.borrow().state.files().to_vec();
        for t in &files {
            self.sync_one(t, settled);
        }
    }

    fn sync_one(&self, t: &FileTransfer, settled: bool) {
        let file = t.file;
        let mine = t.from == self.role;
        match t.status {
            FileStatus::Offered | FileStatus::Accepted | FileStatus::Sent if mine => {
                let (has_source, started, done) =
                    self.with_local(file, |l| (l.source.is_some(), l.started, l.done));
                if done {
                    return;
                }
                if !has_source {
                    // Offered by a page of ours that is gone (a reload): nobody can
                    // send it any more.
                    if settled {
                        self.report(file, FileFailure::ConnectionLost);
                        self.halt(file);
                    }
                } else if t.status == FileStatus::Accepted && !started {
                    self.start_sending(file);
                }
            }
            FileStatus::Sent => self.check(file),
            FileStatus::Offered | FileStatus::Accepted => {}
            FileStatus::Delivered => {
                let save_now = self.with_local(file, |l| {
                    let first = !l.done;
                    l.halt();
                    let auto = self.role == Role::Customer && !mine && !l.saved && first;
                    if auto {
                        l.saved = true;
                    }
                    auto.then(|| l.url.as_ref().map(|u| u.as_str().to_owned()))
                        .flatten()
                });
                if let Some(url) = save_now {
                    let _ = save(&url, &safe_file_name(&t.name));
                }
            }
            FileStatus::Refused | FileStatus::Failed { .. } => {
                let url = self.with_local(file, |l| {
                    l.halt();
                    l.url.take()
                });
                drop(url);
            }
        }
    }
}

//! Sending our accepted file: its channel opens on the files link, [`send_blob`] moves
//! the bytes in a task, and its end becomes `FileSent` with the hash, a closed channel,
//! or `FileFailed{Unreadable}`.

use connectit_protocol::{Action, FileFailure, FileStatus};
use yew::platform::spawn_local;

use super::ctl::Ctl;
use crate::files::send::{send_blob, SendError};

impl Ctl {
    pub(super) fn start_sending(&self, file: u32) {
        let link = self.link.borrow();
        let Some(link) = link.as_ref() else {
            // Wait for the link (the technician's comes with the customer's offer).
            return;
        };
        let Some(blob) = self
            .locals
            .borrow()
            .get(&file)
            .and_then(|l| l.source.clone())
        else {
            return;
        };
        let channel = match link.open(file) {
            Ok(channel) => channel,
            Err(_) => {
                self.report(file, FileFailure::ConnectionLost);
                return self.halt(file);
            }
        };
        let chunk = link.chunk_bytes();
        let on_close = self.close_listener(file, &channel);
        let (stop, progress) = self.with_local(file, |l| {
            l.started = true;
            l.channel = Some(channel.clone());
            l.listeners = vec![on_close];
            *l.progress.channel.borrow_mut() = Some(channel.clone());
            (l.stop.clone(), l.progress.clone())
        });
        let ctl = self.clone();
        spawn_local(async move {
            let result = send_blob(&blob, &channel, chunk, &stop, &progress.moved).await;
            ctl.sent(file, result);
        });
    }

    fn sent(&self, file: u32, result: Result<String, SendError>) {
        match result {
            Ok(sha256) => {
                let accepted = self
                    .transfer(file)
                    .is_some_and(|t| t.status == FileStatus::Accepted);
                if accepted {
                    let _ = self.act(Action::FileSent { file, sha256 });
                }
            }
            Err(SendError::Stopped) => {}
            Err(SendError::Closed) => self.channel_closed(file),
            Err(SendError::Unreadable) => {
                self.report(file, FileFailure::Unreadable);
                self.halt(file);
            }
        }
    }
}

//! Receiving a file for us: the channels the other side opens (the link keeps the
//! control channel; a wanted file's channel is listened to), each message handed to
//! the file's [`Receiver`], and, with every byte and the sender's hash in the log, the
//! check: `FileDelivered` and a download URL, or `FileFailed` and nothing kept.

use connectit_protocol::{Action, FileFailure, FileStatus};
use gloo_events::EventListener;
use js_sys::ArrayBuffer;
use wasm_bindgen::JsCast;
use web_sys::{MessageEvent, RtcDataChannel};

use super::ctl::Ctl;
use crate::files::link::{file_of, CONTROL_LABEL};
use crate::files::receive::Receiver;
use crate::files::save::ObjectUrl;

impl Ctl {
    pub(super) fn incoming_channel(&self, channel: RtcDataChannel) {
        let label = channel.label();
        if label == CONTROL_LABEL {
            if let Some(link) = self.link.borrow_mut().as_mut() {
                link.keep_control(channel);
            }
            return;
        }
        let Some(file) = file_of(&label) else {
            channel.close();
            return;
        };
        let wanted = match self.transfer(file) {
            Some(t) => t.from != self.role && t.status.in_flight(),
            // The log has not told us yet: the sender saw it first.
            None => true,
        };
        let done = self.locals.borrow().get(&file).is_some_and(|l| l.done);
        if !wanted || done {
            channel.close();
            return;
        }
        let on_message = {
            let ctl = self.clone();
            EventListener::new(&channel, "message", move |event| {
                if let Some(event) = event.dyn_ref::<MessageEvent>() {
                    if let Ok(buffer) = event.data().dyn_into::<ArrayBuffer>() {
                        ctl.bytes(file, &buffer);
                    }
                }
            })
        };
        let on_close = self.close_listener(file, &channel);
        self.with_local(file, |l| {
            if let Some(old) = l.channel.replace(channel) {
                old.close();
            }
            l.listeners = vec![on_message, on_close];
        });
    }

    fn bytes(&self, file: u32, buffer: &ArrayBuffer) {
        let size = self.transfer(file).map(|t| t.size);
        let outcome = self.with_local(file, |l| {
            if l.done {
                return None;
            }
            let receiver = l.receiver.get_or_insert_with(Receiver::new);
            if receiver.push(buffer).is_err() {
                return Some(Err(FileFailure::Unreadable));
            }
            let received = receiver.received();
            l.progress.moved.set(received);
            Some(Ok(received))
        });
        match (outcome, size) {
            (Some(Err(reason)), _) => {
                self.report(file, reason);
                self.halt(file);
            }
            (Some(Ok(received)), Some(size)) if received > size => {
                // More than was offered: not the file that was offered.
                self.report(file, FileFailure::Unreadable);
                self.halt(file);
            }
            (Some(Ok(received)), Some(size)) if received == size => self.check(file),
            _ => {}
        }
    }

    /// With every byte here and the sender's hash in the log: deliver or refuse.
    pub(super) fn check(&self, file: u32) {
        let Some(t) = self.transfer(file) else { return };
        let Some(expected) = t.sha256.clone() else {
            return;
        };
        if t.status != FileStatus::Sent || t.from == self.role {
            return;
        }
        let receiver = self.with_local(file, |l| {
            if l.done || l.reported || l.url.is_some() {
                return None;
            }
            match l.receiver.as_ref() {
                Some(r) if r.received() == t.size => l.receiver.take(),
                None if t.size == 0 => Some(Receiver::new()),
                _ => None,
            }
        });
        let Some(receiver) = receiver else { return };
        let verdict = receiver
            .finish()
            .ok()
            .and_then(|(sha256, blob)| Some((sha256, ObjectUrl::new(&blob).ok()?)));
        match verdict {
            Some((sha256, url)) if sha256 == expected => {
                self.with_local(file, |l| {
                    l.url = Some(url);
                    l.reported = true;
                });
                let _ = self.act(Action::FileDelivered { file, sha256 });
            }
            Some(_) => {
                self.report(file, FileFailure::HashMismatch);
                self.halt(file);
            }
            None => {
                self.report(file, FileFailure::Unreadable);
                self.halt(file);
            }
        }
    }
}

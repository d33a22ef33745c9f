//! The files link: its own `RTCPeerConnection` (signals with `link: files`), made by
//! the customer (the offerer) as soon as either file permission is granted, with a
//! first data channel (`control`) so that SCTP is negotiated at once. Each file then
//! travels on its own channel, `file-<id>`, opened by its sender.

use connectit_protocol::files::FILE_CHUNK_BYTES;
use connectit_protocol::wire::SignalBody;
use connectit_protocol::IceConfig;
use wasm_bindgen::JsValue;
use web_sys::{RtcDataChannel, RtcPeerConnection};
use yew::Callback;

use crate::rtc::{Peer, PeerEvent, PeerRole, RtcError};

/// The label of the first channel, which carries nothing.
pub const CONTROL_LABEL: &str = "control";

/// The label of file `file`'s channel.
pub fn label(file: u32) -> String {
    format!("file-{file}")
}

/// The file a channel label names, if it names one.
pub fn file_of(label: &str) -> Option<u32> {
    label
        .strip_prefix("file-")
        .and_then(|id| id.parse().ok())
        .filter(|id| *id > 0)
}

/// The files link's connection and its control channel; dropping it closes both.
pub struct FilesLink {
    peer: Peer,
    control: Option<RtcDataChannel>,
}

impl FilesLink {
    /// The customer's side: a new connection with the control channel, offering.
    pub fn offer(ice: &IceConfig, on_event: Callback<PeerEvent>) -> Result<FilesLink, RtcError> {
        let peer = Peer::new(PeerRole::Offerer, ice, on_event)?;
        let control = peer.data_channel(CONTROL_LABEL)?;
        peer.offer(false);
        Ok(FilesLink {
            peer,
            control: Some(control),
        })
    }

    /// The technician's side, made when the customer's offer arrives.
    pub fn answer(ice: &IceConfig, on_event: Callback<PeerEvent>) -> Result<FilesLink, RtcError> {
        let peer = Peer::new(PeerRole::Answerer, ice, on_event)?;
        Ok(FilesLink {
            peer,
            control: None,
        })
    }

    /// Keeps the other side's control channel (closed with the link).
    pub fn keep_control(&mut self, channel: RtcDataChannel) {
        if let Some(old) = self.control.replace(channel) {
            old.close();
        }
    }

    /// Handles a signal from the other member.
    pub fn receive(&self, body: SignalBody) {
        self.peer.receive(body);
    }

    /// Opens the channel for file `file`.
    pub fn open(&self, file: u32) -> Result<RtcDataChannel, RtcError> {
        self.peer.data_channel(&label(file))
    }

    /// The largest chunk to send: [`FILE_CHUNK_BYTES`], or less if the connection's
    /// `sctp.maxMessageSize` says so.
    pub fn chunk_bytes(&self) -> usize {
        chunk_for(&self.peer.connection())
    }

    pub fn connection(&self) -> RtcPeerConnection {
        self.peer.connection()
    }
}

impl Drop for FilesLink {
    fn drop(&mut self) {
        if let Some(control) = self.control.take() {
            control.close();
        }
    }
}

/// [`FILE_CHUNK_BYTES`], capped by the connection's `sctp.maxMessageSize` when known.
pub fn chunk_for(pc: &RtcPeerConnection) -> usize {
    let max = js_sys::Reflect::get(pc, &JsValue::from_str("sctp"))
        .ok()
        .filter(|s| s.is_object())
        .and_then(|sctp| js_sys::Reflect::get(&sctp, &JsValue::from_str("maxMessageSize")).ok())
        .and_then(|m| m.as_f64())
        .filter(|m| m.is_finite() && *m >= 1024.0);
    match max {
        Some(max) => FILE_CHUNK_BYTES.min(max as usize),
        None => FILE_CHUNK_BYTES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_name_their_file() {
        assert_eq!(label(7), "file-7");
        assert_eq!(file_of("file-7"), Some(7));
        assert_eq!(file_of(CONTROL_LABEL), None);
        assert_eq!(file_of("file-0"), None);
        assert_eq!(file_of("file-x"), None);
    }
}

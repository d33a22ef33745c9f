//! The WebRTC glue: capturing the screen or the camera ([`capture`]), one peer
//! connection per media ([`peer`]), and the conversion between the protocol's
//! [`SignalBody`](connectit_protocol::wire::SignalBody) and the browser's types
//! ([`signal`]), and how a connection travels, from its statistics ([`path`]). Every browser object, closure and listener here is owned by a Rust
//! value and released when it is dropped; JavaScript errors become [`RtcError`]s.

pub mod areas;
pub mod capture;
pub mod error;
pub mod path;
pub mod peer;
pub mod redact;
pub mod signal;
pub mod verify;

pub use capture::{Capture, CaptureRequest};
pub use error::RtcError;
pub use peer::{Peer, PeerEvent, PeerRole};

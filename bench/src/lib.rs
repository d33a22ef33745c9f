//! The capacity benchmark: the real broker holding many live sessions (two sockets each,
//! both members chatting at a steady rate), beside a bare WebSocket relay that does the
//! same forwarding with no rules and no storage, driven by the same load in the same run.
//!
//! - [`net`]: loopback connections from several source addresses, a small HTTP/1.1
//!   client, WebSocket handshakes;
//! - [`servers`]: starting the broker binary and the bare relay as child processes;
//! - [`relay`]: the bare relay itself;
//! - [`load`]: opening sessions, chatting, and measuring what arrives;
//! - [`system`]: the file descriptor limit and a process's memory and descriptors;
//! - [`report`]: the markdown table and the JSON figures.
#![deny(unsafe_code)]

pub mod error;
pub mod load;
pub mod net;
pub mod relay;
pub mod report;
pub mod servers;
pub mod system;

pub use error::BenchError;

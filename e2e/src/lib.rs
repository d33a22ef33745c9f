//! End-to-end test support for ConnectIT: the real broker serving the real Trunk build,
//! driven through headless Chromium (or Firefox ESR) over WebDriver, one browser per
//! participant.
//!
//! # Layout
//!
//! - [`axe`]: accessibility scans with axe-core, injected through WebDriver;
//! - [`mod@bench`]: the rows of `scripts/bench`'s table (a figure, its floor, their ratio);
//! - [`broker`]: [`Broker`] starts `connectit-broker` on port 0 with a fresh data
//!   directory and one technician account, and stops it on drop; a test can also kill
//!   it (SIGKILL), stop it (SIGTERM) and start it again on the same address and data;
//! - [`browser`]: [`Browser`] runs one `chromedriver` + Chromium (or, as
//!   [`BrowserKind::Firefox`], one `geckodriver` + Firefox ESR) and offers the few page
//!   operations the tests need, all by CSS selector, one concern per file: reading and
//!   waiting (`page`), what a user does (`input`), the session log read as typed
//!   entries ([`ChatEntry`]: the protocol's [`connectit_protocol::Author`] and
//!   [`connectit_protocol::EntryType`], so an assertion names a type that exists),
//!   frames of a video (`frames`), and beneath the page (`devtools`: CDP and BiDi);
//! - [`display`]: [`display::Xvfb`], the virtual X display Firefox needs to capture a
//!   screen, shared by the Firefox browsers of a test process;
//! - [`console`] and [`customer`]: the two pages' flows, written as a user performs them
//!   (including permission requests, prompts, grants, revocations and screen sharing;
//!   [`Browser::count_frames`] counts the frames a `<video>` decodes, never its size);
//! - [`proxy`]: [`TcpProxy`], a TCP forwarder whose connections a test can cut, to drop
//!   a browser's WebSocket for real, at any moment or exactly as a message or its
//!   answer passes ([`Trap`]);
//! - [`transfers`]: files of random bytes with their SHA-256 ([`TestFile`]), picking
//!   them in a file input, each browser's own download folder, the `#transfers` list
//!   and the system information tables;
//! - [`pageserver`]: a bare page and its signaling relay, for the timing examples' floors;
//! - [`db`]: read-only views of the broker's SQLite file, for assertions;
//! - [`postgres`]: a real PostgreSQL server in a temporary folder, on a loopback port,
//!   as its own unprivileged user; [`daemon`], what such servers share (a free port,
//!   dropping root, waiting until they listen, stopping them by process id);
//! - [`echo`]: a bare WebSocket echo server and a page that times it, the floor of the
//!   latency figures;
//! - [`wait`]: polling with a deadline and a message that says what never happened;
//! - [`world`]: [`World`], one broker and two browsers, the stage of most tests
//!   ([`World::active_session`]: signed in, created, joined, accepted, picked up).
//!
//! Every helper panics with a message naming what failed: these are tests, and a clear
//! panic is the best report they can give.

pub mod axe;
pub mod bench;
pub mod broker;
pub mod browser;
pub mod cluster;
pub mod console;
pub mod customer;
pub mod daemon;
pub mod db;
pub mod display;
pub mod echo;
pub mod grants;
pub mod haproxy;
mod http;
pub mod mitm;
pub mod netns;
pub mod oidc;
pub mod pageserver;
pub mod paths;
pub mod peers;
pub mod postgres;
pub mod proof;
pub mod proxy;
pub mod redis;
pub mod smtp;
pub mod squid;
pub mod stats;
pub mod timeline;
pub mod transfers;
pub mod turn;
pub mod wait;
pub mod world;

pub use axe::Violation;
pub use broker::{Broker, BrokerOptions, TechnicianAccount};
pub use browser::{Browser, BrowserKind, ChatEntry, FrameCount, Region, StartOptions};
pub use console::{Console, NewSession};
pub use customer::{Customer, Survey};
pub use netns::Netns;
pub use proxy::{TcpProxy, Trap};
pub use squid::Squid;
pub use transfers::{sha256_file, InfoRow, TestFile, Transfer, TRANSFER_TIMEOUT};
pub use turn::{Turn, TurnTransport};
pub use wait::{wait_until, TIMEOUT};
pub use world::{start_session, World};

/// The PIN as a person might type it: "123 456" (the page must clean the space away).
pub fn spaced_pin(pin: &str) -> String {
    if pin.len() == 6 && pin.is_ascii() {
        format!("{} {}", &pin[..3], &pin[3..])
    } else {
        pin.to_owned()
    }
}

/// A six-digit PIN that is not `pin` (for wrong-PIN tests).
pub fn other_pin(pin: &str) -> String {
    let n: u32 = pin
        .parse()
        .unwrap_or_else(|e| panic!("PIN {pin:?} is not a number: {e}"));
    format!("{:06}", (n + 500_001) % 1_000_000)
}

/// The seconds a countdown shows: its first number, `58` in "58 s left", or `65` in
/// "1:05" (minutes and seconds).
pub fn countdown_secs(text: &str) -> Option<u64> {
    let token: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == ':')
        .collect();
    token
        .trim_end_matches(':')
        .split(':')
        .try_fold(0u64, |acc, part| Some(acc * 60 + part.parse::<u64>().ok()?))
}

//! ConnectIT's browser app: the customer page (`/`) and the technician console
//! (`/console`), Yew compiled to WebAssembly: one crate, built twice (the `customer`
//! and `console` features, `index.html` and `console.html`) so each page carries only
//! its own code.
//!
//! # Layout
//!
//! - [`app`]: the root component and the tiny router on `location.pathname`;
//! - [`customer`]: the customer's flow (PIN → terms → waiting → chat → survey → thanks);
//! - [`console`]: the technician's console (setup, sign-in, sessions, one session);
//! - [`session`]: what both sides share about a live session: the socket link, the
//!   log and its fold ([`session::live`], which loads the log again rather than skip an
//!   entry it refuses), the effects a change of the log asks of a page
//!   ([`session::effects()`], one pure function), the chat and the end confirmation;
//! - [`rtc`]: the WebRTC glue (capture, peer connections, signals);
//! - [`customer::media`], [`console::media`], [`files`]: the executors of those effects,
//!   which own the browser handles: the customer's captures and their connections, the
//!   technician's incoming streams, files both ways over the files link's data channels
//!   (send, receive, SHA-256, progress);
//! - [`sysinfo`]: the system information the customer's browser can tell;
//! - [`record`]: the session record's download buttons;
//! - [`socket`]: a WebSocket that reconnects by itself and owns its handlers;
//! - [`api`]: JSON over `fetch`, with typed errors;
//! - [`browser`], [`clock`], [`time`]: small browser helpers, the broker's clock offset
//!   and time formatting;
//! - [`i18n`]: every sentence the app shows, from the message catalogs (English, French,
//!   the organisation's texts), with sizes and durations in the reader's language, and
//!   the language choice.
//!
//! The session's rules are the protocol crate's: the pages ask it what a link may
//! carry and what a change means, and decide nothing of their own. The pure parts
//! (the fold, the effects, the wording) are tested natively with `cargo test`.
#![forbid(unsafe_code)]
// Each page is its own build (features `customer` and `console`; tests and the default
// build have both): in a build of one page, what only the other uses is unused there.
#![cfg_attr(
    not(all(feature = "customer", feature = "console")),
    allow(dead_code, unused_imports)
)]

pub mod alerts;
pub mod api;
pub mod app;
pub mod browser;
pub mod clock;
#[cfg(feature = "console")]
pub mod console;
#[cfg(feature = "customer")]
pub mod customer;
pub mod files;
pub mod i18n;
pub mod record;
pub mod rtc;
pub mod session;
pub mod socket;
pub mod sysinfo;
pub mod time;
pub mod widgets;

use wasm_bindgen::prelude::*;

/// The id of the element the app renders into.
pub const ROOT_ID: &str = "app";

/// Starts the app in `#app` and removes the no-WebAssembly notice (hidden until a
/// start fails; the loading notice goes once the app shows something). Does nothing on
/// a page without `#app` (the test runner's, for one).
pub fn run() {
    let Some(document) = browser::document() else {
        return;
    };
    let Some(root) = document.get_element_by_id(ROOT_ID) else {
        return;
    };
    if let Some(notice) = document.get_element_by_id("no-wasm") {
        notice.remove();
    }
    yew::Renderer::<app::App>::with_root(root).render();
}

#[wasm_bindgen(start)]
fn start() {
    run();
}

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

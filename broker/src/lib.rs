//! The ConnectIT broker: issues PINs, signs technicians in, carries each session's log
//! over WebSockets, stores everything in SQLite (or PostgreSQL), and serves the app.
//!
//! # Layout
//!
//! - [`state`]: what every handler shares ([`AppState`]), opened from the data folder;
//! - [`server`]: the routes and [`run`], with the background tasks;
//! - [`shutdown`]: the stop signal, and the sockets it waits for;
//! - [`config`]: defaults, TOML file, environment, flags;
//! - [`hub`]: the live sessions, each owned by one task ([`hub::actor`]: its state,
//!   presence, timers and fan-out, fed by a bounded channel), and the handles to them;
//! - [`store`]: what a live session asks of storage ([`store::SessionStore`]), on
//!   [`db`], the schema and queries, which run on SQLite (embedded, the default) or
//!   PostgreSQL (`database_url`, the scale-out mode) through [`sql`]; [`migrate`]
//!   copies an embedded database into PostgreSQL;
//! - [`auth`]: technician accounts, sign-in cookies and device cookies, the one-time
//!   setup code, and closing a technician's sockets when their sign-in ends;
//! - [`api`]: HTTP handlers for sessions, PINs and join links, teams' links and queues,
//!   surveys; [`hours`], a team's opening hours;
//! - [`pump`]: one WebSocket's reading, keep-alive and closing, for both sockets:
//!   [`ws`], the session socket, and [`console_ws`], the console socket;
//! - [`record`], [`signing`], [`chain`]: the session record, the key that signs it and
//!   the hash chain of its entries;
//! - [`serve`], [`guard`], [`tls`]: the accept loop with its connection caps and time
//!   limits, the same-origin and JSON checks every request passes, HTTPS;
//! - [`audit`]: the security log;
//! - [`static_files`]: the built app and the security headers;
//! - [`secrets`], [`throttle`]: randomness, hashes, guess throttling;
//! - [`error`]: the HTTP handlers' error, a typed code with its status;
//! - [`ice`], [`client`]: the STUN/TURN servers a session's pages get, the client's
//!   address behind trusted proxies.
//!
//! The session rules themselves are the protocol crate's: the broker asks them what an
//! action appends ([`connectit_protocol::decide()`]) and what time does
//! ([`connectit_protocol::SessionState::due`]), and decides nothing itself.
//!
//! [`run`] takes its listener and shutdown signal from the caller, so tests start and
//! stop a real broker on port 0.

pub mod admin;
pub mod api;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod chain;
pub mod client;
pub mod cluster;
pub mod config;
pub mod console_ws;
pub mod db;
pub mod error;
pub mod forward;
pub mod guard;
pub mod history;
pub mod hours;
pub mod hub;
pub mod ice;
pub mod integrations;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod migrate;
pub mod oidc;
pub mod ops;
pub mod outbound;
pub mod pump;
pub mod record;
pub mod retention;
pub mod secrets;
pub mod serve;
pub mod server;
pub mod shutdown;
pub mod signing;
pub mod sql;
pub mod state;
pub mod static_files;
pub mod store;
pub mod throttle;
pub mod tls;
pub mod ws;

pub use server::{app, run};
pub use shutdown::{OpenSocket, Shutdown};
pub use state::{AppState, Shared, StartError};

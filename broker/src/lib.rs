//! The ConnectIT broker: issues PINs, signs technicians in, carries each session's log
//! over WebSockets, stores everything in SQLite, and serves the app.
//!
//! # Layout
//!
//! - [`config`]: defaults, TOML file, environment, flags;
//! - [`db`]: the SQLite schema and queries;
//! - [`hub`]: live sessions, the append path (rules, then storage, then fan-out);
//! - [`auth`]: technician accounts, sign-in cookies, the one-time setup code;
//! - [`api`]: HTTP handlers for sessions, PINs and surveys;
//! - [`ws`], [`console_ws`]: the session socket and the console socket;
//! - [`static_files`]: the built app and the security headers;
//! - [`secrets`], [`throttle`]: randomness, hashes, guess throttling.
//!
//! [`run`] takes its listener and shutdown signal from the caller, so tests start and
//! stop a real broker on port 0.

pub mod api;
pub mod auth;
pub mod chain;
pub mod client;
pub mod config;
pub mod console_ws;
pub mod db;
pub mod error;
pub mod hub;
pub mod ice;
pub mod record;
pub mod secrets;
pub mod static_files;
pub mod throttle;
pub mod tls;
pub mod ws;

use std::net::SocketAddr;
use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use connectit_protocol::{Author, EndReason, EntryKind};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::config::Config;
use crate::db::Db;
use crate::hub::{now_ms, Hub};
use crate::secrets::PinKey;
use crate::throttle::{Limits, Throttle};

/// Largest HTTP request body accepted.
const BODY_LIMIT: usize = 64 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub config: Config,
    /// Origins allowed to open WebSockets, computed once from the config.
    pub allowed_origins: Vec<String>,
    pub hub: Hub,
    /// The hub's request deadlines, until [`run`] starts the task that keeps them.
    deadlines: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<hub::Deadline>>>,
    /// Key of the PIN hashes.
    pub pin_key: PinKey,
    /// Failed PIN guesses.
    pub pin_throttle: Throttle,
    /// Failed sign-ins and setup codes.
    pub sign_in_throttle: Throttle,
    /// The one-time code that creates the first account, while there is none.
    pub setup_code: Mutex<Option<String>>,
    /// A password hash to verify against when the user name is unknown (even timing).
    pub dummy_hash: String,
    /// Fires when the broker is stopping.
    pub shutdown: Shutdown,
    /// The TLS configuration, when the broker serves HTTPS itself.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// A stop signal many tasks can wait for, and a count of the sockets still open (the
/// broker waits for them to say goodbye before it exits).
#[derive(Clone)]
pub struct Shutdown {
    stop: Arc<watch::Sender<bool>>,
    open: Arc<watch::Sender<usize>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            stop: Arc::new(watch::channel(false).0),
            open: Arc::new(watch::channel(0).0),
        }
    }
}

/// Held by each open socket; dropping it counts the socket closed.
pub struct OpenSocket(Arc<watch::Sender<usize>>);

impl Drop for OpenSocket {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }
}

impl Shutdown {
    pub fn trigger(&self) {
        self.stop.send_replace(true);
    }

    pub async fn cancelled(&self) {
        let mut rx = self.stop.subscribe();
        let _ = rx.wait_for(|stopped| *stopped).await;
    }

    /// Counts a socket open until the returned guard is dropped.
    pub fn socket_opened(&self) -> OpenSocket {
        self.open.send_modify(|n| *n += 1);
        OpenSocket(self.open.clone())
    }

    /// Waits until every socket has closed, or `limit` has passed.
    pub async fn sockets_closed(&self, limit: Duration) {
        let mut rx = self.open.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|n| *n == 0)).await;
    }
}

/// A start-up failure, said plainly.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl AppState {
    /// Opens the data folder (database, PIN key) and prepares the setup code if no
    /// technician account exists yet.
    pub fn open(config: Config) -> Result<AppState, StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            StartError(format!(
                "cannot create data folder {}: {e}",
                config.data_dir.display()
            ))
        })?;
        let tls = if config.serves_tls() {
            let config = tls::server_config(
                std::path::Path::new(&config.tls_cert),
                std::path::Path::new(&config.tls_key),
            )
            .map_err(|e| StartError(e.to_string()))?;
            Some(config)
        } else {
            None
        };
        let db = Db::open(&config.database_path())
            .and_then(|db| db.limit_size(config.database_max_bytes).map(|()| db))
            .map_err(|e| {
                StartError(format!(
                    "cannot open {}: {e}",
                    config.database_path().display()
                ))
            })?;
        let pin_key = PinKey::load_or_create(&config.data_dir)
            .map_err(|e| StartError(format!("cannot read or create the PIN key: {e}")))?;
        let technicians = db
            .blocking(|conn| db::technician_count(conn))
            .map_err(|e| StartError(format!("cannot read the database: {e}")))?;
        let setup_code = (technicians == 0).then(secrets::new_setup_code);
        let mut state = AppState::new(config, db, pin_key, setup_code);
        if let Some(shared) = Arc::get_mut(&mut state.0) {
            shared.tls = tls;
        }
        Ok(state)
    }

    pub fn new(config: Config, db: Db, pin_key: PinKey, setup_code: Option<String>) -> AppState {
        let pin_limits = Limits {
            per_address: config.pin_attempts_per_address,
            address_refill: Duration::from_secs(config.pin_address_refill_secs),
            global: config.pin_attempts_global,
            global_refill: Duration::from_secs(config.pin_global_refill_secs),
        };
        let sign_in_limits = Limits {
            per_address: 5,
            address_refill: Duration::from_secs(30),
            global: 50,
            global_refill: Duration::from_secs(2),
        };
        let (hub, deadlines) = Hub::new(db);
        AppState(Arc::new(Shared {
            allowed_origins: config.allowed_origins(),
            hub,
            deadlines: Mutex::new(Some(deadlines)),
            pin_key,
            pin_throttle: Throttle::new(pin_limits),
            sign_in_throttle: Throttle::new(sign_in_limits),
            setup_code: Mutex::new(setup_code.map(|c| secrets::normalise_setup_code(&c))),
            dummy_hash: secrets::hash_password("not a real password").unwrap_or_default(),
            shutdown: Shutdown::default(),
            tls: None,
            config,
        }))
    }

    /// The setup code as printed (grouped), if the first account is still to be made.
    pub fn setup_code(&self) -> Option<String> {
        self.setup_code
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|c| {
                c.as_bytes()
                    .chunks(4)
                    .map(|g| String::from_utf8_lossy(g).into_owned())
                    .collect::<Vec<_>>()
                    .join("-")
            })
    }
}

/// The broker's routes.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/api/config", get(api::config))
        .route("/api/setup", get(auth::setup_status).post(auth::setup))
        .route("/api/auth/sign-in", post(auth::sign_in))
        .route("/api/auth/sign-out", post(auth::sign_out))
        .route("/api/auth/me", get(auth::me))
        .route(
            "/api/sessions",
            get(api::list_sessions).post(api::create_session),
        )
        .route("/api/pin", post(api::verify_pin))
        .route("/api/survey", post(api::survey))
        .route("/api/record", post(record::customer_record))
        .route("/api/sessions/{id}/record", get(record::technician_record))
        .route("/api/ws", get(ws::session_socket))
        .route("/api/console/ws", get(console_ws::console_socket))
        .fallback(static_files::serve)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            static_files::security_headers,
        ))
        .with_state(state)
}

/// Serves until `shutdown` completes, then tells every socket and returns.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let sweeper = tokio::spawn(sweep(state.clone()));
    let deadlines = state
        .deadlines
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let keeper = deadlines.map(|rx| tokio::spawn(keep_deadlines(state.clone(), rx)));
    let stop = state.shutdown.clone();
    let sockets = state.shutdown.clone();
    let tls = state.tls.clone();
    let router = app(state);
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    let signal = async move {
        shutdown.await;
        stop.trigger();
    };
    let result = match tls {
        Some(config) => {
            use axum::serve::ListenerExt;
            let listener = tls::TlsListener::new(listener, config)?.tap_io(|_| {});
            axum::serve(listener, service)
                .with_graceful_shutdown(signal)
                .await
        }
        None => {
            // Small frames (an entry, then its ack) go out at once: with Nagle's algorithm
            // the second waits for the peer's delayed ACK, about 40 ms.
            use axum::serve::ListenerExt;
            let listener = listener.tap_io(|tcp| {
                if let Err(e) = tcp.set_nodelay(true) {
                    tracing::debug!("TCP_NODELAY not set: {e}");
                }
            });
            axum::serve(listener, service)
                .with_graceful_shutdown(signal)
                .await
        }
    };
    // Upgraded sockets outlive the HTTP server: let them send their close frames and
    // store their last entries before the process goes.
    sockets.sockets_closed(Duration::from_secs(5)).await;
    sweeper.abort();
    if let Some(keeper) = keeper {
        keeper.abort();
    }
    result
}

/// Expires each permission request that is still unanswered at its deadline, on the
/// broker's clock. An answer, or more time, before then makes the expiry a no-op (the
/// rules refuse it), and more time announces a new deadline.
async fn keep_deadlines(
    state: AppState,
    mut deadlines: tokio::sync::mpsc::UnboundedReceiver<hub::Deadline>,
) {
    while let Some(deadline) = deadlines.recv().await {
        let state = state.clone();
        tokio::spawn(async move {
            let wait = deadline.at.saturating_sub(now_ms());
            tokio::time::sleep(Duration::from_millis(wait)).await;
            // The sleep's clock and the wall clock can disagree by a little: retry briefly.
            for _ in 0..50 {
                let Ok(Some(live)) = state.hub.get(&deadline.session).await else {
                    return;
                };
                // Answered, or given more time (which has its own deadline): nothing to do.
                let pending = state.hub.state(&live).await.pending;
                if pending
                    .is_none_or(|p| p.request != deadline.request || p.deadline != deadline.at)
                {
                    return;
                }
                let kind = EntryKind::PermissionExpired {
                    request: deadline.request,
                };
                match state.hub.append(&live, Author::System, kind).await {
                    Ok(_) => {
                        tracing::info!(session = %deadline.session, request = deadline.request, "permission request expired");
                        return;
                    }
                    Err(hub::AppendError::Rule(connectit_protocol::RuleViolation::Deadline)) => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    Err(_) => return,
                }
            }
        });
    }
}

/// Ends sessions whose PIN expired unused or whose customer waited too long, and
/// forgets finished sessions nobody watches. Runs every second.
async fn sweep(state: AppState) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        let now = now_ms();
        let waited_since = now.saturating_sub(state.config.waiting_timeout_secs * 1000);
        let due = state
            .hub
            .db()
            .call(move |conn| {
                Ok((
                    db::expired_pins(conn, now)?,
                    db::waited_too_long(conn, waited_since)?,
                ))
            })
            .await;
        let (expired, waited) = match due {
            Ok(due) => due,
            Err(e) => {
                tracing::error!(error = %e, "sweeper could not read sessions");
                continue;
            }
        };
        let ends = expired
            .into_iter()
            .map(|id| (id, EndReason::PinExpired))
            .chain(waited.into_iter().map(|id| (id, EndReason::WaitingTimeout)));
        for (id, reason) in ends {
            if let Ok(Some(live)) = state.hub.get(&id).await {
                match state
                    .hub
                    .append(&live, Author::System, EntryKind::SessionEnded { reason })
                    .await
                {
                    Ok(_) => tracing::info!(session = %id, ?reason, "session ended by time-out"),
                    Err(e) => {
                        tracing::warn!(session = %id, error = ?e, "could not end a timed-out session")
                    }
                }
            }
        }
        state.hub.evict_idle();
    }
}

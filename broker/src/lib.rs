//! The ConnectIT broker: issues PINs, signs technicians in, carries each session's log
//! over WebSockets, stores everything in SQLite, and serves the app.
//!
//! # Layout
//!
//! - [`config`]: defaults, TOML file, environment, flags;
//! - [`db`]: the SQLite schema and queries;
//! - [`hub`]: live sessions, the append path (rules, then storage, then fan-out);
//! - [`auth`]: technician accounts, sign-in cookies and device cookies, the one-time
//!   setup code, and closing a technician's sockets when their sign-in ends;
//! - [`api`]: HTTP handlers for sessions, PINs and join links, surveys;
//! - [`ws`], [`console_ws`]: the session socket and the console socket;
//! - [`record`], [`signing`]: the session record and the key that signs it;
//! - [`serve`], [`guard`]: the accept loop with its connection caps and time limits,
//!   and the same-origin and JSON checks every request passes;
//! - [`audit`]: the security log;
//! - [`static_files`]: the built app and the security headers;
//! - [`secrets`], [`throttle`]: randomness, hashes, guess throttling.
//!
//! [`run`] takes its listener and shutdown signal from the caller, so tests start and
//! stop a real broker on port 0.

pub mod api;
pub mod audit;
pub mod auth;
pub mod chain;
pub mod client;
pub mod config;
pub mod console_ws;
pub mod db;
pub mod error;
pub mod guard;
pub mod hub;
pub mod ice;
pub mod record;
pub mod secrets;
pub mod serve;
pub mod signing;
pub mod static_files;
pub mod throttle;
pub mod tls;
pub mod ws;

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use connectit_protocol::{Author, EndReason, EntryKind};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::audit::Audit;
use crate::auth::SignIns;
use crate::config::Config;
use crate::db::Db;
use crate::hub::{now_ms, Caps, Hub};
use crate::secrets::PinKey;
use crate::serve::Connections;
use crate::signing::RecordSigner;
use crate::throttle::{AddressThrottle, Limit, PinThrottle, SignInThrottle};

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
    /// The hub's background work, until [`run`] starts the tasks that do it.
    hub_tasks: Mutex<Option<hub::HubTasks>>,
    /// Key of the PIN hashes (and of device cookies).
    pub pin_key: PinKey,
    /// The key that signs session records.
    pub signer: RecordSigner,
    /// Failed PIN guesses, per address and per network.
    pub pin_throttle: PinThrottle,
    /// Failed sign-ins, per address and per account (or per known device).
    pub sign_in_throttle: SignInThrottle,
    /// Failed setup codes, per address.
    pub setup_throttle: AddressThrottle,
    /// The one-time code made at start, to print, while no account exists.
    pub setup_code: Mutex<Option<String>>,
    /// Open technician sockets by sign-in, and the news that a sign-in ended.
    pub sign_ins: SignIns,
    /// The security log.
    pub audit: Arc<Audit>,
    /// Open connections, per address and in all.
    pub connections: Arc<Connections>,
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
    /// Opens the data folder (database, PIN key, record key: readable by the broker's
    /// user only) and makes a setup code if no technician account exists yet.
    pub fn open(config: Config) -> Result<AppState, StartError> {
        let data = &config.data_dir;
        std::fs::create_dir_all(data).map_err(|e| {
            StartError(format!("cannot create data folder {}: {e}", data.display()))
        })?;
        private::folder(data)
            .map_err(|e| StartError(format!("cannot make {} private: {e}", data.display())))?;
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
        let path = config.database_path();
        let cannot_open =
            |e: &dyn std::fmt::Display| StartError(format!("cannot open {}: {e}", path.display()));
        private::create_database_file(&path).map_err(|e| cannot_open(&e))?;
        let db = Db::open(&path)
            .and_then(|db| db.limit_size(config.database_max_bytes).map(|()| db))
            .map_err(|e| cannot_open(&e))?;
        // SQLite makes its -wal and -shm files with the database's own mode; an older
        // installation's may predate that.
        private::database_modes(&path).map_err(|e| cannot_open(&e))?;
        let pin_key = PinKey::load_or_create(data)
            .map_err(|e| StartError(format!("cannot read or create the PIN key: {e}")))?;
        let signer = RecordSigner::load_or_create(data).map_err(|e| {
            StartError(format!("cannot read or create the record-signing key: {e}"))
        })?;
        let validity = config.setup_code_validity_secs;
        let setup_code = db
            .blocking(|conn| auth::prepare_setup_code(conn, validity))
            .map_err(|e| StartError(format!("cannot read the database: {e}")))?;
        let mut state = AppState::new(config, db, pin_key, signer, setup_code);
        if let Some(shared) = Arc::get_mut(&mut state.0) {
            shared.tls = tls;
        }
        Ok(state)
    }

    pub fn new(
        config: Config,
        db: Db,
        pin_key: PinKey,
        signer: RecordSigner,
        setup_code: Option<String>,
    ) -> AppState {
        let c = &config;
        let pin_throttle = PinThrottle::new(
            Limit::new(c.pin_attempts_per_address, c.pin_address_refill_secs),
            Limit::new(c.pin_attempts_per_network, c.pin_network_refill_secs),
        );
        let by_address = Limit::new(
            c.sign_in_attempts_per_address,
            c.sign_in_address_refill_secs,
        );
        let sign_in_throttle = SignInThrottle::new(
            by_address,
            Limit::new(
                c.sign_in_attempts_per_account,
                c.sign_in_account_refill_secs,
            ),
            // A known device: its own allowance, as large as an address's.
            by_address,
        );
        let caps = Caps {
            max_entries: c.session_max_entries,
            max_bytes: c.session_max_bytes,
        };
        let audit = Arc::new(Audit::new(
            db.clone(),
            Duration::from_secs(c.audit_window_secs),
            Duration::from_secs(c.audit_retention_days * 24 * 3600),
        ));
        let open_files = serve::raise_open_file_limit();
        let connections = Connections::new(serve::Limits {
            per_address: c.max_connections_per_address as usize,
            proxies: c.trusted_proxies.clone(),
            total: serve::total_cap(c.max_connections as usize, open_files),
            header_read: Duration::from_secs(c.header_read_timeout_secs),
            tls_handshake: Duration::from_secs(c.tls_handshake_timeout_secs),
        });
        let (hub, hub_tasks) = Hub::new(db, caps);
        AppState(Arc::new(Shared {
            allowed_origins: config.allowed_origins(),
            hub,
            hub_tasks: Mutex::new(Some(hub_tasks)),
            pin_key,
            signer,
            pin_throttle,
            sign_in_throttle,
            setup_throttle: AddressThrottle::new(by_address),
            setup_code: Mutex::new(setup_code),
            sign_ins: SignIns::default(),
            audit,
            connections,
            dummy_hash: secrets::hash_password("not a real password").unwrap_or_default(),
            shutdown: Shutdown::default(),
            tls: None,
            config,
        }))
    }

    /// The setup code made at start, as printed (grouped), while the first account is
    /// still to be made.
    pub fn setup_code(&self) -> Option<String> {
        self.setup_code
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

/// Folders and files only the broker's user can read.
mod private {
    use std::path::Path;

    /// Makes `dir` 0700.
    pub fn folder(dir: &Path) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
        }
        #[cfg(not(unix))]
        let _ = dir;
        Ok(())
    }

    /// Creates the database file 0600 if it is missing (SQLite gives its journal files
    /// the same mode). Only before SQLite opens it: closing another descriptor of an
    /// open database file would drop SQLite's locks on it (POSIX advisory locks are
    /// per process), and another process could then delete the write-ahead log under it.
    pub fn create_database_file(db: &Path) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            if !db.exists() {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(false)
                    .mode(0o600)
                    .open(db)?;
            }
        }
        #[cfg(not(unix))]
        let _ = db;
        Ok(())
    }

    /// Makes the database and its journal files 0600, by name (no descriptor is opened).
    pub fn database_modes(db: &Path) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for suffix in ["", "-wal", "-shm", "-journal"] {
                let mut name = db.as_os_str().to_owned();
                name.push(suffix);
                match std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o600)) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                    _ => {}
                }
            }
        }
        #[cfg(not(unix))]
        let _ = db;
        Ok(())
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
        .route("/api/join", post(api::join_link))
        .route("/api/survey", post(api::survey))
        .route("/api/record", post(record::customer_record))
        .route("/api/record-key", get(record::public_key))
        .route("/api/sessions/{id}/record", get(record::technician_record))
        .route("/api/audit", get(auth::audit_log))
        .route("/api/ws", get(ws::session_socket))
        .route("/api/console/ws", get(console_ws::console_socket))
        .fallback(static_files::serve)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::requests,
        ))
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
    let watcher = tokio::spawn(auth::watch_sign_ins(state.clone()));
    let auditor = {
        let (audit, stop) = (state.audit.clone(), state.shutdown.clone());
        tokio::spawn(async move { audit.keep(stop).await })
    };
    let hub_tasks = state
        .hub_tasks
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let keepers = hub_tasks.map(|tasks| {
        (
            tokio::spawn(keep_deadlines(state.clone(), tasks.deadlines)),
            tokio::spawn(keep_invitations(state.clone(), tasks.refresh)),
        )
    });
    let stop = state.shutdown.clone();
    let sockets = state.shutdown.clone();
    let (tls, connections, audit) = (
        state.tls.clone(),
        state.connections.clone(),
        state.audit.clone(),
    );
    let router = app(state);
    let signal = async move {
        shutdown.await;
        stop.trigger();
    };
    let result = serve::serve(listener, router, tls, connections, audit, signal).await;
    // Upgraded sockets outlive the HTTP server: let them send their close frames and
    // store their last entries before the process goes.
    sockets.sockets_closed(Duration::from_secs(5)).await;
    sweeper.abort();
    watcher.abort();
    if let Some((deadlines, invitations)) = keepers {
        deadlines.abort();
        invitations.abort();
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), auditor).await;
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
                let pending = state.hub.state(&live).await.pending().cloned();
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

/// Sends again the summaries of the sessions of a PIN or link that several people used,
/// whenever one of them starts or stops waiting (their rows say how many wait).
async fn keep_invitations(
    state: AppState,
    mut refresh: tokio::sync::mpsc::UnboundedReceiver<connectit_protocol::SessionId>,
) {
    while let Some(invitation) = refresh.recv().await {
        state.hub.refresh_invitation(&invitation).await;
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
        if now % 60_000 < 1_000 {
            if let Err(e) = state
                .hub
                .db()
                .call(move |conn| db::delete_expired_sign_ins(conn, now))
                .await
            {
                tracing::warn!(error = %e, "could not forget expired sign-ins");
            }
        }
    }
}

//! What every handler shares ([`AppState`]): the configuration, the database, the live
//! sessions, the keys, the throttles and the security log; and opening it all from
//! the data folder.

use std::ops::Deref;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connectit_protocol::Limits;

use crate::audit::Audit;
use crate::auth::{self, SignIns};
use crate::config::Config;
use crate::db::{Db, DbError};
use crate::hub::{self, Caps, Hub, Rules};
use crate::metrics::Metrics;
use crate::outbound::Outbound;
use crate::secrets::{self, PinKey};
use crate::serve::{self, Connections};
use crate::shutdown::Shutdown;
use crate::signing::RecordSigner;
use crate::throttle::{AddressThrottle, Limit, NetworkThrottle, SignInThrottle};
use crate::tls::{self, TlsError};

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
    /// Accounts, sign-ins, sessions and their logs, the security log.
    pub db: Db,
    /// Origins allowed to open WebSockets, computed once from the config.
    pub allowed_origins: Vec<String>,
    pub hub: Hub,
    /// The hub's background work, until [`run`] starts the tasks that do it.
    pub(crate) hub_tasks: Mutex<Option<hub::HubTasks>>,
    /// Key of the PIN hashes (and of device cookies).
    pub pin_key: PinKey,
    /// The key that signs session records.
    pub signer: RecordSigner,
    /// Failed PIN guesses, per address and per network.
    pub pin_throttle: NetworkThrottle,
    /// Customers put in teams' queues, per address and per network.
    pub queue_throttle: NetworkThrottle,
    /// Failed sign-ins, per address and per account (or per known device).
    pub sign_in_throttle: SignInThrottle,
    /// Failed setup codes, per address.
    pub setup_throttle: AddressThrottle,
    /// Single sign-on's callbacks per address (each costs a call to the provider).
    pub sso_throttle: AddressThrottle,
    /// Calls out (the OpenID provider, webhook receivers).
    pub outbound: Outbound,
    /// The SMTP server, when one is configured.
    pub mailer: Option<crate::mail::Mailer>,
    /// E-mails each technician may still send this hour.
    pub email_quota: crate::throttle::HourlyQuota,
    /// The organisation's texts, for the words the broker writes.
    pub texts: Arc<connectit_wording::Texts>,
    /// The OpenID provider, when single sign-on is configured.
    pub sso: Option<Arc<crate::oidc::Sso>>,
    /// The one-time code made at start, to print, while no account exists.
    pub setup_code: Mutex<Option<String>>,
    /// Open technician sockets by sign-in, and the news that a sign-in ended.
    pub sign_ins: SignIns,
    /// The security log.
    pub audit: Arc<Audit>,
    /// What `/metrics` reports.
    pub metrics: Arc<Metrics>,
    /// Where `/metrics` is served, once its listener is bound (`metrics_listen`).
    pub metrics_addr: std::sync::OnceLock<std::net::SocketAddr>,
    /// Open connections, per address and in all.
    pub connections: Arc<Connections>,
    /// A password hash to verify against when the user name is unknown (even timing).
    pub dummy_hash: String,
    /// Fires when the broker is stopping.
    pub shutdown: Shutdown,
    /// The TLS configuration, when the broker serves HTTPS itself.
    pub tls: Option<Arc<rustls::ServerConfig>>,
}

/// Why the broker cannot start, said plainly.
#[derive(Debug)]
pub enum StartError {
    /// The data folder cannot be made, or made private.
    DataFolder {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The database file cannot be made, or made private.
    DatabaseFile {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The database cannot be opened or read.
    Database { path: PathBuf, source: DbError },
    /// PostgreSQL (`database_url`) cannot be reached or its schema brought up to date.
    Postgres { source: DbError },
    /// Redis (`redis_url`) cannot be reached.
    Redis(crate::cluster::ClusterError),
    /// A key in the data folder cannot be read or created.
    Key {
        which: &'static str,
        source: std::io::Error,
    },
    /// The TLS certificate or key cannot be used.
    Tls(TlsError),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::DataFolder { path, source } => {
                write!(
                    f,
                    "cannot make the data folder {}: {source}",
                    path.display()
                )
            }
            StartError::DatabaseFile { path, source } => {
                write!(f, "cannot make {} private: {source}", path.display())
            }
            StartError::Database { path, source } => {
                write!(f, "cannot open {}: {source}", path.display())
            }
            StartError::Postgres { source } => {
                write!(f, "cannot use the database at database_url: {source}")
            }
            StartError::Redis(e) => write!(f, "cannot join the cluster at redis_url: {e}"),
            StartError::Key { which, source } => {
                write!(f, "cannot read or create the {which} key: {source}")
            }
            StartError::Tls(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StartError::DataFolder { source, .. }
            | StartError::DatabaseFile { source, .. }
            | StartError::Key { source, .. } => Some(source),
            StartError::Database { source, .. } | StartError::Postgres { source } => Some(source),
            StartError::Tls(e) => Some(e),
            StartError::Redis(e) => Some(e),
        }
    }
}

/// Joins the cluster of brokers sharing `redis_url` (none if it is empty), as the
/// broker the others reach at `cluster_address`.
pub async fn connect_cluster(
    config: &Config,
) -> Result<Option<Arc<crate::cluster::Cluster>>, StartError> {
    if config.redis_url.is_empty() {
        return Ok(None);
    }
    crate::cluster::Cluster::connect(&config.redis_url, &config.cluster_address())
        .await
        .map(Some)
        .map_err(StartError::Redis)
}

impl AppState {
    /// Opens the data folder (database, PIN key, record key: readable by the broker's
    /// user only) and makes a setup code if no technician account exists yet.
    pub fn open(config: Config) -> Result<AppState, StartError> {
        Self::open_with(config, None)
    }

    /// [`AppState::open`], as one broker of a cluster (see [`connect_cluster`]).
    pub fn open_with(
        config: Config,
        cluster: Option<Arc<crate::cluster::Cluster>>,
    ) -> Result<AppState, StartError> {
        let data = &config.data_dir;
        let folder = |source| StartError::DataFolder {
            path: data.clone(),
            source,
        };
        std::fs::create_dir_all(data).map_err(folder)?;
        private::folder(data).map_err(folder)?;
        let tls = if config.serves_tls() {
            let config = tls::server_config(
                std::path::Path::new(&config.tls_cert),
                std::path::Path::new(&config.tls_key),
            )
            .map_err(StartError::Tls)?;
            Some(config)
        } else {
            None
        };
        let path = config.database_path();
        let file = |source| StartError::DatabaseFile {
            path: path.clone(),
            source,
        };
        let database = |source| StartError::Database {
            path: path.clone(),
            source,
        };
        let db = if config.database_url.is_empty() {
            private::create_database_file(&path).map_err(file)?;
            let db = Db::open(&path)
                .and_then(|db| db.limit_size(config.database_max_bytes).map(|()| db))
                .map_err(database)?;
            // SQLite makes its -wal and -shm files with the database's own mode; an
            // older installation's may predate that.
            private::database_modes(&path).map_err(file)?;
            db
        } else {
            Db::postgres(&config.database_url, config.database_connections as usize)
                .map_err(|source| StartError::Postgres { source })?
        };
        let pin_key = PinKey::load_or_create(data).map_err(|source| StartError::Key {
            which: "PIN",
            source,
        })?;
        let signer = RecordSigner::load_or_create(data).map_err(|source| StartError::Key {
            which: "record-signing",
            source,
        })?;
        let validity = config.setup_code_validity_secs;
        let setup_code = db
            .blocking(|conn| auth::prepare_setup_code(conn, validity))
            .map_err(database)?;
        let mut state = AppState::new(config, db, pin_key, signer, setup_code, cluster);
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
        cluster: Option<Arc<crate::cluster::Cluster>>,
    ) -> AppState {
        let c = &config;
        let pin_throttle = NetworkThrottle::new(
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
        let rules = Rules {
            caps: Caps {
                max_entries: c.session_max_entries,
                max_bytes: c.session_max_bytes,
            },
            limits: Limits {
                prompt_ms: c.prompt_deadline_secs * 1000,
                max_file_bytes: c.max_file_bytes,
            },
            waiting_ms: c.waiting_timeout_secs * 1000,
            abandon_ms: c.customer_gone_after_secs * 1000,
        };
        let metrics = Arc::new(Metrics::default());
        let audit = Arc::new(Audit::new(
            db.clone(),
            Duration::from_secs(c.audit_window_secs),
            Duration::from_secs(c.audit_retention_days * 24 * 3600),
            metrics.clone(),
        ));
        let open_files = serve::raise_open_file_limit();
        let connections = Connections::new(serve::Limits {
            per_address: c.max_connections_per_address as usize,
            proxies: c.trusted_proxies.clone(),
            total: serve::total_cap(c.max_connections as usize, open_files),
            header_read: Duration::from_secs(c.header_read_timeout_secs),
            tls_handshake: Duration::from_secs(c.tls_handshake_timeout_secs),
        });
        // The CA file was read when the configuration was checked.
        let roots = crate::outbound::root_store(&c.outbound_ca_file)
            .unwrap_or_else(|_| crate::outbound::public_roots());
        let outbound = Outbound::new(roots, Duration::from_secs(10));
        let (hub, hub_tasks) = Hub::new(
            Arc::new(db.clone()),
            rules,
            metrics.clone(),
            cluster.clone(),
            pin_key.clone(),
        );
        let queue_throttle = NetworkThrottle::new(
            Limit::new(c.queue_joins_per_address, c.queue_address_refill_secs),
            Limit::new(c.queue_joins_per_network, c.queue_network_refill_secs),
        );
        let setup_throttle = AddressThrottle::new(by_address);
        let sso_throttle = AddressThrottle::new(by_address);
        if let Some(cluster) = &cluster {
            // One bound for the whole cluster, whichever broker a guess reaches.
            pin_throttle.share(cluster.clone(), "pin");
            queue_throttle.share(cluster.clone(), "queue");
            sign_in_throttle.share(cluster.clone(), "sign-in");
            setup_throttle.share(cluster.clone(), "setup");
            sso_throttle.share(cluster.clone(), "sso");
        }
        AppState(Arc::new(Shared {
            db,
            allowed_origins: config.allowed_origins(),
            hub,
            hub_tasks: Mutex::new(Some(hub_tasks)),
            pin_key,
            signer,
            pin_throttle,
            queue_throttle,
            sign_in_throttle,
            setup_throttle,
            sso_throttle,
            sso: crate::oidc::Sso::from_config(&config, outbound.clone()),
            // Checked when the configuration was loaded.
            mailer: crate::mail::Mailer::from_config(&config).unwrap_or_else(|e| {
                tracing::error!("e-mail is off: {e}");
                None
            }),
            email_quota: crate::throttle::HourlyQuota::new(crate::api::EMAILS_PER_HOUR),
            texts: Arc::new(config.texts.clone()),
            outbound,
            setup_code: Mutex::new(setup_code),
            sign_ins: SignIns::default(),
            audit,
            metrics,
            metrics_addr: std::sync::OnceLock::new(),
            connections,
            dummy_hash: secrets::hash_password("not a real password").unwrap_or_default(),
            shutdown: Shutdown::default(),
            tls: None,
            config,
        }))
    }

    /// The catalog of the offered language `wanted` names best, with the organisation's
    /// texts.
    pub fn catalog(&self, wanted: &str) -> connectit_wording::Catalog {
        connectit_wording::Catalog::for_language(wanted, self.texts.clone())
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

//! The broker's configuration: defaults that run out of the box, overridden by a TOML
//! file, then by `CONNECTIT_*` environment variables, then by command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Everything the broker can be told. Field names are the TOML keys; each is also read
/// from the environment as `CONNECTIT_<NAME>` (upper case).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address and port to listen on.
    pub listen: SocketAddr,
    /// Folder for the SQLite database and the secret key.
    pub data_dir: PathBuf,
    /// Folder holding the built app (Trunk's `dist/`).
    pub dist_dir: PathBuf,
    /// The address people use to reach this broker: links are built from it and
    /// WebSocket handshakes must come from its origin. Empty: `http://` and the address
    /// the broker listens on (see [`Config::settle`]).
    pub public_url: String,
    /// More origins allowed to open WebSockets (a second host name, a test proxy).
    pub extra_origins: Vec<String>,
    /// The organisation's name, shown to customers.
    pub organisation: String,
    /// Terms and conditions, plain text; blank lines split paragraphs.
    pub terms: String,
    /// How customers reach support another way.
    pub support_contact: String,
    /// Where the organisation's native applet is downloaded.
    pub applet_url: String,
    /// How long a PIN stays valid, in seconds.
    pub pin_validity_secs: u64,
    /// How long a customer may wait for a technician before the session ends, in seconds.
    pub waiting_timeout_secs: u64,
    /// How long a session goes on after its customer's connection dropped, in seconds:
    /// if they are not back by then, it ends (`customer_gone`) and the console's list
    /// says so, instead of an "in progress" session nobody is in.
    pub customer_gone_after_secs: u64,
    /// Failed PIN guesses one client address (IPv6: one /64) may make at once before it
    /// must wait.
    pub pin_attempts_per_address: u32,
    /// Seconds for one failed guess of one address to be forgiven.
    pub pin_address_refill_secs: u64,
    /// Failed PIN guesses the addresses of one network (IPv4 /24, IPv6 /48) may make
    /// together at once. There is no bucket for everybody: see `docs/security.md`.
    pub pin_attempts_per_network: u32,
    /// Seconds for one failed guess of one network to be forgiven.
    pub pin_network_refill_secs: u64,
    /// How many people may be joining or waiting with one PIN or link at once (the
    /// technician picks one up; the others are told).
    pub pin_candidates: u32,
    /// Whether a team's link page asks the customer to describe the problem:
    /// `required`, `optional` or `off` (the name is always asked).
    pub queue_problem_field: connectit_protocol::api::FieldRule,
    /// The time zone teams' opening hours are in unless a team says otherwise (IANA,
    /// e.g. `Europe/Paris`).
    pub time_zone: String,
    /// Customers one client address (IPv6: one /64) may put in teams' queues at once
    /// before it must wait, and seconds for one more to be allowed.
    pub queue_joins_per_address: u32,
    pub queue_address_refill_secs: u64,
    /// The same for the addresses of one network (IPv4 /24, IPv6 /48) together.
    pub queue_joins_per_network: u32,
    pub queue_network_refill_secs: u64,
    /// Failed sign-ins one address may make at once, and seconds for one to be forgiven.
    pub sign_in_attempts_per_address: u32,
    pub sign_in_address_refill_secs: u64,
    /// Failed sign-ins to one account from browsers it does not know, and seconds for
    /// one to be forgiven. A browser that signed in to the account before (its device
    /// cookie) is not held back by these.
    pub sign_in_attempts_per_account: u32,
    pub sign_in_account_refill_secs: u64,
    /// How long a technician stays signed in, in seconds.
    pub sign_in_validity_secs: u64,
    /// How long the one-time setup code for the first account stays valid, in seconds
    /// (`connectit-broker setup-code` makes a new one).
    pub setup_code_validity_secs: u64,
    /// How long the customer has to answer a permission prompt, in seconds (and how
    /// much "More time" adds).
    pub prompt_deadline_secs: u64,
    /// STUN servers for the peer connections (`stun:host:port`). Empty: none (peers on
    /// one network, or the same machine, need none).
    pub stun_urls: Vec<String>,
    /// TURN servers (`turn:host:port?transport=udp`, `turns:…`), used with credentials
    /// minted from `turn_secret`.
    pub turn_urls: Vec<String>,
    /// The secret shared with the TURN server (coturn's `static-auth-secret`).
    pub turn_secret: String,
    /// How long minted TURN credentials stay valid, in seconds.
    pub turn_ttl_secs: u64,
    /// Which paths the peer connections may take: `all` (direct, through NAT or
    /// relayed) or `relay` (only through `turn_urls`).
    pub ice_transport_policy: connectit_protocol::IcePolicy,
    /// The largest file either side may send, in bytes.
    pub max_file_bytes: u64,
    /// The most a screen share may send, in kbit/s (0: no cap, the browser adapts to
    /// the network). The picture keeps its resolution and drops frames under the cap.
    pub screen_max_kbps: u32,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed. A request from
    /// anywhere else is throttled by its own socket address, whatever it claims.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// The organisation's wording for the pages, by language code then message key
    /// (`[texts.en] waiting = "…"` changes a text; a new language code adds a language).
    /// From the configuration file only.
    pub texts: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// PEM file of the certificate chain: with `tls_key`, the broker serves HTTPS and
    /// WSS itself. Empty: plain HTTP (behind a TLS-terminating proxy, or on loopback).
    pub tls_cert: String,
    /// PEM file of the certificate's private key.
    pub tls_key: String,
    /// Send `Strict-Transport-Security` although the broker speaks plain HTTP, because a
    /// reverse proxy in front of it terminates TLS. Always sent when `tls_cert` is set.
    pub hsts: bool,
    /// The largest the database may grow, in bytes (0: no limit). Past it, new work is
    /// refused with `storage_unavailable` and nothing unstored is acknowledged.
    pub database_max_bytes: u64,
    /// PostgreSQL for the scale-out mode (`postgres://user:password@host:port/db`):
    /// brokers sharing it (and `redis_url`) serve the same sessions. Empty: the
    /// embedded SQLite file in `data_dir`.
    pub database_url: String,
    /// The most connections this broker opens to `database_url`.
    pub database_connections: u32,
    /// Redis for the scale-out mode (`redis://host:port/`): fan-out between brokers,
    /// presence, the shared throttle and which broker runs each live session. Set
    /// together with `database_url`.
    pub redis_url: String,
    /// How the other brokers of a cluster reach this one (`http://10.0.0.5:8080`):
    /// a socket whose session runs here, arriving at another broker, goes on to it.
    /// Empty: `http://` and the address the broker listens on.
    pub cluster_address: String,
    /// The most entries, and bytes of entries, one session's log may hold. Past either,
    /// actions are refused with `log_full`; ending the session still works.
    pub session_max_entries: u64,
    pub session_max_bytes: u64,
    /// Open connections one client address may hold.
    pub max_connections_per_address: u64,
    /// Open connections in all (0: as many as the open-file limit leaves room for).
    pub max_connections: u64,
    /// Seconds a client has to send a request's headers (also between requests on a
    /// kept-alive connection).
    pub header_read_timeout_secs: u64,
    /// Seconds a client has to finish a TLS handshake.
    pub tls_handshake_timeout_secs: u64,
    /// Seconds repeated security events are counted before their line is written.
    pub audit_window_secs: u64,
    /// Days security log lines are kept.
    pub audit_retention_days: u64,
    /// Where `/metrics` is served (`host:port`); empty: not at all. Never the public
    /// listener.
    pub metrics_listen: String,
    /// How log lines are written on standard error: `text` or `json` (one object a
    /// line). The level comes from `RUST_LOG` (`info` by default).
    pub log_format: LogFormat,
    /// Days an ended session is kept (0: for ever); then it is deleted or anonymised
    /// (`retention_action`) by a daily job, unless under legal hold.
    pub retention_days: u64,
    /// `delete` or `anonymise`.
    pub retention_action: crate::retention::RetentionAction,
    /// Whether technicians may sign in with a password (the setup code and invitations
    /// included). Off, they sign in only through the OpenID provider.
    pub local_passwords: bool,
    /// The OpenID provider's issuer (`https://id.example.org/realms/staff`; `http://`
    /// only on loopback); empty: no single sign-on.
    pub oidc_issuer: String,
    /// The client id and secret the provider gave ConnectIT. Its redirect address is
    /// `<public_url>/api/auth/oidc/callback`.
    pub oidc_client_id: String,
    pub oidc_client_secret: String,
    /// What the console's button names: "Sign in with <oidc_label>".
    pub oidc_label: String,
    /// The scopes asked for besides `openid`.
    pub oidc_scopes: Vec<String>,
    /// The claim that holds the ConnectIT user name.
    pub oidc_username_claim: String,
    /// The claim that holds the person's name as shown to customers.
    pub oidc_name_claim: String,
    /// The claim listing the person's groups (empty: teams and roles are not taken
    /// from the provider). A group named as a team's slug makes them a member.
    pub oidc_groups_claim: String,
    /// Members of this group are admins, and others are not (empty: roles stay as
    /// set in the console).
    pub oidc_admin_group: String,
    /// Whether the first sign-in of someone without an account creates one (a
    /// technician); off, an admin invites them first.
    pub oidc_create_accounts: bool,
    /// More certificate authorities (PEM) that calls out trust besides the public ones:
    /// an OpenID provider, SMTP server or webhook receiver with an in-house certificate.
    pub outbound_ca_file: String,
    /// The SMTP server that sends e-mail to customers (empty: the console offers the
    /// text to copy, and nothing is sent).
    pub smtp_host: String,
    /// Its port (587 for STARTTLS, 465 for TLS).
    pub smtp_port: u16,
    /// `starttls` (the default), `tls` (implicit TLS), or `none` (only to a server on
    /// loopback, such as a local relay).
    pub smtp_security: SmtpSecurity,
    /// The account on the SMTP server, if it asks for one.
    pub smtp_username: String,
    pub smtp_password: String,
    /// The organisation's own address the e-mail comes from
    /// (`IT Service Desk <servicedesk@example.org>`).
    pub smtp_from: String,
    /// Seconds between a webhook delivery's attempts: one retry after each, then it is
    /// given up (and said in the security log).
    pub webhook_retry_secs: Vec<u64>,
    /// How long a grant lasts unless the customer picks otherwise, in minutes (0: until
    /// the session ends).
    pub grant_default_mins: u32,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    #[default]
    Starttls,
    Tls,
    None,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            dist_dir: PathBuf::from("dist"),
            public_url: String::new(),
            extra_origins: Vec::new(),
            organisation: "ConnectIT Support".into(),
            terms: DEFAULT_TERMS.into(),
            support_contact: "Call the service desk on +1 555 0100.".into(),
            applet_url: "https://support.example.com/applet/ConnectIT-Applet.exe".into(),
            pin_validity_secs: 20 * 60,
            waiting_timeout_secs: 30 * 60,
            customer_gone_after_secs: 10 * 60,
            pin_attempts_per_address: 5,
            pin_address_refill_secs: 300,
            pin_attempts_per_network: 20,
            pin_network_refill_secs: 60,
            pin_candidates: 4,
            queue_problem_field: connectit_protocol::api::FieldRule::Required,
            time_zone: "UTC".into(),
            queue_joins_per_address: 5,
            queue_address_refill_secs: 120,
            queue_joins_per_network: 30,
            queue_network_refill_secs: 20,
            sign_in_attempts_per_address: 10,
            sign_in_address_refill_secs: 60,
            sign_in_attempts_per_account: 10,
            sign_in_account_refill_secs: 60,
            sign_in_validity_secs: 12 * 3600,
            setup_code_validity_secs: 3600,
            prompt_deadline_secs: 60,
            stun_urls: Vec::new(),
            turn_urls: Vec::new(),
            turn_secret: String::new(),
            turn_ttl_secs: 2 * 3600,
            ice_transport_policy: connectit_protocol::IcePolicy::All,
            max_file_bytes: 200 * 1024 * 1024,
            screen_max_kbps: 0,
            trusted_proxies: Vec::new(),
            texts: Default::default(),
            tls_cert: String::new(),
            tls_key: String::new(),
            hsts: false,
            database_max_bytes: 0,
            database_url: String::new(),
            database_connections: 16,
            redis_url: String::new(),
            cluster_address: String::new(),
            session_max_entries: 10_000,
            session_max_bytes: 8 * 1024 * 1024,
            max_connections_per_address: 256,
            max_connections: 0,
            header_read_timeout_secs: 15,
            tls_handshake_timeout_secs: 10,
            audit_window_secs: 60,
            audit_retention_days: 90,
            metrics_listen: String::new(),
            log_format: LogFormat::Text,
            retention_days: 0,
            retention_action: crate::retention::RetentionAction::Delete,
            local_passwords: true,
            oidc_issuer: String::new(),
            oidc_client_id: String::new(),
            oidc_client_secret: String::new(),
            oidc_label: "your organisation's account".into(),
            oidc_scopes: vec!["profile".into(), "email".into()],
            oidc_username_claim: "preferred_username".into(),
            oidc_name_claim: "name".into(),
            oidc_groups_claim: String::new(),
            oidc_admin_group: String::new(),
            oidc_create_accounts: true,
            outbound_ca_file: String::new(),
            smtp_host: String::new(),
            smtp_port: 587,
            smtp_security: SmtpSecurity::Starttls,
            smtp_username: String::new(),
            smtp_password: String::new(),
            smtp_from: String::new(),
            webhook_retry_secs: vec![10, 60, 300, 1800, 7200],
            grant_default_mins: 0,
        }
    }
}

const DEFAULT_TERMS: &str = "By accepting, you allow a support representative to chat with you \
and, only when you grant it in a separate prompt, to see your screen, exchange files with you \
or read information about your system.\n\nYou can refuse any request, stop sharing at any time, \
and end the session with the X at the top of the page. Everything the representative does is \
recorded in a log that you can see.\n\nClose any confidential documents before you share your screen.";

/// A configuration problem, said plainly at start-up.
#[derive(Debug)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// The keys that may come from the environment, and how each is parsed into TOML.
const ENV_KEYS: &[(&str, EnvKind)] = &[
    ("listen", EnvKind::Str),
    ("data_dir", EnvKind::Str),
    ("dist_dir", EnvKind::Str),
    ("public_url", EnvKind::Str),
    ("extra_origins", EnvKind::List),
    ("organisation", EnvKind::Str),
    ("terms", EnvKind::Str),
    ("support_contact", EnvKind::Str),
    ("applet_url", EnvKind::Str),
    ("pin_validity_secs", EnvKind::Int),
    ("waiting_timeout_secs", EnvKind::Int),
    ("customer_gone_after_secs", EnvKind::Int),
    ("pin_attempts_per_address", EnvKind::Int),
    ("pin_address_refill_secs", EnvKind::Int),
    ("pin_attempts_per_network", EnvKind::Int),
    ("pin_network_refill_secs", EnvKind::Int),
    ("pin_candidates", EnvKind::Int),
    ("queue_problem_field", EnvKind::Str),
    ("time_zone", EnvKind::Str),
    ("queue_joins_per_address", EnvKind::Int),
    ("queue_address_refill_secs", EnvKind::Int),
    ("queue_joins_per_network", EnvKind::Int),
    ("queue_network_refill_secs", EnvKind::Int),
    ("sign_in_attempts_per_address", EnvKind::Int),
    ("sign_in_address_refill_secs", EnvKind::Int),
    ("sign_in_attempts_per_account", EnvKind::Int),
    ("sign_in_account_refill_secs", EnvKind::Int),
    ("sign_in_validity_secs", EnvKind::Int),
    ("setup_code_validity_secs", EnvKind::Int),
    ("prompt_deadline_secs", EnvKind::Int),
    ("stun_urls", EnvKind::List),
    ("turn_urls", EnvKind::List),
    ("turn_secret", EnvKind::Str),
    ("turn_ttl_secs", EnvKind::Int),
    ("ice_transport_policy", EnvKind::Str),
    ("max_file_bytes", EnvKind::Int),
    ("screen_max_kbps", EnvKind::Int),
    ("trusted_proxies", EnvKind::List),
    ("tls_cert", EnvKind::Str),
    ("tls_key", EnvKind::Str),
    ("hsts", EnvKind::Bool),
    ("database_max_bytes", EnvKind::Int),
    ("database_url", EnvKind::Str),
    ("database_connections", EnvKind::Int),
    ("redis_url", EnvKind::Str),
    ("cluster_address", EnvKind::Str),
    ("session_max_entries", EnvKind::Int),
    ("session_max_bytes", EnvKind::Int),
    ("max_connections_per_address", EnvKind::Int),
    ("max_connections", EnvKind::Int),
    ("header_read_timeout_secs", EnvKind::Int),
    ("tls_handshake_timeout_secs", EnvKind::Int),
    ("audit_window_secs", EnvKind::Int),
    ("audit_retention_days", EnvKind::Int),
    ("metrics_listen", EnvKind::Str),
    ("log_format", EnvKind::Str),
    ("retention_days", EnvKind::Int),
    ("retention_action", EnvKind::Str),
    ("local_passwords", EnvKind::Bool),
    ("oidc_issuer", EnvKind::Str),
    ("oidc_client_id", EnvKind::Str),
    ("oidc_client_secret", EnvKind::Str),
    ("oidc_label", EnvKind::Str),
    ("oidc_scopes", EnvKind::List),
    ("oidc_username_claim", EnvKind::Str),
    ("oidc_name_claim", EnvKind::Str),
    ("oidc_groups_claim", EnvKind::Str),
    ("oidc_admin_group", EnvKind::Str),
    ("oidc_create_accounts", EnvKind::Bool),
    ("outbound_ca_file", EnvKind::Str),
    ("smtp_host", EnvKind::Str),
    ("smtp_port", EnvKind::Int),
    ("smtp_security", EnvKind::Str),
    ("smtp_username", EnvKind::Str),
    ("smtp_password", EnvKind::Str),
    ("smtp_from", EnvKind::Str),
    ("webhook_retry_secs", EnvKind::IntList),
    ("grant_default_mins", EnvKind::Int),
];

#[derive(Clone, Copy)]
enum EnvKind {
    Str,
    Int,
    /// Comma-separated.
    List,
    /// Comma-separated whole numbers.
    IntList,
    /// `true`/`false` (also `1`/`0`, `yes`/`no`).
    Bool,
}

impl Config {
    /// Reads the optional file, then the environment (`vars`), then `overrides`
    /// (flag name, value) pairs, later sources winning.
    pub fn load(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
        overrides: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut table = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    ConfigError(format!("cannot read config file {}: {e}", path.display()))
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?
            }
            None => toml::Table::new(),
        };
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        for (key, kind) in ENV_KEYS {
            let env_name = format!("CONNECTIT_{}", key.to_ascii_uppercase());
            if let Some((_, value)) = vars.iter().find(|(k, _)| *k == env_name) {
                table.insert((*key).into(), to_toml(&env_name, value, *kind)?);
            }
        }
        for (key, value) in overrides {
            let kind = ENV_KEYS
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, kind)| *kind)
                .ok_or_else(|| ConfigError(format!("unknown setting {key}")))?;
            table.insert(key.clone(), to_toml(key, value, kind)?);
        }
        let config: Config = toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError(format!("configuration: {e}")))?;
        config.validate()?;
        Ok(config)
    }

    /// The address `/metrics` is served on, if any.
    pub fn metrics_address(&self) -> Option<SocketAddr> {
        self.metrics_listen.parse().ok()
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !self.database_url.is_empty()
            && !["postgres://", "postgresql://"]
                .iter()
                .any(|p| self.database_url.starts_with(p))
        {
            return Err(ConfigError(
                "database_url must be a postgres:// address (empty: the embedded SQLite file)"
                    .into(),
            ));
        }
        if !self.redis_url.is_empty() && !self.redis_url.starts_with("redis://") {
            return Err(ConfigError("redis_url must be a redis:// address".into()));
        }
        if !self.redis_url.is_empty() && self.database_url.is_empty() {
            return Err(ConfigError(
                "redis_url needs database_url: the brokers of a cluster share one PostgreSQL \
                 database"
                    .into(),
            ));
        }
        if self.database_connections == 0 {
            return Err(ConfigError(
                "database_connections must be at least 1".into(),
            ));
        }
        if !self.outbound_ca_file.is_empty() {
            crate::outbound::root_store(&self.outbound_ca_file)
                .map_err(|e| ConfigError(format!("outbound_ca_file {e}")))?;
        }
        if !self.smtp_host.is_empty() {
            if self.smtp_from.parse::<lettre::message::Mailbox>().is_err() {
                return Err(ConfigError(format!(
                    "smtp_from {:?} must be the organisation's address, such as \
                     \"IT Service Desk <servicedesk@example.org>\"",
                    self.smtp_from
                )));
            }
            if self.smtp_security == SmtpSecurity::None
                && !crate::outbound::is_loopback_host(&self.smtp_host)
            {
                return Err(ConfigError(format!(
                    "smtp_security = \"none\" only to a server on loopback, not {}",
                    self.smtp_host
                )));
            }
        }
        if !self.oidc_issuer.is_empty() {
            if !crate::outbound::allowed_url(&self.oidc_issuer) {
                return Err(ConfigError(format!(
                    "oidc_issuer {:?} must be an https:// address (http:// only on loopback)",
                    self.oidc_issuer
                )));
            }
            if self.oidc_client_id.is_empty() || self.oidc_client_secret.is_empty() {
                return Err(ConfigError(
                    "oidc_issuer is set: oidc_client_id and oidc_client_secret are needed too"
                        .into(),
                ));
            }
            if self.oidc_username_claim.is_empty() {
                return Err(ConfigError("oidc_username_claim cannot be empty".into()));
            }
        } else if !self.local_passwords {
            return Err(ConfigError(
                "local_passwords = false needs single sign-on (oidc_issuer): nobody could sign in"
                    .into(),
            ));
        }
        if !self.metrics_listen.is_empty() && self.metrics_address().is_none() {
            return Err(ConfigError(format!(
                "metrics_listen {:?} must be host:port, such as 127.0.0.1:9090",
                self.metrics_listen
            )));
        }
        if !self.public_url.is_empty() && origin_of(&self.public_url).is_none() {
            return Err(ConfigError(format!(
                "public_url {:?} must look like http://host[:port] or https://host[:port]",
                self.public_url
            )));
        }
        for origin in &self.extra_origins {
            if origin_of(origin).is_none() {
                return Err(ConfigError(format!(
                    "extra_origins: {origin:?} is not an origin"
                )));
            }
        }
        if let Err(e) = crate::hours::time_zone(&self.time_zone) {
            return Err(ConfigError(format!("time_zone: {e}")));
        }
        if self.customer_gone_after_secs == 0 {
            return Err(ConfigError(
                "customer_gone_after_secs must be above zero".into(),
            ));
        }
        if self.pin_validity_secs == 0 || self.waiting_timeout_secs == 0 {
            return Err(ConfigError(
                "validity and time-outs must be above zero".into(),
            ));
        }
        if self.prompt_deadline_secs == 0 || self.turn_ttl_secs == 0 {
            return Err(ConfigError(
                "prompt_deadline_secs and turn_ttl_secs must be above zero".into(),
            ));
        }
        if self.ice_transport_policy == connectit_protocol::IcePolicy::Relay
            && self.turn_urls.is_empty()
        {
            return Err(ConfigError(
                "ice_transport_policy = \"relay\" needs turn_urls (and turn_secret): \
                 with no relay, no peer connection could form"
                    .into(),
            ));
        }
        if !self.turn_urls.is_empty() && self.turn_secret.is_empty() {
            return Err(ConfigError(
                "turn_urls need turn_secret (coturn's static-auth-secret)".into(),
            ));
        }
        let ice_ok = |u: &String, schemes: &[&str]| schemes.iter().any(|s| u.starts_with(s));
        if let Some(bad) = self
            .stun_urls
            .iter()
            .find(|u| !ice_ok(u, &["stun:", "stuns:"]))
        {
            return Err(ConfigError(format!(
                "stun_urls: {bad:?} must start with stun: or stuns:"
            )));
        }
        if let Some(bad) = self
            .turn_urls
            .iter()
            .find(|u| !ice_ok(u, &["turn:", "turns:"]))
        {
            return Err(ConfigError(format!(
                "turn_urls: {bad:?} must start with turn: or turns:"
            )));
        }
        for (language, texts) in &self.texts {
            let code_ok = (2..=8).contains(&language.len())
                && language
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !code_ok {
                return Err(ConfigError(format!(
                    "texts: {language:?} is not a language code such as en or pt-BR"
                )));
            }
            if let Some((key, _)) = texts
                .iter()
                .find(|(_, v)| v.chars().any(|c| c.is_control() && c != '\n'))
            {
                return Err(ConfigError(format!(
                    "texts.{language}.{key}: control characters are not allowed"
                )));
            }
        }
        if self.tls_cert.is_empty() != self.tls_key.is_empty() {
            return Err(ConfigError(
                "tls_cert and tls_key go together: give both PEM files, or neither".into(),
            ));
        }
        let nonzero = [
            (
                "pin_attempts_per_address",
                self.pin_attempts_per_address as u64,
            ),
            ("pin_address_refill_secs", self.pin_address_refill_secs),
            (
                "pin_attempts_per_network",
                self.pin_attempts_per_network as u64,
            ),
            ("pin_network_refill_secs", self.pin_network_refill_secs),
            ("pin_candidates", self.pin_candidates as u64),
            (
                "queue_joins_per_address",
                self.queue_joins_per_address as u64,
            ),
            ("queue_address_refill_secs", self.queue_address_refill_secs),
            (
                "queue_joins_per_network",
                self.queue_joins_per_network as u64,
            ),
            ("queue_network_refill_secs", self.queue_network_refill_secs),
            (
                "sign_in_attempts_per_address",
                self.sign_in_attempts_per_address as u64,
            ),
            (
                "sign_in_address_refill_secs",
                self.sign_in_address_refill_secs,
            ),
            (
                "sign_in_attempts_per_account",
                self.sign_in_attempts_per_account as u64,
            ),
            (
                "sign_in_account_refill_secs",
                self.sign_in_account_refill_secs,
            ),
            ("sign_in_validity_secs", self.sign_in_validity_secs),
            ("setup_code_validity_secs", self.setup_code_validity_secs),
            ("session_max_entries", self.session_max_entries),
            ("session_max_bytes", self.session_max_bytes),
            (
                "max_connections_per_address",
                self.max_connections_per_address,
            ),
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            (
                "tls_handshake_timeout_secs",
                self.tls_handshake_timeout_secs,
            ),
            ("audit_window_secs", self.audit_window_secs),
            ("audit_retention_days", self.audit_retention_days),
        ];
        if let Some((name, _)) = nonzero.iter().find(|(_, v)| *v == 0) {
            return Err(ConfigError(format!("{name} must be above zero")));
        }
        Ok(())
    }

    /// Fills in what depends on the address actually bound: an empty `public_url`
    /// becomes `http://<address>`, and a loopback address also admits the `localhost`
    /// spelling of the same port.
    pub fn settle(&mut self, bound: SocketAddr) {
        // Port 0 became a real one.
        self.listen = bound;
        if self.public_url.is_empty() {
            let scheme = if self.serves_tls() { "https" } else { "http" };
            self.public_url = format!("{scheme}://{bound}");
            if bound.ip().is_loopback() {
                self.extra_origins
                    .push(format!("{scheme}://localhost:{}", bound.port()));
            }
        }
    }

    /// Whether the broker itself speaks TLS (`tls_cert` and `tls_key` given).
    pub fn serves_tls(&self) -> bool {
        !self.tls_cert.is_empty() && !self.tls_key.is_empty()
    }

    /// Whether responses carry `Strict-Transport-Security`: when the broker serves TLS,
    /// or when told it sits behind a proxy that does.
    pub fn sends_hsts(&self) -> bool {
        self.serves_tls() || self.hsts
    }

    /// The origins whose pages may open WebSockets here.
    pub fn allowed_origins(&self) -> Vec<String> {
        std::iter::once(&self.public_url)
            .chain(&self.extra_origins)
            .filter_map(|u| origin_of(u))
            .collect()
    }

    /// Whether the site is served over HTTPS (cookies then get `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url.starts_with("https://") || self.serves_tls()
    }

    /// The public URL without a trailing slash.
    pub fn base_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    pub fn pin_validity(&self) -> Duration {
        Duration::from_secs(self.pin_validity_secs)
    }

    /// What the installation lacks: a TURN relay when people reach it from beyond this
    /// machine.
    pub fn warnings(&self) -> Vec<connectit_protocol::api::ConfigWarning> {
        let beyond = origin_of(&self.public_url).is_some_and(|origin| {
            let host = origin.split("://").nth(1).unwrap_or("");
            let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
            !(host == "localhost"
                || host
                    .trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback()))
        });
        let mut warnings = Vec::new();
        if beyond && self.turn_urls.is_empty() {
            warnings.push(connectit_protocol::api::ConfigWarning::NoRelay);
        }
        warnings
    }

    /// How the other brokers reach this one: `cluster_address`, or `http://` and the
    /// listening address.
    pub fn cluster_address(&self) -> String {
        if self.cluster_address.is_empty() {
            format!("http://{}", self.listen)
        } else {
            self.cluster_address.clone()
        }
    }

    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("connectit.sqlite3")
    }
}

fn to_toml(name: &str, value: &str, kind: EnvKind) -> Result<toml::Value, ConfigError> {
    Ok(match kind {
        EnvKind::Str => toml::Value::String(value.into()),
        EnvKind::Int => toml::Value::Integer(
            value
                .trim()
                .parse()
                .map_err(|_| ConfigError(format!("{name}: {value:?} is not a whole number")))?,
        ),
        EnvKind::Bool => toml::Value::Boolean(match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => true,
            "false" | "0" | "no" | "off" => false,
            _ => {
                return Err(ConfigError(format!(
                    "{name}: {value:?} is not true or false"
                )))
            }
        }),
        EnvKind::IntList => toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    s.parse::<i64>()
                        .map(toml::Value::Integer)
                        .map_err(|_| ConfigError(format!("{name}: {s:?} is not a whole number")))
                })
                .collect::<Result<_, _>>()?,
        ),
        EnvKind::List => toml::Value::Array(
            value
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.into()))
                .collect(),
        ),
    })
}

/// The client's address: the socket's, unless the socket is a trusted proxy, in which
/// case the nearest address in `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(
    trusted: &[std::net::IpAddr],
    peer: std::net::IpAddr,
    forwarded_for: Option<&str>,
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(chain) = forwarded_for else {
        return peer;
    };
    for hop in chain.rsplit(',') {
        match hop.trim().parse::<std::net::IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // A hop we cannot read: stop believing the header here.
            Err(_) => return peer,
        }
    }
    peer
}

/// `scheme://host[:port]` of a URL, lower-cased, or `None` if it is not http(s).
pub fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let host = rest.split(['/', '?', '#']).next()?;
    if host.is_empty() || host.contains('@') || host.contains(char::is_whitespace) {
        return None;
    }
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_run_out_of_the_box() {
        let mut c = Config::load(None, vec![], &[]).expect("defaults are valid");
        assert_eq!(c.pin_validity_secs, 1200);
        c.settle("127.0.0.1:4321".parse().unwrap());
        assert_eq!(c.public_url, "http://127.0.0.1:4321");
        assert_eq!(
            c.allowed_origins(),
            vec![
                "http://127.0.0.1:4321".to_string(),
                "http://localhost:4321".into()
            ]
        );
    }

    #[test]
    fn file_then_environment_then_flags() {
        let dir = std::env::temp_dir().join(format!("cit-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(
            &file,
            "organisation = \"File Org\"\npin_validity_secs = 60\n",
        )
        .unwrap();
        let env = vec![
            ("CONNECTIT_PIN_VALIDITY_SECS".to_string(), "90".to_string()),
            (
                "CONNECTIT_EXTRA_ORIGINS".into(),
                "http://a:1, http://b:2".into(),
            ),
        ];
        let flags = vec![
            ("listen".to_string(), "127.0.0.1:0".to_string()),
            (
                "public_url".to_string(),
                "https://help.example.org".to_string(),
            ),
        ];
        let c = Config::load(Some(&file), env, &flags).unwrap();
        assert_eq!(c.organisation, "File Org");
        std::fs::write(
            &file,
            "[texts.nl]\nwaiting = \"Een medewerker helpt u zo.\"\n",
        )
        .unwrap();
        let t = Config::load(Some(&file), vec![], &[]).unwrap();
        assert_eq!(t.texts["nl"]["waiting"], "Een medewerker helpt u zo.");
        std::fs::write(&file, "[texts.\"not a code\"]\nwaiting = \"x\"\n").unwrap();
        assert!(Config::load(Some(&file), vec![], &[]).is_err());
        assert_eq!(c.pin_validity_secs, 90);
        assert_eq!(c.listen.port(), 0);
        assert_eq!(c.allowed_origins().len(), 3);
    }

    #[test]
    fn mistakes_are_explained() {
        let err = Config::load(
            None,
            vec![("CONNECTIT_PIN_VALIDITY_SECS".into(), "soon".into())],
            &[],
        )
        .unwrap_err();
        assert!(err.0.contains("not a whole number"), "{err}");
        let err =
            Config::load(None, vec![], &[("public_url".into(), "ftp://x".into())]).unwrap_err();
        assert!(err.0.contains("public_url"), "{err}");
        // Relay only, and no relay: no connection could form.
        let relay = (
            "CONNECTIT_ICE_TRANSPORT_POLICY".to_string(),
            "relay".to_string(),
        );
        let err = Config::load(None, vec![relay.clone()], &[]).unwrap_err();
        assert!(err.0.contains("turn_urls"), "{err}");
        let with_turn = Config::load(
            None,
            vec![
                relay,
                ("CONNECTIT_TURN_URLS".into(), "turn:t.example:3478".into()),
                ("CONNECTIT_TURN_SECRET".into(), "s".into()),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            with_turn.ice_transport_policy,
            connectit_protocol::IcePolicy::Relay
        );
        let err = Config::load(
            None,
            vec![("CONNECTIT_ICE_TRANSPORT_POLICY".into(), "sometimes".into())],
            &[],
        )
        .unwrap_err();
        assert!(
            err.0.contains("ice_transport_policy") || err.0.contains("unknown variant"),
            "{err}"
        );
    }

    #[test]
    fn a_public_broker_without_a_relay_is_warned_about() {
        use connectit_protocol::api::ConfigWarning;
        let at = |url: &str, turn: bool| {
            let mut vars = vec![("CONNECTIT_PUBLIC_URL".to_string(), url.to_string())];
            if turn {
                vars.push(("CONNECTIT_TURN_URLS".into(), "turn:t.example:3478".into()));
                vars.push(("CONNECTIT_TURN_SECRET".into(), "s".into()));
            }
            Config::load(None, vars, &[]).unwrap().warnings()
        };
        assert_eq!(
            at("https://help.example.org", false),
            vec![ConfigWarning::NoRelay]
        );
        assert_eq!(at("https://help.example.org", true), vec![]);
        assert_eq!(at("http://127.0.0.1:8080", false), vec![]);
        assert_eq!(at("http://localhost:8080", false), vec![]);
        assert_eq!(at("http://[::1]:8080", false), vec![]);
    }

    #[test]
    fn forwarded_addresses_count_only_from_trusted_proxies() {
        let proxy: std::net::IpAddr = "10.0.0.1".parse().unwrap();
        let client: std::net::IpAddr = "203.0.113.7".parse().unwrap();
        let stranger: std::net::IpAddr = "198.51.100.9".parse().unwrap();
        let trusted = [proxy];
        assert_eq!(
            client_ip(&trusted, stranger, Some("203.0.113.7")),
            stranger,
            "a stranger's header is ignored"
        );
        assert_eq!(
            client_ip(&trusted, proxy, Some("1.2.3.4, 203.0.113.7")),
            client,
            "the nearest hop counts"
        );
        assert_eq!(
            client_ip(&trusted, proxy, Some("203.0.113.7, 10.0.0.1")),
            client,
            "proxies are skipped"
        );
        assert_eq!(client_ip(&trusted, proxy, Some("garbage")), proxy);
        assert_eq!(client_ip(&trusted, proxy, None), proxy);
    }

    #[test]
    fn tls_keys_come_in_pairs_and_switch_the_scheme() {
        let env = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let err = Config::load(None, env(&[("CONNECTIT_TLS_KEY", "k.pem")]), &[]).unwrap_err();
        assert!(err.0.contains("tls_cert and tls_key"), "{err}");
        let mut c = Config::load(
            None,
            env(&[("CONNECTIT_TLS_CERT", "c.pem"), ("CONNECTIT_HSTS", "no")]),
            &[("tls_key".into(), "k.pem".into())],
        )
        .unwrap();
        assert!(c.serves_tls() && c.sends_hsts() && !c.hsts);
        c.settle("127.0.0.1:8443".parse().unwrap());
        assert_eq!(c.public_url, "https://127.0.0.1:8443");
        let proxied = Config::load(None, env(&[("CONNECTIT_HSTS", "true")]), &[]).unwrap();
        assert!(proxied.sends_hsts() && !proxied.serves_tls());
        let err = Config::load(None, env(&[("CONNECTIT_HSTS", "maybe")]), &[]).unwrap_err();
        assert!(err.0.contains("not true or false"), "{err}");
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin_of("HTTP://Example.COM:8080/path?q").as_deref(),
            Some("http://example.com:8080")
        );
        assert_eq!(origin_of("javascript:alert(1)"), None);
        assert_eq!(origin_of("http://user@host"), None);
    }
}

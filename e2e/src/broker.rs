//! A real `connectit-broker` for one test: a fresh temporary directory holding its
//! config and data, one technician account made through the CLI, `serve` on port 0.
//! The process is killed when the [`Broker`] is dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// The organisation name every test broker is configured with.
pub const ORGANISATION: &str = "Acme Helpdesk (E2E)";
/// The applet link every test broker is configured with.
pub const APPLET_URL: &str = "https://example.invalid/connectit-applet";
/// The support contact every test broker is configured with.
pub const SUPPORT_CONTACT: &str = "Call +44 20 7946 0000";
/// The first paragraph of the terms every test broker is configured with.
pub const TERMS_FIRST: &str = "You allow the technician to help you with your computer.";

/// The technician account a test signs in with.
#[derive(Debug, Clone)]
pub struct TechnicianAccount {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

impl Default for TechnicianAccount {
    fn default() -> Self {
        Self {
            username: "tess".into(),
            display_name: "Tess Tester".into(),
            password: "correct horse battery staple".into(),
        }
    }
}

/// What a test wants from its broker.
#[derive(Debug, Clone, Default)]
pub struct BrokerOptions {
    /// `pin_validity_secs`, for tests about expiry (the broker's default otherwise).
    pub pin_validity_secs: Option<u64>,
    /// `prompt_deadline_secs`: how long a permission prompt waits for an answer (the
    /// broker's default, 60 s, otherwise); short for expiry tests.
    pub prompt_deadline_secs: Option<u64>,
    /// `max_file_bytes`: the largest file either side may send (the broker's default,
    /// 200 MiB, otherwise).
    pub max_file_bytes: Option<u64>,
    /// `extra_origins`: more Origins the WebSocket check accepts (a [`crate::TcpProxy`]).
    pub extra_origins: Vec<String>,
    /// The account created before the broker starts.
    pub technician: TechnicianAccount,
    /// The organisation's texts, `(language, key, text)`: written as `[texts.<language>]`
    /// tables (overrides, or a language added by configuration).
    pub texts: Vec<(String, String, String)>,
    /// `turn_urls` and `turn_secret`: a relay (a [`crate::Turn`]).
    pub turn: Option<(Vec<String>, String)>,
    /// `ice_transport_policy = "relay"`: the peer connections may only use the relay.
    pub relay_only: bool,
    /// `screen_max_kbps`: the organisation's cap on a screen share's rate.
    pub screen_max_kbps: Option<u32>,
    /// `customer_gone_after_secs`: how long a session goes on after its customer's
    /// connection dropped (the broker's default, 10 minutes, otherwise).
    pub customer_gone_after_secs: Option<u64>,
    /// Where the broker listens (`127.0.0.1:0` otherwise), e.g. a [`crate::Netns`]'s
    /// host address, for a browser inside the namespace.
    pub listen: Option<String>,
    /// More top-level `key = value` lines, written as given (single sign-on, SMTP).
    pub extra_config: Vec<(String, String)>,
    /// A broker joining others on one database: no account is made (it exists
    /// already), and the PIN and record keys are copied from this data folder (every
    /// broker of a cluster has the same keys).
    pub keys_from: Option<PathBuf>,
    /// The built app to serve (`CONNECTIT_DIST_DIR`, else the workspace's `dist/`,
    /// otherwise), e.g. a copy a test has altered.
    pub dist_dir: Option<PathBuf>,
}

/// A running broker. Dropping it kills the process and removes its data.
pub struct Broker {
    /// The `serve` process (killed on drop).
    child: Child,
    /// `http://127.0.0.1:PORT`, as the broker printed it.
    url: String,
    addr: SocketAddr,
    /// The technician account that exists in this broker's database.
    technician: TechnicianAccount,
    /// The config file every start reads.
    config_path: PathBuf,
    /// The broker's stderr, shown when a test fails.
    log_path: PathBuf,
    data_dir: PathBuf,
    /// Config, data and log; removed last.
    _dir: TempDir,
}

impl Broker {
    /// Writes a config, creates the technician, starts `serve` and waits for its
    /// `ConnectIT listening on …` line.
    pub async fn start(options: BrokerOptions) -> Broker {
        let bin = broker_binary();
        let dist = options.dist_dir.clone().unwrap_or_else(dist_dir);
        let dir = tempfile::Builder::new()
            .prefix("connectit-e2e-broker-")
            .tempdir()
            .expect("create a temporary directory for the broker");
        let data_dir = dir.path().join("data");
        let config_path = dir.path().join("connectit.toml");
        std::fs::write(&config_path, config_toml(&options, &data_dir, &dist))
            .unwrap_or_else(|e| panic!("write {}: {e}", config_path.display()));
        let log_path = dir.path().join("broker.log");

        match &options.keys_from {
            Some(from) => {
                std::fs::create_dir_all(&data_dir).expect("the data folder");
                for key in ["pin.key", "record.key"] {
                    std::fs::copy(from.join(key), data_dir.join(key))
                        .unwrap_or_else(|e| panic!("copy {key} from {}: {e}", from.display()));
                }
            }
            None => create_technician(&bin, &config_path, &options.technician, &log_path).await,
        }

        let (child, url) = spawn_serve(&bin, &config_path, &log_path, None).await;
        let addr: SocketAddr = url
            .strip_prefix("http://")
            .and_then(|hostport| hostport.parse().ok())
            .unwrap_or_else(|| {
                panic!("the broker printed an address that is not http://IP:PORT: {url:?}")
            });
        Broker {
            child,
            url,
            addr,
            technician: options.technician,
            config_path,
            log_path,
            data_dir,
            _dir: dir,
        }
    }

    /// Creates another technician account (the broker may be running).
    pub async fn add_technician(&self, account: &TechnicianAccount) {
        let log = self.log_path.with_file_name("create-technician.log");
        create_technician(&broker_binary(), &self.config_path, account, &log).await;
    }

    /// Runs one of the broker's administration commands (`create-team …`) against this
    /// broker's database, and answers what it printed; panics if it failed.
    pub async fn admin(&self, args: &[&str]) -> String {
        let output = Command::new(broker_binary())
            .arg("--config")
            .arg(&self.config_path)
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(Duration::from_secs(60), output)
            .await
            .unwrap_or_else(|_| panic!("{args:?} did not finish within 60 s"))
            .unwrap_or_else(|e| panic!("run {args:?}: {e}"));
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{args:?} failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        text
    }

    /// Kills the process with SIGKILL (no chance to close anything) and waits for it.
    pub async fn kill(&mut self) {
        self.child
            .kill()
            .await
            .unwrap_or_else(|e| panic!("kill -9 the broker: {e}"));
    }

    /// Sends SIGTERM and waits up to `within` for the process to exit: its exit status,
    /// or `None` if it was still running then (it is killed).
    pub async fn terminate(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let pid = self
            .child
            .id()
            .expect("the broker is running (it has a process id)");
        let sent = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .unwrap_or_else(|e| panic!("run kill -TERM {pid}: {e}"));
        assert!(sent.success(), "kill -TERM {pid} failed: {sent}");
        match tokio::time::timeout(within, self.child.wait()).await {
            Ok(status) => Some(status.unwrap_or_else(|e| panic!("wait for the broker: {e}"))),
            Err(_) => {
                let _ = self.child.kill().await;
                None
            }
        }
    }

    /// Starts `serve` again, after [`Broker::kill`] or [`Broker::terminate`], with the
    /// same config and data folder on the same address (retrying while the port is not
    /// free yet).
    pub async fn restart(&mut self) {
        let bin = broker_binary();
        let mut attempts = 0;
        loop {
            attempts += 1;
            match try_spawn_serve(&bin, &self.config_path, &self.log_path, Some(self.addr)).await {
                Ok((child, url)) => {
                    assert_eq!(url, self.url, "the restarted broker listens elsewhere");
                    self.child = child;
                    return;
                }
                Err(why) if attempts < 20 => {
                    eprintln!(
                        "restarting the broker on {}: {why}; trying again",
                        self.addr
                    );
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(why) => panic!(
                    "the broker did not start again on {}: {why}\n--- broker log ---\n{}",
                    self.addr,
                    log_tail(&self.log_path, 60)
                ),
            }
        }
    }

    /// The `serve` process's id (while it runs).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The broker's socket address (what a [`crate::TcpProxy`] forwards to).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The customer page.
    pub fn customer_url(&self) -> String {
        format!("{}/", self.url)
    }

    /// The technician console.
    pub fn console_url(&self) -> String {
        format!("{}/console", self.url)
    }

    /// The technician account that exists in this broker.
    pub fn technician(&self) -> &TechnicianAccount {
        &self.technician
    }

    /// The SQLite file (`<data_dir>/connectit.sqlite3`).
    pub fn db_path(&self) -> PathBuf {
        self.data_dir.join("connectit.sqlite3")
    }

    /// The broker's data folder (`data_dir`: the database and its keys).
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// `connectit-broker --data <data dir> verify-record FILE`: its exit code and what
    /// it printed (stdout, then stderr).
    pub async fn verify_record(&self, file: &Path) -> (i32, String) {
        let output = Command::new(broker_binary())
            .arg("--data")
            .arg(&self.data_dir)
            .arg("verify-record")
            .arg(file)
            .stdin(Stdio::null())
            .output()
            .await
            .unwrap_or_else(|e| panic!("run connectit-broker verify-record: {e}"));
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        (output.status.code().unwrap_or(-1), text)
    }

    /// `GET path` on the broker: status and body (for checks that need no browser).
    pub async fn get(&self, path: &str) -> (u16, String) {
        let (port, path_owned) = (self.addr.port(), path.to_owned());
        let answer = tokio::task::spawn_blocking(move || {
            crate::http::request(port, "GET", &path_owned, Duration::from_secs(10))
        })
        .await
        .expect("the HTTP request task ran");
        answer.unwrap_or_else(|| panic!("GET {path}: no answer"))
    }

    /// `GET path` on the broker, parsed as JSON.
    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let (status, body) = self.get(path).await;
        let json = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("GET {path}: body is not JSON ({e}): {body:?}"));
        (status, json)
    }

    /// The last `lines` lines the broker wrote to stderr.
    pub fn log_tail(&self, lines: usize) -> String {
        log_tail(&self.log_path, lines)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Err(e) = self.child.start_kill() {
            eprintln!("could not kill the broker: {e}");
        }
        if std::thread::panicking() {
            eprintln!(
                "--- broker log ({}), last lines ---\n{}",
                self.url,
                log_tail(&self.log_path, 40)
            );
        }
    }
}

/// Starts `serve` (on `listen`, or the config's port 0) and waits for its
/// `ConnectIT listening on …` line; the process and the URL it printed.
async fn spawn_serve(
    bin: &Path,
    config_path: &Path,
    log_path: &Path,
    listen: Option<SocketAddr>,
) -> (Child, String) {
    try_spawn_serve(bin, config_path, log_path, listen)
        .await
        .unwrap_or_else(|why| {
            panic!(
                "the broker did not start: {why}\n--- broker log ---\n{}",
                log_tail(log_path, 60)
            )
        })
}

async fn try_spawn_serve(
    bin: &Path,
    config_path: &Path,
    log_path: &Path,
    listen: Option<SocketAddr>,
) -> Result<(Child, String), String> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_path)
        .unwrap_or_else(|e| panic!("open {}: {e}", log_path.display()));
    let mut command = Command::new(bin);
    command.arg("--config").arg(config_path);
    if let Some(addr) = listen {
        command.arg("--listen").arg(addr.to_string());
    }
    let mut child = command
        .arg("serve")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {} serve: {e}", bin.display()));
    let stdout = child.stdout.take().expect("the broker's stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let url = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match lines.next_line().await {
                Ok(Some(line)) => {
                    if let Some(url) = line.trim().strip_prefix("ConnectIT listening on ") {
                        return Ok(url.trim_end_matches('/').to_owned());
                    }
                }
                Ok(None) => return Err("stdout closed (the broker exited)".to_owned()),
                Err(e) => return Err(format!("reading stdout failed: {e}")),
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err("no `ConnectIT listening on` line within 30 s".to_owned()))?;
    // Keep reading stdout (into the log) so the broker never blocks on a full pipe.
    let mut stdout_log = std::fs::OpenOptions::new().append(true).open(log_path).ok();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(file) = stdout_log.as_mut() {
                use std::io::Write;
                let _ = writeln!(file, "{line}");
            }
        }
    });
    Ok((child, url))
}

/// The workspace root (the e2e crate's parent folder).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the e2e crate lives inside the workspace")
        .to_path_buf()
}

/// `CONNECTIT_BROKER_BIN`, or the debug build in the workspace's target folder.
pub fn broker_binary() -> PathBuf {
    let bin = match std::env::var_os("CONNECTIT_BROKER_BIN") {
        Some(bin) => PathBuf::from(bin),
        None => {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| workspace_root().join("target"));
            target.join("debug").join("connectit-broker")
        }
    };
    if !bin.is_file() {
        panic!(
            "no broker binary at {}: run `cargo build -p connectit-broker` first \
             (or set CONNECTIT_BROKER_BIN)",
            bin.display()
        );
    }
    bin
}

/// The Trunk build the broker serves; it must exist.
pub fn dist_dir() -> PathBuf {
    let dist = std::env::var_os("CONNECTIT_DIST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("dist"));
    if !dist.join("index.html").is_file() {
        panic!(
            "{} is missing: run trunk build first (`trunk build --release --offline` in {})",
            dist.join("index.html").display(),
            workspace_root().display()
        );
    }
    dist.canonicalize()
        .unwrap_or_else(|e| panic!("resolve {}: {e}", dist.display()))
}

fn config_toml(options: &BrokerOptions, data_dir: &Path, dist: &Path) -> String {
    let mut toml = String::new();
    let mut line = |key: &str, value: String| toml.push_str(&format!("{key} = {value}\n"));
    line(
        "listen",
        quoted(options.listen.as_deref().unwrap_or("127.0.0.1:0")),
    );
    line("data_dir", quoted(&data_dir.to_string_lossy()));
    line("dist_dir", quoted(&dist.to_string_lossy()));
    line("organisation", quoted(ORGANISATION));
    line(
        "terms",
        quoted(&format!(
            "{TERMS_FIRST}\n\nEverything that happens in the session is logged."
        )),
    );
    line("support_contact", quoted(SUPPORT_CONTACT));
    line("applet_url", quoted(APPLET_URL));
    if let Some(secs) = options.pin_validity_secs {
        line("pin_validity_secs", secs.to_string());
    }
    if let Some(secs) = options.prompt_deadline_secs {
        line("prompt_deadline_secs", secs.to_string());
    }
    if let Some(bytes) = options.max_file_bytes {
        line("max_file_bytes", bytes.to_string());
    }
    if let Some((urls, secret)) = &options.turn {
        let list: Vec<String> = urls.iter().map(|u| quoted(u)).collect();
        line("turn_urls", format!("[{}]", list.join(", ")));
        line("turn_secret", quoted(secret));
    }
    if options.relay_only {
        line("ice_transport_policy", quoted("relay"));
    }
    if let Some(secs) = options.customer_gone_after_secs {
        line("customer_gone_after_secs", secs.to_string());
    }
    if let Some(kbps) = options.screen_max_kbps {
        line("screen_max_kbps", kbps.to_string());
    }
    if !options.extra_origins.is_empty() {
        let list: Vec<String> = options.extra_origins.iter().map(|o| quoted(o)).collect();
        line("extra_origins", format!("[{}]", list.join(", ")));
    }
    for (key, value) in &options.extra_config {
        line(key, value.clone());
    }
    // Tables last: every key after a table header belongs to that table.
    let mut languages: Vec<&str> = options.texts.iter().map(|(l, _, _)| l.as_str()).collect();
    languages.sort_unstable();
    languages.dedup();
    for language in languages {
        toml.push_str(&format!("\n[texts.{language}]\n"));
        for (_, key, text) in options.texts.iter().filter(|(l, _, _)| l == language) {
            toml.push_str(&format!("{key} = {}\n", quoted(text)));
        }
    }
    toml
}

/// A TOML basic string.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

async fn create_technician(bin: &Path, config: &Path, tech: &TechnicianAccount, log_path: &Path) {
    let mut child = Command::new(bin)
        .arg("--config")
        .arg(config)
        .arg("create-technician")
        .arg("--username")
        .arg(&tech.username)
        .arg("--display-name")
        .arg(&tech.display_name)
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("start {} create-technician: {e}", bin.display()));
    let mut stdin = child
        .stdin
        .take()
        .expect("create-technician's stdin is piped");
    stdin
        .write_all(format!("{}\n", tech.password).as_bytes())
        .await
        .expect("write the password to create-technician");
    drop(stdin);
    let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("create-technician did not finish within 60 s")
        .expect("wait for create-technician");
    let _ = std::fs::write(log_path, [&output.stdout[..], &output.stderr[..]].concat());
    if !output.status.success() {
        panic!(
            "`connectit-broker create-technician --username {}` failed ({}):\n{}{}",
            tech.username,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn log_tail(path: &Path, lines: usize) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(no log at {}: {e})", path.display()),
    }
}

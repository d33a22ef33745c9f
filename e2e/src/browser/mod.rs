//! One headless browser, driven through its own WebDriver server (own port, own profile
//! directory, so tests can run side by side), and the page operations the flows use.
//! Chromium (through `chromedriver`) is the default; Firefox ESR (through
//! `geckodriver`, on a virtual X display so that it can capture a screen) is the other
//! [`BrowserKind`]. Every operation names its element by CSS selector and waits for it
//! like a user would: visible before it is read, clickable before it is clicked.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::process::{Child, Command};

use crate::display::Xvfb;
use crate::http;

mod devtools;
mod frames;
mod input;
mod log;
mod page;

pub use frames::{FrameCount, Region};
pub use log::ChatEntry;

/// JavaScript shared by the scripts below: `vis(el)` is "a user can see it".
pub(crate) const VIS: &str =
    "const vis = (e) => !!e && e.isConnected && e.getClientRects().length > 0 \
                   && getComputedStyle(e).visibility !== 'hidden';";

/// Which browser a [`Browser`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BrowserKind {
    /// Debian's `chromium`, through `chromedriver`, with Chromium's fake capture
    /// devices (a synthetic, steadily changing "screen").
    #[default]
    Chromium,
    /// Debian's `firefox-esr`, through `geckodriver`, headless on a shared Xvfb display
    /// (its screen is what `getDisplayMedia` captures; it needs a real click).
    Firefox,
}

impl BrowserKind {
    /// The driver program's name, for messages.
    fn driver(self) -> &'static str {
        match self {
            BrowserKind::Chromium => "chromedriver",
            BrowserKind::Firefox => "geckodriver",
        }
    }
}

/// What a test changes in how the browser starts (the browser's own switches and
/// preferences: see [`Browser::start_kind_with_options`]).
#[derive(Debug, Clone, Default)]
pub struct StartOptions {
    /// More command-line switches (Chromium's, or Firefox's for [`BrowserKind::Firefox`]).
    pub args: Vec<String>,
    /// More profile preferences (e.g. Chromium's
    /// `profile.managed_default_content_settings.javascript = 2`: scripts off; or
    /// Firefox's `about:config` names).
    pub prefs: serde_json::Map<String, Value>,
    /// Another Chromium binary (a script that starts it inside a network namespace:
    /// [`crate::Netns::chromium_wrapper`]); the driver then speaks to it over a pipe.
    pub binary: Option<String>,
}

/// A WebDriver BiDi connection to geckodriver (Firefox's way to what Chromium does
/// through CDP).
type BidiSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A running browser. Call [`Browser::close`] at the end of a test; dropping it also
/// ends the WebDriver session and the driver, without waiting politely.
pub struct Browser {
    client: Client,
    kind: BrowserKind,
    /// The WebDriver session, deleted on drop when [`Browser::close`] was not called.
    session_id: Option<String>,
    driver_port: u16,
    /// The driver (its own process group, so the browser can be killed with it).
    driver: Child,
    closed: bool,
    /// Where the browser saves downloads, without asking.
    downloads: TempDir,
    /// The profile and the driver's log.
    _dir: TempDir,
    /// The X display Firefox runs on (kept running while this browser does).
    _display: Option<Arc<Xvfb>>,
    /// Firefox's WebDriver BiDi connection, opened on first use and kept open (what it
    /// set up lasts as long as the session).
    bidi: tokio::sync::Mutex<Option<BidiSocket>>,
    /// The id of the next BiDi command.
    bidi_next: std::sync::atomic::AtomicU64,
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless Chromium session.
    pub async fn start() -> Browser {
        Self::start_with(&[]).await
    }

    /// Starts geckodriver on a free port and opens a headless Firefox session on the
    /// shared virtual display.
    pub async fn start_firefox() -> Browser {
        Self::start_kind(BrowserKind::Firefox).await
    }

    /// A headless browser of `kind`, with nothing else changed.
    pub async fn start_kind(kind: BrowserKind) -> Browser {
        Self::start_kind_with_options(kind, StartOptions::default()).await
    }

    /// [`Browser::start`] with more Chromium switches (e.g.
    /// `--enable-precise-memory-info` for the timing examples).
    pub async fn start_with(extra_args: &[&str]) -> Browser {
        Self::start_with_options(StartOptions {
            args: extra_args.iter().map(|a| (*a).to_owned()).collect(),
            ..StartOptions::default()
        })
        .await
    }

    /// [`Browser::start`] with more switches and profile preferences.
    pub async fn start_with_options(options: StartOptions) -> Browser {
        Self::start_kind_with_options(BrowserKind::Chromium, options).await
    }

    /// A headless browser of `kind` with more switches and profile preferences.
    pub async fn start_kind_with_options(kind: BrowserKind, options: StartOptions) -> Browser {
        let dir = tempfile::Builder::new()
            .prefix(match kind {
                BrowserKind::Chromium => "connectit-e2e-chromium-",
                BrowserKind::Firefox => "connectit-e2e-firefox-",
            })
            .tempdir()
            .expect("create a temporary profile directory for the browser");
        let display = match kind {
            BrowserKind::Chromium => None,
            BrowserKind::Firefox => Some(
                Xvfb::shared().unwrap_or_else(|e| panic!("a virtual display for Firefox: {e}")),
            ),
        };
        let mut failures = Vec::new();
        for _attempt in 0..3 {
            let port = free_port();
            let spawned = match kind {
                BrowserKind::Chromium => spawn_chromedriver(port, &dir),
                BrowserKind::Firefox => {
                    let display = display.as_deref().map(Xvfb::display).unwrap_or_default();
                    spawn_geckodriver(port, &dir, &display)
                }
            };
            let mut driver = match spawned {
                Ok(driver) => driver,
                Err(e) => panic!("start {} (run scripts/setup --test): {e}", kind.driver()),
            };
            match wait_for_driver(kind, port, &mut driver).await {
                Ok(()) => {
                    let mut browser = Self::connect(kind, port, driver, dir, &options).await;
                    browser._display = display;
                    return browser;
                }
                Err(why) => {
                    let _ = driver.start_kill();
                    failures.push(format!("port {port}: {why}"));
                }
            }
        }
        panic!(
            "{} did not become ready: {}",
            kind.driver(),
            failures.join("; ")
        );
    }

    async fn connect(
        kind: BrowserKind,
        port: u16,
        mut driver: Child,
        dir: TempDir,
        options: &StartOptions,
    ) -> Browser {
        let downloads = tempfile::Builder::new()
            .prefix("connectit-e2e-downloads-")
            .tempdir()
            .expect("create a temporary download folder for the browser");
        let caps = match kind {
            BrowserKind::Chromium => chromium_capabilities(&dir, downloads.path(), options),
            BrowserKind::Firefox => firefox_capabilities(downloads.path(), options),
        };
        let client = match ClientBuilder::new(HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => client,
            Err(e) => {
                let _ = driver.start_kill();
                panic!(
                    "open a {kind:?} session through {} on port {port}: {e}",
                    kind.driver()
                );
            }
        };
        let session_id = client.session_id().await.ok().flatten();
        Browser {
            client,
            kind,
            session_id,
            driver_port: port,
            driver,
            closed: false,
            downloads,
            _dir: dir,
            _display: None,
            bidi: tokio::sync::Mutex::new(None),
            bidi_next: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// Which browser this is.
    pub fn kind(&self) -> BrowserKind {
        self.kind
    }

    /// Ends the WebDriver session (the browser quits) and stops its driver.
    pub async fn close(mut self) {
        if let Err(e) = self.client.clone().close().await {
            eprintln!("closing the WebDriver session failed: {e}");
        } else {
            self.closed = true;
        }
        // Drop kills the driver.
    }

    /// The folder this browser saves downloads in (its own temporary folder).
    pub fn download_dir(&self) -> &Path {
        self.downloads.path()
    }

    /// The process group of this browser's driver and the browser it started (for
    /// measuring their memory from outside).
    pub fn process_group(&self) -> Option<u32> {
        self.driver.id()
    }

    /// The fantoccini client, for what the helpers here do not cover.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.closed {
            if let Some(id) = &self.session_id {
                // The browser quits when its session is deleted; this cannot await, so
                // it speaks plain HTTP to the driver.
                let _ = http::request(
                    self.driver_port,
                    "DELETE",
                    &format!("/session/{id}"),
                    Duration::from_secs(10),
                );
            }
        }
        if let Some(pid) = self.driver.id() {
            // The driver leads its own process group: end it and whatever it started.
            let _ = std::process::Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.driver.start_kill();
    }
}

/// A port nothing listens on right now (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0 to find a free port")
}

fn spawn_chromedriver(port: u16, dir: &TempDir) -> std::io::Result<Child> {
    let bin = std::env::var("CHROMEDRIVER_BIN").unwrap_or_else(|_| "chromedriver".into());
    let log = std::fs::File::create(dir.path().join("chromedriver.log"))?;
    Command::new(bin)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
}

/// `GECKODRIVER_BIN`, else `geckodriver` on `PATH`, else the one `cargo install` put in
/// Cargo's `bin` folder (which a plain `cargo test` may not have on `PATH`).
fn geckodriver_binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("GECKODRIVER_BIN") {
        return PathBuf::from(bin);
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("geckodriver"))
            .find(|candidate| candidate.is_file())
    });
    if let Some(bin) = on_path {
        return bin;
    }
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    cargo_home
        .map(|home| home.join("bin").join("geckodriver"))
        .filter(|bin| bin.is_file())
        .unwrap_or_else(|| PathBuf::from("geckodriver"))
}

/// geckodriver on `port`, its profiles in `dir`, Firefox on X display `display`.
/// (Marionette, between geckodriver and Firefox, takes a port the system picks, and
/// WebDriver BiDi a free one, so several Firefox run side by side.)
fn spawn_geckodriver(port: u16, dir: &TempDir, display: &str) -> std::io::Result<Child> {
    let log = std::fs::File::create(dir.path().join("geckodriver.log"))?;
    Command::new(geckodriver_binary())
        .arg("--host=127.0.0.1")
        .arg(format!("--port={port}"))
        // WebDriver BiDi on a free port too (its default, 9222, would be shared).
        .arg(format!("--websocket-port={}", free_port()))
        .arg("--profile-root")
        .arg(dir.path())
        .env("DISPLAY", display)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
}

/// Headless Chromium with its fake capture devices, its profile in `dir`, saving
/// downloads in `downloads` without asking.
fn chromium_capabilities(
    dir: &TempDir,
    downloads: &Path,
    options: &StartOptions,
) -> serde_json::Map<String, Value> {
    let chrome = std::env::var("CHROME_BIN").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let profile = dir.path().join("profile");
    let mut caps = json!({
        "goog:chromeOptions": {
            "binary": chrome,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                format!("--user-data-dir={}", profile.display()),
                "--window-size=1280,900",
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
            ],
            "prefs": {
                "download.default_directory": downloads.to_string_lossy(),
                "download.prompt_for_download": false,
                "download.directory_upgrade": true,
                "safebrowsing.enabled": false,
                // Several downloads from one page (files, then a record) need no
                // "allow multiple downloads" question.
                "profile.default_content_setting_values.automatic_downloads": 1,
            }
        }
    });
    if let Some(args) = caps["goog:chromeOptions"]["args"].as_array_mut() {
        args.extend(options.args.iter().map(|a| json!(a)));
    }
    if let Some(prefs) = caps["goog:chromeOptions"]["prefs"].as_object_mut() {
        prefs.extend(options.prefs.clone());
    }
    if let Some(binary) = &options.binary {
        caps["goog:chromeOptions"]["binary"] = json!(binary);
        if let Some(args) = caps["goog:chromeOptions"]["args"].as_array_mut() {
            args.push(json!("--remote-debugging-pipe"));
        }
    }
    match caps {
        Value::Object(map) => map,
        _ => unreachable!("capabilities are a JSON object"),
    }
}

/// What every downloaded file of the pages is served as: saved without a question.
const DOWNLOAD_TYPES: &str = "application/octet-stream,application/json,text/html,\
                              text/plain,application/x-binary";

/// Headless Firefox ESR: camera and screen without a permission prompt (the screen
/// still needs a real click), host candidates with their addresses, no calls home,
/// downloads saved in `downloads` without asking.
fn firefox_capabilities(
    downloads: &Path,
    options: &StartOptions,
) -> serde_json::Map<String, Value> {
    let firefox = std::env::var("FIREFOX_BIN").unwrap_or_else(|_| "/usr/bin/firefox-esr".into());
    let mut caps = json!({
        "browserName": "firefox",
        // WebDriver BiDi, for what classic WebDriver cannot do (scripts before a page's).
        "webSocketUrl": true,
        "moz:firefoxOptions": {
            "binary": firefox,
            "args": ["-headless", "--width=1280", "--height=900"],
            "prefs": {
                // Capture without a prompt; a fake camera.
                "media.navigator.permission.disabled": true,
                "media.navigator.streams.fake": true,
                // Host candidates with their loopback addresses, not `.local` names.
                "media.peerconnection.ice.obfuscate_host_addresses": false,
                // Downloads: into this browser's own folder, never a dialog or a panel.
                "browser.download.dir": downloads.to_string_lossy(),
                "browser.download.folderList": 2,
                "browser.download.useDownloadDir": true,
                "browser.download.always_ask_before_handling_new_types": false,
                "browser.download.start_downloads_in_tmp_dir": false,
                "browser.download.manager.showWhenStarting": false,
                "browser.download.alwaysOpenPanel": false,
                "browser.download.panel.shown": true,
                "browser.helperApps.neverAsk.saveToDisk": DOWNLOAD_TYPES,
                "pdfjs.disabled": true,
                // The network here is closed: no services that call home.
                "browser.safebrowsing.downloads.enabled": false,
                "browser.safebrowsing.malware.enabled": false,
                "browser.safebrowsing.phishing.enabled": false,
                "network.captive-portal-service.enabled": false,
                "network.connectivity-service.enabled": false,
                "media.gmp-manager.updateEnabled": false,
                "datareporting.policy.dataSubmissionEnabled": false,
                "datareporting.healthreport.uploadEnabled": false,
                "toolkit.telemetry.enabled": false,
                "browser.shell.checkDefaultBrowser": false,
            }
        }
    });
    if let Some(args) = caps["moz:firefoxOptions"]["args"].as_array_mut() {
        args.extend(options.args.iter().map(|a| json!(a)));
    }
    if let Some(prefs) = caps["moz:firefoxOptions"]["prefs"].as_object_mut() {
        prefs.extend(options.prefs.clone());
    }
    match caps {
        Value::Object(map) => map,
        _ => unreachable!("capabilities are a JSON object"),
    }
}

async fn wait_for_driver(kind: BrowserKind, port: u16, driver: &mut Child) -> Result<(), String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(Some(status)) = driver.try_wait() {
            return Err(format!("{} exited: {status}", kind.driver()));
        }
        let answer = tokio::task::spawn_blocking(move || {
            http::request(port, "GET", "/status", Duration::from_secs(2))
        })
        .await
        .map_err(|e| format!("status probe failed: {e}"))?;
        if let Some((200, body)) = answer {
            if body.contains("\"ready\":true") || body.contains("\"ready\": true") {
                return Ok(());
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err("no ready /status within 20 s".into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

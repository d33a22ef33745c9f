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

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::{SinkExt, StreamExt};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::Message;

use crate::display::Xvfb;
use crate::http;
use crate::wait::TIMEOUT;

/// JavaScript shared by the scripts below: `vis(el)` is "a user can see it".
const VIS: &str = "const vis = (e) => !!e && e.isConnected && e.getClientRects().length > 0 \
                   && getComputedStyle(e).visibility !== 'hidden';";

/// One entry of a `#chat-log`, as the page shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatEntry {
    /// `data-seq`, parsed (`None` when missing or not a number).
    pub seq: Option<u64>,
    /// `data-author`: customer, technician or system.
    pub author: String,
    /// `data-kind`: the protocol's name of the entry's type (`chat`,
    /// `permission_granted`, `media`…; empty when missing).
    pub kind: String,
    /// The text of `.entry-text` (`None` when the entry has none, e.g. system entries).
    pub text: Option<String>,
}

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

    /// Runs a Chrome DevTools Protocol command through chromedriver
    /// (`POST /session/{id}/goog/cdp/execute`); its result. Chromium only: Firefox
    /// has no such endpoint, and asking it is a test's mistake, reported at once.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        assert_eq!(
            self.kind,
            BrowserKind::Chromium,
            "CDP {cmd}: the Chrome DevTools Protocol is Chromium's; this browser is {:?}",
            self.kind
        );
        let id = self
            .session_id
            .clone()
            .unwrap_or_else(|| panic!("CDP {cmd}: no WebDriver session id"));
        let body = json!({ "cmd": cmd, "params": params }).to_string();
        let port = self.driver_port;
        let path = format!("/session/{id}/goog/cdp/execute");
        let answer = tokio::task::spawn_blocking(move || {
            http::request_with_body(port, "POST", &path, &body, Duration::from_secs(10))
        })
        .await
        .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"));
        match answer {
            Some((200, body)) => serde_json::from_str::<Value>(&body)
                .map(|v| v["value"].clone())
                .unwrap_or_else(|e| panic!("CDP {cmd}: unreadable answer {body:?}: {e}")),
            other => panic!("CDP {cmd} failed: {other:?}"),
        }
    }

    /// Runs `source` in every page this browser opens from now on, before the page's
    /// own scripts: CDP `Page.addScriptToEvaluateOnNewDocument` in Chromium, WebDriver
    /// BiDi `script.addPreloadScript` in Firefox.
    pub async fn before_page_scripts(&self, source: &str) {
        match self.kind {
            BrowserKind::Chromium => {
                self.cdp(
                    "Page.addScriptToEvaluateOnNewDocument",
                    json!({ "source": source }),
                )
                .await;
            }
            BrowserKind::Firefox => {
                self.bidi(
                    "script.addPreloadScript",
                    json!({ "functionDeclaration": format!("() => {{\n{source}\n}}") }),
                )
                .await;
            }
        }
    }

    /// Sends one WebDriver BiDi command to Firefox (over the session's `webSocketUrl`)
    /// and waits for its answer; its result. Firefox only, and an error answer panics
    /// with what the browser said.
    pub async fn bidi(&self, method: &str, params: Value) -> Value {
        let url = self
            .client
            .capabilities()
            .and_then(|caps| caps.get("webSocketUrl"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                panic!(
                    "BiDi {method}: this {:?} session has no webSocketUrl (Firefox only)",
                    self.kind
                )
            });
        let mut socket = self.bidi.lock().await;
        if socket.is_none() {
            let (opened, _) = tokio_tungstenite::connect_async(url.as_str())
                .await
                .unwrap_or_else(|e| panic!("BiDi {method}: connect to {url}: {e}"));
            *socket = Some(opened);
        }
        let Some(ws) = socket.as_mut() else {
            unreachable!("the BiDi connection was just opened")
        };
        let id = self
            .bidi_next
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let command = json!({ "id": id, "method": method, "params": params }).to_string();
        ws.send(Message::Text(command.into()))
            .await
            .unwrap_or_else(|e| panic!("BiDi {method}: send: {e}"));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let next = tokio::time::timeout_at(deadline, ws.next())
                .await
                .unwrap_or_else(|_| panic!("BiDi {method}: no answer within 10 s"));
            let text = match next {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("BiDi {method}: {e}"),
                None => panic!("BiDi {method}: the connection closed"),
            };
            let answer: Value = serde_json::from_str(text.as_str())
                .unwrap_or_else(|e| panic!("BiDi {method}: unreadable answer {text:?}: {e}"));
            // Events (no id) and answers to other commands are not this one's.
            if answer["id"] != json!(id) {
                continue;
            }
            if answer["type"] == "error" {
                panic!("BiDi {method} failed: {answer}");
            }
            return answer["result"].clone();
        }
    }

    /// Sends `keys` (fantoccini key codes such as `"\u{e004}"` for Tab) to whatever
    /// element has the focus, as a keyboard user would.
    pub async fn press(&self, keys: &str) {
        let element = self
            .client
            .active_element()
            .await
            .unwrap_or_else(|e| panic!("find the focused element: {e}"));
        element
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("press {keys:?} on the focused element: {e}"));
    }

    /// Presses Tab (Shift+Tab when `back`) until `id` has the focus, at most `limit`
    /// times; panics with the path taken when it never gets there.
    pub async fn tab_to(&self, id: &str, back: bool, limit: usize) {
        self.tab_to_matching(&format!("#{id}"), back, limit).await;
    }

    /// Presses Tab (Shift+Tab when `back`) until the focused element matches
    /// `selector`, at most `limit` times; panics with the path taken (the ids focused)
    /// when it never gets there.
    pub async fn tab_to_matching(&self, selector: &str, back: bool, limit: usize) {
        let key = if back { "\u{e008}\u{e004}" } else { "\u{e004}" };
        let probe = "const e = document.activeElement; return !!e && e.matches(arguments[0]);";
        let mut path = vec![self.focused_id().await];
        for pressed in 0..=limit {
            if self.eval(probe, vec![json!(selector)]).await == json!(true) {
                return;
            }
            if pressed < limit {
                self.press(key).await;
                path.push(self.focused_id().await);
            }
        }
        panic!("Tab never reached {selector}; focus went through {path:?}");
    }

    /// Sets a marker on `window`: [`Browser::has_mark`] later tells whether the page is
    /// still the same one (not reloaded, not navigated away).
    pub async fn mark_page(&self, name: &str) {
        self.eval(
            "window[arguments[0]] = true; return true;",
            vec![json!(name)],
        )
        .await;
    }

    /// Whether the page still carries the marker `name` of [`Browser::mark_page`].
    pub async fn has_mark(&self, name: &str) -> bool {
        self.eval("return window[arguments[0]] === true;", vec![json!(name)])
            .await
            == json!(true)
    }

    /// Resizes the window (CSS pixels at the default zoom).
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("resize the window to {width}×{height}: {e}"));
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("take a screenshot: {e}"))
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("run script in the page: {e}\nscript: {script}"))
    }

    /// Runs `script` asynchronously: it ends by calling its last argument (after
    /// `args`) with the value to return. For work that waits inside the page.
    pub async fn eval_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute_async(script, args)
            .await
            .unwrap_or_else(|e| panic!("run async script in the page: {e}\nscript: {script}"))
    }

    /// Like [`Browser::eval`], but a failure is a value, for probes.
    pub(crate) async fn try_eval(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.client
            .execute(script, args)
            .await
            .map_err(|e| format!("script failed: {e}"))
    }

    /// Waits until `probe` succeeds; on time-out the panic also says what the page shows.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        self.wait_for_within(what, TIMEOUT, probe).await
    }

    /// [`Browser::wait_for`] with another time limit.
    pub async fn wait_for_within<T, F, Fut>(&self, what: &str, timeout: Duration, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let seen = match probe().await {
                Ok(value) => return value,
                Err(seen) => seen,
            };
            if tokio::time::Instant::now() >= deadline {
                let page = self.describe_page().await;
                panic!(
                    "timed out after {:.1} s waiting for {what}\nlast seen: {seen}\n{page}",
                    timeout.as_secs_f64()
                );
            }
            tokio::time::sleep(crate::wait::POLL).await;
        }
    }

    /// The URL and visible text of the page, for failure messages.
    pub async fn describe_page(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_else(|e| format!("(no URL: {e})"));
        let text = self
            .try_eval(
                "return document.body ? document.body.innerText : '(no body)';",
                vec![],
            )
            .await
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|e| e);
        let text: String = text.chars().take(1500).collect();
        format!("page {url} shows:\n{text}")
    }

    /// Whether an element matching `selector` is visible now.
    pub async fn is_visible(&self, selector: &str) -> bool {
        let script = format!("{VIS} return vis(document.querySelector(arguments[0]));");
        self.eval(&script, vec![json!(selector)]).await == json!(true)
    }

    /// Waits until `selector` is visible.
    pub async fn wait_visible(&self, selector: &str) {
        let script = format!("{VIS} return vis(document.querySelector(arguments[0]));");
        self.wait_for(&format!("{selector} to be visible"), || async {
            match self.try_eval(&script, vec![json!(selector)]).await? {
                Value::Bool(true) => Ok(()),
                _ => Err(format!("{selector} absent or hidden")),
            }
        })
        .await
    }

    /// Waits until no visible element matches `selector`.
    pub async fn wait_hidden(&self, selector: &str) {
        let script = format!("{VIS} return vis(document.querySelector(arguments[0]));");
        self.wait_for(&format!("{selector} to disappear"), || async {
            match self.try_eval(&script, vec![json!(selector)]).await? {
                Value::Bool(false) => Ok(()),
                _ => Err(format!("{selector} still visible")),
            }
        })
        .await
    }

    /// The visible text of `selector`, once it is visible.
    pub async fn text(&self, selector: &str) -> String {
        self.wait_visible(selector).await;
        let script =
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;";
        match self.eval(script, vec![json!(selector)]).await {
            Value::String(text) => text,
            other => panic!("{selector} has no text: {other}"),
        }
    }

    /// Waits until the visible text of `selector` contains `needle`; returns the text.
    pub async fn wait_text_contains(&self, selector: &str, needle: &str) -> String {
        let script = format!(
            "{VIS} const e = document.querySelector(arguments[0]); \
             return vis(e) ? e.innerText : null;"
        );
        self.wait_for(&format!("{selector} to show {needle:?}"), || async {
            match self.try_eval(&script, vec![json!(selector)]).await? {
                Value::String(text) if text.contains(needle) => Ok(text),
                Value::String(text) => Err(format!("{selector} shows {text:?}")),
                _ => Err(format!("{selector} absent or hidden")),
            }
        })
        .await
    }

    /// The attribute `name` of `selector` (`None` when the element or attribute is absent).
    pub async fn attr(&self, selector: &str, name: &str) -> Option<String> {
        let script = "const e = document.querySelector(arguments[0]); \
                      return e ? e.getAttribute(arguments[1]) : null;";
        match self.eval(script, vec![json!(selector), json!(name)]).await {
            Value::String(value) => Some(value),
            _ => None,
        }
    }

    /// Waits until the attribute `name` of `selector` equals `value`.
    pub async fn wait_attr(&self, selector: &str, name: &str, value: &str) {
        let script = "const e = document.querySelector(arguments[0]); \
                      return e ? e.getAttribute(arguments[1]) : undefined;";
        self.wait_for(&format!("{selector}[{name}={value:?}]"), || async {
            match self
                .try_eval(script, vec![json!(selector), json!(name)])
                .await?
            {
                Value::String(v) if v == value => Ok(()),
                Value::String(v) => Err(format!("{selector} has {name}={v:?}")),
                Value::Null => Err(format!(
                    "{selector} has no {name} attribute (or no element)"
                )),
                other => Err(format!("{selector}: {other}")),
            }
        })
        .await
    }

    /// The value of a form field.
    pub async fn value(&self, selector: &str) -> String {
        let script = "const e = document.querySelector(arguments[0]); return e ? e.value : null;";
        match self.eval(script, vec![json!(selector)]).await {
            Value::String(value) => value,
            other => panic!("{selector} has no value: {other}"),
        }
    }

    /// The id of the focused element ("" when it has none).
    pub async fn focused_id(&self) -> String {
        let script = "return document.activeElement ? document.activeElement.id : '';";
        self.eval(script, vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Finds the visible element `selector` (waiting for it).
    pub async fn find(&self, selector: &str) -> Element {
        self.wait_visible(selector).await;
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("find {selector}: {e}"))
    }

    /// Clicks `selector` as a user would, once it is visible, enabled and not covered.
    pub async fn click(&self, selector: &str) {
        let script = format!(
            "{VIS} const e = document.querySelector(arguments[0]); \
             return vis(e) && !e.disabled;"
        );
        self.wait_for(&format!("{selector} to be clickable"), || async {
            match self.try_eval(&script, vec![json!(selector)]).await? {
                Value::Bool(true) => {}
                _ => return Err(format!("{selector} absent, hidden or disabled")),
            }
            let element = self
                .client
                .find(Locator::Css(selector))
                .await
                .map_err(|e| format!("find: {e}"))?;
            element.click().await.map_err(|e| format!("click: {e}"))
        })
        .await
    }

    /// Picks a radio button or checkbox: clicks the input, or its `<label for>` when the
    /// input itself is styled out of reach; waits until it is checked.
    pub async fn choose(&self, selector: &str) {
        let id = self
            .attr(selector, "id")
            .await
            .unwrap_or_else(|| panic!("{selector} needs an id to find its label"));
        self.wait_for(&format!("{selector} to be checked"), || async {
            let checked =
                "const e = document.querySelector(arguments[0]); return !!e && e.checked;";
            if self.try_eval(checked, vec![json!(selector)]).await? == json!(true) {
                return Ok(());
            }
            let direct = match self.client.find(Locator::Css(selector)).await {
                Ok(element) => element.click().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(direct) = direct {
                self.click_label(selector, &id, &direct).await?;
            }
            Err(format!("{selector} clicked, not checked yet"))
        })
        .await
    }

    /// Chooses the option whose value is `value` in the `<select>` at `selector`, as a
    /// user would, and waits until the select shows it.
    pub async fn select_value(&self, selector: &str, value: &str) {
        self.wait_for(&format!("{selector} to be set to {value:?}"), || async {
            let element = self
                .client
                .find(Locator::Css(selector))
                .await
                .map_err(|e| format!("no {selector}: {e}"))?;
            element
                .select_by_value(value)
                .await
                .map_err(|e| format!("{selector} has no option {value:?}: {e}"))?;
            let now = "const e = document.querySelector(arguments[0]); return e && e.value;";
            match self.try_eval(now, vec![json!(selector)]).await? {
                Value::String(v) if v == value => Ok(()),
                other => Err(format!("{selector} holds {other}")),
            }
        })
        .await
    }

    /// Clicks the `<label for=id>` of `selector`, which could not be clicked itself
    /// (`direct` says why): a styled radio or check box hides its input.
    async fn click_label(&self, selector: &str, id: &str, direct: &str) -> Result<(), String> {
        let label = format!("label[for=\"{id}\"]");
        let element = self
            .client
            .find(Locator::Css(&label))
            .await
            .map_err(|e| format!("{selector} not clickable ({direct}) and no {label}: {e}"))?;
        element
            .click()
            .await
            .map_err(|e| format!("{selector} not clickable ({direct}), {label} neither: {e}"))
    }

    /// Types `text` into `selector` key by key (fantoccini key codes such as
    /// `"\u{e007}"` for Enter work too).
    pub async fn type_into(&self, selector: &str, text: &str) {
        let element = self.find(selector).await;
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type {text:?} into {selector}: {e}"));
    }

    /// Empties a text field the way a user would (select all, delete), so the page's
    /// input handlers see it.
    pub async fn clear_field(&self, selector: &str) {
        let element = self.find(selector).await;
        element
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {selector}: {e}"));
        if !self.value(selector).await.is_empty() {
            // Some frameworks restore a controlled value: erase by keys instead.
            let count = self.value(selector).await.chars().count();
            let keys: String = "\u{e003}".repeat(count) + &"\u{e017}".repeat(count);
            element
                .send_keys(&keys)
                .await
                .unwrap_or_else(|e| panic!("erase {selector}: {e}"));
        }
    }

    /// The entries of `#chat-log` (`log` selects another log element).
    pub async fn chat_entries(&self, log: &str) -> Vec<ChatEntry> {
        self.try_chat_entries(log)
            .await
            .unwrap_or_else(|e| panic!("read {log}: {e}"))
    }

    async fn try_chat_entries(&self, log: &str) -> Result<Vec<ChatEntry>, String> {
        let script = "const log = document.querySelector(arguments[0]); \
             if (!log) return null; \
             return Array.from(log.querySelectorAll('.entry')).map((e) => { \
               const t = e.querySelector('.entry-text'); \
               return [e.getAttribute('data-seq'), e.getAttribute('data-author'), \
                       t ? t.textContent : null, e.getAttribute('data-kind')]; });";
        let value = self.try_eval(script, vec![json!(log)]).await?;
        let rows = match value {
            Value::Array(rows) => rows,
            Value::Null => return Err(format!("no {log} on the page")),
            other => return Err(format!("unexpected {log} contents: {other}")),
        };
        Ok(rows
            .into_iter()
            .map(|row| ChatEntry {
                seq: row[0].as_str().and_then(|s| s.trim().parse().ok()),
                author: row[1].as_str().unwrap_or_default().to_owned(),
                kind: row[3].as_str().unwrap_or_default().to_owned(),
                text: row[2].as_str().map(|s| s.trim().to_owned()),
            })
            .collect())
    }

    /// Waits until `#chat-log` satisfies `check` (which explains itself when it fails).
    pub async fn wait_chat<F>(&self, what: &str, check: F) -> Vec<ChatEntry>
    where
        F: Fn(&[ChatEntry]) -> Result<(), String>,
    {
        let check = &check;
        self.wait_for(what, || {
            let fut = self.try_chat_entries("#chat-log");
            async move {
                let entries = fut.await?;
                match check(&entries) {
                    Ok(()) => Ok(entries),
                    Err(why) => Err(format!("{why}; log: {entries:?}")),
                }
            }
        })
        .await
    }

    /// Waits until `#chat-log` holds a message `text` by `author`.
    pub async fn wait_chat_message(&self, author: &str, text: &str) -> Vec<ChatEntry> {
        self.wait_chat(
            &format!("a {author} message {text:?} in #chat-log"),
            |entries| {
                if entries
                    .iter()
                    .any(|e| e.author == author && e.text.as_deref() == Some(text))
                {
                    Ok(())
                } else {
                    Err("not there".into())
                }
            },
        )
        .await
    }

    /// The `data-kind` of every entry of `#chat-log`, top to bottom.
    pub async fn entry_kinds(&self) -> Vec<String> {
        self.chat_entries("#chat-log")
            .await
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }

    /// Waits until `#chat-log` holds at least `count` entries with `data-kind = kind`.
    pub async fn wait_entry_kind_count(&self, kind: &str, count: usize) -> Vec<ChatEntry> {
        self.wait_chat(
            &format!("{count} entry line(s) of kind {kind:?} in #chat-log"),
            |entries| {
                let have = entries.iter().filter(|e| e.kind == kind).count();
                if have >= count {
                    Ok(())
                } else {
                    Err(format!("{have} of kind {kind:?}"))
                }
            },
        )
        .await
    }

    /// Waits until `#chat-log` holds an entry with `data-kind = kind`.
    pub async fn wait_entry_kind(&self, kind: &str) -> Vec<ChatEntry> {
        self.wait_entry_kind_count(kind, 1).await
    }

    /// How many entries of `#chat-log` have `data-kind = kind` now.
    pub async fn count_entry_kind(&self, kind: &str) -> usize {
        self.entry_kinds()
            .await
            .iter()
            .filter(|k| *k == kind)
            .count()
    }

    /// Sets a checkbox to `checked` as a user would: clicks it (or its `<label for>`
    /// when the input itself is out of reach) until it is in that state.
    pub async fn set_checked(&self, selector: &str, checked: bool) {
        let state = "const e = document.querySelector(arguments[0]); \
                     return e ? e.checked : null;";
        self.wait_for(&format!("{selector} to be checked={checked}"), || async {
            match self.try_eval(state, vec![json!(selector)]).await? {
                Value::Bool(now) if now == checked => return Ok(()),
                Value::Bool(_) => {}
                _ => return Err(format!("no {selector}")),
            }
            let direct = match self.client.find(Locator::Css(selector)).await {
                Ok(element) => element.click().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(direct) = direct {
                let id = self
                    .try_eval(
                        "const e = document.querySelector(arguments[0]); return e ? e.id : '';",
                        vec![json!(selector)],
                    )
                    .await?;
                self.click_label(selector, id.as_str().unwrap_or_default(), &direct)
                    .await?;
            }
            Err(format!("{selector} clicked, not in the wanted state yet"))
        })
        .await
    }

    /// Whether the element `selector` exists and is enabled (not `disabled`).
    pub async fn is_enabled(&self, selector: &str) -> bool {
        let script = "const e = document.querySelector(arguments[0]); return !!e && !e.disabled;";
        self.eval(script, vec![json!(selector)]).await == json!(true)
    }

    /// The values of attribute `name` of every element matching `selector`, in order.
    pub async fn attr_all(&self, selector: &str, name: &str) -> Vec<String> {
        let script = "return Array.from(document.querySelectorAll(arguments[0]))\
                      .map((e) => e.getAttribute(arguments[1]));";
        match self.eval(script, vec![json!(selector), json!(name)]).await {
            Value::Array(values) => values
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            other => panic!("{selector}[{name}]: {other}"),
        }
    }

    /// Counts the frames the video element `selector` decodes and presents during
    /// `window`, in the page: `requestVideoFrameCallback` calls and the growth of
    /// `getVideoPlaybackQuality().totalVideoFrames`, and reads `videoWidth`/`videoHeight`
    /// at the end.
    pub async fn count_frames(&self, selector: &str, window: Duration) -> FrameCount {
        let value = self
            .eval(
                COUNT_FRAMES,
                vec![json!(selector), json!(window.as_millis() as u64)],
            )
            .await;
        let n = |key: &str| value.get(key).and_then(Value::as_u64).unwrap_or(0);
        let b = |key: &str| value.get(key).and_then(Value::as_bool).unwrap_or(false);
        FrameCount {
            present: b("present"),
            has_source: b("hasSource"),
            presented: n("rvfc"),
            decoded: n("decoded"),
            width: n("width"),
            height: n("height"),
        }
    }

    /// Waits until `selector` shows at least `min` new frames within one `window`, with
    /// a size above zero; the count that did it.
    pub async fn wait_frames(&self, selector: &str, min: u64, window: Duration) -> FrameCount {
        self.wait_for(
            &format!("{selector} to show ≥ {min} frames within {window:?}"),
            || async {
                let count = self.count_frames(selector, window).await;
                if count.frames() >= min && count.has_size() {
                    Ok(count)
                } else {
                    Err(format!("{count:?}"))
                }
            },
        )
        .await
    }
}

/// Frames a video element showed during a window of time (see [`Browser::count_frames`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameCount {
    /// Whether the element was on the page.
    pub present: bool,
    /// Whether it had a `srcObject` at the end.
    pub has_source: bool,
    /// `requestVideoFrameCallback` calls (frames presented).
    pub presented: u64,
    /// Growth of `totalVideoFrames` (frames decoded).
    pub decoded: u64,
    pub width: u64,
    pub height: u64,
}

impl FrameCount {
    /// New frames seen by either measure.
    pub fn frames(&self) -> u64 {
        self.presented.max(self.decoded)
    }

    /// `videoWidth` and `videoHeight` above zero (no exact size: the fake capture's size
    /// varies and the received resolution ramps up).
    pub fn has_size(&self) -> bool {
        self.width > 0 && self.height > 0
    }
}

/// `arguments`: the video's selector and the window in ms. Resolves to the counts.
const COUNT_FRAMES: &str = r#"
const [selector, ms] = arguments;
const v = document.querySelector(selector);
if (!v) return { present: false, hasSource: false, rvfc: 0, decoded: 0, width: 0, height: 0 };
const total = () => v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;
const q0 = total();
let rvfc = 0;
let live = true;
let handle = null;
if (typeof v.requestVideoFrameCallback === 'function') {
  const onFrame = () => {
    if (!live) return;
    rvfc += 1;
    handle = v.requestVideoFrameCallback(onFrame);
  };
  handle = v.requestVideoFrameCallback(onFrame);
}
return new Promise((resolve) => setTimeout(() => {
  live = false;
  if (handle !== null && typeof v.cancelVideoFrameCallback === 'function') {
    v.cancelVideoFrameCallback(handle);
  }
  resolve({
    present: true,
    hasSource: !!v.srcObject,
    rvfc,
    decoded: Math.max(0, total() - q0),
    width: v.videoWidth || 0,
    height: v.videoHeight || 0,
  });
}, ms));
"#;

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

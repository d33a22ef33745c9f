//! The technician console (`/console`), as a technician uses it: sign in, create a
//! session and read its PIN, watch the list, open a session, pick up, chat, end.

use connectit_protocol::Author;
use std::time::Duration;

use crate::broker::TechnicianAccount;
use std::path::PathBuf;

use crate::browser::{Browser, ChatEntry, FrameCount};
use crate::transfers::{InfoRow, TestFile, Transfer};
use serde_json::{json, Value};

/// Every permission the request form offers, as serde writes it (`#perm-<name>`).
pub const PERMISSIONS: [&str; 6] = [
    "view_screen",
    "camera",
    "send_files",
    "receive_files",
    "system_info",
    "remote_control",
];

/// A session just created from the console.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// `data-session-id` of its row in `#session-list`.
    pub id: String,
    /// The six digits (`#new-pin`'s `data-pin`).
    pub pin: String,
    /// The text of `#new-link`.
    pub link: String,
}

/// The console page in one browser.
pub struct Console<'a> {
    pub browser: &'a Browser,
    /// `http://127.0.0.1:PORT` of the broker.
    base: String,
}

impl<'a> Console<'a> {
    /// The console of the broker at `base` (no trailing slash), in `browser`.
    pub fn new(browser: &'a Browser, base: &str) -> Console<'a> {
        Console {
            browser,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Opens `/console`, signs in, and waits until the page says who is signed in.
    pub async fn sign_in(&self, account: &TechnicianAccount) {
        let b = self.browser;
        b.goto(&format!("{}/console", self.base)).await;
        b.wait_visible("#signin-form").await;
        b.type_into("#signin-username", &account.username).await;
        b.type_into("#signin-password", &account.password).await;
        b.click("#signin-submit").await;
        b.wait_text_contains("#signed-in-as", &account.display_name)
            .await;
        b.wait_visible("#create-session").await;
    }

    /// The `data-session-id` of every row of `#session-list`, top to bottom.
    pub async fn session_ids(&self) -> Vec<String> {
        let script = "return Array.from(document.querySelectorAll('#session-list .session-row'))\
                      .map((r) => r.getAttribute('data-session-id'));";
        match self.browser.eval(script, vec![]).await {
            Value::Array(ids) => ids
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            other => panic!("unexpected #session-list contents: {other}"),
        }
    }

    /// Presses "create session" and waits for the new PIN and the new row.
    pub async fn create_session(&self) -> NewSession {
        let b = self.browser;
        let before = self.session_ids().await;
        let old_pin = if b.is_visible("#new-pin").await {
            b.attr("#new-pin", "data-pin").await
        } else {
            None
        };
        b.click("#create-session").await;
        b.wait_visible("#new-session").await;
        let pin = b
            .wait_for("a new PIN in #new-pin[data-pin]", || async {
                let pin = b.attr("#new-pin", "data-pin").await;
                match pin {
                    Some(pin)
                        if pin.len() == 6
                            && pin.bytes().all(|c| c.is_ascii_digit())
                            && Some(&pin) != old_pin.as_ref() =>
                    {
                        Ok(pin)
                    }
                    other => Err(format!("data-pin = {other:?}")),
                }
            })
            .await;
        let shown: String = b
            .text("#new-pin")
            .await
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        assert_eq!(shown, pin, "#new-pin shows other digits than its data-pin");
        let id = b
            .wait_for("the new session's row in #session-list", || async {
                let now = self.session_ids().await;
                match now.iter().find(|id| !before.contains(id)) {
                    Some(id) => Ok(id.clone()),
                    None => Err(format!("rows: {now:?}")),
                }
            })
            .await;
        let link = b.text("#new-link").await.trim().to_owned();
        NewSession { id, pin, link }
    }

    /// The selector of a session's row.
    /// The sessions in the teams' queue panel (`#queue`), in its order (oldest first).
    pub async fn queue_ids(&self) -> Vec<String> {
        self.browser
            .attr_all("#queue .queue-row", "data-session-id")
            .await
    }

    /// Waits until the queue panel lists exactly `count` customers; their ids.
    pub async fn wait_queue_len(&self, count: usize) -> Vec<String> {
        self.browser
            .wait_for(&format!("{count} in the queue panel"), || async {
                let ids = self.queue_ids().await;
                if ids.len() == count {
                    Ok(ids)
                } else {
                    Err(format!("{ids:?}"))
                }
            })
            .await
    }

    /// Picks up the customer of queue row `id` (once they accepted the terms) and waits
    /// for the session's view.
    pub async fn pick_up_queued(&self, id: &str) {
        let b = self.browser;
        let button = format!("#queue .queue-row[data-session-id=\"{id}\"] .pick-up-queued");
        b.wait_for("the pick-up button enabled", || async {
            match b.is_enabled(&button).await {
                true => Ok(()),
                false => Err("disabled or absent".to_string()),
            }
        })
        .await;
        b.click(&button).await;
        b.wait_attr("#session-view", "data-phase", "active").await;
    }

    pub fn row(id: &str) -> String {
        format!("#session-list .session-row[data-session-id=\"{id}\"]")
    }

    /// Waits until the session's row in the list shows `phase`.
    pub async fn wait_row_phase(&self, id: &str, phase: &str) {
        self.browser
            .wait_attr(&Self::row(id), "data-phase", phase)
            .await;
    }

    /// Like [`Console::wait_row_phase`] when the list is on screen; nothing otherwise
    /// (the open session view may hide the list).
    pub async fn wait_row_phase_if_listed(&self, id: &str, phase: &str) {
        if self.browser.is_visible(&Self::row(id)).await {
            self.wait_row_phase(id, phase).await;
        }
    }

    /// Opens a session from the list and waits for its view.
    pub async fn open_session(&self, id: &str) {
        let b = self.browser;
        if !b.is_visible(&Self::row(id)).await && b.is_visible("#back-to-list").await {
            b.click("#back-to-list").await;
        }
        b.click(&format!("{} .open-session", Self::row(id))).await;
        b.wait_visible("#session-view").await;
    }

    /// In the open session view: waits for the waiting phase, picks up, waits for active.
    pub async fn pick_up(&self) {
        let b = self.browser;
        b.wait_attr("#session-view", "data-phase", "waiting").await;
        b.click("#pick-up").await;
        b.wait_attr("#session-view", "data-phase", "active").await;
    }

    /// Sends a chat message and waits until it is in the technician's own log.
    pub async fn send_chat(&self, text: &str) -> Vec<ChatEntry> {
        let b = self.browser;
        b.type_into("#chat-input", text).await;
        b.click("#chat-send").await;
        b.wait_chat_message(Author::Technician, text).await
    }

    /// Ends the open session through `#end-session` → `#end-yes`; waits for `ended`.
    pub async fn end_session(&self) {
        let b = self.browser;
        b.click("#end-session").await;
        b.wait_visible("#end-confirm").await;
        b.click("#end-yes").await;
        b.wait_attr("#session-view", "data-phase", "ended").await;
    }

    /// Goes back from a session view to the list.
    pub async fn back_to_list(&self) {
        self.browser.click("#back-to-list").await;
        self.browser.wait_visible("#session-list").await;
    }

    /// The phase the open session view shows.
    pub async fn view_phase(&self) -> Option<String> {
        self.browser.attr("#session-view", "data-phase").await
    }

    /// Whether `#session-list` shows a row for `id`.
    pub async fn has_row(&self, id: &str) -> bool {
        let script = "return !!document.querySelector(arguments[0]);";
        self.browser.eval(script, vec![json!(Self::row(id))]).await == json!(true)
    }

    /// Requests `permissions` (names as in [`PERMISSIONS`]) with `reason` (none when
    /// empty): ticks exactly those `#perm-*` boxes, types the reason, presses
    /// `#request-submit`, and waits for `#pending-request`; its `data-request`.
    pub async fn request_permissions(&self, permissions: &[&str], reason: &str) -> u32 {
        let b = self.browser;
        for name in permissions {
            assert!(
                PERMISSIONS.contains(name),
                "{name:?} is not a permission the form offers"
            );
        }
        let before = if b.is_visible("#pending-request").await {
            b.attr("#pending-request", "data-request").await
        } else {
            None
        };
        b.wait_visible("#request-form").await;
        for name in PERMISSIONS {
            b.set_checked(&format!("#perm-{name}"), permissions.contains(&name))
                .await;
        }
        // The form keeps the last reason: this request's replaces it.
        b.clear_field("#request-reason").await;
        if !reason.is_empty() {
            b.type_into("#request-reason", reason).await;
        }
        b.click("#request-submit").await;
        b.wait_visible("#pending-request").await;
        b.wait_for(
            "#pending-request[data-request] of the new request",
            || async {
                let id = b.attr("#pending-request", "data-request").await;
                match id.as_deref().map(str::parse::<u32>) {
                    Some(Ok(id)) if id.to_string() != before.clone().unwrap_or_default() => Ok(id),
                    _ => Err(format!("data-request = {id:?} (before: {before:?})")),
                }
            },
        )
        .await
    }

    /// Waits until `#screen-view` has `data-state = state` (off, live or paused).
    pub async fn wait_screen_state(&self, state: &str) {
        self.browser
            .wait_attr("#screen-view", "data-state", state)
            .await;
    }

    /// The frames `#screen-video` showed during `window`.
    pub async fn screen_frames(&self, window: Duration) -> FrameCount {
        self.browser.count_frames("#screen-video", window).await
    }

    /// Asks `customer` for the screen (giving `reason`), has them grant everything, and
    /// waits until their page says it is shared live and this console's video shows at
    /// least `min_frames` frames within a window.
    pub async fn see_screen_of(
        &self,
        customer: &crate::customer::Customer<'_>,
        reason: &str,
        min_frames: u64,
    ) -> FrameCount {
        let request = self.request_permissions(&["view_screen"], reason).await;
        customer.wait_prompt_for(request).await;
        customer.grant_all().await;
        customer.wait_sharing("live").await;
        self.wait_screen_state("live").await;
        self.wait_screen_frames(min_frames).await
    }

    /// Waits until `#screen-video` shows a live picture: at least `min` frames within
    /// two seconds, with a size above zero.
    pub async fn wait_screen_frames(&self, min: u64) -> FrameCount {
        self.browser
            .wait_frames("#screen-video", min, Duration::from_secs(2))
            .await
    }

    /// Waits until the screen view is off: `#screen-view[data-state=off]`, or no
    /// `#screen-view` at all (an ended session's view may drop it).
    pub async fn wait_screen_off(&self) {
        let b = self.browser;
        b.wait_for("#screen-view to be off (or gone)", || async {
            let present = b
                .eval("return !!document.querySelector('#screen-view');", vec![])
                .await;
            if present != json!(true) {
                return Ok(());
            }
            match b.attr("#screen-view", "data-state").await.as_deref() {
                Some("off") => Ok(()),
                other => Err(format!("#screen-view data-state = {other:?}")),
            }
        })
        .await
    }

    /// The permissions `#customer-granted` lists now (`li[data-permission]`), in order.
    pub async fn granted(&self) -> Vec<String> {
        self.browser
            .attr_all("#customer-granted li[data-permission]", "data-permission")
            .await
    }

    /// Waits until `#customer-granted` lists exactly `permissions` (in any order).
    pub async fn wait_granted(&self, permissions: &[&str]) {
        wait_list(self.browser, "#customer-granted", permissions).await;
    }
}

impl Console<'_> {
    /// Picks `files` in `input#file-picker`: the technician sends them to the customer.
    pub async fn send_files(&self, files: &[&TestFile]) {
        self.browser.wait_visible("#files").await;
        let paths: Vec<&std::path::Path> = files.iter().map(|f| f.path.as_path()).collect();
        self.browser.pick_files("input#file-picker", &paths).await;
    }

    /// Saves the delivered incoming file `file` with its `a.save-file`; the downloaded
    /// file.
    pub async fn save_file(&self, file: u32) -> PathBuf {
        self.browser
            .click_and_download(&format!("{} a.save-file", Transfer::selector(file)))
            .await
    }

    /// The items `#system-info` shows (once it shows some).
    pub async fn system_info(&self) -> Vec<InfoRow> {
        self.browser.info_rows("#system-info").await
    }

    /// Downloads the technician's copy of the record with `#download-record-<format>`
    /// (`json` or `html`); the downloaded file.
    pub async fn download_record(&self, format: &str) -> PathBuf {
        self.browser
            .click_and_download(&format!("#download-record-{format}"))
            .await
    }
}

/// Waits until the `li[data-permission]` of `container` are exactly `want` (any order).
pub(crate) async fn wait_list(browser: &Browser, container: &str, want: &[&str]) -> Vec<String> {
    let mut want_sorted: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
    want_sorted.sort();
    let items = format!("{container} li[data-permission]");
    browser
        .wait_for(&format!("{container} to list {want:?}"), || async {
            let mut now = browser.attr_all(&items, "data-permission").await;
            now.sort();
            if now == want_sorted {
                Ok(now)
            } else {
                Err(format!("{container} lists {now:?}"))
            }
        })
        .await
}

//! The customer page (`/`), as a customer uses it: enter the PIN (or follow the link),
//! accept or decline the terms, wait, chat, end with X, answer the survey.

use connectit_protocol::Author;
use serde_json::Value;

use std::path::PathBuf;

use crate::browser::{Browser, ChatEntry};
use crate::transfers::{InfoRow, TestFile, Transfer, TRANSFER_TIMEOUT};

/// The app's PIN field (the page's own, shown while the app loads, is outside `#app`).
pub const APP_PIN_INPUT: &str = "#app #pin-input";

/// The text `#waiting` must show.
pub const WAITING_TEXT: &str = "A support representative will be with you shortly";

/// The text `#sharing-indicator` must show.
pub const SHARING_TEXT: &str = "Your screen is being shared";

/// The survey answers a test gives.
#[derive(Debug, Clone)]
pub struct Survey {
    /// 1 to 5.
    pub rating: u8,
    /// "Was your problem resolved?" (`None`: left unanswered).
    pub resolved: Option<bool>,
    pub comment: String,
}

/// The customer page in one browser.
pub struct Customer<'a> {
    pub browser: &'a Browser,
    /// Where the page is served from: the broker, or a proxy in front of it.
    base: String,
}

impl<'a> Customer<'a> {
    /// The customer page served at `base` (no trailing slash), in `browser`.
    pub fn new(browser: &'a Browser, base: &str) -> Customer<'a> {
        Customer {
            browser,
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    /// Opens `/` and waits for the app's PIN field (the app has started and taken over
    /// the page's own form, `#boot-pin`).
    pub async fn open(&self) {
        self.browser.goto(&format!("{}/", self.base)).await;
        self.browser.wait_visible(APP_PIN_INPUT).await;
    }

    /// Opens the shared link `/#pin=NNNNNN` and waits until the field holds the PIN.
    pub async fn open_link(&self, pin: &str) {
        let b = self.browser;
        b.goto(&format!("{}/#pin={pin}", self.base)).await;
        b.wait_for(
            &format!("#pin-input to be filled with {pin} from the link"),
            || async {
                if !b.is_visible(APP_PIN_INPUT).await {
                    return Err("the app's #pin-input not visible".into());
                }
                let value: String = b.value(APP_PIN_INPUT).await;
                let digits: String = value.chars().filter(char::is_ascii_digit).collect();
                if digits == pin {
                    Ok(())
                } else {
                    Err(format!("#pin-input holds {value:?}"))
                }
            },
        )
        .await;
    }

    /// Types `typed` into an emptied PIN field.
    pub async fn type_pin(&self, typed: &str) {
        // Select what is there (Ctrl+A) and type over it: one input event with the new
        // value, which a controlled field cannot undo the way it can undo a clear.
        let replace = if self.browser.value("#pin-input").await.is_empty() {
            typed.to_string()
        } else {
            format!("\u{e009}a\u{e000}{typed}")
        };
        self.browser.type_into("#pin-input", &replace).await;
        let expected: String = typed.chars().filter(char::is_ascii_digit).collect();
        self.browser
            .wait_for(
                &format!("#pin-input to hold the digits {expected}"),
                || async {
                    let now: String = self
                        .browser
                        .value("#pin-input")
                        .await
                        .chars()
                        .filter(char::is_ascii_digit)
                        .collect();
                    if now == expected {
                        Ok(())
                    } else {
                        Err(format!("it holds {now:?}"))
                    }
                },
            )
            .await;
    }

    /// Presses Connect.
    pub async fn connect(&self) {
        self.browser.click("#connect-button").await;
    }

    /// Opens `/`, types the PIN as "123 456", connects, and waits for the terms.
    pub async fn join(&self, pin: &str) {
        self.open().await;
        self.type_pin(&crate::spaced_pin(pin)).await;
        self.connect().await;
        self.wait_terms().await;
    }

    /// Waits for the terms step.
    /// Opens a team's link (`/t/{slug}`), gives a name and the problem, and joins the
    /// queue; waits for the terms.
    pub async fn join_team(&self, slug: &str, name: &str, problem: &str) {
        let b = self.browser;
        b.goto(&format!("{}/t/{slug}", self.base)).await;
        b.wait_visible("#team-form").await;
        b.type_into("#team-name", name).await;
        b.type_into("#team-problem", problem).await;
        b.click("#join-queue").await;
        self.wait_terms().await;
    }

    /// Waits until the waiting page says this place in the team's queue.
    pub async fn wait_queue_place(&self, position: u32, waiting: u32) {
        let want = (position.to_string(), waiting.to_string());
        self.browser
            .wait_for(
                &format!("place {position} of {waiting} in the queue"),
                || async {
                    let p = self.browser.attr("#queue-place", "data-position").await;
                    let w = self.browser.attr("#queue-place", "data-waiting").await;
                    if p.as_deref() == Some(want.0.as_str())
                        && w.as_deref() == Some(want.1.as_str())
                    {
                        Ok(())
                    } else {
                        Err(format!("position {p:?} of {w:?}"))
                    }
                },
            )
            .await
    }

    pub async fn wait_terms(&self) {
        self.browser.wait_visible("#terms").await;
        self.browser.wait_visible("#terms-text").await;
    }

    /// Waits for `#pin-error` with `data-error = code`.
    pub async fn wait_pin_error(&self, code: &str) {
        self.browser.wait_visible("#pin-error").await;
        self.browser
            .wait_attr("#pin-error", "data-error", code)
            .await;
    }

    /// Accepts the terms and waits for the waiting room.
    pub async fn accept_terms(&self) {
        self.browser.click("#accept-terms").await;
        self.wait_waiting().await;
    }

    /// Waits for the waiting room text.
    pub async fn wait_waiting(&self) {
        self.browser
            .wait_text_contains("#waiting", WAITING_TEXT)
            .await;
    }

    /// Declines the terms.
    pub async fn decline_terms(&self) {
        self.browser.click("#decline-terms").await;
    }

    /// Waits until the page names the technician who picked up; returns the shown text.
    pub async fn wait_technician(&self, display_name: &str) -> String {
        self.browser
            .wait_text_contains("#technician-name", display_name)
            .await
    }

    /// Sends a chat message with the Send button; waits until it is in the log.
    pub async fn send_chat(&self, text: &str) -> Vec<ChatEntry> {
        self.browser.type_into("#chat-input", text).await;
        self.browser.click("#chat-send").await;
        self.browser.wait_chat_message(Author::Customer, text).await
    }

    /// Sends a chat message by pressing Enter in the input; waits until it is in the log.
    pub async fn send_chat_with_enter(&self, text: &str) -> Vec<ChatEntry> {
        self.browser
            .type_into("#chat-input", &format!("{text}\u{e007}"))
            .await;
        self.browser.wait_chat_message(Author::Customer, text).await
    }

    /// X, then Yes: ends the session and waits for `#session-ended`.
    pub async fn end(&self) {
        let b = self.browser;
        b.click("#end-button").await;
        b.wait_text_contains("#end-confirm", "End the session?")
            .await;
        b.click("#end-yes").await;
        b.wait_visible("#session-ended").await;
    }

    /// Answers the survey and waits for `#thank-you`.
    pub async fn submit_survey(&self, survey: &Survey) {
        let b = self.browser;
        b.wait_visible("#survey").await;
        b.choose(&format!("#rating-{}", survey.rating)).await;
        match survey.resolved {
            Some(true) => b.choose("#resolved-yes").await,
            Some(false) => b.choose("#resolved-no").await,
            None => {}
        }
        if !survey.comment.is_empty() {
            b.type_into("#survey-comment", &survey.comment).await;
        }
        b.click("#survey-submit").await;
        b.wait_visible("#thank-you").await;
    }

    /// Forgets the session this tab holds (its sessionStorage), as a new tab would.
    pub async fn forget_session(&self) {
        self.browser
            .eval("window.sessionStorage.clear(); return true;", vec![])
            .await;
    }

    /// Whether `#connection-status` is visible now.
    pub async fn is_reconnecting(&self) -> bool {
        self.browser.is_visible("#connection-status").await
    }

    /// The organisation name the page shows.
    pub async fn organisation(&self) -> String {
        self.browser.text("#org-name").await
    }

    /// Whether the page shows an element (no waiting).
    pub async fn shows(&self, selector: &str) -> bool {
        self.browser.is_visible(selector).await
    }

    /// `data-seq` of every entry, for order checks.
    pub async fn seqs(&self) -> Vec<Option<u64>> {
        self.browser
            .chat_entries("#chat-log")
            .await
            .into_iter()
            .map(|e| e.seq)
            .collect()
    }

    // --- Permission prompts ---------------------------------------------------------

    /// Waits for `#permission-prompt`; its `data-request`.
    pub async fn wait_prompt(&self) -> u32 {
        let b = self.browser;
        b.wait_visible("#permission-prompt").await;
        b.wait_for("#permission-prompt[data-request]", || async {
            let id = b.attr("#permission-prompt", "data-request").await;
            id.as_deref()
                .and_then(|id| id.parse::<u32>().ok())
                .ok_or_else(|| format!("data-request = {id:?}"))
        })
        .await
    }

    /// Waits for the prompt of request `request`.
    pub async fn wait_prompt_for(&self, request: u32) {
        self.browser.wait_visible("#permission-prompt").await;
        self.browser
            .wait_attr("#permission-prompt", "data-request", &request.to_string())
            .await;
    }

    /// The permissions the prompt offers a checkbox for (`#prompt-perm-<name>`).
    pub async fn prompt_permissions(&self) -> Vec<String> {
        self.browser
            .attr_all("#permission-prompt [id^=\"prompt-perm-\"]", "id")
            .await
            .into_iter()
            .map(|id| id.trim_start_matches("prompt-perm-").to_owned())
            .collect()
    }

    /// `#prompt-remaining` as a number of seconds (its first number).
    pub async fn prompt_remaining(&self) -> u64 {
        let text = self.browser.text("#prompt-remaining").await;
        crate::countdown_secs(&text)
            .unwrap_or_else(|| panic!("#prompt-remaining shows no number: {text:?}"))
    }

    /// Presses `#grant-all` and waits until the prompt is gone.
    pub async fn grant_all(&self) {
        self.browser.click("#grant-all").await;
        self.browser.wait_hidden("#permission-prompt").await;
    }

    /// Leaves exactly `permissions` ticked in the prompt, presses `#grant-selected`, and
    /// waits until the prompt is gone.
    pub async fn grant_only(&self, permissions: &[&str]) {
        let offered = self.prompt_permissions().await;
        for name in permissions {
            assert!(
                offered.iter().any(|o| o == name),
                "the prompt offers no #prompt-perm-{name} (it offers {offered:?})"
            );
        }
        for name in &offered {
            self.browser
                .set_checked(
                    &format!("#prompt-perm-{name}"),
                    permissions.contains(&name.as_str()),
                )
                .await;
        }
        self.browser.click("#grant-selected").await;
        self.browser.wait_hidden("#permission-prompt").await;
    }

    /// Presses `#deny` and waits until the prompt is gone.
    pub async fn deny(&self) {
        self.browser.click("#deny").await;
        self.browser.wait_hidden("#permission-prompt").await;
    }

    /// Presses `#more-time` (the prompt stays).
    pub async fn more_time(&self) {
        self.browser.click("#more-time").await;
    }

    /// Whether `#more-time` can still be pressed (visible and enabled).
    pub async fn can_ask_more_time(&self) -> bool {
        self.browser.is_visible("#more-time").await && self.browser.is_enabled("#more-time").await
    }

    /// The permissions `#granted` lists now (`li[data-permission]`), in order.
    pub async fn granted(&self) -> Vec<String> {
        self.browser
            .attr_all("#granted li[data-permission]", "data-permission")
            .await
    }

    /// Waits until `#granted` lists exactly `permissions` (in any order).
    pub async fn wait_granted(&self, permissions: &[&str]) {
        crate::console::wait_list(self.browser, "#granted", permissions).await;
    }

    /// Revokes one grant with its `button.revoke`; waits until `#granted` drops it.
    pub async fn revoke(&self, permission: &str) {
        let item = format!("#granted li[data-permission=\"{permission}\"]");
        self.browser.click(&format!("{item} button.revoke")).await;
        self.browser
            .wait_for(&format!("{item} to go away"), || async {
                let left = self.granted().await;
                if left.iter().any(|p| p == permission) {
                    Err(format!("#granted lists {left:?}"))
                } else {
                    Ok(())
                }
            })
            .await;
    }

    /// Presses `#revoke-all`; waits until `#granted` lists nothing.
    pub async fn revoke_all(&self) {
        self.browser.click("#revoke-all").await;
        self.wait_granted(&[]).await;
    }

    // --- Screen sharing ---------------------------------------------------------------

    /// Waits for `#sharing-indicator` with `data-state = state` (live or paused).
    pub async fn wait_sharing(&self, state: &str) {
        self.browser.wait_visible("#sharing-indicator").await;
        self.browser
            .wait_attr("#sharing-indicator", "data-state", state)
            .await;
    }

    /// Waits until `#sharing-indicator` is gone.
    pub async fn wait_not_sharing(&self) {
        self.browser.wait_hidden("#sharing-indicator").await;
    }

    /// `#pause-sharing`, then waits for the paused indicator.
    pub async fn pause_sharing(&self) {
        self.browser.click("#pause-sharing").await;
        self.wait_sharing("paused").await;
    }

    /// `#resume-sharing`, then waits for the live indicator.
    pub async fn resume_sharing(&self) {
        self.browser.click("#resume-sharing").await;
        self.wait_sharing("live").await;
    }

    /// `#stop-sharing`, then waits until the indicator is gone.
    pub async fn stop_sharing(&self) {
        self.browser.click("#stop-sharing").await;
        self.wait_not_sharing().await;
    }

    /// Keeps the tracks `#self-preview` shows (the captured stream) in
    /// `window.__capturedTracks`, so a test can check them after the page let them go;
    /// waits until there is at least one live track. Returns how many there are.
    pub async fn capture_tracks(&self) -> usize {
        let script = "const v = document.querySelector('#self-preview'); \
            const s = v && v.srcObject; \
            if (!s || typeof s.getTracks !== 'function') return null; \
            const tracks = s.getTracks(); \
            if (!tracks.some((t) => t.readyState === 'live')) return null; \
            window.__capturedTracks = tracks; \
            return tracks.length;";
        let b = self.browser;
        b.wait_for(
            "#self-preview to show the captured stream with a live track",
            || async {
                match b.eval(script, vec![]).await {
                    Value::Number(n) => n.as_u64().map(|n| n as usize).ok_or_else(|| n.to_string()),
                    other => Err(format!("#self-preview srcObject: {other}")),
                }
            },
        )
        .await
    }

    /// The `readyState` of every track kept by [`Customer::capture_tracks`].
    pub async fn captured_track_states(&self) -> Vec<String> {
        let script = "return (window.__capturedTracks || []).map((t) => t.readyState);";
        match self.browser.eval(script, vec![]).await {
            Value::Array(states) => states
                .into_iter()
                .map(|s| s.as_str().unwrap_or_default().to_owned())
                .collect(),
            other => panic!("window.__capturedTracks: {other}"),
        }
    }

    /// Waits until every track kept by [`Customer::capture_tracks`] is `ended`.
    pub async fn wait_tracks_ended(&self) {
        self.browser
            .wait_for("every captured track to be readyState=ended", || async {
                let states = self.captured_track_states().await;
                if !states.is_empty() && states.iter().all(|s| s == "ended") {
                    Ok(())
                } else {
                    Err(format!("readyState of the tracks: {states:?}"))
                }
            })
            .await
    }

    /// Stops sharing the way the browser's own "Stop sharing" bar does: every captured
    /// track (kept by [`Customer::capture_tracks`], which must have run) is stopped and
    /// gets an `ended` event. `track.stop()` alone fires no `ended` event (the spec
    /// fires it only when the source ends, not on stop()), so the test dispatches it, as
    /// the browser's own Stop button would.
    pub async fn stop_from_browser_bar(&self) {
        let script = "const tracks = window.__capturedTracks || []; \
            tracks.forEach((t) => { t.stop(); t.dispatchEvent(new Event('ended')); }); \
            return tracks.length;";
        let stopped = self.browser.eval(script, vec![]).await;
        assert!(
            stopped.as_u64().unwrap_or(0) > 0,
            "no captured tracks to stop: call capture_tracks() first ({stopped})"
        );
    }
    // --- Files, system information, the record ---------------------------------------

    /// Picks `files` in `input#file-picker`: the customer sends them to the technician.
    pub async fn send_files(&self, files: &[&TestFile]) {
        let paths: Vec<&std::path::Path> = files.iter().map(|f| f.path.as_path()).collect();
        self.send_file_paths(&paths).await;
    }

    /// Picks the files at `paths` (absolute) in `input#file-picker`.
    pub async fn send_file_paths(&self, paths: &[&std::path::Path]) {
        self.browser.wait_visible("#files").await;
        self.browser.wait_visible("#pick-files").await;
        self.browser.pick_files("input#file-picker", paths).await;
    }

    /// Waits for the technician's offer of `name`
    /// (`li.transfer[data-status=offered][data-direction=in]` with accept and refuse).
    pub async fn wait_offer(&self, name: &str) -> Transfer {
        self.browser
            .wait_transfer(
                &format!("an incoming offer of {name:?} with accept and refuse"),
                TRANSFER_TIMEOUT,
                |t| {
                    t.name.contains(name)
                        && t.status == "offered"
                        && t.direction == "in"
                        && t.can_accept
                        && t.can_refuse
                },
            )
            .await
    }

    /// Presses `button.accept-file` of transfer `file`.
    pub async fn accept_file(&self, file: u32) {
        self.browser
            .click(&format!("{} button.accept-file", Transfer::selector(file)))
            .await;
    }

    /// Presses `button.refuse-file` of transfer `file`.
    pub async fn refuse_file(&self, file: u32) {
        self.browser
            .click(&format!("{} button.refuse-file", Transfer::selector(file)))
            .await;
    }

    /// The items `#system-info-preview` shows (once it shows some).
    pub async fn system_info_preview(&self) -> Vec<InfoRow> {
        self.browser.info_rows("#system-info-preview").await
    }

    /// Presses `#send-system-info`; waits until the preview is gone.
    pub async fn send_system_info(&self) {
        self.browser.click("#send-system-info").await;
        self.browser.wait_hidden("#system-info-preview").await;
    }

    /// Presses `#cancel-system-info`; waits until the preview is gone.
    pub async fn cancel_system_info(&self) {
        self.browser.click("#cancel-system-info").await;
        self.browser.wait_hidden("#system-info-preview").await;
    }

    /// Downloads the record with `#download-record-<format>` (`json` or `html`); the
    /// downloaded file.
    pub async fn download_record(&self, format: &str) -> PathBuf {
        self.browser
            .click_and_download(&format!("#download-record-{format}"))
            .await
    }
}

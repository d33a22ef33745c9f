//! The customer page (`/`), as a customer uses it: enter the PIN (or follow the link),
//! accept or decline the terms, wait, chat, end with X, answer the survey.

use serde_json::json;

use crate::browser::{Browser, ChatEntry};

/// The text `#waiting` must show.
pub const WAITING_TEXT: &str = "A support representative will be with you shortly";

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

    /// Opens `/` and waits for the PIN field (the app has started).
    pub async fn open(&self) {
        self.browser.goto(&format!("{}/", self.base)).await;
        self.browser.wait_visible("#pin-input").await;
    }

    /// Opens the shared link `/#pin=NNNNNN` and waits until the field holds the PIN.
    pub async fn open_link(&self, pin: &str) {
        let b = self.browser;
        b.goto(&format!("{}/#pin={pin}", self.base)).await;
        b.wait_for(
            &format!("#pin-input to be filled with {pin} from the link"),
            || async {
                if !b.is_visible("#pin-input").await {
                    return Err("#pin-input not visible".into());
                }
                let value: String = b.value("#pin-input").await;
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
        self.browser.clear_field("#pin-input").await;
        self.browser.type_into("#pin-input", typed).await;
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
        self.browser.wait_chat_message("customer", text).await
    }

    /// Sends a chat message by pressing Enter in the input; waits until it is in the log.
    pub async fn send_chat_with_enter(&self, text: &str) -> Vec<ChatEntry> {
        self.browser
            .type_into("#chat-input", &format!("{text}\u{e007}"))
            .await;
        self.browser.wait_chat_message("customer", text).await
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

    /// Sets a marker on `window` (a test can later check the page was not reloaded).
    pub async fn mark_page(&self, name: &str) {
        let script = "window[arguments[0]] = true; return true;";
        self.browser.eval(script, vec![json!(name)]).await;
    }
}

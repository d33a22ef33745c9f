//! Small, fallible helpers around the browser: the document, the address bar, session
//! storage, focus, the page title and the clipboard. Nothing here panics; a missing
//! browser feature is an `Option::None` or a [`BrowserError`].

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{Document, HtmlElement, Storage, Window};

/// A browser call that failed, with the JavaScript error's message when it had one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrowserError {
    /// There is no `window` or `document` (not a browser page).
    NoWindow,
    /// The feature is missing (no clipboard, storage turned off).
    Unsupported,
    /// The call threw or its promise was rejected.
    Js(String),
}

impl From<JsValue> for BrowserError {
    fn from(value: JsValue) -> Self {
        let message = value
            .dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .or_else(|| value.as_string())
            .unwrap_or_default();
        BrowserError::Js(message)
    }
}

pub fn window() -> Option<Window> {
    web_sys::window()
}

pub fn document() -> Option<Document> {
    window().and_then(|w| w.document())
}

/// `location.pathname`, or `/`.
pub fn pathname() -> String {
    window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".to_owned())
}

/// `location.hash` (with its `#`), or empty.
pub fn hash() -> String {
    window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// Bytes from base64url (no padding), through the browser's own decoder; `None` when
/// the text is not base64url.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    if !text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return None;
    }
    let mut standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !standard.len().is_multiple_of(4) {
        standard.push('=');
    }
    let binary = window()?.atob(&standard).ok()?;
    // atob answers one character per byte.
    binary
        .chars()
        .map(|c| u8::try_from(u32::from(c)).ok())
        .collect()
}

/// Removes the fragment from the address bar without reloading or adding history.
pub fn clear_hash() -> Result<(), BrowserError> {
    let window = window().ok_or(BrowserError::NoWindow)?;
    let location = window.location();
    let url = format!("{}{}", location.pathname()?, location.search()?);
    window
        .history()?
        .replace_state_with_url(&JsValue::NULL, "", Some(&url))?;
    Ok(())
}

/// The URL of a WebSocket endpoint on this host (`ws:` or `wss:` after the page's own
/// scheme).
pub fn ws_url(path: &str) -> Option<String> {
    let location = window()?.location();
    let scheme = if location.protocol().ok()? == "https:" {
        "wss:"
    } else {
        "ws:"
    };
    Some(format!("{scheme}//{}{path}", location.host().ok()?))
}

fn session_storage() -> Option<Storage> {
    window()?.session_storage().ok().flatten()
}

/// Reads a key from session storage.
pub fn storage_get(key: &str) -> Option<String> {
    session_storage()?.get_item(key).ok().flatten()
}

/// Writes a key to session storage (private modes may refuse: then a reload simply
/// starts over).
pub fn storage_set(key: &str, value: &str) -> Result<(), BrowserError> {
    session_storage()
        .ok_or(BrowserError::Unsupported)?
        .set_item(key, value)?;
    Ok(())
}

pub fn storage_remove(key: &str) {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(key);
    }
}

fn local_storage() -> Option<Storage> {
    window()?.local_storage().ok().flatten()
}

/// Reads a key from local storage (kept across visits: preferences).
pub fn local_get(key: &str) -> Option<String> {
    local_storage()?.get_item(key).ok().flatten()
}

/// Writes a key to local storage (private modes may refuse: then the preference lasts
/// for this page only).
pub fn local_set(key: &str, value: &str) -> Result<(), BrowserError> {
    local_storage()
        .ok_or(BrowserError::Unsupported)?
        .set_item(key, value)?;
    Ok(())
}

/// Whether the focus is nowhere in particular: on the body, or on nothing (its element
/// was just removed).
pub fn focus_lost() -> bool {
    document()
        .map(|d| match d.active_element() {
            None => true,
            Some(e) => e.tag_name() == "BODY" || !e.is_connected(),
        })
        .unwrap_or(false)
}

/// Sets `document.title`.
pub fn set_title(title: &str) {
    if let Some(document) = document() {
        document.set_title(title);
    }
}

/// Whether the main pointer is coarse (a finger on a phone or tablet): no physical
/// keyboard to speak of.
pub fn coarse_pointer() -> bool {
    window()
        .and_then(|w| w.match_media("(pointer: coarse)").ok().flatten())
        .is_some_and(|m| m.matches())
}

/// Puts `path` in the address bar as a new history entry (no page load).
pub fn push_path(path: &str) {
    if let Some(history) = window().and_then(|w| w.history().ok()) {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
    }
}

/// Puts `path` in the address bar in place of the current entry (no page load).
pub fn replace_path(path: &str) {
    if let Some(history) = window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(path));
    }
}

/// Focuses the element with this id, if it is there.
pub fn focus_id(id: &str) {
    if let Some(element) = document()
        .and_then(|d| d.get_element_by_id(id))
        .and_then(|e| e.dyn_into::<HtmlElement>().ok())
    {
        let _ = element.focus();
    }
}

/// Copies text with the asynchronous clipboard API.
pub async fn copy_text(text: &str) -> Result<(), BrowserError> {
    let window = window().ok_or(BrowserError::NoWindow)?;
    let navigator = window.navigator();
    // Older or insecure contexts have no `navigator.clipboard`.
    let has_clipboard = js_sys::Reflect::has(&navigator, &JsValue::from_str("clipboard"))?;
    if !has_clipboard {
        return Err(BrowserError::Unsupported);
    }
    JsFuture::from(navigator.clipboard().write_text(text)).await?;
    Ok(())
}

/// Selects the whole content of an element, so the user can copy it by hand.
pub fn select_contents(element: &web_sys::Element) {
    if let Some(area) = element.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        area.select();
        return;
    }
    if let Some(input) = element.dyn_ref::<web_sys::HtmlInputElement>() {
        input.select();
        return;
    }
    if let Some(selection) = window().and_then(|w| w.get_selection().ok().flatten()) {
        let _ = selection.select_all_children(element);
    }
}

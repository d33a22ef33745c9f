//! The PIN form `index.html` carries (`#boot-pin`), which `src/loader.js` shows while the
//! app downloads when the page will ask for a PIN. The app's own form takes it over
//! once ([`take`]), keeping what was typed and a Connect already pressed; any other
//! first step just removes it.

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;

use crate::browser;

/// What the customer did in the page's form before the app had loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Typed {
    /// The field's text, as typed.
    pub value: String,
    /// Connect was pressed: the app sends the PIN at once.
    pub pending: bool,
}

/// Whether the page's form is on screen (the app shows nothing of its own meanwhile).
pub fn shown() -> bool {
    browser::document()
        .and_then(|d| d.get_element_by_id("boot-pin"))
        .is_some_and(|boot| !boot.has_attribute("hidden"))
}

/// Removes the page's form, so that the app's elements are the only ones with their
/// ids; what was done in it if it was on screen.
pub fn take() -> Option<Typed> {
    let boot = browser::document()?.get_element_by_id("boot-pin")?;
    let typed = (!boot.has_attribute("hidden")).then(|| Typed {
        value: boot
            .query_selector("input")
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<HtmlInputElement>().ok())
            .map(|input| input.value())
            .unwrap_or_default(),
        pending: boot.has_attribute("data-pending"),
    });
    boot.remove();
    typed
}

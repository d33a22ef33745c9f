//! The PIN form `index.html` carries (`#boot-pin`), which the page shows while the app
//! downloads when it will ask for a PIN (its first script sets `data-boot` on
//! `<html>`). The app's own form takes it over once ([`take`]), keeping what was typed
//! and a Connect already pressed; any other first step just removes it.

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

/// Whether the page chose to show its form (`data-boot` on `<html>`, set by the page's
/// first script).
fn chosen() -> bool {
    browser::document()
        .and_then(|d| d.document_element())
        .is_some_and(|root| root.has_attribute("data-boot"))
}

/// Whether the page's form is on screen (the app shows nothing of its own meanwhile).
pub fn shown() -> bool {
    chosen()
        && browser::document()
            .and_then(|d| d.get_element_by_id("boot-pin"))
            .is_some()
}

/// Removes the page's form, so that the app's elements are the only ones with their
/// ids; what was done in it if it was on screen.
pub fn take() -> Option<Typed> {
    let boot = browser::document()?.get_element_by_id("boot-pin")?;
    let typed = chosen().then(|| Typed {
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
    if let Some(root) = browser::document().and_then(|d| d.document_element()) {
        let _ = root.remove_attribute("data-boot");
    }
    typed
}

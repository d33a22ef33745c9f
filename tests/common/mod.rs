//! Helpers for the browser tests: a fresh element to render into, DOM queries and
//! real events (bubbling, so Yew's delegated listeners hear them).
#![allow(dead_code)]

use wasm_bindgen::JsCast;
use web_sys::{
    Element, Event, EventInit, HtmlElement, HtmlInputElement, HtmlTextAreaElement, InputEvent,
    InputEventInit, KeyboardEvent, KeyboardEventInit,
};

pub fn document() -> web_sys::Document {
    web_sys::window()
        .and_then(|w| w.document())
        .expect("tests run in a browser page")
}

/// A new, empty element appended to the body.
pub fn fresh_root() -> Element {
    let doc = document();
    let root = doc.create_element("div").expect("create a div");
    doc.body()
        .expect("a body")
        .append_child(&root)
        .expect("append");
    root
}

pub fn find(root: &Element, selector: &str) -> Option<Element> {
    root.query_selector(selector).ok().flatten()
}

pub fn get(root: &Element, selector: &str) -> Element {
    find(root, selector).unwrap_or_else(|| panic!("no element matches {selector}"))
}

pub fn all(root: &Element, selector: &str) -> Vec<Element> {
    let list = root.query_selector_all(selector).expect("valid selector");
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .collect()
}

pub fn click(element: &Element) {
    element
        .dyn_ref::<HtmlElement>()
        .expect("an HTML element")
        .click();
}

/// Types (or pastes) `value` into an input or textarea, as the browser reports it.
pub fn type_into(element: &Element, value: &str) {
    if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        input.set_value(value);
    } else if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
        area.set_value(value);
    } else {
        panic!("not a text field");
    }
    let init = InputEventInit::new();
    init.set_bubbles(true);
    let event = InputEvent::new_with_event_init_dict("input", &init).expect("an input event");
    element.dispatch_event(&event).expect("dispatch input");
}

pub fn key(element: &Element, key: &str, shift: bool) -> bool {
    let init = KeyboardEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_key(key);
    init.set_shift_key(shift);
    let event = KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init)
        .expect("a keyboard event");
    element.dispatch_event(&event).expect("dispatch keydown")
}

pub fn change(element: &Element) {
    let init = EventInit::new();
    init.set_bubbles(true);
    let event = Event::new_with_event_init_dict("change", &init).expect("a change event");
    element.dispatch_event(&event).expect("dispatch change");
}

pub fn active_id() -> String {
    document()
        .active_element()
        .map(|e| e.id())
        .unwrap_or_default()
}

pub fn is_disabled(element: &Element) -> bool {
    element.has_attribute("disabled")
}

/// The current value of an input or text area.
pub fn value_of(element: &Element) -> String {
    if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
        area.value()
    } else if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
        input.value()
    } else {
        String::new()
    }
}

//! Waiting for a browser event from async code: the first of some events on a target,
//! as a future. The listeners are removed when it resolves or is dropped.

use std::cell::RefCell;
use std::rc::Rc;

use gloo_events::EventListener;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use web_sys::EventTarget;

/// Resolves with the name of the first of `names` fired on `target`.
pub async fn first_event(target: &EventTarget, names: &[&'static str]) -> &'static str {
    let listeners: Rc<RefCell<Vec<EventListener>>> = Rc::default();
    let fired: Rc<RefCell<Option<&'static str>>> = Rc::default();
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        for name in names {
            let resolve = resolve.clone();
            let fired = fired.clone();
            let name: &'static str = name;
            let listener = EventListener::once(target, name, move |_| {
                fired.borrow_mut().get_or_insert(name);
                let _ = resolve.call0(&JsValue::NULL);
            });
            listeners.borrow_mut().push(listener);
        }
    });
    let _ = JsFuture::from(promise).await;
    listeners.borrow_mut().clear();
    let name = fired.borrow().unwrap_or("");
    name
}

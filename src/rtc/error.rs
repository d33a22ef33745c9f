//! Errors of the media and peer connection calls, typed at the boundary: the
//! `DOMException` names the browser throws become variants the page can explain.

use wasm_bindgen::JsValue;

/// A media or WebRTC call that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RtcError {
    /// This browser (or an insecure page) has no such feature.
    Unsupported,
    /// The person cancelled the picker or refused (`NotAllowedError`): a denial.
    Denied,
    /// No screen or camera to capture (`NotFoundError`).
    NoDevice,
    /// The device is busy or broken (`NotReadableError`, `AbortError`).
    DeviceFailed,
    /// A call in the wrong signalling state (`InvalidStateError`), usually a race with a
    /// close.
    InvalidState,
    /// Anything else, with the exception's name and message.
    Other { name: String, message: String },
}

impl RtcError {
    /// Whether the person said no (as opposed to something going wrong).
    pub fn is_denial(&self) -> bool {
        *self == RtcError::Denied
    }
}

fn string_field(value: &JsValue, field: &str) -> String {
    js_sys::Reflect::get(value, &JsValue::from_str(field))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

impl From<JsValue> for RtcError {
    fn from(value: JsValue) -> Self {
        let (name, message) = if value.is_object() {
            (
                string_field(&value, "name"),
                string_field(&value, "message"),
            )
        } else {
            (String::new(), value.as_string().unwrap_or_default())
        };
        match name.as_str() {
            "NotAllowedError" | "SecurityError" | "PermissionDeniedError" => RtcError::Denied,
            "NotFoundError" | "OverconstrainedError" => RtcError::NoDevice,
            "NotReadableError" | "AbortError" | "TrackStartError" => RtcError::DeviceFailed,
            "InvalidStateError" => RtcError::InvalidState,
            _ => RtcError::Other { name, message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn dom_exceptions_become_variants() {
        let denied = web_sys_dom_exception("NotAllowedError");
        assert_eq!(RtcError::from(denied), RtcError::Denied);
        assert!(RtcError::Denied.is_denial());
        assert_eq!(
            RtcError::from(web_sys_dom_exception("NotFoundError")),
            RtcError::NoDevice
        );
        assert_eq!(
            RtcError::from(JsValue::from_str("boom")),
            RtcError::Other {
                name: String::new(),
                message: "boom".into()
            }
        );
    }

    fn web_sys_dom_exception(name: &str) -> JsValue {
        let error = js_sys::Error::new("refused");
        error.set_name(name);
        error.into()
    }
}

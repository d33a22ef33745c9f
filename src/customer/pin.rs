//! The PIN step (`#pin-form`): one field for the six digits. Pasted spaces, dashes and
//! dots are cleaned away, a `#pin=NNNNNN` fragment fills the field (and is then removed
//! from the address bar), and Connect is enabled only for six digits. (A link's
//! `#join=…` fragment needs no PIN: [`join_token_from_fragment`], used by the page.)

use connectit_protocol::{clean_pin, limits};
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlInputElement};
use yew::prelude::*;

use super::flow::PinError;
use crate::browser;
use crate::i18n::{use_i18n, Msg};
use crate::widgets::{use_now, use_title, ErrorText};

/// Characters a person may type or paste between the digits.
fn is_separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '.' | '\u{a0}' | '\t')
}

/// What the field shows for what was typed: the same, without separators.
pub fn tidy(raw: &str) -> String {
    raw.chars().filter(|c| !is_separator(*c)).collect()
}

/// A problem visible before asking the broker.
fn local_problem(value: &str) -> Option<Msg> {
    if value.chars().any(|c| !c.is_ascii_digit()) {
        Some(Msg::PinOnlyDigits)
    } else if value.len() > limits::PIN_DIGITS {
        Some(Msg::PinTooLong)
    } else {
        None
    }
}

/// The PIN carried by a `#pin=…` fragment, cleaned.
pub fn pin_from_fragment(hash: &str) -> Option<String> {
    hash.strip_prefix("#pin=").and_then(clean_pin)
}

/// The join token carried by a link's `#join=…` fragment (the broker says whether it
/// is good; only its shape is checked here).
pub fn join_token_from_fragment(hash: &str) -> Option<String> {
    hash.strip_prefix("#join=")
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_owned)
}

#[derive(Properties, PartialEq)]
pub struct PinFormProps {
    pub organisation: AttrValue,
    /// The PIN is being checked.
    #[prop_or_default]
    pub busy: bool,
    /// The last attempt's error.
    #[prop_or_default]
    pub error: Option<PinError>,
    pub on_submit: Callback<String>,
    /// The field changed.
    #[prop_or_default]
    pub on_edit: Callback<()>,
}

#[component]
pub fn PinForm(props: &PinFormProps) -> Html {
    let i18n = use_i18n();
    use_title(i18n.title(Msg::PinTitle, &props.organisation));
    // What was typed in the page's own form while the app loaded, taken over once.
    let typed = use_memo((), |_| super::boot::take());
    let value = use_state(|| {
        (*typed)
            .as_ref()
            .map(|t| tidy(&t.value))
            .unwrap_or_default()
    });
    let field = use_node_ref();
    let now = use_now(1000);

    {
        // A link's `#pin=…` fills the field once (unless the page's form already has
        // what the person typed); the fragment then leaves the address bar.
        let (value, field) = (value.clone(), field.clone());
        let pending = (*typed).as_ref().is_some_and(|t| t.pending);
        let on_submit = props.on_submit.clone();
        use_effect_with((), move |_| {
            if let Some(pin) = pin_from_fragment(&browser::hash()) {
                if value.is_empty() {
                    value.set(pin);
                }
                let _ = browser::clear_hash();
            }
            if let Some(input) = field.cast::<HtmlInputElement>() {
                let _ = input.focus();
                let end = input.value().len() as u32;
                let _ = input.set_selection_range(end, end);
            }
            // Connect was pressed before the app had loaded: it goes now.
            if let (true, Some(pin)) = (pending, clean_pin(&value)) {
                on_submit.emit(pin);
            }
        });
    }
    {
        // After an answer, the field has the focus again for a correction.
        let field = field.clone();
        use_effect_with(props.error, move |error| {
            if error.is_some() {
                if let Some(input) = field.cast::<HtmlElement>() {
                    let _ = input.focus();
                }
            }
        });
    }

    let wait_left = props.error.map_or(0, |e| e.wait_left(now));
    let pin = clean_pin(&value);
    let can_connect = pin.is_some() && !props.busy && wait_left == 0;

    let oninput = {
        let (value, on_edit) = (value.clone(), props.on_edit.clone());
        Callback::from(move |e: InputEvent| {
            if let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            {
                let tidied = tidy(&input.value());
                if tidied != input.value() {
                    input.set_value(&tidied);
                }
                value.set(tidied);
                on_edit.emit(());
            }
        })
    };
    let onsubmit = {
        let (pin, on_submit) = (pin.clone(), props.on_submit.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if can_connect {
                if let Some(pin) = pin.clone() {
                    on_submit.emit(pin);
                }
            }
        })
    };

    let (message, code) = match (local_problem(&value), props.error) {
        (Some(problem), _) => (Some(i18n.t(problem)), Some("invalid_input")),
        (None, Some(error)) => {
            let message = match error {
                PinError::InvalidOrExpired => i18n.t(Msg::PinInvalidOrExpired),
                PinError::LinkInvalid => i18n.t(Msg::LinkInvalid),
                PinError::TooManyAttempts { .. } if wait_left > 0 => {
                    i18n.t(Msg::PinWait { secs: wait_left })
                }
                PinError::TooManyAttempts { .. } => i18n.t(Msg::PinCanRetry),
                PinError::InvalidInput(_) => i18n.t(Msg::PinInvalidInput),
                PinError::Unreachable => i18n.t(Msg::PinUnreachable),
                PinError::Other(code) => i18n.error(code),
            };
            (Some(message), Some(error.code()))
        }
        (None, None) => (None, None),
    };
    let described = if message.is_some() {
        "pin-hint pin-error"
    } else {
        "pin-hint"
    };

    html! {
        <section class="card" aria-labelledby="pin-heading">
            <h1 id="pin-heading">{ i18n.t(Msg::PinHeading) }</h1>
            <p class="intro">{ i18n.t(Msg::PinIntro) }</p>
            <form id="pin-form" class="pin-form" {onsubmit} novalidate=true>
                <label for="pin-input">{ i18n.t(Msg::PinLabel) }</label>
                <input id="pin-input" ref={field} type="text" inputmode="numeric"
                    autocomplete="one-time-code" spellcheck="false" class="pin-input"
                    value={(*value).clone()} aria-describedby={described}
                    aria-invalid={message.is_some().to_string()} {oninput} />
                <p id="pin-hint" class="hint">{ i18n.t(Msg::PinHint) }</p>
                <ErrorText id="pin-error" {message} code={code.map(AttrValue::from)} />
                <button id="connect-button" type="submit" class="primary" disabled={!can_connect}>
                    { if props.busy { i18n.t(Msg::Connecting) } else { i18n.t(Msg::Connect) } }
                </button>
            </form>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_and_tidying() {
        assert_eq!(pin_from_fragment("#pin=123456").as_deref(), Some("123456"));
        assert_eq!(pin_from_fragment("#pin=123-456").as_deref(), Some("123456"));
        assert_eq!(pin_from_fragment("#pin=12345"), None);
        assert_eq!(pin_from_fragment("#other=123456"), None);
        assert_eq!(
            join_token_from_fragment("#join=0123456789abcdef0123456789ABCDEF").as_deref(),
            Some("0123456789abcdef0123456789ABCDEF")
        );
        assert_eq!(join_token_from_fragment("#join="), None);
        assert_eq!(join_token_from_fragment("#join=<script>"), None);
        assert_eq!(join_token_from_fragment("#pin=123456"), None);
        assert_eq!(tidy("12 34-56"), "123456");
        assert_eq!(local_problem("12a"), Some(Msg::PinOnlyDigits));
        assert_eq!(local_problem("1234567"), Some(Msg::PinTooLong));
        assert_eq!(local_problem("123"), None);
    }
}

//! The customer's text size (`#text-size`): "A−" and "A+" change the root font size in
//! steps ([`STEPS`], through `html[data-text-size]` in the stylesheet); sizes there are
//! in `rem`, so the whole page follows. The choice is kept in local storage ([`KEY`]) and applied at start (also by
//! `src/loader.js`, before the app loads).

use yew::prelude::*;

use crate::browser;
use crate::i18n::{use_i18n, Msg};

/// The sizes offered, in per cent of the browser's own text size.
pub const STEPS: [u32; 6] = [100, 112, 125, 150, 175, 200];
/// The local storage key holding the chosen per cent.
pub const KEY: &str = "connectit.text-size";

/// The remembered size, if it is one of [`STEPS`].
pub fn remembered() -> u32 {
    browser::local_get(KEY)
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|v| STEPS.contains(v))
        .unwrap_or(STEPS[0])
}

/// The step before or after `current` (`current` itself at either end).
pub fn step(current: u32, larger: bool) -> u32 {
    let at = STEPS.iter().position(|s| *s == current).unwrap_or(0);
    let next = if larger {
        (at + 1).min(STEPS.len() - 1)
    } else {
        at.saturating_sub(1)
    };
    STEPS[next]
}

/// Sets `data-text-size` on the root element; the stylesheet sets the font size from it
/// (an attribute, not an inline style, which the Content-Security-Policy forbids).
fn apply(percent: u32) {
    if let Some(root) = browser::document().and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-text-size", &percent.to_string());
    }
}

#[component]
pub fn TextSize() -> Html {
    let i18n = use_i18n();
    let size = use_state(remembered);
    use_effect_with(*size, |size| {
        apply(*size);
        // Private modes may refuse: the size then lasts for this page.
        let _ = browser::local_set(KEY, &size.to_string());
    });
    let change = |larger: bool| {
        let size = size.clone();
        Callback::from(move |_: MouseEvent| size.set(step(*size, larger)))
    };
    let at_min = *size == STEPS[0];
    let at_max = *size == STEPS[STEPS.len() - 1];
    html! {
        <div id="text-size" class="text-size" role="group" aria-labelledby="text-size-label">
            <span id="text-size-label" class="text-size-label">{ i18n.t(Msg::TextSize) }</span>
            // aria-disabled, not disabled: the button keeps the keyboard focus at the end.
            // The names start with what the buttons show ("A−, smaller text").
            <button id="text-smaller" type="button" class="secondary"
                aria-disabled={at_min.then_some("true")} onclick={change(false)}>
                { "A−" }<span class="visually-hidden">{ ", " }{ i18n.t(Msg::TextSmaller) }</span>
            </button>
            <span id="text-size-value" class="text-size-value" aria-live="polite">
                { format!("{} %", *size) }
            </span>
            <button id="text-larger" type="button" class="secondary"
                aria-disabled={at_max.then_some("true")} onclick={change(true)}>
                { "A+" }<span class="visually-hidden">{ ", " }{ i18n.t(Msg::TextLarger) }</span>
            </button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_stop_at_both_ends() {
        assert_eq!(step(100, false), 100);
        assert_eq!(step(100, true), 112);
        assert_eq!(step(150, false), 125);
        assert_eq!(step(200, true), 200);
        assert_eq!(
            step(123, true),
            112,
            "an unknown size starts from the first step"
        );
    }
}

//! The terms step (`#terms`): the organisation's terms as plain text paragraphs, with
//! Accept and Decline. Declining ends the session.

use yew::prelude::*;

use crate::text;
use crate::widgets::{use_focus_if_lost, use_title};

/// Splits plain-text terms into paragraphs at blank lines.
pub fn paragraphs(terms: &str) -> Vec<String> {
    terms
        .replace("\r\n", "\n")
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Properties, PartialEq)]
pub struct TermsProps {
    pub organisation: AttrValue,
    pub terms: AttrValue,
    /// An answer is on its way.
    #[prop_or_default]
    pub busy: bool,
    pub on_accept: Callback<()>,
    pub on_decline: Callback<()>,
}

#[component]
pub fn Terms(props: &TermsProps) -> Html {
    use_title(text::title(text::TERMS_TITLE, &props.organisation));
    let heading = use_node_ref();
    use_focus_if_lost(heading.clone());
    let accept = props.on_accept.reform(|_: MouseEvent| ());
    let decline = props.on_decline.reform(|_: MouseEvent| ());
    html! {
        <section id="terms" class="terms" aria-labelledby="terms-heading">
            <h1 id="terms-heading" tabindex="-1" ref={heading}>{ text::TERMS_HEADING }</h1>
            <p class="intro">{ text::TERMS_INTRO }</p>
            <div id="terms-text" class="terms-text" tabindex="0" role="document" aria-labelledby="terms-heading">
                { for paragraphs(&props.terms).into_iter().map(|p| html! { <p>{ p }</p> }) }
            </div>
            <div class="actions">
                <button id="accept-terms" type="button" class="primary" disabled={props.busy} onclick={accept}>
                    { text::ACCEPT_TERMS }
                </button>
                <button id="decline-terms" type="button" class="secondary" disabled={props.busy} onclick={decline}>
                    { text::DECLINE_TERMS }
                </button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::paragraphs;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn paragraphs_split_at_blank_lines() {
        assert_eq!(
            paragraphs("One\nline two\n\n\nThree\r\n\r\nFour  \n"),
            vec!["One\nline two", "Three", "Four"]
        );
        assert!(paragraphs("  \n\n ").is_empty());
    }
}

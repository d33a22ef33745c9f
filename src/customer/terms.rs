//! The terms step (`#terms`): the organisation's terms as plain text paragraphs, with
//! Accept and Decline. Declining ends the session.

use yew::prelude::*;

use crate::i18n::{use_i18n, Msg};
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
    let i18n = use_i18n();
    // The organisation's terms, unless it wrote them for this language too.
    let terms = i18n
        .override_text("terms")
        .map_or_else(|| props.terms.to_string(), str::to_owned);
    use_title(i18n.title(Msg::TermsTitle, &props.organisation));
    let heading = use_node_ref();
    use_focus_if_lost(heading.clone());
    let accept = props.on_accept.reform(|_: MouseEvent| ());
    let decline = props.on_decline.reform(|_: MouseEvent| ());
    html! {
        <section id="terms" class="terms" aria-labelledby="terms-heading">
            <h1 id="terms-heading" tabindex="-1" ref={heading}>{ i18n.t(Msg::TermsHeading) }</h1>
            <p class="intro">{ i18n.t(Msg::TermsIntro) }</p>
            <div id="terms-text" class="terms-text" tabindex="0" role="document" aria-labelledby="terms-heading">
                { for paragraphs(&terms).into_iter().map(|p| html! { <p>{ p }</p> }) }
            </div>
            <div class="actions">
                <button id="accept-terms" type="button" class="primary" disabled={props.busy} onclick={accept}>
                    { i18n.t(Msg::AcceptTerms) }
                </button>
                <button id="decline-terms" type="button" class="secondary" disabled={props.busy} onclick={decline}>
                    { i18n.t(Msg::DeclineTerms) }
                </button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::paragraphs;

    #[test]
    fn paragraphs_split_at_blank_lines() {
        assert_eq!(
            paragraphs("One\nline two\n\n\nThree\r\n\r\nFour  \n"),
            vec!["One\nline two", "Three", "Four"]
        );
        assert!(paragraphs("  \n\n ").is_empty());
    }
}

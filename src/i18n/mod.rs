//! Message catalogs: every sentence the app shows is a [`Msg`], looked up in the current
//! language's compiled catalog ([`en`], [`fr`]) after the organisation's overrides from
//! `GET /api/config` (`texts.<lang>.<key>`), which can also add a whole language. The
//! [`I18n`] context carries the current catalog; [`LanguageProvider`] picks the language
//! (remembered choice, else `navigator.languages`, else English) and re-renders on change.

mod select;
pub mod words;

use std::ops::Deref;
use std::sync::Arc;

use yew::prelude::*;

use crate::browser;
pub use connectit_wording::{
    built_in, en, fill, fr, offered, primary, resolve, Catalog, Msg, Texts, BUILT_IN, KEYS,
};
pub use select::LanguageSelect;

/// The local-storage key of the customer's (or technician's) choice.
const STORAGE_KEY: &str = "connectit.language";

/// The current catalog, and how to change its language or texts. Cheap to clone; reads
/// as its [`Catalog`].
#[derive(Clone, PartialEq)]
pub struct I18n {
    catalog: Catalog,
    /// Switches the language (a code from [`Catalog::offered`]).
    pub choose: Callback<String>,
    /// Installs the organisation's texts once the configuration has loaded.
    pub set_texts: Callback<Arc<Texts>>,
}

impl Deref for I18n {
    type Target = Catalog;

    fn deref(&self) -> &Catalog {
        &self.catalog
    }
}

impl Default for I18n {
    fn default() -> Self {
        I18n::new("en", Arc::default())
    }
}

impl I18n {
    /// A catalog for `lang` with `texts`, whose callbacks do nothing (tests, fallbacks).
    pub fn new(lang: &str, texts: Arc<Texts>) -> I18n {
        I18n {
            catalog: Catalog::new(lang, texts),
            choose: Callback::noop(),
            set_texts: Callback::noop(),
        }
    }

    /// The catalog alone, for code shared with the broker.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }
}

/// What the browser asks for: the remembered choice, else `navigator.languages`.
fn wanted() -> Vec<String> {
    if let Some(stored) = browser::local_get(STORAGE_KEY) {
        return vec![stored];
    }
    browser::window()
        .map(|w| {
            w.navigator()
                .languages()
                .iter()
                .filter_map(|v| v.as_string())
                .collect()
        })
        .unwrap_or_default()
}

/// The current catalog, or English without overrides outside a [`LanguageProvider`].
#[hook]
pub fn use_i18n() -> I18n {
    use_context::<I18n>().unwrap_or_default()
}

#[derive(Properties, PartialEq)]
pub struct LanguageProviderProps {
    pub children: Html,
}

/// Holds the language choice and the organisation's texts, provides [`I18n`], and keeps
/// `<html lang>` in step.
#[component]
pub fn LanguageProvider(props: &LanguageProviderProps) -> Html {
    let wanted = use_state(wanted);
    let texts = use_state(Arc::<Texts>::default);
    let lang = resolve(&wanted, &offered(&texts));
    use_effect_with(lang.clone(), |lang| {
        if let Some(root) = browser::document().and_then(|d| d.document_element()) {
            let _ = root.set_attribute("lang", lang);
        }
    });
    let context = I18n {
        catalog: Catalog::new(&lang, (*texts).clone()),
        choose: {
            let wanted = wanted.clone();
            Callback::from(move |code: String| {
                // Private modes may refuse: the choice then lasts for this page.
                let _ = browser::local_set(STORAGE_KEY, &code);
                wanted.set(vec![code]);
            })
        },
        set_texts: Callback::from(move |new: Arc<Texts>| texts.set(new)),
    };
    html! {
        <ContextProvider<I18n> {context}>{ props.children.clone() }</ContextProvider<I18n>>
    }
}

#[cfg(test)]
mod tests;

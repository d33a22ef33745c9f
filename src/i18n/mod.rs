//! Message catalogs: every sentence the app shows is a [`Msg`], looked up in the current
//! language's compiled catalog ([`en`], [`fr`]) after the organisation's overrides from
//! `GET /api/config` (`texts.<lang>.<key>`), which can also add a whole language. The
//! [`I18n`] context carries the current catalog; [`LanguageProvider`] picks the language
//! (remembered choice, else `navigator.languages`, else English) and re-renders on change.
//!
//! Only English is compiled into the app: another built-in language's catalog comes from
//! `GET /api/catalog/{lang}` when it is first shown, and until it has come the page keeps
//! the neutral loading state of `index.html` rather than flash English.

mod select;
pub mod words;

use std::collections::BTreeMap;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

use yew::prelude::*;

use crate::browser;
#[cfg(test)]
pub use connectit_wording::fr;
pub use connectit_wording::{
    built_in, compiled, en, fill, offered, primary, resolve, Catalog, Msg, Texts, BUILT_IN, KEYS,
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

/// The built-in catalogs loaded from the broker: language → key → template. A language
/// whose load failed is here with no entries (its page falls back to English).
#[derive(Default, PartialEq)]
struct Loaded(BTreeMap<String, Rc<BTreeMap<String, String>>>);

impl Reducible for Loaded {
    type Action = (String, BTreeMap<String, String>);

    fn reduce(self: Rc<Self>, (lang, catalog): Self::Action) -> Rc<Self> {
        let mut next = self.0.clone();
        next.insert(lang, Rc::new(catalog));
        Rc::new(Loaded(next))
    }
}

/// The organisation's texts over the loaded catalogs: for each loaded language, its
/// catalog with the organisation's overrides on top.
fn merged(texts: &Arc<Texts>, loaded: &Loaded) -> Arc<Texts> {
    if loaded.0.is_empty() {
        return texts.clone();
    }
    let mut out = (**texts).clone();
    for (lang, catalog) in &loaded.0 {
        let entry = out.entry(lang.clone()).or_default();
        for (key, text) in catalog.iter() {
            entry.entry(key.clone()).or_insert_with(|| text.clone());
        }
    }
    Arc::new(out)
}

/// Whether `lang` is built in but not compiled into this build (so it must be loaded).
fn to_load(lang: &str) -> bool {
    BUILT_IN.contains(&lang) && !compiled(lang)
}

/// Removes `index.html`'s loading notice once the app shows something of its own.
fn drop_loading_notice() {
    if let Some(notice) = browser::document().and_then(|d| d.get_element_by_id("loading")) {
        notice.remove();
    }
}

/// Holds the language choice and the organisation's texts, provides [`I18n`], and keeps
/// `<html lang>` in step.
#[component]
pub fn LanguageProvider(props: &LanguageProviderProps) -> Html {
    let wanted = use_state(wanted);
    let texts = use_state(Arc::<Texts>::default);
    let loaded = use_reducer(Loaded::default);
    let lang = resolve(&wanted, &offered(&texts));
    let pending = to_load(&lang) && !loaded.0.contains_key(&lang);
    use_effect_with(lang.clone(), |lang| {
        if let Some(root) = browser::document().and_then(|d| d.document_element()) {
            let _ = root.set_attribute("lang", lang);
        }
    });
    {
        let loaded = loaded.clone();
        use_effect_with((lang.clone(), pending), move |(lang, pending)| {
            if *pending {
                let lang = lang.clone();
                yew::platform::spawn_local(async move {
                    // Unreachable or refused: English, rather than no page at all.
                    let catalog = crate::api::catalog(&lang).await.unwrap_or_default();
                    loaded.dispatch((lang, catalog));
                });
            } else {
                drop_loading_notice();
            }
        });
    }
    let all_texts = {
        let texts = (*texts).clone();
        let loaded = loaded.clone();
        use_memo((texts, loaded), |(texts, loaded)| merged(texts, loaded))
    };
    if pending {
        // index.html's loading notice stays in view meanwhile.
        return html! {};
    }
    let context = I18n {
        catalog: Catalog::new(&lang, (*all_texts).clone()),
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

//! Message catalogs: every sentence the app shows is a [`Msg`], looked up in the current
//! language's compiled catalog ([`en`], [`fr`]) after the organisation's overrides from
//! `GET /api/config` (`texts.<lang>.<key>`), which can also add a whole language. The
//! [`I18n`] context carries the current catalog; [`LanguageProvider`] picks the language
//! (remembered choice, else `navigator.languages`, else English) and re-renders on change.

pub mod en;
pub mod fr;
mod messages;
mod select;
pub mod words;

use std::collections::BTreeMap;
use std::rc::Rc;

use yew::prelude::*;

use crate::browser;
pub use messages::{Msg, KEYS};
pub use select::LanguageSelect;

/// The organisation's texts: language code → key → text.
pub type Texts = BTreeMap<String, BTreeMap<String, String>>;

/// The languages compiled in, in menu order.
pub const BUILT_IN: &[&str] = &["en", "fr"];

/// The local-storage key of the customer's (or technician's) choice.
const STORAGE_KEY: &str = "connectit.language";

/// The compiled catalog's template for `msg` in `lang`, if `lang` is compiled in.
fn built_in(lang: &str, msg: &Msg) -> Option<&'static str> {
    match lang {
        "en" => Some(en::text(msg)),
        "fr" => Some(fr::text(msg)),
        _ => None,
    }
}

/// Replaces each `{name}` with its argument, in one pass: an argument's own text (a file
/// name, a comment) is never searched for placeholders. An unknown `{name}` stays as it is.
fn fill(template: &str, args: &[(&'static str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (v, close))
        });
        match value {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The primary subtag, lower-cased: `fr-CA` → `fr`.
fn primary(code: &str) -> String {
    code.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The current catalog: the chosen language, the organisation's texts, and how to change
/// either. Cheap to clone.
#[derive(Clone, PartialEq)]
pub struct I18n {
    /// The language in use (one of [`I18n::offered`]).
    lang: Rc<str>,
    /// The organisation's overrides and added languages.
    texts: Rc<Texts>,
    /// Switches the language (a code from [`I18n::offered`]).
    pub choose: Callback<String>,
    /// Installs the organisation's texts once the configuration has loaded.
    pub set_texts: Callback<Rc<Texts>>,
}

impl Default for I18n {
    fn default() -> Self {
        I18n::new("en", Rc::default())
    }
}

impl I18n {
    /// A catalog for `lang` with `texts`, whose callbacks do nothing (tests, fallbacks).
    pub fn new(lang: &str, texts: Rc<Texts>) -> I18n {
        I18n {
            lang: lang.into(),
            texts,
            choose: Callback::noop(),
            set_texts: Callback::noop(),
        }
    }

    /// The language in use.
    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// The text of `msg` in the current language: the organisation's override, else the
    /// compiled catalog, else English; placeholders filled.
    pub fn t(&self, msg: Msg) -> String {
        let template = self
            .override_text(msg.key())
            .or_else(|| built_in(&self.lang, &msg))
            .unwrap_or_else(|| en::text(&msg));
        fill(template, &msg.args())
    }

    /// The organisation's text for `key` in the current language, if it set one.
    pub fn override_text(&self, key: &str) -> Option<&str> {
        self.texts
            .get(&*self.lang)
            .and_then(|texts| texts.get(key))
            .map(String::as_str)
    }

    /// The window title for a step.
    pub fn title(&self, page: Msg, organisation: &str) -> String {
        let organisation = if organisation.is_empty() {
            self.t(Msg::AppName)
        } else {
            organisation.to_owned()
        };
        self.t(Msg::Title {
            page: self.t(page),
            organisation,
        })
    }

    /// The languages on offer: the compiled ones, then those only the configuration adds.
    pub fn offered(&self) -> Vec<String> {
        offered(&self.texts)
    }

    /// Each offered language with its own name (`language_name`; a language added by
    /// configuration without one shows its code).
    pub fn names(&self) -> Vec<(String, String)> {
        self.offered()
            .into_iter()
            .map(|code| {
                let name = self
                    .texts
                    .get(&code)
                    .and_then(|t| t.get(Msg::LanguageName.key()).cloned())
                    .or_else(|| built_in(&code, &Msg::LanguageName).map(str::to_owned))
                    .unwrap_or_else(|| code.clone());
                (code, name)
            })
            .collect()
    }
}

/// The compiled languages, then each language code only `texts` has.
pub fn offered(texts: &Texts) -> Vec<String> {
    let mut codes: Vec<String> = BUILT_IN.iter().map(|c| (*c).to_owned()).collect();
    for code in texts.keys() {
        let code = code.to_ascii_lowercase();
        if !codes.contains(&code) {
            codes.push(code);
        }
    }
    codes
}

/// The first of `wanted` (codes like `fr-CA`) that is offered, matched exactly, then by
/// primary subtag; else English.
pub fn resolve(wanted: &[String], offered: &[String]) -> String {
    for want in wanted {
        let want = want.trim().to_ascii_lowercase();
        if let Some(hit) = offered.iter().find(|o| **o == want) {
            return hit.clone();
        }
        let want = primary(&want);
        if let Some(hit) = offered.iter().find(|o| primary(o) == want) {
            return hit.clone();
        }
    }
    "en".to_owned()
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
    let texts = use_state(Rc::<Texts>::default);
    let lang = resolve(&wanted, &offered(&texts));
    use_effect_with(lang.clone(), |lang| {
        if let Some(root) = browser::document().and_then(|d| d.document_element()) {
            let _ = root.set_attribute("lang", lang);
        }
    });
    let context = I18n {
        lang: lang.as_str().into(),
        texts: (*texts).clone(),
        choose: {
            let wanted = wanted.clone();
            Callback::from(move |code: String| {
                // Private modes may refuse: the choice then lasts for this page.
                let _ = browser::local_set(STORAGE_KEY, &code);
                wanted.set(vec![code]);
            })
        },
        set_texts: Callback::from(move |new: Rc<Texts>| texts.set(new)),
    };
    html! {
        <ContextProvider<I18n> {context}>{ props.children.clone() }</ContextProvider<I18n>>
    }
}

#[cfg(test)]
mod tests;

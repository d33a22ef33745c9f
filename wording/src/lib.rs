//! ConnectIT's words, one copy for every side: every sentence is a [`Msg`], looked up in
//! the language's compiled catalog ([`en`], [`fr`]) after the organisation's own texts
//! (`[texts.<lang>] <key> = "…"` in the broker's configuration, which can also add a
//! whole language). The app shows them; the broker writes its e-mail to customers and
//! the session record's readable page and labels with the same [`Catalog`], so nothing
//! is worded twice.

pub mod email;
pub mod en;
pub mod entry;
#[cfg(feature = "fr")]
pub mod fr;
mod messages;
pub mod words;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use messages::{Msg, KEYS};

/// The organisation's texts: language code → key → text.
pub type Texts = BTreeMap<String, BTreeMap<String, String>>;

/// The languages ConnectIT is written in, in menu order. English is always compiled in;
/// the others are where the `fr` feature (on by default) puts them: the broker has them
/// all, the app loads the one it shows (`GET /api/catalog/{lang}`).
pub const BUILT_IN: &[&str] = &["en", "fr"];

/// Each built-in language's own name, for the language menu before its catalog loads.
pub const NAMES: &[(&str, &str)] = &[("en", "English"), ("fr", "Français")];

/// The compiled catalog's template for `msg` in `lang`, if `lang` is compiled in.
pub fn built_in(lang: &str, msg: &Msg) -> Option<&'static str> {
    match lang {
        "en" => Some(en::text(msg)),
        #[cfg(feature = "fr")]
        "fr" => Some(fr::text(msg)),
        _ => None,
    }
}

/// Whether `lang`'s catalog is compiled into this build.
pub fn compiled(lang: &str) -> bool {
    built_in(lang, &Msg::AppName).is_some()
}

/// A compiled language's whole catalog, key → template (what `GET /api/catalog/{lang}`
/// sends the app); `None` for a language not compiled in.
pub fn catalog_of(lang: &str) -> Option<BTreeMap<String, String>> {
    compiled(lang).then(|| {
        Msg::all()
            .iter()
            .filter_map(|msg| Some((msg.key().to_owned(), built_in(lang, msg)?.to_owned())))
            .collect()
    })
}

/// Replaces each `{name}` with its argument, in one pass: an argument's own text (a file
/// name, a comment) is never searched for placeholders. An unknown `{name}` stays as it is.
pub fn fill(template: &str, args: &[(&'static str, String)]) -> String {
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
pub fn primary(code: &str) -> String {
    code.split(['-', '_'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
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

/// The languages an `Accept-Language` header asks for, most wanted first: `*`, those
/// refused (`q=0`) and anything that is not a language tag left out.
pub fn accepted(header: &str) -> Vec<String> {
    let mut tags: Vec<(u16, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut fields = part.split(';');
            let tag = fields.next()?.trim();
            let is_tag = !tag.is_empty()
                && tag.len() <= 35
                && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
            if !is_tag {
                return None;
            }
            let mut q = 1000;
            for field in fields {
                if let Some(v) = field.trim().strip_prefix("q=") {
                    q = (v.trim().parse::<f32>().ok()?.clamp(0.0, 1.0) * 1000.0) as u16;
                }
            }
            (q > 0).then_some((q, i, tag))
        })
        .collect();
    tags.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().map(|(_, _, t)| t.to_owned()).collect()
}

/// One language's catalog with the organisation's texts. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    /// The language in use (one of [`Catalog::offered`]).
    lang: Arc<str>,
    /// The organisation's overrides and added languages.
    texts: Arc<Texts>,
}

impl Default for Catalog {
    fn default() -> Self {
        Catalog::new("en", Arc::default())
    }
}

impl Catalog {
    /// The catalog for `lang` with `texts`.
    pub fn new(lang: &str, texts: Arc<Texts>) -> Catalog {
        Catalog {
            lang: lang.into(),
            texts,
        }
    }

    /// The catalog of the offered language `wanted` names best (`fr-CA` → `fr`; English
    /// when none fits).
    pub fn for_language(wanted: &str, texts: Arc<Texts>) -> Catalog {
        Catalog::for_languages(&[wanted.to_owned()], texts)
    }

    /// The catalog of the first offered language of `wanted` (most wanted first, as
    /// [`accepted`] lists a browser's), [`resolve`]d; English when none fits.
    pub fn for_languages(wanted: &[String], texts: Arc<Texts>) -> Catalog {
        let lang = resolve(wanted, &offered(&texts));
        Catalog::new(&lang, texts)
    }

    /// The language in use.
    pub fn lang(&self) -> &str {
        &self.lang
    }

    /// The organisation's texts.
    pub fn texts(&self) -> &Arc<Texts> {
        &self.texts
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
                    .or_else(|| {
                        NAMES
                            .iter()
                            .find(|(c, _)| *c == code)
                            .map(|(_, name)| (*name).to_owned())
                    })
                    .unwrap_or_else(|| code.clone());
                (code, name)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_in_order_of_preference() {
        assert_eq!(accepted("fr-CA,fr;q=0.9,en;q=0.8"), ["fr-CA", "fr", "en"]);
        assert_eq!(accepted("en;q=0.5, fr"), ["fr", "en"]);
        assert_eq!(accepted("de;q=0, *;q=0.1, es"), ["es"]);
        assert_eq!(accepted("<b>, fr;q=x, it"), ["it"]);
        assert_eq!(accepted(""), Vec::<String>::new());
        let offered = offered(&Texts::new());
        assert_eq!(resolve(&accepted("fr-FR,fr;q=0.9"), &offered), "fr");
        assert_eq!(resolve(&accepted("de-DE,en;q=0.5"), &offered), "en");
    }
}

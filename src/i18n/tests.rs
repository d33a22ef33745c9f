//! The catalogs and the lookup, in the browser: languages, overrides, added languages,
//! placeholders, and the menu re-rendering the page.

use std::rc::Rc;

use wasm_bindgen_test::wasm_bindgen_test;

use super::*;

fn texts(entries: &[(&str, &str, &str)]) -> Rc<Texts> {
    let mut texts = Texts::new();
    for (lang, key, text) in entries {
        texts
            .entry((*lang).to_owned())
            .or_default()
            .insert((*key).to_owned(), (*text).to_owned());
    }
    Rc::new(texts)
}

#[wasm_bindgen_test]
fn a_key_renders_in_english_and_french() {
    let en = I18n::new("en", Rc::default());
    let fr = I18n::new("fr", Rc::default());
    assert_eq!(en.t(Msg::PinHeading), "Connect to a support representative");
    assert_eq!(fr.t(Msg::PinHeading), "Se connecter à un conseiller");
    assert_eq!(fr.t(Msg::LanguageName), "Français");
}

#[wasm_bindgen_test]
fn an_override_replaces_a_text_in_its_language_only() {
    let texts = texts(&[("fr", "waiting", "Patientez, on arrive.")]);
    let fr = I18n::new("fr", texts.clone());
    let en = I18n::new("en", texts);
    assert_eq!(fr.t(Msg::Waiting), "Patientez, on arrive.");
    assert_eq!(fr.t(Msg::PinLabel), "Code PIN");
    assert_eq!(
        en.t(Msg::Waiting),
        "A support representative will be with you shortly."
    );
}

#[wasm_bindgen_test]
fn a_language_only_in_the_config_falls_back_to_english() {
    let texts = texts(&[
        ("de", "pin_heading", "Mit dem Support verbinden"),
        ("de", "language_name", "Deutsch"),
    ]);
    let de = I18n::new("de", texts);
    assert_eq!(de.offered(), vec!["en", "fr", "de"]);
    assert_eq!(de.t(Msg::PinHeading), "Mit dem Support verbinden");
    assert_eq!(de.t(Msg::Connect), "Connect");
    assert!(de
        .names()
        .contains(&("de".to_owned(), "Deutsch".to_owned())));
}

#[wasm_bindgen_test]
fn placeholders_are_filled_in_catalogs_and_overrides() {
    let en = I18n::new("en", Rc::default());
    assert_eq!(
        en.t(Msg::PinWait { secs: 30 }),
        "Too many attempts. Please wait 30 seconds before trying again."
    );
    assert_eq!(
        I18n::new("fr", Rc::default()).t(Msg::SurveyCommentCount { used: 3, max: 500 }),
        "3 caractères sur 500"
    );
    let custom = I18n::new("en", texts(&[("en", "pin_wait", "Wait {secs} s.")]));
    assert_eq!(custom.t(Msg::PinWait { secs: 7 }), "Wait 7 s.");
}

#[wasm_bindgen_test]
fn browser_languages_resolve_to_an_offered_one() {
    let offered: Vec<String> = vec!["en".into(), "fr".into(), "de".into()];
    let wanted = |codes: &[&str]| codes.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    assert_eq!(resolve(&wanted(&["fr-CA", "en"]), &offered), "fr");
    assert_eq!(resolve(&wanted(&["es", "de-AT"]), &offered), "de");
    assert_eq!(resolve(&wanted(&["es"]), &offered), "en");
    assert_eq!(resolve(&[], &offered), "en");
}

#[wasm_bindgen_test]
fn every_key_is_unique_and_snake_case() {
    let mut seen = std::collections::BTreeSet::new();
    for key in KEYS {
        assert!(seen.insert(*key), "{key} is declared twice");
        assert!(
            key.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{key} is snake_case"
        );
    }
}

mod render {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_test::wasm_bindgen_test;
    use yew::prelude::*;

    use super::super::*;

    #[component]
    fn Heading() -> Html {
        let i18n = use_i18n();
        html! { <h1 id="i18n-test-heading">{ i18n.t(Msg::PinHeading) }</h1> }
    }

    #[component]
    fn Page() -> Html {
        html! {
            <LanguageProvider>
                <LanguageSelect />
                <Heading />
            </LanguageProvider>
        }
    }

    /// Switching `#language` re-renders the page in the chosen catalog at once.
    #[wasm_bindgen_test]
    async fn switching_the_menu_switches_the_text() {
        let document = gloo_utils_document();
        let root = document.create_element("div").unwrap();
        document.body().unwrap().append_child(&root).unwrap();
        crate::browser::local_set(STORAGE_KEY, "en").unwrap();
        yew::Renderer::<Page>::with_root(root.clone()).render();
        yew::scheduler::flush().await;
        let heading = || {
            document
                .get_element_by_id("i18n-test-heading")
                .and_then(|h| h.text_content())
                .unwrap_or_default()
        };
        assert_eq!(heading(), "Connect to a support representative");

        let select: web_sys::HtmlSelectElement = document
            .get_element_by_id("language")
            .unwrap()
            .dyn_into()
            .unwrap();
        select.set_value("fr");
        select
            .dispatch_event(&{
                let init = web_sys::EventInit::new();
                init.set_bubbles(true);
                web_sys::Event::new_with_event_init_dict("change", &init).unwrap()
            })
            .unwrap();
        yew::scheduler::flush().await;
        assert_eq!(heading(), "Se connecter à un conseiller");
        let html_lang = document.document_element().unwrap().get_attribute("lang");
        assert_eq!(html_lang.as_deref(), Some("fr"));
        assert_eq!(
            crate::browser::local_get(STORAGE_KEY).as_deref(),
            Some("fr")
        );
        crate::browser::local_set(STORAGE_KEY, "en").unwrap();
        root.remove();
    }

    fn gloo_utils_document() -> web_sys::Document {
        web_sys::window().unwrap().document().unwrap()
    }
}

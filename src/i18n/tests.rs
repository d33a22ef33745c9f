//! The catalogs and the lookup, in the browser: languages, overrides, added languages,
//! placeholders, and the menu re-rendering the page.

use std::sync::Arc;

use super::*;

fn texts(entries: &[(&str, &str, &str)]) -> Arc<Texts> {
    let mut texts = Texts::new();
    for (lang, key, text) in entries {
        texts
            .entry((*lang).to_owned())
            .or_default()
            .insert((*key).to_owned(), (*text).to_owned());
    }
    Arc::new(texts)
}

#[test]
fn a_key_renders_in_english_and_french() {
    let en = I18n::new("en", Arc::default());
    let fr = I18n::new("fr", Arc::default());
    assert_eq!(en.t(Msg::PinHeading), "Connect to a support representative");
    assert_eq!(fr.t(Msg::PinHeading), "Se connecter à un conseiller");
    assert_eq!(fr.t(Msg::LanguageName), "Français");
}

#[test]
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

#[test]
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

#[test]
fn placeholders_are_filled_in_catalogs_and_overrides() {
    let en = I18n::new("en", Arc::default());
    assert_eq!(
        en.t(Msg::PinWait { secs: 30 }),
        "Too many attempts. Please wait 30 seconds before trying again."
    );
    assert_eq!(
        I18n::new("fr", Arc::default()).t(Msg::SurveyCommentCount { used: 3, max: 500 }),
        "3 caractères sur 500"
    );
    let custom = I18n::new("en", texts(&[("en", "pin_wait", "Wait {secs} s.")]));
    assert_eq!(custom.t(Msg::PinWait { secs: 7 }), "Wait 7 s.");
}

#[test]
fn browser_languages_resolve_to_an_offered_one() {
    let offered: Vec<String> = vec!["en".into(), "fr".into(), "de".into()];
    let wanted = |codes: &[&str]| codes.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
    assert_eq!(resolve(&wanted(&["fr-CA", "en"]), &offered), "fr");
    assert_eq!(resolve(&wanted(&["es", "de-AT"]), &offered), "de");
    assert_eq!(resolve(&wanted(&["es"]), &offered), "en");
    assert_eq!(resolve(&[], &offered), "en");
}

#[test]
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

/// The `{name}` placeholders of a template, sorted.
fn placeholders(template: &str) -> Vec<String> {
    let mut names: Vec<String> = template
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}'))
        .map(|(name, _)| name.to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
}

#[test]
fn every_message_has_english_and_french_with_the_same_placeholders() {
    let all = Msg::all();
    assert_eq!(all.len(), KEYS.len(), "one sample per key");
    for msg in all {
        let (en, fr) = (en::text(&msg), fr::text(&msg));
        let key = msg.key();
        assert!(!en.trim().is_empty(), "{key}: English is empty");
        assert!(!fr.trim().is_empty(), "{key}: French is empty");
        assert_eq!(
            placeholders(en),
            placeholders(fr),
            "{key}: the same placeholders in both"
        );
        let mut args: Vec<String> = msg.args().iter().map(|(n, _)| (*n).to_owned()).collect();
        args.sort();
        assert_eq!(placeholders(en), args, "{key}: each argument is used");
    }
}

#[test]
fn french_follows_french_typography() {
    for msg in Msg::all() {
        let fr = fr::text(&msg);
        let key = msg.key();
        for mark in [':', ';', '?', '!', '»'] {
            assert!(
                !fr.contains(&format!(" {mark}")),
                "{key}: a non-breaking space goes before {mark} in {fr:?}"
            );
        }
        assert!(!fr.contains("« "), "{key}: a non-breaking space after «");
        assert!(
            !fr.contains('\''),
            "{key}: the typographic apostrophe in {fr:?}"
        );
    }
}

#[test]
fn the_documentation_lists_every_key() {
    let doc = include_str!("../../docs/i18n.md");
    for key in KEYS {
        assert!(
            doc.contains(&format!("| `{key}` |")),
            "docs/i18n.md lists {key}"
        );
    }
}

#[test]
fn an_argument_is_never_read_as_a_placeholder() {
    let en = I18n::new("en", Arc::default());
    assert_eq!(
        en.t(Msg::FileOffer {
            sender: "Tess".into(),
            name: "{size}.txt".into(),
            size: "2 kB".into(),
        }),
        "Tess offers you {size}.txt (2 kB)"
    );
    let custom = I18n::new(
        "en",
        texts(&[("en", "pin_wait", "Wait {secs} s {unknown}.")]),
    );
    assert_eq!(custom.t(Msg::PinWait { secs: 7 }), "Wait 7 s {unknown}.");
}

#[test]
fn errors_end_reasons_and_lists_read_in_the_language() {
    use connectit_protocol::{EndReason, ErrorCode, Permission, RuleViolation};
    let en = I18n::new("en", Arc::default());
    let fr = I18n::new("fr", Arc::default());
    let too_long = ErrorCode::NotAllowed {
        violation: RuleViolation::TextTooLong { max_chars: 2000 },
    };
    assert_eq!(
        en.error(too_long),
        "That is too long: at most 2000 characters, please."
    );
    assert_eq!(
        fr.error(too_long),
        "C’est trop long\u{a0}: 2000 caractères au maximum."
    );
    assert_eq!(
        fr.end_reason_technician(EndReason::CustomerEnded),
        "Le client a terminé la session."
    );
    let asked = [
        Permission::SendFiles,
        Permission::ViewScreen,
        Permission::Camera,
    ];
    assert_eq!(
        en.permission_list(&asked, true),
        "send you files and see your screen and camera"
    );
    assert_eq!(
        fr.permission_list(&asked, false),
        "envoyer des fichiers et voir l’écran et la caméra"
    );
}

#[test]
fn an_override_applies_to_a_console_text_and_inside_composed_sentences() {
    use connectit_protocol::Permission;
    let texts = texts(&[
        ("fr", "console_title", "Poste de l’assistance"),
        ("fr", "perm_technician_view_screen", "regarder l’écran"),
    ]);
    let fr = I18n::new("fr", texts);
    assert_eq!(fr.t(Msg::ConsoleTitle), "Poste de l’assistance");
    assert_eq!(
        fr.t(Msg::LineRequested {
            what: fr.permission_list(&[Permission::ViewScreen], false)
        }),
        "Vous avez demandé à regarder l’écran"
    );
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
        crate::browser::local_set(STORAGE_KEY, "en").unwrap();
        let root = mount::<Page>().await;
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

    fn text_of(root: &web_sys::Element, selector: &str) -> String {
        root.query_selector(selector)
            .unwrap()
            .and_then(|e| e.text_content())
            .unwrap_or_default()
    }

    #[derive(Properties, PartialEq)]
    struct InFrenchProps {
        children: Html,
    }

    /// Its children with the French catalog.
    #[component]
    fn InFrench(props: &InFrenchProps) -> Html {
        let context = I18n::new("fr", Default::default());
        html! { <ContextProvider<I18n> {context}>{ props.children.clone() }</ContextProvider<I18n>> }
    }

    #[component]
    fn FrenchSignIn() -> Html {
        html! {
            <InFrench>
                <crate::console::signin::SignInForm on_done={Callback::noop()} />
            </InFrench>
        }
    }

    /// A console screen in French: heading, labels and button from the French catalog.
    #[wasm_bindgen_test]
    async fn the_console_sign_in_renders_in_french() {
        let root = mount::<FrenchSignIn>().await;
        assert_eq!(
            text_of(&root, "#signin-heading"),
            "Se connecter à la console"
        );
        assert_eq!(
            text_of(&root, "label[for=signin-username]"),
            "Nom d’utilisateur"
        );
        assert_eq!(text_of(&root, "label[for=signin-password]"), "Mot de passe");
        assert_eq!(text_of(&root, "#signin-submit").trim(), "Se connecter");
        root.remove();
    }

    #[component]
    fn Log() -> Html {
        use connectit_protocol::{Author, EntryKind, LogEntry, Permission, Role};
        let entry = |seq, author, kind| LogEntry {
            seq,
            at: 1_700_000_000_000,
            author,
            kind,
        };
        let entries = crate::session::Entries::from(vec![
            entry(1, Author::Customer, EntryKind::CustomerJoined),
            entry(
                2,
                Author::Technician,
                EntryKind::PermissionRequested {
                    request: 1,
                    permissions: vec![Permission::ViewScreen, Permission::SystemInfo],
                    reason: "pour voir".into(),
                    deadline: 1_700_000_060_000,
                },
            ),
            entry(
                3,
                Author::Customer,
                EntryKind::FileOffered {
                    file: 1,
                    name: "rapport.pdf".into(),
                    size: 2_100_000,
                },
            ),
        ]);
        html! {
            <LanguageProvider>
                <LanguageSelect />
                <crate::session::ChatLog {entries} viewer={Role::Technician} />
            </LanguageProvider>
        }
    }

    /// The log's system lines are words made at render time from the entries: switching
    /// the language rewrites the lines already shown.
    #[wasm_bindgen_test]
    async fn log_lines_follow_the_viewers_language() {
        crate::browser::local_set(STORAGE_KEY, "fr").unwrap();
        let root = mount::<Log>().await;
        let line = |kind: &str| text_of(&root, &format!("li[data-kind={kind}] .entry-text"));
        assert_eq!(
            line("customer_joined"),
            "Le client s’est connecté avec le code PIN."
        );
        assert_eq!(
            line("permission_requested"),
            "Vous avez demandé à voir l’écran et lire les informations système\u{a0}: «\u{a0}pour voir\u{a0}»"
        );
        assert_eq!(
            line("file_offered"),
            "Le client vous envoie un fichier\u{a0}: rapport.pdf (2,1 Mo)"
        );

        let select: web_sys::HtmlSelectElement = root
            .query_selector("#language")
            .unwrap()
            .unwrap()
            .dyn_into()
            .unwrap();
        select.set_value("en");
        select
            .dispatch_event(&{
                let init = web_sys::EventInit::new();
                init.set_bubbles(true);
                web_sys::Event::new_with_event_init_dict("change", &init).unwrap()
            })
            .unwrap();
        yew::scheduler::flush().await;
        assert_eq!(line("customer_joined"), "The customer joined with the PIN.");
        assert_eq!(
            line("file_offered"),
            "The customer sends you a file: rapport.pdf (2.1 MB)"
        );
        crate::browser::local_set(STORAGE_KEY, "en").unwrap();
        root.remove();
    }

    /// Renders `C` into a new element of the page's body, and returns that element.
    async fn mount<C: BaseComponent<Properties = ()>>() -> web_sys::Element {
        let document = gloo_utils_document();
        let root = document.create_element("div").unwrap();
        document.body().unwrap().append_child(&root).unwrap();
        yew::Renderer::<C>::with_root(root.clone()).render();
        yew::scheduler::flush().await;
        root
    }

    fn gloo_utils_document() -> web_sys::Document {
        web_sys::window().unwrap().document().unwrap()
    }
}

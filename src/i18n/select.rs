//! The language menu (`select#language`, labelled "Language"): each offered language in
//! its own name; choosing one re-renders the page in it at once and remembers it.

use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::{use_i18n, Msg};

#[component]
pub fn LanguageSelect() -> Html {
    let i18n = use_i18n();
    let onchange = {
        let choose = i18n.choose.clone();
        Callback::from(move |e: Event| {
            if let Some(select) = e.target_dyn_into::<HtmlSelectElement>() {
                choose.emit(select.value());
            }
        })
    };
    let current = i18n.lang().to_owned();
    html! {
        <div class="language">
            <label for="language">{ i18n.t(Msg::Language) }</label>
            <select id="language" {onchange}>
                { for i18n.names().into_iter().map(|(code, name)| {
                    let selected = code == current;
                    html! { <option lang={code.clone()} value={code} {selected}>{ name }</option> }
                }) }
            </select>
        </div>
    }
}

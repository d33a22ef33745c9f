//! A labelled text field for the console's forms, with its error tied to it by
//! `aria-describedby` when it is the one at fault.

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct FieldProps {
    pub id: AttrValue,
    pub label: AttrValue,
    pub value: AttrValue,
    pub on_change: Callback<String>,
    #[prop_or(AttrValue::Static("text"))]
    pub kind: AttrValue,
    #[prop_or_default]
    pub autocomplete: Option<AttrValue>,
    /// The id of the error that concerns this field, if any.
    #[prop_or_default]
    pub error_id: Option<AttrValue>,
}

#[component]
pub fn Field(props: &FieldProps) -> Html {
    let on_change = props.on_change.clone();
    let oninput = Callback::from(move |e: InputEvent| {
        if let Some(input) = e
            .target()
            .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
        {
            on_change.emit(input.value());
        }
    });
    html! {
        <div class="field">
            <label for={props.id.clone()}>{ props.label.clone() }</label>
            <input id={props.id.clone()} type={props.kind.clone()} value={props.value.clone()}
                autocomplete={props.autocomplete.clone()} required=true
                aria-describedby={props.error_id.clone()}
                aria-invalid={props.error_id.is_some().to_string()} {oninput} />
        </div>
    }
}

//! The end-of-session button and its confirmation (`#end-confirm`, an alertdialog).
//! Opening moves focus to "No" (the safe answer); No, Escape and Yes close it and give
//! focus back to the button; Tab stays inside the dialog.

use web_sys::HtmlElement;
use yew::prelude::*;

use crate::i18n::{use_i18n, Msg};

#[derive(Properties, PartialEq)]
pub struct ConfirmEndProps {
    /// The button's id (`end-button` on the customer page, `end-session` in the console).
    pub trigger_id: AttrValue,
    #[prop_or_default]
    pub trigger_class: Classes,
    /// The button's accessible name, when its content is a symbol.
    #[prop_or_default]
    pub trigger_label: Option<AttrValue>,
    /// What the button shows.
    pub children: Html,
    /// The sentence under the question.
    pub detail: AttrValue,
    pub on_confirm: Callback<()>,
    /// An end request is on its way: the button waits.
    #[prop_or_default]
    pub busy: bool,
}

#[component]
pub fn ConfirmEnd(props: &ConfirmEndProps) -> Html {
    let i18n = use_i18n();
    let open = use_state(|| false);
    let trigger = use_node_ref();
    let yes = use_node_ref();
    let no = use_node_ref();
    // Whether focus should go back to the trigger after the dialog closed.
    let refocus = use_mut_ref(|| false);

    {
        let (trigger, no, refocus) = (trigger.clone(), no.clone(), refocus.clone());
        use_effect_with(*open, move |open| {
            if *open {
                if let Some(button) = no.cast::<HtmlElement>() {
                    let _ = button.focus();
                }
            } else if std::mem::take(&mut *refocus.borrow_mut()) {
                if let Some(button) = trigger.cast::<HtmlElement>() {
                    let _ = button.focus();
                }
            }
        });
    }

    let close = {
        let (open, refocus) = (open.clone(), refocus.clone());
        Callback::from(move |()| {
            *refocus.borrow_mut() = true;
            open.set(false);
        })
    };
    let on_open = {
        let open = open.clone();
        Callback::from(move |_: MouseEvent| open.set(true))
    };
    let on_no = {
        let close = close.clone();
        Callback::from(move |_: MouseEvent| close.emit(()))
    };
    let on_yes = {
        let (close, confirm) = (close.clone(), props.on_confirm.clone());
        Callback::from(move |_: MouseEvent| {
            close.emit(());
            confirm.emit(());
        })
    };
    let onkeydown = {
        let (yes, no) = (yes.clone(), no.clone());
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => {
                e.prevent_default();
                close.emit(());
            }
            "Tab" => {
                // Two buttons: Tab and Shift+Tab go from one to the other.
                e.prevent_default();
                let on_no = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.active_element())
                    .map(|a| a.id() == "end-no")
                    .unwrap_or(false);
                let target = if on_no { &yes } else { &no };
                if let Some(button) = target.cast::<HtmlElement>() {
                    let _ = button.focus();
                }
            }
            _ => {}
        })
    };

    html! {
        <>
            <button id={props.trigger_id.clone()} type="button" ref={trigger}
                class={props.trigger_class.clone()} aria-label={props.trigger_label.clone()}
                aria-haspopup="dialog" disabled={props.busy} onclick={on_open}>
                { props.children.clone() }
            </button>
            if *open {
                <div class="dialog-backdrop">
                    <div id="end-confirm" class="dialog" role="alertdialog" aria-modal="true"
                        aria-labelledby="end-confirm-title" aria-describedby="end-confirm-detail"
                        {onkeydown}>
                        <h2 id="end-confirm-title">{ i18n.t(Msg::EndConfirm) }</h2>
                        <p id="end-confirm-detail">{ props.detail.clone() }</p>
                        <div class="dialog-actions">
                            <button id="end-yes" type="button" class="danger" ref={yes} onclick={on_yes}>
                                { i18n.t(Msg::EndYes) }
                            </button>
                            <button id="end-no" type="button" class="secondary" ref={no} onclick={on_no}>
                                { i18n.t(Msg::EndNo) }
                            </button>
                        </div>
                    </div>
                </div>
            }
        </>
    }
}

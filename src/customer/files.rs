//! The customer's files panel (`#files`), shown while either file permission stands
//! (and afterwards, while the session has transfers to show):
//! with "receive files" granted, a button (`#pick-files`) over the hidden picker
//! (`input#file-picker`) and a drop zone (`#file-drop`); the transfers, with Accept and
//! Refuse for each file the technician offers; and `#file-error` when a file is refused
//! before it is offered (too large).

use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use crate::files::{FilesCode, TransferList, Transfers};
use crate::i18n::{use_i18n, Msg};
use connectit_protocol::Role;

#[derive(Properties)]
pub struct CustomerFilesProps {
    /// Whether the customer may send (the technician holds "receive files").
    pub can_send: bool,
    pub technician: AttrValue,
    pub transfers: std::rc::Rc<Transfers>,
}

impl PartialEq for CustomerFilesProps {
    fn eq(&self, other: &Self) -> bool {
        self.can_send == other.can_send
            && self.technician == other.technician
            && self.transfers.transfers == other.transfers.transfers
            && self.transfers.error == other.transfers.error
            && self.transfers.code == other.transfers.code
    }
}

#[component]
pub fn CustomerFiles(props: &CustomerFilesProps) -> Html {
    let i18n = use_i18n();
    let picker = use_node_ref();
    let over = use_state(|| false);
    let files = &props.transfers;
    let on_pick = files.on_pick.clone();

    let open_picker = {
        let picker = picker.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(input) = picker.cast::<HtmlInputElement>() {
                input.click();
            }
        })
    };
    let onchange = {
        let on_pick = on_pick.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            {
                let picked = crate::files::list_files(input.files());
                // The same file can be picked again later.
                input.set_value("");
                if !picked.is_empty() {
                    on_pick.emit(picked);
                }
            }
        })
    };
    let ondragover = {
        let over = over.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            over.set(true);
        })
    };
    let ondragleave = {
        let over = over.clone();
        Callback::from(move |_: DragEvent| over.set(false))
    };
    let ondrop = {
        let over = over.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            over.set(false);
            let picked = crate::files::list_files(e.data_transfer().and_then(|d| d.files()));
            if !picked.is_empty() {
                on_pick.emit(picked);
            }
        })
    };

    html! {
        <section id="files" class="files card-inner" aria-labelledby="files-heading">
            <h2 id="files-heading">{ i18n.t(Msg::FilesHeading) }</h2>
            <p class="muted">{ i18n.t(Msg::FilesIntroCustomer) }</p>
            if props.can_send {
                <div id="file-drop" role="group" class={classes!("file-drop", over.then_some("over"))}
                    aria-label={i18n.t(Msg::FileDropLabel)} {ondragover} {ondragleave} {ondrop}>
                    <label for="file-picker" class="visually-hidden">{ i18n.t(Msg::PickFiles) }</label>
                    <input id="file-picker" ref={picker} type="file" multiple=true class="visually-hidden"
                        tabindex="-1" {onchange} />
                    <button id="pick-files" type="button" class="primary" onclick={open_picker}>
                        { i18n.t(Msg::PickFiles) }
                    </button>
                    <span class="muted">{ " " }{ i18n.t(Msg::FileDrop) }</span>
                </div>
            }
            if let Some(error) = &files.error {
                <p id="file-error" class="field-error" role="alert">{ error.describe(&i18n) }</p>
            }
            <FilesCode code={files.code.clone().map(AttrValue::from)} />
            <TransferList transfers={files.transfers.clone()} viewer={Role::Customer}
                technician={Some(props.technician.clone())} on_accept={files.on_accept.clone()}
                on_refuse={files.on_refuse.clone()} on_cancel={files.on_cancel.clone()} />
        </section>
    }
}

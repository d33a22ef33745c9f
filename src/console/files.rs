//! The console's files panel (`#files`, always in an active session's view): with
//! "send files" granted, a picker (`input#file-picker`) to send files to the customer;
//! the transfers both ways, with Cancel, and a Save link for each file that arrived
//! intact; `#file-error` when a file is refused before it is offered; how the files
//! link travels (`#files-path`), or `#files-path-failed` when no path was found.

use std::rc::Rc;

use connectit_protocol::{PathFailure, Role};
use wasm_bindgen::JsCast;
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::path::PathLine;
use crate::files::list_files;
use crate::files::{FilesCode, TransferList, Transfers};
use crate::i18n::{use_i18n, Msg};

#[derive(Properties)]
pub struct ConsoleFilesProps {
    /// Whether the technician may send ("send files" is granted).
    pub can_send: bool,
    pub transfers: Rc<Transfers>,
    /// The files link could not connect (the log says why).
    #[prop_or_default]
    pub failed: Option<PathFailure>,
}

impl PartialEq for ConsoleFilesProps {
    fn eq(&self, other: &Self) -> bool {
        self.can_send == other.can_send
            && self.failed == other.failed
            && self.transfers.transfers == other.transfers.transfers
            && self.transfers.error == other.transfers.error
            && self.transfers.connection == other.transfers.connection
            && self.transfers.code == other.transfers.code
    }
}

#[component]
pub fn ConsoleFiles(props: &ConsoleFilesProps) -> Html {
    let i18n = use_i18n();
    let files = &props.transfers;
    let onchange = {
        let on_pick = files.on_pick.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e
                .target()
                .and_then(|t| t.dyn_into::<HtmlInputElement>().ok())
            {
                let picked = list_files(input.files());
                input.set_value("");
                if !picked.is_empty() {
                    on_pick.emit(picked);
                }
            }
        })
    };
    html! {
        <section id="files" class="files" aria-labelledby="files-heading">
            <h2 id="files-heading">{ i18n.t(Msg::FilesHeading) }</h2>
            if props.can_send {
                <div class="file-pick">
                    <label for="file-picker">{ i18n.t(Msg::PickFilesConsole) }</label>
                    <input id="file-picker" type="file" multiple=true {onchange} />
                </div>
            }
            if let Some(error) = &files.error {
                <p id="file-error" class="field-error" role="alert">{ error.describe(&i18n) }</p>
            }
            if let Some(why) = props.failed {
                <p id="files-path-failed" class="notice warning" role="alert">
                    { i18n.t(Msg::PathFailedTechnician { why: i18n.path_why(why) }) }
                </p>
            } else {
                <PathLine id="files-path" connection={files.connection.clone()} />
            }
            <FilesCode code={files.code.clone().map(AttrValue::from)} />
            <TransferList transfers={files.transfers.clone()} viewer={Role::Technician}
                on_accept={files.on_accept.clone()} on_refuse={files.on_refuse.clone()}
                on_cancel={files.on_cancel.clone()} />
        </section>
    }
}

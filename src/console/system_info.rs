//! The console's view of the customer's system information (`#system-info`): the last
//! report as a readable table (one `tr[data-label]` per item), with Copy
//! (`#copy-system-info`), which falls back to selecting the text.

use connectit_protocol::{EntryKind, InfoItem, LogEntry};
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::browser;
use crate::i18n::{use_i18n, Msg};
use crate::session::Entries;
use crate::widgets::InfoTable;

/// The items of the last report in `entries`.
pub fn last_report(entries: &[LogEntry]) -> Option<&[InfoItem]> {
    entries.iter().rev().find_map(|e| match &e.kind {
        EntryKind::SystemInfoShared { items } => Some(items.as_slice()),
        _ => None,
    })
}

#[derive(Properties, PartialEq)]
pub struct SystemInfoPanelProps {
    pub entries: Entries,
}

#[component]
pub fn SystemInfoPanel(props: &SystemInfoPanelProps) -> Html {
    let i18n = use_i18n();
    let copied = use_state(|| None::<Msg>);
    let entries = props.entries.borrow();
    let Some(items) = last_report(&entries) else {
        return html! {
            <section id="system-info" class="system-info" aria-labelledby="system-info-heading">
                <h2 id="system-info-heading">{ i18n.t(Msg::SystemInfoHeading) }</h2>
                <p class="muted">{ i18n.t(Msg::SystemInfoNone) }</p>
            </section>
        };
    };
    let lines = i18n.info_lines(items);
    let copy = {
        let copied = copied.clone();
        Callback::from(move |_: MouseEvent| {
            let (copied, lines) = (copied.clone(), lines.clone());
            spawn_local(async move {
                match browser::copy_text(&lines).await {
                    Ok(()) => copied.set(Some(Msg::Copied)),
                    Err(_) => {
                        if let Some(table) = browser::document()
                            .and_then(|d| d.get_element_by_id("system-info-table"))
                        {
                            browser::select_contents(&table);
                        }
                        copied.set(Some(Msg::CopyFailed));
                    }
                }
            });
        })
    };
    html! {
        <section id="system-info" class="system-info" aria-labelledby="system-info-heading">
            <h2 id="system-info-heading">{ i18n.t(Msg::SystemInfoHeading) }</h2>
            <InfoTable id="system-info-table" items={items.to_vec()} />
            <button id="copy-system-info" type="button" class="secondary" onclick={copy}>
                { i18n.t(Msg::SystemInfoCopy) }
            </button>
            if let Some(said) = (*copied).clone() {
                <p class="muted" role="status">{ i18n.t(said) }</p>
            }
        </section>
    }
}

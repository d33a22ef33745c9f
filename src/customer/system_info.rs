//! The customer's system information, with "system information" granted: the page
//! gathers what the browser can tell, shows exactly those items
//! (`#system-info-preview`, one `tr[data-label]` each) and sends them with Send
//! (`#send-system-info`) or drops them with Cancel (`#cancel-system-info`). Afterwards
//! it can be prepared again (`#prepare-system-info`).

use std::cell::RefCell;
use std::rc::Rc;

use connectit_protocol::{EntryKind, InfoItem, LogEntry, Permission};
use web_sys::RtcPeerConnection;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::i18n::{use_i18n, Msg};
use crate::socket::NotConnected;
use crate::sysinfo;
use crate::widgets::InfoTable;

/// Where the preview is.
#[derive(Debug, Clone, PartialEq)]
pub enum Preview {
    /// Nothing shown (before anything, or after Cancel).
    Idle {
        dropped: bool,
    },
    Gathering,
    /// These items wait for Send or Cancel.
    Ready(Vec<InfoItem>),
    Sent,
}

/// Whether the latest grant of "system information" has not been answered with a
/// report yet: then the preview opens by itself.
pub fn report_due(entries: &[LogEntry]) -> bool {
    let mut due = false;
    for entry in entries {
        match &entry.kind {
            EntryKind::PermissionGranted { granted, .. }
                if granted.contains(&Permission::SystemInfo) =>
            {
                due = true
            }
            EntryKind::SystemInfoShared { .. } => due = false,
            _ => {}
        }
    }
    due
}

#[derive(Properties)]
pub struct SystemInfoProps {
    /// Whether to gather at once ([`report_due`]); otherwise on request.
    pub due: bool,
    /// The page's live peer connections, for the round-trip time.
    pub connections: Rc<dyn Fn() -> Vec<RtcPeerConnection>>,
    /// Sends the items; `Err` when not connected.
    pub on_send: Callback<Vec<InfoItem>, Result<u32, NotConnected>>,
    #[prop_or_default]
    pub busy: bool,
}

impl PartialEq for SystemInfoProps {
    fn eq(&self, other: &Self) -> bool {
        self.due == other.due
            && self.busy == other.busy
            && self.on_send == other.on_send
            && Rc::ptr_eq(&self.connections, &other.connections)
    }
}

#[component]
pub fn SystemInfo(props: &SystemInfoProps) -> Html {
    let i18n = use_i18n();
    let preview = use_state(|| Preview::Idle { dropped: false });
    // The preview's current value for the gathering task (the handle may be older).
    let latest: Rc<RefCell<u32>> = use_mut_ref(|| 0);
    let gather = {
        let preview = preview.clone();
        let connections = props.connections.clone();
        let i18n = i18n.clone();
        Callback::from(move |()| {
            preview.set(Preview::Gathering);
            let preview = preview.clone();
            let i18n = i18n.clone();
            let connections = connections();
            let latest = latest.clone();
            let run = {
                let mut n = latest.borrow_mut();
                *n += 1;
                *n
            };
            spawn_local(async move {
                let items = sysinfo::gather(&i18n, connections).await;
                if *latest.borrow() == run {
                    preview.set(Preview::Ready(items));
                }
            });
        })
    };
    {
        let gather = gather.clone();
        let first = props.due;
        use_effect_with((), move |_| {
            if first {
                gather.emit(());
            }
        });
    }
    let send = {
        let (preview, on_send) = (preview.clone(), props.on_send.clone());
        Callback::from(move |_: MouseEvent| {
            if let Preview::Ready(items) = &*preview {
                if on_send.emit(items.clone()).is_ok() {
                    preview.set(Preview::Sent);
                }
            }
        })
    };
    let cancel = {
        let preview = preview.clone();
        Callback::from(move |_: MouseEvent| preview.set(Preview::Idle { dropped: true }))
    };
    let prepare = gather.reform(|_: MouseEvent| ());

    let body = match &*preview {
        Preview::Gathering => html! {
            <p class="loading" role="status">{ i18n.t(Msg::SystemInfoGathering) }</p>
        },
        Preview::Ready(items) => html! {
            <>
                <p id="system-info-intro">{ i18n.t(Msg::SystemInfoPreviewIntro) }</p>
                <InfoTable id="system-info-preview" items={items.clone()} />
                <div class="actions">
                    <button id="send-system-info" type="button" class="primary" disabled={props.busy}
                        onclick={send}>{ i18n.t(Msg::SystemInfoSend) }</button>
                    <button id="cancel-system-info" type="button" class="secondary" onclick={cancel}>
                        { i18n.t(Msg::SystemInfoCancel) }
                    </button>
                </div>
            </>
        },
        Preview::Sent | Preview::Idle { .. } => {
            let said = match &*preview {
                Preview::Sent => Some(i18n.t(Msg::SystemInfoSent)),
                Preview::Idle { dropped: true } => Some(i18n.t(Msg::SystemInfoDropped)),
                _ => None,
            };
            html! {
                <>
                    if let Some(said) = said {
                        <p class="muted" role="status">{ said }</p>
                    }
                    <button id="prepare-system-info" type="button" class="secondary" onclick={prepare}>
                        { i18n.t(Msg::SystemInfoAgain) }
                    </button>
                </>
            }
        }
    };
    html! {
        <section id="system-info-panel" class="system-info" aria-labelledby="system-info-heading">
            <h2 id="system-info-heading">{ i18n.t(Msg::SystemInfoHeading) }</h2>
            { body }
        </section>
    }
}

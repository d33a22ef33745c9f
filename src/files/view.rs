//! The transfers as a list (`#transfers`, one `li.transfer` each): name and size as
//! text, direction and status in data attributes, a progress bar with speed and time
//! left, Cancel while in flight, Accept and Refuse on the customer's incoming offers,
//! the download link of a delivered file and the reason of a failed one.

use std::rc::Rc;

use connectit_protocol::files::safe_file_name;
use connectit_protocol::{FileStatus, Role};
use yew::prelude::*;

use super::transfers::{Progress, TransferView};
use crate::i18n::{use_i18n, I18n, Msg};
use crate::session::entry::failure_attr;
use crate::widgets::use_now;

/// How often a moving transfer's row refreshes, in milliseconds.
pub const REFRESH_MS: u32 = 250;

/// The status as `data-status` names it.
pub fn status_attr(status: FileStatus) -> &'static str {
    match status {
        FileStatus::Offered => "offered",
        FileStatus::Accepted => "accepted",
        FileStatus::Sent => "sent",
        FileStatus::Delivered => "delivered",
        FileStatus::Refused => "refused",
        FileStatus::Failed { .. } => "failed",
    }
}

#[derive(Properties, PartialEq)]
pub struct TransferListProps {
    pub transfers: Vec<TransferView>,
    /// Whose page this is.
    pub viewer: Role,
    /// The technician's name, for the customer's offers.
    #[prop_or_default]
    pub technician: Option<AttrValue>,
    pub on_accept: Callback<u32>,
    pub on_refuse: Callback<u32>,
    pub on_cancel: Callback<u32>,
}

#[component]
pub fn TransferList(props: &TransferListProps) -> Html {
    let i18n = use_i18n();
    let rows = props.transfers.iter().rev().map(|t| {
        html! {
            <TransferRow key={t.transfer.file.to_string()} transfer={t.clone()} viewer={props.viewer}
                technician={props.technician.clone()} on_accept={props.on_accept.clone()}
                on_refuse={props.on_refuse.clone()} on_cancel={props.on_cancel.clone()} />
        }
    });
    html! {
        <>
            <ul id="transfers" class="transfers" aria-label={i18n.t(Msg::TransfersLabel)}>{ for rows }</ul>
            if props.transfers.is_empty() {
                <p class="muted">{ i18n.t(Msg::NoTransfers) }</p>
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct TransferRowProps {
    pub transfer: TransferView,
    pub viewer: Role,
    #[prop_or_default]
    pub technician: Option<AttrValue>,
    pub on_accept: Callback<u32>,
    pub on_refuse: Callback<u32>,
    pub on_cancel: Callback<u32>,
}

#[component]
pub fn TransferRow(props: &TransferRowProps) -> Html {
    let i18n = use_i18n();
    let view = &props.transfer;
    let t = &view.transfer;
    let file = t.file;
    let name = t.name.clone();
    let incoming_offer =
        t.status == FileStatus::Offered && !view.outgoing && props.viewer == Role::Customer;
    let cancellable = t.status.in_flight() && !incoming_offer;
    let moving = matches!(t.status, FileStatus::Accepted | FileStatus::Sent);
    let direction = if view.outgoing { "out" } else { "in" };
    let result = match t.status {
        FileStatus::Offered if view.outgoing => Some(Msg::FileWaitingAnswer),
        FileStatus::Sent if view.outgoing => Some(Msg::FileChecking),
        FileStatus::Delivered if view.outgoing => Some(Msg::FileDeliveredOut),
        FileStatus::Delivered => Some(Msg::FileDeliveredIn),
        FileStatus::Refused => Some(Msg::FileRefused),
        _ => None,
    }
    .map(|msg| i18n.t(msg));
    let reason = match t.status {
        FileStatus::Failed { reason } => Some(reason),
        _ => None,
    };
    let sender = props
        .technician
        .as_ref()
        .map(|n| n.to_string())
        .unwrap_or_else(|| i18n.t(Msg::Technician));
    let emit = |cb: &Callback<u32>| cb.reform(move |_: MouseEvent| file);
    html! {
        <li class={classes!("transfer", format!("transfer-{}", status_attr(t.status)))}
            data-file={file.to_string()} data-direction={direction} data-status={status_attr(t.status)}>
            <div class="transfer-head">
                <span class="transfer-direction">{ i18n.t(if view.outgoing { Msg::DirectionOut } else { Msg::DirectionIn }) }</span>
                <span class="transfer-name">{ name.clone() }</span>
                <span class="transfer-size">{ i18n.size(t.size) }</span>
            </div>
            if incoming_offer {
                <p class="transfer-offer">{ i18n.t(Msg::FileOffer { sender, name: name.clone(), size: i18n.size(t.size) }) }</p>
                <div class="actions">
                    <button type="button" class="accept-file primary" aria-label={i18n.t(Msg::AcceptFileLabel { name: name.clone() })}
                        onclick={emit(&props.on_accept)}>{ i18n.t(Msg::AcceptFile) }</button>
                    <button type="button" class="refuse-file secondary" aria-label={i18n.t(Msg::RefuseFileLabel { name: name.clone() })}
                        onclick={emit(&props.on_refuse)}>{ i18n.t(Msg::RefuseFile) }</button>
                </div>
            }
            if moving {
                <Moving progress={view.progress.clone()} size={t.size} name={AttrValue::from(name.clone())} />
            } else {
                <Still progress={view.progress.clone()} size={t.size} delivered={t.status == FileStatus::Delivered}
                    name={AttrValue::from(name.clone())} />
            }
            if cancellable {
                <button type="button" class="cancel-transfer secondary" aria-label={i18n.t(Msg::CancelTransferLabel { name: name.clone() })}
                    onclick={emit(&props.on_cancel)}>{ i18n.t(Msg::CancelTransfer) }</button>
            }
            if let Some(url) = view.url.clone() {
                if view.saved {
                    // Saved by itself already: say so, and offer a copy only as that.
                    <p class="file-saved" role="status">{ i18n.t(Msg::FileSavedToDownloads) }</p>
                    <a class="save-file-again link-button" href={url} download={safe_file_name(&name)}>
                        { i18n.t(Msg::SaveFileAgain) }
                    </a>
                } else {
                    <a class="save-file button-link" href={url} download={safe_file_name(&name)}
                        aria-label={i18n.t(Msg::SaveFileLabel { name: name.clone() })}>{ i18n.t(Msg::SaveFile) }</a>
                }
            }
            if let Some(words) = result {
                <p class="transfer-result" role="status">{ words }</p>
            }
            if let Some(reason) = reason {
                <p class="transfer-error" role="status" data-reason={failure_attr(reason)}>
                    { i18n.failure(reason, props.viewer) }
                </p>
            }
        </li>
    }
}

#[derive(Properties)]
struct MeterProps {
    progress: Rc<Progress>,
    size: u64,
    name: AttrValue,
    #[prop_or_default]
    delivered: bool,
}

impl PartialEq for MeterProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.progress, &other.progress)
            && self.size == other.size
            && self.name == other.name
            && self.delivered == other.delivered
    }
}

/// A transfer in flight: refreshed every [`REFRESH_MS`].
#[component]
fn Moving(props: &MeterProps) -> Html {
    let i18n = use_i18n();
    let now = use_now(REFRESH_MS);
    let (done, speed, left) = props.progress.sample(now, props.size);
    bar(
        &i18n,
        &props.name,
        done,
        props.size,
        speed
            .map(|s| i18n.speed(s))
            .unwrap_or_else(|| i18n.t(Msg::Unknown)),
        left.map(|s| i18n.time_left(s))
            .unwrap_or_else(|| i18n.t(Msg::Unknown)),
    )
}

/// A transfer not moving (offered, or over).
#[component]
fn Still(props: &MeterProps) -> Html {
    let i18n = use_i18n();
    let done = if props.delivered {
        props.size
    } else {
        props.progress.done().min(props.size)
    };
    bar(
        &i18n,
        &props.name,
        done,
        props.size,
        String::new(),
        String::new(),
    )
}

fn bar(i18n: &I18n, name: &str, done: u64, size: u64, speed: String, left: String) -> Html {
    // A bar needs a maximum above zero: an empty file is all done or not started.
    let (value, max) = if size == 0 {
        (u64::from(done > 0), 1)
    } else {
        (done, size)
    };
    let amount = i18n.progress_text(done, size);
    html! {
        <div class="transfer-meter">
            <progress class="transfer-progress" max={max.to_string()} value={value.to_string()}
                aria-label={i18n.t(Msg::ProgressLabel { name: name.to_owned() })} aria-valuetext={amount.clone()}></progress>
            <span class="transfer-amount">{ amount }</span>
            <span class="transfer-speed">{ speed }</span>
            <span class="transfer-eta">{ left }</span>
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct FilesCodeProps {
    /// The files link's verification code, while it is connected.
    pub code: Option<AttrValue>,
}

/// The files link's verification code (`#files-verification`), the same on both sides
/// when nobody is in between, as the screen's is.
#[component]
pub fn FilesCode(props: &FilesCodeProps) -> Html {
    let i18n = use_i18n();
    match &props.code {
        Some(code) => html! {
            <p id="files-verification" class="verification-code" data-code={code.clone()}>
                { i18n.t(Msg::VerificationFiles { code: code.to_string() }) }
            </p>
        },
        None => html! {},
    }
}

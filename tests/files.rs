//! Files, system information and the record in headless Chromium: a real transfer
//! between two peer connections in one page (hash checked, stop honoured), the
//! receiver's merged parts, the transfer rows in every state with their buttons, the
//! log lines of the new entries, the system information preview (exactly what is shown
//! is sent) and the console's panel, and the record buttons.
#![cfg(target_arch = "wasm32")]

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use common::*;
use connectit::customer::system_info::{SystemInfo, SystemInfoProps};
use connectit::files::hash::sha256_hex;
use connectit::files::link::FilesLink;
use connectit::files::receive::{Receiver, MERGE_BYTES};
use connectit::files::send::{send_blob, SendError};
use connectit::files::{Progress, TransferList, TransferListProps, TransferView};
use connectit::record::{RecordDownloads, RecordProps, RecordSource};
use connectit::rtc::PeerEvent;
use connectit::session::ChatLog;
use connectit_protocol::wire::SignalBody;
use connectit_protocol::{
    Author, EntryKind, FileFailure, FileStatus, FileTransfer, InfoItem, LogEntry, Role, SessionId,
};
use gloo_events::EventListener;
use gloo_timers::future::TimeoutFuture;
use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{Blob, MessageEvent, RtcDataChannel};
use yew::prelude::*;
use yew::scheduler::flush;

wasm_bindgen_test_configure!(run_in_browser);

fn text(root: &web_sys::Element, selector: &str) -> String {
    get(root, selector).text_content().unwrap_or_default()
}

/// Bytes that differ everywhere (so a misplaced chunk changes the hash).
fn data(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x1234_5678;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

fn blob_of(bytes: &[u8]) -> Blob {
    let array = Uint8Array::from(bytes);
    Blob::new_with_u8_array_sequence(&js_sys::Array::of1(&array)).expect("a blob")
}

async fn bytes_of(blob: &Blob) -> Vec<u8> {
    let buffer = JsFuture::from(blob.array_buffer()).await.expect("readable");
    Uint8Array::new(&buffer).to_vec()
}

/// Two files links in one page, wired as the broker would relay their signals, and
/// the channels the answering side saw open.
struct Pair {
    offerer: FilesLink,
    answerer: FilesLink,
    to_answerer: Rc<RefCell<Vec<SignalBody>>>,
    to_offerer: Rc<RefCell<Vec<SignalBody>>>,
    channels: Rc<RefCell<Vec<RtcDataChannel>>>,
}

impl Pair {
    fn new() -> Pair {
        let to_answerer: Rc<RefCell<Vec<SignalBody>>> = Rc::default();
        let to_offerer: Rc<RefCell<Vec<SignalBody>>> = Rc::default();
        let channels: Rc<RefCell<Vec<RtcDataChannel>>> = Rc::default();
        let offerer = {
            let out = to_answerer.clone();
            FilesLink::offer(
                &connectit_protocol::IceConfig::default(),
                Callback::from(move |e| {
                    if let PeerEvent::Signal(body) = e {
                        out.borrow_mut().push(body)
                    }
                }),
            )
            .expect("a peer connection")
        };
        let answerer = {
            let (out, channels) = (to_offerer.clone(), channels.clone());
            FilesLink::answer(
                &connectit_protocol::IceConfig::default(),
                Callback::from(move |e| match e {
                    PeerEvent::Signal(body) => out.borrow_mut().push(body),
                    PeerEvent::Channel(c) => channels.borrow_mut().push(c),
                    _ => {}
                }),
            )
            .expect("a peer connection")
        };
        Pair {
            offerer,
            answerer,
            to_answerer,
            to_offerer,
            channels,
        }
    }

    fn pump(&self) {
        for body in self.to_answerer.take() {
            self.answerer.receive(body);
        }
        for body in self.to_offerer.take() {
            self.offerer.receive(body);
        }
    }

    /// Relays signals until the answering side has a channel labelled `label`.
    async fn channel(&self, label: &str) -> RtcDataChannel {
        for _ in 0..200 {
            self.pump();
            if let Some(c) = self.channels.borrow().iter().find(|c| c.label() == label) {
                return c.clone();
            }
            TimeoutFuture::new(25).await;
        }
        panic!("no channel {label}");
    }
}

/// Collects what arrives on `channel` into a receiver.
fn collect(channel: &RtcDataChannel) -> (Rc<RefCell<Receiver>>, EventListener) {
    let receiver = Rc::new(RefCell::new(Receiver::new()));
    let sink = receiver.clone();
    let listener = EventListener::new(channel, "message", move |event| {
        let buffer = event
            .dyn_ref::<MessageEvent>()
            .and_then(|e| e.data().dyn_into::<ArrayBuffer>().ok())
            .expect("binary messages");
        sink.borrow_mut().push(&buffer).expect("kept");
    });
    (receiver, listener)
}

#[wasm_bindgen_test]
async fn a_file_crosses_a_real_data_channel_with_its_hash() {
    let pair = Pair::new();
    pair.channel("control").await;
    let sending = pair.offerer.open(1).expect("a channel");
    let arriving = pair.channel("file-1").await;
    let (receiver, _listener) = collect(&arriving);

    // Three read blocks and a bit: chunks straddle every boundary.
    let original = data(3 * 1024 * 1024 + 12_345);
    let stop = Cell::new(false);
    let handed = Cell::new(0);
    let started = js_sys::Date::now();
    let sha256 = send_blob(
        &blob_of(&original),
        &sending,
        pair.offerer.chunk_bytes(),
        &stop,
        &handed,
    )
    .await
    .expect("every byte sent");
    assert_eq!(handed.get(), original.len() as u64);
    assert_eq!(
        sha256,
        sha256_hex(&original),
        "the sender's incremental hash"
    );
    for _ in 0..400 {
        if receiver.borrow().received() == original.len() as u64 {
            break;
        }
        TimeoutFuture::new(10).await;
    }
    let elapsed = js_sys::Date::now() - started;
    web_sys::console::log_1(
        &format!(
            "{} bytes in {elapsed:.0} ms over the data channel: {:.1} MB/s",
            original.len(),
            original.len() as f64 / 1000.0 / elapsed.max(1.0)
        )
        .into(),
    );
    let receiver = receiver.replace(Receiver::new());
    assert_eq!(receiver.received(), original.len() as u64);
    let (received_hash, blob) = receiver.finish().expect("one blob");
    assert_eq!(received_hash, sha256, "the receiver's hash is the sender's");
    assert_eq!(blob.size() as usize, original.len());
    assert_eq!(bytes_of(&blob).await, original, "the bytes, in order");
    sending.close();
}

#[wasm_bindgen_test]
async fn a_stopped_transfer_stops_reading_and_sending() {
    let pair = Pair::new();
    pair.channel("control").await;
    let sending = pair.offerer.open(2).expect("a channel");
    let arriving = pair.channel("file-2").await;
    let (receiver, _listener) = collect(&arriving);
    let original = data(32 * 1024 * 1024);
    let stop = Rc::new(Cell::new(false));
    let handed = Rc::new(Cell::new(0));
    let result: Rc<RefCell<Option<Result<String, SendError>>>> = Rc::default();
    {
        let (stop, handed, result, sending) = (
            stop.clone(),
            handed.clone(),
            result.clone(),
            sending.clone(),
        );
        let blob = blob_of(&original);
        wasm_bindgen_futures::spawn_local(async move {
            let r = send_blob(&blob, &sending, 64 * 1024, &stop, &handed).await;
            *result.borrow_mut() = Some(r);
        });
    }
    while receiver.borrow().received() < 1024 * 1024 {
        TimeoutFuture::new(5).await;
    }
    stop.set(true);
    for _ in 0..200 {
        if result.borrow().is_some() {
            break;
        }
        TimeoutFuture::new(10).await;
    }
    assert_eq!(*result.borrow(), Some(Err(SendError::Stopped)));
    let at_stop = handed.get();
    assert!(at_stop < original.len() as u64, "stopped before the end");
    TimeoutFuture::new(200).await;
    assert_eq!(handed.get(), at_stop, "nothing more was read or sent");

    // A channel closed by the other side ends the send too.
    let sending = pair.offerer.open(3).expect("a channel");
    let arriving = pair.channel("file-3").await;
    arriving.close();
    let stop = Cell::new(false);
    let handed = Cell::new(0);
    TimeoutFuture::new(100).await;
    let r = send_blob(&blob_of(&original), &sending, 64 * 1024, &stop, &handed).await;
    assert_eq!(r, Err(SendError::Closed));
}

#[wasm_bindgen_test]
async fn the_receiver_merges_its_parts_and_keeps_every_byte() {
    let original = data((MERGE_BYTES as usize) * 2 + 100_000);
    let mut receiver = Receiver::new();
    for chunk in original.chunks(65_536) {
        let array = Uint8Array::from(chunk);
        receiver.push(&array.buffer()).expect("kept");
    }
    assert_eq!(receiver.received(), original.len() as u64);
    let (hash, blob) = receiver.finish().expect("one blob");
    assert_eq!(hash, sha256_hex(&original));
    assert_eq!(bytes_of(&blob).await, original);
    let (empty, blob) = Receiver::new().finish().expect("an empty blob");
    assert_eq!(empty, sha256_hex(b""));
    assert_eq!(blob.size(), 0.0);
}

fn transfer(file: u32, from: Role, status: FileStatus) -> FileTransfer {
    FileTransfer {
        file,
        from,
        name: format!("<b>report-{file}</b>.pdf"),
        size: 2_100_000,
        status,
        sha256: None,
    }
}

fn view(t: FileTransfer, viewer: Role, done: u64, url: Option<&str>) -> TransferView {
    TransferView {
        outgoing: t.from == viewer,
        transfer: t,
        progress: Rc::new(Progress::at(done)),
        url: url.map(|u| AttrValue::from(u.to_owned())),
        saved: false,
    }
}

fn recorder<T: 'static>() -> (Rc<RefCell<Vec<T>>>, Callback<T>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    (seen, Callback::from(move |v| sink.borrow_mut().push(v)))
}

#[wasm_bindgen_test]
async fn transfer_rows_show_each_state_with_its_buttons() {
    let customer = Role::Customer;
    let technician = Role::Technician;
    let transfers = vec![
        view(
            transfer(1, technician, FileStatus::Offered),
            customer,
            0,
            None,
        ),
        view(
            transfer(2, technician, FileStatus::Accepted),
            customer,
            700_000,
            None,
        ),
        view(
            transfer(3, customer, FileStatus::Sent),
            customer,
            2_100_000,
            None,
        ),
        view(
            transfer(4, technician, FileStatus::Delivered),
            customer,
            2_100_000,
            Some("blob:http://localhost/x"),
        ),
        view(
            transfer(5, technician, FileStatus::Refused),
            customer,
            0,
            None,
        ),
        view(
            transfer(
                6,
                customer,
                FileStatus::Failed {
                    reason: FileFailure::Cancelled {
                        by: Role::Technician,
                    },
                },
            ),
            customer,
            100,
            None,
        ),
    ];
    let root = fresh_root();
    let (accepted, on_accept) = recorder::<u32>();
    let (refused, on_refuse) = recorder::<u32>();
    let (cancelled, on_cancel) = recorder::<u32>();
    yew::Renderer::<TransferList>::with_root_and_props(
        root.clone(),
        TransferListProps {
            transfers,
            viewer: customer,
            technician: Some("Tess".into()),
            on_accept,
            on_refuse,
            on_cancel,
        },
    )
    .render();
    flush().await;
    let row = |f: u32| get(&root, &format!("#transfers li.transfer[data-file='{f}']"));
    let attr = |f: u32, a: &str| row(f).get_attribute(a).unwrap_or_default();
    assert_eq!(all(&root, "#transfers li.transfer").len(), 6);

    // The offer: name, size and sender as text, Accept and Refuse, no Cancel.
    assert_eq!(attr(1, "data-status"), "offered");
    assert_eq!(attr(1, "data-direction"), "in");
    let offer = text(&row(1), ".transfer-offer");
    assert_eq!(offer, "Tess offers you <b>report-1</b>.pdf (2.1 MB)");
    assert!(find(&row(1), "b").is_none(), "names are never HTML");
    assert!(find(&row(1), "button.cancel-transfer").is_none());
    click(&get(&row(1), "button.accept-file"));
    click(&get(&row(1), "button.refuse-file"));
    assert_eq!(*accepted.borrow(), vec![1]);
    assert_eq!(*refused.borrow(), vec![1]);

    // In flight: progress in bytes, speed, time left, Cancel.
    let bar = get(&row(2), "progress.transfer-progress");
    assert_eq!(bar.get_attribute("max").as_deref(), Some("2100000"));
    assert_eq!(bar.get_attribute("value").as_deref(), Some("700000"));
    assert!(bar
        .get_attribute("aria-valuetext")
        .unwrap_or_default()
        .contains("700 kB of 2.1 MB"));
    assert!(find(&row(2), ".transfer-speed").is_some());
    assert!(find(&row(2), ".transfer-eta").is_some());
    click(&get(&row(2), "button.cancel-transfer"));
    assert_eq!(*cancelled.borrow(), vec![2]);
    assert!(find(&row(2), "button.accept-file").is_none());

    // Ours, sent and being checked: still cancellable.
    assert_eq!(attr(3, "data-direction"), "out");
    assert_eq!(attr(3, "data-status"), "sent");
    assert!(find(&row(3), "button.cancel-transfer").is_some());

    // Delivered: the download link with a safe name; no Cancel.
    let link = get(&row(4), "a.save-file");
    assert_eq!(
        link.get_attribute("href").as_deref(),
        Some("blob:http://localhost/x")
    );
    assert_eq!(link.get_attribute("download").as_deref(), Some("b_.pdf"));
    assert!(find(&row(4), "button.cancel-transfer").is_none());

    assert_eq!(attr(5, "data-status"), "refused");
    assert!(find(&row(5), "button").is_none());
    assert_eq!(attr(6, "data-status"), "failed");
    assert_eq!(
        text(&row(6), ".transfer-error"),
        "Cancelled by the support representative."
    );
    assert!(find(&row(6), "button.cancel-transfer").is_none());
}

fn entry(seq: u64, author: Author, kind: EntryKind) -> LogEntry {
    LogEntry {
        seq,
        at: 1_700_000_000_000,
        author,
        kind,
    }
}

#[wasm_bindgen_test]
async fn file_and_system_information_entries_are_log_lines() {
    let hash = "3f2a".repeat(16);
    let entries = connectit::session::Entries::from(vec![
        entry(
            1,
            Author::Technician,
            EntryKind::TechnicianPickedUp {
                name: "Tess".into(),
            },
        ),
        entry(
            2,
            Author::Technician,
            EntryKind::FileOffered {
                file: 1,
                name: "report.pdf".into(),
                size: 2_100_000,
            },
        ),
        entry(3, Author::Customer, EntryKind::FileAccepted { file: 1 }),
        entry(
            4,
            Author::Technician,
            EntryKind::FileSent {
                file: 1,
                sha256: hash.clone(),
            },
        ),
        entry(
            5,
            Author::Customer,
            EntryKind::FileDelivered {
                file: 1,
                sha256: hash.clone(),
            },
        ),
        entry(
            6,
            Author::Customer,
            EntryKind::FileOffered {
                file: 2,
                name: "log.txt".into(),
                size: 512,
            },
        ),
        entry(
            7,
            Author::Customer,
            EntryKind::FileFailed {
                file: 2,
                reason: FileFailure::Cancelled { by: Role::Customer },
            },
        ),
        entry(
            8,
            Author::Technician,
            EntryKind::FileOffered {
                file: 3,
                name: "big.iso".into(),
                size: 9,
            },
        ),
        entry(9, Author::Customer, EntryKind::FileRefused { file: 3 }),
        entry(
            10,
            Author::Customer,
            EntryKind::SystemInfoShared {
                items: (0..9)
                    .map(|i| InfoItem {
                        label: format!("L{i}"),
                        value: "v".into(),
                    })
                    .collect(),
            },
        ),
    ]);
    for (viewer, offered, cancelled, info) in [
        (
            Role::Customer,
            "Tess offers you a file: report.pdf (2.1 MB)",
            "log.txt was cancelled by you",
            "You shared system information (9 items)",
        ),
        (
            Role::Technician,
            "You offered the customer a file: report.pdf (2.1 MB)",
            "log.txt was cancelled by the customer",
            "The customer shared system information (9 items)",
        ),
    ] {
        let root = fresh_root();
        yew::Renderer::<ChatLog>::with_root_and_props(
            root.clone(),
            connectit::session::chat::ChatLogProps {
                entries: entries.clone(),
                viewer,
                me: None,
            },
        )
        .render();
        flush().await;
        let lines = all(&root, "li[data-kind=file_offered] .entry-text");
        assert_eq!(lines[0].text_content().unwrap_or_default(), offered);
        assert_eq!(
            text(&root, "li[data-kind=file_delivered] .entry-text"),
            "report.pdf (2.1 MB) arrived intact (SHA-256 3f2a3f2a3f2a…)"
        );
        assert_eq!(
            text(&root, "li[data-kind=file_failed] .entry-text"),
            cancelled
        );
        assert_eq!(
            text(&root, "li[data-kind=system_info_shared] .entry-text"),
            info
        );
        for kind in ["file_accepted", "file_sent", "file_refused"] {
            assert!(find(&root, &format!("li.entry[data-kind={kind}]")).is_some());
        }
        assert!(text(&root, "li[data-kind=file_accepted] .entry-text").contains("report.pdf"));
        assert!(text(&root, "li[data-kind=file_refused] .entry-text").contains("big.iso"));
    }
}

#[wasm_bindgen_test]
async fn the_preview_sends_exactly_what_it_shows() {
    let root = fresh_root();
    let (sent, on_send_seen) = recorder::<Vec<InfoItem>>();
    let on_send = Callback::from(move |items: Vec<InfoItem>| {
        on_send_seen.emit(items);
        Ok(1)
    });
    yew::Renderer::<SystemInfo>::with_root_and_props(
        root.clone(),
        SystemInfoProps {
            due: true,
            connections: Rc::new(Vec::new),
            on_send,
            busy: false,
        },
    )
    .render();
    for _ in 0..100 {
        flush().await;
        if find(&root, "#system-info-preview").is_some() {
            break;
        }
        TimeoutFuture::new(20).await;
    }
    let rows = all(&root, "#system-info-preview tr[data-label]");
    assert!(rows.len() >= 8, "{} rows", rows.len());
    let shown: Vec<InfoItem> = rows
        .iter()
        .map(|r| InfoItem {
            label: r.get_attribute("data-label").unwrap_or_default(),
            value: text(r, "td"),
        })
        .collect();
    assert!(shown
        .iter()
        .any(|i| i.label == "Browser" && i.value.contains("Chrom")));
    click(&get(&root, "#send-system-info"));
    flush().await;
    assert_eq!(*sent.borrow(), vec![shown], "what was shown, no more");
    assert!(find(&root, "#system-info-preview").is_none());
    // Again, then Cancel: nothing more is sent.
    click(&get(&root, "#prepare-system-info"));
    for _ in 0..100 {
        flush().await;
        if find(&root, "#cancel-system-info").is_some() {
            break;
        }
        TimeoutFuture::new(20).await;
    }
    click(&get(&root, "#cancel-system-info"));
    flush().await;
    assert_eq!(sent.borrow().len(), 1);
    assert!(find(&root, "#system-info-preview").is_none());
}

#[wasm_bindgen_test]
async fn the_console_shows_the_last_report_with_copy() {
    let entries = connectit::session::Entries::from(vec![entry(
        1,
        Author::Customer,
        EntryKind::SystemInfoShared {
            items: vec![
                InfoItem {
                    label: "Browser".into(),
                    value: "Chrome 156".into(),
                },
                InfoItem {
                    label: "Operating system".into(),
                    value: "<i>Linux</i>".into(),
                },
            ],
        },
    )]);
    let root = fresh_root();
    yew::Renderer::<connectit::console::system_info::SystemInfoPanel>::with_root_and_props(
        root.clone(),
        connectit::console::system_info::SystemInfoPanelProps { entries },
    )
    .render();
    flush().await;
    let rows = all(&root, "#system-info tr[data-label]");
    assert_eq!(rows.len(), 2);
    assert_eq!(text(&rows[1], "td"), "<i>Linux</i>");
    assert!(find(&root, "#copy-system-info").is_some());
}

#[wasm_bindgen_test]
async fn the_record_buttons_are_there() {
    let root = fresh_root();
    yew::Renderer::<RecordDownloads>::with_root_and_props(
        root.clone(),
        RecordProps {
            source: RecordSource::Technician {
                session: SessionId("abcdefghijkl".into()),
            },
        },
    )
    .render();
    flush().await;
    assert!(find(&root, "#download-record-html").is_some());
    assert!(find(&root, "#download-record-json").is_some());
    assert_eq!(
        connectit::record::default_name(
            &SessionId("abcdefghijkl".into()),
            connectit_protocol::api::RecordFormat::Json
        ),
        "connectit-session-abcdefgh.json"
    );
    assert_eq!(
        connectit::api::attachment_name("attachment; filename=\"connectit-session-x.html\""),
        Some("connectit-session-x.html".to_owned())
    );
}

#[wasm_bindgen_test]
fn a_fresh_grant_opens_the_preview_once() {
    use connectit::customer::system_info::report_due;
    use connectit_protocol::Permission;
    let granted = |seq| {
        entry(
            seq,
            Author::Customer,
            EntryKind::PermissionGranted {
                request: 1,
                granted: vec![Permission::SystemInfo],
                until: None,
            },
        )
    };
    let shared = |seq| {
        entry(
            seq,
            Author::Customer,
            EntryKind::SystemInfoShared {
                items: vec![InfoItem {
                    label: "Browser".into(),
                    value: "Chrome".into(),
                }],
            },
        )
    };
    assert!(!report_due(&[]));
    assert!(report_due(&[granted(1)]));
    assert!(!report_due(&[granted(1), shared(2)]));
    assert!(report_due(&[granted(1), shared(2), granted(3)]));
}

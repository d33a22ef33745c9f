//! Files both ways, system information and the customer's record (issue 4), through the
//! real broker, the real build and two headless Chromium browsers.
//!
//! Each test has its own broker and browsers and starts from an active session (sign
//! in, create, join, accept, pick up), then asks for what it needs through the prompt.
//! Test files are random bytes written to temporary folders; each browser saves
//! downloads in its own temporary folder, where the test reads them back and compares
//! SHA-256 with the source.
//!
//! Covered: 20 MB each way with matching SHA-256 (and the drop zone), refusal, cancel
//! midway by the receiver and by the sender, a file over `max_file_bytes` refused in the
//! page with no offer made, a revoked "send files" grant stopping a running transfer, a
//! byte changed on the way (hash mismatch, nothing saved), file names shown as text and
//! saved cleaned, system information previewed/sent/shown, and the record: downloaded,
//! verified by `connectit-broker verify-record`, caught after one changed byte.
//!
//! Run with `cargo test -p connectit-e2e --test files -- --test-threads=2` after
//! `cargo build -p connectit-broker` and `scripts/build-app`.

use connectit_protocol::{Author, EntryType};
use std::time::Duration;

use connectit_e2e::proof;
use connectit_e2e::{
    db, sha256_file, BrokerOptions, Browser, Console, Customer, TestFile, Transfer, World,
};
use serde_json::{json, Value};

/// A file "each way" in the issue: 20 MB.
const TWENTY_MB: u64 = 20_000_000;
/// Big enough to still be on its way when a test stops it (hundreds of 64 KiB chunks,
/// seconds on these machines).
const BIG: u64 = 150 * 1024 * 1024;

/// The technician asks for `permissions`, the customer grants them all; both sides list
/// them.
async fn grant(console: &Console<'_>, customer: &Customer<'_>, permissions: &[&str]) {
    let request = console
        .request_permissions(permissions, "To move a few files")
        .await;
    customer.wait_prompt_for(request).await;
    customer.grant_all().await;
    console.wait_granted(permissions).await;
    customer.wait_granted(permissions).await;
}

/// Waits until both pages' logs hold an entry of `kind`.
async fn both_log(w: &World, kind: EntryType) {
    tokio::join!(w.tech.wait_entry_kind(kind), w.cust.wait_entry_kind(kind));
}

/// The stored entries of `kind` in the session's log: author and the entry's `data`.
fn stored(w: &World, session: &str, kind: &str) -> Vec<(String, Value)> {
    db::entries(&w.broker.db_path(), session)
        .into_iter()
        .filter_map(|(_, author, json)| {
            let value: Value = serde_json::from_str(&json)
                .unwrap_or_else(|e| panic!("a stored entry is not JSON ({e}): {json}"));
            (value["type"] == kind).then(|| (author, value["data"].clone()))
        })
        .collect()
}

/// The text of the first log line of `kind` on a page.
async fn line_text(browser: &Browser, kind: EntryType) -> String {
    browser
        .chat_entries("#chat-log")
        .await
        .into_iter()
        .find(|e| e.kind == Some(kind))
        .and_then(|e| e.text)
        .unwrap_or_default()
}

/// No finished file in `browser`'s download folder, after giving a stray one time to land.
async fn assert_no_download(browser: &Browser, why: &str) {
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        browser.download_names(),
        Vec::<String>::new(),
        "{why}: nothing is saved"
    );
}

/// The technician offers the file and the customer sees the offer (name, size, sender,
/// accept and refuse); the console shows the same transfer id waiting. Returns it.
async fn offer_to_customer(
    w: &World,
    console: &Console<'_>,
    customer: &Customer<'_>,
    file: &TestFile,
) -> u32 {
    console.send_files(&[file]).await;
    let offer = customer.wait_offer(&file.name).await.file;
    let out = w
        .tech
        .wait_transfer(
            &format!("the outgoing transfer {offer} at the console"),
            Duration::from_secs(15),
            |t| t.file == offer && t.direction == "out" && t.name.contains(&file.name),
        )
        .await;
    assert_eq!(
        out.status, "offered",
        "the technician's file waits for the customer: {out:?}"
    );
    offer
}

/// 20 MB from the technician: the customer is asked (name, size, sender), accepts, the
/// file lands in the customer's download folder with the source's SHA-256; both pages
/// show it delivered, both logs have every step, with the hash.
#[tokio::test(flavor = "multi_thread")]
async fn technician_sends_a_file_the_customer_accepts() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, session) = w.active_session().await;
    grant(&console, &customer, &["send_files"]).await;

    let file = TestFile::random("from-tess.bin", TWENTY_MB);
    let id = offer_to_customer(&w, &console, &customer, &file).await;
    let offer = customer.wait_offer(&file.name).await;
    assert!(
        offer.text.chars().any(|c| c.is_ascii_digit()),
        "the offer shows the size: {offer:?}"
    );
    let sender = w.broker.technician().display_name.to_lowercase();
    let text = offer.text.to_lowercase();
    assert!(
        text.contains(&sender) || text.contains("technician"),
        "the offer says who sends it: {offer:?}"
    );

    customer.accept_file(id).await;
    let (out, inn) = tokio::join!(
        w.tech.wait_file_status(id, "delivered"),
        w.cust.wait_file_status(id, "delivered")
    );
    assert_eq!(
        (out.direction.as_str(), inn.direction.as_str()),
        ("out", "in")
    );
    assert!(
        inn.can_save,
        "the customer keeps a link to the file: {inn:?}"
    );
    assert!(
        !out.can_cancel && !inn.can_cancel,
        "no Cancel once delivered: {out:?} {inn:?}"
    );

    let saved = w
        .cust
        .wait_download_named(&file.name, Some(file.size))
        .await;
    assert_eq!(sha256_file(&saved), file.sha256, "the saved file's SHA-256");

    for kind in [
        EntryType::FileOffered,
        EntryType::FileAccepted,
        EntryType::FileSent,
        EntryType::FileDelivered,
    ] {
        both_log(&w, kind).await;
    }
    for browser in [&w.tech, &w.cust] {
        let line = line_text(browser, EntryType::FileDelivered).await;
        assert!(
            line.contains(&file.sha256[..12]),
            "the delivered line shows the SHA-256 ({}…): {line:?}",
            &file.sha256[..12]
        );
    }
    let delivered = stored(&w, &session.id, "file_delivered");
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(delivered[0].0, "customer", "the receiver reports delivery");
    assert_eq!(delivered[0].1["sha256"], file.sha256.as_str());
    let sent = stored(&w, &session.id, "file_sent");
    assert_eq!(sent[0].1["sha256"], file.sha256.as_str());
    let offered = stored(&w, &session.id, "file_offered");
    assert_eq!(offered[0].1["size"], file.size);
    assert_eq!(offered[0].1["name"], file.name.as_str());

    w.close().await;
}

/// 20 MB from the customer: no question for the technician, it arrives, the technician
/// saves it with `a.save-file`, same SHA-256; both logs show it delivered.
#[tokio::test(flavor = "multi_thread")]
async fn customer_sends_a_file_the_technician_saves() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, session) = w.active_session().await;
    grant(&console, &customer, &["receive_files"]).await;

    let file = TestFile::random("customer-log.bin", TWENTY_MB);
    customer.send_files(&[&file]).await;
    let out = w.cust.wait_transfer_status(&file.name, "delivered").await;
    let inn = w.tech.wait_file_status(out.file, "delivered").await;
    assert_eq!(
        (out.direction.as_str(), inn.direction.as_str()),
        ("out", "in")
    );
    assert!(inn.can_save, "the console offers a.save-file: {inn:?}");
    // The files link shows its verification code on both sides, the same.
    let (theirs, mine) = tokio::join!(
        proof::shown_code(&w.cust, proof::FILES_CODE),
        proof::shown_code(&w.tech, proof::FILES_CODE)
    );
    assert_eq!(theirs, mine, "the same two certificates on both ends");

    let saved = console.save_file(inn.file).await;
    assert_eq!(
        saved.file_name().map(|n| n.to_string_lossy().into_owned()),
        Some(file.name.clone()),
        "saved under its (safe) name"
    );
    assert_eq!(
        std::fs::metadata(&saved).map(|m| m.len()).ok(),
        Some(file.size)
    );
    assert_eq!(sha256_file(&saved), file.sha256, "the saved file's SHA-256");

    for kind in [
        EntryType::FileOffered,
        EntryType::FileSent,
        EntryType::FileDelivered,
    ] {
        both_log(&w, kind).await;
    }
    for browser in [&w.tech, &w.cust] {
        let line = line_text(browser, EntryType::FileDelivered).await;
        assert!(
            line.contains(&file.sha256[..12]),
            "the delivered line shows the SHA-256: {line:?}"
        );
    }
    let delivered = stored(&w, &session.id, "file_delivered");
    assert_eq!(delivered.len(), 1, "{delivered:?}");
    assert_eq!(
        delivered[0].0, "technician",
        "the receiver reports delivery"
    );
    assert_eq!(delivered[0].1["sha256"], file.sha256.as_str());

    // The drop zone sends too: a file made in the page, dropped on #file-drop.
    let (name, size) = ("dropped.log", 100_000usize);
    w.cust.wait_visible("#file-drop").await;
    w.cust
        .eval(
            DROP_FILE,
            vec![json!("#file-drop"), json!(name), json!(size)],
        )
        .await;
    let out = w.cust.wait_transfer_status(name, "delivered").await;
    w.tech.wait_file_status(out.file, "delivered").await;
    let saved = console.save_file(out.file).await;
    let pattern: Vec<u8> = (0..size).map(|i| ((i * 7 + 3) % 251) as u8).collect();
    assert_eq!(
        std::fs::read(&saved).ok(),
        Some(pattern),
        "the dropped bytes"
    );

    w.close().await;
}

/// `arguments`: the drop zone, a file name and a size. Drops a page-made file of that
/// size (byte i is (7i + 3) mod 251) on the zone, as a drag from the desktop would.
const DROP_FILE: &str = r#"
const [selector, name, size] = arguments;
const bytes = new Uint8Array(size);
for (let i = 0; i < size; i++) bytes[i] = (i * 7 + 3) % 251;
const dt = new DataTransfer();
dt.items.add(new File([bytes], name, { type: 'application/octet-stream' }));
const zone = document.querySelector(selector);
for (const type of ['dragenter', 'dragover', 'drop']) {
  zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
}
return true;
"#;

/// The customer refuses: both sides show it refused, both logs say so, and not one
/// byte moves (nothing saved, no progress).
#[tokio::test(flavor = "multi_thread")]
async fn customer_refuses_a_file() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, session) = w.active_session().await;
    grant(&console, &customer, &["send_files"]).await;

    let file = TestFile::random("unwanted.exe", 1024 * 1024);
    let id = offer_to_customer(&w, &console, &customer, &file).await;
    customer.refuse_file(id).await;
    let (out, inn) = tokio::join!(
        w.tech.wait_file_status(id, "refused"),
        w.cust.wait_file_status(id, "refused")
    );
    both_log(&w, EntryType::FileRefused).await;
    assert_no_download(&w.cust, "after a refusal").await;
    for t in [&out, &inn] {
        assert_eq!(t.done_bytes(), 0.0, "no byte moved: {t:?}");
        assert!(!t.can_cancel && !t.can_accept, "nothing left to do: {t:?}");
    }
    let refused = stored(&w, &session.id, "file_refused");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].0, "customer");
    assert!(stored(&w, &session.id, "file_sent").is_empty());
    assert_eq!(
        w.tech.count_entry_kind(EntryType::FileSent).await
            + w.cust.count_entry_kind(EntryType::FileSent).await,
        0
    );

    w.close().await;
}

/// Cancel midway: the customer cancels a big file while its bytes flow; both sides show
/// it failed and stop (the technician's progress holds still), nothing is saved, and
/// the log says the customer cancelled.
#[tokio::test(flavor = "multi_thread")]
async fn customer_cancels_a_transfer_midway() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, session) = w.active_session().await;
    grant(&console, &customer, &["send_files"]).await;

    let file = TestFile::random("big-update.iso", BIG);
    let id = offer_to_customer(&w, &console, &customer, &file).await;
    customer.accept_file(id).await;
    let midway = w.cust.wait_file_midway(id).await;
    assert!(midway.can_cancel, "Cancel while in flight: {midway:?}");
    let sending = w.tech.wait_file_midway(id).await;
    for t in [&midway, &sending] {
        assert!(
            t.speed.is_some() && t.eta.is_some(),
            "a transfer in flight shows its speed and time left: {t:?}"
        );
    }
    w.cust.cancel_transfer(id).await;

    let (out, inn) = tokio::join!(
        w.tech.wait_file_status(id, "failed"),
        w.cust.wait_file_status(id, "failed")
    );
    assert!(
        inn.done_bytes() < file.size as f64,
        "stopped before the end: {inn:?}"
    );
    for t in [&out, &inn] {
        assert!(
            t.error.as_deref().is_some_and(|e| !e.is_empty()),
            "a failed transfer says why: {t:?}"
        );
        assert!(!t.can_cancel && !t.can_save, "{t:?}");
    }
    both_log(&w, EntryType::FileFailed).await;
    let failed = stored(&w, &session.id, "file_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "customer", "the canceller writes the entry");
    assert_eq!(failed[0].1["reason"]["why"], "cancelled", "{failed:?}");
    assert_eq!(failed[0].1["reason"]["by"], "customer", "{failed:?}");
    assert!(stored(&w, &session.id, "file_delivered").is_empty());

    // The sender stopped reading: its progress holds still.
    let before = w.tech.wait_file_status(id, "failed").await.done_bytes();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let after = w.tech.wait_file_status(id, "failed").await.done_bytes();
    assert_eq!(before, after, "the technician's side stopped sending");
    assert_no_download(&w.cust, "after a cancel").await;

    w.close().await;
}

/// Cancel from the sending side: the technician cancels its own file while it flows;
/// the customer's side stops too, nothing is saved, the log says the technician did it.
#[tokio::test(flavor = "multi_thread")]
async fn technician_cancels_its_file_midway() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, session) = w.active_session().await;
    grant(&console, &customer, &["send_files"]).await;

    let file = TestFile::random("wrong-driver.zip", BIG);
    let id = offer_to_customer(&w, &console, &customer, &file).await;
    customer.accept_file(id).await;
    w.tech.wait_file_midway(id).await;
    w.tech.cancel_transfer(id).await;

    let (out, inn) = tokio::join!(
        w.tech.wait_file_status(id, "failed"),
        w.cust.wait_file_status(id, "failed")
    );
    for t in [&out, &inn] {
        assert!(
            t.error.as_deref().is_some_and(|e| !e.is_empty()),
            "a failed transfer says why: {t:?}"
        );
    }
    both_log(&w, EntryType::FileFailed).await;
    let failed = stored(&w, &session.id, "file_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "technician");
    assert_eq!(failed[0].1["reason"]["by"], "technician", "{failed:?}");
    assert!(
        stored(&w, &session.id, "file_sent").is_empty(),
        "stopped before the end"
    );
    assert_no_download(&w.cust, "after the sender cancelled").await;

    w.close().await;
}

/// `arguments`: none. From now on the first chunk sent on a `file-*` data channel has
/// its first byte flipped (a copy is sent; the page's own buffer is left alone).
const CORRUPT_FIRST_CHUNK: &str = r#"
const original = RTCDataChannel.prototype.send;
window.__corrupted = 0;
RTCDataChannel.prototype.send = function (data) {
  if (window.__corrupted === 0 && this.label.startsWith('file-')
      && (data instanceof ArrayBuffer || ArrayBuffer.isView(data))) {
    const view = data instanceof ArrayBuffer
      ? new Uint8Array(data)
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const copy = new Uint8Array(view);
    copy[0] ^= 0xff;
    window.__corrupted += 1;
    return original.call(this, copy);
  }
  return original.call(this, data);
};
return true;
"#;

/// A byte changed on the way: the receiver's SHA-256 differs from the sender's, the
/// transfer fails on both sides as a hash mismatch, and nothing is saved.
#[tokio::test(flavor = "multi_thread")]
async fn a_changed_byte_fails_the_hash_check_and_nothing_is_saved() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, session) = w.active_session().await;
    grant(&console, &customer, &["send_files"]).await;

    let file = TestFile::random("firmware.bin", 2 * 1024 * 1024);
    w.tech.eval(CORRUPT_FIRST_CHUNK, vec![]).await;
    let id = offer_to_customer(&w, &console, &customer, &file).await;
    customer.accept_file(id).await;

    let (out, inn) = tokio::join!(
        w.tech.wait_file_status(id, "failed"),
        w.cust.wait_file_status(id, "failed")
    );
    assert_eq!(
        w.tech.eval("return window.__corrupted;", vec![]).await,
        json!(1),
        "one chunk was changed on its way"
    );
    for t in [&out, &inn] {
        assert!(
            t.error.as_deref().is_some_and(|e| !e.is_empty()),
            "the mismatch is shown: {t:?}"
        );
        assert!(!t.can_save, "{t:?}");
    }
    both_log(&w, EntryType::FileFailed).await;
    let failed = stored(&w, &session.id, "file_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "customer", "the receiver finds the mismatch");
    assert_eq!(failed[0].1["reason"]["why"], "hash_mismatch", "{failed:?}");
    assert_eq!(
        stored(&w, &session.id, "file_sent")[0].1["sha256"],
        file.sha256.as_str(),
        "the sender reported the true hash"
    );
    assert!(stored(&w, &session.id, "file_delivered").is_empty());
    assert_no_download(&w.cust, "after a hash mismatch").await;

    w.close().await;
}

/// A file name full of markup is shown as text (no element made of it) and saved under
/// its cleaned name (`safe_file_name`).
#[tokio::test(flavor = "multi_thread")]
async fn file_names_are_text_and_cleaned_for_saving() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;
    grant(&console, &customer, &["send_files"]).await;

    let name = "<img src=x onerror=\"window.__xss=1\">report?.txt";
    let file = TestFile::random(name, 10_000);
    let id = offer_to_customer(&w, &console, &customer, &file).await;
    for browser in [&w.tech, &w.cust] {
        let shown = browser
            .eval(
                "const e = document.querySelector(arguments[0] + ' .transfer-name'); \
                 return [e ? e.textContent : null, !!document.querySelector('#transfers img')];",
                vec![json!(Transfer::selector(id))],
            )
            .await;
        assert!(
            shown[0].as_str().is_some_and(|t| t.contains(name)),
            "the name is shown as text: {shown}"
        );
        assert_eq!(shown[1], json!(false), "no element made of the name");
    }
    customer.accept_file(id).await;
    w.cust.wait_file_status(id, "delivered").await;
    let safe = connectit_protocol::files::safe_file_name(name);
    let saved = w.cust.wait_download_named(&safe, Some(file.size)).await;
    assert_eq!(sha256_file(&saved), file.sha256);
    assert_eq!(
        w.cust
            .eval("return window.__xss === undefined;", vec![])
            .await,
        json!(true)
    );

    w.close().await;
}

/// With `max_file_bytes` = 1 MiB, a 2 MiB file is refused in the page on both sides
/// (`#file-error`) and no offer reaches the broker; a smaller file still goes, as the
/// broker's first file.
#[tokio::test(flavor = "multi_thread")]
async fn a_file_over_the_limit_is_refused_before_sending() {
    let w = World::start(BrokerOptions {
        max_file_bytes: Some(1024 * 1024),
        ..Default::default()
    })
    .await;
    let (console, customer, session) = w.active_session().await;
    grant(&console, &customer, &["send_files", "receive_files"]).await;

    let too_big = TestFile::random("too-big.zip", 2 * 1024 * 1024);
    console.send_files(&[&too_big]).await;
    w.tech.wait_visible("#file-error").await;
    assert_eq!(
        w.tech.attr("#file-error", "role").await.as_deref(),
        Some("alert")
    );
    customer.send_files(&[&too_big]).await;
    w.cust.wait_visible("#file-error").await;

    tokio::time::sleep(Duration::from_secs(1)).await;
    for browser in [&w.tech, &w.cust] {
        assert_eq!(browser.count_entry_kind(EntryType::FileOffered).await, 0);
        assert_eq!(browser.transfers().await, Vec::<Transfer>::new());
    }
    assert!(stored(&w, &session.id, "file_offered").is_empty());

    let small = TestFile::random("small.txt", 512 * 1024);
    let id = offer_to_customer(&w, &console, &customer, &small).await;
    assert_eq!(id, 1, "the refused files never reached the broker");
    both_log(&w, EntryType::FileOffered).await;

    w.close().await;
}

/// The customer revokes "send files" while a big file flows: both sides show it failed,
/// nothing is saved, the log says the grant was revoked. ("Receive files" stays granted,
/// so the customer's files panel, and the failed transfer in it, stay on screen; with
/// no file permission left the panel goes, as the contract says.)
#[tokio::test(flavor = "multi_thread")]
async fn revoking_send_files_stops_a_running_transfer() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, session) = w.active_session().await;
    grant(&console, &customer, &["send_files", "receive_files"]).await;

    let file = TestFile::random("long-download.bin", BIG);
    let id = offer_to_customer(&w, &console, &customer, &file).await;
    customer.accept_file(id).await;
    w.cust.wait_file_midway(id).await;
    customer.revoke("send_files").await;

    let (out, inn) = tokio::join!(
        w.tech.wait_file_status(id, "failed"),
        w.cust.wait_file_status(id, "failed")
    );
    for t in [&out, &inn] {
        let error = t.error.clone().unwrap_or_default().to_lowercase();
        assert!(
            ["revok", "permission", "took back", "withdr"]
                .iter()
                .any(|word| error.contains(word)),
            "the reason is the revoked grant: {t:?}"
        );
    }
    both_log(&w, EntryType::PermissionsRevoked).await;
    both_log(&w, EntryType::FileFailed).await;
    let failed = stored(&w, &session.id, "file_failed");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].0, "system");
    assert_eq!(failed[0].1["reason"]["why"], "revoked", "{failed:?}");
    assert!(stored(&w, &session.id, "file_delivered").is_empty());
    assert_no_download(&w.cust, "after the revocation").await;

    w.close().await;
}

/// System information: granted, the customer sees exactly what will go (browser, time
/// zone…), sends it, the console shows the same labels and values; the log has it.
#[tokio::test(flavor = "multi_thread")]
async fn system_information_is_previewed_sent_and_shown() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, session) = w.active_session().await;
    grant(&console, &customer, &["system_info"]).await;

    let preview = customer.system_info_preview().await;
    let has = |needle: &str| {
        preview.iter().any(|r| {
            let label = format!("{} {}", r.label, r.label_text).to_lowercase();
            label.contains(needle) && !r.value.is_empty()
        })
    };
    assert!(
        has("browser"),
        "the preview names the browser: {preview:#?}"
    );
    assert!(
        has("time zone") || has("timezone") || has("time_zone"),
        "the preview shows the time zone: {preview:#?}"
    );
    let zone = w
        .cust
        .eval(
            "return Intl.DateTimeFormat().resolvedOptions().timeZone;",
            vec![],
        )
        .await;
    let zone = zone.as_str().unwrap_or_default();
    assert!(
        preview.iter().any(|r| r.value.contains(zone)),
        "the time zone is the browser's ({zone}): {preview:#?}"
    );
    assert!(
        w.tech.count_entry_kind(EntryType::SystemInfoShared).await == 0,
        "nothing is sent before Send"
    );

    customer.send_system_info().await;
    let shown = console.system_info().await;
    let pairs = |rows: &[connectit_e2e::InfoRow]| -> Vec<(String, String)> {
        rows.iter()
            .map(|r| (r.label.clone(), r.value.clone()))
            .collect()
    };
    // Values that change by the second (a round-trip time) may differ in form, never
    // in number of items or labels.
    assert_eq!(
        pairs(&shown)
            .iter()
            .map(|(l, _)| l.clone())
            .collect::<Vec<_>>(),
        pairs(&preview)
            .iter()
            .map(|(l, _)| l.clone())
            .collect::<Vec<_>>(),
        "the console shows the items the customer saw"
    );
    assert_eq!(pairs(&shown), pairs(&preview), "same values too");
    w.tech.wait_visible("#copy-system-info").await;

    both_log(&w, EntryType::SystemInfoShared).await;
    let shared = stored(&w, &session.id, "system_info_shared");
    assert_eq!(shared.len(), 1);
    assert_eq!(shared[0].0, "customer");
    let items = shared[0].1["items"].as_array().cloned().unwrap_or_default();
    let stored_pairs: Vec<(String, String)> = items
        .iter()
        .map(|i| {
            (
                i["label"].as_str().unwrap_or_default().to_owned(),
                i["value"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        stored_pairs,
        pairs(&preview),
        "the log holds what was shown"
    );

    w.close().await;
}

/// The record: the customer downloads the JSON during the session, the broker's
/// `verify-record` says INTACT; one byte changed in a chat text and it says NOT
/// INTACT (exit 1). The HTML copy holds the chat, the file's SHA-256 and the final
/// hash; the console's copy verifies too; after the end the customer's JSON (with the
/// end) still verifies.
#[tokio::test(flavor = "multi_thread")]
async fn the_record_verifies_and_a_changed_byte_is_caught() {
    let w = World::start(BrokerOptions::default()).await;
    let (console, customer, _session) = w.active_session().await;
    let tech_line = "Record check: please restart the printer";
    let cust_line = "Record check: the printer queue is empty now";
    console.send_chat(tech_line).await;
    customer.send_chat(cust_line).await;
    w.tech.wait_chat_message(Author::Customer, cust_line).await;
    grant(&console, &customer, &["send_files"]).await;
    let file = TestFile::random("driver.bin", 256 * 1024);
    let id = offer_to_customer(&w, &console, &customer, &file).await;
    customer.accept_file(id).await;
    w.cust.wait_file_status(id, "delivered").await;
    w.cust
        .wait_download_named(&file.name, Some(file.size))
        .await;
    both_log(&w, EntryType::FileDelivered).await;

    let json_path = customer.download_record("json").await;
    let json_text = std::fs::read_to_string(&json_path)
        .unwrap_or_else(|e| panic!("read {}: {e}", json_path.display()));
    let record: Value = serde_json::from_str(&json_text)
        .unwrap_or_else(|e| panic!("the JSON record does not parse ({e})"));
    let final_hash = record["final_hash"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        final_hash.len(),
        64,
        "a final hash: {}",
        record["final_hash"]
    );

    let (code, out) = w.broker.verify_record(&json_path).await;
    assert_eq!(code, 0, "verify-record on the untouched record: {out}");
    assert!(
        out.contains("INTACT") && !out.contains("NOT INTACT"),
        "{out}"
    );

    // One byte inside the customer's chat text: "empty" → "emptz".
    let mut bytes = std::fs::read(&json_path).expect("read the record");
    let at = find(&bytes, cust_line.as_bytes())
        .unwrap_or_else(|| panic!("the record holds the chat text {cust_line:?}"));
    let last = at + cust_line.len() - " now".len() - 1;
    assert_eq!(bytes[last], b'y');
    bytes[last] = b'z';
    let tampered = tempfile::Builder::new()
        .prefix("connectit-e2e-record-")
        .tempdir()
        .expect("a temporary folder");
    let tampered_path = tampered.path().join("tampered.json");
    std::fs::write(&tampered_path, &bytes).expect("write the changed record");
    let (code, out) = w.broker.verify_record(&tampered_path).await;
    assert_eq!(code, 1, "verify-record on a changed record: {out}");
    assert!(out.contains("NOT INTACT"), "{out}");

    let html_path = customer.download_record("html").await;
    let html = std::fs::read_to_string(&html_path)
        .unwrap_or_else(|e| panic!("read {}: {e}", html_path.display()));
    for needle in [tech_line, cust_line, &file.sha256, &final_hash] {
        assert!(html.contains(needle), "the HTML record holds {needle:?}");
    }

    let tech_json = console.download_record("json").await;
    let (code, out) = w.broker.verify_record(&tech_json).await;
    assert_eq!(code, 0, "the technician's copy verifies: {out}");

    customer.end().await;
    w.cust.wait_visible("#download-record-json").await;
    let after_end = customer.download_record("json").await;
    let (code, out) = w.broker.verify_record(&after_end).await;
    assert_eq!(code, 0, "the record after the end verifies: {out}");
    let text = std::fs::read_to_string(&after_end).unwrap_or_default();
    assert!(text.contains("session_ended"), "it holds the end");

    w.close().await;
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

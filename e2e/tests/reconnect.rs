//! The customer's connection drops for real (a TCP proxy between their browser and the
//! broker cuts every connection) while the technician keeps writing. When the network
//! comes back, the customer sees every missed message exactly once, in order, without
//! reloading, and can write again.

use connectit_e2e::{
    start_session, Broker, BrokerOptions, Browser, ChatEntry, Console, Customer, TcpProxy,
};
use connectit_protocol::Author;

#[tokio::test(flavor = "multi_thread")]
async fn customer_reconnects_and_misses_nothing() {
    let mut proxy = TcpProxy::bind().await;
    let broker = Broker::start(BrokerOptions {
        extra_origins: vec![proxy.origin()],
        ..Default::default()
    })
    .await;
    proxy.forward_to(broker.addr());
    let (tech, cust) = tokio::join!(Browser::start(), Browser::start());
    let console = Console::new(&tech, broker.url());
    let customer = Customer::new(&cust, &proxy.url());

    start_session(&broker, &console, &customer).await;

    customer
        .send_chat("Hello, I am behind a flaky network.")
        .await;
    tech.wait_chat_message(Author::Customer, "Hello, I am behind a flaky network.")
        .await;
    let before = "Noted. Stay with me.";
    console.send_chat(before).await;
    cust.wait_chat_message(Author::Technician, before).await;
    cust.mark_page("__connectit_e2e_same_page").await;
    let technician_before = cust
        .chat_entries("#chat-log")
        .await
        .iter()
        .filter(|e| e.author == Some(Author::Technician))
        .count();

    // The network goes away.
    proxy.cut();
    cust.wait_visible("#connection-status").await;
    cust.wait_text_contains("#connection-status", "Reconnecting")
        .await;

    let missed = [
        "First, open the printer's lid.",
        "Second, take the toner out.",
        "Third, shake it gently and put it back.",
    ];
    for text in missed {
        console.send_chat(text).await;
    }
    let shown = cust.chat_entries("#chat-log").await;
    for text in missed {
        assert!(
            !shown.iter().any(|e| e.text.as_deref() == Some(text)),
            "{text:?} reached the customer while the network was cut: {shown:?}"
        );
    }

    // The network comes back.
    proxy.restore();
    cust.wait_hidden("#connection-status").await;
    let expected: Vec<&str> = std::iter::once(before).chain(missed).collect();
    let entries = cust
        .wait_chat(
            "the technician's four messages, once each, in order",
            |entries| {
                let texts = texts_among(entries, &expected);
                let count = entries
                    .iter()
                    .filter(|e| e.author == Some(Author::Technician))
                    .count();
                if texts == expected && count == technician_before + missed.len() {
                    Ok(())
                } else {
                    Err(format!(
                        "{count} technician entries (want {}), messages {texts:?}",
                        technician_before + missed.len()
                    ))
                }
            },
        )
        .await;

    let seqs: Vec<u64> = entries
        .iter()
        .map(|e| {
            e.seq
                .unwrap_or_else(|| panic!("entry without data-seq: {e:?}"))
        })
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "data-seq must increase strictly (no duplicates, no reordering): {seqs:?}"
    );
    assert!(
        cust.has_mark("__connectit_e2e_same_page").await,
        "the page caught up without a reload"
    );

    // And the customer can write again.
    let after = "It prints again!";
    customer.send_chat(after).await;
    tech.wait_chat_message(Author::Customer, after).await;

    tokio::join!(tech.close(), cust.close());
    drop(proxy);
    drop(broker);
}

/// The texts of the technician's entries that are among `wanted`, in page order (a
/// message shown twice appears twice).
fn texts_among<'e>(entries: &'e [ChatEntry], wanted: &[&str]) -> Vec<&'e str> {
    entries
        .iter()
        .filter(|e| e.author == Some(Author::Technician))
        .filter_map(|e| e.text.as_deref())
        .filter(|text| wanted.contains(text))
        .collect()
}

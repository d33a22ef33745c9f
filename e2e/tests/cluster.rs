//! The scale-out mode from the pages: three brokers over one PostgreSQL and one Redis,
//! HAProxy in front (all real, started by the test on loopback ports).
//!
//! - The console is opened from one broker and the customer page from another, so the
//!   customer's socket and calls reach a broker that does not run the session: they
//!   chat, the screen is shared and a file goes across.
//! - Both pages through HAProxy, a share running and a prompt pending: the broker that
//!   runs the session is killed (SIGKILL). Both pages come back by themselves through
//!   HAProxy to brokers that take the session over, every message shown as stored is
//!   still there once, the prompt runs out at its stored deadline, and the share goes on.

use std::time::Duration;

use connectit_e2e::cluster::Cluster;
use connectit_e2e::{start_session, BrokerOptions, Browser, Console, Customer, TestFile};
use connectit_protocol::Author;
use connectit_protocol::EntryType;

#[tokio::test(flavor = "multi_thread")]
async fn customer_and_technician_on_different_brokers_chat_share_the_screen_and_send_a_file() {
    let cluster = Cluster::start(3, BrokerOptions::default()).await;
    let (tech, cust) = tokio::join!(Browser::start(), Browser::start());
    // The console from broker 1 (which makes the session and runs it), the customer
    // page from broker 2.
    let console = Console::new(&tech, cluster.brokers[0].url());
    let customer = Customer::new(&cust, cluster.brokers[1].url());
    let session = start_session(&cluster.brokers[0], &console, &customer).await;
    assert_eq!(
        cluster.owner_of(&session.id),
        Some(0),
        "the broker that made it runs it"
    );

    customer.send_chat("Hello from the second broker.").await;
    tech.wait_chat_message(Author::Customer, "Hello from the second broker.")
        .await;
    console.send_chat("Hello from the first.").await;
    cust.wait_chat_message(Author::Technician, "Hello from the first.")
        .await;

    // The screen, signalled through both brokers, peer to peer.
    console.see_screen_of(&customer, "", 3).await;

    // A file from the technician, over the files link.
    let request = console
        .request_permissions(&["send_files"], "A driver for the printer")
        .await;
    customer.wait_prompt_for(request).await;
    customer.grant_all().await;
    console.wait_granted(&["view_screen", "send_files"]).await;
    let file = TestFile::random("driver.bin", 2 * 1024 * 1024);
    console.send_files(&[&file]).await;
    let offer = customer.wait_offer(&file.name).await.file;
    customer.accept_file(offer).await;
    tokio::join!(
        tech.wait_file_status(offer, "delivered"),
        cust.wait_file_status(offer, "delivered")
    );
    let saved = cust.wait_download_named(&file.name, Some(file.size)).await;
    assert_eq!(
        connectit_e2e::sha256_file(&saved),
        file.sha256,
        "the saved file's SHA-256"
    );
    for kind in [EntryType::FileDelivered, EntryType::Media] {
        tokio::join!(tech.wait_entry_kind(kind), cust.wait_entry_kind(kind));
    }
    tokio::join!(tech.close(), cust.close());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_broker_running_a_session_killed_mid_share_with_a_prompt_pending() {
    const PROMPT_SECS: u64 = 20;
    let mut cluster = Cluster::start(
        3,
        BrokerOptions {
            prompt_deadline_secs: Some(PROMPT_SECS),
            ..Default::default()
        },
    )
    .await;
    let (tech, cust) = tokio::join!(Browser::start(), Browser::start());
    let front = cluster.url();
    let console = Console::new(&tech, &front);
    let customer = Customer::new(&cust, &front);
    let session = start_session(&cluster.brokers[0], &console, &customer).await;
    console.see_screen_of(&customer, "", 3).await;
    customer
        .send_chat("Before the crash, from the customer.")
        .await;
    console
        .send_chat("Before the crash, from the technician.")
        .await;
    tech.wait_chat_message(Author::Customer, "Before the crash, from the customer.")
        .await;
    let request = console.request_permissions(&["system_info"], "").await;
    customer.wait_prompt_for(request).await;
    let asked_at = std::time::Instant::now();

    // The broker that runs the session dies.
    let owner = cluster
        .owner_of(&session.id)
        .expect("a broker runs the session");
    cluster.brokers[owner].kill().await;
    for page in [&cust, &tech] {
        page.wait_hidden("#connection-status").await;
    }
    let now_runs = cluster.owner_of(&session.id);
    assert!(
        now_runs.is_some() && now_runs != Some(owner),
        "another broker took the session over: {now_runs:?}"
    );

    // Nothing shown as stored is lost, nothing is doubled.
    for (page, author, text) in [
        (
            &tech,
            Author::Customer,
            "Before the crash, from the customer.",
        ),
        (
            &cust,
            Author::Technician,
            "Before the crash, from the technician.",
        ),
    ] {
        let shown = page.wait_chat_message(author, text).await;
        let copies = shown
            .iter()
            .filter(|e| e.author == Some(author) && e.text.as_deref() == Some(text))
            .count();
        assert_eq!(copies, 1, "{text:?} shown {copies} times");
    }

    // The prompt is the same one, and runs out at its deadline on the new broker.
    customer.wait_prompt_for(request).await;
    for page in [&cust, &tech] {
        page.wait_for_within(
            "the prompt's expiry",
            Duration::from_secs(PROMPT_SECS + 15),
            || async {
                if page
                    .entry_kinds()
                    .await
                    .contains(&Some(EntryType::PermissionExpired))
                {
                    Ok(())
                } else {
                    Err("not expired yet".into())
                }
            },
        )
        .await;
    }
    assert!(
        asked_at.elapsed() >= Duration::from_secs(PROMPT_SECS - 1),
        "it expired at its deadline, not before: {:?}",
        asked_at.elapsed()
    );
    cust.wait_hidden("#permission-prompt").await;

    // The share goes on (peer to peer, its signalling now through another broker).
    console.wait_screen_state("live").await;
    console.wait_screen_frames(3).await;

    // And the chat.
    customer.send_chat("After the crash.").await;
    tech.wait_chat_message(Author::Customer, "After the crash.")
        .await;
    tokio::join!(tech.close(), cust.close());
}

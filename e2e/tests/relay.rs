//! Screen sharing and a file transfer through a real TURN relay (coturn, started on
//! loopback ports with the repository's `deploy/coturn/turnserver.conf`), with the
//! broker's `ice_transport_policy = "relay"` so that no direct path may be used: over
//! TURN/UDP, TURN/TCP and TURN/TLS. The technician's video decodes frames, the file
//! arrives with its SHA-256, and `getStats()` in both browsers shows the selected
//! candidate pair going through the relay by the expected transport.

use connectit_protocol::EntryType;
use std::time::Instant;

use connectit_e2e::paths::{relay_world, share_and_send};
use connectit_e2e::peers::{selected_pairs, KEEP_PEERS};
use connectit_e2e::{BrokerOptions, Browser, Turn, TurnTransport, World};
use serde_json::Value;

/// Screen and a file with only the relay allowed, reached by `transport` (or, with
/// `None`, with no relay at all).
async fn share_and_send_through(transport: Option<TurnTransport>) {
    let (turn, w) = relay_world(transport).await;
    let (console, customer, _session) = w.active_session().await;
    let carried = share_and_send(&w, &console, &customer, 4 * 1024 * 1024).await;

    // Both browsers: every connected peer connection took the expected path.
    let (tech_pairs, cust_pairs) = tokio::join!(selected_pairs(&w.tech), selected_pairs(&w.cust));
    let log = turn.as_ref().map(Turn::log_tail).unwrap_or_default();
    for (side, pairs) in [("technician", &tech_pairs), ("customer", &cust_pairs)] {
        assert!(
            pairs.len() >= 2,
            "{side}: the screen's and the files' connections are up: {pairs:?}\n{log}"
        );
        for pair in pairs.iter() {
            match transport {
                Some(transport) => {
                    assert_eq!(pair["policy"], "relay", "{side}: {pair}");
                    assert_eq!(pair["local"], "relay", "{side}: relayed: {pair}");
                    assert_eq!(
                        pair["relayProtocol"],
                        transport.relay_protocol(),
                        "{side}: reached the relay by {transport:?}: {pair}"
                    );
                }
                None => {
                    assert_eq!(pair["policy"], "all", "{side}: {pair}");
                    assert_eq!(pair["local"], "host", "{side}: direct: {pair}");
                }
            }
        }
    }
    if let Some(turn) = &turn {
        assert!(turn.allocations() >= 2, "coturn allocated for both:\n{log}");
    }
    // The console says how each connection travels, from the same statistics.
    let route = match transport {
        Some(t) => format!("relay-{}", t.relay_protocol()),
        None => "direct".to_string(),
    };
    w.tech.wait_attr("#screen-path", "data-route", &route).await;
    w.tech.wait_attr("#files-path", "data-route", &route).await;
    let line = w.tech.text("#screen-path").await;
    assert!(line.contains("fps") && line.contains("ms"), "{line}");
    let path = match transport {
        Some(t) => format!("through the relay over {t:?}"),
        None => "directly".to_string(),
    };
    eprintln!(
        "{path}: grant → first frame at the technician {:.0} ms; 4 MiB file accepted → \
         delivered {:.0} ms ({:.1} MB/s); selected pairs: technician {}, customer {}",
        carried.first_frame.as_secs_f64() * 1000.0,
        carried.file.as_secs_f64() * 1000.0,
        carried.file_mb_per_sec(),
        Value::Array(tech_pairs),
        Value::Array(cust_pairs)
    );
    w.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn screen_and_file_through_turn_over_udp() {
    share_and_send_through(Some(TurnTransport::Udp)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn screen_and_file_through_turn_over_tcp_only() {
    share_and_send_through(Some(TurnTransport::Tcp)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn screen_and_file_through_turn_over_tls_only() {
    share_and_send_through(Some(TurnTransport::Tls)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn screen_and_file_directly_for_comparison() {
    share_and_send_through(None).await;
}

/// Only the relay is allowed, and nothing answers where it should be: no path can be
/// found. Both pages say so plainly, with what to try, the log says why, and the
/// console does not say "Connecting…" for ever.
#[tokio::test(flavor = "multi_thread")]
async fn no_path_is_said_plainly_on_both_sides_and_logged() {
    // A port where nothing listens, for UDP and TCP.
    let closed = {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.local_addr().unwrap().port()
    };
    let w = World::start(BrokerOptions {
        turn: Some((
            vec![
                format!("turn:127.0.0.1:{closed}?transport=udp"),
                format!("turn:127.0.0.1:{closed}?transport=tcp"),
            ],
            "no relay here".into(),
        )),
        relay_only: true,
        ..BrokerOptions::default()
    })
    .await;
    let (console, customer, _session) = w.active_session().await;
    let request = console
        .request_permissions(&["view_screen", "send_files"], "To look at your settings")
        .await;
    customer.wait_prompt_for(request).await;
    let granted = Instant::now();
    customer.grant_all().await;
    // Within the connection's time limit (15 s) and a little.
    let wait = std::time::Duration::from_secs(25);
    w.cust
        .wait_for_within(
            "the customer told the screen could not connect",
            wait,
            || async {
                if w.cust.is_visible(".path-failed[data-link=screen]").await {
                    Ok(())
                } else {
                    Err("no .path-failed[data-link=screen]".to_string())
                }
            },
        )
        .await;
    let said = granted.elapsed();
    let text = w.cust.text(".path-failed[data-link=screen]").await;
    assert!(text.contains("network"), "with what to try: {text}");
    assert!(
        w.cust.is_visible(".path-failed[data-link=screen] a").await,
        "the applet link"
    );
    w.tech
        .wait_for_within(
            "the console told the screen could not connect",
            wait,
            || async {
                if w.tech.is_visible("#screen-path-failed").await {
                    Ok(())
                } else {
                    Err("no #screen-path-failed".to_string())
                }
            },
        )
        .await;
    let screen = w.tech.text("#screen-view").await;
    assert!(
        !screen.contains("Connecting"),
        "not Connecting… for ever: {screen}"
    );
    w.tech.wait_visible("#files-path-failed").await;
    w.cust.wait_visible(".path-failed[data-link=files]").await;
    // Both logs say why.
    w.tech.wait_entry_kind_count(EntryType::PathFailed, 2).await;
    w.cust.wait_entry_kind_count(EntryType::PathFailed, 2).await;
    eprintln!(
        "no path: said on the customer's page {:.1} s after the grant",
        said.as_secs_f64()
    );
    w.close().await;
}

/// The customer's browser in a network namespace whose only way out is TCP to the
/// broker's and the relay's ports (nftables inside it drops everything else, UDP
/// first): the share and the file still reach the technician, through the relay over
/// TCP or TLS, and the firewall counted the UDP it dropped. Runs where the test may
/// create namespaces (root, `ip netns`); elsewhere it says so and does nothing.
#[tokio::test(flavor = "multi_thread")]
async fn from_a_network_that_lets_out_only_tcp_the_share_goes_by_tcp_or_tls() {
    let netns = match connectit_e2e::Netns::create() {
        Ok(netns) => netns,
        Err(why) => {
            eprintln!("network namespaces are not available here ({why}): not run");
            return;
        }
    };
    let turn = Turn::start_on(netns.host_ip);
    let broker = connectit_e2e::Broker::start(BrokerOptions {
        turn: Some((
            vec![
                turn.url(TurnTransport::Udp),
                turn.url(TurnTransport::Tcp),
                turn.url(TurnTransport::Tls),
            ],
            turn.secret.clone(),
        )),
        relay_only: true,
        listen: Some(format!("{}:0", netns.host_ip)),
        ..BrokerOptions::default()
    })
    .await;
    netns
        .allow_only_tcp_to(&[broker.addr().port(), turn.port, turn.tls_port])
        .unwrap_or_else(|e| panic!("the namespace's firewall: {e}"));
    // Served on the veth address, which is not a secure context by itself.
    let secure = format!(
        "--unsafely-treat-insecure-origin-as-secure={}",
        broker.url()
    );
    let args = vec!["--ignore-certificate-errors".to_string(), secure];
    let (tech, cust) = tokio::join!(
        Browser::start_with_options(connectit_e2e::StartOptions {
            args: args.clone(),
            ..Default::default()
        }),
        Browser::start_with_options(connectit_e2e::StartOptions {
            args,
            binary: Some(netns.chromium_wrapper()),
            ..Default::default()
        })
    );
    let w = World { broker, tech, cust };
    w.cust.before_page_scripts(KEEP_PEERS).await;
    let (console, customer, _session) = w.active_session().await;
    share_and_send(&w, &console, &customer, 2 * 1024 * 1024).await;
    let pairs = selected_pairs(&w.cust).await;
    assert!(pairs.len() >= 2, "{pairs:?}\n{}", turn.log_tail());
    for pair in &pairs {
        assert_eq!(pair["local"], "relay", "{pair}");
        assert!(
            pair["relayProtocol"] == "tcp" || pair["relayProtocol"] == "tls",
            "UDP is blocked: {pair}"
        );
    }
    let dropped = netns.udp_dropped();
    assert!(
        dropped > 0,
        "the browser tried UDP, and the firewall dropped it"
    );
    eprintln!(
        "locked-down network (namespace {}, only TCP out): share and file through the relay \
         by {}; {dropped} UDP packets dropped",
        netns.name, pairs[0]["relayProtocol"]
    );
    w.close().await;
}

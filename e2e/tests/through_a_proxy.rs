//! A customer whose browser must go through an HTTP proxy (a real squid on a loopback
//! port; Chromium told `--proxy-server` with a bypass list that does not exempt
//! loopback): the page, its WebSocket and the screen share and file transfer, the last
//! through the TURN relay over TCP and TLS tunnelled by the proxy with `CONNECT`, since
//! a proxy carries no UDP. The proxy's log shows each, and `getStats()` the relayed
//! pair.

use connectit_e2e::paths::share_and_send;
use connectit_e2e::peers::{selected_pairs, KEEP_PEERS};
use connectit_e2e::{Broker, BrokerOptions, Browser, Squid, Turn, TurnTransport, World};

#[tokio::test(flavor = "multi_thread")]
async fn page_socket_share_and_file_through_an_http_proxy() {
    let turn = Turn::start();
    let squid = Squid::start();
    let broker = Broker::start(BrokerOptions {
        // Behind a proxy only TCP leaves: TURN over TCP and over TLS.
        turn: Some((
            vec![turn.url(TurnTransport::Tcp), turn.url(TurnTransport::Tls)],
            turn.secret.clone(),
        )),
        relay_only: true,
        ..BrokerOptions::default()
    })
    .await;
    let proxy = format!("--proxy-server={}", squid.url());
    // "<-loopback>" takes loopback off Chromium's implicit bypass list.
    let customer_args = [
        proxy.as_str(),
        "--proxy-bypass-list=<-loopback>",
        "--ignore-certificate-errors",
    ];
    let (tech, cust) = tokio::join!(
        Browser::start_with(&["--ignore-certificate-errors"]),
        Browser::start_with(&customer_args)
    );
    let w = World { broker, tech, cust };
    w.cust.before_page_scripts(KEEP_PEERS).await;
    let (console, customer, _session) = w.active_session().await;

    share_and_send(&w, &console, &customer, 2 * 1024 * 1024).await;

    // The customer's connections went through the relay by TCP or TLS.
    let pairs = selected_pairs(&w.cust).await;
    assert!(pairs.len() >= 2, "{pairs:?}\n{}", turn.log_tail());
    for pair in &pairs {
        assert_eq!(pair["local"], "relay", "{pair}");
        assert!(
            pair["relayProtocol"] == "tcp" || pair["relayProtocol"] == "tls",
            "{pair}"
        );
    }
    let relay_protocol = pairs[0]["relayProtocol"].clone();
    // And all of it through the proxy: the page, the socket, the relay (squid logs a
    // request when it ends: after the browsers close).
    let broker_port = w.broker.addr().port();
    w.close().await;
    std::thread::sleep(std::time::Duration::from_millis(500));
    let requests = squid.requests();
    let through = |method: &str, port: u16| {
        requests
            .iter()
            .any(|(m, target)| m == method && target.contains(&format!("127.0.0.1:{port}")))
    };
    assert!(through("GET", broker_port), "the page: {requests:?}");
    assert!(
        through("CONNECT", broker_port) || requests.iter().any(|(_, t)| t.contains("/api/ws")),
        "the WebSocket: {requests:?}"
    );
    assert!(
        through("CONNECT", turn.port) || through("CONNECT", turn.tls_port),
        "TURN over TCP or TLS, tunnelled: {requests:?}"
    );
    eprintln!(
        "through squid: {} requests logged, the relay reached by {relay_protocol}; \
         selected pairs {pairs:?}; requests {requests:?}",
        requests.len()
    );
}

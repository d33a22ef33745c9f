//! The harness's own moving part that needs no browser: the [`TcpProxy`] forwards, cuts
//! live connections, refuses new ones while cut, and forwards again once restored.

use std::time::Duration;

use connectit_e2e::{sha256_file, Browser, TcpProxy, TestFile};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// An echo server on 127.0.0.1:0.
async fn echo_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind echo");
    let addr = listener.local_addr().expect("echo address");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = socket.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
            });
        }
    });
    addr
}

async fn round_trip(stream: &mut TcpStream, msg: &[u8]) -> std::io::Result<Vec<u8>> {
    stream.write_all(msg).await?;
    let mut buf = vec![0; msg.len()];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut buf))
        .await
        .map_err(|_| std::io::Error::other("no echo within 5 s"))??;
    Ok(buf)
}

/// Reads until the peer closes (Ok(0)) or errors; true when the connection is gone.
async fn is_closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 16];
    matches!(
        tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await,
        Ok(Ok(0)) | Ok(Err(_))
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_forwards_cuts_and_restores() {
    let target = echo_server().await;
    let mut proxy = TcpProxy::bind().await;
    proxy.forward_to(target);

    let mut live = TcpStream::connect(proxy.addr()).await.expect("connect");
    assert_eq!(
        round_trip(&mut live, b"hello").await.expect("echo"),
        b"hello"
    );

    proxy.cut();
    assert!(
        is_closed(&mut live).await,
        "a live connection is dropped by cut()"
    );
    let mut refused = TcpStream::connect(proxy.addr())
        .await
        .expect("the proxy still accepts at TCP level");
    assert!(
        is_closed(&mut refused).await,
        "a new connection is closed at once while cut"
    );

    proxy.restore();
    let mut again = TcpStream::connect(proxy.addr())
        .await
        .expect("connect again");
    assert_eq!(
        round_trip(&mut again, b"back").await.expect("echo"),
        b"back"
    );
}

/// The broker starts from the harness's config: the settings a test gives are the ones
/// it serves (and `prompt_deadline_secs`, which it does not publish, is a key its
/// config, which refuses unknown keys, accepts).
#[tokio::test(flavor = "multi_thread")]
async fn broker_starts_with_the_given_config() {
    let broker = connectit_e2e::Broker::start(connectit_e2e::BrokerOptions {
        pin_validity_secs: Some(2),
        prompt_deadline_secs: Some(3),
        ..Default::default()
    })
    .await;
    let (status, config) = broker.get_json("/api/config").await;
    assert_eq!(status, 200, "{config}");
    assert_eq!(config["organisation"], connectit_e2e::broker::ORGANISATION);
    assert_eq!(config["applet_url"], connectit_e2e::broker::APPLET_URL);
    assert_eq!(config["pin_validity_secs"], 2);
    let (status, setup) = broker.get_json("/api/setup").await;
    assert_eq!(status, 200, "{setup}");
    assert_eq!(
        setup["needs_setup"], false,
        "the technician made by the CLI counts"
    );
    assert!(
        broker.db_path().is_file(),
        "the database is where the contract says"
    );
}

/// The page a browser without WebAssembly sees names the organisation and links the
/// applet: the broker filled in index.html's placeholders.
#[tokio::test(flavor = "multi_thread")]
async fn index_html_names_the_organisation() {
    let broker = connectit_e2e::Broker::start(Default::default()).await;
    for path in ["/", "/console"] {
        let (status, html) = broker.get(path).await;
        assert_eq!(status, 200, "GET {path}");
        assert!(
            html.contains("id=\"no-wasm\""),
            "GET {path}: no #no-wasm notice"
        );
        assert!(
            html.contains(connectit_e2e::broker::ORGANISATION),
            "GET {path}: organisation missing"
        );
        assert!(
            html.contains(connectit_e2e::broker::APPLET_URL),
            "GET {path}: applet link missing"
        );
        assert!(!html.contains("{{"), "GET {path}: a placeholder is left");
    }
}

/// A page for the browser-side helpers: a hidden multiple file input that reports what
/// was picked, and a button that saves a blob as a download (as the pages save files).
const FILES_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>files</title></head><body>
<input type="file" id="picker" multiple style="display:none">
<button id="save">Save</button>
<script>
window.__picked = null;
document.getElementById('picker').addEventListener('change', (e) => {
  window.__picked = Array.from(e.target.files).map((f) => [f.name, f.size]);
});
document.getElementById('save').addEventListener('click', () => {
  const bytes = new TextEncoder().encode('saved by the page\n');
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes]));
  a.download = 'saved.txt';
  document.body.appendChild(a);
  a.click();
});
</script></body></html>"#;

/// A hidden file input takes two absolute paths; a blob download lands, finished, in
/// the browser's own download folder; a second one gets a name of its own.
#[tokio::test(flavor = "multi_thread")]
async fn files_are_picked_and_downloads_land_in_the_browsers_folder() {
    let base = connectit_e2e::pageserver::serve(FILES_PAGE).await;
    let browser = Browser::start().await;
    browser.goto(&format!("{base}/")).await;

    let (a, b) = (
        TestFile::random("a.bin", 300_000),
        TestFile::random("b b.bin", 1_000),
    );
    assert_eq!(sha256_file(&a.path), a.sha256);
    browser
        .pick_files("#picker", &[a.path.as_path(), b.path.as_path()])
        .await;
    let picked = browser
        .wait_for("the page to see the picked files", || async {
            let v = browser.eval("return window.__picked;", vec![]).await;
            if v.is_array() {
                Ok(v)
            } else {
                Err(format!("{v}"))
            }
        })
        .await;
    assert_eq!(
        picked,
        serde_json::json!([["a.bin", 300000], ["b b.bin", 1000]])
    );

    assert!(browser.downloads().is_empty());
    let first = browser.click_and_download("#save").await;
    assert_eq!(first, browser.download_dir().join("saved.txt"));
    assert_eq!(
        std::fs::read_to_string(&first).ok().as_deref(),
        Some("saved by the page\n")
    );
    let second = browser.click_and_download("#save").await;
    assert_ne!(second, first, "a second download is a new file");
    assert_eq!(browser.downloads().len(), 2);

    browser.close().await;
}

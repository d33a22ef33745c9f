//! The smaller points of facing the internet: requests that change something come
//! from this site's pages as JSON (no login or other cross-site request forgery), the
//! data folder and its files are readable by the broker's user only, and text that
//! reorders itself cannot disguise a name or a record line.

mod support;

use std::os::unix::fs::PermissionsExt;

use connectit_protocol::api::SessionRecord;
use connectit_protocol::{Action, ErrorCode};
use serde_json::json;
use support::{http_with_headers, Broker, PASSWORD};

/// A request (method, path, body, headers) and the answer it must get.
type Case<'a> = (
    &'a str,
    &'a str,
    Option<String>,
    Vec<(&'a str, &'a str)>,
    u16,
    ErrorCode,
);

#[tokio::test]
async fn another_site_cannot_sign_in_create_or_sign_out_for_you() {
    let broker = Broker::start(|_| {}).await;
    let cookie = broker.sign_in("alice").await;
    let sign_in = json!({"username": "alice", "password": PASSWORD}).to_string();
    let cases: Vec<Case> = vec![
        // Login forgery: a form on a sibling site signs the victim in as the attacker.
        (
            "POST",
            "/api/auth/sign-in",
            Some(sign_in.clone()),
            vec![
                ("origin", "https://evil.example"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            403,
            ErrorCode::CrossOrigin,
        ),
        (
            "POST",
            "/api/auth/sign-in",
            Some(sign_in.clone()),
            vec![("sec-fetch-site", "same-site")],
            403,
            ErrorCode::CrossOrigin,
        ),
        (
            "POST",
            "/api/sessions",
            None,
            vec![("origin", "https://evil.example")],
            403,
            ErrorCode::CrossOrigin,
        ),
        (
            "POST",
            "/api/auth/sign-out",
            None,
            vec![("sec-fetch-site", "cross-site")],
            403,
            ErrorCode::CrossOrigin,
        ),
        (
            "POST",
            "/api/survey",
            Some("{}".into()),
            vec![("origin", "null")],
            403,
            ErrorCode::CrossOrigin,
        ),
        // From the site itself, but not JSON.
        (
            "POST",
            "/api/auth/sign-in",
            Some(sign_in.clone()),
            vec![("origin", "SITE"), ("content-type", "text/plain")],
            415,
            ErrorCode::UnsupportedContentType,
        ),
    ];
    for (method, path, body, headers, status, code) in cases {
        let origin = broker.origin();
        let headers: Vec<(&str, &str)> = headers
            .into_iter()
            .map(|(k, v)| (k, if v == "SITE" { origin.as_str() } else { v }))
            .collect();
        let mut plain = body.is_some();
        // A body without the JSON content type when the case names another one.
        if headers.iter().any(|(k, _)| *k == "content-type") {
            plain = false;
        }
        let r = raw(&broker, method, path, body, Some(&cookie), &headers, plain).await;
        assert_eq!(
            (r.status, r.json::<ErrorCode>()),
            (status, code),
            "{method} {path} {headers:?}"
        );
    }
    // Still signed in: the forged sign-out did nothing.
    assert_eq!(
        broker
            .http("GET", "/api/auth/me", None, Some(&cookie))
            .await
            .status,
        200
    );
    // The site's own pages are let through.
    let origin = broker.origin();
    let r = http_with_headers(
        broker.addr,
        "POST",
        "/api/sessions",
        None,
        Some(&cookie),
        &[
            ("origin", origin.as_str()),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    broker.flush_audit().await;
    assert_eq!(
        broker
            .audit("cross_origin_refused")
            .iter()
            .map(|l| l.2)
            .sum::<u64>(),
        6
    );
    broker.stop().await;
}

/// One request with exactly these headers (and JSON's content type if `json`).
async fn raw(
    broker: &Broker,
    method: &str,
    path: &str,
    body: Option<String>,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
    json: bool,
) -> support::Reply {
    let mut all: Vec<(&str, &str)> = headers.to_vec();
    if json {
        all.push(("content-type", "application/json"));
    }
    support::http_raw_headers(
        broker.addr,
        method,
        path,
        body.map(String::into_bytes),
        cookie,
        &all,
    )
    .await
}

#[tokio::test]
async fn the_data_folder_and_its_files_are_private() {
    // An installation from before, with the usual loose modes.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    {
        let db = rusqlite::Connection::open(data.join("connectit.sqlite3")).unwrap();
        db.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t(x);")
            .unwrap();
    }
    std::fs::set_permissions(
        data.join("connectit.sqlite3"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let broker = Broker::start(|c| c.data_dir = data.clone()).await;
    // Something written, so the write-ahead log exists.
    let _ = broker.active_session().await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700, "the data folder");
    for name in [
        "connectit.sqlite3",
        "connectit.sqlite3-wal",
        "connectit.sqlite3-shm",
        "pin.key",
        "record.key",
    ] {
        let path = data.join(name);
        assert!(path.exists(), "{name} exists");
        assert_eq!(mode(&path), 0o600, "{name}");
    }
    broker.stop().await;
    // A fresh installation too.
    let broker = Broker::start(|_| {}).await;
    let _ = broker.active_session().await;
    let data = broker.db_path().parent().unwrap().to_path_buf();
    assert_eq!(mode(&data), 0o700);
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
    broker.stop().await;
}

#[tokio::test]
async fn text_that_reorders_itself_cannot_disguise_a_name_or_a_record_line() {
    let broker = Broker::start(|_| {}).await;
    // A display name that would read backwards from the override on: refused.
    let made = broker
        .state
        .db
        .call(|conn| {
            Ok(connectit_broker::auth::create_account(
                conn,
                "mallory",
                "Support \u{202e}nimda",
                PASSWORD,
            )
            .err())
        })
        .await
        .unwrap();
    assert_eq!(
        made,
        Some(connectit_broker::error::AppError(ErrorCode::InvalidInput {
            field: connectit_protocol::error::Field::DisplayName
        }))
    );
    // In chat the text is kept as written (the log is the record), and shown without
    // the reordering characters, each line in its own direction.
    let mut active = broker.active_session_with_ids().await;
    let mut seen = Vec::new();
    let text = "download invoice\u{202e}fdp.exe please";
    active
        .tech
        .act_ok(Action::Chat { text: text.into() }, &mut seen)
        .await;
    let stored: String = broker
        .sqlite()
        .query_row(
            "SELECT kind FROM entries WHERE kind LIKE '%invoice%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(stored.contains('\u{202e}'), "stored as sent");
    let page = broker
        .http(
            "POST",
            "/api/record",
            Some(json!({"token": active.joined.token, "format": "html"})),
            None,
        )
        .await
        .text();
    assert!(!page.contains('\u{202e}'), "no override on the page");
    assert!(
        page.contains("<bdi>Alice Smith: download invoicefdp.exe please</bdi>"),
        "{page}"
    );
    let json: SessionRecord = broker
        .http(
            "POST",
            "/api/record",
            Some(json!({"token": active.joined.token, "format": "json"})),
            None,
        )
        .await
        .json();
    assert!(json.entries.iter().any(|e| matches!(&e.entry.kind,
        connectit_protocol::EntryKind::Chat { text: t, .. } if t == text)));
    broker.stop().await;
}

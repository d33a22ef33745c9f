//! The operator's side: health and readiness for a load balancer, `/metrics` on its
//! own address, the log as JSON lines with its level from `RUST_LOG`, the systemd unit,
//! a backup taken while a chat runs and restored, and the retention with its legal hold.

mod support;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use axum::extract::State;
use connectit_broker::{chain, db};
use connectit_protocol::wire::{ClientMessage, Join};
use connectit_protocol::{Action, EntryKind, ErrorCode, SessionId};
use serde_json::json;
use support::{Broker, PASSWORD};

const BIN: &str = env!("CARGO_BIN_EXE_connectit-broker");

/// Runs the broker's command line on `data`; answers success, stdout and stderr.
fn cli(data: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .arg("--data")
        .arg(data)
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("the broker's command line runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn health_and_readiness_say_what_a_load_balancer_needs() {
    let broker = Broker::start(|_| {}).await;
    let r = broker.http("GET", "/healthz", None, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json::<serde_json::Value>()["status"], "live");
    let r = broker.http("GET", "/readyz", None, None).await;
    assert_eq!(
        (r.status, r.json::<serde_json::Value>()["status"].clone()),
        (200, json!("ready"))
    );

    // A database that takes no write: not ready, with the typed error; then ready again.
    broker
        .state
        .db
        .call(|conn| {
            Ok(conn
                .as_sqlite()
                .expect("embedded")
                .pragma_update(None, "query_only", true)?)
        })
        .await
        .unwrap();
    let r = broker.http("GET", "/readyz", None, None).await;
    assert_eq!(r.status, 503);
    assert_eq!(
        r.json::<ErrorCode>(),
        ErrorCode::StorageUnavailable,
        "{}",
        r.text()
    );
    assert_eq!(broker.http("GET", "/healthz", None, None).await.status, 200);
    broker
        .state
        .db
        .call(|conn| {
            Ok(conn
                .as_sqlite()
                .expect("embedded")
                .pragma_update(None, "query_only", false)?)
        })
        .await
        .unwrap();
    assert_eq!(broker.http("GET", "/readyz", None, None).await.status, 200);

    // Stopping: no longer ready (the handler as the server calls it).
    let state = broker.state.clone();
    state.shutdown.trigger();
    let answer = connectit_broker::ops::readyz(State(state)).await;
    assert_eq!(answer.err().map(|e| e.0), Some(ErrorCode::Stopping));
    broker.stop().await;
}

/// The value of the sample `name` (with its labels, as written) in an exposition.
fn sample(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .trim()
        .parse()
        .unwrap()
}

#[tokio::test]
async fn metrics_are_served_on_their_own_address_only() {
    let broker = Broker::start(|c| c.metrics_listen = "127.0.0.1:0".into()).await;
    let mut addr = None;
    for _ in 0..100 {
        addr = broker.state.metrics_addr.get().copied();
        if addr.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let metrics = support::Client::new(addr.expect("the metrics listener is bound"));
    let mut active = broker.active_session_with_ids().await;
    let mut seen = Vec::new();
    for i in 0..5 {
        active
            .cust
            .act_ok(
                Action::Chat {
                    text: format!("message {i}"),
                },
                &mut seen,
            )
            .await;
    }
    let wrong = if active.created.pin == "000000" {
        "000001"
    } else {
        "000000"
    };
    broker.verify_pin(wrong).await;
    broker.state.audit.flush().await;

    let r = metrics.http("GET", "/metrics", None, None).await;
    assert_eq!(r.status, 200);
    assert!(r
        .header("content-type")
        .unwrap_or_default()
        .starts_with("text/plain; version=0.0.4"));
    let text = r.text();
    assert_eq!(sample(&text, "connectit_sessions{phase=\"active\"}"), 1.0);
    assert_eq!(sample(&text, "connectit_sockets_open"), 2.0);
    assert!(
        sample(&text, "connectit_append_seconds_count") >= 8.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "connectit_append_seconds_bucket{le=\"+Inf\"}"),
        sample(&text, "connectit_append_seconds_count")
    );
    assert!(
        sample(
            &text,
            "connectit_security_events_total{kind=\"pin_failed\"}"
        ) >= 1.0
    );
    assert!(text.contains("# TYPE connectit_append_seconds histogram"));
    assert!(text.contains("connectit_throttle_refusals_total{throttle=\"pin\"}"));
    // Every sample line is `name{labels} number`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let (_, value) = line.rsplit_once(' ').unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
    // Not on the public listener.
    let public = broker.http("GET", "/metrics", None, None).await;
    assert!(!public.text().contains("connectit_sessions"));
    broker.stop().await;
}

#[tokio::test]
async fn the_log_is_json_lines_at_the_level_rust_log_asks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut broker = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .arg("--dist")
        .arg(dir.path())
        .env("CONNECTIT_LOG_FORMAT", "json")
        .env("RUST_LOG", "warn,connectit_broker=debug")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the broker");
    let stderr = broker.stderr.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            let done = line.contains("open sessions loaded");
            lines.push(line);
            if done || lines.len() > 200 {
                break;
            }
        }
        lines
    });
    let lines = tokio::time::timeout(Duration::from_secs(20), lines)
        .await
        .expect("the broker logged its start")
        .unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &broker.id().to_string()])
        .status();
    let _ = broker.wait();
    assert!(!lines.is_empty());
    let mut loaded = None;
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        for key in ["timestamp", "level", "target", "message", "fields"] {
            assert!(v.get(key).is_some(), "{key} missing: {line}");
        }
        assert!(
            v["timestamp"]
                .as_str()
                .unwrap()
                .parse::<jiff::Timestamp>()
                .is_ok(),
            "{line}"
        );
        if v["message"] == "open sessions loaded" {
            loaded = Some(v);
        }
    }
    let loaded = loaded.expect("the start line");
    assert_eq!(loaded["level"], "INFO");
    assert_eq!(loaded["fields"]["sessions"], 0);

    // A filter that is not one is refused at start, saying why.
    let (ok, _, err) = cli(&data, &["serve"], &[("RUST_LOG", "=nonsense=")]);
    assert!(!ok && err.contains("RUST_LOG"), "{err}");
}

#[test]
fn the_service_unit_sandboxes_the_broker_and_systemd_accepts_it() {
    let unit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/systemd/connectit.service"),
    )
    .unwrap();
    for directive in [
        "DynamicUser=yes",
        "StateDirectory=connectit",
        "LimitNOFILE=",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=\n",
        "RestrictAddressFamilies=",
        "SystemCallFilter=@system-service",
        "KillSignal=SIGTERM",
    ] {
        assert!(unit.contains(directive), "the unit lacks {directive:?}");
    }
    let Ok(analyze) = which("systemd-analyze") else {
        eprintln!("systemd-analyze is not installed here: the directives alone were checked");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("connectit.service");
    std::fs::write(&file, unit.replace("/usr/local/bin/connectit-broker", BIN)).unwrap();
    let out = Command::new(analyze)
        .args(["verify", "--man=no"])
        .arg(&file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && said.trim().is_empty(), "{said}");
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join(program))
        .find(|p| p.is_file())
        .ok_or(())
}

/// Every entry of every session in `file`, and whether each chain holds.
fn stored(file: &Path) -> Vec<(SessionId, usize, bool)> {
    let conn =
        rusqlite::Connection::open_with_flags(file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM sessions ORDER BY id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let conn = connectit_broker::sql::Connection::sqlite(conn);
    ids.into_iter()
        .map(SessionId)
        .map(|id| {
            let chained = db::entries_with_hashes(&conn, &id).unwrap();
            let holds = chain::first_break(&id, &chained).is_none();
            (id, chained.len(), holds)
        })
        .collect()
}

/// The broker as a process on `data`: the child and its address.
fn start_process(data: &Path, dist: &Path) -> (std::process::Child, std::net::SocketAddr) {
    let mut child = Command::new(BIN)
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(data)
        .arg("--dist")
        .arg(dist)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the broker");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr = first
        .trim()
        .strip_prefix("ConnectIT listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .parse()
        .unwrap();
    (child, addr)
}

/// SIGTERM, and the exit.
fn stop_process(mut child: std::process::Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the broker did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn sign_in(client: &support::Client) -> String {
    let r = client
        .http(
            "POST",
            "/api/auth/sign-in",
            Some(json!({"username": "alice", "password": PASSWORD})),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_backup_taken_during_a_chat_restores_to_that_instant() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let created = Command::new(BIN)
        .arg("--data")
        .arg(&data)
        .args([
            "create-technician",
            "--username",
            "alice",
            "--display-name",
            "Alice",
        ])
        .arg("--password-stdin")
        .stdin(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{PASSWORD}\n").as_bytes())?;
            child.wait()
        })
        .unwrap();
    assert!(created.success());
    let (process, addr) = start_process(&data, dir.path());
    let client = support::Client::new(addr);
    let origin = format!("http://{addr}");
    let cookie = sign_in(&client).await;
    let made: connectit_protocol::api::CreatedSession = client
        .http("POST", "/api/sessions", None, Some(&cookie))
        .await
        .json();
    let joined: connectit_protocol::api::VerifyPinResponse = client
        .http("POST", "/api/pin", Some(json!({"pin": made.pin})), None)
        .await
        .json();
    let mut cust = client.socket(&origin).await;
    cust.send(&ClientMessage::Hello {
        join: Join::Customer {
            token: joined.token.clone(),
        },
        after: 0,
    })
    .await;
    cust.recv().await;
    let mut seen = Vec::new();
    cust.act_ok(Action::AcceptTerms, &mut seen).await;
    let picked = client
        .http(
            "POST",
            &format!("/api/sessions/{}/pick-up", made.id),
            None,
            Some(&cookie),
        )
        .await;
    assert_eq!(picked.status, 204, "{}", picked.text());
    let session = made.id.clone();
    let backup = tempfile::tempdir().unwrap();
    let file = backup.path().join("connectit-backup.sqlite3");

    // The customer chats; a backup runs in another process meanwhile.
    let mut before = 0;
    for i in 0..20 {
        before = cust
            .act_ok(
                Action::Chat {
                    text: format!("before {i}"),
                },
                &mut seen,
            )
            .await;
    }
    let running = {
        let (data, file) = (data.clone(), file.clone());
        tokio::task::spawn_blocking(move || cli(&data, &["backup", file.to_str().unwrap()], &[]))
    };
    let mut during = 0;
    while !running.is_finished() && during < 5000 {
        cust.act_ok(
            Action::Chat {
                text: format!("during {during}"),
            },
            &mut seen,
        )
        .await;
        during += 1;
    }
    let (ok, out, err) = running.await.unwrap();
    assert!(ok, "{out}{err}");
    assert!(out.contains("hash chain checked"), "{out}");
    let after = cust
        .act_ok(
            Action::Chat {
                text: "after the backup".into(),
            },
            &mut seen,
        )
        .await;

    // The backup holds the log up to one instant: everything acknowledged before it
    // started, nothing after it ended, every chain whole.
    let backed = stored(&file);
    let (_, entries, holds) = backed
        .iter()
        .find(|(id, _, _)| *id == session)
        .cloned()
        .unwrap();
    assert!(holds);
    assert!(
        entries as u64 >= before && (entries as u64) < after,
        "{entries} of {before}..{after}"
    );
    // A second backup to the same file is refused; nothing is overwritten.
    let (ok, _, err) = cli(&data, &["backup", file.to_str().unwrap()], &[]);
    assert!(!ok && err.contains("exists"), "{err}");

    // Restoring is refused while the broker serves the folder...
    let (ok, _, err) = cli(&data, &["restore", file.to_str().unwrap()], &[]);
    assert!(!ok && err.contains("stop it first"), "{err}");
    // ...and done once it stopped; the replaced database is kept aside.
    drop(cust);
    stop_process(process);
    let (ok, out, err) = cli(&data, &["restore", file.to_str().unwrap()], &[]);
    assert!(ok, "{out}{err}");
    assert!(out.contains("kept as"), "{out}");
    assert!(std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().contains("before-restore")));

    // The restored broker serves the session as it was at the backup.
    let (process, addr) = start_process(&data, dir.path());
    let client = support::Client::new(addr);
    let cookie = sign_in(&client).await;
    let record = client
        .http(
            "GET",
            &format!("/api/sessions/{session}/record?format=json"),
            None,
            Some(&cookie),
        )
        .await;
    assert_eq!(record.status, 200, "{}", record.text());
    let record: connectit_protocol::api::SessionRecord = record.json();
    assert_eq!(record.entries.len(), entries);
    assert!(!record.entries.iter().any(
        |e| matches!(&e.entry.kind, EntryKind::Chat { text, .. } if text == "after the backup")
    ));
    stop_process(process);
}

#[tokio::test]
async fn old_sessions_are_deleted_or_anonymised_but_a_legal_hold_keeps_one_whole() {
    let broker = Broker::start(|_| {}).await;
    let data = broker.state.config.data_dir.clone();
    let mut ids = Vec::new();
    for _ in 0..3 {
        let mut active = broker.active_session_with_ids().await;
        let mut seen = Vec::new();
        active
            .cust
            .act_ok(
                Action::Chat {
                    text: "my account number is 4711".into(),
                },
                &mut seen,
            )
            .await;
        active.tech.act_ok(Action::End, &mut seen).await;
        ids.push(active.created.id.clone());
    }
    // Their ends are ten days old now.
    let old = support::now_ms() - 10 * 24 * 3600 * 1000;
    broker
        .state
        .db
        .call(move |conn| {
            conn.execute("UPDATE sessions SET phase_since = ?1", [old as i64])?;
            Ok(())
        })
        .await
        .unwrap();
    let (ok, out, err) = cli(&data, &["legal-hold", "--session", &ids[0].0], &[]);
    assert!(ok && out.contains("legal hold"), "{out}{err}");
    let (ok, _, err) = cli(&data, &["legal-hold", "--session", "nosuchsession"], &[]);
    assert!(!ok && err.contains("no session"), "{err}");

    // Anonymised first: the shape stays, the words go, the session still opens.
    let env = [
        ("CONNECTIT_RETENTION_DAYS", "7"),
        ("CONNECTIT_RETENTION_ACTION", "anonymise"),
    ];
    let (ok, out, err) = cli(&data, &["apply-retention"], &env);
    assert!(ok, "{out}{err}");
    assert!(
        out.contains("anonymised 2 sessions") && out.contains("1 kept on legal hold"),
        "{out}"
    );
    let conn = broker.sqlite();
    let text_of = |id: &SessionId| -> Vec<String> {
        conn.prepare("SELECT kind FROM entries WHERE session_id = ?1 ORDER BY seq")
            .unwrap()
            .query_map([&id.0], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert!(
        text_of(&ids[0]).iter().any(|k| k.contains("4711")),
        "held: whole"
    );
    for id in &ids[1..] {
        let kinds = text_of(id);
        assert!(!kinds.iter().any(|k| k.contains("4711")));
        assert!(kinds.iter().any(|k| k.contains("[removed]")));
    }
    let cookie = broker.sign_in("alice").await;
    let record = broker
        .http(
            "GET",
            &format!("/api/sessions/{}/record?format=json", ids[1]),
            None,
            Some(&cookie),
        )
        .await;
    assert_eq!(
        record.status,
        200,
        "an anonymised session still opens: {}",
        record.text()
    );

    // Then deleted: gone with every row; the held one stays.
    let env = [("CONNECTIT_RETENTION_DAYS", "7")];
    let (ok, out, err) = cli(&data, &["apply-retention"], &env);
    assert!(ok, "{out}{err}");
    let left: Vec<String> = conn
        .prepare("SELECT id FROM sessions")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(left, vec![ids[0].0.clone()], "{out}");
    let orphans: i64 = conn
        .query_row(
            "SELECT count(*) FROM entries WHERE session_id != ?1",
            [&ids[0].0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
    let lines: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit WHERE kind IN ('retention_applied', 'legal_hold')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(lines, 3, "each run and the hold are in the security log");
    // Lifting the hold lets the next run take it.
    let (ok, _, _) = cli(&data, &["legal-hold", "--session", &ids[0].0, "--off"], &[]);
    assert!(ok);
    let (ok, out, _) = cli(&data, &["apply-retention"], &env);
    assert!(ok && out.contains("deleted 1 sessions"), "{out}");
    broker.stop().await;
}

//! The real `connectit-broker` process: what it prints never contains a PIN, a token,
//! a password or the setup code (beyond the setup code's own announcement), and SIGTERM
//! closes every socket and exits cleanly.

mod support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::Duration;

use connectit_protocol::api::{CreatedSession, VerifyPinResponse};
use connectit_protocol::wire::{ClientMessage, Join};
use serde_json::json;
use support::{Frame, PASSWORD};

#[tokio::test]
async fn secrets_stay_out_of_the_log_and_sigterm_closes_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let bin = env!("CARGO_BIN_EXE_connectit-broker");
    let made = Command::new(bin)
        .args(["--data"])
        .arg(&data)
        .args([
            "create-technician",
            "--username",
            "alice",
            "--display-name",
            "Alice",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(format!("{PASSWORD}\n").as_bytes())?;
            child.wait_with_output()
        })
        .expect("create-technician");
    assert!(made.status.success());

    let mut broker = Command::new(bin)
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .arg("--dist")
        .arg(dir.path())
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the broker");
    let mut stdout = BufReader::new(broker.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let addr: std::net::SocketAddr = first
        .trim()
        .strip_prefix("ConnectIT listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {first:?}"))
        .parse()
        .unwrap();
    let client = support::Client::new(addr);

    // Sign in, create a session, fail a PIN, use the PIN, open a socket, answer a survey.
    let r = client
        .http(
            "POST",
            "/api/auth/sign-in",
            Some(json!({"username": "alice", "password": PASSWORD})),
            None,
        )
        .await;
    let cookie = r
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let cookie_token = cookie.split_once('=').unwrap().1.to_string();
    let created: CreatedSession = client
        .http("POST", "/api/sessions", None, Some(&cookie))
        .await
        .json();
    let wrong = if created.pin == "000000" {
        "000001"
    } else {
        "000000"
    };
    client
        .http("POST", "/api/pin", Some(json!({"pin": wrong})), None)
        .await;
    let joined: VerifyPinResponse = client
        .http("POST", "/api/pin", Some(json!({"pin": created.pin})), None)
        .await
        .json();
    let mut ws = client.socket(&format!("http://{addr}")).await;
    ws.send(&ClientMessage::Hello {
        join: Join::Customer {
            token: joined.token.clone(),
        },
        after: 0,
    })
    .await;
    ws.recv().await;

    // SIGTERM: the socket is told (going away), the process exits with success.
    let killed = Command::new("kill")
        .args(["-TERM", &broker.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let closed = loop {
        match ws.next_frame().await {
            Frame::Closed(code) => break code,
            Frame::Message(_) => continue,
        }
    };
    assert_eq!(
        closed,
        Some(1012),
        "sockets are told the broker restarts (Service Restart: they come back at once)"
    );
    let status = tokio::task::spawn_blocking(move || {
        let started = std::time::Instant::now();
        loop {
            if let Some(status) = broker.try_wait().unwrap() {
                let mut err = String::new();
                broker
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                return (status, err);
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the broker did not stop after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    })
    .await
    .unwrap();
    let (status, log) = status;
    assert!(status.success(), "exit status {status:?}");
    assert!(
        log.contains("session created") && log.contains("customer joined"),
        "the log tells the story:\n{log}"
    );
    for (what, secret) in [
        ("the PIN", created.pin.as_str()),
        ("the wrong PIN", wrong),
        ("the customer token", joined.token.as_str()),
        ("the sign-in token", cookie_token.as_str()),
        ("the password", PASSWORD),
    ] {
        assert!(
            !log.contains(secret),
            "{what} appears in the broker's log:\n{log}"
        );
    }
}

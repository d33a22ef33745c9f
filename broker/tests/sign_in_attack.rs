//! Signing in while strangers hammer the account: throttles count per address and per
//! account, never for everybody, and a browser that signed in to the account before
//! (its device cookie) gets through while the account is under attack. The one-time
//! setup code expires and is throttled per address. Every sign-in is in the security log.

mod support;

use std::net::Ipv4Addr;
use std::time::Duration;

use connectit_protocol::ErrorCode;
use serde_json::json;
use support::{Broker, Reply, Source, PASSWORD};

/// The `name=value` of each cookie a reply sets.
fn set_cookies(reply: &Reply) -> Vec<String> {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .collect()
}

fn device_cookie(reply: &Reply) -> String {
    set_cookies(reply)
        .into_iter()
        .find(|c| c.starts_with("connectit_device="))
        .expect("a device cookie")
}

async fn sign_in(from: &mut Source, username: &str, password: &str, cookie: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = cookie.map(|c| vec![("cookie", c)]).unwrap_or_default();
    from.post(
        "/api/auth/sign-in",
        &json!({"username": username, "password": password}),
        &headers,
    )
    .await
}

#[tokio::test]
async fn the_right_password_gets_in_from_a_known_browser_while_strangers_hammer_the_account() {
    let broker = Broker::start(|c| c.audit_window_secs = 3600).await;
    // Alice signed in from her browser before: it keeps a device cookie.
    let mut alice = Source::new(Ipv4Addr::new(127, 20, 0, 1), broker.addr).await;
    let first = sign_in(&mut alice, "alice", PASSWORD, None).await;
    assert_eq!(first.status, 200, "{}", first.text());
    let device = device_cookie(&first);
    let set = first
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("connectit_device="))
        .unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );

    // Strangers guess Alice's password from rotating addresses, several a second.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let attack = {
        let (addr, stop) = (broker.addr, stop.clone());
        tokio::spawn(async move {
            let (mut sent, mut refused, mut n) = (0u32, 0u32, 0u8);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                n = n.wrapping_add(1);
                let mut from = Source::new(Ipv4Addr::new(127, 21, n, 1), addr).await;
                let r = sign_in(&mut from, "alice", "guess guess", None).await;
                match (r.status, r.json::<ErrorCode>()) {
                    (401, ErrorCode::InvalidCredentials) => {}
                    (429, ErrorCode::TooManyAttempts { .. }) => refused += 1,
                    other => panic!("unexpected answer to a guess: {other:?}"),
                }
                sent += 1;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            (sent, refused)
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Alice, from her browser, with the right password: in, every time.
    let tries = 12;
    let mut in_ = 0;
    for _ in 0..tries {
        let r = sign_in(&mut alice, "alice", PASSWORD, Some(&device)).await;
        if r.status == 200 {
            in_ += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A browser the account never used is held back while the account is attacked...
    let mut new_browser = Source::new(Ipv4Addr::new(127, 22, 0, 1), broker.addr).await;
    let r = sign_in(&mut new_browser, "alice", PASSWORD, None).await;
    assert_eq!(
        (
            r.status,
            r.json::<ErrorCode>()
                .to_string()
                .contains("TooManyAttempts")
        ),
        (429, true)
    );
    // ...and only Alice's account is: Bob signs in from anywhere.
    let r = sign_in(&mut new_browser, "bob", PASSWORD, None).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Bob's device cookie is no pass for Alice's account.
    let bobs = device_cookie(&r);
    let r = sign_in(&mut new_browser, "alice", PASSWORD, Some(&bobs)).await;
    assert_eq!(r.status, 429);

    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (sent, refused) = attack.await.unwrap();
    assert!(refused > 0, "the strangers were throttled");
    assert_eq!(
        in_, tries,
        "the right password from a known browser got in every time"
    );
    eprintln!(
        "sign-in attack: {sent} wrong passwords from {sent} addresses ({refused} throttled); \
         the right password from Alice's browser got in {in_} of {tries} times"
    );

    // Every sign-in is in the security log: who, from where, how.
    broker.flush_audit().await;
    let ok = broker.audit("sign_in_succeeded");
    assert_eq!(
        ok.iter()
            .filter(|l| l.1.as_deref() == Some("alice"))
            .count(),
        tries + 1
    );
    assert!(ok.iter().all(|l| l.0.is_some()), "with the address");
    assert!(ok.iter().any(|l| l.3.contains("known device")));
    let failed = broker.audit("sign_in_failed");
    assert!(failed.iter().any(|l| l.1.as_deref() == Some("alice")
        && l.0.as_deref().is_some_and(|a| a.starts_with("127.21."))));
    let throttled: u64 = broker.audit("sign_in_throttled").iter().map(|l| l.2).sum();
    assert!(throttled >= u64::from(refused));
    broker.stop().await;
}

#[tokio::test]
async fn a_stolen_device_cookie_still_meets_a_limit() {
    let broker = Broker::start(|c| c.sign_in_attempts_per_address = 3).await;
    let mut alice = Source::new(Ipv4Addr::new(127, 23, 0, 1), broker.addr).await;
    let device = device_cookie(&sign_in(&mut alice, "alice", PASSWORD, None).await);
    let mut thief = Source::new(Ipv4Addr::new(127, 24, 0, 1), broker.addr).await;
    for _ in 0..3 {
        let r = sign_in(&mut thief, "alice", "guess guess", Some(&device)).await;
        assert_eq!(r.status, 401);
    }
    let r = sign_in(&mut thief, "alice", "guess guess", Some(&device)).await;
    assert_eq!(r.status, 429, "the device has its own allowance");
    // A forged device cookie is just no device cookie.
    let forged = "connectit_device=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let mut other = Source::new(Ipv4Addr::new(127, 25, 0, 1), broker.addr).await;
    let r = sign_in(&mut other, "alice", PASSWORD, Some(forged)).await;
    assert_eq!(r.status, 200);
    broker.stop().await;
}

#[tokio::test]
async fn the_setup_code_expires_is_throttled_per_address_and_can_be_renewed() {
    let broker = Broker::start_empty_with(|c| {
        c.setup_code_validity_secs = 2;
        c.sign_in_attempts_per_address = 3;
    })
    .await;
    let code = broker.state.setup_code().expect("a setup code");
    let setup = |code: &str, username: &str| json!({"code": code, "username": username, "display_name": "Root Admin", "password": "password123"});
    // A stranger runs out of guesses at their address only.
    let mut stranger = Source::new(Ipv4Addr::new(127, 26, 0, 1), broker.addr).await;
    for _ in 0..3 {
        let r = stranger
            .post("/api/setup", &setup("WRNG-CODE-XXXX", "evil"), &[])
            .await;
        assert_eq!(r.json::<ErrorCode>(), ErrorCode::InvalidSetupCode);
    }
    let r = stranger
        .post("/api/setup", &setup(&code, "evil"), &[])
        .await;
    assert_eq!(
        r.status, 429,
        "even the right code, from the stranger's address"
    );

    // After its validity, the right code from anywhere is refused...
    tokio::time::sleep(Duration::from_millis(2300)).await;
    let mut admin = Source::new(Ipv4Addr::new(127, 27, 0, 1), broker.addr).await;
    let r = admin.post("/api/setup", &setup(&code, "root"), &[]).await;
    assert_eq!(
        (r.status, r.json::<ErrorCode>()),
        (403, ErrorCode::InvalidSetupCode)
    );
    // ...and the command line makes a new one, which the running broker takes.
    let data = broker.db_path().parent().unwrap().to_path_buf();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_connectit-broker"))
        .arg("--data")
        .arg(&data)
        .arg("setup-code")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed = String::from_utf8_lossy(&out.stdout);
    let fresh = printed
        .split_whitespace()
        .find(|w| w.len() == 14 && w.matches('-').count() == 2)
        .unwrap_or_else(|| panic!("a code in {printed:?}"));
    let r = admin.post("/api/setup", &setup(fresh, "root"), &[]).await;
    assert_eq!(r.status, 200, "{}", r.text());
    // Used: no more codes.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_connectit-broker"))
        .arg("--data")
        .arg(&data)
        .arg("setup-code")
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "{} {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    broker.flush_audit().await;
    let failed: u64 = broker.audit("setup_failed").iter().map(|l| l.2).sum();
    assert_eq!(failed, 4, "three from the stranger, one expired");
    assert_eq!(broker.audit("setup_succeeded").len(), 1);
    assert!(!broker.audit("setup_throttled").is_empty());
    broker.stop().await;
}

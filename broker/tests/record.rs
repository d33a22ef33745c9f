//! The session record: downloaded by both sides, hash-chained, and verified against the
//! database by the `verify-record` command, which notices a single changed byte.

mod support;

use connectit_broker::record::{verify, Verdict};
use connectit_protocol::api::SessionRecord;
use connectit_protocol::{Action, ErrorCode};
use serde_json::json;
use support::Broker;

#[tokio::test]
async fn both_sides_download_a_record_that_verifies_until_one_byte_changes() {
    let broker = Broker::start(|c| c.organisation = "Acme & Co".into()).await;
    let support::Active {
        cookie,
        created,
        joined,
        mut cust,
        mut tech,
    } = broker.active_session_with_ids().await;
    let mut seen = Vec::new();
    cust.act_ok(
        Action::Chat {
            text: "My <printer> says \"E42\"".into(),
        },
        &mut seen,
    )
    .await;
    tech.act_ok(
        Action::Chat {
            text: "Let us look.".into(),
        },
        &mut seen,
    )
    .await;

    // The customer's copy, during the session.
    let r = broker
        .http(
            "POST",
            "/api/record",
            Some(json!({"token": joined.token, "format": "json"})),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r
        .header("content-disposition")
        .unwrap()
        .starts_with("attachment; filename=\"connectit-session-"));
    let record: SessionRecord = r.json();
    assert_eq!(record.entries.len(), 5);
    assert_eq!(record.technician, "Alice Smith");
    assert_eq!(record.final_hash, record.entries.last().unwrap().hash);
    let conn = broker.sqlite();
    assert!(matches!(
        verify(&conn, &record).unwrap(),
        Verdict::Intact { entries: 5, .. }
    ));

    // The technician's copy agrees.
    let t = broker
        .http(
            "GET",
            &format!("/api/sessions/{}/record?format=json", created.id),
            None,
            Some(&cookie),
        )
        .await;
    let theirs: SessionRecord = t.json();
    assert_eq!(theirs.final_hash, record.final_hash);
    let bob = broker.sign_in("bob").await;
    let other = broker
        .http(
            "GET",
            &format!("/api/sessions/{}/record", created.id),
            None,
            Some(&bob),
        )
        .await;
    assert_eq!(other.json::<ErrorCode>(), ErrorCode::Forbidden);
    let nobody = broker
        .http(
            "POST",
            "/api/record",
            Some(json!({"token": "f00", "format": "html"})),
            None,
        )
        .await;
    assert_eq!(nobody.json::<ErrorCode>(), ErrorCode::Unauthorized);

    // The readable copy: text escaped, the final hash shown.
    let html = broker
        .http(
            "POST",
            "/api/record",
            Some(json!({"token": joined.token, "format": "html"})),
            None,
        )
        .await;
    assert_eq!(
        html.header("content-type").as_deref(),
        Some("text/html; charset=utf-8")
    );
    let page = html.text();
    assert!(
        page.contains("My &lt;printer&gt; says &quot;E42&quot;"),
        "{page}"
    );
    assert!(page.contains("Acme &amp; Co"));
    assert!(page.contains(&record.final_hash));

    // One byte changed in the file: the chain breaks there.
    let text = serde_json::to_string_pretty(&record).unwrap();
    let tampered = text.replacen("E42", "E43", 1);
    let bad: SessionRecord = serde_json::from_str(&tampered).unwrap();
    assert_eq!(
        verify(&conn, &bad).unwrap(),
        Verdict::BrokenChain { seq: 4 }
    );
    // A forger who recomputes every hash still differs from the stored log.
    let mut forged = bad.clone();
    let mut prev = connectit_broker::chain::genesis(&forged.session);
    for e in &mut forged.entries {
        prev = connectit_broker::chain::entry_hash(&prev, &e.entry);
        e.hash = connectit_broker::secrets::hex(&prev);
    }
    forged.final_hash = forged.entries.last().unwrap().hash.clone();
    assert_eq!(verify(&conn, &forged).unwrap(), Verdict::Differs { seq: 4 });
    let mut shortened = record.clone();
    shortened.entries.pop();
    assert_eq!(verify(&conn, &shortened).unwrap(), Verdict::WrongFinalHash);

    // The command line says the same, with its exit code.
    let dir = tempfile::tempdir().unwrap();
    let good_file = dir.path().join("good.json");
    let bad_file = dir.path().join("bad.json");
    std::fs::write(&good_file, &text).unwrap();
    std::fs::write(&bad_file, &tampered).unwrap();
    let data = broker.db_path().parent().unwrap().to_path_buf();
    let run = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_connectit-broker"))
            .arg("--data")
            .arg(&data)
            .arg("verify-record")
            .arg(file)
            .output()
            .expect("run verify-record")
    };
    let ok = run(&good_file);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("INTACT"));
    let no = run(&bad_file);
    assert_eq!(no.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no.stdout).contains("entry 4 does not match its hash"));
    broker.stop().await;
}

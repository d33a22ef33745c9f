//! The session record: downloaded by both sides, hash-chained and signed by the broker,
//! and verified by the `verify-record` command: against the database, where a single
//! changed byte shows; and with the broker's public key alone, where a changed entry, a
//! changed header field and a cut-off copy show, and a genuine copy stands whatever
//! later happens to the database.

mod support;

use connectit_broker::record::{verify, Verdict};
use connectit_protocol::api::SessionRecord;
use connectit_protocol::{Action, ErrorCode};
use serde_json::json;
use support::Broker;

#[tokio::test]
async fn both_sides_download_a_record_that_verifies_until_one_byte_changes() {
    let broker = Broker::start(|c| {
        c.organisation = "Acme & Co".into();
        c.time_zone = "Europe/Paris".into();
    })
    .await;
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
    let conn = connectit_broker::sql::Connection::sqlite(broker.sqlite());
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
    // Times in the organisation's zone, with the offset, and the instant in <time>.
    assert!(page.contains("Times are in Europe/Paris"), "{page}");
    assert!(page.contains("<time datetime=\""), "{page}");
    assert!(
        page.contains(" +01:00</time>") || page.contains(" +02:00</time>"),
        "{page}"
    );

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

/// Runs `connectit-broker` with these arguments: exit code and standard output.
fn cli(args: &[&std::ffi::OsStr]) -> (Option<i32>, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_connectit-broker"))
        .args(args)
        .output()
        .expect("run connectit-broker");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[tokio::test]
async fn a_signed_record_stands_on_its_own_and_every_forgery_shows_without_the_database() {
    let broker = Broker::start(|c| c.organisation = "Acme".into()).await;
    let support::Active {
        joined, mut cust, ..
    } = broker.active_session_with_ids().await;
    let mut seen = Vec::new();
    cust.act_ok(
        Action::Chat {
            text: "Please pay the invoice of 100 EUR".into(),
        },
        &mut seen,
    )
    .await;
    let record: SessionRecord = broker
        .http(
            "POST",
            "/api/record",
            Some(json!({"token": joined.token, "format": "json"})),
            None,
        )
        .await
        .json();
    assert_eq!(record.format, "connectit-record/2");
    let signature = record.signature.clone().expect("signed");
    assert_eq!(signature.algorithm, "ed25519");

    // The public key: served at a fixed address, printed by the command line alike.
    let served: connectit_protocol::api::RecordKey = broker
        .http("GET", "/api/record-key", None, None)
        .await
        .json();
    let data = broker.db_path().parent().unwrap().to_path_buf();
    let (code, printed) = cli(&["--data".as_ref(), data.as_os_str(), "record-key".as_ref()]);
    assert_eq!(code, Some(0), "{printed}");
    assert_eq!(printed.trim(), served.public_key);
    assert_eq!(served.key_id, signature.key_id);
    let key = served.public_key.clone();

    // Files elsewhere, checked with the key alone: no --data, no database.
    let dir = tempfile::tempdir().unwrap();
    let check = |name: &str, record: &SessionRecord| {
        let file = dir.path().join(name);
        std::fs::write(&file, serde_json::to_string_pretty(record).unwrap()).unwrap();
        cli(&[
            "--data".as_ref(),
            dir.path().join("no-such-folder").as_os_str(),
            "verify-record".as_ref(),
            "--public-key".as_ref(),
            key.as_ref(),
            file.as_os_str(),
        ])
    };
    let (code, out) = check("genuine.json", &record);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.starts_with("INTACT"), "{out}");

    // A changed entry, with every hash recomputed by the forger: the signed final hash
    // no longer matches.
    let mut forged = record.clone();
    for e in &mut forged.entries {
        if let connectit_protocol::EntryKind::Chat { text, .. } = &mut e.entry.kind {
            *text = text.replace("100 EUR", "900 EUR");
        }
    }
    let mut prev = connectit_broker::chain::genesis(&forged.session);
    for e in &mut forged.entries {
        prev = connectit_broker::chain::entry_hash(&prev, &e.entry);
        e.hash = connectit_broker::secrets::hex(&prev);
    }
    forged.final_hash = forged.entries.last().unwrap().hash.clone();
    let (code, out) = check("forged.json", &forged);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("NOT INTACT") && out.contains("signature"),
        "{out}"
    );
    // The same change without recomputing: the chain breaks at the entry.
    let mut edited = record.clone();
    let chat = edited
        .entries
        .iter_mut()
        .find(|e| matches!(e.entry.kind, connectit_protocol::EntryKind::Chat { .. }))
        .unwrap();
    chat.entry.kind = connectit_protocol::EntryKind::Chat {
        text: "Please pay the invoice of 900 EUR".into(),
        by: None,
    };
    let (code, out) = check("edited.json", &edited);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("does not match its hash"), "{out}");

    // A header field changed: the technician, the organisation, the creation time.
    for (name, change) in [
        (
            "technician",
            (|r: &mut SessionRecord| r.technician = "Bob Jones".into()) as fn(&mut SessionRecord),
        ),
        ("organisation", |r: &mut SessionRecord| {
            r.organisation = "Evil Corp".into()
        }),
        ("created_at", |r: &mut SessionRecord| {
            r.created_at -= 3_600_000
        }),
    ] {
        let mut changed = record.clone();
        change(&mut changed);
        let (code, out) = check(&format!("{name}.json"), &changed);
        assert_eq!(code, Some(1), "{name}: {out}");
        assert!(out.contains("signature"), "{name}: {out}");
    }

    // Cut down to its first entries, final hash and all: the signature counts entries.
    let mut truncated = record.clone();
    truncated.entries.truncate(3);
    truncated.final_hash = truncated.entries.last().unwrap().hash.clone();
    let (code, out) = check("truncated.json", &truncated);
    assert_eq!(code, Some(1), "{out}");
    let mut cut = record.clone();
    cut.entries.truncate(3);
    let (code, out) = check("cut.json", &cut);
    assert_eq!(code, Some(1), "{out}");

    // Another broker's key does not vouch for it.
    let stranger = connectit_broker::signing::RecordSigner::ephemeral();
    let file = dir.path().join("genuine.json");
    let (code, out) = cli(&[
        "verify-record".as_ref(),
        "--public-key".as_ref(),
        stranger.public_key_base64().as_ref(),
        file.as_os_str(),
    ]);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("another key"), "{out}");

    // Whoever holds the database rewrites the chat: the check against the database now
    // disagrees, and the customer's genuine copy still verifies with the key.
    {
        let db = rusqlite::Connection::open(data.join("connectit.sqlite3")).unwrap();
        let changed = db
            .execute(
                "UPDATE entries SET kind = replace(kind, '100 EUR', '10 EUR') WHERE kind LIKE '%100 EUR%'",
                [],
            )
            .unwrap();
        assert_eq!(changed, 1);
    }
    let (code, out) = cli(&[
        "--data".as_ref(),
        data.as_os_str(),
        "verify-record".as_ref(),
        file.as_os_str(),
    ]);
    assert_eq!(code, Some(1), "the database no longer agrees: {out}");
    let (code, out) = check("genuine-again.json", &record);
    assert_eq!(code, Some(0), "the genuine copy stands on its own: {out}");
    broker.stop().await;
}

/// The record speaks the reader's language with the app's own sentences: each entry's
/// line is what that reader's page says for it (the shared catalogs), in French when
/// asked, and the readable page's labels too.
#[tokio::test]
async fn the_record_is_worded_by_the_apps_catalog_in_the_readers_language() {
    use connectit_protocol::Role;
    use connectit_wording::{entry, Catalog, Msg};

    let broker = Broker::start(|_| {}).await;
    let support::Active {
        cookie,
        created,
        joined,
        mut cust,
        ..
    } = broker.active_session_with_ids().await;
    let mut seen = Vec::new();
    cust.act_ok(
        Action::Chat {
            text: "Bonjour".into(),
        },
        &mut seen,
    )
    .await;
    let r = broker
        .http(
            "POST",
            "/api/record",
            Some(json!({"token": joined.token, "format": "json", "language": "fr-BE"})),
            None,
        )
        .await;
    let record: SessionRecord = r.json();
    let french = Catalog::for_language("fr", Default::default());
    let entries: Vec<_> = record.entries.iter().map(|e| e.entry.clone()).collect();
    let files = entry::file_names(&entries);
    let in_charge = entry::in_charge_at(&entries);
    for (i, e) in entries.iter().enumerate() {
        let page = entry::line(&french, e, Role::Customer, None, in_charge[i], &files);
        // A chat line is its text after its author's name, as the page shows it.
        let expected = match (page.chat, page.name) {
            (true, Some(name)) => french.t(Msg::RecordChat {
                name,
                text: page.text,
            }),
            _ => page.text,
        };
        assert_eq!(record.entries[i].line, expected, "entry {}", e.seq);
    }
    assert!(
        record
            .entries
            .iter()
            .any(|e| e.line.contains("Alice Smith")),
        "{:?}",
        record.entries
    );
    let html = broker
        .http(
            "POST",
            "/api/record",
            Some(json!({"token": joined.token, "format": "html", "language": "fr"})),
            None,
        )
        .await
        .text();
    assert!(html.contains("<html lang=\"fr\">"), "{html}");
    assert!(
        html.contains("Compte rendu de session d’assistance"),
        "{html}"
    );
    assert!(html.contains("Bonjour"));
    // The technician's copy, in English by default, says the same facts their way.
    let english = broker
        .http(
            "GET",
            &format!("/api/sessions/{}/record?format=html", created.id),
            None,
            Some(&cookie),
        )
        .await
        .text();
    assert!(english.contains("<html lang=\"en\">") && english.contains("Support session record"));
}

//! The history and reports: each sees what they may (a technician their own sessions,
//! a team lead their teams', an admin all), searches by customer, technician, team,
//! ticket, words of the chat and a range of ends, exports the search as CSV (with no
//! cell a spreadsheet would run), opens a session they may see with its record, and
//! reads the survey answers and the waiting and session times over a range.

mod support;

use connectit_protocol::api::{HistoryRow, Report, VerifyPinResponse};
use connectit_protocol::wire::Join;
use connectit_protocol::{Action, SessionId};
use serde_json::json;
use support::{Broker, Ws};

/// Ends the session of `cust` (the customer ends it) and answers the survey.
async fn end_with_survey(broker: &Broker, cust: &mut Ws, token: &str, rating: u8, resolved: bool) {
    let mut seen = Vec::new();
    cust.act_ok(Action::End, &mut seen).await;
    let r = broker
        .http(
            "POST",
            "/api/survey",
            Some(json!({"token": token, "rating": rating, "resolved": resolved, "comment": ""})),
            None,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
}

async fn history(broker: &Broker, cookie: &str, query: &str) -> Vec<HistoryRow> {
    let r = broker
        .http("GET", &format!("/api/history{query}"), None, Some(cookie))
        .await;
    assert_eq!(r.status, 200, "{query}: {}", r.text());
    r.json()
}

fn ids(rows: &[HistoryRow]) -> Vec<SessionId> {
    rows.iter().map(|r| r.id.clone()).collect()
}

#[tokio::test]
async fn each_sees_the_history_they_may_search_it_export_it_and_read_the_report() {
    let broker = Broker::start(|_| {}).await;
    broker
        .state
        .db
        .call(|conn| {
            connectit_broker::auth::create_account(conn, "carol", "Carol Ng", support::PASSWORD)
                .expect("carol");
            let team =
                connectit_broker::db::create_team(conn, "helpdesk", "Help desk", 0)?.expect("team");
            for name in ["bob", "carol"] {
                let id = connectit_broker::db::technician_id(conn, name)?.expect(name);
                connectit_broker::db::set_member(conn, team, id, true)?;
            }
            connectit_broker::db::set_role(
                conn,
                "carol",
                connectit_protocol::api::AccountRole::TeamLead,
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let (alice, bob, carol) = (
        broker.sign_in("alice").await,
        broker.sign_in("bob").await,
        broker.sign_in("carol").await,
    );

    // Alice's own session (a PIN): a printer, rated 5, resolved.
    let mut a = broker.active_session_with_ids().await;
    let mut seen = Vec::new();
    a.cust
        .act_ok(
            Action::Chat {
                text: "The printer is jammed".into(),
            },
            &mut seen,
        )
        .await;
    broker
        .http(
            "PUT",
            &format!("/api/sessions/{}/details", a.created.id),
            Some(json!({"customer_name": "=HYPERLINK(\"evil\")", "problem": "Printer", "ticket": "INC-100"})),
            Some(&a.cookie),
        )
        .await;
    end_with_survey(&broker, &mut a.cust, &a.joined.token, 5, true).await;

    // Bob's, from the team's queue: the VPN, rated 2, not resolved.
    let r = broker
        .http(
            "POST",
            "/api/teams/helpdesk/join",
            Some(json!({"name": "Bo Becker", "problem": "VPN drops"})),
            None,
        )
        .await;
    let joined: VerifyPinResponse = r.json();
    let mut cust = broker
        .join(
            Join::Customer {
                token: joined.token.clone(),
            },
            0,
            None,
        )
        .await;
    cust.act_ok(Action::AcceptTerms, &mut seen).await;
    let picked = broker
        .http(
            "POST",
            &format!("/api/sessions/{}/pick-up", joined.session),
            None,
            Some(&bob),
        )
        .await;
    assert_eq!(picked.status, 204);
    cust.act_ok(
        Action::Chat {
            text: "My VPN drops 50% of the time".into(),
        },
        &mut seen,
    )
    .await;
    end_with_survey(&broker, &mut cust, &joined.token, 2, false).await;
    let (alices, bobs) = (a.created.id.clone(), joined.session.clone());

    // Who sees what.
    assert_eq!(
        ids(&history(&broker, &bob, "").await),
        std::slice::from_ref(&bobs)
    );
    assert_eq!(
        ids(&history(&broker, &carol, "").await),
        std::slice::from_ref(&bobs),
        "a lead: the team's"
    );
    assert_eq!(
        ids(&history(&broker, &alice, "").await),
        [bobs.clone(), alices.clone()],
        "newest first"
    );
    assert_eq!(
        broker.http("GET", "/api/history", None, None).await.status,
        401
    );

    // Searches.
    for (query, want) in [
        ("?text=vpn", vec![bobs.clone()]),
        ("?text=PRINTER", vec![alices.clone()]),
        ("?text=50%25", vec![bobs.clone()]),
        ("?text=%25", vec![bobs.clone()]),
        ("?text=nothing+like+this", vec![]),
        ("?customer=bo", vec![bobs.clone()]),
        ("?ticket=INC-100", vec![alices.clone()]),
        ("?technician=Bob", vec![bobs.clone()]),
        ("?team=helpdesk", vec![bobs.clone()]),
        ("?to=1", vec![]),
        ("?limit=1", vec![bobs.clone()]),
    ] {
        assert_eq!(ids(&history(&broker, &alice, query).await), want, "{query}");
    }
    let rows = history(&broker, &alice, "?text=vpn").await;
    let row = &rows[0];
    assert_eq!(row.details.customer_name, "Bo Becker");
    assert_eq!(row.technician.as_ref().unwrap().username, "bob");
    assert_eq!((row.rating, row.resolved), (Some(2), Some(false)));
    assert_eq!(row.messages, 1);
    assert!(row.waited_secs.is_some() && row.duration_secs.is_some());
    assert_eq!(
        row.end_reason,
        Some(connectit_protocol::EndReason::CustomerEnded)
    );

    // The CSV: the same rows; no cell starts a formula.
    let r = broker
        .http("GET", "/api/history.csv", None, Some(&alice))
        .await;
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/csv"));
    let csv = r.text();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 3, "{csv}");
    assert!(lines[0].starts_with("session,created,ended,customer"));
    assert!(csv.contains("\"'=HYPERLINK(\"\"evil\"\")\""), "{csv}");
    assert!(!csv.contains(",\"=HYPERLINK"));

    // Records: a lead opens the team's; a technician not another's.
    let record = |id: &SessionId| format!("/api/sessions/{id}/record?format=json");
    assert_eq!(
        broker
            .http("GET", &record(&bobs), None, Some(&carol))
            .await
            .status,
        200
    );
    assert_eq!(
        broker
            .http("GET", &record(&alices), None, Some(&carol))
            .await
            .status,
        403
    );
    assert_eq!(
        broker
            .http("GET", &record(&alices), None, Some(&bob))
            .await
            .status,
        403
    );
    assert_eq!(
        broker
            .http("GET", &record(&bobs), None, Some(&alice))
            .await
            .status,
        200
    );

    // The report.
    let report: Report = broker
        .http("GET", "/api/reports", None, Some(&alice))
        .await
        .json();
    assert_eq!((report.surveys.sessions, report.surveys.answered), (2, 2));
    assert_eq!(report.surveys.average_rating, Some(3.5));
    assert_eq!(report.surveys.resolved_share, Some(0.5));
    let by: Vec<(&str, Option<f64>)> = report
        .by_technician
        .iter()
        .map(|(t, f)| (t.username.as_str(), f.average_rating))
        .collect();
    assert_eq!(by, [("alice", Some(5.0)), ("bob", Some(2.0))]);
    assert_eq!(report.by_team.len(), 1);
    assert_eq!(report.by_team[0].1.sessions, 1);
    assert_eq!((report.waiting.count, report.sessions.count), (2, 2));
    let lead: Report = broker
        .http("GET", "/api/reports", None, Some(&carol))
        .await
        .json();
    assert_eq!(
        lead.surveys.sessions, 1,
        "a lead's report is over their teams'"
    );
    let empty: Report = broker
        .http("GET", "/api/reports?from=1&to=2", None, Some(&alice))
        .await
        .json();
    assert_eq!(
        (empty.surveys.sessions, empty.surveys.average_rating),
        (0, None)
    );
    broker.stop().await;
}

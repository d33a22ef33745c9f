//! Accounts and roles: the first account administers; an admin creates accounts whose
//! owners choose their password from a one-use link, disables and enables them (their
//! sockets close at once), resets passwords, signs accounts out everywhere and manages
//! teams; nobody else may; the last admin stays one. Technicians change their own
//! password and sign their other browsers out. Every step is in the security log.

mod support;

use std::time::Duration;

use connectit_protocol::api::{Account, AccountRole, Invitation, TeamAdmin, Technician};
use connectit_protocol::error::Field;
use connectit_protocol::ErrorCode;
use serde_json::json;
use support::{Broker, Reply};

fn error(reply: &Reply) -> ErrorCode {
    serde_json::from_slice(&reply.body).unwrap_or_else(|_| panic!("an error: {}", reply.text()))
}

fn cookie_of(reply: &Reply) -> String {
    reply
        .header("set-cookie")
        .expect("a cookie")
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

async fn sign_in(broker: &Broker, username: &str, password: &str) -> Reply {
    broker
        .http(
            "POST",
            "/api/auth/sign-in",
            Some(json!({"username": username, "password": password})),
            None,
        )
        .await
}

/// The token in an invitation's link.
fn token(invitation: &Invitation) -> String {
    invitation
        .url
        .split_once("/console/welcome#")
        .expect("a welcome link")
        .1
        .to_string()
}

async fn accept(broker: &Broker, token: &str, password: &str) -> Reply {
    broker
        .http(
            "POST",
            "/api/auth/accept-invitation",
            Some(json!({"token": token, "password": password})),
            None,
        )
        .await
}

#[tokio::test]
async fn an_admin_manages_accounts_and_nobody_else_may() {
    let broker = Broker::start(|_| {}).await;
    let (alice, bob) = (broker.sign_in("alice").await, broker.sign_in("bob").await);
    let me: Technician = broker
        .http("GET", "/api/auth/me", None, Some(&alice))
        .await
        .json();
    assert_eq!(me.role, AccountRole::Admin, "the first account administers");
    let me: Technician = broker
        .http("GET", "/api/auth/me", None, Some(&bob))
        .await
        .json();
    assert_eq!(me.role, AccountRole::Technician);

    // Only an admin.
    let r = broker
        .http("GET", "/api/admin/accounts", None, Some(&bob))
        .await;
    assert_eq!((r.status, error(&r)), (403, ErrorCode::AdminOnly));
    let r = broker.http("GET", "/api/admin/accounts", None, None).await;
    assert_eq!(r.status, 401);
    let new_carol = json!({"username": "carol", "display_name": "Carol Ng"});
    let r = broker
        .http(
            "POST",
            "/api/admin/accounts",
            Some(new_carol.clone()),
            Some(&bob),
        )
        .await;
    assert_eq!((r.status, error(&r)), (403, ErrorCode::AdminOnly));

    // A new account: a one-use link, no password until it is used.
    let r = broker
        .http(
            "POST",
            "/api/admin/accounts",
            Some(new_carol.clone()),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let invitation: Invitation = r.json();
    assert!(invitation.url.starts_with(&broker.origin()));
    assert!(invitation.account.invited);
    assert_eq!(invitation.account.role, AccountRole::Technician);
    let r = broker
        .http("POST", "/api/admin/accounts", Some(new_carol), Some(&alice))
        .await;
    assert_eq!(
        (r.status, error(&r)),
        (
            400,
            ErrorCode::InvalidInput {
                field: Field::Username
            }
        ),
        "a user name is taken once"
    );
    for bad in [
        json!({"username": "c arol", "display_name": "C"}),
        json!({"username": "dan", "display_name": "Dan\u{202e}"}),
        json!({"username": "dan"}),
    ] {
        let r = broker
            .http(
                "POST",
                "/api/admin/accounts",
                Some(bad.clone()),
                Some(&alice),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
    let r = sign_in(&broker, "carol", "").await;
    assert_eq!(error(&r), ErrorCode::InvalidCredentials, "no password yet");
    let r = accept(&broker, &token(&invitation), "short").await;
    assert_eq!(
        error(&r),
        ErrorCode::InvalidInput {
            field: Field::Password
        }
    );
    let r = accept(&broker, &token(&invitation), "carol's long password").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let carol = cookie_of(&r);
    let r = accept(&broker, &token(&invitation), "another long password").await;
    assert_eq!(
        (r.status, error(&r)),
        (403, ErrorCode::InvalidInvitation),
        "one use"
    );
    let r = accept(&broker, "made-up", "another long password").await;
    assert_eq!(error(&r), ErrorCode::InvalidInvitation);
    assert_eq!(
        sign_in(&broker, "carol", "carol's long password")
            .await
            .status,
        200
    );

    // Disabling closes her sockets at once; she cannot sign in until enabled again.
    let mut console = broker
        .socket("/api/console/ws", &broker.origin(), Some(&carol))
        .await
        .expect("carol's console");
    console.stream_next_text().await.expect("the session list");
    let disable = json!({"disabled": true});
    let r = broker
        .http(
            "PATCH",
            "/api/admin/accounts/carol",
            Some(disable),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json::<Account>().disabled);
    assert_eq!(
        console.close_frame(Duration::from_secs(5)).await,
        Some((4001, "signed_out".into()))
    );
    let r = sign_in(&broker, "carol", "carol's long password").await;
    assert_eq!(error(&r), ErrorCode::InvalidCredentials);
    let r = broker
        .http(
            "PATCH",
            "/api/admin/accounts/carol",
            Some(json!({"disabled": false})),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200);
    let carol = cookie_of(&sign_in(&broker, "carol", "carol's long password").await);

    // A reset: the old password and every sign-in end; the new link sets a new one.
    let r = broker
        .http(
            "POST",
            "/api/admin/accounts/carol/reset",
            None,
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let reset: Invitation = r.json();
    assert_eq!(
        broker
            .http("GET", "/api/auth/me", None, Some(&carol))
            .await
            .status,
        401
    );
    let r = sign_in(&broker, "carol", "carol's long password").await;
    assert_eq!(error(&r), ErrorCode::InvalidCredentials);
    assert_eq!(
        accept(&broker, &token(&reset), "carol's new password")
            .await
            .status,
        200
    );

    // Signed out everywhere by an admin.
    let one = cookie_of(&sign_in(&broker, "carol", "carol's new password").await);
    let two = cookie_of(&sign_in(&broker, "carol", "carol's new password").await);
    let r = broker
        .http(
            "POST",
            "/api/admin/accounts/carol/sign-out",
            None,
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 204);
    for cookie in [&one, &two] {
        assert_eq!(
            broker
                .http("GET", "/api/auth/me", None, Some(cookie))
                .await
                .status,
            401
        );
    }
    let r = broker
        .http(
            "POST",
            "/api/admin/accounts/nobody/sign-out",
            None,
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 404);

    // The last admin stays one.
    for change in [json!({"role": "technician"}), json!({"disabled": true})] {
        let r = broker
            .http(
                "PATCH",
                "/api/admin/accounts/alice",
                Some(change),
                Some(&alice),
            )
            .await;
        assert_eq!((r.status, error(&r)), (409, ErrorCode::LastAdmin));
    }
    let r = broker
        .http(
            "PATCH",
            "/api/admin/accounts/bob",
            Some(json!({"role": "admin"})),
            Some(&alice),
        )
        .await;
    assert_eq!(r.json::<Account>().role, AccountRole::Admin);
    let r = broker
        .http(
            "PATCH",
            "/api/admin/accounts/alice",
            Some(json!({"role": "technician"})),
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = broker
        .http("GET", "/api/admin/accounts", None, Some(&alice))
        .await;
    assert_eq!(
        (r.status, error(&r)),
        (403, ErrorCode::AdminOnly),
        "no longer an admin"
    );
    let accounts: Vec<Account> = broker
        .http("GET", "/api/admin/accounts", None, Some(&bob))
        .await
        .json();
    assert_eq!(
        accounts
            .iter()
            .map(|a| a.username.as_str())
            .collect::<Vec<_>>(),
        ["alice", "bob", "carol"]
    );

    broker.flush_audit().await;
    for kind in [
        "account_created",
        "account_changed",
        "password_reset",
        "password_set",
        "signed_out_everywhere",
        "invitation_failed",
    ] {
        assert!(!broker.audit(kind).is_empty(), "no {kind} line");
    }
    let created = broker.audit("account_created");
    assert_eq!(created[0].1.as_deref(), Some("alice"), "the admin is named");
    broker.stop().await;
}

#[tokio::test]
async fn an_admin_manages_teams() {
    let broker = Broker::start(|_| {}).await;
    let (alice, bob) = (broker.sign_in("alice").await, broker.sign_in("bob").await);
    let team = json!({"slug": "Helpdesk", "name": "Help desk"});
    let r = broker
        .http("POST", "/api/admin/teams", Some(team.clone()), Some(&bob))
        .await;
    assert_eq!(error(&r), ErrorCode::AdminOnly);
    let r = broker
        .http("POST", "/api/admin/teams", Some(team.clone()), Some(&alice))
        .await;
    assert_eq!(r.status, 201, "{}", r.text());
    let r = broker
        .http("POST", "/api/admin/teams", Some(team), Some(&alice))
        .await;
    assert_eq!(
        error(&r),
        ErrorCode::InvalidInput {
            field: Field::TeamSlug
        }
    );
    for (bad, field) in [
        (json!({"slug": "-x", "name": "X"}), Field::TeamSlug),
        (json!({"slug": "ok", "name": " "}), Field::TeamName),
    ] {
        let r = broker
            .http("POST", "/api/admin/teams", Some(bad), Some(&alice))
            .await;
        assert_eq!(error(&r), ErrorCode::InvalidInput { field });
    }
    let member = "/api/admin/teams/helpdesk/members/bob";
    assert_eq!(
        broker.http("PUT", member, None, Some(&alice)).await.status,
        204
    );
    let teams: Vec<TeamAdmin> = broker
        .http("GET", "/api/admin/teams", None, Some(&alice))
        .await
        .json();
    assert_eq!(teams[0].team.slug, "helpdesk");
    assert_eq!(teams[0].members, ["bob"]);
    let me: Technician = broker
        .http("GET", "/api/auth/me", None, Some(&bob))
        .await
        .json();
    assert_eq!(me.teams.len(), 1, "bob serves the team's queue now");
    assert_eq!(
        broker
            .http("DELETE", member, None, Some(&alice))
            .await
            .status,
        204
    );
    let r = broker
        .http(
            "PUT",
            "/api/admin/teams/helpdesk/members/nobody",
            None,
            Some(&alice),
        )
        .await;
    assert_eq!(r.status, 404);
    broker.flush_audit().await;
    assert_eq!(broker.audit("team_changed").len(), 3);
    broker.stop().await;
}

#[tokio::test]
async fn a_technician_changes_their_password_and_signs_out_their_other_browsers() {
    let broker = Broker::start(|_| {}).await;
    let here = broker.sign_in("bob").await;
    let there = broker.sign_in("bob").await;
    let r = broker
        .http(
            "POST",
            "/api/auth/password",
            Some(json!({"current": "wrong password", "new": "a brand new password"})),
            Some(&here),
        )
        .await;
    assert_eq!((r.status, error(&r)), (401, ErrorCode::InvalidCredentials));
    let r = broker
        .http(
            "POST",
            "/api/auth/password",
            Some(json!({"current": support::PASSWORD, "new": "short"})),
            Some(&here),
        )
        .await;
    assert_eq!(
        error(&r),
        ErrorCode::InvalidInput {
            field: Field::Password
        }
    );
    let r = broker
        .http(
            "POST",
            "/api/auth/password",
            Some(json!({"current": support::PASSWORD, "new": "a brand new password"})),
            Some(&here),
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.text());
    assert_eq!(
        broker
            .http("GET", "/api/auth/me", None, Some(&here))
            .await
            .status,
        200
    );
    assert_eq!(
        broker
            .http("GET", "/api/auth/me", None, Some(&there))
            .await
            .status,
        401,
        "the other browser is signed out"
    );
    assert_eq!(sign_in(&broker, "bob", support::PASSWORD).await.status, 401);
    let again = cookie_of(&sign_in(&broker, "bob", "a brand new password").await);
    assert_eq!(
        broker
            .http("POST", "/api/auth/sign-out-others", None, Some(&here))
            .await
            .status,
        204
    );
    assert_eq!(
        broker
            .http("GET", "/api/auth/me", None, Some(&again))
            .await
            .status,
        401
    );
    assert_eq!(
        broker
            .http("GET", "/api/auth/me", None, Some(&here))
            .await
            .status,
        200
    );
    broker.stop().await;
}

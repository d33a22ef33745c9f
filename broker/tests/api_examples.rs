//! The JSON examples of `docs/api-examples.md`, taken from a real broker: every request
//! and answer below is what this test sent and got (only values that change from run to
//! run, such as ids, times, PINs, tokens and hashes, are replaced by fixed stand-ins).
//! The test fails when the file and the broker disagree; to write the file anew:
//!
//!     CONNECTIT_WRITE_EXAMPLES=1 cargo test -p connectit-broker --test api_examples

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connectit_protocol::api::{CreatedSession, IssuedApiToken, VerifyPinResponse};
use connectit_protocol::wire::{ClientMessage, Join, ServerMessage, SignalBody};
use connectit_protocol::{Action, Link, Permission};
use serde_json::{json, Value};
use support::{http_with_headers, Broker, Ws};

/// What the file holds: headings and JSON, in order.
#[derive(Default)]
struct Examples {
    text: String,
    /// (run value, stand-in), replaced everywhere.
    secrets: Vec<(String, String)>,
}

/// Keys whose values change from run to run, and what stands in for them.
fn stand_in(key: &str, value: &Value) -> Option<Value> {
    let time = json!(1_796_169_600_000u64);
    Some(match key {
        "at" | "now" | "created_at" | "expires_at" | "phase_since" | "picked_up_at"
        | "ended_at" | "exported_at" | "deadline" | "last_used_at" | "delivered_at"
        | "next_attempt_at" | "last_activity"
            if value.is_number() =>
        {
            time
        }
        "t" if value.is_number() => json!(1_796_169_600_000u64),
        "hash" | "final_hash" | "value" | "public_key" | "key_id" | "sdp" => json!("…"),
        "credential" | "username" if value.as_str().is_some_and(|s| s.contains(':')) => {
            json!("…")
        }
        _ => return None,
    })
}

fn steady(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = stand_in(&k, &v).unwrap_or_else(|| steady(v));
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(steady).collect()),
        other => other,
    }
}

impl Examples {
    fn hide(&mut self, value: &str, stand_in: &str) {
        if !value.is_empty() {
            self.secrets.push((value.to_owned(), stand_in.to_owned()));
        }
    }

    fn heading(&mut self, text: &str) {
        self.text.push_str(&format!("\n## {text}\n"));
    }

    fn say(&mut self, text: &str) {
        self.text.push_str(&format!("\n{text}\n"));
    }

    fn json(&mut self, label: &str, value: &Value) {
        let mut text = serde_json::to_string_pretty(&steady(value.clone())).unwrap();
        // Longest first, so a value inside another is not half replaced.
        let mut secrets = self.secrets.clone();
        secrets.sort_by_key(|(v, _)| std::cmp::Reverse(v.len()));
        for (value, stand_in) in &secrets {
            text = text.replace(value, stand_in);
        }
        self.text
            .push_str(&format!("\n{label}\n\n```json\n{text}\n```\n"));
    }

    fn client(&mut self, label: &str, message: &ClientMessage) {
        self.json(label, &serde_json::to_value(message).unwrap());
    }

    fn server(&mut self, label: &str, message: &ServerMessage) {
        self.json(label, &serde_json::to_value(message).unwrap());
    }
}

/// The next message of the given type (others skipped), within 5 s.
async fn next_of(ws: &mut Ws, kind: &str) -> ServerMessage {
    for _ in 0..50 {
        let m = ws.recv().await;
        if serde_json::to_value(&m).unwrap()["type"] == kind {
            return m;
        }
    }
    panic!("no {kind} message");
}

#[tokio::test]
async fn the_examples_in_the_docs_are_what_the_broker_says() {
    let b = Broker::start(|c| {
        c.organisation = "Example IT Service Desk".into();
        c.public_url = String::new();
        c.webhook_retry_secs = vec![1];
    })
    .await;
    let mut ex = Examples::default();
    let base = format!("http://{}", b.addr);
    ex.hide(&base, "https://help.example.org");
    ex.hide(&b.addr.to_string(), "help.example.org");
    ex.text.push_str(
        "# API examples\n\nWritten by `broker/tests/api_examples.rs` from a real broker: each \
         request and answer is what the test sent and got, with ids, times, PINs, tokens and \
         hashes replaced by fixed stand-ins. The reference is [api.md](api.md); every \
         type's exact shape is in [schema/connectit.schema.json](schema/connectit.schema.json).\n",
    );

    // ---- configuration and signing in ----
    ex.heading("GET /api/config");
    let config: Value = b.http("GET", "/api/config", None, None).await.json();
    ex.json("Answer (200):", &config);

    ex.heading("POST /api/auth/sign-in");
    let request = json!({"username": "alice", "password": support::PASSWORD});
    let r = b
        .http("POST", "/api/auth/sign-in", Some(request.clone()), None)
        .await;
    ex.hide(support::PASSWORD, "correct horse battery");
    ex.json("Request:", &request);
    ex.json("Answer (200, with the `connectit_auth` cookie):", &r.json());
    let wrong = b
        .http(
            "POST",
            "/api/auth/sign-in",
            Some(json!({"username": "alice", "password": "nope"})),
            None,
        )
        .await;
    ex.json(
        &format!("A wrong password ({}):", wrong.status),
        &wrong.json(),
    );
    let cookie = b.sign_in("alice").await;

    // ---- a session ----
    ex.heading("POST /api/sessions");
    let request =
        json!({"language": "en", "customer_name": "Carol Customer", "ticket": "INC-4711"});
    let r = b
        .http(
            "POST",
            "/api/sessions",
            Some(request.clone()),
            Some(&cookie),
        )
        .await;
    let created: CreatedSession = r.json();
    ex.hide(&created.id.0, "5e1d0c5c9a3b4f7e8d2c1b0a99887766");
    ex.hide(&created.pin, "482913");
    let join_token = created.link.split("#join=").nth(1).unwrap().to_owned();
    ex.hide(&join_token, "c0ffee00c0ffee00c0ffee00c0ffee00");
    ex.json("Request (every field optional):", &request);
    ex.json("Answer (200):", &r.json());

    ex.heading("POST /api/pin");
    let request = json!({"pin": created.pin});
    let r = b
        .http("POST", "/api/pin", Some(request.clone()), None)
        .await;
    let joined: VerifyPinResponse = r.json();
    ex.hide(&joined.token, "9b1f…customer-token");
    ex.json("Request:", &request);
    ex.json("Answer (200):", &r.json());
    let bad = b
        .http("POST", "/api/pin", Some(json!({"pin": "000000"})), None)
        .await;
    ex.json(
        &format!("A wrong or expired PIN ({}):", bad.status),
        &bad.json(),
    );

    // ---- the session socket ----
    ex.heading("The session socket (GET /api/ws)");
    ex.say("The customer's page says hello with its token; the broker welcomes it and sends every entry after `after`.");
    let mut cust = b
        .socket("/api/ws", &b.origin(), None)
        .await
        .expect("handshake");
    let hello = ClientMessage::Hello {
        join: Join::Customer {
            token: joined.token.clone(),
        },
        after: 0,
    };
    cust.send(&hello).await;
    ex.client("Customer → broker:", &hello);
    let welcome = cust.recv().await;
    if let ServerMessage::Welcome {
        check_code: Some(code),
        ..
    } = &welcome
    {
        ex.hide(code, "K7");
    }
    ex.server("Broker → customer:", &welcome);
    let entry = cust.recv().await;
    ex.server("Then each entry:", &entry);
    let accept = ClientMessage::Act {
        id: 1,
        action: Action::AcceptTerms,
    };
    cust.send(&accept).await;
    ex.client(
        "An action (ids are the sender's own, echoed back):",
        &accept,
    );
    let ack = next_of(&mut cust, "ack").await;
    ex.server("Stored and sent to both sides:", &ack);

    let mut tech = b
        .socket("/api/ws", &b.origin(), Some(&cookie))
        .await
        .expect("handshake");
    let hello = ClientMessage::Hello {
        join: Join::Technician {
            session: created.id.clone(),
        },
        after: 0,
    };
    tech.send(&hello).await;
    ex.client(
        "The technician's console (with the sign-in cookie):",
        &hello,
    );
    let _ = next_of(&mut tech, "welcome").await;
    tech.send(&ClientMessage::Act {
        id: 1,
        action: Action::PickUp,
    })
    .await;
    let _ = next_of(&mut tech, "ack").await;
    let out_of_turn = ClientMessage::Act {
        id: 2,
        action: Action::AcceptTerms,
    };
    tech.send(&out_of_turn).await;
    ex.client("An action out of turn:", &out_of_turn);
    let refused = next_of(&mut tech, "error").await;
    ex.server(
        "is refused, naming the action, and changes nothing:",
        &refused,
    );
    let ping = ClientMessage::Ping {
        t: 1_796_169_600_000,
    };
    tech.send(&ping).await;
    ex.client("A clock probe:", &ping);
    ex.server("Its answer:", &next_of(&mut tech, "pong").await);

    // ---- a grant, and a signal ----
    ex.heading("Permissions and signals");
    let ask = ClientMessage::Act {
        id: 3,
        action: Action::RequestPermissions {
            permissions: vec![Permission::ViewScreen],
            reason: "to see the error message".into(),
        },
    };
    tech.send(&ask).await;
    ex.client("The technician asks:", &ask);
    let _ = next_of(&mut tech, "ack").await;
    let request = loop {
        if let ServerMessage::Entry(e) = next_of(&mut cust, "entry").await {
            if let connectit_protocol::EntryKind::PermissionRequested { request, .. } = e.kind {
                ex.server(
                    "The customer's page gets the prompt:",
                    &ServerMessage::Entry(e.clone()),
                );
                break request;
            }
        }
    };
    let grant = ClientMessage::Act {
        id: 2,
        action: Action::Grant {
            request,
            permissions: vec![Permission::ViewScreen],
            for_secs: None,
        },
    };
    cust.send(&grant).await;
    ex.client("The customer grants it:", &grant);
    let _ = next_of(&mut cust, "ack").await;
    let offer = ClientMessage::Signal {
        link: Link::Screen,
        payload: serde_json::to_string(&SignalBody::Offer {
            sdp: "v=0…".into()
        })
        .unwrap(),
        id: Some(3),
    };
    cust.send(&offer).await;
    ex.client("The customer's browser, which sends the media, offers (the payload is a SignalBody as JSON text):", &offer);
    ex.server(
        "The technician's console receives it:",
        &next_of(&mut tech, "signal").await,
    );
    let bad = ClientMessage::Signal {
        link: Link::Screen,
        payload: "not a signal".into(),
        id: Some(4),
    };
    cust.send(&bad).await;
    ex.client("A payload that is not a SignalBody:", &bad);
    ex.server(
        "is refused with its id, and not relayed:",
        &next_of(&mut cust, "error").await,
    );

    // ---- the ticketing system ----
    ex.heading("API tokens (POST /api/admin/tokens)");
    let request = json!({"name": "Service desk tickets", "account": "alice", "scopes": ["sessions:create", "sessions:read"]});
    let r = b
        .http(
            "POST",
            "/api/admin/tokens",
            Some(request.clone()),
            Some(&cookie),
        )
        .await;
    let issued: IssuedApiToken = r.json();
    ex.hide(&issued.secret, "cit_0123456789abcdef0123456789abcdef");
    ex.json("Request (an admin):", &request);
    ex.json("Answer (200; the secret is shown this once):", &r.json());
    ex.heading("GET /api/sessions/{id} (Authorization: Bearer cit_…)");
    let info = http_with_headers(
        b.addr,
        "GET",
        &format!("/api/sessions/{}", created.id),
        None,
        None,
        &[("authorization", &format!("Bearer {}", issued.secret))],
    )
    .await;
    ex.json("Answer (200):", &info.json());

    ex.heading("Webhook deliveries");
    let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let kept = got.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                let signature = headers["connectit-signature"]
                    .to_str()
                    .unwrap_or("")
                    .to_owned();
                kept.lock().unwrap().push((signature, body));
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    ex.hide(&hook_url, "https://tickets.example.org/connectit");
    tokio::spawn(async move { axum::serve(listener, app).await });
    let request = json!({"url": hook_url, "events": ["session.ended"]});
    let r = b
        .http(
            "POST",
            "/api/admin/webhooks",
            Some(request.clone()),
            Some(&cookie),
        )
        .await;
    let hook: Value = r.json();
    ex.hide(hook["secret"].as_str().unwrap(), "5ec2e7…");
    ex.json("POST /api/admin/webhooks:", &request);
    ex.json(
        "Answer (200; the signing secret is shown this once):",
        &hook,
    );
    tech.send(&ClientMessage::Act {
        id: 4,
        action: Action::End,
    })
    .await;
    let _ = next_of(&mut tech, "ack").await;
    let mut delivered = None;
    for _ in 0..100 {
        if let Some(first) = got.lock().unwrap().first().cloned() {
            delivered = Some(first);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (signature, body) = delivered.expect("a delivery");
    ex.say(&format!(
        "`session.ended`, posted with `ConnectIT-Event: session.ended`, `ConnectIT-Delivery: 1` and `ConnectIT-Signature: {}` (HMAC-SHA256 of `<t>.<body>`):",
        signature.split(",v1=").next().map(|_| "t=1796169600,v1=…").unwrap_or_default()
    ));
    let payload: Value = serde_json::from_str(&body).unwrap();
    ex.json("Body:", &payload);

    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api-examples.md");
    if std::env::var_os("CONNECTIT_WRITE_EXAMPLES").is_some() {
        std::fs::write(&path, &ex.text).unwrap();
        return;
    }
    let on_file = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_file == ex.text,
        "docs/api-examples.md is not what the broker says now; write it anew with \
         CONNECTIT_WRITE_EXAMPLES=1 cargo test -p connectit-broker --test api_examples\n\
         --- now ---\n{}",
        ex.text
    );
}

//! A session another broker of the cluster runs, as a handle here: what an HTTP
//! request asks of it (append an entry, pick up, hand over, its summary...) is a call
//! to the owner's `POST /api/cluster/call`, which runs it on its own task and answers.
//! Sockets do not come this way: they go on to the owner whole ([`crate::forward`]).
//!
//! A call is signed with a key every broker derives from the PIN key they share
//! (HMAC-SHA-256 of the body, which carries the time it was made): only a broker of
//! the cluster can make one, and a call seen again after [`CALL_VALID_MS`] is refused.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use connectit_protocol::api::{SessionDetails, SessionSummary, TechnicianRef};
use connectit_protocol::{Author, EntryKind, LogEntry, RuleViolation, SessionId, SessionState};
use http_body_util::{BodyExt, Full};
use serde::{Deserialize, Serialize};

use super::{now_ms, AppendError, Located};
use crate::db::DbError;
use crate::AppState;

/// How long a signed call stays valid (clocks of the brokers agree to well within it).
pub const CALL_VALID_MS: u64 = 30_000;

/// How long the owner may take to answer.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The header carrying a call's signature.
const SIGNATURE: &str = "x-connectit-cluster";

/// What a broker asks of a session the owner runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Call {
    Append {
        author: Author,
        kind: EntryKind,
    },
    IsGuest {
        technician_id: i64,
    },
    HandOver {
        by: i64,
        to: Option<(i64, TechnicianRef)>,
    },
    Invite {
        by: i64,
        guest: (i64, TechnicianRef),
    },
    Join {
        technician_id: i64,
    },
    Leave {
        by: i64,
        guest: i64,
    },
    PickUp {
        technician_id: i64,
        technician: TechnicianRef,
    },
    SetDetails {
        details: SessionDetails,
    },
    State,
    Summary,
    Announce,
    CheckCode,
    SetCheckCode {
        code: Option<String>,
    },
    Owner,
}

/// Why an append did not happen, as it crosses between brokers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Failure {
    Rule(RuleViolation),
    Storage(String),
    Full { max_entries: u64, max_bytes: u64 },
    Taken,
    Stopped,
}

impl From<AppendError> for Failure {
    fn from(e: AppendError) -> Self {
        match e {
            AppendError::Rule(v) => Failure::Rule(v),
            AppendError::Storage(e) => Failure::Storage(e.to_string()),
            AppendError::Full {
                max_entries,
                max_bytes,
            } => Failure::Full {
                max_entries,
                max_bytes,
            },
            AppendError::Taken => Failure::Taken,
            AppendError::Stopped => Failure::Stopped,
        }
    }
}

impl From<Failure> for AppendError {
    fn from(f: Failure) -> Self {
        match f {
            Failure::Rule(v) => AppendError::Rule(v),
            Failure::Storage(e) => AppendError::Storage(DbError::Unavailable(e)),
            Failure::Full {
                max_entries,
                max_bytes,
            } => AppendError::Full {
                max_entries,
                max_bytes,
            },
            Failure::Taken => AppendError::Taken,
            Failure::Stopped => AppendError::Stopped,
        }
    }
}

/// The owner's answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Answer {
    Entry(Result<LogEntry, Failure>),
    Entries(Result<Vec<LogEntry>, Failure>),
    Done(Result<(), Failure>),
    Bool(bool),
    State(Option<SessionState>),
    Summary(Option<SessionSummary>),
    Code(Option<String>),
    /// Who has the session, its team, and its invitation.
    Owner {
        owner: Option<i64>,
        team_id: Option<i64>,
        invitation: SessionId,
    },
    Unit,
    /// The session is not (or no longer) the answering broker's.
    Moved,
}

/// A signed call on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct Signed {
    at: u64,
    session: SessionId,
    call: Call,
}

/// The way to the broker that runs a session.
#[derive(Clone)]
pub struct Remote {
    pub address: String,
    pub session: SessionId,
    key: crate::secrets::PinKey,
}

type HttpClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

fn client() -> &'static HttpClient {
    static CLIENT: std::sync::OnceLock<HttpClient> = std::sync::OnceLock::new();
    CLIENT.get_or_init(|| {
        let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(3)));
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector)
    })
}

fn signature(key: &crate::secrets::PinKey, body: &[u8]) -> String {
    key.mac("cluster-call", body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl Remote {
    pub fn new(address: String, session: SessionId, key: crate::secrets::PinKey) -> Remote {
        Remote {
            address,
            session,
            key,
        }
    }

    /// Asks the owner; `None` if it could not be reached or no longer runs the session.
    /// Boxed: the request's machinery is on the heap only while a call is made, not in
    /// every future that might make one (a socket's, held for its whole life).
    pub fn call(
        &self,
        call: Call,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Option<Answer>> + Send + '_>> {
        Box::pin(self.call_now(call))
    }

    async fn call_now(&self, call: Call) -> Option<Answer> {
        let body = serde_json::to_vec(&Signed {
            at: now_ms(),
            session: self.session.clone(),
            call,
        })
        .ok()?;
        let request = hyper::Request::builder()
            .method("POST")
            .uri(format!("{}/api/cluster/call", self.address))
            .header("content-type", "application/json")
            .header(SIGNATURE, signature(&self.key, &body))
            .body(Full::new(Bytes::from(body)))
            .ok()?;
        let answered = tokio::time::timeout(CALL_TIMEOUT, async {
            let response = client().request(request).await.ok()?;
            if !response.status().is_success() {
                return None;
            }
            let bytes = response.into_body().collect().await.ok()?.to_bytes();
            serde_json::from_slice::<Answer>(&bytes).ok()
        })
        .await
        .ok()
        .flatten();
        match answered {
            Some(Answer::Moved) | None => {
                tracing::warn!(session = %self.session, address = %self.address, "the broker running a session did not answer a call");
                None
            }
            answer => answer,
        }
    }
}

fn signed_hex(headers: &HeaderMap) -> Option<&str> {
    headers.get(SIGNATURE).and_then(|v| v.to_str().ok())
}

/// `POST /api/cluster/call`: another broker's call on a session this one runs.
pub async fn serve_call(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let signed = signed_hex(&headers);
    let expected = signature(&state.pin_key, &body);
    let genuine = signed.is_some_and(|s| {
        s.len() == expected.len()
            && s.bytes()
                .zip(expected.bytes())
                .fold(0u8, |d, (a, b)| d | (a ^ b))
                == 0
    });
    let Some(cluster) = state.hub.cluster().filter(|_| genuine) else {
        return StatusCode::FORBIDDEN.into_response();
    };
    let Ok(signed) = serde_json::from_slice::<Signed>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if now_ms().abs_diff(signed.at) > CALL_VALID_MS {
        return StatusCode::FORBIDDEN.into_response();
    }
    // Each call is answered once: the same bytes again within their validity are a
    // replay (someone on the brokers' network repeating an append, a pick-up).
    match cluster
        .first_sight(signed_hex(&headers).unwrap_or_default(), 2 * CALL_VALID_MS)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::warn!(session = %signed.session, "a call between brokers seen twice: refused");
            return StatusCode::CONFLICT.into_response();
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot check a call between brokers: refused");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    }
    let live = match state.hub.locate(&signed.session).await {
        Ok(Located::Here(live)) if live.remote.is_none() => live,
        _ => return axum::Json(Answer::Moved).into_response(),
    };
    let answer = match signed.call {
        Call::Append { author, kind } => {
            Answer::Entry(live.append(author, kind).await.map_err(Failure::from))
        }
        Call::IsGuest { technician_id } => Answer::Bool(live.is_guest(technician_id).await),
        Call::HandOver { by, to } => {
            Answer::Entry(live.hand_over(by, to).await.map_err(Failure::from))
        }
        Call::Invite { by, guest } => {
            Answer::Entry(live.invite(by, guest).await.map_err(Failure::from))
        }
        Call::Join { technician_id } => {
            Answer::Entry(live.join(technician_id).await.map_err(Failure::from))
        }
        Call::Leave { by, guest } => {
            Answer::Entry(live.leave(by, guest).await.map_err(Failure::from))
        }
        Call::PickUp {
            technician_id,
            technician,
        } => Answer::Entries(
            live.pick_up(technician_id, technician)
                .await
                .map_err(Failure::from),
        ),
        Call::SetDetails { details } => {
            Answer::Done(live.set_details(details).await.map_err(Failure::from))
        }
        Call::State => Answer::State(live.state().await),
        Call::Summary => Answer::Summary(live.summary().await),
        Call::Announce => {
            live.announce().await;
            Answer::Unit
        }
        Call::CheckCode => Answer::Code(live.check_code().await),
        Call::SetCheckCode { code } => {
            live.set_check_code(code).await;
            Answer::Unit
        }
        Call::Owner => Answer::Owner {
            owner: live.owner(),
            team_id: live.team_id,
            invitation: live.invitation.clone(),
        },
    };
    axum::Json(answer).into_response()
}

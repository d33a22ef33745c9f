//! The console socket (`/api/console/ws`): a signed-in technician's sessions, and the
//! queues of their teams, live (a session someone else picked up from a queue is sent
//! once more, with its new technician, so that the console takes it off the queue).
//! It sends the whole list once, then each session that changes. It takes no messages:
//! a text or binary frame closes it with 1003 (control frames keep it alive). It closes
//! with [`CloseReason::SignedOut`] within a second of its sign-in ending.

use std::net::SocketAddr;

use axum::extract::ws::WebSocket;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use connectit_protocol::api::AuditKind;
use connectit_protocol::wire::{CloseReason, ConsoleMessage};
use connectit_protocol::ErrorCode;
use tokio::sync::broadcast::error::RecvError;

use crate::auth;
use crate::db::{self, SignedIn};
use crate::error::AppError;
use crate::pump::{close, Ending, Heard, Pump};
use crate::ws::check_origin;
use crate::AppState;

pub async fn console_socket(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(e) = check_origin(&state, peer, &headers) {
        return e.into_response();
    }
    let signed_in = match auth::signed_in(&state, &headers).await {
        Ok(Some(t)) => t,
        Ok(None) => {
            state.audit.count(
                AuditKind::SocketRefused,
                Some(peer.ip()),
                None,
                "console socket without a sign-in",
            );
            return AppError(ErrorCode::Unauthorized).into_response();
        }
        Err(e) => return e.into_response(),
    };
    crate::ws::limited(upgrade).on_upgrade(move |socket| async move {
        let _open = state.shutdown.socket_opened();
        let mut pump = Pump::new(socket);
        let ending = run(&state, &mut pump, signed_in).await;
        pump.end(ending).await;
    })
}

async fn run(state: &AppState, pump: &mut Pump<WebSocket>, signed_in: SignedIn) -> Ending {
    let technician = &signed_in.technician;
    let mut held = state.sign_ins.hold(&signed_in.token_hash);
    // Subscribe before reading the list, so no change falls between the two.
    let mut updates = state.hub.watch_summaries();
    let Ok(list) = crate::api::summaries_for(state, technician.id).await else {
        return Ending::Close(close::INTERNAL, "storage");
    };
    // The teams whose queues this console shows (as they were when it opened).
    let tid = technician.id;
    let Ok(teams) = state.db.call(move |conn| db::teams_of(conn, tid)).await else {
        return Ending::Close(close::INTERNAL, "storage");
    };
    if !pump.send(&ConsoleMessage::Sessions(list)).await {
        return Ending::Gone;
    }
    loop {
        tokio::select! {
            heard = pump.next() => match heard {
                // The console socket only speaks: a message to it is a client error.
                Heard::Text(_) | Heard::Binary => {
                    return Ending::Close(close::UNSUPPORTED, "the console socket takes no messages");
                }
                Heard::End(ending) => return ending,
            },
            update = updates.recv() => match update {
                Ok(u) if u.concerns(technician.id, &teams) => {
                    if !pump.send(&ConsoleMessage::Session(Box::new(u.summary))).await {
                        return Ending::Gone;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    // Missed some: send the whole list again.
                    let Ok(list) = crate::api::summaries_for(state, technician.id).await else {
                        return Ending::Close(close::INTERNAL, "storage");
                    };
                    if !pump.send(&ConsoleMessage::Sessions(list)).await {
                        return Ending::Gone;
                    }
                }
                Err(RecvError::Closed) => return Ending::Close(close::GOING_AWAY, "shutting down"),
            },
            _ = held.ended() => {
                let reason = CloseReason::SignedOut;
                return Ending::Close(reason.code(), reason.text());
            }
            _ = state.shutdown.cancelled() => return Ending::Close(close::RESTART, "broker restarting"),
        }
    }
}

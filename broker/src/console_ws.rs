//! The console socket (`/api/console/ws`): a signed-in technician's sessions, live.
//! It sends the whole list once, then each session that changes. It takes no messages:
//! a text or binary frame closes it with 1003 (control frames keep it alive). It closes
//! with [`CloseReason::SignedOut`] within a second of its sign-in ending.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use connectit_protocol::api::AuditKind;
use connectit_protocol::wire::{CloseReason, ConsoleMessage};
use connectit_protocol::ErrorCode;
use tokio::sync::broadcast::error::RecvError;

use crate::auth;
use crate::db::SignedIn;
use crate::error::AppError;
use crate::ws::{check_origin, close, IDLE_LIMIT, PING_EVERY};
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
        run(&state, socket, signed_in).await;
    })
}

async fn run(state: &AppState, mut socket: WebSocket, signed_in: SignedIn) {
    let technician = &signed_in.technician;
    let mut held = state.sign_ins.hold(&signed_in.token_hash);
    // Subscribe before reading the list, so no change falls between the two.
    let mut updates = state.hub.watch_summaries();
    let list = match crate::api::summaries_for(state, technician.id).await {
        Ok(list) => list,
        Err(_) => return,
    };
    if send(&mut socket, &ConsoleMessage::Sessions(list))
        .await
        .is_err()
    {
        return;
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut last_heard = Instant::now();
    loop {
        tokio::select! {
            frame = socket.recv() => match frame {
                // Answer the peer's close frame (queued by the WebSocket layer).
                Some(Ok(Message::Close(_))) => {
                    use futures_util::SinkExt;
                    let _ = socket.flush().await;
                    return;
                }
                None => return,
                Some(Err(e)) => {
                    if let Some((code, reason)) = crate::ws::close_for(e) {
                        close_with(&mut socket, code, reason).await;
                    }
                    return;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => last_heard = Instant::now(),
                // The console socket only speaks: a message to it is a client error.
                Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                    close_with(&mut socket, close::UNSUPPORTED, "the console socket takes no messages").await;
                    return;
                }
            },
            update = updates.recv() => match update {
                Ok(u) if u.technician_id == technician.id => {
                    if send(&mut socket, &ConsoleMessage::Session(u.summary)).await.is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(RecvError::Lagged(_)) => {
                    // Missed some: send the whole list again.
                    let Ok(list) = crate::api::summaries_for(state, technician.id).await else { return };
                    if send(&mut socket, &ConsoleMessage::Sessions(list)).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Closed) => return,
            },
            _ = held.ended() => {
                let reason = CloseReason::SignedOut;
                close_with(&mut socket, reason.code(), reason.text()).await;
                return;
            }
            _ = ping.tick() => {
                if last_heard.elapsed() > IDLE_LIMIT {
                    return;
                }
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
            _ = state.shutdown.cancelled() => {
                close_with(&mut socket, close::GOING_AWAY, "broker restarting").await;
                return;
            }
        }
    }
}

async fn close_with(socket: &mut WebSocket, code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

async fn send(socket: &mut WebSocket, message: &ConsoleMessage) -> Result<(), ()> {
    let text = serde_json::to_string(message).map_err(|_| ())?;
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|_| ())
}

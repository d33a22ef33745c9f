//! The console socket (`/api/console/ws`): a signed-in technician's sessions, live.
//! It sends the whole list once, then each session that changes. It takes no messages:
//! a text or binary frame closes it with 1003 (control frames keep it alive).

use std::time::Instant;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use connectit_protocol::wire::ConsoleMessage;
use connectit_protocol::ErrorCode;
use tokio::sync::broadcast::error::RecvError;

use crate::auth;
use crate::error::AppError;
use crate::ws::{check_origin, close, IDLE_LIMIT, PING_EVERY};
use crate::AppState;

pub async fn console_socket(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    if let Err(e) = check_origin(&state, &headers) {
        return e.into_response();
    }
    let technician = match auth::technician_from_headers(&state, &headers).await {
        Ok(Some(t)) => t,
        Ok(None) => return AppError(ErrorCode::Unauthorized).into_response(),
        Err(e) => return e.into_response(),
    };
    crate::ws::limited(upgrade).on_upgrade(move |mut socket| async move {
            let _open = state.shutdown.socket_opened();
        // Subscribe before reading the list, so no change falls between the two.
        let mut updates = state.hub.watch_summaries();
        let list = match crate::api::summaries_for(&state, technician.id).await {
            Ok(list) => list,
            Err(_) => return,
        };
        if send(&mut socket, &ConsoleMessage::Sessions(list)).await.is_err() {
            return;
        }
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        let mut last_heard = Instant::now();
        loop {
            tokio::select! {
                frame = socket.recv() => match frame {
                    Some(Ok(Message::Close(_))) | None => return,
                    Some(Err(e)) => {
                        if let Some((code, reason)) = crate::ws::close_for(e) {
                            let frame = axum::extract::ws::CloseFrame { code, reason: reason.into() };
                            let _ = socket.send(Message::Close(Some(frame))).await;
                        }
                        return;
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => last_heard = Instant::now(),
                    // The console socket only speaks: a message to it is a client error.
                    Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                        let frame = axum::extract::ws::CloseFrame {
                            code: close::UNSUPPORTED,
                            reason: "the console socket takes no messages".into(),
                        };
                        let _ = socket.send(Message::Close(Some(frame))).await;
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
                        let Ok(list) = crate::api::summaries_for(&state, technician.id).await else { return };
                        if send(&mut socket, &ConsoleMessage::Sessions(list)).await.is_err() {
                            return;
                        }
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = ping.tick() => {
                    if last_heard.elapsed() > IDLE_LIMIT {
                        return;
                    }
                    if socket.send(Message::Ping(Default::default())).await.is_err() {
                        return;
                    }
                }
                _ = state.shutdown.cancelled() => {
                    let frame = axum::extract::ws::CloseFrame { code: close::GOING_AWAY, reason: "broker restarting".into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    return;
                }
            }
        }
    })
}

async fn send(
    socket: &mut axum::extract::ws::WebSocket,
    message: &ConsoleMessage,
) -> Result<(), ()> {
    let text = serde_json::to_string(message).map_err(|_| ())?;
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|_| ())
}

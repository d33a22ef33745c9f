//! The bare relay the broker is measured against: WebSocket pairs
//! (`/pair/<n>/customer` and `/pair/<n>/technician`), each text message forwarded as it
//! is to the partner. No rules, no storage, no log; the same WebSocket limits as the
//! broker's session sockets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::BenchError;

/// One side of a pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Customer,
    Technician,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::Customer => Side::Technician,
            Side::Technician => Side::Customer,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Side::Customer => "customer",
            Side::Technician => "technician",
        }
    }
}

/// The broker's session socket limits (its `ws::limited`): frames and messages up to
/// four protocol messages, a 4 KiB read buffer, a 64 KiB write buffer, at most 1 MiB
/// queued for a slow reader.
pub fn server_config() -> WebSocketConfig {
    let frame_limit = 4 * connectit_protocol::limits::MAX_MESSAGE_BYTES;
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .max_message_size(Some(frame_limit))
        .max_frame_size(Some(frame_limit))
        .write_buffer_size(64 * 1024)
        .max_write_buffer_size(1024 * 1024)
        .accept_unmasked_frames(false)
}

/// `/pair/<n>/<side>` → (n, side).
pub fn parse_path(path: &str) -> Option<(u32, Side)> {
    let rest = path.strip_prefix("/pair/")?;
    let (n, side) = rest.split_once('/')?;
    let side = match side {
        "customer" => Side::Customer,
        "technician" => Side::Technician,
        _ => return None,
    };
    Some((n.parse().ok()?, side))
}

type Peers = Arc<Mutex<HashMap<(u32, Side), mpsc::UnboundedSender<Message>>>>;

/// Serves pairs on `listener` until the process ends.
pub async fn serve(listener: TcpListener) {
    let peers = Peers::default();
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                let peers = peers.clone();
                tokio::spawn(async move {
                    if let Err(e) = connection(stream, peers).await {
                        eprintln!("relay: {e}");
                    }
                });
            }
            // Out of descriptors, say: wait for some to close.
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
        }
    }
}

async fn connection(stream: TcpStream, peers: Peers) -> Result<(), BenchError> {
    stream.set_nodelay(true)?;
    let mut path = String::new();
    // The callback's error type is tungstenite's, not ours to shrink.
    #[allow(clippy::result_large_err)]
    let record_path = |request: &Request, response: Response| {
        path = request.uri().path().to_string();
        Ok(response)
    };
    let ws =
        tokio_tungstenite::accept_hdr_async_with_config(stream, record_path, Some(server_config()))
            .await?;
    let (pair, side) =
        parse_path(&path).ok_or_else(|| BenchError::Unexpected(format!("path {path:?}")))?;
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
    peers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert((pair, side), tx);
    let writer = tokio::spawn(async move {
        while let Some(message) = rx.recv().await {
            if sink.send(message).await.is_err() {
                break;
            }
        }
    });
    let mut partner: Option<mpsc::UnboundedSender<Message>> = None;
    while let Some(frame) = stream.next().await {
        let message = match frame {
            Ok(m @ (Message::Text(_) | Message::Binary(_))) => m,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        if partner.is_none() {
            partner = peers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .get(&(pair, side.other()))
                .cloned();
        }
        if let Some(p) = &partner {
            if p.send(message).is_err() {
                partner = None;
            }
        }
    }
    peers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&(pair, side));
    writer.abort();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(parse_path("/pair/7/customer"), Some((7, Side::Customer)));
        assert_eq!(
            parse_path("/pair/0/technician"),
            Some((0, Side::Technician))
        );
        assert_eq!(parse_path("/pair/x/customer"), None);
        assert_eq!(parse_path("/pair/1/other"), None);
        assert_eq!(parse_path("/api/ws"), None);
    }
}

//! Who is asking: the client's address for throttling, from the socket, or from
//! `X-Forwarded-For` when the socket is a trusted reverse proxy.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use connectit_protocol::ErrorCode;

use crate::config::client_ip;
use crate::error::AppError;
use crate::AppState;

/// The client's address (see the module notes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .ok_or(AppError(ErrorCode::Internal))?;
        let forwarded = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok());
        Ok(ClientIp(client_ip(
            &state.config.trusted_proxies,
            peer,
            forwarded,
        )))
    }
}

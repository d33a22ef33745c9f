//! What every request passes before its handler: requests that change something must
//! come from this site's own pages and carry JSON (login and every other form of
//! cross-site request forgery are refused, and a page elsewhere cannot make its
//! visitors' browsers guess PINs), and no request may take longer than a time limit.
//!
//! Same origin means: the `Origin` header names one of the broker's origins, or, with
//! no `Origin`, `Sec-Fetch-Site` is `same-origin` or `none`. A request with neither
//! header does not come from a current browser (a script, the ticketing system) and is
//! let through: forgery needs a victim's browser, and every browser sends one of them.

use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use connectit_protocol::api::AuditKind;
use connectit_protocol::ErrorCode;

use crate::error::AppError;
use crate::AppState;

/// The longest a request may take, its body included (upgraded sockets are not held to
/// it once upgraded).
pub const REQUEST_LIMIT: Duration = Duration::from_secs(30);

/// Whether a request with this method changes something.
fn changes_something(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why a request is refused, if it is.
pub fn check(
    allowed_origins: &[String],
    method: &Method,
    headers: &HeaderMap,
) -> Option<ErrorCode> {
    if !changes_something(method) {
        return None;
    }
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match (text("origin"), text("sec-fetch-site")) {
        (Some(origin), _) => {
            if !allowed_origins
                .iter()
                .any(|a| a.eq_ignore_ascii_case(origin))
            {
                return Some(ErrorCode::CrossOrigin);
            }
        }
        (None, Some(site)) => {
            if !matches!(site, "same-origin" | "none") {
                return Some(ErrorCode::CrossOrigin);
            }
        }
        (None, None) => {}
    }
    let has_body = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|n| n.trim() != "0")
        || headers.contains_key(header::TRANSFER_ENCODING);
    match text("content-type") {
        Some(kind) => {
            let essence = kind.split(';').next().unwrap_or("").trim();
            if !essence.eq_ignore_ascii_case("application/json") {
                return Some(ErrorCode::UnsupportedContentType);
            }
        }
        None if has_body => return Some(ErrorCode::UnsupportedContentType),
        None => {}
    }
    None
}

/// The middleware: refuses forged or non-JSON requests that change something, and
/// answers 408 to a request that takes too long.
pub async fn requests(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/api/") {
        if let Some(error) = check(&state.allowed_origins, request.method(), request.headers()) {
            let address = request
                .extensions()
                .get::<ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip());
            let origin = request
                .headers()
                .get(header::ORIGIN)
                .or_else(|| request.headers().get("sec-fetch-site"))
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let detail = format!(
                "{} {} from {origin:?}",
                request.method(),
                request.uri().path()
            );
            state
                .audit
                .count(AuditKind::CrossOriginRefused, address, None, &detail);
            return AppError(error).into_response();
        }
    }
    match tokio::time::timeout(REQUEST_LIMIT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn only_this_sites_json_may_change_things() {
        let allowed = vec!["http://127.0.0.1:8080".to_string()];
        let post = Method::POST;
        let json = ("content-type", "application/json");
        let ok = |h: &[(&'static str, &'static str)]| check(&allowed, &post, &headers(h));
        assert_eq!(ok(&[("origin", "http://127.0.0.1:8080"), json]), None);
        assert_eq!(
            ok(&[
                ("origin", "HTTP://127.0.0.1:8080"),
                ("content-type", "application/json; charset=utf-8")
            ]),
            None
        );
        assert_eq!(
            ok(&[("origin", "http://evil.example"), json]),
            Some(ErrorCode::CrossOrigin)
        );
        assert_eq!(
            ok(&[("origin", "null"), json]),
            Some(ErrorCode::CrossOrigin)
        );
        assert_eq!(
            ok(&[("sec-fetch-site", "same-site"), json]),
            Some(ErrorCode::CrossOrigin)
        );
        assert_eq!(ok(&[("sec-fetch-site", "same-origin"), json]), None);
        assert_eq!(
            ok(&[
                ("origin", "http://127.0.0.1:8080"),
                ("content-type", "text/plain"),
                ("content-length", "12")
            ]),
            Some(ErrorCode::UnsupportedContentType)
        );
        assert_eq!(
            ok(&[("content-length", "12")]),
            Some(ErrorCode::UnsupportedContentType),
            "a body says what it is"
        );
        assert_eq!(
            ok(&[("origin", "http://127.0.0.1:8080")]),
            None,
            "no body, nothing to say"
        );
        assert_eq!(ok(&[json]), None, "a script, not a browser");
        assert_eq!(
            check(
                &allowed,
                &Method::GET,
                &headers(&[("origin", "http://evil.example")])
            ),
            None
        );
    }
}

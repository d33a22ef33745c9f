//! The built app (`dist/`), and the security headers every response carries.
//!
//! Files are served from the folder as they are, or as their gzip copy (`NAME.gz`, made
//! by `scripts/build-app`) when the browser accepts gzip and the copy is at least as new;
//! any other path outside `/api/` gets
//! `index.html` (the app routes on the client), with the organisation's name and
//! applet link filled in so the no-WebAssembly notice is right without script.

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use connectit_protocol::ErrorCode;

use crate::error::AppError;
use crate::AppState;

/// The Content-Security-Policy of every response: no inline script, no eval (only
/// WebAssembly compilation), nothing from elsewhere, never framed.
pub const CSP: &str =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; font-src 'self'; \
object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `Strict-Transport-Security` when the site is reached over TLS: a year, this host only
/// (the organisation's other host names are theirs to decide).
pub const HSTS: &str = "max-age=31536000";

/// Adds the hardening headers to every response.
pub async fn security_headers(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let is_api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name: &'static str, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, "content-security-policy", CSP);
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "no-referrer");
    set(h, "x-frame-options", "DENY");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(h, "cross-origin-resource-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(self), display-capture=(self), microphone=(), geolocation=(), payment=(), usb=()",
    );
    if state.config.sends_hsts() {
        set(h, "strict-transport-security", HSTS);
    }
    if is_api && !h.contains_key(header::CACHE_CONTROL) {
        set(h, "cache-control", "no-store");
    }
    response
}

/// Serves a file of the app, or the app's page for client-side routes.
pub async fn serve(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    if path.starts_with("/api/") {
        return AppError(ErrorCode::NotFound).into_response();
    }
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let dist = &state.config.dist_dir;
    let gzip = accepts_gzip(request.headers());
    if let Some(file) = safe_join(dist, &path) {
        if file.file_name().is_some_and(|n| n != "index.html")
            && tokio::fs::metadata(&file).await.is_ok_and(|m| m.is_file())
        {
            if gzip {
                if let Some(bytes) = gzip_copy(&file).await {
                    let mut response = file_response(&file, bytes);
                    response
                        .headers_mut()
                        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                    return response;
                }
            }
            return match tokio::fs::read(&file).await {
                Ok(bytes) => file_response(&file, bytes),
                Err(_) => AppError(ErrorCode::NotFound).into_response(),
            };
        }
        // A missing file with an extension is a real miss, not a client route.
        if file.extension().is_some() && file.file_name().is_some_and(|n| n != "index.html") {
            return AppError(ErrorCode::NotFound).into_response();
        }
    }
    index(&state).await
}

/// Whether `Accept-Encoding` lists gzip (or `*`) without `q=0`.
fn accepts_gzip(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("").to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding == "gzip" || coding == "*") && !refused
        })
}

/// The bytes of `file`'s gzip copy, when there is one at least as new as the file.
async fn gzip_copy(file: &Path) -> Option<Vec<u8>> {
    let mut name = file.file_name()?.to_os_string();
    name.push(".gz");
    let copy = file.with_file_name(name);
    let (original, compressed) = (
        tokio::fs::metadata(file).await.ok()?,
        tokio::fs::metadata(&copy).await.ok()?,
    );
    if compressed.modified().ok()? < original.modified().ok()? {
        return None;
    }
    tokio::fs::read(&copy).await.ok()
}

async fn index(state: &AppState) -> Response {
    match tokio::fs::read_to_string(state.config.dist_dir.join("index.html")).await {
        Ok(html) => {
            let html = html
                .replace("{{organisation}}", &escape_html(&state.config.organisation))
                .replace("{{applet_url}}", &escape_html(&state.config.applet_url))
                .replace(
                    "{{support_contact}}",
                    &escape_html(&state.config.support_contact),
                );
            let mut response = Response::new(Body::from(html));
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            response
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The ConnectIT app is not built: run `trunk build --release` (see README).",
        )
            .into_response(),
    }
}

fn file_response(file: &Path, bytes: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(bytes));
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file)),
    );
    // Trunk puts a content hash in file names: those never change.
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let hashed = name
        .split(['-', '.'])
        .any(|part| part.len() >= 16 && part.bytes().all(|b| b.is_ascii_hexdigit()));
    let cache = if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // The same URL may go out as it is or as its gzip copy.
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

/// `dist` joined with the URL path, or `None` if the path tries to leave `dist`.
fn safe_join(dist: &Path, url_path: &str) -> Option<PathBuf> {
    let mut out = dist.to_path_buf();
    for part in Path::new(url_path.trim_start_matches('/')).components() {
        match part {
            Component::Normal(p) => out.push(p),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Escapes text for an HTML attribute or element.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_dist() {
        let dist = Path::new("/srv/dist");
        assert_eq!(
            safe_join(dist, "/app.js"),
            Some(PathBuf::from("/srv/dist/app.js"))
        );
        assert_eq!(safe_join(dist, "/../etc/passwd"), None);
        assert_eq!(safe_join(dist, "/a/../../x"), None);
    }

    #[test]
    fn gzip_is_accepted_unless_refused() {
        let with = |value: &str| {
            let mut h = axum::http::HeaderMap::new();
            h.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
            accepts_gzip(&h)
        };
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, identity"));
        assert!(!accepts_gzip(&axum::http::HeaderMap::new()));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}

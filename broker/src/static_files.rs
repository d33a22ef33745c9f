//! The built app (`dist/`), and the security headers every response carries.
//!
//! Files are served from the folder as they are, or as their brotli or gzip copy
//! (`NAME.br`, `NAME.gz`, made by `scripts/build-app`) when the browser accepts that
//! coding and the copy is at least as new. Files whose names carry Trunk's content hash
//! are cached for a year as immutable; the others carry an ETag and are revalidated.
//! Any other path outside `/api/` gets a page of the app (it routes on the client):
//! `console.html` (the console's build) for `/console` and below, else `index.html`
//! (the customer page's), with the organisation's name and applet link filled in so the
//! no-WebAssembly notice is right without script. The page is revalidated on every load
//! (`no-cache` with an ETag: a reload costs a 304).

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use connectit_protocol::ErrorCode;
use connectit_wording::Msg;
use sha2::{Digest, Sha256};

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
    // A page with inline script or style has its own, naming them by hash.
    if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(h, "content-security-policy", CSP);
    }
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
    let headers = request.headers();
    if let Some(file) = safe_join(dist, &path) {
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let is_page = PAGES.contains(&name);
        if !is_page {
            if let Ok(meta) = tokio::fs::metadata(&file).await {
                if meta.is_file() {
                    return serve_file(&file, &meta, headers).await;
                }
            }
        }
        // A missing file with an extension is a real miss, not a client route.
        if file.extension().is_some() && !is_page {
            return AppError(ErrorCode::NotFound).into_response();
        }
    }
    page(&state, &path, headers).await
}

/// The app's pages, filled in per request rather than sent as they are.
const PAGES: &[&str] = &["index.html", "console.html"];

/// The codings the broker has copies for, best first, with their file suffixes.
const CODINGS: &[(&str, &str)] = &[("br", "br"), ("gzip", "gz")];

/// `file` as it is, or as its best copy the browser accepts; a 304 when the browser's
/// ETag is still this one.
async fn serve_file(file: &Path, meta: &std::fs::Metadata, headers: &HeaderMap) -> Response {
    let mut chosen = None;
    for (coding, suffix) in CODINGS {
        if accepts(headers, coding) {
            if let Some(copy) = current_copy(file, meta, suffix).await {
                chosen = Some((*coding, copy));
                break;
            }
        }
    }
    let (coding, source, source_meta) = match chosen {
        Some((coding, (copy, copy_meta))) => (Some(coding), copy, copy_meta),
        None => (None, file.to_path_buf(), meta.clone()),
    };
    let etag = file_etag(&source_meta, coding);
    let mut response = if if_none_match(headers, &etag) {
        not_modified()
    } else {
        match tokio::fs::read(&source).await {
            Ok(bytes) => Response::new(Body::from(bytes)),
            Err(_) => return AppError(ErrorCode::NotFound).into_response(),
        }
    };
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(file)),
    );
    let cache = if is_hashed(file) {
        // Trunk puts a content hash in these names: they never change.
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, value);
    }
    if let Some(coding) = coding {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    // The same URL may go out as it is or as a compressed copy.
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Whether `Accept-Encoding` lists `coding` (or `*`) without `q=0`.
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let named = parts.next().unwrap_or("").to_ascii_lowercase();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (named == coding || named == "*") && !refused
        })
}

/// `file`'s copy `NAME.suffix`, when there is one at least as new as the file.
async fn current_copy(
    file: &Path,
    meta: &std::fs::Metadata,
    suffix: &str,
) -> Option<(PathBuf, std::fs::Metadata)> {
    let mut name = file.file_name()?.to_os_string();
    name.push(".");
    name.push(suffix);
    let copy = file.with_file_name(name);
    let copy_meta = tokio::fs::metadata(&copy).await.ok()?;
    if copy_meta.modified().ok()? < meta.modified().ok()? {
        return None;
    }
    Some((copy, copy_meta))
}

/// Whether Trunk put a content hash in the file's name (`main-1a2b…3c4d.css`).
fn is_hashed(file: &Path) -> bool {
    let name = file.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.split(['-', '.', '_'])
        .any(|part| part.len() >= 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A file's ETag: its length and modification time, and the coding (each coding is its
/// own representation of the URL).
fn file_etag(meta: &std::fs::Metadata, coding: Option<&str>) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    match coding {
        Some(coding) => format!("\"{:x}-{modified:x}-{coding}\"", meta.len()),
        None => format!("\"{:x}-{modified:x}\"", meta.len()),
    }
}

/// Whether `If-None-Match` names `etag` (or is `*`): the browser's copy is current.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

fn not_modified() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::NOT_MODIFIED;
    response
}

/// The page for `path`, filled in, or a 304 when the browser's copy is still it.
async fn page(state: &AppState, path: &str, headers: &HeaderMap) -> Response {
    let dist = &state.config.dist_dir;
    let console = dist.join("console.html");
    let file = if is_console_path(path) && tokio::fs::metadata(&console).await.is_ok() {
        console
    } else {
        dist.join("index.html")
    };
    match tokio::fs::read_to_string(&file).await {
        Ok(template) => {
            // The hashes of the build's own inline script and style, taken before
            // anything is filled in: nothing filled in can become script.
            let csp = page_csp(&template);
            let html = fill_page(template, state, headers);
            let gzip = accepts(headers, "gzip");
            // The page's ETag is its filled-in text's hash (and the coding): it changes
            // with a new build or a new configuration, and only then.
            let digest = Sha256::digest(html.as_bytes());
            let etag = match gzip {
                true => format!("\"{}-gzip\"", hex16(&digest)),
                false => format!("\"{}\"", hex16(&digest)),
            };
            let mut response = if if_none_match(headers, &etag) {
                not_modified()
            } else if gzip {
                Response::new(Body::from(gzipped(&etag, html.as_bytes())))
            } else {
                Response::new(Body::from(html))
            };
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            if gzip {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            // The PIN form's words follow the browser's languages.
            h.insert(
                header::VARY,
                HeaderValue::from_static("accept-encoding, accept-language"),
            );
            if let Ok(value) = HeaderValue::from_str(&etag) {
                h.insert(header::ETAG, value);
            }
            if let Some(value) = csp.and_then(|c| HeaderValue::from_str(&c).ok()) {
                h.insert(header::CONTENT_SECURITY_POLICY, value);
            }
            response
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The ConnectIT app is not built: run `scripts/build-app` (see README).",
        )
            .into_response(),
    }
}

/// The `'sha256-…'` sources of `html`'s inline `<TAG>` blocks (exactly `<script>` or
/// `<style>`, no attributes: how the build writes them).
fn inline_hashes(html: &str, tag: &str) -> String {
    use base64::Engine;
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut sources = String::new();
    let mut rest = html;
    while let (Some(start), comment) = (rest.find(&open), rest.find("<!--")) {
        // What a comment says about a script is not one.
        if let Some(comment) = comment.filter(|c| *c < start) {
            match rest[comment..].find("-->") {
                Some(end) => {
                    rest = &rest[comment + end + 3..];
                    continue;
                }
                None => break,
            }
        }
        let body = &rest[start + open.len()..];
        let Some(end) = body.find(&close) else {
            break;
        };
        let digest = Sha256::digest(&body.as_bytes()[..end]);
        sources.push_str(" 'sha256-");
        sources.push_str(&base64::engine::general_purpose::STANDARD.encode(digest));
        sources.push('\'');
        rest = &body[end + close.len()..];
    }
    sources
}

/// The Content-Security-Policy of a page with inline script or style (the customer's
/// page carries its first screen's style and script, so that it shows after one round
/// trip): [`CSP`], with exactly those blocks allowed by their hashes. `None`: [`CSP`].
fn page_csp(template: &str) -> Option<String> {
    let (scripts, styles) = (
        inline_hashes(template, "script"),
        inline_hashes(template, "style"),
    );
    if scripts.is_empty() && styles.is_empty() {
        return None;
    }
    Some(
        CSP.replacen(
            "script-src 'self' 'wasm-unsafe-eval';",
            &format!("script-src 'self' 'wasm-unsafe-eval'{scripts};"),
            1,
        )
        .replacen(
            "style-src 'self';",
            &format!("style-src 'self'{styles};"),
            1,
        ),
    )
}

/// `html` gzipped, kept by its ETag (a page differs only by build, configuration and
/// language: a handful of copies, made once each).
fn gzipped(etag: &str, html: &[u8]) -> axum::body::Bytes {
    use std::collections::HashMap;
    use std::io::Write;
    use std::sync::Mutex;
    static COPIES: Mutex<Option<HashMap<String, axum::body::Bytes>>> = Mutex::new(None);
    let mut copies = COPIES.lock().unwrap_or_else(|p| p.into_inner());
    let copies = copies.get_or_insert_with(HashMap::new);
    if let Some(copy) = copies.get(etag) {
        return copy.clone();
    }
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to memory cannot fail.
    let _ = encoder.write_all(html);
    let copy = axum::body::Bytes::from(encoder.finish().unwrap_or_default());
    // A bound on what a stream of new configurations (or builds) can leave here.
    if copies.len() >= 32 {
        copies.clear();
    }
    copies.insert(etag.to_owned(), copy.clone());
    copy
}

/// The words of the PIN form `index.html` shows before the app has loaded (see
/// `src/loader.js`), by their placeholders.
const PIN_FORM_WORDS: &[(&str, Msg)] = &[
    ("{{pin_heading}}", Msg::PinHeading),
    ("{{pin_intro}}", Msg::PinIntro),
    ("{{pin_label}}", Msg::PinLabel),
    ("{{pin_hint}}", Msg::PinHint),
    ("{{connect}}", Msg::Connect),
    ("{{connecting}}", Msg::Connecting),
    ("{{language}}", Msg::Language),
    ("{{text_size}}", Msg::TextSize),
];

/// A page's placeholders filled in: the organisation's name and links (so that the
/// no-WebAssembly notice is right without script) and, on the customer's page, the PIN
/// form's words in the language the browser asks for, the organisation's texts first,
/// as the app would choose it.
fn fill_page(mut html: String, state: &AppState, headers: &HeaderMap) -> String {
    let c = &state.config;
    if html.contains("{{lang}}") {
        let wanted = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .map(connectit_wording::accepted)
            .unwrap_or_default();
        let catalog = connectit_wording::Catalog::for_languages(&wanted, state.texts.clone());
        let lang = catalog.lang();
        for (placeholder, msg) in PIN_FORM_WORDS {
            html = html.replace(placeholder, &escape_html(&catalog.t(msg.clone())));
        }
        // The window's titles, as the app words them: the page's, and the PIN step's
        // (the page's first script puts it up with the form).
        for (placeholder, page) in [
            ("{{title}}", Msg::PageTitle),
            ("{{pin_title}}", Msg::PinTitle),
        ] {
            html = html.replace(
                placeholder,
                &escape_html(&catalog.title(page, &c.organisation)),
            );
        }
        // The language menu's choices, as the app lists them (they set its width).
        let options: String = catalog
            .names()
            .iter()
            .map(|(code, name)| {
                let selected = if code == lang { " selected" } else { "" };
                format!("<option{selected}>{}</option>", escape_html(name))
            })
            .collect();
        html = html
            .replace("{{language_options}}", &options)
            .replace("{{lang}}", &escape_html(lang));
    }
    html.replace("{{organisation}}", &escape_html(&c.organisation))
        .replace("{{applet_url}}", &escape_html(&c.applet_url))
        .replace("{{support_contact}}", &escape_html(&c.support_contact))
}

/// Whether `path` is the console's (`/console` and below), which has a page of its own.
fn is_console_path(path: &str) -> bool {
    let path = path.trim_end_matches('/');
    path == "/console" || path.starts_with("/console/")
}

/// The first 16 bytes of a digest, in hex.
fn hex16(digest: &[u8]) -> String {
    digest.iter().take(16).map(|b| format!("{b:02x}")).collect()
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

    fn accepts_with(value: &str, coding: &str) -> bool {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        accepts(&h, coding)
    }

    #[test]
    fn gzip_is_accepted_unless_refused() {
        let with = |value: &str| accepts_with(value, "gzip");
        assert!(with("gzip, deflate, br, zstd"));
        assert!(with("br;q=1.0, GZIP;q=0.5"));
        assert!(with("*"));
        assert!(!with("gzip;q=0"));
        assert!(!with("br, identity"));
        assert!(!accepts(&HeaderMap::new(), "gzip"));
    }

    #[test]
    fn brotli_is_accepted_only_when_named() {
        assert!(accepts_with("gzip, deflate, br, zstd", "br"));
        assert!(!accepts_with("gzip, deflate", "br"));
        assert!(!accepts_with("gzip, br;q=0", "br"));
    }

    #[test]
    fn hashed_names_are_told_apart() {
        assert!(is_hashed(Path::new("connectit-3f2a9c0d1e2b4a5c_bg.wasm")));
        assert!(is_hashed(Path::new("main-3f2a9c0d1e2b4a5c.css")));
        assert!(!is_hashed(Path::new("favicon.ico")));
        assert!(!is_hashed(Path::new("noscript.css")));
    }

    #[test]
    fn an_etag_matches_itself_weak_or_listed() {
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
            if_none_match(&h, "\"abc\"")
        };
        assert!(with("\"abc\""));
        assert!(with("W/\"abc\""));
        assert!(with("\"x\", \"abc\""));
        assert!(with("*"));
        assert!(!with("\"abd\""));
        assert!(!if_none_match(&HeaderMap::new(), "\"abc\""));
    }

    #[test]
    fn console_paths_have_their_own_page() {
        assert!(is_console_path("/console"));
        assert!(is_console_path("/console/"));
        assert!(is_console_path("/console/sessions/abc"));
        assert!(!is_console_path("/consoles"));
        assert!(!is_console_path("/"));
        assert!(!is_console_path("/t/help-desk"));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }
}

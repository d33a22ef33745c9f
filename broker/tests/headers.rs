//! Every kind of response carries the hardening headers: static files, the app's page
//! for client routes, API JSON, API errors, misses, refusals of the WebSocket upgrade,
//! and what the layers below the handlers answer (body too large, wrong method).

mod support;

use connectit_broker::static_files::escape_html;
use support::{http_with_headers, Broker, Reply};

fn check(what: &str, reply: &Reply, status: u16) {
    assert_eq!(reply.status, status, "{what}: {}", reply.text());
    let csp = reply
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert_eq!(
        reply.header("x-content-type-options").as_deref(),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(
        reply.header("referrer-policy").as_deref(),
        Some("no-referrer"),
        "{what}"
    );
    assert_eq!(
        reply.header("x-frame-options").as_deref(),
        Some("DENY"),
        "{what}"
    );
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let broker = Broker::start(|_| {}).await;
    let a = broker.addr;
    let get = |path: &'static str| broker.http("GET", path, None, None);
    check(
        "static file",
        &get("/app-0123456789abcdef0123.js").await,
        200,
    );
    check("the app's page", &get("/").await, 200);
    check("a client route", &get("/console").await, 200);
    check("API JSON", &get("/api/config").await, 200);
    check("API, not signed in", &get("/api/sessions").await, 401);
    check("API miss", &get("/api/nothing").await, 404);
    check("file miss", &get("/missing.js").await, 404);
    let bad_json = broker
        .http_raw("POST", "/api/pin", Some(b"{nope".to_vec()), None)
        .await;
    check("API, bad JSON", &bad_json, 400);
    let huge = broker
        .http_raw("POST", "/api/pin", Some(vec![b' '; 100 * 1024]), None)
        .await;
    check("API, body too large", &huge, 413);
    check(
        "wrong method on a page",
        &broker.http("POST", "/console", None, None).await,
        405,
    );
    check(
        "wrong method on the API",
        &broker.http("DELETE", "/api/config", None, None).await,
        405,
    );
    let upgrade = [
        ("connection", "upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];
    let mut foreign = upgrade.to_vec();
    foreign.push(("origin", "http://evil.example"));
    for path in ["/api/ws", "/api/console/ws"] {
        let refused = http_with_headers(a, "GET", path, None, None, &foreign).await;
        check("WebSocket upgrade from a foreign origin", &refused, 403);
    }
    let origin = broker.origin();
    let mut anonymous = upgrade.to_vec();
    anonymous.push(("origin", origin.as_str()));
    let refused = http_with_headers(a, "GET", "/api/console/ws", None, None, &anonymous).await;
    check("console upgrade without a sign-in", &refused, 401);
    let plain = http_with_headers(a, "GET", "/api/ws", None, None, &[("origin", &origin)]).await;
    assert!(
        plain.status >= 400,
        "a plain GET of the socket: {}",
        plain.status
    );
    let status = plain.status;
    check("a plain GET of the socket", &plain, status);
    broker.stop().await;
}

/// The app's files go out as their gzip copy to browsers that accept gzip (with the same
/// type, caching and security headers), as they are to others, and never as a stale copy.
#[tokio::test]
async fn files_go_out_gzipped_when_the_browser_accepts_it() {
    let broker = Broker::start(|_| {}).await;
    let a = broker.addr;
    let name = "app-0123456789abcdef0123.js";
    let file = broker.state.config.dist_dir.join(name);
    std::fs::write(&file, "console.log('hello');\n".repeat(200)).unwrap();
    let status = std::process::Command::new("gzip")
        .args(["-9", "-k", "-f"])
        .arg(&file)
        .status()
        .expect("gzip runs");
    assert!(status.success());
    let original = std::fs::read(&file).unwrap();
    let compressed = std::fs::read(file.with_file_name(format!("{name}.gz"))).unwrap();
    let path = format!("/{name}");

    let gz = http_with_headers(
        a,
        "GET",
        &path,
        None,
        None,
        &[("accept-encoding", "gzip, br")],
    )
    .await;
    check("gzip copy", &gz, 200);
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(gz.header("vary").as_deref(), Some("accept-encoding"));
    assert_eq!(
        gz.header("content-type").as_deref(),
        Some("text/javascript; charset=utf-8")
    );
    assert!(gz
        .header("cache-control")
        .is_some_and(|c| c.contains("immutable")));
    assert_eq!(gz.body, compressed);
    assert!(
        gz.body.len() < original.len() / 10,
        "{} bytes",
        gz.body.len()
    );

    for refused in [None, Some("gzip;q=0"), Some("br")] {
        let headers: Vec<(&str, &str)> = refused
            .map(|v| ("accept-encoding", v))
            .into_iter()
            .collect();
        let plain = http_with_headers(a, "GET", &path, None, None, &headers).await;
        check("plain file", &plain, 200);
        assert_eq!(plain.header("content-encoding"), None, "{refused:?}");
        assert_eq!(plain.body, original, "{refused:?}");
    }

    // A copy older than its file (the file was rebuilt) is not used.
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(&file, "console.log('rebuilt');").unwrap();
    let fresh =
        http_with_headers(a, "GET", &path, None, None, &[("accept-encoding", "gzip")]).await;
    assert_eq!(fresh.header("content-encoding"), None);
    assert_eq!(fresh.body, b"console.log('rebuilt');");
}

/// Hashed files are kept a year as immutable; every file and page carries an ETag, and a
/// browser that shows its ETag back gets a 304 with no body (a reload costs headers
/// only). The brotli copy wins over the gzip one when the browser accepts both; the
/// console's routes get the console's own page; `/favicon.ico` is a file, not a miss.
#[tokio::test]
async fn files_and_pages_are_cached_and_revalidated() {
    let broker = Broker::start(|_| {}).await;
    let a = broker.addr;
    let dist = broker.state.config.dist_dir.clone();
    let name = "app-0123456789abcdef0123_bg.wasm";
    std::fs::write(dist.join(name), vec![7u8; 4096]).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(dist.join(format!("{name}.gz")), b"gzip copy").unwrap();
    std::fs::write(dist.join(format!("{name}.br")), b"brotli copy").unwrap();
    std::fs::write(dist.join("favicon.ico"), b"icon").unwrap();
    std::fs::write(
        dist.join("console.html"),
        "<!doctype html><title>{{organisation}} console</title><div id=\"no-wasm\"></div>",
    )
    .unwrap();
    let path = format!("/{name}");

    let br = http_with_headers(
        a,
        "GET",
        &path,
        None,
        None,
        &[("accept-encoding", "gzip, br")],
    )
    .await;
    check("brotli copy", &br, 200);
    assert_eq!(br.header("content-encoding").as_deref(), Some("br"));
    assert_eq!(br.body, b"brotli copy");
    assert_eq!(
        br.header("content-type").as_deref(),
        Some("application/wasm")
    );
    assert_eq!(
        br.header("cache-control").as_deref(),
        Some("public, max-age=31536000, immutable")
    );
    let gz = http_with_headers(a, "GET", &path, None, None, &[("accept-encoding", "gzip")]).await;
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(gz.body, b"gzip copy");
    let (br_tag, gz_tag) = (br.header("etag").unwrap(), gz.header("etag").unwrap());
    assert_ne!(br_tag, gz_tag, "each coding is its own representation");

    // Revalidation: the right ETag gets a 304 and no body; another coding's does not.
    let again = http_with_headers(
        a,
        "GET",
        &path,
        None,
        None,
        &[("accept-encoding", "gzip, br"), ("if-none-match", &br_tag)],
    )
    .await;
    check("file revalidated", &again, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag").as_deref(), Some(br_tag.as_str()));
    let other = http_with_headers(
        a,
        "GET",
        &path,
        None,
        None,
        &[("accept-encoding", "gzip, br"), ("if-none-match", &gz_tag)],
    )
    .await;
    check("another coding's tag", &other, 200);
    assert_eq!(other.body, b"brotli copy");

    // The favicon: a file, revalidated (its name carries no hash).
    let icon = http_with_headers(a, "GET", "/favicon.ico", None, None, &[]).await;
    check("favicon", &icon, 200);
    assert_eq!(icon.header("content-type").as_deref(), Some("image/x-icon"));
    assert_eq!(icon.header("cache-control").as_deref(), Some("no-cache"));
    assert!(icon.header("etag").is_some());

    // The pages: revalidated on every load, a 304 while unchanged.
    for (route, marker) in [("/", "no-wasm"), ("/console/sessions/x", "console</title>")] {
        let page = http_with_headers(a, "GET", route, None, None, &[]).await;
        check(route, &page, 200);
        assert!(page.text().contains(marker), "{route}: {}", page.text());
        assert_eq!(page.header("cache-control").as_deref(), Some("no-cache"));
        let tag = page
            .header("etag")
            .unwrap_or_else(|| panic!("{route}: no ETag"));
        let same = http_with_headers(a, "GET", route, None, None, &[("if-none-match", &tag)]).await;
        check(route, &same, 304);
        assert!(same.body.is_empty());
    }
    let customer = http_with_headers(a, "GET", "/", None, None, &[]).await;
    let console = http_with_headers(a, "GET", "/console", None, None, &[]).await;
    assert_ne!(customer.header("etag"), console.header("etag"));
    assert!(!customer.text().contains("console</title>"));
    // Something that looks like the console but is not stays the customer's.
    let near = http_with_headers(a, "GET", "/consoles", None, None, &[]).await;
    assert!(!near.text().contains("console</title>"));
    broker.stop().await;
}

/// The app has only English compiled in: a built-in language's catalog comes from
/// `/api/catalog/{lang}` (every key, cacheable); an unknown language is a typed 404.
#[tokio::test]
async fn built_in_catalogs_are_served_for_the_app() {
    let broker = Broker::start(|_| {}).await;
    let a = broker.addr;
    let fr = http_with_headers(a, "GET", "/api/catalog/fr", None, None, &[]).await;
    check("French catalog", &fr, 200);
    let catalog: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&fr.body).unwrap();
    assert_eq!(catalog.len(), connectit_wording::KEYS.len());
    assert_eq!(catalog["language_name"], "Français");
    assert!(fr
        .header("cache-control")
        .is_some_and(|c| c.contains("max-age")));
    let en = http_with_headers(a, "GET", "/api/catalog/en", None, None, &[]).await;
    check("English catalog", &en, 200);
    for missing in ["xx", "..", "fr-CA"] {
        let reply = http_with_headers(
            a,
            "GET",
            &format!("/api/catalog/{missing}"),
            None,
            None,
            &[],
        )
        .await;
        check(missing, &reply, 404);
        assert!(reply.text().contains("not_found"), "{}", reply.text());
    }
    broker.stop().await;
}

/// The customer's page carries a PIN form usable before the app has loaded; the broker
/// words it in the language the browser asks for (the organisation's texts first), as
/// the app would choose it, and says the page varies with that.
#[tokio::test]
async fn the_pages_own_pin_form_speaks_the_browsers_language() {
    let broker = Broker::start(|c| {
        c.texts.entry("fr".into()).or_default().insert(
            "pin_heading".into(),
            "Joindre <l'assistance> d'Exemple".into(),
        );
    })
    .await;
    let a = broker.addr;
    std::fs::write(
        broker.state.config.dist_dir.join("index.html"),
        include_str!("../../index.html"),
    )
    .unwrap();
    let page = |accept: &'static str| async move {
        let headers: &[(&str, &str)] = if accept.is_empty() {
            &[]
        } else {
            &[("accept-language", accept)]
        };
        let reply = http_with_headers(a, "GET", "/", None, None, headers).await;
        check(accept, &reply, 200);
        assert_eq!(
            reply.header("vary").as_deref(),
            Some("accept-encoding, accept-language")
        );
        let html = reply.text();
        assert!(!html.contains("{{"), "{accept:?}: a placeholder is left");
        html
    };
    let english = page("").await;
    let org = escape_html(&broker.state.config.organisation);
    assert!(english.contains("<html lang=\"en\">"));
    // The window's titles: the page's, and the PIN step's for the page's first script.
    assert!(english.contains(&format!("<title>Remote support — {org}</title>")));
    assert!(english.contains(&format!(
        "<meta name=\"connectit-pin-title\" content=\"Enter your PIN — {org}\">"
    )));
    assert!(english.contains(">Connect to a support representative</h1>"));
    assert!(english.contains("data-busy=\"Connecting…\">Connect</button>"));
    assert!(english.contains("id=\"boot-pin\" class=\"boot-pin\">"));
    // The header's tools hold their place: the menu with every language the app offers.
    assert!(english.contains("<option selected>English</option><option>Français</option></select>"));
    assert_eq!(page("de-DE, en;q=0.5").await, english);
    // French: the organisation's heading (escaped), the catalog's other words.
    let french = page("fr-CA,fr;q=0.9,en;q=0.8").await;
    assert!(french.contains("<html lang=\"fr\">"));
    assert!(
        french.contains(">Joindre &lt;l&#39;assistance&gt; d&#39;Exemple</h1>"),
        "{french}"
    );
    assert!(french.contains(">Code PIN</label>"));
    assert!(french.contains(&format!("<title>Assistance à distance — {org}</title>")));
    assert!(french.contains(&format!("content=\"Saisissez votre code PIN — {org}\">")));
    assert!(french.contains(">Se connecter</button>"));
    assert!(french.contains("<option>English</option><option selected>Français</option>"));
    // English wanted more than French: English.
    assert_eq!(page("fr;q=0.4, en-GB").await, english);
    broker.stop().await;
}

/// The customer's page carries its first screen's style and script inline: its
/// Content-Security-Policy allows exactly those by their hashes (and nothing filled in
/// can add one), and the page goes out gzipped to a browser that accepts it, with its
/// own ETag.
#[tokio::test]
async fn a_pages_inline_script_and_style_are_allowed_by_hash_and_it_goes_out_gzipped() {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let broker = Broker::start(|c| c.organisation = "<script>alert(1)</script>".into()).await;
    let a = broker.addr;
    let (script, style) = ("document.title = 'x';", "p { color: red }");
    std::fs::write(
        broker.state.config.dist_dir.join("index.html"),
        format!(
            "<html><head><!-- a note on the <style> and the <script> below -->\
             <style>{style}</style></head><body><p id=no-wasm>{{{{organisation}}}}</p>\
             <noscript><link rel=\"stylesheet\" href=\"/noscript.css\"></noscript>\
             <script>{script}</script></body></html>"
        ),
    )
    .unwrap();
    let hash = |text: &str| {
        format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(text.as_bytes()))
        )
    };
    let plain = http_with_headers(a, "GET", "/", None, None, &[]).await;
    check("page", &plain, 200);
    let csp = plain.header("content-security-policy").unwrap();
    assert!(
        csp.contains(&format!(
            "script-src 'self' 'wasm-unsafe-eval' {};",
            hash(script)
        )),
        "{csp}"
    );
    assert!(
        csp.contains(&format!("style-src 'self' {};", hash(style))),
        "{csp}"
    );
    assert_eq!(
        csp.matches("'sha256-").count(),
        2,
        "only the page's own: {csp}"
    );
    assert!(plain
        .text()
        .contains("&lt;script&gt;alert(1)&lt;/script&gt;"));

    let gz = http_with_headers(
        a,
        "GET",
        "/",
        None,
        None,
        &[("accept-encoding", "gzip, br")],
    )
    .await;
    check("gzipped page", &gz, 200);
    assert_eq!(gz.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(
        gz.header("content-security-policy").as_deref(),
        Some(csp.as_str())
    );
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gz.body[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, plain.body, "the same page");
    let tag = gz.header("etag").unwrap();
    assert_ne!(Some(&tag), plain.header("etag").as_ref());
    let again = http_with_headers(
        a,
        "GET",
        "/",
        None,
        None,
        &[("accept-encoding", "gzip"), ("if-none-match", &tag)],
    )
    .await;
    check("gzipped page revalidated", &again, 304);

    // Elsewhere the policy has no hash: no inline script or style anywhere else.
    std::fs::write(
        broker.state.config.dist_dir.join("console.html"),
        "<html><body><div id=\"no-wasm\"></div></body></html>",
    )
    .unwrap();
    for path in ["/console", "/api/config"] {
        let reply = http_with_headers(a, "GET", path, None, None, &[]).await;
        let policy = reply.header("content-security-policy").unwrap();
        assert!(!policy.contains("sha256"), "{path}: {policy}");
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval';"));
    }
    broker.stop().await;
}

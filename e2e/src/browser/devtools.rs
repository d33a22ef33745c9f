//! Beneath the page: Chromium's DevTools Protocol, scripts that run before a page's
//! own, and Firefox's WebDriver BiDi.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use super::{Browser, BrowserKind};
use crate::http;

impl Browser {
    /// Runs a Chrome DevTools Protocol command through chromedriver
    /// (`POST /session/{id}/goog/cdp/execute`); its result. Chromium only: Firefox
    /// has no such endpoint, and asking it is a test's mistake, reported at once.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        assert_eq!(
            self.kind,
            BrowserKind::Chromium,
            "CDP {cmd}: the Chrome DevTools Protocol is Chromium's; this browser is {:?}",
            self.kind
        );
        let id = self
            .session_id
            .clone()
            .unwrap_or_else(|| panic!("CDP {cmd}: no WebDriver session id"));
        let body = json!({ "cmd": cmd, "params": params }).to_string();
        let port = self.driver_port;
        let path = format!("/session/{id}/goog/cdp/execute");
        let answer = tokio::task::spawn_blocking(move || {
            http::request_with_body(port, "POST", &path, &body, Duration::from_secs(10))
        })
        .await
        .unwrap_or_else(|e| panic!("CDP {cmd}: {e}"));
        match answer {
            Some((200, body)) => serde_json::from_str::<Value>(&body)
                .map(|v| v["value"].clone())
                .unwrap_or_else(|e| panic!("CDP {cmd}: unreadable answer {body:?}: {e}")),
            other => panic!("CDP {cmd} failed: {other:?}"),
        }
    }

    /// Makes the network this browser's current tab sees slow (Chromium's network
    /// emulation, CDP `Network.emulateNetworkConditions`): `latency_ms` added to each
    /// round trip, and the throughputs in bits per second. Also empties the cache, so
    /// the next load is a cold one.
    pub async fn emulate_network(&self, latency_ms: f64, down_bits: f64, up_bits: f64) {
        self.clear_cache().await;
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({
                "offline": false,
                "latency": latency_ms,
                "downloadThroughput": down_bits / 8.0,
                "uploadThroughput": up_bits / 8.0,
            }),
        )
        .await;
    }

    /// Empties this browser's cache (CDP `Network.clearBrowserCache`: the HTTP cache and,
    /// with it, the compiled code Chromium keeps beside cached scripts and WebAssembly
    /// modules), so the next page load is a first visit's.
    pub async fn clear_cache(&self) {
        self.cdp("Network.enable", json!({})).await;
        self.cdp("Network.clearBrowserCache", json!({})).await;
    }

    /// Makes this browser's current tab run its pages `rate` times slower than the
    /// machine (Chromium's CPU throttling, CDP `Emulation.setCPUThrottlingRate`; 1: none),
    /// as DevTools emulates a slow phone.
    pub async fn emulate_cpu(&self, rate: f64) {
        self.cdp("Emulation.setCPUThrottlingRate", json!({ "rate": rate }))
            .await;
    }

    /// Back to the machine's own network (no emulated delay or limit).
    pub async fn unthrottle_network(&self) {
        self.cdp(
            "Network.emulateNetworkConditions",
            json!({ "offline": false, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1 }),
        )
        .await;
    }

    /// Runs `source` in every page this browser opens from now on, before the page's
    /// own scripts: CDP `Page.addScriptToEvaluateOnNewDocument` in Chromium, WebDriver
    /// BiDi `script.addPreloadScript` in Firefox.
    pub async fn before_page_scripts(&self, source: &str) {
        match self.kind {
            BrowserKind::Chromium => {
                self.cdp(
                    "Page.addScriptToEvaluateOnNewDocument",
                    json!({ "source": source }),
                )
                .await;
            }
            BrowserKind::Firefox => {
                self.bidi(
                    "script.addPreloadScript",
                    json!({ "functionDeclaration": format!("() => {{\n{source}\n}}") }),
                )
                .await;
            }
        }
    }

    /// Sends one WebDriver BiDi command to Firefox (over the session's `webSocketUrl`)
    /// and waits for its answer; its result. Firefox only, and an error answer panics
    /// with what the browser said.
    pub async fn bidi(&self, method: &str, params: Value) -> Value {
        let url = self
            .client
            .capabilities()
            .and_then(|caps| caps.get("webSocketUrl"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                panic!(
                    "BiDi {method}: this {:?} session has no webSocketUrl (Firefox only)",
                    self.kind
                )
            });
        let mut socket = self.bidi.lock().await;
        if socket.is_none() {
            let (opened, _) = tokio_tungstenite::connect_async(url.as_str())
                .await
                .unwrap_or_else(|e| panic!("BiDi {method}: connect to {url}: {e}"));
            *socket = Some(opened);
        }
        let Some(ws) = socket.as_mut() else {
            unreachable!("the BiDi connection was just opened")
        };
        let id = self
            .bidi_next
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let command = json!({ "id": id, "method": method, "params": params }).to_string();
        ws.send(Message::Text(command.into()))
            .await
            .unwrap_or_else(|e| panic!("BiDi {method}: send: {e}"));
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let next = tokio::time::timeout_at(deadline, ws.next())
                .await
                .unwrap_or_else(|_| panic!("BiDi {method}: no answer within 10 s"));
            let text = match next {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("BiDi {method}: {e}"),
                None => panic!("BiDi {method}: the connection closed"),
            };
            let answer: Value = serde_json::from_str(text.as_str())
                .unwrap_or_else(|e| panic!("BiDi {method}: unreadable answer {text:?}: {e}"));
            // Events (no id) and answers to other commands are not this one's.
            if answer["id"] != json!(id) {
                continue;
            }
            if answer["type"] == "error" {
                panic!("BiDi {method} failed: {answer}");
            }
            return answer["result"].clone();
        }
    }
}

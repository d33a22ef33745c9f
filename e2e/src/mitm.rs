//! A man in the middle of the screen share, for the verification code's test: what a
//! hostile network, proxy or broker could do to the signalling. The customer's page
//! gets a WebSocket that hands every screen signal to a third page instead of the
//! broker, and every screen signal from the broker to that page instead of the app;
//! the third page (in its own browser) answers the customer's offer with its own peer
//! connection, and offers the track it receives to the technician from a second one,
//! through the customer's socket. The technician sees the screen, relayed; each end's
//! connection ends at the middle's certificates, so the two codes differ.
//!
//! The app's code is untouched: only the page's `WebSocket` constructor is wrapped,
//! before the app's scripts run. The test moves the messages between the two pages
//! (polling both, in order) with [`Mitm::relay_until`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::browser::Browser;
use crate::proof::{shown_code, CUSTOMER_CODE, TECHNICIAN_CODE};
use crate::World;

/// Runs in the customer's page before the app: screen signals go to `__mitm.toMitm`
/// instead of either way; `__mitm.toCustomer` and `__mitm.toTechnician` put the middle's
/// own signals where each side expects them.
pub const CUSTOMER_HOOK: &str = r#"
(() => {
  const Native = window.WebSocket;
  const mitm = { toMitm: [], sockets: [], delivering: false };
  window.__mitm = mitm;
  const screenSignal = (text) => {
    try {
      const m = JSON.parse(text);
      return m && m.type === 'signal' && m.data && m.data.link === 'screen' ? m.data.payload : null;
    } catch (_) { return null; }
  };
  class Intercepted extends Native {
    constructor(...args) {
      super(...args);
      mitm.sockets.push(this);
      this.addEventListener('message', (e) => {
        if (mitm.delivering) return;
        const payload = screenSignal(e.data);
        if (payload !== null) {
          e.stopImmediatePropagation();
          mitm.toMitm.push({ from: 'technician', payload });
        }
      });
    }
    send(data) {
      const payload = typeof data === 'string' ? screenSignal(data) : null;
      if (payload !== null) {
        mitm.toMitm.push({ from: 'customer', payload });
        return;
      }
      return super.send(data);
    }
  }
  window.WebSocket = Intercepted;
  const open = () => mitm.sockets.filter((s) => s.readyState === Native.OPEN).pop();
  const signal = (payload) => JSON.stringify({ type: 'signal', data: { link: 'screen', payload } });
  mitm.toCustomer = (payload) => {
    const s = open();
    if (!s) return false;
    mitm.delivering = true;
    try { s.dispatchEvent(new MessageEvent('message', { data: signal(payload) })); }
    finally { mitm.delivering = false; }
    return true;
  };
  mitm.toTechnician = (payload) => {
    const s = open();
    if (!s) return false;
    Native.prototype.send.call(s, signal(payload));
    return true;
  };
  mitm.drain = () => { const q = mitm.toMitm; mitm.toMitm = []; return q; };
})();
"#;

/// The middle's page: two peer connections of its own, one facing each side.
pub const MIDDLE_PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>middle</title></head><body>
<video id="relayed" autoplay muted playsinline></video>
<script>
const candidate = (c) => JSON.stringify({
  type: 'candidate', candidate: c.candidate,
  sdp_mid: c.sdpMid === null ? undefined : c.sdpMid,
  sdp_m_line_index: c.sdpMLineIndex === null ? undefined : c.sdpMLineIndex,
});
const toIce = (b) => ({ candidate: b.candidate, sdpMid: b.sdp_mid ?? null, sdpMLineIndex: b.sdp_m_line_index ?? null });
window.middle = {
  out: [], toCustomer: null, toTechnician: null, queue: Promise.resolve(), errors: [],
  take(from, text) {
    this.queue = this.queue.then(() => this.handle(from, JSON.parse(text))).catch((e) => this.errors.push(String(e)));
  },
  async handle(from, body) {
    if (from === 'customer') {
      if (body.type === 'offer') {
        if (this.toCustomer) this.toCustomer.close();
        const pc = this.toCustomer = new RTCPeerConnection({ iceServers: [] });
        pc.onicecandidate = (e) => { if (e.candidate) this.out.push({ to: 'customer', payload: candidate(e.candidate) }); };
        pc.ontrack = (e) => { this.queue = this.queue.then(() => this.relay(e.track)); };
        await pc.setRemoteDescription({ type: 'offer', sdp: body.sdp });
        await pc.setLocalDescription(await pc.createAnswer());
        this.out.push({ to: 'customer', payload: JSON.stringify({ type: 'answer', sdp: pc.localDescription.sdp }) });
      } else if (body.type === 'candidate' && this.toCustomer && body.candidate) {
        await this.toCustomer.addIceCandidate(toIce(body));
      }
    } else if (this.toTechnician) {
      if (body.type === 'answer') {
        await this.toTechnician.setRemoteDescription({ type: 'answer', sdp: body.sdp });
      } else if (body.type === 'candidate' && body.candidate) {
        await this.toTechnician.addIceCandidate(toIce(body));
      }
    }
  },
  async relay(track) {
    const stream = new MediaStream([track]);
    document.getElementById('relayed').srcObject = stream;
    if (this.toTechnician) this.toTechnician.close();
    const pc = this.toTechnician = new RTCPeerConnection({ iceServers: [] });
    pc.onicecandidate = (e) => { if (e.candidate) this.out.push({ to: 'technician', payload: candidate(e.candidate) }); };
    pc.addTrack(track, stream);
    await pc.setLocalDescription(await pc.createOffer());
    this.out.push({ to: 'technician', payload: JSON.stringify({ type: 'offer', sdp: pc.localDescription.sdp }) });
  },
  drain() { const o = this.out; this.out = []; return o; },
};
</script></body></html>
"#;

/// How often the relay polls both pages.
const POLL: Duration = Duration::from_millis(50);

/// The longest the relay runs.
pub const RELAY_LIMIT: Duration = Duration::from_secs(60);

/// The middle: its own browser, on the page that holds its peer connections.
pub struct Mitm {
    pub browser: Browser,
}

fn items(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        _ => Vec::new(),
    }
}

impl Mitm {
    /// Starts the middle's browser on its page, and hooks `customer`'s WebSocket for
    /// every page it loads from now on.
    pub async fn start(customer: &Browser) -> Mitm {
        let url = crate::pageserver::serve(MIDDLE_PAGE).await;
        let browser = Browser::start().await;
        browser.goto(&format!("{url}/")).await;
        customer.before_page_scripts(CUSTOMER_HOOK).await;
        Mitm { browser }
    }

    /// Moves the screen's signals between the customer's page and the middle until
    /// `stop` is set (at most [`RELAY_LIMIT`]), in the order each side produced them.
    pub async fn relay_until(&self, customer: &Browser, stop: &AtomicBool) {
        let started = Instant::now();
        while !stop.load(Ordering::SeqCst) && started.elapsed() < RELAY_LIMIT {
            let taken = customer
                .eval("return window.__mitm ? window.__mitm.drain() : [];", vec![])
                .await;
            for m in items(taken) {
                self.browser
                    .eval(
                        "window.middle.take(arguments[0], arguments[1]);",
                        vec![m["from"].clone(), m["payload"].clone()],
                    )
                    .await;
            }
            let out = self
                .browser
                .eval("return window.middle.drain();", vec![])
                .await;
            for m in items(out) {
                let deliver = match m["to"].as_str() {
                    Some("customer") => "return window.__mitm.toCustomer(arguments[0]);",
                    _ => "return window.__mitm.toTechnician(arguments[0]);",
                };
                let delivered = customer.eval(deliver, vec![m["payload"].clone()]).await;
                assert_eq!(delivered, json!(true), "the customer's socket is open");
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// Errors the middle's page met (none expected).
    pub async fn errors(&self) -> Value {
        self.browser
            .eval("return window.middle.errors;", vec![])
            .await
    }

    pub async fn close(self) {
        self.browser.close().await;
    }
}

/// With a middle hooked into the customer's page before it loads: an active session,
/// the screen granted and shared through the middle, the technician's video live with
/// its frames; then the two codes, which must differ (and the middle met no error).
pub async fn codes_differ_through_a_middle(w: &World) {
    let middle = Mitm::start(&w.cust).await;
    let (console, customer, _) = w.active_session().await;
    let stop = AtomicBool::new(false);
    let checks = async {
        // The frames reach the technician, through the middle.
        console
            .see_screen_of(&customer, "To look at your printer settings", 5)
            .await;
        let codes = tokio::join!(
            shown_code(&w.cust, CUSTOMER_CODE),
            shown_code(&w.tech, TECHNICIAN_CODE)
        );
        stop.store(true, Ordering::SeqCst);
        codes
    };
    let ((cust_code, tech_code), ()) = tokio::join!(checks, middle.relay_until(&w.cust, &stop));
    assert_ne!(
        cust_code, tech_code,
        "each end's connection ends at the middle's certificate"
    );
    assert_eq!(middle.errors().await, json!([]));
    middle.close().await;
}

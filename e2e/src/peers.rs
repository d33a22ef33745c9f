//! What a page's peer connections are doing, seen from the test: a script that keeps
//! every `RTCPeerConnection` the page makes (run before the page's own scripts), and
//! the selected candidate pair of each connected one, from `getStats()`.

use serde_json::Value;

use crate::Browser;

/// Keeps every `RTCPeerConnection` a page makes in `window.__peers`.
pub const KEEP_PEERS: &str = r#"
(() => {
  const Native = window.RTCPeerConnection;
  if (!Native || Native.__kept) return;
  window.__peers = [];
  const Kept = function (...args) {
    const pc = new Native(...args);
    window.__peers.push(pc);
    return pc;
  };
  Kept.prototype = Native.prototype;
  Object.setPrototypeOf(Kept, Native);
  Kept.__kept = true;
  window.RTCPeerConnection = Kept;
})();
"#;

/// For every kept peer connection that is connected: its configured transport policy
/// and the local and remote candidates of its selected pair.
const SELECTED_PAIRS: &str = r#"
const done = arguments[arguments.length - 1];
(async () => {
  const out = [];
  for (const pc of (window.__peers || [])) {
    if (pc.connectionState !== 'connected') continue;
    const stats = await pc.getStats();
    let pairId = null;
    stats.forEach((s) => { if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
    let pair = pairId ? stats.get(pairId) : null;
    if (!pair) stats.forEach((s) => { if (s.type === 'candidate-pair' && s.nominated && s.state === 'succeeded') pair = s; });
    if (!pair) continue;
    const local = stats.get(pair.localCandidateId) || {};
    const remote = stats.get(pair.remoteCandidateId) || {};
    out.push({
      policy: pc.getConfiguration().iceTransportPolicy,
      local: local.candidateType, relayProtocol: local.relayProtocol || null,
      remote: remote.candidateType,
      bytes: (pair.bytesSent || 0) + (pair.bytesReceived || 0),
    });
  }
  return out;
})().then(done, (e) => done({ error: String(e) }));
"#;

/// The selected pairs of `browser`'s connected peer connections (it must have run
/// [`KEEP_PEERS`] before the page).
pub async fn selected_pairs(browser: &Browser) -> Vec<Value> {
    match browser.eval_async(SELECTED_PAIRS, vec![]).await {
        Value::Array(pairs) => pairs,
        other => panic!("getStats(): {other}"),
    }
}

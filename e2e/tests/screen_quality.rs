//! A screen share tuned for reading text: under the organisation's bitrate cap
//! (`screen_max_kbps`), the technician's decoded picture keeps the source's resolution
//! and the frame rate gives way instead (`contentHint = "detail"`, degradation
//! preference `maintain-resolution`), and the sender keeps to the cap.

use std::time::Duration;

use connectit_e2e::peers::KEEP_PEERS;
use connectit_e2e::{BrokerOptions, World};
use serde_json::Value;

/// The cap: far below what 1280×720 at 30 fps would take.
const CAP_KBPS: u32 = 150;

/// The customer's outgoing screen: the capture's size, the encoded frame size, frames
/// per second, bytes sent so far and why the quality is limited.
const OUTGOING: &str = r#"
const done = arguments[arguments.length - 1];
(async () => {
  for (const pc of (window.__peers || [])) {
    const sender = pc.getSenders().find((s) => s.track && s.track.kind === 'video');
    if (!sender) continue;
    const settings = sender.track.getSettings();
    const stats = await pc.getStats();
    let out = null;
    stats.forEach((s) => { if (s.type === 'outbound-rtp' && s.kind === 'video') out = s; });
    return {
      width: settings.width, height: settings.height, hint: sender.track.contentHint,
      preference: sender.getParameters().degradationPreference || null,
      max: ((sender.getParameters().encodings || [])[0] || {}).maxBitrate || null,
      frameWidth: out && out.frameWidth, fps: out && out.framesPerSecond,
      bytes: out ? out.bytesSent : 0, at: performance.now(),
      limited: out && out.qualityLimitationReason,
    };
  }
  return null;
})().then(done, (e) => done({ error: String(e) }));
"#;

#[tokio::test(flavor = "multi_thread")]
async fn under_a_bitrate_cap_the_screen_keeps_its_resolution() {
    let w = World::start(BrokerOptions {
        screen_max_kbps: Some(CAP_KBPS),
        ..BrokerOptions::default()
    })
    .await;
    w.cust.before_page_scripts(KEEP_PEERS).await;
    let (console, customer, _session) = w.active_session().await;
    let request = console
        .request_permissions(&["view_screen"], "To read the error message")
        .await;
    customer.wait_prompt_for(request).await;
    customer.grant_all().await;
    console.wait_screen_state("live").await;
    console.wait_screen_frames(2).await;
    // Time for the encoder to meet the cap.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let first = w.cust.eval_async(OUTGOING, vec![]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let then = w.cust.eval_async(OUTGOING, vec![]).await;
    let n = |v: &Value, k: &str| v[k].as_f64().unwrap_or_default();
    assert_eq!(then["hint"], "detail", "{then}");
    assert_eq!(then["preference"], "maintain-resolution", "{then}");
    assert_eq!(n(&then, "max"), f64::from(CAP_KBPS) * 1000.0, "{then}");
    let kbps = (n(&then, "bytes") - n(&first, "bytes")) * 8.0
        / ((n(&then, "at") - n(&first, "at")) / 1000.0)
        / 1000.0;
    // The technician's decoded picture, at the source's resolution.
    let decoded = w
        .tech
        .eval(
            "const v = document.querySelector('#screen-video'); return [v.videoWidth, v.videoHeight];",
            vec![],
        )
        .await;
    let (source_w, source_h) = (n(&then, "width"), n(&then, "height"));
    assert_eq!(
        (decoded[0].as_f64(), decoded[1].as_f64()),
        (Some(source_w), Some(source_h)),
        "decoded {decoded} for a {source_w}×{source_h} source: {then}"
    );
    assert!(
        kbps < f64::from(CAP_KBPS) * 1.3,
        "{kbps:.0} kbit/s sent under a {CAP_KBPS} kbit/s cap: {then}"
    );
    eprintln!(
        "screen under a {CAP_KBPS} kbit/s cap: source {source_w}×{source_h}, decoded {}×{} at the \
         technician, sent {kbps:.0} kbit/s at {} fps (limited by {})",
        decoded[0], decoded[1], then["fps"], then["limited"]
    );
    w.close().await;
}

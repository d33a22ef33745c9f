//! The flows the relay tests and the `relay_timing` benchmark share: a stage whose
//! broker relays through a real coturn (or not at all), a screen share and a file sent
//! over it with the times they took, and a screen share under a bitrate cap with what
//! the technician decoded.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::peers::KEEP_PEERS;
use crate::{
    sha256_file, Broker, BrokerOptions, Browser, Console, Customer, TestFile, Turn, TurnTransport,
    World,
};

/// A broker that allows only the relay, reached by `transport` (with `None`: no relay
/// at all, direct paths), and two browsers that keep their peer connections for
/// `getStats()`. The relay's certificate is made for the test, hence
/// `--ignore-certificate-errors`.
pub async fn relay_world(transport: Option<TurnTransport>) -> (Option<Turn>, World) {
    let turn = transport.map(|_| Turn::start());
    let broker = Broker::start(BrokerOptions {
        turn: turn
            .as_ref()
            .zip(transport)
            .map(|(turn, t)| (vec![turn.url(t)], turn.secret.clone())),
        relay_only: transport.is_some(),
        ..BrokerOptions::default()
    })
    .await;
    let args = ["--ignore-certificate-errors"];
    let (tech, cust) = tokio::join!(Browser::start_with(&args), Browser::start_with(&args));
    tokio::join!(
        tech.before_page_scripts(KEEP_PEERS),
        cust.before_page_scripts(KEEP_PEERS)
    );
    (turn, World { broker, tech, cust })
}

/// Waits until the technician's `#screen-video` has decoded a first frame.
pub async fn first_frame(browser: &Browser) {
    browser
        .wait_for("a first decoded frame in #screen-video", || async {
            let frames = browser
                .eval(
                    "const v = document.querySelector('#screen-video');\
                     return v && v.getVideoPlaybackQuality ? v.getVideoPlaybackQuality().totalVideoFrames : 0;",
                    vec![],
                )
                .await;
            match frames.as_u64() {
                Some(n) if n > 0 => Ok(()),
                other => Err(format!("frames: {other:?}")),
            }
        })
        .await;
}

/// What a share and a file took.
#[derive(Debug, Clone, Copy)]
pub struct Carried {
    /// The customer's grant click → the technician's first decoded frame.
    pub first_frame: Duration,
    /// The customer's acceptance → the file delivered.
    pub file: Duration,
    pub file_bytes: usize,
}

impl Carried {
    /// The file's rate, MB/s (10^6 bytes).
    pub fn file_mb_per_sec(&self) -> f64 {
        self.file_bytes as f64 / self.file.as_secs_f64() / 1e6
    }
}

/// In an active session: the technician asks for the screen and to send files, the
/// customer grants both, the technician's video decodes frames, and a file of
/// `file_bytes` goes to the customer and is saved with its SHA-256.
pub async fn share_and_send(
    w: &World,
    console: &Console<'_>,
    customer: &Customer<'_>,
    file_bytes: usize,
) -> Carried {
    let request = console
        .request_permissions(&["view_screen", "send_files"], "To look at your settings")
        .await;
    customer.wait_prompt_for(request).await;
    let granted = Instant::now();
    customer.grant_all().await;
    first_frame(&w.tech).await;
    let first_frame = granted.elapsed();
    console.wait_screen_state("live").await;
    let frames = console.wait_screen_frames(5).await;
    assert!(frames.frames() >= 5, "{frames:?}");
    let file = TestFile::random("over-the-path.bin", file_bytes as u64);
    console.send_files(&[&file]).await;
    let offer = customer.wait_offer(&file.name).await.file;
    let accepted = Instant::now();
    customer.accept_file(offer).await;
    w.cust.wait_file_status(offer, "delivered").await;
    let took = accepted.elapsed();
    let saved = w
        .cust
        .wait_download_named(&file.name, Some(file.size))
        .await;
    assert_eq!(sha256_file(&saved), file.sha256, "the file's SHA-256");
    Carried {
        first_frame,
        file: took,
        file_bytes,
    }
}

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
      fps: out && out.framesPerSecond,
      bytes: out ? out.bytesSent : 0, at: performance.now(),
      limited: out && out.qualityLimitationReason,
    };
  }
  return null;
})().then(done, (e) => done({ error: String(e) }));
"#;

/// A screen share under a bitrate cap, after the encoder settled.
#[derive(Debug, Clone)]
pub struct Capped {
    /// The customer's outgoing screen as `OUTGOING` reads it.
    pub sender: Value,
    pub source: (f64, f64),
    pub decoded: (f64, f64),
    /// kbit/s sent over three seconds.
    pub kbps: f64,
}

/// Shares the screen with the broker's `screen_max_kbps = cap_kbps` and reads, after
/// six seconds for the encoder to meet the cap, what the customer sends and what the
/// technician decodes.
pub async fn capped_screen(cap_kbps: u32) -> Capped {
    let w = World::start(BrokerOptions {
        screen_max_kbps: Some(cap_kbps),
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
    tokio::time::sleep(Duration::from_secs(6)).await;
    let first = w.cust.eval_async(OUTGOING, vec![]).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let sender = w.cust.eval_async(OUTGOING, vec![]).await;
    let n = |v: &Value, k: &str| v[k].as_f64().unwrap_or_default();
    let kbps = (n(&sender, "bytes") - n(&first, "bytes")) * 8.0
        / ((n(&sender, "at") - n(&first, "at")) / 1000.0)
        / 1000.0;
    let decoded = w
        .tech
        .eval(
            "const v = document.querySelector('#screen-video'); return [v.videoWidth, v.videoHeight];",
            vec![],
        )
        .await;
    let capped = Capped {
        source: (n(&sender, "width"), n(&sender, "height")),
        decoded: (
            decoded[0].as_f64().unwrap_or_default(),
            decoded[1].as_f64().unwrap_or_default(),
        ),
        kbps,
        sender,
    };
    w.close().await;
    capped
}

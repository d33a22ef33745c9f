//! A screen share tuned for reading text: under the organisation's bitrate cap
//! (`screen_max_kbps`), the technician's decoded picture keeps the source's resolution
//! and the frame rate gives way instead (`contentHint = "detail"`, degradation
//! preference `maintain-resolution`), and the sender keeps to the cap.

use connectit_e2e::paths::capped_screen;

/// The cap: far below what 1280×720 at 30 fps would take.
const CAP_KBPS: u32 = 150;

#[tokio::test(flavor = "multi_thread")]
async fn under_a_bitrate_cap_the_screen_keeps_its_resolution() {
    let capped = capped_screen(CAP_KBPS).await;
    let sender = &capped.sender;
    assert_eq!(sender["hint"], "detail", "{sender}");
    assert_eq!(sender["preference"], "maintain-resolution", "{sender}");
    assert_eq!(
        sender["max"].as_f64(),
        Some(f64::from(CAP_KBPS) * 1000.0),
        "{sender}"
    );
    assert_eq!(
        capped.decoded, capped.source,
        "the technician decodes the source's resolution: {capped:?}"
    );
    assert!(
        capped.kbps < f64::from(CAP_KBPS) * 1.3,
        "{:.0} kbit/s sent under a {CAP_KBPS} kbit/s cap: {sender}",
        capped.kbps
    );
    eprintln!(
        "screen under a {CAP_KBPS} kbit/s cap: source {:?}, decoded {:?} at the technician, \
         sent {:.0} kbit/s at {} fps (limited by {})",
        capped.source, capped.decoded, capped.kbps, sender["fps"], sender["limited"]
    );
}

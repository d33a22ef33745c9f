//! The TURN relay's cost, beside the direct path in the same run: grant click → first
//! decoded frame at the technician, and a file's rate, with only the relay allowed (a
//! real coturn on loopback, reached over UDP, TCP and TLS) and with no relay at all;
//! then a screen share under a bitrate cap, whose decoded width is read beside the
//! source's. Every run is a fresh broker, relay and pair of headless Chromium browsers.
//! Not a test: it asserts only that the share and the file arrived.
//!
//! Run: `cargo build --profile server -p connectit-broker && scripts/build-app &&
//! CONNECTIT_BROKER_BIN=target/server/connectit-broker
//! cargo run --profile server -p connectit-e2e --example relay_timing -- 3` (3 runs of each path by
//! default; `RELAY_TIMING_MB` sets the file's size, 20 MB by default). `--rows FILE`
//! appends the medians as rows of `scripts/bench`'s table.

use connectit_e2e::bench::{self, append_rows, Row};
use connectit_e2e::paths::{capped_screen, relay_world, share_and_send};
use connectit_e2e::stats::median;
use connectit_e2e::TurnTransport;

/// The cap of the capped share, kbit/s.
const CAP_KBPS: u32 = 150;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rows_file = bench::rows_argument(&args);
    let runs: usize = bench::runs_argument(&args, &[])
        .map(|r| r.parse().expect("the number of runs"))
        .unwrap_or(3);
    let mb: usize = std::env::var("RELAY_TIMING_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let paths = [
        (None, "directly"),
        (Some(TurnTransport::Udp), "TURN/UDP"),
        (Some(TurnTransport::Tcp), "TURN/TCP"),
        (Some(TurnTransport::Tls), "TURN/TLS"),
    ];
    bench::print_broker_note();
    let mut medians = Vec::new();
    for (transport, name) in paths {
        let (mut frames, mut rates) = (Vec::new(), Vec::new());
        for run in 1..=runs {
            let (turn, w) = relay_world(transport).await;
            let (console, customer, _session) = w.active_session().await;
            let carried = share_and_send(&w, &console, &customer, mb * 1_000_000).await;
            w.close().await;
            drop(turn);
            let ms = carried.first_frame.as_secs_f64() * 1000.0;
            println!(
                "{name} run {run}: grant → first frame {ms:.0} ms, {mb} MB file {:.1} MB/s",
                carried.file_mb_per_sec()
            );
            frames.push(ms);
            rates.push(carried.file_mb_per_sec());
        }
        let (frame, rate) = (median(&mut frames), median(&mut rates));
        println!("{name}: median grant → first frame {frame:.0} ms, file {rate:.1} MB/s");
        medians.push((name, frame, rate));
    }
    let capped = capped_screen(CAP_KBPS).await;
    println!(
        "screen under a {CAP_KBPS} kbit/s cap: source {:?}, decoded {:?}, sent {:.0} kbit/s",
        capped.source, capped.decoded, capped.kbps
    );

    let (_, direct_frame, direct_rate) = medians[0];
    let mut rows = Vec::new();
    for (name, frame, rate) in &medians[1..] {
        rows.push(Row::new(
            &format!("grant → first frame through the relay, {name} (median)"),
            "ms",
            *frame,
            direct_frame,
            "the direct path, same run",
        ));
        rows.push(Row::new(
            &format!("{mb} MB file through the relay, {name} (median)"),
            "MB/s",
            *rate,
            direct_rate,
            "the direct path, same run",
        ));
    }
    rows.push(Row::new(
        &format!("screen width decoded under a {CAP_KBPS} kbit/s cap"),
        "px",
        capped.decoded.0,
        capped.source.0,
        "the source's width",
    ));
    if let Some(path) = rows_file {
        append_rows(&path, &rows).unwrap_or_else(|e| panic!("{e}"));
    }
}

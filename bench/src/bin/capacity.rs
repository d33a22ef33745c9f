//! `capacity`: how many live sessions one broker holds, and what it costs.
//!
//! For each number of sessions N it starts the real broker binary on a loopback port
//! with a fresh data folder, opens N sessions through the real HTTP API and session
//! sockets (technician creates, customer verifies the PIN, joins and accepts, technician
//! joins and picks up), then both members chat at a fixed total rate for a fixed time.
//! Then it does the same with a bare WebSocket relay (pairs of sockets, messages
//! forwarded, nothing stored), same N, same rate. It prints a markdown table, and with
//! `--json PATH` writes the figures.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use connectit_bench::load::{hold, open_pairs, Chat, Run, Target};
use connectit_bench::net::Sources;
use connectit_bench::report::{markdown, Row};
use connectit_bench::servers::{broker_binary, start_broker, start_relay, Server};
use connectit_bench::system::{raise_fd_limit, rss_kib};
use connectit_bench::{relay, BenchError};

const USAGE: &str = "\
Usage: capacity [OPTIONS]
  --quick               a small smoke run: 100 sessions, 50 messages/s for 10 s
  --sessions N,N,…      numbers of sessions to try, rising (default 1000,5000,10000)
  --rate R              chat messages per second, all sessions together (default 200)
  --secs S              how long the chat runs at each N (default 30)
  --json PATH           also write the figures as JSON
  --broker PATH         the broker binary (default $CONNECTIT_BROKER_BIN, else
                        target/server/connectit-broker)
  --sources K           loopback source addresses to connect from (default 16)
  --concurrency C       sessions opened at once (default 32)
";

struct Options {
    quick: bool,
    sessions: Vec<usize>,
    rate: f64,
    secs: f64,
    json: Option<PathBuf>,
    broker: Option<PathBuf>,
    sources: u8,
    concurrency: usize,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        quick: false,
        sessions: vec![1000, 5000, 10000],
        rate: 200.0,
        secs: 30.0,
        json: None,
        broker: None,
        sources: 16,
        concurrency: 32,
    };
    let (mut sessions, mut rate, mut secs) = (None, None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        let number = |v: &str, what: &str| {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x > 0.0)
                .ok_or(format!("{what}: {v:?} is not a positive number"))
        };
        match arg.as_str() {
            "--quick" => o.quick = true,
            "--sessions" => {
                let list = value()?
                    .split(',')
                    .map(|n| n.trim().parse::<usize>().ok().filter(|n| *n > 0))
                    .collect::<Option<Vec<_>>>()
                    .ok_or("--sessions: a comma-separated list of positive numbers")?;
                sessions = Some(list);
            }
            "--rate" => rate = Some(number(value()?, "--rate")?),
            "--secs" => secs = Some(number(value()?, "--secs")?),
            "--json" => o.json = Some(value()?.into()),
            "--broker" => o.broker = Some(value()?.into()),
            "--sources" => {
                o.sources = value()?
                    .parse()
                    .ok()
                    .filter(|k| (1..=250).contains(k))
                    .ok_or("--sources: 1 to 250")?
            }
            "--concurrency" => {
                o.concurrency = value()?
                    .parse()
                    .ok()
                    .filter(|c| *c > 0)
                    .ok_or("--concurrency: a positive number")?
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if o.quick {
        (o.sessions, o.rate, o.secs) = (vec![100], 50.0, 10.0);
    }
    o.sessions = sessions.unwrap_or(o.sessions);
    o.rate = rate.unwrap_or(o.rate);
    o.secs = secs.unwrap_or(o.secs);
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("capacity: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The bare relay runs as a child process of the benchmark, so that its memory is
    // measured alone.
    if args.first().map(String::as_str) == Some("--relay-listen") {
        let Some(addr) = args.get(1) else {
            eprintln!("capacity: --relay-listen needs an address");
            return ExitCode::FAILURE;
        };
        return runtime.block_on(async {
            match tokio::net::TcpListener::bind(addr.as_str()).await {
                Ok(listener) => {
                    relay::serve(listener).await;
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("capacity: relay cannot listen on {addr}: {e}");
                    ExitCode::FAILURE
                }
            }
        });
    }
    let options = match parse(&args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("capacity: {e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("capacity: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(o: Options) -> Result<(), BenchError> {
    let files = raise_fd_limit(1 << 20)?;
    let broker = broker_binary(o.broker.clone())?;
    let sources = Arc::new(Sources::new(o.sources));
    let chat = Chat {
        rate: o.rate,
        duration: Duration::from_secs_f64(o.secs),
        drain: Duration::from_secs(3),
    };
    eprintln!(
        "capacity: {:?} sessions, {} messages/s for {} s, open files limit {files}",
        o.sessions, o.rate, o.secs
    );
    let mut rows: Vec<Row> = Vec::new();
    let mut stopped: Option<String> = None;
    let mut tried = 0;
    for &wanted in &o.sessions {
        // Each side of the loopback holds two sockets per session, plus a few files.
        // A count beyond the limit is replaced once by the largest round count that fits.
        let mut n = wanted;
        if (2 * n + 256) as u64 > files {
            let fits = (files.saturating_sub(256) / 2 / 500 * 500) as usize;
            stopped = Some(format!(
                "{wanted} sessions need about {} open files; the limit is {files}{}",
                2 * wanted + 256,
                if fits > tried {
                    format!(", so {fits} were tried instead")
                } else {
                    String::new()
                }
            ));
            if fits <= tried {
                break;
            }
            n = fits;
        }
        tried = n;
        for server in ["broker", "relay"] {
            let row = measure(server, n, &o, &broker, &sources, chat).await?;
            eprintln!(
                "capacity: {server} {n}: {} held, {} errors, RSS {:?} KiB, {:?} error samples",
                row.held,
                row.errors(),
                row.hold.rss_kib,
                row.hold.error_samples
            );
            rows.push(row);
        }
        let broker_row = &rows[rows.len() - 2];
        if broker_row.errors() * 100 > n {
            stopped = Some(format!(
                "{} of {n} sessions failed on the broker",
                broker_row.errors()
            ));
            break;
        }
        if n != wanted {
            break;
        }
    }
    let table = markdown(&rows);
    println!("{table}");
    println!(
        "Chat: {} messages/s in all for {} s at each N; latency is one member's send to the \
         other's receipt, on one clock.",
        o.rate, o.secs
    );
    if let Some(reason) = &stopped {
        println!("Stopped rising: {reason}.");
    }
    if let Some(path) = &o.json {
        let figures = serde_json::json!({
            "benchmark": "capacity",
            "quick": o.quick,
            "rate_msgs_per_sec": o.rate,
            "chat_secs": o.secs,
            "cores": std::thread::available_parallelism().map(|n| n.get()).ok(),
            "open_files_limit": files,
            "stopped": stopped,
            "rows": rows.iter().map(Row::json).collect::<Vec<_>>(),
        });
        let text = serde_json::to_string_pretty(&figures)
            .map_err(|e| BenchError::Setup(format!("JSON: {e}")))?;
        std::fs::write(path, text + "\n")?;
    }
    Ok(())
}

async fn measure(
    server: &'static str,
    n: usize,
    o: &Options,
    broker: &std::path::Path,
    sources: &Arc<Sources>,
    chat: Chat,
) -> Result<Row, BenchError> {
    let (process, target): (Server, Target) = if server == "broker" {
        let (process, cookie) = start_broker(broker, &n.to_string()).await?;
        let addr = process.addr;
        (process, Target::Broker { addr, cookie })
    } else {
        let process = start_relay().await?;
        let addr = process.addr;
        (process, Target::Relay { addr })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline_rss_kib = rss_kib(process.pid());
    let run = Run::new(server == "relay");
    let (pairs, failures, setup) =
        open_pairs(Arc::new(target), n, sources.clone(), o.concurrency, &run).await;
    let connections = 2 * pairs.len();
    let mut held = hold(pairs, run, chat, process.pid()).await;
    drop(process);
    let mut samples: Vec<String> = failures.iter().take(5).map(|e| e.to_string()).collect();
    samples.append(&mut held.error_samples);
    held.error_samples = samples;
    Ok(Row {
        server,
        sessions: n,
        held: held.intact,
        setup_failed: failures.len(),
        setup_secs: setup.as_secs_f64(),
        offered_per_sec: o.rate,
        hold: held,
        baseline_rss_kib,
        connections,
    })
}

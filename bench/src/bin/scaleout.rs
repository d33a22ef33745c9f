//! `scaleout`: what the scale-out mode costs and gives, in one run on one machine.
//!
//! 1. The append latency of the session log: the same entries appended one after the
//!    other to the embedded SQLite file (WAL, `synchronous=FULL`) and to PostgreSQL
//!    (a real server, started here, with its durable defaults), through the broker's
//!    own storage code.
//! 2. The same load (N sessions opened through the real HTTP API and sockets, then a
//!    chat at a fixed rate) against one embedded broker, against one broker of the
//!    scale-out mode (PostgreSQL and Redis) behind HAProxy, and against three behind
//!    HAProxy with round robin and no stickiness (a member's calls and sockets reach
//!    any broker, and go on to the one that runs the session): sessions held, errors,
//!    set-up time and the chat's latency customer → technician.
//!
//! Prints a markdown table; with `--json PATH` also writes the figures.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connectit_bench::load::{hold, open_pairs, percentile, Chat, Run, Target};
use connectit_bench::net::Sources;
use connectit_bench::servers::{broker_binary, start_broker};
use connectit_bench::system::raise_fd_limit;
use connectit_bench::BenchError;
use connectit_broker::db::{self, Db, Staffing};
use connectit_e2e::broker::{BrokerOptions, TechnicianAccount};
use connectit_e2e::cluster::Cluster;
use connectit_protocol::{Author, EntryKind, LogEntry, SessionId};

const USAGE: &str = "\
Usage: scaleout [--quick] [--sessions N] [--appends N] [--json PATH]
  --quick       a smoke run: 100 sessions, 200 appends
  --sessions N  sessions held against each set-up (default 1000)
  --appends N   entries appended to each database (default 2000)
  --json PATH   also write the figures as JSON
";

struct Options {
    sessions: usize,
    appends: usize,
    rate: f64,
    secs: f64,
    json: Option<std::path::PathBuf>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        sessions: 1000,
        appends: 2000,
        rate: 200.0,
        secs: 20.0,
        json: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--quick" => {
                o.sessions = 100;
                o.appends = 200;
                o.rate = 50.0;
                o.secs = 8.0;
            }
            "--sessions" => o.sessions = value()?.parse().map_err(|_| "--sessions: a number")?,
            "--appends" => o.appends = value()?.parse().map_err(|_| "--appends: a number")?,
            "--json" => o.json = Some(value()?.into()),
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(o) => o,
        Err(e) if e.is_empty() => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("scaleout: {e}\n{USAGE}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("scaleout: no runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("scaleout: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Appends `n` chat entries to a new session of `db`, one after the other; each
/// append's time in microseconds, sorted.
fn append_latencies(db: &Db, n: usize) -> Result<Vec<u64>, BenchError> {
    let id = SessionId(format!("bench-{}", std::process::id()));
    let setup = |e: db::DbError| BenchError::Setup(format!("storage: {e}"));
    db.blocking(|conn| {
        let t = db::create_technician(conn, "bench-append", "Bench", "x", 1)?
            .ok_or(db::DbError::NoRow)?;
        db::insert_session(conn, &id, t, b"bench-pin", b"bench-link", u64::MAX / 4, 1)
    })
    .map_err(setup)?;
    let mut out = Vec::with_capacity(n);
    for seq in 1..=n as u64 {
        let entry = LogEntry {
            seq,
            at: 1_000 + seq,
            author: if seq % 2 == 0 {
                Author::Customer
            } else {
                Author::Technician
            },
            kind: EntryKind::Chat {
                text: format!("message {seq}: my printer prints nothing since this morning"),
                by: None,
            },
        };
        let started = Instant::now();
        db.blocking(|conn| db::append_entry(conn, &id, &entry, None, Staffing::Same))
            .map_err(setup)?;
        out.push(started.elapsed().as_micros() as u64);
    }
    out.sort_unstable();
    Ok(out)
}

/// One set-up under load.
struct Loaded {
    name: &'static str,
    brokers: usize,
    held: usize,
    errors: usize,
    setup_secs: f64,
    latencies_us: Vec<u64>,
}

async fn load(
    name: &'static str,
    brokers: usize,
    addr: std::net::SocketAddr,
    cookie: String,
    pid: u32,
    o: &Options,
) -> Loaded {
    let sources = Arc::new(Sources::new(16));
    let run = Run::new(false);
    let target = Arc::new(Target::Broker { addr, cookie });
    let (pairs, failures, setup) = open_pairs(target, o.sessions, sources, 32, &run).await;
    let chat = Chat {
        rate: o.rate,
        duration: Duration::from_secs_f64(o.secs),
        drain: Duration::from_secs(3),
    };
    let held = hold(pairs, run, chat, pid).await;
    for sample in failures.iter().take(3) {
        eprintln!("scaleout: {name}: {sample}");
    }
    for sample in held.error_samples.iter().take(3) {
        eprintln!("scaleout: {name}: {sample}");
    }
    Loaded {
        name,
        brokers,
        held: held.intact,
        errors: failures.len() + held.broken,
        setup_secs: setup.as_secs_f64(),
        latencies_us: held.latencies_us,
    }
}

/// Signs in through `addr` as the cluster's technician.
async fn cluster_cookie(addr: std::net::SocketAddr) -> Result<String, BenchError> {
    let account = TechnicianAccount::default();
    let body =
        serde_json::json!({"username": account.username, "password": account.password}).to_string();
    let origin = format!("http://{addr}");
    let r = connectit_bench::net::http(
        std::net::Ipv4Addr::LOCALHOST,
        addr,
        "POST",
        "/api/auth/sign-in",
        &[("Origin", &origin)],
        Some(&body),
    )
    .await?;
    r.header("set-cookie")
        .and_then(|c| c.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| BenchError::Setup("the cluster's sign-in set no cookie".into()))
}

/// Broker settings for load from this machine (as the capacity benchmark's).
fn wide_open() -> BrokerOptions {
    BrokerOptions {
        pin_validity_secs: Some(7200),
        extra_config: [
            ("waiting_timeout_secs", "7200"),
            ("pin_attempts_per_address", "1000000"),
            ("pin_address_refill_secs", "1"),
            ("pin_attempts_per_network", "1000000"),
            ("pin_network_refill_secs", "1"),
            ("max_connections_per_address", "1000000"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        ..Default::default()
    }
}

fn ms(us: Option<u64>) -> String {
    us.map_or("–".into(), |us| format!("{:.2}", us as f64 / 1000.0))
}

async fn run(o: Options) -> Result<(), BenchError> {
    raise_fd_limit(1 << 20)?;
    // 1. Appends.
    let folder = tempfile::tempdir()?;
    let sqlite = Db::open(&folder.path().join("append.sqlite3"))
        .map_err(|e| BenchError::Setup(format!("SQLite: {e}")))?;
    let postgres_server = connectit_e2e::postgres::Postgres::start();
    let postgres = Db::postgres(&postgres_server.url(), 2)
        .map_err(|e| BenchError::Setup(format!("PostgreSQL: {e}")))?;
    let lite = append_latencies(&sqlite, o.appends)?;
    let pg = append_latencies(&postgres, o.appends)?;
    drop((postgres, postgres_server));

    // 2. Load: one embedded broker, then the scale-out mode with one and three brokers.
    let binary = broker_binary(None)?;
    let mut loaded = Vec::new();
    {
        let (server, cookie) = start_broker(&binary, "scaleout").await?;
        loaded.push(
            load(
                "one broker, embedded (SQLite)",
                1,
                server.addr,
                cookie,
                server.pid(),
                &o,
            )
            .await,
        );
    }
    for (name, n) in [
        ("one broker (PostgreSQL, Redis) behind HAProxy", 1),
        ("three brokers (PostgreSQL, Redis) behind HAProxy", 3),
    ] {
        let cluster = Cluster::start(n, wide_open()).await;
        let front = cluster.haproxy.addr();
        let cookie = cluster_cookie(front).await?;
        let pid = cluster.brokers[0].pid().unwrap_or(0);
        loaded.push(load(name, n, front, cookie, pid, &o).await);
    }

    let mut table = String::from("| figure | median | p95 |\n|---|---|---|\n");
    for (name, l) in [
        (
            "append one log entry, SQLite (WAL, synchronous=FULL), ms",
            &lite,
        ),
        ("append one log entry, PostgreSQL (fsync on), ms", &pg),
    ] {
        table.push_str(&format!(
            "| {name} | {} | {} |\n",
            ms(percentile(l, 0.5)),
            ms(percentile(l, 0.95))
        ));
    }
    table.push_str(&format!(
        "\n| set-up | sessions held of {} | errors | opened in | chat latency median | p95 |\n|---|---|---|---|---|---|\n",
        o.sessions
    ));
    for l in &loaded {
        table.push_str(&format!(
            "| {} | {} | {} | {:.1} s | {} ms | {} ms |\n",
            l.name,
            l.held,
            l.errors,
            l.setup_secs,
            ms(percentile(&l.latencies_us, 0.5)),
            ms(percentile(&l.latencies_us, 0.95)),
        ));
    }
    println!("{table}");
    println!(
        "{} appends to each database; {} sessions against each set-up, {} chat messages/s for {} s.",
        o.appends, o.sessions, o.rate, o.secs
    );
    if let Some(path) = &o.json {
        let figures = serde_json::json!({
            "benchmark": "scaleout",
            "appends": o.appends,
            "append_us": {
                "sqlite": {"p50": percentile(&lite, 0.5), "p95": percentile(&lite, 0.95)},
                "postgres": {"p50": percentile(&pg, 0.5), "p95": percentile(&pg, 0.95)},
            },
            "load": loaded.iter().map(|l| serde_json::json!({
                "setup": l.name,
                "brokers": l.brokers,
                "sessions": o.sessions,
                "held": l.held,
                "errors": l.errors,
                "setup_secs": l.setup_secs,
                "latency_us": {"p50": percentile(&l.latencies_us, 0.5), "p95": percentile(&l.latencies_us, 0.95)},
            })).collect::<Vec<_>>(),
        });
        std::fs::write(
            path,
            serde_json::to_string_pretty(&figures).unwrap_or_default() + "\n",
        )?;
    }
    Ok(())
}

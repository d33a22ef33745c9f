//! Connections that never end, tried as an attacker would: thousands of idle sockets
//! from one address, requests sent halfway, headers trickled a byte at a time, and all
//! of it against a broker started with a service's usual limit of 1,024 open files.
//! Each is capped or cut, and everyone else's requests are served meanwhile.

mod support;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use support::Broker;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

async fn connect_from(source: Ipv4Addr, to: SocketAddr) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::from((source, 0)))?;
    socket.connect(to).await
}

/// Whether the broker closed `stream` within `limit` (end of stream or reset).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            // An answer (such as a time-out's) before the close: keep reading.
            Ok(Ok(_)) => continue,
        }
    }
}

/// A plain request from `source`: status and how long it took.
async fn get_config(source: Ipv4Addr, to: SocketAddr) -> (u16, Duration) {
    let started = Instant::now();
    let mut stream = connect_from(source, to).await.expect("connect");
    stream
        .write_all(b"GET /api/config HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("an answer within 5 s")
        .unwrap();
    let status = String::from_utf8_lossy(&answer)
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, started.elapsed())
}

#[tokio::test]
async fn thousands_of_idle_sockets_from_one_address_are_capped_and_cut_and_others_are_served() {
    let broker = Broker::start(|c| {
        c.max_connections_per_address = 100;
        c.header_read_timeout_secs = 3;
        c.audit_window_secs = 3600;
    })
    .await;
    let attacker = Ipv4Addr::new(127, 30, 0, 1);
    let mut idle = Vec::new();
    for _ in 0..2000 {
        match connect_from(attacker, broker.addr).await {
            Ok(s) => idle.push(s),
            Err(e) => panic!("connect: {e}"),
        }
    }
    // The broker keeps the address's cap and closes the rest at once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut held = Vec::new();
    let mut refused = 0;
    for mut s in idle {
        if closed_within(&mut s, Duration::from_millis(1)).await {
            refused += 1;
        } else {
            held.push(s);
        }
    }
    assert_eq!(held.len(), 100, "the per-address cap");
    assert_eq!(refused, 1900);
    // Meanwhile another address is served as usual.
    let (status, took) = get_config(Ipv4Addr::new(127, 30, 0, 2), broker.addr).await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(1), "{took:?}");
    // The idle ones sent no request: cut at the header-read limit.
    let started = Instant::now();
    for s in held.iter_mut() {
        assert!(
            closed_within(s, Duration::from_secs(5)).await,
            "an idle connection still open after {:?}",
            started.elapsed()
        );
    }
    assert!(started.elapsed() < Duration::from_secs(5));
    // The address may connect again once its connections are gone.
    let (status, _) = get_config(attacker, broker.addr).await;
    assert_eq!(status, 200);
    broker.flush_audit().await;
    let refused_logged: u64 = broker
        .audit("connections_refused")
        .iter()
        .map(|l| l.2)
        .sum();
    assert_eq!(refused_logged, 1900);
    let slow: u64 = broker.audit("slow_connections").iter().map(|l| l.2).sum();
    assert_eq!(slow, 100, "each idle connection cut is counted");
    eprintln!(
        "idle connections: 2000 from one address, 100 held (the cap) and cut after the 3 s header \
         limit, 1900 closed at once; another address served in {:.1} ms",
        took.as_secs_f64() * 1000.0
    );
    broker.stop().await;
}

#[tokio::test]
async fn half_sent_and_trickled_requests_are_cut_at_the_header_limit() {
    let broker = Broker::start(|c| c.header_read_timeout_secs = 2).await;
    let source = Ipv4Addr::new(127, 31, 0, 1);
    // Half a request, then nothing.
    let mut half = connect_from(source, broker.addr).await.unwrap();
    half.write_all(b"GET /api/config HTTP/1.1\r\nHost: local")
        .await
        .unwrap();
    // Slowloris: a byte every 300 ms, forever.
    let trickle = {
        let addr = broker.addr;
        tokio::spawn(async move {
            let mut s = connect_from(source, addr).await.unwrap();
            let started = Instant::now();
            let request = b"GET /api/config HTTP/1.1\r\nHost: localhost\r\nX-Padding: ";
            for (i, byte) in request.iter().chain(std::iter::repeat(&b'a')).enumerate() {
                if s.write_all(&[*byte]).await.is_err() || i > 200 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            started.elapsed()
        })
    };
    let started = Instant::now();
    assert!(closed_within(&mut half, Duration::from_secs(5)).await);
    let half_took = started.elapsed();
    let trickle_took = trickle.await.unwrap();
    assert!(half_took < Duration::from_secs(4), "{half_took:?}");
    assert!(
        trickle_took < Duration::from_secs(5),
        "a trickle does not extend the limit: {trickle_took:?}"
    );
    // A whole request on a kept-alive connection, then silence: cut as well.
    let mut kept = connect_from(source, broker.addr).await.unwrap();
    kept.write_all(b"GET /api/config HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    assert!(closed_within(&mut kept, Duration::from_secs(5)).await);
    assert!(started.elapsed() < Duration::from_secs(4));
    eprintln!(
        "half-sent request cut after {:.1} s, trickled headers after {:.1} s",
        half_took.as_secs_f64(),
        trickle_took.as_secs_f64()
    );
    broker.stop().await;
}

/// The real `connectit-broker` process, started with 1,024 open files at most (soft
/// and hard, as a service manager's default would give it).
#[tokio::test]
async fn at_a_thousand_open_files_one_address_with_many_idle_sockets_locks_nobody_out() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_connectit-broker");
    let mut child = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -Sn 1024 && ulimit -Hn 1024 && exec \"$0\" \"$@\"")
        .arg(bin)
        .args(["--listen", "127.0.0.1:0", "--data"])
        .arg(dir.path().join("data"))
        .arg("--dist")
        .arg(dir.path())
        .env("CONNECTIT_HEADER_READ_TIMEOUT_SECS", "30")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start the broker");
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut first).unwrap();
    let addr: SocketAddr = first
        .trim()
        .rsplit("http://")
        .next()
        .unwrap()
        .parse()
        .unwrap_or_else(|e| panic!("{e}: {first:?}"));

    // 1,100 idle connections from one address: the default cap (256) holds, so the
    // broker keeps its file descriptors for everyone else.
    let attacker = Ipv4Addr::new(127, 32, 0, 1);
    let mut idle = Vec::new();
    for _ in 0..1100 {
        if let Ok(s) = connect_from(attacker, addr).await {
            idle.push(s);
        }
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut times = Vec::new();
    for n in 0..20u8 {
        let (status, took) = get_config(Ipv4Addr::new(127, 32, 1, n + 1), addr).await;
        assert_eq!(status, 200, "request {n} while 1,100 idle sockets are held");
        times.push(took);
    }
    let mut held = 0;
    for s in idle.iter_mut() {
        if !closed_within(s, Duration::from_millis(5)).await {
            held += 1;
        }
    }
    assert!(held <= 256, "{held} held from one address");
    let _ = child.kill();
    let _ = child.wait();
    times.sort();
    eprintln!(
        "at 1,024 open files: 1,100 idle sockets from one address ({held} held), 20 of 20 other \
         requests served (median {:.1} ms, slowest {:.1} ms)",
        times[10].as_secs_f64() * 1000.0,
        times[19].as_secs_f64() * 1000.0
    );
}

#[tokio::test]
async fn the_open_file_limit_is_raised_at_start() {
    let broker = Broker::start(|_| {}).await;
    let (soft, hard) = libc_limit();
    assert_eq!(soft, hard, "the soft limit is the hard one");
    assert_eq!(connectit_broker::serve::raise_open_file_limit(), Some(soft));
    broker.stop().await;
}

/// The open-file limit of this process: (soft, hard).
fn libc_limit() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/self/limits").unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap();
    let numbers: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

//! A real coturn (Debian's `turnserver`) for the relay tests, started with the
//! repository's `deploy/coturn/turnserver.conf` in which the test sets loopback ports, a
//! secret, a certificate made for the test, its log, and the one exception the test
//! needs to that file's refusals: relaying to 127.0.0.1, where both browsers are. It is
//! stopped (by its process id) when dropped.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How a browser reaches the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TurnTransport {
    Udp,
    Tcp,
    Tls,
}

impl TurnTransport {
    /// The `relayProtocol` of a local relay candidate reached this way (`getStats()`).
    pub fn relay_protocol(self) -> &'static str {
        match self {
            TurnTransport::Udp => "udp",
            TurnTransport::Tcp => "tcp",
            TurnTransport::Tls => "tls",
        }
    }
}

/// A running coturn.
pub struct Turn {
    child: Child,
    /// The address it listens and relays on.
    pub ip: std::net::Ipv4Addr,
    /// TURN over UDP and TCP.
    pub port: u16,
    /// TURN over TLS.
    pub tls_port: u16,
    /// The shared secret (the broker's `turn_secret`).
    pub secret: String,
    /// The certificate the TLS port serves (PEM), for a browser to trust.
    pub cert_pem: PathBuf,
    log: PathBuf,
    _dir: TempDir,
}

/// A port that is free for both UDP and TCP on `ip` right now.
fn free_port_both(ip: std::net::Ipv4Addr) -> u16 {
    for _ in 0..50 {
        let tcp = TcpListener::bind((ip, 0)).expect("bind a TCP port");
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind((ip, port)).is_ok() {
            return port;
        }
    }
    panic!("no port free for both UDP and TCP");
}

fn repo_config() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("deploy/coturn/turnserver.conf")
}

impl Turn {
    /// Starts coturn on 127.0.0.1 and waits until it listens.
    pub fn start() -> Turn {
        Turn::start_on(std::net::Ipv4Addr::LOCALHOST)
    }

    /// Starts coturn listening and relaying on `ip` (relaying to `ip` allowed, as the
    /// test needs) and waits until it listens.
    pub fn start_on(ip: std::net::Ipv4Addr) -> Turn {
        let dir = tempfile::Builder::new()
            .prefix("connectit-e2e-turn-")
            .tempdir()
            .expect("a temporary folder for coturn");
        let (port, tls_port) = (free_port_both(ip), free_port_both(ip));
        let secret = format!("test-secret-{}", std::process::id());
        let made = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            ip.to_string(),
        ])
        .expect("a certificate for the relay");
        let cert_pem = dir.path().join("cert.pem");
        let key_pem = dir.path().join("key.pem");
        std::fs::write(&cert_pem, made.cert.pem()).unwrap();
        std::fs::write(&key_pem, made.signing_key.serialize_pem()).unwrap();
        let log = dir.path().join("turnserver.log");
        // The repository's file, with what the test sets itself taken out and appended.
        let ours = [
            "listening-port",
            "tls-listening-port",
            "min-port",
            "max-port",
            "static-auth-secret",
            "realm",
            "cert",
            "pkey",
            "log-file",
        ];
        let base = std::fs::read_to_string(repo_config()).expect("deploy/coturn/turnserver.conf");
        let mut config: String = base
            .lines()
            .filter(|l| {
                let key = l.split('=').next().unwrap_or("").trim();
                !ours.contains(&key)
            })
            .map(|l| format!("{l}\n"))
            .collect();
        config.push_str(&format!(
            "\n# The test's own:\n\
             listening-ip={ip}\nrelay-ip={ip}\n\
             listening-port={port}\ntls-listening-port={tls_port}\n\
             min-port=40000\nmax-port=60000\n\
             static-auth-secret={secret}\nrealm=connectit.test\n\
             cert={}\npkey={}\n\
             log-file=stdout\nverbose\nno-dtls\n\
             pidfile={}\nuserdb={}\n\
             # Both browsers are on this machine: the one exception to the refusals above.\n\
             allow-loopback-peers\nallowed-peer-ip={ip}\n",
            cert_pem.display(),
            key_pem.display(),
            dir.path().join("turnserver.pid").display(),
            dir.path().join("turndb").display(),
        ));
        let config_path = dir.path().join("turnserver.conf");
        std::fs::write(&config_path, config).unwrap();
        let out = std::fs::File::create(&log).expect("coturn's log file");
        let child = Command::new("turnserver")
            .arg("-c")
            .arg(&config_path)
            .stdout(Stdio::from(out.try_clone().unwrap()))
            .stderr(Stdio::from(out))
            .spawn()
            .unwrap_or_else(|e| {
                panic!("start turnserver (coturn; scripts/setup --test installs it): {e}")
            });
        let turn = Turn {
            child,
            ip,
            port,
            tls_port,
            secret,
            cert_pem,
            log,
            _dir: dir,
        };
        let started = Instant::now();
        while !(listening(ip, port) && listening(ip, tls_port)) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "coturn did not listen on {port} and {tls_port}:\n{}",
                turn.log_tail()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        turn
    }

    /// The broker's `turn_urls` for one way of reaching the relay.
    pub fn url(&self, transport: TurnTransport) -> String {
        match transport {
            TurnTransport::Udp => format!("turn:{}:{}?transport=udp", self.ip, self.port),
            TurnTransport::Tcp => format!("turn:{}:{}?transport=tcp", self.ip, self.port),
            // By name on loopback (the name the certificate holds), else by address.
            TurnTransport::Tls if self.ip.is_loopback() => {
                format!("turns:localhost:{}?transport=tcp", self.tls_port)
            }
            TurnTransport::Tls => format!("turns:{}:{}?transport=tcp", self.ip, self.tls_port),
        }
    }

    /// The last lines coturn wrote (for a failing test).
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }

    /// Allocations coturn logged (a relayed session makes at least one per browser).
    pub fn allocations(&self) -> usize {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("ALLOCATE processed, success"))
            .count()
    }
}

fn listening(ip: std::net::Ipv4Addr, port: u16) -> bool {
    std::net::TcpStream::connect_timeout(&SocketAddr::from((ip, port)), Duration::from_millis(100))
        .is_ok()
}

impl Drop for Turn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

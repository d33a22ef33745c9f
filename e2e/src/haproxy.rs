//! A real HAProxy (Debian's `haproxy`, installed by `scripts/setup --test`) in front of a
//! cluster's brokers: round robin with no stickiness, each request and socket to the
//! next broker, a TCP check every 300 ms so that a broker that died is skipped, and a
//! refused connection retried on another. On a free loopback port, from a temporary
//! folder, as HAProxy's own user when the test runs as root; stopped by its process
//! id when dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::daemon;

/// A running HAProxy.
pub struct Haproxy {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Haproxy {
    /// Balances a free `127.0.0.1:PORT` over `servers`.
    pub fn start(servers: &[SocketAddr]) -> Haproxy {
        Self::start_on(daemon::free_port(), servers)
    }

    /// Balances `127.0.0.1:port` over `servers`.
    pub fn start_on(port: u16, servers: &[SocketAddr]) -> Haproxy {
        let dir = daemon::open_folder("connectit-e2e-haproxy-");
        let mut config = format!(
            "global\n\
             \x20 maxconn 4000\n\
             defaults\n\
             \x20 mode http\n\
             \x20 timeout connect 2s\n\
             \x20 timeout client 120s\n\
             \x20 timeout server 120s\n\
             \x20 timeout tunnel 1h\n\
             \x20 option forwardfor\n\
             \x20 option redispatch\n\
             \x20 retries 3\n\
             frontend connectit\n\
             \x20 bind 127.0.0.1:{port}\n\
             \x20 default_backend brokers\n\
             backend brokers\n\
             \x20 balance roundrobin\n"
        );
        for (i, server) in servers.iter().enumerate() {
            config.push_str(&format!(
                "  server broker{} {server} check inter 300ms fall 1 rise 2\n",
                i + 1
            ));
        }
        let path = dir.path().join("haproxy.cfg");
        std::fs::write(&path, config).expect("write haproxy.cfg");
        let log = dir.path().join("haproxy.log");
        let log_file = std::fs::File::create(&log).expect("HAProxy's log");
        let child = daemon::command_as(
            &["haproxy", "nobody"],
            std::path::Path::new("haproxy"),
            &["-db".into(), "-f".into(), path.display().to_string()],
        )
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log"))
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("start haproxy (scripts/setup --test installs it): {e}"));
        let haproxy = Haproxy {
            child,
            port,
            log,
            _dir: dir,
        };
        daemon::wait_listening(port, Duration::from_secs(15), "HAProxy", || {
            std::fs::read_to_string(&haproxy.log).unwrap_or_default()
        });
        haproxy
    }

    /// `http://127.0.0.1:PORT`: the address the pages use.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        daemon::stop(&mut self.child, Duration::from_secs(5));
    }
}

//! A real Redis (Debian's `redis-server`, installed by `scripts/setup --test`) for the
//! scale-out tests: on a free loopback port, in a temporary folder, keeping nothing on
//! disk, as the package's own unprivileged user (`redis`) when the test runs as root.
//! Stopped by its process id when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::daemon;

/// A running Redis server.
pub struct Redis {
    child: Child,
    pub port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Redis {
    pub fn start() -> Redis {
        let dir = daemon::open_folder("connectit-e2e-redis-");
        let port = daemon::free_port();
        let log = dir.path().join("redis.log");
        let child = spawn(dir.path(), port, &log);
        let redis = Redis {
            child,
            port,
            log,
            _dir: dir,
        };
        redis.wait_ready();
        redis
    }

    fn wait_ready(&self) {
        daemon::wait_listening(self.port, Duration::from_secs(15), "Redis", || {
            std::fs::read_to_string(&self.log).unwrap_or_default()
        });
    }

    /// Stops the server; what it held is gone (it keeps nothing on disk).
    pub fn stop(&mut self) {
        daemon::stop(&mut self.child, Duration::from_secs(5));
    }

    /// Starts an empty server again on the same port, after [`Redis::stop`].
    pub fn start_again(&mut self) {
        let dir = self.log.parent().expect("the log's folder").to_path_buf();
        self.child = spawn(&dir, self.port, &self.log);
        self.wait_ready();
    }

    /// `redis://127.0.0.1:PORT/`, the broker's `redis_url`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

fn spawn(dir: &Path, port: u16, log: &Path) -> Child {
    daemon::command_as(
        &["redis", "nobody"],
        Path::new("redis-server"),
        &[
            "--bind".into(),
            "127.0.0.1".into(),
            "--port".into(),
            port.to_string(),
            "--dir".into(),
            dir.display().to_string(),
            "--save".into(),
            String::new(),
            "--appendonly".into(),
            "no".into(),
            "--logfile".into(),
            log.display().to_string(),
            "--daemonize".into(),
            "no".into(),
        ],
    )
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap_or_else(|e| panic!("start redis-server (scripts/setup --test installs it): {e}"))
}

impl Drop for Redis {
    fn drop(&mut self) {
        daemon::stop(&mut self.child, Duration::from_secs(5));
    }
}

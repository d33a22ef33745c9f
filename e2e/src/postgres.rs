//! A real PostgreSQL (Debian's `postgresql` package, installed by `scripts/setup
//! --test`) for the scale-out tests: a new cluster made by `initdb` in a temporary
//! folder, as the package's own unprivileged user (`postgres`) when the test runs as
//! root, since PostgreSQL refuses to run as root. It listens on a free loopback port
//! only (no Unix socket), trusts loopback connections as the user `connectit`, and is
//! stopped by its process id when dropped.

use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::daemon;

/// A running PostgreSQL server.
pub struct Postgres {
    child: Child,
    pub port: u16,
    log: PathBuf,
    dir: tempfile::TempDir,
}

const USERS: [&str; 2] = ["postgres", "nobody"];

/// Runs `postgres` on the cluster in `dir`, logging to `log` (`fresh`: a new log).
fn spawn(dir: &tempfile::TempDir, port: u16, log: &std::path::Path, fresh: bool) -> Child {
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(!fresh)
        .write(true)
        .truncate(fresh)
        .open(log)
        .expect("PostgreSQL's log");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(log, std::fs::Permissions::from_mode(0o666));
    }
    daemon::command_as(
        &USERS,
        &bin_dir().join("postgres"),
        &[
            "-D".into(),
            dir.path().join("data").display().to_string(),
            "-p".into(),
            port.to_string(),
            "-c".into(),
            "listen_addresses=127.0.0.1".into(),
            "-c".into(),
            "unix_socket_directories=".into(),
            "-c".into(),
            "max_connections=200".into(),
        ],
    )
    .stdout(log_file.try_clone().expect("log"))
    .stderr(log_file)
    .stdin(Stdio::null())
    .spawn()
    .unwrap_or_else(|e| panic!("start postgres: {e}"))
}

/// The folder of Debian's PostgreSQL programs (`/usr/lib/postgresql/<version>/bin`),
/// the newest version installed.
pub fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found
        .pop()
        .map(|(_, bin)| bin)
        .expect("PostgreSQL under /usr/lib/postgresql (scripts/setup --test installs it)")
}

impl Postgres {
    pub fn start() -> Postgres {
        let dir = daemon::open_folder("connectit-e2e-postgres-");
        let bin = bin_dir();
        let data = dir.path().join("data");
        let init = daemon::command_as(
            &USERS,
            &bin.join("initdb"),
            &[
                "-D".into(),
                data.display().to_string(),
                "-U".into(),
                "connectit".into(),
                "--auth=trust".into(),
                "--encoding=UTF8".into(),
                "--locale=C".into(),
                "--no-sync".into(),
            ],
        )
        .output()
        .expect("run initdb");
        assert!(
            init.status.success(),
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&init.stdout),
            String::from_utf8_lossy(&init.stderr)
        );
        let port = daemon::free_port();
        let log = dir.path().join("postgres.log");
        let child = spawn(&dir, port, &log, true);
        let pg = Postgres {
            child,
            port,
            log,
            dir,
        };
        pg.wait_ready();
        pg
    }

    /// Waits until the server takes work (it listens before it has finished starting
    /// up, and says when it is ready).
    fn wait_ready(&self) {
        daemon::wait_listening(self.port, Duration::from_secs(30), "PostgreSQL", || {
            self.log()
        });
        let started = std::time::Instant::now();
        while self.log().matches("ready to accept connections").count()
            < self.log().matches("starting PostgreSQL").count().max(1)
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "PostgreSQL did not finish starting:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the server (a fast shutdown: its clients are cut), keeping its data.
    pub fn stop(&mut self) {
        // SAFETY: kill with a process id this process started and has not reaped.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGINT);
        }
        daemon::stop(&mut self.child, Duration::from_secs(10));
    }

    /// Starts the server again on the same port and data, after [`Postgres::stop`].
    pub fn start_again(&mut self) {
        self.child = spawn(&self.dir, self.port, &self.log, false);
        self.wait_ready();
    }

    /// `postgres://connectit@127.0.0.1:PORT/postgres`, the broker's `database_url`.
    pub fn url(&self) -> String {
        format!("postgres://connectit@127.0.0.1:{}/postgres", self.port)
    }

    /// A new empty database on this server, and its address (one per broker set, so
    /// tests sharing a server do not see each other's rows).
    pub fn create_database(&self, name: &str) -> String {
        let out = std::process::Command::new(bin_dir().join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "connectit",
            ])
            .args(["-d", "postgres", "-v", "ON_ERROR_STOP=1", "-c"])
            .arg(format!("CREATE DATABASE \"{name}\""))
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "CREATE DATABASE {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        format!("postgres://connectit@127.0.0.1:{}/{name}", self.port)
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The folder the cluster lives in.
    pub fn folder(&self) -> &std::path::Path {
        self.dir.path()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // SIGTERM is PostgreSQL's "smart" stop, which waits for clients: SIGINT is
        // "fast" (disconnects them). Then SIGKILL if it still lingers.
        // SAFETY: kill with a process id this process started and has not reaped.
        unsafe {
            libc::kill(self.child.id() as libc::pid_t, libc::SIGINT);
        }
        daemon::stop(&mut self.child, Duration::from_secs(10));
    }
}

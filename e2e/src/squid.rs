//! A real HTTP forward proxy (Debian's `squid`) for the proxy test, on a free loopback
//! port in a temporary folder, run as squid's own unprivileged user (`proxy`) when the
//! test runs as root, caching nothing and logging every request (when it ends). It lets
//! loopback clients reach loopback only (nothing leaves the machine), `CONNECT` to any
//! port included (a real proxy's policy is the organisation's: `docs/deployment.md`
//! says what it must allow). Stopped when dropped.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// A running squid.
pub struct Squid {
    child: Child,
    pub port: u16,
    access_log: PathBuf,
    cache_log: PathBuf,
    _dir: TempDir,
}

impl Squid {
    pub fn start() -> Squid {
        let dir = tempfile::Builder::new()
            .prefix("connectit-e2e-squid-")
            .tempdir()
            .expect("a temporary folder for squid");
        // Squid drops to its own user: the folder must be its to write.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let access_log = dir.path().join("access.log");
        let cache_log = dir.path().join("cache.log");
        let config = format!(
            "http_port 127.0.0.1:{port}\n\
             acl here src 127.0.0.0/8\n\
             acl to_here dstdomain 127.0.0.1 localhost\n\
             http_access deny !to_here\n\
             http_access allow here\n\
             http_access deny all\n\
             cache deny all\n\
             shutdown_lifetime 0 seconds\n\
             pid_filename {dir}/squid.pid\n\
             access_log stdio:{access}\n\
             cache_log {cache}\n\
             cache_store_log none\n\
             coredump_dir {dir}\n\
             logfile_rotate 0\n\
             dns_v4_first on\n",
            dir = dir.path().display(),
            access = access_log.display(),
            cache = cache_log.display(),
        );
        let config_path = dir.path().join("squid.conf");
        std::fs::write(&config_path, config).unwrap();
        let child = Command::new("squid")
            .arg("-N")
            .arg("-f")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start squid (scripts/setup --test installs it): {e}"));
        let squid = Squid {
            child,
            port,
            access_log,
            cache_log,
            _dir: dir,
        };
        let started = Instant::now();
        while std::net::TcpStream::connect_timeout(
            &SocketAddr::from(([127, 0, 0, 1], port)),
            Duration::from_millis(100),
        )
        .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "squid did not listen on {port}:\n{}",
                std::fs::read_to_string(&squid.cache_log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        squid
    }

    /// `http://127.0.0.1:PORT`, for Chromium's `--proxy-server`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request squid logged: (method, target), e.g. `("CONNECT",
    /// "127.0.0.1:3478")` or `("GET", "http://127.0.0.1:8080/")`.
    pub fn requests(&self) -> Vec<(String, String)> {
        std::fs::read_to_string(&self.access_log)
            .unwrap_or_default()
            .lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                Some((fields.get(5)?.to_string(), fields.get(6)?.to_string()))
            })
            .collect()
    }
}

impl Drop for Squid {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

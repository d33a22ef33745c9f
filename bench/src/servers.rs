//! The two servers under load, each its own child process so that its memory and
//! descriptors are its own: the real broker binary, and the bare relay (this same binary
//! started with `--relay-listen`).

use std::io::Write;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::net::http;
use crate::BenchError;

/// The technician the benchmark signs in as.
const USERNAME: &str = "bench";
const PASSWORD: &str = "capacity benchmark password";

/// A running server; dropping it kills the process and removes its folder.
pub struct Server {
    pub addr: SocketAddr,
    child: Child,
    dir: Option<PathBuf>,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A loopback port nobody listens on now.
pub fn free_port() -> Result<SocketAddr, BenchError> {
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?;
    Ok(listener.local_addr()?)
}

/// The broker binary: `$CONNECTIT_BROKER_BIN`, or the workspace's `target/server` build.
pub fn broker_binary(explicit: Option<PathBuf>) -> Result<PathBuf, BenchError> {
    let path = explicit
        .or_else(|| std::env::var_os("CONNECTIT_BROKER_BIN").map(PathBuf::from))
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/server/connectit-broker")
        });
    if path.is_file() {
        Ok(path)
    } else {
        Err(BenchError::Setup(format!(
            "no broker at {}: build it with `cargo build --profile server -p connectit-broker` \
             or name it with --broker / CONNECTIT_BROKER_BIN",
            path.display()
        )))
    }
}

/// The configuration the broker runs with: real keys, throttles and connection caps
/// opened wide enough for thousands of PINs and sockets from one address (the load
/// comes from this machine), time-outs longer than the run.
pub fn broker_config(addr: SocketAddr, dir: &Path) -> String {
    format!(
        "listen = \"{addr}\"\n\
         data_dir = \"{data}\"\n\
         dist_dir = \"{dist}\"\n\
         public_url = \"http://{addr}\"\n\
         pin_validity_secs = 7200\n\
         waiting_timeout_secs = 7200\n\
         pin_attempts_per_address = 1000000\n\
         pin_address_refill_secs = 1\n\
         pin_attempts_per_network = 1000000\n\
         pin_network_refill_secs = 1\n\
         max_connections_per_address = 1000000\n",
        data = dir.join("data").display(),
        dist = dir.join("dist").display(),
    )
}

/// Starts the broker on a fresh folder and port with a technician account; answers the
/// server and the technician's sign-in cookie (`connectit_auth=…`).
pub async fn start_broker(binary: &Path, label: &str) -> Result<(Server, String), BenchError> {
    let dir = std::env::temp_dir().join(format!("connectit-bench-{}-{label}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("data"))?;
    std::fs::create_dir_all(dir.join("dist"))?;
    let addr = free_port()?;
    let config = dir.join("broker.toml");
    std::fs::write(&config, broker_config(addr, &dir))?;

    let mut create = Command::new(binary)
        .arg("--config")
        .arg(&config)
        .args(["create-technician", "--username", USERNAME])
        .args(["--display-name", "Bench Technician", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()?;
    create
        .stdin
        .take()
        .ok_or_else(|| BenchError::Setup("no stdin for create-technician".into()))?
        .write_all(format!("{PASSWORD}\n").as_bytes())?;
    let created = create.wait_with_output()?;
    if !created.status.success() {
        return Err(BenchError::Setup(format!(
            "create-technician: {}",
            String::from_utf8_lossy(&created.stderr).trim()
        )));
    }

    let log = std::fs::File::create(dir.join("broker.log"))?;
    let child = Command::new(binary)
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let mut server = Server {
        addr,
        child,
        dir: Some(dir.clone()),
    };
    let from = Ipv4Addr::LOCALHOST;
    let started = Instant::now();
    loop {
        if !server.alive() {
            let log = std::fs::read_to_string(dir.join("broker.log")).unwrap_or_default();
            return Err(BenchError::Setup(format!("the broker exited: {log}")));
        }
        if let Ok(r) = http(from, addr, "GET", "/api/config", &[], None).await {
            if r.status == 200 {
                break;
            }
        }
        if started.elapsed() > Duration::from_secs(30) {
            return Err(BenchError::Timeout("broker start"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let body = serde_json::json!({ "username": USERNAME, "password": PASSWORD }).to_string();
    let origin = format!("http://{addr}");
    let signed_in = http(
        from,
        addr,
        "POST",
        "/api/auth/sign-in",
        &[("Origin", &origin)],
        Some(&body),
    )
    .await?;
    let _: connectit_protocol::api::Technician = signed_in.json()?;
    let cookie = signed_in
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .filter(|c| c.starts_with("connectit_auth="))
        .ok_or_else(|| BenchError::Setup("sign-in set no cookie".into()))?
        .to_string();
    Ok((server, cookie))
}

/// Starts the bare relay (this binary with `--relay-listen`) on a free port.
pub async fn start_relay() -> Result<Server, BenchError> {
    let addr = free_port()?;
    let child = Command::new(std::env::current_exe()?)
        .args(["--relay-listen", &addr.to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let mut server = Server {
        addr,
        child,
        dir: None,
    };
    let started = Instant::now();
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        if !server.alive() {
            return Err(BenchError::Setup("the relay exited".into()));
        }
        if started.elapsed() > Duration::from_secs(10) {
            return Err(BenchError::Timeout("relay start"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(server)
}

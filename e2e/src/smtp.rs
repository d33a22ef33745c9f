//! A real SMTP server for the e-mail tests: aiosmtpd (Debian's `python3-aiosmtpd`,
//! installed by `scripts/setup --test`) run from `e2e/smtp/server.py` on a free loopback
//! port, requiring STARTTLS with a certificate made here (`cert`, for the broker's
//! `outbound_ca_file`) and AUTH as [`USER`] with [`PASSWORD`]. Each message it accepts is
//! read back as Python's mail parser decodes it. Stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

/// The account the server accepts.
pub const USER: &str = "connectit";
pub const PASSWORD: &str = "smtp password";

/// A running aiosmtpd, stopped when dropped.
pub struct Smtp {
    child: Child,
    pub port: u16,
    pub cert: PathBuf,
    outbox: PathBuf,
    _dir: tempfile::TempDir,
}

impl Smtp {
    pub fn start() -> Smtp {
        let dir = tempfile::tempdir().unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        let outbox = dir.path().join("outbox");
        std::fs::create_dir(&outbox).unwrap();
        let script = crate::broker::workspace_root().join("e2e/smtp/server.py");
        // Debian's Python, which has python3-aiosmtpd (scripts/setup --test).
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .args([&cert, &key])
            .args([USER, PASSWORD])
            .arg(&outbox)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP server (scripts/setup --test installs python3-aiosmtpd)");
        let mut line = String::new();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut reader = std::io::BufReader::new(stdout);
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the SMTP server started");
        let port = line
            .trim()
            .strip_prefix("listening ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP server said {line:?}"));
        Smtp {
            child,
            port,
            cert,
            outbox,
            _dir: dir,
        }
    }

    /// The messages delivered so far, decoded.
    pub fn delivered(&self) -> Vec<Value> {
        let mut names: Vec<_> = std::fs::read_dir(&self.outbox)
            .unwrap()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".eml.json"))
            .collect();
        names.sort_by_key(|n| n.split('.').next().and_then(|n| n.parse::<u32>().ok()));
        names
            .iter()
            .map(|n| serde_json::from_slice(&std::fs::read(self.outbox.join(n)).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

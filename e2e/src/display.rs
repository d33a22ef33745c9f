//! A virtual X display (Xvfb) for Firefox: headless Firefox captures a screen with
//! `getDisplayMedia` only when it has an X display to capture. One display is shared by
//! every Firefox of a test process while any of them runs; the last one to close stops
//! it. Xvfb picks a free display number itself (`-displayfd`), so test processes side
//! by side (and anyone else's X servers) never collide.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// The screen Xvfb shows (and Firefox captures).
pub const SCREEN: &str = "1280x720x24";

/// How long Xvfb may take to say which display it opened.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The display shared by this process's Firefox browsers, while one of them holds it.
static SHARED: Mutex<Weak<Xvfb>> = Mutex::new(Weak::new());

/// A running Xvfb; dropping it stops the server (its socket goes with it).
#[derive(Debug)]
pub struct Xvfb {
    child: Child,
    number: u32,
}

impl Xvfb {
    /// The display this process's Firefox browsers share, started when none runs.
    pub fn shared() -> Result<Arc<Xvfb>, String> {
        let mut shared = SHARED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(display) = shared.upgrade() {
            return Ok(display);
        }
        let display = Arc::new(Xvfb::start()?);
        *shared = Arc::downgrade(&display);
        Ok(display)
    }

    /// Starts a new Xvfb on the first free display number; waits until it accepts
    /// clients (it writes its number once it does).
    pub fn start() -> Result<Xvfb, String> {
        let bin = std::env::var("XVFB_BIN").unwrap_or_else(|_| "Xvfb".into());
        let mut child = Command::new(&bin)
            // `-displayfd 1`: pick a free display, print its number on stdout when ready.
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                SCREEN,
                // A white screen (not Xvfb's black): what Firefox captures is known, so
                // black where an area is hidden proves the painting.
                "-wr",
                "-nolisten",
                "tcp",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("start {bin} (is xvfb installed?): {e}"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| "Xvfb's stdout is not piped".to_owned())?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(read.map(|_| line));
        });
        let started = Instant::now();
        let answer = rx.recv_timeout(START_TIMEOUT);
        let number = match answer {
            Ok(Ok(line)) => line
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("Xvfb printed {line:?} instead of a display number")),
            Ok(Err(e)) => Err(format!("read Xvfb's display number: {e}")),
            Err(_) => Err(format!(
                "Xvfb named no display within {:.0} s",
                started.elapsed().as_secs_f64()
            )),
        };
        match number {
            Ok(number) => Ok(Xvfb { child, number }),
            Err(why) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(why)
            }
        }
    }

    /// The value for `DISPLAY`: `:N`.
    pub fn display(&self) -> String {
        format!(":{}", self.number)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        // SIGTERM lets Xvfb remove its socket; SIGKILL if it lingers.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! What the servers the tests start from Debian's packages share: a free loopback port,
//! a temporary folder the server's own unprivileged user may write, starting the
//! program as that user when the test runs as root, waiting until it listens, and
//! stopping it by its process id (SIGTERM, then SIGKILL if it lingers).

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A free port on 127.0.0.1 (bound, then released for the server to take).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A temporary folder anyone may write (the server drops to its own user).
pub fn open_folder(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .expect("a temporary folder");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777));
    }
    dir
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `program` with `args`, as the first of `users` that exists when this process is
/// root (through `setpriv`, which executes it in place: the child's id is the server's
/// own; it starts in `/`), or as this process's user otherwise.
pub fn command_as(users: &[&str], program: &Path, args: &[String]) -> Command {
    let user = users
        .iter()
        .find(|u| {
            Command::new("id")
                .arg("-u")
                .arg(u)
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .copied();
    match user {
        Some(user) if is_root() => {
            let mut cmd = Command::new("setpriv");
            // The test's own folder may be closed to that user (a checkout in a
            // `mktemp -d` folder is 0700): the server starts at the root, which anyone
            // may enter (HAProxy refuses to start where it cannot return to its folder).
            cmd.current_dir("/");
            cmd.arg(format!("--reuid={user}"))
                .arg(format!("--regid={user}"))
                .arg("--clear-groups")
                .arg("--")
                .arg(program)
                .args(args);
            cmd
        }
        _ => {
            let mut cmd = Command::new(program);
            cmd.args(args);
            cmd
        }
    }
}

/// Waits until something accepts connections on `127.0.0.1:port`, or panics with
/// `what` and `log()` after `limit`.
pub fn wait_listening(port: u16, limit: Duration, what: &str, log: impl Fn() -> String) {
    let started = Instant::now();
    while TcpStream::connect_timeout(
        &SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_millis(100),
    )
    .is_err()
    {
        assert!(
            started.elapsed() < limit,
            "{what} did not listen on {port} within {limit:?}:\n{}",
            log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops `child`: SIGTERM, then SIGKILL after `grace`.
pub fn stop(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    // SAFETY: kill with a process id this process started and has not reaped.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let started = Instant::now();
    while started.elapsed() < grace {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

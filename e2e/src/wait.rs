//! Polling with a deadline. Tests wait for what a user would see, never for a fixed time:
//! [`wait_until`] probes every [`POLL`] until the probe says yes or [`TIMEOUT`] passes,
//! then panics naming what was awaited and what was last seen instead.

use std::future::Future;
use std::time::{Duration, Instant};

/// How long any awaited condition may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// How often a condition is probed.
pub const POLL: Duration = Duration::from_millis(50);

/// Probes until `probe` returns `Ok(value)`; `Err(seen)` means "not yet", and the last
/// `seen` goes into the panic message when `timeout` runs out.
pub async fn wait_until<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let last = match probe().await {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        if Instant::now() >= deadline {
            panic!(
                "timed out after {:.1} s waiting for {what}; last seen: {last}",
                timeout.as_secs_f64()
            );
        }
        tokio::time::sleep(POLL).await;
    }
}

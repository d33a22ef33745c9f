//! Throttling of failed guesses (PINs, passwords): a token bucket per client address
//! and one for everybody. Each failure takes a token; with no token left, every
//! attempt (right or wrong) is refused until one grows back.
//!
//! Only failures count, and an address that then succeeds gets its failures back in
//! the global bucket ([`Throttle::succeed`]): a customer's typos cost nobody anything,
//! so the global bucket can be small. An attacker earns a refund only with a right
//! answer, at most `per_address` tokens for each. The guessing bound this gives is in
//! `docs/security.md`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

impl Bucket {
    fn full(capacity: u32, now: Instant) -> Self {
        Bucket {
            tokens: capacity as f64,
            updated: now,
        }
    }

    fn refill(&mut self, capacity: u32, refill: Duration, now: Instant) {
        let grown =
            now.saturating_duration_since(self.updated).as_secs_f64() / refill.as_secs_f64();
        self.tokens = (self.tokens + grown).min(capacity as f64);
        self.updated = now;
    }

    /// Seconds until a whole token is there (0 if one is).
    fn wait(&self, refill: Duration) -> u32 {
        if self.tokens >= 1.0 {
            0
        } else {
            ((1.0 - self.tokens) * refill.as_secs_f64()).ceil().max(1.0) as u32
        }
    }
}

/// Limits for one kind of guess.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Failures one address may make in a burst.
    pub per_address: u32,
    /// Time for one failure of an address to be forgiven.
    pub address_refill: Duration,
    /// Failures everyone together may make in a burst.
    pub global: u32,
    /// Time for one failure to be forgiven globally.
    pub global_refill: Duration,
}

/// Failure buckets, per address and global.
pub struct Throttle {
    limits: Limits,
    addresses: Mutex<HashMap<IpAddr, Bucket>>,
    global: Mutex<Bucket>,
}

/// Most addresses remembered before full buckets are forgotten.
const MAX_TRACKED: usize = 100_000;

impl Throttle {
    pub fn new(limits: Limits) -> Self {
        Throttle {
            limits,
            addresses: Mutex::new(HashMap::new()),
            global: Mutex::new(Bucket::full(limits.global, Instant::now())),
        }
    }

    /// `Err(seconds to wait)` when `addr` (or everyone) has no failure left to spend.
    pub fn check(&self, addr: IpAddr) -> Result<(), u32> {
        let now = Instant::now();
        let l = self.limits;
        let mut wait = 0;
        if let Ok(mut g) = self.global.lock() {
            g.refill(l.global, l.global_refill, now);
            wait = g.wait(l.global_refill);
        }
        if let Ok(mut map) = self.addresses.lock() {
            if let Some(b) = map.get_mut(&addr) {
                b.refill(l.per_address, l.address_refill, now);
                wait = wait.max(b.wait(l.address_refill));
            }
        }
        if wait == 0 {
            Ok(())
        } else {
            Err(wait)
        }
    }

    /// Records a failed guess from `addr`.
    pub fn fail(&self, addr: IpAddr) {
        let now = Instant::now();
        let l = self.limits;
        if let Ok(mut g) = self.global.lock() {
            g.refill(l.global, l.global_refill, now);
            g.tokens = (g.tokens - 1.0).max(0.0);
        }
        if let Ok(mut map) = self.addresses.lock() {
            if map.len() >= MAX_TRACKED {
                map.retain(|_, b| {
                    b.refill(l.per_address, l.address_refill, now);
                    b.tokens < l.per_address as f64
                });
            }
            let b = map
                .entry(addr)
                .or_insert_with(|| Bucket::full(l.per_address, now));
            b.refill(l.per_address, l.address_refill, now);
            b.tokens = (b.tokens - 1.0).max(0.0);
        }
    }
}

impl Throttle {
    /// Records a success from `addr`: its failures not yet forgiven go back into the
    /// global bucket, and its own bucket is full again.
    pub fn succeed(&self, addr: IpAddr) {
        let now = Instant::now();
        let l = self.limits;
        let spent = match self.addresses.lock() {
            Ok(mut map) => match map.remove(&addr) {
                Some(mut b) => {
                    b.refill(l.per_address, l.address_refill, now);
                    (l.per_address as f64 - b.tokens).max(0.0)
                }
                None => 0.0,
            },
            Err(_) => 0.0,
        };
        if spent > 0.0 {
            if let Ok(mut g) = self.global.lock() {
                g.refill(l.global, l.global_refill, now);
                g.tokens = (g.tokens + spent).min(l.global as f64);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_address: u32, global: u32) -> Limits {
        Limits {
            per_address,
            address_refill: Duration::from_secs(10),
            global,
            global_refill: Duration::from_secs(3),
        }
    }

    #[test]
    fn an_address_runs_out_alone() {
        let t = Throttle::new(limits(3, 100));
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        for _ in 0..3 {
            assert_eq!(t.check(a), Ok(()));
            t.fail(a);
        }
        let wait = t.check(a).unwrap_err();
        assert!((1..=10).contains(&wait), "{wait}");
        assert_eq!(t.check(b), Ok(()), "another address is not affected");
    }

    #[test]
    fn a_success_gives_the_address_failures_back() {
        let t = Throttle::new(limits(5, 3));
        let honest: IpAddr = "10.0.0.7".parse().unwrap();
        t.fail(honest);
        t.fail(honest);
        t.succeed(honest);
        let other: IpAddr = "10.0.0.8".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(t.check(other), Ok(()), "the typos cost nobody");
            t.fail(other);
        }
        assert!(t.check(other).is_err());
        // A success from an address that never failed gives nothing back.
        t.succeed("10.0.0.9".parse().unwrap());
        assert!(t.check("10.0.0.10".parse().unwrap()).is_err());
    }

    #[test]
    fn everyone_shares_the_global_bucket() {
        let t = Throttle::new(limits(100, 4));
        for i in 0..4u8 {
            t.fail(IpAddr::from([10, 0, 0, i]));
        }
        assert!(t.check(IpAddr::from([10, 0, 0, 99])).is_err());
    }
}

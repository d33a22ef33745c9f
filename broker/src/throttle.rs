//! Throttling of failed guesses (PINs, passwords): a token bucket per client address
//! and one for everybody. With no token left, every attempt (right or wrong) is
//! refused until one grows back.
//!
//! Every attempt takes a token from both buckets before it is checked (so concurrent
//! attempts cannot overspend), and a success gives it back: only failures count. A
//! right PIN also gives the address's earlier failures back to the global bucket
//! ([`Throttle::forgive`]), so a customer's typos cost nobody anything and the global
//! bucket can be small. The guessing bound this gives is in `docs/security.md`.

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

/// Attempt buckets, per address and global.
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

    /// Takes a token from `addr`'s bucket and the global one, or answers
    /// `Err(seconds to wait)` when either is empty. Taking it before the guess is
    /// checked means concurrent guesses cannot all pass on the last token: every
    /// attempt costs one until [`Throttle::succeed`] gives it back.
    pub fn attempt(&self, addr: IpAddr) -> Result<(), u32> {
        let now = Instant::now();
        let l = self.limits;
        // Lock order: global, then addresses (everywhere).
        let mut g = self.global.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
        g.refill(l.global, l.global_refill, now);
        if map.len() >= MAX_TRACKED && !map.contains_key(&addr) {
            map.retain(|_, b| {
                b.refill(l.per_address, l.address_refill, now);
                b.tokens < l.per_address as f64
            });
        }
        let b = map
            .entry(addr)
            .or_insert_with(|| Bucket::full(l.per_address, now));
        b.refill(l.per_address, l.address_refill, now);
        let wait = g.wait(l.global_refill).max(b.wait(l.address_refill));
        if wait > 0 {
            return Err(wait);
        }
        g.tokens -= 1.0;
        b.tokens -= 1.0;
        Ok(())
    }

    /// The attempt from `addr` succeeded: its token goes back to both buckets.
    pub fn succeed(&self, addr: IpAddr) {
        let now = Instant::now();
        let l = self.limits;
        let mut g = self.global.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
        g.refill(l.global, l.global_refill, now);
        g.tokens = (g.tokens + 1.0).min(l.global as f64);
        if let Some(b) = map.get_mut(&addr) {
            b.refill(l.per_address, l.address_refill, now);
            b.tokens = (b.tokens + 1.0).min(l.per_address as f64);
        }
    }

    /// The attempt from `addr` succeeded, and what it succeeded at can be done only
    /// once (a PIN): every token the address spent and that has not grown back goes
    /// back to the global bucket, and the address starts afresh. A customer's typos
    /// then cost nobody anything; an attacker earns at most `per_address` tokens per
    /// right answer, and right answers are what the throttle is there to prevent.
    pub fn forgive(&self, addr: IpAddr) {
        let now = Instant::now();
        let l = self.limits;
        let mut g = self.global.lock().unwrap_or_else(|p| p.into_inner());
        let mut map = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
        let spent = match map.remove(&addr) {
            Some(mut b) => {
                b.refill(l.per_address, l.address_refill, now);
                // Whole guesses: a fraction grown back since is not held against them.
                (l.per_address as f64 - b.tokens).max(0.0).ceil()
            }
            None => 0.0,
        };
        g.refill(l.global, l.global_refill, now);
        g.tokens = (g.tokens + spent).min(l.global as f64);
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
            assert_eq!(t.attempt(a), Ok(()));
        }
        let wait = t.attempt(a).unwrap_err();
        assert!((1..=10).contains(&wait), "{wait}");
        assert_eq!(t.attempt(b), Ok(()), "another address is not affected");
    }

    #[test]
    fn a_success_costs_nothing_but_keeps_earlier_failures() {
        let t = Throttle::new(limits(2, 100));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(t.attempt(a), Ok(()));
        for _ in 0..10 {
            assert_eq!(t.attempt(a), Ok(()));
            t.succeed(a);
        }
        assert_eq!(t.attempt(a), Ok(()));
        assert!(t.attempt(a).is_err(), "the first failure still counts");
    }

    #[test]
    fn a_right_pin_gives_the_address_failures_back() {
        let t = Throttle::new(limits(5, 3));
        let honest: IpAddr = "10.0.0.7".parse().unwrap();
        // Two typos, then the right PIN.
        for _ in 0..3 {
            assert_eq!(t.attempt(honest), Ok(()));
        }
        t.forgive(honest);
        let other: IpAddr = "10.0.0.8".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(t.attempt(other), Ok(()), "the typos cost nobody");
        }
        assert!(t.attempt(other).is_err());
        // Forgiving an address that never tried gives nothing back.
        t.forgive("10.0.0.9".parse().unwrap());
        assert!(t.attempt("10.0.0.10".parse().unwrap()).is_err());
    }

    #[test]
    fn everyone_shares_the_global_bucket() {
        let t = Throttle::new(limits(100, 4));
        for i in 0..4u8 {
            assert_eq!(t.attempt(IpAddr::from([10, 0, 0, i])), Ok(()));
        }
        assert!(t.attempt(IpAddr::from([10, 0, 0, 99])).is_err());
    }
}

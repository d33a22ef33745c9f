//! Throttling of failed guesses: token buckets kept per client address, per network
//! and per account, and **never one for everybody**. A bucket shared by all clients is
//! a switch that anyone can turn off: whoever keeps it empty locks every customer out.
//! Here an attacker can only empty the buckets of the addresses, networks and accounts
//! they attack, and each has a way around (the link's join token, a known device).
//!
//! Every attempt takes a token from each of its buckets before it is checked (so
//! concurrent attempts cannot overspend) and a success gives it back: only failures
//! count. With no token in a bucket, the attempt is refused before it is checked,
//! right or wrong. The bounds this gives are in `docs/security.md`.
//!
//! - [`NetworkThrottle`]: PIN guesses, per address (IPv6: per /64) and per network (/24,
//!   IPv6 /48); the same buckets, with every attempt counted, for customers joining
//!   teams' queues.
//! - [`SignInThrottle`]: passwords, per address and per account; a browser with the
//!   account's device cookie is counted on its own instead.
//! - [`AddressThrottle`]: one bucket per address (the one-time setup code, which has
//!   62 bits and needs nothing more).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster::{BucketOp, Cluster};

/// A bucket's size and pace: `burst` failures at once, one more every `refill`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub burst: u32,
    pub refill: Duration,
}

impl Limit {
    pub const fn new(burst: u32, refill_secs: u64) -> Limit {
        Limit {
            burst,
            refill: Duration::from_secs(refill_secs),
        }
    }
}

/// Which of an attempt's buckets was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The client's own address.
    Address,
    /// The client's network (IPv4 /24, IPv6 /48).
    Network,
    /// The account being signed in to (from browsers it does not know).
    Account,
    /// The browser's device cookie for the account.
    Device,
}

/// An attempt refused before it was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// Seconds until the emptiest of its buckets holds a token again.
    pub wait_secs: u32,
    pub scope: Scope,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Most keys one set of buckets remembers; past it, the fullest are forgotten (a
/// forgotten key starts full again, which only forgives it).
const MAX_TRACKED: usize = 100_000;

/// Token buckets by key; a key never seen has a full bucket.
struct Buckets<K> {
    limit: Limit,
    map: HashMap<K, Bucket>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(limit: Limit) -> Self {
        Buckets {
            limit,
            map: HashMap::new(),
        }
    }

    /// The key's tokens now.
    fn tokens(&self, key: &K, now: Instant) -> f64 {
        let l = self.limit;
        match self.map.get(key) {
            None => f64::from(l.burst),
            Some(b) => {
                let grown = now.saturating_duration_since(b.updated).as_secs_f64()
                    / l.refill.as_secs_f64().max(f64::MIN_POSITIVE);
                (b.tokens + grown).min(f64::from(l.burst))
            }
        }
    }

    /// Seconds until the key has a whole token (0: it has one).
    fn wait(&self, key: &K, now: Instant) -> u32 {
        let tokens = self.tokens(key, now);
        if tokens >= 1.0 {
            0
        } else {
            ((1.0 - tokens) * self.limit.refill.as_secs_f64())
                .ceil()
                .max(1.0) as u32
        }
    }

    /// Adds `delta` tokens (negative: takes), within `0..=burst`.
    fn add(&mut self, key: &K, delta: f64, now: Instant) {
        let tokens = (self.tokens(key, now) + delta).clamp(0.0, f64::from(self.limit.burst));
        if tokens >= f64::from(self.limit.burst) {
            self.map.remove(key);
            return;
        }
        if self.map.len() >= MAX_TRACKED && !self.map.contains_key(key) {
            self.forget_fullest(now);
        }
        self.map.insert(
            key.clone(),
            Bucket {
                tokens,
                updated: now,
            },
        );
    }

    /// Failures not yet grown back (whole ones).
    fn spent(&self, key: &K, now: Instant) -> f64 {
        (f64::from(self.limit.burst) - self.tokens(key, now))
            .max(0.0)
            .ceil()
    }

    /// Forgets the tenth of the keys that are closest to full.
    fn forget_fullest(&mut self, now: Instant) {
        let mut levels: Vec<(f64, K)> = self
            .map
            .keys()
            .map(|k| (self.tokens(k, now), k.clone()))
            .collect();
        levels.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, key) in levels.into_iter().take(MAX_TRACKED / 10 + 1) {
            self.map.remove(&key);
        }
    }
}

/// The key an address is throttled by: IPv4 as it is, IPv6 by its /64 (what one
/// host is usually given), an IPv4-mapped IPv6 address as the IPv4 one.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(mask_v6(v6, 64)),
        },
        v4 => v4,
    }
}

/// The network an address belongs to: IPv4 /24, IPv6 /48.
pub fn network_key(ip: IpAddr) -> IpAddr {
    match address_key(ip) {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            IpAddr::V4(Ipv4Addr::new(a, b, c, 0))
        }
        IpAddr::V6(v6) => IpAddr::V6(mask_v6(v6, 48)),
    }
}

fn mask_v6(ip: Ipv6Addr, bits: u32) -> Ipv6Addr {
    let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
    Ipv6Addr::from(u128::from(ip) & mask)
}

/// In the scale-out mode, a throttle's buckets are the cluster's (in Redis), so that
/// every broker counts against the same ones and a guesser gains nothing by spreading
/// guesses over brokers. If Redis does not answer, each broker counts on its own until
/// it does (the bound is then this broker's, times the brokers), rather than refusing
/// customers it cannot count.
#[derive(Default)]
struct Shared(std::sync::OnceLock<(Arc<Cluster>, &'static str)>);

impl Shared {
    fn set(&self, cluster: Arc<Cluster>, name: &'static str) {
        let _ = self.0.set((cluster, name));
    }

    /// Runs `op` on the cluster's buckets (named here `(key, limit)`); `None` when
    /// there is no cluster or Redis did not answer (the caller counts here instead). A
    /// take that found a bucket empty is refused with `scopes[index]`.
    async fn run(
        &self,
        op: BucketOp,
        buckets: &[(String, Limit)],
        scopes: &[Scope],
    ) -> Option<Result<(), Refusal>> {
        let (cluster, name) = self.0.get()?;
        let keys: Vec<(String, u32, Duration)> = buckets
            .iter()
            .map(|(key, limit)| (format!("{name}:{key}"), limit.burst, limit.refill))
            .collect();
        match Box::pin(cluster.buckets(op, &keys)).await {
            Ok(None) => Some(Ok(())),
            Ok(Some((index, wait_secs))) => Some(Err(Refusal {
                wait_secs,
                scope: scopes.get(index).copied().unwrap_or(Scope::Address),
            })),
            Err(e) => {
                tracing::warn!(error = %e, throttle = name, "the shared throttle does not answer: counting on this broker");
                None
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Attempts counted per address and per network: PIN guesses, and customers joining
/// teams' queues.
pub struct NetworkThrottle {
    inner: Mutex<NetworkBuckets>,
    limits: [Limit; 2],
    shared: Shared,
}

struct NetworkBuckets {
    address: Buckets<IpAddr>,
    network: Buckets<IpAddr>,
}

impl NetworkThrottle {
    pub fn new(per_address: Limit, per_network: Limit) -> Self {
        NetworkThrottle {
            inner: Mutex::new(NetworkBuckets {
                address: Buckets::new(per_address),
                network: Buckets::new(per_network),
            }),
            limits: [per_address, per_network],
            shared: Shared::default(),
        }
    }

    /// Counts in the cluster's buckets from now on, as `name` (see [`Shared`]).
    pub fn share(&self, cluster: Arc<Cluster>, name: &'static str) {
        self.shared.set(cluster, name);
    }

    fn shared_buckets(&self, ip: IpAddr) -> [(String, Limit); 2] {
        [
            (format!("address:{}", address_key(ip)), self.limits[0]),
            (format!("network:{}", network_key(ip)), self.limits[1]),
        ]
    }

    /// Takes a token from the address's and the network's buckets, or says which is
    /// empty and for how long.
    pub async fn attempt(&self, ip: IpAddr) -> Result<(), Refusal> {
        let scopes = [Scope::Address, Scope::Network];
        match self
            .shared
            .run(BucketOp::Take, &self.shared_buckets(ip), &scopes)
            .await
        {
            Some(outcome) => outcome,
            None => self.attempt_here(ip),
        }
    }

    /// The attempt was not a failure (the broker could not check it): its token goes
    /// back.
    pub async fn succeed(&self, ip: IpAddr) {
        let buckets = self.shared_buckets(ip);
        if self
            .shared
            .run(BucketOp::Add(1.0), &buckets, &[])
            .await
            .is_none()
        {
            self.succeed_here(ip);
        }
    }

    /// A right PIN from `ip`: see [`NetworkThrottle::forgive_here`].
    pub async fn forgive(&self, ip: IpAddr) {
        let buckets = self.shared_buckets(ip);
        if self
            .shared
            .run(BucketOp::Forgive, &buckets, &[])
            .await
            .is_none()
        {
            self.forgive_here(ip);
        }
    }

    fn attempt_here(&self, ip: IpAddr) -> Result<(), Refusal> {
        let now = Instant::now();
        let (a, n) = (address_key(ip), network_key(ip));
        let mut b = lock(&self.inner);
        let refusal = [
            (b.address.wait(&a, now), Scope::Address),
            (b.network.wait(&n, now), Scope::Network),
        ]
        .into_iter()
        .filter(|(wait, _)| *wait > 0)
        .max_by_key(|(wait, _)| *wait);
        if let Some((wait_secs, scope)) = refusal {
            return Err(Refusal { wait_secs, scope });
        }
        b.address.add(&a, -1.0, now);
        b.network.add(&n, -1.0, now);
        Ok(())
    }

    fn succeed_here(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut b = lock(&self.inner);
        b.address.add(&address_key(ip), 1.0, now);
        b.network.add(&network_key(ip), 1.0, now);
    }

    /// A right PIN from `ip`: the address's failures that have not grown back are
    /// forgiven, in its bucket and in its network's, so a customer's typos cost
    /// nobody anything. An attacker earns this only by a right answer, which is what
    /// the throttle is there to prevent.
    fn forgive_here(&self, ip: IpAddr) {
        let now = Instant::now();
        let (a, n) = (address_key(ip), network_key(ip));
        let mut b = lock(&self.inner);
        let spent = b.address.spent(&a, now);
        b.address.add(&a, spent, now);
        b.network.add(&n, spent, now);
    }
}

/// Passwords: per address and per account, or per device for a browser that holds the
/// account's device cookie. A stranger who empties an account's bucket keeps out only
/// browsers the account never signed in from.
pub struct SignInThrottle {
    inner: Mutex<SignInBuckets>,
    limits: [Limit; 3],
    shared: Shared,
}

struct SignInBuckets {
    address: Buckets<IpAddr>,
    account: Buckets<String>,
    device: Buckets<[u8; 16]>,
}

/// What an attempt was counted against, to give back on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Counted {
    /// The address and the account (a browser the account does not know).
    AddressAndAccount { address: IpAddr, account: String },
    /// A known device of the account.
    Device([u8; 16]),
}

impl SignInThrottle {
    pub fn new(per_address: Limit, per_account: Limit, per_device: Limit) -> Self {
        SignInThrottle {
            inner: Mutex::new(SignInBuckets {
                address: Buckets::new(per_address),
                account: Buckets::new(per_account),
                device: Buckets::new(per_device),
            }),
            limits: [per_address, per_account, per_device],
            shared: Shared::default(),
        }
    }

    /// Counts in the cluster's buckets from now on, as `name` (see [`Shared`]).
    pub fn share(&self, cluster: Arc<Cluster>, name: &'static str) {
        self.shared.set(cluster, name);
    }

    fn shared_buckets(&self, counted: &Counted) -> Vec<(String, Limit)> {
        match counted {
            Counted::Device(device) => {
                let hex: String = device.iter().map(|b| format!("{b:02x}")).collect();
                vec![(format!("device:{hex}"), self.limits[2])]
            }
            Counted::AddressAndAccount { address, account } => vec![
                (format!("address:{address}"), self.limits[0]),
                (format!("account:{account}"), self.limits[1]),
            ],
        }
    }

    /// Takes a token for an attempt on `account` (lower-cased user name) from `ip`,
    /// from the device's bucket when the browser is a known device of the account,
    /// else from the address's and the account's.
    pub async fn attempt(
        &self,
        ip: IpAddr,
        account: &str,
        device: Option<[u8; 16]>,
    ) -> Result<Counted, Refusal> {
        let counted = match device {
            Some(device) => Counted::Device(device),
            None => Counted::AddressAndAccount {
                address: address_key(ip),
                account: account.to_string(),
            },
        };
        let scopes: &[Scope] = match counted {
            Counted::Device(_) => &[Scope::Device],
            Counted::AddressAndAccount { .. } => &[Scope::Address, Scope::Account],
        };
        let buckets = self.shared_buckets(&counted);
        match self.shared.run(BucketOp::Take, &buckets, scopes).await {
            Some(outcome) => outcome.map(|()| counted),
            None => self.attempt_here(ip, account, device),
        }
    }

    /// The attempt succeeded: its token goes back (earlier failures still count).
    pub async fn succeed(&self, counted: &Counted) {
        let buckets = self.shared_buckets(counted);
        if self
            .shared
            .run(BucketOp::Add(1.0), &buckets, &[])
            .await
            .is_none()
        {
            self.succeed_here(counted);
        }
    }

    fn attempt_here(
        &self,
        ip: IpAddr,
        account: &str,
        device: Option<[u8; 16]>,
    ) -> Result<Counted, Refusal> {
        let now = Instant::now();
        let mut b = lock(&self.inner);
        if let Some(device) = device {
            let wait_secs = b.device.wait(&device, now);
            if wait_secs > 0 {
                return Err(Refusal {
                    wait_secs,
                    scope: Scope::Device,
                });
            }
            b.device.add(&device, -1.0, now);
            return Ok(Counted::Device(device));
        }
        let (address, account) = (address_key(ip), account.to_string());
        let refusal = [
            (b.address.wait(&address, now), Scope::Address),
            (b.account.wait(&account, now), Scope::Account),
        ]
        .into_iter()
        .filter(|(wait, _)| *wait > 0)
        .max_by_key(|(wait, _)| *wait);
        if let Some((wait_secs, scope)) = refusal {
            return Err(Refusal { wait_secs, scope });
        }
        b.address.add(&address, -1.0, now);
        b.account.add(&account, -1.0, now);
        Ok(Counted::AddressAndAccount { address, account })
    }

    fn succeed_here(&self, counted: &Counted) {
        let now = Instant::now();
        let mut b = lock(&self.inner);
        match counted {
            Counted::Device(device) => b.device.add(device, 1.0, now),
            Counted::AddressAndAccount { address, account } => {
                b.address.add(address, 1.0, now);
                b.account.add(account, 1.0, now);
            }
        }
    }
}

/// One bucket per address.
pub struct AddressThrottle {
    inner: Mutex<Buckets<IpAddr>>,
    limit: Limit,
    shared: Shared,
}

impl AddressThrottle {
    pub fn new(limit: Limit) -> Self {
        AddressThrottle {
            inner: Mutex::new(Buckets::new(limit)),
            limit,
            shared: Shared::default(),
        }
    }

    /// Counts in the cluster's buckets from now on, as `name` (see [`Shared`]).
    pub fn share(&self, cluster: Arc<Cluster>, name: &'static str) {
        self.shared.set(cluster, name);
    }

    pub async fn attempt(&self, ip: IpAddr) -> Result<(), Refusal> {
        let buckets = [(format!("address:{}", address_key(ip)), self.limit)];
        match self
            .shared
            .run(BucketOp::Take, &buckets, &[Scope::Address])
            .await
        {
            Some(outcome) => outcome,
            None => self.attempt_here(ip),
        }
    }

    pub async fn succeed(&self, ip: IpAddr) {
        let buckets = [(format!("address:{}", address_key(ip)), self.limit)];
        if self
            .shared
            .run(BucketOp::Add(1.0), &buckets, &[])
            .await
            .is_none()
        {
            self.succeed_here(ip);
        }
    }

    fn attempt_here(&self, ip: IpAddr) -> Result<(), Refusal> {
        let now = Instant::now();
        let key = address_key(ip);
        let mut b = lock(&self.inner);
        match b.wait(&key, now) {
            0 => {
                b.add(&key, -1.0, now);
                Ok(())
            }
            wait_secs => Err(Refusal {
                wait_secs,
                scope: Scope::Address,
            }),
        }
    }

    fn succeed_here(&self, ip: IpAddr) {
        lock(&self.inner).add(&address_key(ip), 1.0, Instant::now());
    }
}

/// A fixed allowance per account and hour (e-mail a technician sends from the
/// organisation's address).
pub struct HourlyQuota {
    per_hour: u32,
    used: Mutex<HashMap<i64, (u32, Instant)>>,
}

impl HourlyQuota {
    pub fn new(per_hour: u32) -> HourlyQuota {
        HourlyQuota {
            per_hour,
            used: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one for `account`, or says how many seconds until the hour turns.
    pub fn take(&self, account: i64) -> Result<(), u32> {
        let now = Instant::now();
        let mut used = lock(&self.used);
        // Forget finished hours, so the map holds only this hour's senders.
        used.retain(|_, (_, since)| now.duration_since(*since) < Duration::from_secs(3600));
        let (count, since) = used.entry(account).or_insert((0, now));
        if *count >= self.per_hour {
            let left = Duration::from_secs(3600).saturating_sub(now.duration_since(*since));
            return Err(left.as_secs().max(1) as u32);
        }
        *count += 1;
        Ok(())
    }

    /// Gives back one taken for something that did not happen.
    pub fn give_back(&self, account: i64) {
        if let Some((count, _)) = lock(&self.used).get_mut(&account) {
            *count = count.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn pins(per_address: u32, per_network: u32) -> NetworkThrottle {
        NetworkThrottle::new(Limit::new(per_address, 10), Limit::new(per_network, 3))
    }

    #[test]
    fn an_address_runs_out_alone() {
        let t = pins(3, 100);
        for _ in 0..3 {
            assert_eq!(t.attempt_here(ip("10.0.0.1")), Ok(()));
        }
        let refusal = t.attempt_here(ip("10.0.0.1")).unwrap_err();
        assert_eq!(refusal.scope, Scope::Address);
        assert!((1..=10).contains(&refusal.wait_secs), "{refusal:?}");
        assert_eq!(
            t.attempt_here(ip("10.0.0.2")),
            Ok(()),
            "a neighbour is not affected"
        );
    }

    #[test]
    fn a_network_runs_out_but_no_other_network_does() {
        let t = pins(100, 4);
        for i in 0..4u8 {
            assert_eq!(t.attempt_here(IpAddr::from([10, 0, 0, i])), Ok(()));
        }
        let refusal = t.attempt_here(IpAddr::from([10, 0, 0, 99])).unwrap_err();
        assert_eq!(refusal.scope, Scope::Network);
        assert_eq!(t.attempt_here(IpAddr::from([10, 0, 1, 1])), Ok(()));
        assert_eq!(t.attempt_here(IpAddr::from([192, 0, 2, 1])), Ok(()));
    }

    #[test]
    fn there_is_no_bucket_for_everybody() {
        // A thousand networks each spend their whole allowance: a thousand-and-first
        // is as free as ever.
        let t = pins(2, 2);
        for n in 0..1000u32 {
            let [_, b, c, _] = (n << 8).to_be_bytes();
            for _ in 0..2 {
                assert_eq!(t.attempt_here(IpAddr::from([10, b, c, 1])), Ok(()));
            }
            assert!(t.attempt_here(IpAddr::from([10, b, c, 1])).is_err());
        }
        assert_eq!(t.attempt_here(ip("198.51.100.7")), Ok(()));
    }

    #[test]
    fn ipv6_is_counted_by_host_and_site_prefixes() {
        let t = pins(2, 3);
        // One /64 is one host, however many addresses it uses.
        assert_eq!(t.attempt_here(ip("2001:db8:1:1::1")), Ok(()));
        assert_eq!(t.attempt_here(ip("2001:db8:1:1::2")), Ok(()));
        assert_eq!(
            t.attempt_here(ip("2001:db8:1:1:ffff::3"))
                .unwrap_err()
                .scope,
            Scope::Address
        );
        // Another /64 in the same /48 has one left of the network's three.
        assert_eq!(t.attempt_here(ip("2001:db8:1:2::1")), Ok(()));
        assert_eq!(
            t.attempt_here(ip("2001:db8:1:3::1")).unwrap_err().scope,
            Scope::Network
        );
        assert_eq!(t.attempt_here(ip("2001:db8:2::1")), Ok(()));
        assert_eq!(address_key(ip("::ffff:10.1.2.3")), ip("10.1.2.3"));
    }

    #[test]
    fn a_right_pin_forgives_the_address_typos() {
        let t = pins(3, 4);
        let honest = ip("10.0.0.7");
        for _ in 0..3 {
            assert_eq!(t.attempt_here(honest), Ok(()));
        }
        t.forgive_here(honest);
        for _ in 0..3 {
            assert_eq!(t.attempt_here(honest), Ok(()), "the address starts afresh");
        }
        assert!(t.attempt_here(honest).is_err());
        // Its network got the first three back too: one of four is left.
        t.forgive_here(honest);
        let neighbour = ip("10.0.0.8");
        for _ in 0..3 {
            assert_eq!(t.attempt_here(neighbour), Ok(()));
        }
    }

    #[test]
    fn a_success_costs_nothing_but_keeps_earlier_failures() {
        let t = pins(2, 100);
        let a = ip("10.0.0.1");
        assert_eq!(t.attempt_here(a), Ok(()));
        for _ in 0..10 {
            assert_eq!(t.attempt_here(a), Ok(()));
            t.succeed_here(a);
        }
        assert_eq!(t.attempt_here(a), Ok(()));
        assert!(t.attempt_here(a).is_err(), "the first failure still counts");
    }

    #[test]
    fn a_known_device_signs_in_while_its_account_is_attacked() {
        let t = SignInThrottle::new(Limit::new(5, 60), Limit::new(3, 60), Limit::new(2, 60));
        // Strangers from many addresses use up the account.
        for i in 0..3u8 {
            assert!(t
                .attempt_here(IpAddr::from([10, 9, i, 1]), "alice", None)
                .is_ok());
        }
        let refused = t.attempt_here(ip("10.9.200.1"), "alice", None).unwrap_err();
        assert_eq!(refused.scope, Scope::Account);
        assert!(
            t.attempt_here(ip("10.9.200.1"), "bob", None).is_ok(),
            "another account is not affected"
        );
        // Alice's own browser is counted on its own.
        let device = [7u8; 16];
        let counted = t
            .attempt_here(ip("10.9.201.1"), "alice", Some(device))
            .unwrap();
        t.succeed_here(&counted);
        // A stolen device cookie does not give unlimited guesses.
        assert!(t
            .attempt_here(ip("10.9.202.1"), "alice", Some(device))
            .is_ok());
        assert!(t
            .attempt_here(ip("10.9.202.1"), "alice", Some(device))
            .is_ok());
        assert_eq!(
            t.attempt_here(ip("10.9.202.1"), "alice", Some(device))
                .unwrap_err()
                .scope,
            Scope::Device
        );
    }

    #[test]
    fn buckets_stay_bounded() {
        let mut b: Buckets<u32> = Buckets::new(Limit::new(3, 1000));
        let now = Instant::now();
        for k in 0..(MAX_TRACKED as u32 + 50) {
            b.add(&k, -1.0, now);
        }
        assert!(b.map.len() <= MAX_TRACKED, "{}", b.map.len());
        // A full bucket is not stored at all.
        b.add(&1, 5.0, now);
        assert!(!b.map.contains_key(&1));
    }
}

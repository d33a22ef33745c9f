//! A whole cluster for the scale-out tests: a real PostgreSQL and a real Redis (each in
//! its own temporary folder, on loopback ports, as its own unprivileged user), three
//! brokers sharing them (the first makes the technician account and the keys the
//! others copy), and HAProxy in front with round robin and no stickiness. Everything
//! is stopped by its process id when the [`Cluster`] is dropped.

use crate::broker::{Broker, BrokerOptions};
use crate::haproxy::Haproxy;
use crate::postgres::Postgres;
use crate::redis::Redis;

/// A running cluster.
pub struct Cluster {
    /// In front: the address the pages use.
    pub haproxy: Haproxy,
    pub brokers: Vec<Broker>,
    pub redis: Redis,
    pub postgres: Postgres,
}

impl Cluster {
    /// `n` brokers with `options` (plus the cluster's own settings) behind HAProxy.
    pub async fn start(n: usize, options: BrokerOptions) -> Cluster {
        let postgres = Postgres::start();
        let redis = Redis::start();
        // The brokers' public address is HAProxy's, so its port is chosen first.
        let front = crate::daemon::free_port();
        let public_url = format!("http://127.0.0.1:{front}");
        // Each broker's own address is an origin too: a test may open a page straight
        // from one broker, to know which one its socket reaches.
        let ports: Vec<u16> = (0..n).map(|_| crate::daemon::free_port()).collect();
        let own: Vec<String> = ports
            .iter()
            .map(|p| format!("http://127.0.0.1:{p}"))
            .collect();
        let member = |i: usize, keys_from: Option<std::path::PathBuf>| {
            let mut o = options.clone();
            o.keys_from = keys_from;
            o.listen = Some(format!("127.0.0.1:{}", ports[i]));
            o.extra_origins.extend(own.iter().cloned());
            o.extra_config.extend([
                ("public_url".into(), format!("{public_url:?}")),
                ("database_url".into(), format!("{:?}", postgres.url())),
                ("database_connections".into(), "8".into()),
                ("redis_url".into(), format!("{:?}", redis.url())),
                // HAProxy and the other brokers, all on loopback, say who the client is.
                ("trusted_proxies".into(), "[\"127.0.0.1\"]".into()),
            ]);
            o
        };
        let first = Broker::start(member(0, None)).await;
        let keys = first.data_dir().to_path_buf();
        let mut brokers = vec![first];
        for i in 1..n {
            brokers.push(Broker::start(member(i, Some(keys.clone()))).await);
        }
        let servers: Vec<_> = brokers.iter().map(|b| b.addr()).collect();
        let haproxy = Haproxy::start_on(front, &servers);
        Cluster {
            haproxy,
            brokers,
            redis,
            postgres,
        }
    }

    /// The address the pages use (HAProxy's).
    pub fn url(&self) -> String {
        self.haproxy.url()
    }

    /// Which of [`Cluster::brokers`] runs session `id` now (its lease in Redis names
    /// the broker, whose presence gives its address).
    pub fn owner_of(&self, id: &str) -> Option<usize> {
        let get = |key: String| {
            let out = std::process::Command::new("redis-cli")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.redis.port.to_string(),
                    "--raw",
                    "GET",
                ])
                .arg(key)
                .output()
                .ok()?;
            let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
            (!text.is_empty()).then_some(text)
        };
        let broker = get(format!("connectit:owner:{id}"))?;
        let address = get(format!("connectit:broker:{broker}"))?;
        self.brokers.iter().position(|b| b.url() == address)
    }
}

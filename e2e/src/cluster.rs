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
        let member = |keys_from: Option<std::path::PathBuf>| {
            let mut o = options.clone();
            o.keys_from = keys_from;
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
        let first = Broker::start(member(None)).await;
        let keys = first.data_dir().to_path_buf();
        let mut brokers = vec![first];
        for _ in 1..n {
            brokers.push(Broker::start(member(Some(keys.clone()))).await);
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
}

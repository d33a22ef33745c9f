//! The scale-out mode's coordination in Redis: which brokers are up, which one runs
//! each live session, and events between them.
//!
//! - **Presence.** Each broker writes `connectit:broker:<id>` = the address other
//!   brokers reach it at (`cluster_address`), expiring after [`PRESENCE_MS`], rewritten
//!   every second. A broker whose key is gone is down.
//! - **Ownership.** A live session runs in one broker's task (its state, timers and
//!   fan-out, [`crate::hub`]). `connectit:owner:<session>` names that broker, a lease
//!   of [`LEASE_MS`] the owner renews every [`RENEW_EVERY`]. A broker that needs a
//!   session takes the lease if nobody holds it, or if its holder is down (its
//!   presence key is gone: it was killed, so its sockets were cut too); otherwise the
//!   socket goes on to the owner ([`crate::ws`]). A broker that stops hands its leases
//!   back first. Storage fences the rest: two brokers appending the same entry number
//!   cannot both store it ([`crate::db::append_entry`]).
//! - **Events.** `connectit:events` carries what the other brokers must hear, as JSON:
//!   summaries for their consoles, customers joining and leaving teams' queues (every
//!   broker keeps every queue, for the places it tells; each mends its copy from
//!   storage every few seconds, in case it missed news).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use connectit_protocol::SessionId;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// How long a broker's presence outlives its last renewal.
pub const PRESENCE_MS: u64 = 3_000;
/// How long a session's lease outlives its owner's last renewal.
pub const LEASE_MS: u64 = 10_000;
/// How often the owner renews its leases (and its presence).
pub const RENEW_EVERY: Duration = Duration::from_secs(1);

const EVENTS: &str = "connectit:events";

fn owner_key(id: &SessionId) -> String {
    format!("connectit:owner:{id}")
}

fn presence_key(broker: &str) -> String {
    format!("connectit:broker:{broker}")
}

/// Takes a lease that is free or held by `ARGV[3]` (a broker found down): sets it to
/// `ARGV[1]` for `ARGV[2]` ms. Answers the holder afterwards.
const TAKE: &str = r#"
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] or (ARGV[3] ~= '' and holder == ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
return holder
"#;

/// Renews each lease in `KEYS` still held by `ARGV[1]`; answers those no longer held.
const RENEW: &str = r#"
local lost = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
  else
    table.insert(lost, key)
  end
end
return lost
"#;

/// Gives back each lease in `KEYS` held by `ARGV[1]`.
const RELEASE: &str = r#"
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
  end
end
return 0
"#;

/// Where a session runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// Here: this broker holds its lease (now, or from before).
    Here,
    /// On another broker: its id, and the address it is reached at.
    Elsewhere { broker: String, address: String },
}

/// Something another broker's consoles must hear.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// The broker that sent it (which does not hear its own).
    pub from: String,
    pub body: EventBody,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum EventBody {
    /// A session's summary changed (for consoles, [`crate::hub::SummaryUpdate`]).
    Summary(Box<crate::hub::SummaryUpdate>),
    /// A customer started waiting in a team's queue.
    QueueJoined {
        team: i64,
        since: connectit_protocol::Millis,
        session: SessionId,
    },
    /// A customer waits no more (picked up at `picked_at`, or gone).
    QueueLeft {
        team: i64,
        since: connectit_protocol::Millis,
        session: SessionId,
        picked_at: Option<connectit_protocol::Millis>,
    },
}

/// Why Redis could not answer (new work is refused meanwhile).
#[derive(Debug)]
pub struct ClusterError(pub String);

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redis: {}", self.0)
    }
}

impl std::error::Error for ClusterError {}

impl From<redis::RedisError> for ClusterError {
    fn from(e: redis::RedisError) -> Self {
        ClusterError(e.to_string())
    }
}

/// This broker's part in the cluster.
pub struct Cluster {
    /// This broker's id (random, new at each start).
    pub id: String,
    /// How the other brokers reach this one (`http://host:port`).
    pub address: String,
    client: redis::Client,
    conn: ConnectionManager,
    /// The sessions whose leases this broker holds.
    owned: Mutex<HashSet<SessionId>>,
    events: broadcast::Sender<Event>,
}

impl Cluster {
    /// Connects to Redis at `url`, as the broker reachable at `address`.
    pub async fn connect(url: &str, address: &str) -> Result<Arc<Cluster>, ClusterError> {
        let client = redis::Client::open(url)?;
        // A Redis that does not answer is said at once (new work is refused meanwhile),
        // not waited for.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(1))
            .set_response_timeout(Duration::from_secs(1))
            .set_number_of_retries(1)
            .set_max_delay(500);
        let conn = tokio::time::timeout(
            Duration::from_secs(5),
            ConnectionManager::new_with_config(client.clone(), config),
        )
        .await
        .map_err(|_| ClusterError(format!("no answer from {url} within 5 s")))??;
        let (events, _) = broadcast::channel(1024);
        let cluster = Arc::new(Cluster {
            id: crate::secrets::new_session_id(),
            address: address.trim_end_matches('/').to_owned(),
            client,
            conn,
            owned: Mutex::new(HashSet::new()),
            events,
        });
        cluster.announce().await?;
        Ok(cluster)
    }

    fn owned_now(&self) -> std::sync::MutexGuard<'_, HashSet<SessionId>> {
        self.owned.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes this broker's presence.
    async fn announce(&self) -> Result<(), ClusterError> {
        let mut conn = self.conn.clone();
        let _: () = redis::cmd("SET")
            .arg(presence_key(&self.id))
            .arg(&self.address)
            .arg("PX")
            .arg(PRESENCE_MS)
            .query_async(&mut conn)
            .await?;
        Ok(())
    }

    /// The address of broker `id`, if it is up.
    async fn address_of(&self, id: &str) -> Result<Option<String>, ClusterError> {
        let mut conn = self.conn.clone();
        Ok(conn.get(presence_key(id)).await?)
    }

    /// Where session `id` runs: here if its lease was free (or its holder is down) and
    /// is now this broker's, or the address of the broker that holds it.
    pub async fn claim(&self, id: &SessionId) -> Result<Owner, ClusterError> {
        if self.owned_now().contains(id) {
            return Ok(Owner::Here);
        }
        let script = redis::Script::new(TAKE);
        let mut conn = self.conn.clone();
        let mut down = String::new();
        // At most twice: once as things are, once more past a holder found down.
        for _ in 0..2 {
            let holder: String = script
                .key(owner_key(id))
                .arg(&self.id)
                .arg(LEASE_MS)
                .arg(&down)
                .invoke_async(&mut conn)
                .await?;
            if holder == self.id {
                self.owned_now().insert(id.clone());
                return Ok(Owner::Here);
            }
            match self.address_of(&holder).await? {
                Some(address) => {
                    return Ok(Owner::Elsewhere {
                        broker: holder,
                        address,
                    })
                }
                None => {
                    tracing::warn!(session = %id, broker = %holder, "taking over from a broker that is down");
                    down = holder;
                }
            }
        }
        Err(ClusterError(format!(
            "session {id}: its lease is contended"
        )))
    }

    /// Takes session `id` from `broker`, which this broker could not reach (its port
    /// refused: it was killed), if it still holds it; answers where the session runs
    /// then.
    pub async fn take_over(&self, id: &SessionId, broker: &str) -> Result<Owner, ClusterError> {
        let mut conn = self.conn.clone();
        let holder: String = redis::Script::new(TAKE)
            .key(owner_key(id))
            .arg(&self.id)
            .arg(LEASE_MS)
            .arg(broker)
            .invoke_async(&mut conn)
            .await?;
        if holder == self.id {
            tracing::warn!(session = %id, %broker, "took the session over from a broker that does not answer");
            self.owned_now().insert(id.clone());
            return Ok(Owner::Here);
        }
        match self.address_of(&holder).await? {
            Some(address) => Ok(Owner::Elsewhere {
                broker: holder,
                address,
            }),
            None => Err(ClusterError(format!("session {id}: its holder is down"))),
        }
    }

    /// Whether this broker holds session `id`'s lease.
    pub fn owns(&self, id: &SessionId) -> bool {
        self.owned_now().contains(id)
    }

    /// Renews this broker's presence and leases; answers the sessions whose leases it
    /// lost (another broker took them while this one could not renew).
    pub async fn renew(&self) -> Result<Vec<SessionId>, ClusterError> {
        self.announce().await?;
        let owned: Vec<SessionId> = self.owned_now().iter().cloned().collect();
        let mut lost = Vec::new();
        for chunk in owned.chunks(500) {
            let script = redis::Script::new(RENEW);
            let mut invocation = script.prepare_invoke();
            for id in chunk {
                invocation.key(owner_key(id));
            }
            invocation.arg(&self.id).arg(LEASE_MS);
            let mut conn = self.conn.clone();
            let gone: Vec<String> = invocation.invoke_async(&mut conn).await?;
            lost.extend(gone.iter().filter_map(|key| {
                key.strip_prefix("connectit:owner:")
                    .map(|s| SessionId(s.to_owned()))
            }));
        }
        if !lost.is_empty() {
            let mut owned = self.owned_now();
            for id in &lost {
                owned.remove(id);
            }
        }
        Ok(lost)
    }

    /// Gives back the leases of `ids` (all this broker holds if `None`), so that the
    /// brokers their members reconnect to take them at once.
    pub async fn release(&self, ids: Option<&[SessionId]>) -> Result<(), ClusterError> {
        let ids: Vec<SessionId> = match ids {
            Some(ids) => ids.to_vec(),
            None => self.owned_now().iter().cloned().collect(),
        };
        for chunk in ids.chunks(500) {
            let script = redis::Script::new(RELEASE);
            let mut invocation = script.prepare_invoke();
            for id in chunk {
                invocation.key(owner_key(id));
            }
            invocation.arg(&self.id);
            let mut conn = self.conn.clone();
            let _: i64 = invocation.invoke_async(&mut conn).await?;
        }
        let mut owned = self.owned_now();
        for id in &ids {
            owned.remove(id);
        }
        Ok(())
    }

    /// Counts `ids` no longer this broker's, without asking Redis (which did not
    /// answer): the next need of one claims it again.
    pub fn forget(&self, ids: &[SessionId]) {
        let mut owned = self.owned_now();
        for id in ids {
            owned.remove(id);
        }
    }

    /// Takes this broker's presence away (it is stopping).
    pub async fn leave(&self) -> Result<(), ClusterError> {
        self.release(None).await?;
        let mut conn = self.conn.clone();
        let _: () = conn.del(presence_key(&self.id)).await?;
        Ok(())
    }

    /// Whether `signature` is seen for the first time within `valid_ms` (a call between
    /// brokers is answered once: one seen again is a replay).
    pub async fn first_sight(&self, signature: &str, valid_ms: u64) -> Result<bool, ClusterError> {
        let mut conn = self.conn.clone();
        let set: Option<String> = redis::cmd("SET")
            .arg(format!("connectit:call:{signature}"))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(valid_ms)
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }

    /// Whether Redis answers.
    pub async fn ping(&self) -> Result<(), ClusterError> {
        let mut conn = self.conn.clone();
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        Ok(())
    }

    /// Tells the other brokers.
    pub async fn publish(&self, body: EventBody) -> Result<(), ClusterError> {
        let event = Event {
            from: self.id.clone(),
            body,
        };
        let text = serde_json::to_string(&event).map_err(|e| ClusterError(e.to_string()))?;
        let mut conn = self.conn.clone();
        let _: i64 = conn.publish(EVENTS, text).await?;
        Ok(())
    }

    /// What the other brokers tell, from now on.
    pub fn events(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }

    /// Listens to the other brokers' events until the process ends, reconnecting
    /// after a lost connection.
    pub async fn listen(self: Arc<Self>) {
        use futures_util::StreamExt;
        loop {
            match self.client.get_async_pubsub().await {
                Ok(mut pubsub) => {
                    if let Err(e) = pubsub.subscribe(EVENTS).await {
                        tracing::warn!(error = %e, "could not subscribe to the cluster's events");
                    } else {
                        let mut messages = pubsub.on_message();
                        while let Some(message) = messages.next().await {
                            let Ok(text) = message.get_payload::<String>() else {
                                continue;
                            };
                            match serde_json::from_str::<Event>(&text) {
                                Ok(event) if event.from != self.id => {
                                    let _ = self.events.send(event);
                                }
                                Ok(_) => {}
                                Err(e) => tracing::warn!(error = %e, "an unreadable cluster event"),
                            }
                        }
                    }
                }
                Err(e) => tracing::warn!(error = %e, "no connection for the cluster's events"),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// The throttle's buckets, kept in Redis so that every broker counts against the same
/// ones (one broker's bound holds for the whole cluster): `take` takes a token from
/// each bucket if every one has one, else answers which is empty (its 1-based index)
/// and the seconds until it has one; `add` adds each bucket's delta; `forgive` adds to
/// every bucket the failures the first has not grown back. Levels grow back on Redis's
/// own clock, so the brokers' clocks do not matter.
const BUCKETS: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local mode = ARGV[1]
local n = #KEYS
local level, burst, refill, delta = {}, {}, {}, {}
for i = 1, n do
  burst[i] = tonumber(ARGV[2 + (i - 1) * 3])
  refill[i] = tonumber(ARGV[3 + (i - 1) * 3])
  delta[i] = tonumber(ARGV[4 + (i - 1) * 3])
  local v = redis.call('HMGET', KEYS[i], 'tokens', 'at')
  if v[1] then
    level[i] = math.min(burst[i], tonumber(v[1]) + (now - tonumber(v[2])) / refill[i])
  else
    level[i] = burst[i]
  end
end
if mode == 'take' then
  local worst, which = 0, 0
  for i = 1, n do
    if level[i] < 1 then
      local wait = math.max(1, math.ceil((1 - level[i]) * refill[i] / 1000))
      if wait > worst then worst, which = wait, i end
    end
  end
  if which > 0 then return {which, worst} end
  for i = 1, n do delta[i] = -1 end
elseif mode == 'forgive' then
  local spent = math.ceil(math.max(0, burst[1] - level[1]))
  for i = 1, n do delta[i] = spent end
end
for i = 1, n do
  local new = math.max(0, math.min(burst[i], level[i] + delta[i]))
  if new >= burst[i] then
    redis.call('DEL', KEYS[i])
  else
    redis.call('HSET', KEYS[i], 'tokens', tostring(new), 'at', tostring(now))
    redis.call('PEXPIRE', KEYS[i], math.ceil((burst[i] - new) * refill[i]) + 1000)
  end
end
return {0, 0}
"#;

/// What to do to a set of shared buckets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum BucketOp {
    /// A token from each, or none if one is empty.
    Take,
    /// This many tokens to each (negative: taken).
    Add(f64),
    /// The first bucket's spent tokens back to each.
    Forgive,
}

impl Cluster {
    /// Runs `op` on the buckets `(key, burst, refill)`; `Some((index, wait_secs))` when
    /// a take found the bucket at `index` empty.
    pub async fn buckets(
        &self,
        op: BucketOp,
        buckets: &[(String, u32, Duration)],
    ) -> Result<Option<(usize, u32)>, ClusterError> {
        let script = redis::Script::new(BUCKETS);
        let mut invocation = script.prepare_invoke();
        invocation.arg(match op {
            BucketOp::Take => "take",
            BucketOp::Add(_) => "add",
            BucketOp::Forgive => "forgive",
        });
        let delta = match op {
            BucketOp::Add(d) => d,
            _ => 0.0,
        };
        for (key, burst, refill) in buckets {
            invocation
                .key(format!("connectit:throttle:{key}"))
                .arg(*burst)
                .arg(refill.as_millis().max(1) as u64)
                .arg(delta);
        }
        let mut conn = self.conn.clone();
        let (which, wait): (usize, u32) = invocation.invoke_async(&mut conn).await?;
        Ok((which > 0).then(|| (which - 1, wait)))
    }
}

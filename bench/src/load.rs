//! Opening sessions, holding them while both members chat at a steady rate, and
//! measuring what arrives.
//!
//! Each message carries the moment it was sent (microseconds on this process's clock); the
//! partner's socket reads it back when it arrives, so a latency is sender send → receiver
//! receive through the server, on one clock. Messages go out on a fixed schedule whatever
//! the answers (an open loop), at one total rate whatever the number of sessions, the
//! sockets taking turns (every customer, then every technician, round and round).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use connectit_protocol::api::{CreatedSession, VerifyPinRequest, VerifyPinResponse};
use connectit_protocol::wire::Join;
use connectit_protocol::{Action, Author, ClientMessage, EntryKind, ServerMessage, SessionId};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::net::{http, websocket, Sources, Ws, STEP_TIMEOUT};
use crate::BenchError;

/// What the load is driven against.
pub enum Target {
    /// The broker's session sockets, with the technician's sign-in cookie.
    Broker { addr: SocketAddr, cookie: String },
    /// The bare relay's socket pairs.
    Relay { addr: SocketAddr },
}

/// A session's two sockets, ready to chat.
pub struct Pair {
    pub customer: Ws,
    pub technician: Ws,
}

/// One run's clock and stop signal, shared by every socket's reader.
pub struct Run {
    relay: bool,
    base: Instant,
    stop: watch::Sender<bool>,
}

impl Run {
    pub fn new(relay: bool) -> Self {
        Run {
            relay,
            base: Instant::now(),
            stop: watch::channel(false).0,
        }
    }
}

/// An open session: each socket's sending half, and the task reading the other half.
/// Reading starts as soon as the session is open, so that the server's pings are
/// answered while the other sessions are being opened.
pub struct OpenPair {
    customer: SplitSink<Ws, Message>,
    technician: SplitSink<Ws, Message>,
    customer_reads: JoinHandle<Reading>,
    technician_reads: JoinHandle<Reading>,
}

impl OpenPair {
    fn start(pair: Pair, run: &Run) -> Self {
        let (customer, c_stream) = pair.customer.split();
        let (technician, t_stream) = pair.technician.split();
        let reader = |stream, partner| {
            tokio::spawn(read(
                stream,
                run.relay,
                partner,
                run.base,
                run.stop.subscribe(),
            ))
        };
        OpenPair {
            customer,
            technician,
            customer_reads: reader(c_stream, Author::Technician),
            technician_reads: reader(t_stream, Author::Customer),
        }
    }
}

/// Opens `n` sessions, `concurrency` at a time, each from the next source address.
/// Returns the open ones, the failures, and how long it took.
pub async fn open_pairs(
    target: Arc<Target>,
    n: usize,
    sources: Arc<Sources>,
    concurrency: usize,
    run: &Run,
) -> (Vec<OpenPair>, Vec<BenchError>, Duration) {
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = Vec::with_capacity(n);
    for index in 0..n {
        let (target, sources, gate) = (target.clone(), sources.clone(), gate.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await;
            open_pair(&target, index as u32, &sources).await
        }));
    }
    let mut pairs = Vec::with_capacity(n);
    let mut errors = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(pair)) => pairs.push(OpenPair::start(pair, run)),
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(BenchError::Setup(format!("task: {e}"))),
        }
    }
    (pairs, errors, started.elapsed())
}

async fn open_pair(target: &Target, index: u32, sources: &Sources) -> Result<Pair, BenchError> {
    match target {
        Target::Relay { addr } => {
            let from = sources.next();
            let customer = websocket(from, *addr, &format!("/pair/{index}/customer"), &[]).await?;
            let technician =
                websocket(from, *addr, &format!("/pair/{index}/technician"), &[]).await?;
            Ok(Pair {
                customer,
                technician,
            })
        }
        Target::Broker { addr, cookie } => open_session(*addr, cookie, sources).await,
    }
}

/// The whole path of a real session: the technician creates it, the customer verifies
/// the PIN, joins and accepts the terms, the technician joins and picks it up.
async fn open_session(
    addr: SocketAddr,
    cookie: &str,
    sources: &Sources,
) -> Result<Pair, BenchError> {
    let from = sources.next();
    let origin = format!("http://{addr}");
    let created: CreatedSession = http(
        from,
        addr,
        "POST",
        "/api/sessions",
        &[("Origin", &origin), ("Cookie", cookie)],
        Some("{}"),
    )
    .await?
    .json()?;
    let body = serde_json::to_string(&VerifyPinRequest { pin: created.pin })?;
    let verified: VerifyPinResponse = http(
        from,
        addr,
        "POST",
        "/api/pin",
        &[("Origin", &origin)],
        Some(&body),
    )
    .await?
    .json()?;

    let mut customer = websocket(from, addr, "/api/ws", &[("Origin", &origin)]).await?;
    hello(
        &mut customer,
        Join::Customer {
            token: verified.token,
        },
    )
    .await?;
    act(&mut customer, 1, Action::AcceptTerms).await?;

    let mut technician = websocket(
        from,
        addr,
        "/api/ws",
        &[("Origin", &origin), ("Cookie", cookie)],
    )
    .await?;
    hello(
        &mut technician,
        Join::Technician {
            session: SessionId(created.id.0),
        },
    )
    .await?;
    act(&mut technician, 1, Action::PickUp).await?;
    Ok(Pair {
        customer,
        technician,
    })
}

async fn send(ws: &mut Ws, message: &ClientMessage) -> Result<(), BenchError> {
    ws.send(Message::text(serde_json::to_string(message)?))
        .await?;
    Ok(())
}

/// The next message from the broker (control frames are skipped).
async fn receive(ws: &mut Ws) -> Result<ServerMessage, BenchError> {
    loop {
        let frame = tokio::time::timeout(STEP_TIMEOUT, ws.next())
            .await
            .map_err(|_| BenchError::Timeout("a message from the broker"))?;
        match frame {
            Some(Ok(Message::Text(text))) => return Ok(serde_json::from_str(text.as_str())?),
            Some(Ok(Message::Close(_))) | None => return Err(BenchError::Closed),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.into()),
        }
    }
}

async fn hello(ws: &mut Ws, join: Join) -> Result<(), BenchError> {
    send(ws, &ClientMessage::Hello { join, after: 0 }).await?;
    match receive(ws).await? {
        ServerMessage::Welcome { .. } => Ok(()),
        ServerMessage::Error { error, .. } => Err(BenchError::Refused(error)),
        other => Err(BenchError::Unexpected(format!("{other:?}"))),
    }
}

/// Sends an action and waits for its acknowledgement (entries on the way are skipped).
async fn act(ws: &mut Ws, id: u32, action: Action) -> Result<(), BenchError> {
    send(ws, &ClientMessage::Act { id, action }).await?;
    loop {
        match receive(ws).await? {
            ServerMessage::Ack { id: acked, .. } if acked == id => return Ok(()),
            ServerMessage::Error { error, .. } => return Err(BenchError::Refused(error)),
            _ => {}
        }
    }
}

/// How the chat runs.
#[derive(Debug, Clone, Copy)]
pub struct Chat {
    /// Messages per second, all sessions together.
    pub rate: f64,
    /// How long messages are sent.
    pub duration: Duration,
    /// How long to wait for the last messages after the sending stops.
    pub drain: Duration,
}

/// What holding the sessions showed.
#[derive(Debug, Default)]
pub struct Held {
    pub sent: u64,
    pub received: u64,
    /// Sessions whose sockets all stayed up and delivered every message.
    pub intact: usize,
    /// Sessions with a broken socket, an error answer, or a lost message.
    pub broken: usize,
    /// Latencies of every delivered message, in microseconds, sorted.
    pub latencies_us: Vec<u64>,
    /// A few of the errors seen.
    pub error_samples: Vec<String>,
    /// The server's resident memory (KiB) and open descriptors while every session was
    /// open, just before the sending stopped.
    pub rss_kib: Option<u64>,
    pub fds: Option<usize>,
}

/// One socket's reading.
#[derive(Default)]
pub struct Reading {
    received: u64,
    latencies_us: Vec<u64>,
    error: Option<String>,
}

/// The text of a chat message sent `micros` after `base`.
pub fn chat_text(micros: u64) -> String {
    format!("bench {micros}")
}

/// The send time a chat text carries.
pub fn sent_at(text: &str) -> Option<u64> {
    text.strip_prefix("bench ")?.parse().ok()
}

/// The chat text in a frame from the other member, if it is one. The broker sends log
/// entries (the member's own come back too: only the partner's count); the relay
/// forwards the partner's message as it was sent.
fn partner_chat(text: &str, relay: bool, partner: Author) -> Result<Option<String>, String> {
    if relay {
        return match serde_json::from_str::<ClientMessage>(text) {
            Ok(ClientMessage::Act {
                action: Action::Chat { text },
                ..
            }) => Ok(Some(text)),
            _ => Err(format!("relay forwarded {text}")),
        };
    }
    match serde_json::from_str::<ServerMessage>(text) {
        Ok(ServerMessage::Entry(entry)) => match entry.kind {
            EntryKind::Chat { text, .. } if entry.author == partner => Ok(Some(text)),
            _ => Ok(None),
        },
        Ok(ServerMessage::Error { error, .. }) => Err(format!("error answer: {error:?}")),
        Ok(_) => Ok(None),
        Err(e) => Err(format!("undecodable message ({e}): {text}")),
    }
}

async fn read(
    mut stream: SplitStream<Ws>,
    relay: bool,
    partner: Author,
    base: Instant,
    mut stop: watch::Receiver<bool>,
) -> Reading {
    let mut reading = Reading::default();
    loop {
        let frame = tokio::select! {
            _ = stop.changed() => return reading,
            frame = stream.next() => frame,
        };
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | None => {
                reading.error = Some("closed by the server".into());
                return reading;
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                reading.error = Some(format!("socket: {e}"));
                return reading;
            }
        };
        match partner_chat(text.as_str(), relay, partner) {
            Ok(Some(chat)) => {
                let now = base.elapsed().as_micros() as u64;
                if let Some(at) = sent_at(&chat) {
                    reading.received += 1;
                    reading.latencies_us.push(now.saturating_sub(at));
                }
            }
            Ok(None) => {}
            Err(e) => {
                reading.error.get_or_insert(e);
            }
        }
    }
}

/// Holds every pair open while both members chat on `chat`'s schedule; `server` is the
/// process whose memory and descriptors are sampled.
pub async fn hold(pairs: Vec<OpenPair>, run: Run, chat: Chat, server: u32) -> Held {
    let n = pairs.len();
    let base = run.base;
    // Sockets in order: every customer, then every technician.
    let mut sinks: Vec<Option<SplitSink<Ws, Message>>> = Vec::with_capacity(2 * n);
    let mut readers = Vec::with_capacity(2 * n);
    let mut technicians = Vec::with_capacity(n);
    for pair in pairs {
        sinks.push(Some(pair.customer));
        readers.push(pair.customer_reads);
        technicians.push((pair.technician, pair.technician_reads));
    }
    for (sink, reads) in technicians {
        sinks.push(Some(sink));
        readers.push(reads);
    }

    let mut held = Held::default();
    let mut sent_by = vec![0u64; sinks.len()];
    let mut send_failed = vec![false; sinks.len()];
    if n > 0 {
        let rate = chat.rate;
        let mut tick = tokio::time::interval(Duration::from_millis(5));
        let started = Instant::now();
        let mut id = 1u32;
        while started.elapsed() < chat.duration {
            tick.tick().await;
            let due = (started.elapsed().as_secs_f64() * rate) as u64;
            while held.sent < due {
                let j = (held.sent % sinks.len() as u64) as usize;
                held.sent += 1;
                let Some(sink) = sinks[j].as_mut() else {
                    continue;
                };
                id = id.wrapping_add(1);
                let message = ClientMessage::Act {
                    id,
                    action: Action::Chat {
                        text: chat_text(base.elapsed().as_micros() as u64),
                    },
                };
                let text = serde_json::to_string(&message).expect("a chat message encodes");
                sent_by[j] += 1;
                if sink.send(Message::text(text)).await.is_err() {
                    send_failed[j] = true;
                    sinks[j] = None;
                }
            }
        }
    }
    held.rss_kib = crate::system::rss_kib(server);
    held.fds = crate::system::open_fds(server);
    tokio::time::sleep(chat.drain).await;
    let _ = run.stop.send(true);

    let mut readings = Vec::with_capacity(readers.len());
    for reader in readers {
        readings.push(reader.await.unwrap_or_else(|e| Reading {
            error: Some(format!("reader task: {e}")),
            ..Reading::default()
        }));
    }
    drop(sinks);
    for pair in 0..n {
        let (c, t) = (pair, n + pair);
        let lost = sent_by[c] > readings[t].received || sent_by[t] > readings[c].received;
        let errors: Vec<&String> = [&readings[c].error, &readings[t].error]
            .into_iter()
            .flatten()
            .collect();
        if lost || send_failed[c] || send_failed[t] || !errors.is_empty() {
            held.broken += 1;
            if held.error_samples.len() < 5 {
                held.error_samples.push(match errors.first() {
                    Some(e) => (*e).clone(),
                    None if send_failed[c] || send_failed[t] => "send failed".into(),
                    None => format!(
                        "lost messages: sent {}+{}, received {}+{}",
                        sent_by[c], sent_by[t], readings[t].received, readings[c].received
                    ),
                });
            }
        } else {
            held.intact += 1;
        }
    }
    for reading in readings {
        held.received += reading.received;
        held.latencies_us.extend(reading.latencies_us);
    }
    held.latencies_us.sort_unstable();
    held
}

/// The value at quantile `q` (0–1) of sorted samples, by nearest rank.
pub fn percentile(sorted: &[u64], q: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

#[cfg(test)]
mod tests {
    use super::*;
    use connectit_protocol::LogEntry;

    #[test]
    fn percentiles_by_nearest_rank() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 0.5), Some(50));
        assert_eq!(percentile(&v, 0.95), Some(95));
        assert_eq!(percentile(&v, 0.99), Some(99));
        assert_eq!(percentile(&v, 1.0), Some(100));
        assert_eq!(percentile(&[7], 0.5), Some(7));
        assert_eq!(percentile(&[], 0.5), None);
    }

    #[test]
    fn chat_texts_carry_their_time() {
        assert_eq!(sent_at(&chat_text(123_456)), Some(123_456));
        assert_eq!(sent_at("hello"), None);
    }

    #[test]
    fn only_the_partners_chat_counts() {
        let entry = |author| {
            serde_json::to_string(&ServerMessage::Entry(LogEntry {
                seq: 5,
                at: 1,
                author,
                kind: EntryKind::Chat {
                    text: chat_text(9),
                    by: None,
                },
            }))
            .unwrap()
        };
        assert_eq!(
            partner_chat(&entry(Author::Technician), false, Author::Technician),
            Ok(Some(chat_text(9)))
        );
        assert_eq!(
            partner_chat(&entry(Author::Customer), false, Author::Technician),
            Ok(None)
        );
        let ack = serde_json::to_string(&ServerMessage::Ack { id: 1, seq: 2 }).unwrap();
        assert_eq!(partner_chat(&ack, false, Author::Customer), Ok(None));
        assert!(partner_chat("{", false, Author::Customer).is_err());
        let forwarded = serde_json::to_string(&ClientMessage::Act {
            id: 3,
            action: Action::Chat { text: chat_text(4) },
        })
        .unwrap();
        assert_eq!(
            partner_chat(&forwarded, true, Author::Customer),
            Ok(Some(chat_text(4)))
        );
    }
}

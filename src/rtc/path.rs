//! How a peer connection travels, from `getStats()`: the selected candidate pair's
//! types (direct, through NAT, relayed, and by which transport to the relay), its
//! round-trip time, and the media's rate, frame rate and loss between two readings.
//! [`sample`] reads the browser's report; the rest is pure, so it is tested as such.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::RtcPeerConnection;

/// How the selected pair travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// Host candidates on both sides: the same network, or a routed one.
    Direct,
    /// A server-reflexive or peer-reflexive candidate: across NAT, peer to peer.
    ThroughNat,
    /// Through a TURN relay, reached by this transport (when it is this side's relay).
    Relayed(Option<RelayTransport>),
}

/// How this side reaches its TURN relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayTransport {
    Udp,
    Tcp,
    Tls,
}

impl Route {
    /// The `data-route` value (`direct`, `nat`, `relay`, `relay-udp`…).
    pub fn attr(self) -> &'static str {
        match self {
            Route::Direct => "direct",
            Route::ThroughNat => "nat",
            Route::Relayed(None) => "relay",
            Route::Relayed(Some(RelayTransport::Udp)) => "relay-udp",
            Route::Relayed(Some(RelayTransport::Tcp)) => "relay-tcp",
            Route::Relayed(Some(RelayTransport::Tls)) => "relay-tls",
        }
    }
}

/// The route of a pair from its candidates' types (`host`, `srflx`, `prflx`, `relay`)
/// and this side's `relayProtocol`.
pub fn route(local: &str, remote: &str, relay_protocol: Option<&str>) -> Route {
    if local == "relay" || remote == "relay" {
        let transport = (local == "relay")
            .then_some(relay_protocol)
            .flatten()
            .and_then(|p| match p {
                "udp" => Some(RelayTransport::Udp),
                "tcp" => Some(RelayTransport::Tcp),
                "tls" => Some(RelayTransport::Tls),
                _ => None,
            });
        Route::Relayed(transport)
    } else if local == "host" && remote == "host" {
        Route::Direct
    } else {
        Route::ThroughNat
    }
}

/// One reading of a connection's statistics.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Sample {
    /// When it was read (the page's clock, milliseconds).
    pub at: f64,
    /// The selected pair's route, once there is one.
    pub route: Option<Route>,
    /// The pair's current round-trip time, in milliseconds.
    pub rtt_ms: Option<f64>,
    /// Bytes received and sent on the pair so far.
    pub bytes: f64,
    /// Video frames decoded per second, as the browser reports it (incoming video).
    pub fps: Option<f64>,
    /// Packets received and lost so far (incoming media).
    pub packets_received: f64,
    pub packets_lost: f64,
}

/// What the console shows of a connection.
#[derive(Debug, Clone, PartialEq)]
pub struct PathInfo {
    pub route: Route,
    pub rtt_ms: Option<f64>,
    /// Bytes per second between the two readings.
    pub rate: Option<f64>,
    pub fps: Option<f64>,
    /// Percent of the packets lost between the two readings.
    pub loss_percent: Option<f64>,
}

/// The path between two readings (the rates need both).
pub fn info(before: Option<&Sample>, now: &Sample) -> Option<PathInfo> {
    let route = now.route?;
    let span = before
        .map(|b| (now.at - b.at) / 1000.0)
        .filter(|s| *s > 0.0);
    let rate = before
        .zip(span)
        .map(|(b, s)| ((now.bytes - b.bytes) / s).max(0.0));
    let loss_percent = before.and_then(|b| {
        let lost = now.packets_lost - b.packets_lost;
        let got = now.packets_received - b.packets_received;
        (lost + got > 0.0).then(|| (lost.max(0.0) / (lost.max(0.0) + got)) * 100.0)
    });
    Some(PathInfo {
        route,
        rtt_ms: now.rtt_ms,
        rate,
        fps: now.fps,
        loss_percent,
    })
}

fn get(object: &wasm_bindgen::JsValue, key: &str) -> wasm_bindgen::JsValue {
    js_sys::Reflect::get(object, &key.into()).unwrap_or_default()
}

fn text(object: &wasm_bindgen::JsValue, key: &str) -> Option<String> {
    get(object, key).as_string()
}

fn number(object: &wasm_bindgen::JsValue, key: &str) -> Option<f64> {
    get(object, key).as_f64()
}

/// Reads `pc`'s statistics now (`None` when the browser would not give them).
pub async fn sample(pc: &RtcPeerConnection, at: f64) -> Option<Sample> {
    let report = JsFuture::from(pc.get_stats()).await.ok()?;
    // An `RTCStatsReport` is map-like (its own `forEach`), not a `Map`.
    let report: js_sys::Map = report.unchecked_into();
    let mut stats = Vec::new();
    report.for_each(&mut |value, _key| stats.push(value));
    let of_type = |t: &'static str| {
        stats
            .iter()
            .filter(move |s| text(s, "type").as_deref() == Some(t))
    };
    let by_id = |id: &str| stats.iter().find(|s| text(s, "id").as_deref() == Some(id));
    // The transport names the selected pair; older reports mark it nominated.
    let pair = of_type("transport")
        .find_map(|t| text(t, "selectedCandidatePairId"))
        .and_then(|id| by_id(&id))
        .or_else(|| {
            of_type("candidate-pair").find(|p| {
                get(p, "nominated").as_bool() == Some(true)
                    && text(p, "state").as_deref() == Some("succeeded")
            })
        });
    let mut sample = Sample {
        at,
        ..Sample::default()
    };
    if let Some(pair) = pair {
        let local = text(pair, "localCandidateId").and_then(|id| by_id(&id));
        let remote = text(pair, "remoteCandidateId").and_then(|id| by_id(&id));
        let kind = |c: Option<&wasm_bindgen::JsValue>| {
            c.and_then(|c| text(c, "candidateType")).unwrap_or_default()
        };
        let relay_protocol = local.and_then(|c| text(c, "relayProtocol"));
        sample.route = Some(route(
            &kind(local),
            &kind(remote),
            relay_protocol.as_deref(),
        ));
        sample.rtt_ms = number(pair, "currentRoundTripTime").map(|s| s * 1000.0);
        sample.bytes =
            number(pair, "bytesReceived").unwrap_or(0.0) + number(pair, "bytesSent").unwrap_or(0.0);
    }
    for inbound in of_type("inbound-rtp") {
        sample.packets_received += number(inbound, "packetsReceived").unwrap_or(0.0);
        sample.packets_lost += number(inbound, "packetsLost").unwrap_or(0.0);
        if let Some(fps) = number(inbound, "framesPerSecond") {
            sample.fps = Some(fps);
        }
    }
    Some(sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_from_candidate_types() {
        assert_eq!(route("host", "host", None), Route::Direct);
        assert_eq!(route("srflx", "host", None), Route::ThroughNat);
        assert_eq!(route("prflx", "srflx", None), Route::ThroughNat);
        assert_eq!(
            route("relay", "host", Some("tls")),
            Route::Relayed(Some(RelayTransport::Tls))
        );
        assert_eq!(route("host", "relay", Some("udp")), Route::Relayed(None));
        assert_eq!(
            Route::Relayed(Some(RelayTransport::Tcp)).attr(),
            "relay-tcp"
        );
    }

    #[test]
    fn rates_and_loss_between_two_readings() {
        let before = Sample {
            at: 1000.0,
            route: Some(Route::Direct),
            bytes: 1_000.0,
            packets_received: 100.0,
            packets_lost: 0.0,
            ..Sample::default()
        };
        let now = Sample {
            at: 3000.0,
            route: Some(Route::Direct),
            rtt_ms: Some(12.0),
            bytes: 201_000.0,
            fps: Some(29.5),
            packets_received: 196.0,
            packets_lost: 4.0,
        };
        let info = info(Some(&before), &now).unwrap();
        assert_eq!(info.rate, Some(100_000.0));
        assert_eq!(info.loss_percent, Some(4.0));
        assert_eq!(info.rtt_ms, Some(12.0));
        assert_eq!(info.fps, Some(29.5));
        // A first reading has a route but no rates yet; no pair, nothing to show.
        let first = super::info(None, &now).unwrap();
        assert_eq!((first.rate, first.loss_percent), (None, None));
        assert_eq!(super::info(None, &Sample::default()), None);
    }
}

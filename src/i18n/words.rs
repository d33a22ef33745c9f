//! Words that depend on the app's own types: how a connection travels, and a failed
//! call to the broker. The rest is in `connectit_wording`.

use crate::rtc::path::{PathInfo, RelayTransport, Route};

pub use connectit_wording::words::*;

use super::{I18n, Msg};

impl I18n {
    /// How a connection travels, and how well: `Relayed over TLS · 12 ms round trip ·
    /// 1.2 MB/s · 30 fps · 0.0% lost` (what is known of it).
    pub fn path_line(&self, info: &PathInfo) -> String {
        let route = self.t(match info.route {
            Route::Direct => Msg::PathDirect,
            Route::ThroughNat => Msg::PathNat,
            Route::Relayed(None) => Msg::PathRelayed,
            Route::Relayed(Some(RelayTransport::Udp)) => Msg::PathRelayedUdp,
            Route::Relayed(Some(RelayTransport::Tcp)) => Msg::PathRelayedTcp,
            Route::Relayed(Some(RelayTransport::Tls)) => Msg::PathRelayedTls,
        });
        let mut parts = vec![route];
        if let Some(ms) = info.rtt_ms {
            parts.push(self.t(Msg::PathRtt {
                ms: ms.round() as u64,
            }));
        }
        if let Some(rate) = info.rate {
            parts.push(self.speed(rate));
        }
        if let Some(fps) = info.fps {
            parts.push(self.t(Msg::PathFps {
                fps: fps.round() as u64,
            }));
        }
        if let Some(loss) = info.loss_percent {
            parts.push(self.t(Msg::PathLoss {
                percent: self.decimal(loss, 1),
            }));
        }
        parts.join(" · ")
    }
}

impl I18n {
    /// A sentence for a failed call to the broker.
    pub fn api_error(&self, error: &crate::api::ApiError) -> String {
        use crate::api::ApiError;
        match error {
            ApiError::Refused { code, .. } => self.error(*code),
            ApiError::Unreachable => self.t(Msg::Unreachable),
            ApiError::BadAnswer { .. } => self.t(Msg::BadAnswer),
        }
    }
}

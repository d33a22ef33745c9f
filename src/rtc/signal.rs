//! Between the protocol's signals and the browser's WebRTC types: session descriptions,
//! ICE candidates and the ICE server configuration.

use connectit_protocol::wire::SignalBody;
use connectit_protocol::{IceConfig, IcePolicy, IceServer};
use wasm_bindgen::JsValue;
use web_sys::{
    RtcConfiguration, RtcIceCandidate, RtcIceCandidateInit, RtcIceServer, RtcIceTransportPolicy,
    RtcSdpType, RtcSessionDescriptionInit,
};

/// The peer connection configuration for these ICE servers (none at all is fine on one
/// network: host candidates connect) and the organisation's transport policy.
pub fn configuration(ice: &IceConfig) -> RtcConfiguration {
    let config = RtcConfiguration::new();
    config.set_ice_transport_policy(match ice.policy {
        IcePolicy::All => RtcIceTransportPolicy::All,
        IcePolicy::Relay => RtcIceTransportPolicy::Relay,
    });
    config.set_ice_servers(&server_list(&ice.servers));
    config
}

fn server_list(servers: &[IceServer]) -> js_sys::Array {
    let list = js_sys::Array::new();
    for server in servers {
        let entry = RtcIceServer::new();
        let urls: js_sys::Array = server.urls.iter().map(|u| JsValue::from_str(u)).collect();
        entry.set_urls(&urls);
        if let Some(username) = &server.username {
            entry.set_username(username);
        }
        if let Some(credential) = &server.credential {
            entry.set_credential(credential);
        }
        list.push(&entry);
    }
    list
}

/// The browser's form of an offer or an answer.
pub fn description(kind: RtcSdpType, sdp: &str) -> RtcSessionDescriptionInit {
    let init = RtcSessionDescriptionInit::new(kind);
    init.set_sdp(sdp);
    init
}

/// The SDP text of a description the browser created (`createOffer` / `createAnswer`).
pub fn sdp_of(description: &JsValue) -> Option<String> {
    js_sys::Reflect::get(description, &JsValue::from_str("sdp"))
        .ok()
        .and_then(|v| v.as_string())
}

/// A local candidate as a signal.
pub fn candidate_body(candidate: &RtcIceCandidate) -> SignalBody {
    SignalBody::Candidate {
        candidate: candidate.candidate(),
        sdp_mid: candidate.sdp_mid(),
        sdp_m_line_index: candidate.sdp_m_line_index(),
    }
}

/// A remote candidate for `addIceCandidate`.
pub fn candidate_init(
    candidate: &str,
    sdp_mid: Option<&str>,
    sdp_m_line_index: Option<u16>,
) -> RtcIceCandidateInit {
    let init = RtcIceCandidateInit::new(candidate);
    init.set_sdp_mid(sdp_mid);
    init.set_sdp_m_line_index(sdp_m_line_index);
    init
}

#[cfg(test)]
mod tests {
    use super::*;

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn ice_servers_are_configured() {
        let config = configuration(&IceConfig {
            servers: vec![IceServer {
                urls: vec!["turn:turn.example:3478".into()],
                username: Some("123:abc".into()),
                credential: Some("secret".into()),
            }],
            policy: IcePolicy::Relay,
        });
        let servers = js_sys::Reflect::get(&config, &"iceServers".into()).unwrap_or_default();
        let first = js_sys::Array::from(&servers).get(0);
        let username = js_sys::Reflect::get(&first, &"username".into()).unwrap_or_default();
        assert_eq!(username.as_string().as_deref(), Some("123:abc"));
        let policy =
            js_sys::Reflect::get(&config, &"iceTransportPolicy".into()).unwrap_or_default();
        assert_eq!(policy.as_string().as_deref(), Some("relay"));
        // The browser takes it.
        assert!(web_sys::RtcPeerConnection::new_with_configuration(&config).is_ok());
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    fn candidates_keep_their_line() {
        let init = candidate_init(
            "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
            Some("0"),
            Some(0),
        );
        assert_eq!(init.get_sdp_mid().as_deref(), Some("0"));
        assert_eq!(init.get_sdp_m_line_index(), Some(0));
    }
}

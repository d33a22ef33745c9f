//! ICE servers for a session's peer connections. TURN credentials follow coturn's REST
//! scheme: the user name is `expiry:session` (expiry in Unix seconds) and the password
//! is base64(HMAC-SHA-1(secret, user name)), so the TURN server checks them with the
//! shared secret alone, and they stop working by themselves.

use base64::Engine;
use connectit_protocol::{IceServer, SessionId};
use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::config::Config;

/// The ICE servers for `session` at `now_secs`.
pub fn servers_for(config: &Config, session: &SessionId, now_secs: u64) -> Vec<IceServer> {
    let mut servers = Vec::new();
    if !config.stun_urls.is_empty() {
        servers.push(IceServer {
            urls: config.stun_urls.clone(),
            username: None,
            credential: None,
        });
    }
    if !config.turn_urls.is_empty() && !config.turn_secret.is_empty() {
        let username = format!("{}:{}", now_secs + config.turn_ttl_secs, session);
        servers.push(IceServer {
            urls: config.turn_urls.clone(),
            credential: Some(turn_password(&config.turn_secret, &username)),
            username: Some(username),
        });
    }
    servers
}

/// coturn's REST password for `username`.
pub fn turn_password(secret: &str, username: &str) -> String {
    let mut mac =
        <Hmac<Sha1> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coturn_rest_credentials() {
        // HMAC-SHA1("secret", "1700000000:s1"), base64: checked with
        // `printf %s 1700000000:s1 | openssl dgst -sha1 -hmac secret -binary | base64`.
        assert_eq!(
            turn_password("secret", "1700000000:s1"),
            "LkPj316IePGc8iXpodbQTmNcZfI="
        );
        let mut config = Config::default();
        assert!(
            servers_for(&config, &SessionId("s1".into()), 0).is_empty(),
            "none by default"
        );
        config.stun_urls = vec!["stun:stun.example.org:3478".into()];
        config.turn_urls = vec!["turn:turn.example.org:3478?transport=udp".into()];
        config.turn_secret = "secret".into();
        config.turn_ttl_secs = 100;
        let servers = servers_for(&config, &SessionId("s1".into()), 1_699_999_900);
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[1].username.as_deref(), Some("1700000000:s1"));
        assert_eq!(
            servers[1].credential.as_deref(),
            Some("LkPj316IePGc8iXpodbQTmNcZfI=")
        );
    }
}

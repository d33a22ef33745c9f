//! The verification code of a peer connection: six digits both sides derive from the
//! session id and the DTLS certificate fingerprints of both ends, exactly as they stand
//! in the local and remote descriptions (sorted, so both sides hash the same input).
//! Read aloud on the phone, equal codes mean the media runs between these two browsers;
//! anyone in the middle who terminates the connection with their own certificate (the
//! broker included) makes the two codes differ.

use sha2::{Digest, Sha256};

/// Every `a=fingerprint:` value of `sdp` (`sha-256 AB:CD:…`), its algorithm lower-cased
/// and its hex upper-cased, so that spelling does not change the code.
pub fn fingerprints(sdp: &str) -> Vec<String> {
    sdp.lines()
        .filter_map(|line| line.trim().strip_prefix("a=fingerprint:"))
        .filter_map(|value| {
            let (alg, hex) = value.trim().split_once(' ')?;
            Some(format!(
                "{} {}",
                alg.to_ascii_lowercase(),
                hex.trim().to_ascii_uppercase()
            ))
        })
        .collect()
}

/// The code for `session` from both descriptions, as `123 456`; `None` when either side
/// has no fingerprint (no DTLS yet).
pub fn code(session: &str, local_sdp: &str, remote_sdp: &str) -> Option<String> {
    let (local, remote) = (fingerprints(local_sdp), fingerprints(remote_sdp));
    if local.is_empty() || remote.is_empty() {
        return None;
    }
    let mut all: Vec<String> = local.into_iter().chain(remote).collect();
    all.sort();
    all.dedup();
    let mut hash = Sha256::new();
    hash.update(b"connectit verification code\n");
    hash.update(session.as_bytes());
    for fingerprint in &all {
        hash.update(b"\n");
        hash.update(fingerprint.as_bytes());
    }
    let digest = hash.finalize();
    let number = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]) % 1_000_000;
    Some(format!("{:03} {:03}", number / 1000, number % 1000))
}

/// A code as the log records it: its six digits, without the space shown in the
/// middle.
pub fn digits(code: &str) -> String {
    code.chars().filter(char::is_ascii_digit).collect()
}

/// The code of a connection that is connected (ICE connected or completed), if both its
/// descriptions carry fingerprints.
pub fn code_of(session: &str, pc: &web_sys::RtcPeerConnection) -> Option<String> {
    use web_sys::RtcIceConnectionState as Ice;
    if !matches!(pc.ice_connection_state(), Ice::Connected | Ice::Completed) {
        return None;
    }
    code(
        session,
        &pc.local_description()?.sdp(),
        &pc.remote_description()?.sdp(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "v=0\r\na=fingerprint:sha-256 AA:BB:CC\r\na=setup:actpass\r\n";
    const B: &str = "v=0\r\na=fingerprint:SHA-256 dd:ee:ff\r\n";
    const MIDDLE: &str = "v=0\r\na=fingerprint:sha-256 11:22:33\r\n";

    #[test]
    fn both_ends_compute_the_same_code_and_a_middle_changes_it() {
        let customer = code("s1", A, B).unwrap();
        let technician = code("s1", B, A).unwrap();
        assert_eq!(customer, technician, "sorted: the same input on both sides");
        assert_eq!(customer.len(), 7);
        assert!(customer.chars().all(|c| c.is_ascii_digit() || c == ' '));
        // Someone in the middle ends each side's connection with their own certificate.
        let customer_sees = code("s1", A, MIDDLE).unwrap();
        let technician_sees = code("s1", B, MIDDLE).unwrap();
        assert_ne!(customer_sees, technician_sees);
        // Another session, another code.
        assert_ne!(code("s2", A, B).unwrap(), customer);
        assert_eq!(code("s1", A, "v=0\r\n"), None);
        // The log records the six digits.
        let logged = digits(&customer);
        assert_eq!(logged.len(), connectit_protocol::limits::CODE_DIGITS);
        assert_eq!(logged, customer.replace(' ', ""));
    }

    #[test]
    fn spelling_of_the_fingerprint_does_not_matter() {
        assert_eq!(fingerprints(B), vec!["sha-256 DD:EE:FF".to_string()]);
        assert_eq!(
            code("s", A, B),
            code(
                "s",
                "a=fingerprint:SHA-256 aa:bb:cc\n",
                "a=fingerprint:sha-256 DD:EE:FF \r\n"
            )
        );
    }
}

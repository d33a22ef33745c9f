//! The key that signs session records: Ed25519 (*ring*), made at first start and kept
//! in `record.key` beside the database (PKCS#8, mode 0600), like the PIN key. Its
//! public half is served at `GET /api/record-key` and printed by `connectit-broker
//! record-key`, so a record can be checked with no access to the database.

use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
use sha2::{Digest, Sha256};

use crate::secrets::{hex, write_private};

/// The record-signing key pair.
pub struct RecordSigner {
    pair: Ed25519KeyPair,
}

impl RecordSigner {
    /// Reads `dir/record.key`, creating it on first use.
    pub fn load_or_create(dir: &Path) -> std::io::Result<RecordSigner> {
        let path = dir.join("record.key");
        let invalid = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
        let pkcs8 = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
                    .map_err(|_| invalid("cannot make an Ed25519 key".into()))?;
                write_private(&path, document.as_ref())?;
                document.as_ref().to_vec()
            }
            Err(e) => return Err(e),
        };
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8)
            .map_err(|e| invalid(format!("{} is not an Ed25519 key: {e}", path.display())))?;
        Ok(RecordSigner { pair })
    }

    /// A key that lives in memory only (tests).
    pub fn ephemeral() -> RecordSigner {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .expect("the system's random source works");
        RecordSigner {
            pair: Ed25519KeyPair::from_pkcs8(document.as_ref()).expect("a key just made"),
        }
    }

    /// The 32-byte public key.
    pub fn public_key(&self) -> &[u8] {
        self.pair.public_key().as_ref()
    }

    /// The public key, standard base64.
    pub fn public_key_base64(&self) -> String {
        STANDARD.encode(self.public_key())
    }

    pub fn key_id(&self) -> String {
        key_id(self.public_key())
    }

    /// The signature of `message`, standard base64.
    pub fn sign(&self, message: &[u8]) -> String {
        STANDARD.encode(self.pair.sign(message).as_ref())
    }
}

/// The first 8 bytes of the key's SHA-256, hex: names a key in a signature.
pub fn key_id(public_key: &[u8]) -> String {
    hex(&Sha256::digest(public_key)[..8])
}

/// Reads a public key given as standard base64 (what the broker prints) or hex.
pub fn parse_public_key(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let bytes = if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        (0..32)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?
    } else {
        STANDARD
            .decode(text)
            .map_err(|e| format!("not base64 or hex: {e}"))?
    };
    if bytes.len() != 32 {
        return Err(format!(
            "an Ed25519 public key has 32 bytes, this one {}",
            bytes.len()
        ));
    }
    Ok(bytes)
}

/// Whether `signature` (standard base64) is `public_key`'s signature of `message`.
pub fn verify(public_key: &[u8], message: &[u8], signature: &str) -> bool {
    let Ok(signature) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(message, &signature)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_and_checks() {
        let dir = tempfile::tempdir().unwrap();
        let key = RecordSigner::load_or_create(dir.path()).unwrap();
        let again = RecordSigner::load_or_create(dir.path()).unwrap();
        assert_eq!(key.public_key(), again.public_key(), "kept, not remade");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("record.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let signature = key.sign(b"hello");
        let public = parse_public_key(&key.public_key_base64()).unwrap();
        assert!(verify(&public, b"hello", &signature));
        assert!(!verify(&public, b"hellO", &signature));
        let other = RecordSigner::ephemeral();
        assert!(!verify(other.public_key(), b"hello", &signature));
        assert_eq!(parse_public_key(&hex(&public)).unwrap(), public);
        assert!(parse_public_key("AAAA").is_err());
        assert_eq!(key.key_id().len(), 16);
    }
}

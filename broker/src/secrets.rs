//! Secrets: PINs, tokens, setup codes and password hashes. Everything random comes
//! from the operating system's CSPRNG (through `rand`'s `ThreadRng`, reseeded from it);
//! PINs and tokens are stored only as hashes.

use std::path::Path;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use hmac::{Hmac, Mac};
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

/// The key PIN hashes are made with. Kept in a file beside the database, so a copy
/// of the database alone does not let anyone test PINs against the hashes.
#[derive(Clone)]
pub struct PinKey([u8; 32]);

impl PinKey {
    /// Reads `dir/pin.key`, creating it (mode 0600) on first use.
    pub fn load_or_create(dir: &Path) -> std::io::Result<PinKey> {
        let path = dir.join("pin.key");
        match std::fs::read(&path) {
            Ok(bytes) if bytes.len() == 32 => {
                let mut key = [0u8; 32];
                key.copy_from_slice(&bytes);
                Ok(PinKey(key))
            }
            Ok(_) => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{} is not a 32-byte key", path.display()),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = PinKey::random();
                write_private(&path, &key.0)?;
                Ok(key)
            }
            Err(e) => Err(e),
        }
    }

    /// A fresh random key (tests).
    pub fn random() -> PinKey {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        PinKey(key)
    }

    /// HMAC-SHA-256 of the PIN under this key.
    pub fn hash(&self, pin: &str) -> Vec<u8> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(pin.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// HMAC-SHA-256 of `data` for another use of the key, kept apart from PIN hashes
    /// (and from each other) by `domain`.
    pub fn mac(&self, domain: &str, data: &[u8]) -> [u8; 32] {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(domain.as_bytes());
        mac.update(&[0]);
        mac.update(data);
        mac.finalize().into_bytes().into()
    }
}

/// Writes a new file readable by its owner only (0600), failing if it exists.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(bytes)
}

/// A six-digit PIN, uniform over 000000–999999.
pub fn new_pin() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// A bearer token: 256 random bits, hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// A link's join token: 128 random bits, hex (it stands in for a PIN, online only,
/// with no throttle needed).
pub fn new_join_token() -> String {
    new_session_id()
}

/// A four-digit check code that is none of `taken` (if one is found in a few draws:
/// `taken` is a handful of codes).
pub fn new_check_code(taken: &[String]) -> String {
    let mut rng = rand::rng();
    let mut code = String::new();
    for _ in 0..100 {
        code = format!("{:04}", rng.random_range(0..10_000u32));
        if !taken.contains(&code) {
            break;
        }
    }
    code
}

/// 16 random bytes (a device's id).
pub fn new_id_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

/// A session id: 128 random bits, hex.
pub fn new_session_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

/// SHA-256 of a token (tokens carry 256 bits: no key or slow hash is needed).
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// A one-time setup code such as `K7QM-3XHD-9TPW` (about 62 bits), easy to read aloud.
pub fn new_setup_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut rng = rand::rng();
    let chars: Vec<char> = (0..12)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Normalises a typed setup code: case and separators do not matter.
pub fn normalise_setup_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An Argon2id hash of a password in PHC form.
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the stored PHC hash.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_six_digits_and_spread() {
        let pins: Vec<String> = (0..2000).map(|_| new_pin()).collect();
        assert!(pins
            .iter()
            .all(|p| p.len() == 6 && p.bytes().all(|b| b.is_ascii_digit())));
        let distinct: std::collections::HashSet<_> = pins.iter().collect();
        assert!(
            distinct.len() > 1990,
            "2000 draws from a million should barely collide"
        );
        // Every leading digit shows up: the draw covers the whole range.
        for d in b'0'..=b'9' {
            assert!(pins.iter().any(|p| p.as_bytes()[0] == d));
        }
    }

    #[test]
    fn pin_hash_depends_on_key() {
        let (a, b) = (PinKey::random(), PinKey::random());
        assert_eq!(a.hash("123456"), a.hash("123456"));
        assert_ne!(a.hash("123456"), a.hash("123457"));
        assert_ne!(a.hash("123456"), b.hash("123456"));
    }

    #[test]
    fn passwords() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn setup_codes() {
        let code = new_setup_code();
        assert_eq!(code.len(), 14);
        assert_eq!(
            normalise_setup_code(&code.to_lowercase().replace('-', " ")),
            code.replace('-', "")
        );
    }
}

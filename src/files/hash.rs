//! SHA-256 computed a piece at a time, as the bytes are read or arrive, so a file is
//! never held whole just to be checked. Hex is lower case, as the protocol wants.

use sha2::{Digest, Sha256};

/// A SHA-256 fed piece by piece.
#[derive(Clone, Default)]
pub struct StreamHash {
    inner: Sha256,
    bytes: u64,
}

impl StreamHash {
    pub fn new() -> StreamHash {
        StreamHash::default()
    }

    /// Adds the next bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.inner.update(bytes);
        self.bytes += bytes.len() as u64;
    }

    /// How many bytes went in so far.
    pub fn len(&self) -> u64 {
        self.bytes
    }

    pub fn is_empty(&self) -> bool {
        self.bytes == 0
    }

    /// The hash of everything added, in lower-case hex.
    pub fn finish(self) -> String {
        hex(&self.inner.finalize())
    }
}

/// The SHA-256 of `bytes` in one go (for tests and small things).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn pieces_give_the_one_shot_hash_across_chunk_boundaries() {
        let data: Vec<u8> = (0..200_003u32).map(|i| (i * 31 % 251) as u8).collect();
        let whole = sha256_hex(&data);
        for piece in [1usize, 63, 64, 65, 4096, 65_536, 65_537, 200_003] {
            let mut hash = StreamHash::new();
            for chunk in data.chunks(piece) {
                hash.update(chunk);
            }
            assert_eq!(hash.len(), data.len() as u64);
            assert_eq!(hash.finish(), whole, "pieces of {piece}");
        }
    }
}

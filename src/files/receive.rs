//! The receiving side of one transfer: hashes each message as it arrives and keeps the
//! bytes as Blob parts, merged into one Blob every [`MERGE_BYTES`], so the browser can
//! move them out of the page's memory and the file is never held twice.

use js_sys::{Array, ArrayBuffer, Uint8Array};
use wasm_bindgen::JsValue;
use web_sys::{Blob, BlobPropertyBag};

use super::hash::StreamHash;

/// Loose parts are merged into the Blob once they reach this many bytes.
pub const MERGE_BYTES: u64 = 4 * 1024 * 1024;

/// The bytes of one incoming file so far.
pub struct Receiver {
    hash: StreamHash,
    /// What arrived since the last merge.
    parts: Array,
    loose: u64,
    merged: Option<Blob>,
}

impl Default for Receiver {
    fn default() -> Self {
        Receiver::new()
    }
}

impl Receiver {
    pub fn new() -> Receiver {
        Receiver {
            hash: StreamHash::new(),
            parts: Array::new(),
            loose: 0,
            merged: None,
        }
    }

    /// Bytes received so far.
    pub fn received(&self) -> u64 {
        self.hash.len()
    }

    /// Adds the next message.
    pub fn push(&mut self, buffer: &ArrayBuffer) -> Result<(), JsValue> {
        let bytes = Uint8Array::new(buffer);
        self.hash.update(&bytes.to_vec());
        self.parts.push(buffer);
        self.loose += u64::from(bytes.length());
        if self.loose >= MERGE_BYTES {
            self.merge()?;
        }
        Ok(())
    }

    fn merge(&mut self) -> Result<(), JsValue> {
        let all = Array::new();
        if let Some(merged) = self.merged.take() {
            all.push(&merged);
        }
        for part in self.parts.iter() {
            all.push(&part);
        }
        let options = BlobPropertyBag::new();
        options.set_type("application/octet-stream");
        self.merged = Some(Blob::new_with_blob_sequence_and_options(&all, &options)?);
        self.parts = Array::new();
        self.loose = 0;
        Ok(())
    }

    /// Every byte as one Blob, with its SHA-256.
    pub fn finish(mut self) -> Result<(String, Blob), JsValue> {
        self.merge()?;
        let blob = match self.merged.take() {
            Some(blob) => blob,
            None => Blob::new()?,
        };
        Ok((self.hash.finish(), blob))
    }
}

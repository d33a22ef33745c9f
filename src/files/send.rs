//! The sending side of one transfer: reads the file a block at a time with
//! `Blob.slice().arrayBuffer()`, hashes each block as it is read, and hands it to the
//! data channel in chunks, waiting for `bufferedamountlow` whenever more than
//! [`HIGH_WATER`] bytes wait to leave. At most one block and the channel's buffer are
//! in memory, whatever the file's size.

use std::cell::Cell;

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, RtcDataChannel, RtcDataChannelState};

use super::hash::StreamHash;
use super::wait::first_event;

/// Bytes waiting in the channel above which sending pauses.
pub const HIGH_WATER: u32 = 4 * 1024 * 1024;
/// Bytes waiting in the channel at which sending resumes (`bufferedAmountLowThreshold`).
pub const LOW_WATER: u32 = 1024 * 1024;
/// Bytes read from the file at a time.
pub const READ_BLOCK: u64 = 1024 * 1024;

/// Why a file stopped before its last byte left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// This page stopped it (cancel, revocation, the end).
    Stopped,
    /// The channel closed first (the other side, or the connection).
    Closed,
    /// The file could not be read (moved, deleted, no longer allowed).
    Unreadable,
}

/// Sends `blob` on `channel` in chunks of at most `chunk` bytes; `handed` counts the
/// bytes given to the channel. Returns the SHA-256 of every byte sent.
pub async fn send_blob(
    blob: &Blob,
    channel: &RtcDataChannel,
    chunk: usize,
    stop: &Cell<bool>,
    handed: &Cell<u64>,
) -> Result<String, SendError> {
    if channel.ready_state() == RtcDataChannelState::Connecting {
        first_event(channel, &["open", "close", "error"]).await;
    }
    let usable = |stop: &Cell<bool>| {
        if stop.get() {
            Err(SendError::Stopped)
        } else if channel.ready_state() != RtcDataChannelState::Open {
            Err(SendError::Closed)
        } else {
            Ok(())
        }
    };
    usable(stop)?;
    channel.set_buffered_amount_low_threshold(LOW_WATER);
    let chunk = chunk.clamp(1, u32::MAX as usize) as u32;
    let size = blob.size() as u64;
    let mut hash = StreamHash::new();
    let mut offset = 0u64;
    while offset < size {
        usable(stop)?;
        let end = (offset + READ_BLOCK).min(size);
        let bytes = read(blob, offset, end).await?;
        usable(stop)?;
        hash.update(&bytes.to_vec());
        let len = bytes.length();
        let mut at = 0u32;
        while at < len {
            while channel.buffered_amount() > HIGH_WATER {
                first_event(channel, &["bufferedamountlow", "close", "error"]).await;
                usable(stop)?;
            }
            usable(stop)?;
            let n = chunk.min(len - at);
            channel
                .send_with_array_buffer_view(&bytes.subarray(at, at + n))
                .map_err(|_| SendError::Closed)?;
            at += n;
            handed.set(offset + u64::from(at));
        }
        offset = end;
    }
    Ok(hash.finish())
}

/// Bytes `start..end` of `blob`.
async fn read(blob: &Blob, start: u64, end: u64) -> Result<Uint8Array, SendError> {
    let piece = blob
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(|_| SendError::Unreadable)?;
    let buffer: ArrayBuffer = JsFuture::from(piece.array_buffer())
        .await
        .map_err(|_| SendError::Unreadable)?
        .dyn_into()
        .map_err(|_| SendError::Unreadable)?;
    let bytes = Uint8Array::new(&buffer);
    if u64::from(bytes.length()) != end - start {
        // The file changed size while it was being read.
        return Err(SendError::Unreadable);
    }
    Ok(bytes)
}

//! File transfers and system information: what the log says about them.
//!
//! A file goes over its own `RTCDataChannel` (label `file-<id>`) on the files link, in
//! binary chunks; the log carries only its story: offered (name, size) → accepted by
//! the customer (for a file the technician sends) → sent (with the SHA-256 the sender
//! computed while reading it) → delivered (with the SHA-256 the receiver computed,
//! which must be the same) — or refused, or failed (cancelled, hash mismatch, connection
//! lost, permission revoked, session ended).

use serde::{Deserialize, Serialize};

use crate::log::Role;

/// Bytes per data channel message (below every browser's SCTP message limit).
pub const FILE_CHUNK_BYTES: usize = 64 * 1024;
/// Longest file name, in characters.
pub const FILE_NAME_MAX_CHARS: usize = 255;
/// Most items in one system information report.
pub const INFO_MAX_ITEMS: usize = 40;
/// Longest label and value of a system information item, in characters.
pub const INFO_LABEL_MAX_CHARS: usize = 64;
pub const INFO_VALUE_MAX_CHARS: usize = 500;

crate::tagged! {
    tag = "status";
    /// Where a file transfer is.
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    pub enum FileStatus {
        /// Offered by the sender; a file from the technician waits for the customer's yes.
        Offered,
        /// The customer said yes: bytes may flow.
        Accepted,
        /// The sender sent every byte.
        Sent,
        /// The receiver has it, with the same SHA-256.
        Delivered,
        /// The customer said no.
        Refused,
        /// Stopped before delivery.
        Failed { reason: FileFailure },
    }
}

impl FileStatus {
    /// Whether the transfer is still going (offered, accepted or sent).
    pub fn in_flight(self) -> bool {
        matches!(
            self,
            FileStatus::Offered | FileStatus::Accepted | FileStatus::Sent
        )
    }
}

crate::tagged! {
    tag = "why";
    /// Why a transfer stopped before delivery.
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    pub enum FileFailure {
        /// A member pressed Cancel.
        Cancelled { by: Role },
        /// The bytes that arrived do not have the sender's SHA-256.
        HashMismatch,
        /// The connection broke.
        ConnectionLost,
        /// The permission for this direction was taken back.
        Revoked,
        /// The session ended.
        Ended,
        /// The file could not be read or saved.
        Unreadable,
        /// The technician handed the session over (the grant was theirs).
        HandedOver,
        /// The time the customer gave this direction's grant ran out.
        GrantExpired,
    }
}

/// One transfer as the state knows it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileTransfer {
    pub file: u32,
    /// Who sends it.
    pub from: Role,
    pub name: String,
    pub size: u64,
    pub status: FileStatus,
    /// The sender's SHA-256 (hex), once sent.
    pub sha256: Option<String>,
}

/// One fact of a system information report, as shown to the customer before sending.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InfoItem {
    pub label: String,
    pub value: String,
}

/// Whether `hash` is a SHA-256 in lower-case hex.
pub fn is_sha256_hex(hash: &str) -> bool {
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A file name made safe to save under: no folders, no control or reserved characters,
/// no leading dots, no white space or dots at either end (Windows drops trailing ones),
/// not a Windows device name, not empty, at most 255 bytes. A safe name stays as it is.
pub fn safe_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let mapped: String = base
        .chars()
        .map(|c| {
            if c.is_control() || crate::reorders_text(c) || "<>:\"|?*".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    // Trimming can uncover more to trim (" . .x" leaves " .x" after one pass): repeat.
    let mut out = mapped.as_str();
    loop {
        let next = out.trim().trim_start_matches('.').trim_end_matches('.');
        if next.len() == out.len() {
            break;
        }
        out = next;
    }
    let mut out = fit(out.to_string());
    let stem = out.split('.').next().unwrap_or("").to_ascii_uppercase();
    const RESERVED: [&str; 22] = [
        "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
        "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
    ];
    if RESERVED.contains(&stem.as_str()) {
        out.insert(0, '_');
        out = fit(out);
    }
    if out.is_empty() {
        "file".into()
    } else {
        out
    }
}

/// Cuts `name` to at most 255 bytes on a character boundary, then drops the white space
/// and dots the cut may have left at its end.
fn fit(mut name: String) -> String {
    while name.len() > 255 {
        name.pop();
    }
    let end = name
        .trim_end_matches(|c: char| c == '.' || c.is_whitespace())
        .len();
    name.truncate(end);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_file_name("report.pdf"), "report.pdf");
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Windows\\evil.bat"), "evil.bat");
        assert_eq!(safe_file_name("invoice\u{202e}fdp.exe"), "invoice_fdp.exe");
        assert_eq!(safe_file_name("a\tb.txt"), "a_b.txt");
        assert_eq!(
            safe_file_name("a<b>c:d\"e|f?g*h.txt"),
            "a_b_c_d_e_f_g_h.txt"
        );
        assert_eq!(safe_file_name("bell\u{7}.txt"), "bell_.txt");
        assert_eq!(safe_file_name(".bashrc"), "bashrc");
        assert_eq!(safe_file_name("CON.txt"), "_CON.txt");
        assert_eq!(safe_file_name("..."), "file");
        assert_eq!(safe_file_name("ünïcödé ✓.txt"), "ünïcödé ✓.txt");
        assert!(safe_file_name(&"é".repeat(300)).len() <= 255);
    }

    #[test]
    fn hashes() {
        assert!(is_sha256_hex(&"ab".repeat(32)));
        assert!(!is_sha256_hex(&"AB".repeat(32)));
        assert!(!is_sha256_hex("abc"));
    }
}

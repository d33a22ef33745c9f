//! The ConnectIT protocol: everything both the broker and the browser must agree on.
//!
//! # Layout
//!
//! The rule book of a session, in four parts (pure: no I/O, no clock of their own):
//!
//! - [`state`]: [`SessionState`], the fold of the log ([`SessionState::apply`]), read
//!   through accessors;
//! - [`rules`]: [`SessionState::check`], which refuses every entry the rules forbid;
//! - [`mod@decide`]: what a member's action appends ([`decide()`]: its entry and what
//!   follows from it), and whether a link may be open ([`SessionState::may_open`]);
//! - [`due`]: what time makes happen ([`SessionState::due`], and when,
//!   [`SessionState::next_due`]).
//!
//! And what the two sides exchange:
//!
//! - [`log`]: the session log's entries (what happened, who did it, when);
//! - [`permission`], [`files`]: what a technician may ask for, the streams and links
//!   that carry it, the transfers;
//! - [`wire`]: the WebSocket messages, one enum per direction;
//! - [`api`]: the HTTP request and response bodies;
//! - [`error`]: the error codes, shared by HTTP and WebSocket answers;
//! - [`tag_first`]: how the browser's build reads the tagged enums (feature `tag-first`).
//!
//! The crate has no I/O and no clock: times are milliseconds since the Unix epoch on
//! the broker's clock, passed in by the caller.
#![forbid(unsafe_code)]

pub mod api;
pub mod decide;
pub mod due;
pub mod error;
pub mod files;
pub mod log;
pub mod permission;
pub mod rules;
pub mod state;
pub mod tag_first;
pub mod wire;

pub use decide::{decide, decide_due, Actor, Limits};
pub use due::Timeouts;
pub use error::{ErrorCode, RuleViolation};
pub use files::{FileFailure, FileStatus, FileTransfer, InfoItem};
pub use log::{Author, EndReason, EntryKind, EntryType, LogEntry, Role, Seq};
pub use permission::{
    IceConfig, IcePolicy, IceServer, Link, Media, MediaChange, MediaState, PathFailure, Permission,
    StopCause,
};
pub use state::{PendingRequest, Phase, SessionState};
pub use wire::{Action, ClientMessage, ServerMessage};

/// The schema generator, for the checked-in JSON Schemas (feature `schema`).
#[cfg(feature = "schema")]
pub use schemars;

/// Milliseconds since the Unix epoch, on the broker's clock.
pub type Millis = u64;

/// A session's public identifier (random, URL-safe). Knowing it grants nothing: the
/// customer needs a token, the technician a signed-in cookie.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct SessionId(pub String);

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Limits both sides enforce.
pub mod limits {
    /// Longest chat message, in characters.
    pub const CHAT_MAX_CHARS: usize = 4000;
    /// Longest survey comment, in characters.
    pub const COMMENT_MAX_CHARS: usize = 2000;
    /// Largest WebSocket message the broker accepts, in bytes (an SDP offer with its
    /// candidates fits several times over).
    pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
    /// Largest WebRTC signal payload relayed, in bytes.
    pub const MAX_SIGNAL_BYTES: usize = 24 * 1024;
    /// Longest reason line of a permission request, in characters.
    pub const REASON_MAX_CHARS: usize = 200;
    /// Longest technician display name, in characters.
    pub const NAME_MAX_CHARS: usize = 100;
    /// Colleagues a session may have invited or joined at once, besides the technician
    /// who has it.
    pub const MAX_GUESTS: usize = 8;
    /// Longest problem description a customer gives on a team's link.
    pub const PROBLEM_MAX_CHARS: usize = 500;
    /// Longest ticket reference.
    pub const TICKET_MAX_CHARS: usize = 64;
    /// Longest private note on a session.
    pub const NOTE_MAX_CHARS: usize = 4000;
    /// Most notes one session may hold.
    pub const NOTES_MAX: usize = 200;
    /// Longest title of a canned reply.
    pub const REPLY_TITLE_MAX_CHARS: usize = 80;
    /// Most canned replies one team may keep.
    pub const REPLIES_MAX: usize = 200;
    /// Longest team slug (its link's path segment) and team name.
    pub const SLUG_MAX_CHARS: usize = 40;
    /// Number of digits in a PIN.
    pub const PIN_DIGITS: usize = 6;
    /// The longest a grant may be given for at once (it may be renewed), in seconds.
    pub const GRANT_MAX_SECS: u64 = 24 * 3600;
    /// Number of digits in a connection's verification code.
    pub const CODE_DIGITS: usize = 6;
    /// Most areas a customer may paint over on one shared picture at once.
    pub const HIDDEN_AREAS_MAX: u8 = 16;
}

/// Cleans what a person typed or pasted as a PIN: spaces, dashes and dots go; the
/// result is `Some` only when exactly six ASCII digits remain.
pub fn clean_pin(input: &str) -> Option<String> {
    let mut out = String::with_capacity(limits::PIN_DIGITS);
    for c in input.chars() {
        match c {
            '0'..='9' => out.push(c),
            ' ' | '-' | '.' | '\u{a0}' | '\t' => {}
            _ => return None,
        }
    }
    (out.len() == limits::PIN_DIGITS).then_some(out)
}

/// Checks that a piece of text a person wrote may enter the log: not blank, at most
/// `max_chars` characters, no control characters but newline and tab.
pub fn check_text(text: &str, max_chars: usize) -> Result<(), RuleViolation> {
    if text.trim().is_empty() {
        return Err(RuleViolation::EmptyText);
    }
    if text.chars().count() > max_chars {
        return Err(RuleViolation::TextTooLong {
            max_chars: max_chars as u32,
        });
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(RuleViolation::ControlCharacters);
    }
    Ok(())
}

/// Whether `c` is one of the invisible characters that reorder text (bidirectional
/// embeddings, overrides and isolates), which can make `exe.pdf` read as `fdp.exe`.
pub fn reorders_text(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Text a person wrote, as it may be shown: without the characters that [reorder
/// text](reorders_text). The log keeps what was sent; every place that shows chat, a
/// name or a reason shows it through this (and in its own bidirectional isolate), so a
/// message cannot make `exe.pdf` read as `fdp.exe` or flip what follows it.
pub fn shown_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.chars().any(reorders_text) {
        std::borrow::Cow::Owned(text.chars().filter(|c| !reorders_text(*c)).collect())
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Checks a name that stands on one line (a file name): [`check_text`], and no line
/// break or tab either, and no character that [reorders text](reorders_text).
pub fn check_name(name: &str, max_chars: usize) -> Result<(), RuleViolation> {
    check_text(name, max_chars)?;
    if name
        .chars()
        .any(|c| c == '\n' || c == '\t' || reorders_text(c))
    {
        return Err(RuleViolation::ControlCharacters);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_on_one_line_in_their_own_order() {
        assert!(check_name("report (1).pdf", 255).is_ok());
        assert!(check_name("تقرير.pdf", 255).is_ok());
        for bad in [
            "a\nb.txt",
            "a\tb.txt",
            "invoice\u{202e}fdp.exe",
            "x\u{2066}y",
            "nul\0",
        ] {
            assert_eq!(
                check_name(bad, 255),
                Err(RuleViolation::ControlCharacters),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn shown_text_drops_what_reorders_it() {
        assert_eq!(shown_text("invoice\u{202e}fdp.exe"), "invoicefdp.exe");
        assert_eq!(shown_text("a\u{2066}b\u{2069}c\u{202a}d"), "abcd");
        assert!(matches!(
            shown_text("مرحبا hello"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn pins_are_cleaned_of_separators() {
        assert_eq!(clean_pin("123456").as_deref(), Some("123456"));
        assert_eq!(clean_pin(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(clean_pin("12-34-56").as_deref(), Some("123456"));
        assert_eq!(clean_pin("12345"), None);
        assert_eq!(clean_pin("1234567"), None);
        assert_eq!(clean_pin("12a456"), None);
        assert_eq!(
            clean_pin("１２３４５６"),
            None,
            "full-width digits are not ASCII"
        );
        assert_eq!(clean_pin(""), None);
    }

    #[test]
    fn text_rules() {
        assert!(check_text("hello\nthere\t!", 100).is_ok());
        assert_eq!(check_text("  \n ", 100), Err(RuleViolation::EmptyText));
        assert_eq!(
            check_text("abc", 2),
            Err(RuleViolation::TextTooLong { max_chars: 2 })
        );
        assert_eq!(
            check_text("a\u{7}b", 100),
            Err(RuleViolation::ControlCharacters)
        );
        assert_eq!(
            check_text("a\u{1b}[31m", 100),
            Err(RuleViolation::ControlCharacters)
        );
        assert!(check_text("ünïcödé ✓", 9).is_ok());
    }
}

//! The checks behind the fuzz targets in `fuzz/`, shared with `tests/fuzz_corpus.rs`,
//! which replays every committed corpus file through them on the stable toolchain.
//!
//! Each check takes the raw input and panics when a property fails:
//!
//! - [`client_message`]: what a browser sends on a session socket (text frames);
//! - [`server_message`]: what the broker sends on session and console sockets, and the
//!   WebRTC signal bodies two browsers pass through it;
//! - [`api_body`]: the HTTP JSON bodies (requests the broker parses, answers the browser
//!   parses, and a downloaded session record that `verify-record` reads);
//! - [`reducer`]: a session driven by a sequence of (author, entry, time) built from the
//!   bytes, through the broker's check-then-apply path, against the rules' invariants;
//! - [`text_rules`]: PIN cleaning, text rules, file names and SHA-256 strings.
//!
//! Whatever decodes must encode, decode to the same value, and encode to the same text.
#![allow(dead_code)]

use std::fmt::Debug;

use connectit_protocol::api::*;
use connectit_protocol::files::{is_sha256_hex, safe_file_name, FileStatus};
use connectit_protocol::wire::{ConsoleMessage, SignalBody};
use connectit_protocol::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Decodes `text` as a `T`; when it decodes, checks the round trip. Returns the value.
fn round_trip_str<T: Serialize + DeserializeOwned + PartialEq + Debug>(text: &str) -> Option<T> {
    let value: T = serde_json::from_str(text).ok()?;
    same_again(&value);
    Some(value)
}

/// As [`round_trip_str`], for bytes the way the broker reads HTTP bodies.
fn round_trip_slice<T: Serialize + DeserializeOwned + PartialEq + Debug>(
    bytes: &[u8],
) -> Option<T> {
    let value: T = serde_json::from_slice(bytes).ok()?;
    same_again(&value);
    Some(value)
}

/// `value` encodes, decodes to itself, and encodes to the same text again.
fn same_again<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let text = serde_json::to_string(value).expect("every decoded value encodes");
    let back: T = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("re-encoded value does not decode ({e}): {text}"));
    assert_eq!(&back, value, "round trip changed the value: {text}");
    let again = serde_json::to_string(&back).expect("encodes");
    assert_eq!(again, text, "encoding is not stable");
}

/// A session socket's text frame from a browser, decoded as the broker does.
pub fn client_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(ClientMessage::Signal { payload, .. }) = round_trip_str::<ClientMessage>(text) {
        // The payload is opaque to the broker; the other browser decodes it.
        round_trip_str::<SignalBody>(&payload);
    }
}

/// A frame from the broker, decoded as the browser does (session and console sockets).
pub fn server_message(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(ServerMessage::Signal { payload, .. }) = round_trip_str::<ServerMessage>(text) {
        round_trip_str::<SignalBody>(&payload);
    }
    round_trip_str::<ConsoleMessage>(text);
    round_trip_str::<SignalBody>(text);
}

/// An HTTP body, decoded as every type that crosses HTTP.
pub fn api_body(data: &[u8]) {
    // Requests the broker parses.
    round_trip_slice::<SetupRequest>(data);
    round_trip_slice::<SignInRequest>(data);
    round_trip_slice::<VerifyPinRequest>(data);
    round_trip_slice::<SurveyRequest>(data);
    round_trip_slice::<RecordRequest>(data);
    round_trip_slice::<SessionRecord>(data);
    // Answers the browser parses.
    round_trip_slice::<PublicConfig>(data);
    round_trip_slice::<SetupStatus>(data);
    round_trip_slice::<Technician>(data);
    round_trip_slice::<CreatedSession>(data);
    round_trip_slice::<Vec<SessionSummary>>(data);
    round_trip_slice::<VerifyPinResponse>(data);
    round_trip_slice::<ErrorCode>(data);
}

/// PIN cleaning, text rules, file names and SHA-256 strings: their stated properties.
pub fn text_rules(data: &[u8]) {
    let (&first, rest) = data.split_first().unwrap_or((&0, &[]));
    let text = String::from_utf8_lossy(rest);

    if let Some(pin) = clean_pin(&text) {
        assert_eq!(pin.len(), limits::PIN_DIGITS);
        assert!(pin.bytes().all(|b| b.is_ascii_digit()), "{pin:?}");
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        assert_eq!(pin, digits, "the PIN is the input's digits, in order");
        assert_eq!(clean_pin(&pin).as_deref(), Some(pin.as_str()));
    }

    let max = usize::from(first);
    if check_text(&text, max).is_ok() {
        assert!(!text.trim().is_empty());
        assert!(text.chars().count() <= max);
        assert!(!text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'));
    }

    let safe = safe_file_name(&text);
    assert!(!safe.is_empty(), "{text:?}");
    assert!(safe.len() <= 255, "{text:?} -> {} bytes", safe.len());
    assert!(!safe.contains(['/', '\\']), "{text:?} -> {safe:?}");
    assert!(
        !safe
            .chars()
            .any(|c| c.is_control() || "<>:\"|?*".contains(c)),
        "{text:?} -> {safe:?}"
    );
    assert!(!safe.starts_with('.'), "{text:?} -> {safe:?}");
    assert!(!safe.ends_with(['.', ' ']), "{text:?} -> {safe:?}");
    assert_eq!(safe, safe.trim(), "{text:?} -> {safe:?}");
    assert_eq!(safe_file_name(&safe), safe, "a safe name stays as it is");

    if is_sha256_hex(&text) {
        assert_eq!(text.len(), 64);
        assert_eq!(text.to_ascii_lowercase(), text);
        assert!(text.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

/// Reads the fuzzer's bytes as choices; past the end every choice is 0.
struct Choices<'a>(&'a [u8]);

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        let (&b, rest) = self.0.split_first().unwrap_or((&0, &[]));
        self.0 = rest;
        b
    }
    fn below(&mut self, n: usize) -> usize {
        usize::from(self.byte()) % n
    }
    fn pick<T: Clone>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())].clone()
    }
    fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }

    fn text(&mut self) -> String {
        match self.below(10) {
            0 => String::new(),
            1 => " \n\t ".into(),
            2 => "bell\u{7}".into(),
            3 => "x".repeat(limits::CHAT_MAX_CHARS + 1),
            4 => "é".repeat(limits::NAME_MAX_CHARS + 1),
            5 => "line one\nline two\t✓".into(),
            6 | 7 => {
                let n = self.below(24);
                let bytes: Vec<u8> = (0..n).map(|_| self.byte()).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            _ => "Alice".into(),
        }
    }

    fn permissions(&mut self, state: &SessionState) -> Vec<Permission> {
        let from_request = state
            .pending()
            .as_ref()
            .map(|p| p.permissions.clone())
            .unwrap_or_default();
        match self.below(4) {
            0 => from_request,
            1 => state.granted().to_vec(),
            _ => {
                let n = self.below(4);
                (0..n).map(|_| self.pick(&Permission::ALL)).collect()
            }
        }
    }

    /// An id that is often the one the state expects next or holds.
    fn id(&mut self, expected: &[u32]) -> u32 {
        match self.below(4) {
            0 => self.u32(),
            1 => self.below(3) as u32,
            _ if expected.is_empty() => 1,
            _ => self.pick(expected),
        }
    }

    fn time(&mut self, at: Millis) -> Millis {
        match self.below(5) {
            0 => at,
            1 => at.saturating_sub(u64::from(self.byte())),
            2 => at + 60_000,
            _ => at + u64::from(self.byte()) * 1_000,
        }
    }

    fn sha(&mut self, state: &SessionState, file: u32) -> String {
        match self.below(4) {
            0 => (0..64)
                .map(|_| char::from(b"0123456789abcdef"[self.below(16)]))
                .collect(),
            1 => "AB".repeat(32),
            2 => self.text(),
            _ => state
                .transfer(file)
                .ok()
                .and_then(|t| t.sha256.clone())
                .unwrap_or_else(|| "ab".repeat(32)),
        }
    }

    fn role(&mut self) -> Role {
        self.pick(&[Role::Customer, Role::Technician])
    }

    fn media(&mut self) -> Media {
        self.pick(&[Media::Screen, Media::Camera])
    }

    fn kind(&mut self, state: &SessionState, at: Millis) -> EntryKind {
        let pending: Vec<u32> = state.pending().iter().map(|p| p.request).collect();
        let files: Vec<u32> = (1..=state.files().len() as u32).collect();
        let file = self.id(&files);
        match self.below(31) {
            0 => EntryKind::CustomerJoined,
            1 => EntryKind::TermsAccepted,
            2 => EntryKind::TermsDeclined,
            3 => EntryKind::TechnicianPickedUp { name: self.text() },
            4 => EntryKind::Chat {
                text: self.text(),
                by: None,
            },
            5 => EntryKind::Disconnected { role: self.role() },
            6 => EntryKind::Reconnected { role: self.role() },
            7 => EntryKind::SessionEnded {
                reason: self.pick(&[
                    EndReason::CustomerEnded,
                    EndReason::TechnicianEnded,
                    EndReason::TermsDeclined,
                    EndReason::PinExpired,
                    EndReason::WaitingTimeout,
                    EndReason::OtherCustomerChosen,
                ]),
            },
            8 => EntryKind::PermissionRequested {
                request: self.id(&[state.requests() + 1]),
                permissions: self.permissions(state),
                reason: self.text(),
                deadline: self.time(at),
            },
            9 => EntryKind::PermissionGranted {
                request: self.id(&pending),
                granted: self.permissions(state),
                until: None,
            },
            10 => EntryKind::PermissionDenied {
                request: self.id(&pending),
            },
            11 => EntryKind::PermissionExpired {
                request: self.id(&pending),
            },
            12 => EntryKind::PermissionExtended {
                request: self.id(&pending),
                deadline: self.time(at),
            },
            13 => EntryKind::PermissionsRevoked {
                permissions: self.permissions(state),
            },
            14 => EntryKind::AppletOffered {
                request: self.id(&state.applet_due().into_iter().collect::<Vec<_>>()),
            },
            15 => EntryKind::Media {
                media: self.media(),
                change: self.pick(&[
                    MediaChange::Started,
                    MediaChange::Paused,
                    MediaChange::Resumed,
                    MediaChange::Stopped {
                        cause: StopCause::Customer,
                    },
                    MediaChange::Stopped {
                        cause: StopCause::Browser,
                    },
                    MediaChange::Stopped {
                        cause: StopCause::Failed,
                    },
                ]),
            },
            16 => EntryKind::PeerRestarted {
                media: self.media(),
            },
            17 => EntryKind::FileOffered {
                file: self.id(&[state.files().len() as u32 + 1]),
                name: self.text(),
                size: u64::from(self.u32()),
            },
            18 => EntryKind::FileAccepted { file },
            19 => EntryKind::FileRefused { file },
            20 => EntryKind::FileSent {
                file,
                sha256: self.sha(state, file),
            },
            21 => EntryKind::FileDelivered {
                file,
                sha256: self.sha(state, file),
            },
            22 => EntryKind::FileFailed {
                file,
                reason: match self.below(7) {
                    0 => FileFailure::Cancelled { by: self.role() },
                    1 => FileFailure::HashMismatch,
                    2 => FileFailure::ConnectionLost,
                    3 => FileFailure::Revoked,
                    4 => FileFailure::Ended,
                    5 => FileFailure::HandedOver,
                    _ => FileFailure::Unreadable,
                },
            },
            23 => {
                let n = match self.below(8) {
                    0 => files::INFO_MAX_ITEMS + 1,
                    n => n - 1,
                };
                EntryKind::SystemInfoShared {
                    items: (0..n)
                        .map(|_| InfoItem {
                            label: self.text(),
                            value: self.text(),
                        })
                        .collect(),
                }
            }
            24 => EntryKind::SurveySubmitted {
                rating: self.below(8) as u8,
                resolved: self.pick(&[None, Some(true), Some(false)]),
                comment: self.text(),
            },
            25 => EntryKind::PathFailed {
                link: self.pick(&[Link::Screen, Link::Camera, Link::Files]),
                reason: self.pick(&[PathFailure::IceFailed, PathFailure::TimedOut]),
            },
            26 => EntryKind::HandedOver {
                from: self.colleague(state),
                to: match self.below(3) {
                    0 => None,
                    _ => Some(self.colleague(state)),
                },
            },
            27 => EntryKind::TechnicianInvited {
                by: self.colleague(state),
                name: self.colleague(state),
            },
            28 => EntryKind::TechnicianJoined {
                name: self.colleague(state),
            },
            29 => EntryKind::TechnicianLeft {
                name: self.colleague(state),
            },
            _ => EntryKind::AppletOffered {
                request: state.applet_due().unwrap_or(state.requests()),
            },
        }
    }

    /// A technician's name: whoever has the session, one invited or joined, or anyone.
    fn colleague(&mut self, state: &SessionState) -> String {
        let mut known: Vec<String> = state.technician().into_iter().map(str::to_owned).collect();
        known.extend(state.invited().iter().cloned());
        known.extend(state.guests().iter().cloned());
        match self.below(4) {
            0 => self.text(),
            1 => "Bob".into(),
            _ if known.is_empty() => self.text(),
            _ => {
                let i = self.below(known.len());
                known[i].clone()
            }
        }
    }
}

const PHASES: [Phase; 5] = [
    Phase::Created,
    Phase::Connecting,
    Phase::Waiting,
    Phase::Active,
    Phase::Ended,
];

fn rank(phase: Phase) -> usize {
    PHASES
        .iter()
        .position(|p| *p == phase)
        .expect("every phase")
}

/// What must hold of any state a log can reach. `requested` is every permission some
/// accepted request named; `chats` the number of accepted chat entries.
fn invariants(state: &SessionState, requested: &[Permission], chats: u64, entries: usize) {
    let ctx = || format!("{state:?}");
    assert_eq!(state.last_seq(), entries as u64, "{}", ctx());
    assert_eq!(state.chat_count(), chats, "{}", ctx());
    // Grants: a sorted set of grantable permissions that some request asked for.
    assert!(state.granted().windows(2).all(|w| w[0] < w[1]), "{}", ctx());
    for p in state.granted() {
        assert!(p.grantable(), "{}", ctx());
        assert!(
            requested.contains(p),
            "granted but never requested: {}",
            ctx()
        );
    }
    // No media runs without its grant.
    for media in [Media::Screen, Media::Camera] {
        if state.media(media) != MediaState::Off {
            assert!(state.has(media.permission()), "{media:?}: {}", ctx());
        }
    }
    // A pending request, and an applet offer due, exist only while active.
    if let Some(p) = &state.pending() {
        assert_eq!(state.phase(), Phase::Active, "{}", ctx());
        assert_eq!(p.request, state.requests(), "{}", ctx());
        assert!(!p.permissions.is_empty(), "{}", ctx());
    }
    if state.applet_due().is_some() {
        assert_eq!(state.phase(), Phase::Active, "{}", ctx());
    }
    // Who is there follows the phase.
    assert_eq!(
        state.end_reason().is_some(),
        state.phase() == Phase::Ended,
        "{}",
        ctx()
    );
    if matches!(
        state.phase(),
        Phase::Connecting | Phase::Waiting | Phase::Active
    ) {
        assert!(state.customer_joined(), "{}", ctx());
    }
    if state.phase() == Phase::Created {
        assert!(!state.customer_joined(), "{}", ctx());
    }
    if state.technician().is_some() {
        assert!(rank(state.phase()) >= rank(Phase::Active), "{}", ctx());
    }
    if state.phase() == Phase::Active {
        assert!(state.technician().is_some(), "{}", ctx());
    }
    if state.away(Role::Customer) {
        assert!(state.customer_joined(), "{}", ctx());
    }
    if state.away(Role::Technician) {
        assert!(state.technician().is_some(), "{}", ctx());
    }
    if state.survey_submitted() {
        assert!(
            state.phase() == Phase::Ended && state.customer_joined(),
            "{}",
            ctx()
        );
    }
    // The end stops everything.
    if state.phase() == Phase::Ended {
        assert!(state.granted().is_empty(), "{}", ctx());
        assert!(state.pending().is_none(), "{}", ctx());
        assert_eq!(state.media(Media::Screen), MediaState::Off, "{}", ctx());
        assert_eq!(state.media(Media::Camera), MediaState::Off, "{}", ctx());
        assert!(
            state.files().iter().all(|t| !t.status.in_flight()),
            "{}",
            ctx()
        );
    }
    // Files: numbered in order; a sent or delivered file has the sender's hash.
    for (i, t) in state.files().iter().enumerate() {
        assert_eq!(t.file as usize, i + 1, "{}", ctx());
        if matches!(t.status, FileStatus::Sent | FileStatus::Delivered) {
            assert!(t.sha256.as_deref().is_some_and(is_sha256_hex), "{}", ctx());
        }
    }
}

/// Drives one session with entries built from `data`, the way the broker appends them:
/// the time never goes back, `check` first, then `apply` to a copy that replaces the
/// state. Panics when an invariant breaks.
pub fn reducer(data: &[u8]) {
    let mut c = Choices(data);
    let mut state = SessionState::default();
    let mut log: Vec<LogEntry> = Vec::new();
    let mut requested: Vec<Permission> = Vec::new();
    let mut chats = 0;
    let mut at: Millis = 1_700_000_000_000;
    while !c.done() && log.len() < 128 {
        at += match c.below(4) {
            0 => 0,
            1 => u64::from(c.byte()),
            2 => 1_000 * u64::from(c.byte()),
            _ => 60_001,
        };
        let author = c.pick(&[Author::Customer, Author::Technician, Author::System]);
        let kind = c.kind(&state, at);
        let before = state.clone();

        let checked = state.check(author, &kind, at);
        let entry = LogEntry {
            seq: state.last_seq() + 1,
            at,
            author,
            kind,
        };
        let mut next = state.clone();
        let applied = next.apply(&entry);
        assert_eq!(applied, checked, "check and apply disagree on {entry:?}");
        if applied.is_err() {
            assert_eq!(next, before, "a refused entry changed the state: {entry:?}");
            continue;
        }
        state = next;
        // Phases only move forward; after the end, only the survey.
        assert!(
            rank(state.phase()) >= rank(before.phase()),
            "{before:?} -> {state:?}"
        );
        if before.phase() == Phase::Ended {
            assert!(
                matches!(entry.kind, EntryKind::SurveySubmitted { .. }),
                "{entry:?} after the end"
            );
        }
        match &entry.kind {
            EntryKind::PermissionRequested { permissions, .. } => {
                requested.extend(permissions.iter().copied())
            }
            EntryKind::Chat { .. } => chats += 1,
            EntryKind::PermissionGranted { granted, .. } => {
                for p in granted {
                    assert!(state.has(*p), "{p:?} granted: {state:?}");
                }
            }
            EntryKind::PermissionsRevoked { permissions } => {
                for p in permissions {
                    assert!(!state.has(*p), "{p:?} revoked: {state:?}");
                }
            }
            _ => {}
        }
        log.push(entry);
        invariants(&state, &requested, chats, log.len());
    }
    // An entry out of sequence is refused whatever it is, and changes nothing.
    if let Some(last) = log.last() {
        for seq in [state.last_seq(), state.last_seq() + 2] {
            let mut copy = state.clone();
            let wrong = LogEntry {
                seq,
                ..last.clone()
            };
            assert!(
                matches!(copy.apply(&wrong), Err(RuleViolation::SequenceGap { .. })),
                "{wrong:?}"
            );
            assert_eq!(copy, state);
        }
    }
    // The browser folds the same log to the same state; the log and the state survive
    // the wire as they are.
    assert_eq!(SessionState::fold(&log).expect("the log folds"), state);
    same_again(&log);
    same_again(&state);
}

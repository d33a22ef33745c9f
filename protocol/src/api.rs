//! HTTP request and response bodies (JSON). Errors are [`crate::ErrorCode`] bodies.

use serde::{Deserialize, Serialize};

use crate::reducer::Phase;
use crate::{Millis, SessionId};

/// `GET /api/config`: what the browser needs to know about this installation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicConfig {
    /// The organisation's name, shown on every page.
    pub organisation: String,
    /// The terms and conditions the customer accepts (plain text, paragraphs split by
    /// blank lines).
    pub terms: String,
    /// How to reach support another way (phone, e-mail), shown in the footer.
    pub support_contact: String,
    /// Where the organisation's native applet is downloaded.
    pub applet_url: String,
    /// How long a PIN stays valid, in seconds.
    pub pin_validity_secs: u64,
    /// The largest file either side may send, in bytes.
    pub max_file_bytes: u64,
    /// The organisation's own wording, by language code then message key: it replaces
    /// the built-in catalog's text for those keys, or adds a language.
    #[serde(default)]
    pub texts: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// The broker's clock when it answered.
    pub now: Millis,
}

/// `GET /api/setup`: whether the first technician account still needs creating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupStatus {
    pub needs_setup: bool,
}

/// `POST /api/setup`: create the first technician account with the one-time code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupRequest {
    pub code: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// `POST /api/auth/sign-in`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

/// A signed-in technician (`GET /api/auth/me`, and the answer to sign-in and setup).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technician {
    pub username: String,
    pub display_name: String,
}

/// `POST /api/sessions`: a new session for the signed-in technician.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedSession {
    pub id: SessionId,
    /// The six digits to read out. Shown once: the broker keeps only a keyed hash.
    pub pin: String,
    pub expires_at: Millis,
    /// The customer page with the PIN in the fragment (`…/#pin=123456`).
    pub link: String,
    /// A ready e-mail to send from the organisation's own address.
    pub email_subject: String,
    pub email_body: String,
}

/// One session, as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub id: SessionId,
    pub phase: Phase,
    pub created_at: Millis,
    pub pin_expires_at: Millis,
    /// Time of the last log entry (or creation).
    pub last_activity: Millis,
    /// Number of chat messages.
    pub messages: u64,
    /// Whether the customer is connected now.
    pub customer_online: bool,
}

/// `POST /api/pin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyPinRequest {
    pub pin: String,
}

/// The answer to a right PIN: a token for this session only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyPinResponse {
    pub session: SessionId,
    pub token: String,
}

/// `POST /api/survey`, after the session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurveyRequest {
    pub token: String,
    /// 1 (poor) to 5 (excellent).
    pub rating: u8,
    /// "Was your problem resolved?" (`None`: not answered).
    pub resolved: Option<bool>,
    pub comment: String,
}

/// The session's record as the customer and the technician download it: every entry of
/// the log with its chain hash, and the last hash, which stands for the whole log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// `connectit-record/1`.
    pub format: String,
    pub session: SessionId,
    pub organisation: String,
    /// The technician's display name.
    pub technician: String,
    pub created_at: Millis,
    /// When this copy was made (broker time).
    pub exported_at: Millis,
    pub entries: Vec<RecordEntry>,
    /// Hex SHA-256 chain hash of the last entry.
    pub final_hash: String,
}

/// One entry of a [`SessionRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordEntry {
    #[serde(flatten)]
    pub entry: crate::LogEntry,
    /// Hex SHA-256 of the previous entry's hash and this entry.
    pub hash: String,
}

/// `POST /api/record`: the customer's copy of the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRequest {
    pub token: String,
    pub format: RecordFormat,
}

/// The two shapes of a record download.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordFormat {
    /// A readable page.
    Html,
    /// [`SessionRecord`] as JSON, for verification.
    Json,
}

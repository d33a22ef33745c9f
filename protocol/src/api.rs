//! HTTP request and response bodies (JSON). Errors are [`crate::ErrorCode`] bodies.

use serde::{Deserialize, Serialize};

use crate::error::Field;
use crate::state::Phase;
use crate::{limits, Millis, SessionId};

/// `GET /api/config`: what the browser needs to know about this installation.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// The most a screen share may send, in kbit/s (0: the browser decides). Under a
    /// tight rate the picture keeps its resolution and drops frames.
    #[serde(default)]
    pub screen_max_kbps: u32,
    /// The organisation's own wording, by language code then message key: it replaces
    /// the built-in catalog's text for those keys, or adds a language.
    #[serde(default)]
    pub texts: std::collections::BTreeMap<String, std::collections::BTreeMap<String, String>>,
    /// The broker's clock when it answered.
    pub now: Millis,
    /// What the installation lacks, for the console to say (the broker logs it at start).
    #[serde(default)]
    pub warnings: Vec<ConfigWarning>,
    /// How technicians sign in to the console.
    #[serde(default)]
    pub sign_in: SignInMethods,
    /// Whether the broker sends e-mail (`POST /api/sessions/{id}/email`).
    #[serde(default)]
    pub sends_email: bool,
    /// How long the customer's prompt proposes to grant for, in minutes (0: until the
    /// session ends).
    #[serde(default)]
    pub grant_default_mins: u32,
}

/// How technicians may sign in.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInMethods {
    /// With a user name and password.
    pub passwords: bool,
    /// Through the organisation's OpenID provider, named so (`"Example University"`):
    /// the console's button goes to `GET /api/auth/oidc/start`. `None`: not offered.
    #[serde(default)]
    pub single_sign_on: Option<String>,
}

impl Default for SignInMethods {
    fn default() -> Self {
        SignInMethods {
            passwords: true,
            single_sign_on: None,
        }
    }
}

/// Something the organisation should set, said on the console's status line.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfigWarning {
    /// Reached beyond this machine with no TURN relay: customers behind strict
    /// firewalls or proxies may be unable to share their screen or send files.
    NoRelay,
}

/// `GET /api/setup`: whether the first technician account still needs creating.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupStatus {
    pub needs_setup: bool,
}

/// `POST /api/setup`: create the first technician account with the one-time code.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetupRequest {
    pub code: String,
    pub username: String,
    pub display_name: String,
    pub password: String,
}

/// `POST /api/auth/sign-in`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
}

/// A signed-in technician (`GET /api/auth/me`, and the answer to sign-in and setup).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Technician {
    pub username: String,
    pub display_name: String,
    /// The teams whose queues the technician serves.
    #[serde(default)]
    pub teams: Vec<TeamRef>,
    /// What the account may do besides helping customers.
    #[serde(default)]
    pub role: AccountRole,
}

/// An account's role.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountRole {
    /// Helps customers.
    #[default]
    Technician,
    /// Also sees the history and reports of their teams' sessions.
    TeamLead,
    /// Also manages accounts and teams (the admin page), and sees every session.
    Admin,
}

/// `GET /api/history`: which ended sessions (every field optional; text fields match
/// anywhere, ignoring case; `from`/`to`: broker time of the end, inclusive/exclusive).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HistoryQuery {
    /// Words in the chat.
    pub text: String,
    pub customer: String,
    /// A technician's user name or display name.
    pub technician: String,
    /// A team's slug.
    pub team: String,
    pub ticket: String,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// At most this many (500 at most; 100 by default), newest first.
    pub limit: Option<u32>,
}

/// One ended session in the history.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRow {
    pub id: SessionId,
    pub created_at: Millis,
    pub ended_at: Millis,
    pub details: SessionDetails,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technician: Option<TechnicianRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<crate::EndReason>,
    pub messages: u64,
    /// From the terms accepted to the pick-up, if both happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waited_secs: Option<u64>,
    /// From the pick-up to the end, if picked up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<bool>,
}

/// Survey answers over some sessions.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SurveyFigures {
    /// Sessions that ended.
    pub sessions: u64,
    /// Of them, with a survey answered.
    pub answered: u64,
    pub average_rating: Option<f64>,
    /// Of the answers that said, the share that said "resolved" (0–1).
    pub resolved_share: Option<f64>,
}

/// Durations over some sessions.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TimeFigures {
    pub count: u64,
    pub median_secs: Option<u64>,
    pub p90_secs: Option<u64>,
}

/// `GET /api/reports?from=&to=`: over the ended sessions one may see.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    pub surveys: SurveyFigures,
    pub by_technician: Vec<(TechnicianRef, SurveyFigures)>,
    pub by_team: Vec<(TeamRef, SurveyFigures)>,
    /// From the terms accepted to the pick-up.
    pub waiting: TimeFigures,
    /// From the pick-up to the end.
    pub sessions: TimeFigures,
}

/// An account as the admin page lists it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub username: String,
    pub display_name: String,
    pub role: AccountRole,
    pub disabled: bool,
    pub teams: Vec<TeamRef>,
    pub created_at: Millis,
    /// An invitation (or a password reset) not used yet: no password is set.
    pub invited: bool,
}

/// `POST /api/admin/accounts`: a new account, which its owner completes from an
/// invitation link.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    #[serde(default)]
    pub role: AccountRole,
}

/// A link with which an account's owner chooses its password (a new account's, or
/// after a reset). Shown once: the broker keeps only a hash of its token.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invitation {
    pub account: Account,
    pub url: String,
    pub expires_at: Millis,
}

/// `PATCH /api/admin/accounts/{username}`: what changes (absent: unchanged).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AccountUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<AccountRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disabled: Option<bool>,
}

/// `POST /api/auth/accept-invitation`: the token from the link, and the password.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptInvitation {
    pub token: String,
    pub password: String,
}

/// `POST /api/auth/password`: one's own password changed (other sign-ins end).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    pub current: String,
    pub new: String,
}

/// `POST /api/admin/teams`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTeam {
    pub slug: String,
    pub name: String,
}

/// A team as the admin page lists it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamAdmin {
    pub team: TeamRef,
    /// Members' user names.
    pub members: Vec<String>,
}

/// `POST /api/sessions` (the body is optional): in which language the ready e-mail is
/// written.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateSession {
    /// A language code (`fr`, `fr-CA`); English when absent or not offered.
    #[serde(default)]
    pub language: Option<String>,
    /// The customer's name, the problem and the ticket reference, as
    /// `PUT /api/sessions/{id}/details` sets them (a ticketing system creating the
    /// session says them at once).
    #[serde(default, flatten)]
    pub details: SessionDetails,
}

/// `POST /api/sessions/{id}/email`: the broker sends the customer the session's link
/// and PIN from the organisation's address, in the customer's language. The link and
/// PIN are the ones the session was created with (the broker keeps only their hashes,
/// so it checks them rather than knowing them), while they are still unused.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendEmail {
    /// The customer's address.
    pub to: String,
    /// The customer's language (`fr`); English when not offered.
    pub language: String,
    pub pin: String,
    pub link: String,
}

/// `POST /api/sessions`: a new session for the signed-in technician.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedSession {
    pub id: SessionId,
    /// The six digits to read out. Shown once: the broker keeps only a keyed hash.
    pub pin: String,
    pub expires_at: Millis,
    /// The customer page with the link's own join token in the fragment
    /// (`…/#join=…`): 128 random bits, so the link needs no PIN and no guessing
    /// throttle. Like the PIN, it works until the technician picks someone up.
    pub link: String,
    /// A ready e-mail to send from the organisation's own address.
    pub email_subject: String,
    pub email_body: String,
}

/// One session, as the console lists it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
    /// The code the customer's page shows (see [`crate::ServerMessage::Welcome`]),
    /// once someone joined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_code: Option<String>,
    /// How many people are joining or waiting with this session's PIN or link, this
    /// one included (more than one: ask for the check code before picking up).
    #[serde(default)]
    pub candidates: u32,
    /// Broker time of the entry that brought the session into its phase (for a
    /// waiting customer: since when they wait).
    #[serde(default)]
    pub phase_since: Millis,
    /// The team whose queue the session came through (its link), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<TeamRef>,
    /// Who has the session: the technician who made it, or who picked it up from a
    /// queue (`None`: still in its team's queue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub technician: Option<TechnicianRef>,
    /// The customer, their problem and the ticket, as far as anyone gave them.
    #[serde(default)]
    pub details: SessionDetails,
    /// Colleagues who joined on an invitation (besides whoever has the session).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub guests: Vec<TechnicianRef>,
    /// Colleagues invited who have not joined yet.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub invited: Vec<TechnicianRef>,
}

/// A technician, as others see them.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TechnicianRef {
    pub username: String,
    pub display_name: String,
}

/// A team, as the console names it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TeamRef {
    /// Its link's path segment (`/t/{slug}`).
    pub slug: String,
    pub name: String,
}

/// What is known of a session's customer and problem: given by the customer on a
/// team's link, or typed by the technician (`PUT /api/sessions/{id}/details`). Empty
/// text: not given.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SessionDetails {
    #[serde(default)]
    pub customer_name: String,
    #[serde(default)]
    pub problem: String,
    /// The organisation's ticket reference.
    #[serde(default)]
    pub ticket: String,
}

impl SessionDetails {
    /// Checks each field that is given (empty ones are not): the name and the ticket
    /// on one line, the problem on several, none too long or with control characters.
    /// The first bad field, if any.
    pub fn check(&self) -> Result<(), Field> {
        let given = |text: &str| !text.trim().is_empty();
        if given(&self.customer_name)
            && crate::check_name(&self.customer_name, limits::NAME_MAX_CHARS).is_err()
        {
            return Err(Field::CustomerName);
        }
        if given(&self.problem)
            && crate::check_text(&self.problem, limits::PROBLEM_MAX_CHARS).is_err()
        {
            return Err(Field::Problem);
        }
        if given(&self.ticket) && crate::check_name(&self.ticket, limits::TICKET_MAX_CHARS).is_err()
        {
            return Err(Field::Ticket);
        }
        Ok(())
    }

    /// The same with blank fields made empty and the rest trimmed.
    pub fn trimmed(&self) -> SessionDetails {
        SessionDetails {
            customer_name: self.customer_name.trim().to_string(),
            problem: self.problem.trim().to_string(),
            ticket: self.ticket.trim().to_string(),
        }
    }
}

/// A technician's private note on a session: kept with the session for the
/// technicians who may open it, never sent to the customer nor put in their record.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionNote {
    pub id: i64,
    /// Broker time it was written.
    pub at: Millis,
    /// Who wrote it.
    pub author: TechnicianRef,
    pub text: String,
}

/// `POST /api/sessions/{id}/hand-over`: to a colleague (their user name), or back to
/// the team's queue (`to` empty), with a note for whoever takes it (stored as a private
/// note: the customer does not see it).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandOverRequest {
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub note: String,
}

/// `POST /api/sessions/{id}/invite`: a colleague (their user name) may join the session.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteRequest {
    pub username: String,
}

/// `POST /api/sessions/{id}/notes`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRequest {
    pub text: String,
}

/// A team's canned reply: a message its technicians put in the chat with one choice
/// (and can still edit before sending).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CannedReply {
    pub id: i64,
    pub team: TeamRef,
    pub title: String,
    pub text: String,
}

/// `POST /api/replies` (with the team) and `PUT /api/replies/{id}` (the team is ignored).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyRequest {
    /// The team's slug.
    #[serde(default)]
    pub team: String,
    pub title: String,
    pub text: String,
}

impl ReplyRequest {
    /// The first bad field, if any: a title on one line, a text like a chat message.
    pub fn check(&self) -> Result<(), Field> {
        crate::check_name(self.title.trim(), limits::REPLY_TITLE_MAX_CHARS)
            .map_err(|_| Field::ReplyTitle)?;
        crate::check_text(self.text.trim(), limits::CHAT_MAX_CHARS).map_err(|_| Field::ReplyText)
    }
}

/// Whether a team's link page asks for a field.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldRule {
    #[default]
    Required,
    Optional,
    /// Not asked.
    Off,
}

/// `GET /api/teams/{slug}`: what a team's link page shows before the customer joins.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamPage {
    pub team: TeamRef,
    /// Whether the queue takes customers now.
    pub open: bool,
    /// The organisation's message for when it does not (empty: the page's own words).
    #[serde(default)]
    pub closed_message: String,
    /// The opening hours as the organisation wrote them (`mon-fri 08:00-17:30`), in the
    /// team's time zone; empty: always open.
    #[serde(default)]
    pub hours: String,
    /// Whether the problem description is asked for (the name always is).
    pub problem_field: FieldRule,
    /// Customers waiting now.
    pub waiting: u32,
    /// What someone joining now may expect to wait, from the team's recent pick-ups
    /// (`None`: too few of them to say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_wait_secs: Option<u64>,
}

/// `POST /api/teams/{slug}/join`: join the team's queue (answered like a right PIN,
/// with [`VerifyPinResponse`]).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamJoinRequest {
    pub name: String,
    #[serde(default)]
    pub problem: String,
}

impl SessionSummary {
    /// When the PIN and join link stop working, while they still can be used (nobody
    /// has joined yet); the same limit [`crate::SessionState::due`] ends the session at.
    pub fn pin_valid_until(&self) -> Option<Millis> {
        (self.phase == Phase::Created).then_some(self.pin_expires_at)
    }
}

/// `POST /api/pin`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyPinRequest {
    pub pin: String,
}

/// `POST /api/join`: the join token of a link (`#join=…`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinRequest {
    pub token: String,
}

/// The answer to a right PIN or link: a token for this session only.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyPinResponse {
    pub session: SessionId,
    pub token: String,
}

/// `POST /api/survey`, after the session ended.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
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
/// the log with its chain hash, the last hash, which stands for the whole log, and the
/// broker's signature over the header, the entry count and that last hash.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRecord {
    /// `connectit-record/2` (`/1`: the same without the signature).
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
    /// The broker's signature (absent in `connectit-record/1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<RecordSignature>,
}

/// An Ed25519 signature by the broker over the record's header fields, its number of
/// entries and its final hash (the exact bytes: `docs/security.md`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSignature {
    /// `ed25519`.
    pub algorithm: String,
    /// The first 8 bytes of the SHA-256 of the public key, hex: which key signed.
    pub key_id: String,
    /// The signature, standard base64.
    pub value: String,
}

/// `GET /api/record-key`: the public key that checks records' signatures.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordKey {
    /// `ed25519`.
    pub algorithm: String,
    /// The 32-byte public key, standard base64.
    pub public_key: String,
    /// As in [`RecordSignature::key_id`].
    pub key_id: String,
}

/// One line of the security log (`GET /api/audit`): sign-ins, sign-outs, refusals and
/// floods. Repeated refusals from one address are counted into one line a minute.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// When it happened (for a counted line: the first of them).
    pub at: Millis,
    pub kind: AuditKind,
    /// The client's address, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The account concerned (for a failed sign-in: the user name as typed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// How many times it happened in this line's minute (1 for single events).
    pub count: u64,
    /// A detail for the operator (an origin, a session id, a limit).
    #[serde(default)]
    pub detail: String,
}

/// What a security log line is about.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    SignInSucceeded,
    SignInFailed,
    SignInThrottled,
    SignedOut,
    /// A technician's open sockets were closed: signed out, expired or disabled.
    SocketsClosed,
    SetupSucceeded,
    SetupFailed,
    SetupThrottled,
    /// Wrong PINs from one address.
    PinFailed,
    /// PIN attempts refused before checking (the address or its network is throttled).
    PinThrottled,
    /// Join links with an unknown or used token.
    LinkFailed,
    /// A second person joined with a PIN or link someone had already used.
    SecondCandidate,
    /// A state-changing request from another site, or not JSON.
    CrossOriginRefused,
    /// A WebSocket handshake refused (foreign origin, no sign-in).
    SocketRefused,
    /// Messages over a session's rate limit.
    Flood,
    /// A session's log reached its cap.
    LogFull,
    /// Connections refused over the per-address or total cap.
    ConnectionsRefused,
    /// Connections closed for not sending their request in time (idle or trickling).
    SlowConnections,
    /// Customers refused a team's queue: the address or its network joined too often.
    QueueThrottled,
    /// Customers refused a team's queue: it was full.
    QueueFull,
    /// Sessions past their retention were deleted or anonymised.
    RetentionApplied,
    /// A session was put under legal hold, or its hold lifted.
    LegalHold,
    /// An admin created an account (its invitation link made).
    AccountCreated,
    /// An admin changed an account: role, disabled or enabled.
    AccountChanged,
    /// An admin reset an account's password (a new link; signed out everywhere).
    PasswordReset,
    /// An account's owner set their password (from a link, or changed it).
    PasswordSet,
    /// An account was signed out of every browser (by an admin), or of the others (by
    /// its owner).
    SignedOutEverywhere,
    /// An admin created a team or changed its members.
    TeamChanged,
    /// An invitation link that was wrong, used or expired.
    InvitationFailed,
    /// An e-mail sent to a customer (or refused by the SMTP server).
    EmailSent,
    /// An API token issued or revoked, or refused (wrong, revoked, out of scope).
    ApiToken,
    /// A webhook added or removed.
    WebhookChanged,
    /// A webhook delivery given up after its last attempt.
    WebhookFailed,
}

/// One entry of a [`SessionRecord`].
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordEntry {
    #[serde(flatten)]
    pub entry: crate::LogEntry,
    /// Hex SHA-256 of the previous entry's hash and this entry.
    pub hash: String,
    /// The entry as its reader's page says it, in the record's language (not signed:
    /// the entry itself is; this is its label).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub line: String,
}

/// `POST /api/record`: the customer's copy of the record.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRequest {
    pub token: String,
    pub format: RecordFormat,
    /// The language of the readable page and the entries' lines (`fr`); English when
    /// absent or not offered.
    #[serde(default)]
    pub language: Option<String>,
}

/// The two shapes of a record download.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordFormat {
    /// A readable page.
    Html,
    /// [`SessionRecord`] as JSON, for verification.
    Json,
}

/// What an API token may do.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ApiScope {
    /// `POST /api/sessions`.
    #[serde(rename = "sessions:create")]
    SessionsCreate,
    /// `GET /api/sessions/{id}` and `GET /api/sessions/{id}/record`.
    #[serde(rename = "sessions:read")]
    SessionsRead,
}

impl ApiScope {
    pub const ALL: [ApiScope; 2] = [ApiScope::SessionsCreate, ApiScope::SessionsRead];

    /// The scope's name, as in JSON (`sessions:create`).
    pub fn name(self) -> &'static str {
        match self {
            ApiScope::SessionsCreate => "sessions:create",
            ApiScope::SessionsRead => "sessions:read",
        }
    }

    pub fn from_name(name: &str) -> Option<ApiScope> {
        ApiScope::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// A personal API token, as the admin page lists it (never its secret).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: i64,
    /// What it is for (`Service desk tickets`).
    pub name: String,
    /// The account it acts as: sessions it creates are this technician's, and it reads
    /// what this account may see.
    pub account: String,
    pub scopes: Vec<ApiScope>,
    pub created_at: Millis,
    /// The admin who issued it.
    pub created_by: String,
    pub last_used_at: Option<Millis>,
    pub revoked: bool,
}

/// `POST /api/admin/tokens`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub name: String,
    pub account: String,
    pub scopes: Vec<ApiScope>,
}

/// The answer to `POST /api/admin/tokens`: the secret is shown this once (the broker
/// keeps only its hash). Sent as `Authorization: Bearer <secret>`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssuedApiToken {
    pub token: ApiToken,
    pub secret: String,
}

/// What a webhook is told about.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WebhookEvent {
    /// A session was created (from the console, the API or a team's queue).
    #[serde(rename = "session.created")]
    SessionCreated,
    /// A technician picked the customer up.
    #[serde(rename = "session.picked_up")]
    SessionPickedUp,
    /// The session ended: the payload carries its record's final hash and signature.
    #[serde(rename = "session.ended")]
    SessionEnded,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 3] = [
        WebhookEvent::SessionCreated,
        WebhookEvent::SessionPickedUp,
        WebhookEvent::SessionEnded,
    ];

    pub fn name(self) -> &'static str {
        match self {
            WebhookEvent::SessionCreated => "session.created",
            WebhookEvent::SessionPickedUp => "session.picked_up",
            WebhookEvent::SessionEnded => "session.ended",
        }
    }

    pub fn from_name(name: &str) -> Option<WebhookEvent> {
        WebhookEvent::ALL.into_iter().find(|e| e.name() == name)
    }
}

/// A webhook, as the admin page lists it (never its secret).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: i64,
    /// Where deliveries are posted (`https://…`; `http://` only on loopback).
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub created_at: Millis,
    pub created_by: String,
    /// Removed: no new deliveries.
    pub disabled: bool,
}

/// `POST /api/admin/webhooks`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<WebhookEvent>,
}

/// The answer to `POST /api/admin/webhooks`: the signing secret, shown this once.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedWebhook {
    pub webhook: Webhook,
    pub secret: String,
}

/// Where a delivery stands.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet accepted: tried again at `next_attempt_at`.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Given up after the last attempt.
    Failed,
}

/// One event's delivery to one webhook (`GET /api/admin/webhooks/{id}/deliveries`).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook: i64,
    pub event: WebhookEvent,
    pub session: SessionId,
    pub status: DeliveryStatus,
    pub attempts: u32,
    /// The receiver's last HTTP status, if it answered.
    pub last_status: Option<u16>,
    /// Why the last attempt failed, if it did.
    pub last_error: String,
    pub created_at: Millis,
    pub next_attempt_at: Option<Millis>,
    pub delivered_at: Option<Millis>,
}

/// A session as the API reads it (`GET /api/sessions/{id}`) and webhooks carry it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub id: SessionId,
    pub phase: Phase,
    /// The technician's user name, when someone has the session.
    pub technician: Option<String>,
    /// The team whose queue it came through, if any.
    pub team: Option<String>,
    #[serde(flatten)]
    pub details: SessionDetails,
    pub created_at: Millis,
    pub picked_up_at: Option<Millis>,
    pub ended_at: Option<Millis>,
}

/// The record's seal, in `session.ended` deliveries: anyone with the broker's public
/// key can check a record downloaded later against it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordSeal {
    pub entries: u64,
    pub final_hash: String,
    pub exported_at: Millis,
    pub signature: Option<RecordSignature>,
}

/// The body of a webhook delivery. Signed: header `ConnectIT-Signature:
/// t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the webhook's secret>`.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPayload {
    pub event: WebhookEvent,
    /// The delivery's id (the same on every retry: a receiver drops repeats by it).
    pub delivery: i64,
    /// When the event happened.
    pub at: Millis,
    pub session: SessionInfo,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RecordSeal>,
}

//! Error codes. Every refusal the broker gives, over HTTP or WebSocket, is one of these:
//! the browser turns each into words, so no free-form error text crosses the wire.

use serde::{Deserialize, Serialize};

use crate::state::Phase;

crate::tagged! {
    tag = "rule", content = "details";
    /// Why the session's rules refuse an entry.
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    pub enum RuleViolation {
        /// Not allowed in the session's current phase.
        WrongPhase { phase: Phase },
        /// Not allowed for this author (a customer picking up, say).
        WrongAuthor,
        /// Text with nothing but white space.
        EmptyText,
        /// Text longer than the limit.
        TextTooLong { max_chars: u32 },
        /// Text with control characters other than newline and tab.
        ControlCharacters,
        /// A survey rating outside 1–5.
        InvalidRating,
        /// The survey was already answered.
        SurveyAlreadySubmitted,
        /// A connection event that does not match who is present.
        PresenceMismatch,
        /// An entry whose sequence number does not follow the last one.
        SequenceGap { expected: u64, got: u64 },
        /// A request while another is pending.
        RequestPending,
        /// An answer to a request that is not the pending one (answered, expired, unknown).
        NoSuchRequest,
        /// A request naming no permission, or one twice.
        InvalidPermissions,
        /// A grant of something not requested, or not grantable in a browser.
        NotRequested,
        /// An answer after the deadline, or an expiry before it.
        Deadline,
        /// More time asked for twice.
        AlreadyExtended,
        /// Revoking, or using, a permission that is not granted.
        NotGranted,
        /// A media change that does not follow from the stream's state.
        MediaState,
        /// A file step that does not follow from the transfer's state, or by the wrong side.
        FileState,
        /// A file larger than the broker's limit.
        FileTooLarge { max_bytes: u64 },
        /// A SHA-256 that is not 64 lower-case hex digits, or not the sender's.
        HashMismatch,
        /// A system information report that is empty, too long, or has bad text.
        InvalidInfo,
        /// Only the technician who has the session may do this (a colleague who joined
        /// chats, and that is all).
        NotInCharge,
        /// A colleague who was not invited joining, one invited twice, or leaving who is
        /// not there.
        NotInvited,
        /// A verification code that is not six digits.
        InvalidCode,
        /// More areas painted over than a picture may have.
        TooManyAreas { max: u8 },
    }
}

/// An input field named by [`ErrorCode::InvalidInput`].
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Pin,
    Username,
    DisplayName,
    Password,
    SetupCode,
    Rating,
    Comment,
    Token,
    /// The customer's name on a team's link.
    CustomerName,
    /// The problem described on a team's link.
    Problem,
    Ticket,
    /// A technician's private note.
    Note,
    /// A canned reply's title.
    ReplyTitle,
    /// A canned reply's text.
    ReplyText,
    /// A team's link name (`/t/{slug}`): letters a-z, digits and dashes.
    TeamSlug,
    /// A team's name.
    TeamName,
    /// An e-mail address.
    Email,
    /// A language code.
    Language,
    /// A URL.
    Url,
    /// A name for what is being made (an API token).
    Name,
    /// A list of scopes or events.
    Scopes,
}

crate::tagged! {
    tag = "code", content = "details";
    /// Every error the broker answers with. Adjacently tagged:
    /// `{"code": "too_many_attempts", "details": {"retry_after_secs": 30}}`.
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    pub enum ErrorCode {
        /// No live session has this PIN (wrong, used, or expired: deliberately one answer).
        InvalidOrExpiredPin,
        /// The link's join token is unknown, used or expired (ask for a new PIN or link).
        InvalidOrExpiredLink,
        /// Too many failed attempts: wait this long before trying again.
        TooManyAttempts { retry_after_secs: u32 },
        /// A field's value is not acceptable (a PIN that is not six digits, say).
        InvalidInput { field: Field },
        /// Wrong user name or password.
        InvalidCredentials,
        /// The one-time setup code is wrong or already used.
        InvalidSetupCode,
        /// Not signed in, or the token is not valid (for this session).
        Unauthorized,
        /// Signed in, but this session is someone else's.
        Forbidden,
        /// No such thing.
        NotFound,
        /// The message could not be decoded (bad JSON, unknown type, wrong field types).
        MalformedMessage,
        /// The message is larger than the limit.
        MessageTooLarge { max_bytes: u32 },
        /// Too many messages in too short a time.
        RateLimited { retry_after_secs: u32 },
        /// The first message on a socket must be `hello`; or `hello` came twice.
        OutOfOrder,
        /// The session's rules refuse this now.
        NotAllowed { violation: RuleViolation },
        /// The broker could not store the entry; nothing was acknowledged.
        StorageUnavailable,
        /// The session's log holds as much as it may (entries or bytes): nothing more is
        /// stored but the end of the session and what the broker itself must record.
        LogFull { max_entries: u64, max_bytes: u64 },
        /// A request that changes something came from another site's page (its `Origin`
        /// or `Sec-Fetch-Site` is not this broker's).
        CrossOrigin,
        /// A request body that is not `application/json`.
        UnsupportedContentType,
        /// The team's queue holds as many customers as it may: try again in a while, or
        /// call.
        QueueFull,
        /// The team's queue is closed now (outside its opening hours).
        QueueClosed,
        /// Another technician picked this customer up first.
        AlreadyPickedUp,
        /// The session holds as many private notes as it may.
        NotesFull { max_notes: u32 },
        /// The team keeps as many canned replies as it may.
        RepliesFull { max_replies: u32 },
        /// No colleague by that name to hand over to or invite: unknown, disabled, the
        /// technician themself, or not in a team with them.
        NoSuchColleague,
        /// The session came through no team's queue, so it cannot go back to one.
        NoQueue,
        /// The broker is stopping: try again in a moment (another broker, or this one
        /// once it is back).
        Stopping,
        /// Only an admin may do this.
        AdminOnly,
        /// The last admin cannot be disabled or made a technician.
        LastAdmin,
        /// The invitation link is wrong, used or expired: ask an admin for a new one.
        InvalidInvitation,
        /// Signing in through the organisation's single sign-on did not succeed (the
        /// provider refused, or its answer did not pass the checks; the security log says
        /// which).
        SingleSignOnFailed,
        /// The organisation's sign-on knows this person, but ConnectIT has no account for
        /// them and does not create accounts on first sign-in.
        NoAccount,
        /// The account is disabled.
        AccountDisabled,
        /// Passwords are turned off here: sign in through the organisation's sign-on.
        PasswordsOff,
        /// This installation sends no e-mail (no SMTP server configured): copy the text.
        EmailUnavailable,
        /// The SMTP server did not take the message (refused, or not reachable); nothing
        /// was sent.
        EmailFailed,
        /// The API token does not allow this (its scopes); ask an admin for one that does.
        TokenScope,
        /// Something unexpected went wrong in the broker.
        Internal,
    }
}

impl From<RuleViolation> for ErrorCode {
    fn from(violation: RuleViolation) -> Self {
        ErrorCode::NotAllowed { violation }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

impl std::error::Error for ErrorCode {}

//! Sentences built from several catalog entries, and numbers in the reader's language:
//! error codes and end reasons, permissions and their lists, sizes (`2.1 MB`, `2,1 Mo`),
//! speeds and the time a transfer still needs. Everything here goes through
//! [`I18n::t`], so the organisation's texts apply to the parts too.

use connectit_protocol::api::AuditKind;
use connectit_protocol::{Link, PathFailure};

use connectit_protocol::error::Field;
use connectit_protocol::{
    EndReason, ErrorCode, FileFailure, InfoItem, Media, Permission, Phase, Role, RuleViolation,
};

use crate::{Catalog, Msg};

/// `words` with its first letter in upper case.
pub fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The first digits of a SHA-256, for lines: `3f2a9c1b7d04…`.
pub fn short_hash(sha256: &str) -> String {
    let head: String = sha256.chars().take(12).collect();
    format!("{head}…")
}

/// `1920 × 1080`.
pub fn dimensions(width: i32, height: i32) -> String {
    format!("{width} × {height}")
}

/// `Europe/Paris (UTC+01:00)`.
pub fn time_zone(name: &str, offset_minutes: i32) -> String {
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    let m = offset_minutes.unsigned_abs();
    let utc = format!("UTC{sign}{:02}:{:02}", m / 60, m % 60);
    if name.is_empty() {
        utc
    } else {
        format!("{name} ({utc})")
    }
}

/// `42 ms`.
pub fn millis(ms: f64) -> String {
    format!("{} ms", ms.round() as u64)
}

/// `value` with `digits` decimals (at most 9) and a `.`, rounded half away from zero:
/// `fixed(2.06, 1)` is `2.1`. Integer arithmetic only: the standard library's printing
/// with a precision (`{:.N}`) is a large part of its float code in a WebAssembly build.
pub fn fixed(value: f64, digits: u32) -> String {
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "inf".into()
        } else {
            "-inf".into()
        };
    }
    let digits = digits.min(9);
    let scale = 10u64.pow(digits);
    let scaled = (value.abs() * scale as f64).round();
    // Beyond 2^53 an f64 holds no fraction to print; saturate rather than wrap.
    let n = if scaled >= u64::MAX as f64 {
        u64::MAX
    } else {
        scaled as u64
    };
    let sign = if value < 0.0 && n != 0 { "-" } else { "" };
    let (whole, frac) = (n / scale, n % scale);
    if digits == 0 {
        format!("{sign}{whole}")
    } else {
        let width = digits as usize;
        format!("{sign}{whole}.{frac:0width$}")
    }
}

/// `value` with at most `digits` decimals, without trailing zeros: `1.25`, `2`,
/// `1.1` (for 1.100000023841858).
pub fn short(value: f64, digits: u32) -> String {
    let text = fixed(value, digits);
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

impl Catalog {
    /// `value` with `digits` decimals and the language's decimal separator (`2,1`).
    pub fn decimal(&self, value: f64, digits: usize) -> String {
        let plain = fixed(value, digits as u32);
        let separator = self.t(Msg::DecimalSeparator);
        if separator == "." {
            plain
        } else {
            plain.replacen('.', &separator, 1)
        }
    }

    /// A size in human units (decimal, as file managers show it): `512 bytes`, `2.1 MB`.
    pub fn size(&self, bytes: u64) -> String {
        if bytes < 1000 {
            return match bytes {
                1 => self.t(Msg::SizeByte),
                n => self.t(Msg::SizeBytes { n }),
            };
        }
        let mut value = bytes as f64 / 1000.0;
        let mut unit = 0;
        while value >= 999.95 && unit < 4 {
            value /= 1000.0;
            unit += 1;
        }
        let n = self.decimal(value, if value < 9.95 { 1 } else { 0 });
        self.t(match unit {
            0 => Msg::SizeKb { n },
            1 => Msg::SizeMb { n },
            2 => Msg::SizeGb { n },
            3 => Msg::SizeTb { n },
            _ => Msg::SizePb { n },
        })
    }

    /// A transfer speed: `3.4 MB/s`.
    pub fn speed(&self, bytes_per_sec: f64) -> String {
        if !bytes_per_sec.is_finite() || bytes_per_sec <= 0.0 {
            return self.t(Msg::Unknown);
        }
        self.t(Msg::Speed {
            size: self.size(bytes_per_sec.round() as u64),
        })
    }

    /// The time a transfer still needs: `12 s left`, `3 min 5 s left`, `1 h 2 min left`.
    pub fn time_left(&self, secs: f64) -> String {
        if !secs.is_finite() || secs < 0.0 {
            return self.t(Msg::Unknown);
        }
        let secs = secs.ceil() as u64;
        self.t(match secs {
            0 => Msg::AlmostDone,
            s if s < 60 => Msg::LeftSecs { s },
            s if s < 3600 => match s % 60 {
                0 => Msg::LeftMins { m: s / 60 },
                r => Msg::LeftMinsSecs { m: s / 60, s: r },
            },
            s => Msg::LeftHoursMins {
                h: s / 3600,
                m: (s % 3600) / 60,
            },
        })
    }

    /// A wait to expect, rounded up: `less than a minute`, `about 4 min`,
    /// `about 1 h 10 min`.
    pub fn expected_wait(&self, secs: u64) -> String {
        let minutes = secs.div_ceil(60);
        self.t(match secs {
            s if s < 60 => Msg::WaitUnderAMinute,
            _ if minutes < 60 => Msg::WaitAboutMins { m: minutes },
            _ => Msg::WaitAboutHoursMins {
                h: minutes / 60,
                m: minutes % 60,
            },
        })
    }

    /// `2.1 MB of 20 MB`.
    pub fn progress_text(&self, done: u64, total: u64) -> String {
        self.t(Msg::ProgressText {
            done: self.size(done),
            total: self.size(total),
        })
    }

    /// "a, b and c".
    pub fn and_list(&self, items: &[String]) -> String {
        match items {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => self.t(Msg::ListAnd {
                init: init.join(", "),
                last: last.clone(),
            }),
        }
    }

    /// A permission in the customer's words ("see your screen").
    pub fn permission_for_customer(&self, p: Permission) -> String {
        self.t(match p {
            Permission::ViewScreen => Msg::PermCustomerViewScreen,
            Permission::Camera => Msg::PermCustomerCamera,
            Permission::SendFiles => Msg::PermCustomerSendFiles,
            Permission::ReceiveFiles => Msg::PermCustomerReceiveFiles,
            Permission::SystemInfo => Msg::PermCustomerSystemInfo,
            Permission::RemoteControl => Msg::PermCustomerRemoteControl,
        })
    }

    /// A permission in the technician's words ("see the screen").
    pub fn permission_for_technician(&self, p: Permission) -> String {
        self.t(match p {
            Permission::ViewScreen => Msg::PermTechnicianViewScreen,
            Permission::Camera => Msg::PermTechnicianCamera,
            Permission::SendFiles => Msg::PermTechnicianSendFiles,
            Permission::ReceiveFiles => Msg::PermTechnicianReceiveFiles,
            Permission::SystemInfo => Msg::PermTechnicianSystemInfo,
            Permission::RemoteControl => Msg::PermTechnicianRemoteControl,
        })
    }

    /// What a permission lets the technician do, one sentence for the prompt.
    pub fn permission_detail(&self, p: Permission) -> String {
        self.t(match p {
            Permission::ViewScreen => Msg::PermDetailViewScreen,
            Permission::Camera => Msg::PermDetailCamera,
            Permission::SendFiles => Msg::PermDetailSendFiles,
            Permission::ReceiveFiles => Msg::PermDetailReceiveFiles,
            Permission::SystemInfo => Msg::PermDetailSystemInfo,
            Permission::RemoteControl => Msg::PermDetailRemoteControl,
        })
    }

    /// A list of permissions in the customer's words (or the technician's), with "screen
    /// and camera" said once.
    pub fn permission_list(&self, permissions: &[Permission], for_customer: bool) -> String {
        let both = permissions.contains(&Permission::ViewScreen)
            && permissions.contains(&Permission::Camera);
        let words: Vec<String> = permissions
            .iter()
            .filter_map(|p| match (p, for_customer) {
                (Permission::ViewScreen, true) if both => {
                    Some(self.t(Msg::PermCustomerScreenAndCamera))
                }
                (Permission::ViewScreen, false) if both => {
                    Some(self.t(Msg::PermTechnicianScreenAndCamera))
                }
                (Permission::Camera, _) if both => None,
                (p, true) => Some(self.permission_for_customer(*p)),
                (p, false) => Some(self.permission_for_technician(*p)),
            })
            .collect();
        self.and_list(&words)
    }

    /// A log line, with the requester's reason quoted after it, or a full stop.
    pub fn with_reason(&self, line: String, reason: &str) -> String {
        if reason.trim().is_empty() {
            self.t(Msg::SentenceEnd { line })
        } else {
            self.t(Msg::LineWithReason {
                line,
                reason: reason.to_owned(),
            })
        }
    }

    /// What a log line says of a shared medium: `your screen` (the customer's view) or
    /// `the screen`.
    pub fn media_words(&self, media: Media, is_customer: bool) -> String {
        self.t(match (media, is_customer) {
            (Media::Screen, true) => Msg::MediaYourScreen,
            (Media::Camera, true) => Msg::MediaYourCamera,
            (Media::Screen, false) => Msg::MediaTheScreen,
            (Media::Camera, false) => Msg::MediaTheCamera,
        })
    }

    /// Where a session stands, on the console's list and view.
    pub fn phase(&self, phase: Phase) -> String {
        self.t(match phase {
            Phase::Created => Msg::PhaseCreated,
            Phase::Connecting => Msg::PhaseConnecting,
            Phase::Waiting => Msg::PhaseWaiting,
            Phase::Active => Msg::PhaseActive,
            Phase::Ended => Msg::PhaseEnded,
        })
    }

    /// `no messages`, `1 message`, `12 messages`.
    pub fn messages(&self, count: u64) -> String {
        self.t(match count {
            0 => Msg::MessagesNone,
            1 => Msg::MessagesOne,
            count => Msg::MessagesMany { count },
        })
    }

    /// Why the session ended, told to the customer.
    pub fn end_reason(&self, reason: EndReason) -> String {
        self.t(match reason {
            EndReason::CustomerEnded => Msg::EndCustomerEnded,
            EndReason::TechnicianEnded => Msg::EndTechnicianEnded,
            EndReason::TermsDeclined => Msg::EndTermsDeclined,
            EndReason::PinExpired => Msg::EndPinExpired,
            EndReason::WaitingTimeout => Msg::EndWaitingTimeout,
            EndReason::OtherCustomerChosen => Msg::EndOtherCustomerChosen,
            EndReason::CustomerGone => Msg::EndCustomerGone,
            EndReason::QueueClosed => Msg::EndQueueClosed,
        })
    }

    /// Why the session ended, told to the technician.
    pub fn end_reason_technician(&self, reason: EndReason) -> String {
        self.t(match reason {
            EndReason::CustomerEnded => Msg::EndForTechnicianCustomerEnded,
            EndReason::TechnicianEnded => Msg::EndForTechnicianTechnicianEnded,
            EndReason::TermsDeclined => Msg::EndForTechnicianTermsDeclined,
            EndReason::PinExpired => Msg::EndForTechnicianPinExpired,
            EndReason::WaitingTimeout => Msg::EndForTechnicianWaitingTimeout,
            EndReason::OtherCustomerChosen => Msg::EndForTechnicianOtherCustomerChosen,
            EndReason::CustomerGone => Msg::EndForTechnicianCustomerGone,
            EndReason::QueueClosed => Msg::EndForTechnicianQueueClosed,
        })
    }

    fn field_name(&self, field: Field) -> String {
        self.t(match field {
            Field::Pin => Msg::FieldPin,
            Field::Username => Msg::FieldUsername,
            Field::DisplayName => Msg::FieldDisplayName,
            Field::Password => Msg::FieldPassword,
            Field::SetupCode => Msg::FieldSetupCode,
            Field::Rating => Msg::FieldRating,
            Field::Comment => Msg::FieldComment,
            Field::Token => Msg::FieldToken,
            Field::CustomerName => Msg::FieldCustomerName,
            Field::Problem => Msg::FieldProblem,
            Field::Ticket => Msg::FieldTicket,
            Field::Note => Msg::FieldNote,
            Field::ReplyTitle => Msg::FieldReplyTitle,
            Field::ReplyText => Msg::FieldReplyText,
            Field::TeamSlug => Msg::FieldTeamSlug,
            Field::TeamName => Msg::FieldTeamName,
            Field::Email => Msg::FieldEmail,
            Field::Language => Msg::FieldLanguage,
            Field::Url => Msg::FieldUrl,
            Field::Name => Msg::FieldName,
            Field::Scopes => Msg::FieldScopes,
        })
    }

    fn violation(&self, violation: RuleViolation) -> String {
        self.t(match violation {
            RuleViolation::WrongPhase {
                phase: Phase::Ended,
            } => Msg::ErrorEnded,
            RuleViolation::WrongPhase { .. } => Msg::ErrorWrongPhase,
            RuleViolation::WrongAuthor => Msg::ErrorWrongAuthor,
            RuleViolation::EmptyText => Msg::ErrorEmptyText,
            RuleViolation::TextTooLong { max_chars } => Msg::ErrorTextTooLong { max: max_chars },
            RuleViolation::ControlCharacters => Msg::ErrorControlCharacters,
            RuleViolation::InvalidRating => Msg::ErrorInvalidRating,
            RuleViolation::SurveyAlreadySubmitted => Msg::ErrorSurveyAlreadySubmitted,
            RuleViolation::PresenceMismatch | RuleViolation::SequenceGap { .. } => {
                Msg::ErrorOutOfStep
            }
            RuleViolation::RequestPending => Msg::ErrorRequestPending,
            RuleViolation::NoSuchRequest => Msg::ErrorNoSuchRequest,
            RuleViolation::InvalidPermissions => Msg::ErrorInvalidPermissions,
            RuleViolation::NotRequested => Msg::ErrorNotRequested,
            RuleViolation::Deadline => Msg::ErrorDeadline,
            RuleViolation::AlreadyExtended => Msg::ErrorAlreadyExtended,
            RuleViolation::NotGranted => Msg::ErrorNotGranted,
            RuleViolation::MediaState => Msg::ErrorMediaState,
            RuleViolation::FileState => Msg::ErrorFileState,
            RuleViolation::FileTooLarge { max_bytes } => Msg::FileTooLargeLimit {
                max: self.size(max_bytes),
            },
            RuleViolation::HashMismatch => Msg::ErrorHashMismatch,
            RuleViolation::InvalidInfo => Msg::ErrorInvalidInfo,
            RuleViolation::NotInCharge => Msg::ErrorNotInCharge,
            RuleViolation::NotInvited => Msg::ErrorNotInvited,
            RuleViolation::InvalidCode => Msg::ErrorInvalidCode,
            RuleViolation::TooManyAreas { max } => Msg::ErrorTooManyAreas { max: max.into() },
        })
    }

    /// A sentence for any error the broker may answer with.
    pub fn error(&self, code: ErrorCode) -> String {
        self.t(match code {
            ErrorCode::InvalidOrExpiredPin => Msg::PinInvalidOrExpired,
            ErrorCode::TooManyAttempts { retry_after_secs } => Msg::PinWait {
                secs: retry_after_secs.into(),
            },
            ErrorCode::InvalidInput { field } => Msg::ErrorInvalidInput {
                field: self.field_name(field),
            },
            ErrorCode::InvalidCredentials => Msg::ErrorInvalidCredentials,
            ErrorCode::InvalidSetupCode => Msg::ErrorInvalidSetupCode,
            ErrorCode::Unauthorized => Msg::ErrorUnauthorized,
            ErrorCode::Forbidden => Msg::ErrorForbidden,
            ErrorCode::NotFound => Msg::ErrorNotFound,
            ErrorCode::QueueFull => Msg::ErrorQueueFull,
            ErrorCode::QueueClosed => Msg::ErrorQueueClosed,
            ErrorCode::AlreadyPickedUp => Msg::ErrorAlreadyPickedUp,
            ErrorCode::NotesFull { max_notes } => Msg::ErrorNotesFull { max: max_notes },
            ErrorCode::RepliesFull { max_replies } => Msg::ErrorRepliesFull { max: max_replies },
            ErrorCode::NoSuchColleague => Msg::ErrorNoSuchColleague,
            ErrorCode::NoQueue => Msg::ErrorNoQueue,
            ErrorCode::MalformedMessage | ErrorCode::OutOfOrder => Msg::ErrorMalformed,
            ErrorCode::MessageTooLarge { .. } => Msg::ErrorTooLarge,
            ErrorCode::RateLimited { retry_after_secs } => Msg::ErrorRateLimited {
                secs: retry_after_secs,
            },
            ErrorCode::NotAllowed { violation } => return self.violation(violation),
            ErrorCode::StorageUnavailable => Msg::ErrorStorage,
            ErrorCode::Stopping => Msg::ErrorStopping,
            ErrorCode::AdminOnly => Msg::ErrorAdminOnly,
            ErrorCode::LastAdmin => Msg::ErrorLastAdmin,
            ErrorCode::InvalidInvitation => Msg::ErrorInvalidInvitation,
            ErrorCode::SingleSignOnFailed => Msg::ErrorSingleSignOnFailed,
            ErrorCode::NoAccount => Msg::ErrorNoAccount,
            ErrorCode::AccountDisabled => Msg::ErrorAccountDisabled,
            ErrorCode::PasswordsOff => Msg::ErrorPasswordsOff,
            ErrorCode::EmailUnavailable => Msg::ErrorEmailUnavailable,
            ErrorCode::EmailFailed => Msg::ErrorEmailFailed,
            ErrorCode::TokenScope => Msg::ErrorTokenScope,
            ErrorCode::Internal => Msg::ErrorInternal,
            ErrorCode::InvalidOrExpiredLink => Msg::LinkInvalid,
            ErrorCode::LogFull { .. } => Msg::ErrorLogFull,
            ErrorCode::CrossOrigin => Msg::ErrorCrossOrigin,
            ErrorCode::UnsupportedContentType => Msg::ErrorUnsupportedContentType,
        })
    }

    /// What a link carries, as a path failure names it.
    pub fn path_what(&self, link: Link) -> String {
        self.t(match link {
            Link::Screen => Msg::PathWhatScreen,
            Link::Camera => Msg::PathWhatCamera,
            Link::Files => Msg::PathWhatFiles,
        })
    }

    /// Why a link could not connect.
    pub fn path_why(&self, reason: PathFailure) -> String {
        self.t(match reason {
            PathFailure::IceFailed => Msg::PathWhyIceFailed,
            PathFailure::TimedOut => Msg::PathWhyTimedOut,
        })
    }

    /// What a line of the security log is about.
    pub fn audit_kind(&self, kind: AuditKind) -> String {
        self.t(match kind {
            AuditKind::SignInSucceeded => Msg::AuditSignInSucceeded,
            AuditKind::SignInFailed => Msg::AuditSignInFailed,
            AuditKind::SignInThrottled => Msg::AuditSignInThrottled,
            AuditKind::SignedOut => Msg::AuditSignedOut,
            AuditKind::SocketsClosed => Msg::AuditSocketsClosed,
            AuditKind::SetupSucceeded => Msg::AuditSetupSucceeded,
            AuditKind::SetupFailed => Msg::AuditSetupFailed,
            AuditKind::SetupThrottled => Msg::AuditSetupThrottled,
            AuditKind::PinFailed => Msg::AuditPinFailed,
            AuditKind::PinThrottled => Msg::AuditPinThrottled,
            AuditKind::LinkFailed => Msg::AuditLinkFailed,
            AuditKind::SecondCandidate => Msg::AuditSecondCandidate,
            AuditKind::CrossOriginRefused => Msg::AuditCrossOriginRefused,
            AuditKind::SocketRefused => Msg::AuditSocketRefused,
            AuditKind::Flood => Msg::AuditFlood,
            AuditKind::LogFull => Msg::AuditLogFull,
            AuditKind::ConnectionsRefused => Msg::AuditConnectionsRefused,
            AuditKind::SlowConnections => Msg::AuditSlowConnections,
            AuditKind::QueueThrottled => Msg::AuditQueueThrottled,
            AuditKind::QueueFull => Msg::AuditQueueFull,
            AuditKind::RetentionApplied => Msg::AuditRetentionApplied,
            AuditKind::LegalHold => Msg::AuditLegalHold,
            AuditKind::AccountCreated => Msg::AuditAccountCreated,
            AuditKind::AccountChanged => Msg::AuditAccountChanged,
            AuditKind::PasswordReset => Msg::AuditPasswordReset,
            AuditKind::PasswordSet => Msg::AuditPasswordSet,
            AuditKind::SignedOutEverywhere => Msg::AuditSignedOutEverywhere,
            AuditKind::TeamChanged => Msg::AuditTeamChanged,
            AuditKind::InvitationFailed => Msg::AuditInvitationFailed,
            AuditKind::EmailSent => Msg::AuditEmailSent,
            AuditKind::ApiToken => Msg::AuditApiToken,
            AuditKind::WebhookChanged => Msg::AuditWebhookChanged,
            AuditKind::WebhookFailed => Msg::AuditWebhookFailed,
        })
    }

    /// Why a transfer failed, for its row.
    pub fn failure(&self, reason: FileFailure, viewer: Role) -> String {
        self.t(match reason {
            FileFailure::Cancelled { by } if by == viewer => Msg::FailureCancelledBySelf,
            FileFailure::Cancelled { by: Role::Customer } => Msg::FailureCancelledByCustomer,
            FileFailure::Cancelled { .. } => Msg::FailureCancelledByTechnician,
            FileFailure::HashMismatch => Msg::FailureHashMismatch,
            FileFailure::ConnectionLost => Msg::FailureConnectionLost,
            FileFailure::Revoked => Msg::FailureRevoked,
            FileFailure::Ended => Msg::FailureEnded,
            FileFailure::Unreadable => Msg::FailureUnreadable,
            FileFailure::HandedOver => Msg::FailureHandedOver,
            FileFailure::GrantExpired => Msg::FailureGrantExpired,
        })
    }

    /// `8 GB or more (as the browser rounds it)`.
    pub fn device_memory(&self, gigabytes: f64) -> String {
        let gb = if gigabytes.fract() == 0.0 {
            fixed(gigabytes, 0)
        } else {
            self.decimal(gigabytes, 2).trim_end_matches('0').to_owned()
        };
        self.t(Msg::DeviceMemory { gb })
    }

    /// What is copied from the console's panel: one `label: value` line per item.
    pub fn info_lines(&self, items: &[InfoItem]) -> String {
        items
            .iter()
            .map(|i| {
                self.t(Msg::InfoLine {
                    label: i.label.clone(),
                    value: i.value.clone(),
                })
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// `1280 × 720 · 30 fps`.
    pub fn stream_stats(&self, width: u32, height: u32, fps: Option<f64>) -> String {
        self.t(match fps {
            Some(fps) => Msg::StreamStats {
                width,
                height,
                fps: fps.round() as u64,
            },
            None => Msg::StreamSize { width, height },
        })
    }
}

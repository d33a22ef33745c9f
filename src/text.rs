//! Every sentence the user reads, in plain English, in one place, so that a message
//! catalogue can replace this module later. Error codes and end reasons become
//! sentences here; nothing else in the app writes user-visible text.

use connectit_protocol::error::Field;
use connectit_protocol::{
    Author, EndReason, ErrorCode, FileFailure, Media, MediaChange, Permission, Phase, Role,
    RuleViolation, StopCause,
};

pub const APP_NAME: &str = "ConnectIT";
pub const LOADING: &str = "Loading…";
pub const RECONNECTING: &str = "Reconnecting…";
pub const TRY_AGAIN: &str = "Try again";
pub const CONFIG_UNREACHABLE: &str =
    "We cannot reach the support service right now. Check your internet connection and try again.";

/// `"{page} — {organisation}"`, for the window title.
pub fn title(page: &str, organisation: &str) -> String {
    if organisation.is_empty() {
        format!("{page} — {APP_NAME}")
    } else {
        format!("{page} — {organisation}")
    }
}

// ---- Footer -----------------------------------------------------------------------

pub const APPLET_LINK: &str = "Download the support applet";
pub const APPLET_HINT: &str = "Prefer a program, or cannot use this page?";
pub const SUPPORT_CONTACT: &str = "Other ways to reach support:";

// ---- PIN step ---------------------------------------------------------------------

pub const PIN_TITLE: &str = "Enter your PIN";
pub const PIN_HEADING: &str = "Connect to a support representative";
pub const PIN_INTRO: &str = "Your support representative gave you a six-digit PIN. Enter it \
    here to start a support session. Nothing on your computer is shared until you allow it.";
pub const PIN_LABEL: &str = "PIN";
pub const PIN_HINT: &str = "Six digits, for example 123 456.";
pub const CONNECT: &str = "Connect";
pub const CONNECTING: &str = "Connecting…";
pub const PIN_ONLY_DIGITS: &str = "A PIN has only digits. Please check what you typed.";
pub const PIN_TOO_LONG: &str = "A PIN has six digits. Please check what you typed.";
pub const PIN_INVALID_OR_EXPIRED: &str = "This PIN is not valid. It may be mistyped, already \
    used, or expired. Please check it with your support representative.";
pub const PIN_INVALID_INPUT: &str = "Please enter the six digits of your PIN.";
pub const PIN_UNREACHABLE: &str = "We cannot reach the support service right now. Check your \
    internet connection and try again.";
pub const PIN_CAN_RETRY: &str = "You can try again now.";

pub fn pin_wait(secs: u64) -> String {
    match secs {
        1 => "Too many attempts. Please wait 1 second before trying again.".to_owned(),
        n => format!("Too many attempts. Please wait {n} seconds before trying again."),
    }
}

// ---- Terms, waiting, chat -----------------------------------------------------------

pub const JOINING_TITLE: &str = "Connecting";
pub const JOINING: &str = "Connecting to your support session…";
pub const TERMS_TITLE: &str = "Terms and conditions";
pub const TERMS_HEADING: &str = "Terms and conditions";
pub const TERMS_INTRO: &str =
    "Please read these terms. The session starts only if you accept them.";
pub const ACCEPT_TERMS: &str = "Accept and continue";
pub const DECLINE_TERMS: &str = "Decline";
pub const WAITING_TITLE: &str = "Waiting for a representative";
pub const WAITING: &str = "A support representative will be with you shortly.";
pub const WAITING_DETAIL: &str = "Please keep this page open. You will see their name here \
    when they join.";
pub const CHAT_TITLE: &str = "Support session";
pub const CHAT_WITH: &str = "You are talking with";
pub const CHAT_LOG_LABEL: &str = "Conversation";
pub const CHAT_INPUT_LABEL: &str = "Your message";
pub const CHAT_INPUT_HINT: &str = "Press Enter to send, Shift+Enter for a new line.";
pub const CHAT_SEND: &str = "Send";
pub const YOU: &str = "You";
pub const CUSTOMER: &str = "Customer";
pub const TECHNICIAN: &str = "Support representative";
pub const SYSTEM: &str = "ConnectIT";

pub fn from_organisation(organisation: &str) -> String {
    format!("from {organisation}")
}

// ---- Ending -------------------------------------------------------------------------

pub const END_BUTTON_LABEL: &str = "End the session";
pub const END_CONFIRM: &str = "End the session?";
pub const END_CONFIRM_DETAIL: &str =
    "The support representative will no longer be able to chat with you or see anything.";
pub const END_CONFIRM_DETAIL_TECHNICIAN: &str =
    "The customer will be told that you ended the session.";
pub const YES: &str = "Yes, end it";
pub const NO: &str = "No, continue";
pub const ENDED_TITLE: &str = "Session ended";
pub const ENDED_HEADING: &str = "The session has ended";

/// Why the session ended, told to the customer.
pub fn end_reason(reason: EndReason) -> &'static str {
    match reason {
        EndReason::CustomerEnded => "You ended the session.",
        EndReason::TechnicianEnded => "The support representative ended the session.",
        EndReason::TermsDeclined => {
            "You declined the terms and conditions, so the session was not started. Nothing \
             was shared."
        }
        EndReason::PinExpired => "The PIN expired before it was used.",
        EndReason::WaitingTimeout => {
            "No support representative was available in time. We are sorry. Please contact \
             support again."
        }
    }
}

/// Why the session ended, told to the technician.
pub fn end_reason_technician(reason: EndReason) -> &'static str {
    match reason {
        EndReason::CustomerEnded => "The customer ended the session.",
        EndReason::TechnicianEnded => "You ended the session.",
        EndReason::TermsDeclined => "The customer declined the terms and conditions.",
        EndReason::PinExpired => "The PIN expired before it was used.",
        EndReason::WaitingTimeout => "Nobody picked the session up in time.",
    }
}

// ---- Survey ---------------------------------------------------------------------------

pub const SURVEY_HEADING: &str = "How did it go?";
pub const SURVEY_INTRO: &str = "Three optional questions. Answer any of them, or skip.";
pub const SURVEY_RATING: &str = "How would you rate this support session?";
pub const SURVEY_RATING_NAMES: [&str; 5] = ["Poor", "Fair", "Good", "Very good", "Excellent"];
pub const SURVEY_RESOLVED: &str = "Was your problem resolved?";
pub const SURVEY_YES: &str = "Yes";
pub const SURVEY_NO: &str = "No";
pub const SURVEY_COMMENT: &str = "Anything else you would like to tell us?";
pub const SURVEY_SUBMIT: &str = "Send answers";
pub const SURVEY_SENDING: &str = "Sending…";
pub const SURVEY_SKIP: &str = "Skip";
pub const SURVEY_NEEDS_RATING: &str =
    "To send your answers, please also choose a rating, or choose Skip.";

pub fn survey_comment_count(used: usize, max: usize) -> String {
    format!("{used} of {max} characters")
}

pub const THANKS_TITLE: &str = "Thank you";
pub const THANKS_HEADING: &str = "Thank you";
pub const THANKS_TEXT: &str = "You can close this page now.";
pub const NEW_SESSION_CUSTOMER: &str = "Start another session";
pub const SESSION_GONE: &str = "This support session is no longer available.";
pub const ENTER_NEW_PIN: &str = "Enter a new PIN";

// ---- Log lines --------------------------------------------------------------------------

pub const LINE_CUSTOMER_JOINED_SELF: &str = "You joined the session.";
pub const LINE_CUSTOMER_JOINED: &str = "The customer joined with the PIN.";
pub const LINE_TERMS_ACCEPTED_SELF: &str = "You accepted the terms and conditions.";
pub const LINE_TERMS_ACCEPTED: &str = "The customer accepted the terms and is waiting.";
pub const LINE_TERMS_DECLINED_SELF: &str = "You declined the terms and conditions.";
pub const LINE_TERMS_DECLINED: &str = "The customer declined the terms and conditions.";
pub const LINE_PICKED_UP_SELF: &str = "You picked up the session.";

pub fn line_picked_up(name: &str) -> String {
    format!("{name} joined the session.")
}

pub fn line_disconnected(who: &str, is_self: bool) -> String {
    if is_self {
        "Your connection dropped.".to_owned()
    } else {
        format!("{who}’s connection dropped. Waiting for them to come back…")
    }
}

pub fn line_reconnected(who: &str, is_self: bool) -> String {
    if is_self {
        "You are connected again.".to_owned()
    } else {
        format!("{who} is back.")
    }
}

pub const LINE_SURVEY_SELF: &str = "You answered the survey. Thank you.";

pub fn line_survey(rating: u8, resolved: Option<bool>, comment: &str) -> String {
    let resolved = match resolved {
        Some(true) => "resolved",
        Some(false) => "not resolved",
        None => "resolution not answered",
    };
    if comment.is_empty() {
        format!("The customer rated the session {rating} of 5 ({resolved}).")
    } else {
        format!("The customer rated the session {rating} of 5 ({resolved}) and wrote: {comment}")
    }
}

/// The other member's name for log lines.
pub fn member(role: Role, technician: Option<&str>) -> String {
    match role {
        Role::Customer => "The customer".to_owned(),
        Role::Technician => technician.unwrap_or(TECHNICIAN).to_owned(),
    }
}

// ---- Errors ----------------------------------------------------------------------------

pub const NOT_CONNECTED: &str =
    "Not connected right now, so nothing was sent. Please try again in a moment.";
pub const UNCONFIRMED: &str = "The connection dropped before the last action was confirmed. \
    Please check the conversation before trying again.";

fn field_name(field: Field) -> &'static str {
    match field {
        Field::Pin => "PIN",
        Field::Username => "user name",
        Field::DisplayName => "display name",
        Field::Password => "password",
        Field::SetupCode => "setup code",
        Field::Rating => "rating",
        Field::Comment => "comment",
        Field::Token => "session",
    }
}

fn violation(violation: RuleViolation) -> String {
    match violation {
        RuleViolation::WrongPhase { phase } => match phase {
            Phase::Ended => "The session has already ended.".to_owned(),
            _ => "That is not possible at this point of the session.".to_owned(),
        },
        RuleViolation::WrongAuthor => "That is not possible for you in this session.".to_owned(),
        RuleViolation::EmptyText => "Please write something first.".to_owned(),
        RuleViolation::TextTooLong { max_chars } => {
            format!("That is too long: at most {max_chars} characters, please.")
        }
        RuleViolation::ControlCharacters => {
            "The text contains invisible control characters. Please retype it.".to_owned()
        }
        RuleViolation::InvalidRating => "Please choose a rating from 1 to 5.".to_owned(),
        RuleViolation::SurveyAlreadySubmitted => {
            "The survey for this session was already answered.".to_owned()
        }
        RuleViolation::PresenceMismatch | RuleViolation::SequenceGap { .. } => {
            "The session was out of step. Please try again.".to_owned()
        }
        RuleViolation::RequestPending => {
            "A request is already waiting for an answer. Wait for it first.".to_owned()
        }
        RuleViolation::NoSuchRequest => "That request was already answered or ran out.".to_owned(),
        RuleViolation::InvalidPermissions => "Choose at least one permission.".to_owned(),
        RuleViolation::NotRequested => "That was not asked for.".to_owned(),
        RuleViolation::Deadline => "The time to answer has run out.".to_owned(),
        RuleViolation::AlreadyExtended => "More time was already given once.".to_owned(),
        RuleViolation::NotGranted => "That is not allowed now.".to_owned(),
        RuleViolation::MediaState => "Sharing has already changed. Please look again.".to_owned(),
        RuleViolation::FileState => "That file transfer has already moved on.".to_owned(),
        RuleViolation::FileTooLarge { max_bytes } => file_too_large_limit(max_bytes),
        RuleViolation::HashMismatch => {
            "The file did not match its checksum: it was not saved.".to_owned()
        }
        RuleViolation::InvalidInfo => {
            "That system information could not be sent (empty, too long or unreadable).".to_owned()
        }
    }
}

/// A sentence for any error the broker may answer with.
pub fn error(code: ErrorCode) -> String {
    match code {
        ErrorCode::InvalidOrExpiredPin => PIN_INVALID_OR_EXPIRED.to_owned(),
        ErrorCode::TooManyAttempts { retry_after_secs } => pin_wait(retry_after_secs.into()),
        ErrorCode::InvalidInput { field } => {
            format!(
                "The {} is not acceptable. Please check it.",
                field_name(field)
            )
        }
        ErrorCode::InvalidCredentials => "The user name or password is not right.".to_owned(),
        ErrorCode::InvalidSetupCode => {
            "The setup code is not right, or it was already used.".to_owned()
        }
        ErrorCode::Unauthorized => "You are not signed in, or your sign-in expired.".to_owned(),
        ErrorCode::Forbidden => "This belongs to someone else.".to_owned(),
        ErrorCode::NotFound => "That could not be found. It may have been removed.".to_owned(),
        ErrorCode::MalformedMessage | ErrorCode::OutOfOrder => {
            "Something went wrong between this page and the service. Reloading the page may help."
                .to_owned()
        }
        ErrorCode::MessageTooLarge { .. } => "That is too large to send.".to_owned(),
        ErrorCode::RateLimited { retry_after_secs } => format!(
            "That was a lot in a short time. Please wait {retry_after_secs} seconds and try again."
        ),
        ErrorCode::NotAllowed { violation: v } => violation(v),
        ErrorCode::StorageUnavailable => {
            "The service could not save that just now, so nothing happened. Please try again."
                .to_owned()
        }
        ErrorCode::Internal => "Something went wrong on our side. Please try again.".to_owned(),
    }
}

pub const UNREACHABLE: &str = "The service cannot be reached. Check your connection and try again.";
pub const BAD_ANSWER: &str = "The service gave an answer this page does not understand. \
    Reloading the page may help.";

// ---- Console ----------------------------------------------------------------------------

pub const CONSOLE_TITLE: &str = "Technician console";
pub const SETUP_TITLE: &str = "Set up";
pub const SETUP_HEADING: &str = "Create the first technician account";
pub const SETUP_INTRO: &str = "The broker printed a one-time setup code when it first \
    started. Enter it with the details of the first account.";
pub const SETUP_CODE: &str = "Setup code";
pub const USERNAME: &str = "User name";
pub const DISPLAY_NAME: &str = "Display name (customers see it)";
pub const PASSWORD: &str = "Password";
pub const SETUP_SUBMIT: &str = "Create account";
pub const SIGNIN_TITLE: &str = "Sign in";
pub const SIGNIN_HEADING: &str = "Sign in to the console";
pub const SIGNIN_SUBMIT: &str = "Sign in";
pub const SIGNING_IN: &str = "Signing in…";
pub const FILL_ALL_FIELDS: &str = "Please fill in every field.";
pub const SIGNED_IN_AS: &str = "Signed in as";
pub const SIGN_OUT: &str = "Sign out";
pub const CREATE_SESSION: &str = "New session";
pub const CREATING_SESSION: &str = "Creating…";
pub const NEW_SESSION_HEADING: &str = "New session";
pub const NEW_SESSION_INTRO: &str =
    "Read the PIN to the customer, or send them the link or the e-mail below.";
pub const NEW_PIN_LABEL: &str = "PIN";
pub const LINK_LABEL: &str = "Link";
pub const EMAIL_LABEL: &str = "E-mail to send";
pub const COPY_LINK: &str = "Copy link";
pub const COPY_EMAIL: &str = "Copy e-mail";
pub const COPIED: &str = "Copied.";
pub const COPY_FAILED: &str = "Could not copy automatically: the text is selected, press Ctrl+C \
    (or ⌘C) to copy it.";
pub const PIN_EXPIRED: &str = "This PIN has expired.";
pub const PIN_USED: &str = "The customer has used this PIN: it works no more.";
pub const PIN_SESSION_ENDED: &str = "This session has ended: the PIN works no more.";
pub const CLOSE: &str = "Close";

pub fn pin_valid_for(left: &str) -> String {
    format!("Valid for {left}")
}

pub const SESSIONS_HEADING: &str = "Your sessions";
pub const NO_SESSIONS: &str = "No sessions yet. Create one with “New session”.";
pub const OPEN_SESSION: &str = "Open";
pub const CUSTOMER_ONLINE: &str = "customer online";
pub const CUSTOMER_OFFLINE: &str = "customer offline";

pub fn session_row_label(created: &str) -> String {
    format!("Session created at {created}")
}

pub fn messages(count: u64) -> String {
    match count {
        0 => "no messages".to_owned(),
        1 => "1 message".to_owned(),
        n => format!("{n} messages"),
    }
}

pub fn phase(phase: Phase) -> &'static str {
    match phase {
        Phase::Created => "PIN issued",
        Phase::Connecting => "Customer reading terms",
        Phase::Waiting => "Waiting for you",
        Phase::Active => "In progress",
        Phase::Ended => "Ended",
    }
}

pub const BACK_TO_LIST: &str = "Back to the list";
pub const PICK_UP: &str = "Pick up";
pub const END_SESSION: &str = "End session";
pub const SESSION_VIEW_TITLE: &str = "Session";
pub const SESSION_CREATED_WAIT: &str = "The customer has not used the PIN yet.";
pub const SESSION_CONNECTING_WAIT: &str = "The customer is reading the terms and conditions.";
pub const SESSION_WAITING: &str = "The customer is waiting for you. Pick the session up to \
    start chatting.";
pub const CUSTOMER_AWAY: &str = "The customer’s connection dropped. Waiting for them to come back…";

// ---- Permissions (issue 3) ---------------------------------------------------------------

/// A permission in the customer's words ("see your screen").
pub fn permission_for_customer(p: Permission) -> &'static str {
    match p {
        Permission::ViewScreen => "see your screen",
        Permission::Camera => "see your camera",
        Permission::SendFiles => "send you files",
        Permission::ReceiveFiles => "receive files from you",
        Permission::SystemInfo => "read information about your system",
        Permission::RemoteControl => "control your mouse and keyboard",
    }
}

/// A permission in the technician's words ("see the screen").
pub fn permission_for_technician(p: Permission) -> &'static str {
    match p {
        Permission::ViewScreen => "see the screen",
        Permission::Camera => "see the camera",
        Permission::SendFiles => "send files",
        Permission::ReceiveFiles => "receive files",
        Permission::SystemInfo => "read system information",
        Permission::RemoteControl => "remote control",
    }
}

/// What a permission lets the technician do, one sentence for the prompt.
pub fn permission_detail(p: Permission) -> &'static str {
    match p {
        Permission::ViewScreen => {
            "You choose a screen, window or tab. They see it live; you can pause or stop at \
             any time."
        }
        Permission::Camera => "They see what your camera shows, to look at hardware.",
        Permission::SendFiles => "They can offer you files; you accept each one first.",
        Permission::ReceiveFiles => "You can send them files you pick.",
        Permission::SystemInfo => {
            "Your browser, operating system, screen and language. You see what is sent first."
        }
        Permission::RemoteControl => {
            "A web page cannot do this. It needs the support applet, which you can download."
        }
    }
}

/// "a, b and c".
pub fn and_list(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The customer's words for a list of permissions, with "see your screen and camera"
/// said once.
fn customer_list(permissions: &[Permission]) -> String {
    let both =
        permissions.contains(&Permission::ViewScreen) && permissions.contains(&Permission::Camera);
    let words: Vec<&str> = permissions
        .iter()
        .filter_map(|p| match p {
            Permission::ViewScreen if both => Some("see your screen and camera"),
            Permission::Camera if both => None,
            p => Some(permission_for_customer(*p)),
        })
        .collect();
    and_list(&words)
}

fn technician_list(permissions: &[Permission]) -> String {
    let both =
        permissions.contains(&Permission::ViewScreen) && permissions.contains(&Permission::Camera);
    let words: Vec<&str> = permissions
        .iter()
        .filter_map(|p| match p {
            Permission::ViewScreen if both => Some("see the screen and camera"),
            Permission::Camera if both => None,
            p => Some(permission_for_technician(*p)),
        })
        .collect();
    and_list(&words)
}

fn with_reason(line: String, reason: &str) -> String {
    if reason.trim().is_empty() {
        format!("{line}.")
    } else {
        format!("{line}: “{reason}”")
    }
}

pub fn line_requested(
    technician: &str,
    permissions: &[Permission],
    reason: &str,
    is_customer: bool,
) -> String {
    if is_customer {
        with_reason(
            format!("{technician} asked to {}", customer_list(permissions)),
            reason,
        )
    } else {
        with_reason(
            format!("You asked to {}", technician_list(permissions)),
            reason,
        )
    }
}

pub fn line_granted(permissions: &[Permission], is_customer: bool) -> String {
    if is_customer {
        format!("You allowed: {}", customer_list(permissions))
    } else {
        format!("The customer allowed: {}", technician_list(permissions))
    }
}

pub fn line_revoked(permissions: &[Permission], is_customer: bool) -> String {
    if is_customer {
        format!("You took back: {}", customer_list(permissions))
    } else {
        format!("The customer took back: {}", technician_list(permissions))
    }
}

pub const LINE_DENIED_SELF: &str = "You refused";
pub const LINE_DENIED: &str = "The customer refused";
pub const LINE_EXPIRED_SELF: &str = "No answer in time: refused";
pub const LINE_EXPIRED: &str = "The customer did not answer in time: refused. Ask again if needed";
pub const LINE_EXTENDED_SELF: &str = "You asked for more time";
pub const LINE_EXTENDED: &str = "The customer asked for more time";
pub const LINE_APPLET_OFFERED_SELF: &str = "The remote control applet was offered";
pub const LINE_APPLET_OFFERED: &str = "The customer was offered the remote control applet";

fn media_words(media: Media, is_customer: bool) -> &'static str {
    match (media, is_customer) {
        (Media::Screen, true) => "your screen",
        (Media::Camera, true) => "your camera",
        (Media::Screen, false) => "the screen",
        (Media::Camera, false) => "the camera",
    }
}

pub fn line_media(media: Media, change: MediaChange, is_customer: bool) -> String {
    let what = media_words(media, is_customer);
    let who = if is_customer { "You" } else { "The customer" };
    match change {
        MediaChange::Started => format!("{who} started sharing {what}"),
        MediaChange::Paused => format!("{who} paused sharing {what}"),
        MediaChange::Resumed => format!("{who} resumed sharing {what}"),
        MediaChange::Stopped {
            cause: StopCause::Customer,
        } => format!("{who} stopped sharing {what}"),
        MediaChange::Stopped {
            cause: StopCause::Browser,
        } => match media {
            Media::Screen => "Sharing stopped by the browser".to_owned(),
            Media::Camera => "The camera was stopped by the browser".to_owned(),
        },
        MediaChange::Stopped {
            cause: StopCause::Failed,
        } => format!("Sharing {what} could not go on"),
    }
}

pub fn line_peer_restarted(media: Media) -> String {
    match media {
        Media::Screen => "The connection was restarted (screen)".to_owned(),
        Media::Camera => "The connection was restarted (camera)".to_owned(),
    }
}

// ---- The customer's prompt -------------------------------------------------------------

pub const PROMPT_TITLE: &str = "Permission requested";
pub const PROMPT_INTRO: &str = "Choose what you allow. You can take it back at any time.";
pub const PROMPT_REASON: &str = "Their reason:";
pub const PROMPT_NO_REASON: &str = "They gave no reason.";
pub const PROMPT_CONFIDENTIAL: &str = "Before you allow anything, close documents, e-mails and \
    windows with confidential information.";
pub const GRANT_ALL: &str = "Allow all";
pub const GRANT_SELECTED: &str = "Allow the chosen ones";
pub const DENY: &str = "Refuse";
pub const MORE_TIME: &str = "More time";
pub const MORE_TIME_USED: &str = "More time was given once.";
pub const PROMPT_REMAINING_BEFORE: &str = "Time left to answer:";
pub const PROMPT_REMAINING_AFTER: &str = "seconds. No answer means no.";
pub const APPLET_OFFER: &str = "Remote control needs the support applet: a web page cannot \
    control your mouse and keyboard.";
pub const APPLET_OFFER_LINK: &str = "Download the support applet";
pub const SCREEN_UNSUPPORTED: &str = "This browser cannot share your screen, so it is not \
    offered here. The support applet can show your screen instead.";
pub const TEXT_SIZE: &str = "Text size";
pub const TEXT_SMALLER: &str = "smaller text";
pub const TEXT_LARGER: &str = "larger text";
pub const SCREEN_UNSUPPORTED_CAMERA: &str = "You can allow your camera instead.";
pub const NOTIFICATION_BODY: &str = "Your support representative is waiting for your answer.";

pub fn prompt_heading(technician: &str) -> String {
    format!("{technician} asks for permission")
}

/// The hidden title when a prompt waits.
pub fn prompt_title(organisation: &str) -> String {
    format!("(!) {}", title(PROMPT_TITLE, organisation))
}

/// What screen readers hear at the marks of a countdown.
pub fn seconds_left(secs: u64) -> String {
    match secs {
        1 => "1 second left to answer.".to_owned(),
        n => format!("{n} seconds left to answer."),
    }
}

// ---- What is granted, and sharing ------------------------------------------------------

pub const GRANTED_HEADING: &str = "What the support representative may do now";
pub const GRANTED_NOTHING: &str = "Nothing. They can only chat with you.";
pub const REVOKE: &str = "Take back";
pub const REVOKE_ALL: &str = "Take back everything";

pub fn revoke_label(p: Permission) -> String {
    format!("Take back: {}", permission_for_customer(p))
}

pub const SHARING_SCREEN: &str = "Your screen is being shared";
pub const SHARING_PAUSED: &str = "Paused: nothing is sent until you resume.";
pub const SHARING_CAMERA: &str = "Your camera is being shared";
pub const PAUSE: &str = "Pause";
pub const RESUME: &str = "Resume";
pub const STOP_SHARING: &str = "Stop sharing";
pub const STOP_CAMERA: &str = "Stop the camera";
pub const SELF_PREVIEW: &str = "What you share";
pub const CAPTURE_FAILED: &str = "Your browser could not start sharing. Nothing was shared.";

// ---- The console's requests and views ----------------------------------------------------

pub const REQUEST_HEADING: &str = "Ask for permission";
pub const REQUEST_REASON: &str = "Reason (optional, the customer sees it)";
pub const REQUEST_SUBMIT: &str = "Ask";
pub const REQUEST_NOTHING_CHOSEN: &str = "Choose at least one permission.";
pub const PENDING_HEADING: &str = "Waiting for the customer’s answer";
pub const PENDING_REMAINING_AFTER: &str = "seconds left";
pub const CUSTOMER_GRANTED_HEADING: &str = "Granted now";
pub const CUSTOMER_GRANTED_NOTHING: &str = "Nothing is granted.";
pub const SCREEN_HEADING: &str = "Customer’s screen";
pub const CAMERA_HEADING: &str = "Customer’s camera";
pub const MEDIA_OFF: &str = "Not shared.";
pub const MEDIA_PAUSED: &str = "Paused by the customer: no frames are sent.";
pub const MEDIA_WAITING: &str = "Connecting…";
pub const VIEW_FIT: &str = "Fit";
pub const VIEW_ACTUAL: &str = "1:1";
pub const VIEW_FULLSCREEN: &str = "Full screen";

pub fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `1280 × 720 · 30 fps`.
pub fn stream_stats(width: u32, height: u32, fps: Option<f64>) -> String {
    match fps {
        Some(fps) => format!("{width} × {height} · {} fps", fps.round() as u64),
        None => format!("{width} × {height}"),
    }
}

// ---- Sizes, speeds and times (issue 4) ---------------------------------------------------

/// A size in human units (decimal, as file managers show it): `512 bytes`, `2.1 MB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return match bytes {
            1 => "1 byte".to_owned(),
            n => format!("{n} bytes"),
        };
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if value < 9.95 {
        format!("{value:.1} {}", UNITS[unit])
    } else {
        format!("{value:.0} {}", UNITS[unit])
    }
}

/// A transfer speed: `3.4 MB/s`.
pub fn speed(bytes_per_sec: f64) -> String {
    if !bytes_per_sec.is_finite() || bytes_per_sec <= 0.0 {
        return SPEED_UNKNOWN.to_owned();
    }
    format!("{}/s", size(bytes_per_sec.round() as u64))
}

/// The time a transfer still needs: `12 s left`, `3 min 5 s left`, `1 h 2 min left`.
pub fn time_left(secs: f64) -> String {
    if !secs.is_finite() || secs < 0.0 {
        return ETA_UNKNOWN.to_owned();
    }
    let secs = secs.ceil() as u64;
    match secs {
        0 => "almost done".to_owned(),
        s if s < 60 => format!("{s} s left"),
        s if s < 3600 => match s % 60 {
            0 => format!("{} min left", s / 60),
            r => format!("{} min {r} s left", s / 60),
        },
        s => format!("{} h {} min left", s / 3600, (s % 3600) / 60),
    }
}

pub const SPEED_UNKNOWN: &str = "–";
pub const ETA_UNKNOWN: &str = "–";

/// The first digits of a SHA-256, for lines: `3f2a9c1b7d04…`.
pub fn short_hash(sha256: &str) -> String {
    let head: String = sha256.chars().take(12).collect();
    format!("{head}…")
}

// ---- Files: log lines ------------------------------------------------------------------

/// What a log line calls a file it cannot name (an entry this page missed).
pub const A_FILE: &str = "a file";

fn sender_name(author: Author, viewer: Role, technician: Option<&str>) -> String {
    match (author, viewer) {
        (Author::Customer, Role::Customer) | (Author::Technician, Role::Technician) => {
            YOU.to_owned()
        }
        (Author::Customer, _) => "The customer".to_owned(),
        _ => technician.unwrap_or(TECHNICIAN).to_owned(),
    }
}

pub fn line_file_offered(
    name: &str,
    bytes: u64,
    author: Author,
    viewer: Role,
    technician: Option<&str>,
) -> String {
    let size = size(bytes);
    match (author, viewer) {
        (Author::Technician, Role::Customer) => format!(
            "{} offers you a file: {name} ({size})",
            technician.unwrap_or(TECHNICIAN)
        ),
        (Author::Customer, Role::Technician) => {
            format!("The customer sends you a file: {name} ({size})")
        }
        (Author::Customer, Role::Customer) => format!("You send a file: {name} ({size})"),
        _ => format!("You offered the customer a file: {name} ({size})"),
    }
}

pub fn line_file_accepted(name: &str, is_customer: bool) -> String {
    if is_customer {
        format!("You accepted {name}")
    } else {
        format!("The customer accepted {name}")
    }
}

pub fn line_file_refused(name: &str, is_customer: bool) -> String {
    if is_customer {
        format!("You refused {name}")
    } else {
        format!("The customer refused {name}")
    }
}

pub fn line_file_sent(
    name: &str,
    sha256: &str,
    mine: bool,
    author: Author,
    technician: Option<&str>,
) -> String {
    if mine {
        format!(
            "You sent every byte of {name} (SHA-256 {}); it is being checked",
            short_hash(sha256)
        )
    } else {
        let who = sender_name(author, Role::Customer, technician);
        let who = if author == Author::Customer {
            "The customer".to_owned()
        } else {
            who
        };
        format!(
            "{who} sent every byte of {name} (SHA-256 {}); checking it",
            short_hash(sha256)
        )
    }
}

pub fn line_file_delivered(name: &str, bytes: Option<u64>, sha256: &str) -> String {
    match bytes {
        Some(bytes) => format!(
            "{name} ({}) arrived intact (SHA-256 {})",
            size(bytes),
            short_hash(sha256)
        ),
        None => format!("{name} arrived intact (SHA-256 {})", short_hash(sha256)),
    }
}

pub fn line_file_failed(
    name: &str,
    reason: FileFailure,
    viewer: Role,
    technician: Option<&str>,
) -> String {
    match reason {
        FileFailure::Cancelled { by } => {
            let who = if by == viewer {
                "you".to_owned()
            } else {
                match by {
                    Role::Customer => "the customer".to_owned(),
                    Role::Technician => technician
                        .unwrap_or("the support representative")
                        .to_owned(),
                }
            };
            format!("{name} was cancelled by {who}")
        }
        FileFailure::HashMismatch => {
            format!("{name}: the file did not match its checksum: it was not saved")
        }
        FileFailure::ConnectionLost => format!("{name} stopped: the connection was lost"),
        FileFailure::Revoked => format!("{name} stopped: the permission was taken back"),
        FileFailure::Ended => format!("{name} stopped: the session ended"),
        FileFailure::Unreadable => format!("{name} could not be read or saved"),
    }
}

pub fn line_system_info(items: usize, is_customer: bool) -> String {
    let items = match items {
        1 => "1 item".to_owned(),
        n => format!("{n} items"),
    };
    if is_customer {
        format!("You shared system information ({items})")
    } else {
        format!("The customer shared system information ({items})")
    }
}

// ---- Files: the panel --------------------------------------------------------------------

pub const FILES_HEADING: &str = "Files";
pub const FILES_INTRO_CUSTOMER: &str = "Files go straight between your browser and the \
    support representative’s, checked with SHA-256 on arrival.";
pub const PICK_FILES: &str = "Send files…";
pub const PICK_FILES_CONSOLE: &str = "Send files to the customer";
pub const FILE_DROP: &str = "or drop files here";
pub const FILE_DROP_LABEL: &str = "Drop files here to send them to the support representative";
pub const TRANSFERS_LABEL: &str = "File transfers";
pub const NO_TRANSFERS: &str = "No files yet.";
pub const ACCEPT_FILE: &str = "Accept";
pub const REFUSE_FILE: &str = "Refuse";
pub const CANCEL_TRANSFER: &str = "Cancel";
pub const SAVE_FILE: &str = "Save";
pub const SAVE_AGAIN: &str = "Save again";
pub const DIRECTION_IN: &str = "Incoming";
pub const DIRECTION_OUT: &str = "Outgoing";
pub const FILE_WAITING_ANSWER: &str = "Waiting for the customer to accept…";
pub const FILE_CHECKING: &str = "Checking…";
pub const FILE_REFUSED: &str = "Refused.";
pub const FILE_DELIVERED_OUT: &str = "Delivered, checksum confirmed.";
pub const FILE_DELIVERED_IN: &str = "Arrived intact.";

pub fn file_too_large(name: &str, bytes: u64, max_bytes: u64) -> String {
    format!(
        "{name} ({}) is too large to send: the limit is {}. Nothing was sent.",
        size(bytes),
        size(max_bytes)
    )
}

pub fn file_too_large_limit(max_bytes: u64) -> String {
    format!("That file is too large: the limit is {}.", size(max_bytes))
}

pub fn file_not_offered(name: &str, why: &str) -> String {
    format!("{name} was not sent: {why}")
}

/// "Tess offers you report.pdf (2.1 MB)", on the customer's offer row.
pub fn file_offer(sender: &str, name: &str, bytes: u64) -> String {
    format!("{sender} offers you {name} ({})", size(bytes))
}

pub fn accept_file_label(name: &str) -> String {
    format!("Accept {name}")
}

pub fn refuse_file_label(name: &str) -> String {
    format!("Refuse {name}")
}

pub fn cancel_transfer_label(name: &str) -> String {
    format!("Cancel the transfer of {name}")
}

pub fn save_file_label(name: &str) -> String {
    format!("Save {name}")
}

pub fn progress_label(name: &str) -> String {
    format!("Progress of {name}")
}

/// `2.1 MB of 20 MB`.
pub fn progress_text(done: u64, total: u64) -> String {
    format!("{} of {}", size(done), size(total))
}

/// Why a transfer failed, for its row.
pub fn failure(reason: FileFailure, viewer: Role) -> String {
    match reason {
        FileFailure::Cancelled { by } if by == viewer => "Cancelled by you.".to_owned(),
        FileFailure::Cancelled { by: Role::Customer } => "Cancelled by the customer.".to_owned(),
        FileFailure::Cancelled { .. } => "Cancelled by the support representative.".to_owned(),
        FileFailure::HashMismatch => {
            "The file did not match its checksum: it was not saved.".to_owned()
        }
        FileFailure::ConnectionLost => "Stopped: the connection was lost.".to_owned(),
        FileFailure::Revoked => "Stopped: the permission was taken back.".to_owned(),
        FileFailure::Ended => "Stopped: the session ended.".to_owned(),
        FileFailure::Unreadable => "The file could not be read or saved.".to_owned(),
    }
}

// ---- System information ------------------------------------------------------------------

pub const SYSTEM_INFO_HEADING: &str = "System information";
pub const SYSTEM_INFO_PREVIEW_INTRO: &str = "This is exactly what will be sent to the support \
    representative. Nothing else is sent.";
pub const SYSTEM_INFO_GATHERING: &str = "Reading what your browser can tell…";
pub const SYSTEM_INFO_SEND: &str = "Send";
pub const SYSTEM_INFO_CANCEL: &str = "Cancel";
pub const SYSTEM_INFO_AGAIN: &str = "Prepare system information to send";
pub const SYSTEM_INFO_SENT: &str = "Sent.";
pub const SYSTEM_INFO_DROPPED: &str = "Not sent.";
pub const SYSTEM_INFO_NONE: &str = "The customer has not shared system information yet.";
pub const SYSTEM_INFO_COPY: &str = "Copy";
pub const SYSTEM_INFO_LABEL: &str = "Item";
pub const SYSTEM_INFO_VALUE: &str = "Value";

pub const INFO_BROWSER: &str = "Browser";
pub const INFO_OS: &str = "Operating system";
pub const INFO_LANGUAGES: &str = "Languages";
pub const INFO_TIME_ZONE: &str = "Time zone";
pub const INFO_SCREEN: &str = "Screen";
pub const INFO_WINDOW: &str = "Browser window";
pub const INFO_PIXEL_RATIO: &str = "Pixel ratio";
pub const INFO_CORES: &str = "Logical processors";
pub const INFO_MEMORY: &str = "Device memory";
pub const INFO_ONLINE: &str = "Online";
pub const INFO_CONNECTION: &str = "Connection type";
pub const INFO_RTT: &str = "Round-trip time to the representative";
pub const INFO_YES: &str = "Yes";
pub const INFO_NO: &str = "No";

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

/// `8 GB (as the browser reports it, rounded)`.
pub fn device_memory(gigabytes: f64) -> String {
    format!("{gigabytes} GB or more (as the browser rounds it)")
}

/// `42 ms`.
pub fn millis(ms: f64) -> String {
    format!("{} ms", ms.round() as u64)
}

/// What is copied from the console's panel: one `label: value` line per item.
pub fn info_lines(items: &[connectit_protocol::InfoItem]) -> String {
    items
        .iter()
        .map(|i| format!("{}: {}", i.label, i.value))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- The record --------------------------------------------------------------------------

pub const RECORD_HEADING: &str = "Record of this session";
pub const RECORD_INTRO: &str = "A copy of everything that happened in this session, with a \
    checksum chain that shows whether anything was changed.";
pub const RECORD_HTML: &str = "Download the record (readable page)";
pub const RECORD_JSON: &str = "Download the record (JSON, for verification)";
pub const RECORD_DOWNLOADING: &str = "Preparing the download…";
pub const RECORD_READY: &str = "The record was downloaded.";

pub fn record_failed(why: &str) -> String {
    format!("The record could not be downloaded: {why}")
}

pub const INFO_UNKNOWN: &str = "Unknown";

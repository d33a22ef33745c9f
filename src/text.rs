//! Every sentence the user reads, in plain English, in one place, so that a message
//! catalogue can replace this module later. Error codes and end reasons become
//! sentences here; nothing else in the app writes user-visible text.

use connectit_protocol::error::Field;
use connectit_protocol::{EndReason, ErrorCode, Phase, Role, RuleViolation};

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

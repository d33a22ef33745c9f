//! The message keys: one [`Msg`] variant per sentence, with its arguments, and the stable
//! snake_case name an organisation uses to override it (`[texts.<lang>] <key> = "…"`).

/// Declares [`Msg`], its keys and its arguments in one list, so they cannot drift apart.
macro_rules! messages {
    ($( $(#[$doc:meta])* $variant:ident $({ $($arg:ident : $ty:ty),* })? => $key:literal, )*) => {
        /// One sentence (or label) the app shows. Arguments fill `{name}` placeholders.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Msg {
            $( $(#[$doc])* $variant $({ $($arg: $ty),* })?, )*
        }

        /// Every key, in declaration order (docs/i18n.md lists them).
        pub const KEYS: &[&str] = &[$($key),*];

        impl Msg {
            /// The stable name an organisation's `texts` table uses.
            pub fn key(&self) -> &'static str {
                match self {
                    $( Msg::$variant { .. } => $key, )*
                }
            }

            /// The `{name}` placeholders and their values.
            #[allow(unused_variables)]
            pub fn args(&self) -> Vec<(&'static str, String)> {
                match self {
                    $( Msg::$variant { $($($arg),*)? } => vec![$($((stringify!($arg), $arg.to_string())),*)?], )*
                }
            }
        }
    };
}

messages! {
    AppName => "app_name",
    Loading => "loading",
    TryAgain => "try_again",
    ConfigUnreachable => "config_unreachable",
    /// The window title: `{page} — {organisation}`.
    Title { page: String, organisation: String } => "title",
    Language => "language",
    /// The language's own name, as the language menu shows it.
    LanguageName => "language_name",
    AppletHint => "applet_hint",
    AppletLink => "applet_link",
    SupportContact => "support_contact",
    TextSize => "text_size",
    TextSmaller => "text_smaller",
    TextLarger => "text_larger",
    PinTitle => "pin_title",
    PinHeading => "pin_heading",
    PinIntro => "pin_intro",
    PinLabel => "pin_label",
    PinHint => "pin_hint",
    Connect => "connect",
    Connecting => "connecting",
    PinOnlyDigits => "pin_only_digits",
    PinTooLong => "pin_too_long",
    PinInvalidOrExpired => "pin_invalid_or_expired",
    PinInvalidInput => "pin_invalid_input",
    PinUnreachable => "pin_unreachable",
    PinCanRetry => "pin_can_retry",
    /// Too many PIN attempts: wait `{secs}` seconds.
    PinWait { secs: u64 } => "pin_wait",
    JoiningTitle => "joining_title",
    Joining => "joining",
    TermsTitle => "terms_title",
    TermsHeading => "terms_heading",
    TermsIntro => "terms_intro",
    AcceptTerms => "accept_terms",
    DeclineTerms => "decline_terms",
    WaitingTitle => "waiting_title",
    Waiting => "waiting",
    WaitingDetail => "waiting_detail",
    SessionGone => "session_gone",
    EnterNewPin => "enter_new_pin",
    ChatTitle => "chat_title",
    ChatWith => "chat_with",
    /// After the technician's name: `from {organisation}`.
    FromOrganisation { organisation: String } => "from_organisation",
    EndButtonLabel => "end_button_label",
    EndConfirmDetail => "end_confirm_detail",
    EndedTitle => "ended_title",
    EndedHeading => "ended_heading",
    EndCustomerEnded => "end_customer_ended",
    EndTechnicianEnded => "end_technician_ended",
    EndTermsDeclined => "end_terms_declined",
    EndPinExpired => "end_pin_expired",
    EndWaitingTimeout => "end_waiting_timeout",
    SurveyHeading => "survey_heading",
    SurveyIntro => "survey_intro",
    SurveyRating => "survey_rating",
    SurveyRating1 => "survey_rating_1",
    SurveyRating2 => "survey_rating_2",
    SurveyRating3 => "survey_rating_3",
    SurveyRating4 => "survey_rating_4",
    SurveyRating5 => "survey_rating_5",
    SurveyResolved => "survey_resolved",
    SurveyYes => "survey_yes",
    SurveyNo => "survey_no",
    SurveyComment => "survey_comment",
    /// `{used} of {max} characters`.
    SurveyCommentCount { used: usize, max: usize } => "survey_comment_count",
    SurveySubmit => "survey_submit",
    SurveySending => "survey_sending",
    SurveySkip => "survey_skip",
    SurveyNeedsRating => "survey_needs_rating",
    ThanksTitle => "thanks_title",
    ThanksHeading => "thanks_heading",
    ThanksText => "thanks_text",
    NewSessionCustomer => "new_session_customer",
}

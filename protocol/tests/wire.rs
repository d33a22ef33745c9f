//! The wire format: every message of every direction survives a JSON round trip, and the
//! shapes are the adjacently tagged ones the other side expects.

use connectit_protocol::api::*;
use connectit_protocol::error::Field;
use connectit_protocol::wire::{CloseReason, ConsoleMessage, Join};
use connectit_protocol::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: T) {
    let text = serde_json::to_string(&value).unwrap();
    let back: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(back, value, "{text}");
}

fn every_entry_kind() -> Vec<EntryKind> {
    vec![
        EntryKind::CustomerJoined,
        EntryKind::TermsAccepted,
        EntryKind::TermsDeclined,
        EntryKind::TechnicianPickedUp {
            name: "Alice".into(),
        },
        EntryKind::Chat {
            text: "<b>hi</b> \"quoted\" ✓\n".into(),
            by: None,
        },
        EntryKind::Chat {
            text: "Hello, I am here too".into(),
            by: Some("Bob Jones".into()),
        },
        EntryKind::HandedOver {
            from: "Alice".into(),
            to: Some("Bob Jones".into()),
        },
        EntryKind::HandedOver {
            from: "Alice".into(),
            to: None,
        },
        EntryKind::TechnicianInvited {
            by: "Alice".into(),
            name: "Bob Jones".into(),
        },
        EntryKind::TechnicianJoined {
            name: "Bob Jones".into(),
        },
        EntryKind::TechnicianLeft {
            name: "Bob Jones".into(),
        },
        EntryKind::Disconnected {
            role: Role::Customer,
        },
        EntryKind::Reconnected {
            role: Role::Technician,
        },
        EntryKind::SessionEnded {
            reason: EndReason::WaitingTimeout,
        },
        EntryKind::PermissionRequested {
            request: 1,
            permissions: vec![Permission::ViewScreen, Permission::RemoteControl],
            reason: "to see the error".into(),
            deadline: 60_000,
        },
        EntryKind::PermissionGranted {
            request: 1,
            granted: vec![Permission::ViewScreen],
            until: None,
        },
        EntryKind::PermissionDenied { request: 2 },
        EntryKind::PermissionExpired { request: 3 },
        EntryKind::PermissionExtended {
            request: 4,
            deadline: 120_000,
        },
        EntryKind::PermissionsRevoked {
            permissions: vec![Permission::Camera, Permission::SystemInfo],
        },
        EntryKind::PermissionGranted {
            request: 3,
            granted: vec![Permission::ViewScreen],
            until: Some(1_800_000),
        },
        EntryKind::GrantRenewed {
            permissions: vec![Permission::ViewScreen],
            until: None,
        },
        EntryKind::GrantExpired {
            permissions: vec![Permission::ViewScreen],
        },
        EntryKind::AppletOffered { request: 1 },
        EntryKind::Media {
            media: Media::Screen,
            change: MediaChange::Started,
        },
        EntryKind::Media {
            media: Media::Camera,
            change: MediaChange::Stopped {
                cause: StopCause::Browser,
            },
        },
        EntryKind::PeerRestarted {
            media: Media::Screen,
        },
        EntryKind::PathFailed {
            link: Link::Files,
            reason: PathFailure::IceFailed,
        },
        EntryKind::FileOffered {
            file: 1,
            name: "a.txt".into(),
            size: 3,
        },
        EntryKind::FileAccepted { file: 1 },
        EntryKind::FileRefused { file: 2 },
        EntryKind::FileSent {
            file: 1,
            sha256: "cd".repeat(32),
        },
        EntryKind::FileDelivered {
            file: 1,
            sha256: "cd".repeat(32),
        },
        EntryKind::FileFailed {
            file: 4,
            reason: FileFailure::HashMismatch,
        },
        EntryKind::FileFailed {
            file: 5,
            reason: FileFailure::Cancelled {
                by: Role::Technician,
            },
        },
        EntryKind::SystemInfoShared {
            items: vec![InfoItem {
                label: "Cores".into(),
                value: "8".into(),
            }],
        },
        EntryKind::CodeConfirmed {
            media: Media::Screen,
            code: "042917".into(),
        },
        EntryKind::AreasHidden {
            media: Media::Screen,
            areas: 2,
        },
        EntryKind::SurveySubmitted {
            rating: 4,
            resolved: None,
            comment: "ok".into(),
        },
    ]
}

fn every_error() -> Vec<ErrorCode> {
    vec![
        ErrorCode::InvalidOrExpiredPin,
        ErrorCode::TooManyAttempts {
            retry_after_secs: 30,
        },
        ErrorCode::InvalidInput { field: Field::Pin },
        ErrorCode::InvalidCredentials,
        ErrorCode::InvalidSetupCode,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::MalformedMessage,
        ErrorCode::MessageTooLarge { max_bytes: 16384 },
        ErrorCode::RateLimited {
            retry_after_secs: 1,
        },
        ErrorCode::OutOfOrder,
        ErrorCode::NotAllowed {
            violation: RuleViolation::WrongPhase {
                phase: Phase::Waiting,
            },
        },
        ErrorCode::NotAllowed {
            violation: RuleViolation::SequenceGap {
                expected: 3,
                got: 5,
            },
        },
        ErrorCode::StorageUnavailable,
        ErrorCode::InvalidOrExpiredLink,
        ErrorCode::LogFull {
            max_entries: 10_000,
            max_bytes: 4 << 20,
        },
        ErrorCode::CrossOrigin,
        ErrorCode::UnsupportedContentType,
        ErrorCode::Internal,
    ]
}

#[test]
fn client_messages_round_trip() {
    let actions = vec![
        Action::AcceptTerms,
        Action::DeclineTerms,
        Action::PickUp,
        Action::Chat {
            text: "hello".into(),
        },
        Action::End,
        Action::RequestPermissions {
            permissions: Permission::ALL.to_vec(),
            reason: "why".into(),
        },
        Action::Grant {
            request: 1,
            permissions: vec![Permission::Camera],
            for_secs: None,
        },
        Action::Deny { request: 1 },
        Action::MoreTime { request: 1 },
        Action::Revoke {
            permissions: vec![Permission::ViewScreen],
        },
        Action::Media {
            media: Media::Screen,
            change: MediaChange::Paused,
        },
        Action::Media {
            media: Media::Screen,
            change: MediaChange::Resumed,
        },
        Action::PeerRestarted {
            media: Media::Camera,
        },
        Action::PathFailed {
            link: Link::Screen,
            reason: PathFailure::TimedOut,
        },
        Action::OfferFile {
            name: "report.pdf".into(),
            size: 20_000_000,
        },
        Action::AcceptFile { file: 1 },
        Action::RefuseFile { file: 2 },
        Action::FileSent {
            file: 1,
            sha256: "ab".repeat(32),
        },
        Action::FileDelivered {
            file: 1,
            sha256: "ab".repeat(32),
        },
        Action::FileFailed {
            file: 3,
            reason: FileFailure::Cancelled { by: Role::Customer },
        },
        Action::ShareSystemInfo {
            items: vec![InfoItem {
                label: "Browser".into(),
                value: "Chromium 156".into(),
            }],
        },
        Action::ConfirmCode {
            media: Media::Screen,
            code: "042917".into(),
        },
        Action::HideAreas {
            media: Media::Screen,
            areas: 3,
        },
    ];
    for action in actions {
        round_trip(ClientMessage::Act { id: 7, action });
    }
    round_trip(ClientMessage::Hello {
        join: Join::Customer {
            token: "abc".into(),
        },
        after: 0,
    });
    round_trip(ClientMessage::Hello {
        join: Join::Technician {
            session: SessionId("s1".into()),
        },
        after: 12,
    });
    round_trip(ClientMessage::Signal {
        link: Link::Screen,
        payload: r#"{"sdp":"v=0\r\n"}"#.into(),
        id: None,
    });
    round_trip(ClientMessage::Signal {
        link: Link::Files,
        payload: r#"{"type":"hangup"}"#.into(),
        id: Some(7),
    });
    round_trip(ServerMessage::Signal {
        link: Link::Files,
        payload: "{}".into(),
    });
    round_trip(ClientMessage::Ping {
        t: 1_700_000_000_000,
    });
}

#[test]
fn server_messages_round_trip() {
    round_trip(ServerMessage::Welcome {
        session: SessionId("s1".into()),
        role: Role::Customer,
        now: 5,
        ice_servers: vec![
            IceServer {
                urls: vec!["stun:stun.example.org:3478".into()],
                username: None,
                credential: None,
            },
            IceServer {
                urls: vec!["turn:turn.example.org:3478?transport=udp".into()],
                username: Some("1700000000:s1".into()),
                credential: Some("c2VjcmV0".into()),
            },
        ],
        check_code: Some("0427".into()),
        ice_transport_policy: IcePolicy::Relay,
        last_seq: 12,
    });
    round_trip(ServerMessage::Welcome {
        session: SessionId("s1".into()),
        role: Role::Technician,
        now: 5,
        ice_servers: vec![],
        check_code: None,
        ice_transport_policy: IcePolicy::All,
        last_seq: 0,
    });
    // A welcome from before the policy existed means "all"; one that does not say
    // where the log is, 0.
    let old: ServerMessage = serde_json::from_str(
        r#"{"type": "welcome", "data": {"session": "s", "role": "customer", "now": 1, "ice_servers": []}}"#,
    )
    .unwrap();
    assert!(matches!(
        old,
        ServerMessage::Welcome {
            ice_transport_policy: IcePolicy::All,
            last_seq: 0,
            ..
        }
    ));
    for (i, kind) in every_entry_kind().into_iter().enumerate() {
        round_trip(ServerMessage::Entry(LogEntry {
            seq: i as u64 + 1,
            at: 99,
            author: Author::System,
            kind,
        }));
    }
    round_trip(ServerMessage::Ack { id: 3, seq: 9 });
    for error in every_error() {
        round_trip(ServerMessage::Error { id: Some(1), error });
        round_trip(ServerMessage::Error { id: None, error });
        round_trip(error);
    }
    round_trip(ServerMessage::Pong { t: 1, now: 2 });
}

#[test]
fn http_bodies_round_trip() {
    round_trip(PublicConfig {
        organisation: "Org".into(),
        terms: "T".into(),
        support_contact: "C".into(),
        applet_url: "https://x/a.exe".into(),
        pin_validity_secs: 1200,
        max_file_bytes: 200 << 20,
        screen_max_kbps: 1500,
        texts: [(
            "nl".to_string(),
            [(
                "waiting".to_string(),
                "Een medewerker helpt u zo.".to_string(),
            )]
            .into(),
        )]
        .into(),
        now: 1,
        warnings: vec![ConfigWarning::NoRelay],
        sign_in: SignInMethods {
            passwords: false,
            single_sign_on: Some("Example University".into()),
        },
        sends_email: true,
        grant_default_mins: 30,
    });
    round_trip(SetupStatus { needs_setup: true });
    round_trip(SetupRequest {
        code: "c".into(),
        username: "u".into(),
        display_name: "d".into(),
        password: "p".into(),
    });
    round_trip(SignInRequest {
        username: "u".into(),
        password: "p".into(),
    });
    round_trip(Technician {
        username: "u".into(),
        display_name: "d".into(),
        teams: vec![TeamRef {
            slug: "helpdesk".into(),
            name: "Help desk".into(),
        }],
        role: connectit_protocol::api::AccountRole::Admin,
    });
    let summary = SessionSummary {
        id: SessionId("s".into()),
        phase: Phase::Active,
        created_at: 1,
        pin_expires_at: 2,
        last_activity: 3,
        messages: 4,
        customer_online: true,
        check_code: Some("0427".into()),
        candidates: 2,
        phase_since: 3,
        team: Some(TeamRef {
            slug: "helpdesk".into(),
            name: "Help desk".into(),
        }),
        technician: Some(TechnicianRef {
            username: "alice".into(),
            display_name: "Alice Smith".into(),
        }),
        details: SessionDetails {
            customer_name: "Ann".into(),
            problem: "Printer".into(),
            ticket: "INC-1".into(),
        },
        guests: vec![TechnicianRef {
            username: "bob".into(),
            display_name: "Bob Jones".into(),
        }],
        invited: Vec::new(),
    };
    round_trip(summary.clone());
    // A summary from before teams reads with none of them.
    let old: SessionSummary = serde_json::from_str(
        r#"{"id":"s","phase":"waiting","created_at":1,"pin_expires_at":2,"last_activity":3,"messages":0,"customer_online":true}"#,
    )
    .unwrap();
    assert_eq!(
        (old.team, old.technician, old.details),
        (None, None, SessionDetails::default())
    );
    round_trip(ServerMessage::Queue {
        position: 2,
        waiting: 5,
        estimated_wait_secs: Some(240),
    });
    round_trip(TeamPage {
        team: TeamRef {
            slug: "helpdesk".into(),
            name: "Help desk".into(),
        },
        open: false,
        closed_message: "Back at 8:00".into(),
        hours: "mon-fri 08:00-17:00".into(),
        problem_field: FieldRule::Optional,
        waiting: 3,
        estimated_wait_secs: None,
    });
    round_trip(TeamJoinRequest {
        name: "Ann".into(),
        problem: String::new(),
    });
    round_trip(ConsoleMessage::Sessions(vec![summary.clone()]));
    round_trip(ConsoleMessage::Session(Box::new(summary)));
    round_trip(CreatedSession {
        id: SessionId("s".into()),
        pin: "123456".into(),
        expires_at: 9,
        link: "http://h/#join=0123456789abcdef0123456789abcdef".into(),
        email_subject: "s".into(),
        email_body: "b".into(),
    });
    round_trip(VerifyPinRequest {
        pin: "123 456".into(),
    });
    round_trip(JoinRequest {
        token: "0123456789abcdef0123456789abcdef".into(),
    });
    round_trip(VerifyPinResponse {
        session: SessionId("s".into()),
        token: "t".into(),
    });
    round_trip(SurveyRequest {
        token: "t".into(),
        rating: 5,
        resolved: Some(false),
        comment: String::new(),
    });
}

#[test]
fn close_reasons_are_application_codes() {
    for reason in CloseReason::ALL {
        assert!((4000..5000).contains(&reason.code()), "{reason:?}");
        assert_eq!(CloseReason::from_code(reason.code()), Some(reason));
        assert_eq!(
            serde_json::to_value(reason).unwrap(),
            json!(reason.text()),
            "the reason text is the snake_case name"
        );
    }
    assert_eq!(CloseReason::from_code(1000), None);
    assert_eq!(CloseReason::from_code(1008), None);
}

#[test]
fn shapes_are_adjacently_tagged() {
    let act = ClientMessage::Act {
        id: 1,
        action: Action::Chat { text: "hi".into() },
    };
    assert_eq!(
        serde_json::to_value(&act).unwrap(),
        json!({"type": "act", "data": {"id": 1, "action": {"type": "chat", "data": {"text": "hi"}}}})
    );
    let hello = ClientMessage::Hello {
        join: Join::Customer { token: "t".into() },
        after: 4,
    };
    assert_eq!(
        serde_json::to_value(&hello).unwrap(),
        json!({"type": "hello", "data": {"join": {"as": "customer", "token": "t"}, "after": 4}})
    );
    let error = ErrorCode::TooManyAttempts {
        retry_after_secs: 30,
    };
    assert_eq!(
        serde_json::to_value(error).unwrap(),
        json!({"code": "too_many_attempts", "details": {"retry_after_secs": 30}})
    );
    assert_eq!(
        serde_json::to_value(ErrorCode::InvalidOrExpiredPin).unwrap(),
        json!({"code": "invalid_or_expired_pin"})
    );
}

#[test]
fn unknown_and_mistyped_messages_do_not_decode() {
    // As text, in the order written (a `json!` object orders its keys by name).
    for bad in [
        r#"{"type": "launch", "data": {}}"#,
        r#"{"type": "act", "data": {"id": -1, "action": {"type": "end"}}}"#,
        r#"{"type": "act", "data": {"id": 1, "action": {"type": "chat", "data": {"text": 5}}}}"#,
        r#"{"type": "hello", "data": {"join": {"as": "admin"}, "after": 0}}"#,
        r#"{"type": "act"}"#,
        r#"[1, 2, 3]"#,
    ] {
        assert!(
            serde_json::from_str::<ClientMessage>(bad).is_err(),
            "{bad} decoded"
        );
    }
    // The same messages with a good body do decode (the test can tell).
    for good in [
        r#"{"type": "act", "data": {"id": 1, "action": {"type": "end"}}}"#,
        r#"{"type": "act", "data": {"id": 1, "action": {"type": "chat", "data": {"text": "5"}}}}"#,
    ] {
        serde_json::from_str::<ClientMessage>(good).unwrap_or_else(|e| panic!("{good}: {e}"));
    }
}

#[test]
fn entry_types_are_named_as_the_json_tags_them() {
    let mut seen = std::collections::BTreeSet::new();
    for kind in every_entry_kind() {
        let json = serde_json::to_value(&kind).unwrap();
        let tag = json["type"].as_str().unwrap().to_owned();
        let t = kind.entry_type();
        assert_eq!(t.name(), tag, "{kind:?}");
        assert_eq!(connectit_protocol::EntryType::from_name(&tag), Some(t));
        seen.insert(t);
    }
    assert_eq!(
        seen.len(),
        connectit_protocol::EntryType::ALL.len(),
        "every type has a kind in the list"
    );
    assert_eq!(connectit_protocol::EntryType::from_name("nonsense"), None);
}

#[test]
fn session_details_name_the_first_bad_field() {
    let ok = SessionDetails {
        customer_name: " Ann Lee ".into(),
        problem: "The printer\nis offline".into(),
        ticket: "INC-1042".into(),
    };
    assert_eq!(ok.check(), Ok(()));
    assert_eq!(ok.trimmed().customer_name, "Ann Lee");
    assert_eq!(
        SessionDetails::default().check(),
        Ok(()),
        "nothing given is fine"
    );
    let bad = |customer_name: &str, problem: &str, ticket: &str| SessionDetails {
        customer_name: customer_name.into(),
        problem: problem.into(),
        ticket: ticket.into(),
    };
    assert_eq!(bad("A\nB", "", "").check(), Err(Field::CustomerName));
    assert_eq!(bad("A\u{202e}B", "", "").check(), Err(Field::CustomerName));
    assert_eq!(
        bad(&"x".repeat(101), "", "").check(),
        Err(Field::CustomerName)
    );
    assert_eq!(bad("Ann", "bell\u{7}", "").check(), Err(Field::Problem));
    assert_eq!(
        bad("Ann", &"y".repeat(501), "").check(),
        Err(Field::Problem)
    );
    assert_eq!(bad("Ann", "", "INC\t1").check(), Err(Field::Ticket));
    assert_eq!(bad("Ann", "", &"9".repeat(65)).check(), Err(Field::Ticket));
}

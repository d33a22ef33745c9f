//! The browser's reading of tagged enums (feature `tag-first`): the tag must come first;
//! what the broker writes reads back the same; the rest is as serde's derived reader
//! would have it.
#![cfg(feature = "tag-first")]

use connectit_protocol::error::ErrorCode;
use connectit_protocol::files::{FileFailure, FileStatus};
use connectit_protocol::wire::SignalBody;
use connectit_protocol::{Action, EntryKind, Role, ServerMessage};

fn error_of<T: serde::de::DeserializeOwned + std::fmt::Debug>(text: &str) -> String {
    serde_json::from_str::<T>(text)
        .map(|v| panic!("{text} decoded as {v:?}"))
        .unwrap_err()
        .to_string()
}

#[test]
fn a_tag_after_its_content_is_a_typed_refusal() {
    let e = error_of::<Action>(r#"{"data": {"text": "hi"}, "type": "chat"}"#);
    assert!(e.contains(r#""type" must be the first field"#), "{e}");
    let e = error_of::<FileStatus>(r#"{"reason": {"why": "revoked"}, "status": "failed"}"#);
    assert!(e.contains(r#""status" must be the first field"#), "{e}");
    // The same objects, tag first, read.
    assert_eq!(
        serde_json::from_str::<Action>(r#"{"type": "chat", "data": {"text": "hi"}}"#).unwrap(),
        Action::Chat { text: "hi".into() }
    );
    assert_eq!(
        serde_json::from_str::<FileStatus>(r#"{"status": "failed", "reason": {"why": "revoked"}}"#)
            .unwrap(),
        FileStatus::Failed {
            reason: FileFailure::Revoked
        }
    );
}

#[test]
fn missing_and_unknown_parts_are_named() {
    let e = error_of::<Action>(r#"{"type": "chat"}"#);
    assert!(e.contains("missing field `data`"), "{e}");
    let e = error_of::<Action>(r#"{"type": "launch", "data": {}}"#);
    assert!(e.contains("unknown variant `launch`"), "{e}");
    let e = error_of::<Action>(r#"{}"#);
    assert!(e.contains("missing field `type`"), "{e}");
    let e = error_of::<Action>(r#"["chat", {"text": "hi"}]"#);
    assert!(
        e.contains(r#"an object whose first field is "type""#),
        "{e}"
    );
    let e = error_of::<Action>(r#"{"type": "chat", "extra": 1, "data": {"text": "hi"}}"#);
    assert!(
        e.contains(r#""data" must be the first field after the tag"#),
        "{e}"
    );
    // A struct variant's data is an object (serde would also take its fields as an array).
    let e = error_of::<Action>(r#"{"type": "chat", "data": ["hi"]}"#);
    assert!(e.contains("invalid type: sequence"), "{e}");
    let e = error_of::<EntryKind>(r#"{"type": "chat", "data": {"text": 5}}"#);
    assert!(
        e.contains("invalid type: integer `5`, expected a string"),
        "{e}"
    );
}

#[test]
fn fields_after_the_data_and_null_unit_data_are_ignored_as_serde_does() {
    assert_eq!(
        serde_json::from_str::<EntryKind>(
            r#"{"type": "chat", "data": {"text": "hi", "later": [1, {"a": null}]}, "more": true}"#
        )
        .unwrap(),
        EntryKind::Chat {
            text: "hi".into(),
            by: None
        }
    );
    assert_eq!(
        serde_json::from_str::<EntryKind>(r#"{"type": "terms_accepted", "data": null}"#).unwrap(),
        EntryKind::TermsAccepted
    );
    assert_eq!(
        serde_json::from_str::<SignalBody>(r#"{"type": "hangup", "whatever": 1}"#).unwrap(),
        SignalBody::Hangup
    );
    assert_eq!(
        serde_json::from_str::<FileFailure>(r#"{"why": "cancelled", "by": "customer"}"#).unwrap(),
        FileFailure::Cancelled { by: Role::Customer }
    );
}

#[test]
fn nested_tagged_enums_and_escaped_tags_read() {
    let text = r#"{"type": "error", "data": {"id": 7, "error": {"code": "not_allowed", "details": {"violation": {"rule": "text_too_long", "details": {"max_chars": 2000}}}}}}"#;
    let message: ServerMessage = serde_json::from_str(text).unwrap();
    let back = serde_json::to_string(&message).unwrap();
    assert_eq!(
        serde_json::from_str::<ServerMessage>(&back).unwrap(),
        message
    );
    assert!(
        matches!(
            message,
            ServerMessage::Error {
                error: ErrorCode::NotAllowed { .. },
                ..
            }
        ),
        "{message:?}"
    );
    // A field name written with escapes is the same name.
    assert_eq!(
        serde_json::from_str::<Action>(r#"{"\u0074ype": "end"}"#).unwrap(),
        Action::End
    );
}

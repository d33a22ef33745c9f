//! `docs/schema/connectit.schema.json`: the JSON Schema of every message on the sockets
//! and every body of the HTTP API, generated from the protocol's types (with their serde
//! attributes: how each enum is tagged, which fields may be left out). This test fails
//! when the checked-in file and the types disagree; to write it anew after a change of
//! the types:
//!
//!     CONNECTIT_WRITE_SCHEMA=1 cargo test -p connectit-broker --test schema

use connectit_protocol::api::*;
use connectit_protocol::wire::{
    ClientMessage, CloseReason, ConsoleMessage, ServerMessage, SignalBody,
};
use connectit_protocol::{ErrorCode, LogEntry};
use serde_json::{Map, Value};

/// Each type's schema (a reference into the shared definitions), by name.
macro_rules! schemas {
    ($generator:expr, $($name:literal => $t:ty),* $(,)?) => {{
        let mut all = Map::new();
        $(
            let schema = $generator.subschema_for::<$t>();
            all.insert($name.to_string(), serde_json::to_value(schema).unwrap());
        )*
        all
    }};
}

fn generated() -> String {
    let mut generator = connectit_protocol::schemars::SchemaGenerator::default();
    let messages = schemas! {
        generator,
        "ClientMessage" => ClientMessage,
        "ServerMessage" => ServerMessage,
        "ConsoleMessage" => ConsoleMessage,
        "SignalBody" => SignalBody,
        "CloseReason" => CloseReason,
        "LogEntry" => LogEntry,
        "ErrorCode" => ErrorCode,
    };
    let bodies = schemas! {
        generator,
        "PublicConfig" => PublicConfig,
        "SetupStatus" => SetupStatus,
        "SetupRequest" => SetupRequest,
        "SignInRequest" => SignInRequest,
        "Technician" => Technician,
        "CreatedSession" => CreatedSession,
        "SessionSummary" => SessionSummary,
        "VerifyPinRequest" => VerifyPinRequest,
        "VerifyPinResponse" => VerifyPinResponse,
        "JoinRequest" => JoinRequest,
        "TeamPage" => TeamPage,
        "TeamJoinRequest" => TeamJoinRequest,
        "SessionDetails" => SessionDetails,
        "HandOverRequest" => HandOverRequest,
        "InviteRequest" => InviteRequest,
        "TechnicianRef" => TechnicianRef,
        "NoteRequest" => NoteRequest,
        "SessionNote" => SessionNote,
        "ReplyRequest" => ReplyRequest,
        "CannedReply" => CannedReply,
        "SurveyRequest" => SurveyRequest,
        "RecordRequest" => RecordRequest,
        "SessionRecord" => SessionRecord,
        "RecordKey" => RecordKey,
        "AuditEntry" => AuditEntry,
        "Account" => Account,
        "NewAccount" => NewAccount,
        "Invitation" => Invitation,
        "AccountUpdate" => AccountUpdate,
        "AcceptInvitation" => AcceptInvitation,
        "PasswordChange" => PasswordChange,
        "NewTeam" => NewTeam,
        "TeamAdmin" => TeamAdmin,
        "HistoryQuery" => HistoryQuery,
        "HistoryRow" => HistoryRow,
        "Report" => Report,
    };
    let mut doc = Map::new();
    doc.insert(
        "$comment".into(),
        Value::from(
            "Generated from the connectit-protocol types by broker/tests/schema.rs; do not edit.",
        ),
    );
    doc.insert(
        "$schema".into(),
        Value::from("https://json-schema.org/draft/2020-12/schema"),
    );
    doc.insert("socket_messages".into(), Value::Object(messages));
    doc.insert("http_bodies".into(), Value::Object(bodies));
    let definitions = generator.take_definitions(true);
    doc.insert(
        "$defs".into(),
        Value::Object(definitions.into_iter().collect()),
    );
    serde_json::to_string_pretty(&Value::Object(doc)).unwrap() + "\n"
}

#[test]
fn the_checked_in_schema_is_the_types_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../docs/schema/connectit.schema.json");
    let now = generated();
    if std::env::var_os("CONNECTIT_WRITE_SCHEMA").is_some() {
        std::fs::write(&path, &now).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == now,
        "docs/schema/connectit.schema.json and the protocol's types disagree: \
         CONNECTIT_WRITE_SCHEMA=1 cargo test -p connectit-broker --test schema \
         writes it anew (and review the change: it is the API's)"
    );
}

#[test]
fn the_schema_says_how_each_enum_is_tagged() {
    let doc: Value = serde_json::from_str(&generated()).unwrap();
    let text = doc.to_string();
    // A client message is {"type": …, "data": …}; a join is tagged by "as".
    assert!(text.contains("\"type\""));
    let join = &doc["$defs"]["Join"];
    assert!(join.to_string().contains("\"as\""), "{join}");
    // A signal body is internally tagged: its "type" sits beside its fields.
    let body = doc["$defs"]["SignalBody"].to_string();
    assert!(
        body.contains("\"offer\"") && body.contains("\"sdp\""),
        "{body}"
    );
}

//! What can go wrong while the benchmark drives a server.

use connectit_protocol::ErrorCode;

#[derive(Debug)]
pub enum BenchError {
    /// A socket or file operation failed.
    Io(std::io::Error),
    /// A WebSocket handshake or frame failed.
    WebSocket(Box<tokio_tungstenite::tungstenite::Error>),
    /// An HTTP answer that is not a success and not an error code.
    Http { status: u16, body: String },
    /// The broker refused with one of its error codes.
    Refused(ErrorCode),
    /// A message that does not fit the step (a `welcome` expected, something else came).
    Unexpected(String),
    /// No answer in time.
    Timeout(&'static str),
    /// The socket closed.
    Closed,
    /// A server could not be started or prepared.
    Setup(String),
}

impl std::fmt::Display for BenchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BenchError::Io(e) => write!(f, "i/o: {e}"),
            BenchError::WebSocket(e) => write!(f, "websocket: {e}"),
            BenchError::Http { status, body } => write!(f, "HTTP {status}: {body}"),
            BenchError::Refused(code) => write!(f, "refused: {code:?}"),
            BenchError::Unexpected(what) => write!(f, "unexpected message: {what}"),
            BenchError::Timeout(step) => write!(f, "timed out: {step}"),
            BenchError::Closed => f.write_str("socket closed"),
            BenchError::Setup(what) => write!(f, "setup: {what}"),
        }
    }
}

impl std::error::Error for BenchError {}

impl From<std::io::Error> for BenchError {
    fn from(e: std::io::Error) -> Self {
        BenchError::Io(e)
    }
}

impl From<tokio_tungstenite::tungstenite::Error> for BenchError {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        BenchError::WebSocket(Box::new(e))
    }
}

impl From<serde_json::Error> for BenchError {
    fn from(e: serde_json::Error) -> Self {
        BenchError::Unexpected(format!("bad JSON: {e}"))
    }
}

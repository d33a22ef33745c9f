//! What the customer page and the console share about one live session: the socket
//! link ([`link`]), the reducer that folds the log ([`live`]), the hook that ties them
//! to a component ([`hook`]), and the views of the log, the chat input and the end
//! confirmation.

pub mod chat;
pub mod confirm;
pub mod entry;
pub mod hook;
pub mod link;
pub mod live;
pub mod notice;

pub use chat::{ChatInput, ChatLog};
pub use confirm::ConfirmEnd;
pub use hook::{use_session, SessionHandle};
pub use live::{Live, Pending};

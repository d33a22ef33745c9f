//! What the customer page and the console share about one live session: the socket
//! link ([`link`]), the reducer that folds the log ([`live`]), the hook that ties them
//! to a component ([`hook`], which also carries the WebRTC signals), and the views of
//! the log, the chat input, the end confirmation, countdowns and videos.

pub mod chat;
pub mod confirm;
pub mod countdown;
pub mod effects;
pub mod entries;
pub mod grant_time;
pub use connectit_wording::entry;
pub mod hook;
pub mod link;
pub mod live;
pub mod notice;
pub mod paths;
pub mod video;

pub use chat::{ChatInput, ChatLog};
pub use confirm::ConfirmEnd;
pub use effects::{effects, Effect};
pub use entries::Entries;
pub use hook::{use_log_effects, use_session, SessionHandle, Signals};
pub use live::{Live, Pending};

//! Files both ways over the files link's data channels: the link itself ([`link`]),
//! the incremental SHA-256 ([`hash`]), the sending and receiving of one file
//! ([`send`], [`receive`]), speed and time left ([`meter`]), downloads ([`save`]), the
//! transfers driven by the session's log ([`transfers`]) and their rows ([`view`]).

pub mod hash;
pub mod link;
pub mod meter;
pub mod receive;
pub mod save;
pub mod send;
pub mod transfers;
pub mod view;
pub mod wait;

pub use transfers::{use_transfers, FileProblem, Progress, TransferView, Transfers};
pub use view::{FilesCode, TransferList, TransferListProps};

/// The files in a `FileList`.
pub fn list_files(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return Vec::new() };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

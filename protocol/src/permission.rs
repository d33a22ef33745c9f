//! Permissions: what a technician may ask the customer for, and the media that a grant
//! lets flow peer to peer.

use serde::{Deserialize, Serialize};

/// One thing a technician may ask for.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See the customer's screen (a screen, window or tab the customer picks).
    ViewScreen,
    /// See the customer's camera (for hardware problems).
    Camera,
    /// Send files to the customer (each one accepted separately).
    SendFiles,
    /// Receive files the customer picks.
    ReceiveFiles,
    /// Read information about the customer's system, shown to them first.
    SystemInfo,
    /// Control the mouse and keyboard: a browser cannot, so the prompt offers the native
    /// applet instead. It can be asked for, never granted here.
    RemoteControl,
}

impl Permission {
    pub const ALL: [Permission; 6] = [
        Permission::ViewScreen,
        Permission::Camera,
        Permission::SendFiles,
        Permission::ReceiveFiles,
        Permission::SystemInfo,
        Permission::RemoteControl,
    ];

    /// Whether the customer can grant it in the browser.
    pub fn grantable(self) -> bool {
        self != Permission::RemoteControl
    }

    /// The media a grant of this permission lets flow, if any.
    pub fn media(self) -> Option<Media> {
        match self {
            Permission::ViewScreen => Some(Media::Screen),
            Permission::Camera => Some(Media::Camera),
            _ => None,
        }
    }
}

/// A media stream from the customer to the technician, each on its own peer connection.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Media {
    Screen,
    Camera,
}

impl Media {
    /// The permission that must be granted for this media to flow.
    pub fn permission(self) -> Permission {
        match self {
            Media::Screen => Permission::ViewScreen,
            Media::Camera => Permission::Camera,
        }
    }
}

/// A peer connection between the two members: one per media stream, and one for file
/// transfers (its data channels). Signals name the link they are for.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Link {
    Screen,
    Camera,
    Files,
}

impl From<Media> for Link {
    fn from(media: Media) -> Self {
        match media {
            Media::Screen => Link::Screen,
            Media::Camera => Link::Camera,
        }
    }
}

impl Link {
    /// The media a media link carries (`None` for the files link).
    pub fn media(self) -> Option<Media> {
        match self {
            Link::Screen => Some(Media::Screen),
            Link::Camera => Some(Media::Camera),
            Link::Files => None,
        }
    }

    /// Whether the link may carry anything with these grants: a media link needs its
    /// media's permission, the files link either file permission.
    pub fn allowed(self, granted: &[Permission]) -> bool {
        match self {
            Link::Screen => granted.contains(&Permission::ViewScreen),
            Link::Camera => granted.contains(&Permission::Camera),
            Link::Files => {
                granted.contains(&Permission::SendFiles)
                    || granted.contains(&Permission::ReceiveFiles)
            }
        }
    }
}

/// Where a media stream is.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaState {
    #[default]
    Off,
    Live,
    Paused,
}

crate::tagged! {
    tag = "change";
    /// A change the customer's browser reports about a media stream.
    #[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
    pub enum MediaChange {
        Started,
        Paused,
        Resumed,
        Stopped { cause: StopCause },
    }
}

/// Why a media stream stopped.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopCause {
    /// The customer pressed Stop on the page.
    Customer,
    /// The browser ended it (its own "Stop sharing" bar, a closed window, an unplugged
    /// camera).
    Browser,
    /// The capture could not start or broke.
    Failed,
}

/// Why a peer connection could not be made.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathFailure {
    /// ICE failed, also after restarting: no pair of candidates could reach the other.
    IceFailed,
    /// ICE did not connect in time (no usable candidate: a relay that cannot be reached,
    /// UDP blocked with no TURN over TCP or TLS).
    TimedOut,
}

/// Which ICE candidates the peer connections may use (the `iceTransportPolicy` of every
/// `RTCPeerConnection` on both sides), as the organisation sets it.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IcePolicy {
    /// Any path: direct, through NAT, or relayed.
    #[default]
    All,
    /// Only through the organisation's TURN relay.
    Relay,
}

/// How a session's peer connections are made: the ICE servers (with TURN credentials
/// minted for the session) and the policy.
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IceConfig {
    pub servers: Vec<IceServer>,
    pub policy: IcePolicy,
}

/// One ICE server for the peer connections (STUN, or TURN with credentials).
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IceServer {
    pub urls: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

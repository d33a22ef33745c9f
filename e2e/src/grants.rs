//! Grants that run out, checked the same way whichever browser the customer uses.

use connectit_protocol::EntryType;

use crate::browser::Browser;
use crate::{Console, World};

/// The seconds a grant line (`selector`) says are left (`.grant-left[data-seconds]`).
pub async fn grant_left(browser: &Browser, selector: &str) -> u64 {
    browser
        .attr(&format!("{selector} .grant-left"), "data-seconds")
        .await
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{selector} shows no time left"))
}

/// With the screen shared for a minute (the broker's `grant_default_mins = 1`): both
/// sides count it down and say its last minute; one click gives ten minutes more, the
/// share goes on, and the log says so.
pub async fn a_minute_counts_down_and_renews(w: &World, console: &Console<'_>) {
    let mine = "#granted li[data-permission=view_screen]";
    let theirs = "#customer-granted li[data-permission=view_screen]";
    let left = grant_left(&w.cust, mine).await;
    assert!((50..=60).contains(&left), "{left}");
    assert!(grant_left(&w.tech, theirs).await <= 60);
    // Its last minute is said on both sides.
    w.cust.wait_visible(&format!("{mine} .grant-ending")).await;
    w.tech
        .wait_visible(&format!("{theirs} .grant-ending"))
        .await;
    // Ten minutes from now, with one click; the share goes on.
    w.cust.click(&format!("{mine} button.renew")).await;
    w.cust.wait_hidden(&format!("{mine} .grant-ending")).await;
    w.tech.wait_hidden(&format!("{theirs} .grant-ending")).await;
    assert!(grant_left(&w.cust, mine).await > 500);
    assert!(grant_left(&w.tech, theirs).await > 500);
    console.wait_screen_frames(5).await;
    w.tech.wait_entry_kind(EntryType::GrantRenewed).await;
}

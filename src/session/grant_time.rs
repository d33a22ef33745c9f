//! How long a grant given for a time has left (`.grant-left`, `data-seconds`), and, in
//! its last minute, a notice for both sides (`.grant-ending`). The end itself is the
//! broker's: this only counts down to it on the broker's clock.

use connectit_protocol::Millis;
use yew::prelude::*;

use crate::i18n::{use_i18n, Msg};
use crate::widgets::use_now;
use crate::{clock, time};

#[derive(Properties, PartialEq)]
pub struct GrantTimeProps {
    /// When the grant runs out (broker time).
    pub until: Millis,
}

#[component]
pub fn GrantTime(props: &GrantTimeProps) -> Html {
    let i18n = use_i18n();
    let _tick = use_now(1000);
    let secs = clock::secs_until(props.until);
    html! {
        <>
            <span class="grant-left" role="timer" aria-live="off" data-seconds={secs.to_string()}>
                { i18n.t(Msg::GrantLeft { left: time::clock_duration(secs) }) }
            </span>
            if secs < 60 {
                <span class="grant-ending" role="status">{ i18n.t(Msg::GrantEndingSoon) }</span>
            }
        </>
    }
}

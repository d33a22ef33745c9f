//! The console's alerts (`#alerts`): "Alert me" asks the browser for notifications (on
//! this click only, never by itself), then says whether they are on or blocked; "Sound"
//! (`#alert-sound`) adds a short tone to each alert, kept in localStorage.

use web_sys::NotificationPermission;
use yew::platform::spawn_local;
use yew::prelude::*;

use crate::alerts;
use crate::browser;
use crate::i18n::{use_i18n, Msg};

const SOUND_KEY: &str = "connectit.alert-sound";

/// Whether the technician wants a tone with each alert.
pub fn sound_on() -> bool {
    browser::local_get(SOUND_KEY).as_deref() == Some("on")
}

#[component]
pub fn AlertSettings() -> Html {
    let i18n = use_i18n();
    let permission = use_state(alerts::notification_permission);
    let sound = use_state(sound_on);
    let ask = {
        let permission = permission.clone();
        Callback::from(move |_: MouseEvent| {
            let permission = permission.clone();
            spawn_local(async move {
                alerts::ask_notifications().await;
                permission.set(alerts::notification_permission());
            });
        })
    };
    let toggle_sound = {
        let sound = sound.clone();
        Callback::from(move |_: Event| {
            let on = !*sound;
            let _ = browser::local_set(SOUND_KEY, if on { "on" } else { "off" });
            if on {
                alerts::tone();
            }
            sound.set(on);
        })
    };
    let state = match *permission {
        Some(NotificationPermission::Granted) => html! {
            <span id="alerts-state" class="alerts-state" data-state="on">{ i18n.t(Msg::AlertsOn) }</span>
        },
        Some(NotificationPermission::Denied) => html! {
            <span id="alerts-state" class="alerts-state" data-state="blocked">{ i18n.t(Msg::AlertsBlocked) }</span>
        },
        Some(_) => html! {
            <button id="enable-alerts" type="button" class="secondary" onclick={ask}>{ i18n.t(Msg::AlertsEnable) }</button>
        },
        None => html! {},
    };
    html! {
        <div id="alerts" class="alerts">
            { state }
            <label class="alert-sound">
                <input id="alert-sound" type="checkbox" checked={*sound} onchange={toggle_sound} />
                { i18n.t(Msg::AlertSound) }
            </label>
        </div>
    }
}

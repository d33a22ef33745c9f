//! System information: what the customer's browser can tell about the system (browser
//! and version, operating system, languages, time zone, screen, cores, memory where
//! reported, online state and connection type where reported, the round-trip time of a
//! live peer connection). Only what is gathered here is shown to the customer, and
//! only what they saw is sent.

use connectit_protocol::files::{INFO_LABEL_MAX_CHARS, INFO_MAX_ITEMS, INFO_VALUE_MAX_CHARS};
use connectit_protocol::{check_text, InfoItem};
use js_sys::Reflect;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::RtcPeerConnection;

use crate::i18n::words::{dimensions, millis, time_zone};
use crate::i18n::{I18n, Msg};

/// Reads a property of a JavaScript object, if it is there.
fn prop(target: &JsValue, name: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

fn prop_str(target: &JsValue, name: &str) -> Option<String> {
    prop(target, name)
        .and_then(|v| v.as_string())
        .filter(|s| !s.trim().is_empty())
}

fn prop_f64(target: &JsValue, name: &str) -> Option<f64> {
    prop(target, name)
        .and_then(|v| v.as_f64())
        .filter(|v| v.is_finite())
}

/// One item, cleaned to what the log accepts (`None` if nothing is left).
pub fn item(label: &str, value: &str) -> Option<InfoItem> {
    let clean = |s: &str, max: usize| -> String {
        s.chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .take(max)
            .collect::<String>()
            .trim()
            .to_owned()
    };
    let item = InfoItem {
        label: clean(label, INFO_LABEL_MAX_CHARS),
        value: clean(value, INFO_VALUE_MAX_CHARS),
    };
    let ok = check_text(&item.label, INFO_LABEL_MAX_CHARS).is_ok()
        && check_text(&item.value, INFO_VALUE_MAX_CHARS).is_ok();
    ok.then_some(item)
}

/// The browser's name and version from a user agent string.
pub fn browser_from_user_agent(ua: &str) -> String {
    let version = |marker: &str| -> Option<String> {
        let rest = &ua[ua.find(marker)? + marker.len()..];
        let v: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        (!v.is_empty()).then_some(v)
    };
    let known = [
        ("Edg/", "Microsoft Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chromium/", "Chromium"),
        ("Chrome/", "Chrome"),
    ];
    for (marker, name) in known {
        if let Some(v) = version(marker) {
            return format!("{name} {v}");
        }
    }
    if ua.contains("Safari/") {
        if let Some(v) = version("Version/") {
            return format!("Safari {v}");
        }
    }
    ua.to_owned()
}

/// The operating system from a user agent string.
pub fn os_from_user_agent(i18n: &I18n, ua: &str) -> String {
    let after = |marker: &str| -> Option<String> {
        let rest = &ua[ua.find(marker)? + marker.len()..];
        let v: String = rest
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '_')
            .collect();
        (!v.is_empty()).then(|| v.replace('_', "."))
    };
    if let Some(v) = after("Windows NT ") {
        let name = match v.as_str() {
            "10.0" => return i18n.t(Msg::WindowsTenOrEleven),
            "6.3" => "Windows 8.1",
            "6.2" => "Windows 8",
            "6.1" => "Windows 7",
            _ => return format!("Windows NT {v}"),
        };
        return name.to_owned();
    }
    if let Some(v) = after("iPhone OS ").or_else(|| after("CPU OS ")) {
        return format!("iOS {v}");
    }
    if let Some(v) = after("Mac OS X ") {
        return format!("macOS {v}");
    }
    if let Some(v) = after("Android ") {
        return format!("Android {v}");
    }
    if ua.contains("CrOS") {
        return "ChromeOS".to_owned();
    }
    if ua.contains("Linux") {
        return "Linux".to_owned();
    }
    i18n.t(Msg::InfoUnknown)
}

/// The brand a `navigator.userAgentData` names, without the made-up "Not A Brand"
/// entries, preferring a product over the engine (`Google Chrome` over `Chromium`).
pub fn pick_brand(brands: &[(String, String)]) -> Option<(String, String)> {
    let real: Vec<&(String, String)> = brands
        .iter()
        .filter(|(name, _)| !name.contains("Not") && !name.trim().is_empty())
        .collect();
    real.iter()
        .find(|(name, _)| name != "Chromium")
        .or_else(|| real.first())
        .map(|b| (*b).clone())
}

fn brands(list: &JsValue) -> Vec<(String, String)> {
    js_sys::Array::from(list)
        .iter()
        .filter_map(|b| Some((prop_str(&b, "brand")?, prop_str(&b, "version")?)))
        .collect()
}

/// Browser and operating system from `navigator.userAgentData` (with its high-entropy
/// values where the browser gives them), else from the user agent string.
async fn browser_and_os(i18n: &I18n, navigator: &web_sys::Navigator) -> (String, String) {
    let ua = navigator.user_agent().unwrap_or_default();
    let Some(data) = prop(navigator, "userAgentData") else {
        return (browser_from_user_agent(&ua), os_from_user_agent(i18n, &ua));
    };
    let mut browser = prop(&data, "brands")
        .map(|b| brands(&b))
        .unwrap_or_default();
    let mut os = prop_str(&data, "platform");
    let mut os_version = None;
    let hints = js_sys::Array::of2(&"fullVersionList".into(), &"platformVersion".into());
    let getter =
        prop(&data, "getHighEntropyValues").and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    if let Some(getter) = getter {
        if let Ok(promise) = getter.call1(&data, &hints) {
            if let Ok(values) = JsFuture::from(js_sys::Promise::resolve(&promise)).await {
                if let Some(full) = prop(&values, "fullVersionList") {
                    let full = brands(&full);
                    if !full.is_empty() {
                        browser = full;
                    }
                }
                os_version = prop_str(&values, "platformVersion");
                os = prop_str(&values, "platform").or(os);
            }
        }
    }
    let browser = pick_brand(&browser)
        .map(|(name, version)| format!("{name} {version}"))
        .unwrap_or_else(|| browser_from_user_agent(&ua));
    let os = match (os, os_version) {
        (Some(os), Some(v)) if os == "Windows" => {
            let major: u32 = v
                .split('.')
                .next()
                .and_then(|m| m.parse().ok())
                .unwrap_or(0);
            match major {
                13.. => "Windows 11".to_owned(),
                1.. => "Windows 10".to_owned(),
                _ => "Windows".to_owned(),
            }
        }
        (Some(os), Some(v)) if v != "0.0.0" => format!("{os} {v}"),
        (Some(os), _) => os,
        (None, _) => os_from_user_agent(i18n, &ua),
    };
    (browser, os)
}

/// The round-trip time of a candidate pair in seconds: its latest measurement
/// (`currentRoundTripTime`, Chromium), else the mean of all of them
/// (`totalRoundTripTime / responsesReceived`, Firefox, which has no current value).
pub fn pair_round_trip_secs(
    current: Option<f64>,
    total: Option<f64>,
    responses: Option<f64>,
) -> Option<f64> {
    current
        .filter(|rtt| *rtt >= 0.0)
        .or_else(|| match (total, responses) {
            (Some(total), Some(responses)) if total >= 0.0 && responses >= 1.0 => {
                Some(total / responses)
            }
            _ => None,
        })
}

/// The round-trip time of a connection's chosen candidate pair, in milliseconds.
/// Chosen: nominated and succeeded, or (Firefox) marked `selected`.
pub async fn round_trip_ms(pc: &RtcPeerConnection) -> Option<f64> {
    let report = JsFuture::from(pc.get_stats()).await.ok()?;
    let values = prop(&report, "values")?
        .dyn_into::<js_sys::Function>()
        .ok()?;
    let iterator = values.call0(&report).ok()?;
    let iter = js_sys::try_iter(&iterator).ok()??;
    let flag = |stat: &JsValue, name: &str| prop(stat, name).and_then(|v| v.as_bool());
    for stat in iter.flatten() {
        let pair = prop_str(&stat, "type").as_deref() == Some("candidate-pair");
        let succeeded = prop_str(&stat, "state").as_deref() == Some("succeeded");
        let chosen = succeeded
            && (flag(&stat, "nominated") == Some(true) || flag(&stat, "selected") == Some(true));
        if pair && chosen {
            let rtt = pair_round_trip_secs(
                prop_f64(&stat, "currentRoundTripTime"),
                prop_f64(&stat, "totalRoundTripTime"),
                prop_f64(&stat, "responsesReceived"),
            );
            if let Some(rtt) = rtt {
                return Some(rtt * 1000.0);
            }
        }
    }
    None
}

/// Everything the browser can tell, as the items to show and send. `connections` are
/// the page's live peer connections (the first with a round-trip time gives it). The
/// labels are in the customer's language: the customer reads them before sending, and
/// the technician receives exactly what was shown.
pub async fn gather(i18n: &I18n, connections: Vec<RtcPeerConnection>) -> Vec<InfoItem> {
    let label = |msg: Msg| i18n.t(msg);
    let mut items: Vec<Option<InfoItem>> = Vec::new();
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let navigator = window.navigator();
    let (browser, os) = browser_and_os(i18n, &navigator).await;
    items.push(item(&label(Msg::InfoBrowser), &browser));
    items.push(item(&label(Msg::InfoOs), &os));
    let languages: Vec<String> = navigator
        .languages()
        .iter()
        .filter_map(|l| l.as_string())
        .collect();
    let languages = if languages.is_empty() {
        navigator.language().unwrap_or_default()
    } else {
        languages.join(", ")
    };
    items.push(item(&label(Msg::InfoLanguages), &languages));
    let zone = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
        .resolved_options();
    let zone = prop_str(&zone, "timeZone").unwrap_or_default();
    let offset = -(js_sys::Date::new_0().get_timezone_offset() as i32);
    items.push(item(&label(Msg::InfoTimeZone), &time_zone(&zone, offset)));
    if let Ok(screen) = window.screen() {
        if let (Ok(w), Ok(h)) = (screen.width(), screen.height()) {
            items.push(item(&label(Msg::InfoScreen), &dimensions(w, h)));
        }
    }
    let inner = (
        window.inner_width().ok().and_then(|v| v.as_f64()),
        window.inner_height().ok().and_then(|v| v.as_f64()),
    );
    if let (Some(w), Some(h)) = inner {
        items.push(item(
            &label(Msg::InfoWindow),
            &dimensions(w as i32, h as i32),
        ));
    }
    items.push(item(
        &label(Msg::InfoPixelRatio),
        &connectit_wording::words::short(window.device_pixel_ratio(), 3),
    ));
    let cores = navigator.hardware_concurrency();
    if cores > 0.0 {
        items.push(item(&label(Msg::InfoCores), &(cores as u64).to_string()));
    }
    if let Some(memory) = prop_f64(&navigator, "deviceMemory") {
        items.push(item(&label(Msg::InfoMemory), &i18n.device_memory(memory)));
    }
    items.push(item(
        &label(Msg::InfoOnline),
        &label(if navigator.on_line() {
            Msg::InfoYes
        } else {
            Msg::InfoNo
        }),
    ));
    if let Some(connection) = prop(&navigator, "connection") {
        let kind = [
            prop_str(&connection, "type"),
            prop_str(&connection, "effectiveType"),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
        if !kind.is_empty() {
            items.push(item(&label(Msg::InfoConnection), &kind));
        }
    }
    for pc in connections {
        if let Some(rtt) = round_trip_ms(&pc).await {
            items.push(item(&label(Msg::InfoRtt), &millis(rtt)));
            break;
        }
    }
    items.into_iter().flatten().take(INFO_MAX_ITEMS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agents_are_read() {
        let chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                      Chrome/156.0.0.0 Safari/537.36";
        assert_eq!(browser_from_user_agent(chrome), "Chrome 156.0.0.0");
        assert_eq!(os_from_user_agent(&I18n::default(), chrome), "Linux");
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:153.0) Gecko/20100101 \
                       Firefox/153.0";
        assert_eq!(browser_from_user_agent(firefox), "Firefox 153.0");
        assert_eq!(
            os_from_user_agent(&I18n::default(), firefox),
            "Windows 10 or 11"
        );
        let safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 \
                      (KHTML, like Gecko) Version/17.4 Safari/605.1.15";
        assert_eq!(browser_from_user_agent(safari), "Safari 17.4");
        assert_eq!(
            os_from_user_agent(&I18n::default(), safari),
            "macOS 10.15.7"
        );
    }

    #[test]
    fn round_trip_from_either_browsers_fields() {
        assert_eq!(pair_round_trip_secs(Some(0.004), None, None), Some(0.004));
        assert_eq!(
            pair_round_trip_secs(Some(0.004), Some(1.0), Some(10.0)),
            Some(0.004),
            "the latest measurement wins"
        );
        assert_eq!(
            pair_round_trip_secs(None, Some(0.03), Some(10.0)),
            Some(0.003),
            "the mean where there is no current value"
        );
        assert_eq!(pair_round_trip_secs(None, Some(0.03), Some(0.0)), None);
        assert_eq!(pair_round_trip_secs(None, None, Some(3.0)), None);
        assert_eq!(pair_round_trip_secs(Some(-1.0), None, None), None);
    }

    #[test]
    fn brands_skip_the_made_up_ones() {
        let brands = vec![
            ("Not)A;Brand".to_owned(), "8".to_owned()),
            ("Chromium".to_owned(), "156".to_owned()),
            ("Google Chrome".to_owned(), "156".to_owned()),
        ];
        assert_eq!(
            pick_brand(&brands),
            Some(("Google Chrome".to_owned(), "156".to_owned()))
        );
        assert_eq!(
            pick_brand(&brands[..2]),
            Some(("Chromium".to_owned(), "156".to_owned()))
        );
        assert_eq!(pick_brand(&brands[..1]), None);
    }

    #[test]
    fn items_are_cleaned_for_the_log() {
        assert_eq!(
            item("Browser", "  Chrome\n156 "),
            Some(InfoItem {
                label: "Browser".into(),
                value: "Chrome 156".into()
            })
        );
        assert_eq!(item("Browser", "   "), None);
        let long = "x".repeat(INFO_VALUE_MAX_CHARS + 10);
        assert_eq!(
            item("L", &long).map(|i| i.value.chars().count()),
            Some(INFO_VALUE_MAX_CHARS)
        );
    }

    #[wasm_bindgen_test::wasm_bindgen_test]
    async fn this_browser_tells_enough() {
        let items = gather(&I18n::default(), Vec::new()).await;
        let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
        for label in [
            "Browser",
            "Operating system",
            "Languages",
            "Time zone",
            "Screen",
            "Pixel ratio",
            "Logical processors",
            "Online",
        ] {
            assert!(labels.contains(&label), "{label} in {labels:?}");
        }
        let french = gather(&I18n::new("fr", Default::default()), Vec::new()).await;
        assert_eq!(french[0].label, "Navigateur");
        assert!(items.len() <= INFO_MAX_ITEMS);
    }
}

//! Where a page's milliseconds go: scripts that stamp, in the page, what happens on
//! the way to a figure (API requests, WebSocket sockets and messages, titles, the screen
//! capture, peer connections and their descriptions), and the timeline they give. The
//! timing examples print it with `--timeline`.
//!
//! Install [`STAMPS`] with `Browser::before_page_scripts` before the pages load; read
//! the stamps since a moment with [`SINCE`]. Every stamp is `timeOrigin + now`: one
//! clock for every page on this machine.
//!
//! [`start_profile`], [`stop_profile`] and [`Profile`] sample a page with Chromium's
//! profiler and sum the time per function (names need a build that keeps them:
//! `data-wasm-opt="0" data-keep-debug`). [`main_thread`] reads, without a profiler's
//! cost, how long a page's main thread has worked so far, in all and on scripts, style
//! and layout: two readings give what lay between them.

use serde_json::{json, Value};

/// Before the pages' own scripts: each WebSocket message's arrival (at the start of the
/// page's own handler) in `window.__wsArrivals` (the last 200, `[time, data]`), and in
/// `window.__wsEvents` (the last 400, `[time, what]`) sockets created, opened and closed,
/// messages sent, titles set, `getDisplayMedia` called and resolved, peer connections
/// created, their offers, answers and descriptions, states and first tracks.
pub const STAMPS: &str = r#"
// In a function of its own: nothing it declares meets the page's own names.
(() => {
window.__wsArrivals = [];
const desc = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage');
Object.defineProperty(WebSocket.prototype, 'onmessage', {
  configurable: true,
  get() { return desc.get.call(this); },
  set(handler) {
    if (typeof handler !== 'function') { desc.set.call(this, handler); return; }
    desc.set.call(this, function (event) {
      const a = window.__wsArrivals;
      a.push([performance.timeOrigin + performance.now(), typeof event.data === 'string' ? event.data : '']);
      if (a.length > 200) a.shift();
      return handler.call(this, event);
    });
  },
});
// The timeline (`--timeline`): sockets opened and opening, messages sent, titles set.
window.__wsEvents = [];
const stamp = (what) => {
  const e = window.__wsEvents;
  e.push([performance.timeOrigin + performance.now(), what]);
  if (e.length > 400) e.shift();
};
const send = WebSocket.prototype.send;
WebSocket.prototype.send = function (data) {
  stamp('sent ' + (typeof data === 'string' ? data : '(binary)'));
  return send.call(this, data);
};
const Native = WebSocket;
window.WebSocket = function (url, protocols) {
  stamp('socket created ' + url);
  const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
  ws.addEventListener('open', () => stamp('socket open'));
  ws.addEventListener('close', (event) => stamp('socket closed ' + event.code));
  return ws;
};
window.WebSocket.prototype = Native.prototype;
const title = Object.getOwnPropertyDescriptor(Document.prototype, 'title');
Object.defineProperty(Document.prototype, 'title', {
  configurable: true,
  get() { return title.get.call(this); },
  set(value) { stamp('title ' + value); title.set.call(this, value); },
});
Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
// WebRTC: the screen asked for and given, peer connections made, descriptions set,
// the connection's state and the first track.
if (navigator.mediaDevices && navigator.mediaDevices.getDisplayMedia) {
  const gdm = navigator.mediaDevices.getDisplayMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getDisplayMedia = (...a) => {
    stamp('getDisplayMedia called');
    return gdm(...a).then((s) => { stamp('getDisplayMedia resolved'); return s; });
  };
}
if (window.RTCPeerConnection) {
  const NativePc = RTCPeerConnection;
  window.RTCPeerConnection = function (config) {
    stamp('peer connection created');
    const pc = new NativePc(config);
    pc.addEventListener('connectionstatechange', () => stamp('peer connection ' + pc.connectionState));
    pc.addEventListener('icegatheringstatechange', () => stamp('ice gathering ' + pc.iceGatheringState));
    pc.addEventListener('track', () => stamp('track arrived'));
    return pc;
  };
  window.RTCPeerConnection.prototype = NativePc.prototype;
  window.RTCPeerConnection.generateCertificate = NativePc.generateCertificate;
  const src = Object.getOwnPropertyDescriptor(HTMLMediaElement.prototype, 'srcObject');
  Object.defineProperty(HTMLMediaElement.prototype, 'srcObject', {
    configurable: true,
    get() { return src.get.call(this); },
    set(value) {
      stamp(`srcObject ${value ? 'set' : 'cleared'} on #${this.id || this.tagName}`);
      if (value && !this.__stamped) {
        this.__stamped = true;
        for (const name of ['loadedmetadata', 'playing']) {
          this.addEventListener(name, () => stamp(`${name} on #${this.id || this.tagName}`));
        }
      }
      // Its first frames shown (how often the source gives new ones).
      if (value && this.requestVideoFrameCallback) {
        let left = 4;
        const frame = () => {
          stamp(`frame shown on #${this.id || this.tagName}`);
          if (--left > 0) this.requestVideoFrameCallback(frame);
        };
        this.requestVideoFrameCallback(frame);
      }
      src.set.call(this, value);
    },
  });
  for (const name of ['addTrack', 'getStats']) {
    const f = NativePc.prototype[name];
    NativePc.prototype[name] = function (...a) { stamp(name + ' called'); return f.apply(this, a); };
  }
  if (window.RTCRtpSender && RTCRtpSender.prototype.setParameters) {
    const f = RTCRtpSender.prototype.setParameters;
    RTCRtpSender.prototype.setParameters = function (...a) {
      stamp('setParameters called');
      return f.apply(this, a).then((r) => { stamp('setParameters resolved'); return r; });
    };
  }
  for (const name of ['createOffer', 'createAnswer', 'setLocalDescription', 'setRemoteDescription']) {
    const f = NativePc.prototype[name];
    NativePc.prototype[name] = function (...a) {
      stamp(name + ' called');
      return f.apply(this, a).then((r) => { stamp(name + ' resolved'); return r; });
    };
  }
}
})();
"#;

/// The page's timeline since `arguments[0]` (`timeOrigin + now`): API requests (start
/// and end), then the stamps of [`STAMPS`] and the messages received, `[time, what]` in
/// order.
pub const SINCE: &str = r#"
const [since] = arguments;
const out = [];
for (const e of performance.getEntriesByType('resource')) {
  const start = performance.timeOrigin + e.startTime;
  if (start < since || !e.name.includes('/api/')) continue;
  const path = new URL(e.name).pathname;
  out.push([start, 'request ' + path]);
  out.push([performance.timeOrigin + e.responseEnd, 'response ' + path]);
}
for (const [t, what] of (window.__wsEvents || [])) if (t >= since) out.push([t, what]);
for (const [t, data] of (window.__wsArrivals || [])) if (t >= since) out.push([t, 'received ' + data]);
out.sort((a, b) => a[0] - b[0]);
return out;
"#;

/// Prints the timelines of `pages` (a name each) merged, from `since` to `until`
/// (`timeOrigin + now`), in milliseconds from `since`; long messages cut at 90 characters.
/// `browser`'s stamps and API requests since `since` ([`SINCE`]), in order: `(time,
/// what)`.
pub async fn stamps(browser: &crate::Browser, since: f64) -> Vec<(f64, String)> {
    let list = browser.eval(SINCE, vec![json!(since)]).await;
    list.as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let what = e[1].as_str().unwrap_or_default().to_owned();
            (e[0].as_f64().unwrap_or_default(), what)
        })
        .collect()
}

pub async fn print(pages: &[(&str, &crate::Browser)], since: f64, until: f64) {
    let mut events = Vec::new();
    for (who, browser) in pages {
        for (at, what) in stamps(browser, since).await {
            if at <= until + 1.0 {
                events.push((at - since, *who, what.chars().take(90).collect::<String>()));
            }
        }
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));
    for (at, who, what) in events {
        println!("    {at:7.1} ms  {who:<10} {what}");
    }
}

/// How long a page's main thread has worked since the page opened (CDP
/// `Performance.getMetrics`), in milliseconds, and how many times it worked out style
/// and layout. [`MainThread::since`] gives the work between two readings.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MainThread {
    /// Every task, whatever it did (scripts, style, layout, painting, the browser's own).
    pub task_ms: f64,
    /// Running scripts (the app's WebAssembly and JavaScript, and the benchmark's).
    pub script_ms: f64,
    /// Working out style.
    pub style_ms: f64,
    /// Laying out.
    pub layout_ms: f64,
    /// How many times style was worked out.
    pub styles: f64,
    /// How many layouts.
    pub layouts: f64,
}

impl MainThread {
    /// Reads the figures out of `Performance.getMetrics`' answer (seconds for times);
    /// a figure the browser did not give counts as zero.
    pub fn from_metrics(answer: &Value) -> MainThread {
        let metric = |name: &str| {
            answer["metrics"]
                .as_array()
                .and_then(|all| all.iter().find(|m| m["name"] == name))
                .and_then(|m| m["value"].as_f64())
                .unwrap_or(0.0)
        };
        MainThread {
            task_ms: metric("TaskDuration") * 1000.0,
            script_ms: metric("ScriptDuration") * 1000.0,
            style_ms: metric("RecalcStyleDuration") * 1000.0,
            layout_ms: metric("LayoutDuration") * 1000.0,
            styles: metric("RecalcStyleCount"),
            layouts: metric("LayoutCount"),
        }
    }

    /// The work done between `earlier` and this reading.
    pub fn since(&self, earlier: &MainThread) -> MainThread {
        MainThread {
            task_ms: self.task_ms - earlier.task_ms,
            script_ms: self.script_ms - earlier.script_ms,
            style_ms: self.style_ms - earlier.style_ms,
            layout_ms: self.layout_ms - earlier.layout_ms,
            styles: self.styles - earlier.styles,
            layouts: self.layouts - earlier.layouts,
        }
    }
}

impl std::fmt::Display for MainThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tasks {:.1} ms: scripts {:.1} ms, style {:.1} ms ({} times), layout {:.1} ms ({} times)",
            self.task_ms, self.script_ms, self.style_ms, self.styles, self.layout_ms, self.layouts
        )
    }
}

/// How long `browser`'s page's main thread has worked so far ([`MainThread`]).
pub async fn main_thread(browser: &crate::Browser) -> MainThread {
    browser.cdp("Performance.enable", json!({})).await;
    MainThread::from_metrics(&browser.cdp("Performance.getMetrics", json!({})).await)
}

/// Starts Chromium's sampling profiler in `browser`'s page (every 50 µs).
pub async fn start_profile(browser: &crate::Browser) {
    browser.cdp("Profiler.enable", json!({})).await;
    browser
        .cdp("Profiler.setSamplingInterval", json!({ "interval": 50 }))
        .await;
    browser.cdp("Profiler.start", json!({})).await;
}

/// Marks the page's profile: runs a function named `__profileMark` for 3 ms and answers
/// when it started (`timeOrigin + now`, ms). [`Profile::add_within`] finds the mark's
/// first sample and so puts the profiler's clock beside the page's.
pub async fn mark_profile(browser: &crate::Browser) -> f64 {
    const MARK: &str = r#"
const __profileMark = () => {
  const start = performance.now();
  while (performance.now() - start < 3) {}
  return performance.timeOrigin + start;
};
return __profileMark();
"#;
    browser
        .eval(MARK, vec![])
        .await
        .as_f64()
        .expect("the mark's time")
}

/// Stops the profiler; the profile (CDP `Profiler.Profile`).
pub async fn stop_profile(browser: &crate::Browser) -> Value {
    let answer = browser.cdp("Profiler.stop", json!({})).await;
    answer["profile"].clone()
}

/// Time per function, summed over profiles: its own (self) and with what it calls
/// (total), in milliseconds.
#[derive(Default)]
pub struct Profile {
    own: std::collections::HashMap<String, f64>,
    total: std::collections::HashMap<String, f64>,
    /// Own time by the function and the nearest of the app's own functions that led to it.
    from_app: std::collections::HashMap<String, f64>,
}

/// A CDP profile read once: each node's label and caller, and each sample's time (µs,
/// the profiler's clock), length (ms: the gap to the next sample) and node.
struct Tree {
    name: std::collections::HashMap<u64, String>,
    parent: std::collections::HashMap<u64, u64>,
    samples: Vec<(f64, f64, u64)>,
}

impl Tree {
    fn of(profile: &Value) -> Tree {
        let mut name = std::collections::HashMap::new();
        let mut parent = std::collections::HashMap::new();
        for node in profile["nodes"].as_array().into_iter().flatten() {
            let id = node["id"].as_u64().unwrap_or_default();
            let frame = &node["callFrame"];
            let function = frame["functionName"].as_str().unwrap_or_default();
            let label = if function.is_empty() {
                let url = frame["url"].as_str().unwrap_or_default();
                format!("(anonymous) {}", url.rsplit('/').next().unwrap_or_default())
            } else {
                demangle(function)
            };
            name.insert(id, label);
            for child in node["children"].as_array().into_iter().flatten() {
                parent.insert(child.as_u64().unwrap_or_default(), id);
            }
        }
        let delta = |i: usize| profile["timeDeltas"][i].as_f64().unwrap_or_default();
        let mut at = profile["startTime"].as_f64().unwrap_or_default();
        let mut samples = Vec::new();
        for (i, sample) in profile["samples"]
            .as_array()
            .into_iter()
            .flatten()
            .enumerate()
        {
            at += delta(i);
            samples.push((
                at,
                delta(i + 1) / 1000.0,
                sample.as_u64().unwrap_or_default(),
            ));
        }
        Tree {
            name,
            parent,
            samples,
        }
    }

    /// `id` and its callers, innermost first.
    fn stack(&self, id: u64) -> impl Iterator<Item = u64> + '_ {
        std::iter::successors(Some(id), |up| self.parent.get(up).copied())
    }
}

impl Profile {
    pub fn add(&mut self, profile: &Value) {
        self.add_samples(&Tree::of(profile), |_, _| true);
    }

    /// Adds only the samples taken inside one of `windows` (`timeOrigin + now`, ms, as
    /// the page stamps them), the profile having been marked at `mark` by
    /// [`mark_profile`]. Answers how many milliseconds of samples were kept.
    pub fn add_within(&mut self, profile: &Value, mark: f64, windows: &[(f64, f64)]) -> f64 {
        // The profiler's time (µs) of the mark's first sample.
        let tree = Tree::of(profile);
        let marked = tree
            .samples
            .iter()
            .find(|(_, _, id)| tree.stack(*id).any(|up| tree.name[&up] == "__profileMark"))
            .map(|(at, _, _)| *at);
        let Some(marked) = marked else {
            println!("(the profile has no mark: nothing kept)");
            return 0.0;
        };
        let mut kept = 0.0;
        self.add_samples(&tree, |at, ms| {
            let page = mark + (at - marked) / 1000.0;
            let inside = windows
                .iter()
                .any(|(from, to)| (*from..=*to).contains(&page));
            if inside {
                kept += ms;
            }
            inside
        });
        kept
    }

    /// Adds the samples `keep` accepts (given each one's time, µs, and length, ms).
    fn add_samples(&mut self, tree: &Tree, mut keep: impl FnMut(f64, f64) -> bool) {
        let name = |id: u64| &tree.name[&id];
        for &(at, ms, id) in &tree.samples {
            if !keep(at, ms) {
                continue;
            }
            *self.own.entry(name(id).clone()).or_default() += ms;
            let app = tree
                .stack(id)
                .map(name)
                .find(|label| label.starts_with("connectit") || label.starts_with("<connectit"))
                .map_or("(none of the app's)", String::as_str);
            *self
                .from_app
                .entry(format!("{}  ←  {app}", name(id)))
                .or_default() += ms;
            let mut seen = std::collections::HashSet::new();
            for label in tree.stack(id).map(name) {
                if seen.insert(label) {
                    *self.total.entry(label.clone()).or_default() += ms;
                }
            }
        }
    }

    pub fn print(&self, what: &str) {
        for (title, map) in [
            ("own time", &self.own),
            ("with callees", &self.total),
            (
                "own time, by the app's function that led to it",
                &self.from_app,
            ),
        ] {
            println!("profile of {what}: {title}");
            let mut list: Vec<_> = map.iter().collect();
            list.sort_by(|a, b| b.1.total_cmp(a.1));
            for (label, ms) in list.into_iter().take(40) {
                let label: String = label.chars().take(200).collect();
                println!("  {ms:8.1} ms  {label}");
            }
        }
    }
}

/// A Rust symbol (legacy mangling) made readable: `a::b::c`, without the hash.
fn demangle(symbol: &str) -> String {
    let Some(mut rest) = symbol.strip_prefix("_ZN") else {
        return symbol.to_owned();
    };
    let mut parts = Vec::new();
    while let Some(digits) = rest.find(|c: char| !c.is_ascii_digit()).filter(|&d| d > 0) {
        let len: usize = rest[..digits].parse().unwrap_or(0);
        let part = &rest[digits..(digits + len).min(rest.len())];
        rest = &rest[(digits + len).min(rest.len())..];
        if !(part.len() == 17 && part.starts_with('h')) {
            parts.push(part.to_owned());
        }
    }
    let mut text = parts.join("::");
    for (a, b) in [
        ("$LT$", "<"),
        ("$GT$", ">"),
        ("$u20$", " "),
        ("$RF$", "&"),
        ("$BP$", "*"),
        ("$C$", ","),
        ("$u7b$", "{"),
        ("$u7d$", "}"),
        ("$u5b$", "["),
        ("$u5d$", "]"),
        ("..", "::"),
    ] {
        text = text.replace(a, b);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_main_thread_s_work_between_two_readings() {
        let reading = |task: f64, layouts: f64| {
            json!({ "metrics": [
                { "name": "TaskDuration", "value": task },
                { "name": "ScriptDuration", "value": task / 2.0 },
                { "name": "LayoutCount", "value": layouts },
                { "name": "Nodes", "value": 120.0 },
            ]})
        };
        let before = MainThread::from_metrics(&reading(0.250, 4.0));
        let after = MainThread::from_metrics(&reading(0.290, 10.0));
        let between = after.since(&before);
        assert!((between.task_ms - 40.0).abs() < 1e-9, "{between:?}");
        assert!((between.script_ms - 20.0).abs() < 1e-9, "{between:?}");
        assert_eq!(between.layouts, 6.0);
        // What the browser did not give counts as nothing.
        assert_eq!((between.style_ms, between.styles), (0.0, 0.0));
        assert_eq!(MainThread::from_metrics(&json!({})), MainThread::default());
    }
}

//! Going to a page and reading it: visibility, text, attributes, values, focus,
//! scripts, and waiting for any of these with a deadline.

use std::time::Duration;

use fantoccini::elements::Element;
use fantoccini::Locator;
use serde_json::{json, Value};

use super::{Browser, VIS};
use crate::wait::TIMEOUT;

impl Browser {
    /// Sets a marker on `window`: [`Browser::has_mark`] later tells whether the page is
    /// still the same one (not reloaded, not navigated away).
    pub async fn mark_page(&self, name: &str) {
        self.eval(
            "window[arguments[0]] = true; return true;",
            vec![json!(name)],
        )
        .await;
    }

    /// Whether the page still carries the marker `name` of [`Browser::mark_page`].
    pub async fn has_mark(&self, name: &str) -> bool {
        self.eval("return window[arguments[0]] === true;", vec![json!(name)])
            .await
            == json!(true)
    }

    /// Resizes the window (CSS pixels at the default zoom).
    pub async fn set_window_size(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .unwrap_or_else(|e| panic!("resize the window to {width}×{height}: {e}"));
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        self.client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("take a screenshot: {e}"))
    }

    /// Opens `url` and waits for the page to load.
    pub async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// The browser's Back, once, as the WebDriver command (which waits for the
    /// navigation, unlike `history.back()` from a script that the navigation cuts off).
    pub async fn back(&self) {
        self.client
            .back()
            .await
            .unwrap_or_else(|e| panic!("go back: {e}"));
    }

    /// Runs `script` (a function body; `arguments[i]` are `args`) and returns its value.
    pub async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("run script in the page: {e}\nscript: {script}"))
    }

    /// Runs `script` asynchronously: it ends by calling its last argument (after
    /// `args`) with the value to return. For work that waits inside the page.
    pub async fn eval_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute_async(script, args)
            .await
            .unwrap_or_else(|e| panic!("run async script in the page: {e}\nscript: {script}"))
    }

    /// Like [`Browser::eval`], but a failure is a value, for probes.
    pub(crate) async fn try_eval(&self, script: &str, args: Vec<Value>) -> Result<Value, String> {
        self.client
            .execute(script, args)
            .await
            .map_err(|e| format!("script failed: {e}"))
    }

    /// Waits until `probe` succeeds; on time-out the panic also says what the page shows.
    pub async fn wait_for<T, F, Fut>(&self, what: &str, probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        self.wait_for_within(what, TIMEOUT, probe).await
    }

    /// [`Browser::wait_for`] with another time limit.
    pub async fn wait_for_within<T, F, Fut>(&self, what: &str, timeout: Duration, mut probe: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let seen = match probe().await {
                Ok(value) => return value,
                Err(seen) => seen,
            };
            if tokio::time::Instant::now() >= deadline {
                let page = self.describe_page().await;
                panic!(
                    "timed out after {:.1} s waiting for {what}\nlast seen: {seen}\n{page}",
                    timeout.as_secs_f64()
                );
            }
            tokio::time::sleep(crate::wait::POLL).await;
        }
    }

    /// The URL and visible text of the page, for failure messages.
    pub async fn describe_page(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_else(|e| format!("(no URL: {e})"));
        let text = self
            .try_eval(
                "return document.body ? document.body.innerText : '(no body)';",
                vec![],
            )
            .await
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .unwrap_or_else(|e| e);
        let text: String = text.chars().take(1500).collect();
        format!("page {url} shows:\n{text}")
    }

    /// Whether an element matching `selector` is visible now.
    pub async fn is_visible(&self, selector: &str) -> bool {
        let script = format!("{VIS} return vis(document.querySelector(arguments[0]));");
        self.eval(&script, vec![json!(selector)]).await == json!(true)
    }

    /// Waits until `selector` is visible.
    pub async fn wait_visible(&self, selector: &str) {
        let script = format!("{VIS} return vis(document.querySelector(arguments[0]));");
        self.wait_for(&format!("{selector} to be visible"), || async {
            match self.try_eval(&script, vec![json!(selector)]).await? {
                Value::Bool(true) => Ok(()),
                _ => Err(format!("{selector} absent or hidden")),
            }
        })
        .await
    }

    /// Waits until no visible element matches `selector`.
    pub async fn wait_hidden(&self, selector: &str) {
        let script = format!("{VIS} return vis(document.querySelector(arguments[0]));");
        self.wait_for(&format!("{selector} to disappear"), || async {
            match self.try_eval(&script, vec![json!(selector)]).await? {
                Value::Bool(false) => Ok(()),
                _ => Err(format!("{selector} still visible")),
            }
        })
        .await
    }

    /// The visible text of `selector`, once it is visible.
    pub async fn text(&self, selector: &str) -> String {
        self.wait_visible(selector).await;
        let script =
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;";
        match self.eval(script, vec![json!(selector)]).await {
            Value::String(text) => text,
            other => panic!("{selector} has no text: {other}"),
        }
    }

    /// Waits until the visible text of `selector` contains `needle`; returns the text.
    pub async fn wait_text_contains(&self, selector: &str, needle: &str) -> String {
        let script = format!(
            "{VIS} const e = document.querySelector(arguments[0]); \
             return vis(e) ? e.innerText : null;"
        );
        self.wait_for(&format!("{selector} to show {needle:?}"), || async {
            match self.try_eval(&script, vec![json!(selector)]).await? {
                Value::String(text) if text.contains(needle) => Ok(text),
                Value::String(text) => Err(format!("{selector} shows {text:?}")),
                _ => Err(format!("{selector} absent or hidden")),
            }
        })
        .await
    }

    /// The attribute `name` of `selector` (`None` when the element or attribute is absent).
    pub async fn attr(&self, selector: &str, name: &str) -> Option<String> {
        let script = "const e = document.querySelector(arguments[0]); \
                      return e ? e.getAttribute(arguments[1]) : null;";
        match self.eval(script, vec![json!(selector), json!(name)]).await {
            Value::String(value) => Some(value),
            _ => None,
        }
    }

    /// Waits until the attribute `name` of `selector` equals `value`.
    pub async fn wait_attr(&self, selector: &str, name: &str, value: &str) {
        let script = "const e = document.querySelector(arguments[0]); \
                      return e ? e.getAttribute(arguments[1]) : undefined;";
        self.wait_for(&format!("{selector}[{name}={value:?}]"), || async {
            match self
                .try_eval(script, vec![json!(selector), json!(name)])
                .await?
            {
                Value::String(v) if v == value => Ok(()),
                Value::String(v) => Err(format!("{selector} has {name}={v:?}")),
                Value::Null => Err(format!(
                    "{selector} has no {name} attribute (or no element)"
                )),
                other => Err(format!("{selector}: {other}")),
            }
        })
        .await
    }

    /// The value of a form field.
    pub async fn value(&self, selector: &str) -> String {
        let script = "const e = document.querySelector(arguments[0]); return e ? e.value : null;";
        match self.eval(script, vec![json!(selector)]).await {
            Value::String(value) => value,
            other => panic!("{selector} has no value: {other}"),
        }
    }

    /// The id of the focused element ("" when it has none).
    pub async fn focused_id(&self) -> String {
        let script = "return document.activeElement ? document.activeElement.id : '';";
        self.eval(script, vec![])
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Finds the visible element `selector` (waiting for it).
    pub async fn find(&self, selector: &str) -> Element {
        self.wait_visible(selector).await;
        self.client
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("find {selector}: {e}"))
    }

    /// Whether the element `selector` exists and is enabled (not `disabled`).
    pub async fn is_enabled(&self, selector: &str) -> bool {
        let script = "const e = document.querySelector(arguments[0]); return !!e && !e.disabled;";
        self.eval(script, vec![json!(selector)]).await == json!(true)
    }

    /// The values of attribute `name` of every element matching `selector`, in order.
    pub async fn attr_all(&self, selector: &str, name: &str) -> Vec<String> {
        let script = "return Array.from(document.querySelectorAll(arguments[0]))\
                      .map((e) => e.getAttribute(arguments[1]));";
        match self.eval(script, vec![json!(selector), json!(name)]).await {
            Value::Array(values) => values
                .into_iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            other => panic!("{selector}[{name}]: {other}"),
        }
    }
}

//! What a user does: keys, Tab, clicks, choices, typing, check boxes; each waits for
//! its element to be there and usable first.

use fantoccini::Locator;
use serde_json::{json, Value};

use super::{Browser, VIS};

impl Browser {
    /// Sends `keys` (fantoccini key codes such as `"\u{e004}"` for Tab) to whatever
    /// element has the focus, as a keyboard user would.
    pub async fn press(&self, keys: &str) {
        let element = self
            .client
            .active_element()
            .await
            .unwrap_or_else(|e| panic!("find the focused element: {e}"));
        element
            .send_keys(keys)
            .await
            .unwrap_or_else(|e| panic!("press {keys:?} on the focused element: {e}"));
    }

    /// Presses Tab (Shift+Tab when `back`) until `id` has the focus, at most `limit`
    /// times; panics with the path taken when it never gets there.
    pub async fn tab_to(&self, id: &str, back: bool, limit: usize) {
        self.tab_to_matching(&format!("#{id}"), back, limit).await;
    }

    /// Presses Tab (Shift+Tab when `back`) until the focused element matches
    /// `selector`, at most `limit` times; panics with the path taken (the ids focused)
    /// when it never gets there.
    pub async fn tab_to_matching(&self, selector: &str, back: bool, limit: usize) {
        let key = if back { "\u{e008}\u{e004}" } else { "\u{e004}" };
        let probe = "const e = document.activeElement; return !!e && e.matches(arguments[0]);";
        let mut path = vec![self.focused_id().await];
        for pressed in 0..=limit {
            if self.eval(probe, vec![json!(selector)]).await == json!(true) {
                return;
            }
            if pressed < limit {
                self.press(key).await;
                path.push(self.focused_id().await);
            }
        }
        panic!("Tab never reached {selector}; focus went through {path:?}");
    }

    /// Drags the mouse over `selector` from `from` to `to` (fractions of its box, from
    /// its top-left corner): moves there, presses the left button, moves in two steps,
    /// releases.
    pub async fn drag(&self, selector: &str, from: (f64, f64), to: (f64, f64)) {
        self.drag_with(selector, from, to, false).await;
    }

    /// [`Browser::drag`] with a finger instead of the mouse (a touch pointer).
    pub async fn swipe(&self, selector: &str, from: (f64, f64), to: (f64, f64)) {
        self.drag_with(selector, from, to, true).await;
    }

    async fn drag_with(&self, selector: &str, from: (f64, f64), to: (f64, f64), touch: bool) {
        use fantoccini::actions::{
            InputSource, MouseActions, PointerAction, TouchActions, MOUSE_BUTTON_LEFT,
        };
        let rect = self
            .eval(
                "const e = document.querySelector(arguments[0]); \
                 if (!e) return null; e.scrollIntoView({block: 'center'}); \
                 const r = e.getBoundingClientRect(); return [r.left, r.top, r.width, r.height];",
                vec![json!(selector)],
            )
            .await;
        let n = |i: usize| rect.get(i).and_then(Value::as_f64);
        let (Some(left), Some(top), Some(width), Some(height)) = (n(0), n(1), n(2), n(3)) else {
            panic!("{selector} is not on the page to drag over: {rect}");
        };
        let at = |(fx, fy): (f64, f64)| ((left + fx * width).round(), (top + fy * height).round());
        let (a, b) = (at(from), at(to));
        let middle = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
        let step = Some(std::time::Duration::from_millis(150));
        let moves = [
            PointerAction::MoveTo {
                duration: None,
                x: a.0,
                y: a.1,
            },
            PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            },
            PointerAction::MoveTo {
                duration: step,
                x: middle.0,
                y: middle.1,
            },
            PointerAction::MoveTo {
                duration: step,
                x: b.0,
                y: b.1,
            },
            PointerAction::Up {
                button: MOUSE_BUTTON_LEFT,
            },
        ];
        let done = if touch {
            let finger = moves
                .into_iter()
                .fold(TouchActions::new("finger".into()), |f, m| f.then(m));
            self.client.perform_actions(finger).await
        } else {
            let mouse = moves
                .into_iter()
                .fold(MouseActions::new("mouse".into()), |f, m| f.then(m));
            self.client.perform_actions(mouse).await
        };
        done.unwrap_or_else(|e| panic!("drag over {selector}: {e}"));
    }

    /// Gives the focus to the first element `selector` matches (as a click would,
    /// without moving the pointer).
    pub async fn focus_first(&self, selector: &str) {
        let focused = self
            .eval(
                "const e = document.querySelector(arguments[0]); \
                 if (!e) return false; e.focus(); return document.activeElement === e;",
                vec![json!(selector)],
            )
            .await;
        assert_eq!(focused, json!(true), "{selector} takes the focus");
    }

    /// Clicks `selector` as a user would, once it is visible, enabled and not covered.
    pub async fn click(&self, selector: &str) {
        let script = format!(
            "{VIS} const e = document.querySelector(arguments[0]); \
             return vis(e) && !e.disabled;"
        );
        self.wait_for(&format!("{selector} to be clickable"), || async {
            match self.try_eval(&script, vec![json!(selector)]).await? {
                Value::Bool(true) => {}
                _ => return Err(format!("{selector} absent, hidden or disabled")),
            }
            let element = self
                .client
                .find(Locator::Css(selector))
                .await
                .map_err(|e| format!("find: {e}"))?;
            element.click().await.map_err(|e| format!("click: {e}"))
        })
        .await
    }

    /// Picks a radio button or checkbox: clicks the input, or its `<label for>` when the
    /// input itself is styled out of reach; waits until it is checked.
    pub async fn choose(&self, selector: &str) {
        let id = self
            .attr(selector, "id")
            .await
            .unwrap_or_else(|| panic!("{selector} needs an id to find its label"));
        self.wait_for(&format!("{selector} to be checked"), || async {
            let checked =
                "const e = document.querySelector(arguments[0]); return !!e && e.checked;";
            if self.try_eval(checked, vec![json!(selector)]).await? == json!(true) {
                return Ok(());
            }
            let direct = match self.client.find(Locator::Css(selector)).await {
                Ok(element) => element.click().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(direct) = direct {
                self.click_label(selector, &id, &direct).await?;
            }
            Err(format!("{selector} clicked, not checked yet"))
        })
        .await
    }

    /// Chooses the option whose value is `value` in the `<select>` at `selector`, as a
    /// user would, and waits until the select shows it.
    pub async fn select_value(&self, selector: &str, value: &str) {
        self.wait_for(&format!("{selector} to be set to {value:?}"), || async {
            let element = self
                .client
                .find(Locator::Css(selector))
                .await
                .map_err(|e| format!("no {selector}: {e}"))?;
            element
                .select_by_value(value)
                .await
                .map_err(|e| format!("{selector} has no option {value:?}: {e}"))?;
            let now = "const e = document.querySelector(arguments[0]); return e && e.value;";
            match self.try_eval(now, vec![json!(selector)]).await? {
                Value::String(v) if v == value => Ok(()),
                other => Err(format!("{selector} holds {other}")),
            }
        })
        .await
    }

    /// Clicks the `<label for=id>` of `selector`, which could not be clicked itself
    /// (`direct` says why): a styled radio or check box hides its input.
    async fn click_label(&self, selector: &str, id: &str, direct: &str) -> Result<(), String> {
        let label = format!("label[for=\"{id}\"]");
        let element = self
            .client
            .find(Locator::Css(&label))
            .await
            .map_err(|e| format!("{selector} not clickable ({direct}) and no {label}: {e}"))?;
        element
            .click()
            .await
            .map_err(|e| format!("{selector} not clickable ({direct}), {label} neither: {e}"))
    }

    /// Types `text` into `selector` key by key (fantoccini key codes such as
    /// `"\u{e007}"` for Enter work too).
    pub async fn type_into(&self, selector: &str, text: &str) {
        let element = self.find(selector).await;
        element
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type {text:?} into {selector}: {e}"));
    }

    /// Empties a text field the way a user would (select all, delete), so the page's
    /// input handlers see it.
    pub async fn clear_field(&self, selector: &str) {
        let element = self.find(selector).await;
        element
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {selector}: {e}"));
        if !self.value(selector).await.is_empty() {
            // Some frameworks restore a controlled value: erase by keys instead.
            let count = self.value(selector).await.chars().count();
            let keys: String = "\u{e003}".repeat(count) + &"\u{e017}".repeat(count);
            element
                .send_keys(&keys)
                .await
                .unwrap_or_else(|e| panic!("erase {selector}: {e}"));
        }
    }

    /// Sets a checkbox to `checked` as a user would: clicks it (or its `<label for>`
    /// when the input itself is out of reach) until it is in that state.
    pub async fn set_checked(&self, selector: &str, checked: bool) {
        let state = "const e = document.querySelector(arguments[0]); \
                     return e ? e.checked : null;";
        self.wait_for(&format!("{selector} to be checked={checked}"), || async {
            match self.try_eval(state, vec![json!(selector)]).await? {
                Value::Bool(now) if now == checked => return Ok(()),
                Value::Bool(_) => {}
                _ => return Err(format!("no {selector}")),
            }
            let direct = match self.client.find(Locator::Css(selector)).await {
                Ok(element) => element.click().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(direct) = direct {
                let id = self
                    .try_eval(
                        "const e = document.querySelector(arguments[0]); return e ? e.id : '';",
                        vec![json!(selector)],
                    )
                    .await?;
                self.click_label(selector, id.as_str().unwrap_or_default(), &direct)
                    .await?;
            }
            Err(format!("{selector} clicked, not in the wanted state yet"))
        })
        .await
    }
}

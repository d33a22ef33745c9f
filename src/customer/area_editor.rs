//! Drawing the areas to hide on the customer's own preview (`.redact-layer` over
//! `video#self-preview`): a drag with the mouse, a finger or a pen draws one
//! (`.hidden-area`), a drag on one moves it, a drag on its corner (`.resize-handle`)
//! resizes it, its ✕ (`button.remove-area`) removes it; from the keyboard, "Hide an
//! area" adds one in the middle and focuses it, the arrow keys move it, Shift with the
//! arrows resizes it (Alt: ten times as far), Delete removes it. Areas are placed in
//! fractions of the picture, so they stay put when the preview is resized.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement, PointerEvent};
use yew::prelude::*;

use crate::i18n::{use_i18n, Msg};
use crate::rtc::areas::{self, Area};

/// A drag under way.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Drag {
    /// A new area from `from` (fractions of the picture) to where the pointer is.
    Draw { from: (f64, f64), to: (f64, f64) },
    /// Area `index` as it was when the drag started at `from`.
    Move {
        index: usize,
        from: (f64, f64),
        was: Area,
    },
    Resize {
        index: usize,
        from: (f64, f64),
        was: Area,
    },
}

#[derive(Properties, PartialEq)]
pub struct AreaEditorProps {
    pub areas: Vec<Area>,
    /// The areas from now on.
    pub on_change: Callback<Vec<Area>>,
    /// Which area to give the focus to after it was added from the keyboard, with how
    /// many were added so far (each addition focuses, also at an index seen before).
    #[prop_or_default]
    pub focus: Option<(usize, u32)>,
}

/// Where the pointer is on `layer`, in fractions of its size.
fn fraction(layer: &NodeRef, e: &PointerEvent) -> Option<(f64, f64)> {
    let layer = layer.cast::<Element>()?;
    let rect = layer.get_bounding_client_rect();
    if rect.width() <= 0.0 || rect.height() <= 0.0 {
        return None;
    }
    Some((
        (f64::from(e.client_x()) - rect.left()) / rect.width(),
        (f64::from(e.client_y()) - rect.top()) / rect.height(),
    ))
}

fn percent(v: f64) -> String {
    format!("{}%", connectit_wording::words::fixed(v * 100.0, 3))
}

/// Places `element` over `area` of the picture. Through the style object, not a
/// `style` attribute: the page's Content-Security-Policy allows no inline style.
fn place(element: &HtmlElement, area: &Area) {
    let style = element.style();
    for (property, value) in [
        ("left", area.x),
        ("top", area.y),
        ("width", area.w),
        ("height", area.h),
    ] {
        let _ = style.set_property(property, &percent(value));
    }
}

/// Places every area element of `layer` (and the draft) where its area is.
fn place_all(layer: &Element, areas: &[Area], draft: Option<Area>) {
    let Ok(nodes) = layer.query_selector_all(".hidden-area") else {
        return;
    };
    for i in 0..nodes.length() {
        let Some(element) = nodes.get(i).and_then(|n| n.dyn_into::<HtmlElement>().ok()) else {
            continue;
        };
        let area = if element.class_list().contains("draft") {
            draft
        } else {
            element
                .get_attribute("data-index")
                .and_then(|i| i.parse::<usize>().ok())
                .and_then(|i| areas.get(i).copied())
        };
        if let Some(area) = area {
            place(&element, &area);
        }
    }
}

#[component]
pub fn AreaEditor(props: &AreaEditorProps) -> Html {
    let i18n = use_i18n();
    let layer = use_node_ref();
    let drag = use_state(|| None::<Drag>);
    {
        // An area added from the keyboard takes the focus, to be moved with the arrows.
        let layer = layer.clone();
        use_effect_with(props.focus, move |focus| {
            let target = focus.and_then(|(i, _)| {
                let layer = layer.cast::<Element>()?;
                let all = layer.query_selector_all(".hidden-area").ok()?;
                all.get(i as u32)
            });
            if let Some(element) =
                target.and_then(|n| wasm_bindgen::JsCast::dyn_into::<HtmlElement>(n).ok())
            {
                let _ = element.focus();
            }
        });
    }
    // A move or a resize changes the areas as it goes; a new one is a draft until the
    // pointer is let go.
    let draft = match *drag {
        Some(Drag::Draw { from, to }) => Area::from_drag(from, to),
        _ => None,
    };
    {
        let layer = layer.clone();
        use_effect_with((props.areas.clone(), draft), move |(areas, draft)| {
            if let Some(layer) = layer.cast::<Element>() {
                place_all(&layer, areas, *draft);
            }
        });
    }

    let layer_for_start = layer.clone();
    let start = |make: Box<dyn Fn((f64, f64)) -> Option<Drag>>| {
        let (drag, layer) = (drag.clone(), layer_for_start.clone());
        Callback::from(move |e: PointerEvent| {
            if e.button() != 0 {
                return;
            }
            e.stop_propagation();
            e.prevent_default();
            let Some(at) = fraction(&layer, &e) else {
                return;
            };
            if let Some(d) = make(at) {
                if let Some(layer) = layer.cast::<Element>() {
                    let _ = layer.set_pointer_capture(e.pointer_id());
                }
                drag.set(Some(d));
            }
        })
    };
    let room = areas::room_for_more(&props.areas);
    let on_draw = start(Box::new(move |at| {
        room.then_some(Drag::Draw { from: at, to: at })
    }));
    let onpointermove = {
        let (drag, layer, areas, on_change) = (
            drag.clone(),
            layer.clone(),
            props.areas.clone(),
            props.on_change.clone(),
        );
        Callback::from(move |e: PointerEvent| {
            let (Some(d), Some(at)) = (*drag, fraction(&layer, &e)) else {
                return;
            };
            let (index, area) = match d {
                Drag::Draw { from, .. } => return drag.set(Some(Drag::Draw { from, to: at })),
                Drag::Move { index, from, was } => (index, was.moved(at.0 - from.0, at.1 - from.1)),
                Drag::Resize { index, from, was } => {
                    (index, was.resized(at.0 - from.0, at.1 - from.1))
                }
            };
            let mut next = areas.clone();
            if let Some(a) = next.get_mut(index) {
                *a = area;
            }
            on_change.emit(next);
        })
    };
    let onpointerup = {
        let (drag, layer, areas, on_change) = (
            drag.clone(),
            layer.clone(),
            props.areas.clone(),
            props.on_change.clone(),
        );
        Callback::from(move |e: PointerEvent| {
            if let Some(layer) = layer.cast::<Element>() {
                let _ = layer.release_pointer_capture(e.pointer_id());
            }
            if let Some(Drag::Draw { from, .. }) = *drag {
                let to = fraction(&layer, &e).unwrap_or(from);
                if let Some(area) = Area::from_drag(from, to) {
                    let mut next = areas.clone();
                    next.push(area);
                    on_change.emit(next);
                }
            }
            drag.set(None);
        })
    };
    let onpointercancel = {
        let drag = drag.clone();
        Callback::from(move |_: PointerEvent| drag.set(None))
    };

    let items = props.areas.iter().enumerate().map(|(index, area)| {
        let n = index as u32 + 1;
        let was = *area;
        let on_move = start(Box::new(move |at| {
            Some(Drag::Move {
                index,
                from: at,
                was,
            })
        }));
        let on_resize = start(Box::new(move |at| {
            Some(Drag::Resize {
                index,
                from: at,
                was,
            })
        }));
        let onkeydown = {
            let (areas, on_change) = (props.areas.clone(), props.on_change.clone());
            Callback::from(move |e: KeyboardEvent| {
                if let Some(edit) = areas::edit_for_key(&e.key(), e.shift_key(), e.alt_key()) {
                    e.prevent_default();
                    on_change.emit(areas::apply(&areas, index, edit));
                }
            })
        };
        let remove = {
            let (areas, on_change) = (props.areas.clone(), props.on_change.clone());
            Callback::from(move |e: MouseEvent| {
                e.stop_propagation();
                on_change.emit(areas::apply(&areas, index, areas::Edit::Remove));
            })
        };
        let stop = Callback::from(|e: PointerEvent| e.stop_propagation());
        html! {
            <div key={index} class="hidden-area" tabindex="0" role="button"
                aria-label={i18n.t(Msg::HiddenAreaLabel { n })} data-index={index.to_string()}
                onpointerdown={on_move} {onkeydown}>
                <button type="button" class="remove-area" aria-label={i18n.t(Msg::RemoveArea { n })}
                    onpointerdown={stop} onclick={remove}>{ "✕" }</button>
                <span class="resize-handle" aria-hidden="true" onpointerdown={on_resize}></span>
            </div>
        }
    });
    html! {
        <div class="redact-layer" ref={layer} data-areas={props.areas.len().to_string()}
            onpointerdown={on_draw} {onpointermove} {onpointerup} {onpointercancel}>
            { for items }
            if draft.is_some() {
                <div class="hidden-area draft" aria-hidden="true"></div>
            }
        </div>
    }
}

//! The areas a customer paints over on their shared screen, in the captured surface's
//! own coordinates: fractions of its width and height (0 to 1), so that an area stays
//! on the same part of the picture however large the preview is drawn and whatever
//! resolution the capture has. Turned into pixels for each frame, rounded outwards:
//! a pixel that an area touches at all is painted.

use connectit_protocol::limits::HIDDEN_AREAS_MAX;

/// The smallest side of an area, as a fraction of the picture's side (a click without a
/// drag makes none).
pub const MIN_SIDE: f64 = 0.02;

/// How far an arrow key moves or resizes an area, as a fraction of the picture's side.
pub const STEP: f64 = 0.01;

/// How far an arrow key moves or resizes an area with Alt held (to cross a large
/// screen quickly).
pub const BIG_STEP: f64 = 0.1;

/// One area: its top-left corner and size, as fractions of the picture.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Area {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

fn clamp01(v: f64) -> f64 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(0.0, 1.0)
    }
}

impl Area {
    /// The area a drag from `a` to `b` spans (any two corners, in fractions), if it is
    /// large enough to be one.
    pub fn from_drag(a: (f64, f64), b: (f64, f64)) -> Option<Area> {
        let (x0, x1) = (clamp01(a.0.min(b.0)), clamp01(a.0.max(b.0)));
        let (y0, y1) = (clamp01(a.1.min(b.1)), clamp01(a.1.max(b.1)));
        let area = Area {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        };
        (area.w >= MIN_SIDE && area.h >= MIN_SIDE).then_some(area)
    }

    /// A new area in the middle of the picture (added from the keyboard).
    pub fn centred() -> Area {
        Area {
            x: 0.35,
            y: 0.4,
            w: 0.3,
            h: 0.2,
        }
    }

    /// Moved by `(dx, dy)`, kept whole inside the picture.
    pub fn moved(self, dx: f64, dy: f64) -> Area {
        Area {
            x: clamp01(self.x + dx).min(1.0 - self.w),
            y: clamp01(self.y + dy).min(1.0 - self.h),
            ..self
        }
    }

    /// Its right and bottom edges moved by `(dw, dh)`, at least [`MIN_SIDE`] and inside
    /// the picture.
    pub fn resized(self, dw: f64, dh: f64) -> Area {
        Area {
            w: (self.w + dw).clamp(MIN_SIDE, 1.0 - self.x),
            h: (self.h + dh).clamp(MIN_SIDE, 1.0 - self.y),
            ..self
        }
    }

    /// The pixels it covers on a `width` × `height` picture: `(x, y, w, h)`, rounded
    /// outwards and within the picture.
    pub fn pixels(&self, width: u32, height: u32) -> (u32, u32, u32, u32) {
        let (fw, fh) = (f64::from(width), f64::from(height));
        let x0 = (clamp01(self.x) * fw).floor();
        let y0 = (clamp01(self.y) * fh).floor();
        let x1 = (clamp01(self.x + self.w) * fw).ceil();
        let y1 = (clamp01(self.y + self.h) * fh).ceil();
        (
            x0 as u32,
            y0 as u32,
            (x1 - x0).max(0.0) as u32,
            (y1 - y0).max(0.0) as u32,
        )
    }
}

/// What an arrow key (or Delete) does to the focused area.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Edit {
    Move(f64, f64),
    Resize(f64, f64),
    Remove,
}

/// The edit a key press asks for: arrows move, with Shift they resize, with Alt they go
/// ten times as far; Delete and Backspace remove.
pub fn edit_for_key(key: &str, shift: bool, alt: bool) -> Option<Edit> {
    let step = if alt { BIG_STEP } else { STEP };
    let (dx, dy) = match key {
        "ArrowLeft" => (-step, 0.0),
        "ArrowRight" => (step, 0.0),
        "ArrowUp" => (0.0, -step),
        "ArrowDown" => (0.0, step),
        "Delete" | "Backspace" => return Some(Edit::Remove),
        _ => return None,
    };
    Some(if shift {
        Edit::Resize(dx, dy)
    } else {
        Edit::Move(dx, dy)
    })
}

/// `areas` with `edit` applied to area `index`.
pub fn apply(areas: &[Area], index: usize, edit: Edit) -> Vec<Area> {
    let mut out = areas.to_vec();
    match (edit, out.get_mut(index)) {
        (Edit::Move(dx, dy), Some(a)) => *a = a.moved(dx, dy),
        (Edit::Resize(dw, dh), Some(a)) => *a = a.resized(dw, dh),
        (Edit::Remove, Some(_)) => {
            out.remove(index);
        }
        (_, None) => {}
    }
    out
}

/// Whether one more area may be added.
pub fn room_for_more(areas: &[Area]) -> bool {
    areas.len() < usize::from(HIDDEN_AREAS_MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drag_in_any_direction_spans_the_same_area() {
        let a = Area::from_drag((0.2, 0.3), (0.6, 0.5)).unwrap();
        let b = Area::from_drag((0.6, 0.5), (0.2, 0.3)).unwrap();
        assert_eq!(a, b);
        assert!((a.w - 0.4).abs() < 1e-9 && (a.h - 0.2).abs() < 1e-9);
    }

    #[test]
    fn a_click_or_a_sliver_makes_no_area() {
        assert_eq!(Area::from_drag((0.5, 0.5), (0.5, 0.5)), None);
        assert_eq!(Area::from_drag((0.1, 0.1), (0.9, 0.105)), None);
    }

    #[test]
    fn a_drag_past_the_edge_stops_at_the_edge() {
        let a = Area::from_drag((-0.5, 0.5), (0.3, 1.7)).unwrap();
        assert_eq!((a.x, a.y), (0.0, 0.5));
        assert!((a.w - 0.3).abs() < 1e-9 && (a.h - 0.5).abs() < 1e-9);
    }

    #[test]
    fn moving_keeps_the_area_whole_inside() {
        let a = Area {
            x: 0.9,
            y: 0.0,
            w: 0.2,
            h: 0.1,
        };
        let moved = a.moved(0.5, -0.5);
        assert!((moved.x - 0.8).abs() < 1e-9, "{moved:?}");
        assert_eq!(moved.y, 0.0);
        assert_eq!((moved.w, moved.h), (0.2, 0.1));
    }

    #[test]
    fn resizing_has_a_floor_and_a_ceiling() {
        let a = Area {
            x: 0.5,
            y: 0.5,
            w: 0.1,
            h: 0.1,
        };
        let small = a.resized(-1.0, -1.0);
        assert_eq!((small.w, small.h), (MIN_SIDE, MIN_SIDE));
        let big = a.resized(1.0, 1.0);
        assert_eq!((big.w, big.h), (0.5, 0.5));
    }

    #[test]
    fn pixels_round_outwards() {
        let a = Area {
            x: 0.1,
            y: 0.1,
            w: 0.25,
            h: 0.25,
        };
        // 0.1 × 1366 = 136.6 → 136; 0.35 × 1366 = 478.1 → 479.
        assert_eq!(a.pixels(1366, 768), (136, 76, 343, 193));
        let whole = Area {
            x: 0.0,
            y: 0.0,
            w: 1.0,
            h: 1.0,
        };
        assert_eq!(whole.pixels(1920, 1080), (0, 0, 1920, 1080));
    }

    #[test]
    fn pixels_follow_the_picture_size() {
        let a = Area {
            x: 0.5,
            y: 0.25,
            w: 0.25,
            h: 0.5,
        };
        assert_eq!(a.pixels(1280, 720), (640, 180, 320, 360));
        assert_eq!(a.pixels(1920, 1080), (960, 270, 480, 540));
    }

    #[test]
    fn keys_move_resize_and_remove() {
        assert_eq!(
            edit_for_key("ArrowLeft", false, false),
            Some(Edit::Move(-STEP, 0.0))
        );
        assert_eq!(
            edit_for_key("ArrowDown", true, false),
            Some(Edit::Resize(0.0, STEP))
        );
        assert_eq!(
            edit_for_key("ArrowRight", false, true),
            Some(Edit::Move(BIG_STEP, 0.0))
        );
        assert_eq!(edit_for_key("Delete", false, false), Some(Edit::Remove));
        assert_eq!(edit_for_key("Backspace", true, false), Some(Edit::Remove));
        assert_eq!(edit_for_key("a", false, false), None);
        let areas = vec![Area::centred(), Area::centred().moved(-0.3, -0.3)];
        assert_eq!(apply(&areas, 0, Edit::Remove), vec![areas[1]]);
        assert_eq!(apply(&areas, 5, Edit::Remove), areas, "no such area");
    }

    #[test]
    fn there_is_a_most() {
        let areas = vec![Area::centred(); usize::from(HIDDEN_AREAS_MAX) - 1];
        assert!(room_for_more(&areas));
        let areas = vec![Area::centred(); usize::from(HIDDEN_AREAS_MAX)];
        assert!(!room_for_more(&areas));
    }
}

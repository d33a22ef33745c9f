//! What the customer can check for themselves, checked by the tests in Chromium and in
//! Firefox alike: the verification code each end shows, and the areas the customer
//! hides, in the pixels the technician's browser decodes (black inside, the same as the
//! customer's own preview outside).

use connectit_protocol::EntryType;

use crate::browser::{Browser, Region};
use crate::World;

/// The verification code `selector` shows (`data-code`, `123 456`), once there.
pub async fn shown_code(browser: &Browser, selector: &str) -> String {
    browser
        .wait_for(&format!("{selector} to show a code"), || async {
            browser
                .attr(selector, "data-code")
                .await
                .filter(|c| c.len() == 7)
                .ok_or_else(|| "no code yet".to_string())
        })
        .await
}

/// Where the customer's page shows the code.
pub const CUSTOMER_CODE: &str = "#sharing-indicator .verification-code";

/// Where the console shows the code of the screen's connection.
pub const TECHNICIAN_CODE: &str = "#screen-verification";

/// Where both pages show the code of the files link.
pub const FILES_CODE: &str = "#files-verification";

/// A rectangle in fractions of the picture: `(x0, y0, x1, y1)`.
pub type Rect = (f64, f64, f64, f64);

/// The area "Hide an area" adds: the middle of the picture.
pub const ADDED: Rect = (0.35, 0.4, 0.65, 0.6);

/// How far inside an area's edges its pixels are read (the encoder blends the edges of
/// blocks with their neighbours).
const MARGIN: f64 = 0.03;

/// Parts of the picture well away from the middle.
pub const OUTSIDE: [Rect; 2] = [(0.03, 0.05, 0.3, 0.3), (0.72, 0.7, 0.97, 0.95)];

/// A channel at most this bright counts as black once encoded and decoded.
pub const BLACK_MAX: u8 = 40;

/// How far the mean colour of a part of the technician's picture may be from the same
/// part of the customer's preview (both show the same frames, a frame or two apart).
pub const SAME_MAX: f64 = 30.0;

/// `rect` shrunk by the margin on every side.
pub fn inside(rect: Rect) -> Rect {
    (
        rect.0 + MARGIN,
        rect.1 + MARGIN,
        rect.2 - MARGIN,
        rect.3 - MARGIN,
    )
}

/// `rect` moved right by `dx`.
pub fn moved(rect: Rect, dx: f64) -> Rect {
    (rect.0 + dx, rect.1, rect.2 + dx, rect.3)
}

/// The technician's picture.
pub const TECH_VIDEO: &str = "#screen-video";

/// The customer's preview of what is sent.
pub const PREVIEW: &str = "#self-preview";

/// Where the customer's area `index` is drawn on their preview, in fractions of it
/// (as laid out, not as written: the page's CSP allows no inline style attribute).
pub async fn drawn_area(browser: &Browser, index: usize) -> Option<Rect> {
    let v = browser
        .eval(
            "const layer = document.querySelector('.redact-layer'); \
             const a = document.querySelector(`.hidden-area[data-index=\"${arguments[0]}\"]`); \
             if (!layer || !a) return null; \
             const l = layer.getBoundingClientRect(), r = a.getBoundingClientRect(); \
             if (!l.width || !l.height) return null; \
             return [(r.left - l.left) / l.width, (r.top - l.top) / l.height, \
                     (r.right - l.left) / l.width, (r.bottom - l.top) / l.height];",
            vec![serde_json::json!(index)],
        )
        .await;
    let n = |i: usize| v.get(i).and_then(serde_json::Value::as_f64);
    Some((n(0)?, n(1)?, n(2)?, n(3)?))
}

/// Waits until the customer's area `index` is drawn over `rect` of the preview (to a
/// pixel or so).
pub async fn wait_drawn_at(browser: &Browser, index: usize, rect: Rect) {
    browser
        .wait_for(
            &format!("area {index} to be drawn over {rect:?}"),
            || async {
                match drawn_area(browser, index).await {
                    Some(r)
                        if [(r.0, rect.0), (r.1, rect.1), (r.2, rect.2), (r.3, rect.3)]
                            .iter()
                            .all(|(a, b)| (a - b).abs() < 0.01) =>
                    {
                        Ok(())
                    }
                    other => Err(format!("{other:?}")),
                }
            },
        )
        .await;
}

/// The colour of `rect` of `selector`'s frame, once it shows one.
pub async fn region(browser: &Browser, selector: &str, rect: Rect) -> Region {
    browser
        .wait_for(&format!("{selector} to show a frame"), || async {
            browser
                .region(selector, rect)
                .await
                .ok_or_else(|| "no frame yet".to_string())
        })
        .await
}

/// Waits until `rect` of the technician's picture is black.
pub async fn wait_black(browser: &Browser, rect: Rect) -> Region {
    browser
        .wait_for(&format!("{rect:?} of {TECH_VIDEO} to be black"), || async {
            match browser.region(TECH_VIDEO, rect).await {
                Some(r) if r.max <= BLACK_MAX => Ok(r),
                other => Err(format!("{other:?}")),
            }
        })
        .await
}

/// Waits until `rect` of the technician's picture is no longer black.
pub async fn wait_not_black(browser: &Browser, rect: Rect) -> Region {
    browser
        .wait_for(
            &format!("{rect:?} of {TECH_VIDEO} to show the picture"),
            || async {
                match browser.region(TECH_VIDEO, rect).await {
                    Some(r) if r.max > BLACK_MAX * 2 => Ok(r),
                    other => Err(format!("{other:?}")),
                }
            },
        )
        .await
}

/// Checks that the parts of the picture away from every area are the same on both
/// sides and not black (the picture is really there). Both are read at nearly the same
/// moment, again until they agree: a synthetic picture that changes by itself from
/// frame to frame differs between two reads a frame apart, a wrongly painted one for
/// good.
pub async fn assert_outside_unchanged(w: &World) {
    for rect in OUTSIDE {
        w.tech
            .wait_for(
                &format!("{rect:?} of the technician's picture to match the customer's preview"),
                || async {
                    let (tech, cust) = tokio::join!(
                        region(&w.tech, TECH_VIDEO, rect),
                        region(&w.cust, PREVIEW, rect)
                    );
                    if tech.max > BLACK_MAX * 2 && tech.distance(&cust) <= SAME_MAX {
                        Ok(())
                    } else {
                        Err(format!("the technician's {tech:?}, the preview's {cust:?}"))
                    }
                },
            )
            .await;
    }
}

/// The customer adds an area from the keyboard path ("Hide an area"), the technician's
/// picture turns black there and stays the same elsewhere, and both logs say a part is
/// hidden. Returns which pipeline painted it (`frames` or `canvas`).
pub async fn hide_the_middle(w: &World) -> String {
    let before = region(&w.tech, TECH_VIDEO, inside(ADDED)).await;
    assert!(
        before.max > BLACK_MAX * 2,
        "the middle of the picture is not black before it is hidden: {before:?}"
    );
    w.cust.click("#hide-area").await;
    let pipeline = w
        .cust
        .wait_for("the painting to start", || async {
            w.cust
                .attr("#sharing-indicator .redact-stage", "data-pipeline")
                .await
                .filter(|p| !p.is_empty())
                .ok_or_else(|| "no pipeline yet".to_string())
        })
        .await;
    tokio::join!(
        w.tech.wait_entry_kind(EntryType::AreasHidden),
        w.cust.wait_entry_kind(EntryType::AreasHidden)
    );
    w.tech.wait_attr("#screen-hidden", "data-areas", "1").await;
    // Drawn where it paints, on the customer's preview.
    wait_drawn_at(&w.cust, 0, ADDED).await;
    wait_black(&w.tech, inside(ADDED)).await;
    // The customer's own preview shows what is sent.
    let preview = region(&w.cust, PREVIEW, inside(ADDED)).await;
    assert!(
        preview.max <= BLACK_MAX,
        "the preview is black there too: {preview:?}"
    );
    assert_outside_unchanged(w).await;
    pipeline
}

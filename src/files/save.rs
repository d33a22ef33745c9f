//! Handing a Blob to the person as a download: an object URL that is revoked when its
//! owner drops it, and a one-time click on a detached `<a download>`.

use wasm_bindgen::JsCast;
use web_sys::{Blob, HtmlAnchorElement, Url};

use crate::browser::{self, BrowserError};

/// A `blob:` URL, revoked on drop.
#[derive(Debug)]
pub struct ObjectUrl(String);

impl ObjectUrl {
    pub fn new(blob: &Blob) -> Result<ObjectUrl, BrowserError> {
        Ok(ObjectUrl(Url::create_object_url_with_blob(blob)?))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for ObjectUrl {
    fn drop(&mut self) {
        let _ = Url::revoke_object_url(&self.0);
    }
}

/// Starts the download of `url` as `file_name` (already made safe).
pub fn save(url: &str, file_name: &str) -> Result<(), BrowserError> {
    let document = browser::document().ok_or(BrowserError::NoWindow)?;
    let anchor: HtmlAnchorElement = document
        .create_element("a")?
        .dyn_into()
        .map_err(|_| BrowserError::Unsupported)?;
    anchor.set_href(url);
    anchor.set_download(file_name);
    anchor.set_rel("noopener");
    anchor.click();
    Ok(())
}

//! Files in and out of the browsers: test files of random bytes with their SHA-256,
//! picking them in a page's `input[type=file]`, each browser's download folder, the
//! `#transfers` list both pages show, and the system information tables.
//!
//! The page side of a transfer, as the contract names it: one `li.transfer` per file in
//! `#transfers`, with `data-file` (the log's id, the same on both sides),
//! `data-direction` (`in` | `out`, from that page's point of view), `data-status`
//! (offered | accepted | sent | delivered | refused | failed), `.transfer-name`,
//! `progress.transfer-progress` (value and max in bytes), `.transfer-speed`,
//! `.transfer-eta`, `button.cancel-transfer` while in flight, `a.save-file` for a
//! delivered incoming file, `.transfer-error` for a failed one, and for the customer's
//! incoming offer `button.accept-file` / `button.refuse-file`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use fantoccini::Locator;
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use crate::browser::Browser;

/// How long a transfer (or a download) may take before a test fails: big files on two
/// busy cores take a while.
pub const TRANSFER_TIMEOUT: Duration = Duration::from_secs(120);

/// A file of random bytes in its own temporary folder (removed on drop).
pub struct TestFile {
    /// Absolute path.
    pub path: PathBuf,
    /// The file name (what the pages show).
    pub name: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the contents.
    pub sha256: String,
    _dir: TempDir,
}

impl TestFile {
    /// Writes `size` random bytes to a new temporary folder as `name`; hashes them on
    /// the way.
    pub fn random(name: &str, size: u64) -> TestFile {
        let dir = tempfile::Builder::new()
            .prefix("connectit-e2e-file-")
            .tempdir()
            .expect("create a temporary folder for a test file");
        let path = dir.path().join(name);
        let file = std::fs::File::create(&path)
            .unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let mut rng = SmallRng::from_rng(&mut rand::rng());
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut left = size;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            rng.fill_bytes(&mut buf[..n]);
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            left -= n as u64;
        }
        out.flush()
            .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        TestFile {
            path,
            name: name.to_owned(),
            size,
            sha256: hex(&hasher.finalize()),
            _dir: dir,
        }
    }
}

/// Lower-case hex SHA-256 of a file's contents.
pub fn sha256_file(path: &Path) -> String {
    let mut file =
        std::fs::File::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file
            .read(&mut buf)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    hex(&hasher.finalize())
}

/// A download still being written: Chromium's `.crdownload`, Firefox's `.part`.
fn is_partial(name: &str) -> bool {
    name.ends_with(".crdownload") || name.ends_with(".part")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One `li.transfer` of `#transfers`, as the page shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Transfer {
    /// `data-file`.
    pub file: u32,
    /// `data-direction`: `in` or `out`.
    pub direction: String,
    /// `data-status`.
    pub status: String,
    /// `.transfer-name`.
    pub name: String,
    /// `progress.transfer-progress`: value and max (bytes).
    pub progress: Option<(f64, f64)>,
    pub speed: Option<String>,
    pub eta: Option<String>,
    /// `.transfer-error`.
    pub error: Option<String>,
    /// Whether it has `button.cancel-transfer`, `a.save-file`, `button.accept-file`,
    /// `button.refuse-file`.
    pub can_cancel: bool,
    pub can_save: bool,
    pub can_accept: bool,
    pub can_refuse: bool,
    /// The whole item's visible text.
    pub text: String,
}

impl Transfer {
    /// The selector of this transfer's `li`.
    pub fn selector(file: u32) -> String {
        format!("#transfers li.transfer[data-file=\"{file}\"]")
    }

    /// Bytes moved so far (the progress bar's value), 0 without a bar.
    pub fn done_bytes(&self) -> f64 {
        self.progress.map(|(value, _)| value).unwrap_or(0.0)
    }
}

/// `arguments`: none. Every `#transfers li.transfer`, read at once.
const READ_TRANSFERS: &str = r#"
const items = Array.from(document.querySelectorAll('#transfers li.transfer'));
return items.map((li) => {
  const q = (s) => li.querySelector(s);
  const t = (s) => { const e = q(s); return e ? e.textContent.trim() : null; };
  const p = q('progress.transfer-progress');
  return {
    file: li.getAttribute('data-file'),
    direction: li.getAttribute('data-direction') || '',
    status: li.getAttribute('data-status') || '',
    name: t('.transfer-name') || '',
    value: p ? Number(p.getAttribute('value') !== null ? p.value : 0) : null,
    max: p ? Number(p.max) : null,
    speed: t('.transfer-speed'),
    eta: t('.transfer-eta'),
    error: t('.transfer-error'),
    cancel: !!q('button.cancel-transfer'),
    save: !!q('a.save-file, a.save-file-again'),
    accept: !!q('button.accept-file'),
    refuse: !!q('button.refuse-file'),
    text: li.innerText || '',
  };
});
"#;

/// `arguments`: the table's selector. `[data-label, first cell, last cell]` per row.
const READ_INFO: &str = r#"
const table = document.querySelector(arguments[0]);
if (!table) return null;
return Array.from(table.querySelectorAll('tr[data-label]')).map((tr) => {
  const cells = Array.from(tr.cells || tr.querySelectorAll('th, td'));
  const text = (c) => (c ? c.textContent.trim() : '');
  return [tr.getAttribute('data-label'), text(cells[0]), text(cells[cells.length - 1])];
});
"#;

/// One item of a system information table: `data-label`, the label cell, the value cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InfoRow {
    pub label: String,
    pub label_text: String,
    pub value: String,
}

impl Browser {
    /// The finished downloads in [`Browser::download_dir`] (no `.crdownload`, Firefox's
    /// `.part`, or hidden temporary files), sorted.
    pub fn downloads(&self) -> Vec<PathBuf> {
        let dir = self.download_dir();
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
            .filter_map(|entry| entry.ok())
            .filter(|entry| entry.file_type().map(|t| t.is_file()).unwrap_or(false))
            .map(|entry| entry.path())
            .filter(|path| {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                !name.starts_with('.') && !is_partial(&name)
            })
            .collect();
        files.sort();
        files
    }

    /// Whether a download is still being written (a `.crdownload`, a `.part` or a hidden
    /// temporary file in the folder).
    fn download_in_progress(&self) -> bool {
        std::fs::read_dir(self.download_dir())
            .map(|entries| {
                entries.filter_map(|e| e.ok()).any(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    is_partial(&name) || name.starts_with(".com.google.Chrome")
                })
            })
            .unwrap_or(false)
    }

    /// Waits until the download folder holds a finished `name` (of `size` bytes when
    /// given); its path.
    pub async fn wait_download_named(&self, name: &str, size: Option<u64>) -> PathBuf {
        let path = self.download_dir().join(name);
        self.wait_for_within(
            &format!(
                "a finished download {name:?} in {}",
                self.download_dir().display()
            ),
            TRANSFER_TIMEOUT,
            || async {
                match std::fs::metadata(&path) {
                    Ok(meta) if size.is_none_or(|size| meta.len() == size) => Ok(path.clone()),
                    Ok(meta) => Err(format!("{name} has {} bytes so far", meta.len())),
                    Err(_) => Err(format!("folder holds {:?}", self.download_names())),
                }
            },
        )
        .await
    }

    /// The names in the download folder (finished or not), for messages.
    pub fn download_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.download_dir())
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// Clicks `selector` and waits for a new finished download (one that was not in
    /// the folder before the click, whose size holds still); its path.
    pub async fn click_and_download(&self, selector: &str) -> PathBuf {
        let before = self.downloads();
        self.click(selector).await;
        let mut last: Option<(PathBuf, u64)> = None;
        self.wait_for_within(
            &format!("a new download after clicking {selector}"),
            TRANSFER_TIMEOUT,
            || {
                let fresh = self.downloads().into_iter().find(|p| !before.contains(p));
                let in_progress = self.download_in_progress();
                let seen = fresh
                    .as_ref()
                    .and_then(|p| std::fs::metadata(p).ok().map(|m| (p.clone(), m.len())));
                let stable = match (&seen, &last) {
                    (Some(now), Some(before)) => now == before && !in_progress,
                    _ => false,
                };
                last = seen.clone();
                let names = self.download_names();
                async move {
                    match (stable, seen) {
                        (true, Some((path, _))) => Ok(path),
                        _ => Err(format!("folder holds {names:?}")),
                    }
                }
            },
        )
        .await
    }

    /// Picks `paths` in the file input `selector` the way WebDriver does it: their
    /// absolute paths sent as keys (one per line). The input may be hidden behind a
    /// styled button; when the driver will not type into it, a script makes it
    /// interactable first.
    pub async fn pick_files(&self, selector: &str, paths: &[&Path]) {
        let present = "return !!document.querySelector(arguments[0]);";
        self.wait_for(&format!("{selector} on the page"), || async {
            match self.try_eval(present, vec![json!(selector)]).await? {
                Value::Bool(true) => Ok(()),
                _ => Err(format!("no {selector}")),
            }
        })
        .await;
        let keys = paths
            .iter()
            .map(|p| {
                assert!(p.is_absolute(), "{} is not an absolute path", p.display());
                p.to_string_lossy().into_owned()
            })
            .collect::<Vec<_>>()
            .join("\n");
        let element = self
            .client()
            .find(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("find {selector}: {e}"));
        if let Err(first) = element.send_keys(&keys).await {
            let reveal = "const e = document.querySelector(arguments[0]); \
                 Object.assign(e.style, {display: 'block', visibility: 'visible', opacity: '1', \
                 position: 'static', width: 'auto', height: 'auto', clip: 'auto'}); \
                 e.hidden = false; return true;";
            self.eval(reveal, vec![json!(selector)]).await;
            let element = self
                .client()
                .find(Locator::Css(selector))
                .await
                .unwrap_or_else(|e| panic!("find {selector}: {e}"));
            element.send_keys(&keys).await.unwrap_or_else(|e| {
                panic!("pick {keys:?} in {selector}: {e} (before revealing it: {first})")
            });
        }
    }

    /// Every `#transfers li.transfer` now.
    pub async fn transfers(&self) -> Vec<Transfer> {
        self.try_transfers()
            .await
            .unwrap_or_else(|e| panic!("read #transfers: {e}"))
    }

    async fn try_transfers(&self) -> Result<Vec<Transfer>, String> {
        let rows = match self.try_eval(READ_TRANSFERS, vec![]).await? {
            Value::Array(rows) => rows,
            other => return Err(format!("unexpected #transfers contents: {other}")),
        };
        let text = |row: &Value, key: &str| row[key].as_str().map(str::to_owned);
        Ok(rows
            .iter()
            .map(|row| Transfer {
                file: row["file"]
                    .as_str()
                    .and_then(|s| s.trim().parse().ok())
                    .unwrap_or(0),
                direction: text(row, "direction").unwrap_or_default(),
                status: text(row, "status").unwrap_or_default(),
                name: text(row, "name").unwrap_or_default(),
                progress: match (row["value"].as_f64(), row["max"].as_f64()) {
                    (Some(value), Some(max)) => Some((value, max)),
                    _ => None,
                },
                speed: text(row, "speed"),
                eta: text(row, "eta"),
                error: text(row, "error"),
                can_cancel: row["cancel"] == json!(true),
                can_save: row["save"] == json!(true),
                can_accept: row["accept"] == json!(true),
                can_refuse: row["refuse"] == json!(true),
                text: text(row, "text").unwrap_or_default(),
            })
            .collect())
    }

    /// Waits (up to `timeout`) until some transfer satisfies `check`; that transfer.
    pub async fn wait_transfer<F>(&self, what: &str, timeout: Duration, check: F) -> Transfer
    where
        F: Fn(&Transfer) -> bool,
    {
        let check = &check;
        self.wait_for_within(what, timeout, || async move {
            let all = self.try_transfers().await?;
            match all.iter().find(|t| check(t)) {
                Some(t) => Ok(t.clone()),
                None => Err(format!("#transfers: {all:?}")),
            }
        })
        .await
    }

    /// Waits until the transfer of the file `name` has `data-status = status`.
    pub async fn wait_transfer_status(&self, name: &str, status: &str) -> Transfer {
        self.wait_transfer(
            &format!("the transfer of {name:?} to be {status}"),
            TRANSFER_TIMEOUT,
            |t| t.name.contains(name) && t.status == status,
        )
        .await
    }

    /// Waits until the transfer `file` has `data-status = status`.
    pub async fn wait_file_status(&self, file: u32, status: &str) -> Transfer {
        self.wait_transfer(
            &format!("transfer {file} to be {status}"),
            TRANSFER_TIMEOUT,
            |t| t.file == file && t.status == status,
        )
        .await
    }

    /// Waits until the transfer `file` has moved some bytes but not all of them (and
    /// still runs); that reading.
    pub async fn wait_file_midway(&self, file: u32) -> Transfer {
        self.wait_transfer(
            &format!("transfer {file} to be under way (some bytes, not all)"),
            TRANSFER_TIMEOUT,
            |t| {
                t.file == file
                    && t.status == "accepted"
                    && matches!(t.progress, Some((value, max)) if value > 0.0 && value < max)
            },
        )
        .await
    }

    /// Presses `button.cancel-transfer` of transfer `file`.
    pub async fn cancel_transfer(&self, file: u32) {
        self.click(&format!(
            "{} button.cancel-transfer",
            Transfer::selector(file)
        ))
        .await;
    }

    /// The rows of a system information table (`#system-info-preview` or
    /// `#system-info`), once it shows at least one.
    pub async fn info_rows(&self, table: &str) -> Vec<InfoRow> {
        self.wait_visible(table).await;
        self.wait_for(&format!("rows in {table}"), || async {
            match self.try_eval(READ_INFO, vec![json!(table)]).await? {
                Value::Array(rows) if !rows.is_empty() => Ok(rows
                    .iter()
                    .map(|row| InfoRow {
                        label: row[0].as_str().unwrap_or_default().to_owned(),
                        label_text: row[1].as_str().unwrap_or_default().to_owned(),
                        value: row[2].as_str().unwrap_or_default().to_owned(),
                    })
                    .collect()),
                other => Err(format!("{table} rows: {other}")),
            }
        })
        .await
    }
}

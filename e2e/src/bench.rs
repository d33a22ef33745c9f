//! The rows of `scripts/bench`'s table: each figure beside its floor, measured in the
//! same run, and the ratio between them.
//!
//! Every part of the benchmark appends its rows to one file, one JSON object a line
//! ([`append_rows`]):
//!
//! ```json
//! {"figure": "chat message customer → technician, median", "unit": "ms",
//!  "connectit": 4.1, "floor": 0.4, "floor_is": "bare WebSocket echo round trip"}
//! ```
//!
//! `floor` may be `null` (a figure with nothing to stand beside). [`read_rows`] reads
//! such a file back, [`render_table`] prints the markdown table. A part written by
//! someone else only has to append the same lines; [`rows_from_json`] also reads a JSON
//! document that holds such objects (an array, or `{"rows": [...]}`), with a few
//! common spellings of the keys.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

/// One line of the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// What was measured (and which statistic: median, p95…).
    pub figure: String,
    /// The unit of both values: `ms`, `KB`, `MB/s`, or any other word.
    pub unit: String,
    /// ConnectIT's value.
    pub connectit: f64,
    /// The floor's value, measured in the same run (`None`: no floor for this figure).
    pub floor: Option<f64>,
    /// What the floor is, in a few words.
    pub floor_is: String,
}

impl Row {
    /// A row with a floor.
    pub fn new(figure: &str, unit: &str, connectit: f64, floor: f64, floor_is: &str) -> Row {
        Row {
            figure: figure.to_owned(),
            unit: unit.to_owned(),
            connectit,
            floor: Some(floor),
            floor_is: floor_is.to_owned(),
        }
    }

    /// ConnectIT ÷ floor (`None` without a floor, or with a floor of zero).
    pub fn ratio(&self) -> Option<f64> {
        self.floor
            .filter(|f| *f != 0.0 && f.is_finite())
            .map(|f| self.connectit / f)
    }

    /// The row as one JSON object.
    pub fn to_json(&self) -> Value {
        json!({
            "figure": self.figure,
            "unit": self.unit,
            "connectit": self.connectit,
            "floor": self.floor,
            "floor_is": self.floor_is,
        })
    }
}

/// Why a rows file or document could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum RowsError {
    /// The file could not be read or written.
    Io { path: String, message: String },
    /// A line (1-based; 0 for a whole document) is not JSON.
    NotJson { line: usize, message: String },
    /// A line or element is not a row: `why` names the missing or wrong key.
    NotARow { line: usize, why: String },
    /// A document holds neither an array of rows nor `{"rows": [...]}`.
    NoRows,
}

impl fmt::Display for RowsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowsError::Io { path, message } => write!(f, "{path}: {message}"),
            RowsError::NotJson { line: 0, message } => write!(f, "not JSON: {message}"),
            RowsError::NotJson { line, message } => write!(f, "line {line}: not JSON: {message}"),
            RowsError::NotARow { line, why } => write!(f, "line {line}: not a row: {why}"),
            RowsError::NoRows => write!(f, "no array of rows (nor {{\"rows\": [...]}})"),
        }
    }
}

impl std::error::Error for RowsError {}

/// What a timing example says first: the broker it times. Without
/// `CONNECTIT_BROKER_BIN` that is the tests' `target/debug/connectit-broker`, a build
/// without optimisation whose own steps take a few times as long as the server
/// build's, so its figures are not the ones `scripts/bench` gives (which builds the
/// broker with `--profile server` and sets `CONNECTIT_BROKER_BIN` to it). Such a
/// broker is named and the line says so.
pub fn broker_note(bin: &Path) -> String {
    let built_as = bin
        .parent()
        .and_then(Path::file_name)
        .and_then(|name| name.to_str());
    if built_as == Some("debug") {
        format!(
            "broker: {} — a debug build: its figures are not the server build's; for those, \
             `cargo build --profile server -p connectit-broker` and \
             CONNECTIT_BROKER_BIN=target/server/connectit-broker",
            bin.display()
        )
    } else {
        format!("broker: {}", bin.display())
    }
}

/// Prints [`broker_note`] for the broker the examples start ([`crate::broker::broker_binary`]).
pub fn print_broker_note() {
    println!("{}", broker_note(&crate::broker::broker_binary()));
}

/// The file after `--rows` in a timing example's arguments, if given.
pub fn rows_argument(args: &[String]) -> Option<PathBuf> {
    args.iter()
        .position(|a| a == "--rows")
        .map(|i| match args.get(i + 1) {
            Some(path) => PathBuf::from(path),
            None => panic!("--rows needs a file"),
        })
}

/// The first argument that is neither an option nor the value after `--rows` or one of
/// the example's own options in `valued`: a timing example's number of runs.
pub fn runs_argument<'a>(args: &'a [String], valued: &[&str]) -> Option<&'a str> {
    args.iter()
        .enumerate()
        .find(|(i, a)| {
            !a.starts_with("--")
                && (*i == 0 || {
                    let before = args[i - 1].as_str();
                    before != "--rows" && !valued.contains(&before)
                })
        })
        .map(|(_, a)| a.as_str())
}

/// Appends `rows` to `path` (created when missing), one JSON object a line.
pub fn append_rows(path: &Path, rows: &[Row]) -> Result<(), RowsError> {
    let io = |e: std::io::Error| RowsError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    let mut text = String::new();
    for row in rows {
        text.push_str(&row.to_json().to_string());
        text.push('\n');
    }
    file.write_all(text.as_bytes()).map_err(io)
}

/// Reads a rows file written by [`append_rows`] (blank lines are skipped).
pub fn read_rows(path: &Path) -> Result<Vec<Row>, RowsError> {
    let text = std::fs::read_to_string(path).map_err(|e| RowsError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })?;
    parse_rows(&text)
}

/// Parses JSON lines of rows.
pub fn parse_rows(text: &str) -> Result<Vec<Row>, RowsError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| RowsError::NotJson {
            line: i + 1,
            message: e.to_string(),
        })?;
        rows.push(row_from_value(&value).map_err(|why| RowsError::NotARow { line: i + 1, why })?);
    }
    Ok(rows)
}

/// Rows from a JSON document: an array of row objects, or an object whose `rows` is
/// one. Keys may also be spelled `name`/`metric` (figure), `value`/`measured`
/// (connectit), `floor_name`/`floor_label` (floor_is).
pub fn rows_from_json(text: &str) -> Result<Vec<Row>, RowsError> {
    let value: Value = serde_json::from_str(text).map_err(|e| RowsError::NotJson {
        line: 0,
        message: e.to_string(),
    })?;
    let items = match &value {
        Value::Array(items) => items,
        Value::Object(map) => match map.get("rows") {
            Some(Value::Array(items)) => items,
            _ => return Err(RowsError::NoRows),
        },
        _ => return Err(RowsError::NoRows),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            row_from_value(item).map_err(|why| RowsError::NotARow { line: i + 1, why })
        })
        .collect()
}

fn row_from_value(value: &Value) -> Result<Row, String> {
    let map = value
        .as_object()
        .ok_or_else(|| format!("{value} is not an object"))?;
    let text = |keys: &[&str]| -> Option<String> {
        keys.iter()
            .find_map(|k| map.get(*k).and_then(Value::as_str).map(str::to_owned))
    };
    let figure =
        text(&["figure", "name", "metric"]).ok_or_else(|| "no \"figure\" (a string)".to_owned())?;
    let connectit = number(map, &["connectit", "value", "measured"])?
        .ok_or_else(|| format!("{figure:?}: no \"connectit\" (a number)"))?;
    let floor = number(map, &["floor"])?;
    Ok(Row {
        figure,
        unit: text(&["unit"]).unwrap_or_default(),
        connectit,
        floor,
        floor_is: text(&["floor_is", "floor_name", "floor_label"]).unwrap_or_default(),
    })
}

/// The first of `keys` present: a number, `null` (none), or an error for anything else.
fn number(map: &Map<String, Value>, keys: &[&str]) -> Result<Option<f64>, String> {
    match keys.iter().find_map(|k| map.get(*k).map(|v| (k, v))) {
        None | Some((_, Value::Null)) => Ok(None),
        Some((key, v)) => v
            .as_f64()
            .filter(|n| n.is_finite())
            .map(Some)
            .ok_or_else(|| format!("\"{key}\" is {v}, not a number")),
    }
}

/// A value in its unit: milliseconds with one decimal (two under 10 ms), kilobytes and
/// rates with one, anything else with up to two.
pub fn format_value(value: f64, unit: &str) -> String {
    let digits = match unit {
        "ms" | "µs" if value.abs() < 10.0 => 2,
        "ms" | "µs" | "KB" | "MB/s" | "MB" => 1,
        _ if value.fract() == 0.0 => 0,
        _ => 2,
    };
    let number = format!("{value:.digits$}");
    if unit.is_empty() {
        number
    } else {
        format!("{number} {unit}")
    }
}

/// The markdown table of `rows`: figure, ConnectIT, floor, ConnectIT ÷ floor, and what
/// the floor is.
pub fn render_table(rows: &[Row]) -> String {
    let mut out = String::from(
        "| figure | ConnectIT | floor | ConnectIT ÷ floor | floor measured as |\n\
         |---|---:|---:|---:|---|\n",
    );
    for row in rows {
        let floor = row
            .floor
            .map(|f| format_value(f, &row.unit))
            .unwrap_or_else(|| "–".into());
        let ratio = row
            .ratio()
            .map(|r| format!("{r:.2}×"))
            .unwrap_or_else(|| "–".into());
        out.push_str(&format!(
            "| {} | {} | {floor} | {ratio} | {} |\n",
            cell(&row.figure),
            format_value(row.connectit, &row.unit),
            cell(&row.floor_is),
        ));
    }
    out
}

/// Text safe inside one markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_is_the_argument_no_option_owns() {
        let args = |list: &[&str]| list.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let slow = args(&["--cpu", "4", "--rows", "r.jsonl", "7"]);
        assert_eq!(runs_argument(&slow, &["--cpu"]), Some("7"));
        assert_eq!(runs_argument(&args(&["--timeline", "5"]), &[]), Some("5"));
        assert_eq!(runs_argument(&args(&["--rows", "9"]), &[]), None);
    }

    #[test]
    fn a_debug_broker_is_named_as_one() {
        let debug = broker_note(Path::new("/w/target/debug/connectit-broker"));
        assert!(debug.contains("a debug build"), "{debug}");
        let server = broker_note(Path::new("/w/target/server/connectit-broker"));
        assert_eq!(server, "broker: /w/target/server/connectit-broker");
    }

    #[test]
    fn rows_round_trip_through_a_file() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let path = dir.path().join("rows.jsonl");
        let first = Row::new("echo, median", "ms", 0.42, 0.21, "bare echo");
        let second = Row {
            figure: "page size".into(),
            unit: "KB".into(),
            connectit: 300.0,
            floor: None,
            floor_is: String::new(),
        };
        append_rows(&path, std::slice::from_ref(&first)).expect("append");
        append_rows(&path, std::slice::from_ref(&second)).expect("append again");
        assert_eq!(read_rows(&path).expect("read"), vec![first, second]);
    }

    #[test]
    fn bad_lines_are_typed_errors_with_their_line() {
        assert!(matches!(
            parse_rows("\n{\"figure\": \"a\", \"connectit\": 1}\nnot json"),
            Err(RowsError::NotJson { line: 3, .. })
        ));
        assert!(matches!(
            parse_rows("{\"connectit\": 1}"),
            Err(RowsError::NotARow { line: 1, .. })
        ));
        assert!(matches!(
            parse_rows("{\"figure\": \"a\", \"connectit\": \"fast\"}"),
            Err(RowsError::NotARow { line: 1, .. })
        ));
        assert!(matches!(
            read_rows(Path::new("/nonexistent/rows.jsonl")),
            Err(RowsError::Io { .. })
        ));
    }

    #[test]
    fn documents_with_other_spellings_are_read() {
        let doc = r#"{"rows": [
            {"name": "sessions held", "value": 5000, "unit": "sessions", "floor": null},
            {"metric": "messages/s", "measured": 1200.5, "floor": 3000, "floor_name": "echo"}
        ]}"#;
        let rows = rows_from_json(doc).expect("rows");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].figure, "sessions held");
        assert_eq!(rows[0].floor, None);
        assert_eq!(rows[1].floor, Some(3000.0));
        assert_eq!(rows[1].floor_is, "echo");
        assert_eq!(rows_from_json("{\"runs\": 3}"), Err(RowsError::NoRows));
        assert_eq!(rows_from_json("[]"), Ok(vec![]));
    }

    #[test]
    fn the_table_shows_values_floors_and_ratios() {
        let rows = vec![
            Row::new("chat | median", "ms", 4.0, 0.5, "echo"),
            Row::new("file rate", "MB/s", 30.0, 60.0, "bare data channel"),
            Row {
                figure: "no floor".into(),
                unit: "".into(),
                connectit: 3.0,
                floor: None,
                floor_is: "".into(),
            },
        ];
        let table = render_table(&rows);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(
            lines[2],
            "| chat \\| median | 4.00 ms | 0.50 ms | 8.00× | echo |"
        );
        assert_eq!(
            lines[3],
            "| file rate | 30.0 MB/s | 60.0 MB/s | 0.50× | bare data channel |"
        );
        assert_eq!(lines[4], "| no floor | 3 | – | – |  |");
    }

    #[test]
    fn values_keep_sensible_digits() {
        assert_eq!(format_value(0.4321, "ms"), "0.43 ms");
        assert_eq!(format_value(123.45, "ms"), "123.5 ms");
        assert_eq!(format_value(1536.04, "KB"), "1536.0 KB");
        assert_eq!(format_value(2.0, "sessions"), "2 sessions");
        assert_eq!(format_value(2.5, ""), "2.50");
    }
}

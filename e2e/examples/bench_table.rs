//! Prints `scripts/bench`'s combined table: the rows every part appended to one file
//! (see `connectit_e2e::bench`), then, when given, the broker capacity figures.
//!
//! ```text
//! bench_table --rows FILE [--capacity-json FILE] [--capacity-text FILE]
//! ```
//!
//! `--capacity-json` is read as rows (an array of row objects, or `{"rows": [...]}`)
//! and merged into the table. When it holds no rows in that shape (or is no JSON at
//! all, which is reported), the markdown table
//! lines (`| … |`) of `--capacity-text` (what the capacity run printed) follow the
//! table instead, under their own heading, so nothing measured is lost.

use std::path::PathBuf;
use std::process::ExitCode;

use connectit_e2e::bench::{read_rows, render_table, rows_from_json};

fn main() -> ExitCode {
    match run() {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("bench_table: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<String, String> {
    let mut rows_file = None;
    let mut capacity_json = None;
    let mut capacity_text = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--rows" => &mut rows_file,
            "--capacity-json" => &mut capacity_json,
            "--capacity-text" => &mut capacity_text,
            other => {
                return Err(format!(
                    "unknown argument {other:?} \
                     (--rows FILE [--capacity-json FILE] [--capacity-text FILE])"
                ))
            }
        };
        let value = args.next().ok_or_else(|| format!("{arg} needs a file"))?;
        *slot = Some(PathBuf::from(value));
    }
    let rows_file = rows_file.ok_or("--rows FILE is required")?;
    let mut rows = read_rows(&rows_file).map_err(|e| format!("{}: {e}", rows_file.display()))?;

    let mut appendix = String::new();
    let capacity_rows = match &capacity_json {
        Some(path) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            match rows_from_json(&text) {
                Ok(found) if !found.is_empty() => Some(found),
                Ok(_) => None,
                Err(e) => {
                    eprintln!(
                        "bench_table: {} holds no rows in the table's shape ({e}); \
                         its printed table follows instead",
                        path.display()
                    );
                    None
                }
            }
        }
        None => None,
    };
    match (capacity_rows, &capacity_text) {
        (Some(found), _) => rows.extend(found),
        (None, Some(path)) => {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let lines: Vec<&str> = text
                .lines()
                .filter(|l| l.trim_start().starts_with('|'))
                .collect();
            if !lines.is_empty() {
                appendix.push_str("\nBroker capacity (as the capacity run printed it):\n\n");
                for line in lines {
                    appendix.push_str(line.trim());
                    appendix.push('\n');
                }
            }
        }
        (None, None) => {}
    }
    Ok(render_table(&rows) + &appendix)
}

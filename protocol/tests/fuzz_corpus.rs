//! Replays every input of the committed fuzz corpus (`fuzz/corpus/<target>/`) through the
//! same checks the fuzz targets run, so the stable toolchain keeps what fuzzing found.

mod fuzz_checks;

use std::path::PathBuf;

fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("a readable corpus folder").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} holds no inputs", dir.display());
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

fn replay(target: &str, check: fn(&[u8])) {
    for (path, bytes) in corpus(target) {
        let outcome = std::panic::catch_unwind(|| check(&bytes));
        assert!(outcome.is_ok(), "{} fails its check", path.display());
    }
}

#[test]
fn client_messages() {
    replay("client_message", fuzz_checks::client_message);
}

#[test]
fn server_messages() {
    replay("server_message", fuzz_checks::server_message);
}

#[test]
fn api_bodies() {
    replay("api_body", fuzz_checks::api_body);
}

#[test]
fn reducer_runs() {
    replay("reducer", fuzz_checks::reducer);
}

#[test]
fn text_rules() {
    replay("text_rules", fuzz_checks::text_rules);
}

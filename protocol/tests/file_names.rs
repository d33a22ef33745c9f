//! Saved file names: cases fuzzing found, kept as they were found.

use connectit_protocol::files::safe_file_name;

/// The name is the same after a second cleaning, and obeys every stated rule.
fn settled(name: &str) -> String {
    let safe = safe_file_name(name);
    assert_eq!(
        safe_file_name(&safe),
        safe,
        "{name:?} -> {safe:?} changes again"
    );
    assert!(!safe.is_empty() && safe.len() <= 255, "{safe:?}");
    assert!(!safe.starts_with('.'), "{safe:?}");
    assert_eq!(safe.trim(), safe, "{safe:?}");
    assert!(!safe.ends_with('.'), "{safe:?}");
    safe
}

#[test]
fn trimming_does_not_uncover_a_leading_dot_or_space() {
    // One pass used to leave " ._u_shrc_": a leading space before a dot.
    assert_eq!(settled(" . .\u{7}u\0shrc\u{7}"), "_u_shrc_");
    assert_eq!(settled(" . .bashrc"), "bashrc");
    assert_eq!(settled(".. .. x .. "), "x");
    assert_eq!(settled("\u{a0}.\u{2003}.profile"), "profile");
}

#[test]
fn cutting_to_255_bytes_leaves_no_dot_or_space_at_the_end() {
    let long = format!("{}. .tail{}", "a".repeat(253), "b".repeat(40));
    assert_eq!(settled(&long), "a".repeat(253));
    let spaced = format!("x{}y", " ".repeat(300));
    assert_eq!(settled(&spaced), "x");
}

#[test]
fn a_device_name_uncovered_by_the_cut_is_still_prefixed() {
    let name = format!("CON{}x", " ".repeat(300));
    assert_eq!(settled(&name), "_CON");
    let name = format!("nul.{}", "t".repeat(260));
    let safe = settled(&name);
    assert!(safe.starts_with("_nul.t"), "{safe}");
    assert_eq!(safe.len(), 255);
}

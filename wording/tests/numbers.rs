//! Numbers as the pages print them, without the standard library's float printing.

use connectit_wording::words::{fixed, short};

#[test]
fn fixed_matches_the_standard_library_away_from_ties() {
    // Values whose next digit is not an exact tie print as `{:.N}` does.
    let mut checked = 0;
    let mut check = |value: f64, digits: u32| {
        let scaled = value.abs() * 10f64.powi(digits as i32);
        if (scaled.fract() - 0.5).abs() < 1e-6 {
            return;
        }
        let d = digits as usize;
        assert_eq!(
            fixed(value, digits),
            format!("{value:.d$}"),
            "{value} to {digits}"
        );
        checked += 1;
    };
    for i in 0..20_000u32 {
        let value = f64::from(i) * 0.0137 + f64::from(i % 7) * 1234.5;
        for digits in 0..4 {
            check(value, digits);
            // (A negative value that rounds to zero prints without a sign: see below.)
            check(-value - 1.01, digits);
        }
    }
    assert!(checked > 150_000, "{checked}");
}

#[test]
fn fixed_rounds_half_away_from_zero_and_names_what_is_not_a_number() {
    assert_eq!(fixed(2.5, 0), "3");
    assert_eq!(fixed(0.25, 1), "0.3");
    assert_eq!(fixed(9.96, 1), "10.0");
    assert_eq!(fixed(-0.04, 1), "0.0");
    assert_eq!(fixed(1.0, 3), "1.000");
    assert_eq!(fixed(0.0005, 3), "0.001");
    assert_eq!(fixed(1e30, 0), u64::MAX.to_string());
    assert_eq!(fixed(f64::NAN, 1), "NaN");
    assert_eq!(fixed(f64::INFINITY, 1), "inf");
    assert_eq!(fixed(f64::NEG_INFINITY, 2), "-inf");
}

#[test]
fn short_drops_trailing_zeros() {
    assert_eq!(short(1.100000023841858, 3), "1.1");
    assert_eq!(short(2.0, 3), "2");
    assert_eq!(short(2.625, 3), "2.625");
    assert_eq!(short(1.0004, 3), "1");
    assert_eq!(short(150.0, 0), "150");
}

//! Small statistics for the timing examples: median and nearest-rank percentiles.

/// The median of `values` (sorts them).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The `p`-th percentile of sorted `values`, by nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let rank = ((p / 100.0 * n as f64).ceil() as usize).clamp(1, n);
    sorted[rank - 1]
}

/// Prints and returns the median and the 95th percentile of `samples` (milliseconds).
pub fn summary(name: &str, samples: &mut [f64]) -> (f64, f64) {
    let median = median(samples);
    let p95 = percentile(samples, 95.0);
    let n = samples.len();
    println!(
        "{name}: median {median:.1} ms, p95 {p95:.1} ms, min {:.1} ms, max {:.1} ms ({n} runs)",
        samples[0],
        samples[n - 1]
    );
    (median, p95)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_and_percentiles() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        let sorted: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&sorted, 95.0), 19.0);
        assert_eq!(percentile(&sorted, 100.0), 20.0);
        assert_eq!(percentile(&[7.0], 95.0), 7.0);
    }
}

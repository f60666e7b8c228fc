//! Medians and ranges of rounds, and sizes in MB. Only `std`: `cargo xtask bench-build`
//! includes this file too.

pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

pub fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

pub fn spread(values: &[f64]) -> (f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (min, max)
}

/// The median, minimum and maximum of `values`.
pub fn summary(values: &[f64]) -> (f64, f64, f64) {
    let (min, max) = spread(values);
    (median(&mut values.to_vec()), min, max)
}

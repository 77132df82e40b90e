//! Summaries of many runs: seed means, errors around a limit, convergence rates.

/// The mean over seeds and its standard error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The sample mean.
    pub mean: f64,
    /// `sd / √k` with the unbiased sample sd over k values; `None` for a single value.
    pub standard_error: Option<f64>,
}

/// The mean ± standard error of `values`; `None` if there are none.
pub fn estimate(values: &[f64]) -> Option<Estimate> {
    if values.is_empty() {
        return None;
    }
    let k = values.len() as f64;
    let mean = values.iter().sum::<f64>() / k;
    let standard_error = (values.len() > 1).then(|| {
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (k - 1.0);
        (variance / k).sqrt()
    });
    Some(Estimate {
        mean,
        standard_error,
    })
}

/// The root-mean-square deviation of `values` from `limit`, `√(Σ (v − limit)² / k)`;
/// `None` if there are no values.
pub fn rms_deviation(values: &[f64], limit: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let k = values.len() as f64;
    Some((values.iter().map(|v| (v - limit).powi(2)).sum::<f64>() / k).sqrt())
}

/// The least-squares slope of log(error) against log(n) over `(n, error)` points: the
/// empirical convergence rate (−1/2 for the O(n^{-1/2}) fluctuations of docs/derivation.md, “The Master Theorem”).
///
/// `None` with fewer than two distinct widths, or if an error is not positive and finite.
pub fn log_log_slope(points: &[(usize, f64)]) -> Option<f64> {
    if points
        .iter()
        .any(|&(n, e)| n == 0 || !(e > 0.0 && e.is_finite()))
    {
        return None;
    }
    let logs: Vec<(f64, f64)> = points
        .iter()
        .map(|&(n, e)| ((n as f64).ln(), e.ln()))
        .collect();
    let k = logs.len() as f64;
    let mx = logs.iter().map(|p| p.0).sum::<f64>() / k;
    let my = logs.iter().map(|p| p.1).sum::<f64>() / k;
    let sxx: f64 = logs.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = logs.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    (sxx > 0.0).then(|| sxy / sxx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_of_known_values() {
        let e = estimate(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(e.mean, 2.5);
        // sd² = 5/3, se = √(5/12).
        assert!((e.standard_error.unwrap() - (5.0f64 / 12.0).sqrt()).abs() < 1e-15);
        assert_eq!(estimate(&[7.0]).unwrap().standard_error, None);
        assert_eq!(estimate(&[]), None);
    }

    #[test]
    fn rms_of_known_values() {
        assert_eq!(rms_deviation(&[1.0, 3.0], 2.0), Some(1.0));
        assert_eq!(rms_deviation(&[], 2.0), None);
    }

    #[test]
    fn slope_of_a_power_law() {
        let points: Vec<(usize, f64)> = [256, 1024, 4096]
            .iter()
            .map(|&n| (n, 3.0 * (n as f64).powf(-0.5)))
            .collect();
        assert!((log_log_slope(&points).unwrap() + 0.5).abs() < 1e-12);
        assert_eq!(log_log_slope(&[(256, 1.0)]), None);
        assert_eq!(log_log_slope(&[(256, 1.0), (256, 2.0)]), None);
        assert_eq!(log_log_slope(&[(256, 1.0), (1024, 0.0)]), None);
    }
}

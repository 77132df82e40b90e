//! `fit`: the exponent of each quantity's growth with width.

use super::quantities::seed_mean;
use super::Measure;
use crate::simulate::stats::log_log_slope;
use serde::Serialize;

/// A size below this fraction of the magnitude of its intermediate results (see
/// [`Measurements::magnitudes`](super::Measurements::magnitudes)) is rounding noise. A
/// coordinatewise operation is exact to a few ε ≈ 1e-16 of those magnitudes and an average
/// of n terms to at most n/8 ε (eight accumulators), 6e-14 at n = 4096; the threshold leaves
/// a margin of 100 over that, and a value below it has no correct digit anyway.
pub const ROUNDING: f64 = 1e-11;

/// How a quantity's size depends on the width.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "fit", rename_all = "snake_case")]
pub enum Fit {
    /// Zero to rounding at every width: no power of n to fit.
    Zero,
    /// `size ≈ C n^slope`: the least-squares slope of log size against log n.
    Slope {
        /// The fitted exponent.
        slope: f64,
        /// Its jackknife standard error over seeds; `None` with a single seed.
        standard_error: Option<f64>,
    },
    /// No slope: fewer than two distinct widths, or a size of exactly 0 at some widths only.
    Undetermined,
}

/// Fits `size ∝ n^slope` to one quantity.
///
/// `values[w]` holds the quantity's per-seed values at width `widths[w]` (coordinate RMS
/// or output value, as `measure` says) and `magnitudes[w]` the per-seed magnitudes of its
/// intermediate results. The size at a width is the seed mean (of |value| for outputs). The
/// quantity is [`Fit::Zero`] if at every width its size is at most [`ROUNDING`] times the
/// seed mean of its magnitudes. Otherwise the slope is [`log_log_slope`] of the sizes, and
/// its standard error the delete-one jackknife over seeds: with θ₋ₛ the slope of the sizes
/// without seed s, k seeds and θ̄ their mean, `se = √((k−1)/k Σ (θ₋ₛ − θ̄)²)`. Being
/// deterministic, it keeps reports reproducible.
pub fn fit(
    widths: &[usize],
    values: &[Vec<f64>],
    magnitudes: &[Vec<f64>],
    measure: Measure,
) -> Fit {
    let sizes = |skip: Option<usize>| -> Vec<(usize, f64)> {
        widths
            .iter()
            .zip(values)
            .map(|(&n, v)| (n, seed_mean(v, measure, skip)))
            .collect()
    };
    let all = sizes(None);
    if all
        .iter()
        .zip(magnitudes)
        .all(|(&(_, size), m)| size <= ROUNDING * seed_mean(m, Measure::CoordinateRms, None))
    {
        return Fit::Zero;
    }
    let Some(slope) = log_log_slope(&all) else {
        return Fit::Undetermined;
    };
    let seeds = values.iter().map(Vec::len).min().unwrap_or(0);
    let standard_error = (seeds > 1).then(|| jackknife(seeds, |s| log_log_slope(&sizes(Some(s)))));
    Fit::Slope {
        slope,
        standard_error: standard_error.flatten(),
    }
}

/// The delete-one jackknife standard error of a statistic, given its value without each of
/// `k` seeds; `None` if any of those is undefined.
fn jackknife(k: usize, without: impl Fn(usize) -> Option<f64>) -> Option<f64> {
    let thetas: Vec<f64> = (0..k).map(without).collect::<Option<_>>()?;
    let kf = k as f64;
    let mean = thetas.iter().sum::<f64>() / kf;
    let spread: f64 = thetas.iter().map(|t| (t - mean).powi(2)).sum();
    Some(((kf - 1.0) / kf * spread).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    const WIDTHS: [usize; 3] = [100, 400, 1600];

    /// Magnitudes of 1 for `seeds` seeds at every width.
    fn ones(seeds: usize) -> Vec<Vec<f64>> {
        vec![vec![1.0; seeds]; WIDTHS.len()]
    }

    #[test]
    fn an_exact_power_has_its_slope_and_no_spread() {
        let values: Vec<Vec<f64>> = WIDTHS
            .iter()
            .map(|&n| vec![2.0 * (n as f64).powf(-0.5); 3])
            .collect();
        let Fit::Slope {
            slope,
            standard_error,
        } = fit(&WIDTHS, &values, &ones(2), Measure::CoordinateRms)
        else {
            panic!("a slope")
        };
        assert!((slope + 0.5).abs() < 1e-12);
        assert!(standard_error.unwrap() < 1e-12);
    }

    #[test]
    fn the_jackknife_matches_the_mean_of_a_sample() {
        // For the mean of k values the jackknife se equals the usual sd/√k.
        let x = [1.0, 2.0, 4.0, 7.0];
        let without = |s: usize| {
            let rest: Vec<f64> = (0..4).filter(|&i| i != s).map(|i| x[i]).collect();
            Some(rest.iter().sum::<f64>() / 3.0)
        };
        let usual = crate::simulate::stats::estimate(&x)
            .unwrap()
            .standard_error
            .unwrap();
        assert!((jackknife(4, without).unwrap() - usual).abs() < 1e-12);
    }

    #[test]
    fn seed_scatter_gives_a_standard_error() {
        // Seed 0 grows like n^0, seed 1 like n^1: the fitted slope lies between; the
        // slopes without one seed are 1 and 0, so the jackknife se is √(1/2 · 1/2) = 1/2.
        let values: Vec<Vec<f64>> = WIDTHS.iter().map(|&n| vec![1.0, n as f64]).collect();
        let Fit::Slope {
            slope,
            standard_error,
        } = fit(&WIDTHS, &values, &ones(2), Measure::Value)
        else {
            panic!("a slope")
        };
        assert!(slope > 0.9 && slope < 1.0, "{slope}");
        assert!(
            (standard_error.unwrap() - 0.5).abs() < 1e-9,
            "{standard_error:?}"
        );
        let single: Vec<Vec<f64>> = values.iter().map(|v| v[..1].to_vec()).collect();
        assert!(matches!(
            fit(&WIDTHS, &single, &ones(1), Measure::Value),
            Fit::Slope {
                standard_error: None,
                ..
            }
        ));
    }

    #[test]
    fn rounding_noise_is_zero_and_signs_do_not_matter() {
        let noise: Vec<Vec<f64>> = WIDTHS.iter().map(|_| vec![1e-16, -3e-17]).collect();
        assert_eq!(fit(&WIDTHS, &noise, &ones(2), Measure::Value), Fit::Zero);
        // The same values are not noise if they come from terms of size 1e-6.
        let tiny = vec![vec![1e-6; 2]; 3];
        assert!(matches!(
            fit(&WIDTHS, &noise, &tiny, Measure::Value),
            Fit::Slope { .. }
        ));
        let exact_zero: Vec<Vec<f64>> = WIDTHS.iter().map(|_| vec![0.0]).collect();
        let zeros = exact_zero.clone();
        assert_eq!(
            fit(&WIDTHS, &exact_zero, &zeros, Measure::CoordinateRms),
            Fit::Zero
        );
    }

    #[test]
    fn a_slope_needs_two_widths_and_positive_sizes() {
        assert_eq!(
            fit(&[100], &[vec![1.0]], &[vec![1.0]], Measure::Value),
            Fit::Undetermined
        );
        let partly_zero = vec![vec![0.0], vec![1.0], vec![2.0]];
        assert_eq!(
            fit(&WIDTHS, &partly_zero, &ones(1), Measure::Value),
            Fit::Undetermined
        );
    }
}

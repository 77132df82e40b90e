//! Seeded Monte Carlo for `E f(x)`, `x ~ N(mean, A Aᵀ)`, in any dimension, with the standard
//! error `sd/√M` (docs/evaluation.md).
//!
//! Reproducible regardless of the thread count: the samples are cut into fixed chunks, chunk
//! `c` draws from `ChaCha8Rng` seeded with the seed and set to stream `c`, and the per-chunk
//! statistics are combined in chunk order.

use super::gaussian::{Estimate, Gaussian};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use std::sync::Mutex;

/// Settings of [`expectation`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MonteCarloOptions {
    /// Number of integrand evaluations `M` (at least 2; rounded up to even with antithetic
    /// variates). Default 10^6.
    pub samples: usize,
    /// Seed of the random streams (default 0).
    pub seed: u64,
    /// Average `f(mean + Aξ)` and `f(mean − Aξ)` per draw (default off): exact for the odd part
    /// of `f` about the mean, useless for its even part.
    pub antithetic: bool,
    /// Draws per chunk, the unit of parallel work and of progress reports (default 2^14).
    /// Changing it changes the random numbers; the thread count does not.
    pub chunk_size: usize,
}

impl Default for MonteCarloOptions {
    fn default() -> Self {
        MonteCarloOptions {
            samples: 1_000_000,
            seed: 0,
            antithetic: false,
            chunk_size: 1 << 14,
        }
    }
}

/// A Monte Carlo estimate with a diagnostic of its tail.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sampled {
    /// The mean and its standard error.
    pub estimate: Estimate,
    /// The largest share of the sum of squared deviations carried by one draw. About
    /// `2 ln M / M` for a Gaussian-tailed integrand; of order one when the variance is infinite
    /// (a heavy tail or an unresolved singularity), where the standard error means little.
    pub largest_share: f64,
}

/// Count, mean, sum of squared deviations and range of a set of draws (Welford; merged by
/// Chan et al.).
#[derive(Clone, Copy)]
struct Moments {
    count: f64,
    mean: f64,
    m2: f64,
    low: f64,
    high: f64,
}

impl Moments {
    const EMPTY: Moments = Moments {
        count: 0.0,
        mean: 0.0,
        m2: 0.0,
        low: f64::INFINITY,
        high: f64::NEG_INFINITY,
    };

    fn push(&mut self, y: f64) {
        self.low = self.low.min(y);
        self.high = self.high.max(y);
        self.count += 1.0;
        let delta = y - self.mean;
        self.mean += delta / self.count;
        self.m2 += delta * (y - self.mean);
    }

    fn merge(self, other: Moments) -> Moments {
        let count = self.count + other.count;
        if count == 0.0 {
            return self;
        }
        let delta = other.mean - self.mean;
        Moments {
            count,
            mean: self.mean + delta * other.count / count,
            m2: self.m2 + other.m2 + delta * delta * self.count * other.count / count,
            low: self.low.min(other.low),
            high: self.high.max(other.high),
        }
    }
}

/// `E f(x)` by the mean of seeded draws; `error` is the standard error `sd/√M` over the
/// independent draws (pairs, with antithetic variates), `evaluations` the calls of `f`; with
/// the largest share of the variance one draw carries.
///
/// `progress(done, total)` is called after each chunk with evaluations done so far (calls are
/// serialized and `done` increases; they come from worker threads).
pub fn expectation<F>(
    gaussian: &Gaussian,
    f: &F,
    options: &MonteCarloOptions,
    progress: Option<&(dyn Fn(usize, usize) + Sync)>,
) -> Sampled
where
    F: Fn(&[f64]) -> f64 + Sync + ?Sized,
{
    let per_draw = if options.antithetic { 2 } else { 1 };
    let draws = options.samples.div_ceil(per_draw).max(2);
    let total = draws * per_draw;
    let chunk = options.chunk_size.max(1);
    let chunks = draws.div_ceil(chunk);
    let done = Mutex::new(0usize);
    let (k, r) = (gaussian.dim(), gaussian.rank());
    let run_chunk = |c: usize| -> Moments {
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        rng.set_stream(c as u64);
        let count = chunk.min(draws - c * chunk);
        let mut xi = vec![0.0; r];
        let mut x = vec![0.0; k];
        let mut moments = Moments::EMPTY;
        for _ in 0..count {
            for z in xi.iter_mut() {
                *z = rng.sample(StandardNormal);
            }
            gaussian.point(&xi, &mut x);
            let mut y = f(&x);
            if options.antithetic {
                for (xj, m) in x.iter_mut().zip(gaussian.mean()) {
                    *xj = 2.0 * m - *xj;
                }
                y = 0.5 * (y + f(&x));
            }
            moments.push(y);
        }
        if let Some(report) = progress {
            let mut done = done.lock().unwrap_or_else(|e| e.into_inner());
            *done += count * per_draw;
            report(*done, total);
        }
        moments
    };
    let parts: Vec<Moments> = (0..chunks).into_par_iter().map(run_chunk).collect();
    let all = parts.into_iter().fold(Moments::EMPTY, Moments::merge);
    let variance = all.m2 / (all.count - 1.0);
    let widest = (all.high - all.mean)
        .powi(2)
        .max((all.low - all.mean).powi(2));
    Sampled {
        estimate: Estimate {
            value: all.mean,
            error: (variance / all.count).sqrt(),
            evaluations: total,
        },
        largest_share: if all.m2 > 0.0 { widest / all.m2 } else { 0.0 },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::closed_form;
    use crate::eval::quadrature::{self, QuadratureOptions};
    use ndarray::array;

    /// An integrand, its exact expectation, and the spec's standard error at M = 10^6.
    type Case<'a> = (&'a (dyn Fn(&[f64]) -> f64 + Sync), f64, f64);

    fn pair() -> Gaussian {
        Gaussian::new(vec![0.0, 0.0], &array![[1.0, 0.9], [0.9, 2.25]]).unwrap()
    }

    /// §7.3: with M = 10^6 the three integrals lie within 4 standard errors of their exact
    /// values (a 4σ band fails with probability 6e-5 per case; the seed is fixed anyway), and
    /// the standard errors match the spec's (1.3e-3, 4.8e-4, 4.2e-4) within 10%.
    #[test]
    fn estimates_lie_within_four_standard_errors() {
        let g = pair();
        let step = |x: f64| if x > 0.0 { 1.0 } else { 0.0 };
        let tanh = |x: &[f64]| x[0].tanh() * x[1].tanh();
        let tanh_exact = quadrature::expectation(&g, &tanh, &QuadratureOptions::default())
            .unwrap()
            .value;
        let cases: [Case; 3] = [
            (
                &|x| x[0].max(0.0) * x[1].max(0.0),
                closed_form::relu_relu(1.0, 2.25, 0.9),
                1.3e-3,
            ),
            (
                &|x| step(x[0]) * step(x[1]),
                closed_form::step_step(1.0, 2.25, 0.9),
                4.8e-4,
            ),
            (&tanh, tanh_exact, 4.2e-4),
        ];
        for (f, exact, se) in cases {
            let est = expectation(&g, f, &MonteCarloOptions::default(), None).estimate;
            assert_eq!(est.evaluations, 1_000_000);
            assert!(
                (est.value - exact).abs() < 4.0 * est.error,
                "{est:?} vs {exact}"
            );
            assert!(
                (est.error / se - 1.0).abs() < 0.1,
                "se {} vs {se}",
                est.error
            );
        }
    }

    /// Bit-identical on one thread and on three; a different seed gives different draws.
    #[test]
    fn is_reproducible_across_thread_counts() {
        let g = Gaussian::new(vec![0.0; 4], &ndarray::Array2::eye(4)).unwrap();
        let f = |x: &[f64]| (x[0] + x[1]).tanh() * (x[2] - x[3]).tanh();
        let options = MonteCarloOptions {
            samples: 50_000,
            chunk_size: 1000,
            ..Default::default()
        };
        let run = |threads, seed| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    expectation(&g, &f, &MonteCarloOptions { seed, ..options }, None).estimate
                })
        };
        assert_eq!(run(1, 7), run(3, 7));
        assert_ne!(run(1, 7).value, run(1, 8).value);
    }

    /// Antithetic variates on E relu(u + 0.3) (exact closed form): within 4 standard errors,
    /// with a smaller standard error than plain sampling at equal evaluations (the odd part u/2
    /// of relu is integrated exactly).
    #[test]
    fn antithetic_variates_reduce_the_error() {
        let g = Gaussian::new(vec![0.3], &array![[1.0]]).unwrap();
        let f = |x: &[f64]| x[0].max(0.0);
        let exact = closed_form::relu_mean(0.3, 1.0);
        let plain = expectation(
            &g,
            &f,
            &MonteCarloOptions {
                samples: 100_000,
                ..Default::default()
            },
            None,
        )
        .estimate;
        let options = MonteCarloOptions {
            samples: 100_000,
            antithetic: true,
            ..Default::default()
        };
        let anti = expectation(&g, &f, &options, None).estimate;
        assert_eq!(anti.evaluations, 100_000);
        assert!((anti.value - exact).abs() < 4.0 * anti.error);
        assert!(
            anti.error < 0.7 * plain.error,
            "{} vs {}",
            anti.error,
            plain.error
        );
    }

    /// Progress reports cover every evaluation, in increasing order, ending at the total.
    #[test]
    fn reports_progress() {
        let calls = Mutex::new(Vec::new());
        let report = |done, total| calls.lock().unwrap().push((done, total));
        let options = MonteCarloOptions {
            samples: 10_001,
            chunk_size: 1000,
            ..Default::default()
        };
        let est = expectation(&pair(), &|x: &[f64]| x[0], &options, Some(&report)).estimate;
        let calls = calls.into_inner().unwrap();
        assert_eq!(calls.len(), 11);
        assert!(calls.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(calls.last(), Some(&(10_001, 10_001)));
        assert_eq!(est.evaluations, 10_001);
        // A point mass: every draw equal, zero standard error.
        let point = Gaussian::new(vec![2.0], &array![[0.0]]).unwrap();
        let est = expectation(
            &point,
            &|x: &[f64]| x[0],
            &MonteCarloOptions {
                samples: 10,
                ..Default::default()
            },
            None,
        )
        .estimate;
        assert_eq!((est.value, est.error), (2.0, 0.0));
    }

    /// The tail diagnostic: small for a Gaussian integrand (about 2 ln M / M), of order one for
    /// `|x|^(-3/4)`, whose variance is infinite.
    #[test]
    fn a_heavy_tail_shows_in_the_largest_share() {
        let g = Gaussian::new(vec![0.0], &array![[1.0]]).unwrap();
        let options = MonteCarloOptions {
            samples: 100_000,
            ..Default::default()
        };
        let light = expectation(&g, &|x: &[f64]| x[0], &options, None);
        assert!(light.largest_share < 1e-3, "{light:?}");
        let heavy = expectation(&g, &|x: &[f64]| x[0].abs().powf(-0.75), &options, None);
        assert!(heavy.largest_share > 0.05, "{heavy:?}");
    }
}

//! `simulate_many`: many seeds at several widths, in parallel.

use super::{simulate, SimulationError};
use crate::ir::Program;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The outputs of runs at several widths and seeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Runs {
    /// The widths, as requested.
    pub widths: Vec<usize>,
    /// The seed of each run, the same at every width: `base_seed + s` for s = 0, 1, ….
    pub seeds: Vec<u64>,
    /// `values[w][s][o]`: output `o` (in `Program::outputs` order) of the run at width
    /// `widths[w]` with seed `seeds[s]`.
    pub values: Vec<Vec<Vec<f64>>>,
}

impl Runs {
    /// Output `output` at width `widths[width]`, one value per seed.
    pub fn output(&self, width: usize, output: usize) -> Vec<f64> {
        self.values[width].iter().map(|run| run[output]).collect()
    }
}

/// Runs [`simulate`] for every width in `widths` and every seed `base_seed + s`,
/// `s < seeds`, in parallel on the current rayon pool.
///
/// Results are bit-identical whatever the number of threads. `progress(done, total)` is
/// called after each finished run, from the worker threads, so calls may arrive out of order;
/// `total` is `widths.len() * seeds`. Memory: one run's peak (see [`simulate`]) per thread.
///
/// On failure, returns the error of the first failing run in (width, seed) order, and skips
/// the runs after it that have not started.
pub fn simulate_many(
    program: &Program,
    widths: &[usize],
    seeds: usize,
    base_seed: u64,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Runs, SimulationError> {
    let seed_values: Vec<u64> = (0..seeds as u64)
        .map(|s| base_seed.wrapping_add(s))
        .collect();
    let total = widths.len() * seeds;
    let done = AtomicUsize::new(0);
    let first_failure = AtomicUsize::new(usize::MAX);
    let results: Vec<Option<Result<Vec<f64>, SimulationError>>> = (0..total)
        .into_par_iter()
        .map(|job| {
            if job > first_failure.load(Ordering::Relaxed) {
                return None;
            }
            let result = simulate(program, widths[job / seeds], seed_values[job % seeds])
                .map(|sample| sample.outputs());
            if result.is_err() {
                first_failure.fetch_min(job, Ordering::Relaxed);
            }
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            Some(result)
        })
        .collect();
    // Every job before the first failure ran, so the first error in order is the first failure.
    let mut outputs = Vec::with_capacity(total);
    for result in results.into_iter().flatten() {
        outputs.push(result?);
    }
    let values = if seeds == 0 {
        vec![Vec::new(); widths.len()]
    } else {
        outputs.chunks(seeds).map(<[_]>::to_vec).collect()
    };
    Ok(Runs {
        widths: widths.to_vec(),
        seeds: seed_values,
        values,
    })
}

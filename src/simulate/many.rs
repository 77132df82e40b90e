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
    let (seeds, values) = run_many(widths, seeds, base_seed, progress, |width, seed| {
        simulate(program, width, seed).map(|sample| sample.outputs())
    })?;
    Ok(Runs {
        widths: widths.to_vec(),
        seeds,
        values,
    })
}

/// Runs `job(width, seed)` for every width in `widths` and every seed `base_seed + s`,
/// `s < seeds`, in parallel on the current rayon pool, as [`simulate_many`] does (same
/// progress calls, same failure rule); returns the seeds and `results[w][s]`.
pub(crate) fn run_many<T: Send>(
    widths: &[usize],
    seeds: usize,
    base_seed: u64,
    progress: &(dyn Fn(usize, usize) + Sync),
    job: impl Fn(usize, u64) -> Result<T, SimulationError> + Sync,
) -> Result<(Vec<u64>, Vec<Vec<T>>), SimulationError> {
    let seed_values: Vec<u64> = (0..seeds as u64)
        .map(|s| base_seed.wrapping_add(s))
        .collect();
    let total = widths.len() * seeds;
    let done = AtomicUsize::new(0);
    let first_failure = AtomicUsize::new(usize::MAX);
    let results: Vec<Option<Result<T, SimulationError>>> = (0..total)
        .into_par_iter()
        .map(|index| {
            if index > first_failure.load(Ordering::Relaxed) {
                return None;
            }
            let result = job(widths[index / seeds], seed_values[index % seeds]);
            if result.is_err() {
                first_failure.fetch_min(index, Ordering::Relaxed);
            }
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            Some(result)
        })
        .collect();
    // Every job before the first failure ran, so the first error in order is the first failure.
    let mut by_width: Vec<Vec<T>> = widths.iter().map(|_| Vec::with_capacity(seeds)).collect();
    for (index, result) in results.into_iter().flatten().enumerate() {
        by_width[index / seeds].push(result?);
    }
    Ok((seed_values, by_width))
}

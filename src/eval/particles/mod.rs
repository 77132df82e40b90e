//! Particle evaluation: the limit of a program with many Gaussian atoms (a network trained
//! for many steps) by sampling its atoms jointly (docs/evaluation.md, "Particles").
//!
//! Every atom is a column of `S` particles, drawn in program order: an initial group from
//! its given law, a ZHat atom conditionally on the earlier atoms of its family with the
//! covariance `σ² E[Z^x Z^y]` computed from the particles themselves ([`family`]). Every Z
//! and every derivative `∂Z/∂Ẑ` that derivation produced is a column computed by a batched
//! tape ([`batch`]); every Moment, Gram entry and Ż coefficient `E[∂Z/∂Ẑ]` is a particle
//! mean and feeds forward as a number; Stein-form coefficients solve `Gram⁺ b` with the
//! particles' Gram. The schedule ([`schedule`]) frees each column after its last use.
//!
//! `R` replicas, each from its own random streams, give the value (their mean) and its
//! error bar (their standard error). Time is `O(R · S · N)` for `N` expression nodes
//! evaluated, memory `8 · S · (peak live columns)` bytes per replica running at once.

mod batch;
mod dimension;
mod existence;
mod family;
mod noise;
mod replica;
mod schedule;

pub use dimension::beyond_quadrature;

use super::{EvalError, EvalOptions, Evaluation, Method, Note, Progress, Used, Value};
use crate::limit::{Limit, ScalarDefinition};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Under `--method auto`, the options to evaluate a program by particles and a note saying
/// why, when one of its expectations is an integral in more dimensions than quadrature takes
/// ([`beyond_quadrature`]); `None` otherwise. `program` is lowered with parallel index spaces
/// (by representatives, whose integrals are those of every member) and `limit` derived from
/// it.
pub fn auto_switch(
    program: &crate::ir::Program,
    limit: &Limit,
    options: &EvalOptions,
) -> Option<(EvalOptions, Note)> {
    if options.method != Method::Auto {
        return None;
    }
    // The array path multiplies integrands out further than the scalar evaluator.
    let max_terms = match program.parallel {
        Some(_) => crate::eval::family::ARRAY_MAX_TERMS,
        None => crate::eval::expand::MAX_TERMS,
    };
    beyond_quadrature(limit, options.max_dim, max_terms).map(|(dimension, name)| {
        let note = Note::new(
            "the program",
            format!(
                "evaluated by particles, because an expectation of {name} is \
                     {dimension}-dimensional, above the quadrature limit of {}",
                options.max_dim
            ),
        );
        let particles = EvalOptions {
            method: Method::Particles,
            ..options.clone()
        };
        (particles, note)
    })
}

/// Evaluates every limit scalar of `limit` by `options.replicas` replicas of
/// `options.particles` particles (seeded by `options.seed`; at least 2 replicas, which the
/// error bar needs).
///
/// Every value is the mean over replicas and its error the standard error of that mean.
/// The result depends on the seed, `S` and `R` only, not on the number of threads. Fails
/// with [`EvalError::Memory`] before allocating when the columns would exceed
/// `options.max_memory` bytes.
pub fn evaluate(
    limit: &Limit,
    options: &EvalOptions,
    progress: Progress,
) -> Result<Evaluation, EvalError> {
    let replicas = options.replicas.max(2);
    let schedule = schedule::build(limit);
    let work = schedule.work();
    let asked = options.particles.max(1);
    let particles = match options.fit_particles {
        true => fitted_particles(asked, replicas, work),
        false => asked,
    };
    let at_once = replicas.min(rayon::current_num_threads().max(1));
    let needed = schedule
        .peak_columns
        .saturating_mul(particles)
        .saturating_mul(8)
        .saturating_mul(at_once);
    if needed > options.max_memory {
        return Err(EvalError::Memory {
            needed,
            limit: options.max_memory,
            columns: schedule.peak_columns,
            particles,
            at_once,
        });
    }
    let total = schedule.steps.len() * replicas;
    let done = AtomicUsize::new(0);
    let every = (total / 200).max(1);
    let step_done = || {
        let d = done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(report) = progress {
            if d % every == 0 || d == total {
                report(d, total);
            }
        }
    };
    let noise = noise::Noise::new(options.quasi_random, limit.atoms.len());
    let run = replica::Run {
        limit,
        schedule: &schedule,
        particles,
        seed: options.seed,
        noise: &noise,
        step_done: &step_done,
    };
    let results: Vec<Result<Vec<f64>, EvalError>> = (0..replicas)
        .into_par_iter()
        .map(|r| run.replica(r))
        .collect();
    let runs: Vec<Vec<f64>> = results.into_iter().collect::<Result<_, _>>()?;
    let scalars = (0..limit.scalars.len())
        .map(|k| {
            let given = matches!(limit.scalars[k].definition, ScalarDefinition::Given(_));
            combine(runs.iter().map(|r| r[k]), given)
        })
        .collect();
    let points = if noise.is_quasi() {
        "quasi-random particles (a digitally shifted Sobol' sequence)"
    } else {
        "particles"
    };
    let mut notes = vec![Note::new(
        "the program",
        format!(
            "evaluated by particles: {replicas} replicas of {particles} {points}; the ± is \
             the standard error over replicas"
        ),
    )];
    if particles < asked {
        notes.push(Note::new(
            "the program",
            format!(
                "{particles} particles per replica rather than {asked}: at {work} operations \
                 per particle, more would take minutes; `--particles S` chooses S"
            ),
        ));
    }
    Ok(Evaluation { scalars, notes })
}

/// The most work (particles × replicas × operations per particle, [`EvalOptions::fit_particles`])
/// an evaluation with the default number of particles is given: about a minute on two cores.
/// A depth-2 μP tanh MLP after 10 training steps (6,067 operations per particle) keeps 32768
/// particles; after 100 steps (1.7 million) it gets 2048.
pub const PARTICLE_WORK_BUDGET: usize = 1 << 35;

/// The fewest particles per replica [`EvalOptions::fit_particles`] lowers to.
pub const MIN_FITTED_PARTICLES: usize = 1024;

/// `asked` particles per replica, halved while the work of `replicas` replicas at `work`
/// operations per particle exceeds [`PARTICLE_WORK_BUDGET`], but not below
/// [`MIN_FITTED_PARTICLES`] (nor raised to it).
fn fitted_particles(asked: usize, replicas: usize, work: usize) -> usize {
    let mut particles = asked;
    while particles / 2 >= MIN_FITTED_PARTICLES
        && particles.saturating_mul(replicas).saturating_mul(work) > PARTICLE_WORK_BUDGET
    {
        particles /= 2;
    }
    particles
}

/// The mean of the replicas' values and its standard error; a value every replica agrees on
/// exactly (it depends on given numbers only) is exact.
fn combine(values: impl Iterator<Item = f64>, given: bool) -> Value {
    let values: Vec<f64> = values.collect();
    let r = values.len() as f64;
    let mean = values.iter().sum::<f64>() / r;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (r - 1.0);
    let same = values.iter().all(|v| v.to_bits() == values[0].to_bits());
    let method = match (given, same) {
        (true, _) => Used::Given,
        (false, true) => Used::Exact,
        (false, false) => Used::Particles,
    };
    Value {
        value: if same { values[0] } else { mean },
        error: if same { 0.0 } else { (variance / r).sqrt() },
        method,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_particles_are_halved_to_the_work_budget() {
        // 10 training steps of the depth-2 μP tanh MLP (6,067 operations per particle):
        // within the budget, kept.
        assert_eq!(fitted_particles(1 << 15, 8, 6067), 1 << 15);
        // 100 steps (1.7 million): 2048 is the largest power-of-two fraction within it.
        assert_eq!(fitted_particles(1 << 15, 8, 1_735_972), 2048);
        // Never below the floor, whatever the work; never raised to it.
        assert_eq!(
            fitted_particles(1 << 15, 8, usize::MAX),
            MIN_FITTED_PARTICLES
        );
        assert_eq!(fitted_particles(100, 8, usize::MAX), 100);
    }
}

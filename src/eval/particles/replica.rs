//! One replica of a particle evaluation: the schedule run on `S` particles from one seed.

use super::existence::Laws;
use super::family::FamilyFactor;
use super::noise::Noise;
use super::schedule::{scalar_context, Schedule, Step};
use crate::eval::gaussian::Gaussian;
use crate::eval::EvalError;
use crate::limit::{Limit, ScalarDefinition, SteinRhs};
use crate::symbolic::AtomId;
use rustc_hash::FxHashMap;

/// What a replica needs besides the schedule.
pub(super) struct Run<'a> {
    /// The limit.
    pub limit: &'a Limit,
    /// Its schedule.
    pub schedule: &'a Schedule,
    /// Particles `S`.
    pub particles: usize,
    /// The user's seed.
    pub seed: u64,
    /// Pseudo- or quasi-random noise.
    pub noise: &'a Noise,
    /// Called after every step.
    pub step_done: &'a (dyn Fn() + Sync),
}

impl Run<'_> {
    /// The value of every limit scalar in replica `replica`.
    pub(super) fn replica(&self, replica: usize) -> Result<Vec<f64>, EvalError> {
        let limit = self.limit;
        let s = self.particles;
        let mut store: Vec<Option<Vec<f64>>> = vec![None; self.schedule.slots];
        let mut scalars = vec![f64::NAN; limit.scalars.len()];
        let mut gram: FxHashMap<(AtomId, AtomId), f64> = FxHashMap::default();
        let mut factors: Vec<FamilyFactor> = limit
            .families
            .iter()
            .map(|f| FamilyFactor::new(f.sigma2))
            .collect();
        let mut solves: FxHashMap<usize, Vec<f64>> = FxHashMap::default();
        // The first replica checks that every expectation it estimates exists.
        let mut laws = (replica == 0).then(Laws::default);
        let mut scratch = Vec::new();
        let mut tape_scratch = Vec::new();
        let mut deterministic = |tape: &super::batch::BatchTape, scalars: &[f64]| {
            tape.deterministic_values(scalars, &mut tape_scratch)
        };
        for (i, step) in self.schedule.steps.iter().enumerate() {
            match step {
                Step::Initial {
                    slots,
                    atoms,
                    mean,
                    covariance,
                    span,
                    name,
                } => {
                    if let Some(laws) = laws.as_mut() {
                        laws.add_group(atoms, mean, covariance);
                    }
                    let k = atoms.len();
                    let matrix =
                        ndarray::Array2::from_shape_vec((k, k), covariance.clone()).expect("k × k");
                    let law = Gaussian::new(mean.clone(), &matrix).map_err(|e| {
                        EvalError::Covariance {
                            name: name.clone(),
                            span: *span,
                            message: e.to_string(),
                        }
                    })?;
                    let xi: Vec<Vec<f64>> = (0..law.rank())
                        .map(|c| self.noise.column(self.seed, replica, atoms[c], s))
                        .collect();
                    for (row, &slot) in slots.iter().enumerate() {
                        let mut column = vec![law.mean()[row]; s];
                        for (c, x) in xi.iter().enumerate() {
                            let a = law.factor()[[row, c]];
                            column.iter_mut().zip(x).for_each(|(y, x)| *y += a * x);
                        }
                        store[slot] = Some(column);
                    }
                }
                Step::Gram { a, b, tape } => {
                    let values = deterministic(tape, &scalars);
                    let mean = tape.eval(&store, &values, s, &mut scratch, None) / s as f64;
                    if !mean.is_finite() {
                        let instruction = limit.atoms[a.0 as usize].instruction;
                        return Err(EvalError::NotFinite {
                            name: format!("the ZHat covariance of {}", limit.names[instruction]),
                            span: span_of(limit, instruction),
                            value: mean,
                        });
                    }
                    gram.insert((*a, *b), mean);
                    gram.insert((*b, *a), mean);
                }
                Step::Hat {
                    family,
                    atom,
                    slot,
                    noise: noise_slot,
                    earlier,
                } => {
                    let f = &limit.families[*family];
                    let row: Vec<f64> = f.atoms[..=earlier.len()]
                        .iter()
                        .map(|b| gram[&(*atom, *b)])
                        .collect();
                    let weights = factors[*family].push(&row);
                    let fresh = self.noise.column(self.seed, replica, *atom, s);
                    let mut column: Vec<f64> =
                        fresh.iter().map(|x| weights[earlier.len()] * x).collect();
                    for (w, &e) in weights.iter().zip(earlier) {
                        if *w != 0.0 {
                            let xi = store[e].as_ref().expect("a live noise column");
                            column.iter_mut().zip(xi).for_each(|(y, x)| *y += w * x);
                        }
                    }
                    store[*slot] = Some(column);
                    store[*noise_slot] = Some(fresh);
                }
                Step::Node { slot, tape } => {
                    let values = deterministic(tape, &scalars);
                    let mut column = vec![0.0; s];
                    tape.eval(&store, &values, s, &mut scratch, Some(&mut column));
                    store[*slot] = Some(column);
                }
                Step::Scalar { scalar, tape } => {
                    let definition = limit.scalars[scalar.0 as usize].definition;
                    if let (Some(laws), ScalarDefinition::Expectation(e)) = (&laws, definition) {
                        let (name, instruction) = scalar_context(limit, *scalar);
                        let context = (name, span_of(limit, instruction));
                        laws.check(limit, e, &gram, &scalars, context)?;
                    }
                    let value = match (definition, tape) {
                        (_, Some(tape)) => {
                            let values = deterministic(tape, &scalars);
                            tape.eval(&store, &values, s, &mut scratch, None) / s as f64
                        }
                        (ScalarDefinition::Given(v), None) => v,
                        (
                            ScalarDefinition::Deterministic(e) | ScalarDefinition::Expectation(e),
                            None,
                        ) => limit.arena.eval(e, |_| f64::NAN, |k| scalars[k.0 as usize]),
                        (ScalarDefinition::SteinSolution { solve, index }, None) => {
                            let c = solves
                                .entry(solve)
                                .or_insert_with(|| stein_solution(limit, solve, &gram, &scalars));
                            c[index]
                        }
                        (ScalarDefinition::ExpectedDerivative { .. }, None) => {
                            let (name, instruction) = scalar_context(limit, *scalar);
                            let span = span_of(limit, instruction);
                            return Err(EvalError::DeferredCoefficient { name, span });
                        }
                    };
                    if !value.is_finite() {
                        let (name, instruction) = scalar_context(limit, *scalar);
                        return Err(EvalError::NotFinite {
                            name,
                            span: span_of(limit, instruction),
                            value,
                        });
                    }
                    scalars[scalar.0 as usize] = value;
                }
            }
            for &slot in &self.schedule.frees[i] {
                store[slot] = None;
            }
            (self.step_done)();
        }
        Ok(scalars)
    }
}

/// The coefficients `Gram⁺ b` of a Stein solve, from this replica's Gram and moments.
fn stein_solution(
    limit: &Limit,
    solve: usize,
    gram: &FxHashMap<(AtomId, AtomId), f64>,
    scalars: &[f64],
) -> Vec<f64> {
    let s = &limit.stein[solve];
    let g: Vec<f64> = s
        .atoms
        .iter()
        .flat_map(|&a| s.atoms.iter().map(move |&b| gram[&(a, b)]))
        .collect();
    let b: Vec<f64> = s
        .moments
        .iter()
        .map(|m| match m {
            SteinRhs::Expectation(k) => scalars[k.0 as usize],
            SteinRhs::Odd(_) => 0.0,
        })
        .collect();
    super::family::gram_solve(&g, &b)
}

/// The span of an instruction's equation.
pub(super) fn span_of(limit: &Limit, instruction: usize) -> crate::diagnostics::Span {
    limit
        .equation_of(instruction)
        .map(|e| e.span)
        .unwrap_or_default()
}

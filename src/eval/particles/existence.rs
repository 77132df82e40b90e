//! Particle means exist for any integrand, so a particle run checks, as the quadrature
//! evaluator does, that each expectation it estimates exists
//! ([`crate::eval::integrability`]): on the first replica, over the law of the expectation's
//! atoms, with every ZHat covariance taken from the particles' own Gram.

use crate::eval::gaussian::Gaussian;
use crate::eval::integrability::{self, Atoms};
use crate::eval::EvalError;
use crate::limit::{AtomKind, Limit};
use crate::symbolic::{AtomId, ExprId, ScalarId, Tape};
use rustc_hash::FxHashMap;
use std::sync::Mutex;

/// The laws of the atoms seen so far in a replica: initial groups as given, ZHat families as
/// `σ²` times the particles' Gram.
#[derive(Default)]
pub(super) struct Laws {
    /// Atom → (initial group, position in it).
    initial: FxHashMap<AtomId, (usize, usize)>,
    /// Each initial group's mean and row-major covariance.
    groups: Vec<(Vec<f64>, Vec<f64>)>,
}

impl Laws {
    /// Records an initial group's law.
    pub fn add_group(&mut self, atoms: &[AtomId], mean: &[f64], covariance: &[f64]) {
        let group = self.groups.len();
        for (position, &a) in atoms.iter().enumerate() {
            self.initial.insert(a, (group, position));
        }
        self.groups.push((mean.to_vec(), covariance.to_vec()));
    }

    /// Mean and covariance of `a` with `b`.
    fn moments(
        &self,
        limit: &Limit,
        gram: &FxHashMap<(AtomId, AtomId), f64>,
        a: AtomId,
        b: AtomId,
    ) -> (f64, f64) {
        match (self.initial.get(&a), self.initial.get(&b)) {
            (Some(&(g, i)), Some(&(h, j))) if g == h => {
                let (mean, covariance) = &self.groups[g];
                (mean[i], covariance[i * mean.len() + j])
            }
            (Some(&(g, i)), _) => (self.groups[g].0[i], 0.0),
            (None, _) => {
                let covariance = match (
                    &limit.atoms[a.0 as usize].kind,
                    &limit.atoms[b.0 as usize].kind,
                ) {
                    (&AtomKind::Hat { family: f, .. }, &AtomKind::Hat { family: g, .. })
                        if f == g =>
                    {
                        limit.families[f].sigma2 * gram.get(&(a, b)).copied().unwrap_or(0.0)
                    }
                    _ => 0.0,
                };
                (0.0, covariance)
            }
        }
    }

    /// `Ok` unless the probes find that `E[e]` does not exist.
    pub fn check(
        &self,
        limit: &Limit,
        e: ExprId,
        gram: &FxHashMap<(AtomId, AtomId), f64>,
        scalars: &[f64],
        context: (String, crate::diagnostics::Span),
    ) -> Result<(), EvalError> {
        let arena = &limit.arena;
        let mut atoms = arena.atoms(e);
        atoms.sort_unstable();
        atoms.dedup();
        let k = atoms.len();
        if k == 0 || !integrability::may_diverge(arena, &[(e, 1.0)]) {
            return Ok(());
        }
        let mut mean = vec![0.0; k];
        let mut covariance = ndarray::Array2::zeros((k, k));
        for (i, &a) in atoms.iter().enumerate() {
            for (j, &b) in atoms.iter().enumerate() {
                let (m, c) = self.moments(limit, gram, a, b);
                covariance[[i, j]] = c;
                mean[i] = m;
            }
        }
        // A law the particles cannot factor is reported where it is sampled, not here.
        let Ok(law) = Gaussian::new(mean, &covariance) else {
            return Ok(());
        };
        let tape = Tape::compile(arena, &[e]);
        let places: Vec<usize> = tape
            .atoms()
            .iter()
            .map(|a| atoms.iter().position(|b| b == a).expect("an atom of e"))
            .collect();
        let tape_scalars: Vec<f64> = tape
            .scalars()
            .iter()
            .map(|s| scalars[s.0 as usize])
            .collect();
        let buffers = Mutex::new((Vec::new(), Vec::new()));
        let integrand = |x: &[f64]| {
            let mut guard = buffers.lock().unwrap_or_else(|e| e.into_inner());
            let (values, scratch) = &mut *guard;
            values.clear();
            values.extend(places.iter().map(|&p| x[p]));
            let mut out = [0.0];
            tape.eval(values, &tape_scalars, scratch, &mut out);
            out[0]
        };
        let name = |a: AtomId| {
            let atom = &limit.atoms[a.0 as usize];
            let letter = match atom.kind {
                AtomKind::Initial { .. } => "Z",
                AtomKind::Hat { .. } => "Ẑ",
            };
            format!("{letter}^{}", limit.names[atom.instruction])
        };
        let scalar = |s: ScalarId| scalars[s.0 as usize];
        let probed = Atoms {
            ids: &atoms,
            name: &name,
            scalar: &scalar,
        };
        match integrability::check(arena, &[(e, 1.0)], &probed, &law, &integrand) {
            None => Ok(()),
            Some(divergence) => Err(EvalError::NotIntegrable {
                name: context.0,
                span: context.1,
                reason: divergence.to_string(),
            }),
        }
    }
}

//! Evaluating a derived [`Limit`]: every ZHat covariance, Ż coefficient and Moment, in
//! program order, each by the most accurate method that applies.

use super::forms::{self, Affine, Moments};
use super::gaussian::{Estimate, Gaussian, Tolerance};
use super::{
    adaptive, conditional, expand, integrability, kink, monte_carlo, polynomial, quadrature,
    sensitivity, stein, trapezoid,
};
use super::{EvalError, EvalOptions, Evaluation, Method, Note, Used, Value};
use crate::diagnostics::Span;
use crate::limit::{AtomKind, EquationKind, Limit, ScalarDefinition, ScalarRole, SteinRhs};
use crate::symbolic::{AtomId, ExprId, Node, ScalarId, Tape};
use rustc_hash::FxHashMap;
use std::cell::RefCell;

/// A fixed rule's result short of the tolerance, for [`Evaluator::unresolved`].
struct Unresolved {
    /// What happened, as a note says it.
    reason: &'static str,
    /// The last level (error infinite when the levels do not settle).
    estimate: Estimate,
    /// The rule.
    method: Used,
}

/// A Monte Carlo progress callback: `(done, total)` evaluations.
pub type Progress<'a> = Option<&'a (dyn Fn(usize, usize) + Sync)>;

/// Evaluates every limit scalar of `limit` (docs/derivation.md, docs/evaluation.md).
///
/// Needs a limit from [`crate::limit::derive`]. Guarantees a finite value with an error
/// estimate and the method used for every scalar, or an error naming the instruction whose
/// value could not be computed.
pub fn evaluate(
    limit: &Limit,
    options: &EvalOptions,
    progress: Progress,
) -> Result<Evaluation, EvalError> {
    if options.method == Method::Particles {
        return super::particles::evaluate(limit, options, progress);
    }
    let mut e = Evaluator::new(limit, options, progress);
    for eq in &limit.equations {
        match &eq.kind {
            EquationKind::Initial {
                atoms,
                mean,
                covariance,
            } => {
                let k = atoms.len();
                for (i, &a) in atoms.iter().enumerate() {
                    e.initial.insert(a, (eq.instruction, i, mean[i]));
                    for (j, &b) in atoms.iter().enumerate() {
                        e.covariance.insert((a, b), covariance[i * k + j]);
                    }
                }
            }
            EquationKind::MatMul { hat, new_atom, .. } => {
                if *new_atom {
                    e.hat_covariances(*hat, eq.instruction, eq.span)?;
                }
                for &s in e
                    .zdot_scalars
                    .get(&eq.instruction)
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                {
                    e.scalar(s)?;
                }
            }
            EquationKind::InitialScalar { scalar } | EquationKind::Scalar { scalar } => {
                e.scalar(*scalar)?
            }
            EquationKind::Nonlin { .. } => {}
        }
    }
    Ok(Evaluation {
        scalars: e
            .values
            .into_iter()
            .map(|v| v.expect("every scalar is evaluated in program order"))
            .collect(),
        notes: e.notes,
    })
}

/// `E[Π factors]` for one block of atoms under a given law, with the scalars it mentions:
/// one entry of a family evaluated as an array ([`super::family`]) where no vectorized form
/// applies. Returns the value and the notes it produced.
#[allow(clippy::too_many_arguments)]
pub(super) fn block_expectation(
    limit: &Limit,
    options: &EvalOptions,
    factors: &[(ExprId, f64)],
    atoms: &[AtomId],
    mean: &[f64],
    covariance: &[f64],
    scalars: &[(ScalarId, Value)],
    name: &str,
    span: Span,
) -> Result<(Value, Vec<Note>), EvalError> {
    let mut e = Evaluator::new(limit, options, None);
    let k = atoms.len();
    for (i, &a) in atoms.iter().enumerate() {
        e.initial.insert(a, (0, i, mean[i]));
        for (j, &b) in atoms.iter().enumerate() {
            e.covariance.insert((a, b), covariance[i * k + j]);
        }
    }
    for &(s, v) in scalars {
        e.values[s.0 as usize] = Some(v);
    }
    let value = e.block(factors, name, span)?;
    Ok((value, e.notes))
}

struct Evaluator<'a> {
    limit: &'a Limit,
    options: &'a EvalOptions,
    progress: Progress<'a>,
    values: Vec<Option<Value>>,
    /// Covariance of atom pairs (both orders), for initial groups and ZHat families.
    covariance: FxHashMap<(AtomId, AtomId), f64>,
    /// `E[Z^x Z^y]` of ZHat atom pairs of one family (both orders): `Cov = σ² ·` this.
    gram: FxHashMap<(AtomId, AtomId), Value>,
    /// The solutions `Gram⁺ b` of the Stein solves computed so far, by solve.
    stein: FxHashMap<usize, Vec<Value>>,
    /// Initial atom → (group instruction, member, mean).
    initial: FxHashMap<AtomId, (usize, usize, f64)>,
    /// The scalars a MatMul's Ż needs (its coefficients, Stein moments and solutions), in
    /// the order they were derived.
    zdot_scalars: FxHashMap<usize, Vec<ScalarId>>,
    spans: FxHashMap<usize, Span>,
    notes: Vec<Note>,
    /// The expectations of the blocks integrated so far, by factors (exponents as bits).
    blocks: FxHashMap<Vec<(ExprId, u64)>, Value>,
}

thread_local! {
    static SCRATCH: RefCell<(Vec<f64>, Vec<f64>, Vec<f64>)> = const { RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
}

impl<'a> Evaluator<'a> {
    fn new(limit: &'a Limit, options: &'a EvalOptions, progress: Progress<'a>) -> Evaluator<'a> {
        let mut zdot_scalars: FxHashMap<usize, Vec<ScalarId>> = FxHashMap::default();
        for (i, s) in limit.scalars.iter().enumerate() {
            if !matches!(s.role, ScalarRole::Instruction(_)) {
                zdot_scalars
                    .entry(s.role.instruction())
                    .or_default()
                    .push(ScalarId(i as u32));
            }
        }
        Evaluator {
            limit,
            options,
            progress,
            values: vec![None; limit.scalars.len()],
            covariance: FxHashMap::default(),
            gram: FxHashMap::default(),
            stein: FxHashMap::default(),
            initial: FxHashMap::default(),
            zdot_scalars,
            spans: limit
                .equations
                .iter()
                .map(|e| (e.instruction, e.span))
                .collect(),
            notes: Vec::new(),
            blocks: FxHashMap::default(),
        }
    }

    fn value_of(&self, s: ScalarId) -> f64 {
        self.values[s.0 as usize]
            .expect("scalars are evaluated before they are used")
            .value
    }

    /// The name of the instruction that introduced an atom: the MatMul of a ZHat atom, the
    /// declared vector of an initial one.
    fn atom_name(&self, atom: AtomId) -> &str {
        &self.limit.names[self.limit.atoms[atom.0 as usize].instruction]
    }

    /// An atom as the derived equations write it: `Z^x` for an initial vector, `Ẑ^x` for the
    /// Gaussian part of the MatMul `x`.
    fn atom_symbol(&self, atom: AtomId) -> String {
        let letter = match self.limit.atoms[atom.0 as usize].kind {
            AtomKind::Initial { .. } => "Z",
            AtomKind::Hat { .. } => "Ẑ",
        };
        format!("{letter}^{}", self.atom_name(atom))
    }

    /// Name and source of a scalar, for messages.
    fn context(&self, s: ScalarId) -> (String, Span) {
        let role = self.limit.scalars[s.0 as usize].role;
        let instruction = role.instruction();
        let name = match role {
            ScalarRole::Instruction(_) => self.limit.names[instruction].clone(),
            ScalarRole::ZDotCoefficient { atom, .. }
            | ScalarRole::SteinCoefficient { atom, .. } => {
                format!(
                    "the Ż coefficient of {} along the ZHat of {}",
                    self.limit.names[instruction],
                    self.atom_name(atom)
                )
            }
            ScalarRole::SteinMoment { atom, .. } => {
                format!(
                    "the Stein moment of the Ż of {} along the ZHat of {}",
                    self.limit.names[instruction],
                    self.atom_name(atom)
                )
            }
        };
        (
            name,
            self.spans.get(&instruction).copied().unwrap_or_default(),
        )
    }

    fn scalar(&mut self, s: ScalarId) -> Result<(), EvalError> {
        let (name, span) = self.context(s);
        let value = match self.limit.scalars[s.0 as usize].definition {
            ScalarDefinition::Given(v) => Value {
                value: v,
                error: 0.0,
                method: Used::Given,
            },
            ScalarDefinition::Deterministic(e) => self.deterministic(e),
            ScalarDefinition::Expectation(e) => self.expectation(e, &name, span)?,
            ScalarDefinition::SteinSolution { solve, index } => self.stein_solution(solve, index),
            ScalarDefinition::ExpectedDerivative { .. } => {
                return Err(EvalError::DeferredCoefficient { name, span })
            }
        };
        if !value.value.is_finite() {
            return Err(EvalError::NotFinite {
                name,
                span,
                value: value.value,
            });
        }
        self.values[s.0 as usize] = Some(value);
        Ok(())
    }

    /// A deterministic expression of scalars, with first-order error propagation: each
    /// scalar's error weighted by how much the expression moves with it.
    fn deterministic(&self, e: ExprId) -> Value {
        let arena = &self.limit.arena;
        let eval = |shift: Option<(ScalarId, f64)>| {
            arena.eval(
                e,
                |_| f64::NAN,
                |s| {
                    let v = self.value_of(s);
                    match shift {
                        Some((t, d)) if t == s => v + d,
                        _ => v,
                    }
                },
            )
        };
        let value = eval(None);
        // Independent input errors add in quadrature (as in [`sensitivity`]).
        let mut squares = 0.0;
        let mut method = Used::Given;
        for s in arena.scalars(e) {
            let v = self.values[s.0 as usize].expect("earlier scalar");
            method = method.max(v.method);
            if v.error > 0.0 {
                squares += (eval(Some((s, v.error))) - value).powi(2);
            }
        }
        Value {
            value,
            error: squares.sqrt(),
            method,
        }
    }

    /// Component `index` of `Gram⁺ b` of a Stein solve ((3.4) in docs/derivation.md), solving it on first use.
    /// The Gram is the one the family's covariances were built from, so `b` and `Gram` come
    /// from the same law.
    fn stein_solution(&mut self, solve: usize, index: usize) -> Value {
        if let Some(c) = self.stein.get(&solve) {
            return c[index];
        }
        let limit = self.limit;
        let s = &limit.stein[solve];
        let gram: Vec<Value> = s
            .atoms
            .iter()
            .flat_map(|&a| s.atoms.iter().map(move |&b| (a, b)))
            .map(|pair| self.gram[&pair])
            .collect();
        let b: Vec<Value> =
            s.moments
                .iter()
                .map(|m| match m {
                    SteinRhs::Expectation(scalar) => self.values[scalar.0 as usize]
                        .expect("moments are evaluated before the solve"),
                    SteinRhs::Odd(_) => Value {
                        value: 0.0,
                        error: 0.0,
                        method: Used::Exact,
                    },
                })
                .collect();
        let c = stein::solve(&gram, &b);
        let value = c[index];
        self.stein.insert(solve, c);
        value
    }

    /// `Cov(Ẑ_a, Ẑ_b) = σ² E[Z^x Z^y]` for the new atom `a` and every earlier atom of its family.
    fn hat_covariances(
        &mut self,
        a: AtomId,
        instruction: usize,
        span: Span,
    ) -> Result<(), EvalError> {
        let family = self.limit.family_of(a).expect("a ZHat atom");
        for entry in family.covariance.iter().filter(|e| e.a == a) {
            let name = match entry.b == a {
                true => format!("the ZHat variance of {}", self.limit.names[instruction]),
                false => format!(
                    "the ZHat covariance of {} and {}",
                    self.limit.names[instruction],
                    self.atom_name(entry.b)
                ),
            };
            let v = self.expectation(entry.integrand, &name, span)?;
            let c = family.sigma2 * v.value;
            if !c.is_finite() {
                return Err(EvalError::NotFinite {
                    name,
                    span,
                    value: c,
                });
            }
            self.covariance.insert((entry.a, entry.b), c);
            self.covariance.insert((entry.b, entry.a), c);
            self.gram.insert((entry.a, entry.b), v);
            self.gram.insert((entry.b, entry.a), v);
        }
        Ok(())
    }

    fn cov(&self, a: AtomId, b: AtomId) -> f64 {
        self.covariance.get(&(a, b)).copied().unwrap_or(0.0)
    }

    fn mean(&self, a: AtomId) -> f64 {
        self.initial.get(&a).map_or(0.0, |&(_, _, m)| m)
    }

    /// The marginal law of some atoms: means and row-major covariance.
    fn marginal(&self, atoms: &[AtomId]) -> (Vec<f64>, Vec<f64>) {
        let k = atoms.len();
        let mean = atoms.iter().map(|&a| self.mean(a)).collect();
        let mut cov = vec![0.0; k * k];
        for (i, &a) in atoms.iter().enumerate() {
            for (j, &b) in atoms.iter().enumerate() {
                cov[i * k + j] = self.cov(a, b);
            }
        }
        (mean, cov)
    }

    /// `E[e]` over the atoms `e` depends on.
    fn expectation(&mut self, e: ExprId, name: &str, span: Span) -> Result<Value, EvalError> {
        let arena = &self.limit.arena;
        let atoms = arena.atoms(e);
        if atoms.is_empty() {
            return Ok(self.deterministic(e));
        }
        if self.options.method != Method::Mc {
            let (mean, cov) = self.marginal(&atoms);
            let position = |a: AtomId| atoms.iter().position(|&b| b == a);
            let scalar = |s: ScalarId| self.value_of(s);
            if let Some(p) = polynomial::expand(arena, e, &position, &scalar) {
                let value = polynomial::expectation(&p, &mean, &cov);
                return Ok(Value {
                    value,
                    error: self.input_error(&[(e, 1.0)], &atoms, &mean, &cov),
                    method: Used::Exact,
                });
            }
        }
        // Linearity: expand into products of irreducible factors, integrate each separately.
        if self.options.method != Method::Mc {
            let known = |s: ScalarId| {
                self.values[s.0 as usize]
                    .filter(|v| v.error == 0.0)
                    .map(|v| v.value)
            };
            if let Some(terms) = expand::expand(arena, e, &known, expand::MAX_TERMS) {
                let mut v = Value {
                    value: 0.0,
                    error: 0.0,
                    method: Used::Exact,
                };
                for (monomial, c) in &terms {
                    let tv = self.factors(monomial, name, span)?;
                    v.value += c * tv.value;
                    v.error += c.abs() * tv.error;
                    v.method = v.method.max(tv.method);
                }
                return Ok(v);
            }
        }
        // Too large to expand: integrate the terms of a sum separately.
        let terms: Vec<(ExprId, f64)> = match arena.node(e) {
            Node::Sum { constant, terms } if self.options.method != Method::Mc => {
                let mut v = Value {
                    value: *constant,
                    error: 0.0,
                    method: Used::Exact,
                };
                for &(t, c) in terms.iter() {
                    let tv = self.product(t, name, span)?;
                    v.value += c * tv.value;
                    v.error += c.abs() * tv.error;
                    v.method = v.method.max(tv.method);
                }
                return Ok(v);
            }
            _ => vec![(e, 1.0)],
        };
        self.product(terms[0].0, name, span)
    }

    /// The error of a ZHat covariance entry (0 for initial atoms, whose law is given).
    fn covariance_error(&self, a: AtomId, b: AtomId) -> f64 {
        match (self.limit.family_of(a), self.gram.get(&(a, b))) {
            (Some(family), Some(gram)) => family.sigma2 * gram.error,
            _ => 0.0,
        }
    }

    /// The first-order error that the errors of its scalars and of its atoms' covariance
    /// entries give `E[Π f_i^{e_i}]` over `atoms ~ N(mean, cov)`, each weighted by how much
    /// the expectation depends on it ([`sensitivity`]).
    fn input_error(
        &self,
        factors: &[(ExprId, f64)],
        atoms: &[AtomId],
        mean: &[f64],
        cov: &[f64],
    ) -> f64 {
        let roots: Vec<ExprId> = factors.iter().map(|(f, _)| *f).collect();
        let exponents: Vec<f64> = factors.iter().map(|(_, e)| *e).collect();
        let tape = Tape::compile(&self.limit.arena, &roots);
        let value = |s: &ScalarId| {
            self.values[s.0 as usize].unwrap_or(Value {
                value: f64::NAN,
                error: 0.0,
                method: Used::Given,
            })
        };
        let scalars: Vec<f64> = tape.scalars().iter().map(|s| value(s).value).collect();
        let scalar_errors: Vec<f64> = tape.scalars().iter().map(|s| value(s).error).collect();
        let k = atoms.len();
        let covariance_errors: Vec<f64> = (0..k * k)
            .map(|ij| self.covariance_error(atoms[ij / k], atoms[ij % k]))
            .collect();
        let inputs = sensitivity::Inputs {
            scalars: &scalars,
            scalar_errors: &scalar_errors,
            covariance_errors: &covariance_errors,
        };
        if !inputs.any_error() {
            return 0.0;
        }
        let covariance = ndarray::Array2::from_shape_vec((k, k), cov.to_vec()).expect("k × k");
        let Ok(gaussian) = Gaussian::new(mean.to_vec(), &covariance) else {
            // No law to weigh the inputs by: every input counts in full.
            return scalar_errors.iter().chain(&covariance_errors).sum();
        };
        let positions: Vec<usize> = tape
            .atoms()
            .iter()
            .map(|&a| atoms.iter().position(|&b| b == a).expect("a block atom"))
            .collect();
        let integrand = |x: &[f64], scalars: &[f64]| -> f64 {
            let at: Vec<f64> = positions.iter().map(|&p| x[p]).collect();
            let mut out = vec![0.0; exponents.len()];
            tape.eval(&at, scalars, &mut Vec::new(), &mut out);
            out.iter()
                .zip(&exponents)
                .map(|(v, e)| crate::ir::power(*v, *e))
                .product()
        };
        sensitivity::propagated_error(&gaussian, &integrand, &inputs)
    }

    /// `E[e]` of a product `e`, split into independent blocks of atoms.
    fn product(&mut self, e: ExprId, name: &str, span: Span) -> Result<Value, EvalError> {
        let factors: Vec<(ExprId, f64)> = match self.limit.arena.node(e) {
            Node::Product { factors } if self.options.method != Method::Mc => factors.to_vec(),
            _ => vec![(e, 1.0)],
        };
        self.factors(&factors, name, span)
    }

    /// `E[Π f_i^{e_i}]`, split into independent blocks of atoms; identical blocks are
    /// integrated once per evaluation (their laws and scalars never change once known).
    fn factors(
        &mut self,
        factors: &[(ExprId, f64)],
        name: &str,
        span: Span,
    ) -> Result<Value, EvalError> {
        let arena = &self.limit.arena;
        // Two factors join a block if their atoms are correlated.
        let atoms: Vec<Vec<AtomId>> = factors.iter().map(|(f, _)| arena.atoms(*f)).collect();
        let blocks = forms::blocks(factors.len(), |i, j| {
            atoms[i]
                .iter()
                .any(|&a| atoms[j].iter().any(|&b| a == b || self.cov(a, b) != 0.0))
        });
        let mut value = Value {
            value: 1.0,
            error: 0.0,
            method: Used::Exact,
        };
        for block in blocks {
            let block_factors: Vec<(ExprId, f64)> = block.iter().map(|&i| factors[i]).collect();
            let key: Vec<(ExprId, u64)> = block_factors
                .iter()
                .map(|&(f, e)| (f, e.to_bits()))
                .collect();
            let v = match self.blocks.get(&key) {
                Some(v) => *v,
                None => {
                    let v = self.block(&block_factors, name, span)?;
                    self.blocks.insert(key, v);
                    v
                }
            };
            value.error = value.error * v.value.abs() + v.error * value.value.abs();
            value.value *= v.value;
            value.method = value.method.max(v.method);
        }
        Ok(value)
    }

    /// `E[Π f_i^{e_i}]` for one block of correlated atoms.
    fn block(
        &mut self,
        factors: &[(ExprId, f64)],
        name: &str,
        span: Span,
    ) -> Result<Value, EvalError> {
        let arena = &self.limit.arena;
        let roots: Vec<ExprId> = factors.iter().map(|(f, _)| *f).collect();
        let mut atoms: Vec<AtomId> = roots.iter().flat_map(|&f| arena.atoms(f)).collect();
        atoms.sort_unstable();
        atoms.dedup();
        let scalar_values: Vec<f64> = (0..self.limit.scalars.len())
            .map(|i| self.values[i].map_or(f64::NAN, |v| v.value))
            .collect();
        let scalar = |s: ScalarId| scalar_values[s.0 as usize];
        let k = atoms.len();
        let position = |a: AtomId| atoms.iter().position(|&b| b == a);
        let (mean, cov) = self.marginal(&atoms);
        let error = self.input_error(factors, &atoms, &mean, &cov);
        if k == 0 {
            let value = roots
                .iter()
                .zip(factors)
                .map(|(&r, (_, e))| crate::ir::power(arena.eval(r, |_| f64::NAN, scalar), *e))
                .product();
            return Ok(Value {
                value,
                error,
                method: Used::Exact,
            });
        }

        // Polynomials: exact Gaussian algebra.
        if self.options.method != Method::Mc
            && factors.iter().all(|(_, e)| e.fract() == 0.0 && *e >= 0.0)
        {
            let polynomials: Option<Vec<polynomial::Polynomial>> = factors
                .iter()
                .map(|&(f, _)| polynomial::expand(arena, f, &position, &scalar))
                .collect();
            if let Some(polynomials) = polynomials {
                if let Some(product) =
                    polynomial::product(&polynomials, factors.iter().map(|(_, e)| *e as u32))
                {
                    let value = polynomial::expectation(&product, &mean, &cov);
                    return Ok(Value {
                        value,
                        error,
                        method: Used::Exact,
                    });
                }
            }
        }
        // Closed forms of relu/step/erf products of affine forms.
        if matches!(self.options.method, Method::Auto | Method::Exact) {
            if let Some(calls) = forms::calls(arena, factors, k, &position, &scalar) {
                let moments = Moments {
                    mean: &mean,
                    covariance: &cov,
                };
                if let Some(value) = forms::closed_form(&calls, &moments) {
                    return Ok(Value {
                        value,
                        error,
                        method: Used::ClosedForm,
                    });
                }
            }
        }
        if self.options.method == Method::Exact {
            return Err(EvalError::NoExactForm {
                name: name.to_string(),
                span,
            });
        }

        let covariance = ndarray::Array2::from_shape_vec((k, k), cov.clone()).expect("k × k");
        let gaussian =
            Gaussian::new(mean.clone(), &covariance).map_err(|e| EvalError::Covariance {
                name: name.to_string(),
                span,
                message: e.to_string(),
            })?;
        // Rounding can leave a PSD covariance slightly indefinite; `Gaussian::new` sets such
        // eigenvalues (within 1e-10 of the largest) to 0 and rejects larger ones. Say so.
        let (eigenvalues, _) = crate::linalg::symmetric_eigen(&covariance);
        if let Some(&lowest) = eigenvalues.first().filter(|&&l| l < 0.0) {
            self.notes.push(Note::measured(
                name,
                "a negative covariance eigenvalue (rounding) was set to 0",
                "eigenvalue",
                lowest,
            ));
        }
        let tape = Tape::compile(arena, &roots);
        let tape_positions: Vec<usize> = tape
            .atoms()
            .iter()
            .map(|&a| position(a).expect("a block atom"))
            .collect();
        let tape_scalars: Vec<f64> = tape.scalars().iter().map(|&s| scalar(s)).collect();
        let exponents: Vec<f64> = factors.iter().map(|(_, e)| *e).collect();
        let integrand = |x: &[f64]| -> f64 {
            SCRATCH.with(|cell| {
                let (atoms_in, scratch, out) = &mut *cell.borrow_mut();
                atoms_in.clear();
                atoms_in.extend(tape_positions.iter().map(|&p| x[p]));
                out.resize(exponents.len(), 0.0);
                tape.eval(atoms_in, &tape_scalars, scratch, out);
                out.iter()
                    .zip(&exponents)
                    .map(|(v, e)| crate::ir::power(*v, *e))
                    .product()
            })
        };
        let atom_names = |a: AtomId| self.atom_symbol(a);
        let probed = integrability::Atoms {
            ids: &atoms,
            name: &atom_names,
            scalar: &scalar,
        };
        if let Some(divergence) =
            integrability::check(arena, factors, &probed, &gaussian, &integrand)
        {
            return Err(EvalError::NotIntegrable {
                name: name.to_string(),
                span,
                reason: divergence.to_string(),
            });
        }
        let tolerance = Tolerance {
            relative: self.options.tolerance,
            absolute: self.options.tolerance * 1e-3,
        };
        let rank = gaussian.rank();

        // Kinks of relu-like functions, as affine forms of the atoms.
        let kink_args = forms::kink_arguments(arena, &roots);
        let kinks: Option<Vec<kink::Kink>> = kink_args
            .iter()
            .map(|&a| {
                forms::affine(arena, a, k, &position, &scalar)
                    .map(|Affine { form, offset }| kink::Kink::new(form, offset))
            })
            .collect();

        let estimate: Estimate = match self.options.method {
            Method::Mc => self.monte_carlo(name, &gaussian, &integrand),
            _ if !kink_args.is_empty() => match kinks {
                Some(kinks) if rank <= 2 => {
                    let options = kink::KinkOptions {
                        tolerance,
                        ..Default::default()
                    };
                    match kink::expectation(&gaussian, &integrand, &kinks, &options) {
                        Ok(est) => {
                            return Ok(Value {
                                value: est.value,
                                error: est.error + error,
                                method: Used::KinkAware,
                            })
                        }
                        Err(kink::KinkError::NotConverged(est)) => {
                            let fixed = Unresolved {
                                reason: "the kink-aware rule stopped short of the tolerance",
                                estimate: est,
                                method: Used::KinkAware,
                            };
                            return self
                                .unresolved(name, span, fixed, &gaussian, &integrand, error);
                        }
                        Err(e) => {
                            let reason = format!("the kink-aware rule does not apply ({e:?})");
                            self.fall_back_to_monte_carlo(
                                name, span, reason, &gaussian, &integrand,
                            )?
                        }
                    }
                }
                _ => {
                    let reason = format!("its integrand has kinks in {rank} dimensions; quadrature cannot reach the tolerance there");
                    self.fall_back_to_monte_carlo(name, span, reason, &gaussian, &integrand)?
                }
            },
            _ => {
                let options = quadrature::QuadratureOptions {
                    tolerance,
                    max_dim: self.options.max_dim,
                    max_points: self.options.max_points,
                    ..Default::default()
                };
                let reduction = match rank >= trapezoid::FROM_RANK {
                    true => conditional::find(arena, factors, &atoms, &scalar, &mean, &cov)
                        .filter(|r| r.law.rank() <= self.options.max_dim),
                    false => None,
                };
                let result = if let Some(reduction) = reduction {
                    self.reduced(&reduction, tolerance)
                } else if rank >= trapezoid::FROM_RANK && rank <= self.options.max_dim {
                    let options = trapezoid::TrapezoidOptions {
                        tolerance,
                        max_points: self.options.max_points * trapezoid::BUDGET_FACTOR,
                    };
                    trapezoid::expectation(&gaussian, &integrand, &options)
                } else {
                    quadrature::expectation(&gaussian, &integrand, &options)
                };
                match result {
                    Ok(est) => {
                        return Ok(Value {
                            value: est.value,
                            error: est.error + error,
                            method: Used::Quadrature,
                        })
                    }
                    Err(quadrature::QuadratureError::NotConverged(est)) => {
                        let reason = if est.evaluations == 0 {
                            "the quadrature grid it needs exceeds the point budget"
                        } else {
                            "quadrature stopped short of the tolerance"
                        };
                        let fixed = Unresolved {
                            reason,
                            estimate: est,
                            method: Used::Quadrature,
                        };
                        return self.unresolved(name, span, fixed, &gaussian, &integrand, error);
                    }
                    Err(quadrature::QuadratureError::DimensionTooLarge { rank, max_dim }) => {
                        let reason = format!("its integral is {rank}-dimensional, above the quadrature limit of {max_dim}");
                        self.fall_back_to_monte_carlo(name, span, reason, &gaussian, &integrand)?
                    }
                    Err(e) => {
                        return Err(EvalError::Numerical {
                            name: name.to_string(),
                            span,
                            message: e.to_string(),
                        })
                    }
                }
            }
        };
        Ok(Value {
            value: estimate.value,
            error: estimate.error + error,
            method: Used::MonteCarlo,
        })
    }

    /// `E[Π factors]` with the reduction's factor integrated out in one dimension
    /// ([`conditional`]), the outer integral over the remaining atoms by the adaptive
    /// trapezoid rule (in one and two dimensions too: these integrands are the kind tensor
    /// Gauss–Hermite converges slowly on).
    fn reduced(
        &self,
        reduction: &conditional::Reduction,
        tolerance: Tolerance,
    ) -> Result<Estimate, quadrature::QuadratureError> {
        let options = trapezoid::TrapezoidOptions {
            tolerance,
            max_points: self.options.max_points * trapezoid::BUDGET_FACTOR,
        };
        let outer = |law: &Gaussian, f: &(dyn Fn(&[f64]) -> f64 + Sync)| {
            trapezoid::expectation(law, f, &options)
        };
        reduction.expectation(tolerance, &outer)
    }

    /// An expectation a fixed rule did not resolve to the tolerance: in one dimension the
    /// adaptive rule tries too, and the smaller honest error wins; without any finite error
    /// (levels that do not settle, or a grid over the point budget) Monte Carlo takes over (an
    /// error under `--method quad`). A note says which and why.
    fn unresolved(
        &mut self,
        name: &str,
        span: Span,
        fixed: Unresolved,
        gaussian: &Gaussian,
        integrand: &(dyn Fn(&[f64]) -> f64 + Sync),
        input_error: f64,
    ) -> Result<Value, EvalError> {
        let mut best = Some((fixed.estimate, fixed.method)).filter(|(e, _)| e.error.is_finite());
        if gaussian.rank() == 1 {
            let options = adaptive::AdaptiveOptions {
                tolerance: Tolerance {
                    relative: self.options.tolerance,
                    absolute: self.options.tolerance * 1e-3,
                },
                ..Default::default()
            };
            let x = RefCell::new(vec![0.0; gaussian.dim()]);
            let along = |xi: f64| {
                let mut x = x.borrow_mut();
                gaussian.point(&[xi], &mut x);
                integrand(&x)
            };
            match adaptive::expectation(&along, &options) {
                Ok(est) => {
                    self.notes.push(Note::new(
                        name,
                        format!("adaptive quadrature, because {}", fixed.reason),
                    ));
                    return Ok(Value {
                        value: est.value,
                        error: est.error + input_error,
                        method: Used::Quadrature,
                    });
                }
                Err(est) if best.map_or(true, |(b, _)| est.error < b.error) => {
                    best = Some((est, Used::Quadrature)).filter(|(e, _)| e.error.is_finite());
                }
                Err(_) => {}
            }
        }
        if let Some((est, method)) = best {
            self.notes.push(Note::measured(
                name,
                fixed.reason,
                "error estimate",
                est.error,
            ));
            return Ok(Value {
                value: est.value,
                error: est.error + input_error,
                method,
            });
        }
        let reason = if fixed.estimate.evaluations == 0 {
            fixed.reason.to_string()
        } else {
            format!(
                "{} and its levels do not settle",
                fixed.reason.replace(" of the tolerance", "")
            )
        };
        let estimate = self.fall_back_to_monte_carlo(name, span, reason, gaussian, integrand)?;
        Ok(Value {
            value: estimate.value,
            error: estimate.error + input_error,
            method: Used::MonteCarlo,
        })
    }

    /// Monte Carlo in place of quadrature that cannot do the job, with a note saying why; an
    /// error under `--method quad`.
    fn fall_back_to_monte_carlo(
        &mut self,
        name: &str,
        span: Span,
        reason: String,
        gaussian: &Gaussian,
        integrand: &(dyn Fn(&[f64]) -> f64 + Sync),
    ) -> Result<Estimate, EvalError> {
        if self.options.method == Method::Quad {
            return Err(EvalError::NeedsMonteCarlo {
                name: name.to_string(),
                span,
                reason,
            });
        }
        self.notes
            .push(Note::new(name, format!("Monte Carlo, because {reason}")));
        Ok(self.monte_carlo(name, gaussian, integrand))
    }

    /// Monte Carlo, with a note when one draw carries a share of the sample variance far above
    /// what a finite variance would give at this sample size (the error bar is then suspect).
    fn monte_carlo(
        &mut self,
        name: &str,
        gaussian: &Gaussian,
        integrand: &(dyn Fn(&[f64]) -> f64 + Sync),
    ) -> Estimate {
        let options = monte_carlo::MonteCarloOptions {
            samples: self.options.samples,
            seed: self.options.seed,
            ..Default::default()
        };
        let sampled = monte_carlo::expectation(gaussian, integrand, &options, self.progress);
        let samples = sampled.estimate.evaluations.max(2) as f64;
        // A light tail gives about 2 ln M / M; ten times that (and at least 1%) is a heavy one.
        let suspicious = (20.0 * samples.ln() / samples).max(0.01);
        if sampled.largest_share > suspicious {
            self.notes.push(Note::measured(
                name,
                "one Monte Carlo draw carries a large share of the sample variance: the tail \
                 may be too heavy (infinite variance) for the error bar to be trusted",
                "share",
                sampled.largest_share,
            ));
        }
        sampled.estimate
    }
}

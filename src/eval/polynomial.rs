//! Exact expectations of polynomials in jointly Gaussian atoms (Isserlis/Wick with means).
//!
//! Every Z that is linear in the atoms (Catalan chains, linear training runs, covariance
//! integrands `Z^x Z^y` of linear programs) gives polynomial integrands, whose expectation is
//! exact: `E[x_i M] = μ_i E[M] + Σ_j Σ_ij E[∂M/∂x_j]`.

use crate::symbolic::{Arena, ExprId, Node};
use rustc_hash::FxHashMap;

/// A monomial: sorted `(atom position, power)` pairs.
type Monomial = Vec<(usize, u32)>;

/// A polynomial: monomial → coefficient.
pub type Polynomial = FxHashMap<Monomial, f64>;

/// Polynomials with more terms than this are not expanded (the caller integrates numerically).
const MAX_TERMS: usize = 4096;
/// Nor are powers above this degree.
const MAX_DEGREE: u32 = 12;

/// Expands `expr` into a polynomial in the atoms at `positions` (atom id → position), with
/// scalars replaced by their values; `None` if it is not a polynomial or too large.
pub fn expand(
    arena: &Arena,
    expr: ExprId,
    position: &dyn Fn(crate::symbolic::AtomId) -> Option<usize>,
    scalar: &dyn Fn(crate::symbolic::ScalarId) -> f64,
) -> Option<Polynomial> {
    let mut done: FxHashMap<ExprId, Polynomial> = FxHashMap::default();
    for id in arena.reachable(&[expr]) {
        let p = match arena.node(id) {
            Node::Const(c) => constant(*c),
            Node::Scalar(s) => constant(scalar(*s)),
            Node::Atom(a) => {
                let mut p = Polynomial::default();
                p.insert(vec![(position(*a)?, 1)], 1.0);
                p
            }
            Node::Apply { .. } => return None,
            Node::Sum { constant: c, terms } => {
                let mut p = constant(*c);
                for (t, coef) in terms.iter() {
                    for (m, v) in &done[t] {
                        *p.entry(m.clone()).or_insert(0.0) += coef * v;
                    }
                }
                p
            }
            Node::Product { factors } => {
                let mut p = constant(1.0);
                for (b, e) in factors.iter() {
                    if e.fract() != 0.0 || *e < 0.0 || *e > f64::from(MAX_DEGREE) {
                        return None;
                    }
                    for _ in 0..(*e as u32) {
                        p = multiply(&p, &done[b])?;
                    }
                }
                p
            }
        };
        if p.len() > MAX_TERMS {
            return None;
        }
        done.insert(id, p);
    }
    done.remove(&expr)
}

fn constant(c: f64) -> Polynomial {
    let mut p = Polynomial::default();
    if c != 0.0 {
        p.insert(Vec::new(), c);
    }
    p
}

fn multiply(a: &Polynomial, b: &Polynomial) -> Option<Polynomial> {
    let mut p = Polynomial::default();
    for (ma, va) in a {
        for (mb, vb) in b {
            let mut m = ma.clone();
            for &(i, k) in mb {
                match m.iter_mut().find(|(j, _)| *j == i) {
                    Some((_, power)) => *power += k,
                    None => m.push((i, k)),
                }
            }
            m.sort_unstable();
            if m.iter().map(|(_, k)| k).sum::<u32>() > MAX_DEGREE {
                return None;
            }
            *p.entry(m).or_insert(0.0) += va * vb;
        }
        if p.len() > MAX_TERMS {
            return None;
        }
    }
    Some(p)
}

/// `Π p_i^{e_i}`, or `None` if it grows beyond the size limits.
pub fn product(factors: &[Polynomial], exponents: impl Iterator<Item = u32>) -> Option<Polynomial> {
    let mut p = constant(1.0);
    for (f, e) in factors.iter().zip(exponents) {
        if e > MAX_DEGREE {
            return None;
        }
        for _ in 0..e {
            p = multiply(&p, f)?;
        }
    }
    Some(p)
}

/// `E[p(x)]` for `x ~ N(mean, covariance)` (covariance row-major, `k × k`).
pub fn expectation(p: &Polynomial, mean: &[f64], covariance: &[f64]) -> f64 {
    let k = mean.len();
    let mut memo: FxHashMap<Monomial, f64> = FxHashMap::default();
    p.iter()
        .map(|(m, c)| c * moment(m, mean, covariance, k, &mut memo))
        .sum()
}

/// `E[Π x_i^{p_i}]` by peeling one factor: `E[x_i M] = μ_i E[M] + Σ_j Σ_ij E[∂M/∂x_j]`.
fn moment(
    m: &Monomial,
    mean: &[f64],
    cov: &[f64],
    k: usize,
    memo: &mut FxHashMap<Monomial, f64>,
) -> f64 {
    if m.is_empty() {
        return 1.0;
    }
    if let Some(&v) = memo.get(m) {
        return v;
    }
    // Peel x_i from M = x_i · rest.
    let (i, power) = m[0];
    let mut rest = m.clone();
    if power == 1 {
        rest.remove(0);
    } else {
        rest[0].1 -= 1;
    }
    let mut value = mean[i] * moment(&rest, mean, cov, k, memo);
    for (position, &(j, pj)) in rest.iter().enumerate() {
        let sigma = cov[i * k + j];
        if sigma == 0.0 {
            continue;
        }
        let mut derivative = rest.clone();
        if pj == 1 {
            derivative.remove(position);
        } else {
            derivative[position].1 -= 1;
        }
        value += sigma * f64::from(pj) * moment(&derivative, mean, cov, k, memo);
    }
    memo.insert(m.clone(), value);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaussian_moments() {
        // x ~ N(0.5, 2): E[x^4] = μ⁴ + 6μ²σ² + 3σ⁴ = 0.0625 + 3 + 12.
        let mut p = Polynomial::default();
        p.insert(vec![(0, 4)], 1.0);
        assert!((expectation(&p, &[0.5], &[2.0]) - 15.0625).abs() < 1e-12);
        // (x, y) centered, Var 1, 2, Cov 0.5: E[x²y²] = 1·2 + 2·0.25 = 2.5.
        let mut p = Polynomial::default();
        p.insert(vec![(0, 2), (1, 2)], 1.0);
        assert!((expectation(&p, &[0.0, 0.0], &[1.0, 0.5, 0.5, 2.0]) - 2.5).abs() < 1e-12);
    }
}

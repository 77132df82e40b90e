//! Gauss rules by Golub–Welsch: probabilists' Gauss–Hermite (the tensor-grid workhorse), and
//! Gauss–Legendre and half-range Hermite (the pieces of the kink-aware rules). Rules are cached
//! per family and order.
//!
//! Golub–Welsch: the nodes of the `n`-point rule are the eigenvalues of the symmetric
//! tridiagonal Jacobi matrix of the weight's three-term recurrence, and the weights are
//! `μ₀ v₀²` for the first components `v₀` of the normalized eigenvectors. The eigenvalues come
//! from implicit QL with Wilkinson shifts, carrying only the first row of the eigenvector
//! matrix (O(n²) work, stable at any `n`; the three-term-recurrence/Newton routines overflow
//! for `n ≳ 400`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// An `n`-point Gauss rule: `∫ g dμ ≈ Σ weights[i] g(nodes[i])`, nodes ascending.
#[derive(Clone, Debug, PartialEq)]
pub struct GaussRule {
    /// The nodes, ascending.
    pub nodes: Vec<f64>,
    /// The weights, positive, summing to the total mass of the weight function.
    pub weights: Vec<f64>,
}

/// Which half-range Hermite weight on `[0, ∞)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HalfRange {
    /// Weight `e^{−x²/2}` (total mass `√(π/2)`): a half-line of a 1-D Gaussian.
    Line,
    /// Weight `ρ e^{−ρ²/2}` (total mass 1): the radial part of a 2-D standard Gaussian.
    Radial,
}

/// Rule families, the cache key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Family {
    Hermite,
    Legendre,
    HalfRange(HalfRange),
}

/// Probabilists' Gauss–Hermite: `E g(Z), Z ~ N(0, 1)`; weights sum to 1. Exact for
/// polynomials of degree `< 2n`. Cached; `n ≥ 1`.
pub fn hermite(n: usize) -> Arc<GaussRule> {
    cached(Family::Hermite, n)
}

/// Gauss–Legendre on `[−1, 1]` (weights sum to 2). Cached; `n ≥ 1`.
pub fn legendre(n: usize) -> Arc<GaussRule> {
    cached(Family::Legendre, n)
}

/// Half-range Hermite on `[0, ∞)` for the weight `kind`: exact for polynomials of degree
/// `< 2n` in `x` (odd powers included, unlike Gauss–Laguerre in `x²/2`). Cached; `1 ≤ n ≤ 128`.
pub fn half_range(kind: HalfRange, n: usize) -> Arc<GaussRule> {
    cached(Family::HalfRange(kind), n)
}

/// Largest order [`half_range`] supports (its recurrence comes from a fixed discretization).
pub const HALF_RANGE_MAX_ORDER: usize = 128;

fn cached(family: Family, n: usize) -> Arc<GaussRule> {
    assert!(n >= 1, "a Gauss rule needs at least one node");
    type Cache = Mutex<HashMap<(Family, usize), Arc<GaussRule>>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(rule) = cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&(family, n))
    {
        return rule.clone();
    }
    // Computed outside the lock; a rare duplicate computation is harmless.
    let rule = Arc::new(match family {
        Family::Hermite => {
            let off: Vec<f64> = (1..n).map(|k| (k as f64).sqrt()).collect();
            symmetrized(golub_welsch(vec![0.0; n], &off, 1.0))
        }
        Family::Legendre => {
            let off: Vec<f64> = (1..n)
                .map(|k| {
                    let k = k as f64;
                    k / (4.0 * k * k - 1.0).sqrt()
                })
                .collect();
            symmetrized(golub_welsch(vec![0.0; n], &off, 2.0))
        }
        Family::HalfRange(kind) => {
            assert!(
                n <= HALF_RANGE_MAX_ORDER,
                "half-range rules support at most {HALF_RANGE_MAX_ORDER} nodes"
            );
            let (diag, off, total) = half_range_recurrence(kind, n);
            golub_welsch(diag, &off, total)
        }
    });
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry((family, n))
        .or_insert(rule)
        .clone()
}

/// Nodes and weights of the Jacobi matrix with diagonal `diag` and off-diagonal `off`
/// (`off.len() + 1 == diag.len()`), for a weight of total mass `total`.
fn golub_welsch(mut d: Vec<f64>, off: &[f64], total: f64) -> GaussRule {
    let n = d.len();
    // e[i] couples rows i and i+1; e[n-1] = 0.
    let mut e = off.to_vec();
    e.push(0.0);
    // First components of the eigenvectors: the first row of the accumulated rotations.
    let mut z = vec![0.0; n];
    z[0] = 1.0;
    for l in 0..n {
        for _iteration in 0..200 {
            let mut m = l;
            while m + 1 < n {
                let dd = d[m].abs() + d[m + 1].abs();
                if e[m].abs() <= f64::EPSILON * dd {
                    break;
                }
                m += 1;
            }
            if m == l {
                break;
            }
            let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            let mut r = g.hypot(1.0);
            g = d[m] - d[l] + e[l] / (g + r.copysign(g));
            let (mut s, mut c, mut p) = (1.0, 1.0, 0.0);
            let mut deflated = false;
            for i in (l..m).rev() {
                let f = s * e[i];
                let b = c * e[i];
                r = f.hypot(g);
                e[i + 1] = r;
                if r == 0.0 {
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    deflated = true;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                let zf = z[i + 1];
                z[i + 1] = s * z[i] + c * zf;
                z[i] = c * z[i] - s * zf;
            }
            if !deflated {
                d[l] -= p;
                e[l] = g;
                e[m] = 0.0;
            }
        }
    }
    let mut pairs: Vec<(f64, f64)> = d.into_iter().zip(z.iter().map(|v| v * v)).collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let sum: f64 = pairs.iter().map(|p| p.1).sum();
    GaussRule {
        nodes: pairs.iter().map(|p| p.0).collect(),
        weights: pairs.iter().map(|p| total * p.1 / sum).collect(),
    }
}

/// Imposes the exact symmetry of a rule for an even weight (odd moments then vanish exactly).
fn symmetrized(mut rule: GaussRule) -> GaussRule {
    let n = rule.nodes.len();
    for i in 0..n / 2 {
        let j = n - 1 - i;
        let x = 0.5 * (rule.nodes[j] - rule.nodes[i]);
        let w = 0.5 * (rule.weights[i] + rule.weights[j]);
        (rule.nodes[i], rule.nodes[j]) = (-x, x);
        (rule.weights[i], rule.weights[j]) = (w, w);
    }
    if n % 2 == 1 {
        rule.nodes[n / 2] = 0.0;
    }
    rule
}

/// Recurrence coefficients (diagonal, off-diagonal, total mass) of the half-range weight, by
/// the discretized Stieltjes procedure with orthonormal polynomials.
///
/// The discretization is 64-point Gauss–Legendre on each unit panel of `[0, 36]`: beyond 36 the
/// weight is below 1e-280 (and the largest node of a 128-point rule is below 33), while inside
/// it `p(x)² w(x)` stays representable; the panels integrate `p(x)² w(x)` for the degrees
/// ≤ 256 needed to rounding, since the weight is entire and such polynomials have at most ~6
/// zeros per unit panel.
fn half_range_recurrence(kind: HalfRange, n: usize) -> (Vec<f64>, Vec<f64>, f64) {
    let panel = legendre(64);
    let mut x = Vec::with_capacity(36 * 64);
    let mut w = Vec::with_capacity(36 * 64);
    for j in 0..36 {
        for (y, wy) in panel.nodes.iter().zip(&panel.weights) {
            let t = j as f64 + 0.5 * (y + 1.0);
            let density = match kind {
                HalfRange::Line => (-0.5 * t * t).exp(),
                HalfRange::Radial => t * (-0.5 * t * t).exp(),
            };
            x.push(t);
            w.push(0.5 * wy * density);
        }
    }
    let total: f64 = w.iter().sum();
    let mut previous = vec![0.0; x.len()];
    let mut current = vec![1.0 / total.sqrt(); x.len()];
    let mut diag = Vec::with_capacity(n);
    let mut off = Vec::with_capacity(n);
    let mut beta = 0.0;
    for k in 0..n {
        let alpha: f64 = (0..x.len())
            .map(|i| w[i] * x[i] * current[i] * current[i])
            .sum();
        diag.push(alpha);
        if k + 1 == n {
            break;
        }
        let next: Vec<f64> = (0..x.len())
            .map(|i| (x[i] - alpha) * current[i] - beta * previous[i])
            .collect();
        beta = (0..x.len())
            .map(|i| w[i] * next[i] * next[i])
            .sum::<f64>()
            .sqrt();
        off.push(beta);
        previous = current;
        current = next.into_iter().map(|v| v / beta).collect();
    }
    (diag, off, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (2m − 1)!!, the 2m-th moment of N(0, 1).
    fn double_factorial(m: u32) -> f64 {
        (1..=m).map(|j| (2 * j - 1) as f64).product()
    }

    /// Small rules against their textbook values (to rounding, 1e-15).
    #[test]
    fn small_rules_are_the_textbook_ones() {
        let r = hermite(2);
        assert!((r.nodes[1] - 1.0).abs() < 1e-15 && (r.weights[0] - 0.5).abs() < 1e-15);
        let r = hermite(3);
        assert!((r.nodes[2] - 3f64.sqrt()).abs() < 1e-15);
        assert!(
            (r.weights[1] - 2.0 / 3.0).abs() < 1e-15 && (r.weights[0] - 1.0 / 6.0).abs() < 1e-15
        );
        let r = legendre(2);
        assert!(
            (r.nodes[1] - 1.0 / 3f64.sqrt()).abs() < 1e-15 && (r.weights[0] - 1.0).abs() < 1e-15
        );
    }

    /// Golub–Welsch at N = 1000 (where recurrence/Newton codes overflow): weights sum to 1 and
    /// the moments (2m − 1)!! are exact to 1e-12 relative (the rule is exact for degree < 2000;
    /// what remains is rounding in nodes of size up to ~63).
    #[test]
    fn hermite_is_stable_at_n_1000() {
        let r = hermite(1000);
        assert_eq!(r.nodes.len(), 1000);
        assert!((r.weights.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        assert!(r.weights.iter().all(|&w| w >= 0.0) && r.nodes.windows(2).all(|p| p[0] < p[1]));
        for m in 1..=6u32 {
            let moment: f64 = r
                .nodes
                .iter()
                .zip(&r.weights)
                .map(|(x, w)| w * x.powi(2 * m as i32))
                .sum();
            let exact = double_factorial(m);
            assert!(
                (moment / exact - 1.0).abs() < 1e-12,
                "m = {m}: {moment} vs {exact}"
            );
            let odd: f64 = r
                .nodes
                .iter()
                .zip(&r.weights)
                .map(|(x, w)| w * x.powi(2 * m as i32 - 1))
                .sum();
            assert!(odd.abs() < 1e-12);
        }
        assert!(Arc::ptr_eq(&r, &hermite(1000)), "rules are cached");
    }

    /// Half-range rules integrate `x^j` against their weights exactly for `j < 2n`, checked
    /// against `∫₀^∞ x^{j+γ} e^{−x²/2} dx = 2^{(j+γ−1)/2} Γ((j+γ+1)/2)` to 1e-13 relative
    /// (the discretized recurrence is accurate to rounding).
    #[test]
    fn half_range_rules_integrate_moments() {
        for (kind, gamma) in [(HalfRange::Line, 0.0), (HalfRange::Radial, 1.0)] {
            for n in [4usize, 16, 64, 128] {
                let r = half_range(kind, n);
                for j in 0..(2 * n).min(30) {
                    let p = j as f64 + gamma;
                    let exact = 2f64.powf((p - 1.0) / 2.0) * libm::tgamma((p + 1.0) / 2.0);
                    let got: f64 = r
                        .nodes
                        .iter()
                        .zip(&r.weights)
                        .map(|(x, w)| w * x.powi(j as i32))
                        .sum();
                    assert!(
                        (got / exact - 1.0).abs() < 1e-13,
                        "{kind:?} n={n} j={j}: {got} vs {exact}"
                    );
                }
            }
        }
        assert_eq!(
            half_range(HalfRange::Line, HALF_RANGE_MAX_ORDER)
                .nodes
                .len(),
            128
        );
    }
}

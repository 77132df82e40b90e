//! The dimension-adaptive trapezoid rule on the smooth three-dimensional integrands of a
//! trained tanh network, against an independent reference.

use ndarray::array;
use std::sync::OnceLock;
use tpc::eval::gaussian::{Gaussian, Tolerance};
use tpc::eval::quadrature::tensor_gauss_hermite;
use tpc::eval::trapezoid::{self, TrapezoidOptions};

/// `chi[0]` of the 1-hidden-layer μP tanh program after one step, rounded: the size of the
/// first update.
const CHI: f64 = -0.2918;

/// The law of `(g0, g1, v)`: two inputs' first-layer preactivations (Gram of the inputs
/// (1, 0) and (0.5, −1)) and the readout, independent of them.
fn law() -> Gaussian {
    Gaussian::new(
        vec![0.0; 3],
        &array![[1.0, 0.5, 0.0], [0.5, 1.25, 0.0], [0.0, 0.0, 1.0]],
    )
    .unwrap()
}

/// `v · tanh(g1 − ½ v tanh'(g0) χ)`: the shape of `f[1, 1]`, the second input's output after one
/// step (its feature moved along the backward vector of the first input).
fn integrand(x: &[f64]) -> f64 {
    let (g0, g1, v) = (x[0], x[1], x[2]);
    let slope = 1.0 - g0.tanh().powi(2);
    v * (g1 - 0.5 * v * slope * CHI).tanh()
}

/// The same expectation integrated another way: `g1 | g0 ~ N(g0/2, 1)`, so the inner integral
/// over `g1` is one-dimensional (Gauss–Hermite of order `inner`, converged to rounding for a
/// shifted `tanh` of a unit Gaussian by order 128), and the outer one over `(g0, v)` is
/// two-dimensional Gauss–Hermite of order `outer`.
fn nested_reference(outer: usize, inner: usize) -> f64 {
    let pair = Gaussian::new(vec![0.0, 0.0], &array![[1.0, 0.0], [0.0, 1.0]]).unwrap();
    let unit = Gaussian::new(vec![0.0], &array![[1.0]]).unwrap();
    let f = |x: &[f64]| {
        let (g0, v) = (x[0], x[1]);
        let shift = 0.5 * g0 - 0.5 * v * (1.0 - g0.tanh().powi(2)) * CHI;
        v * tensor_gauss_hermite(&unit, &|z: &[f64]| (shift + z[0]).tanh(), inner)
    };
    tensor_gauss_hermite(&pair, &f, outer)
}

/// The nested reference at orders 256 and 192 (outer), computed once for both tests.
fn references() -> (f64, f64) {
    static CELL: OnceLock<(f64, f64)> = OnceLock::new();
    *CELL.get_or_init(|| (nested_reference(256, 128), nested_reference(192, 128)))
}

/// Against the nested reference: two reference orders agree to 1e-10 (so the reference is
/// good to about that), and the trapezoid value lands within 1e-9 of it while reporting an
/// error below 1e-9 — the target for this program is 1e-8.
#[test]
fn three_dimensional_tanh_step_meets_the_target() {
    let (fine, coarse) = references();
    assert!((fine - coarse).abs() < 1e-10, "{fine} vs {coarse}");
    let options = TrapezoidOptions {
        tolerance: Tolerance::default(),
        max_points: 1 << 22,
    };
    let est = trapezoid::expectation(&law(), &integrand, &options).unwrap();
    assert!(est.error < 1e-9, "{est:?}");
    assert!((est.value - fine).abs() < 1e-9, "{est:?} vs {fine}");
}

/// A looser tolerance stops earlier, and the error it reports still covers the true error
/// (the reference as above): the ± is honest, not merely small.
#[test]
fn the_error_bar_covers_at_a_loose_tolerance() {
    let (reference, _) = references();
    for relative in [1e-4, 1e-6] {
        let options = TrapezoidOptions {
            tolerance: Tolerance {
                relative,
                absolute: 0.0,
            },
            max_points: 1 << 22,
        };
        let est = trapezoid::expectation(&law(), &integrand, &options).unwrap();
        let error = (est.value - reference).abs();
        assert!(error <= est.error, "tol {relative}: {est:?} vs {reference}");
        assert!(est.error <= relative * est.value.abs(), "{est:?}");
    }
}

//! The arc-cosine kernels `E[relu(u) relu(v)]` and `E[step(u) step(v)]` from an angle
//! `θ = arccos ρ` their layer shares, written without branches so that a loop over a chunk of
//! entries vectorizes: these angles are most of a relu recursion's time. The template loop
//! and the fused loop of the array evaluator both call these functions, so they give the same
//! bits.
//!
//! [`arccos`] is fdlibm's `__ieee754_acos` (error below 1 ulp) with its three ranges
//! `|x| < 1/2`, `x ≤ −1/2` and `x ≥ 1/2` all computed and the right one selected: every entry
//! costs one square root and two divisions whatever its range.

// The constants are written as fdlibm publishes them (more digits than a double holds; each
// parses to the same double as fdlibm's).
#![allow(clippy::excessive_precision)]

use crate::eval::closed_form as cf;
use std::f64::consts::PI;

/// High and low parts of π/2 (fdlibm's `pio2_hi`, `pio2_lo`): the double nearest π/2 and the
/// rest.
const PIO2_HI: f64 = std::f64::consts::FRAC_PI_2;
const PIO2_LO: f64 = 6.123_233_995_736_766_036e-17;

/// `asin(√z)/√z − 1 ≈ z·P(z)/Q(z)` on `[0, 1/4]` (fdlibm's `pS*`, `qS*`).
const P: [f64; 6] = [
    1.666_666_666_666_666_574_15e-1,
    -3.255_658_186_224_009_154_05e-1,
    2.012_125_321_348_629_258_81e-1,
    -4.005_553_450_067_941_140_27e-2,
    7.915_349_942_898_145_321_76e-4,
    3.479_331_075_960_211_675_70e-5,
];
const Q: [f64; 4] = [
    -2.403_394_911_734_414_218_78,
    2.020_945_760_233_505_694_71,
    -6.882_839_716_054_532_930_30e-1,
    7.703_815_055_590_193_527_91e-2,
];

/// `arccos x` in `[0, π]`; NaN outside `[−1, 1]` and for NaN.
#[inline(always)]
pub(super) fn arccos(x: f64) -> f64 {
    let small = x.abs() < 0.5;
    // `z = x²` in the middle range, `(1 − |x|)/2` outside it (`arccos x = 2 arcsin √z`).
    let z = if small { x * x } else { (1.0 - x.abs()) * 0.5 };
    let p = z * (P[0] + z * (P[1] + z * (P[2] + z * (P[3] + z * (P[4] + z * P[5])))));
    let q = 1.0 + z * (Q[0] + z * (Q[1] + z * (Q[2] + z * Q[3])));
    let r = p / q;
    let s = z.sqrt();
    // x ≥ 1/2: `s = df + c` with `df` the high half of `s`, kept exact in `2 (df + w)`.
    let df = f64::from_bits(s.to_bits() & 0xffff_ffff_0000_0000);
    let c = (z - df * df) / (s + df);
    let middle = PIO2_HI - (x - (PIO2_LO - x * r));
    let negative = PI - 2.0 * (s + (r * s - PIO2_LO));
    let positive = 2.0 * (df + (r * s + c));
    // At |x| = 1, `c` is 0/0: the exact angles.
    let positive = if x == 1.0 { 0.0 } else { positive };
    let negative = if x == -1.0 { PI } else { negative };
    if small {
        middle
    } else if x < 0.0 {
        negative
    } else {
        positive
    }
}

/// `(√(q1 q2), ρ)` of a law as [`cf::correlation`] gives them, or `(−1, NaN)` where a variance
/// is not positive.
#[inline(always)]
pub(super) fn correlation_or_none(q1: f64, q2: f64, c: f64) -> (f64, f64) {
    let s = (q1 * q2).sqrt();
    let rho = (c / s).clamp(-1.0, 1.0);
    if q1 > 0.0 && q2 > 0.0 {
        (s, rho)
    } else {
        (-1.0, f64::NAN)
    }
}

/// [`cf::relu_relu`] from `(√(q1 q2), ρ)` of [`correlation_or_none`] and `θ = arccos ρ`: 0
/// where a variance is zero (`√(q1 q2) < 0`).
#[inline(always)]
pub(super) fn relu_relu_from_angle(root: f64, rho: f64, theta: f64) -> f64 {
    let v = cf::relu_relu_at(root, rho, theta);
    if root < 0.0 {
        0.0
    } else {
        v
    }
}

/// [`cf::step_step`] from `√(q1 q2)` of [`correlation_or_none`] and `θ = arccos ρ`.
#[inline(always)]
pub(super) fn step_step_from_angle(root: f64, theta: f64) -> f64 {
    let v = cf::step_step_at(theta);
    if root < 0.0 {
        0.0
    } else {
        v
    }
}

/// `θ[k] = arccos ρ[k]` for every `k`.
pub(super) fn arccos_slice(rho: &[f64], theta: &mut [f64]) {
    for (t, &r) in theta.iter_mut().zip(rho) {
        *t = arccos(r);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between two finite doubles of one sign.
    fn ulps(a: f64, b: f64) -> u64 {
        (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs()
    }

    /// Against the standard library's `acos` (glibc's is correctly rounded; fdlibm's
    /// algorithm is documented below 1 ulp, so the two differ by at most 1 ulp): every
    /// 2⁻²⁰ of the domain, the neighbourhoods of ±1, ±1/2 and 0 where the ranges meet, and the
    /// ends exactly.
    #[test]
    fn arccos_is_within_one_ulp_of_the_standard_library_over_the_domain() {
        let mut points: Vec<f64> = (-(1 << 20)..=(1 << 20))
            .map(|k| k as f64 / (1 << 20) as f64)
            .collect();
        for centre in [-1.0f64, -0.5, 0.0, 0.5, 1.0] {
            let mut up = centre;
            let mut down = centre;
            for _ in 0..2000 {
                up = up.next_up();
                down = down.next_down();
                points.extend([up, down]);
            }
        }
        for k in 1..1000 {
            let t = k as f64 * 1e-3;
            points.extend([t.powi(8), -t.powi(8), 1.0 - t.powi(6), -1.0 + t.powi(6)]);
        }
        for &x in points.iter().filter(|x| x.abs() <= 1.0) {
            let (ours, std) = (arccos(x), x.acos());
            let d = ulps(ours, std);
            assert!(d <= 1, "arccos({x:e}) = {ours:e}, std {std:e}: {d} ulp");
        }
        assert_eq!(arccos(1.0), 0.0);
        assert_eq!(arccos(-1.0), PI);
        assert!(arccos(f64::NAN).is_nan());
        assert!(arccos(1.0 + 1e-15).is_nan() && arccos(-1.5).is_nan());
    }

    #[test]
    fn arccos_slice_is_arccos_entry_by_entry() {
        let rho: Vec<f64> = (0..37).map(|k| (k as f64 - 18.0) / 18.0).collect();
        let mut theta = vec![0.0; rho.len()];
        arccos_slice(&rho, &mut theta);
        for (t, r) in theta.iter().zip(&rho) {
            assert_eq!(t.to_bits(), arccos(*r).to_bits());
        }
    }
}

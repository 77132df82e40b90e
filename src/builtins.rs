//! The built-in coordinatewise functions of the `.tp` language.
//!
//! Every built-in is a function of one real argument. A call may carry a derivative order
//! (`tanh'(h)` is order 1, `tanh''(h)` order 2); [`Builtin::eval`] evaluates any order, so later
//! passes differentiate a call simply by incrementing its order.

use serde::Serialize;
use std::f64::consts::PI;

/// A built-in coordinatewise function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Builtin {
    /// `relu(x) = max(x, 0)`.
    Relu,
    /// `step(x) = 1[x > 0]`, the weak derivative of relu.
    Step,
    /// `tanh(x)`.
    Tanh,
    /// The error function `erf(x)`.
    Erf,
    /// The logistic function `sigmoid(x) = 1 / (1 + e^{-x})`.
    Sigmoid,
    /// `gelu(x) = x Φ(x)` with Φ the standard normal CDF.
    Gelu,
    /// `softplus(x) = log(1 + e^x)`.
    Softplus,
    /// `sin(x)`.
    Sin,
    /// `cos(x)`.
    Cos,
    /// `exp(x)`.
    Exp,
    /// The natural logarithm `log(x)`.
    Log,
    /// `sqrt(x)`.
    Sqrt,
    /// `abs(x)`.
    Abs,
    /// `sign(x)`, the weak derivative of abs.
    Sign,
    /// The identity `id(x) = x`.
    Id,
}

/// How regular a built-in is; decides which quadrature rules apply and which theorems cover it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Smoothness {
    /// Infinitely differentiable on its whole domain.
    Smooth,
    /// Continuous and piecewise smooth, with a kink at 0 (relu, abs).
    Kinked,
    /// Piecewise constant with a jump at 0 (step, sign).
    Jump,
}

/// A function's symmetry under `x ↦ −x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Symmetry {
    /// `f(−x) = f(x)`.
    Even,
    /// `f(−x) = −f(x)`.
    Odd,
}

impl Builtin {
    /// Every built-in, in a fixed order.
    pub const ALL: [Builtin; 15] = [
        Builtin::Relu,
        Builtin::Step,
        Builtin::Tanh,
        Builtin::Erf,
        Builtin::Sigmoid,
        Builtin::Gelu,
        Builtin::Softplus,
        Builtin::Sin,
        Builtin::Cos,
        Builtin::Exp,
        Builtin::Log,
        Builtin::Sqrt,
        Builtin::Abs,
        Builtin::Sign,
        Builtin::Id,
    ];

    /// The name used in `.tp` source.
    pub fn name(self) -> &'static str {
        match self {
            Builtin::Relu => "relu",
            Builtin::Step => "step",
            Builtin::Tanh => "tanh",
            Builtin::Erf => "erf",
            Builtin::Sigmoid => "sigmoid",
            Builtin::Gelu => "gelu",
            Builtin::Softplus => "softplus",
            Builtin::Sin => "sin",
            Builtin::Cos => "cos",
            Builtin::Exp => "exp",
            Builtin::Log => "log",
            Builtin::Sqrt => "sqrt",
            Builtin::Abs => "abs",
            Builtin::Sign => "sign",
            Builtin::Id => "id",
        }
    }

    /// Looks a built-in up by its source name.
    pub fn from_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    /// The regularity of the function itself (order 0).
    pub fn smoothness(self) -> Smoothness {
        match self {
            Builtin::Relu | Builtin::Abs => Smoothness::Kinked,
            Builtin::Step | Builtin::Sign => Smoothness::Jump,
            _ => Smoothness::Smooth,
        }
    }

    /// The symmetry of the derivative of the given order, if it has one
    /// (`tanh` is odd, `tanh'` even, `relu` neither).
    pub fn symmetry(self, order: u32) -> Option<Symmetry> {
        let base = match self {
            Builtin::Tanh | Builtin::Erf | Builtin::Sin | Builtin::Id | Builtin::Sign => {
                Symmetry::Odd
            }
            Builtin::Cos | Builtin::Abs => Symmetry::Even,
            _ => return None,
        };
        Some(if order % 2 == 0 {
            base
        } else {
            match base {
                Symmetry::Odd => Symmetry::Even,
                Symmetry::Even => Symmetry::Odd,
            }
        })
    }

    /// The regularity of the derivative of the given order.
    pub fn smoothness_of(self, order: u32) -> Smoothness {
        match (self.smoothness(), order) {
            (s, 0) => s,
            (Smoothness::Kinked, 1) => Smoothness::Jump,
            // Derivatives of kinked and jump functions vanish almost everywhere beyond that.
            (Smoothness::Kinked | Smoothness::Jump, _) => Smoothness::Smooth,
            (Smoothness::Smooth, _) => Smoothness::Smooth,
        }
    }

    /// Whether the derivative of the given order is zero almost everywhere
    /// (`step'`, `relu''`, `id''`, …), so that it can be dropped symbolically.
    pub fn derivative_vanishes(self, order: u32) -> bool {
        match self {
            Builtin::Step | Builtin::Sign => order >= 1,
            Builtin::Relu | Builtin::Abs | Builtin::Id => order >= 2,
            _ => false,
        }
    }

    /// If the derivative of the given order is itself a built-in of order 0
    /// (`relu' = step`, `abs' = sign`, `softplus' = sigmoid`, `exp' = exp`, `sin' = cos`),
    /// returns it, possibly with a sign: `cos' = -sin` is `(Sin, -1.0)`.
    pub fn derivative_as_builtin(self, order: u32) -> Option<(Builtin, f64)> {
        match (self, order) {
            (b, 0) => Some((b, 1.0)),
            (Builtin::Relu, 1) => Some((Builtin::Step, 1.0)),
            (Builtin::Abs, 1) => Some((Builtin::Sign, 1.0)),
            (Builtin::Softplus, 1) => Some((Builtin::Sigmoid, 1.0)),
            (Builtin::Exp, _) => Some((Builtin::Exp, 1.0)),
            (Builtin::Sin, k) => Some(match k % 4 {
                1 => (Builtin::Cos, 1.0),
                2 => (Builtin::Sin, -1.0),
                3 => (Builtin::Cos, -1.0),
                _ => (Builtin::Sin, 1.0),
            }),
            (Builtin::Cos, k) => Some(match k % 4 {
                1 => (Builtin::Sin, -1.0),
                2 => (Builtin::Cos, -1.0),
                3 => (Builtin::Sin, 1.0),
                _ => (Builtin::Cos, 1.0),
            }),
            _ => None,
        }
    }

    /// [`Builtin::eval`] at every point of `x`, written to `out`, without allocating per
    /// point: the polynomial of a tanh or sigmoid derivative is formed once.
    ///
    /// Panics if the slices differ in length.
    pub fn eval_slice(self, order: u32, x: &[f64], out: &mut [f64]) {
        assert_eq!(x.len(), out.len(), "one output per point");
        let logistic = match self {
            _ if self.derivative_vanishes(order) => {
                out.fill(0.0);
                return;
            }
            Builtin::Tanh if order > 0 => Some((
                logistic_like_poly(order, &[0.0, 1.0], &[1.0, 0.0, -1.0]),
                f64::tanh as fn(f64) -> f64,
            )),
            Builtin::Sigmoid if order > 0 => Some((
                logistic_like_poly(order, &[0.0, 1.0], &[0.0, 1.0, -1.0]),
                sigmoid as fn(f64) -> f64,
            )),
            _ => None,
        };
        match logistic {
            Some((poly, f)) => {
                for (y, &x) in out.iter_mut().zip(x) {
                    *y = horner(&poly, f(x));
                }
            }
            None => {
                for (y, &x) in out.iter_mut().zip(x) {
                    *y = self.eval(order, x);
                }
            }
        }
    }

    /// Evaluates the derivative of the given order at `x` (order 0 is the function).
    ///
    /// Weak derivatives are used where the classical one does not exist: `relu'(0) = 0`,
    /// `step' = 0`, `abs'' = 0`. Outside the domain (`log` of a negative number) the result
    /// is NaN, which the evaluators report with the instruction that produced it.
    pub fn eval(self, order: u32, x: f64) -> f64 {
        if self.derivative_vanishes(order) {
            return 0.0;
        }
        match self {
            Builtin::Relu => match order {
                0 => x.max(0.0),
                _ => step(x),
            },
            Builtin::Step => step(x),
            Builtin::Abs => match order {
                0 => x.abs(),
                _ => sign(x),
            },
            Builtin::Sign => sign(x),
            Builtin::Id => match order {
                0 => x,
                _ => 1.0,
            },
            // The first two derivatives without forming their polynomial (no allocation:
            // quadrature evaluates them millions of times).
            Builtin::Tanh if order <= 2 => {
                let t = x.tanh();
                match order {
                    0 => t,
                    1 => 1.0 - t * t,
                    _ => -2.0 * t * (1.0 - t * t),
                }
            }
            Builtin::Tanh => {
                // d/dx P(t) = P'(t) (1 - t²) for t = tanh x.
                let poly = logistic_like_poly(order, &[0.0, 1.0], &[1.0, 0.0, -1.0]);
                horner(&poly, x.tanh())
            }
            Builtin::Sigmoid => {
                // d/dx P(s) = P'(s) (s - s²) for s = sigmoid x.
                let poly = logistic_like_poly(order, &[0.0, 1.0], &[0.0, 1.0, -1.0]);
                horner(&poly, sigmoid(x))
            }
            Builtin::Softplus => match order {
                0 => softplus(x),
                k => Builtin::Sigmoid.eval(k - 1, x),
            },
            Builtin::Erf => match order {
                0 => libm::erf(x),
                // erf^{(k)}(x) = (2/√π) (-1)^{k-1} H_{k-1}(x) e^{-x²}, physicists' Hermite H.
                k => {
                    let sign = if (k - 1) % 2 == 0 { 1.0 } else { -1.0 };
                    2.0 / PI.sqrt() * sign * hermite_phys(k - 1, x) * (-x * x).exp()
                }
            },
            Builtin::Gelu => {
                // gelu = x Φ(x): gelu^{(k)} = x Φ^{(k)} + k Φ^{(k-1)}.
                x * normal_cdf_derivative(order, x)
                    + if order >= 1 {
                        order as f64 * normal_cdf_derivative(order - 1, x)
                    } else {
                        0.0
                    }
            }
            Builtin::Sin | Builtin::Cos | Builtin::Exp => {
                let (b, s) = self
                    .derivative_as_builtin(order)
                    .expect("sin, cos and exp have built-in derivatives of every order");
                s * match b {
                    Builtin::Sin => x.sin(),
                    Builtin::Cos => x.cos(),
                    _ => x.exp(),
                }
            }
            Builtin::Log => match order {
                0 => x.ln(),
                // log^{(k)}(x) = (-1)^{k-1} (k-1)! / x^k.
                k => {
                    let sign = if (k - 1) % 2 == 0 { 1.0 } else { -1.0 };
                    sign * factorial(k - 1) / x.powi(k as i32)
                }
            },
            Builtin::Sqrt => {
                // d^k/dx^k x^{1/2} = (1/2)(1/2 - 1)…(1/2 - k + 1) x^{1/2 - k}.
                let coef: f64 = (0..order).map(|j| 0.5 - j as f64).product();
                coef * x.powf(0.5 - order as f64)
            }
        }
    }
}

fn step(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x.is_nan() {
        f64::NAN
    } else {
        0.0
    }
}

fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else if x.is_nan() {
        f64::NAN
    } else {
        0.0
    }
}

/// The logistic function, accurate for either sign.
#[inline]
pub(crate) fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn softplus(x: f64) -> f64 {
    // log(1 + e^x) without overflow for large x.
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// Coefficients (lowest degree first) of the polynomial P_k with f^{(k)} = P_k(f), for a
/// function whose derivative is a polynomial `q` of itself: P_{k+1} = P_k' · q.
pub(crate) fn logistic_like_poly(order: u32, start: &[f64], q: &[f64]) -> Vec<f64> {
    let mut p = start.to_vec();
    for _ in 0..order {
        let dp: Vec<f64> = p
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, c)| i as f64 * c)
            .collect();
        let mut next = vec![0.0; dp.len() + q.len()];
        for (i, a) in dp.iter().enumerate() {
            for (j, b) in q.iter().enumerate() {
                next[i + j] += a * b;
            }
        }
        // Leading zeros (exact cancellations) add nothing but work.
        while next.len() > 1 && next[next.len() - 1] == 0.0 {
            next.pop();
        }
        p = next;
    }
    p
}

/// The polynomial with these coefficients (lowest degree first) at `x`.
#[inline]
pub(crate) fn horner(coefficients: &[f64], x: f64) -> f64 {
    coefficients.iter().rev().fold(0.0, |acc, c| acc * x + c)
}

/// Physicists' Hermite polynomial H_k(x).
fn hermite_phys(k: u32, x: f64) -> f64 {
    let (mut h0, mut h1) = (1.0, 2.0 * x);
    if k == 0 {
        return h0;
    }
    for j in 1..k {
        let h2 = 2.0 * x * h1 - 2.0 * j as f64 * h0;
        h0 = h1;
        h1 = h2;
    }
    h1
}

/// Probabilists' Hermite polynomial He_k(x).
fn hermite_prob(k: u32, x: f64) -> f64 {
    let (mut h0, mut h1) = (1.0, x);
    if k == 0 {
        return h0;
    }
    for j in 1..k {
        let h2 = x * h1 - j as f64 * h0;
        h0 = h1;
        h1 = h2;
    }
    h1
}

/// The k-th derivative of the standard normal CDF Φ: Φ^{(k)} = (-1)^{k-1} He_{k-1} φ.
fn normal_cdf_derivative(k: u32, x: f64) -> f64 {
    if k == 0 {
        return 0.5 * libm::erfc(-x / std::f64::consts::SQRT_2);
    }
    let density = (-0.5 * x * x).exp() / (2.0 * PI).sqrt();
    let sign = if (k - 1) % 2 == 0 { 1.0 } else { -1.0 };
    sign * hermite_prob(k - 1, x) * density
}

fn factorial(k: u32) -> f64 {
    (1..=k).map(f64::from).product()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central finite differences of order `order - 1` agree with order `order`
    /// to 1e-6 relative (step 1e-5, truncation error O(h²) on smooth functions).
    #[test]
    fn derivatives_agree_with_finite_differences() {
        let h = 1e-5;
        for b in Builtin::ALL {
            for order in 1..=4 {
                for &x in &[-1.3f64, -0.4, 0.35, 0.9, 2.1] {
                    let x = if b == Builtin::Log || b == Builtin::Sqrt {
                        x.abs() + 0.5
                    } else {
                        x
                    };
                    let fd = (b.eval(order - 1, x + h) - b.eval(order - 1, x - h)) / (2.0 * h);
                    let exact = b.eval(order, x);
                    assert!(
                        (fd - exact).abs() <= 1e-6 * (1.0 + exact.abs()),
                        "{}^({order})({x}) = {exact}, finite difference {fd}",
                        b.name()
                    );
                }
            }
        }
    }

    #[test]
    fn symmetries_hold_numerically() {
        for b in Builtin::ALL {
            for order in 0..=3 {
                let Some(symmetry) = b.symmetry(order) else {
                    continue;
                };
                for &x in &[0.3f64, 1.1, 2.7] {
                    let (plus, minus) = (b.eval(order, x), b.eval(order, -x));
                    let expected = match symmetry {
                        Symmetry::Even => plus,
                        Symmetry::Odd => -plus,
                    };
                    assert!(
                        (minus - expected).abs() < 1e-14,
                        "{}^({order}) at ±{x}",
                        b.name()
                    );
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for b in Builtin::ALL {
            assert_eq!(Builtin::from_name(b.name()), Some(b));
        }
        assert_eq!(Builtin::from_name("nope"), None);
    }

    #[test]
    fn closed_values() {
        assert_eq!(Builtin::Relu.eval(1, 0.0), 0.0);
        let g = Builtin::Gelu.eval(0, 1.0);
        assert!((g - 0.841344746068543).abs() < 1e-13, "{g}");
        assert!((Builtin::Softplus.eval(0, 800.0) - 800.0).abs() < 1e-12);
        assert!((Builtin::Tanh.eval(1, 0.5) - (1.0 - 0.5f64.tanh().powi(2))).abs() < 1e-15);
    }
}

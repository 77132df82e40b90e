//! `magnitude`: the size against which a computed value is zero to rounding.
//!
//! A value computed by floating-point arithmetic is only meaningful above the rounding error
//! of its computation, which is a few ulps of the magnitudes of its intermediate results
//! (`x - x` is 0; `tanh(h + 1e-17) - tanh(h)` is rounding noise of size ε |tanh h|).
//! [`magnitude`] estimates those magnitudes for one instruction from the sizes of its
//! operands, with every sign taken positive, as in a running error bound.

use crate::ir::{Expr, ExprNode, Op, Program};

/// The size of instruction `i`'s intermediate results in one run, given the coordinate RMS
/// of every vector (`vector_sizes`, by instruction) and the value of every scalar
/// (`scalar(j)`) of that run; `value` is the instruction's own size.
///
/// For a Nonlin, Moment or scalar operation the expression is evaluated with every operand
/// replaced by its size and every operation by its absolute-value bound (`|a ± b| ≤ |a| +
/// |b|`, `|a b| = |a| |b|`, `|f(a)| ≤ max(|f(±|a|)|)`); subexpressions without operands
/// (constants, powers of n) are evaluated exactly. Other instructions compute without
/// cancellation, so their magnitude is `value` itself. An order-of-magnitude estimate.
pub(super) fn magnitude(
    program: &Program,
    i: usize,
    value: f64,
    vector_sizes: &[f64],
    scalar: &dyn Fn(usize) -> f64,
    width: usize,
) -> f64 {
    match &program.instructions[i].op {
        Op::Nonlin { expr } | Op::Moment { expr } | Op::ScalarOp { expr } => {
            expression_magnitude(expr, vector_sizes, scalar, width as f64)
        }
        _ => value.abs(),
    }
}

/// The absolute-value evaluation of `expr` described at [`magnitude`].
fn expression_magnitude(
    expr: &Expr,
    vector_sizes: &[f64],
    scalar: &dyn Fn(usize) -> f64,
    width: f64,
) -> f64 {
    // Per node: its exact value if it has no operands, and its magnitude.
    let mut exact: Vec<Option<f64>> = Vec::with_capacity(expr.nodes.len());
    let mut size: Vec<f64> = Vec::with_capacity(expr.nodes.len());
    for node in &expr.nodes {
        let (e, s) = match *node {
            ExprNode::Const { value } => (Some(value), value.abs()),
            ExprNode::Width => (Some(width), width),
            ExprNode::Vector { id } => (None, vector_sizes[id.index()]),
            ExprNode::Scalar { id } => (None, scalar(id.index()).abs()),
            ExprNode::Neg { arg } => (exact[arg as usize].map(|a| -a), size[arg as usize]),
            ExprNode::Call {
                function,
                order,
                arg,
            } => match exact[arg as usize] {
                Some(a) => {
                    let v = function.eval(order, a);
                    (Some(v), v.abs())
                }
                None => {
                    let a = size[arg as usize];
                    let at = |x: f64| function.eval(order, x).abs();
                    (
                        None,
                        [at(a), at(-a)]
                            .into_iter()
                            .filter(|v| !v.is_nan())
                            .fold(0.0, f64::max),
                    )
                }
            },
            ExprNode::Add { lhs, rhs }
            | ExprNode::Sub { lhs, rhs }
            | ExprNode::Mul { lhs, rhs }
            | ExprNode::Div { lhs, rhs }
            | ExprNode::Pow { lhs, rhs } => {
                let (l, r) = (lhs as usize, rhs as usize);
                match (exact[l], exact[r]) {
                    (Some(a), Some(b)) => {
                        let v = node.apply_binary(a, b);
                        (Some(v), v.abs())
                    }
                    _ => {
                        let (a, b) = (size[l], size[r]);
                        let s = match node {
                            ExprNode::Add { .. } | ExprNode::Sub { .. } => a + b,
                            // An exact exponent keeps its sign: n^(-1/2) x, x^2.
                            ExprNode::Pow { .. } => crate::ir::power(a, exact[r].unwrap_or(b)),
                            _ => node.apply_binary(a, b),
                        };
                        (None, s)
                    }
                }
            }
        };
        exact.push(e);
        size.push(s);
    }
    *size.last().expect("an expression has at least one node")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The magnitude of the last instruction of `source`, with every vector of size 1 and
    /// every scalar equal to `scalar`, at width 100.
    fn last_magnitude(source: &str, scalar: f64) -> f64 {
        let program = crate::compile(source.as_bytes(), &Default::default()).unwrap();
        let last = program.instructions.len() - 1;
        let sizes = vec![1.0; program.instructions.len()];
        magnitude(&program, last, f64::NAN, &sizes, &|_| scalar, 100)
    }

    #[test]
    fn cancellations_are_bounded_by_their_terms() {
        assert_eq!(last_magnitude("vector x ~ N(0, 1)\nd = x - x\n", 0.0), 2.0);
        assert_eq!(
            last_magnitude("vector x ~ N(0, 1)\nd = 3 * x - x\n", 0.0),
            4.0
        );
        let chi = last_magnitude("vector x ~ N(0, 1)\nf = mean(x)\nchi = f - 1\n", -0.25);
        assert_eq!(chi, 1.25);
    }

    #[test]
    fn powers_of_the_width_and_functions_keep_their_size() {
        let y = last_magnitude("vector x ~ N(0, 1)\ny = n^(-1/2) * x\n", 0.0);
        assert!((y - 0.1).abs() < 1e-15);
        let t = last_magnitude("vector h ~ N(0, 1)\nt = tanh(h) - tanh(h)\n", 0.0);
        assert!((t - 2.0 * 1f64.tanh()).abs() < 1e-15);
        let q = last_magnitude("vector h ~ N(0, 1)\nq = mean(h^2 / 4)\n", 0.0);
        assert_eq!(q, 0.25);
    }

    #[test]
    fn other_instructions_are_their_own_magnitude() {
        let program = crate::compile(
            b"matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\nh = W @ x\n",
            &Default::default(),
        )
        .unwrap();
        assert_eq!(magnitude(&program, 3, -0.5, &[], &|_| 0.0, 10), 0.5);
    }
}

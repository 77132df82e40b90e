//! Coordinatewise expressions of the IR: a flat list of nodes, children before parents.

use super::{ScalarId, VectorId};
use crate::builtins::Builtin;
use serde::Serialize;

/// One node of an [`Expr`]; operands are positions of earlier nodes in the same expression.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum ExprNode {
    /// A number.
    Const {
        /// Its value.
        value: f64,
    },
    /// A vector of the program (coordinatewise).
    Vector {
        /// Which vector.
        id: VectorId,
    },
    /// A scalar of the program.
    Scalar {
        /// Which scalar.
        id: ScalarId,
    },
    /// The width n itself (parametrization programs write powers such as `n^(-1/2)`).
    Width,
    /// `-a`
    Neg {
        /// Operand.
        arg: u32,
    },
    /// `a + b`
    Add {
        /// Left operand.
        lhs: u32,
        /// Right operand.
        rhs: u32,
    },
    /// `a - b`
    Sub {
        /// Left operand.
        lhs: u32,
        /// Right operand.
        rhs: u32,
    },
    /// `a * b`
    Mul {
        /// Left operand.
        lhs: u32,
        /// Right operand.
        rhs: u32,
    },
    /// `a / b`
    Div {
        /// Left operand.
        lhs: u32,
        /// Right operand.
        rhs: u32,
    },
    /// `a ^ b`
    Pow {
        /// Base.
        lhs: u32,
        /// Exponent.
        rhs: u32,
    },
    /// A built-in function or one of its derivatives: `tanh(a)`, `tanh'(a)`.
    Call {
        /// The function.
        function: Builtin,
        /// Derivative order (0 for the function itself).
        order: u32,
        /// Argument.
        arg: u32,
    },
}

impl ExprNode {
    /// The operands of the node.
    pub fn children(&self) -> impl Iterator<Item = usize> {
        let (a, b) = match *self {
            ExprNode::Neg { arg } | ExprNode::Call { arg, .. } => (Some(arg), None),
            ExprNode::Add { lhs, rhs }
            | ExprNode::Sub { lhs, rhs }
            | ExprNode::Mul { lhs, rhs }
            | ExprNode::Div { lhs, rhs }
            | ExprNode::Pow { lhs, rhs } => (Some(lhs), Some(rhs)),
            _ => (None, None),
        };
        a.into_iter().chain(b).map(|i| i as usize)
    }

    /// Applies a binary arithmetic operator to two numbers.
    pub fn apply_binary(&self, a: f64, b: f64) -> f64 {
        match self {
            ExprNode::Add { .. } => a + b,
            ExprNode::Sub { .. } => a - b,
            ExprNode::Mul { .. } => a * b,
            ExprNode::Div { .. } => a / b,
            ExprNode::Pow { .. } => power(a, b),
            _ => unreachable!("not a binary node"),
        }
    }
}

/// `a^b`, with integer exponents computed exactly by repeated multiplication.
pub fn power(a: f64, b: f64) -> f64 {
    if b.fract() == 0.0 && b.abs() <= 64.0 {
        a.powi(b as i32)
    } else {
        a.powf(b)
    }
}

/// A coordinatewise expression: nodes in dependency order; the last node is the root.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct Expr {
    /// The nodes; every operand index is smaller than its user's.
    pub nodes: Vec<ExprNode>,
}

impl Expr {
    /// The root node.
    pub fn root(&self) -> &ExprNode {
        self.nodes
            .last()
            .expect("an expression has at least one node")
    }

    /// The vectors the expression reads, in order of first appearance.
    pub fn vectors(&self) -> impl Iterator<Item = VectorId> + '_ {
        self.nodes.iter().filter_map(|n| match n {
            ExprNode::Vector { id } => Some(*id),
            _ => None,
        })
    }

    /// The scalars the expression reads, in order of first appearance.
    pub fn scalars(&self) -> impl Iterator<Item = ScalarId> + '_ {
        self.nodes.iter().filter_map(|n| match n {
            ExprNode::Scalar { id } => Some(*id),
            _ => None,
        })
    }

    /// Evaluates the expression with the given leaf values (no recursion, one pass).
    pub fn eval(
        &self,
        vector: impl Fn(VectorId) -> f64,
        scalar: impl Fn(ScalarId) -> f64,
        width: f64,
        scratch: &mut Vec<f64>,
    ) -> f64 {
        scratch.clear();
        for node in &self.nodes {
            let v = match *node {
                ExprNode::Const { value } => value,
                ExprNode::Vector { id } => vector(id),
                ExprNode::Scalar { id } => scalar(id),
                ExprNode::Width => width,
                ExprNode::Neg { arg } => -scratch[arg as usize],
                ExprNode::Call {
                    function,
                    order,
                    arg,
                } => function.eval(order, scratch[arg as usize]),
                ExprNode::Add { lhs, rhs }
                | ExprNode::Sub { lhs, rhs }
                | ExprNode::Mul { lhs, rhs }
                | ExprNode::Div { lhs, rhs }
                | ExprNode::Pow { lhs, rhs } => {
                    node.apply_binary(scratch[lhs as usize], scratch[rhs as usize])
                }
            };
            scratch.push(v);
        }
        *scratch.last().expect("an expression has at least one node")
    }

    /// Formats the expression as source-like text, naming leaves with `name`.
    pub fn format(&self, name: &dyn Fn(&ExprNode) -> String) -> String {
        // (text, precedence): 0 sum, 1 product, 2 unary, 3 power, 4 atom.
        let mut parts: Vec<(String, u8)> = Vec::with_capacity(self.nodes.len());
        for node in &self.nodes {
            let wrap = |i: u32, min: u8, parts: &[(String, u8)]| {
                let (s, p) = &parts[i as usize];
                if *p < min {
                    format!("({s})")
                } else {
                    s.clone()
                }
            };
            let part = match *node {
                ExprNode::Const { value } => {
                    (format_number(value), if value < 0.0 { 2 } else { 4 })
                }
                ExprNode::Vector { .. } | ExprNode::Scalar { .. } | ExprNode::Width => {
                    (name(node), 4)
                }
                ExprNode::Neg { arg } => (format!("-{}", wrap(arg, 3, &parts)), 2),
                ExprNode::Call {
                    function,
                    order,
                    arg,
                } => (
                    format!(
                        "{}{}({})",
                        function.name(),
                        "'".repeat(order as usize),
                        parts[arg as usize].0
                    ),
                    4,
                ),
                ExprNode::Add { lhs, rhs } => (
                    format!("{} + {}", wrap(lhs, 0, &parts), wrap(rhs, 1, &parts)),
                    0,
                ),
                ExprNode::Sub { lhs, rhs } => (
                    format!("{} - {}", wrap(lhs, 0, &parts), wrap(rhs, 1, &parts)),
                    0,
                ),
                ExprNode::Mul { lhs, rhs } => (
                    format!("{} * {}", wrap(lhs, 1, &parts), wrap(rhs, 2, &parts)),
                    1,
                ),
                ExprNode::Div { lhs, rhs } => (
                    format!("{} / {}", wrap(lhs, 1, &parts), wrap(rhs, 2, &parts)),
                    1,
                ),
                ExprNode::Pow { lhs, rhs } => (
                    format!("{}^{}", wrap(lhs, 4, &parts), wrap(rhs, 3, &parts)),
                    3,
                ),
            };
            parts.push(part);
        }
        parts.pop().map(|(s, _)| s).unwrap_or_default()
    }
}

/// Formats a number deterministically: at most 12 significant digits, no trailing zeros.
pub fn format_number(value: f64) -> String {
    if value == value.trunc() && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let s = format!("{:.*e}", 11, value);
    let (mantissa, exponent) = s
        .split_once('e')
        .expect("scientific format has an exponent");
    let exponent: i32 = exponent.parse().expect("valid exponent");
    if (-5..15).contains(&exponent) {
        let decimals = (11 - exponent).max(0) as usize;
        let fixed = format!("{:.*}", decimals, value);
        fixed
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    } else {
        let mantissa = mantissa.trim_end_matches('0').trim_end_matches('.');
        format!("{mantissa}e{exponent}")
    }
}

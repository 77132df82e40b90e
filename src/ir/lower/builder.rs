//! Builds the expression of one statement: nodes with constant folding, the derivative of
//! an inlined `def`, and extraction of a compact [`Expr`] for each instruction.

use super::error::LowerError;
use crate::builtins::Builtin;
use crate::diagnostics::Span;
use crate::ir::expr::power;
use crate::ir::{Expr, ExprNode};
use std::collections::HashMap;

/// One expression may grow to at most this many nodes (guards against `def` blow-up).
pub const MAX_EXPR_NODES: usize = 1 << 20;

/// A node position in the builder.
pub type NodeId = u32;

/// A builder node: an IR node whose operands are builder positions, or the placeholder
/// for the parameter of a `def` being differentiated.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Node {
    Ir(ExprNode),
    Hole(u32),
}

/// The node store of one statement.
#[derive(Default)]
pub struct Builder {
    nodes: Vec<Node>,
    holes: u32,
    /// Scratch of [`Builder::extract`], kept between statements to avoid reallocating.
    seen: Vec<bool>,
    position: Vec<u32>,
}

/// Binary arithmetic operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
}

impl Arith {
    fn node(self, lhs: NodeId, rhs: NodeId) -> ExprNode {
        match self {
            Arith::Add => ExprNode::Add { lhs, rhs },
            Arith::Sub => ExprNode::Sub { lhs, rhs },
            Arith::Mul => ExprNode::Mul { lhs, rhs },
            Arith::Div => ExprNode::Div { lhs, rhs },
            Arith::Pow => ExprNode::Pow { lhs, rhs },
        }
    }

    /// Applies the operator to numbers.
    pub fn apply(self, a: f64, b: f64) -> f64 {
        match self {
            Arith::Add => a + b,
            Arith::Sub => a - b,
            Arith::Mul => a * b,
            Arith::Div => a / b,
            Arith::Pow => power(a, b),
        }
    }
}

impl Builder {
    /// Empties the builder for the next statement.
    pub fn clear(&mut self) {
        self.nodes.clear();
    }

    fn push(&mut self, node: Node, span: Span) -> Result<NodeId, LowerError> {
        if self.nodes.len() >= MAX_EXPR_NODES {
            return Err(LowerError::ExpressionTooLarge {
                span,
                limit: MAX_EXPR_NODES,
            });
        }
        self.nodes.push(node);
        Ok((self.nodes.len() - 1) as NodeId)
    }

    /// A leaf (constant, vector, scalar or the width).
    pub fn leaf(&mut self, node: ExprNode, span: Span) -> Result<NodeId, LowerError> {
        self.push(Node::Ir(node), span)
    }

    /// A numeric constant.
    pub fn constant(&mut self, value: f64, span: Span) -> Result<NodeId, LowerError> {
        self.leaf(ExprNode::Const { value }, span)
    }

    /// A fresh placeholder for a `def` parameter being differentiated.
    pub fn hole(&mut self, span: Span) -> Result<NodeId, LowerError> {
        self.holes += 1;
        self.push(Node::Hole(self.holes), span)
    }

    /// The node at a position, if it is an IR node.
    pub fn node(&self, id: NodeId) -> Option<ExprNode> {
        match self.nodes[id as usize] {
            Node::Ir(n) => Some(n),
            Node::Hole(_) => None,
        }
    }

    /// The value of a constant node.
    pub fn constant_value(&self, id: NodeId) -> Option<f64> {
        match self.nodes[id as usize] {
            Node::Ir(ExprNode::Const { value }) => Some(value),
            _ => None,
        }
    }

    /// `-a`, folded if `a` is constant.
    pub fn neg(&mut self, a: NodeId, span: Span) -> Result<NodeId, LowerError> {
        match self.constant_value(a) {
            Some(v) => self.constant(-v, span),
            None => self.push(Node::Ir(ExprNode::Neg { arg: a }), span),
        }
    }

    /// `a op b`, folded when both are constant, with neutral elements dropped.
    pub fn arith(
        &mut self,
        op: Arith,
        a: NodeId,
        b: NodeId,
        span: Span,
    ) -> Result<NodeId, LowerError> {
        let (ca, cb) = (self.constant_value(a), self.constant_value(b));
        match (op, ca, cb) {
            (_, Some(x), Some(y)) => self.constant(op.apply(x, y), span),
            (Arith::Add, Some(0.0), _) => Ok(b),
            (Arith::Add | Arith::Sub, _, Some(0.0)) => Ok(a),
            (Arith::Mul, Some(1.0), _) => Ok(b),
            (Arith::Mul | Arith::Div | Arith::Pow, _, Some(1.0)) => Ok(a),
            _ => self.push(Node::Ir(op.node(a, b)), span),
        }
    }

    /// `f^(order)(a)`, folded if `a` is constant.
    pub fn call(
        &mut self,
        function: Builtin,
        order: u32,
        a: NodeId,
        span: Span,
    ) -> Result<NodeId, LowerError> {
        if function.derivative_vanishes(order) {
            return self.constant(0.0, span);
        }
        match self.constant_value(a) {
            Some(v) => self.constant(function.eval(order, v), span),
            None => self.push(
                Node::Ir(ExprNode::Call {
                    function,
                    order,
                    arg: a,
                }),
                span,
            ),
        }
    }

    fn is_zero(&self, id: NodeId) -> bool {
        self.constant_value(id) == Some(0.0)
    }

    /// The positions reachable from `root`, in increasing order.
    fn reachable(&self, root: NodeId) -> Vec<NodeId> {
        let mut seen = vec![false; root as usize + 1];
        seen[root as usize] = true;
        for i in (0..=root as usize).rev() {
            if seen[i] {
                if let Node::Ir(n) = self.nodes[i] {
                    for c in n.children() {
                        seen[c] = true;
                    }
                }
            }
        }
        (0..=root).filter(|&i| seen[i as usize]).collect()
    }

    /// The derivative of `root` with respect to the hole at `hole` (forward mode, one pass).
    pub fn derivative(
        &mut self,
        root: NodeId,
        hole: NodeId,
        span: Span,
    ) -> Result<NodeId, LowerError> {
        let mut d: HashMap<NodeId, NodeId> = HashMap::new();
        let zero = self.constant(0.0, span)?;
        let one = self.constant(1.0, span)?;
        for id in self.reachable(root) {
            let di = match self.nodes[id as usize] {
                Node::Hole(_) if id == hole => one,
                Node::Hole(_) => zero,
                Node::Ir(node) => match node {
                    ExprNode::Const { .. }
                    | ExprNode::Vector { .. }
                    | ExprNode::Scalar { .. }
                    | ExprNode::Width => zero,
                    ExprNode::Neg { arg } => self.neg(d[&arg], span)?,
                    ExprNode::Add { lhs, rhs } => self.sum(d[&lhs], d[&rhs], Arith::Add, span)?,
                    ExprNode::Sub { lhs, rhs } => self.sum(d[&lhs], d[&rhs], Arith::Sub, span)?,
                    ExprNode::Mul { lhs, rhs } => {
                        let a = self.product(d[&lhs], rhs, span)?;
                        let b = self.product(lhs, d[&rhs], span)?;
                        self.sum(a, b, Arith::Add, span)?
                    }
                    ExprNode::Div { lhs, rhs } => {
                        // (a/b)' = a'/b - a b' / b².
                        let first = if self.is_zero(d[&lhs]) {
                            zero
                        } else {
                            self.arith(Arith::Div, d[&lhs], rhs, span)?
                        };
                        let second = if self.is_zero(d[&rhs]) {
                            zero
                        } else {
                            let two = self.constant(2.0, span)?;
                            let b2 = self.arith(Arith::Pow, rhs, two, span)?;
                            let num = self.product(lhs, d[&rhs], span)?;
                            self.arith(Arith::Div, num, b2, span)?
                        };
                        self.sum(first, second, Arith::Sub, span)?
                    }
                    ExprNode::Pow { lhs, rhs } => {
                        // (a^b)' = b a^(b-1) a' + a^b ln(a) b'.
                        let first = if self.is_zero(d[&lhs]) {
                            zero
                        } else {
                            let one = self.constant(1.0, span)?;
                            let bm1 = self.arith(Arith::Sub, rhs, one, span)?;
                            let p = self.arith(Arith::Pow, lhs, bm1, span)?;
                            let bp = self.product(rhs, p, span)?;
                            self.product(bp, d[&lhs], span)?
                        };
                        let second = if self.is_zero(d[&rhs]) {
                            zero
                        } else {
                            let ln = self.call(Builtin::Log, 0, lhs, span)?;
                            let p = self.product(id, ln, span)?;
                            self.product(p, d[&rhs], span)?
                        };
                        self.sum(first, second, Arith::Add, span)?
                    }
                    ExprNode::Call {
                        function,
                        order,
                        arg,
                    } => {
                        if self.is_zero(d[&arg]) {
                            zero
                        } else {
                            let outer = self.call(function, order + 1, arg, span)?;
                            self.product(outer, d[&arg], span)?
                        }
                    }
                },
            };
            d.insert(id, di);
        }
        Ok(d[&root])
    }

    fn sum(&mut self, a: NodeId, b: NodeId, op: Arith, span: Span) -> Result<NodeId, LowerError> {
        if self.is_zero(a) && op == Arith::Sub {
            return self.neg(b, span);
        }
        self.arith(op, a, b, span)
    }

    fn product(&mut self, a: NodeId, b: NodeId, span: Span) -> Result<NodeId, LowerError> {
        if self.is_zero(a) || self.is_zero(b) {
            return self.constant(0.0, span);
        }
        self.arith(Arith::Mul, a, b, span)
    }

    /// Rebuilds `root` with the hole at `hole` replaced by `value`, folding constants again.
    pub fn substitute_hole(
        &mut self,
        root: NodeId,
        hole: NodeId,
        value: NodeId,
        span: Span,
    ) -> Result<NodeId, LowerError> {
        let mut map: HashMap<NodeId, NodeId> = HashMap::new();
        for id in self.reachable(root) {
            let new = match self.nodes[id as usize] {
                Node::Hole(_) if id == hole => value,
                Node::Hole(_) => id,
                Node::Ir(node) => match node {
                    ExprNode::Const { .. }
                    | ExprNode::Vector { .. }
                    | ExprNode::Scalar { .. }
                    | ExprNode::Width => id,
                    ExprNode::Neg { arg } => self.neg(map[&arg], span)?,
                    ExprNode::Add { lhs, rhs } => {
                        self.arith(Arith::Add, map[&lhs], map[&rhs], span)?
                    }
                    ExprNode::Sub { lhs, rhs } => {
                        self.arith(Arith::Sub, map[&lhs], map[&rhs], span)?
                    }
                    ExprNode::Mul { lhs, rhs } => {
                        self.arith(Arith::Mul, map[&lhs], map[&rhs], span)?
                    }
                    ExprNode::Div { lhs, rhs } => {
                        self.arith(Arith::Div, map[&lhs], map[&rhs], span)?
                    }
                    ExprNode::Pow { lhs, rhs } => {
                        self.arith(Arith::Pow, map[&lhs], map[&rhs], span)?
                    }
                    ExprNode::Call {
                        function,
                        order,
                        arg,
                    } => self.call(function, order, map[&arg], span)?,
                },
            };
            map.insert(id, new);
        }
        Ok(map[&root])
    }

    /// The compact expression of `root`: its reachable nodes, renumbered, root last.
    pub fn extract(&mut self, root: NodeId) -> Expr {
        let len = root as usize + 1;
        let mut seen = std::mem::take(&mut self.seen);
        let mut position = std::mem::take(&mut self.position);
        seen.clear();
        seen.resize(len, false);
        position.clear();
        position.resize(len, u32::MAX);
        seen[root as usize] = true;
        let mut count = 0;
        for i in (0..len).rev() {
            if seen[i] {
                count += 1;
                if let Node::Ir(n) = self.nodes[i] {
                    for c in n.children() {
                        seen[c] = true;
                    }
                }
            }
        }
        let mut nodes = Vec::with_capacity(count);
        let remap = |i: u32, position: &[u32]| position[i as usize];
        for id in (0..len as NodeId).filter(|&i| seen[i as usize]) {
            let Node::Ir(node) = self.nodes[id as usize] else {
                unreachable!("the hole is substituted before an expression is extracted")
            };
            let node = match node {
                ExprNode::Neg { arg } => ExprNode::Neg {
                    arg: remap(arg, &position),
                },
                ExprNode::Call {
                    function,
                    order,
                    arg,
                } => ExprNode::Call {
                    function,
                    order,
                    arg: remap(arg, &position),
                },
                ExprNode::Add { lhs, rhs } => ExprNode::Add {
                    lhs: remap(lhs, &position),
                    rhs: remap(rhs, &position),
                },
                ExprNode::Sub { lhs, rhs } => ExprNode::Sub {
                    lhs: remap(lhs, &position),
                    rhs: remap(rhs, &position),
                },
                ExprNode::Mul { lhs, rhs } => ExprNode::Mul {
                    lhs: remap(lhs, &position),
                    rhs: remap(rhs, &position),
                },
                ExprNode::Div { lhs, rhs } => ExprNode::Div {
                    lhs: remap(lhs, &position),
                    rhs: remap(rhs, &position),
                },
                ExprNode::Pow { lhs, rhs } => ExprNode::Pow {
                    lhs: remap(lhs, &position),
                    rhs: remap(rhs, &position),
                },
                leaf => leaf,
            };
            position[id as usize] = nodes.len() as u32;
            nodes.push(node);
        }
        self.seen = seen;
        self.position = position;
        Expr { nodes }
    }

    /// A monomial `c · n^p` if the expression at `root` is one (constants and the width only).
    pub fn monomial(&self, root: NodeId) -> Option<(f64, f64)> {
        let mut values: HashMap<NodeId, (f64, f64)> = HashMap::new();
        for id in self.reachable(root) {
            let Node::Ir(node) = self.nodes[id as usize] else {
                return None;
            };
            let m = match node {
                ExprNode::Const { value } => (value, 0.0),
                ExprNode::Width => (1.0, 1.0),
                ExprNode::Vector { .. } | ExprNode::Scalar { .. } => return None,
                ExprNode::Neg { arg } => {
                    let (c, p) = values[&arg];
                    (-c, p)
                }
                ExprNode::Mul { lhs, rhs } => {
                    let ((a, p), (b, q)) = (values[&lhs], values[&rhs]);
                    (a * b, p + q)
                }
                ExprNode::Div { lhs, rhs } => {
                    let ((a, p), (b, q)) = (values[&lhs], values[&rhs]);
                    (a / b, p - q)
                }
                ExprNode::Pow { lhs, rhs } => {
                    let ((a, p), (e, q)) = (values[&lhs], values[&rhs]);
                    if q != 0.0 {
                        return None;
                    }
                    (power(a, e), p * e)
                }
                ExprNode::Add { lhs, rhs } | ExprNode::Sub { lhs, rhs } => {
                    let ((a, p), (b, q)) = (values[&lhs], values[&rhs]);
                    let b = if matches!(node, ExprNode::Sub { .. }) {
                        -b
                    } else {
                        b
                    };
                    if p == q {
                        (a + b, p)
                    } else if a == 0.0 {
                        (b, q)
                    } else if b == 0.0 {
                        (a, p)
                    } else {
                        return None;
                    }
                }
                ExprNode::Call { .. } => return None,
            };
            values.insert(id, m);
        }
        values.get(&root).copied()
    }
}

//! Smart constructors: the simplification rules, applied as expressions are built.
//!
//! | rule                         | example                               |
//! |------------------------------|---------------------------------------|
//! | constant folding             | `2 + 3 → 5`, `tanh(0) → 0`            |
//! | neutral elements             | `x + 0 → x`, `1·x → x`, `x¹ → x`      |
//! | absorbing zero               | `0·x → 0`, `x⁰ → 1`                   |
//! | flattening                   | `(x + y) + z → x + y + z`             |
//! | collecting terms             | `x + 2·x → 3·x`, `x − x → 0`          |
//! | collecting powers            | `x·x → x²`, `x²/x → x`                |
//! | constants scale sums         | `2·(x + 1) → 2·x + 2`                 |
//! | vanishing derivatives        | `step'(u) → 0`, `relu''(u) → 0`       |
//! | derivatives that are builtins| `relu'(u) → step(u)`, `cos'(u) → −sin(u)`, `id(u) → u` |
//!
//! Products of sums are never expanded. Given canonical inputs the result is canonical; nodes
//! inserted with [`Arena::raw`] are accepted as inputs and handled by their value.

use super::arena::Arena;
use super::ids::{AtomId, ExprId, ScalarId};
use super::node::Node;
use crate::builtins::Builtin;
use std::collections::HashMap;

/// Whether `e` is an integer, so that `(x^a)^e = x^(a·e)` and `(c·x)^e = c^e·x^e` hold for
/// every real `x` and `c` where the left side is defined.
fn is_integer(e: f64) -> bool {
    e.is_finite() && e.fract() == 0.0
}

impl Arena {
    /// The constant `c`.
    pub fn constant(&mut self, c: f64) -> ExprId {
        self.raw(Node::Const(c))
    }

    /// The atom `a`.
    pub fn atom(&mut self, a: AtomId) -> ExprId {
        self.raw(Node::Atom(a))
    }

    /// The limit scalar `s`.
    pub fn scalar(&mut self, s: ScalarId) -> ExprId {
        self.raw(Node::Scalar(s))
    }

    /// `f^{(order)}(arg)`, with constant folding, vanishing derivatives dropped and
    /// derivatives that are themselves built-ins rewritten (`relu' → step`, `cos' → −sin`).
    pub fn apply(&mut self, f: Builtin, order: u32, arg: ExprId) -> ExprId {
        if let Node::Const(c) = *self.node(arg) {
            return self.constant(f.eval(order, c));
        }
        if f.derivative_vanishes(order) {
            return self.constant(0.0);
        }
        match (f, order) {
            (Builtin::Id, 0) => return arg,
            (Builtin::Id, _) => return self.constant(1.0),
            _ => {}
        }
        match f.derivative_as_builtin(order) {
            Some((g, sign)) => {
                let applied = self.raw(Node::Apply {
                    f: g,
                    order: 0,
                    arg,
                });
                self.scale(applied, sign)
            }
            None => self.raw(Node::Apply { f, order, arg }),
        }
    }

    /// `a + b`.
    pub fn add(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.sum([(a, 1.0), (b, 1.0)])
    }

    /// `a − b`.
    pub fn sub(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.sum([(a, 1.0), (b, -1.0)])
    }

    /// `−a`.
    pub fn neg(&mut self, a: ExprId) -> ExprId {
        self.scale(a, -1.0)
    }

    /// `c · a`.
    pub fn scale(&mut self, a: ExprId, c: f64) -> ExprId {
        self.sum([(a, c)])
    }

    /// The linear combination `Σ coef · expr`: constants folded, nested sums flattened, equal
    /// terms collected, zero coefficients dropped (`0 · x = 0` even for infinite `x`).
    pub fn sum(&mut self, terms: impl IntoIterator<Item = (ExprId, f64)>) -> ExprId {
        let mut constant = 0.0;
        let mut collected: Vec<(ExprId, f64)> = Vec::new();
        let mut stack: Vec<(ExprId, f64)> = terms.into_iter().collect();
        stack.reverse();
        while let Some((e, c)) = stack.pop() {
            if c == 0.0 {
                continue;
            }
            match self.node(e) {
                Node::Const(k) => constant += c * k,
                Node::Sum { constant: k, terms } => {
                    constant += c * k;
                    stack.extend(terms.iter().rev().map(|&(t, d)| (t, c * d)));
                }
                _ => collected.push((e, c)),
            }
        }
        let terms = merge(collected);
        match terms.as_slice() {
            [] => self.constant(constant),
            [(t, c)] if *c == 1.0 && constant == 0.0 => *t,
            _ => self.raw(Node::Sum {
                constant,
                terms: terms.into_boxed_slice(),
            }),
        }
    }

    /// `a · b`.
    pub fn mul(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.product([(a, 1.0), (b, 1.0)])
    }

    /// `a / b`, stored as `a · b⁻¹`.
    pub fn div(&mut self, a: ExprId, b: ExprId) -> ExprId {
        self.product([(a, 1.0), (b, -1.0)])
    }

    /// `a^e` for an integer exponent.
    pub fn powi(&mut self, a: ExprId, e: i32) -> ExprId {
        self.product([(a, f64::from(e))])
    }

    /// `a^e` for a real exponent.
    pub fn pow(&mut self, a: ExprId, e: f64) -> ExprId {
        self.product([(a, e)])
    }

    /// The product `Π base^exponent`: constants folded into a coefficient, nested products
    /// flattened, equal bases collected (`x·x → x²`, exponents summing to 0 dropped), and
    /// a coefficient `c ≠ 1` stored as the sum term `c · (product)`.
    ///
    /// `(Π xᵢ^aᵢ)^e` is flattened and `(c·x)^e` split into `c^e·x^e` only when `e` is an
    /// integer (or `c > 0`), where these identities hold for every real value. Collecting
    /// `x^a·x^b → x^(a+b)` may extend the domain (`x/x → 1` is defined at 0).
    pub fn product(&mut self, factors: impl IntoIterator<Item = (ExprId, f64)>) -> ExprId {
        let mut coefficient = 1.0;
        let mut collected: Vec<(ExprId, f64)> = Vec::new();
        let mut stack: Vec<(ExprId, f64)> = factors.into_iter().collect();
        loop {
            while let Some((b, e)) = stack.pop() {
                if e == 0.0 {
                    continue;
                }
                match self.expand_factor(b, e) {
                    Expansion::Constant(c) => coefficient *= c,
                    Expansion::Factors(c, inner) => {
                        coefficient *= c;
                        stack.extend(inner);
                    }
                    Expansion::Opaque => collected.push((b, e)),
                }
            }
            collected = merge(collected);
            // A power that became an integer by collection (`√(x·y)·√(x·y)`) may now expand.
            let (expand, keep): (Vec<_>, Vec<_>) = collected
                .into_iter()
                .partition(|&(b, e)| is_integer(e) && !self.is_opaque_factor(b, e));
            collected = keep;
            if expand.is_empty() {
                break;
            }
            stack = expand;
        }
        if coefficient == 0.0 {
            return self.constant(0.0);
        }
        let base = match collected.as_slice() {
            [] => return self.constant(coefficient),
            [(b, e)] if *e == 1.0 => *b,
            _ => self.raw(Node::Product {
                factors: collected.into_boxed_slice(),
            }),
        };
        if coefficient == 1.0 {
            base
        } else {
            self.scale(base, coefficient)
        }
    }

    fn is_opaque_factor(&self, base: ExprId, e: f64) -> bool {
        matches!(self.expand_factor(base, e), Expansion::Opaque)
    }

    /// How the factor `base^e` (with `e ≠ 0`) enters a product.
    fn expand_factor(&self, base: ExprId, e: f64) -> Expansion {
        match self.node(base) {
            Node::Const(k) => Expansion::Constant(k.powf(e)),
            Node::Product { factors } if is_integer(e) => {
                Expansion::Factors(1.0, factors.iter().map(|&(b, a)| (b, a * e)).collect())
            }
            Node::Sum { constant, terms }
                if *constant == 0.0 && terms.len() == 1 && (is_integer(e) || terms[0].1 > 0.0) =>
            {
                let (t, c) = terms[0];
                Expansion::Factors(c.powf(e), vec![(t, e)])
            }
            _ => Expansion::Opaque,
        }
    }

    /// Rebuilds `expr` bottom-up through the smart constructors, so that the result is in
    /// canonical form even if `expr` (or any node below it) was inserted with [`Arena::raw`].
    pub fn simplify(&mut self, expr: ExprId) -> ExprId {
        let mut rebuilt: HashMap<ExprId, ExprId> = HashMap::new();
        for id in self.reachable(&[expr]) {
            let map = |c: ExprId| rebuilt[&c];
            let new = match self.node(id).clone() {
                Node::Const(c) => self.constant(c),
                Node::Atom(a) => self.atom(a),
                Node::Scalar(s) => self.scalar(s),
                Node::Apply { f, order, arg } => self.apply(f, order, map(arg)),
                Node::Sum { constant, terms } => {
                    let c = self.constant(constant);
                    let terms: Vec<_> = terms.iter().map(|&(t, k)| (map(t), k)).collect();
                    self.sum(std::iter::once((c, 1.0)).chain(terms))
                }
                Node::Product { factors } => {
                    let factors: Vec<_> = factors.iter().map(|&(b, e)| (map(b), e)).collect();
                    self.product(factors)
                }
            };
            rebuilt.insert(id, new);
        }
        rebuilt[&expr]
    }
}

/// The result of looking inside one factor of a product.
enum Expansion {
    /// The factor is the constant given.
    Constant(f64),
    /// The factor equals the coefficient times the product of the given factors.
    Factors(f64, Vec<(ExprId, f64)>),
    /// The factor is kept as it is.
    Opaque,
}

/// Sorts `(id, weight)` pairs by id, adds the weights of equal ids and drops zero weights.
/// The sort is stable, so the order of additions (and hence the rounding) is deterministic.
fn merge(mut pairs: Vec<(ExprId, f64)>) -> Vec<(ExprId, f64)> {
    pairs.sort_by_key(|&(id, _)| id);
    let mut out: Vec<(ExprId, f64)> = Vec::with_capacity(pairs.len());
    for (id, w) in pairs {
        match out.last_mut() {
            Some((last, acc)) if *last == id => *acc += w,
            _ => out.push((id, w)),
        }
    }
    out.retain(|&(_, w)| w != 0.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (Arena, ExprId, ExprId) {
        let mut a = Arena::new();
        let x = a.atom(AtomId(0));
        let y = a.atom(AtomId(1));
        (a, x, y)
    }

    fn sum_node(a: &Arena, id: ExprId) -> (f64, Vec<(ExprId, f64)>) {
        match a.node(id) {
            Node::Sum { constant, terms } => (*constant, terms.to_vec()),
            other => panic!("expected a sum, got {other:?}"),
        }
    }

    fn product_node(a: &Arena, id: ExprId) -> Vec<(ExprId, f64)> {
        match a.node(id) {
            Node::Product { factors } => factors.to_vec(),
            other => panic!("expected a product, got {other:?}"),
        }
    }

    #[test]
    fn constant_folding() {
        let mut a = Arena::new();
        let two = a.constant(2.0);
        let three = a.constant(3.0);
        let s = a.add(two, three);
        assert!(matches!(a.node(s), Node::Const(c) if *c == 5.0));
        let p = a.mul(two, three);
        assert!(matches!(a.node(p), Node::Const(c) if *c == 6.0));
        let q = a.div(three, two);
        assert!(matches!(a.node(q), Node::Const(c) if *c == 1.5));
        let t = a.apply(Builtin::Tanh, 0, two);
        assert!(matches!(a.node(t), Node::Const(c) if *c == 2f64.tanh()));
        let d = a.apply(Builtin::Sigmoid, 2, two);
        assert!(matches!(a.node(d), Node::Const(c) if *c == Builtin::Sigmoid.eval(2, 2.0)));
    }

    #[test]
    fn neutral_and_absorbing_elements() {
        let (mut a, x, _) = setup();
        let zero = a.constant(0.0);
        let one = a.constant(1.0);
        assert_eq!(a.add(x, zero), x);
        assert_eq!(a.mul(x, one), x);
        assert_eq!(a.pow(x, 1.0), x);
        assert_eq!(a.powi(x, 0), one);
        assert_eq!(a.mul(zero, x), zero);
        assert_eq!(a.scale(x, 0.0), zero);
        assert_eq!(a.scale(x, 1.0), x);
    }

    #[test]
    fn linear_combinations_collect() {
        let (mut a, x, y) = setup();
        let two_x = a.scale(x, 2.0);
        let s = a.add(x, two_x);
        assert_eq!(sum_node(&a, s), (0.0, vec![(x, 3.0)]));
        assert_eq!(a.sub(x, x), a.constant(0.0));
        // a·(x + y) + b·(x + y) collects through flattening.
        let xy = a.add(y, x);
        assert_eq!(sum_node(&a, xy), (0.0, vec![(x, 1.0), (y, 1.0)]));
        let u = a.scale(xy, 2.0);
        let v = a.scale(xy, 0.5);
        let w = a.add(u, v);
        assert_eq!(sum_node(&a, w), (0.0, vec![(x, 2.5), (y, 2.5)]));
        // Terms cancel and leave the other one alone.
        let back = a.sub(xy, y);
        assert_eq!(back, x);
    }

    #[test]
    fn sums_flatten_and_fold_constants() {
        let (mut a, x, y) = setup();
        let one = a.constant(1.0);
        let x1 = a.add(x, one);
        let s = a.sum([(x1, 2.0), (y, 1.0), (one, 3.0)]);
        assert_eq!(sum_node(&a, s), (5.0, vec![(x, 2.0), (y, 1.0)]));
    }

    #[test]
    fn products_collect_powers() {
        let (mut a, x, y) = setup();
        let xx = a.mul(x, x);
        assert_eq!(product_node(&a, xx), vec![(x, 2.0)]);
        let xxy = a.mul(xx, y);
        assert_eq!(product_node(&a, xxy), vec![(x, 2.0), (y, 1.0)]);
        assert_eq!(a.div(xx, x), x);
        let y_over_x = a.div(y, x);
        assert_eq!(a.mul(y_over_x, x), y);
        let p = a.powi(xxy, 2);
        assert_eq!(product_node(&a, p), vec![(x, 4.0), (y, 2.0)]);
    }

    #[test]
    fn coefficients_live_in_sums() {
        let (mut a, x, y) = setup();
        let two_x = a.scale(x, 2.0);
        let three_y = a.scale(y, 3.0);
        let p = a.mul(two_x, three_y);
        let xy = a.mul(x, y);
        assert_eq!(sum_node(&a, p), (0.0, vec![(xy, 6.0)]));
        let sq = a.powi(two_x, 2);
        let x2 = a.powi(x, 2);
        assert_eq!(sum_node(&a, sq), (0.0, vec![(x2, 4.0)]));
        // A negative coefficient under a fractional power is kept inside.
        let minus_x = a.neg(x);
        let root = a.pow(minus_x, 0.5);
        assert_eq!(product_node(&a, root), vec![(minus_x, 0.5)]);
        assert_eq!(a.mul(root, root), minus_x);
    }

    #[test]
    fn no_distribution_except_by_constants() {
        let (mut a, x, y) = setup();
        let one = a.constant(1.0);
        let x1 = a.add(x, one);
        let p = a.mul(x1, y);
        assert_eq!(product_node(&a, p), vec![(y, 1.0), (x1, 1.0)]);
        let sq = a.mul(x1, x1);
        assert_eq!(product_node(&a, sq), vec![(x1, 2.0)]);
        let scaled = a.scale(x1, 2.0);
        assert_eq!(sum_node(&a, scaled), (2.0, vec![(x, 2.0)]));
        let c = a.constant(-3.0);
        let scaled = a.mul(c, x1);
        assert_eq!(sum_node(&a, scaled), (-3.0, vec![(x, -3.0)]));
    }

    #[test]
    fn fractional_powers_of_products_stay_nested() {
        let (mut a, x, y) = setup();
        let xy = a.mul(x, y);
        let root = a.pow(xy, 0.5);
        assert_eq!(product_node(&a, root), vec![(xy, 0.5)]);
        assert_eq!(a.mul(root, root), xy);
        let x2 = a.powi(x, 2);
        let abs_x = a.pow(x2, 0.5);
        assert_ne!(abs_x, x);
    }

    #[test]
    fn builtin_rewrites() {
        let (mut a, x, _) = setup();
        let zero = a.constant(0.0);
        assert_eq!(a.apply(Builtin::Step, 1, x), zero);
        assert_eq!(a.apply(Builtin::Relu, 2, x), zero);
        assert_eq!(a.apply(Builtin::Id, 2, x), zero);
        assert_eq!(a.apply(Builtin::Id, 0, x), x);
        assert_eq!(a.apply(Builtin::Id, 1, x), a.constant(1.0));
        let step = a.apply(Builtin::Step, 0, x);
        assert_eq!(a.apply(Builtin::Relu, 1, x), step);
        let sin = a.apply(Builtin::Sin, 0, x);
        let d_cos = a.apply(Builtin::Cos, 1, x);
        assert_eq!(sum_node(&a, d_cos), (0.0, vec![(sin, -1.0)]));
        let exp = a.apply(Builtin::Exp, 0, x);
        assert_eq!(a.apply(Builtin::Exp, 3, x), exp);
        let sig = a.apply(Builtin::Sigmoid, 0, x);
        assert_eq!(a.apply(Builtin::Softplus, 1, x), sig);
        let t = a.apply(Builtin::Tanh, 1, x);
        assert!(matches!(
            a.node(t),
            Node::Apply {
                f: Builtin::Tanh,
                order: 1,
                ..
            }
        ));
    }

    #[test]
    fn hash_consing_shares_equal_expressions() {
        let (mut a, x, y) = setup();
        let build = |a: &mut Arena| {
            let s = a.add(x, y);
            let t = a.apply(Builtin::Tanh, 0, s);
            let p = a.mul(t, x);
            a.scale(p, 2.0)
        };
        let first = build(&mut a);
        let len = a.len();
        let second = build(&mut a);
        assert_eq!(first, second);
        assert_eq!(a.len(), len);
    }

    #[test]
    fn simplify_canonicalises_raw_nodes() {
        let (mut a, x, y) = setup();
        let two = a.raw(Node::Const(2.0));
        let raw = a.raw(Node::Sum {
            constant: 0.0,
            terms: Box::new([(y, 1.0), (x, 1.0), (two, 1.0), (x, -1.0)]),
        });
        let simplified = a.simplify(raw);
        assert_eq!(sum_node(&a, simplified), (2.0, vec![(y, 1.0)]));
        let raw_product = a.raw(Node::Product {
            factors: Box::new([(x, 1.0), (two, 1.0), (x, 1.0)]),
        });
        let simplified = a.simplify(raw_product);
        let x2 = a.powi(x, 2);
        assert_eq!(sum_node(&a, simplified), (0.0, vec![(x2, 2.0)]));
        // Simplifying a canonical expression returns it unchanged.
        assert_eq!(a.simplify(simplified), simplified);
    }
}

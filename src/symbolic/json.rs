//! The JSON form of an expression (schema in the [module documentation](super)).

use super::arena::Arena;
use super::ids::ExprId;
use super::node::Node;
use super::print::{Style, Symbols};
use serde_json::{json, Value};
use std::collections::HashMap;

/// A float as JSON: a number if finite, else the string `"NaN"`, `"inf"` or `"-inf"`.
fn number(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else if x.is_nan() {
        json!("NaN")
    } else if x > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

impl Arena {
    /// The expression tree of `expr` as JSON, naming atoms and scalars through `symbols`
    /// (text style). Shared subexpressions are repeated, as in printing; the construction is
    /// bottom-up over ids, so depth is not limited by the stack.
    pub fn to_json<S: Symbols + ?Sized>(&self, expr: ExprId, symbols: &S) -> Value {
        let mut done: HashMap<ExprId, Value> = HashMap::new();
        for id in self.reachable(&[expr]) {
            let value = match self.node(id) {
                Node::Const(c) => json!({"op": "const", "value": number(*c)}),
                Node::Atom(a) => {
                    json!({"op": "atom", "id": a.0, "name": symbols.atom(*a, Style::Text)})
                }
                Node::Scalar(s) => {
                    json!({"op": "scalar", "id": s.0, "name": symbols.scalar(*s, Style::Text)})
                }
                Node::Apply { f, order, arg } => {
                    json!({"op": "apply", "f": f.name(), "order": order, "arg": done[arg]})
                }
                Node::Sum { constant, terms } => json!({
                    "op": "add",
                    "constant": number(*constant),
                    "terms": terms
                        .iter()
                        .map(|(t, c)| json!({"coef": number(*c), "expr": done[t]}))
                        .collect::<Vec<_>>(),
                }),
                Node::Product { factors } => json!({
                    "op": "mul",
                    "factors": factors
                        .iter()
                        .map(|(b, e)| json!({"base": done[b], "exponent": number(*e)}))
                        .collect::<Vec<_>>(),
                }),
            };
            done.insert(id, value);
        }
        done.remove(&expr).expect("the root is reachable")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::Builtin;
    use crate::symbolic::{AtomId, NumberedSymbols, ScalarId};

    #[test]
    fn schema() {
        let mut a = Arena::new();
        let x = a.atom(AtomId(3));
        let theta = a.scalar(ScalarId(1));
        let t = a.apply(Builtin::Tanh, 1, x);
        let p = a.mul(t, theta);
        let inf = a.constant(f64::INFINITY);
        let e = a.sum([(p, -2.0), (x, 1.0), (inf, 1.0)]);
        let expected = json!({
            "op": "add",
            "constant": "inf",
            "terms": [
                {"coef": 1.0, "expr": {"op": "atom", "id": 3, "name": "z3"}},
                {"coef": -2.0, "expr": {"op": "mul", "factors": [
                    {"base": {"op": "scalar", "id": 1, "name": "θ1"}, "exponent": 1.0},
                    {"base": {"op": "apply", "f": "tanh", "order": 1,
                              "arg": {"op": "atom", "id": 3, "name": "z3"}},
                     "exponent": 1.0},
                ]}},
            ],
        });
        assert_eq!(a.to_json(e, &NumberedSymbols), expected);
        let c = a.constant(0.5);
        assert_eq!(
            a.to_json(c, &NumberedSymbols),
            json!({"op": "const", "value": 0.5})
        );
    }
}

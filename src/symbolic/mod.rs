//! Symbolic expressions for the limit random variables `Z` and the limit scalars `θ°`.
//!
//! # Design
//!
//! Expressions live in an [`Arena`]: an append-only vector of [`Node`]s whose children are
//! earlier [`ExprId`]s (like egg's `RecExpr`), hash-consed so that structurally equal nodes
//! are stored once. Sharing is what keeps the limit of a long training program small, and
//! the ordering "children before parents" lets every pass (simplification, differentiation,
//! evaluation, printing) iterate over ids instead of recursing, so expressions thousands of
//! levels deep are fine.
//!
//! The leaves are constants, Gaussian atoms ([`AtomId`], assigned by the `limit` module) and
//! deterministic limit scalars ([`ScalarId`], constants with respect to every atom).
//!
//! # Canonical form
//!
//! The smart constructors ([`Arena::sum`], [`Arena::product`], [`Arena::apply`], …; rules in
//! `construct.rs`) keep expressions canonical; [`Arena::raw`] inserts a node as it is, and
//! [`Arena::simplify`] rebuilds an expression through the smart constructors.
//!
//! * [`Node::Sum`] `constant + Σ coef·expr`: terms sorted by id, no duplicates, no zero
//!   coefficients, no constant or sum terms, and never a single term with coefficient 1 and
//!   constant 0 (that is the term itself).
//! * [`Node::Product`] `Π base^exponent` has **no coefficient**: `c·x·y` with `c ≠ 1` is the
//!   sum `Sum { 0, [(x·y, c)] }`, so `2·x` is always `Sum { 0, [(x, 2)] }`. Factors are
//!   sorted by id with collected exponents (`x·x = x²`), no zero exponents, no constant
//!   bases, never a single factor with exponent 1. Exponents are real (`f64`), so there is no
//!   separate power node and `√x` is `x^0.5`. A base is a product, or a scaled term
//!   `c·x`, only under a non-integer exponent (where `(x²)^0.5 = |x| ≠ x` forbids
//!   flattening), and `c·x` only with `c < 0`.
//! * [`Node::Apply`] never has a constant argument, an `id`, a derivative that vanishes
//!   (`step'`, `relu''`) or a derivative that is a built-in (`relu' = step`, `cos' = −sin`).
//! * Products of sums are not expanded; only a constant factor distributes over a sum.
//!   Hence the form is canonical up to distribution: `2·(x + 1)·y` and `(2·x + 2)·y` differ.
//! * Floats are compared by bit pattern, with `-0.0` stored as `0.0`.
//!
//! Rules that may extend the domain of definition, as usual in computer algebra:
//! `0·x = 0`, `x⁰ = 1` and `x^a·x^b = x^(a+b)` (so `x/x = 1`) even where `x` is infinite or 0.
//!
//! # JSON schema ([`Arena::to_json`])
//!
//! ```text
//! {"op": "const",  "value": v}
//! {"op": "atom",   "id": n, "name": "…"}
//! {"op": "scalar", "id": n, "name": "…"}
//! {"op": "apply",  "f": "tanh", "order": k, "arg": E}
//! {"op": "add",    "constant": v, "terms": [{"coef": v, "expr": E}, …]}
//! {"op": "mul",    "factors": [{"base": E, "exponent": v}, …]}
//! ```
//!
//! Numbers `v` are JSON numbers, or the strings `"NaN"`, `"inf"`, `"-inf"` when not finite.
//! Names come from [`Symbols`] in [`Style::Text`]. Shared subexpressions are repeated.

mod arena;
mod construct;
mod diff;
mod ids;
mod json;
mod node;
mod print;
#[cfg(test)]
mod proptests;
mod tape;

pub use arena::Arena;
pub use ids::{AtomId, ExprId, ScalarId};
pub use node::Node;
pub use print::{format_number, NumberedSymbols, Printed, Style, Symbols};
pub use tape::Tape;

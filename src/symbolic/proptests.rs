//! Property tests: simplification preserves values, `diff` agrees with finite differences,
//! and tapes agree with direct evaluation.

use super::{Arena, AtomId, ExprId, Node, ScalarId, Tape};
use crate::builtins::Builtin;
use proptest::prelude::*;

/// A random expression, kept as a tree so it can be evaluated independently of the arena.
#[derive(Clone, Debug)]
enum Tree {
    Atom(u32),
    Scalar(u32),
    Const(f64),
    Add(Box<Tree>, Box<Tree>),
    Sub(Box<Tree>, Box<Tree>),
    Scale(f64, Box<Tree>),
    Mul(Box<Tree>, Box<Tree>),
    Pow(Box<Tree>, i32),
    Apply(Builtin, Box<Tree>),
}

const SMOOTH: [Builtin; 8] = [
    Builtin::Tanh,
    Builtin::Sin,
    Builtin::Exp,
    Builtin::Erf,
    Builtin::Sigmoid,
    Builtin::Gelu,
    Builtin::Softplus,
    Builtin::Id,
];

fn tree(builtins: Vec<Builtin>) -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        (0..4u32).prop_map(Tree::Atom),
        (0..2u32).prop_map(Tree::Scalar),
        (-2.0..2.0f64).prop_map(Tree::Const),
        prop::sample::select(vec![0.0, 1.0, -1.0]).prop_map(Tree::Const),
    ];
    leaf.prop_recursive(5, 40, 2, move |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Tree::Add(a.into(), b.into())),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Tree::Sub(a.into(), b.into())),
            (-3.0..3.0f64, inner.clone()).prop_map(|(c, a)| Tree::Scale(c, a.into())),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Tree::Mul(a.into(), b.into())),
            (inner.clone(), 0..=3i32).prop_map(|(a, k)| Tree::Pow(a.into(), k)),
            (prop::sample::select(builtins.clone()), inner)
                .prop_map(|(f, a)| Tree::Apply(f, a.into())),
        ]
    })
}

/// Inserts the tree with [`Arena::raw`] only, so nothing is simplified.
fn build_raw(a: &mut Arena, t: &Tree) -> ExprId {
    let node = match t {
        Tree::Atom(i) => Node::Atom(AtomId(*i)),
        Tree::Scalar(i) => Node::Scalar(ScalarId(*i)),
        Tree::Const(c) => Node::Const(*c),
        Tree::Add(x, y) | Tree::Sub(x, y) => {
            let sign = if matches!(t, Tree::Add(..)) {
                1.0
            } else {
                -1.0
            };
            let terms = Box::new([(build_raw(a, x), 1.0), (build_raw(a, y), sign)]);
            Node::Sum {
                constant: 0.0,
                terms,
            }
        }
        Tree::Scale(c, x) => Node::Sum {
            constant: 0.0,
            terms: Box::new([(build_raw(a, x), *c)]),
        },
        Tree::Mul(x, y) => Node::Product {
            factors: Box::new([(build_raw(a, x), 1.0), (build_raw(a, y), 1.0)]),
        },
        Tree::Pow(x, k) => Node::Product {
            factors: Box::new([(build_raw(a, x), f64::from(*k))]),
        },
        Tree::Apply(f, x) => Node::Apply {
            f: *f,
            order: 0,
            arg: build_raw(a, x),
        },
    };
    a.raw(node)
}

/// The value of the tree and a first-order bound `mag` on how much rounding errors of
/// relative size ε in its leaves and operations can move it (the error is at most about
/// `ε · depth · mag`): sums add magnitudes, products multiply them, `f(u)` contributes
/// `|f(u)| + |f'(u)|·mag(u)`.
fn eval_tree(t: &Tree, atoms: &[f64; 4], scalars: &[f64; 2]) -> (f64, f64) {
    match t {
        Tree::Atom(i) => (atoms[*i as usize], atoms[*i as usize].abs()),
        Tree::Scalar(i) => (scalars[*i as usize], scalars[*i as usize].abs()),
        Tree::Const(c) => (*c, c.abs()),
        Tree::Add(x, y) | Tree::Sub(x, y) => {
            let ((u, mu), (v, mv)) = (eval_tree(x, atoms, scalars), eval_tree(y, atoms, scalars));
            let w = if matches!(t, Tree::Add(..)) {
                u + v
            } else {
                u - v
            };
            (w, mu + mv)
        }
        Tree::Scale(c, x) => {
            let (u, mu) = eval_tree(x, atoms, scalars);
            (c * u, c.abs() * mu)
        }
        Tree::Mul(x, y) => {
            let ((u, mu), (v, mv)) = (eval_tree(x, atoms, scalars), eval_tree(y, atoms, scalars));
            (u * v, mu * mv)
        }
        Tree::Pow(x, k) => {
            let (u, mu) = eval_tree(x, atoms, scalars);
            (u.powi(*k), mu.powi(*k))
        }
        Tree::Apply(f, x) => {
            let (u, mu) = eval_tree(x, atoms, scalars);
            let v = f.eval(0, u);
            (v, v.abs() + f.eval(1, u).abs() * mu)
        }
    }
}

fn point() -> impl Strategy<Value = ([f64; 4], [f64; 2])> {
    (
        prop::array::uniform4(-2.0..2.0f64),
        prop::array::uniform2(-2.0..2.0f64),
    )
}

fn eval_at(a: &Arena, e: ExprId, atoms: &[f64; 4], scalars: &[f64; 2]) -> f64 {
    a.eval(e, |x| atoms[x.0 as usize], |s| scalars[s.0 as usize])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Simplification preserves values. Tolerance 1e-9 · (1 + mag): simplification
    /// re-associates and cancels sums exactly (`x + y − x → y`), so the two evaluations
    /// differ by rounding errors of order ε·depth·mag ≈ 1e-14·mag; 1e-9 leaves ample room
    /// while still catching any wrong rule (which errs by O(1)·mag).
    #[test]
    fn simplification_preserves_values(
        t in tree(SMOOTH.iter().copied().chain([Builtin::Relu]).collect()),
        (atoms, scalars) in point(),
    ) {
        let (value, mag) = eval_tree(&t, &atoms, &scalars);
        prop_assume!(value.is_finite() && mag < 1e12);
        let mut a = Arena::new();
        let raw = build_raw(&mut a, &t);
        let simplified = a.simplify(raw);
        prop_assert_eq!(eval_at(&a, raw, &atoms, &scalars), value);
        let got = eval_at(&a, simplified, &atoms, &scalars);
        prop_assert!(
            (got - value).abs() <= 1e-9 * (1.0 + mag),
            "raw {} simplified {} (mag {})", value, got, mag
        );
        // Simplification is idempotent.
        prop_assert_eq!(a.simplify(simplified), simplified);
    }

    /// `diff` agrees with central differences (step h = 1e-5) for the raw and the simplified
    /// expression. Truncation error is h²/6·|f'''| ≈ 2e-11·|f'''| and rounding error about
    /// ε·mag/h ≈ 2e-11·mag; the tolerance 1e-5 · (1 + |f'| + mag) covers both with margin on
    /// these bounded-size trees.
    #[test]
    fn diff_agrees_with_finite_differences(
        t in tree(SMOOTH.to_vec()),
        (atoms, scalars) in point(),
        k in 0..4usize,
    ) {
        let (value, mag) = eval_tree(&t, &atoms, &scalars);
        prop_assume!(value.is_finite() && mag < 1e6);
        let h = 1e-5;
        let (mut plus, mut minus) = (atoms, atoms);
        plus[k] += h;
        minus[k] -= h;
        let fd = (eval_tree(&t, &plus, &scalars).0 - eval_tree(&t, &minus, &scalars).0) / (2.0 * h);
        let mut a = Arena::new();
        let raw = build_raw(&mut a, &t);
        let simplified = a.simplify(raw);
        for e in [raw, simplified] {
            let d = a.diff(e, AtomId(k as u32));
            let exact = eval_at(&a, d, &atoms, &scalars);
            prop_assert!(
                (exact - fd).abs() <= 1e-5 * (1.0 + exact.abs() + mag),
                "d/dz{} = {}, finite difference {}", k, exact, fd
            );
            if !a.depends_on(e, AtomId(k as u32)) {
                prop_assert!(matches!(a.node(d), Node::Const(c) if *c == 0.0));
            }
        }
    }

    /// A tape over several shared roots computes exactly what `Arena::eval` computes for each
    /// root, and a raw tree's value exactly as the tree evaluator does (same operations in
    /// the same order, so bitwise equality is expected).
    #[test]
    fn tape_matches_direct_evaluation(
        trees in prop::collection::vec(tree(SMOOTH.to_vec()), 1..4),
        (atoms, scalars) in point(),
    ) {
        let mut a = Arena::new();
        let mut roots = Vec::new();
        for t in &trees {
            let raw = build_raw(&mut a, t);
            roots.push(raw);
            roots.push(a.simplify(raw));
        }
        let tape = Tape::compile(&a, &roots);
        let atom_values: Vec<f64> = tape.atoms().iter().map(|x| atoms[x.0 as usize]).collect();
        let scalar_values: Vec<f64> = tape.scalars().iter().map(|s| scalars[s.0 as usize]).collect();
        let mut out = vec![0.0; tape.outputs()];
        let mut scratch = Vec::new();
        tape.eval(&atom_values, &scalar_values, &mut scratch, &mut out);
        for (i, &root) in roots.iter().enumerate() {
            let direct = eval_at(&a, root, &atoms, &scalars);
            prop_assert!(direct.to_bits() == out[i].to_bits() || (direct.is_nan() && out[i].is_nan()));
        }
        for (t, &raw) in trees.iter().zip(roots.iter().step_by(2)) {
            let value = eval_tree(t, &atoms, &scalars).0;
            let got = eval_at(&a, raw, &atoms, &scalars);
            prop_assert!(value == got || (value.is_nan() && got.is_nan()), "{} vs {}", value, got);
        }
    }
}

//! The hash-consed, append-only arena and the graph queries over it.

use super::ids::{AtomId, ExprId, ScalarId};
use super::node::Node;
use crate::builtins::Smoothness;
use rustc_hash::{FxBuildHasher, FxHashMap, FxHashSet};
use std::hash::BuildHasher;

/// An append-only, hash-consed store of [`Node`]s.
///
/// Structurally equal nodes are stored once, so an [`ExprId`] comparison is a structural
/// comparison. A node's children always precede it, so iterating ids in increasing order is
/// a topological order; every traversal in this module relies on that instead of recursion.
///
/// Each node also carries three facts computed once, when it is stored, from its children's:
/// whether it mentions any atom, whether it passes a random argument through a jump, and
/// whether it is affine in the atoms. The queries that use them ([`Arena::is_deterministic`],
/// [`Arena::has_random_jump`], [`Arena::is_affine`], and the
/// traversals below, which never descend into deterministic subexpressions) therefore cost
/// time in the random part of an expression only, not in all of its history.
#[derive(Debug, Default)]
pub struct Arena {
    nodes: Vec<Node>,
    facts: Vec<Facts>,
    /// The id of every node, found by the node's hash; the node itself is stored once, in
    /// `nodes`.
    ids: hashbrown::HashTable<ExprId>,
    /// Memoised partial derivatives, keyed by `(expression, atom)`; only for expressions
    /// that mention the atom.
    pub(super) derivatives: FxHashMap<(ExprId, AtomId), ExprId>,
    /// See [`Arena::size`].
    size: usize,
}

/// What a node's children tell about it, stored beside it.
#[derive(Clone, Copy, Debug, Default)]
struct Facts {
    /// It mentions at least one atom.
    random: bool,
    /// It applies a built-in whose derivative of that order jumps (`step`, `sign`, `relu'`)
    /// to an argument that mentions an atom.
    random_jump: bool,
    /// It is `c₀ + Σ cᵢ·aᵢ` for atoms `aᵢ` and deterministic `cᵢ`.
    affine: bool,
}

impl Arena {
    /// An empty arena.
    pub fn new() -> Arena {
        Arena::default()
    }

    /// The node behind an id.
    ///
    /// Panics if `id` belongs to another arena and is out of range.
    pub fn node(&self, id: ExprId) -> &Node {
        &self.nodes[id.index()]
    }

    /// The id of the node at `index` (ids are dense: `0..len()`).
    ///
    /// Panics if `index >= len()`.
    pub fn id(&self, index: usize) -> ExprId {
        assert!(index < self.nodes.len(), "no node {index} in the arena");
        ExprId(index as u32)
    }

    /// The number of distinct nodes stored.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The number of nodes plus the children they list: a measure of the arena's memory that
    /// a few nodes with long sums cannot hide from. O(1).
    pub fn size(&self) -> usize {
        self.size
    }

    /// Whether no node has been stored yet.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Inserts `node` as it is, without simplification (but still hash-consed, with `-0.0`
    /// normalised to `0.0`). The node may violate the canonical form; every operation of the
    /// arena accepts such nodes and treats them by their value.
    ///
    /// Panics if a child id is not already in the arena.
    pub fn raw(&mut self, node: Node) -> ExprId {
        let len = self.nodes.len();
        node.for_each_child(|c| {
            assert!(c.index() < len, "child {c:?} is not in the arena");
        });
        let node = node.normalised();
        let hash = FxBuildHasher.hash_one(&node);
        if let Some(&id) = self.ids.find(hash, |&id| self.nodes[id.index()] == node) {
            return id;
        }
        let id = ExprId(u32::try_from(len).expect("expression arena exceeds u32::MAX nodes"));
        let facts = self.facts_of(&node);
        node.for_each_child(|_| self.size += 1);
        self.size += 1;
        self.nodes.push(node);
        self.facts.push(facts);
        let nodes = &self.nodes;
        self.ids
            .insert_unique(hash, id, |&id| FxBuildHasher.hash_one(&nodes[id.index()]));
        id
    }

    fn facts_of(&self, node: &Node) -> Facts {
        let mut facts = Facts {
            random: matches!(node, Node::Atom(_)),
            random_jump: false,
            affine: true,
        };
        node.for_each_child(|c| {
            let child = self.facts[c.index()];
            facts.random |= child.random;
            facts.random_jump |= child.random_jump;
        });
        facts.affine = match node {
            Node::Const(_) | Node::Scalar(_) | Node::Atom(_) => true,
            Node::Apply { .. } => !facts.random,
            Node::Sum { terms, .. } => terms.iter().all(|(t, _)| self.facts[t.index()].affine),
            Node::Product { factors } => {
                let mut random = factors.iter().filter(|(b, _)| self.facts[b.index()].random);
                match (random.next(), random.next()) {
                    (None, _) => true,
                    (Some(&(b, e)), None) => e == 1.0 && self.facts[b.index()].affine,
                    (Some(_), Some(_)) => false,
                }
            }
        };
        if let Node::Apply { f, order, arg } = node {
            if self.facts[arg.index()].random && f.smoothness_of(*order) == Smoothness::Jump {
                facts.random_jump = true;
            }
        }
        facts
    }

    /// Whether `expr` mentions no atom: it is a number or a function of limit scalars. O(1).
    pub fn is_deterministic(&self, expr: ExprId) -> bool {
        !self.facts[expr.index()].random
    }

    /// Whether `expr` is affine in the atoms, `c₀ + Σ cᵢ·aᵢ` with deterministic `cᵢ`, so that
    /// each of its partial derivatives is deterministic. O(1).
    pub fn is_affine(&self, expr: ExprId) -> bool {
        self.facts[expr.index()].affine
    }

    /// Whether `expr` applies a built-in with a jump (`step`, `sign`, `relu'`, …) to an
    /// argument that mentions an atom, anywhere inside. O(1).
    pub fn has_random_jump(&self, expr: ExprId) -> bool {
        self.facts[expr.index()].random_jump
    }

    /// The partial derivative of `expr` with respect to `atom`, if [`Arena::diff`] has
    /// computed it (it memoises every node it differentiates).
    pub fn memoised_derivative(&self, expr: ExprId, atom: AtomId) -> Option<ExprId> {
        self.derivatives.get(&(expr, atom)).copied()
    }

    /// The id of atom `a`'s node, if it has one: no expression stored before it mentions `a`.
    pub(crate) fn atom_node(&self, a: AtomId) -> Option<ExprId> {
        let node = Node::Atom(a);
        let hash = FxBuildHasher.hash_one(&node);
        self.ids
            .find(hash, |&id| self.nodes[id.index()] == node)
            .copied()
    }

    /// Every node reachable from `roots` (roots included), in increasing id order.
    pub fn reachable(&self, roots: &[ExprId]) -> Vec<ExprId> {
        self.reachable_until(roots, |_| false)
    }

    /// Like [`Arena::reachable`], but does not descend below (nor include) nodes for which
    /// `stop` holds.
    pub(crate) fn reachable_until(
        &self,
        roots: &[ExprId],
        stop: impl Fn(ExprId) -> bool,
    ) -> Vec<ExprId> {
        let mut seen: FxHashSet<ExprId> = FxHashSet::default();
        let mut stack: Vec<ExprId> = roots.to_vec();
        while let Some(id) = stack.pop() {
            if stop(id) || !seen.insert(id) {
                continue;
            }
            self.node(id).for_each_child(|c| stack.push(c));
        }
        let mut order: Vec<ExprId> = seen.into_iter().collect();
        order.sort_unstable();
        order
    }

    /// The atoms `expr` mentions, sorted and deduplicated.
    pub fn atoms(&self, expr: ExprId) -> Vec<AtomId> {
        self.atoms_of(&[expr])
    }

    /// The scalars `expr` mentions, sorted and deduplicated.
    pub fn scalars(&self, expr: ExprId) -> Vec<ScalarId> {
        self.scalars_of(&[expr])
    }

    /// The atoms any of `roots` mentions, sorted and deduplicated. Visits the random part of
    /// the roots only.
    pub(super) fn atoms_of(&self, roots: &[ExprId]) -> Vec<AtomId> {
        let mut atoms: Vec<AtomId> = self
            .reachable_until(roots, |id| self.is_deterministic(id))
            .into_iter()
            .filter_map(|id| match self.node(id) {
                Node::Atom(a) => Some(*a),
                _ => None,
            })
            .collect();
        atoms.sort_unstable();
        atoms
    }

    /// The scalars any of `roots` mentions, sorted and deduplicated.
    pub(super) fn scalars_of(&self, roots: &[ExprId]) -> Vec<ScalarId> {
        self.reachable(roots)
            .into_iter()
            .filter_map(|id| match self.node(id) {
                Node::Scalar(s) => Some(*s),
                _ => None,
            })
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect()
    }

    /// Whether the part of `expr` that mentions atoms has at most `max_nodes` distinct nodes.
    /// Stops as soon as it knows, so it costs O(`max_nodes`) nodes and child reads (a node
    /// with many children counts each child it would visit).
    pub fn random_part_within(&self, expr: ExprId, max_nodes: usize) -> bool {
        let mut seen: FxHashSet<ExprId> = FxHashSet::default();
        let mut stack = vec![expr];
        let mut reads = 0;
        while let Some(id) = stack.pop() {
            if self.is_deterministic(id) || !seen.insert(id) {
                continue;
            }
            let mut too_many = seen.len() > max_nodes;
            self.node(id).for_each_child(|c| {
                reads += 1;
                too_many |= reads > 4 * max_nodes;
                if !too_many {
                    stack.push(c);
                }
            });
            if too_many {
                return false;
            }
        }
        true
    }

    /// Whether `expr` mentions `atom` (syntactically: `x − x` built raw still depends on x).
    pub fn depends_on(&self, expr: ExprId, atom: AtomId) -> bool {
        let Some(first) = self.atom_node(atom) else {
            return false;
        };
        let mut seen: FxHashSet<ExprId> = FxHashSet::default();
        let mut stack = vec![expr];
        while let Some(id) = stack.pop() {
            if id < first || self.is_deterministic(id) || !seen.insert(id) {
                continue;
            }
            match self.node(id) {
                Node::Atom(a) if *a == atom => return true,
                node => node.for_each_child(|c| stack.push(c)),
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_nodes_are_hash_consed() {
        let mut a = Arena::new();
        let x = a.raw(Node::Atom(AtomId(0)));
        let s = a.raw(Node::Sum {
            constant: 1.0,
            terms: Box::new([(x, 2.0)]),
        });
        let len = a.len();
        assert_eq!(a.raw(Node::Atom(AtomId(0))), x);
        let s2 = a.raw(Node::Sum {
            constant: 1.0,
            terms: Box::new([(x, 2.0)]),
        });
        assert_eq!(s, s2);
        assert_eq!(a.len(), len);
        // Two nodes and the one term of the sum; the repeats add nothing.
        assert_eq!(a.size(), 3);
    }

    #[test]
    fn negative_zero_is_normalised() {
        let mut a = Arena::new();
        assert_eq!(a.raw(Node::Const(-0.0)), a.raw(Node::Const(0.0)));
        let nan = a.raw(Node::Const(f64::NAN));
        assert_eq!(a.raw(Node::Const(f64::NAN)), nan);
    }

    #[test]
    fn queries_over_the_reachable_subgraph() {
        let mut a = Arena::new();
        let x = a.raw(Node::Atom(AtomId(3)));
        let y = a.raw(Node::Atom(AtomId(1)));
        let t = a.raw(Node::Scalar(ScalarId(7)));
        let p = a.raw(Node::Product {
            factors: Box::new([(x, 1.0), (t, 1.0), (y, 2.0), (x, 1.0)]),
        });
        assert_eq!(a.atoms(p), vec![AtomId(1), AtomId(3)]);
        assert_eq!(a.scalars(p), vec![ScalarId(7)]);
        assert!(a.depends_on(p, AtomId(3)));
        assert!(a.random_part_within(p, 3));
        assert!(!a.random_part_within(p, 2));
        assert!(!a.depends_on(p, AtomId(2)));
        assert!(!a.depends_on(t, AtomId(3)));
        assert_eq!(a.reachable(&[p]), vec![x, y, t, p]);
    }

    #[test]
    fn deep_expressions_do_not_overflow_the_stack() {
        let mut a = Arena::new();
        let mut e = a.raw(Node::Atom(AtomId(0)));
        for _ in 0..200_000 {
            e = a.raw(Node::Sum {
                constant: 1.0,
                terms: Box::new([(e, 1.0)]),
            });
        }
        assert_eq!(a.atoms(e), vec![AtomId(0)]);
        assert!(a.depends_on(e, AtomId(0)));
    }
}

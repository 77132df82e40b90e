//! When `--method auto` hands a program to particles: some expectation is an integral in
//! more dimensions than quadrature takes.
//!
//! The dimension is read from the structure, as the quadrature evaluator splits an
//! integrand: a sum term by term, a product into blocks of factors whose atoms may be
//! correlated (atoms of one ZHat family or one initial group), and a polynomial not at all
//! (Gaussian algebra integrates it exactly in any dimension).

use crate::limit::{AtomKind, Limit, ScalarDefinition};
use crate::symbolic::{Arena, AtomId, ExprId, Node};
use rustc_hash::FxHashSet;

/// The largest integral dimension among the program's expectations, with the name of the
/// instruction it belongs to, if it exceeds `max_dim`.
pub fn beyond_quadrature(limit: &Limit, max_dim: usize) -> Option<(usize, String)> {
    let scalars = limit.scalars.iter().filter_map(|s| match s.definition {
        ScalarDefinition::Expectation(e) => Some((e, s.role.instruction())),
        _ => None,
    });
    let covariances = limit.families.iter().flat_map(|f| {
        f.covariance
            .iter()
            .map(|c| (c.integrand, limit.atoms[c.a.0 as usize].instruction))
    });
    let mut worst: Option<(usize, usize)> = None;
    for (e, instruction) in scalars.chain(covariances) {
        let d = dimension(limit, e);
        if d > max_dim && worst.map_or(true, |(w, _)| d > w) {
            worst = Some((d, instruction));
        }
    }
    worst.map(|(d, i)| (d, limit.names[i].clone()))
}

/// The dimension quadrature would integrate `e` in (0 for a polynomial).
fn dimension(limit: &Limit, e: ExprId) -> usize {
    let arena = &limit.arena;
    if arena.is_deterministic(e) || is_polynomial(arena, e) {
        return 0;
    }
    let terms: Vec<ExprId> = match arena.node(e) {
        Node::Sum { terms, .. } => terms.iter().map(|(t, _)| *t).collect(),
        _ => vec![e],
    };
    let mut worst = 0;
    for t in terms {
        let factors: Vec<ExprId> = match arena.node(t) {
            Node::Product { factors } => factors.iter().map(|(f, _)| *f).collect(),
            _ => vec![t],
        };
        // Blocks of factors whose atoms share a source (a family or an initial group).
        let mut blocks: Vec<Block> = Vec::new();
        for f in factors {
            let atoms: FxHashSet<AtomId> = arena.atoms(f).into_iter().collect();
            let sources: FxHashSet<(bool, usize)> =
                atoms.iter().map(|&a| source(limit, a)).collect();
            let mut merged = (sources, atoms);
            blocks.retain(|(s, a)| {
                if s.is_disjoint(&merged.0) {
                    return true;
                }
                merged.0.extend(s.iter().copied());
                merged.1.extend(a.iter().copied());
                false
            });
            blocks.push(merged);
        }
        worst = blocks.iter().map(|(_, a)| a.len()).fold(worst, usize::max);
    }
    worst
}

/// A block of factors: the sources of its atoms, and the atoms.
type Block = (FxHashSet<(bool, usize)>, FxHashSet<AtomId>);

/// Where an atom's correlations live: its ZHat family, or its initial group.
fn source(limit: &Limit, a: AtomId) -> (bool, usize) {
    match limit.atoms[a.0 as usize].kind {
        AtomKind::Hat { family, .. } => (true, family),
        AtomKind::Initial { group, .. } => (false, group.index()),
    }
}

/// Whether the random part of `e` is a polynomial in the atoms: no function applied to an
/// atom, no negative or fractional power of one.
fn is_polynomial(arena: &Arena, e: ExprId) -> bool {
    let mut seen: FxHashSet<ExprId> = FxHashSet::default();
    let mut stack = vec![e];
    while let Some(id) = stack.pop() {
        if arena.is_deterministic(id) || !seen.insert(id) {
            continue;
        }
        match arena.node(id) {
            Node::Apply { .. } => return false,
            Node::Product { factors }
                if factors.iter().any(|(b, x)| {
                    !arena.is_deterministic(*b) && (x.fract() != 0.0 || *x < 0.0)
                }) =>
            {
                return false
            }
            node => node.for_each_child(|c| stack.push(c)),
        }
    }
    true
}

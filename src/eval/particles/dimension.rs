//! When `--method auto` hands a program to particles: some expectation is an integral in
//! more dimensions than quadrature takes.
//!
//! The dimension is read from the structure, as the quadrature evaluator splits an
//! integrand: a sum term by term, a product into blocks of factors whose atoms may be
//! correlated (atoms of one ZHat family or one initial group), and a polynomial not at all
//! (Gaussian algebra integrates it exactly in any dimension). A smooth block's atoms that
//! quadrature integrates out in one dimension ([`crate::eval::conditional`]) do not count, and
//! neither does a block of relu/step/erf of at most two combinations of its atoms (a
//! convolution's pre-activations), which has a closed form.

use crate::builtins::Smoothness;
use crate::eval::{expand, forms};
use crate::limit::{AtomKind, Limit, ScalarDefinition};
use crate::symbolic::{Arena, AtomId, ExprId, Node};
use rustc_hash::FxHashSet;

/// The first of the program's expectations (Moments, then ZHat covariances) whose integral
/// has more dimensions than `max_dim`, as its dimension and the name of its instruction.
/// Stops there: a long training program has tens of thousands of expectations, and one is
/// enough to decide. An integrand is multiplied out into at most `max_terms` products, as
/// the evaluator that will take it does.
pub fn beyond_quadrature(
    limit: &Limit,
    max_dim: usize,
    max_terms: usize,
) -> Option<(usize, String)> {
    let scalars = limit.scalars.iter().filter_map(|s| match s.definition {
        ScalarDefinition::Expectation(e) => Some((e, s.role.instruction())),
        _ => None,
    });
    let covariances = limit.families.iter().flat_map(|f| {
        f.covariance
            .iter()
            .map(|c| (c.integrand, limit.atoms[c.a.0 as usize].instruction))
    });
    scalars
        .chain(covariances)
        .map(|(e, instruction)| (dimension(limit, e, max_dim, max_terms), instruction))
        .find(|&(d, _)| d > max_dim)
        .map(|(d, i)| (d, limit.names[i].clone()))
}

/// The dimension quadrature would integrate `e` in (0 for a polynomial). Where the terms
/// and factors as written give more than `max_dim`, the integrand is expanded by linearity
/// first, as the evaluator does, so that the products of fewer atoms, and the factors the
/// conditional rule reduces, are seen.
fn dimension(limit: &Limit, e: ExprId, max_dim: usize, max_terms: usize) -> usize {
    let arena = &limit.arena;
    if arena.is_deterministic(e) || is_polynomial(arena, e) {
        return 0;
    }
    let terms: Vec<ExprId> = match arena.node(e) {
        Node::Sum { terms, .. } => terms.iter().map(|(t, _)| *t).collect(),
        _ => vec![e],
    };
    let products = terms.into_iter().map(|t| match arena.node(t) {
        Node::Product { factors } => factors.to_vec(),
        _ => vec![(t, 1.0)],
    });
    let written = products_dimension(limit, products, max_dim);
    if written <= max_dim {
        return written;
    }
    match expand::expand(arena, e, &|_| None, max_terms) {
        Some(terms) => products_dimension(
            limit,
            terms.into_iter().map(|(monomial, _)| monomial),
            max_dim,
        ),
        None => written,
    }
}

/// The largest dimension among products of factors (a block's reduction is looked for only
/// where it matters: above `max_dim` and up to [`EXPANDED_UP_TO`] atoms).
fn products_dimension(
    limit: &Limit,
    products: impl Iterator<Item = Vec<(ExprId, f64)>>,
    max_dim: usize,
) -> usize {
    let arena = &limit.arena;
    let mut worst = 0;
    for factors in products {
        // Blocks of factors whose atoms share a source (a family or an initial group).
        let mut blocks: Vec<Block> = Vec::new();
        for f in factors {
            let atoms: FxHashSet<AtomId> = arena.atoms(f.0).into_iter().collect();
            let sources: FxHashSet<(bool, usize)> =
                atoms.iter().map(|&a| source(limit, a)).collect();
            let mut merged = (sources, atoms, vec![f]);
            blocks.retain(|(s, a, f)| {
                if s.is_disjoint(&merged.0) {
                    return true;
                }
                merged.0.extend(s.iter().copied());
                merged.1.extend(a.iter().copied());
                merged.2.extend(f.iter().copied());
                false
            });
            blocks.push(merged);
        }
        worst = blocks
            .iter()
            .map(|(_, a, f)| match a.len() > max_dim {
                true if closed_form(arena, a, f) => 0,
                true if a.len() <= EXPANDED_UP_TO => a.len() - integrated_out(arena, f),
                _ => a.len(),
            })
            .fold(worst, usize::max);
    }
    worst
}

/// Blocks of at most this many atoms are looked at for the conditional rule (beyond it, one
/// reduction would not bring them within the quadrature limit).
const EXPANDED_UP_TO: usize = 8;

/// Whether a block's factors are relu/step/erf (or affine) calls of at most two combinations of
/// its atoms that the closed forms cover, whatever the law (its scalars are read as 1: only the
/// shape matters).
fn closed_form(arena: &Arena, atoms: &FxHashSet<AtomId>, factors: &[(ExprId, f64)]) -> bool {
    let mut atoms: Vec<AtomId> = atoms.iter().copied().collect();
    atoms.sort_unstable();
    forms::combination_calls(arena, factors, &atoms, &|_| 1.0)
        .is_some_and(|(calls, combinations)| combinations.len() <= 2 && forms::covered(&calls))
}

/// A block of factors: the sources of its atoms, the atoms, and the factors with exponents.
type Block = (
    FxHashSet<(bool, usize)>,
    FxHashSet<AtomId>,
    Vec<(ExprId, f64)>,
);

/// How many atoms of a smooth block the evaluator integrates out in one dimension
/// ([`crate::eval::conditional`]); 0 when some factor has a kink or a jump (quadrature does
/// not reduce those).
fn integrated_out(arena: &Arena, factors: &[(ExprId, f64)]) -> usize {
    let factors: Vec<ExprId> = factors.iter().map(|(f, _)| *f).collect();
    let smooth = arena
        .reachable(&factors)
        .iter()
        .all(|&id| match arena.node(id) {
            Node::Apply { f, order, .. } => f.smoothness_of(*order) == Smoothness::Smooth,
            _ => true,
        });
    match smooth {
        true => crate::eval::conditional::inner_atoms(arena, &factors).map_or(0, |(_, a)| a.len()),
        false => 0,
    }
}

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

//! How the size of the derived limit grows with the program, counted in arena nodes (not
//! time, so the test is deterministic), on the μP depth-3 tanh training program that
//! `tpc gen mlp --depth 3 --param mup --nonlin tanh --steps T` writes, at T = 5, 10, 20.
//!
//! Two counts, each compared with the number of instructions by its log-log slope between
//! T = 10 and T = 20:
//!
//! * the **program part**: every node reachable from the Z's, the ZHat covariance integrands
//!   and the definitions of the limit scalars other than the Ż coefficients. Hash-consing
//!   keeps it near-linear in the program (measured slope 1.16: each Ż sum has one term per
//!   earlier opposite-family atom, Θ(T²) terms in all, while the instructions grow as
//!   T^1.7); a re-expansion of shared subexpressions would raise it by a factor of T.
//! * the **whole arena** of the expanded derivation (`limit::derive`, what evaluation uses),
//!   which also holds the derivatives `∂Z^x/∂Ẑ` whose expectations are the Ż coefficients:
//!   Θ(T²) coefficients of Θ(T) new nodes each, so it grows as about instructions^1.7 (T^2.8;
//!   docs/architecture.md). The bound below guards against that getting worse.
//! * the **whole arena** of the deferred derivation (`limit::derive_deferred`, what
//!   `tpc derive` prints), which keeps each coefficient as its definition `E[∂Z^x/∂Ẑ]`: it
//!   is the program part and little more, near-linear in the program.

use tpc::builtins::Builtin;
use tpc::ir::LowerOptions;
use tpc::limit::{self, Limit, ScalarDefinition, ScalarRole};
use tpc::param::{generate_mlp, Abc, MlpSpec, Preset};
use tpc::symbolic::ExprId;

/// Instructions, arena nodes, program-part nodes, nodes of the deferred derivation's arena,
/// and that arena's size counting the terms of its sums, of the depth-3 μP tanh program at
/// `steps`.
fn sizes(steps: usize) -> (usize, usize, usize, usize, usize) {
    let tanh = Builtin::from_name("tanh").expect("tanh is a built-in");
    let abc = Abc::preset(Preset::Mup, 3);
    let source =
        generate_mlp(&MlpSpec::reference(abc, "μP", tanh, steps)).expect("the generator writes it");
    let program = tpc::compile(source.as_bytes(), &LowerOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render("gen.tp", &source)));
    let limit = limit::derive(&program).expect("the program derives");
    let deferred = limit::derive_deferred(&program).expect("the program derives");
    (
        program.instructions.len(),
        limit.arena.len(),
        program_part(&limit),
        deferred.arena.len(),
        deferred.arena.size(),
    )
}

/// The nodes reachable from everything the limit defines except the Ż coefficients'
/// integrands.
fn program_part(limit: &Limit) -> usize {
    let mut roots: Vec<ExprId> = limit.z.iter().flatten().copied().collect();
    for family in &limit.families {
        roots.extend(family.covariance.iter().map(|e| e.integrand));
    }
    for scalar in &limit.scalars {
        if matches!(scalar.role, ScalarRole::ZDotCoefficient { .. }) {
            continue;
        }
        if let ScalarDefinition::Expectation(e) | ScalarDefinition::Deterministic(e) =
            scalar.definition
        {
            roots.push(e);
        }
    }
    limit.arena.reachable(&roots).len()
}

/// The slope of log y against log x between two points.
fn slope(x0: usize, y0: usize, x1: usize, y1: usize) -> f64 {
    (y1 as f64 / y0 as f64).ln() / (x1 as f64 / x0 as f64).ln()
}

#[test]
fn derived_limit_of_a_training_program_grows_as_measured() {
    let small = sizes(5);
    let (i0, arena0, part0, deferred0, terms0) = sizes(10);
    let (i1, arena1, part1, deferred1, terms1) = sizes(20);
    eprintln!(
        "T = 5, 10, 20: {small:?}, {:?}, {:?}",
        (i0, arena0, part0, deferred0, terms0),
        (i1, arena1, part1, deferred1, terms1)
    );
    // Sanity: the program grows, and the eager derivatives are most of the arena.
    assert!(i1 > i0 && i0 > small.0);
    assert!(part1 < arena1);

    // Program part: near-linear in the instructions (measured 1.16 between T = 10 and 20);
    // 1.3 leaves room for a constant-size change of the generator or of the canonical form,
    // not for a re-expansion (a factor T more, a slope of about 1.8).
    let program_slope = slope(i0, part0, i1, part1);
    assert!(
        program_slope < 1.3,
        "the program part of the limit grows as instructions^{program_slope:.2}: {part0} → {part1} nodes for {i0} → {i1} instructions"
    );

    // Whole arena: measured 1.69 between T = 10 and 20 (the eager Ż derivatives). 1.8 fails
    // a change that makes it grow faster by a factor of about T^0.2.
    let arena_slope = slope(i0, arena0, i1, arena1);
    assert!(
        arena_slope < 1.8,
        "the derived arena grows as instructions^{arena_slope:.2}: {arena0} → {arena1} nodes for {i0} → {i1} instructions"
    );

    // Deferred derivation: the program part plus one node per Ż coefficient, so it grows as
    // the program part does (measured 1.21); 1.3 as for the program part.
    let deferred_slope = slope(i0, deferred0, i1, deferred1);
    assert!(
        deferred_slope < 1.3,
        "the deferred derivation's arena grows as instructions^{deferred_slope:.2}: {deferred0} → {deferred1} nodes for {i0} → {i1} instructions"
    );

    // The same arena counted with the terms of its sums (`Arena::size`): measured 1.21. A
    // source line summing over the earlier steps, built a term at a time, stores every
    // partial sum and gives 1.48.
    let terms_slope = slope(i0, terms0, i1, terms1);
    assert!(
        terms_slope < 1.3,
        "the deferred derivation's nodes and terms grow as instructions^{terms_slope:.2}: {terms0} → {terms1} for {i0} → {i1} instructions"
    );
}

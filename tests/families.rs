//! Families evaluated as arrays (programs lowered by representatives) against the same
//! programs unrolled and evaluated scalar by scalar.

use tpc::eval::EvalOptions;
use tpc::ir::LowerOptions;
use tpc::output::OutputValue;

/// Both paths' outputs: (array path, unrolled path), and whether the array path was taken.
fn both(source: &str) -> (Vec<OutputValue>, Vec<OutputValue>, bool) {
    let options = EvalOptions::default();
    let parallel = tpc::compile(
        source.as_bytes(),
        &LowerOptions {
            parallel: true,
            ..LowerOptions::default()
        },
    )
    .expect("compiles");
    let took_arrays = parallel.parallel.is_some();
    let arrays = tpc::evaluate_outputs(source.as_bytes(), &LowerOptions::default(), &options, None)
        .expect("evaluates");
    let program = tpc::compile(source.as_bytes(), &LowerOptions::default()).expect("compiles");
    let limit = tpc::limit::derive(&program).expect("derives");
    let evaluation = tpc::eval::evaluate(&limit, &options, None).expect("evaluates");
    let unrolled = tpc::output::collect(&program, &limit, &evaluation);
    (arrays.outputs, unrolled, took_arrays)
}

/// Same names, shapes, defined entries; values within `tolerance` relative (both paths use
/// the same closed forms and quadrature rules, so they agree to rounding).
fn assert_agree(a: &[OutputValue], b: &[OutputValue], tolerance: f64) {
    assert_eq!(a.len(), b.len(), "number of outputs");
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (OutputValue::Scalar { name, value }, OutputValue::Scalar { name: m, value: w }) => {
                assert_eq!(name, m);
                assert!(
                    (value.value - w.value).abs() <= tolerance * w.value.abs().max(1.0),
                    "{name}: {} vs {}",
                    value.value,
                    w.value
                );
            }
            (OutputValue::Family(f), OutputValue::Family(g)) => {
                assert_eq!(f.name, g.name);
                assert_eq!(f.values.shape(), g.values.shape(), "{}", f.name);
                assert_eq!(f.start, g.start, "{}", f.name);
                for (index, (u, v)) in f.values.indexed_iter().zip(g.values.iter()).map(|((i, u), v)| (i, (u, v))) {
                    assert_eq!(u.is_nan(), v.is_nan(), "{}{:?}: {u} vs {v}", f.name, index);
                    if !u.is_nan() {
                        assert!(
                            (u - v).abs() <= tolerance * v.abs().max(1.0),
                            "{}{:?}: {u} vs {v}",
                            f.name,
                            index
                        );
                    }
                }
            }
            _ => panic!("output kinds differ: {x:?} vs {y:?}"),
        }
    }
}

fn program(name: &str) -> String {
    std::fs::read_to_string(format!("{}/programs/{name}", env!("CARGO_MANIFEST_DIR")))
        .expect("program exists")
}

#[test]
fn example_kernel_programs_agree_with_their_unrolled_evaluation() {
    for name in ["kernel_matrix.tp", "nngp_relu.tp", "ntk_relu.tp", "nngp_erf.tp", "ntk_erf.tp", "nngp_tanh.tp"] {
        let (a, b, took) = both(&program(name));
        println!("{name}: arrays {took}");
        assert_agree(&a, &b, 1e-12);
    }
}

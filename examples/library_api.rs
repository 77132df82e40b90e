//! The library API end to end: compile a program, derive its limit, print the equations,
//! evaluate them, and compare with a finite-width run.
//!
//! `cargo run --release --example library_api`

use tpc::ir::LowerOptions;
use tpc::limit::{LimitDisplay, LimitFormat};

const PROGRAM: &str = "\
# Reference case 3: the minimal program with a nonzero ZDot.
matrix W ~ N(0, 2/n)
vector x ~ N(0, 1)
h = W @ x
y = W.T @ tanh(h)
m1 = mean(x * y)        # → 2 E[tanh'(Z^h)] = 0.960048508672
";

fn main() {
    let program = tpc::compile(PROGRAM.as_bytes(), &LowerOptions::default())
        .unwrap_or_else(|d| panic!("{}", d.render("example.tp", PROGRAM)));
    let limit = tpc::limit::derive(&program).expect("a Θ(1) program derives");
    print!(
        "{}",
        LimitDisplay::new(&limit, PROGRAM, "example.tp", LimitFormat::Text)
    );

    let evaluation =
        tpc::eval::evaluate(&limit, &Default::default(), None).expect("the limit evaluates");
    let m1 = evaluation.scalars[limit.outputs[0].0 as usize];
    println!(
        "\nm1° = {} ± {} ({})",
        tpc::output::format_measured(m1.value, m1.error),
        tpc::output::format_error(m1.error),
        m1.method.name()
    );

    for width in [256, 1024, 4096] {
        let sample = tpc::simulate::simulate(&program, width, 1).expect("the program runs");
        println!("n = {width:5}: m1 = {:.6}", sample.outputs()[0]);
    }
}

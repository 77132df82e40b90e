//! How check (`tpc::compile`) and derivation grow with the program, on three families of
//! generated programs:
//!
//! * `chain`: `h[t+1] = W.T @ tanh(W @ h[t])` for k steps, k = 25, 50, …, 800;
//! * `steps`: `tpc gen mlp --depth 3 --param mup --nonlin tanh --steps T`, T = 5, 10, 20, 40, 100;
//! * `depth`: `tpc gen mlp --depth D --steps 2` (μP, tanh), D = 2, 4, 8, 16.
//!
//! For each size: instructions; the times (the fastest of a few runs) of compile, of the
//! derivation `tpc derive` prints (`tpc::limit::derive_deferred`: Ż coefficients kept as
//! `E[∂Z/∂Ẑ]`) and of rendering it as text once, with its arena's size (nodes plus the terms
//! they list); the time of the derivation evaluation uses (`tpc::limit::derive`: every
//! derivative expanded) and its arena's size, or the error that refused it; the atoms. At the end a table with the growth exponents (slope of log time
//! against log instructions) between the two largest sizes measured. Linear growth is an
//! exponent near 1.
//!
//! `cargo bench --bench complexity`. Environment: `TPC_BENCH_QUICK=1` measures only the three
//! smallest sizes of each family, once; `TPC_BENCH_FAMILY=steps` measures one family;
//! `TPC_BENCH_BUDGET=S` (default 60) is the longest one
//! measurement may be expected to take: a larger size whose time, extrapolated from the two
//! before it, would exceed it is skipped and shown as such.

use std::time::{Duration, Instant};
use tpc::builtins::Builtin;
use tpc::ir::LowerOptions;
use tpc::limit::{LimitDisplay, LimitFormat};
use tpc::param::{generate_mlp, Abc, MlpSpec, Preset};

/// One family of programs: a name, what its parameter is, the sizes, and the generator.
struct Family {
    name: &'static str,
    parameter: &'static str,
    sizes: &'static [usize],
    source: fn(usize) -> String,
}

/// The chain of `steps` steps through `W` and `Wᵀ` (issue #13, item 3).
fn chain(steps: usize) -> String {
    format!(
        "matrix W ~ N(0, 1/n)\n\
         vector x ~ N(0, 1)\n\
         h[0] = x\n\
         for t in 0..{steps} {{\n\
         \x20   h[t+1] = W.T @ tanh(W @ h[t])\n\
         }}\n\
         k = mean(h[{steps}] * h[{steps}])\n\
         output k\n"
    )
}

/// `tpc gen mlp --depth DEPTH --param mup --nonlin tanh --steps STEPS`.
fn mlp(depth: usize, steps: usize) -> String {
    let tanh = Builtin::from_name("tanh").expect("tanh is a built-in");
    let abc = Abc::preset(Preset::Mup, depth);
    generate_mlp(&MlpSpec::reference(abc, "μP", tanh, steps)).expect("the generator writes it")
}

/// The μP MLP of depth 3 trained for `steps` steps.
fn training(steps: usize) -> String {
    mlp(3, steps)
}

/// The μP MLP of depth `depth` trained for 2 steps.
fn deep(depth: usize) -> String {
    mlp(depth, 2)
}

/// The three families measured.
const FAMILIES: &[Family] = &[
    Family {
        name: "chain",
        parameter: "k",
        sizes: &[25, 50, 100, 200, 400, 800],
        source: chain,
    },
    Family {
        name: "steps",
        parameter: "T",
        sizes: &[5, 10, 20, 40, 100],
        source: training,
    },
    Family {
        name: "depth",
        parameter: "D",
        sizes: &[2, 4, 8, 16],
        source: deep,
    },
];

/// One size's measurement.
struct Row {
    size: usize,
    instructions: usize,
    compile: Duration,
    /// The deferred derivation (`tpc derive`).
    derive: Duration,
    /// Rendering the deferred derivation as text, once.
    print: Duration,
    /// [`tpc::symbolic::Arena::size`]: nodes plus the terms they list.
    arena: usize,
    /// The expanded derivation (`tpc eval`): its time and arena size, or the error code that
    /// refused it (`E0203`: over the default size limit).
    expanded: Result<(Duration, usize), String>,
    atoms: usize,
}

impl Row {
    /// The expanded derivation's time in seconds, if it ran.
    fn expanded_secs(&self) -> Option<f64> {
        self.expanded.as_ref().ok().map(|(t, _)| t.as_secs_f64())
    }

    /// The expanded derivation's time and arena size as table cells.
    fn expanded_cells(&self) -> (String, String) {
        match &self.expanded {
            Ok((time, arena)) => (format!("{:.4}", time.as_secs_f64()), arena.to_string()),
            Err(code) => (code.clone(), "-".to_string()),
        }
    }
}

/// Times `f`: one run, then, if it is quick, a few more so the minimum means something (none
/// with `quick`). Returns the fastest time and the first run's result.
fn time<T>(quick: bool, mut f: impl FnMut() -> T) -> (Duration, T) {
    let start = Instant::now();
    let out = f();
    let mut best = start.elapsed();
    let more = match best.as_secs_f64() {
        _ if quick => 0,
        s if s < 0.05 => 9,
        s if s < 1.0 => 2,
        _ => 0,
    };
    for _ in 0..more {
        let start = Instant::now();
        std::hint::black_box(f());
        best = best.min(start.elapsed());
    }
    (best, out)
}

/// Measures one size of a family; the expanded derivation only with `expand`.
fn measure(family: &Family, size: usize, quick: bool, expand: bool) -> Row {
    let source = (family.source)(size);
    let options = LowerOptions::default();
    let (compile, program) = time(quick, || {
        tpc::compile(source.as_bytes(), &options)
            .unwrap_or_else(|d| panic!("{}", d.render("bench.tp", &source)))
    });
    let (derive, limit) = time(quick, || {
        tpc::limit::derive_deferred(&program).expect("the program derives")
    });
    let start = Instant::now();
    let text = LimitDisplay::new(&limit, &source, "bench.tp", LimitFormat::Text).to_string();
    std::hint::black_box(text);
    let print = start.elapsed();
    let expanded = if expand {
        let (time, full) = time(quick, || tpc::limit::derive(&program));
        full.map(|full| (time, full.arena.size()))
            .map_err(|e| e.to_diagnostic().code.to_string())
    } else {
        Err("skipped".to_string())
    };
    Row {
        size,
        instructions: program.instructions.len(),
        compile,
        derive,
        print,
        arena: limit.arena.size(),
        expanded,
        atoms: limit.atoms.len(),
    }
}

/// The slope of log y against log x between two points.
fn slope(x0: f64, y0: f64, x1: f64, y1: f64) -> f64 {
    (y1 / y0).ln() / (x1 / x0).ln()
}

fn main() {
    let quick = std::env::var("TPC_BENCH_QUICK").is_ok_and(|v| v != "0");
    let budget = std::env::var("TPC_BENCH_BUDGET").map_or(60.0, |v| {
        v.parse().expect("TPC_BENCH_BUDGET is a number of seconds")
    });
    let mut table = Vec::new();
    let only = std::env::var("TPC_BENCH_FAMILY").ok();
    for family in FAMILIES
        .iter()
        .filter(|f| only.as_deref().map_or(true, |name| name == f.name))
    {
        let sizes = if quick {
            &family.sizes[..3]
        } else {
            family.sizes
        };
        let mut rows: Vec<Row> = Vec::new();
        let mut skipped = Vec::new();
        for &size in sizes {
            // The time each derivation would take, extrapolated from the two sizes before.
            let extrapolate = |time: fn(&Row) -> Option<f64>| match rows.as_slice() {
                [.., a, b] => match (time(a), time(b)) {
                    (Some(ta), Some(tb)) => {
                        let growth = slope(a.size as f64, ta, b.size as f64, tb);
                        Some(tb * (size as f64 / b.size as f64).powf(growth.max(1.0)))
                    }
                    _ => None,
                },
                _ => Some(0.0),
            };
            let expected = extrapolate(|r| Some(r.derive.as_secs_f64())).unwrap_or(0.0);
            if expected > budget {
                eprintln!(
                    "{} {}={size}: skipped, derive expected to take {expected:.0} s",
                    family.name, family.parameter
                );
                skipped.push((size, expected));
                continue;
            }
            // The expanded derivation stops being measured once it would pass the budget or
            // has been refused at a smaller size.
            let expand = extrapolate(Row::expanded_secs).is_some_and(|t| t <= budget);
            let row = measure(family, size, quick, expand);
            let (expanded, expanded_arena) = row.expanded_cells();
            eprintln!(
                "{} {}={size}: {} instructions, compile {:.3} s, derive {:.3} s, print {:.3} s, arena {}; expanded {expanded} s, arena {expanded_arena}; {} atoms",
                family.name,
                family.parameter,
                row.instructions,
                row.compile.as_secs_f64(),
                row.derive.as_secs_f64(),
                row.print.as_secs_f64(),
                row.arena,
                row.atoms
            );
            let over = row.derive.as_secs_f64() > budget;
            rows.push(row);
            if over {
                skipped.extend(sizes.iter().filter(|&&s| s > size).map(|&s| (s, f64::NAN)));
                break;
            }
        }
        table.push((family, rows, skipped));
    }

    println!();
    println!(
        "{:<7} {:>5} {:>12} {:>12} {:>12} {:>12} {:>10} {:>13} {:>10} {:>7}",
        "family",
        "size",
        "instructions",
        "compile (s)",
        "derive (s)",
        "print (s)",
        "arena",
        "expanded (s)",
        "arena",
        "atoms"
    );
    for (family, rows, skipped) in &table {
        for r in rows {
            let (expanded, expanded_arena) = r.expanded_cells();
            println!(
                "{:<7} {:>5} {:>12} {:>12.4} {:>12.4} {:>12.4} {:>10} {:>13} {:>10} {:>7}",
                family.name,
                format!("{}={}", family.parameter, r.size),
                r.instructions,
                r.compile.as_secs_f64(),
                r.derive.as_secs_f64(),
                r.print.as_secs_f64(),
                r.arena,
                expanded,
                expanded_arena,
                r.atoms
            );
        }
        for (size, expected) in skipped {
            let why = if expected.is_nan() {
                "skipped: a smaller size exceeded the budget".to_string()
            } else {
                format!("skipped: derive expected to take {expected:.0} s")
            };
            println!(
                "{:<7} {:>5} {why}",
                family.name,
                format!("{}={size}", family.parameter)
            );
        }
    }
    println!();
    println!("growth exponents between the two largest sizes measured (log-log slopes):");
    println!(
        "{:<7} {:>18} {:>16} {:>16} {:>16} {:>16} {:>14} {:>18} {:>16}",
        "family",
        "between",
        "instr. vs size",
        "compile/instr.",
        "derive/instr.",
        "print/instr.",
        "arena/instr.",
        "expanded/instr.",
        "derive vs size"
    );
    for (family, rows, _) in &table {
        let [.., a, b] = rows.as_slice() else {
            println!("{:<7} fewer than two sizes measured", family.name);
            continue;
        };
        let (ia, ib) = (a.instructions as f64, b.instructions as f64);
        println!(
            "{:<7} {:>18} {:>16.2} {:>16.2} {:>16.2} {:>16.2} {:>14.2} {:>18.2} {:>16.2}",
            family.name,
            format!("{}={}..{}", family.parameter, a.size, b.size),
            slope(a.size as f64, ia, b.size as f64, ib),
            slope(ia, a.compile.as_secs_f64(), ib, b.compile.as_secs_f64()),
            slope(ia, a.derive.as_secs_f64(), ib, b.derive.as_secs_f64()),
            slope(ia, a.print.as_secs_f64(), ib, b.print.as_secs_f64()),
            slope(ia, a.arena as f64, ib, b.arena as f64),
            match (&a.expanded, &b.expanded) {
                (Ok((ta, _)), Ok((tb, _))) => slope(ia, ta.as_secs_f64(), ib, tb.as_secs_f64()),
                _ => f64::NAN,
            },
            slope(
                a.size as f64,
                a.derive.as_secs_f64(),
                b.size as f64,
                b.derive.as_secs_f64()
            ),
        );
    }
}

//! tpc — a compiler for Tensor Programs.
//!
//! A Tensor Program (Greg Yang's NETSOR^T+) is a straight-line program of MatMul, Nonlin and
//! Moment instructions on width-n vectors. tpc parses `.tp` source, checks it, derives its
//! infinite-width limit symbolically, evaluates it, and runs it at finite width.
//!
//! The pipeline, one module per pass (see `docs/architecture.md`):
//!
//! ```text
//! source ─syntax::parse→ AST ─ir::lower→ IR ─limit::derive→ Limit ─eval::evaluate→ Evaluation
//!                                         └─simulate::simulate(width, seed)→ Sample
//! ```
//!
//! [`compile`] runs the front end: bytes in, a checked [`ir::Program`] or a [`Diagnostic`] out.
//! The library does no printing, and reads no file but the data files a program names in
//! `load("…")` (relative to [`ir::LowerOptions::base_dir`], which [`program_dir`] gives).

pub mod builtins;
pub mod coordcheck;
pub mod curves;
pub mod diagnostics;
pub mod eval;
pub mod ir;
pub mod limit;
pub mod linalg;
pub mod output;
pub mod param;
mod plot;
pub mod scaling;
pub mod simulate;
pub mod snapshot;
pub mod symbolic;
pub mod syntax;

pub use diagnostics::Diagnostic;

/// The front end: decodes, parses and lowers a program.
///
/// Never panics, whatever the input; every failure is a [`Diagnostic`] pointing into the
/// source (for bytes that are not UTF-8, into their lossy decoding).
///
/// Parsing and lowering recurse once per operator of an expression, and a long sum
/// (`a + b + c + …`, up to [`syntax::MAX_EXPR_DEPTH`] operators) is that deep; so they run
/// on a thread of their own with a stack of [`FRONT_END_STACK`] bytes, whatever the stack of
/// the caller (a Python thread, a test harness).
pub fn compile(bytes: &[u8], options: &ir::LowerOptions) -> Result<ir::Program, Diagnostic> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("tpc front end".into())
            .stack_size(FRONT_END_STACK)
            .spawn_scoped(scope, || compile_here(bytes, options))
            .map(|thread| {
                thread
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e))
            })
            .unwrap_or_else(|_| compile_here(bytes, options))
    })
}

/// The stack of the front end's thread: enough for the deepest expression it accepts.
/// Reserved address space; only the pages used are ever touched.
pub const FRONT_END_STACK: usize = 256 << 20;

fn compile_here(bytes: &[u8], options: &ir::LowerOptions) -> Result<ir::Program, Diagnostic> {
    let source =
        syntax::decode(bytes).map_err(|e| e.to_diagnostic(&String::from_utf8_lossy(bytes)))?;
    let ast = syntax::parse(source).map_err(|e| e.to_diagnostic(source))?;
    ir::lower(&ast, options).map_err(|e| e.to_diagnostic())
}

/// A program's evaluated outputs, in the order of its `output` statement, with notes.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated {
    /// Scalars and families (dense arrays).
    pub outputs: Vec<output::OutputValue>,
    /// What the user should know about the evaluation.
    pub notes: Vec<eval::Note>,
}

/// Compiles, derives and evaluates a program. Families over parallel index spaces (the
/// inputs `i, j` of a kernel matrix) are lowered by representatives and evaluated as arrays;
/// a program without such spaces, or one the array path does not cover (said in a note), is
/// unrolled and evaluated scalar by scalar.
///
/// With a `tile`, only that block of the output matrices is computed; a program the array
/// path cannot evaluate is then an error.
pub fn evaluate_outputs(
    bytes: &[u8],
    lower: &ir::LowerOptions,
    options: &eval::EvalOptions,
    tile: Option<&eval::Tile>,
    progress: eval::Progress,
) -> Result<Evaluated, Diagnostic> {
    let mut notes = Vec::new();
    // Lowered with parallel index spaces once, for `auto`'s choice and the array path (not
    // for particles and Monte Carlo, which run on the unrolled program).
    let arrays = arrays_path(options);
    let parallel = ir::LowerOptions {
        parallel: true,
        ..lower.clone()
    };
    let compiled = arrays.then(|| compile(bytes, &parallel));
    let derived = match &compiled {
        Some(Ok(program)) => Some(limit::derive(program)),
        _ => None,
    };
    let switched;
    let options = match (&compiled, &derived) {
        (Some(Ok(program)), Some(Ok(limit))) => {
            match eval::particles::auto_switch(program, limit, options) {
                Some((switch, note)) => {
                    notes.push(note);
                    switched = switch;
                    &switched
                }
                None => options,
            }
        }
        _ => options,
    };
    if let Some(compiled) = compiled.filter(|_| arrays_path(options)) {
        let program = compiled?;
        if program.parallel.is_some() {
            let limit = derived
                .expect("derived when compiled")
                .map_err(|e| e.to_diagnostic())?;
            match eval::evaluate_families(&program, &limit, options, tile) {
                Ok(e) => {
                    return Ok(Evaluated {
                        outputs: e.outputs,
                        notes: e.notes,
                    })
                }
                Err(eval::FamilyError::Eval(e)) => return Err(e.to_diagnostic()),
                Err(eval::FamilyError::Tile(message)) => {
                    return Err(Diagnostic::error("E0406", message))
                }
                Err(eval::FamilyError::TooLarge(message)) => {
                    return Err(Diagnostic::error("E0407", message).with_help(
                        "arrays are dense over all members of an index space: use fewer \
                         members (unrolling the program would be larger still)",
                    ))
                }
                Err(eval::FamilyError::Unsupported(reason)) if tile.is_some() => {
                    return Err(Diagnostic::error(
                        "E0406",
                        format!("this program cannot be evaluated by tiles: {reason}"),
                    ))
                }
                Err(eval::FamilyError::Unsupported(reason)) => notes.push(eval::Note::new(
                    "the program",
                    format!("evaluated entry by entry, not as arrays: {reason}"),
                )),
            }
        }
    }
    if tile.is_some() {
        return Err(Diagnostic::error(
            "E0406",
            "a tile needs a program whose families run over a parallel index space (inputs \
             `i, j` used only as bare indices, every loop over them from 0 or from another)",
        ));
    }
    let program = compile(bytes, lower)?;
    // Particles estimate Ż coefficients by the Stein form: a particle mean per atom, where
    // forward-mode derivatives grow with every training step.
    let rule = match options.method {
        eval::Method::Particles => limit::ZDotRule::Stein,
        _ => limit::ZDotRule::Auto,
    };
    let limit = limit::derive_with(&program, rule).map_err(|e| e.to_diagnostic())?;
    let evaluation = eval::evaluate(&limit, options, progress).map_err(|e| e.to_diagnostic())?;
    notes.extend(evaluation.notes.iter().cloned());
    Ok(Evaluated {
        outputs: output::collect(&program, &limit, &evaluation),
        notes,
    })
}

/// Whether a method evaluates families as arrays (particles and Monte Carlo run on the
/// unrolled program).
fn arrays_path(options: &eval::EvalOptions) -> bool {
    !matches!(options.method, eval::Method::Mc | eval::Method::Particles)
}

/// The limits of a program's outputs, as [`output_limits`] gives them.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputLimits {
    /// One per output, in the order of `program.outputs`; `None` where the evaluation does
    /// not report that output.
    pub values: Vec<Option<eval::Value>>,
    /// What the user should know about the evaluation.
    pub notes: Vec<eval::Note>,
}

/// The limit of every output of `program` (the unrolled lowering of `bytes`), in the order of
/// `program.outputs`, evaluated as [`evaluate_outputs`] does (so `auto` hands a
/// high-dimensional program to particles here too), with the evaluation's notes; `None` for a
/// program that writes powers of the width explicitly (E0201), which has no limit.
pub fn output_limits(
    bytes: &[u8],
    program: &ir::Program,
    lower: &ir::LowerOptions,
    options: &eval::EvalOptions,
    progress: eval::Progress,
) -> Result<Option<OutputLimits>, Diagnostic> {
    match evaluate_outputs(bytes, lower, options, None, progress) {
        Ok(evaluated) => Ok(Some(OutputLimits {
            values: output::output_scalars(program, &evaluated.outputs),
            notes: evaluated.notes,
        })),
        Err(d) if d.code == "E0201" => Ok(None),
        Err(d) => Err(d),
    }
}

/// The directory a program's `load("…")` paths are relative to, for a program read from
/// `path`: the file's own directory; `None` (the current directory) for `-`, standard input.
pub fn program_dir(path: &std::path::Path) -> Option<std::path::PathBuf> {
    if path.as_os_str() == "-" {
        return None;
    }
    Some(
        path.parent()
            .unwrap_or(std::path::Path::new(""))
            .to_path_buf(),
    )
}

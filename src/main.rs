//! The `tpc` command: a thin clap layer over the library.

use clap::{Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use tpc::ir::LowerOptions;

mod commands;

/// tpc — a compiler for Tensor Programs: parse, check, derive and evaluate infinite-width limits.
#[derive(Parser)]
#[command(name = "tpc", version, about, long_about = None)]
#[command(after_help = EXIT_STATUS_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Refuse input files (and standard input) larger than this many bytes.
    #[arg(long, global = true, value_name = "BYTES", default_value_t = MAX_INPUT_BYTES)]
    max_input_bytes: u64,
    /// Refuse programs whose derived limit holds more expression nodes and terms than this
    /// (E0203; each takes about 34 bytes).
    #[arg(long, global = true, value_name = "N", default_value_t = tpc::ir::MAX_LIMIT_NODES)]
    max_limit_nodes: usize,
}

/// The default cap on the size of an input program: far above any real program (the largest
/// generated training programs are a few MB), far below what would exhaust memory.
const MAX_INPUT_BYTES: u64 = 64 << 20;

/// The cap in force, from `--max-input-bytes`.
static INPUT_CAP: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

/// The node limit in force, from `--max-limit-nodes`.
static NODE_CAP: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

#[derive(Subcommand)]
enum Command {
    /// Parse and check a program; print a summary, the IR as JSON, or the dependency graph.
    #[command(
        after_help = "Examples:\n  tpc check programs/nngp_relu.tp\n  tpc check --format json programs/rnn.tp\n  tpc check --dot programs/ntk_relu.tp | dot -Tsvg > graph.svg\n  echo 'vector x ~ N(0, 1); k = mean(x * x)' | tpc check -"
    )]
    Check {
        /// The `.tp` file to check, or `-` for standard input.
        file: PathBuf,
        /// Output format: a one-screen summary, or the whole IR as JSON.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Print the dependency graph in Graphviz DOT instead of the summary.
        #[arg(long, conflicts_with = "format")]
        dot: bool,
        /// Refuse programs that unroll to more instructions (and loop iterations) than this.
        #[arg(long, default_value_t = LowerOptions::default().max_instructions, value_name = "N")]
        max_instructions: usize,
    },
    /// Derive the infinite-width limit: atoms, ZHat covariances, Ż terms, Z's and moments.
    #[command(
        after_help = "Examples:\n  tpc derive programs/transpose_minimal.tp\n  tpc derive --format latex programs/catalan.tp > catalan.tex\n  tpc derive --format json programs/ntk_relu.tp\n  tpc derive --derivatives programs/sgd_two_steps.tp"
    )]
    Derive {
        /// The `.tp` file, or `-` for standard input.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DeriveFormat::Text)]
        format: DeriveFormat,
        /// Instead of the limit, analyse the powers of n written in the program: the size of
        /// every vector's coordinates and every scalar, and what vanishes, survives or blows up.
        #[arg(long)]
        scaling: bool,
        /// Expand every Ż coefficient's derivative `∂Z^x/∂Ẑ` and print it. Without this flag a
        /// coefficient whose derivative is random stays `E[∂Z^x/∂Ẑ]`, which keeps derivation
        /// about linear in the program (a training program of T steps has Θ(T²) of them).
        #[arg(long)]
        derivatives: bool,
        /// Refuse programs that unroll to more instructions (and loop iterations) than this.
        #[arg(long, default_value_t = LowerOptions::default().max_instructions, value_name = "N")]
        max_instructions: usize,
    },
    /// Generate a Tensor Program: SGD training of an abc-parametrized MLP, or NNGP/NTK kernels.
    Gen {
        #[command(subcommand)]
        what: commands::gen::GenCommand,
    },
    /// Evaluate every output's infinite-width limit, with an error estimate and the method used.
    #[command(
        after_help = "Examples:\n  tpc eval programs/transpose_minimal.tp\n  tpc eval --method mc --samples 4000000 --mc-seed 7 programs/ntk_tanh.tp\n  tpc eval --format json programs/catalan.tp\n  tpc eval programs/kernel_matrix.tp --out kernel --csv\n\nOutputs come in the order of the program's `output` statement; an indexed family (`output K`)\nis one array: a matrix block in the table, nested arrays in JSON (null where the program\ndefines no member), and with --out the files K.npy and K.errors.npy (NumPy float64) beside\noutputs.json (the scalars, and each family's shape, start index and method)."
    )]
    Eval(commands::eval::EvalCommandArgs),
    /// Classify an abc-parametrization of an MLP by TP4's theorems: r, stability, regime, maximal updates.
    #[command(
        after_help = "Examples:\n  tpc classify --depth 2 --param mup\n  tpc classify --depth 1 --param sp --lr-exponent 1\n  tpc classify --depth 3 --a 0,1/2,1/2,1 --b 0,0,0,0 --c -1 --format json\n  tpc classify --depth 2 --param mup --optimizer adam\n\nExponents are exact: -1/2, 0.5, 1. --param sp has a constant learning rate (c = 0), as\npractitioners run it: the report says it is unstable and that c = 1 (--lr-exponent 1) makes it\nstable. With Adam only stability at initialization and maximal updates are checked (derived)."
    )]
    Classify(commands::classify::ClassifyArgs),
    /// Run the program at finite widths and compare every output with its limit.
    #[command(
        after_help = "Examples:\n  tpc simulate programs/transpose_minimal.tp --widths 256,1024,4096 --seeds 20\n  tpc simulate programs/catalan.tp --widths 512,2048 --seeds 8 --seed 42 --format json\n\nFor each output: the limit, then per width the mean ± standard error over seeds and the RMS\ndeviation from the limit, and the fitted slope of log RMS against log n (about −1/2 expected)."
    )]
    Simulate(commands::simulate::SimulateArgs),
    /// Coord check: run at several widths and fit how every named vector and output scales with n.
    #[command(
        after_help = "Examples:\n  tpc coordcheck train.tp --widths 256,512,1024,2048,4096 --seeds 4 --plot coordcheck.svg\n  tpc coordcheck train.tp --only x,f --format json\n\nSize of a vector: its coordinate RMS; of an output: |value|; both averaged over seeds.\nSlope: of log size against log n (0 = Θ(1), −1/2 = Θ(n^(−1/2))), ± jackknife s.e. over seeds.\nPredicted: the exponent `tpc derive --scaling` finds, where exact; MISMATCH where the slope contradicts it."
    )]
    Coordcheck(commands::coordcheck::CoordCheckArgs),
    /// Training curves: every output over the steps, the limit beside finite widths, as a
    /// table and an SVG plot.
    #[command(after_help = commands::curves::AFTER_HELP)]
    Curves(commands::curves::CurvesArgs),
    /// Check programs against their snapshots: derived equations, scaling report, values
    /// within tolerances, coord-check exponents; `--accept` records them.
    #[command(
        after_help = "Examples:\n  tpc test programs/\n  tpc test --accept --checks derive,eval,coordcheck --widths 128,256,512 train.tp\n\nEach NAME.tp is checked against NAME.snap beside it, a text file of `## CHECK` sections:\nequations and reports must match line for line, values and exponents must lie within the\nrecorded tolerances (`name = value ± tolerance`, editable). Differences print as a diff;\nany difference, or a program without a snapshot, makes the exit status 1."
    )]
    Test(commands::test::TestArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum MethodArg {
    /// Exact when possible, then quadrature, then Monte Carlo (saying so).
    Auto,
    /// Closed forms and Gaussian algebra only.
    Exact,
    /// Exact or quadrature; an error beyond the quadrature dimension limit.
    Quad,
    /// Monte Carlo for every expectation.
    Mc,
    /// Particles: the atoms sampled jointly, S particles in R replicas (many training steps).
    Particles,
}

/// Options shared by the commands that evaluate a limit.
#[derive(clap::Args)]
struct EvalArgs {
    /// How to evaluate expectations.
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    method: MethodArg,
    /// Relative tolerance of quadrature.
    #[arg(long = "tol", default_value_t = 1e-10, value_name = "T",
          value_parser = commands::values::tolerance)]
    tolerance: f64,
    /// Highest dimension integrated by quadrature (beyond it: Monte Carlo, or an error with `--method quad`).
    #[arg(long, default_value_t = 4, value_name = "D")]
    max_dim: usize,
    /// Monte Carlo samples per expectation.
    #[arg(long, default_value_t = 1_000_000, value_name = "M",
          value_parser = commands::values::count)]
    samples: usize,
    /// Monte Carlo and particle seed.
    #[arg(long = "mc-seed", default_value_t = 0, value_name = "S")]
    mc_seed: u64,
    /// Particles per replica (`--method particles`, and `auto` past the quadrature limit)
    /// [default: 32768, halved down to 1024 for a program whose evaluation would take minutes]
    #[arg(long, value_name = "S", value_parser = commands::values::count)]
    particles: Option<usize>,
    /// Independent particle replicas; their spread is the error bar (at least 2).
    #[arg(long, default_value_t = tpc::eval::EvalOptions::default().replicas, value_name = "R",
          value_parser = commands::values::replicas)]
    replicas: usize,
    /// Most memory the particles may take, in GiB.
    #[arg(long, default_value_t = 4.0, value_name = "GIB",
          value_parser = commands::values::gibibytes)]
    max_memory: f64,
    /// Particles as independent pseudo-random draws, not from a randomised Sobol' sequence
    /// (the default, with far smaller error bars for the same particles on smooth programs).
    #[arg(long)]
    no_qmc: bool,
    /// Every note of the evaluation on a line of its own, not one line per kind.
    #[arg(long)]
    verbose: bool,
}

impl EvalArgs {
    fn options(&self) -> tpc::eval::EvalOptions {
        tpc::eval::EvalOptions {
            method: match self.method {
                MethodArg::Auto => tpc::eval::Method::Auto,
                MethodArg::Exact => tpc::eval::Method::Exact,
                MethodArg::Quad => tpc::eval::Method::Quad,
                MethodArg::Mc => tpc::eval::Method::Mc,
                MethodArg::Particles => tpc::eval::Method::Particles,
            },
            tolerance: self.tolerance,
            max_dim: self.max_dim,
            max_points: tpc::eval::EvalOptions::default().max_points,
            samples: self.samples,
            seed: self.mc_seed,
            particles: self
                .particles
                .unwrap_or(tpc::eval::EvalOptions::default().particles),
            fit_particles: self.particles.is_none(),
            replicas: self.replicas,
            max_memory: (self.max_memory * f64::from(1u32 << 30)) as usize,
            quasi_random: !self.no_qmc,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum DeriveFormat {
    /// Plain text with Unicode (Ẑ, Ż, σ², E[·]).
    Text,
    /// A LaTeX `align` environment.
    Latex,
    /// JSON: atoms, families, covariance entries, Z definitions, Ż coefficients, moments.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Human-readable text.
    Text,
    /// JSON.
    Json,
}

/// A failure already reported to the user, by what failed: its exit status (README.md,
/// "Exit status").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reported {
    /// The program has an error (a diagnostic pointing at its source), or a `tpc test`
    /// check failed.
    Program = 1,
    /// The command line asks for something that cannot be done (after clap's own checks).
    Usage = 2,
    /// A file cannot be read or written: the program, a data file it loads, an output.
    File = 3,
    /// The limit or the simulation cannot be computed: a value is not finite, a covariance
    /// is not positive semi-definite, the method asked for does not apply.
    Numerical = 4,
}

/// The exit statuses, as `tpc --help` states them.
const EXIT_STATUS_HELP: &str =
    "Exit status: 0 success, 1 the program has an error (or a `tpc test` \
check failed), 2 usage error, 3 a file cannot be read or written, 4 the limit or simulation \
cannot be computed.";

fn main() -> ExitCode {
    let cli = Cli::parse();
    INPUT_CAP.get_or_init(|| cli.max_input_bytes);
    NODE_CAP.get_or_init(|| cli.max_limit_nodes);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => ExitCode::from(failure as u8),
    }
}

fn run(cli: Cli) -> Result<(), Reported> {
    match cli.command {
        Command::Check {
            file,
            format,
            dot,
            max_instructions,
        } => {
            let (name, bytes) = read_input(&file)?;
            let options = LowerOptions {
                max_instructions,
                // The summary describes families over parallel index spaces as `eval` sees
                // them, lowered by representatives; JSON and DOT show every instruction.
                parallel: !dot && matches!(format, Format::Text),
                ..lower_options(&file)
            };
            let program = tpc::compile(&bytes, &options).map_err(|d| report(&d, &name, &bytes))?;
            let text = if dot {
                tpc::ir::to_dot(&program)
            } else {
                match format {
                    Format::Text => format!("{name}\n{}", program.summary()),
                    Format::Json => {
                        serde_json::to_string_pretty(&program).expect("the IR serializes") + "\n"
                    }
                }
            };
            // The process ends right after printing: freeing a program of millions of
            // instructions one allocation at a time would only delay the exit.
            std::mem::forget(program);
            print(&text)
        }
        Command::Eval(args) => commands::eval::run(&args),
        Command::Simulate(args) => commands::simulate::run(&args),
        Command::Gen { what } => commands::gen::run(&what),
        Command::Coordcheck(args) => commands::coordcheck::run(&args),
        Command::Curves(args) => commands::curves::run(&args),
        Command::Classify(args) => commands::classify::run(&args),
        Command::Test(args) => commands::test::run(&args),
        Command::Derive {
            file,
            format,
            scaling,
            derivatives,
            max_instructions,
        } => {
            let (name, bytes) = read_input(&file)?;
            let options = LowerOptions {
                max_instructions,
                // Equations of a kernel over many inputs are derived once, for representative
                // members; the scaling report and JSON cover every instruction.
                parallel: !scaling && !matches!(format, DeriveFormat::Json),
                ..lower_options(&file)
            };
            let program = tpc::compile(&bytes, &options).map_err(|d| report(&d, &name, &bytes))?;
            if scaling {
                return commands::scaling::run(&program, format, &name, &bytes);
            }
            let limit = if derivatives {
                tpc::limit::derive(&program)
            } else {
                tpc::limit::derive_deferred(&program)
            }
            .map_err(|e| report(&e.to_diagnostic(), &name, &bytes))?;
            let source = String::from_utf8_lossy(&bytes);
            let representatives = representatives_note(&program);
            let text = match format {
                DeriveFormat::Text => {
                    representatives.clone().unwrap_or_default()
                        + &tpc::limit::LimitDisplay::new(
                            &limit,
                            &source,
                            &name,
                            tpc::limit::LimitFormat::Text,
                        )
                        .to_string()
                }
                DeriveFormat::Latex => {
                    let note = representatives.map_or(String::new(), |n| {
                        n.lines().map(|l| format!("% {l}\n")).collect()
                    });
                    note + &tpc::limit::LimitDisplay::new(
                        &limit,
                        &source,
                        &name,
                        tpc::limit::LimitFormat::Latex,
                    )
                    .to_string()
                }
                DeriveFormat::Json => {
                    // Streamed: a long training program's document is hundreds of MB.
                    let stdout = std::io::BufWriter::new(std::io::stdout().lock());
                    // A closed pipe (`tpc derive … | head`) is not an error worth reporting.
                    let _ = tpc::limit::write_json(&limit, &source, stdout);
                    return Ok(());
                }
            };
            print(&text)
        }
    }
}

/// For a program lowered by representatives, what its equations stand for.
fn representatives_note(program: &tpc::ir::Program) -> Option<String> {
    let parallel = program.parallel.as_ref()?;
    let mut note = String::new();
    for space in &parallel.spaces {
        let members: Vec<String> = (0..space.representatives).map(|r| r.to_string()).collect();
        let members = match members.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
            _ => members.join(""),
        };
        note.push_str(&format!(
            "Derived for members {members} of an index space of {} members: each stands for any\n\
             member, in order (`K[0, 1]` for every `K[i, j]` with i < j, `K[1, 0]` for i > j,\n\
             `K[0, 0]` for i = j); initial laws are shown for members {members}, and\n\
             `tpc eval` uses every member's.\n\n",
            space.size
        ));
    }
    Some(note)
}

/// The limit of every output of a program, as `tpc eval` evaluates it, or `None` (with a
/// note) for a program that writes powers of the width explicitly: such a program is
/// simulated without a limit.
fn output_limits(
    program: &tpc::ir::Program,
    args: &EvalArgs,
    file: &std::path::Path,
    name: &str,
    bytes: &[u8],
) -> Result<Option<Vec<Option<tpc::eval::Value>>>, Reported> {
    let bar = Progress::new("limit");
    let limits = tpc::output_limits(
        bytes,
        program,
        &lower_options(file),
        &args.options(),
        Some(&|done, total| bar.update(done, total)),
    )
    .map_err(|d| report(&d, name, bytes))?;
    bar.finish();
    match limits {
        Some(limits) => {
            print_notes(&limits.notes, args.verbose);
            Ok(Some(limits.values))
        }
        None => {
            eprintln!(
                "note: the program writes powers of the width explicitly, so it has no limit to \
                 compare with; simulating only (see `tpc derive --scaling` and `tpc coordcheck`)"
            );
            Ok(None)
        }
    }
}

/// The notes of an evaluation on standard error: one line per kind, or every note with
/// `verbose`.
fn print_notes(notes: &[tpc::eval::Note], verbose: bool) {
    for line in tpc::output::note_lines(notes, verbose) {
        eprintln!("note: {line}");
    }
}

/// A progress bar on standard error, drawn only on a terminal and only once work has taken
/// more than a second.
struct Progress {
    label: &'static str,
    start: std::time::Instant,
    bar: std::sync::Mutex<Option<indicatif::ProgressBar>>,
    terminal: bool,
}

impl Progress {
    fn new(label: &'static str) -> Progress {
        Progress {
            label,
            start: std::time::Instant::now(),
            bar: std::sync::Mutex::new(None),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    fn update(&self, done: usize, total: usize) {
        if !self.terminal || self.start.elapsed() < std::time::Duration::from_secs(1) {
            return;
        }
        let mut bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        let bar = bar.get_or_insert_with(|| {
            let b = indicatif::ProgressBar::new(total as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            b.set_message(self.label);
            b
        });
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    }

    fn finish(&self) {
        if let Some(bar) = self.bar.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
}

/// The options for lowering the program read from `file` (`-`: standard input): its
/// `load("…")` paths are relative to the file's directory.
fn lower_options(file: &Path) -> LowerOptions {
    LowerOptions {
        base_dir: tpc::program_dir(file),
        max_limit_nodes: NODE_CAP.get().copied().unwrap_or(tpc::ir::MAX_LIMIT_NODES),
        ..LowerOptions::default()
    }
}

/// Reads a file, or standard input for `-`, refusing more than `--max-input-bytes` without
/// reading further.
fn read_input(file: &PathBuf) -> Result<(String, Vec<u8>), Reported> {
    let cap = INPUT_CAP.get().copied().unwrap_or(MAX_INPUT_BYTES);
    let (name, reader): (String, Box<dyn Read>) = if file.as_os_str() == "-" {
        ("<stdin>".to_string(), Box::new(std::io::stdin()))
    } else {
        let opened = std::fs::File::open(file).map_err(|e| {
            eprintln!("error: cannot read `{}`: {e}", file.display());
            Reported::File
        })?;
        (file.display().to_string(), Box::new(opened))
    };
    let mut bytes = Vec::new();
    reader
        .take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| {
            eprintln!("error: cannot read `{name}`: {e}");
            Reported::File
        })?;
    if bytes.len() as u64 > cap {
        eprintln!(
            "error: `{name}` is larger than {cap} bytes, the input size limit\n  \
             = help: a larger program can be read with `--max-input-bytes N`"
        );
        return Err(Reported::File);
    }
    Ok((name, bytes))
}

fn report(diagnostic: &tpc::Diagnostic, name: &str, bytes: &[u8]) -> Reported {
    let source = String::from_utf8_lossy(bytes);
    let choice = if std::io::stderr().is_terminal() {
        ColorChoice::Auto
    } else {
        ColorChoice::Never
    };
    let mut stderr = StandardStream::stderr(choice);
    diagnostic.emit(&mut stderr, name, &source);
    failure_of(diagnostic)
}

/// What a diagnostic's code says failed: E0150 (a data file cannot be read) is a file,
/// E0406 (`--rows`/`--cols` on a program that has no tiles) is usage, E03xx–E04xx
/// (simulation and evaluation) are numerical but E0407 (a family too large, a property of the
/// program like E0140), and every other code is the program's.
fn failure_of(diagnostic: &tpc::Diagnostic) -> Reported {
    match diagnostic.code {
        "E0150" => Reported::File,
        "E0406" => Reported::Usage,
        "E0407" => Reported::Program,
        code if code.starts_with("E03") || code.starts_with("E04") => Reported::Numerical,
        _ => Reported::Program,
    }
}

/// Reports a usage error and exits with status 2.
fn usage_error(message: &str) -> ! {
    eprintln!("error: {message}");
    std::process::exit(Reported::Usage as i32)
}

fn print(text: &str) -> Result<(), Reported> {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`tpc check … | head`) is not an error worth reporting.
    let _ = stdout.write_all(text.as_bytes());
    Ok(())
}

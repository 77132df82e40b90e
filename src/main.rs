//! The `tpc` command: a thin clap layer over the library.

use clap::{Parser, Subcommand, ValueEnum};
use codespan_reporting::term::termcolor::{ColorChoice, StandardStream};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use tpc::ir::LowerOptions;

/// tpc — a compiler for Tensor Programs: parse, check, derive and evaluate infinite-width limits.
#[derive(Parser)]
#[command(name = "tpc", version, about, long_about = None)]
#[command(after_help = "Exit status: 0 success, 1 the program has an error, 2 usage error.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

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
        after_help = "Examples:\n  tpc derive programs/transpose_minimal.tp\n  tpc derive --format latex programs/catalan.tp > catalan.tex\n  tpc derive --format json programs/ntk_relu.tp"
    )]
    Derive {
        /// The `.tp` file, or `-` for standard input.
        file: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = DeriveFormat::Text)]
        format: DeriveFormat,
        /// Refuse programs that unroll to more instructions (and loop iterations) than this.
        #[arg(long, default_value_t = LowerOptions::default().max_instructions, value_name = "N")]
        max_instructions: usize,
    },
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

/// A failure already reported to the user.
struct Reported;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Reported) => ExitCode::from(1),
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
            let options = LowerOptions { max_instructions };
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
            print(&text)
        }
        Command::Derive {
            file,
            format,
            max_instructions,
        } => {
            let (name, bytes) = read_input(&file)?;
            let options = LowerOptions { max_instructions };
            let program = tpc::compile(&bytes, &options).map_err(|d| report(&d, &name, &bytes))?;
            let limit = tpc::limit::derive(&program)
                .map_err(|e| report(&e.to_diagnostic(), &name, &bytes))?;
            let source = String::from_utf8_lossy(&bytes);
            let text = match format {
                DeriveFormat::Text => tpc::limit::LimitDisplay::new(
                    &limit,
                    &source,
                    &name,
                    tpc::limit::LimitFormat::Text,
                )
                .to_string(),
                DeriveFormat::Latex => tpc::limit::LimitDisplay::new(
                    &limit,
                    &source,
                    &name,
                    tpc::limit::LimitFormat::Latex,
                )
                .to_string(),
                DeriveFormat::Json => {
                    serde_json::to_string_pretty(&tpc::limit::to_json(&limit, &source))
                        .expect("JSON serializes")
                        + "\n"
                }
            };
            print(&text)
        }
    }
}

/// Reads a file, or standard input for `-`.
fn read_input(file: &PathBuf) -> Result<(String, Vec<u8>), Reported> {
    let mut bytes = Vec::new();
    if file.as_os_str() == "-" {
        std::io::stdin().read_to_end(&mut bytes).map_err(|e| {
            eprintln!("error: cannot read standard input: {e}");
            Reported
        })?;
        return Ok(("<stdin>".to_string(), bytes));
    }
    let bytes = std::fs::read(file).map_err(|e| {
        eprintln!("error: cannot read `{}`: {e}", file.display());
        Reported
    })?;
    Ok((file.display().to_string(), bytes))
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
    Reported
}

fn print(text: &str) -> Result<(), Reported> {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`tpc check … | head`) is not an error worth reporting.
    let _ = stdout.write_all(text.as_bytes());
    Ok(())
}

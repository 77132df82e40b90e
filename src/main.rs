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

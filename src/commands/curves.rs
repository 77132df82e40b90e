//! `tpc curves`: training programs' outputs at every step, the limit beside finite widths.

use std::path::{Path, PathBuf};
use tpc::curves::{
    curve_outlines, curves_text, plot_svg, same_steps, training_curves, Curve, ValueScale,
};
use tpc::ir::Program;
use tpc::output::OutputValue;

/// The examples and conventions under `tpc curves --help`.
pub const AFTER_HELP: &str = "Examples:
  tpc gen mlp --depth 2 --param mup --nonlin tanh --steps 10 > mup.tp
  tpc gen mlp --depth 2 --param ntp --nonlin tanh --steps 10 > ntk.tp
  tpc curves mup.tp ntk.tp --output fc1,fc2 --widths 256,1024,4096 --svg fc.svg --log-y
  tpc curves mup.tp --format csv > mup.csv

Every output family is read with its first index as the training step (`fc1[t]`, `chi[t]`);
a family with more indices gives one curve per value of the others (`f[t, 0]`, `f[t, 1]`).
Per step: the limit ± its error (the values of `tpc eval` with the same options), then per
width the mean ± standard error over seeds (the values of `tpc simulate`). Curves of several
programs are drawn in the same panels, labelled by file name.";

/// The arguments of `tpc curves`.
#[derive(clap::Args)]
pub struct CurvesArgs {
    /// The training programs (`.tp` files, `-` for standard input), overlaid in one table and
    /// plot.
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Only these curves, comma-separated: a family (`fc1`; `f` for all of `f[t, i]`) or one
    /// curve (`f[t, 0]`).
    #[arg(long, value_name = "NAME")]
    output: Vec<String>,
    #[command(flatten)]
    runs: super::simulate::RunArgs,
    #[command(flatten)]
    eval: crate::EvalArgs,
    /// Output format of the table.
    #[arg(long, value_enum, default_value_t = CurvesFormat::Text)]
    format: CurvesFormat,
    /// Also draw the curves as SVG to this file: a panel per curve, x = step.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// In the SVG, a logarithmic value axis (for positive curves spanning decades, like a
    /// feature change that falls as 1/n); values that are not positive are left out.
    #[arg(long, requires = "svg")]
    log_y: bool,
}

/// The table's formats.
#[derive(Clone, Copy, clap::ValueEnum)]
enum CurvesFormat {
    /// A block per curve, a row per step.
    Text,
    /// JSON: widths, seeds, programs (with their notes) and curves.
    Json,
    /// CSV: a line per curve and step, a header naming the columns.
    Csv,
}

/// One program read and checked: its label, source and unrolled IR.
struct Input {
    label: String,
    name: String,
    bytes: Vec<u8>,
    file: PathBuf,
    program: Program,
}

/// Reads and checks every program and the curves asked for, then evaluates and simulates
/// each and prints the table (and writes the plot).
pub fn run(args: &CurvesArgs) -> Result<(), crate::Reported> {
    if args.files.iter().filter(|f| f.as_os_str() == "-").count() > 1 {
        eprintln!("error: standard input (`-`) can be read only once");
        return Err(crate::Reported::Usage);
    }
    let selectors: Vec<String> = args.output.iter().flat_map(|o| split_names(o)).collect();
    let mut inputs = Vec::new();
    let mut outlines = Vec::new();
    for (file, label) in args.files.iter().zip(labels(&args.files)) {
        let (name, bytes) = crate::read_input(file)?;
        let program = tpc::compile(&bytes, &crate::lower_options(file))
            .map_err(|d| crate::report(&d, &name, &bytes))?;
        outlines.push(curve_outlines(&label, &program, &selectors).map_err(usage)?);
        inputs.push(Input {
            label,
            name,
            bytes,
            file: file.clone(),
            program,
        });
    }
    same_steps(&outlines.concat()).map_err(usage)?;
    let mut curves: Vec<Curve> = Vec::new();
    let mut programs = Vec::new();
    for (input, outlines) in inputs.iter().zip(&outlines) {
        let (limits, notes) = limit(input, &args.eval)?;
        let bar = crate::Progress::new("simulating");
        let runs = tpc::simulate::simulate_many(
            &input.program,
            &args.runs.widths,
            args.runs.seeds,
            args.runs.seed,
            &|done, total| bar.update(done, total),
        )
        .map_err(|e| crate::report(&e.to_diagnostic(), &input.name, &input.bytes))?;
        bar.finish();
        curves.extend(training_curves(
            &input.program,
            outlines,
            limits.as_deref(),
            &runs,
        ));
        programs.push(ProgramJson {
            label: &input.label,
            file: input.name.clone(),
            limit: limits.is_some(),
            notes,
        });
    }
    // Curves of one name from every program come together, in order of first appearance.
    let mut names: Vec<String> = Vec::new();
    for curve in &curves {
        if !names.contains(&curve.name) {
            names.push(curve.name.clone());
        }
    }
    curves.sort_by_key(|c| names.iter().position(|n| *n == c.name));
    if let Some(path) = &args.svg {
        let scale = if args.log_y {
            ValueScale::Log
        } else {
            ValueScale::Linear
        };
        std::fs::write(path, plot_svg(&curves, scale)).map_err(|e| {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            crate::Reported::File
        })?;
    }
    let text = match args.format {
        CurvesFormat::Text => curves_text(&curves, &args.runs.widths, args.runs.seeds),
        CurvesFormat::Json => {
            let document = CurvesJson {
                widths: &args.runs.widths,
                seeds: args.runs.seeds,
                seed: args.runs.seed,
                programs,
                curves: &curves,
            };
            serde_json::to_string_pretty(&document).expect("JSON serializes") + "\n"
        }
        CurvesFormat::Csv => {
            let mut csv = Vec::new();
            tpc::curves::write_csv(&mut csv, &curves, &args.runs.widths)
                .expect("writing to memory succeeds");
            String::from_utf8(csv).expect("CSV is UTF-8")
        }
    };
    crate::print(&text)
}

/// The JSON document of `--format json`.
#[derive(serde::Serialize)]
struct CurvesJson<'a> {
    widths: &'a [usize],
    seeds: usize,
    seed: u64,
    programs: Vec<ProgramJson<'a>>,
    curves: &'a [Curve],
}

/// One program in the JSON: its label, file, whether it has a limit, the evaluation's notes.
#[derive(serde::Serialize)]
struct ProgramJson<'a> {
    label: &'a str,
    file: String,
    limit: bool,
    notes: Vec<tpc::eval::Note>,
}

/// The program's evaluated outputs, as `tpc eval` computes them, and the evaluation's notes
/// (printed on standard error, labelled with the program); `None` for a program that writes
/// powers of the width (E0201), which is simulated without a limit.
fn limit(
    input: &Input,
    args: &crate::EvalArgs,
) -> Result<(Option<Vec<OutputValue>>, Vec<tpc::eval::Note>), crate::Reported> {
    let bar = crate::Progress::new("limit");
    let evaluated = tpc::evaluate_outputs(
        &input.bytes,
        &crate::lower_options(&input.file),
        &args.options(),
        None,
        Some(&|done, total| bar.update(done, total)),
    );
    bar.finish();
    match evaluated {
        Ok(evaluated) => {
            for line in tpc::output::note_lines(&evaluated.notes, args.verbose) {
                eprintln!("note: {}: {line}", input.label);
            }
            Ok((Some(evaluated.outputs), evaluated.notes))
        }
        Err(d) if d.code == "E0201" => {
            eprintln!(
                "note: {}: the program writes powers of the width explicitly, so it has no \
                 limit; its curves are finite-width only",
                input.label
            );
            Ok((None, Vec::new()))
        }
        Err(d) => Err(crate::report(&d, &input.name, &input.bytes)),
    }
}

/// Reports a request the programs cannot answer as a usage error.
fn usage(error: tpc::curves::CurveError) -> crate::Reported {
    eprintln!("error: {error}");
    crate::Reported::Usage
}

/// `--output` names split at the commas outside brackets: `fc1,f[t, 0]` is `fc1` and `f[t, 0]`.
fn split_names(text: &str) -> Vec<String> {
    let mut names = vec![String::new()];
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                names.push(String::new());
                continue;
            }
            _ => {}
        }
        names.last_mut().expect("one name at least").push(c);
    }
    names
        .into_iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect()
}

/// Each program's label: its file stem (`mup` for `runs/mup.tp`, `<stdin>` for `-`), or the
/// path as given where stems repeat.
fn labels(files: &[PathBuf]) -> Vec<String> {
    let stem = |file: &Path| -> String {
        if file.as_os_str() == "-" {
            return "<stdin>".to_string();
        }
        file.file_stem().map_or_else(
            || file.display().to_string(),
            |s| s.to_string_lossy().into(),
        )
    };
    let stems: Vec<String> = files.iter().map(|f| stem(f)).collect();
    files
        .iter()
        .zip(&stems)
        .map(|(file, s)| {
            if stems.iter().filter(|t| *t == s).count() > 1 {
                file.display().to_string()
            } else {
                s.clone()
            }
        })
        .collect()
}

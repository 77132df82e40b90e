//! `tpc coordcheck`: how every named vector and output of a program scales with the width.

use num_rational::Rational64;
use std::path::PathBuf;
use tpc::coordcheck::{coord_check, panel_names, plot_svg, Options};
use tpc::ir::Program;
use tpc::scaling::{analyze, ScalingOptions};

/// The arguments of `tpc coordcheck`.
#[derive(clap::Args)]
pub struct CoordCheckArgs {
    /// The `.tp` file, or `-` for standard input.
    file: PathBuf,
    /// Widths n to run at, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256,512,1024,2048,4096",
          value_parser = super::values::width)]
    widths: Vec<usize>,
    /// Number of seeds (independent networks) per width.
    #[arg(long, default_value_t = Options::default().seeds as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    seeds: u64,
    /// The first seed; seed s of each width is SEED + s.
    #[arg(long, default_value_t = Options::default().base_seed)]
    seed: u64,
    /// Write the plot (one log-log panel per quantity) as SVG to this file.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Only these panels (vector or output names; a family by its base name), comma-separated.
    #[arg(long, value_delimiter = ',', value_name = "NAME")]
    only: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = crate::Format::Text)]
    format: crate::Format,
}

/// Runs the coord check, writes the plot if asked and prints the table or JSON.
pub fn run(args: &CoordCheckArgs) -> Result<(), crate::Reported> {
    let (name, bytes) = crate::read_input(&args.file)?;
    let options = crate::lower_options(&args.file);
    let program = tpc::compile(&bytes, &options).map_err(|d| crate::report(&d, &name, &bytes))?;
    let known = panel_names(&program);
    if let Some(unknown) = args.only.iter().find(|n| !known.contains(n)) {
        clap::Error::raw(
            clap::error::ErrorKind::InvalidValue,
            format!(
                "--only: `{unknown}` is not a named vector or output of the program (it has: {})\n",
                known.join(", ")
            ),
        )
        .exit();
    }
    let options = Options {
        widths: args.widths.clone(),
        seeds: args.seeds as usize,
        base_seed: args.seed,
        only: args.only.clone(),
        ..Options::default()
    };
    let predicted = predicted_exponents(&program);
    let bar = crate::Progress::new("coord check");
    let check = coord_check(&program, &options, &predicted, &|done, total| {
        bar.update(done, total)
    })
    .map_err(|e| crate::report(&e.to_diagnostic(), &name, &bytes))?;
    bar.finish();
    if let Some(path) = &args.plot {
        std::fs::write(path, plot_svg(&check)).map_err(|e| {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            crate::Reported::File
        })?;
    }
    let text = match args.format {
        crate::Format::Text => check.to_string(),
        crate::Format::Json => {
            serde_json::to_string_pretty(&check).expect("JSON serializes") + "\n"
        }
    };
    crate::print(&text)
}

/// The exponent of every instruction that the width-power analysis (`tpc derive --scaling`)
/// predicts exactly, by instruction; none (with a note on standard error) if it cannot run.
fn predicted_exponents(program: &Program) -> Vec<Option<Rational64>> {
    match analyze(program, &ScalingOptions::default()) {
        Ok(scaling) => scaling
            .quantities
            .iter()
            .map(|q| q.as_ref().and_then(|q| q.size.predicted_exponent()))
            .collect(),
        Err(e) => {
            eprintln!(
                "note: no predicted exponents: {}",
                e.to_diagnostic().message
            );
            Vec::new()
        }
    }
}

//! `tpc simulate`: finite-width runs of a program beside its limit.

use std::path::PathBuf;
use tpc::output::{format_error, format_measured, format_significant};

/// The arguments of `tpc simulate`.
#[derive(clap::Args)]
pub struct SimulateArgs {
    /// The `.tp` file, or `-` for standard input.
    file: PathBuf,
    #[command(flatten)]
    runs: RunArgs,
    #[command(flatten)]
    eval: crate::EvalArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = crate::Format::Text)]
    format: crate::Format,
}

/// The widths and seeds of finite-width runs (`tpc simulate`, `tpc curves`).
#[derive(clap::Args)]
pub struct RunArgs {
    /// Widths n to run at, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "256,1024,4096",
          value_parser = super::values::width)]
    pub widths: Vec<usize>,
    /// Number of seeds (independent networks) per width.
    #[arg(long, default_value_t = 8, value_parser = super::values::count)]
    pub seeds: usize,
    /// The first seed; seed s of each width is SEED + s.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Runs the program at every width and seed and prints the table or JSON.
pub fn run(args: &SimulateArgs) -> Result<(), crate::Reported> {
    let (name, bytes) = crate::read_input(&args.file)?;
    let options = crate::lower_options(&args.file);
    let program = tpc::compile(&bytes, &options).map_err(|d| crate::report(&d, &name, &bytes))?;
    let limits = crate::output_limits(&program, &args.eval, &args.file, &name, &bytes)?;
    let bar = crate::Progress::new("simulating");
    let runs = tpc::simulate::simulate_many(
        &program,
        &args.runs.widths,
        args.runs.seeds,
        args.runs.seed,
        &|done, total| bar.update(done, total),
    )
    .map_err(|e| crate::report(&e.to_diagnostic(), &name, &bytes))?;
    bar.finish();
    let report = tpc::simulate::simulation_table(&program, limits.as_deref(), &runs);
    let text = match args.format {
        crate::Format::Text => simulation_text(&report, &runs),
        crate::Format::Json => {
            serde_json::to_string_pretty(&report).expect("JSON serializes") + "\n"
        }
    };
    crate::print(&text)
}

/// The table: per output its limit ± error, then per width the mean ± standard error (to the
/// digits the standard error supports) and the RMS deviation from the limit.
fn simulation_text(report: &[tpc::simulate::OutputTable], runs: &tpc::simulate::Runs) -> String {
    let mut t = format!("{} seed(s) per width\n", runs.seeds.len());
    for o in report {
        match o.limit {
            Some(limit) => t.push_str(&format!(
                "\n{}  limit {} ± {} ({})\n",
                o.name,
                format_measured(limit.value, limit.error),
                format_error(limit.error),
                limit.method.name()
            )),
            None => t.push_str(&format!("\n{}  (no limit)\n", o.name)),
        }
        t.push_str(&format!(
            "  {:>8}  {:>16}  {:>10}  {:>12}\n",
            "n", "mean", "± s.e.", "RMS dev"
        ));
        for w in &o.widths {
            let se = w.standard_error.map_or("–".to_string(), format_error);
            let rms = w
                .rms_deviation
                .map_or("–".to_string(), |r| format_significant(r, 3));
            let mean = format_measured(w.mean, w.standard_error.unwrap_or(0.0));
            t.push_str(&format!(
                "  {:>8}  {:>16}  {:>10}  {:>12}\n",
                w.width, mean, se, rms
            ));
        }
        if let Some(slope) = o.slope {
            t.push_str(&format!(
                "  slope of log RMS vs log n: {slope:.2} (about −0.5 expected)\n"
            ));
        }
    }
    t
}

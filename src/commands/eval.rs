//! `tpc eval`: every output's limit, as a table or JSON, and as array files with `--out`.

use std::path::{Path, PathBuf};
use tpc::output::{to_text, write_csv, write_json, write_npy, JsonOutputs, OutputValue};

/// The arguments of `tpc eval`.
#[derive(clap::Args)]
pub struct EvalCommandArgs {
    /// The `.tp` file, or `-` for standard input.
    file: PathBuf,
    #[command(flatten)]
    eval: crate::EvalArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = crate::Format::Text)]
    format: crate::Format,
    /// Also write the outputs to this directory (created if needed): every family as
    /// NAME.npy (values) and NAME.errors.npy (error estimates), and outputs.json (every
    /// scalar, and each family's files, shape, start index and method).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Only rows A..B of the output matrices (members of the program's parallel index space,
    /// e.g. the inputs `i` of `K[i, j]`): one tile of a large kernel, for a job array.
    #[arg(long, value_name = "A..B", value_parser = parse_range)]
    rows: Option<std::ops::Range<usize>>,
    /// Only columns C..D of the output matrices (see --rows).
    #[arg(long, value_name = "C..D", value_parser = parse_range)]
    cols: Option<std::ops::Range<usize>>,
    /// With --out: also write every family's values as NAME.csv.
    #[arg(long, requires = "out")]
    csv: bool,
}

/// `A..B` as a range of members.
fn parse_range(text: &str) -> Result<std::ops::Range<usize>, String> {
    let (a, b) = text
        .split_once("..")
        .ok_or_else(|| format!("expected a range A..B, found `{text}`"))?;
    let a: usize = a
        .trim()
        .parse()
        .map_err(|_| format!("`{a}` is not a member index"))?;
    let b: usize = b
        .trim()
        .parse()
        .map_err(|_| format!("`{b}` is not a member index"))?;
    if a >= b {
        return Err(format!("the range {a}..{b} is empty"));
    }
    Ok(a..b)
}

/// The tile of `--rows`/`--cols`; an absent one means every member.
fn tile(args: &EvalCommandArgs) -> Option<tpc::eval::Tile> {
    (args.rows.is_some() || args.cols.is_some()).then(|| tpc::eval::Tile {
        rows: args.rows.clone().unwrap_or(0..usize::MAX),
        cols: args.cols.clone().unwrap_or(0..usize::MAX),
    })
}

/// Evaluates the program, writes the files of `--out` and prints the table or JSON.
pub fn run(args: &EvalCommandArgs) -> Result<(), crate::Reported> {
    let (name, bytes) = crate::read_input(&args.file)?;
    let bar = crate::Progress::new("Monte Carlo");
    let evaluation = tpc::evaluate_outputs(
        &bytes,
        &crate::lower_options(&args.file),
        &args.eval.options(),
        tile(args).as_ref(),
        Some(&|done, total| bar.update(done, total)),
    )
    .map_err(|d| crate::report(&d, &name, &bytes))?;
    bar.finish();
    let outputs = evaluation.outputs;
    if let Some(dir) = &args.out {
        write_files(dir, &outputs, &evaluation.notes, args.csv)?;
    }
    let text = match args.format {
        crate::Format::Text => {
            crate::print_notes(&evaluation.notes, args.eval.verbose);
            to_text(&outputs)
        }
        crate::Format::Json => {
            let mut json = Vec::new();
            write_json(&mut json, &outputs, &evaluation.notes, JsonOutputs::Nested)
                .expect("writing to memory succeeds");
            String::from_utf8(json).expect("JSON is UTF-8")
        }
    };
    crate::print(&text)
}

/// Writes `DIR/NAME.npy`, `DIR/NAME.errors.npy` (and `DIR/NAME.csv`) per family and
/// `DIR/outputs.json`, and lists them on standard error.
fn write_files(
    dir: &Path,
    outputs: &[OutputValue],
    notes: &[tpc::eval::Note],
    csv: bool,
) -> Result<(), crate::Reported> {
    // Names differing only in case would overwrite each other on some file systems.
    let families: Vec<&tpc::output::FamilyValue> = outputs
        .iter()
        .filter_map(|o| match o {
            OutputValue::Family(f) => Some(f),
            OutputValue::Scalar { .. } => None,
        })
        .collect();
    for (i, a) in families.iter().enumerate() {
        if let Some(b) = families[..i]
            .iter()
            .find(|b| b.name.eq_ignore_ascii_case(&a.name) && b.name != a.name)
        {
            eprintln!(
                "error: the families `{}` and `{}` differ only in case; their files in `{}` \
                 would collide",
                b.name,
                a.name,
                dir.display()
            );
            return Err(crate::Reported::File);
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| {
        eprintln!("error: cannot create `{}`: {e}", dir.display());
        crate::Reported::File
    })?;
    let mut written = Vec::new();
    // Each file is written as it is produced, through a buffer (a family may be gigabytes).
    let mut write = |file: String,
                     produce: &dyn Fn(&mut dyn std::io::Write) -> std::io::Result<()>|
     -> Result<(), crate::Reported> {
        let path = dir.join(&file);
        let result = std::fs::File::create(&path).and_then(|f| {
            let mut out = std::io::BufWriter::new(f);
            produce(&mut out)?;
            std::io::Write::flush(&mut out)
        });
        result.map_err(|e| {
            eprintln!("error: cannot write `{}`: {e}", path.display());
            crate::Reported::File
        })?;
        written.push(file);
        Ok(())
    };
    for family in &families {
        write(format!("{}.npy", family.name), &|mut out| {
            write_npy(&mut out, &family.values)
        })?;
        write(format!("{}.errors.npy", family.name), &|mut out| {
            write_npy(&mut out, &family.errors)
        })?;
        if csv {
            write(format!("{}.csv", family.name), &|mut out| {
                write_csv(&mut out, family)
            })?;
        }
    }
    write("outputs.json".to_string(), &|mut out| {
        write_json(&mut out, outputs, notes, JsonOutputs::Files { csv })
    })?;
    eprintln!("wrote {} to {}", written.join(", "), dir.display());
    Ok(())
}

//! `tpc test`: every program's snapshot checks — derived equations, scaling report, values,
//! coord-check exponents — against what tpc computes now.

use std::path::{Path, PathBuf};
use tpc::snapshot::{compare, parse, record, snapshot_path, CheckKind, RecordOptions, Snapshot};

/// The arguments of `tpc test`.
#[derive(clap::Args)]
pub struct TestArgs {
    /// `.tp` files, or directories searched for them (recursively); default: the current
    /// directory.
    paths: Vec<PathBuf>,
    /// Record the current results as the snapshots (`NAME.snap` beside `NAME.tp`), after
    /// reviewing the differences `tpc test` printed.
    #[arg(long)]
    accept: bool,
    /// With --accept: the checks to record, comma-separated (derive, scaling, eval,
    /// coordcheck); default: those of the existing snapshot, or derive, scaling and eval.
    #[arg(long, value_delimiter = ',', value_parser = check_kind)]
    checks: Vec<CheckKind>,
    /// With --accept and the coordcheck check: its widths, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "128,256,512,1024",
          value_parser = super::values::width)]
    widths: Vec<usize>,
    /// With --accept and the coordcheck check: seeds per width.
    #[arg(long, default_value_t = 4, value_parser = super::values::count)]
    seeds: usize,
}

fn check_kind(text: &str) -> Result<CheckKind, String> {
    CheckKind::from_name(text)
        .ok_or_else(|| format!("`{text}` is not a check (derive, scaling, eval, coordcheck)"))
}

/// How one program fared.
enum Outcome {
    Passed,
    Failed,
    Recorded,
}

/// Checks (or with `--accept` records) every program found; a failure if any check differs,
/// a program has no snapshot, or a snapshot cannot be read.
pub fn run(args: &TestArgs) -> Result<(), crate::Reported> {
    let roots = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let mut programs = Vec::new();
    for root in &roots {
        find_programs(root, &mut programs)?;
    }
    if programs.is_empty() {
        eprintln!("error: no `.tp` program under {}", display_paths(&roots));
        return Err(crate::Reported::File);
    }
    let (mut passed, mut failed, mut recorded) = (0, 0, 0);
    for program in &programs {
        match test_program(program, args)? {
            Outcome::Passed => passed += 1,
            Outcome::Failed => failed += 1,
            Outcome::Recorded => recorded += 1,
        }
    }
    println!(
        "\n{} program(s): {passed} passed, {failed} failed{}",
        programs.len(),
        if recorded > 0 {
            format!(", {recorded} recorded")
        } else {
            String::new()
        }
    );
    if failed > 0 {
        println!("review the differences above; `tpc test --accept PATHS` records the new results");
        return Err(crate::Reported::Program);
    }
    Ok(())
}

/// Tests or records one program.
fn test_program(program: &Path, args: &TestArgs) -> Result<Outcome, crate::Reported> {
    let (_, bytes) = crate::read_input(&program.to_path_buf())?;
    let snap = snapshot_path(program);
    let existing = match std::fs::read_to_string(&snap) {
        Ok(text) => Some(parse(&text).map_err(|e| {
            eprintln!("error: {}: {e}", snap.display());
            crate::Reported::File
        })?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", snap.display());
            return Err(crate::Reported::File);
        }
    };
    let checks = checks(args, existing.as_ref());
    let options = RecordOptions {
        lower: crate::lower_options(program),
        checks,
    };
    let name = program.file_name().map_or_else(
        || program.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let current = record(&bytes, &name, &options).map_err(|e| {
        eprintln!("error: {}: {e}", snap.display());
        crate::Reported::Usage
    })?;
    if args.accept {
        std::fs::write(&snap, current.to_text()).map_err(|e| {
            eprintln!("error: cannot write `{}`: {e}", snap.display());
            crate::Reported::File
        })?;
        println!("recorded {}", snap.display());
        return Ok(Outcome::Recorded);
    }
    let Some(existing) = existing else {
        println!(
            "FAIL {}: no snapshot ({} is missing; `tpc test --accept {}` records one)",
            program.display(),
            snap.display(),
            program.display()
        );
        return Ok(Outcome::Failed);
    };
    let differences = compare(&existing, &current);
    if differences.is_empty() {
        let kinds: Vec<&str> = existing.sections.iter().map(|s| s.kind.name()).collect();
        println!("ok   {} ({})", program.display(), kinds.join(", "));
        return Ok(Outcome::Passed);
    }
    println!("FAIL {}", program.display());
    for d in differences {
        println!("  {} differs from {}:", d.kind.name(), snap.display());
        for line in d.description.lines() {
            println!("    {line}");
        }
    }
    Ok(Outcome::Failed)
}

/// The checks to run: the snapshot's own (with their options), or with `--accept` the
/// ones asked for.
fn checks(args: &TestArgs, existing: Option<&Snapshot>) -> Vec<(CheckKind, String)> {
    let coordcheck = format!(
        "--widths {} --seeds {}",
        args.widths
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(","),
        args.seeds
    );
    let asked = |kinds: &[CheckKind]| {
        CheckKind::ALL
            .into_iter()
            .filter(|k| kinds.contains(k))
            .map(|k| {
                let options = match k {
                    CheckKind::Coordcheck => coordcheck.clone(),
                    _ => String::new(),
                };
                (k, options)
            })
            .collect()
    };
    match existing {
        _ if args.accept && !args.checks.is_empty() => asked(&args.checks),
        Some(snapshot) => snapshot
            .sections
            .iter()
            .map(|s| (s.kind, s.options.clone()))
            .collect(),
        None => asked(&[CheckKind::Derive, CheckKind::Scaling, CheckKind::Eval]),
    }
}

/// Adds `root` if it is a file, or every `.tp` file under it (sorted, hidden directories
/// and `target` skipped).
fn find_programs(root: &Path, found: &mut Vec<PathBuf>) -> Result<(), crate::Reported> {
    let metadata = std::fs::metadata(root).map_err(|e| {
        eprintln!("error: cannot read `{}`: {e}", root.display());
        crate::Reported::File
    })?;
    if !metadata.is_dir() {
        found.push(root.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(root)
        .and_then(|dir| dir.map(|e| e.map(|e| e.path())).collect())
        .map_err(|e| {
            eprintln!("error: cannot read `{}`: {e}", root.display());
            crate::Reported::File
        })?;
    entries.sort();
    for path in entries {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let skipped = name.is_some_and(|n| n.starts_with('.') || n == "target");
        if path.is_dir() && !skipped {
            find_programs(&path, found)?;
        } else if path.extension().is_some_and(|e| e == "tp") {
            found.push(path);
        }
    }
    Ok(())
}

fn display_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| format!("`{}`", p.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

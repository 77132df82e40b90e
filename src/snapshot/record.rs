//! Computing the checks of a program as snapshot sections.

use super::{Section, Snapshot};
use crate::coordcheck::{coord_check, Fit, Options as CoordOptions};
use crate::eval::EvalOptions;
use crate::ir::LowerOptions;
use crate::output::{format_significant, OutputValue};
use crate::scaling::{analyze, ScalingOptions};
use crate::Diagnostic;
use ndarray::Dimension;

/// The checks `tpc test` can record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// The derived limit equations (`tpc derive`), as text.
    Derive,
    /// The width-power report (`tpc derive --scaling`), as text.
    Scaling,
    /// Every output's limit (`tpc eval`), within a tolerance.
    Eval,
    /// Every quantity's fitted width exponent (`tpc coordcheck`), within a tolerance.
    Coordcheck,
}

impl CheckKind {
    /// Every kind, in the order a snapshot lists them.
    pub const ALL: [CheckKind; 4] = [
        CheckKind::Derive,
        CheckKind::Scaling,
        CheckKind::Eval,
        CheckKind::Coordcheck,
    ];

    /// The name in a snapshot file and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CheckKind::Derive => "derive",
            CheckKind::Scaling => "scaling",
            CheckKind::Eval => "eval",
            CheckKind::Coordcheck => "coordcheck",
        }
    }

    /// The kind of a name.
    pub fn from_name(name: &str) -> Option<CheckKind> {
        CheckKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// How to record a program's checks.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// Lowering options (the program's directory, for `load`).
    pub lower: LowerOptions,
    /// The checks, each with its options (`--widths 256,512 --seeds 4` for a coord check).
    pub checks: Vec<(CheckKind, String)>,
}

/// The tolerance recorded for a value with error bar `error`: four error bars, and no less
/// than a relative 1e-9 (rounding that differs between machines must not fail a test).
fn value_tolerance(value: f64, error: f64) -> f64 {
    (4.0 * error).max(1e-9 * value.abs()).max(1e-12)
}

/// The tolerance recorded for a fitted exponent: three standard errors, at least 0.05.
fn exponent_tolerance(standard_error: Option<f64>) -> f64 {
    (3.0 * standard_error.unwrap_or(0.0)).max(0.05)
}

/// Computes the checks of `options` for the program `bytes`, named `name` in the equations'
/// header. A check that fails records the diagnostic (`error[E0201]: …`), so a program
/// that must be refused can be guarded too; options a check does not understand are an error.
pub fn record(bytes: &[u8], name: &str, options: &RecordOptions) -> Result<Snapshot, String> {
    for (kind, check_options) in &options.checks {
        match kind {
            CheckKind::Coordcheck => drop(coord_options(check_options)?),
            _ if !check_options.is_empty() => {
                return Err(format!(
                    "`{}` takes no options, found `{check_options}`",
                    kind.name()
                ))
            }
            _ => {}
        }
    }
    let sections = options
        .checks
        .iter()
        .map(|(kind, check_options)| {
            let body = match run(*kind, check_options, bytes, name, &options.lower) {
                Ok(body) => body,
                Err(d) => format!("error[{}]: {}\n", d.code, d.message),
            };
            Section {
                kind: *kind,
                options: check_options.clone(),
                body,
            }
        })
        .collect();
    Ok(Snapshot { sections })
}

/// One check's body.
fn run(
    kind: CheckKind,
    check_options: &str,
    bytes: &[u8],
    name: &str,
    lower: &LowerOptions,
) -> Result<String, Diagnostic> {
    match kind {
        CheckKind::Derive => {
            let parallel = LowerOptions {
                parallel: true,
                ..lower.clone()
            };
            let program = crate::compile(bytes, &parallel)?;
            let limit = crate::limit::derive(&program).map_err(|e| e.to_diagnostic())?;
            let source = String::from_utf8_lossy(bytes);
            Ok(crate::limit::LimitDisplay::new(
                &limit,
                &source,
                name,
                crate::limit::LimitFormat::Text,
            )
            .to_string())
        }
        CheckKind::Scaling => {
            let program = crate::compile(bytes, lower)?;
            let scaling =
                analyze(&program, &ScalingOptions::default()).map_err(|e| e.to_diagnostic())?;
            Ok(crate::scaling::to_text(&program, &scaling))
        }
        CheckKind::Eval => {
            let evaluated =
                crate::evaluate_outputs(bytes, lower, &EvalOptions::default(), None, None)?;
            Ok(eval_lines(&evaluated.outputs))
        }
        CheckKind::Coordcheck => {
            let coord = coord_options(check_options).expect("checked by `record`");
            let program = crate::compile(bytes, lower)?;
            let check =
                coord_check(&program, &coord, &[], &|_, _| {}).map_err(|e| e.to_diagnostic())?;
            let mut body = String::new();
            for line in check.panels.iter().flat_map(|p| &p.lines) {
                let entry = match line.fit {
                    Fit::Zero => "zero".to_string(),
                    Fit::Undetermined => "undetermined".to_string(),
                    Fit::Slope {
                        slope,
                        standard_error,
                    } => format!(
                        "{} ± {}",
                        format_significant(slope, 3),
                        format_significant(exponent_tolerance(standard_error), 2)
                    ),
                };
                body.push_str(&format!("{} = {entry}\n", line.line.name));
            }
            Ok(body)
        }
    }
}

/// `name = value ± tolerance` for every output and family member, in output order.
fn eval_lines(outputs: &[OutputValue]) -> String {
    let mut body = String::new();
    let mut line = |name: &str, value: f64, error: f64| {
        body.push_str(&format!(
            "{name} = {} ± {}\n",
            format_significant(value, 15),
            format_significant(value_tolerance(value, error), 2)
        ));
    };
    for output in outputs {
        match output {
            OutputValue::Scalar { name, value } => line(name, value.value, value.error),
            OutputValue::Family(family) => {
                for (at, value) in family.values.indexed_iter() {
                    if value.is_nan() {
                        continue;
                    }
                    let index: Vec<String> = (0..at.ndim())
                        .map(|d| at[d])
                        .zip(&family.start)
                        .map(|(i, s)| (i as i64 + s).to_string())
                        .collect();
                    let name = format!("{}[{}]", family.name, index.join(", "));
                    line(&name, *value, family.errors[at]);
                }
            }
        }
    }
    body
}

/// The coord-check options of a section: `--widths A,B,… --seeds K` (defaults: widths
/// 128, 256, 512, 1024 and 4 seeds).
pub fn coord_options(text: &str) -> Result<CoordOptions, String> {
    let mut options = CoordOptions {
        widths: vec![128, 256, 512, 1024],
        ..CoordOptions::default()
    };
    let words: Vec<&str> = text.split_whitespace().collect();
    for pair in words.chunks(2) {
        match pair {
            ["--widths", widths] => {
                options.widths = widths
                    .split(',')
                    .map(|w| match w.parse::<usize>() {
                        Ok(n) if (1..=crate::simulate::MAX_WIDTH).contains(&n) => Ok(n),
                        _ => Err(format!("`{w}` is not a width")),
                    })
                    .collect::<Result<_, _>>()?
            }
            ["--seeds", seeds] => {
                options.seeds = match seeds.parse::<usize>() {
                    Ok(k) if k >= 1 => k,
                    _ => return Err(format!("`{seeds}` is not a number of seeds")),
                }
            }
            _ => {
                return Err(format!(
                    "coordcheck options are `--widths A,B,… --seeds K`, found `{text}`"
                ))
            }
        }
    }
    Ok(options)
}

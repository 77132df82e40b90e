//! The table of a simulation: per output and width, the mean over seeds, its standard error,
//! the RMS deviation from the limit, and the slope of that deviation against the width.

use super::{stats, Runs};
use crate::eval::Value;
use crate::ir::Program;

/// One output of a simulation table.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct OutputTable {
    /// The output's name (`m`, `K[0, 1]`).
    pub name: String,
    /// Its limit, when the program has one.
    pub limit: Option<Value>,
    /// One row per width at which some run finished.
    pub widths: Vec<WidthRow>,
    /// The slope of log RMS deviation against log width (about −1/2 expected), from two or
    /// more widths with a deviation.
    pub slope: Option<f64>,
}

/// One width of one output.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct WidthRow {
    /// The width n.
    pub width: usize,
    /// The mean over seeds.
    pub mean: f64,
    /// Its standard error (two or more seeds).
    pub standard_error: Option<f64>,
    /// The root mean square deviation of the seeds' values from the limit.
    pub rms_deviation: Option<f64>,
}

/// The positions of `program.outputs` in report order: the program's order, except that
/// members of one family listed together come in numeric index order (`k[2]` before `k[10]`).
pub fn report_order(program: &Program) -> Vec<usize> {
    let mut member: Vec<Option<(usize, &[i64])>> = vec![None; program.instructions.len()];
    for (f, family) in program.families.iter().enumerate() {
        for (index, instruction) in &family.members {
            member[*instruction] = Some((f, index));
        }
    }
    let family_of = |o: usize| member[program.outputs[o].index()].map(|(f, _)| f);
    let mut order: Vec<usize> = (0..program.outputs.len()).collect();
    let mut start = 0;
    while start < order.len() {
        let family = family_of(start);
        let end = (start..order.len())
            .find(|&o| family.is_none() || family_of(o) != family)
            .unwrap_or(order.len())
            .max(start + 1);
        order[start..end].sort_by_key(|&o| member[program.outputs[o].index()].map(|(_, i)| i));
        start = end;
    }
    order
}

/// The table of `tpc simulate`: per output (in [`report_order`]), its limit (`limits`, in
/// `program.outputs` order, when the program has one) and per width the mean, standard
/// error and RMS deviation from the limit of the runs, and the log-log slope of that
/// deviation against the width.
pub fn simulation_table(
    program: &Program,
    limits: Option<&[Option<Value>]>,
    runs: &Runs,
) -> Vec<OutputTable> {
    report_order(program)
        .into_iter()
        .map(|o| {
            let limit = limits.and_then(|l| l[o]);
            let widths: Vec<WidthRow> = runs
                .widths
                .iter()
                .enumerate()
                .filter_map(|(w, &width)| {
                    let values = runs.output(w, o);
                    let estimate = stats::estimate(&values)?;
                    Some(WidthRow {
                        width,
                        mean: estimate.mean + 0.0,
                        standard_error: estimate.standard_error,
                        rms_deviation: limit.and_then(|l| stats::rms_deviation(&values, l.value)),
                    })
                })
                .collect();
            let points: Vec<(usize, f64)> = widths
                .iter()
                .filter_map(|w| Some((w.width, w.rms_deviation?)))
                .collect();
            OutputTable {
                name: program.display_name(program.outputs[o].index()),
                limit,
                slope: stats::log_log_slope(&points),
                widths,
            }
        })
        .collect()
}

//! Training curves: a training program's outputs at every step, the infinite-width limit
//! beside finite-width runs.
//!
//! A program written by `tpc gen mlp --steps T` reports families whose first index is the
//! training step: `f[t, i]`, `chi[t]`, `fc1[t]`. [`curve_outlines`] finds them (before any
//! evaluation, so that a bad request fails at once) and [`training_curves`] turns one program's
//! evaluated limit (as [`crate::evaluate_outputs`] gives it, the values of `tpc eval`) and its
//! runs (as [`crate::simulate::simulate_many`] gives them, summarized by
//! [`crate::simulate::simulation_table`] as `tpc simulate` does) into [`Curve`]s:
//!
//! ```text
//! Program ─curve_outlines→ [Outline]
//! [Outline] + Evaluated + Runs ─training_curves→ [Curve] ─curves_text / write_csv / plot_svg→ table, SVG
//! ```
//!
//! Every output family is read with its **first index as the step**; a family of higher rank
//! gives one curve per value of its other indices (`f[t, 0]`, `f[t, 1]`, …). A curve has,
//! per step, the limit ± its error and per width the mean over seeds ± its standard error.
//! Curves of several programs (μP beside NTK) are compared step by step, so [`same_steps`]
//! refuses curves of one name whose steps differ.

mod error;
mod plot;
mod table;

pub use error::CurveError;
pub use plot::{plot_svg, ValueScale};
pub use table::{curves_text, write_csv};

use crate::eval::Value;
use crate::ir::Program;
use crate::output::{output_scalars, OutputValue};
use crate::simulate::{report_order, simulation_table, Runs};
use serde::Serialize;
use std::collections::HashMap;

/// One output of one program over the training steps.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Curve {
    /// The program's label (its file stem: `mup`).
    pub program: String,
    /// The curve's name: the family's (`fc1`) when its only index is the step, else with the
    /// other indices (`f[t, 0]`).
    pub name: String,
    /// The family's base name (`f`).
    pub family: String,
    /// The family index after the step (`[0]` for `f[t, 0]`; empty for `fc1[t]`).
    pub index: Vec<i64>,
    /// One row per step at which the program defines the output, in increasing order.
    pub steps: Vec<Step>,
}

/// One step of a [`Curve`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Step {
    /// The step: the family's first index.
    pub step: i64,
    /// The infinite-width limit ± its error estimate, when the program has a limit.
    pub limit: Option<Value>,
    /// Per width, in the order asked for, the finite-width runs.
    pub widths: Vec<WidthPoint>,
}

/// The runs of one width at one step: their mean over seeds and its standard error.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct WidthPoint {
    /// The width n.
    pub width: usize,
    /// The mean over seeds.
    pub mean: f64,
    /// Its standard error (two or more seeds).
    pub standard_error: Option<f64>,
}

/// Which outputs of a program make which curves, before anything is evaluated.
#[derive(Clone, Debug, PartialEq)]
pub struct Outline {
    /// The program's label.
    pub program: String,
    /// The curve's name ([`Curve::name`]).
    pub name: String,
    /// The family's base name.
    pub family: String,
    /// The family index after the step.
    pub index: Vec<i64>,
    /// Per step, in increasing order, the position of its member in `Program::outputs`.
    pub steps: Vec<(i64, usize)>,
}

impl Outline {
    /// Whether `selector` names this curve: its family (`f`: every curve of `f`) or the curve
    /// itself (`f[t, 0]`, spaces optional).
    pub fn is_named(&self, selector: &str) -> bool {
        let selector = without_spaces(selector);
        selector == self.family || selector == without_spaces(&self.name)
    }
}

fn without_spaces(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The curves of `program` (as simulated: unrolled), labelled `label`: every output family,
/// read with its first index as the step (members listed twice count once), or only those
/// that `selectors` name ([`Outline::is_named`]), in the order of the `output` statement.
///
/// Errors: a selector that names no family output ([`CurveError::Scalar`] for a scalar
/// output, [`CurveError::Unknown`] otherwise); no family output at all
/// ([`CurveError::NoFamilies`]).
pub fn curve_outlines(
    label: &str,
    program: &Program,
    selectors: &[String],
) -> Result<Vec<Outline>, CurveError> {
    let members = stepped_members(program);
    if members.curves.is_empty() {
        return Err(CurveError::NoFamilies {
            program: label.to_string(),
            scalars: members.scalars,
        });
    }
    let mut outlines: Vec<Outline> = members
        .curves
        .into_iter()
        .map(
            |MemberCurve {
                 family,
                 index,
                 steps,
             }| {
                let family = program.families[family].name.to_string();
                let name = match index.as_slice() {
                    [] => family.clone(),
                    rest => format!("{family}[t, {}]", join(rest)),
                };
                Outline {
                    program: label.to_string(),
                    name,
                    family,
                    index,
                    steps,
                }
            },
        )
        .collect();
    if !selectors.is_empty() {
        for selector in selectors {
            if !outlines.iter().any(|c| c.is_named(selector)) {
                return Err(unknown(label, selector, &outlines, &members.scalars));
            }
        }
        outlines.retain(|c| selectors.iter().any(|s| c.is_named(s)));
    }
    Ok(outlines)
}

/// The curves of `outlines` (from [`curve_outlines`] for `program`): per step the limit from
/// `limits`, the program's evaluated outputs ([`crate::evaluate_outputs`]; `None` for a
/// program without a limit, one that writes powers of the width), and per width the mean and
/// standard error of `runs`, the program's runs, as [`simulation_table`] gives them.
pub fn training_curves(
    program: &Program,
    outlines: &[Outline],
    limits: Option<&[OutputValue]>,
    runs: &Runs,
) -> Vec<Curve> {
    let limit_of = output_scalars(program, limits.unwrap_or_default());
    let tables = simulation_table(program, None, runs);
    let mut table_of = vec![None; program.outputs.len()];
    for (o, table) in report_order(program).into_iter().zip(&tables) {
        table_of[o] = Some(table);
    }
    outlines
        .iter()
        .map(|outline| {
            let steps = outline
                .steps
                .iter()
                .map(|&(step, o)| {
                    let limit = limit_of[o];
                    let widths = table_of[o].map_or(Vec::new(), |t| {
                        t.widths
                            .iter()
                            .map(|w| WidthPoint {
                                width: w.width,
                                mean: w.mean,
                                standard_error: w.standard_error,
                            })
                            .collect()
                    });
                    Step {
                        step,
                        limit,
                        widths,
                    }
                })
                .collect();
            Curve {
                program: outline.program.clone(),
                name: outline.name.clone(),
                family: outline.family.clone(),
                index: outline.index.clone(),
                steps,
            }
        })
        .collect()
}

/// The error for a selector that names no curve of the program.
fn unknown(label: &str, selector: &str, curves: &[Outline], scalars: &[String]) -> CurveError {
    if scalars
        .iter()
        .any(|s| without_spaces(s) == without_spaces(selector))
    {
        return CurveError::Scalar {
            program: label.to_string(),
            output: selector.to_string(),
        };
    }
    let mut names: Vec<String> = Vec::new();
    for curve in curves {
        for name in [&curve.family, &curve.name] {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    CurveError::Unknown {
        program: label.to_string(),
        output: selector.to_string(),
        curves: names,
    }
}

/// The output positions of a program grouped into curves, in order of first appearance, and
/// the names of the outputs that are not family members.
struct SteppedMembers {
    curves: Vec<MemberCurve>,
    scalars: Vec<String>,
}

/// The members of one family that share their indices after the step.
struct MemberCurve {
    /// The family's position in `Program::families`.
    family: usize,
    /// The indices after the step.
    index: Vec<i64>,
    /// (step, output position) pairs, sorted by step.
    steps: Vec<(i64, usize)>,
}

fn stepped_members(program: &Program) -> SteppedMembers {
    let mut member_of: HashMap<usize, (usize, &[i64])> = HashMap::new();
    for (f, family) in program.families.iter().enumerate() {
        for (index, instruction) in &family.members {
            member_of.insert(*instruction, (f, index));
        }
    }
    let mut curves: Vec<MemberCurve> = Vec::new();
    let mut scalars = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (o, id) in program.outputs.iter().enumerate() {
        let instruction = id.index();
        if !seen.insert(instruction) {
            continue;
        }
        match member_of.get(&instruction) {
            Some(&(family, [step, rest @ ..])) => {
                match curves
                    .iter_mut()
                    .find(|c| c.family == family && c.index == rest)
                {
                    Some(curve) => curve.steps.push((*step, o)),
                    None => curves.push(MemberCurve {
                        family,
                        index: rest.to_vec(),
                        steps: vec![(*step, o)],
                    }),
                }
            }
            _ => scalars.push(program.display_name(instruction)),
        }
    }
    for curve in &mut curves {
        curve.steps.sort_by_key(|&(step, _)| step);
    }
    SteppedMembers { curves, scalars }
}

/// Checks that curves of the same name (from different programs) run over the same steps.
pub fn same_steps(outlines: &[Outline]) -> Result<(), CurveError> {
    for (k, a) in outlines.iter().enumerate() {
        if let Some(b) = outlines[..k]
            .iter()
            .find(|b| b.name == a.name && steps(b) != steps(a))
        {
            return Err(CurveError::DifferentSteps {
                curve: a.name.clone(),
                first: (b.program.clone(), step_range(b)),
                second: (a.program.clone(), step_range(a)),
            });
        }
    }
    Ok(())
}

fn steps(outline: &Outline) -> Vec<i64> {
    outline.steps.iter().map(|s| s.0).collect()
}

/// `1..=10`, or the steps listed when they are not consecutive.
fn step_range(outline: &Outline) -> String {
    let steps = steps(outline);
    match (steps.first(), steps.last()) {
        (Some(first), Some(last)) if (last - first) as usize + 1 == steps.len() => {
            format!("{first}..={last}")
        }
        _ => join(&steps),
    }
}

fn join(values: &[i64]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

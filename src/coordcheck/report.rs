//! `coord_check`: measure, group, fit and compare with predicted exponents.

use super::fit::{fit, Fit};
use super::measure::{measure, Measure};
use super::quantities::{panels, Line};
use crate::ir::Program;
use crate::simulate::SimulationError;
use num_rational::Rational64;
use num_traits::ToPrimitive;
use serde::{Serialize, Serializer};

/// What to run and how to judge it.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The widths n.
    pub widths: Vec<usize>,
    /// Seeds (independent networks) per width.
    pub seeds: usize,
    /// The first seed; seed s of each width is `base_seed + s`.
    pub base_seed: u64,
    /// The largest |measured − predicted| slope not flagged as a mismatch (widened to three
    /// standard errors of the slope when those are larger).
    pub tolerance: f64,
    /// The panels to keep, by name (see [`panel_names`]); empty keeps all.
    pub only: Vec<String>,
}

impl Default for Options {
    /// Widths 256 … 4096 by doubling, 4 seeds from seed 0, tolerance 0.1, every panel.
    fn default() -> Options {
        Options {
            widths: vec![256, 512, 1024, 2048, 4096],
            seeds: 4,
            base_seed: 0,
            tolerance: 0.1,
            only: Vec::new(),
        }
    }
}

/// The result of a coord check: every panel's sizes and fitted slopes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoordCheck {
    /// The widths, as requested.
    pub widths: Vec<usize>,
    /// The seeds used at every width.
    pub seeds: Vec<u64>,
    /// The tolerance of the predicted-slope comparison.
    pub tolerance: f64,
    /// The panels, named vectors first (program order), then outputs.
    pub panels: Vec<PanelReport>,
}

/// One panel of a [`CoordCheck`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PanelReport {
    /// The program name shared by the panel's lines.
    pub name: String,
    /// Coordinate sizes of vectors or values of outputs.
    pub measure: Measure,
    /// The lines, one per member.
    pub lines: Vec<LineReport>,
}

/// One quantity of a [`CoordCheck`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineReport {
    /// The name, instruction and size at each width.
    #[serde(flatten)]
    pub line: Line,
    /// The fitted power of n.
    #[serde(flatten)]
    pub fit: Fit,
    /// The predicted exponent, if one was given.
    #[serde(serialize_with = "rational_text")]
    pub predicted: Option<Rational64>,
    /// Whether the measurement contradicts the prediction: a slope further from it than
    /// the tolerance and than 3 standard errors, or a quantity that is zero to rounding.
    pub mismatch: bool,
}

impl CoordCheck {
    /// The line of the quantity called `name` (`x[2]`, `fc1[1]`), in any panel.
    pub fn line(&self, name: &str) -> Option<&LineReport> {
        self.panels
            .iter()
            .flat_map(|p| &p.lines)
            .find(|l| l.line.name == name)
    }

    /// The number of lines whose slope differs from its prediction beyond the tolerance.
    pub fn mismatches(&self) -> usize {
        self.panels
            .iter()
            .flat_map(|p| &p.lines)
            .filter(|l| l.mismatch)
            .count()
    }
}

/// The names of the panels [`coord_check`] produces for `program`, in order: `--only` names.
pub fn panel_names(program: &Program) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for measured in super::measure::measured_quantities(program) {
        let name = super::quantities::panel_name(program, measured.instruction);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Runs a coord check of `program`: [`measure`] at every width and seed, groups the
/// quantities into panels, fits each one's slope and compares it with `predicted[i]`, the
/// predicted exponent of instruction `i` (a shorter slice, or `None`, predicts nothing).
///
/// `options.only` only removes panels from the result: every run is complete, so a panel's
/// numbers do not depend on which others are shown. `progress(done, total)` is called after
/// each run.
pub fn coord_check(
    program: &Program,
    options: &Options,
    predicted: &[Option<Rational64>],
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CoordCheck, SimulationError> {
    let measurements = measure(
        program,
        &options.widths,
        options.seeds,
        options.base_seed,
        progress,
    )?;
    let panels = panels(program, &measurements)
        .into_iter()
        .filter(|p| options.only.is_empty() || options.only.contains(&p.name))
        .map(|panel| PanelReport {
            name: panel.name,
            measure: panel.measure,
            lines: panel
                .lines
                .into_iter()
                .map(|line| {
                    let widths = 0..measurements.widths.len();
                    let values: Vec<Vec<f64>> = widths
                        .clone()
                        .map(|w| measurements.values(w, line.quantity))
                        .collect();
                    let magnitudes: Vec<Vec<f64>> = widths
                        .map(|w| measurements.magnitudes(w, line.quantity))
                        .collect();
                    let fit = fit(&measurements.widths, &values, &magnitudes, panel.measure);
                    let predicted = predicted.get(line.instruction).copied().flatten();
                    // A slope contradicts its prediction when it is further away than the
                    // tolerance and than 3 standard errors: a quantity that is random at
                    // leading order (an SP output at initialization) has a noisy slope.
                    let mismatch = match (fit, predicted) {
                        (
                            Fit::Slope {
                                slope,
                                standard_error,
                            },
                            Some(p),
                        ) => {
                            let allowed =
                                options.tolerance.max(3.0 * standard_error.unwrap_or(0.0));
                            (slope - p.to_f64().unwrap_or(f64::NAN)).abs() > allowed
                        }
                        // A prediction is a power with a nonzero coefficient: a quantity that
                        // is zero to rounding had a cancellation the prediction missed.
                        (Fit::Zero, Some(_)) => true,
                        _ => false,
                    };
                    LineReport {
                        line,
                        fit,
                        predicted,
                        mismatch,
                    }
                })
                .collect(),
        })
        .collect();
    Ok(CoordCheck {
        widths: measurements.widths,
        seeds: measurements.seeds,
        tolerance: options.tolerance,
        panels,
    })
}

/// Serializes an exponent as text (`"-1/2"`), or `null`.
fn rational_text<S: Serializer>(value: &Option<Rational64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(r) => s.collect_str(r),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program() -> Program {
        let source = "vector x ~ N(0, 1)\ny = n^(-1/2) * x\nz = n^(1/2) * x\nd = x - x\n\
                      k = mean(y * z)\n";
        crate::compile(source.as_bytes(), &Default::default()).unwrap()
    }

    fn options() -> Options {
        Options {
            widths: vec![64, 256, 1024],
            seeds: 2,
            ..Options::default()
        }
    }

    fn slope(check: &CoordCheck, name: &str) -> Fit {
        check
            .line(name)
            .unwrap_or_else(|| panic!("no line {name}"))
            .fit
    }

    #[test]
    fn exact_powers_are_recovered() {
        let check = coord_check(&program(), &options(), &[], &|_, _| {}).unwrap();
        // y and z are exact multiples of x, whose RMS fluctuates by about 1/√(4n) over two
        // seeds: a slope error near 0.02 at these widths, so 0.1 is about 4 sd.
        for (name, truth) in [("x", 0.0), ("y", -0.5), ("z", 0.5), ("k", 0.0)] {
            let Fit::Slope { slope, .. } = slope(&check, name) else {
                panic!("{name} has a slope")
            };
            assert!((slope - truth).abs() < 0.1, "{name}: {slope}");
        }
        assert_eq!(slope(&check, "d"), Fit::Zero);
        assert_eq!(check.mismatches(), 0);
    }

    #[test]
    fn predictions_are_compared_within_the_tolerance() {
        let program = program();
        let index = |name: &str| {
            (0..program.instructions.len())
                .find(|&i| program.display_name(i) == name)
                .unwrap()
        };
        let mut predicted = vec![None; program.instructions.len()];
        predicted[index("y")] = Some(Rational64::new(-1, 2));
        predicted[index("z")] = Some(Rational64::new(-1, 2));
        predicted[index("d")] = Some(Rational64::new(0, 1));
        let check = coord_check(&program, &options(), &predicted, &|_, _| {}).unwrap();
        let mismatched: Vec<&str> = check
            .panels
            .iter()
            .flat_map(|p| &p.lines)
            .filter(|l| l.mismatch)
            .map(|l| l.line.name.as_str())
            .collect();
        // z grows as n^(1/2), not n^(-1/2); d is zero, not Θ(1).
        assert_eq!(mismatched, ["z", "d"]);
        let json = serde_json::to_value(&check).unwrap();
        assert_eq!(json["panels"][1]["lines"][0]["predicted"], "-1/2");
        assert_eq!(
            json["panels"][0]["lines"][0]["predicted"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn only_keeps_the_named_panels_without_changing_them() {
        let program = program();
        assert_eq!(panel_names(&program), ["x", "y", "z", "d", "k"]);
        let all = coord_check(&program, &options(), &[], &|_, _| {}).unwrap();
        let only = Options {
            only: vec!["k".into(), "d".into()],
            ..options()
        };
        let some = coord_check(&program, &only, &[], &|_, _| {}).unwrap();
        let names: Vec<&str> = some.panels.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["d", "k"]);
        assert_eq!(some.panels[0], all.panels[3]);
        assert_eq!(some.panels[1], all.panels[4]);
    }
}

//! `panels`: measurements grouped by program name, one size per width.

use super::{Measure, Measurements};
use crate::ir::Program;
use crate::simulate::stats;
use serde::Serialize;

/// The quantities of one program name: a plain name, or every member of a family.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Panel {
    /// The name (`x` for the family `x[0]`, `x[1]`, …), or `%i` for an unnamed output.
    pub name: String,
    /// Whether the panel shows vectors' coordinate sizes or outputs' values.
    pub measure: Measure,
    /// One line per member, in program order (per output order for outputs).
    pub lines: Vec<Line>,
}

/// One quantity across widths.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Line {
    /// Its full name: `x[2]`, `h1[0, 1]`, `k`.
    pub name: String,
    /// Its position in `Program::instructions`.
    pub instruction: usize,
    /// Its position in [`Measurements::quantities`].
    pub quantity: usize,
    /// Its size at each width: the mean over seeds of the coordinate RMS (vectors) or of
    /// |value| (outputs).
    pub sizes: Vec<f64>,
}

/// Groups the measured quantities into panels: named vectors by base name in program order,
/// then outputs by base name in output order.
pub fn panels(program: &Program, measurements: &Measurements) -> Vec<Panel> {
    let mut panels: Vec<Panel> = Vec::new();
    for (q, measured) in measurements.quantities.iter().enumerate() {
        let i = measured.instruction;
        let base = panel_name(program, i);
        let line = Line {
            name: program.display_name(i),
            instruction: i,
            quantity: q,
            sizes: sizes(measurements, q, measured.measure),
        };
        match panels
            .iter_mut()
            .find(|p| p.name == base && p.measure == measured.measure)
        {
            Some(panel) => panel.lines.push(line),
            None => panels.push(Panel {
                name: base,
                measure: measured.measure,
                lines: vec![line],
            }),
        }
    }
    panels
}

/// The panel of instruction `i`: its base name, or `%i` if it has none.
pub(super) fn panel_name(program: &Program, i: usize) -> String {
    match &program.instructions[i].name {
        Some(name) => name.base.to_string(),
        None => program.display_name(i),
    }
}

/// The size of quantity `q` at every width (NaN at a width without seeds).
pub(super) fn sizes(measurements: &Measurements, q: usize, measure: Measure) -> Vec<f64> {
    (0..measurements.widths.len())
        .map(|w| seed_mean(&measurements.values(w, q), measure, None))
        .collect()
}

/// The size from one width's per-seed values, leaving out seed `skip` if given: the mean of
/// the values (coordinate RMS) or of their absolute values (outputs).
pub(super) fn seed_mean(values: &[f64], measure: Measure, skip: Option<usize>) -> f64 {
    let kept: Vec<f64> = values
        .iter()
        .enumerate()
        .filter(|&(s, _)| Some(s) != skip)
        .map(|(_, v)| match measure {
            Measure::CoordinateRms => *v,
            Measure::Value => v.abs(),
        })
        .collect();
    stats::estimate(&kept).map_or(f64::NAN, |e| e.mean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_share_a_panel_and_outputs_come_last() {
        let source = "vector x ~ N(0, 1)\nfor t in 0..3 { h[t] = (t + 1) * x }\n\
                      y = -x\nk[0] = mean(h[0] * y)\nk[1] = mean(h[2] * x)\nm = mean(x)\n\
                      output m, k\n";
        let program = crate::compile(source.as_bytes(), &Default::default()).unwrap();
        let measurements = super::super::measure(&program, &[64], 2, 0, &|_, _| {}).unwrap();
        let panels = panels(&program, &measurements);
        let shape: Vec<(&str, Measure, Vec<&str>)> = panels
            .iter()
            .map(|p| {
                let lines = p.lines.iter().map(|l| l.name.as_str()).collect();
                (p.name.as_str(), p.measure, lines)
            })
            .collect();
        use Measure::*;
        assert_eq!(
            shape,
            [
                ("x", CoordinateRms, vec!["x"]),
                ("h", CoordinateRms, vec!["h[0]", "h[1]", "h[2]"]),
                ("y", CoordinateRms, vec!["y"]),
                ("m", Value, vec!["m"]),
                ("k", Value, vec!["k[0]", "k[1]"]),
            ]
        );
        // h[t] = (t + 1) x exactly, so the sizes are in ratio 1 : 2 : 3.
        let h = &panels[1].lines;
        assert!((h[2].sizes[0] / h[0].sizes[0] - 3.0).abs() < 1e-14);
        // k[0] = −mean(x²) < 0: the size is |k[0]|.
        assert!(panels[4].lines[0].sizes[0] > 0.0);
    }

    #[test]
    fn output_sizes_average_absolute_values() {
        assert_eq!(seed_mean(&[-1.0, 3.0], Measure::Value, None), 2.0);
        assert_eq!(seed_mean(&[-1.0, 3.0], Measure::Value, Some(1)), 1.0);
        assert_eq!(seed_mean(&[1.0, 3.0], Measure::CoordinateRms, Some(0)), 3.0);
        assert!(seed_mean(&[], Measure::Value, None).is_nan());
    }
}

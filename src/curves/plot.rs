//! `plot_svg`: training curves against the step, one panel per curve name, programs overlaid.

use super::Curve;
use crate::output::format_significant;
use crate::plot::{log_range, log_ticks, panel_grid, Area, Drawn, COLOURS, PANEL};
use plotters::coord::combinators::{BindKeyPoints, IntoLogRange};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// Width of the legend beside each panel's chart, in pixels.
const LEGEND: u32 = 170;

/// How far apart the series of one step are drawn, in steps, so that error bars do not
/// cover each other.
const DODGE: f64 = 0.05;

/// Draws `curves` as an SVG document: a panel per curve name (`fc1`, `f[t, 0]`), x = step,
/// y = value on a linear scale. Each program has a colour (in the order its curves come):
/// its limit is a dashed line inside a shaded band of ± its error, and each width a line
/// with markers and ± standard-error bars, lighter for smaller widths. The legend beside
/// each panel names every series as `PROGRAM limit` and `PROGRAM n = WIDTH`.
pub fn plot_svg(curves: &[Curve], scale: ValueScale) -> String {
    let mut names: Vec<&str> = Vec::new();
    let mut programs: Vec<&str> = Vec::new();
    let mut widths: Vec<usize> = Vec::new();
    for curve in curves {
        if !names.contains(&curve.name.as_str()) {
            names.push(&curve.name);
        }
        if !programs.contains(&curve.program.as_str()) {
            programs.push(&curve.program);
        }
        for point in curve.steps.iter().flat_map(|s| &s.widths) {
            if !widths.contains(&point.width) {
                widths.push(point.width);
            }
        }
    }
    widths.sort_unstable();
    let legend_scale = f64::from(PANEL.0 + LEGEND) / f64::from(PANEL.0);
    panel_grid(&names, (legend_scale, 1.0), |name, area| {
        let panel: Vec<&Curve> = curves.iter().filter(|c| c.name == *name).collect();
        draw_panel(
            name,
            &panel,
            &Series {
                programs: &programs,
                widths: &widths,
            },
            scale,
            area,
        )
    })
}

/// The programs and widths of the whole plot, which fix every series' colour and place.
struct Series<'a> {
    programs: &'a [&'a str],
    widths: &'a [usize],
}

impl Series<'_> {
    fn program(&self, curve: &Curve) -> usize {
        self.programs
            .iter()
            .position(|p| *p == curve.program)
            .expect("every curve's program is listed")
    }

    fn colour(&self, program: usize) -> RGBColor {
        COLOURS[program % COLOURS.len()]
    }

    /// The width's shade of the program's colour: the largest width in full colour, the
    /// smallest mixed 60% with white.
    fn shade(&self, program: usize, width: usize) -> RGBColor {
        let k = self.widths.iter().position(|&w| w == width).unwrap_or(0);
        let last = self.widths.len().saturating_sub(1).max(1);
        let white = 0.6 * (self.widths.len() - 1 - k) as f64 / last as f64;
        let RGBColor(r, g, b) = self.colour(program);
        let mix = |c: u8| (f64::from(c) + (255.0 - f64::from(c)) * white).round() as u8;
        RGBColor(mix(r), mix(g), mix(b))
    }

    /// The horizontal offset of a series from its step, centring all of them on it.
    fn dodge(&self, program: usize, width: Option<usize>) -> f64 {
        let per_program = self.widths.len() + 1;
        let slot = match width {
            None => 0,
            Some(w) => 1 + self.widths.iter().position(|&x| x == w).unwrap_or(0),
        };
        let count = (self.programs.len() * per_program) as f64;
        ((program * per_program + slot) as f64 - (count - 1.0) / 2.0) * DODGE
    }
}

/// The scale of the value axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueScale {
    /// Linear: every value, signs and zero included.
    Linear,
    /// Logarithmic: for positive quantities spanning decades (a feature change that falls as
    /// 1/n); values that are not positive are left out, error bars and bands cut at the axis.
    Log,
}

/// The chart of a panel on either value scale.
type Chart<'a, 'b, Y> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, Y>>;

/// One panel: the chart of every program's curve of this name, and the legend beside it.
fn draw_panel(
    name: &str,
    curves: &[&Curve],
    series: &Series,
    scale: ValueScale,
    area: &Area<'_>,
) -> Drawn {
    let (plot, legend) = area.split_horizontally(area.dim_in_pixel().0 - LEGEND);
    let steps = curves.iter().flat_map(|c| &c.steps).map(|s| s.step as f64);
    let (first, last) = steps.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), s| {
        (lo.min(s), hi.max(s))
    });
    let (first, last) = if first.is_finite() {
        (first, last)
    } else {
        (0.0, 1.0)
    };
    let steps = (first - 0.5)..(last + 0.5);
    let x_labels = ((last - first) as usize + 1).min(11);
    let mut builder = ChartBuilder::on(&plot);
    builder
        .caption(name, ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(58);
    let entries = match scale {
        ValueScale::Linear => {
            let (lo, hi) = value_range(curves);
            let mut chart = builder.build_cartesian_2d(steps, lo..hi)?;
            // A tick a rounding error away from zero (-5.55e-17) is zero.
            let zero = 1e-9 * hi.abs().max(lo.abs());
            let label = |v: &f64| format_significant(if v.abs() < zero { 0.0 } else { *v }, 3);
            configure(&mut chart, x_labels, &label)?;
            draw_curves(&mut chart, curves, series, f64::NEG_INFINITY)?
        }
        ValueScale::Log => {
            let range = log_range(bar_ends(curves), 1.3);
            let axis = (range.0..range.1)
                .log_scale()
                .with_key_points(log_ticks(range));
            let mut chart = builder.build_cartesian_2d(steps, axis)?;
            configure(&mut chart, x_labels, &|v| format!("{v:.0e}"))?;
            draw_curves(&mut chart, curves, series, range.0)?
        }
    };
    draw_legend(&legend, &entries)
}

/// Axes with step labels at whole steps and values by `format`.
fn configure<Y>(
    chart: &mut Chart<'_, '_, Y>,
    x_labels: usize,
    format: &dyn Fn(&f64) -> String,
) -> Drawn
where
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .x_desc("step")
        .x_labels(x_labels)
        .x_label_formatter(&|s| {
            if s.fract() == 0.0 {
                format!("{s}")
            } else {
                String::new()
            }
        })
        .y_label_formatter(format)
        .label_style(("sans-serif", 11))
        .light_line_style(WHITE)
        .draw()
}

/// Every series of the panel: per curve its limit band and line, and a line with error bars
/// per width; values below `floor` (the bottom of a log axis) are left out and bars and bands
/// cut there. Returns the legend entries: label, colour, whether it is a limit.
fn draw_curves<Y>(
    chart: &mut Chart<'_, '_, Y>,
    curves: &[&Curve],
    series: &Series,
    floor: f64,
) -> Result<Vec<(String, RGBColor, bool)>, DrawingAreaErrorKind<std::io::Error>>
where
    Y: Ranged<ValueType = f64>,
{
    let mut entries: Vec<(String, RGBColor, bool)> = Vec::new();
    for curve in curves {
        let p = series.program(curve);
        let colour = series.colour(p);
        let limits: Vec<(f64, f64, f64)> = curve
            .steps
            .iter()
            .filter_map(|s| s.limit.map(|l| (s.step as f64, l.value, l.error)))
            .filter(|&(_, v, _)| v >= floor)
            .collect();
        if !limits.is_empty() {
            let dx = series.dodge(p, None);
            let band: Vec<(f64, f64)> = limits
                .iter()
                .map(|&(s, v, e)| (s + dx, v + e))
                .chain(
                    limits
                        .iter()
                        .rev()
                        .map(|&(s, v, e)| (s + dx, (v - e).max(floor))),
                )
                .collect();
            chart.draw_series(std::iter::once(Polygon::new(
                band,
                colour.mix(0.2).filled(),
            )))?;
            chart.draw_series(DashedLineSeries::new(
                limits.iter().map(|&(s, v, _)| (s + dx, v)),
                6,
                4,
                colour.stroke_width(2),
            ))?;
            entries.push((format!("{} limit", curve.program), colour, true));
        }
        for &width in series.widths {
            let points: Vec<(f64, f64, Option<f64>)> = curve
                .steps
                .iter()
                .filter_map(|s| {
                    let w = s.widths.iter().find(|w| w.width == width)?;
                    Some((s.step as f64, w.mean, w.standard_error))
                })
                .filter(|&(_, mean, _)| mean >= floor)
                .collect();
            if points.is_empty() {
                continue;
            }
            let shade = series.shade(p, width);
            let dx = series.dodge(p, Some(width));
            chart.draw_series(
                LineSeries::new(
                    points.iter().map(|&(s, m, _)| (s + dx, m)),
                    shade.stroke_width(1),
                )
                .point_size(2),
            )?;
            chart.draw_series(points.iter().filter_map(|&(s, m, se)| {
                let se = se?;
                Some(error_bar(s + dx, (m - se).max(floor), m + se, shade))
            }))?;
            entries.push((format!("{} n = {width}", curve.program), shade, false));
        }
    }
    Ok(entries)
}

/// A vertical bar from `low` to `high` with short caps.
fn error_bar(x: f64, low: f64, high: f64, colour: RGBColor) -> PathElement<(f64, f64)> {
    let cap = DODGE * 0.4;
    PathElement::new(
        vec![
            (x - cap, low),
            (x + cap, low),
            (x, low),
            (x, high),
            (x - cap, high),
            (x + cap, high),
        ],
        colour.stroke_width(1),
    )
}

/// The legend: a line sample (dashed for a limit, with a marker for a width) and a label per
/// series, from the top.
fn draw_legend(area: &Area<'_>, entries: &[(String, RGBColor, bool)]) -> Drawn {
    for (k, (label, colour, limit)) in entries.iter().enumerate() {
        let y = 36 + 17 * k as i32;
        if *limit {
            area.draw(&PathElement::new(
                vec![(4, y), (10, y)],
                colour.stroke_width(2),
            ))?;
            area.draw(&PathElement::new(
                vec![(14, y), (20, y)],
                colour.stroke_width(2),
            ))?;
        } else {
            area.draw(&PathElement::new(
                vec![(4, y), (20, y)],
                colour.stroke_width(1),
            ))?;
            area.draw(&Circle::new((12, y), 2, colour.filled()))?;
        }
        area.draw(&Text::new(
            label.clone(),
            (26, y - 6),
            ("sans-serif", 11).into_font().color(&BLACK),
        ))?;
    }
    Ok(())
}

/// The ends of every limit band and error bar, and every value: what a value axis must hold.
fn bar_ends<'a>(curves: &'a [&'a Curve]) -> impl Iterator<Item = f64> + 'a {
    curves.iter().flat_map(|c| &c.steps).flat_map(|step| {
        let limit = step
            .limit
            .map(|l| [l.value - l.error, l.value, l.value + l.error]);
        let widths = step.widths.iter().flat_map(|w| {
            let se = w.standard_error.unwrap_or(0.0);
            [w.mean - se, w.mean, w.mean + se]
        });
        limit.into_iter().flatten().chain(widths)
    })
}

/// A range of the y axis holding every limit band and error bar, padded by 6% on each side;
/// ±10% around a single value (±1 around zero), and (0, 1) with no values.
fn value_range(curves: &[&Curve]) -> (f64, f64) {
    let values = bar_ends(curves);
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo <= f64::EPSILON * hi.abs().max(lo.abs()) {
        // One value (or all equal): ±10% of it, or ±1 around zero.
        let pad = if hi == 0.0 { 1.0 } else { 0.1 * hi.abs() };
        return (lo - pad, hi + pad);
    }
    let pad = 0.06 * (hi - lo);
    (lo - pad, hi + pad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::curves::{Step, WidthPoint};

    fn curve(program: &str, values: &[f64]) -> Curve {
        Curve {
            program: program.into(),
            name: "fc1".into(),
            family: "fc1".into(),
            index: vec![],
            steps: values
                .iter()
                .enumerate()
                .map(|(t, &v)| Step {
                    step: t as i64 + 1,
                    limit: None,
                    widths: vec![WidthPoint {
                        width: 64,
                        mean: v,
                        standard_error: Some(0.5),
                    }],
                })
                .collect(),
        }
    }

    #[test]
    fn the_value_range_holds_every_error_bar_with_a_margin() {
        let a = curve("a", &[1.0, 3.0]);
        let (lo, hi) = value_range(&[&a]);
        // Bars reach 0.5 and 3.5; 6% of 3 on each side.
        assert!(
            (lo - 0.32).abs() < 1e-12 && (hi - 3.68).abs() < 1e-12,
            "{lo} {hi}"
        );
        let flat = curve("a", &[2.0]);
        let mut flat = flat;
        flat.steps[0].widths[0].standard_error = None;
        let (lo, hi) = value_range(&[&flat]);
        assert!(lo < 2.0 && hi > 2.0);
        assert_eq!(value_range(&[]), (0.0, 1.0));
    }

    #[test]
    fn series_are_dodged_around_their_step_and_shaded_by_width() {
        let programs = ["a", "b"];
        let widths = [64, 256];
        let series = Series {
            programs: &programs,
            widths: &widths,
        };
        let offsets: Vec<f64> = (0..2)
            .flat_map(|p| [None, Some(64), Some(256)].map(|w| series.dodge(p, w)))
            .collect();
        assert!((offsets.iter().sum::<f64>()).abs() < 1e-12, "{offsets:?}");
        assert_eq!(series.shade(0, 256), COLOURS[0]);
        assert_ne!(series.shade(0, 64), COLOURS[0]);
    }
}

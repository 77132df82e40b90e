//! `plot_svg`: the coord check as a grid of log-log panels, in the form of μP coord checks
//! (drawn as [`crate::plot`] draws every plot).

use super::table::{hundredths, slope_text};
use super::{CoordCheck, Fit, Measure, PanelReport};
use crate::plot::{log_range, log_ticks, panel_grid, Area, Drawn, COLOURS};
use plotters::coord::combinators::{BindKeyPoints, IntoLogRange};
use plotters::prelude::*;

/// Draws `check` as an SVG document: one panel per [`PanelReport`] (x = width, y = size, both
/// logarithmic; a line with markers per quantity, labelled with its slope), titled with the
/// panel's name and fitted slopes. Quantities that are zero (or have no positive size) are
/// listed in the legend but not drawn.
pub fn plot_svg(check: &CoordCheck) -> String {
    panel_grid(&check.panels, (1.0, 1.0), |panel, area| {
        draw_panel(panel, &check.widths, area)
    })
}

/// One panel: axes, one line with markers per quantity, a legend.
fn draw_panel(panel: &PanelReport, widths: &[usize], area: &Area<'_>) -> Drawn {
    let points: Vec<Vec<(f64, f64)>> = panel
        .lines
        .iter()
        .map(|line| {
            widths
                .iter()
                .zip(&line.line.sizes)
                .filter(|(_, s)| line.fit != Fit::Zero && **s > 0.0 && s.is_finite())
                .map(|(&n, &s)| (n as f64, s))
                .collect()
        })
        .collect();
    let x_range = log_range(widths.iter().map(|&n| n as f64), 1.15);
    let y_range = log_range(points.iter().flatten().map(|p| p.1), 1.6);
    let mut chart = ChartBuilder::on(area)
        .caption(title(panel), ("sans-serif", 15))
        .margin(8)
        .x_label_area_size(34)
        .y_label_area_size(58)
        .build_cartesian_2d(
            (x_range.0..x_range.1)
                .log_scale()
                .with_key_points(widths.iter().map(|&n| n as f64).collect()),
            (y_range.0..y_range.1)
                .log_scale()
                .with_key_points(log_ticks(y_range)),
        )?;
    chart
        .configure_mesh()
        .x_desc("width n")
        .y_desc(match panel.measure {
            Measure::CoordinateRms => "coordinate RMS",
            Measure::Value => "|value|",
        })
        .x_label_formatter(&|n| format!("{n}"))
        .y_label_formatter(&|s| format!("{s:.0e}"))
        .label_style(("sans-serif", 11))
        .light_line_style(WHITE)
        .draw()?;
    for (k, (line, points)) in panel.lines.iter().zip(points).enumerate() {
        let color = COLOURS[k % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)).point_size(3))?
            .label(format!("{}: {}", line.line.name, slope_text(&line.fit)))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    }
    if panel.lines.len() == 1 {
        // The title already names the one line and its slope.
        return Ok(());
    }
    // The legend goes where the lines are not: top left over rising lines, top right
    // over falling or flat ones.
    let rising = slopes(panel).iter().sum::<f64>() > 0.0;
    chart
        .configure_series_labels()
        .position(if rising {
            SeriesLabelPosition::UpperLeft
        } else {
            SeriesLabelPosition::UpperRight
        })
        .label_font(("sans-serif", 10))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK.mix(0.4))
        .draw()
}

/// The fitted slopes of the panel's lines (zero and undetermined lines have none).
fn slopes(panel: &PanelReport) -> Vec<f64> {
    panel
        .lines
        .iter()
        .filter_map(|l| match l.fit {
            Fit::Slope { slope, .. } => Some(slope),
            _ => None,
        })
        .collect()
}

/// The panel's title: its name and the fitted slope (± s.e.) of its one line, or the range
/// of slopes of its lines.
fn title(panel: &PanelReport) -> String {
    if let [line] = panel.lines.as_slice() {
        return match line.fit {
            Fit::Slope { .. } => format!("{}: slope {}", panel.name, slope_text(&line.fit)),
            _ => format!("{}: {}", panel.name, slope_text(&line.fit)),
        };
    }
    let slopes = slopes(panel);
    let zeros = panel.lines.iter().filter(|l| l.fit == Fit::Zero).count();
    let lowest = slopes.iter().copied().fold(f64::INFINITY, f64::min);
    let highest = slopes.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut text = match slopes.len() {
        0 => panel.name.clone(),
        _ if hundredths(lowest) == hundredths(highest) => {
            format!("{}: slopes {}", panel.name, hundredths(lowest))
        }
        _ => format!(
            "{}: slopes {} to {}",
            panel.name,
            hundredths(lowest),
            hundredths(highest)
        ),
    };
    if zeros > 0 {
        text.push_str(if slopes.is_empty() {
            ": zero"
        } else {
            ", some zero"
        });
    }
    text
}

//! SVG plots shared by `tpc coordcheck` and `tpc curves`: a grid of panels, one palette.
//!
//! Drawn with plotters' SVG backend without a font engine: text becomes SVG `<text>`
//! elements that the viewer renders, so nothing depends on fonts installed here.

use plotters::coord::Shift;
use plotters::prelude::*;

/// Size of one panel in pixels.
pub(crate) const PANEL: (u32, u32) = (420, 320);

/// Panels per row, at most.
const COLUMNS: usize = 3;

/// Line colours, cycled: matplotlib's `tab10`, which μP coord-check plots use.
pub(crate) const COLOURS: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// Why drawing cannot fail: the backend appends to a `String`, the panels have a fixed size
/// large enough for their labels, and every range is finite and non-empty.
pub(crate) const WRITING_TO_A_STRING: &str = "drawing SVG into a string cannot fail";

/// The drawing area of one panel.
pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// What drawing a panel can return (never an error in practice: [`WRITING_TO_A_STRING`]).
pub(crate) type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

/// An SVG document of `panels` on a white grid of at most three columns, each drawn by
/// `draw` into a [`PANEL`]-sized area; `scale` multiplies the panel size (≥ 1, for panels
/// with long legends).
pub(crate) fn panel_grid<T>(
    panels: &[T],
    scale: (f64, f64),
    draw: impl Fn(&T, &Area<'_>) -> Drawn,
) -> String {
    let columns = panels.len().clamp(1, COLUMNS);
    let rows = panels.len().div_ceil(columns).max(1);
    let panel = (
        (f64::from(PANEL.0) * scale.0).round() as u32,
        (f64::from(PANEL.1) * scale.1).round() as u32,
    );
    let size = (panel.0 * columns as u32, panel.1 * rows as u32);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).expect(WRITING_TO_A_STRING);
        let areas = root.split_evenly((rows, columns));
        for (panel, area) in panels.iter().zip(&areas) {
            draw(panel, area).expect(WRITING_TO_A_STRING);
        }
        root.present().expect(WRITING_TO_A_STRING);
    }
    svg
}

/// A positive range around `values` for a log axis, widened by `pad` on each side and then,
/// if it spans less than a factor 10, to a factor 10 about its geometric centre (so that a
/// Θ(1) line looks flat); (0.1, 10) if there are no values.
pub(crate) fn log_range(values: impl Iterator<Item = f64>, pad: f64) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| *v > 0.0 && v.is_finite())
        .fold((f64::INFINITY, 0.0f64), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if hi == 0.0 {
        return (0.1, 10.0);
    }
    let (lo, hi) = (lo / pad, hi * pad);
    if hi / lo >= 10.0 {
        return (lo, hi);
    }
    let centre = (lo * hi).sqrt();
    (centre / 10f64.sqrt(), centre * 10f64.sqrt())
}

/// Tick values for a log axis over `range`: the powers of 10 in it, or if fewer than three,
/// 1, 2, 5 times powers of 10, or else every digit times powers of 10.
pub(crate) fn log_ticks((lo, hi): (f64, f64)) -> Vec<f64> {
    let first = lo.log10().floor() as i32;
    let last = hi.log10().ceil() as i32;
    let candidates = |mantissas: &[f64]| -> Vec<f64> {
        (first..=last)
            .flat_map(|k| mantissas.iter().map(move |m| m * 10f64.powi(k)))
            .filter(|t| (lo..=hi).contains(t))
            .collect()
    };
    let sets: [&[f64]; 2] = [&[1.0], &[1.0, 2.0, 5.0]];
    sets.iter()
        .map(|m| candidates(m))
        .find(|ticks| ticks.len() >= 3)
        .unwrap_or_else(|| candidates(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ranges_are_positive_and_padded() {
        assert_eq!(
            log_range([4.0, 1.0, 0.0, f64::NAN].into_iter(), 2.0),
            (0.5, 8.0)
        );
        assert_eq!(log_range(std::iter::empty(), 2.0), (0.1, 10.0));
        // A flat line gets a decade around it.
        let (lo, hi) = log_range([1.0, 1.0].into_iter(), 1.5);
        assert!((lo * hi - 1.0).abs() < 1e-12 && (hi / lo - 10.0).abs() < 1e-12);
    }

    #[test]
    fn log_ticks_have_at_least_three_labels_when_possible() {
        assert_eq!(log_ticks((0.5, 2000.0)), [1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(log_ticks((0.3, 3.0)), [0.5, 1.0, 2.0]);
        let ticks = log_ticks((0.62, 1.63));
        assert_eq!(ticks.len(), 4, "{ticks:?}");
    }
}

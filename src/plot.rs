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

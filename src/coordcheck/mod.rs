//! Coord checks: how the size of every quantity of a program scales with the width.
//!
//! A coord check (as in the μP paper and the `mup` package) runs a network at several widths
//! and plots each quantity's size against n on log axes: a flat line is Θ(1), a slope of
//! −1/2 is Θ(n^{-1/2}) (docs/parametrizations.md: feature changes are Θ(n^{-r})). The pass is
//!
//! ```text
//! Program ─measure→ Measurements ─panels→ Panels ─fit→ CoordCheck ─plot_svg→ SVG
//! ```
//!
//! - [`measure`] runs [`crate::simulate`] at every width and seed, recording the coordinate
//!   RMS `√(mean_α x_α²)` of every named vector when it is computed, and every output.
//! - [`panels`] groups them by program name (a family `x[t]` is one panel, a line per
//!   member); a size is the mean over seeds of the RMS, or of |value| for an output.
//! - [`fit()`] fits the slope of log size against log n, with a jackknife standard error
//!   over seeds, and reports quantities that are zero to rounding as [`Fit::Zero`].
//! - [`coord_check`] does all three and compares the slopes with predicted exponents;
//!   [`CoordCheck`] prints as a text table and [`plot_svg`] draws it.

mod fit;
mod measure;
mod plot;
mod quantities;
mod report;
mod rounding;
mod table;

pub use fit::{fit, Fit, ROUNDING};
pub use measure::{measure, Measure, Measured, Measurements};
pub use plot::plot_svg;
pub use quantities::{panels, Line, Panel};
pub use report::{coord_check, panel_names, CoordCheck, LineReport, Options, PanelReport};

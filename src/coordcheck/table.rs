//! The text report of a coord check: one table per panel.

use super::{CoordCheck, Fit, Measure};
use std::fmt;

impl fmt::Display for CoordCheck {
    /// A header saying what is measured, then per panel a row per line: the size at each
    /// width, the fitted slope ± its standard error and, when any prediction was given, the
    /// predicted exponent and a mismatch mark. Sizes have 3 significant digits, slopes 2
    /// decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "coord check: {} seed(s) per width; size = mean over seeds of the coordinate RMS \
             (vectors) or of |value| (outputs)",
            self.seeds.len()
        )?;
        writeln!(
            f,
            "slope: least-squares slope of log size against log n, ± jackknife standard \
             error over seeds"
        )?;
        let predictions = self
            .panels
            .iter()
            .flat_map(|p| &p.lines)
            .any(|l| l.predicted.is_some());
        let name_width = self
            .panels
            .iter()
            .flat_map(|p| &p.lines)
            .map(|l| l.line.name.chars().count())
            .max()
            .unwrap_or(0)
            .max(4);
        for panel in &self.panels {
            let what = match panel.measure {
                Measure::CoordinateRms => "vector, coordinate RMS",
                Measure::Value => "output, |value|",
            };
            writeln!(f, "\n{} ({what})", panel.name)?;
            write!(f, "  {:name_width$}", "name")?;
            for n in &self.widths {
                write!(f, "  {n:>9}")?;
            }
            write!(f, "  {:>13}", "slope")?;
            if predictions {
                write!(f, "  {:>9}", "predicted")?;
            }
            writeln!(f)?;
            for line in &panel.lines {
                write!(f, "  {:name_width$}", line.line.name)?;
                for size in &line.line.sizes {
                    write!(f, "  {size:>9.2e}")?;
                }
                write!(f, "  {:>13}", slope_text(&line.fit))?;
                if predictions {
                    let p = line.predicted.map_or("–".to_string(), |p| p.to_string());
                    write!(f, "  {p:>9}")?;
                    if line.mismatch {
                        write!(f, "  MISMATCH")?;
                    }
                }
                writeln!(f)?;
            }
        }
        let mismatches = self.mismatches();
        if mismatches > 0 {
            writeln!(
                f,
                "\n{mismatches} MISMATCH(ES): a slope further from the predicted exponent than \
                 {} and than 3 standard errors, or zero where a power was predicted",
                self.tolerance
            )?;
        }
        Ok(())
    }
}

/// `-0.50 ± 0.01`, `zero`, or `–`, rounded so that −0.00 prints as 0.00.
pub(super) fn slope_text(fit: &Fit) -> String {
    match *fit {
        Fit::Zero => "zero".to_string(),
        Fit::Undetermined => "–".to_string(),
        Fit::Slope {
            slope,
            standard_error,
        } => match standard_error {
            Some(se) => format!("{} ± {}", hundredths(slope), hundredths(se)),
            None => hundredths(slope),
        },
    }
}

/// A number with 2 decimals, without a minus sign on a value that rounds to 0.
pub(super) fn hundredths(x: f64) -> String {
    format!("{:.2}", (x * 100.0).round() / 100.0 + 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slopes_round_without_negative_zero() {
        assert_eq!(hundredths(-0.001), "0.00");
        assert_eq!(hundredths(-0.499), "-0.50");
        let fit = Fit::Slope {
            slope: 1.5,
            standard_error: Some(0.0123),
        };
        assert_eq!(slope_text(&fit), "1.50 ± 0.01");
        assert_eq!(slope_text(&Fit::Zero), "zero");
    }
}

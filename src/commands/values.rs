//! Parsers of flag values shared by several subcommands: each rejects, as a usage error,
//! a value that parses as a number but cannot be meant (a width of 0, a tolerance of NaN).

/// A simulation width: an integer from 1 to [`tpc::simulate::MAX_WIDTH`].
pub fn width(text: &str) -> Result<usize, String> {
    let max = tpc::simulate::MAX_WIDTH;
    match text.trim().parse::<u128>() {
        Ok(0) => Err("a width must be at least 1".to_string()),
        Ok(n) if n > max as u128 => Err(format!(
            "{n} is above the largest width, {max}: a run stores every n×n matrix (8 n² bytes)"
        )),
        Ok(n) => Ok(n as usize),
        Err(_) => Err(format!("`{text}` is not a width (a positive integer)")),
    }
}

/// A number of seeds or samples: a positive integer.
pub fn count(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{text}` is not a positive integer")),
    }
}

/// A tolerance: a positive finite number.
pub fn tolerance(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(t) if t > 0.0 && t.is_finite() => Ok(t),
        Ok(t) => Err(format!("{t} is not a tolerance (a positive finite number)")),
        Err(_) => Err(format!("`{text}` is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_counts_and_tolerances_reject_what_cannot_be_meant() {
        assert_eq!(width("1024"), Ok(1024));
        assert!(width("0").is_err());
        assert!(width("18446744073709551615")
            .unwrap_err()
            .contains("largest width"));
        assert!(width("abc").is_err());
        assert_eq!(count("8"), Ok(8));
        assert!(count("0").is_err());
        assert_eq!(tolerance("1e-10"), Ok(1e-10));
        for bad in ["nan", "inf", "-1", "0", "x"] {
            assert!(tolerance(bad).is_err(), "{bad}");
        }
    }
}

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

/// A number of particle replicas: at least 2, which a standard error needs.
pub fn replicas(text: &str) -> Result<usize, String> {
    match count(text)? {
        1 => Err("at least 2 replicas are needed for an error bar".to_string()),
        n => Ok(n),
    }
}

/// An amount of memory in GiB: a positive finite number.
pub fn gibibytes(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(g) if g > 0.0 && g.is_finite() => Ok(g),
        Ok(g) => Err(format!("{g} is not an amount of memory (positive GiB)")),
        Err(_) => Err(format!("`{text}` is not a number")),
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
        assert_eq!(replicas("2"), Ok(2));
        assert!(replicas("1").is_err());
        assert_eq!(gibibytes("0.5"), Ok(0.5));
        assert!(gibibytes("-1").is_err());
        for bad in ["nan", "inf", "-1", "0", "x"] {
            assert!(tolerance(bad).is_err(), "{bad}");
        }
    }
}

//! Numbers as a reader wants them: significant digits, as many as the error bar makes
//! meaningful, in scientific notation where plain decimals would be long, never `-0`.

/// Significant digits of a number without an error bar (an exact value).
pub const EXACT_DIGITS: usize = 12;

/// Significant digits of an error bar.
const ERROR_DIGITS: usize = 2;

/// Most significant digits ever printed: a double holds about 15.
const MAX_DIGITS: usize = 15;

/// A number with [`EXACT_DIGITS`] significant digits (trailing zeros dropped), in scientific
/// notation (`1.234567e-9`) when its magnitude is below 1e-4 or at least 1e9, never `-0`;
/// NaN (an entry of a family that the program does not define) prints as `·`.
pub fn format_number(x: f64) -> String {
    format_significant(x, EXACT_DIGITS)
}

/// An error bar: two significant digits (`6.3e-11`, `0.012`), `0` for none.
pub fn format_error(error: f64) -> String {
    format_significant(error, ERROR_DIGITS)
}

/// A value to the precision its error bar supports: digits down to the second significant
/// digit of `error` (at least one, at most 15), so `0.4978424 ± 0.0022` prints `0.4978`; a
/// value without error bar (`error` 0, or not finite) prints as [`format_number`].
pub fn format_measured(value: f64, error: f64) -> String {
    let measured = error > 0.0 && error.is_finite() && value.is_finite() && value != 0.0;
    if !measured {
        return format_number(value);
    }
    let last_place = decimal_exponent(error) - (ERROR_DIGITS as i32 - 1);
    let digits = decimal_exponent(value) - last_place + 1;
    format_significant(value, digits.clamp(1, MAX_DIGITS as i32) as usize)
}

/// The exponent of `x` in scientific notation (`0.0123` → -2); 0 for 0.
fn decimal_exponent(x: f64) -> i32 {
    if x == 0.0 || !x.is_finite() {
        return 0;
    }
    let text = format!("{:e}", x.abs());
    let (_, exponent) = text.split_once('e').expect("`{:e}` writes an exponent");
    exponent.parse().expect("an integer exponent")
}

/// `x` rounded to `digits` significant digits, trailing zeros dropped: plain decimals for
/// exponents from -4 up to the smaller of 8 and `digits - 1` (no zeros standing in for
/// digits that were rounded away), scientific notation otherwise.
pub fn format_significant(x: f64, digits: usize) -> String {
    if x.is_nan() {
        return "·".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return "0".to_string();
    }
    let digits = digits.clamp(1, MAX_DIGITS);
    // The exponent after rounding to `digits` significant digits.
    let scientific = format!("{x:.*e}", digits - 1);
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` writes an exponent");
    let exponent: i32 = exponent.parse().expect("an integer exponent");
    let text = if (-4..(digits as i32).min(9)).contains(&exponent) {
        let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
        trim_zeros(&format!("{x:.decimals$}")).to_string()
    } else {
        format!("{}e{exponent}", trim_zeros(mantissa))
    };
    match text.strip_prefix('-') {
        Some(magnitude) if magnitude.chars().all(|c| c == '0' || c == '.') => "0".to_string(),
        _ => text,
    }
}

/// `1.500` → `1.5`, `2.000` → `2`; text without a point is returned as it is.
fn trim_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_bar_decides_the_digits() {
        for (value, error, text) in [
            (0.497842437127, 2.2e-3, "0.4978"),
            (0.960048508672, 1.0e-14, "0.960048508672"),
            (0.960048508672, 0.0, "0.960048508672"),
            (-0.998980260598, 9.4e-4, "-0.99898"),
            (0.001019739402, 9.4e-4, "0.00102"),
            (1.6e-9, 1e-3, "2e-9"),
            (123456.789, 12.0, "123457"),
            (123456.789, 1200.0, "1.235e5"),
            (-1e-13, 1e-3, "-1e-13"),
            (1e308, 1e300, "1e308"),
        ] {
            assert_eq!(format_measured(value, error), text, "{value} ± {error}");
        }
    }

    #[test]
    fn errors_have_two_digits_and_zero_is_never_negative() {
        assert_eq!(format_error(6.3e-11), "6.3e-11");
        assert_eq!(format_error(0.01234), "0.012");
        assert_eq!(format_error(2.2), "2.2");
        assert_eq!(format_error(123.0), "1.2e2");
        assert_eq!(format_error(0.0), "0");
        assert_eq!(format_significant(-0.0, 3), "0");
        assert_eq!(format_significant(-1e-20, 3), "-1e-20");
        assert_eq!(format_significant(1e308, 12), "1e308");
        assert_eq!(format_significant(-4.0e-13, 1), "-4e-13");
    }
}

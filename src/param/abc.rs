//! abc-parametrizations of an L-hidden-layer MLP, the named presets and the exponent r
//! (docs/parametrizations.md, "Classifying a parametrization").

use num_traits::{CheckedAdd, CheckedDiv, CheckedMul, CheckedSub};
use serde::Serialize;
use std::fmt;

/// An exact rational exponent of the width n.
pub type Exponent = num_rational::Rational64;

/// Why an abc-parametrization or one of its exponents was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamError {
    /// `a` and `b` must both have L + 1 entries, L >= 1.
    Lengths {
        /// The number of `a` exponents given.
        a: usize,
        /// The number of `b` exponents given.
        b: usize,
    },
    /// Adam needs one learning-rate exponent per layer: `c` must have L + 1 entries.
    AdamLengths {
        /// L + 1, the number of layers.
        layers: usize,
        /// The number of `c` exponents given.
        c: usize,
    },
    /// An exponent that is not an integer, a fraction `p/q` or a decimal.
    Parse(String),
    /// Exact arithmetic on the exponents would leave the 64-bit range.
    Overflow,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamError::Lengths { a, b } => write!(
                f,
                "a and b need L + 1 >= 2 exponents each (one per layer 1..=L+1); got {a} and {b}"
            ),
            ParamError::AdamLengths { layers, c } => write!(
                f,
                "Adam needs one learning-rate exponent per layer: {layers} values of c; got {c}"
            ),
            ParamError::Parse(text) => write!(
                f,
                "`{text}` is not an exponent: write an integer, a fraction like -1/2, or a decimal like 0.5"
            ),
            ParamError::Overflow => write!(
                f,
                "exact arithmetic on these exponents overflows 64-bit integers; use smaller numerators and denominators"
            ),
        }
    }
}

impl std::error::Error for ParamError {}

/// An abc-parametrization (docs/parametrizations.md): `W^l = n^{-a_l} w^l`, `w^l ~ N(0, n^{-2 b_l})` at
/// initialization, SGD learning rate `eta n^{-c}`.
///
/// `a` and `b` hold layers 1..=L+1 in order: index 0 is the input layer, index L the readout.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Abc {
    /// The multiplier exponents a_1..a_{L+1}.
    #[serde(serialize_with = "serialize_exponents")]
    pub a: Vec<Exponent>,
    /// The initialization exponents b_1..b_{L+1}.
    #[serde(serialize_with = "serialize_exponents")]
    pub b: Vec<Exponent>,
    /// The learning-rate exponent c.
    #[serde(serialize_with = "serialize_exponent")]
    pub c: Exponent,
}

/// The named parametrizations (docs/parametrizations.md; docs/reference-values.md, case 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Standard parametrization: a = 0, b_1 = 0, b_l = 1/2 (l >= 2), learning rate n^{-c}.
    Sp {
        /// The learning-rate exponent: 0 as practitioners run it (unstable), 1 for lr ~ 1/n.
        c: Exponent,
    },
    /// Neural tangent parametrization: a_1 = 0, a_l = 1/2 (l >= 2), b = 0, c = 0.
    Ntp,
    /// Maximal update parametrization: a_1 = -1/2, a_l = 0 (2..=L), a_{L+1} = 1/2, b = 1/2, c = 0.
    Mup,
    /// Mean-field parametrization, μP shifted by θ = 1/2: a = (0, 1/2, …, 1/2, 1), b = 0, c = -1.
    Mfp,
    /// The naive deep mean-field choice a_1 = 0, a_l = 1 (l >= 2), b = 0, c = -1; unstable for L >= 2.
    NaiveMf,
}

impl Preset {
    /// The name used in reports: `SP`, `NTP`, `μP`, `MFP`, `naive deep MF`.
    pub fn name(&self) -> &'static str {
        match self {
            Preset::Sp { .. } => "SP",
            Preset::Ntp => "NTP",
            Preset::Mup => "μP",
            Preset::Mfp => "MFP",
            Preset::NaiveMf => "naive deep MF",
        }
    }

    /// The names [`Preset::from_name`] accepts, as the command line spells them.
    pub const NAMES: [&'static str; 5] = ["mup", "sp", "ntp", "mfp", "naive-mf"];

    /// The preset of a name in [`Preset::NAMES`] (case-insensitive; `μP` and `naive_mf` too);
    /// SP with c = 0, the constant learning rate practitioners use.
    pub fn from_name(name: &str) -> Option<Preset> {
        match name.to_lowercase().replace('_', "-").as_str() {
            "mup" | "μp" => Some(Preset::Mup),
            "sp" => Some(Preset::Sp {
                c: Exponent::from_integer(0),
            }),
            "ntp" => Some(Preset::Ntp),
            "mfp" => Some(Preset::Mfp),
            "naive-mf" => Some(Preset::NaiveMf),
            _ => None,
        }
    }
}

impl Abc {
    /// An abc-parametrization, checking that `a` and `b` both have L + 1 >= 2 entries.
    pub fn new(a: Vec<Exponent>, b: Vec<Exponent>, c: Exponent) -> Result<Abc, ParamError> {
        if a.len() != b.len() || a.len() < 2 {
            return Err(ParamError::Lengths {
                a: a.len(),
                b: b.len(),
            });
        }
        Ok(Abc { a, b, c })
    }

    /// The number L of hidden layers.
    pub fn depth(&self) -> usize {
        self.a.len() - 1
    }

    /// The preset `preset` for an MLP with `depth` hidden layers.
    ///
    /// # Panics
    /// If `depth` is 0: an MLP has at least one hidden layer.
    pub fn preset(preset: Preset, depth: usize) -> Abc {
        assert!(depth >= 1, "an MLP has at least one hidden layer");
        let half = Exponent::new(1, 2);
        let zero = Exponent::from_integer(0);
        let one = Exponent::from_integer(1);
        // Exponents (input, hidden 2..=L, readout) for each preset.
        let layers = |input: Exponent, hidden: Exponent, readout: Exponent| {
            let mut v = vec![input];
            v.extend(std::iter::repeat(hidden).take(depth - 1));
            v.push(readout);
            v
        };
        let (a, b, c) = match preset {
            Preset::Sp { c } => (layers(zero, zero, zero), layers(zero, half, half), c),
            Preset::Ntp => (layers(zero, half, half), layers(zero, zero, zero), zero),
            Preset::Mup => (layers(-half, zero, half), layers(half, half, half), zero),
            Preset::Mfp => (layers(zero, half, one), layers(zero, zero, zero), -one),
            Preset::NaiveMf => (layers(zero, one, one), layers(zero, zero, zero), -one),
        };
        Abc { a, b, c }
    }

    /// The parametrization under the SGD symmetry `(a_l + θ, b_l − θ, c − 2θ)`, which leaves the
    /// network function at every step of training unchanged (docs/parametrizations.md).
    pub fn shifted(&self, theta: Exponent) -> Result<Abc, ParamError> {
        Ok(Abc {
            a: self
                .a
                .iter()
                .map(|a| add(*a, theta))
                .collect::<Result<_, _>>()?,
            b: self
                .b
                .iter()
                .map(|b| sub(*b, theta))
                .collect::<Result<_, _>>()?,
            c: sub(self.c, twice(theta)?)?,
        })
    }

    /// `r_l = min(a_{L+1} + b_{L+1}, 2a_{L+1} + c) + c − 1 + 2a_l + [l = 1]` for l = 1..=L
    /// (docs/parametrizations.md): the update `ΔW^l x^{l-1}` has coordinates of size `n^{-r_l}`.
    pub fn r_layers(&self) -> Result<Vec<Exponent>, ParamError> {
        let backward = self.readout_backward()?;
        let base = sub(add(backward, self.c)?, Exponent::from_integer(1))?;
        (0..self.depth())
            .map(|i| {
                let input = Exponent::from_integer(i64::from(i == 0));
                add(add(base, twice(self.a[i])?)?, input)
            })
            .collect()
    }

    /// `r = min_l r_l`: the feature change `Δx^L` has coordinates of size `n^{-r}`.
    pub fn r(&self) -> Result<Exponent, ParamError> {
        Ok(self
            .r_layers()?
            .into_iter()
            .min()
            .expect("an MLP has at least one hidden layer"))
    }

    /// `a_{L+1} + b_{L+1}`: the readout's size at initialization is `n^{1/2 − (a_{L+1} + b_{L+1})}`.
    pub fn readout_init(&self) -> Result<Exponent, ParamError> {
        add(self.a[self.depth()], self.b[self.depth()])
    }

    /// `2a_{L+1} + c`: the readout update `ΔW^{L+1} x^L` has size `n^{1 − (2a_{L+1} + c)}`.
    pub fn readout_update(&self) -> Result<Exponent, ParamError> {
        add(twice(self.a[self.depth()])?, self.c)
    }

    /// `min(a_{L+1} + b_{L+1}, 2a_{L+1} + c)`: the backward vector `∇_{x^L} f` has coordinates
    /// of size `n^{-this}` (initial readout plus its accumulated updates).
    pub fn readout_backward(&self) -> Result<Exponent, ParamError> {
        Ok(self.readout_init()?.min(self.readout_update()?))
    }
}

/// Parses an exponent exactly: an integer (`-1`), a fraction (`-1/2`) or a decimal (`0.5`).
pub fn parse_exponent(text: &str) -> Result<Exponent, ParamError> {
    let error = || ParamError::Parse(text.to_string());
    let trimmed = text.trim();
    let (negative, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let magnitude = if let Some((p, q)) = unsigned.split_once('/') {
        if !digits(p) || !digits(q) {
            return Err(error());
        }
        let p: i64 = p.parse().map_err(|_| error())?;
        let q: i64 = q.parse().map_err(|_| error())?;
        if q == 0 {
            return Err(error());
        }
        Exponent::new(p, q)
    } else {
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        if !(digits(whole) || digits(fraction))
            || !(whole.is_empty() || digits(whole))
            || !(fraction.is_empty() || digits(fraction))
        {
            return Err(error());
        }
        let numerator: i64 = format!("{whole}{fraction}").parse().map_err(|_| error())?;
        let scale = u32::try_from(fraction.len())
            .ok()
            .and_then(|k| 10i64.checked_pow(k))
            .ok_or_else(error)?;
        Exponent::new(numerator, scale)
    };
    if negative {
        sub(Exponent::from_integer(0), magnitude)
    } else {
        Ok(magnitude)
    }
}

/// `x + y`, or [`ParamError::Overflow`].
pub(crate) fn add(x: Exponent, y: Exponent) -> Result<Exponent, ParamError> {
    x.checked_add(&y).ok_or(ParamError::Overflow)
}

/// `x − y`, or [`ParamError::Overflow`].
pub(crate) fn sub(x: Exponent, y: Exponent) -> Result<Exponent, ParamError> {
    x.checked_sub(&y).ok_or(ParamError::Overflow)
}

/// `2x`, or [`ParamError::Overflow`].
pub(crate) fn twice(x: Exponent) -> Result<Exponent, ParamError> {
    x.checked_mul(&Exponent::from_integer(2))
        .ok_or(ParamError::Overflow)
}

/// `x / 2`, or [`ParamError::Overflow`].
pub(crate) fn half(x: Exponent) -> Result<Exponent, ParamError> {
    x.checked_div(&Exponent::from_integer(2))
        .ok_or(ParamError::Overflow)
}

/// Serializes an exponent as a string: `"-1/2"`, `"0"`.
pub(crate) fn serialize_exponent<S: serde::Serializer>(
    x: &Exponent,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(x)
}

/// Serializes exponents as a list of strings.
pub(crate) fn serialize_exponents<S: serde::Serializer>(
    xs: &[Exponent],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(xs.iter().map(|x| x.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(p: i64, d: i64) -> Exponent {
        Exponent::new(p, d)
    }

    #[test]
    fn every_preset_name_is_understood() {
        let names: Vec<&str> = Preset::NAMES
            .iter()
            .map(|n| Preset::from_name(n).expect("a listed name").name())
            .collect();
        assert_eq!(names, ["μP", "SP", "NTP", "MFP", "naive deep MF"]);
        assert_eq!(Preset::from_name("μP"), Some(Preset::Mup));
        assert_eq!(Preset::from_name("Naive_MF"), Some(Preset::NaiveMf));
        assert_eq!(Preset::from_name("ntk"), None);
    }

    #[test]
    fn exponents_parse_exactly() {
        assert_eq!(parse_exponent("-1/2"), Ok(q(-1, 2)));
        assert_eq!(parse_exponent("0.5"), Ok(q(1, 2)));
        assert_eq!(parse_exponent("-.25"), Ok(q(-1, 4)));
        assert_eq!(parse_exponent("3."), Ok(q(3, 1)));
        assert_eq!(parse_exponent(" +2/4 "), Ok(q(1, 2)));
        assert_eq!(parse_exponent("1"), Ok(q(1, 1)));
        for bad in [
            "", "-", ".", "1/0", "1/-2", "a", "1e3", "1/2/3", "--1", "0x1", "1.5.0", "1 /2",
        ] {
            assert!(parse_exponent(bad).is_err(), "{bad:?} parsed");
        }
        assert_eq!(
            parse_exponent("99999999999999999999"),
            Err(ParamError::Parse("99999999999999999999".into()))
        );
        assert!(parse_exponent("0.00000000000000000001").is_err());
        assert!(parse_exponent("-9223372036854775807/1").is_ok());
    }

    #[test]
    fn lengths_are_checked() {
        let z = q(0, 1);
        assert!(Abc::new(vec![z, z], vec![z, z], z).is_ok());
        assert_eq!(
            Abc::new(vec![z], vec![z], z),
            Err(ParamError::Lengths { a: 1, b: 1 })
        );
        assert_eq!(
            Abc::new(vec![z, z, z], vec![z, z], z),
            Err(ParamError::Lengths { a: 3, b: 2 })
        );
    }

    #[test]
    fn mup_r_is_zero_in_every_layer() {
        let mup = Abc::preset(Preset::Mup, 3);
        assert_eq!(mup.depth(), 3);
        assert_eq!(mup.r_layers(), Ok(vec![q(0, 1); 3]));
        assert_eq!(mup.shifted(q(1, 2)), Ok(Abc::preset(Preset::Mfp, 3)));
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let big = q(i64::MAX, 1);
        let abc = Abc::new(vec![big, big], vec![big, big], big).unwrap();
        assert_eq!(abc.r(), Err(ParamError::Overflow));
        assert_eq!(abc.shifted(big), Err(ParamError::Overflow));
        let coprime = Abc::new(
            vec![q(1, 999_999_937), q(1, 999_999_929)],
            vec![q(1, 999_999_893), q(1, 999_999_883)],
            q(1, 999_999_797),
        )
        .unwrap();
        assert_eq!(coprime.r(), Err(ParamError::Overflow));
    }

    #[test]
    fn serializes_exponents_as_strings() {
        let json = serde_json::to_value(Abc::preset(Preset::Mup, 1)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"a": ["-1/2", "1/2"], "b": ["1/2", "1/2"], "c": "0"})
        );
    }
}

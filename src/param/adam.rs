//! abc-parametrizations trained with Adam: per-layer learning-rate exponents, stability at
//! initialization and the maximal-update conditions (derived, docs/parametrizations.md; TP5 Table 3).
//!
//! TP4's r-based theorems are proved for SGD only and are not applied here.

use super::abc::{add, serialize_exponent, serialize_exponents, sub, Abc, Exponent, Preset};
use super::classify::{init_conditions, Condition};
use super::ParamError;
use serde::Serialize;

/// An abc-parametrization trained with Adam: as [`Abc`], but with a learning-rate exponent
/// `c_l` per layer (Adam's update of `w^l` has entries of size `η n^{-c_l}` whatever the
/// gradient's scale).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AdamAbc {
    /// The multiplier exponents a_1..a_{L+1}.
    #[serde(serialize_with = "serialize_exponents")]
    pub a: Vec<Exponent>,
    /// The initialization exponents b_1..b_{L+1}.
    #[serde(serialize_with = "serialize_exponents")]
    pub b: Vec<Exponent>,
    /// The learning-rate exponents c_1..c_{L+1}.
    #[serde(serialize_with = "serialize_exponents")]
    pub c: Vec<Exponent>,
}

impl AdamAbc {
    /// An Adam parametrization, checking that a, b and c all have L + 1 >= 2 entries.
    pub fn new(
        a: Vec<Exponent>,
        b: Vec<Exponent>,
        c: Vec<Exponent>,
    ) -> Result<AdamAbc, ParamError> {
        if a.len() != b.len() || a.len() < 2 {
            return Err(ParamError::Lengths {
                a: a.len(),
                b: b.len(),
            });
        }
        if c.len() != a.len() {
            return Err(ParamError::AdamLengths {
                layers: a.len(),
                c: c.len(),
            });
        }
        Ok(AdamAbc { a, b, c })
    }

    /// The number L of hidden layers.
    pub fn depth(&self) -> usize {
        self.a.len() - 1
    }

    /// The Adam form of a preset, where docs/parametrizations.md gives one: μP as in TP5 Table 3
    /// (a = 0; b = (0, 1/2, …, 1/2, 1); c = (0, 1, …, 1)), and SP and NTP with the preset's
    /// single c for every layer. `None` for MFP and the naive mean-field choice, whose Adam
    /// learning rates the sources do not fix.
    ///
    /// # Panics
    /// If `depth` is 0: an MLP has at least one hidden layer.
    pub fn preset(preset: Preset, depth: usize) -> Option<AdamAbc> {
        let sgd = Abc::preset(preset, depth);
        match preset {
            Preset::Mup => {
                let zero = Exponent::from_integer(0);
                let one = Exponent::from_integer(1);
                let half = Exponent::new(1, 2);
                let mut b = vec![zero];
                b.extend(std::iter::repeat(half).take(depth - 1));
                b.push(one);
                let mut c = vec![zero];
                c.extend(std::iter::repeat(one).take(depth));
                Some(AdamAbc {
                    a: vec![zero; depth + 1],
                    b,
                    c,
                })
            }
            Preset::Sp { .. } | Preset::Ntp => Some(AdamAbc {
                c: vec![sgd.c; depth + 1],
                a: sgd.a,
                b: sgd.b,
            }),
            Preset::Mfp | Preset::NaiveMf => None,
        }
    }

    /// The parametrization under Adam's symmetry `(a_l + θ, b_l − θ, c_l − θ)`.
    pub fn shifted(&self, theta: Exponent) -> Result<AdamAbc, ParamError> {
        let map = |xs: &[Exponent], f: fn(Exponent, Exponent) -> Result<Exponent, ParamError>| {
            xs.iter().map(|x| f(*x, theta)).collect::<Result<_, _>>()
        };
        Ok(AdamAbc {
            a: map(&self.a, add)?,
            b: map(&self.b, sub)?,
            c: map(&self.c, sub)?,
        })
    }
}

/// One layer's maximal-update condition under Adam (derived, docs/parametrizations.md).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AdamLayer {
    /// The layer, 1..=L+1.
    pub layer: usize,
    /// `a_l + c_l`.
    #[serde(serialize_with = "serialize_exponent")]
    pub value: Exponent,
    /// The maximal-update value of `a_l + c_l`: 0 for the input layer, 1 otherwise.
    #[serde(serialize_with = "serialize_exponent")]
    pub target: Exponent,
    /// `target − value`: the update's effect `ΔW^l x^{l-1}` is `Θ(n^{this})` — 0 is maximal,
    /// negative vanishes, positive blows up.
    #[serde(serialize_with = "serialize_exponent")]
    pub update: Exponent,
    /// `a_l + c_l` equals its target.
    pub maximal: bool,
}

/// What can be said of an Adam parametrization (derived, Adam; docs/parametrizations.md).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AdamClassification {
    /// The parametrization.
    pub abc: AdamAbc,
    /// Condition (i) of TP4 Thm 3.3: Θ(1) activations and O(1) output at initialization.
    pub init_conditions: Vec<Condition>,
    /// Every condition (i) holds.
    pub stable_at_init: bool,
    /// Each layer's maximal-update condition.
    pub layers: Vec<AdamLayer>,
    /// `a_{L+1} + b_{L+1}`: when the features move by Θ(1), `W^{L+1}_0 Δx^L` is
    /// `Θ(n^{1 − this})` (derived, as for SGD with r = 0).
    #[serde(serialize_with = "serialize_exponent")]
    pub readout_init: Exponent,
    /// `a_{L+1} + b_{L+1} = 1`: the readout is initialized maximally (TP5 Table 3: output
    /// weights with initial variance 1/n² when a = 0).
    pub readout_initialized: bool,
    /// Stable at initialization, every layer updated maximally and the readout initialized
    /// maximally: μP for Adam, up to Adam's symmetry.
    pub mup: bool,
}

/// Checks an Adam parametrization: stability at initialization, per layer the maximal-update
/// condition `a_1 + c_1 = 0`, `a_l + c_l = 1` (2 ≤ l ≤ L + 1), and the readout's
/// initialization `a_{L+1} + b_{L+1} = 1`.
///
/// Fails only if exact arithmetic overflows. Invariant under [`AdamAbc::shifted`].
pub fn classify_adam(abc: &AdamAbc) -> Result<AdamClassification, ParamError> {
    let init_conditions = init_conditions(&abc.a, &abc.b)?;
    let stable_at_init = init_conditions.iter().all(|c| c.holds);
    let layers = (1..=abc.a.len())
        .map(|l| {
            let value = add(abc.a[l - 1], abc.c[l - 1])?;
            let target = Exponent::from_integer(i64::from(l > 1));
            Ok(AdamLayer {
                layer: l,
                value,
                target,
                update: sub(target, value)?,
                maximal: value == target,
            })
        })
        .collect::<Result<Vec<_>, ParamError>>()?;
    let readout = abc.depth();
    let readout_init = add(abc.a[readout], abc.b[readout])?;
    let readout_initialized = readout_init == Exponent::from_integer(1);
    let mup = stable_at_init && readout_initialized && layers.iter().all(|l| l.maximal);
    Ok(AdamClassification {
        abc: abc.clone(),
        init_conditions,
        stable_at_init,
        layers,
        readout_init,
        readout_initialized,
        mup,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tp5_mup_is_maximal_and_sp_is_not() {
        for depth in 1..=3 {
            let mup = AdamAbc::preset(Preset::Mup, depth).unwrap();
            let verdict = classify_adam(&mup).unwrap();
            assert!(verdict.stable_at_init && verdict.mup, "L = {depth}");
            let sp = AdamAbc::preset(
                Preset::Sp {
                    c: Exponent::from_integer(0),
                },
                depth,
            )
            .unwrap();
            let verdict = classify_adam(&sp).unwrap();
            assert!(verdict.stable_at_init && !verdict.mup);
            let maximal: Vec<bool> = verdict.layers.iter().map(|l| l.maximal).collect();
            let mut expected = vec![false; depth + 1];
            expected[0] = true;
            assert_eq!(maximal, expected, "SP with Adam, lr constant: only W^1");
        }
        assert_eq!(AdamAbc::preset(Preset::Mfp, 2), None);
        // Maximal updates with SP's readout initialization: W^{L+1}_0 Δx^L = Θ(n^{1/2}).
        let half = Exponent::new(1, 2);
        let (zero, one) = (Exponent::from_integer(0), Exponent::from_integer(1));
        let sp_readout = AdamAbc::new(vec![zero; 3], vec![zero, half, half], vec![zero, one, one]);
        let verdict = classify_adam(&sp_readout.unwrap()).unwrap();
        assert!(verdict.layers.iter().all(|l| l.maximal));
        assert!(!verdict.readout_initialized && !verdict.mup);
    }

    #[test]
    fn lengths_are_checked() {
        let z = Exponent::from_integer(0);
        assert_eq!(
            AdamAbc::new(vec![z, z], vec![z, z], vec![z]),
            Err(ParamError::AdamLengths { layers: 2, c: 1 })
        );
        assert_eq!(
            AdamAbc::new(vec![z], vec![z], vec![z]),
            Err(ParamError::Lengths { a: 1, b: 1 })
        );
    }
}

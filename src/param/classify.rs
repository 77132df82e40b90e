//! TP4's classification of SGD abc-parametrizations (docs/parametrizations.md): stability, nontriviality,
//! feature learning versus the kernel regime, maximal updates, and the kernel.

use super::abc::{add, half, serialize_exponent, serialize_exponents, sub, twice, Abc, Exponent};
use super::ParamError;
use serde::Serialize;

/// What a [`Condition`] asks of its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// value = bound
    Equal,
    /// value ≥ bound
    AtLeast,
}

/// The part of the stability theorem (TP4 Thm 3.3) a condition belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    /// (i): Θ(1) activations and O(1) output at initialization.
    Init,
    /// (ii): features do not blow up during training.
    Features,
    /// (iii): `ΔW^{L+1} x^L` and `W^{L+1}_0 Δx^L` stay O(1).
    Readout,
}

impl Part {
    /// The theorem's label: `(i)`, `(ii)`, `(iii)`.
    pub fn label(&self) -> &'static str {
        match self {
            Part::Init => "(i)",
            Part::Features => "(ii)",
            Part::Readout => "(iii)",
        }
    }

    /// What goes wrong when the part fails, for a network whose readout is layer `readout`.
    pub fn failure(&self, readout: usize) -> String {
        match self {
            Part::Init => "activations or the output are not Θ(1) at initialization".into(),
            Part::Features => "features blow up in training (Δx^L = Θ(n^-r), r < 0)".into(),
            Part::Readout => format!(
                "the readout's update ΔW^{readout} x^{} or W^{readout}_0 Δx^{} grows with n",
                readout - 1,
                readout - 1
            ),
        }
    }
}

/// One condition of a theorem, with the value it has for a parametrization.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Condition {
    /// The theorem part it belongs to.
    pub part: Part,
    /// The quantity constrained, e.g. `a_2 + b_2`.
    pub quantity: String,
    /// How the quantity must compare with the bound.
    pub relation: Relation,
    /// The bound.
    #[serde(serialize_with = "serialize_exponent")]
    pub bound: Exponent,
    /// The quantity's value.
    #[serde(serialize_with = "serialize_exponent")]
    pub value: Exponent,
    /// Whether the condition holds.
    pub holds: bool,
}

impl Condition {
    fn new(
        part: Part,
        quantity: String,
        relation: Relation,
        bound: Exponent,
        value: Exponent,
    ) -> Condition {
        let holds = match relation {
            Relation::Equal => value == bound,
            Relation::AtLeast => value >= bound,
        };
        Condition {
            part,
            quantity,
            relation,
            bound,
            value,
            holds,
        }
    }

    /// The condition as a formula: `a_2 + b_2 = 1/2`, `r ≥ 0`.
    pub fn formula(&self) -> String {
        let op = match self.relation {
            Relation::Equal => "=",
            Relation::AtLeast => "≥",
        };
        format!("{} {op} {}", self.quantity, self.bound)
    }
}

/// Which layers are updated maximally (TP4 Def 5.2–Thm 5.6; docs/parametrizations.md).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Maximal {
    /// Layers l in 1..=L+1 whose update has a Θ(1) effect: `r_l = 0` for l ≤ L,
    /// `2a_{L+1} + c = 1` for the readout.
    pub updated: Vec<usize>,
    /// `W^{L+1}` is initialized maximally: `a_{L+1} + b_{L+1} + r = 1`.
    pub readout_initialized: bool,
    /// Every layer is updated maximally and the readout initialized maximally: this is μP, up
    /// to the symmetry (TP4 Thm 5.6).
    pub mup: bool,
}

/// The kernel K of a kernel-regime limit `f_{t+1} = f_t − η K(·, ξ_t) χ_t`
/// (docs/parametrizations.md, theorem 5; derived, verified for L = 1, 2 in
/// docs/reference-values.md, case 5B).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Kernel {
    /// Layers l in 1..=L+1 whose NTK term contributes: the readout if `2a_{L+1} + c = 1`, each
    /// hidden layer with `r_l = r` if `a_{L+1} + b_{L+1} + r = 1`.
    pub layers: Vec<usize>,
    /// Every layer contributes: K is the NTK.
    pub ntk: bool,
}

/// The classification of an SGD abc-parametrization (docs/parametrizations.md).
///
/// Only stable parametrizations are classified: for an unstable one the regime fields are
/// `None`. The feature-learning and kernel-regime verdicts (TP4 Thms 3.6, 3.8 and the dichotomy,
/// Cor 3.9) assume φ = tanh or a smooth relu-like nonlinearity (TP4 Assumption 3.1); with φ = id
/// a network can be in both at once. They are `None` for a trivial parametrization too, for
/// which the theorems say nothing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Classification {
    /// The parametrization.
    pub abc: Abc,
    /// r_1..r_L: `ΔW^l x^{l-1}` has coordinates of size `n^{-r_l}`.
    #[serde(serialize_with = "serialize_exponents")]
    pub r_layers: Vec<Exponent>,
    /// `r = min_l r_l`: `Δx^L` has coordinates of size `n^{-r}`.
    #[serde(serialize_with = "serialize_exponent")]
    pub r: Exponent,
    /// `a_{L+1} + b_{L+1}`: `W^{L+1}_0 x^L = Θ(n^{1/2 − this})`.
    #[serde(serialize_with = "serialize_exponent")]
    pub readout_init: Exponent,
    /// `min(a_{L+1} + b_{L+1}, 2a_{L+1} + c)`, the common part of every r_l.
    #[serde(serialize_with = "serialize_exponent")]
    pub readout_backward: Exponent,
    /// `2a_{L+1} + c`: `ΔW^{L+1} x^L = Θ(n^{1 − this})`.
    #[serde(serialize_with = "serialize_exponent")]
    pub readout_update: Exponent,
    /// `a_{L+1} + b_{L+1} + r`: `W^{L+1}_0 Δx^L = Θ(n^{1 − this})`.
    #[serde(serialize_with = "serialize_exponent")]
    pub readout_init_effect: Exponent,
    /// Every condition of TP4 Thm 3.3, in order (i), (ii), (iii).
    pub conditions: Vec<Condition>,
    /// All conditions hold.
    pub stable: bool,
    /// When (i) holds: the smallest c for which these a, b are stable (stable ⇔ c ≥ it).
    #[serde(serialize_with = "serialize_optional_exponent")]
    pub smallest_stable_c: Option<Exponent>,
    /// `a_{L+1} + b_{L+1} + r = 1` or `2a_{L+1} + c = 1` (TP4 Thm 3.5); `None` if unstable.
    pub nontrivial: Option<bool>,
    /// `r = 0` (TP4 Thm 3.6); `None` unless stable and nontrivial.
    pub feature_learning: Option<bool>,
    /// `r > 0` (TP4 Thm 3.8); `None` unless stable and nontrivial.
    pub kernel_regime: Option<bool>,
    /// Hidden layers l with `min_{m ≤ l} r_m = 0`; `None` unless stable and nontrivial.
    pub layers_learning_features: Option<Vec<usize>>,
    /// Maximal updates and initialization; `None` if unstable.
    pub maximal: Option<Maximal>,
    /// The kernel of the kernel regime; `None` outside it.
    pub kernel: Option<Kernel>,
}

/// Classifies an SGD abc-parametrization by TP4's theorems (docs/parametrizations.md).
///
/// Needs nothing beyond a well-formed [`Abc`]; fails only if exact arithmetic on its exponents
/// overflows 64 bits. The result is invariant under [`Abc::shifted`].
pub fn classify(abc: &Abc) -> Result<Classification, ParamError> {
    let depth = abc.depth();
    let readout = depth + 1;
    let r_layers = abc.r_layers()?;
    let r = abc.r()?;
    let readout_backward = abc.readout_backward()?;
    let readout_update = abc.readout_update()?;
    let readout_init = abc.readout_init()?;
    let readout_init_effect = add(readout_init, r)?;
    let zero = Exponent::from_integer(0);
    let one = Exponent::from_integer(1);

    let mut conditions = init_conditions(&abc.a, &abc.b)?;
    conditions.push(Condition::new(
        Part::Features,
        "r".into(),
        Relation::AtLeast,
        zero,
        r,
    ));
    conditions.push(Condition::new(
        Part::Readout,
        format!("2a_{readout} + c"),
        Relation::AtLeast,
        one,
        readout_update,
    ));
    conditions.push(Condition::new(
        Part::Readout,
        format!("a_{readout} + b_{readout} + r"),
        Relation::AtLeast,
        one,
        readout_init_effect,
    ));
    let stable = conditions.iter().all(|c| c.holds);
    let init_holds = conditions
        .iter()
        .filter(|c| c.part == Part::Init)
        .all(|c| c.holds);
    let smallest_stable_c = if init_holds {
        Some(smallest_stable_c(abc)?)
    } else {
        None
    };

    let nontrivial = stable.then_some(readout_init_effect == one || readout_update == one);
    let classified = nontrivial == Some(true);
    let feature_learning = classified.then_some(r == zero);
    let kernel_regime = classified.then_some(r > zero);
    let layers_learning_features = classified.then(|| {
        let mut running = None::<Exponent>;
        (1..=depth)
            .filter(|&l| {
                let m = running.map_or(r_layers[l - 1], |m| m.min(r_layers[l - 1]));
                running = Some(m);
                m == zero
            })
            .collect()
    });
    let maximal = stable.then(|| {
        let mut updated: Vec<usize> = (1..=depth).filter(|&l| r_layers[l - 1] == zero).collect();
        if readout_update == one {
            updated.push(readout);
        }
        let readout_initialized = readout_init_effect == one;
        Maximal {
            mup: updated.len() == readout && readout_initialized,
            updated,
            readout_initialized,
        }
    });
    let kernel = (kernel_regime == Some(true)).then(|| {
        let mut layers: Vec<usize> = if readout_init_effect == one {
            (1..=depth).filter(|&l| r_layers[l - 1] == r).collect()
        } else {
            Vec::new()
        };
        if readout_update == one {
            layers.push(readout);
        }
        Kernel {
            ntk: layers.len() == readout,
            layers,
        }
    });

    Ok(Classification {
        abc: abc.clone(),
        r_layers,
        r,
        readout_init,
        readout_backward,
        readout_update,
        readout_init_effect,
        conditions,
        stable,
        smallest_stable_c,
        nontrivial,
        feature_learning,
        kernel_regime,
        layers_learning_features,
        maximal,
        kernel,
    })
}

/// Condition (i) of TP4 Thm 3.3, shared by SGD and Adam: `a_1 + b_1 = 0`,
/// `a_l + b_l = 1/2` (2 ≤ l ≤ L), `a_{L+1} + b_{L+1} ≥ 1/2`.
pub(crate) fn init_conditions(
    a: &[Exponent],
    b: &[Exponent],
) -> Result<Vec<Condition>, ParamError> {
    let readout = a.len();
    let half = Exponent::new(1, 2);
    (1..=readout)
        .map(|l| {
            let (relation, bound) = if l == 1 {
                (Relation::Equal, Exponent::from_integer(0))
            } else if l < readout {
                (Relation::Equal, half)
            } else {
                (Relation::AtLeast, half)
            };
            Ok(Condition::new(
                Part::Init,
                format!("a_{l} + b_{l}"),
                relation,
                bound,
                add(a[l - 1], b[l - 1])?,
            ))
        })
        .collect()
}

/// The smallest c for which `(a, b, c)` satisfies (ii) and (iii) of TP4 Thm 3.3.
///
/// With `A = a_{L+1} + b_{L+1}`, `α = 2a_{L+1}` and `m = min_l (2a_l + [l = 1])`, every
/// constraint involving c reads `g(c) := min(A + c, α + 2c) ≥ t` for some t (r ≥ 0 is
/// `t = 1 − m`, `A + r ≥ 1` is `t = 2 − A − m`) or `α + c ≥ 1`; `g` increases in c, so
/// `g(c) ≥ t ⇔ c ≥ max(t − A, (t − α)/2)`.
fn smallest_stable_c(abc: &Abc) -> Result<Exponent, ParamError> {
    let depth = abc.depth();
    let one = Exponent::from_integer(1);
    let big_a = abc.readout_init()?;
    let alpha = twice(abc.a[depth])?;
    let m = (0..depth)
        .map(|i| add(twice(abc.a[i])?, Exponent::from_integer(i64::from(i == 0))))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .min()
        .expect("an MLP has at least one hidden layer");
    let features = sub(one, m)?;
    let readout_effect = sub(sub(Exponent::from_integer(2), big_a)?, m)?;
    let mut smallest = sub(one, alpha)?;
    for t in [features, readout_effect] {
        smallest = smallest.max(sub(t, big_a)?).max(half(sub(t, alpha)?)?);
    }
    Ok(smallest)
}

/// Serializes an optional exponent as a string or `null`.
fn serialize_optional_exponent<S: serde::Serializer>(
    x: &Option<Exponent>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match x {
        Some(x) => serializer.collect_str(x),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::Preset;

    #[test]
    fn the_smallest_stable_c_is_the_stability_boundary() {
        for depth in 1..=3 {
            for preset in [
                Preset::Sp {
                    c: Exponent::from_integer(0),
                },
                Preset::Ntp,
                Preset::Mup,
                Preset::Mfp,
            ] {
                let abc = Abc::preset(preset, depth);
                let c_min = classify(&abc).unwrap().smallest_stable_c.unwrap();
                let at = |c: Exponent| classify(&Abc { c, ..abc.clone() }).unwrap().stable;
                assert!(at(c_min), "{preset:?} L = {depth}: c = {c_min}");
                assert!(
                    !at(c_min - Exponent::new(1, 1000)),
                    "{preset:?} L = {depth}"
                );
                assert!(at(c_min + Exponent::new(7, 3)), "{preset:?} L = {depth}");
            }
        }
    }
}

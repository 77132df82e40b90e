//! The MLP training-program generator: T SGD steps of an abc-parametrized MLP written as a
//! Tensor Program (docs/parametrizations.md, “Generating training programs”), with the parametrization's powers of n explicit.
//!
//! Every weight is stored in *normalized* form, with Θ(1) entries at initialization:
//!
//! * input layer: `W¹ξ = n^{-(a₁+b₁)} g₁(ξ)` where `g₁(ξ) = Uξ`, `U` of entries N(0, σ₁²), is an
//!   initial vector with covariance `σ₁² ⟨ξ, ξ'⟩`;
//! * hidden layers: `W^l = n^{1/2-a_l-b_l} Ŵ^l`, `Ŵ^l ~ N(0, σ_l²/n)` a program matrix;
//! * readout: `W^{L+1} = n^{-s} v`, `s = a_{L+1}+b_{L+1}`, `v` of entries N(0, σ²_{L+1}).
//!
//! Gradients are scaled by the readout's initial size: `∇_{h^l} f = n^{-s} dh^l`, so
//! `dh^L = v ⊙ φ'(h^L)` and `dh^{l-1} = (W^l_t)ᵀ dh^l ⊙ φ'(h^{l-1})`. The update (5.1)
//! `ΔW^l = -η n^{-c} χ n^{-2a_l} ∇_{h^l} f (x^{l-1})ᵀ` then acts on a vector z as
//! `-η χ n^{q_l} ⟨x^{l-1}, z⟩_n dh^l` with `q_l = 1 - c - 2a_l - s` (`⟨·,·⟩_n` a Moment; for
//! l = 1 the inner product is the plain `⟨ξ_s, ξ⟩` and `q₁ = -c - 2a₁ - s`), and the readout
//! moves by `Δv = -η χ n^{b_{L+1}-a_{L+1}-c} x^L`. For μP (and MFP, its image under the
//! symmetry) every power is n⁰ and the program is an ordinary Tensor Program; for other
//! parametrizations the powers show which terms vanish or blow up (`tpc derive --scaling`).

use super::abc::{Abc, Exponent};
use crate::builtins::Builtin;
use std::fmt::{self, Write};

/// Bound on the numerators and denominators of exponents, so exact arithmetic cannot overflow.
const MAX_TERM: i64 = 1_000_000;

/// The loss whose derivative χ = L'(f, y) drives SGD.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// `(f - y)²/2`: χ = f - y.
    Mse,
    /// Logistic loss on a label y ∈ [0, 1]: χ = sigmoid(f) - y.
    Logistic,
}

/// What to generate: the network, its parametrization and the training run.
#[derive(Clone, Debug)]
pub struct MlpSpec {
    /// The abc-parametrization; its length fixes the depth L.
    pub abc: Abc,
    /// A name for the header (`μP`, `SP (c = 1)`, …).
    pub label: String,
    /// The number of SGD steps T (batch size 1).
    pub steps: usize,
    /// The nonlinearity φ.
    pub nonlin: Builtin,
    /// The training inputs ξ_k; step t trains on example t mod (number of examples).
    pub inputs: Vec<Vec<f64>>,
    /// The targets y_k, one per training input.
    pub targets: Vec<f64>,
    /// Inputs that are only evaluated.
    pub eval: Vec<Vec<f64>>,
    /// The learning rate η (multiplied by n^{-c}).
    pub lr: f64,
    /// The loss.
    pub loss: Loss,
    /// σ_l for layers 1..=L+1: the initial weights have variance σ_l² n^{-2b_l}.
    pub sigma: Vec<f64>,
}

/// Why a specification cannot be generated.
#[derive(Clone, Debug, PartialEq)]
pub enum GenError {
    /// No training input, or inputs of different dimensions.
    Inputs(String),
    /// The number of targets differs from the number of training inputs.
    Targets {
        /// Training inputs.
        inputs: usize,
        /// Targets given.
        targets: usize,
    },
    /// σ needs one value for every layer (or a single value for all).
    Sigma {
        /// L + 1.
        layers: usize,
        /// Values given.
        given: usize,
    },
    /// A number that is not finite, a σ or η that is not positive.
    Number(String),
    /// The nonlinearity has no derivative usable in the backward pass.
    Nonlin(String),
}

impl fmt::Display for GenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenError::Inputs(why) => write!(f, "bad inputs: {why}"),
            GenError::Targets { inputs, targets } => write!(
                f,
                "{targets} target(s) for {inputs} training input(s): give one target per input"
            ),
            GenError::Sigma { layers, given } => write!(
                f,
                "σ needs 1 or {layers} values (one per layer 1..=L+1); got {given}"
            ),
            GenError::Number(why) => f.write_str(why),
            GenError::Nonlin(name) => write!(
                f,
                "`{name}` cannot be trained by backpropagation: its derivative is zero almost everywhere"
            ),
        }
    }
}

impl std::error::Error for GenError {}

impl MlpSpec {
    /// The training run of reference cases 5B and 5C: one step at a time on ξ₀ = (1, 0) with
    /// y₀ = 1, evaluation at ξ₁ = (0.5, −1), η = 1, MSE, σ = 1 in every layer.
    pub fn reference(abc: Abc, label: &str, nonlin: Builtin, steps: usize) -> MlpSpec {
        MlpSpec {
            sigma: vec![1.0; abc.a.len()],
            abc,
            label: label.to_string(),
            steps,
            nonlin,
            inputs: vec![vec![1.0, 0.0]],
            targets: vec![1.0],
            eval: vec![vec![0.5, -1.0]],
            lr: 1.0,
            loss: Loss::Mse,
        }
    }

    fn check(&self) -> Result<(), GenError> {
        let dimension = match self.inputs.first() {
            Some(x) => x.len(),
            None => return Err(GenError::Inputs("no training input".into())),
        };
        if dimension == 0 {
            return Err(GenError::Inputs("an input has no coordinates".into()));
        }
        if let Some(x) = self
            .inputs
            .iter()
            .chain(&self.eval)
            .find(|x| x.len() != dimension)
        {
            return Err(GenError::Inputs(format!(
                "inputs have {dimension} coordinates, but one has {}",
                x.len()
            )));
        }
        if self.targets.len() != self.inputs.len() {
            return Err(GenError::Targets {
                inputs: self.inputs.len(),
                targets: self.targets.len(),
            });
        }
        let layers = self.abc.a.len();
        if self.sigma.len() != layers {
            return Err(GenError::Sigma {
                layers,
                given: self.sigma.len(),
            });
        }
        let numbers = self.inputs.iter().chain(&self.eval).flatten();
        if numbers.chain(&self.targets).any(|x| !x.is_finite()) {
            return Err(GenError::Number("inputs and targets must be finite".into()));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(GenError::Number(format!(
                "the learning rate must be positive; got {}",
                self.lr
            )));
        }
        if self.sigma.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(GenError::Number("every σ must be positive".into()));
        }
        let abc = &self.abc;
        let exponents = abc.a.iter().chain(&abc.b).chain([&abc.c]);
        if exponents
            .into_iter()
            .any(|e| e.numer().abs() > MAX_TERM || *e.denom() > MAX_TERM)
        {
            return Err(GenError::Number(format!(
                "exponents need numerators and denominators of at most {MAX_TERM}"
            )));
        }
        if self.nonlin.derivative_vanishes(1) {
            return Err(GenError::Nonlin(self.nonlin.name().into()));
        }
        Ok(())
    }
}

/// Writes the `.tp` program of `spec.steps` SGD steps.
///
/// Outputs: `f[t, i]` (the network at step t = 0..=T on input i, training inputs first, then
/// evaluation inputs), `chi[t]`, and for every hidden layer l the feature change
/// `fc{l}[t] = ⟨x^l_t - x^l_0, same⟩_n` at the probe input (the first evaluation input, else the
/// first training input), divided by (ηχ₀)² when y₀ ≠ 0 (reference case 5B's normalization,
/// which removes most of the seed noise of χ₀).
pub fn generate_mlp(spec: &MlpSpec) -> Result<String, GenError> {
    spec.check()?;
    let mut out = String::new();
    Writer {
        spec,
        out: &mut out,
    }
    .program()
    .expect("writing to a String cannot fail");
    Ok(out)
}

struct Writer<'a> {
    spec: &'a MlpSpec,
    out: &'a mut String,
}

impl Writer<'_> {
    fn depth(&self) -> usize {
        self.spec.abc.a.len() - 1
    }

    fn inputs(&self) -> usize {
        self.spec.inputs.len() + self.spec.eval.len()
    }

    /// The training example of step t.
    fn example(&self, t: usize) -> usize {
        t % self.spec.inputs.len()
    }

    fn probe(&self) -> usize {
        if self.spec.eval.is_empty() {
            0
        } else {
            self.spec.inputs.len()
        }
    }

    /// s = a_{L+1} + b_{L+1}: the readout's initial size is n^{-s}.
    fn readout_power(&self) -> Exponent {
        let l = self.depth();
        self.spec.abc.a[l] + self.spec.abc.b[l]
    }

    /// The factor of the initial weights of layer `l` (1-based) in normalized form.
    fn init_power(&self, l: usize) -> Exponent {
        let abc = &self.spec.abc;
        let own = abc.a[l - 1] + abc.b[l - 1];
        if l == 1 {
            -own
        } else {
            Exponent::new(1, 2) - own
        }
    }

    /// q_l: the power of n of an update of layer `l` acting on a vector (module docs).
    fn update_power(&self, l: usize) -> Exponent {
        let abc = &self.spec.abc;
        let base = -abc.c - abc.a[l - 1] * 2 - self.readout_power();
        if l == 1 {
            base
        } else {
            base + 1
        }
    }

    fn program(&mut self) -> fmt::Result {
        self.header()?;
        self.declarations()?;
        for t in 0..=self.spec.steps {
            self.forward(t)?;
            if t < self.spec.steps {
                self.backward(t)?;
                self.readout_update(t)?;
            }
        }
        self.feature_change()?;
        let mut outputs = vec!["f".to_string()];
        if self.spec.steps > 0 {
            outputs.push("chi".into());
            outputs.extend((1..=self.depth()).map(|l| format!("fc{l}")));
        }
        writeln!(self.out, "\noutput {}", outputs.join(", "))
    }

    fn header(&mut self) -> fmt::Result {
        let spec = self.spec;
        let l = self.depth();
        let abc = &spec.abc;
        let list = |v: &[Exponent]| -> String {
            let items: Vec<String> = v.iter().map(|e| e.to_string()).collect();
            format!("({})", items.join(", "))
        };
        writeln!(
            self.out,
            "# {} SGD step(s) of a {l}-hidden-layer {} MLP in {}, written by `tpc gen mlp`.",
            spec.steps,
            spec.nonlin.name(),
            spec.label
        )?;
        writeln!(self.out, "#")?;
        writeln!(
            self.out,
            "# abc-parametrization (docs/parametrizations.md): a = {}, b = {}, c = {}.",
            list(&abc.a),
            list(&abc.b),
            abc.c
        )?;
        if let Ok(r) = abc.r() {
            writeln!(
                self.out,
                "# r = {r} (tpc classify): the feature change x^l_t - x^l_0 is O(n^(-r))."
            )?;
        }
        writeln!(
            self.out,
            "# Weights are normalized to Θ(1) entries (W¹ξ = n^(-a₁-b₁)·g1(ξ), W^l = n^(1/2-a_l-b_l)·W_l,\n\
             # W^(L+1) = n^(-a-b)·v); backward vectors are dh^l = n^(a_(L+1)+b_(L+1)) ∂f/∂h^l; each\n\
             # update is rank one and its power of n is written out (tpc derive --scaling reads them)."
        )?;
        let loss = match spec.loss {
            Loss::Mse => "(f - y)²/2, so chi = f - y",
            Loss::Logistic => "logistic, so chi = sigmoid(f) - y",
        };
        writeln!(
            self.out,
            "# Loss {loss}; step t trains on example t mod {}.",
            spec.inputs.len()
        )?;
        writeln!(
            self.out,
            "# Outputs: f[t, i] on input i (training inputs first), chi[t], and fc{{l}}[t], the feature\n\
             # change of hidden layer l at input {}{}.",
            self.probe(),
            if spec.targets[0] != 0.0 {
                ", divided by (eta·chi[0])²"
            } else {
                ""
            }
        )?;
        writeln!(self.out)
    }

    fn declarations(&mut self) -> fmt::Result {
        let spec = self.spec;
        let rows: Vec<&Vec<f64>> = spec.inputs.iter().chain(&spec.eval).collect();
        let rows: Vec<String> = rows.iter().map(|x| number_list(x)).collect();
        writeln!(self.out, "const xi  = [{}]", rows.join(", "))?;
        writeln!(self.out, "const y   = {}", number_list(&spec.targets))?;
        writeln!(self.out, "const eta = {}", number(spec.lr))?;
        writeln!(self.out, "def phi(z) = {}(z)", spec.nonlin.name())?;
        writeln!(self.out)?;
        let sigma2 = |l: usize| number(spec.sigma[l - 1] * spec.sigma[l - 1]);
        writeln!(
            self.out,
            "vector g1[i in 0..{}] ~ N(0, {} * gram(xi))    # U ξ_i, U of entries N(0, σ₁²)",
            self.inputs(),
            sigma2(1)
        )?;
        for l in 2..=self.depth() {
            writeln!(self.out, "matrix W{l} ~ N(0, {} / n)", sigma2(l))?;
        }
        writeln!(
            self.out,
            "vector v[t in 0..1] ~ N(0, {})    # the readout, normalized",
            sigma2(self.depth() + 1)
        )
    }

    /// `- eta * chi[s] * n^(q) * <coefficient> * <vector>` for every earlier step s.
    fn updates(&self, t: usize, power: Exponent, term: impl Fn(usize) -> String) -> String {
        (0..t)
            .map(|s| format!(" - eta * chi[{s}]{} * {}", times_power(power), term(s)))
            .collect()
    }

    fn forward(&mut self, t: usize) -> fmt::Result {
        let l_max = self.depth();
        writeln!(self.out, "\n# Step {t}: forward at every input.")?;
        writeln!(self.out, "for i in 0..{} {{", self.inputs())?;
        let first = self.updates(t, self.update_power(1), |s| {
            format!("dot(xi[{}], xi[i]) * dh1[{s}]", self.example(s))
        });
        writeln!(
            self.out,
            "    h1[{t}, i] = {}g1[i]{first}",
            power_prefix(self.init_power(1))
        )?;
        writeln!(self.out, "    x1[{t}, i] = phi(h1[{t}, i])")?;
        for l in 2..=l_max {
            let k = l - 1;
            let rest = self.updates(t, self.update_power(l), |s| {
                format!(
                    "mean(x{k}[{s}, {}] * x{k}[{t}, i]) * dh{l}[{s}]",
                    self.example(s)
                )
            });
            writeln!(
                self.out,
                "    h{l}[{t}, i] = {}{rest}",
                scaled_matmul(self.init_power(l), &format!("W{l} @ x{k}[{t}, i]"))
            )?;
            writeln!(self.out, "    x{l}[{t}, i] = phi(h{l}[{t}, i])")?;
        }
        let s = self.readout_power();
        writeln!(
            self.out,
            "    f[{t}, i] = {}mean(v[{t}] * x{l_max}[{t}, i])",
            power_prefix(Exponent::from_integer(1) - s)
        )?;
        writeln!(self.out, "}}")
    }

    fn backward(&mut self, t: usize) -> fmt::Result {
        let k = self.example(t);
        let l_max = self.depth();
        let chi = match self.spec.loss {
            Loss::Mse => format!("f[{t}, {k}] - y[{k}]"),
            Loss::Logistic => format!("sigmoid(f[{t}, {k}]) - y[{k}]"),
        };
        writeln!(self.out, "chi[{t}] = {chi}")?;
        writeln!(self.out, "# Step {t}: backward at ξ_{k}, scaled.")?;
        writeln!(
            self.out,
            "dh{l_max}[{t}] = v[{t}] * phi'(h{l_max}[{t}, {k}])"
        )?;
        for l in (2..=l_max).rev() {
            let below = l - 1;
            let rest = self.updates(t, self.update_power(l), |s| {
                format!(
                    "mean(dh{l}[{s}] * dh{l}[{t}]) * x{below}[{s}, {}]",
                    self.example(s)
                )
            });
            writeln!(
                self.out,
                "dh{below}[{t}] = ({}{rest}) * phi'(h{below}[{t}, {k}])",
                scaled_matmul(self.init_power(l), &format!("W{l}.T @ dh{l}[{t}]"))
            )?;
        }
        Ok(())
    }

    fn readout_update(&mut self, t: usize) -> fmt::Result {
        let abc = &self.spec.abc;
        let l = self.depth();
        let power = abc.b[l] - abc.a[l] - abc.c;
        writeln!(
            self.out,
            "v[{}] = v[{t}] - eta * chi[{t}]{} * x{l}[{t}, {}]",
            t + 1,
            times_power(power),
            self.example(t)
        )
    }

    fn feature_change(&mut self) -> fmt::Result {
        if self.spec.steps == 0 {
            return Ok(());
        }
        let p = self.probe();
        let scale = if self.spec.targets[0] != 0.0 {
            " / (eta * chi[0]) ^ 2"
        } else {
            ""
        };
        writeln!(
            self.out,
            "\n# Feature change of every hidden layer at input {p}."
        )?;
        writeln!(self.out, "for t in 1..{} {{", self.spec.steps + 1)?;
        for l in 1..=self.depth() {
            writeln!(self.out, "    delta{l}[t] = x{l}[t, {p}] - x{l}[0, {p}]")?;
            writeln!(self.out, "    fc{l}[t] = mean(delta{l}[t] ^ 2){scale}")?;
        }
        writeln!(self.out, "}}")
    }
}

/// A number as the `.tp` language reads it back exactly.
fn number(x: f64) -> String {
    format!("{x:?}")
}

fn number_list(xs: &[f64]) -> String {
    let items: Vec<String> = xs.iter().map(|x| number(*x)).collect();
    format!("[{}]", items.join(", "))
}

/// `n^(p)` as the language writes it.
fn width_power(p: Exponent) -> String {
    if p == Exponent::from_integer(1) {
        "n".to_string()
    } else {
        format!("n^({p})")
    }
}

/// `n^(p) * ` before a factor, or nothing when p = 0.
fn power_prefix(p: Exponent) -> String {
    if p == Exponent::from_integer(0) {
        String::new()
    } else {
        format!("{} * ", width_power(p))
    }
}

/// ` * n^(p)` after a factor, or nothing when p = 0.
fn times_power(p: Exponent) -> String {
    if p == Exponent::from_integer(0) {
        String::new()
    } else {
        format!(" * {}", width_power(p))
    }
}

/// A matrix product with its normalization factor.
fn scaled_matmul(p: Exponent, product: &str) -> String {
    if p == Exponent::from_integer(0) {
        product.to_string()
    } else {
        format!("{} * ({product})", width_power(p))
    }
}

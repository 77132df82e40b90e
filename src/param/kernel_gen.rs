//! The kernel-program generator: the NNGP (and NTK) kernel matrices of an L-hidden-layer fully
//! connected network in the NTK parametrization, over the inputs of a data file, written as a
//! Tensor Program (`tpc gen kernel`).
//!
//! With σw² the weight and σb² the bias variance, inputs ξ ∈ R^d and φ the nonlinearity:
//!
//! * `h¹(ξ) = W¹ξ/√d + b¹` is Gaussian with `Σ¹(ξ, ξ') = σw² ⟨ξ, ξ'⟩/d + σb²` (an initial
//!   vector family, the only place the inputs enter);
//! * `x^l = φ(h^l)`, `h^{l+1} = W^{l+1} x^l + b^{l+1}` for l = 1..L, `W ~ N(0, σw²/n)`;
//! * the NNGP recursion `Σ^{l+1}(ξ, ξ') = σw² E[φ(h^l(ξ)) φ(h^l(ξ'))] + σb²`, the limit of
//!   `σw² ⟨x^l(ξ), x^l(ξ')⟩_n + σb²`; the NNGP kernel is `Σ^{L+1}`;
//! * the NTK recursion `Θ¹ = Σ¹`, `Θ^{l+1} = Σ^{l+1} + σw² E[φ'(h^l(ξ)) φ'(h^l(ξ'))] Θ^l`; the
//!   NTK is `Θ^{L+1}`.
//!
//! The program's input indices `i, j` appear only as bare indices of families, and the inputs
//! only through the covariance of `h1`: the shape an array evaluator recognizes.

use super::gen::GenError;
use crate::builtins::Builtin;
use std::fmt::Write;

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelSpec {
    /// The nonlinearity φ.
    pub nonlin: Builtin,
    /// The number of hidden layers L (at least 1).
    pub depth: usize,
    /// The data file, one input per row, as `load` will read it: relative to the directory
    /// the program is saved in.
    pub inputs: String,
    /// σw², the variance of every weight (times n or d).
    pub weight_var: f64,
    /// σb², the variance of every bias (0: no biases).
    pub bias_var: f64,
    /// Whether to compute the NTK too.
    pub ntk: bool,
}

impl KernelSpec {
    /// A network without biases and the usual σw²: 2 for relu (it keeps Σ^l(ξ, ξ) constant
    /// across layers), 1 otherwise.
    pub fn new(nonlin: Builtin, depth: usize, inputs: &str, ntk: bool) -> KernelSpec {
        KernelSpec {
            nonlin,
            depth,
            inputs: inputs.to_string(),
            weight_var: KernelSpec::default_weight_var(nonlin),
            bias_var: 0.0,
            ntk,
        }
    }

    /// The default σw² of a nonlinearity: 2 for relu, 1 otherwise.
    pub fn default_weight_var(nonlin: Builtin) -> f64 {
        if nonlin == Builtin::Relu {
            2.0
        } else {
            1.0
        }
    }

    fn check(&self) -> Result<(), GenError> {
        if self.depth == 0 {
            return Err(GenError::Number(
                "the depth (number of hidden layers) must be at least 1".into(),
            ));
        }
        if !(self.weight_var.is_finite() && self.weight_var > 0.0) {
            return Err(GenError::Number(format!(
                "the weight variance must be a positive number, not {}",
                self.weight_var
            )));
        }
        if !(self.bias_var.is_finite() && self.bias_var >= 0.0) {
            return Err(GenError::Number(format!(
                "the bias variance must be a non-negative number, not {}",
                self.bias_var
            )));
        }
        if self.inputs.is_empty() || self.inputs.contains(['"', '\n', '\r']) {
            return Err(GenError::Inputs(format!(
                "the path {:?} cannot be written in `load(\"…\")`: it must be non-empty, \
                 without `\"` or line breaks",
                self.inputs
            )));
        }
        if self.ntk && self.nonlin.derivative_vanishes(1) {
            return Err(GenError::Nonlin(self.nonlin.name().into()));
        }
        Ok(())
    }

    /// The `tpc gen kernel` command that generates this program.
    pub fn command(&self) -> String {
        format!(
            "tpc gen kernel --nonlin {} --depth {} --inputs {} --weight-var {} --bias-var {}{}",
            self.nonlin.name(),
            self.depth,
            shell_word(&self.inputs),
            number(self.weight_var),
            number(self.bias_var),
            if self.ntk { " --ntk" } else { "" }
        )
    }
}

/// Writes the `.tp` program of the kernel matrices: outputs `NNGP[i, j]` and, with
/// [`KernelSpec::ntk`], `NTK[i, j]`, both over every pair of inputs (`N×N`).
pub fn generate_kernel(spec: &KernelSpec) -> Result<String, GenError> {
    spec.check()?;
    let mut out = String::new();
    write_kernel(spec, &mut out).expect("writing to a String cannot fail");
    Ok(out)
}

fn write_kernel(spec: &KernelSpec, out: &mut String) -> std::fmt::Result {
    let phi = spec.nonlin.name();
    let bias = spec.bias_var > 0.0;
    let kernels = if spec.ntk { "NNGP and NTK" } else { "NNGP" };
    writeln!(
        out,
        "# The {kernels} kernel matrices of a {}-hidden-layer fully connected {phi} network in the NTK",
        spec.depth
    )?;
    writeln!(
        out,
        "# parametrization (σw² = {}, σb² = {}), over the inputs ξ_i in the rows of {}.",
        number(spec.weight_var),
        number(spec.bias_var),
        spec.inputs
    )?;
    writeln!(out, "#")?;
    writeln!(
        out,
        "# Layer 1: h¹(ξ) = W¹ξ/√d{}, Gaussian with covariance Σ¹(ξ, ξ') = σw² ⟨ξ, ξ'⟩/d + σb².",
        if bias { " + b¹" } else { "" }
    )?;
    writeln!(
        out,
        "# Layers l = 2..L: h^l = W^l x^(l-1){}, x^l = {phi}(h^l), W^l of entries N(0, σw²/n).",
        if bias { " + b^l" } else { "" }
    )?;
    writeln!(
        out,
        "# NNGP: Σ^(l+1)(ξ, ξ') = σw² E[{phi}(h^l(ξ)) {phi}(h^l(ξ'))] + σb², the limit of the moment"
    )?;
    writeln!(
        out,
        "#   σw² ⟨x^l(ξ), x^l(ξ')⟩_n + σb²; the NNGP kernel is Σ^(L+1)."
    )?;
    if spec.ntk {
        writeln!(
            out,
            "# NTK: Θ¹ = Σ¹, Θ^(l+1) = Σ^(l+1) + σw² E[{phi}'(h^l(ξ)) {phi}'(h^l(ξ'))] Θ^l; the NTK is Θ^(L+1)."
        )?;
    }
    writeln!(out, "#")?;
    writeln!(out, "# Generated by: {}", spec.command())?;
    writeln!(
        out,
        "# (`load` reads the path relative to the directory of this file.)"
    )?;
    writeln!(out)?;
    let constants = [
        (
            format!("const X = load(\"{}\")", spec.inputs),
            "one input per row",
        ),
        ("const N = len(X)".to_string(), "number of inputs"),
        ("const d = cols(X)".to_string(), "input dimension"),
        (format!("const L = {}", spec.depth), "hidden layers"),
        (format!("const sw2 = {}", number(spec.weight_var)), "σw²"),
        (format!("const sb2 = {}", number(spec.bias_var)), "σb²"),
    ];
    let width = constants
        .iter()
        .map(|(c, _)| c.chars().count())
        .max()
        .unwrap_or(0);
    for (code, comment) in &constants {
        let pad = width - code.chars().count();
        writeln!(out, "{code}{:pad$}   # {comment}", "")?;
    }
    writeln!(out)?;
    writeln!(out, "vector h1[i in 0..N] ~ N(0, sw2 * gram(X) / d + sb2)")?;
    writeln!(out, "matrix W[l in 2..L+1] ~ N(0, sw2 / n)")?;
    let plus_bias = if bias {
        writeln!(out, "vector b[l in 2..L+1] ~ N(0, sb2)")?;
        " + b[l]"
    } else {
        ""
    };
    writeln!(out)?;
    // Layer by layer, each kernel right after its layer's vectors: a layer's arrays die as
    // soon as the next layer is done (the array evaluator frees them after their last use).
    writeln!(out, "# Layer 1: x¹ = {phi}(h¹); Σ² = σw² E[x¹ x¹] + σb².")?;
    writeln!(out, "for i in 0..N {{")?;
    writeln!(out, "    x[1, i] = {phi}(h1[i])")?;
    writeln!(out, "}}")?;
    writeln!(out, "for i in 0..N, j in 0..N {{")?;
    if spec.ntk {
        writeln!(out, "    Sigma[1, i, j] = mean(h1[i] * h1[j])")?;
    }
    writeln!(
        out,
        "    Sigma[2, i, j] = sw2 * mean(x[1, i] * x[1, j]) + sb2"
    )?;
    if spec.ntk {
        writeln!(out, "    Theta[1, i, j] = Sigma[1, i, j]")?;
        writeln!(
            out,
            "    Theta[2, i, j] = Sigma[2, i, j] + sw2 * mean({phi}'(h1[i]) * {phi}'(h1[j])) * Theta[1, i, j]"
        )?;
    }
    writeln!(out, "}}")?;
    writeln!(out)?;
    if spec.ntk {
        writeln!(
            out,
            "# Layers 2..L: h^l = W^l x^(l-1){}, x^l = {phi}(h^l); Σ^(l+1) = σw² E[x^l x^l] + σb²,",
            if bias { " + b^l" } else { "" }
        )?;
        writeln!(
            out,
            "# Θ^(l+1) = Σ^(l+1) + σw² E[{phi}'(h^l) {phi}'(h^l)] Θ^l."
        )?;
    } else {
        writeln!(
            out,
            "# Layers 2..L: h^l = W^l x^(l-1){}, x^l = {phi}(h^l); Σ^(l+1) = σw² E[x^l x^l] + σb².",
            if bias { " + b^l" } else { "" }
        )?;
    }
    writeln!(out, "for l in 2..L+1 {{")?;
    writeln!(out, "    for i in 0..N {{")?;
    writeln!(out, "        h[l, i] = W[l] @ x[l - 1, i]{plus_bias}")?;
    writeln!(out, "        x[l, i] = {phi}(h[l, i])")?;
    writeln!(out, "    }}")?;
    writeln!(out, "    for i in 0..N, j in 0..N {{")?;
    writeln!(
        out,
        "        Sigma[l + 1, i, j] = sw2 * mean(x[l, i] * x[l, j]) + sb2"
    )?;
    if spec.ntk {
        writeln!(
            out,
            "        Theta[l + 1, i, j] = Sigma[l + 1, i, j] + sw2 * mean({phi}'(h[l, i]) * {phi}'(h[l, j])) * Theta[l, i, j]"
        )?;
    }
    writeln!(out, "    }}")?;
    writeln!(out, "}}")?;
    writeln!(out)?;
    writeln!(out, "for i in 0..N, j in 0..N {{")?;
    writeln!(out, "    NNGP[i, j] = Sigma[L + 1, i, j]")?;
    if spec.ntk {
        writeln!(out, "    NTK[i, j] = Theta[L + 1, i, j]")?;
        writeln!(out, "}}")?;
        writeln!(out, "output NNGP, NTK")
    } else {
        writeln!(out, "}}")?;
        writeln!(out, "output NNGP")
    }
}

/// A number as the language reads it back exactly: `2`, `0.1`, `1e-7`.
fn number(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:?}")
    }
}

/// A path as a shell word: as it is when it is plain, else in single quotes.
fn shell_word(path: &str) -> String {
    let plain = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_./-+,:@%".contains(c));
    if plain {
        path.to_string()
    } else {
        format!("'{}'", path.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for x in [2.0, 0.0, 1.5, 0.1, 1e-7, 123456.789] {
            assert_eq!(number(x).parse::<f64>().unwrap(), x);
        }
        assert_eq!(number(2.0), "2");
    }

    #[test]
    fn paths_are_quoted_for_the_shell_only_when_needed() {
        assert_eq!(shell_word("data/x.npy"), "data/x.npy");
        assert_eq!(shell_word("my data.txt"), "'my data.txt'");
        assert_eq!(shell_word("it's.txt"), r"'it'\''s.txt'");
    }
}

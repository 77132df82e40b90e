//! The transformer-block kernel-program generator (`tpc gen transformer-block`): the NNGP (and
//! NTK) of a pre-LayerNorm transformer over sequences of tokens, in the NTK parametrization
//! (docs/architectures.md):
//!
//! `x⁰_a = (σw/√d) W_E ξ_a`, then B blocks of
//! `x ← x + Attention(LayerNorm(x))` and `x ← x + (σw/√n) W₂ φ((σw/√n) W₁ LayerNorm(x))`,
//! then the average over tokens and the dense readout `f = (σw/√n) v · (1/T) Σ_a x_a`.
//!
//! Attention is Tensor Programs I's (and neural-tangents' `GlobalSelfAttention` with linear
//! scaling): queries tied to keys, scores `s_ab = ⟨k_a, k_b⟩/n` (Moments, numbers in the
//! limit), `p_ab = softmax_b(s_ab)`, `o_a = Σ_h W_O^h Σ_b p^h_ab W_V^h y_b/√(Hn)`; every weight
//! inside attention has standard deviation 1. LayerNorm divides by Moments, so every vector
//! stays a Gaussian combination or φ of one.
//!
//! NTK recursion over pairs of tokens `r = (i, a)`, `s = (j, c)` (the score path contributes
//! nothing in the limit: a score is a mean over n coordinates, so its gradient is O(1/n)):
//! LayerNorm `Θ ↦ Θ/√(v_r v_s)`; attention `Θ ↦ Θ + Σ_bd p_rb p_sd (2 K^y_bd + Θ^y_bd)`;
//! MLP `Θ ↦ Θ + σw² E[φ φ] + σw² E[φ' φ'] (σw² K^y + σw² Θ^y)`; readout
//! `NTK = NNGP + σw²/T² Σ_ac Θ(ia, jc)`.

use super::gen::GenError;
use crate::builtins::Builtin;
use std::fmt::Write;

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerSpec {
    /// The nonlinearity φ of every MLP sublayer.
    pub nonlin: Builtin,
    /// The number of blocks B (at least 1).
    pub blocks: usize,
    /// The number of attention heads H (at least 1).
    pub heads: usize,
    /// σw² of the embedding, the MLP and the readout.
    pub weight_var: f64,
    /// The inputs: `[sequence][token][feature]`, all sequences of one length, all tokens of
    /// one dimension.
    pub inputs: Vec<Vec<Vec<f64>>>,
    /// Whether to compute the NTK too.
    pub ntk: bool,
}

/// The most tokens (over all sequences) a generated program may have: the NTK's pairwise
/// scalars grow with their square.
const MAX_TOKENS: usize = 64;

/// Writes the `.tp` program: outputs `NNGP[i, j]` and, with [`TransformerSpec::ntk`],
/// `NTK[i, j]`, for sequences `i ≤ j`.
pub fn generate_transformer(spec: &TransformerSpec) -> Result<String, GenError> {
    if spec.blocks == 0 || spec.heads == 0 {
        return Err(GenError::Number(
            "at least one block and one head are needed".into(),
        ));
    }
    if !(spec.weight_var.is_finite() && spec.weight_var > 0.0) {
        return Err(GenError::Number(format!(
            "the weight variance must be a positive number, not {}",
            spec.weight_var
        )));
    }
    let tokens = spec.inputs.first().map_or(0, Vec::len);
    let d = spec
        .inputs
        .first()
        .and_then(|s| s.first())
        .map_or(0, Vec::len);
    if tokens == 0
        || d == 0
        || spec
            .inputs
            .iter()
            .any(|s| s.len() != tokens || s.iter().any(|t| t.len() != d))
    {
        return Err(GenError::Inputs(
            "the inputs must be sequences of one length, of tokens of one dimension".into(),
        ));
    }
    // The embedding's covariance is the Gram matrix of the tokens: its entries must be finite,
    // and the first LayerNorm divides each token by its norm, which must not be zero.
    let norm2 = |x: &Vec<f64>| x.iter().map(|v| v * v).sum::<f64>();
    if let Some(i) = spec
        .inputs
        .iter()
        .position(|s| s.iter().any(|x| !(norm2(x).is_finite() && norm2(x) > 0.0)))
    {
        return Err(GenError::Inputs(format!(
            "sequence {i} has a token whose squared norm is 0 or not a finite number (LayerNorm divides every token by its norm)"
        )));
    }
    let total = spec.inputs.len() * tokens;
    if total > MAX_TOKENS {
        return Err(GenError::Inputs(format!(
            "{total} tokens in all; at most {MAX_TOKENS} are written out"
        )));
    }
    if spec.ntk && spec.nonlin.derivative_vanishes(1) {
        return Err(GenError::Nonlin(spec.nonlin.name().into()));
    }
    let mut out = String::new();
    write_transformer(spec, tokens, d, &mut out).expect("writing to a String cannot fail");
    Ok(out)
}

fn write_transformer(
    spec: &TransformerSpec,
    t: usize,
    d: usize,
    out: &mut String,
) -> std::fmt::Result {
    let phi = spec.nonlin.name();
    let (b, h, n_seq) = (spec.blocks, spec.heads, spec.inputs.len());
    let rows = n_seq * t;
    let kernels = if spec.ntk { "NNGP and NTK" } else { "NNGP" };
    writeln!(
        out,
        "# The {kernels} kernels of a transformer: dense embedding → {b} × [x + Attention(LayerNorm(x)),"
    )?;
    writeln!(
        out,
        "# x + MLP(LayerNorm(x)) with {phi}] → average over tokens → dense, on {} of {} in R^{d}.",
        plural(n_seq, "sequence"),
        plural(t, "token")
    )?;
    writeln!(
        out,
        "# NTK parametrization, no biases: σw² = {} for the embedding, the MLP and the readout; attention",
        number(spec.weight_var)
    )?;
    writeln!(
        out,
        "# ({h} head{}, queries tied to keys, scores ⟨k_a, k_b⟩/n) has weights of variance 1/n{}.",
        if h == 1 { "" } else { "s" },
        if h == 1 {
            String::new()
        } else {
            format!(" (W_O: 1/({h}n))")
        }
    )?;
    writeln!(
        out,
        "# The scores are Moments, so the softmax weights p are numbers in the limit (docs/architectures.md)."
    )?;
    if spec.ntk {
        writeln!(
            out,
            "# NTK over token pairs: LayerNorm Θ/√(v v'); attention Θ + Σ p p' (2 K^y + Θ^y);"
        )?;
        writeln!(
            out,
            "# MLP Θ + σw² E[{phi} {phi}] + σw² E[{phi}' {phi}'] (E[g g'] + σw² Θ^y); NTK = NNGP + σw²/T² Σ Θ."
        )?;
    }
    writeln!(out, "#")?;
    writeln!(out, "# Generated by: {}", command(spec))?;
    writeln!(out)?;
    let token_rows: Vec<String> = spec
        .inputs
        .iter()
        .flatten()
        .map(|x| {
            let x: Vec<String> = x.iter().map(|&v| number(v)).collect();
            format!("[{}]", x.join(", "))
        })
        .collect();
    writeln!(out, "# Tokens, row {t}·i + a for sequence i, token a.")?;
    writeln!(out, "const X = [{}]", token_rows.join(", "))?;
    writeln!(out, "const sw2 = {}", number(spec.weight_var))?;
    writeln!(out, "vector e[r in 0..{rows}] ~ N(0, sw2 * gram(X) / {d})")?;
    let inside = if h == 1 {
        "1 / n".to_string()
    } else {
        format!("1 / ({h} * n)")
    };
    writeln!(
        out,
        "matrix WK[l in 1..{}, h in 0..{h}] ~ N(0, 1 / n)",
        b + 1
    )?;
    writeln!(
        out,
        "matrix WV[l in 1..{}, h in 0..{h}] ~ N(0, 1 / n)",
        b + 1
    )?;
    writeln!(
        out,
        "matrix WO[l in 1..{}, h in 0..{h}] ~ N(0, {inside})",
        b + 1
    )?;
    writeln!(out, "matrix W1[l in 1..{}] ~ N(0, sw2 / n)", b + 1)?;
    writeln!(out, "matrix W2[l in 1..{}] ~ N(0, sw2 / n)", b + 1)?;
    writeln!(out)?;
    writeln!(
        out,
        "for i in 0..{n_seq}, a in 0..{t} {{ x[0, i, a] = id(e[{t} * i + a]) }}"
    )?;
    writeln!(out, "for l in 1..{} {{", b + 1)?;
    writeln!(out, "    # x + Attention(LayerNorm(x))")?;
    writeln!(out, "    for i in 0..{n_seq}, a in 0..{t} {{")?;
    writeln!(out, "        mu[l, i, a] = mean(x[l - 1, i, a])")?;
    writeln!(
        out,
        "        var[l, i, a] = mean(x[l - 1, i, a] * x[l - 1, i, a]) - mu[l, i, a] * mu[l, i, a]"
    )?;
    writeln!(
        out,
        "        y[l, i, a] = (x[l - 1, i, a] - mu[l, i, a]) / sqrt(var[l, i, a])"
    )?;
    writeln!(out, "        for h in 0..{h} {{")?;
    writeln!(out, "            key[l, h, i, a] = WK[l, h] @ y[l, i, a]")?;
    writeln!(out, "            val[l, h, i, a] = WV[l, h] @ y[l, i, a]")?;
    writeln!(out, "        }}")?;
    writeln!(out, "    }}")?;
    writeln!(out, "    for h in 0..{h}, i in 0..{n_seq}, a in 0..{t} {{")?;
    writeln!(
        out,
        "        for c in 0..{t} {{ s[l, h, i, a, c] = mean(key[l, h, i, a] * key[l, h, i, c]) }}"
    )?;
    let exps: Vec<String> = (0..t).map(|c| format!("exp(s[l, h, i, a, {c}])")).collect();
    writeln!(out, "        z[l, h, i, a] = {}", exps.join(" + "))?;
    writeln!(
        out,
        "        for c in 0..{t} {{ p[l, h, i, a, c] = exp(s[l, h, i, a, c]) / z[l, h, i, a] }}"
    )?;
    let mix: Vec<String> = (0..t)
        .map(|c| format!("p[l, h, i, a, {c}] * val[l, h, i, {c}]"))
        .collect();
    writeln!(out, "        u[l, h, i, a] = {}", mix.join(" + "))?;
    writeln!(out, "    }}")?;
    let heads: Vec<String> = (0..h)
        .map(|k| format!("WO[l, {k}] @ u[l, {k}, i, a]"))
        .collect();
    writeln!(
        out,
        "    for i in 0..{n_seq}, a in 0..{t} {{ att[l, i, a] = x[l - 1, i, a] + {} }}",
        heads.join(" + ")
    )?;
    writeln!(out, "    # x + W2 {phi}(W1 LayerNorm(x))")?;
    writeln!(out, "    for i in 0..{n_seq}, a in 0..{t} {{")?;
    writeln!(out, "        mu2[l, i, a] = mean(att[l, i, a])")?;
    writeln!(
        out,
        "        var2[l, i, a] = mean(att[l, i, a] * att[l, i, a]) - mu2[l, i, a] * mu2[l, i, a]"
    )?;
    writeln!(
        out,
        "        g[l, i, a] = W1[l] @ ((att[l, i, a] - mu2[l, i, a]) / sqrt(var2[l, i, a]))"
    )?;
    writeln!(
        out,
        "        x[l, i, a] = att[l, i, a] + W2[l] @ {phi}(g[l, i, a])"
    )?;
    writeln!(out, "    }}")?;
    writeln!(out, "}}")?;
    let pooled: Vec<String> = (0..t).map(|a| format!("x[{b}, i, {a}]")).collect();
    writeln!(
        out,
        "for i in 0..{n_seq} {{ pool[i] = ({}) / {t} }}",
        pooled.join(" + ")
    )?;
    writeln!(
        out,
        "for i in 0..{n_seq}, j in i..{n_seq} {{ NNGP[i, j] = sw2 * mean(pool[i] * pool[j]) }}"
    )?;
    if !spec.ntk {
        return writeln!(out, "\noutput NNGP");
    }
    write_ntk(spec, t, out)?;
    writeln!(out, "\noutput NNGP, NTK")
}

/// The NTK recursion over pairs of tokens `(i, a)`, `(j, c)`, sublayer by sublayer.
fn write_ntk(spec: &TransformerSpec, t: usize, out: &mut String) -> std::fmt::Result {
    let phi = spec.nonlin.name();
    let (b, h, n_seq) = (spec.blocks, spec.heads, spec.inputs.len());
    let pairs = format!("i in 0..{n_seq}, a in 0..{t}, j in 0..{n_seq}, c in 0..{t}");
    writeln!(out)?;
    writeln!(
        out,
        "# The NTK: Θ over pairs of tokens (i, a), (j, c), sublayer by sublayer."
    )?;
    writeln!(
        out,
        "for {pairs} {{ Theta[0, i, a, j, c] = mean(x[0, i, a] * x[0, j, c]) }}"
    )?;
    writeln!(out, "for l in 1..{} {{", b + 1)?;
    writeln!(out, "    for {pairs} {{")?;
    writeln!(
        out,
        "        ThetaY[l, i, a, j, c] = Theta[l - 1, i, a, j, c] / sqrt(var[l, i, a] * var[l, j, c])"
    )?;
    writeln!(out, "    }}")?;
    // PT[l, h, i, a, j, c] = Σ_e p(i, a, e) Θ^y(i, e; j, c): the first softmax contraction.
    let left: Vec<String> = (0..t)
        .map(|e| format!("p[l, h, i, a, {e}] * ThetaY[l, i, {e}, j, c]"))
        .collect();
    writeln!(
        out,
        "    for h in 0..{h}, {pairs} {{ PT[l, h, i, a, j, c] = {} }}",
        left.join(" + ")
    )?;
    writeln!(out, "    for {pairs} {{")?;
    let per_head: Vec<String> = (0..h)
        .map(|k| {
            let right: Vec<String> = (0..t)
                .map(|e| format!("p[l, {k}, j, c, {e}] * PT[l, {k}, i, a, j, {e}]"))
                .collect();
            format!(
                "2 * mean(u[l, {k}, i, a] * u[l, {k}, j, c]) + {}",
                right.join(" + ")
            )
        })
        .collect();
    let attention = if h == 1 {
        per_head[0].clone()
    } else {
        format!("({}) / {h}", per_head.join(" + "))
    };
    writeln!(
        out,
        "        ThetaAtt[l, i, a, j, c] = Theta[l - 1, i, a, j, c] + {attention}"
    )?;
    writeln!(
        out,
        "        ThetaG[l, i, a, j, c] = mean(g[l, i, a] * g[l, j, c]) + sw2 * ThetaAtt[l, i, a, j, c] / sqrt(var2[l, i, a] * var2[l, j, c])"
    )?;
    writeln!(
        out,
        "        Theta[l, i, a, j, c] = ThetaAtt[l, i, a, j, c] + sw2 * mean({phi}(g[l, i, a]) * {phi}(g[l, j, c])) + sw2 * mean({phi}'(g[l, i, a]) * {phi}'(g[l, j, c])) * ThetaG[l, i, a, j, c]"
    )?;
    writeln!(out, "    }}")?;
    writeln!(out, "}}")?;
    let mut terms = Vec::new();
    for a in 0..t {
        for c in 0..t {
            terms.push(format!("Theta[{b}, i, {a}, j, {c}]"));
        }
    }
    writeln!(
        out,
        "for i in 0..{n_seq}, j in i..{n_seq} {{ NTK[i, j] = NNGP[i, j] + sw2 / {} * ({}) }}",
        t * t,
        terms.join(" + ")
    )
}

/// The `tpc gen transformer-block` command that generates this program (inputs elided).
fn command(spec: &TransformerSpec) -> String {
    format!(
        "tpc gen transformer-block --blocks {} --heads {} --nonlin {} --weight-var {}{} --inputs …",
        spec.blocks,
        spec.heads,
        spec.nonlin.name(),
        number(spec.weight_var),
        if spec.ntk { " --ntk" } else { "" }
    )
}

/// `count` and `noun`, plural unless the count is 1.
fn plural(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

/// A number as the language reads it back exactly.
fn number(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:?}")
    }
}

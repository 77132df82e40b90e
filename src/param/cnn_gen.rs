//! The CNN kernel-program generator (`tpc gen cnn`): the NNGP (and NTK) kernels of a
//! convolutional network with 1-D or 2-D convolutions, SAME or VALID padding, a stride, and
//! global average pooling before a dense readout, in the NTK parametrization, written as a
//! Tensor Program (docs/architectures.md).
//!
//! Each convolution is one n×n matrix per kernel tap and every (input, position) pair is a
//! vector; the first layer is an initial family whose covariance is the Gram matrix of the
//! (zero-padded) input patches. Padding leaves out the taps that fall outside; the tap
//! variance is `σw²/(taps · channels)` whatever the padding (as in neural-tangents).
//!
//! NTK recursion over pairs of (input, position) `r = (i, p)`, `s = (j, q)`:
//! `Θ¹ = Σ¹`, `Θ^l(r, s) = Σ^l(r, s) + σw²/T Σ_t E[φ'(h^{l-1}_{r+t}) φ'(h^{l-1}_{s+t})] Θ^{l-1}(r+t, s+t)`
//! over the taps `t` inside the input at both positions; after global average pooling over
//! `P` positions, `NTK = NNGP + σw²/P² Σ_{p,q} E[φ'(h^L_{ip}) φ'(h^L_{jq})] Θ^L(ip, jq)`.

use super::gen::GenError;
use crate::builtins::Builtin;
use std::fmt::Write;

/// Padding of every convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Output size `⌈S/s⌉`, zero padding split as TensorFlow does (the smaller half first).
    Same,
    /// Only windows inside the input: output size `⌊(S − k)/s⌋ + 1`.
    Valid,
}

/// What to generate.
#[derive(Clone, Debug, PartialEq)]
pub struct CnnSpec {
    /// The nonlinearity φ.
    pub nonlin: Builtin,
    /// The number of convolution layers (each followed by φ), at least 1.
    pub depth: usize,
    /// Spatial dimensions: 1 or 2.
    pub dims: usize,
    /// Kernel size along every spatial axis.
    pub kernel: usize,
    /// Stride along every spatial axis.
    pub stride: usize,
    /// Padding of every layer.
    pub padding: Padding,
    /// σw².
    pub weight_var: f64,
    /// The inputs: `[input][position (row-major)][channel]` with their spatial shape.
    pub inputs: Vec<Vec<Vec<f64>>>,
    /// The spatial shape of every input (`dims` sizes).
    pub shape: Vec<usize>,
    /// Whether to compute the NTK too.
    pub ntk: bool,
}

/// The most (input, position) pairs of the first layer: their covariance is one constant of
/// (pairs)² numbers, at most 2²⁷.
const MAX_FIRST_PAIRS: usize = 11_585;

/// The most positions of the pooled (last) layer: `mean(pool[i] pool[j])` is multiplied out
/// into (positions)² pair expectations, at most 2¹⁷ (see `docs/evaluation.md`).
const MAX_POOLED_POSITIONS: usize = 362;

/// The most `Theta` lines of an NTK program (Σ over layers of positions²) per pair of inputs.
const MAX_THETA_LINES: usize = 1 << 16;

/// One layer's geometry: input and output shapes and, per output position, its taps
/// `(tap, input position)` inside the input.
struct Layer {
    out_shape: Vec<usize>,
    taps: Vec<Vec<(usize, usize)>>,
}

impl Layer {
    fn new(in_shape: &[usize], kernel: usize, stride: usize, padding: Padding) -> Option<Layer> {
        let mut out_shape = Vec::new();
        let mut pad = Vec::new();
        for &size in in_shape {
            let out = match padding {
                Padding::Same => size.div_ceil(stride),
                Padding::Valid => (size.checked_sub(kernel)?) / stride + 1,
            };
            let total = match padding {
                Padding::Same => ((out - 1) * stride + kernel).saturating_sub(size),
                Padding::Valid => 0,
            };
            out_shape.push(out);
            pad.push(total / 2);
        }
        let dims = in_shape.len();
        let taps_per_position = kernel.pow(dims as u32);
        let positions: usize = out_shape.iter().product();
        let mut taps = Vec::with_capacity(positions);
        for o in 0..positions {
            let out_index = unflatten(o, &out_shape);
            let mut inside = Vec::new();
            for t in 0..taps_per_position {
                let offset = unflatten(t, &vec![kernel; dims]);
                let source: Option<Vec<usize>> = (0..dims)
                    .map(|a| {
                        let x = (out_index[a] * stride + offset[a]) as isize - pad[a] as isize;
                        (0..in_shape[a] as isize).contains(&x).then_some(x as usize)
                    })
                    .collect();
                if let Some(source) = source {
                    inside.push((t, flatten(&source, in_shape)));
                }
            }
            taps.push(inside);
        }
        Some(Layer { out_shape, taps })
    }
}

fn unflatten(mut index: usize, shape: &[usize]) -> Vec<usize> {
    let mut out = vec![0; shape.len()];
    for a in (0..shape.len()).rev() {
        out[a] = index % shape[a];
        index /= shape[a];
    }
    out
}

fn flatten(index: &[usize], shape: &[usize]) -> usize {
    index.iter().zip(shape).fold(0, |acc, (i, s)| acc * s + i)
}

impl CnnSpec {
    fn check(&self) -> Result<Vec<Layer>, GenError> {
        if self.depth == 0 || !(1..=2).contains(&self.dims) || self.kernel == 0 || self.stride == 0
        {
            return Err(GenError::Number(
                "the depth, kernel size and stride must be at least 1, and --dims 1 or 2".into(),
            ));
        }
        if !(self.weight_var.is_finite() && self.weight_var > 0.0) {
            return Err(GenError::Number(format!(
                "the weight variance must be a positive number, not {}",
                self.weight_var
            )));
        }
        if self.ntk && self.nonlin.derivative_vanishes(1) {
            return Err(GenError::Nonlin(self.nonlin.name().into()));
        }
        let mut layers = Vec::new();
        let mut shape = self.shape.clone();
        for l in 1..=self.depth {
            let layer = Layer::new(&shape, self.kernel, self.stride, self.padding).ok_or_else(|| {
                GenError::Inputs(format!(
                    "layer {l} sees inputs of shape {shape:?}, smaller than the kernel ({}) under VALID padding",
                    self.kernel
                ))
            })?;
            shape = layer.out_shape.clone();
            layers.push(layer);
        }
        let pairs = self.inputs.len() * layers[0].taps.len();
        if pairs > MAX_FIRST_PAIRS {
            return Err(GenError::Inputs(format!(
                "the first layer has {pairs} (input, position) pairs; their covariance is one \
                 constant of at most {MAX_FIRST_PAIRS}² numbers"
            )));
        }
        let pooled = layers.last().expect("at least one layer").taps.len();
        if pooled > MAX_POOLED_POSITIONS {
            return Err(GenError::Inputs(format!(
                "the last layer has {pooled} positions; global average pooling is evaluated \
                 exactly over at most {MAX_POOLED_POSITIONS} (use a stride or VALID padding)"
            )));
        }
        let theta: usize = layers.iter().map(|l| l.taps.len().pow(2)).sum();
        if self.ntk && theta > MAX_THETA_LINES {
            return Err(GenError::Inputs(format!(
                "the NTK would need {theta} Θ lines per pair of inputs (Σ positions² over the \
                 layers); at most {MAX_THETA_LINES} are written"
            )));
        }
        Ok(layers)
    }
}

/// Writes the `.tp` program: outputs `NNGP[i, j]` and, with [`CnnSpec::ntk`], `NTK[i, j]`
/// for `i ≤ j`.
pub fn generate_cnn(spec: &CnnSpec) -> Result<String, GenError> {
    let layers = spec.check()?;
    let mut out = String::new();
    write_cnn(spec, &layers, &mut out).expect("writing to a String cannot fail");
    Ok(out)
}

fn write_cnn(spec: &CnnSpec, layers: &[Layer], out: &mut String) -> std::fmt::Result {
    let phi = spec.nonlin.name();
    let n_inputs = spec.inputs.len();
    let channels = spec.inputs[0][0].len();
    let taps = spec.kernel.pow(spec.dims as u32);
    let padding = match spec.padding {
        Padding::Same => "same",
        Padding::Valid => "valid",
    };
    let kernels = if spec.ntk { "NNGP and NTK" } else { "NNGP" };
    writeln!(
        out,
        "# The {kernels} kernels of a {}-D CNN: {} × (conv {k}{} {padding}, stride {}, {phi}) → global",
        spec.dims,
        spec.depth,
        if spec.dims == 2 { format!("×{}", spec.kernel) } else { String::new() },
        spec.stride,
        k = spec.kernel,
    )?;
    writeln!(
        out,
        "# average pooling → dense, NTK parametrization (σw² = {}, no biases), on {n_inputs} inputs of shape {:?} × {channels} channel(s).",
        number(spec.weight_var),
        spec.shape
    )?;
    writeln!(
        out,
        "# One n×n matrix per tap and layer (entries N(0, σw²/(T n)), T = {taps} taps); h[l, i, p] is"
    )?;
    writeln!(
        out,
        "# layer l's pre-activation at input i and position p (row-major); taps outside the input"
    )?;
    writeln!(
        out,
        "# (padding) are left out. The inputs i are exchangeable: tpc evaluates every quantity over"
    )?;
    writeln!(out, "# them as one array (docs/architectures.md).")?;
    writeln!(out, "#")?;
    writeln!(out, "# Generated by: {}", command(spec))?;
    writeln!(out)?;
    writeln!(out, "const sw2 = {}", number(spec.weight_var))?;
    // Layer 1: the zero-padded patches, row P1·i + p.
    let first = &layers[0];
    let p1 = first.taps.len();
    writeln!(
        out,
        "# Patches of the inputs (tap-major, then channel), row {p1}·i + p for input i, position p."
    )?;
    writeln!(out, "const P = [")?;
    for input in &spec.inputs {
        for position in &first.taps {
            let mut row = vec![0.0; taps * channels];
            for &(t, source) in position {
                for c in 0..channels {
                    row[t * channels + c] = input[source][c];
                }
            }
            let row: Vec<String> = row.iter().map(|&x| number(x)).collect();
            writeln!(out, "    [{}],", row.join(", "))?;
        }
    }
    writeln!(out, "]")?;
    writeln!(
        out,
        "vector h1[i in 0..{n_inputs}, p in 0..{p1}] ~ N(0, sw2 * gram(P) / {})",
        taps * channels
    )?;
    if spec.depth > 1 {
        writeln!(
            out,
            "matrix W[l in 2..{}, t in 0..{taps}] ~ N(0, sw2 / ({taps} * n))",
            spec.depth + 1
        )?;
    }
    writeln!(out)?;
    writeln!(out, "for i in 0..{n_inputs} {{")?;
    writeln!(out, "    for p in 0..{p1} {{ h[1, i, p] = id(h1[i, p]) }}")?;
    for (l, layer) in layers.iter().enumerate().skip(1) {
        let l = l + 1;
        writeln!(out, "    # Layer {l}: {} positions.", layer.taps.len())?;
        for (o, position) in layer.taps.iter().enumerate() {
            let terms: Vec<String> = position
                .iter()
                .map(|&(t, s)| format!("W[{l}, {t}] @ {phi}(h[{}, i, {s}])", l - 1))
                .collect();
            writeln!(out, "    h[{l}, i, {o}] = {}", terms.join(" + "))?;
        }
    }
    let last = layers.last().expect("at least one layer").taps.len();
    writeln!(
        out,
        "    # Global average pooling over {last} positions, before the dense readout."
    )?;
    let terms: Vec<String> = (0..last)
        .map(|p| format!("{phi}(h[{}, i, {p}])", spec.depth))
        .collect();
    writeln!(out, "    pool[i] = ({}) / {last}", terms.join(" + "))?;
    writeln!(out, "}}")?;
    writeln!(
        out,
        "for i in 0..{n_inputs}, j in i..{n_inputs} {{ NNGP[i, j] = sw2 * mean(pool[i] * pool[j]) }}"
    )?;
    if !spec.ntk {
        return writeln!(out, "\noutput NNGP");
    }
    writeln!(out)?;
    writeln!(
        out,
        "# The NTK: Θ over pairs of (input, position), layer by layer."
    )?;
    writeln!(out, "for i in 0..{n_inputs}, j in 0..{n_inputs} {{")?;
    writeln!(
        out,
        "    for p in 0..{p1}, q in 0..{p1} {{ Theta[1, i, p, j, q] = mean(h[1, i, p] * h[1, j, q]) }}"
    )?;
    for (l, layer) in layers.iter().enumerate().skip(1) {
        let l = l + 1;
        let k = l - 1;
        for (p, taps_p) in layer.taps.iter().enumerate() {
            for (q, taps_q) in layer.taps.iter().enumerate() {
                let terms: Vec<String> = taps_p
                    .iter()
                    .filter_map(|&(t, a)| {
                        let &(_, b) = taps_q.iter().find(|(u, _)| *u == t)?;
                        Some(format!(
                            "mean({phi}'(h[{k}, i, {a}]) * {phi}'(h[{k}, j, {b}])) * Theta[{k}, i, {a}, j, {b}]"
                        ))
                    })
                    .collect();
                let tangent = if terms.is_empty() {
                    String::new()
                } else {
                    format!(" + sw2 / {taps} * ({})", terms.join(" + "))
                };
                writeln!(
                    out,
                    "    Theta[{l}, i, {p}, j, {q}] = mean(h[{l}, i, {p}] * h[{l}, j, {q}]){tangent}"
                )?;
            }
        }
    }
    writeln!(out, "}}")?;
    let depth = spec.depth;
    let mut terms = Vec::new();
    for p in 0..last {
        for q in 0..last {
            terms.push(format!(
                "mean({phi}'(h[{depth}, i, {p}]) * {phi}'(h[{depth}, j, {q}])) * Theta[{depth}, i, {p}, j, {q}]"
            ));
        }
    }
    writeln!(
        out,
        "for i in 0..{n_inputs}, j in i..{n_inputs} {{ NTK[i, j] = NNGP[i, j] + sw2 / {} * ({}) }}",
        last * last,
        terms.join(" + ")
    )?;
    writeln!(out, "\noutput NNGP, NTK")
}

/// The `tpc gen cnn` command that generates this program (inputs elided).
fn command(spec: &CnnSpec) -> String {
    format!(
        "tpc gen cnn --dims {} --kernel {} --stride {} --padding {} --pool global --depth {} --nonlin {} --weight-var {}{} --inputs …",
        spec.dims,
        spec.kernel,
        spec.stride,
        match spec.padding {
            Padding::Same => "same",
            Padding::Valid => "valid",
        },
        spec.depth,
        spec.nonlin.name(),
        number(spec.weight_var),
        if spec.ntk { " --ntk" } else { "" }
    )
}

/// A number as the language reads it back exactly.
fn number(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SAME padding with stride 2 on 3 positions and kernel 3: outputs at centres 0 and 2, the
    /// first seeing taps 1 and 2 (tap 0 falls on the padding), as in TensorFlow.
    #[test]
    fn same_padding_and_stride_follow_tensorflow() {
        let layer = Layer::new(&[3], 3, 2, Padding::Same).unwrap();
        assert_eq!(layer.out_shape, vec![2]);
        assert_eq!(layer.taps, vec![vec![(1, 0), (2, 1)], vec![(0, 1), (1, 2)]]);
        let valid = Layer::new(&[4], 2, 1, Padding::Valid).unwrap();
        assert_eq!(valid.out_shape, vec![3]);
        assert!(Layer::new(&[2], 3, 1, Padding::Valid).is_none());
    }
}

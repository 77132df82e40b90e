//! `measure`: the program at every width and seed, recording sizes as they are computed.

use super::rounding::magnitude;
use crate::ir::{Kind, Program};
use crate::simulate::{run_many, simulate_observed, SimulationError};
use serde::Serialize;

/// What a measured value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The coordinate size `√(mean_α x_α²)` of a named vector.
    CoordinateRms,
    /// The value of an output scalar.
    Value,
}

/// One measured instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Measured {
    /// Its position in [`Program::instructions`].
    pub instruction: usize,
    /// What is recorded of it.
    pub measure: Measure,
}

/// The measurements of every run of a coord check.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Measurements {
    /// The widths, as requested.
    pub widths: Vec<usize>,
    /// The seed of each run, the same at every width: `base_seed + s` for s = 0, 1, ….
    pub seeds: Vec<u64>,
    /// The named vectors in program order, then the outputs in `Program::outputs` order.
    pub quantities: Vec<Measured>,
    /// `values[w][s][q]`: quantity `q` in the run at width `widths[w]` with seed `seeds[s]`.
    pub values: Vec<Vec<Vec<f64>>>,
    /// `magnitudes[w][s][q]`: the size of the intermediate results of quantity `q`'s
    /// instruction in that run, which a value must exceed to be more than rounding noise.
    pub magnitudes: Vec<Vec<Vec<f64>>>,
}

impl Measurements {
    /// Quantity `quantity` at width `widths[width]`, one value per seed.
    pub fn values(&self, width: usize, quantity: usize) -> Vec<f64> {
        self.values[width].iter().map(|run| run[quantity]).collect()
    }

    /// The magnitude of quantity `quantity` at width `widths[width]`, one per seed.
    pub fn magnitudes(&self, width: usize, quantity: usize) -> Vec<f64> {
        self.magnitudes[width]
            .iter()
            .map(|run| run[quantity])
            .collect()
    }
}

/// Runs `program` at every width in `widths` and every seed `base_seed + s`, `s < seeds`,
/// in parallel, recording the coordinate RMS of every named vector (temporaries introduced
/// by lowering are skipped) and the value of every output, each with the magnitude of its
/// intermediate results (see [`super::fit`]'s zero test).
///
/// Each run is [`simulate_observed`]: the size of a vector is taken when it is computed, so
/// memory is that of [`crate::simulate::simulate`] per thread, plus one number per
/// instruction. Results are bit-identical
/// whatever the thread count; `progress(done, total)` is called after each run, as by
/// [`crate::simulate::simulate_many`], whose failure rule this shares (the first failing run
/// in (width, seed) order).
pub fn measure(
    program: &Program,
    widths: &[usize],
    seeds: usize,
    base_seed: u64,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Measurements, SimulationError> {
    let quantities = measured_quantities(program);
    let (seeds, runs) = run_many(widths, seeds, base_seed, progress, |width, seed| {
        // The coordinate RMS of every vector, temporaries included: operands' sizes.
        let mut vector_sizes = vec![0.0; program.instructions.len()];
        let sample = simulate_observed(program, width, seed, &mut |i, x| {
            vector_sizes[i] = coordinate_rms(x);
        })?;
        let scalar = |j: usize| sample.get(j).unwrap_or(0.0);
        let (values, magnitudes) = quantities
            .iter()
            .map(|m| {
                let value = match m.measure {
                    Measure::CoordinateRms => vector_sizes[m.instruction],
                    Measure::Value => scalar(m.instruction),
                };
                let size = magnitude(program, m.instruction, value, &vector_sizes, &scalar, width);
                (value, size)
            })
            .unzip();
        Ok((values, magnitudes))
    })?;
    let (values, magnitudes) = runs
        .into_iter()
        .map(|runs| runs.into_iter().unzip())
        .unzip();
    Ok(Measurements {
        widths: widths.to_vec(),
        seeds,
        quantities,
        values,
        magnitudes,
    })
}

/// The named vectors in program order, then the outputs.
pub(super) fn measured_quantities(program: &Program) -> Vec<Measured> {
    let vectors = program
        .iter()
        .filter(|(_, instruction)| {
            instruction.name.is_some() && instruction.op.kind() == Kind::Vector
        })
        .map(|(instruction, _)| Measured {
            instruction,
            measure: Measure::CoordinateRms,
        });
    let outputs = program.outputs.iter().map(|id| Measured {
        instruction: id.index(),
        measure: Measure::Value,
    });
    vectors.chain(outputs).collect()
}

/// `√(mean_α x_α²)`, computed as `m √(mean (x_α/m)²)` with `m = max |x_α|` so that squaring
/// neither overflows nor underflows; 0 for the zero vector.
fn coordinate_rms(x: &[f64]) -> f64 {
    let m = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if m == 0.0 {
        return 0.0;
    }
    let sum: f64 = x.iter().map(|v| (v / m).powi(2)).sum();
    m * (sum / x.len() as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compile(source: &str) -> Program {
        crate::compile(source.as_bytes(), &Default::default()).unwrap()
    }

    #[test]
    fn rms_of_known_vectors() {
        assert_eq!(coordinate_rms(&[3.0, -4.0]), (12.5f64).sqrt());
        assert_eq!(coordinate_rms(&[0.0, 0.0]), 0.0);
        assert_eq!(coordinate_rms(&[1e200, -1e200]), 1e200);
        assert_eq!(coordinate_rms(&[1e-200, 1e-200]), 1e-200);
    }

    #[test]
    fn named_vectors_and_outputs_are_measured_temporaries_are_not() {
        // `W @ (2 * x)` lowers the argument to a temporary.
        let program =
            compile("matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\nh = W @ (2 * x)\nk = mean(h * h)\n");
        let m = measure(&program, &[64, 128], 3, 5, &|_, _| {}).unwrap();
        let names: Vec<String> = m
            .quantities
            .iter()
            .map(|q| program.display_name(q.instruction))
            .collect();
        assert_eq!(names, ["x", "h", "k"]);
        assert_eq!(m.seeds, [5, 6, 7]);
        assert_eq!(m.values.len(), 2);
        assert!(m.values.iter().all(|w| w.len() == 3));
    }

    #[test]
    fn sizes_agree_with_the_simulated_scalars() {
        // k = mean(y²) is the squared coordinate RMS of y, computed by the simulator itself.
        let program = compile(
            "matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\ny = tanh(W @ x) * n^(1/2)\n\
             k = mean(y * y)\n",
        );
        let m = measure(&program, &[100, 300], 2, 0, &|_, _| {}).unwrap();
        for w in 0..2 {
            for (rms, k) in m.values(w, 1).iter().zip(m.values(w, 2)) {
                assert!((rms * rms - k).abs() <= 1e-12 * k, "{rms}² vs {k}");
            }
        }
    }

    #[test]
    fn measurements_are_reproducible_and_thread_independent() {
        let program = compile("matrix W ~ N(0, 1/n)\nvector x ~ N(0, 1)\nh = W @ x\n");
        let once = measure(&program, &[50, 200], 2, 9, &|_, _| {}).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let serial = pool.install(|| measure(&program, &[50, 200], 2, 9, &|_, _| {}).unwrap());
        assert_eq!(once, serial);
    }

    #[test]
    fn a_failing_run_is_reported() {
        let program = compile("vector x ~ N(0, 1)\ny = log(x)\n");
        let error = measure(&program, &[64], 1, 0, &|_, _| {}).unwrap_err();
        assert!(matches!(error, SimulationError::NotFinite { .. }));
        assert_eq!(
            measure(&program, &[0], 1, 0, &|_, _| {}).unwrap_err(),
            SimulationError::ZeroWidth
        );
    }
}

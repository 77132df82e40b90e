//! One finite-width run's scalars.

use crate::ir::ScalarId;

/// The value of every scalar instruction of one run at width n with one seed.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    width: usize,
    seed: u64,
    /// By instruction index; `Some` exactly for the scalar instructions.
    scalars: Vec<Option<f64>>,
    outputs: Vec<ScalarId>,
}

impl Sample {
    /// Wraps the scalars of a finished run.
    pub(super) fn new(
        width: usize,
        seed: u64,
        scalars: Vec<Option<f64>>,
        outputs: Vec<ScalarId>,
    ) -> Sample {
        Sample {
            width,
            seed,
            scalars,
            outputs,
        }
    }

    /// The width n of the run.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The seed of the run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The value of a scalar of the program.
    pub fn scalar(&self, id: ScalarId) -> f64 {
        self.scalars[id.index()].expect("every scalar instruction is simulated")
    }

    /// The value of instruction `index`, or `None` if it does not define a scalar.
    pub fn get(&self, index: usize) -> Option<f64> {
        self.scalars.get(index).copied().flatten()
    }

    /// The values of the program's outputs (`Program::outputs`), in order.
    pub fn outputs(&self) -> Vec<f64> {
        self.outputs.iter().map(|&id| self.scalar(id)).collect()
    }
}

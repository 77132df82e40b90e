//! The standard normal noise of the atoms: one column of `S` values per atom and replica,
//! pseudo-random or quasi-random, reproducible from the user's seed whatever the order in
//! which replicas run.
//!
//! Quasi-random columns are the Sobol' sequence (Joe and Kuo's direction numbers), one
//! coordinate per atom in order of the atoms' ids, with a random digital shift per replica and
//! atom (each point XORed with a seeded 32-bit word): every particle is then uniform on the
//! unit cube, so a replica's particle mean is unbiased and replicas are independent, and the
//! spread over replicas stays an honest error bar. Each value is `Φ⁻¹((x + ½)/2³²)`.

use crate::symbolic::AtomId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use sobol::params::JoeKuoD6;
use sobol::Sobol;

/// The noise of one evaluation.
pub(super) enum Noise {
    /// Independent standard normal draws.
    Random,
    /// A digitally shifted Sobol' sequence: the direction numbers of every atom's coordinate.
    Sobol(Vec<Vec<u32>>),
}

impl Noise {
    /// Quasi-random noise for `atoms` atoms when `quasi` and the Sobol' parameters reach that
    /// many dimensions; pseudo-random noise otherwise.
    pub(super) fn new(quasi: bool, atoms: usize) -> Noise {
        if !quasi {
            return Noise::Random;
        }
        let params = JoeKuoD6::extended();
        if atoms > params.max_dims {
            return Noise::Random;
        }
        Noise::Sobol(Sobol::<u32>::init_direction_vals(atoms.max(1), 32, &params))
    }

    /// Whether the noise is quasi-random.
    pub(super) fn is_quasi(&self) -> bool {
        matches!(self, Noise::Sobol(_))
    }

    /// The noise column of `atom` in replica `replica`: its own ChaCha stream, keyed by the
    /// user's seed, the replica and the atom, gives the draws or the digital shift.
    pub(super) fn column(
        &self,
        seed: u64,
        replica: usize,
        atom: AtomId,
        particles: usize,
    ) -> Vec<f64> {
        let mut key = [0u8; 32];
        key[..8].copy_from_slice(&seed.to_le_bytes());
        key[8..16].copy_from_slice(&(replica as u64).to_le_bytes());
        key[16..20].copy_from_slice(b"part");
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(u64::from(atom.0));
        match self {
            Noise::Random => (0..particles).map(|_| rng.sample(StandardNormal)).collect(),
            Noise::Sobol(directions) => {
                let directions = &directions[atom.0 as usize];
                let shift: u32 = rng.gen();
                // Gray-code order (Antonov and Saleev): point i + 1 differs from point i by
                // the direction number of the lowest zero bit of i.
                let mut x = 0u32;
                (0..particles)
                    .map(|i| {
                        if i > 0 {
                            x ^= directions[(i - 1).trailing_ones() as usize % 32];
                        }
                        inverse_normal((f64::from(x ^ shift) + 0.5) / 4_294_967_296.0)
                    })
                    .collect()
            }
        }
    }
}

/// `Φ⁻¹(u)` for `u` in (0, 1).
fn inverse_normal(u: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Normal};
    Normal::new(0.0, 1.0)
        .expect("a standard normal")
        .inverse_cdf(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every coordinate of the first 2^k Sobol' points is stratified (the first is the van der
    /// Corput sequence 0, ½, ¼, ¾, …), and a digital shift keeps it so: each of 2^k
    /// equal-probability bins of the normal gets exactly one point. Exact (counts).
    #[test]
    fn a_coordinate_is_stratified() {
        let noise = Noise::new(true, 3);
        assert!(noise.is_quasi());
        for atom in 0..3 {
            let column = noise.column(7, 1, AtomId(atom), 64);
            let mut bins = [0usize; 64];
            for x in &column {
                let u = statrs::function::erf::erfc(-x / std::f64::consts::SQRT_2) / 2.0;
                bins[((u * 64.0) as usize).min(63)] += 1;
            }
            assert!(bins.iter().all(|&b| b == 1), "atom {atom}: {bins:?}");
        }
    }
}

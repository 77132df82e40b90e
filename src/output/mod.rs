//! A program's results as a user reads them: scalars as numbers, indexed families as dense
//! arrays, in the order the program's `output` statement lists them.
//!
//! [`collect`] builds them from an [`Evaluation`]; the writers take only the collected
//! values, so they do not depend on how the values were computed: [`to_text`] (the table of
//! `tpc eval`), [`write_json`], [`write_npy`] and [`write_csv`].

mod csv;
mod json;
mod notes;
mod npy;
mod number;
mod text;

pub(crate) use csv::csv_number;
pub use csv::write_csv;
pub use json::{write_json, JsonOutputs};
pub use notes::note_lines;
pub use npy::write_npy;
pub use number::{format_error, format_measured, format_number, format_significant};
pub use text::to_text;

use crate::eval::{Evaluation, Used, Value};
use crate::ir::Program;
use crate::limit::Limit;
use ndarray::{ArrayD, IxDyn};
use std::collections::HashMap;

/// One entry of a program's `output` statement, evaluated.
// A program has few outputs, so a family inline (not boxed) costs nothing worth a `Box`.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum OutputValue {
    /// A plain scalar output (`output m1`).
    Scalar {
        /// The program name.
        name: String,
        /// Its limit.
        value: Value,
    },
    /// An indexed family of scalars (`output K` with `K[i, j]` defined in loops).
    Family(FamilyValue),
}

impl OutputValue {
    /// The name the output is reported under: a scalar's program name (`m1`, or `K[0, 1]`
    /// for a single member), a family's base name (`K`).
    pub fn name(&self) -> &str {
        match self {
            OutputValue::Scalar { name, .. } => name,
            OutputValue::Family(family) => &family.name,
        }
    }
}

/// An indexed family of output scalars as dense arrays over the family's index ranges.
#[derive(Clone, Debug, PartialEq)]
pub struct FamilyValue {
    /// The base name (`K`).
    pub name: String,
    /// The smallest index in each dimension: entry `[a, b]` of the arrays is member
    /// `name[start[0] + a, start[1] + b]`.
    pub start: Vec<i64>,
    /// Limits; NaN where the program defines no member (e.g. below the diagonal of a
    /// family written over `j in i..N`).
    pub values: ArrayD<f64>,
    /// Error estimates, same shape; NaN where no member is defined.
    pub errors: ArrayD<f64>,
    /// The least accurate method over the members.
    pub method: Used,
}

impl FamilyValue {
    /// The largest error estimate over the defined members (0 for a family without any).
    pub fn max_error(&self) -> f64 {
        self.errors
            .iter()
            .filter(|e| !e.is_nan())
            .fold(0.0, |m, &e| m.max(e))
    }

    /// The number of defined members (entries that are not NaN).
    pub fn defined(&self) -> usize {
        self.values.iter().filter(|v| !v.is_nan()).count()
    }

    /// The smallest and largest value over the defined members, if there is one.
    pub fn range(&self) -> Option<(f64, f64)> {
        self.values
            .iter()
            .filter(|v| !v.is_nan())
            .fold(None, |r, &v| match r {
                None => Some((v, v)),
                Some((lo, hi)) => Some((v.min(lo), v.max(hi))),
            })
    }
}

/// The most entries a family's dense arrays may have; a sparser family (members far apart,
/// `K[1000000 * i]`) is reported member by member instead.
pub const MAX_DENSE_ENTRIES: usize = 1 << 24;

/// The program's outputs in the order of its `output` statement, with their limits.
///
/// Needs the program, its derived limit and that limit's evaluation. A family output
/// (`output K`) lists `K`'s members in a row, in definition order; each such run (the family's
/// first members in order, at least two of them or all of a one-member family) becomes one
/// [`FamilyValue`], whose arrays span the smallest to the largest index in each dimension,
/// with NaN where the program defines no member. Any other output is a scalar under its
/// display name: a member listed on its own (`output K[0, 1]`) is the scalar `K[0, 1]`, as is
/// every member of a family too sparse for dense arrays ([`MAX_DENSE_ENTRIES`]). A name
/// listed twice (`output K, K`) is reported once, at its first place.
pub fn collect(program: &Program, limit: &Limit, evaluation: &Evaluation) -> Vec<OutputValue> {
    // The family and position of every instruction that is a family member.
    let mut member_of: Vec<Option<(usize, usize)>> = vec![None; program.instructions.len()];
    for (f, family) in program.families.iter().enumerate() {
        for (position, (_, instruction)) in family.members.iter().enumerate() {
            member_of[*instruction] = Some((f, position));
        }
    }
    let value_of = |instruction: usize| -> Value {
        let scalar = limit.scalar_of[instruction].expect("outputs are scalars");
        evaluation.scalars[scalar.0 as usize]
    };

    let mut outputs: Vec<OutputValue> = Vec::new();
    let mut at = 0;
    while at < program.outputs.len() {
        let first = program.outputs[at].index();
        // How many of the family's members, from its first, are listed in order from here.
        let run = match member_of[first] {
            Some((f, 0)) => {
                let members = &program.families[f].members;
                let listed = members
                    .iter()
                    .zip(&program.outputs[at..])
                    .take_while(|((_, m), o)| *m == o.index())
                    .count();
                (listed > 1 || members.len() == 1).then_some((f, listed))
            }
            _ => None,
        };
        let Some((f, listed)) = run else {
            at += 1;
            outputs.push(OutputValue::Scalar {
                name: program.display_name(first),
                value: value_of(first),
            });
            continue;
        };
        let family = &program.families[f];
        let members = &family.members[..listed];
        at += listed;
        let indexed: Vec<(&[i64], Value)> = members
            .iter()
            .map(|(index, m)| (&index[..], value_of(*m)))
            .collect();
        match dense_family(&family.name, &indexed) {
            Some(dense) => outputs.push(OutputValue::Family(dense)),
            None => outputs.extend(members.iter().map(|(_, m)| OutputValue::Scalar {
                name: program.display_name(*m),
                value: value_of(*m),
            })),
        }
    }
    // Reported once, at the first place.
    let mut names = std::collections::HashSet::new();
    outputs.retain(|o| names.insert(o.name().to_string()));
    outputs
}

/// Dense arrays over the index box of some members of a family; `None` if they would have
/// more than [`MAX_DENSE_ENTRIES`] entries.
fn dense_family(name: &str, members: &[(&[i64], Value)]) -> Option<FamilyValue> {
    let rank = members[0].0.len();
    let lo: Vec<i64> = (0..rank)
        .map(|d| members.iter().map(|m| m.0[d]).min().expect("a member"))
        .collect();
    let shape: Vec<usize> = (0..rank)
        .map(|d| {
            let hi = members.iter().map(|m| m.0[d]).max().expect("a member");
            usize::try_from(hi.checked_sub(lo[d])?.checked_add(1)?).ok()
        })
        .collect::<Option<_>>()?;
    let size = shape
        .iter()
        .try_fold(1usize, |size, &extent| size.checked_mul(extent))?;
    if size > MAX_DENSE_ENTRIES {
        return None;
    }
    let mut values = ArrayD::from_elem(IxDyn(&shape), f64::NAN);
    let mut errors = ArrayD::from_elem(IxDyn(&shape), f64::NAN);
    for (index, value) in members {
        let at: Vec<usize> = index
            .iter()
            .zip(&lo)
            .map(|(i, l)| (i - l) as usize)
            .collect();
        values[IxDyn(&at)] = value.value;
        errors[IxDyn(&at)] = value.error;
    }
    Some(FamilyValue {
        name: name.to_string(),
        start: lo,
        values,
        errors,
        method: members.iter().map(|m| m.1.method).max().expect("a member"),
    })
}

/// The value of every output of `program`, in the order of `program.outputs`, looked up in
/// its evaluated outputs (as [`collect`] or [`crate::evaluate_outputs`] give them, possibly
/// from another lowering of the same source): a family member by its family's name and its
/// index, any other output by its name; `None` where `outputs` has no such entry.
pub fn output_scalars(program: &Program, outputs: &[OutputValue]) -> Vec<Option<Value>> {
    let mut by_member: HashMap<(&str, Vec<i64>), Value> = HashMap::new();
    let mut by_name: HashMap<&str, Value> = HashMap::new();
    for output in outputs {
        match output {
            OutputValue::Scalar { name, value } => {
                by_name.insert(name, *value);
            }
            OutputValue::Family(family) => {
                for (at, &value) in family.values.indexed_iter() {
                    if value.is_nan() {
                        continue;
                    }
                    let index: Vec<i64> = (family.start.iter().enumerate())
                        .map(|(d, s)| s + at[d] as i64)
                        .collect();
                    let value = Value {
                        value,
                        error: family.errors[at],
                        method: family.method,
                    };
                    by_member.insert((family.name.as_str(), index), value);
                }
            }
        }
    }
    let mut member_of: HashMap<usize, (&str, &[i64])> = HashMap::new();
    for family in &program.families {
        for (index, instruction) in &family.members {
            member_of.insert(*instruction, (&*family.name, index));
        }
    }
    program
        .outputs
        .iter()
        .map(|o| {
            let instruction = o.index();
            member_of
                .get(&instruction)
                .and_then(|&(name, index)| by_member.get(&(name, index.to_vec())))
                .or_else(|| by_name.get(program.display_name(instruction).as_str()))
                .copied()
        })
        .collect()
}

//! Command-line choice of an SGD abc-parametrization for `tpc gen`: a preset or explicit
//! exponents (`tpc classify` has its own flags, which also cover Adam's per-layer c).

use super::classify::PresetArg;
use clap::Args;
use tpc::param::{parse_exponent, Abc};

/// `--depth L` and either `--param P [--lr-exponent c]` or `--a .. --b .. --c ..`.
#[derive(Args, Debug)]
pub struct ParamArgs {
    /// The number L of hidden layers.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=64))]
    pub depth: u64,
    /// A named parametrization (μP when neither --param nor --a is given).
    #[arg(long, value_enum, conflicts_with_all = ["a", "b"])]
    pub param: Option<PresetArg>,
    /// Override the preset's learning-rate exponent c (lr = η n^{-c}); e.g. 1 for SP with lr ~ 1/n.
    #[arg(long, allow_hyphen_values = true, requires = "param", value_name = "C")]
    pub lr_exponent: Option<String>,
    /// Custom multiplier exponents a_1,..,a_{L+1} (fractions like -1/2 allowed).
    #[arg(long, allow_hyphen_values = true, value_delimiter = ',', requires_all = ["b", "c"])]
    pub a: Option<Vec<String>>,
    /// Custom initialization exponents b_1,..,b_{L+1}.
    #[arg(long, allow_hyphen_values = true, value_delimiter = ',', requires_all = ["a", "c"])]
    pub b: Option<Vec<String>>,
    /// Custom learning-rate exponent c (with --a and --b).
    #[arg(long, allow_hyphen_values = true, requires_all = ["a", "b"], conflicts_with = "param")]
    pub c: Option<String>,
}

impl ParamArgs {
    /// The parametrization and its display name, or a usage error message.
    pub fn abc(&self) -> Result<(Abc, String), String> {
        let parse = |s: &String| parse_exponent(s).map_err(|e| e.to_string());
        let depth = self.depth as usize;
        if let (Some(a), Some(b), Some(c)) = (&self.a, &self.b, &self.c) {
            let a = a.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
            let b = b.iter().map(parse).collect::<Result<Vec<_>, _>>()?;
            if a.len() != depth + 1 {
                return Err(format!(
                    "--depth {depth} needs {} exponents in --a and --b (layers 1..=L+1); got {}",
                    depth + 1,
                    a.len()
                ));
            }
            let abc = Abc::new(a, b, parse(c)?).map_err(|e| e.to_string())?;
            return Ok((abc, "a custom abc-parametrization".into()));
        }
        let preset = self.param.unwrap_or(PresetArg::Mup).preset();
        let mut abc = Abc::preset(preset, depth);
        if let Some(c) = &self.lr_exponent {
            abc.c = parse(c)?;
        }
        let label = format!("{} (c = {})", preset.name(), abc.c);
        Ok((abc, label))
    }
}

//! `tpc classify`: TP4's classification of an abc-parametrization of an MLP (docs/parametrizations.md).

use clap::error::ErrorKind;
use clap::{ArgGroup, Args, ValueEnum};
use serde::Serialize;
use tpc::param::{
    classify, classify_adam, parse_exponent, Abc, AdamAbc, Exponent, ParamError, Preset,
};

/// The named parametrizations of docs/parametrizations.md.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PresetArg {
    /// Maximal update parametrization (μP); with Adam, TP5's form (a = 0, per-layer c).
    Mup,
    /// Standard parametrization; c = 0 unless --lr-exponent says otherwise.
    Sp,
    /// Neural tangent parametrization.
    Ntp,
    /// Mean-field parametrization: μP shifted by θ = 1/2 (SGD only).
    Mfp,
    /// The naive deep mean-field choice a_l = 1 for l >= 2 (SGD only; unstable for L >= 2).
    NaiveMf,
}

impl PresetArg {
    /// The preset; SP with c = 0 (a learning rate constant in width).
    pub fn preset(self) -> Preset {
        match self {
            PresetArg::Mup => Preset::Mup,
            PresetArg::Sp => Preset::Sp {
                c: Exponent::from_integer(0),
            },
            PresetArg::Ntp => Preset::Ntp,
            PresetArg::Mfp => Preset::Mfp,
            PresetArg::NaiveMf => Preset::NaiveMf,
        }
    }
}

/// The optimizers TP4 (SGD) and docs/parametrizations.md (Adam) cover.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OptimizerArg {
    /// SGD, learning rate η n^-c: TP4's theorems.
    Sgd,
    /// Adam, learning rate η n^-c_l per layer: stability at init and maximal updates only.
    Adam,
}

/// Arguments of `tpc classify`.
#[derive(Args)]
#[command(group(ArgGroup::new("parametrization").required(true).args(["param", "a"])))]
pub struct ClassifyArgs {
    /// The number L of hidden layers (1 to 1000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1000))]
    depth: u64,
    /// A named parametrization.
    #[arg(long, value_enum)]
    param: Option<PresetArg>,
    /// Override the preset's learning-rate exponent c (lr = η n^-c). SP's default is c = 0,
    /// the constant learning rate practitioners use, which is unstable; c = 1 makes it stable.
    #[arg(
        long,
        value_name = "C",
        requires = "param",
        conflicts_with = "a",
        allow_hyphen_values = true,
        value_parser = exponent
    )]
    lr_exponent: Option<Exponent>,
    /// Multiplier exponents a_1,..,a_{L+1}: integers, fractions like -1/2, or decimals.
    #[arg(
        long,
        value_name = "A1,..",
        requires_all = ["b", "c"],
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_parser = exponent
    )]
    a: Option<Vec<Exponent>>,
    /// Initialization exponents b_1,..,b_{L+1} (w^l ~ N(0, n^-2b_l)).
    #[arg(
        long,
        value_name = "B1,..",
        requires = "a",
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_parser = exponent
    )]
    b: Option<Vec<Exponent>>,
    /// The learning-rate exponent c; with Adam, one per layer c_1,..,c_{L+1} (or one for all).
    #[arg(
        long,
        value_name = "C",
        requires = "a",
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_parser = exponent
    )]
    c: Option<Vec<Exponent>>,
    /// The optimizer.
    #[arg(long, value_enum, default_value_t = OptimizerArg::Sgd)]
    optimizer: OptimizerArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = crate::Format::Text)]
    format: crate::Format,
}

/// Clap's parser of one exponent.
fn exponent(text: &str) -> Result<Exponent, ParamError> {
    parse_exponent(text)
}

/// The JSON report: the parametrization's name and optimizer, then the classification.
#[derive(Serialize)]
struct Report<'a, T: Serialize> {
    parametrization: &'a str,
    optimizer: &'static str,
    #[serde(flatten)]
    classification: &'a T,
}

/// The parametrization the flags choose.
enum Choice {
    /// `--param`, with `--lr-exponent` if given.
    Preset(Preset, Option<Exponent>),
    /// `--a`, `--b`, `--c`, lengths of a and b checked against `--depth`.
    Custom {
        a: Vec<Exponent>,
        b: Vec<Exponent>,
        c: Vec<Exponent>,
    },
}

/// Runs `tpc classify`.
pub fn run(args: &ClassifyArgs) -> Result<(), crate::Reported> {
    let depth = usize::try_from(args.depth).expect("depth is at most 1000");
    let choice = choice(args, depth);
    let name = match &choice {
        Ok(Choice::Preset(p, Some(c))) => format!("{} (preset, --lr-exponent {c})", p.name()),
        Ok(Choice::Preset(p, None)) => format!("{} (preset)", p.name()),
        _ => "custom (--a, --b, --c)".to_string(),
    };
    let text = choice.and_then(|choice| match args.optimizer {
        OptimizerArg::Sgd => {
            let classification = classify(&sgd(choice, depth)?).map_err(|e| e.to_string())?;
            Ok(render(&name, "sgd", &classification, args.format))
        }
        OptimizerArg::Adam => {
            let classification = classify_adam(&adam(choice, depth)?).map_err(|e| e.to_string())?;
            Ok(render(&name, "adam", &classification, args.format))
        }
    });
    match text {
        Ok(text) => crate::print(&text),
        Err(message) => clap::Error::raw(ErrorKind::ValueValidation, format!("{message}\n")).exit(),
    }
}

/// The parametrization chosen by the flags (clap has checked that exactly one of `--param` and
/// `--a` is given, and that `--a` comes with `--b` and `--c`).
fn choice(args: &ClassifyArgs, depth: usize) -> Result<Choice, String> {
    if let Some(p) = args.param {
        let preset = p.preset();
        return Ok(Choice::Preset(preset, args.lr_exponent));
    }
    let exponents = |flag: &str, values: &Option<Vec<Exponent>>| {
        values
            .clone()
            .ok_or_else(|| format!("{flag} is required without --param"))
    };
    let (a, b, c) = (
        exponents("--a", &args.a)?,
        exponents("--b", &args.b)?,
        exponents("--c", &args.c)?,
    );
    for (flag, values) in [("--a", &a), ("--b", &b)] {
        if values.len() != depth + 1 {
            return Err(format!(
                "--depth {depth} needs {} exponents in {flag} (layers 1..=L+1); got {}",
                depth + 1,
                values.len()
            ));
        }
    }
    Ok(Choice::Custom { a, b, c })
}

/// The SGD parametrization: a preset with its c overridden, or a, b and one c.
fn sgd(choice: Choice, depth: usize) -> Result<Abc, String> {
    match choice {
        Choice::Preset(preset, lr_exponent) => {
            let mut abc = Abc::preset(preset, depth);
            abc.c = lr_exponent.unwrap_or(abc.c);
            Ok(abc)
        }
        Choice::Custom { a, b, c } => match c[..] {
            [c] => Abc::new(a, b, c).map_err(|e| e.to_string()),
            _ => Err(format!(
                "with SGD, --c is one learning-rate exponent; got {} (per-layer learning rates \
                 are expressed through a_l; per-layer c is for --optimizer adam)",
                c.len()
            )),
        },
    }
}

/// The Adam parametrization: a preset's Adam form with every c_l overridden, or a, b and c
/// (one value for every layer, or one per layer).
fn adam(choice: Choice, depth: usize) -> Result<AdamAbc, String> {
    match choice {
        Choice::Preset(preset, lr_exponent) => {
            let mut abc = AdamAbc::preset(preset, depth).ok_or_else(|| {
                format!(
                    "{} has no Adam form in docs/parametrizations.md; give --a, --b and --c",
                    preset.name()
                )
            })?;
            if let Some(c) = lr_exponent {
                abc.c = vec![c; depth + 1];
            }
            Ok(abc)
        }
        Choice::Custom { a, b, c } => {
            let c = match c[..] {
                [c] => vec![c; depth + 1],
                _ => c,
            };
            AdamAbc::new(a, b, c).map_err(|e| e.to_string())
        }
    }
}

/// The report in the chosen format.
fn render<T: Serialize + std::fmt::Display>(
    name: &str,
    optimizer: &'static str,
    classification: &T,
    format: crate::Format,
) -> String {
    match format {
        crate::Format::Text => format!("parametrization: {name}\n{classification}"),
        crate::Format::Json => {
            let report = Report {
                parametrization: name,
                optimizer,
                classification,
            };
            serde_json::to_string_pretty(&report).expect("JSON serializes") + "\n"
        }
    }
}

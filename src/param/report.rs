//! The text reports of [`Classification`] and [`AdamClassification`]: every exponent, every
//! condition with its value, then the verdicts, so a reader sees why.

use super::abc::Exponent;
use super::adam::AdamClassification;
use super::classify::{Classification, Condition, Kernel};
use std::fmt;

/// Writes `(label, value)` rows with the values aligned.
fn rows(f: &mut fmt::Formatter<'_>, rows: &[(String, String)]) -> fmt::Result {
    let width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    for (label, value) in rows {
        let pad = width - label.chars().count();
        writeln!(f, "  {label}{:pad$}  {value}", "")?;
    }
    Ok(())
}

/// Writes the exponent table: one row per layer, columns a, b (and c for Adam).
fn exponent_table(f: &mut fmt::Formatter<'_>, columns: &[(&str, &[Exponent])]) -> fmt::Result {
    let layers = columns[0].1.len();
    let readout = format!("{layers} readout");
    let label_width = readout.len().max("layer".len());
    let width = columns
        .iter()
        .flat_map(|(_, xs)| xs.iter().map(|x| x.to_string().len()))
        .max()
        .unwrap_or(1)
        .max(4);
    write!(f, "  {:label_width$}", "layer")?;
    for (name, _) in columns {
        write!(f, "  {name:>width$}")?;
    }
    writeln!(f)?;
    for l in 1..=layers {
        let label = if l == layers {
            readout.clone()
        } else {
            l.to_string()
        };
        write!(f, "  {label:label_width$}")?;
        for (_, xs) in columns {
            write!(f, "  {:>width$}", xs[l - 1].to_string())?;
        }
        writeln!(f)?;
    }
    Ok(())
}

/// Writes conditions as `(part) formula   value v   holds|VIOLATED`, the part shown once.
fn conditions(f: &mut fmt::Formatter<'_>, conditions: &[Condition]) -> fmt::Result {
    let width = conditions
        .iter()
        .map(|c| c.formula().chars().count())
        .max()
        .unwrap_or(0);
    let value_width = conditions
        .iter()
        .map(|c| c.value.to_string().len())
        .max()
        .unwrap_or(0);
    let mut previous = None;
    for c in conditions {
        let part = if previous == Some(c.part) {
            ""
        } else {
            c.part.label()
        };
        previous = Some(c.part);
        let formula = c.formula();
        let pad = width - formula.chars().count();
        let verdict = if c.holds { "holds" } else { "VIOLATED" };
        writeln!(
            f,
            "  {part:5} {formula}{:pad$}  value {:<value_width$}  {verdict}",
            "",
            c.value.to_string()
        )?;
    }
    Ok(())
}

fn yes_no(x: bool) -> String {
    if x { "yes" } else { "no" }.to_string()
}

fn list(xs: &[usize], prefix: &str) -> String {
    if xs.is_empty() {
        return "none".to_string();
    }
    xs.iter()
        .map(|l| format!("{prefix}{l}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn kernel(kernel: &Kernel, readout: usize) -> String {
    if kernel.ntk {
        return "NTK (every layer's term)".to_string();
    }
    if kernel.layers == [readout] {
        return format!("NNGP kernel of x^{} (the readout's term only)", readout - 1);
    }
    let missing: Vec<usize> = (1..=readout)
        .filter(|l| !kernel.layers.contains(l))
        .collect();
    format!(
        "NTK terms of {} only (none from {})",
        list(&kernel.layers, "W^"),
        list(&missing, "W^")
    )
}

impl fmt::Display for Classification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let depth = self.abc.depth();
        let k = depth + 1;
        writeln!(f, "abc-parametrization, L = {depth}, trained with SGD")?;
        exponent_table(f, &[("a", &self.abc.a), ("b", &self.abc.b)])?;
        writeln!(f, "  c = {}", self.abc.c)?;

        writeln!(f, "\nexponents (tp-math §5.3)")?;
        let r_layers: Vec<String> = self
            .r_layers
            .iter()
            .enumerate()
            .map(|(i, r)| format!("r_{} = {r}", i + 1))
            .collect();
        rows(
            f,
            &[
                (
                    format!("min(a_{k} + b_{k}, 2a_{k} + c)"),
                    format!(
                        "= min({}, {}) = {}",
                        self.readout_init, self.readout_update, self.readout_backward
                    ),
                ),
                (
                    "r_l = min(…) + c − 1 + 2a_l + [l = 1]".into(),
                    format!(": {}", r_layers.join(", ")),
                ),
                ("r = min_l r_l".into(), format!("= {}", self.r)),
                (format!("2a_{k} + c"), format!("= {}", self.readout_update)),
                (
                    format!("a_{k} + b_{k} + r"),
                    format!("= {}", self.readout_init_effect),
                ),
            ],
        )?;

        writeln!(f, "\nstability (TP4 Thm 3.3)")?;
        conditions(f, &self.conditions)?;
        if self.stable {
            writeln!(f, "  stable: yes")?;
        } else {
            let violated: Vec<String> = self
                .conditions
                .iter()
                .filter(|c| !c.holds)
                .map(|c| format!("{} {} (is {})", c.part.label(), c.formula(), c.value))
                .collect();
            writeln!(f, "  stable: NO, violated: {}", violated.join("; "))?;
            for part in [
                super::Part::Init,
                super::Part::Features,
                super::Part::Readout,
            ] {
                if self.conditions.iter().any(|c| c.part == part && !c.holds) {
                    writeln!(f, "  {} fails: not {}", part.label(), part.meaning())?;
                }
            }
        }
        match self.smallest_stable_c {
            Some(c_min) => writeln!(
                f,
                "  with these a and b: stable exactly when c ≥ {c_min} (here c = {})",
                self.abc.c
            )?,
            None => writeln!(
                f,
                "  no learning rate makes it stable: (i) does not involve c"
            )?,
        }

        writeln!(f, "\nclassification (TP4 §3, §5)")?;
        let Some(nontrivial) = self.nontrivial else {
            return writeln!(f, "  – (TP4 classifies stable parametrizations only)");
        };
        let dash = if nontrivial {
            "–"
        } else {
            "– (trivial: the theorems are about nontrivial parametrizations)"
        };
        let show = |x: Option<bool>| x.map_or(dash.to_string(), yes_no);
        let mut lines = vec![
            (
                format!("nontrivial (a_{k} + b_{k} + r = 1 or 2a_{k} + c = 1)"),
                yes_no(nontrivial),
            ),
            (
                "feature learning (r = 0)".to_string(),
                show(self.feature_learning),
            ),
            (
                "kernel regime (r > 0)".to_string(),
                show(self.kernel_regime),
            ),
            (
                "hidden layers learning features (min_{m≤l} r_m = 0)".to_string(),
                self.layers_learning_features
                    .as_ref()
                    .map_or(dash.to_string(), |ls| list(ls, "")),
            ),
        ];
        if let Some(maximal) = &self.maximal {
            lines.push((
                format!("updated maximally (W^l: r_l = 0; W^{k}: 2a_{k} + c = 1)"),
                list(&maximal.updated, "W^"),
            ));
            lines.push((
                format!("W^{k} initialized maximally (a_{k} + b_{k} + r = 1)"),
                yes_no(maximal.readout_initialized),
            ));
        }
        lines.push((
            "kernel (readout if 2a + c = 1; l with r_l = r if a + b + r = 1)".to_string(),
            self.kernel
                .as_ref()
                .map_or("–".to_string(), |kern| kernel(kern, k)),
        ));
        rows(f, &lines)?;
        if self.maximal.as_ref().is_some_and(|m| m.mup) {
            writeln!(
                f,
                "  μP: every layer updated maximally and W^{k} initialized maximally (TP4 Thm 5.6)"
            )?;
        }
        if self.feature_learning == Some(true) {
            writeln!(f, "  f_0 → 0 at initialization (TP4 Cor 3.10)")?;
        }
        if nontrivial {
            writeln!(
                f,
                "\nnote: feature learning vs kernel regime (TP4 Thms 3.6, 3.8, Cor 3.9) assumes \
                 φ = tanh or a smooth relu-like φ; with φ = id both can hold at once"
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for AdamClassification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let depth = self.abc.depth();
        writeln!(
            f,
            "abc-parametrization, L = {depth}, trained with Adam (learning rate η n^-c_l per layer)"
        )?;
        exponent_table(
            f,
            &[("a", &self.abc.a), ("b", &self.abc.b), ("c", &self.abc.c)],
        )?;

        writeln!(f, "\nstability at initialization (TP4 Thm 3.3 (i))")?;
        conditions(f, &self.init_conditions)?;
        writeln!(
            f,
            "  stable at initialization: {}",
            yes_no(self.stable_at_init)
        )?;

        writeln!(
            f,
            "\nmaximal updates (derived, Adam: tp-math §5.1; ΔW^l x^(l-1) = Θ(n^(target − (a_l + c_l))))"
        )?;
        let lines: Vec<(String, String)> = self
            .layers
            .iter()
            .map(|l| {
                let verdict = if l.maximal {
                    "maximal".to_string()
                } else if l.update > Exponent::from_integer(0) {
                    format!("blows up, Θ(n^{})", l.update)
                } else {
                    format!("vanishes, Θ(n^{})", l.update)
                };
                (
                    format!("W^{i}  a_{i} + c_{i} = {t}", i = l.layer, t = l.target),
                    format!("value {}  {verdict}", l.value),
                )
            })
            .collect();
        rows(f, &lines)?;
        if self.mup {
            writeln!(
                f,
                "  μP for Adam (TP5 Table 3, up to (a + θ, b − θ, c − θ)): every layer updated maximally"
            )?;
        }
        writeln!(
            f,
            "\nnote: TP4's r-based theorems are proved for SGD and are not applied to Adam"
        )
    }
}

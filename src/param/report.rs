//! The text reports of [`Classification`] and [`AdamClassification`]: every exponent, every
//! condition with its value, then the verdicts, so a reader sees why.

use super::abc::{sub, Exponent};
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

/// An exponent as a term of a sum: negative ones in parentheses.
fn term(x: Exponent) -> String {
    if x < Exponent::from_integer(0) {
        format!("({x})")
    } else {
        x.to_string()
    }
}

/// `n^e`, with the exponent in parentheses unless it is an integer.
fn power(e: Exponent) -> String {
    if e.is_integer() {
        format!("n^{e}")
    } else {
        format!("n^({e})")
    }
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

        writeln!(f, "\nexponents (docs/parametrizations.md)")?;
        let backward = format!("min(a_{k} + b_{k}, 2a_{k} + c)");
        writeln!(
            f,
            "  {backward} = min({}, {}) = {}",
            self.readout_init, self.readout_update, self.readout_backward
        )?;
        writeln!(f, "  r_l = {backward} + c - 1 + 2a_l + [l = 1]")?;
        for (i, r) in self.r_layers.iter().enumerate() {
            let input = if i == 0 { " + 1" } else { "" };
            writeln!(
                f,
                "    r_{} = {} + {} - 1 + 2·{}{input} = {r}",
                i + 1,
                self.readout_backward,
                term(self.abc.c),
                term(self.abc.a[i])
            )?;
        }
        writeln!(f, "  r = min_l r_l = {}", self.r)?;
        writeln!(f, "  2a_{k} + c = {}", self.readout_update)?;
        writeln!(f, "  a_{k} + b_{k} + r = {}", self.readout_init_effect)?;

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
                    writeln!(f, "  {} fails: {}", part.label(), part.failure(k))?;
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
        let dash = "–".to_string();
        let show = |x: Option<bool>| x.map_or(dash.clone(), yes_no);
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
                    .map_or(dash.clone(), |ls| list(ls, "")),
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
            format!("kernel (W^{k} if 2a_{k} + c = 1; W^l with r_l = r if a_{k} + b_{k} + r = 1)"),
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
        if !nontrivial {
            writeln!(
                f,
                "  trivial: f_t - f_0 → 0; the regime theorems are about nontrivial parametrizations"
            )?;
        }
        if self.feature_learning == Some(true) {
            writeln!(f, "  f_0 → 0 at initialization (TP4 Cor 3.10)")?;
        }
        if nontrivial {
            writeln!(
                f,
                "\nnote: feature learning vs kernel regime (TP4 Thms 3.6, 3.8, Cor 3.9) assumes\n      \
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
            "\nmaximal updates (derived, Adam: docs/parametrizations.md; ΔW^l x^(l-1) = Θ(n^(target - a_l - c_l)))"
        )?;
        let mut lines: Vec<(String, Exponent, String)> = self
            .layers
            .iter()
            .map(|l| {
                let verdict = if l.maximal {
                    "maximal".to_string()
                } else if l.update > Exponent::from_integer(0) {
                    format!("blows up, Θ({})", power(l.update))
                } else {
                    format!("vanishes, Θ({})", power(l.update))
                };
                let label = format!("W^{i}  a_{i} + c_{i} = {t}", i = l.layer, t = l.target);
                (label, l.value, verdict)
            })
            .collect();
        let k = depth + 1;
        let verdict = if self.readout_initialized {
            "maximal".to_string()
        } else {
            format!(
                "not maximal: W^{k}_0 Δx^{depth} = Θ({}) when Δx^{depth} = Θ(1)",
                sub(Exponent::from_integer(1), self.readout_init)
                    .map_or_else(|_| format!("n^(1 - {})", self.readout_init), power)
            )
        };
        lines.push((
            format!("W^{k}_0  a_{k} + b_{k} = 1"),
            self.readout_init,
            verdict,
        ));
        let width = lines
            .iter()
            .map(|(_, v, _)| v.to_string().len())
            .max()
            .unwrap_or(0);
        let lines: Vec<(String, String)> = lines
            .into_iter()
            .map(|(label, value, verdict)| {
                (
                    label,
                    format!("value {:<width$}  {verdict}", value.to_string()),
                )
            })
            .collect();
        rows(f, &lines)?;
        if self.mup {
            writeln!(
                f,
                "  μP for Adam (TP5 Table 3; up to a + θ, b − θ, c − θ): every update and the \
                 readout's initialization maximal"
            )?;
        }
        writeln!(
            f,
            "\nnote: TP4's r-based theorems are proved for SGD and are not applied to Adam"
        )
    }
}

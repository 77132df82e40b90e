//! Printing a [`Limit`]: plain text (Unicode Ẑ, Ż, σ², E[·]) and LaTeX (an `align` environment).

use super::*;
use crate::symbolic::{format_number, Node, Style, Symbols};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::{self, Write};
use std::rc::Rc;

/// The output syntax of [`LimitDisplay`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitFormat {
    /// Plain Unicode text.
    Text,
    /// A LaTeX `align` environment.
    Latex,
}

/// Prints a limit with its program's source lines: `LimitDisplay::new(&limit, source, "f.tp", LimitFormat::Text).to_string()`.
pub struct LimitDisplay<'a> {
    limit: &'a Limit,
    lines: SourceLines<'a>,
    file_name: &'a str,
    format: LimitFormat,
}

impl<'a> LimitDisplay<'a> {
    /// A printer for `limit`, derived from `source` (for line numbers and line text).
    pub fn new(limit: &'a Limit, source: &'a str, file_name: &'a str, format: LimitFormat) -> Self {
        LimitDisplay {
            limit,
            lines: SourceLines::new(source),
            file_name,
            format,
        }
    }
}

/// Names atoms, scalars and (optionally) the limits of vectors defined before an instruction.
pub(super) struct Names<'a> {
    limit: &'a Limit,
    /// Z expression → first vector instruction with that limit.
    /// Shared by the copies made for a temporary's inner names, never cloned.
    vector_of: Rc<HashMap<ExprId, usize>>,
    /// Name only vectors defined before this instruction (`None`: name nothing).
    before: Option<usize>,
    /// The printed form of each temporary scalar already written out, by (scalar, LaTeX?):
    /// a Moment used on many lines is rendered once.
    temporaries: Rc<RefCell<HashMap<(ScalarId, bool), String>>>,
}

impl<'a> Names<'a> {
    pub(super) fn new(limit: &'a Limit) -> Names<'a> {
        let mut vector_of = HashMap::new();
        for (i, z) in limit.z.iter().enumerate() {
            if let Some(z) = z {
                vector_of.entry(*z).or_insert(i);
            }
        }
        Names {
            limit,
            vector_of: Rc::new(vector_of),
            before: None,
            temporaries: Rc::default(),
        }
    }

    fn vector(&self, i: usize, style: Style) -> String {
        match style {
            Style::Text => format!("Z^{}", text_superscript(&self.limit.names[i])),
            Style::Latex => format!("Z^{{{}}}", self.latex_label(i)),
        }
    }

    /// The earlier vector whose name `expr` prints as, if any (see [`Symbols::name`]).
    fn named_vector(&self, expr: ExprId) -> Option<usize> {
        let before = self.before?;
        let &i = self.vector_of.get(&expr)?;
        if i >= before || self.limit.temporary[i] {
            return None;
        }
        // Initial atoms already print as Z^v.
        if let Node::Atom(a) = self.limit.arena.node(expr) {
            if matches!(
                self.limit.atoms[a.0 as usize].kind,
                AtomKind::Initial { .. }
            ) {
                return None;
            }
        }
        Some(i)
    }

    /// A vector's name in LaTeX; a temporary is written out as its limit.
    fn latex_label(&self, i: usize) -> String {
        match (self.limit.temporary[i], self.limit.z[i]) {
            (true, Some(z)) => {
                let inner = Names {
                    limit: self.limit,
                    vector_of: Rc::default(),
                    before: None,
                    temporaries: Rc::default(),
                };
                format!(
                    "\\left({}\\right)",
                    render(&self.limit.arena, z, &inner, Style::Latex)
                )
            }
            _ => latex_name(&self.limit.names[i]),
        }
    }

    /// `M x` in an atom's superscript: `Wx`, `Wᵀa`, `W tanh(h)` for a temporary argument.
    fn product(&self, family: &HatFamily, arg: usize, style: Style) -> String {
        let matrix = &self.limit.names[family.matrix.index()];
        match style {
            Style::Text => {
                let separator = if self.limit.temporary[arg] { " " } else { "" };
                let t = if family.transposed { "ᵀ" } else { "" };
                format!("{matrix}{t}{separator}{}", self.limit.names[arg])
            }
            Style::Latex => format!(
                "{}{} {}",
                latex_name(matrix),
                if family.transposed { "^{\\top}" } else { "" },
                self.latex_label(arg)
            ),
        }
    }

    fn hat(&self, atom: AtomId, style: Style) -> String {
        let AtomKind::Hat { family, arg, .. } = self.limit.atoms[atom.0 as usize].kind else {
            unreachable!("a ZHat atom")
        };
        let product = self.product(&self.limit.families[family], arg.index(), style);
        match style {
            Style::Text => format!("Ẑ^{{{product}}}"),
            Style::Latex => format!("\\hat{{Z}}^{{{product}}}"),
        }
    }

    /// `Ż^{Mx}`: the ZDot of the MatMul whose ZHat atom is `hat`.
    fn dot(&self, hat: AtomId, style: Style) -> String {
        let name = self.hat(hat, style);
        match style {
            Style::Text => name.replacen('Ẑ', "Ż", 1),
            Style::Latex => name.replacen("\\hat{Z}", "\\dot{Z}", 1),
        }
    }
}

impl Symbols for Names<'_> {
    fn atom(&self, atom: AtomId, style: Style) -> String {
        let a = &self.limit.atoms[atom.0 as usize];
        match a.kind {
            AtomKind::Initial { .. } => self.vector(a.instruction, style),
            AtomKind::Hat { .. } => self.hat(atom, style),
        }
    }

    fn scalar(&self, scalar: ScalarId, style: Style) -> String {
        let s = &self.limit.scalars[scalar.0 as usize];
        match s.role {
            ScalarRole::Instruction(i) if self.limit.temporary[i] => {
                // A temporary Moment or scalar expression is written out where it is used.
                let key = (scalar, style == Style::Latex);
                if let Some(text) = self.temporaries.borrow().get(&key) {
                    return text.clone();
                }
                let inner = Names {
                    limit: self.limit,
                    vector_of: Rc::clone(&self.vector_of),
                    before: Some(i),
                    temporaries: Rc::clone(&self.temporaries),
                };
                let text = match s.definition {
                    ScalarDefinition::Expectation(e) => match style {
                        Style::Text => {
                            format!("E[{}]", render(&self.limit.arena, e, &inner, style))
                        }
                        Style::Latex => format!(
                            "\\mathbb{{E}}\\left[{}\\right]",
                            render(&self.limit.arena, e, &inner, style)
                        ),
                    },
                    ScalarDefinition::Deterministic(e) => match style {
                        Style::Text => format!("({})", render(&self.limit.arena, e, &inner, style)),
                        Style::Latex => format!(
                            "\\left({}\\right)",
                            render(&self.limit.arena, e, &inner, style)
                        ),
                    },
                    ScalarDefinition::Given(v) => format_number(v, style),
                    ScalarDefinition::SteinSolution { .. }
                    | ScalarDefinition::ExpectedDerivative { .. } => {
                        unreachable!("a program's scalar is not a Ż coefficient")
                    }
                };
                self.temporaries.borrow_mut().insert(key, text.clone());
                text
            }
            ScalarRole::Instruction(i) => match style {
                Style::Text => format!("{}°", self.limit.names[i]),
                Style::Latex => format!("{{{}}}^{{\\circ}}", latex_name(&self.limit.names[i])),
            },
            ScalarRole::ZDotCoefficient { x, atom, .. } => match style {
                Style::Text => format!(
                    "E[∂{}/∂{}]",
                    self.vector(x.index(), style),
                    self.hat(atom, style)
                ),
                Style::Latex => format!(
                    "\\mathbb{{E}}\\left[\\partial {} / \\partial {}\\right]",
                    self.vector(x.index(), style),
                    self.hat(atom, style)
                ),
            },
            ScalarRole::SteinMoment { x, atom, .. } => match style {
                Style::Text => format!(
                    "E[{}·{}]",
                    self.hat(atom, style),
                    self.vector(x.index(), style)
                ),
                Style::Latex => format!(
                    "\\mathbb{{E}}\\left[{} \\, {}\\right]",
                    self.hat(atom, style),
                    self.vector(x.index(), style)
                ),
            },
            ScalarRole::SteinCoefficient { x, atom, .. } => match style {
                Style::Text => format!(
                    "c({}; {})",
                    self.vector(x.index(), style),
                    self.hat(atom, style)
                ),
                Style::Latex => format!(
                    "c\\left({}; {}\\right)",
                    self.vector(x.index(), style),
                    self.hat(atom, style)
                ),
            },
        }
    }

    fn name(&self, expr: ExprId, style: Style) -> Option<String> {
        self.named_vector(expr).map(|i| self.vector(i, style))
    }
}

/// `h` → `h`, `x[2]` → `{x[2]}` for use after `^` in text.
fn text_superscript(name: &str) -> String {
    if name.chars().count() == 1 {
        name.to_string()
    } else {
        format!("{{{name}}}")
    }
}

const GREEK: [&str; 30] = [
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi",
    "omega", "Gamma", "Delta", "Theta", "Lambda", "Xi", "Sigma", "Omega",
];

/// A program name in LaTeX: `x[2]` → `x_{2}`, `dh1` → `\mathrm{dh}_{1}`, `eta` → `\eta`,
/// `%5` → `t_{5}`.
pub(super) fn latex_name(name: &str) -> String {
    if let Some(number) = name.strip_prefix('%') {
        return format!("t_{{{number}}}");
    }
    let (base, index) = match name.split_once('[') {
        Some((b, rest)) => (b, Some(rest.trim_end_matches(']').replace(' ', ""))),
        None => (name, None),
    };
    let stem = base.trim_end_matches(|c: char| c.is_ascii_digit());
    let digits = &base[stem.len()..];
    let stem_latex = if GREEK.contains(&stem) {
        format!("\\{stem}")
    } else if stem.chars().count() == 1 {
        stem.to_string()
    } else {
        format!("\\mathrm{{{}}}", stem.replace('_', "\\_"))
    };
    let mut subscript: Vec<String> = Vec::new();
    if !digits.is_empty() {
        subscript.push(digits.to_string());
    }
    if let Some(i) = index {
        subscript.push(i);
    }
    if subscript.is_empty() || stem.is_empty() {
        if stem.is_empty() {
            return format!("\\mathrm{{{base}}}");
        }
        stem_latex
    } else {
        format!("{stem_latex}_{{{}}}", subscript.join(","))
    }
}

/// The lines of a program's source, indexed once so that finding the line of a span is a
/// binary search.
pub(super) struct SourceLines<'a> {
    source: &'a str,
    /// Byte offset of the start of each line.
    starts: Vec<usize>,
}

impl<'a> SourceLines<'a> {
    pub(super) fn new(source: &'a str) -> SourceLines<'a> {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceLines { source, starts }
    }

    /// Line number (1-based) and trimmed text, without a trailing comment, of the line where
    /// `span` starts.
    pub(super) fn line(&self, span: crate::diagnostics::Span) -> (usize, String) {
        let start = (span.start as usize).min(self.source.len());
        let line = self.starts.partition_point(|&s| s <= start);
        let line_start = self.starts[line - 1];
        let line_end = self.source[start..]
            .find('\n')
            .map_or(self.source.len(), |p| start + p);
        let text = self.source[line_start..line_end].trim();
        let text = text.split(" #").next().unwrap_or(text).trim();
        (line, text.to_string())
    }

    /// [`Lines::line`] with the text cut to [`MAX_QUOTED`] characters: generated programs
    /// have lines thousands of characters long, and a header quotes its line each time.
    pub(super) fn quoted(&self, span: crate::diagnostics::Span) -> (usize, String) {
        let (line, text) = self.line(span);
        match text.char_indices().nth(MAX_QUOTED) {
            Some((cut, _)) => (line, format!("{} …", &text[..cut])),
            None => (line, text),
        }
    }
}

/// Quoted source lines longer than this many characters are cut.
const MAX_QUOTED: usize = 160;

/// The Ż report lists at most this many kept terms (the JSON form has every one).
const MAX_LISTED_TERMS: usize = 64;

/// Expanded forms longer than this are not printed (the compact form is).
const MAX_EXPANDED: usize = 160;

/// Expressions whose printed tree has more nodes than this are summarised, not printed:
/// sharing makes the tree of a long training program exponentially larger than its DAG.
const MAX_PRINTED_NODES: usize = 400;

/// The number of nodes in the printed tree of `expr` (named subexpressions count once), or
/// any number above [`MAX_PRINTED_NODES`] once it is known to be larger: the walk stops
/// there, so its cost is bounded whatever the size of the expression's DAG.
fn printed_size(arena: &crate::symbolic::Arena, expr: ExprId, names: &Names) -> usize {
    let mut count = 0;
    let mut stack = vec![expr];
    while let Some(id) = stack.pop() {
        count += 1;
        // Every node still on the stack will count at least once.
        if count + stack.len() > MAX_PRINTED_NODES {
            return MAX_PRINTED_NODES + 1;
        }
        if id == expr || names.named_vector(id).is_none() {
            arena.node(id).for_each_child(|c| stack.push(c));
        }
    }
    count
}

/// Prints `expr`, or a short summary if its printed tree is too large to read.
fn render(arena: &crate::symbolic::Arena, expr: ExprId, names: &Names, style: Style) -> String {
    if printed_size(arena, expr, names) > MAX_PRINTED_NODES {
        match style {
            Style::Text => format!(
                "[an expression of more than {MAX_PRINTED_NODES} nodes; \
                 `--format json` gives it as a DAG]"
            ),
            Style::Latex => {
                format!("\\text{{[an expression of more than {MAX_PRINTED_NODES} nodes]}}")
            }
        }
    } else {
        arena.display(expr, names, style).to_string()
    }
}

impl fmt::Display for LimitDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let style = match self.format {
            LimitFormat::Text => Style::Text,
            LimitFormat::Latex => Style::Latex,
        };
        let mut out = String::new();
        let w = &mut out;
        let limit = self.limit;
        let mut names = Names::new(limit);
        let latex = style == Style::Latex;
        if latex {
            writeln!(
                w,
                "% Infinite-width limit of {} (tpc derive)",
                self.file_name
            )?;
            writeln!(w, "\\begin{{align}}")?;
        } else {
            writeln!(w, "Infinite-width limit of {} (n → ∞)", self.file_name)?;
        }
        let rows = self.rows(&mut names, style);
        let count = rows.len();
        let mut last_lhs_width = 0;
        for (k, row) in rows.into_iter().enumerate() {
            match row {
                Row::Header(line, text) => {
                    if latex {
                        writeln!(w, "  % line {line}: {text}")?;
                    } else {
                        writeln!(w, "\nline {line}  {text}")?;
                    }
                }
                Row::Equation { lhs, relation, rhs } => {
                    if latex {
                        let relation = match relation {
                            "~" => "\\sim",
                            other => other,
                        };
                        let end = if k + 1 == count { "" } else { " \\\\" };
                        writeln!(w, "  {lhs} &{relation} {rhs}{end}")?;
                    } else if lhs.is_empty() {
                        writeln!(w, "  {:last_lhs_width$} {relation} {rhs}", "")?;
                    } else {
                        last_lhs_width = lhs.chars().count();
                        writeln!(w, "  {lhs} {relation} {rhs}")?;
                    }
                }
                Row::Note(text) => {
                    if !latex {
                        writeln!(w, "      {text}")?;
                    }
                }
            }
        }
        if latex {
            writeln!(w, "\\end{{align}}")?;
        } else {
            let outputs: Vec<String> = limit
                .outputs
                .iter()
                .map(|&s| names.scalar(s, Style::Text))
                .collect();
            writeln!(
                w,
                "\noutputs: {}",
                if outputs.is_empty() {
                    "none".into()
                } else {
                    outputs.join(", ")
                }
            )?;
            w.push_str(&self.zdot_report(&names));
        }
        f.write_str(&out)
    }
}

enum Row {
    Header(usize, String),
    Equation {
        lhs: String,
        relation: &'static str,
        rhs: String,
    },
    Note(String),
}

impl LimitDisplay<'_> {
    fn rows(&self, names: &mut Names, style: Style) -> Vec<Row> {
        let limit = self.limit;
        let arena = &limit.arena;
        let mut rows = Vec::new();
        let num = |x: f64| format_number(x, style);
        let expectation = |inner: String| match style {
            Style::Text => format!("E[{inner}]"),
            Style::Latex => format!("\\mathbb{{E}}\\left[{inner}\\right]"),
        };
        let times = if style == Style::Text { "·" } else { " \\, " };
        let mut last_line = 0;
        for eq in &limit.equations {
            let (line, text) = self.lines.quoted(eq.span);
            if line != last_line {
                rows.push(Row::Header(line, text));
                last_line = line;
            }
            names.before = Some(eq.instruction);
            match &eq.kind {
                EquationKind::Initial {
                    atoms,
                    mean,
                    covariance,
                } => {
                    let k = atoms.len();
                    for (m, &a) in atoms.iter().enumerate() {
                        let name = names.atom(a, style);
                        let normal = match style {
                            Style::Text => {
                                format!("N({}, {})", num(mean[m]), num(covariance[m * k + m]))
                            }
                            Style::Latex => format!(
                                "\\mathcal{{N}}\\left({}, {}\\right)",
                                num(mean[m]),
                                num(covariance[m * k + m])
                            ),
                        };
                        rows.push(Row::Equation {
                            lhs: name.clone(),
                            relation: "~",
                            rhs: normal,
                        });
                        for (b, &other) in atoms.iter().enumerate().take(m) {
                            let c = covariance[m * k + b];
                            if c != 0.0 {
                                rows.push(Row::Equation {
                                    lhs: cov(style, &name, &names.atom(other, style)),
                                    relation: "=",
                                    rhs: num(c),
                                });
                            }
                        }
                    }
                }
                EquationKind::InitialScalar { scalar } => {
                    if let ScalarDefinition::Given(v) = limit.scalars[scalar.0 as usize].definition
                    {
                        rows.push(Row::Equation {
                            lhs: names.scalar(*scalar, style),
                            relation: "=",
                            rhs: num(v),
                        });
                    }
                }
                EquationKind::Nonlin { .. } | EquationKind::Scalar { .. }
                    if limit.temporary[eq.instruction] => {}
                EquationKind::Nonlin { z } => {
                    let lhs = names.vector(eq.instruction, style);
                    let compact = match names.vector_of.get(z) {
                        // The same limit as an earlier vector (`x1 = id(h1)`): say so.
                        Some(&earlier) if earlier < eq.instruction && !limit.temporary[earlier] => {
                            names.vector(earlier, style)
                        }
                        _ => render(arena, *z, &*names, style).to_string(),
                    };
                    rows.push(Row::Equation {
                        lhs,
                        relation: "=",
                        rhs: compact.clone(),
                    });
                    self.expanded(names, *z, style, &compact, &mut rows);
                }
                EquationKind::MatMul {
                    hat,
                    new_atom,
                    x,
                    zdot,
                    stein,
                    z,
                } => {
                    let hat_name = names.hat(*hat, style);
                    let family = limit.family_of(*hat).expect("a ZHat atom");
                    if *new_atom {
                        let sigma2 = if family.sigma2 == 1.0 {
                            String::new()
                        } else {
                            format!("{}{times}", num(family.sigma2))
                        };
                        let mut entries: Vec<&CovarianceEntry> =
                            family.covariance.iter().filter(|e| e.a == *hat).collect();
                        // The variance first, then covariances with earlier atoms.
                        entries.sort_by_key(|e| e.b != *hat);
                        for entry in entries {
                            let rhs = format!(
                                "{sigma2}{}",
                                expectation(
                                    render(arena, entry.integrand, &*names, style).to_string()
                                )
                            );
                            if entry.b == *hat {
                                let rhs = match style {
                                    Style::Text => format!("N(0, {rhs})"),
                                    Style::Latex => {
                                        format!("\\mathcal{{N}}\\left(0, {rhs}\\right)")
                                    }
                                };
                                rows.push(Row::Equation {
                                    lhs: hat_name.clone(),
                                    relation: "~",
                                    rhs,
                                });
                            } else {
                                rows.push(Row::Equation {
                                    lhs: cov(style, &hat_name, &names.hat(entry.b, style)),
                                    relation: "=",
                                    rhs,
                                });
                            }
                        }
                    }
                    let lhs = names.vector(eq.instruction, style);
                    if zdot.is_empty() {
                        // A temporary product is named by its atom alone.
                        if !limit.temporary[eq.instruction] {
                            rows.push(Row::Equation {
                                lhs,
                                relation: "=",
                                rhs: hat_name,
                            });
                        }
                    } else {
                        let dot_name = names.dot(*hat, style);
                        let terms: Vec<String> = zdot
                            .iter()
                            .map(|t| {
                                let u = names.vector(t.u.index(), style);
                                match arena.node(t.coefficient) {
                                    Node::Const(c) if *c == 1.0 => u,
                                    _ => format!(
                                        "{}{times}{u}",
                                        render(arena, t.coefficient, &*names, style)
                                    ),
                                }
                            })
                            .collect();
                        rows.push(Row::Equation {
                            lhs: dot_name.clone(),
                            relation: "=",
                            rhs: terms.join(" + "),
                        });
                        let x_name = names.vector(x.index(), Style::Text);
                        match stein {
                            Some(solve) => {
                                self.stein_rows(names, &limit.stein[*solve], style, &mut rows)
                            }
                            None => {
                                // A deferred derivation leaves non-deterministic derivatives
                                // unexpanded: their coefficients are written by definition.
                                for t in zdot {
                                    let Some(derivative) = t.derivative else {
                                        continue;
                                    };
                                    rows.push(Row::Note(format!(
                                        "∂{x_name}/∂{} = {}",
                                        names.hat(t.atom, Style::Text),
                                        render(arena, derivative, &*names, Style::Text)
                                    )));
                                }
                            }
                        }
                        rows.push(Row::Equation {
                            lhs: lhs.clone(),
                            relation: "=",
                            rhs: format!("{hat_name} + {dot_name}"),
                        });
                        let compact = render(arena, *z, &*names, style).to_string();
                        rows.push(Row::Equation {
                            lhs: String::new(),
                            relation: "=",
                            rhs: compact.clone(),
                        });
                        self.expanded(names, *z, style, &compact, &mut rows);
                    }
                }
                EquationKind::Scalar { scalar } => {
                    let s = &limit.scalars[scalar.0 as usize];
                    let rhs = match s.definition {
                        ScalarDefinition::Expectation(e) => {
                            expectation(render(arena, e, &*names, style))
                        }
                        ScalarDefinition::Deterministic(e) => {
                            render(arena, e, &*names, style).to_string()
                        }
                        ScalarDefinition::Given(v) => num(v),
                        ScalarDefinition::SteinSolution { .. }
                        | ScalarDefinition::ExpectedDerivative { .. } => {
                            unreachable!("a program's scalar is not a Ż coefficient")
                        }
                    };
                    rows.push(Row::Equation {
                        lhs: names.scalar(*scalar, style),
                        relation: "=",
                        rhs,
                    });
                }
            }
        }
        rows
    }

    /// How the Stein form (3.4) of a Ż is computed, and why it is used: notes in text, one
    /// equation in LaTeX.
    fn stein_rows(&self, names: &Names, solve: &SteinSolve, style: Style, rows: &mut Vec<Row>) {
        let limit = self.limit;
        let family = &limit.families[solve.family];
        let x = names.vector(solve.x.index(), style);
        let u: Vec<String> = solve
            .u
            .iter()
            .map(|u| match style {
                Style::Text => limit.names[u.index()].clone(),
                Style::Latex => names.latex_label(u.index()),
            })
            .collect();
        let matrix = &limit.names[family.matrix.index()];
        let odd: Vec<String> = solve
            .moments
            .iter()
            .enumerate()
            .filter_map(|(i, b)| match b {
                SteinRhs::Odd(group) => Some((i, *group)),
                SteinRhs::Expectation(_) => None,
            })
            .map(|(i, group)| {
                let atom = limit
                    .atoms
                    .iter()
                    .position(
                        |a| matches!(a.kind, AtomKind::Initial { group: g, .. } if g == group),
                    )
                    .expect("the flipped group has atoms");
                let flipped = names.atom(AtomId(atom as u32), style);
                match style {
                    Style::Text => format!("b_{} = 0 (odd in {flipped})", i + 1),
                    Style::Latex => format!(
                        "b_{{{}}} = 0 \\text{{ (odd in }} {flipped} \\text{{)}}",
                        i + 1
                    ),
                }
            })
            .collect();
        match style {
            Style::Text => {
                let t = if family.transposed { "ᵀ" } else { "" };
                let atoms: Vec<String> = solve.atoms.iter().map(|&a| names.hat(a, style)).collect();
                rows.push(Row::Note(match solve.jump {
                    Some(jump) => format!(
                        "Stein form (3.4): {x} is not weakly differentiable in {}, it jumps at {}",
                        atoms.join(", "),
                        render(&limit.arena, jump, names, style)
                    ),
                    None => "Stein form (3.4), as requested".to_string(),
                }));
                let mut line = format!(
                    "c = Gram⁺ b over u = ({}): Gram_ij = E[Z^{{u_i}}·Z^{{u_j}}], b_i = E[Ẑ^{{{matrix}{t}u_i}}·{x}]",
                    u.join(", ")
                );
                if !odd.is_empty() {
                    line = format!("{line}; {}", odd.join(", "));
                }
                rows.push(Row::Note(line));
            }
            Style::Latex => {
                let t = if family.transposed { "^{\\top}" } else { "" };
                let m = latex_name(matrix);
                let mut rhs = format!(
                    "\\mathrm{{Gram}}^{{+}} b, \\quad u = \\left({}\\right), \\quad \\mathrm{{Gram}}_{{ij}} = \\mathbb{{E}}\\left[Z^{{u_i}} Z^{{u_j}}\\right], \\quad b_i = \\mathbb{{E}}\\left[\\hat{{Z}}^{{{m}{t} u_i}} \\, {x}\\right]",
                    u.join(", "),
                );
                for o in &odd {
                    rhs = format!("{rhs}, \\quad {o}");
                }
                rows.push(Row::Equation {
                    lhs: "c".to_string(),
                    relation: "=",
                    rhs,
                });
            }
        }
    }

    /// Adds `= <expression over atoms>` when it differs from the compact form and is short.
    fn expanded(
        &self,
        names: &mut Names,
        z: ExprId,
        style: Style,
        compact: &str,
        rows: &mut Vec<Row>,
    ) {
        let before = names.before.take();
        let full = if printed_size(&self.limit.arena, z, names) <= MAX_PRINTED_NODES {
            self.limit.arena.display(z, &*names, style).to_string()
        } else {
            String::new()
        };
        names.before = before;
        if !full.is_empty() && full != compact && full.chars().count() <= MAX_EXPANDED {
            rows.push(Row::Equation {
                lhs: String::new(),
                relation: "=",
                rhs: full,
            });
        }
    }

    fn zdot_report(&self, names: &Names) -> String {
        let limit = self.limit;
        let mut out = String::new();
        let kept: Vec<(&Equation, AtomId, &ZDotTerm)> = limit
            .equations
            .iter()
            .flat_map(|e| match &e.kind {
                EquationKind::MatMul { hat, zdot, .. } => {
                    zdot.iter().map(|t| (e, *hat, t)).collect::<Vec<_>>()
                }
                _ => Vec::new(),
            })
            .collect();
        let has_transposes = limit.families.iter().any(|f| f.transposed);
        if kept.is_empty() {
            if !has_transposes {
                out.push_str("ZDot: none (no transposed matrix is used; every Ż is 0)\n");
            } else if limit.vanished.is_empty() {
                out.push_str("ZDot: every Ż vanishes (no transposed product sees a vector that depends on the forward products)\n");
            } else {
                let _ = writeln!(
                    out,
                    "ZDot: every Ż vanishes; the gradient-independence shortcut (Wᵀ → an independent copy) is exact here.\n      {} term(s) are odd under a sign flip of a centered initial vector, so their expectations are 0:",
                    limit.vanished.len()
                );
                self.list_vanished(names, &mut out);
            }
            return out;
        }
        let _ = writeln!(
            out,
            "ZDot: {} nonzero term(s); the gradient-independence shortcut (Wᵀ → an independent copy) would be wrong:",
            kept.len()
        );
        let listed = kept.len().min(MAX_LISTED_TERMS);
        for &(eq, hat, t) in &kept[..listed] {
            let (line, text) = self.lines.quoted(eq.span);
            let origin = limit.atoms[t.atom.0 as usize].instruction;
            let (origin_line, origin_text) = self
                .lines
                .quoted(limit.equation_of(origin).map_or(eq.span, |e| e.span));
            let _ = writeln!(
                out,
                "  line {line} `{text}`: {} ⊃ {}·{}, because the vector multiplied depends on {} (line {origin_line} `{origin_text}`)",
                names.dot(hat, Style::Text),
                render(&limit.arena, t.coefficient, names, Style::Text),
                names.vector(t.u.index(), Style::Text),
                names.hat(t.atom, Style::Text),
            );
        }
        if kept.len() > listed {
            let _ = writeln!(
                out,
                "  … and {} more (`--format json` lists every term)",
                kept.len() - listed
            );
        }
        if !limit.vanished.is_empty() {
            let _ = writeln!(
                out,
                "  {} further term(s) vanish by symmetry:",
                limit.vanished.len()
            );
            self.list_vanished(names, &mut out);
        }
        out
    }

    fn list_vanished(&self, names: &Names, out: &mut String) {
        const SHOWN: usize = 8;
        for v in self.limit.vanished.iter().take(SHOWN) {
            let (line, text) = self.lines.quoted(
                self.limit
                    .equation_of(v.instruction)
                    .map_or(crate::diagnostics::Span::default(), |e| e.span),
            );
            let group = self
                .limit
                .atoms
                .iter()
                .position(
                    |a| matches!(a.kind, AtomKind::Initial { group, .. } if group == v.flipped),
                )
                .expect("the flipped group has atoms");
            let vector = names.vector(v.x.index(), Style::Text);
            let hat = names.hat(v.atom, Style::Text);
            let expectation = if v.stein {
                format!("E[{hat}·{vector}]")
            } else {
                format!("E[∂{vector}/∂{hat}]")
            };
            let integrand = v.integrand.map_or(String::new(), |e| {
                format!(" = E[{}]", render(&self.limit.arena, e, names, Style::Text))
            });
            let _ = writeln!(
                out,
                "    line {line} `{text}`: {expectation}{integrand} = 0 (odd in {})",
                names.atom(AtomId(group as u32), Style::Text),
            );
        }
        if self.limit.vanished.len() > SHOWN {
            let _ = writeln!(out, "    … and {} more", self.limit.vanished.len() - SHOWN);
        }
    }
}

fn cov(style: Style, a: &str, b: &str) -> String {
    match style {
        Style::Text => format!("Cov({a}, {b})"),
        Style::Latex => format!("\\operatorname{{Cov}}\\left({a}, {b}\\right)"),
    }
}

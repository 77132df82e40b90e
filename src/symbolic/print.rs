//! Human-readable printing: Unicode text and LaTeX, through a [`Display`] adapter.
//!
//! Printing renders the expression *tree*: a subexpression shared `k` times is printed `k`
//! times, so output is meant for human-sized expressions. The renderer works bottom-up over
//! ids (no recursion), so deep expressions cannot overflow the stack.

use super::arena::Arena;
use super::ids::{AtomId, ExprId, ScalarId};
use super::node::Node;
use crate::builtins::Builtin;
use std::collections::HashMap;
use std::fmt;

/// The output syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Unicode text: `2·x − tanh'(y)²`.
    Text,
    /// LaTeX math, valid inside an `align` environment: `2 \cdot x - \tanh'\left(y\right)^{2}`.
    Latex,
}

/// Supplies the printed names of atoms and scalars (the arena knows only their numbers).
pub trait Symbols {
    /// The name of an atom in the given style (a single token, e.g. `Ẑ^{Wx}` in LaTeX).
    fn atom(&self, atom: AtomId, style: Style) -> String;
    /// The name of a scalar in the given style.
    fn scalar(&self, scalar: ScalarId, style: Style) -> String;
    /// A name to print instead of a whole subexpression (such as `Z^h` for the limit of an
    /// earlier vector), or `None` to print it out. Never asked for the printed root itself.
    fn name(&self, _expr: ExprId, _style: Style) -> Option<String> {
        None
    }
}

/// Names atoms `z0, z1, …` and scalars `θ0, θ1, …` (`z_{0}`, `\theta_{0}` in LaTeX).
#[derive(Clone, Copy, Debug, Default)]
pub struct NumberedSymbols;

impl Symbols for NumberedSymbols {
    fn atom(&self, atom: AtomId, style: Style) -> String {
        match style {
            Style::Text => format!("z{}", atom.0),
            Style::Latex => format!("z_{{{}}}", atom.0),
        }
    }

    fn scalar(&self, scalar: ScalarId, style: Style) -> String {
        match style {
            Style::Text => format!("θ{}", scalar.0),
            Style::Latex => format!("\\theta_{{{}}}", scalar.0),
        }
    }
}

/// Formats a number deterministically: at most 12 significant digits, trailing zeros
/// trimmed, integers without a decimal point, scientific notation outside `[1e-5, 1e15)`
/// (`1.5e-20` in text, `1.5 \times 10^{-20}` in LaTeX). Text uses the minus sign `−`.
pub fn format_number(x: f64, style: Style) -> String {
    let (minus, infinity, nan) = match style {
        Style::Text => ("−", "∞", "NaN"),
        Style::Latex => ("-", "\\infty", "\\mathrm{NaN}"),
    };
    if x.is_nan() {
        return nan.to_string();
    }
    let sign = if x < 0.0 { minus } else { "" };
    if x.is_infinite() {
        return format!("{sign}{infinity}");
    }
    // Rounding to 12 significant digits, then printing the shortest representation that
    // round-trips, yields at most 12 digits and no spurious ones.
    let rounded: f64 = format!("{:.11e}", x.abs())
        .parse()
        .expect("a formatted float parses");
    if rounded == 0.0 || (1e-5..1e15).contains(&rounded) {
        return format!("{sign}{rounded}");
    }
    let scientific = format!("{rounded:e}");
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("scientific notation has an exponent");
    match style {
        Style::Text => format!("{sign}{mantissa}e{}", exponent.replace('-', minus)),
        Style::Latex => format!("{sign}{mantissa} \\times 10^{{{exponent}}}"),
    }
}

/// Binding strength of a rendered expression, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    /// A sum, a difference, or anything starting with a minus sign.
    Sum,
    /// A product or quotient.
    Product,
    /// A power.
    Power,
    /// A name, a number or a function call.
    Atom,
}

/// The rendering of one node.
#[derive(Clone, Debug)]
struct Rendered {
    text: String,
    prec: Prec,
    /// For a reciprocal `1/d`, the denominator `d`, so that `c·(1/d)` prints as `c/d`.
    reciprocal: Option<Box<Rendered>>,
}

impl Rendered {
    fn new(text: String, prec: Prec) -> Rendered {
        Rendered {
            text,
            prec,
            reciprocal: None,
        }
    }
}

/// Punctuation of one [`Style`].
struct Syntax {
    style: Style,
    minus: &'static str,
    times: &'static str,
    open: &'static str,
    close: &'static str,
}

impl Syntax {
    fn new(style: Style) -> Syntax {
        match style {
            Style::Text => Syntax {
                style,
                minus: "−",
                times: "·",
                open: "(",
                close: ")",
            },
            Style::Latex => Syntax {
                style,
                minus: "-",
                times: " \\cdot ",
                open: "\\left(",
                close: "\\right)",
            },
        }
    }

    /// `r`, parenthesised if it binds no tighter than `at_most`.
    fn wrap(&self, r: &Rendered, at_most: Prec) -> String {
        if r.prec <= at_most {
            format!("{}{}{}", self.open, r.text, self.close)
        } else {
            r.text.clone()
        }
    }

    fn number(&self, x: f64) -> Rendered {
        let text = format_number(x, self.style);
        let prec = if text.starts_with(self.minus) {
            Prec::Sum
        } else if text.contains(' ') {
            Prec::Product
        } else {
            Prec::Atom
        };
        Rendered::new(text, prec)
    }

    fn apply(&self, f: Builtin, order: u32, arg: &Rendered) -> Rendered {
        let name = match (self.style, f) {
            (Style::Text, _) => f.name().to_string(),
            (Style::Latex, Builtin::Tanh | Builtin::Sin | Builtin::Cos)
            | (Style::Latex, Builtin::Exp | Builtin::Log) => format!("\\{}", f.name()),
            (Style::Latex, _) => format!("\\operatorname{{{}}}", f.name()),
        };
        let primes = match (order, self.style) {
            (0, _) => String::new(),
            (1, _) => "'".to_string(),
            (2, _) => "''".to_string(),
            (k, Style::Text) => format!("^({k})"),
            (k, Style::Latex) => format!("^{{({k})}}"),
        };
        Rendered::new(
            format!("{name}{primes}{}{}{}", self.open, arg.text, self.close),
            Prec::Atom,
        )
    }

    /// `base^e` for `e > 0`; `e = 1` gives the base, parenthesised as a product factor.
    /// A name: an atom, except that in text a name with its own superscript (`Z^x`) is
    /// parenthesised under a power, `(Z^x)²`.
    fn name(&self, text: String) -> Rendered {
        let prec = if self.style == Style::Text && text.contains('^') {
            // Binds like a power: bare in products, parenthesised as the base of a power.
            Prec::Power
        } else {
            Prec::Atom
        };
        Rendered::new(text, prec)
    }

    fn power(&self, base: &Rendered, e: f64) -> Rendered {
        if e == 1.0 {
            return Rendered::new(self.wrap(base, Prec::Product), base.prec.max(Prec::Power));
        }
        let exponent = format_number(e, self.style);
        let text = match self.style {
            Style::Text => {
                let base = self.wrap(base, Prec::Power);
                if e.fract() == 0.0 && e.abs() < 1e15 {
                    format!("{base}{}", superscript(&exponent))
                } else {
                    format!("{base}^{exponent}")
                }
            }
            Style::Latex => {
                // A name or call carrying its own superscript (`\hat{Z}^{Wx}`, `\tanh'`)
                // is braced to avoid a double superscript.
                let base = if base.prec <= Prec::Power {
                    self.wrap(base, Prec::Power)
                } else if base.text.contains(['^', '\'']) {
                    format!("{{{}}}", base.text)
                } else {
                    base.text.clone()
                };
                format!("{base}^{{{exponent}}}")
            }
        };
        Rendered::new(text, Prec::Power)
    }

    fn product(&self, factors: &[(&Rendered, f64)]) -> Rendered {
        let join = |parts: Vec<Rendered>| -> Rendered {
            match parts.len() {
                1 => parts.into_iter().next().expect("one part"),
                _ => {
                    let texts: Vec<&str> = parts.iter().map(|p| p.text.as_str()).collect();
                    Rendered::new(texts.join(self.times), Prec::Product)
                }
            }
        };
        let numerator: Vec<Rendered> = factors
            .iter()
            .filter(|(_, e)| e.is_nan() || *e >= 0.0)
            .map(|(b, e)| self.power(b, *e))
            .collect();
        let denominator: Vec<Rendered> = factors
            .iter()
            .filter(|(_, e)| *e < 0.0)
            .map(|(b, e)| self.power(b, -e))
            .collect();
        let only_denominator = numerator.is_empty();
        let numerator = if only_denominator {
            self.number(1.0)
        } else {
            join(numerator)
        };
        if denominator.is_empty() {
            return numerator;
        }
        let denominator = join(denominator);
        Rendered {
            text: self.quotient(&numerator.text, &denominator),
            prec: Prec::Product,
            reciprocal: only_denominator.then(|| Box::new(denominator)),
        }
    }

    /// `numerator / denominator`.
    fn quotient(&self, numerator: &str, denominator: &Rendered) -> String {
        match self.style {
            Style::Text => format!("{numerator}/{}", self.wrap(denominator, Prec::Product)),
            Style::Latex => format!("\\frac{{{numerator}}}{{{}}}", denominator.text),
        }
    }

    fn sum(&self, constant: f64, terms: &[(&Rendered, f64)]) -> Rendered {
        let mut text = String::new();
        let mut push = |negative: bool, body: String| {
            match (text.is_empty(), negative) {
                (true, true) => text.push_str(self.minus),
                (true, false) => {}
                (false, true) => text.push_str(&format!(" {} ", self.minus)),
                (false, false) => text.push_str(" + "),
            }
            text.push_str(&body);
        };
        for &(t, c) in terms {
            let coefficient = self.number(c.abs()).text;
            let body = match &t.reciprocal {
                _ if c.abs() == 1.0 => self.wrap(t, Prec::Sum),
                Some(denominator) => self.quotient(&coefficient, denominator),
                None => format!("{coefficient}{}{}", self.times, self.wrap(t, Prec::Sum)),
            };
            push(c < 0.0, body);
        }
        if constant != 0.0 || terms.is_empty() {
            push(constant < 0.0, self.number(constant.abs()).text);
        }
        let single_positive = terms.len() == 1 && terms[0].1 > 0.0 && constant == 0.0;
        let prec = match (single_positive, terms.is_empty()) {
            (_, true) => self.number(constant).prec,
            (true, false) => Prec::Product,
            (false, false) => Prec::Sum,
        };
        Rendered::new(text, prec)
    }
}

/// Maps `0-9` and `−` to superscript characters.
fn superscript(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            '9' => '⁹',
            '−' => '⁻',
            other => other,
        })
        .collect()
}

/// A [`Display`](fmt::Display) adapter printing one expression; see [`Arena::display`].
pub struct Printed<'a, S: ?Sized> {
    arena: &'a Arena,
    expr: ExprId,
    symbols: &'a S,
    style: Style,
}

impl Arena {
    /// Prints `expr` in the given style, naming atoms and scalars through `symbols`:
    /// `arena.display(e, &NumberedSymbols, Style::Text).to_string()`.
    pub fn display<'a, S: Symbols + ?Sized>(
        &'a self,
        expr: ExprId,
        symbols: &'a S,
        style: Style,
    ) -> Printed<'a, S> {
        Printed {
            arena: self,
            expr,
            symbols,
            style,
        }
    }
}

impl<S: Symbols + ?Sized> fmt::Display for Printed<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let syntax = Syntax::new(self.style);
        let mut done: HashMap<ExprId, Rendered> = HashMap::new();
        // Named subexpressions print as their name; their insides are not visited.
        let mut order = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![self.expr];
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            order.push(id);
            if id != self.expr {
                if let Some(text) = self.symbols.name(id, self.style) {
                    done.insert(id, syntax.name(text));
                    continue;
                }
            }
            self.arena.node(id).for_each_child(|c| stack.push(c));
        }
        order.sort_unstable();
        for id in order {
            if done.contains_key(&id) {
                continue;
            }
            let rendered = match self.arena.node(id) {
                Node::Const(c) => syntax.number(*c),
                Node::Atom(a) => syntax.name(self.symbols.atom(*a, self.style)),
                Node::Scalar(s) => syntax.name(self.symbols.scalar(*s, self.style)),
                Node::Apply { f, order, arg } => syntax.apply(*f, *order, &done[arg]),
                Node::Sum { constant, terms } => {
                    let terms: Vec<_> = terms.iter().map(|(t, c)| (&done[t], *c)).collect();
                    syntax.sum(*constant, &terms)
                }
                Node::Product { factors } => {
                    let factors: Vec<_> = factors.iter().map(|(b, e)| (&done[b], *e)).collect();
                    syntax.product(&factors)
                }
            };
            done.insert(id, rendered);
        }
        f.write_str(&done[&self.expr].text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(a: &Arena, e: ExprId) -> (String, String) {
        (
            a.display(e, &NumberedSymbols, Style::Text).to_string(),
            a.display(e, &NumberedSymbols, Style::Latex).to_string(),
        )
    }

    #[test]
    fn numbers() {
        let t = |x| format_number(x, Style::Text);
        assert_eq!(t(3.0), "3");
        assert_eq!(t(-0.0), "0");
        assert_eq!(t(0.1 + 0.2), "0.3");
        assert_eq!(t(2.0 / 3.0), "0.666666666667");
        assert_eq!(t(-1.25), "−1.25");
        assert_eq!(t(123456789.0), "123456789");
        assert_eq!(t(1.5e-20), "1.5e−20");
        assert_eq!(t(1e20), "1e20");
        assert_eq!(t(f64::NAN), "NaN");
        assert_eq!(t(f64::NEG_INFINITY), "−∞");
        assert_eq!(format_number(-2.5e-7, Style::Latex), "-2.5 \\times 10^{-7}");
    }

    #[test]
    fn sums_print_subtraction_and_hide_unit_coefficients() {
        let mut a = Arena::new();
        let x = a.atom(AtomId(0));
        let y = a.atom(AtomId(1));
        let e = a.sum([(x, 2.0), (y, -1.0)]);
        let one = a.constant(1.0);
        let e = a.sub(e, one);
        assert_eq!(
            both(&a, e),
            ("2·z0 − z1 − 1".into(), "2 \\cdot z_{0} - z_{1} - 1".into())
        );
        let e = a.sum([(x, -1.0), (y, 0.5)]);
        assert_eq!(both(&a, e).0, "−z0 + 0.5·z1");
    }

    #[test]
    fn derivatives_and_powers() {
        // 2·tanh'(2·z0 + z1)·θ0 − tanh''(z0)² / sqrt^(3)(z1)
        let mut a = Arena::new();
        let x = a.atom(AtomId(0));
        let y = a.atom(AtomId(1));
        let theta = a.scalar(ScalarId(0));
        let u = a.sum([(x, 2.0), (y, 1.0)]);
        let t1 = a.apply(Builtin::Tanh, 1, u);
        let first = a.product([(t1, 1.0), (theta, 1.0)]);
        let t2 = a.apply(Builtin::Tanh, 2, x);
        let s3 = a.apply(Builtin::Sqrt, 3, y);
        let second = a.product([(t2, 2.0), (s3, -1.0)]);
        let e = a.sum([(first, 2.0), (second, -1.0)]);
        let (text, latex) = both(&a, e);
        assert_eq!(text, "2·θ0·tanh'(2·z0 + z1) − tanh''(z0)²/sqrt^(3)(z1)");
        assert_eq!(
            latex,
            "2 \\cdot \\theta_{0} \\cdot \\tanh'\\left(2 \\cdot z_{0} + z_{1}\\right) - \
             \\frac{{\\tanh''\\left(z_{0}\\right)}^{2}}{\\operatorname{sqrt}^{(3)}\\left(z_{1}\\right)}"
        );
    }

    #[test]
    fn parentheses_follow_precedence() {
        let mut a = Arena::new();
        let x = a.atom(AtomId(0));
        let y = a.atom(AtomId(1));
        let one = a.constant(1.0);
        let s = a.add(x, one);
        let p = a.product([(s, 2.0), (y, 1.0)]);
        let r = a.pow(p, 0.5);
        let q = a.product([(x, 1.0), (y, -1.0), (s, -1.0)]);
        let sq = a.pow(x, 0.5);
        let e = a.sum([(r, 1.0), (q, 3.0), (sq, 1.0)]);
        let (text, latex) = both(&a, e);
        assert_eq!(text, "(z1·(z0 + 1)²)^0.5 + 3·z0/(z1·(z0 + 1)) + z0^0.5");
        assert_eq!(
            latex,
            "\\left(z_{1} \\cdot \\left(z_{0} + 1\\right)^{2}\\right)^{0.5} + \
             3 \\cdot \\frac{z_{0}}{z_{1} \\cdot \\left(z_{0} + 1\\right)} + z_{0}^{0.5}"
        );
    }

    #[test]
    fn scaled_reciprocals_print_as_quotients() {
        let mut a = Arena::new();
        let x = a.atom(AtomId(0));
        let y = a.atom(AtomId(1));
        let one = a.constant(1.0);
        let two = a.constant(2.0);
        let inv = a.div(one, x);
        let e = a.div(two, x);
        let xy = a.mul(x, y);
        let inv_xy = a.div(one, xy);
        let f = a.sum([(e, 1.0), (inv, -1.0), (inv_xy, -0.5)]);
        let (text, latex) = both(&a, f);
        assert_eq!(text, "1/z0 − 0.5/(z0·z1)");
        assert_eq!(latex, "\\frac{1}{z_{0}} - \\frac{0.5}{z_{0} \\cdot z_{1}}");
        assert_eq!(both(&a, e).0, "2/z0");
    }

    #[test]
    fn builtin_names_in_latex() {
        let mut a = Arena::new();
        let x = a.atom(AtomId(0));
        let r = a.apply(Builtin::Relu, 0, x);
        let e = a.apply(Builtin::Erf, 1, r);
        let s = a.apply(Builtin::Sin, 0, e);
        let m = a.neg(s);
        assert_eq!(
            both(&a, m),
            (
                "−sin(erf'(relu(z0)))".into(),
                "-\\sin\\left(\\operatorname{erf}'\\left(\\operatorname{relu}\\left(z_{0}\
                 \\right)\\right)\\right)"
                    .into()
            )
        );
    }
}

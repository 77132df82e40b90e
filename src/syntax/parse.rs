//! From source text to the AST: the pest parser, precedence by Pratt, and syntax errors.

use super::ast::*;
use super::SyntaxError;
use crate::diagnostics::Span;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser as _;
use std::sync::OnceLock;

/// The pest parser generated from `grammar/tp.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "../grammar/tp.pest"]
struct TpParser;

/// Brackets (`(`, `[`, `{`) may nest at most this deep.
pub const MAX_NESTING: usize = 64;
/// An expression may have at most this many operators. A long sum is as deep as it is long
/// for the recursive passes, which run on a stack sized for this bound (see
/// [`crate::compile`]).
pub const MAX_EXPR_DEPTH: usize = 20_000;

/// Parses a whole program.
///
/// Never panics and never recurses deeper than [`MAX_NESTING`] brackets or
/// [`MAX_EXPR_DEPTH`] operators, whatever the input.
pub fn parse(source: &str) -> Result<Program, SyntaxError> {
    let joined = join_bracketed_lines(source)?;
    let mut pairs = TpParser::parse(Rule::program, &joined).map_err(|e| syntax_error(e, source))?;
    let program = pairs
        .next()
        .expect("the program rule always yields one pair");
    let statements = program
        .into_inner()
        .filter(|p| p.as_rule() != Rule::EOI)
        .map(statement)
        .collect::<Result<_, _>>()?;
    Ok(Program { statements })
}

/// Joins lines inside `(…)` and `[…]`: line breaks there become spaces and comments become
/// blanks, byte for byte, so spans still point into the original source. (Inside `{…}`
/// line breaks keep separating statements.) Also rejects bracket nesting beyond
/// [`MAX_NESTING`] before the recursive-descent parser sees it.
fn join_bracketed_lines(source: &str) -> Result<std::borrow::Cow<'_, str>, SyntaxError> {
    let mut open: Vec<char> = Vec::new();
    let mut in_comment = false;
    let mut in_string = false;
    let mut blanks: Vec<std::ops::Range<usize>> = Vec::new();
    for (offset, c) in source.char_indices() {
        let inside = matches!(open.last(), Some('(' | '['));
        match c {
            '\n' | '\r' => {
                in_comment = false;
                in_string = false;
                if inside {
                    blanks.push(offset..offset + 1);
                }
            }
            _ if in_comment && inside => blanks.push(offset..offset + c.len_utf8()),
            _ if in_comment => {}
            '"' => in_string = !in_string,
            _ if in_string => {}
            '#' => {
                in_comment = true;
                if inside {
                    blanks.push(offset..offset + 1);
                }
            }
            '(' | '[' | '{' => {
                open.push(c);
                if open.len() > MAX_NESTING {
                    return Err(SyntaxError::TooDeep {
                        span: Span::new(offset, offset + 1),
                        limit: MAX_NESTING,
                        what: "brackets",
                    });
                }
            }
            ')' | ']' | '}' => {
                open.pop();
            }
            _ => {}
        }
    }
    if blanks.is_empty() {
        return Ok(std::borrow::Cow::Borrowed(source));
    }
    let mut bytes = source.as_bytes().to_vec();
    for range in blanks {
        bytes[range].fill(b' ');
    }
    Ok(std::borrow::Cow::Owned(String::from_utf8(bytes).expect(
        "replacing whole characters by spaces keeps UTF-8",
    )))
}

/// The span of a pair without the blanks and comment it may end in: pest skips them after a
/// rule's last token when it tries an optional part, and a diagnostic must not underline them.
fn span_of(pair: &Pair<Rule>) -> Span {
    let start = pair.as_span().start();
    Span::new(start, start + without_trailing_comment(pair.as_str()).len())
}

/// `text` without trailing blanks and `# …` comments.
fn without_trailing_comment(text: &str) -> &str {
    let mut text = text.trim_end();
    loop {
        let line = text.rfind('\n').map_or(0, |i| i + 1);
        match comment_start(&text[line..]) {
            Some(at) => text = text[..line + at].trim_end(),
            None => return text,
        }
    }
}

/// Where a line's comment starts: its first `#` outside a string literal.
fn comment_start(line: &str) -> Option<usize> {
    let mut in_string = false;
    for (at, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return Some(at),
            _ => {}
        }
    }
    None
}

fn rule_description(rule: &Rule) -> &'static str {
    match rule {
        Rule::EOI | Rule::separator | Rule::line_break => "a new line",
        Rule::equals => "`=`",
        Rule::ident | Rule::declared | Rule::place => "a name",
        Rule::expr | Rule::operand | Rule::number | Rule::call | Rule::list => "an expression",
        Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::matmul | Rule::pow => "an operator",
        Rule::neg | Rule::pos => "an expression",
        Rule::transpose => "`.T`",
        Rule::primes => "`'`",
        Rule::string => "a string",
        Rule::binder => "an index range `i in a..b`",
        Rule::gaussian => "a law `N(mean, variance)`",
        Rule::block => "`{`",
        Rule::index => "`[`",
        Rule::statement
        | Rule::assignment
        | Rule::width_decl
        | Rule::const_decl
        | Rule::matrix_decl
        | Rule::vector_decl
        | Rule::scalar_decl
        | Rule::def_decl
        | Rule::output_decl
        | Rule::for_loop => "a statement",
        Rule::keyword => "a keyword",
        _ => "something else",
    }
}

fn syntax_error(error: pest::error::Error<Rule>, source: &str) -> SyntaxError {
    use pest::error::{ErrorVariant, InputLocation};
    let (start, end) = match error.location {
        InputLocation::Pos(p) => (p, p),
        InputLocation::Span((s, e)) => (s, e),
    };
    let mut expected: Vec<&'static str> = match &error.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            positives.iter().map(rule_description).collect()
        }
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let unclosed = unclosed_bracket(source, start);
    if let Some((opener, _)) = unclosed {
        if expected.contains(&"an operator") {
            expected.push(match opener {
                '(' => "`)`",
                '[' => "`]`",
                _ => "`}`",
            });
        }
    }
    expected.sort_unstable();
    expected.dedup();
    SyntaxError::Unexpected {
        span: Span::new(start, end),
        expected,
        unclosed: unclosed.map(|(_, at)| Span::new(at, at + 1)),
    }
}

/// The innermost bracket still open at byte `position`, with its offset.
fn unclosed_bracket(source: &str, position: usize) -> Option<(char, usize)> {
    let mut stack = Vec::new();
    let mut in_comment = false;
    let mut in_string = false;
    for (offset, c) in source[..position.min(source.len())].char_indices() {
        match c {
            '\n' | '\r' => (in_comment, in_string) = (false, false),
            _ if in_comment => {}
            '"' => in_string = !in_string,
            _ if in_string => {}
            '#' => in_comment = true,
            '(' | '[' | '{' => stack.push((c, offset)),
            ')' | ']' | '}' => {
                stack.pop();
            }
            _ => {}
        }
    }
    stack.pop()
}

fn statements(pairs: Pairs<Rule>) -> Result<Vec<Statement>, SyntaxError> {
    pairs.map(statement).collect()
}

fn statement(pair: Pair<Rule>) -> Result<Statement, SyntaxError> {
    let span = span_of(&pair);
    let rule = pair.as_rule();
    let mut inner = pair.into_inner().filter(|p| p.as_rule() != Rule::equals);
    let kind = match rule {
        Rule::width_decl => StatementKind::Width(ident(next(&mut inner))),
        Rule::const_decl => StatementKind::Const {
            name: ident(next(&mut inner)),
            value: expr(next(&mut inner))?,
        },
        Rule::matrix_decl => StatementKind::Matrix {
            target: declared(next(&mut inner))?,
            law: gaussian(next(&mut inner))?,
        },
        Rule::vector_decl => {
            let mut targets = Vec::new();
            let mut law = None;
            for p in inner {
                match p.as_rule() {
                    Rule::declared => targets.push(declared(p)?),
                    _ => law = Some(gaussian(p)?),
                }
            }
            StatementKind::Vector {
                targets,
                law: law.expect("the grammar requires a law"),
            }
        }
        Rule::scalar_decl => StatementKind::Scalar {
            target: declared(next(&mut inner))?,
            value: expr(next(&mut inner))?,
        },
        Rule::def_decl => {
            let name = ident(next(&mut inner));
            let mut params = Vec::new();
            let mut body = None;
            for p in inner {
                match p.as_rule() {
                    Rule::ident => params.push(ident(p)),
                    _ => body = Some(expr(p)?),
                }
            }
            StatementKind::Def {
                name,
                params,
                body: body.expect("the grammar requires a body"),
            }
        }
        Rule::output_decl => StatementKind::Output(inner.map(place).collect::<Result<_, _>>()?),
        Rule::for_loop => {
            let mut binders = Vec::new();
            let mut body = Vec::new();
            for p in inner {
                match p.as_rule() {
                    Rule::binder => binders.push(binder(p)?),
                    _ => body = statements(p.into_inner())?,
                }
            }
            StatementKind::For { binders, body }
        }
        Rule::assignment => StatementKind::Assign {
            place: place(next(&mut inner))?,
            value: expr(next(&mut inner))?,
        },
        other => unreachable!("not a statement rule: {other:?}"),
    };
    Ok(Statement { kind, span })
}

fn next<'a>(pairs: &mut impl Iterator<Item = Pair<'a, Rule>>) -> Pair<'a, Rule> {
    pairs
        .next()
        .expect("the grammar guarantees this child exists")
}

fn ident(pair: Pair<Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(&pair),
    }
}

fn declared(pair: Pair<Rule>) -> Result<Declared, SyntaxError> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let name = ident(next(&mut inner));
    let binders = inner.map(binder).collect::<Result<_, _>>()?;
    Ok(Declared {
        name,
        binders,
        span,
    })
}

fn binder(pair: Pair<Rule>) -> Result<Binder, SyntaxError> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    Ok(Binder {
        name: ident(next(&mut inner)),
        start: expr(next(&mut inner))?,
        end: expr(next(&mut inner))?,
        span,
    })
}

fn gaussian(pair: Pair<Rule>) -> Result<Gaussian, SyntaxError> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    Ok(Gaussian {
        mean: expr(next(&mut inner))?,
        variance: expr(next(&mut inner))?,
        span,
    })
}

fn place(pair: Pair<Rule>) -> Result<Place, SyntaxError> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner();
    let name = ident(next(&mut inner));
    let index = match inner.next() {
        Some(index) => index.into_inner().map(expr).collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    Ok(Place { name, index, span })
}

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
            .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
            .op(Op::prefix(Rule::neg) | Op::prefix(Rule::pos))
            .op(Op::infix(Rule::matmul, Assoc::Right))
            .op(Op::infix(Rule::pow, Assoc::Right))
            .op(Op::postfix(Rule::transpose))
    })
}

/// Converts an `expr` pair, folding operators by precedence.
fn expr(pair: Pair<Rule>) -> Result<Expr, SyntaxError> {
    let span = span_of(&pair);
    let inner = pair.into_inner();
    let operators = inner
        .clone()
        .filter(|p| {
            matches!(
                p.as_rule(),
                Rule::add
                    | Rule::sub
                    | Rule::mul
                    | Rule::div
                    | Rule::matmul
                    | Rule::pow
                    | Rule::neg
                    | Rule::pos
                    | Rule::transpose
            )
        })
        .count();
    if operators > MAX_EXPR_DEPTH {
        return Err(SyntaxError::TooDeep {
            span,
            limit: MAX_EXPR_DEPTH,
            what: "operators in one expression",
        });
    }
    pratt()
        .map_primary(operand)
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            let span = span_of(&op).join(rhs.span);
            Ok(match op.as_rule() {
                Rule::neg => Expr {
                    kind: ExprKind::Neg(Box::new(rhs)),
                    span,
                },
                _ => Expr { span, ..rhs },
            })
        })
        .map_postfix(|lhs, _op| {
            let lhs = lhs?;
            let span = lhs.span.join(span_of(&_op));
            Ok(Expr {
                kind: ExprKind::Transpose(Box::new(lhs)),
                span,
            })
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let op = match op.as_rule() {
                Rule::add => BinaryOp::Add,
                Rule::sub => BinaryOp::Sub,
                Rule::mul => BinaryOp::Mul,
                Rule::div => BinaryOp::Div,
                Rule::pow => BinaryOp::Pow,
                _ => BinaryOp::MatMul,
            };
            Ok(Expr {
                span: lhs.span.join(rhs.span),
                kind: ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs),
                    rhs: Box::new(rhs),
                },
            })
        })
        .parse(inner)
}

/// Converts a call argument: an `expr`, or a `string` (its text without the quotes).
fn argument(pair: Pair<Rule>) -> Result<Expr, SyntaxError> {
    if pair.as_rule() != Rule::string {
        return expr(pair);
    }
    let quoted = pair.as_str();
    Ok(Expr {
        kind: ExprKind::Str(quoted[1..quoted.len() - 1].to_string()),
        span: span_of(&pair),
    })
}

fn operand(pair: Pair<Rule>) -> Result<Expr, SyntaxError> {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::number => {
            let value: f64 = pair
                .as_str()
                .parse()
                .expect("the number rule only matches valid floats");
            if !value.is_finite() {
                return Err(SyntaxError::NumberOutOfRange { span });
            }
            ExprKind::Number(value)
        }
        Rule::place => {
            let place = place(pair)?;
            return Ok(Expr {
                span: place.span,
                kind: ExprKind::Name(place),
            });
        }
        Rule::call => {
            let mut inner = pair.into_inner();
            let name = ident(next(&mut inner));
            let primes = next(&mut inner).as_str().len() as u32;
            let args = inner.map(argument).collect::<Result<_, _>>()?;
            ExprKind::Call { name, primes, args }
        }
        Rule::list => ExprKind::List(pair.into_inner().map(expr).collect::<Result<_, _>>()?),
        Rule::expr => return expr(pair),
        other => unreachable!("not an operand rule: {other:?}"),
    };
    Ok(Expr { kind, span })
}

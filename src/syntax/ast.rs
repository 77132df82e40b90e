//! The typed abstract syntax tree of a `.tp` program, with source spans.
//!
//! The AST says what the source says, nothing more: names are not resolved and types are not
//! known yet (that is `ir::lower`'s job).

use crate::diagnostics::Span;

/// A parsed program: its top-level statements in source order.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// The statements.
    pub statements: Vec<Statement>,
}

/// A statement with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// What kind of statement.
    pub kind: StatementKind,
    /// The whole statement.
    pub span: Span,
}

/// The statements of the language (docs/language.md).
#[derive(Clone, Debug, PartialEq)]
pub enum StatementKind {
    /// `width n`
    Width(Ident),
    /// `const name = value`
    Const {
        /// The constant's name.
        name: Ident,
        /// Its value, a compile-time expression.
        value: Expr,
    },
    /// `matrix W ~ N(0, c/n)`
    Matrix {
        /// The matrix (or family of matrices) declared.
        target: Declared,
        /// Its entries' law.
        law: Gaussian,
    },
    /// `vector u, v ~ N(mu, C)`
    Vector {
        /// The vectors (or families) declared, jointly Gaussian per coordinate.
        targets: Vec<Declared>,
        /// Their joint law.
        law: Gaussian,
    },
    /// `scalar y = value`
    Scalar {
        /// The scalar (or family) declared.
        target: Declared,
        /// Its limit value, a compile-time expression.
        value: Expr,
    },
    /// `def name(params) = body`
    Def {
        /// The function's name.
        name: Ident,
        /// Its parameters.
        params: Vec<Ident>,
        /// Its body.
        body: Expr,
    },
    /// `output a, b[1]`
    Output(Vec<Place>),
    /// `for i in a..b, j in i..c { body }`
    For {
        /// The loop indices, outermost first.
        binders: Vec<Binder>,
        /// The loop body.
        body: Vec<Statement>,
    },
    /// `place = value`
    Assign {
        /// The name defined.
        place: Place,
        /// The defining expression.
        value: Expr,
    },
}

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A declared name with optional index binders: `h[i in 0..N]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Declared {
    /// The name.
    pub name: Ident,
    /// The index binders; empty for a plain name.
    pub binders: Vec<Binder>,
    /// The whole declared name.
    pub span: Span,
}

/// `i in start..end`.
#[derive(Clone, Debug, PartialEq)]
pub struct Binder {
    /// The index name.
    pub name: Ident,
    /// First value (inclusive).
    pub start: Expr,
    /// Last value (exclusive).
    pub end: Expr,
    /// The whole binder.
    pub span: Span,
}

/// `N(mean, variance)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Gaussian {
    /// The mean.
    pub mean: Expr,
    /// The variance (or covariance matrix).
    pub variance: Expr,
    /// The whole law.
    pub span: Span,
}

/// A possibly indexed name: `x`, `x[t+1]`, `K[i, j]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Place {
    /// The name.
    pub name: Ident,
    /// The index expressions; empty for a plain name.
    pub index: Vec<Expr>,
    /// The whole place.
    pub span: Span,
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Its source.
    pub span: Span,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `a + b`
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `a ^ b`
    Pow,
    /// `M @ x`
    MatMul,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Pow => "^",
            BinaryOp::MatMul => "@",
        }
    }
}

/// The expressions of the language.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number literal.
    Number(f64),
    /// A (possibly indexed) name.
    Name(Place),
    /// `f(args)` or `f'(args)`: a built-in, a `def`, `mean`, or a constant helper.
    Call {
        /// The function's name.
        name: Ident,
        /// The number of primes: the derivative order.
        primes: u32,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `[a, b, c]` (a matrix is a list of rows).
    List(Vec<Expr>),
    /// `-e`
    Neg(Box<Expr>),
    /// `a op b`
    Binary {
        /// The operator.
        op: BinaryOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// `e.T`
    Transpose(Box<Expr>),
    /// `"file.npy"`, a string literal; the grammar allows it only as a call argument, and
    /// only `load` accepts one.
    Str(String),
}

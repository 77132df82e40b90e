//! Lowering of expressions: typing, constant folding, `def` inlining, and the temporaries
//! that `W @ expr` and `mean(expr)` introduce.

use super::builder::{Arith, NodeId};
use super::constant::{self, Tensor};
use super::error::LowerError;
use super::scope::{Binding, Def};
use super::Lowerer;
use crate::builtins::Builtin;
use crate::diagnostics::Span;
use crate::ir::{ExprNode, MatrixId, Op, ScalarId, VectorId};
use crate::syntax::ast::{self, BinaryOp, ExprKind};
use std::sync::Arc;

/// The typed value of an expression during lowering.
#[derive(Clone, Debug)]
pub enum Value {
    /// Known at compile time.
    Const(Tensor),
    /// A scalar expression (a node of the statement's builder).
    Scalar(NodeId),
    /// A coordinatewise vector expression (a node of the statement's builder).
    Vector(NodeId),
    /// A matrix or its transpose; only valid on the left of `@`.
    Matrix {
        /// The matrix.
        id: MatrixId,
        /// Whether `.T` was applied.
        transposed: bool,
    },
}

impl Value {
    /// "a vector", "a matrix", … for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Const(t) if t.ndim() == 0 => "a constant",
            Value::Const(_) => "a list constant",
            Value::Scalar(_) => "a scalar",
            Value::Vector(_) => "a vector",
            Value::Matrix { .. } => "a matrix",
        }
    }
}

impl Lowerer {
    /// Lowers an expression that must be a compile-time constant.
    pub(super) fn constant(
        &mut self,
        e: &ast::Expr,
        what: &'static str,
    ) -> Result<Tensor, LowerError> {
        match self.expr(e)? {
            Value::Const(c) => Ok(c),
            other => Err(LowerError::NotConstant {
                span: e.span,
                what,
                found: other.type_name(),
            }),
        }
    }

    /// The value of a simple integer expression (numbers, loop indices, `+ - *`) without
    /// building constants: the fast path for indices such as `x[t + 1]`. `None` means "use
    /// the general path" (which also reports any error).
    fn simple_integer(&self, e: &ast::Expr) -> Option<i64> {
        let as_integer = |v: f64| (v.fract() == 0.0 && v.abs() <= 9.0e15).then_some(v as i64);
        match &e.kind {
            ExprKind::Number(v) => as_integer(*v),
            ExprKind::Name(place) if place.index.is_empty() => {
                match self.scopes.lookup(&place.name.name)? {
                    Binding::Const(t) => constant::as_number(t).and_then(as_integer),
                    Binding::Index(i) => Some(*i),
                    _ => None,
                }
            }
            ExprKind::Binary { op, lhs, rhs } => {
                let (a, b) = (self.simple_integer(lhs)?, self.simple_integer(rhs)?);
                match op {
                    BinaryOp::Add => a.checked_add(b),
                    BinaryOp::Sub => a.checked_sub(b),
                    BinaryOp::Mul => a.checked_mul(b),
                    _ => None,
                }
                .filter(|v| v.abs() <= 9_000_000_000_000_000)
            }
            _ => None,
        }
    }

    /// Lowers an expression that must be an integer constant.
    pub(super) fn integer(&mut self, e: &ast::Expr, what: &'static str) -> Result<i64, LowerError> {
        if let Some(v) = self.simple_integer(e) {
            return Ok(v);
        }
        let c = self.constant(e, what)?;
        let Some(v) = constant::as_number(&c) else {
            return Err(LowerError::ShapeMismatch {
                span: e.span,
                message: format!("{what} must be a number, found {}", constant::describe(&c)),
            });
        };
        if v.fract() != 0.0 || v.abs() > 9.0e15 {
            return Err(LowerError::NotInteger {
                span: e.span,
                what,
                value: v,
            });
        }
        Ok(v as i64)
    }

    /// Resolves a (possibly indexed) name to what it stands for.
    pub(super) fn resolve(&mut self, place: &ast::Place) -> Result<Binding, LowerError> {
        let name = &place.name.name;
        if place.index.is_empty() {
            if let Some(b) = self.scopes.lookup(name) {
                return Ok(b.clone());
            }
            if self.scopes.is_family(name) {
                return Err(LowerError::TypeMismatch {
                    span: place.span,
                    expected: "a single vector or scalar",
                    found: "an indexed family",
                    context: "a name used in an expression",
                    help: Some("index it, e.g. `x[0]`"),
                });
            }
            return Err(self.unknown_name(&place.name));
        }
        let index = self.indices(&place.index)?;
        if let Some(Binding::Const(tensor)) = self.scopes.lookup(name) {
            let tensor = tensor.clone();
            if let Some(scalar) = self.data_reference(place, &tensor, &index)? {
                return Ok(scalar);
            }
        }
        if let Some(binding) = self.scopes.lookup(name) {
            let tensor = match binding {
                Binding::Const(t) => t.clone(),
                Binding::Index(i) => Arc::new(constant::number(*i as f64)),
                Binding::Param(Value::Const(t)) => Arc::new(t.clone()),
                other => {
                    return Err(LowerError::TypeMismatch {
                        span: place.name.span,
                        expected: "a list, matrix or indexed family",
                        found: other.type_name(),
                        context: "an indexed name",
                        help: None,
                    })
                }
            };
            let spans: Vec<(i64, Span)> = index
                .iter()
                .zip(&place.index)
                .map(|(&i, e)| (i, e.span))
                .collect();
            return constant::index(&tensor, &spans, place.span)
                .map(|t| Binding::Const(Arc::new(t)));
        }
        match self.scopes.lookup_member(name, &index) {
            Ok(b) => Ok(b.clone()),
            Err(defined) if self.scopes.is_family(name) => Err(LowerError::UndefinedMember {
                span: place.span,
                member: format!(
                    "{}",
                    crate::ir::Name {
                        base: Arc::from(name.as_str()),
                        index: index.into()
                    }
                ),
                defined,
            }),
            Err(_) => Err(self.unknown_name(&place.name)),
        }
    }

    /// A constant indexed by parallel loop indices (`K1[i, j]` in a loop over inputs `i, j`):
    /// an initial scalar whose value for other members is read from the constant, recorded in
    /// [`crate::ir::ParallelSpaces::data_scalars`]. `None` when no index is a parallel one.
    fn data_reference(
        &mut self,
        place: &ast::Place,
        tensor: &Arc<constant::Tensor>,
        index: &[i64],
    ) -> Result<Option<Binding>, LowerError> {
        use crate::ir::DataIndex;
        let parts: Vec<DataIndex> = place
            .index
            .iter()
            .zip(index)
            .map(|(e, &value)| {
                let bound = match &e.kind {
                    ast::ExprKind::Name(p) if p.index.is_empty() => self
                        .parallel_bound
                        .iter()
                        .rev()
                        .find(|(n, _, _)| *n == p.name.name),
                    _ => None,
                };
                match bound {
                    Some(&(_, space, rep)) => DataIndex::Member { space, rep },
                    None => DataIndex::Fixed(value.max(0) as usize),
                }
            })
            .collect();
        if !parts.iter().any(|p| matches!(p, DataIndex::Member { .. })) {
            return Ok(None);
        }
        // Every member of the space must index the constant, as unrolling would check; a
        // constant of another shape is left to the unrolled program to report.
        let fits = tensor.ndim() == parts.len()
            && parts.iter().zip(tensor.shape()).all(|(p, &len)| match *p {
                DataIndex::Fixed(i) => i < len,
                DataIndex::Member { space, .. } => {
                    self.space_size[space].is_some_and(|n| n as usize <= len)
                }
            });
        if !fits || self.differentiating > 0 || index.iter().any(|&i| i < 0) {
            return Err(LowerError::NotParallel);
        }
        let at: Vec<usize> = index.iter().map(|&i| i as usize).collect();
        let value = tensor[ndarray::IxDyn(&at)];
        let instruction = self.emit(Op::InitScalar { value }, None, place.span)?;
        self.data_scalars.push(crate::ir::DataScalar {
            instruction,
            data: tensor.clone(),
            index: parts,
        });
        Ok(Some(Binding::Scalar(ScalarId::new(instruction))))
    }

    fn unknown_name(&self, ident: &ast::Ident) -> LowerError {
        if let Some(&defined_at) = self.defined_anywhere.get(&ident.name) {
            if defined_at.start > ident.span.start {
                return LowerError::UseBeforeDefinition {
                    span: ident.span,
                    name: ident.name.clone(),
                    defined_at,
                };
            }
        }
        let candidates: Vec<&str> = self.scopes.visible_names().chain([&*self.width]).collect();
        LowerError::UnknownName {
            span: ident.span,
            name: ident.name.clone(),
            suggestion: suggest(&ident.name, candidates),
        }
    }

    fn binding_value(&mut self, binding: Binding, span: Span) -> Result<Value, LowerError> {
        Ok(match binding {
            Binding::Const(t) => Value::Const((*t).clone()),
            Binding::Index(i) => Value::Const(constant::number(i as f64)),
            Binding::Matrix(id) => Value::Matrix {
                id,
                transposed: false,
            },
            Binding::Vector(id) => Value::Vector(self.builder.leaf(ExprNode::Vector { id }, span)?),
            Binding::Scalar(id) => Value::Scalar(self.builder.leaf(ExprNode::Scalar { id }, span)?),
            Binding::Param(v) => v,
            Binding::Def(def) => {
                return Err(LowerError::TypeMismatch {
                    span,
                    expected: "a value",
                    found: "a function",
                    context: "a name used in an expression",
                    help: Some(if def.params.len() == 1 {
                        "call it, e.g. `f(x)`"
                    } else {
                        "call it with its arguments"
                    }),
                })
            }
        })
    }

    /// Lowers an expression to a typed value.
    pub(super) fn expr(&mut self, e: &ast::Expr) -> Result<Value, LowerError> {
        match &e.kind {
            ExprKind::Number(v) => Ok(Value::Const(constant::number(*v))),
            ExprKind::Name(place) => {
                if place.index.is_empty()
                    && *place.name.name == *self.width
                    && self.scopes.lookup(&place.name.name).is_none()
                {
                    return Ok(Value::Scalar(self.builder.leaf(ExprNode::Width, e.span)?));
                }
                let binding = self.resolve(place)?;
                self.binding_value(binding, e.span)
            }
            ExprKind::List(items) => {
                let mut values = Vec::with_capacity(items.len());
                for item in items {
                    values.push(self.constant(item, "a list item")?);
                }
                Ok(Value::Const(constant::list(values, e.span)?))
            }
            ExprKind::Neg(inner) => match self.expr(inner)? {
                Value::Const(c) => Ok(Value::Const(-c)),
                Value::Scalar(n) => Ok(Value::Scalar(self.builder.neg(n, e.span)?)),
                Value::Vector(n) => Ok(Value::Vector(self.builder.neg(n, e.span)?)),
                Value::Matrix { .. } => Err(matrix_in_expression(inner.span, "`-`")),
            },
            ExprKind::Transpose(inner) => {
                if matches!(inner.kind, ExprKind::Transpose(_)) {
                    return Err(LowerError::DoubleTranspose { span: e.span });
                }
                match self.expr(inner)? {
                    Value::Matrix {
                        id,
                        transposed: false,
                    } => Ok(Value::Matrix {
                        id,
                        transposed: true,
                    }),
                    Value::Matrix { .. } => Err(LowerError::DoubleTranspose { span: e.span }),
                    other => Err(LowerError::TypeMismatch {
                        span: inner.span,
                        expected: "a matrix",
                        found: other.type_name(),
                        context: "the operand of `.T`",
                        help: Some("only matrices are transposed; a vector needs no transpose in a Tensor Program"),
                    }),
                }
            }
            ExprKind::Binary { op, lhs, rhs } => match op {
                BinaryOp::MatMul => self.matmul(lhs, rhs, e.span),
                _ => {
                    let a = self.expr(lhs)?;
                    let b = self.expr(rhs)?;
                    self.arith(*op, a, b, lhs.span, rhs.span, e.span)
                }
            },
            ExprKind::Call { name, primes, args } => self.call(name, *primes, args, e.span),
            ExprKind::Str(_) => Err(LowerError::TypeMismatch {
                span: e.span,
                expected: "a number, list, scalar or vector",
                found: "a string",
                context: "this argument",
                help: Some("only `load` takes a string: `const X = load(\"inputs.npy\")`"),
            }),
        }
    }

    fn arith(
        &mut self,
        op: BinaryOp,
        a: Value,
        b: Value,
        sa: Span,
        sb: Span,
        span: Span,
    ) -> Result<Value, LowerError> {
        let arith = match op {
            BinaryOp::Add => Arith::Add,
            BinaryOp::Sub => Arith::Sub,
            BinaryOp::Mul => Arith::Mul,
            BinaryOp::Div => Arith::Div,
            BinaryOp::Pow => Arith::Pow,
            BinaryOp::MatMul => unreachable!("matmul is lowered separately"),
        };
        let context = match op {
            BinaryOp::Add => "`+`",
            BinaryOp::Sub => "`-`",
            BinaryOp::Mul => "`*`",
            BinaryOp::Div => "`/`",
            _ => "`^`",
        };
        if op == BinaryOp::Div {
            let zero_divisor = match &b {
                Value::Const(y) => y.iter().any(|&v| v == 0.0),
                Value::Scalar(n) | Value::Vector(n) => self.builder.constant_value(*n) == Some(0.0),
                Value::Matrix { .. } => false,
            };
            if zero_divisor {
                return Err(LowerError::DivisionByZero { span: sb });
            }
        }
        if let (Value::Const(x), Value::Const(y)) = (&a, &b) {
            return Ok(Value::Const(constant::binary(
                x,
                y,
                |p, q| arith.apply(p, q),
                span,
            )?));
        }
        let vector = matches!(a, Value::Vector(_)) || matches!(b, Value::Vector(_));
        let na = self.node(a, sa, context)?;
        let nb = self.node(b, sb, context)?;
        let n = self.builder.arith(arith, na, nb, span)?;
        Ok(if vector {
            Value::Vector(n)
        } else {
            Value::Scalar(n)
        })
    }

    /// A value as a builder node, for use inside a Nonlin or scalar expression.
    fn node(&mut self, v: Value, span: Span, context: &'static str) -> Result<NodeId, LowerError> {
        match v {
            Value::Scalar(n) | Value::Vector(n) => Ok(n),
            Value::Const(c) => match constant::as_number(&c) {
                Some(x) => self.builder.constant(x, span),
                None => Err(LowerError::TypeMismatch {
                    span,
                    expected: "a number, scalar or vector",
                    found: "a list constant",
                    context: "an operand of a vector or scalar expression",
                    help: Some("index the list, e.g. `xi[0]`"),
                }),
            },
            Value::Matrix { .. } => Err(matrix_in_expression(span, context)),
        }
    }

    fn forbid_while_differentiating(&self, span: Span, what: &str) -> Result<(), LowerError> {
        if self.differentiating > 0 {
            return Err(LowerError::BadDerivative {
                span,
                reason: format!(
                    "the function's body contains {what}, which has no coordinatewise derivative"
                ),
            });
        }
        Ok(())
    }

    fn matmul(
        &mut self,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        span: Span,
    ) -> Result<Value, LowerError> {
        let (matrix, transposed) = match self.expr(lhs)? {
            Value::Matrix { id, transposed } => (id, transposed),
            other => {
                return Err(LowerError::TypeMismatch {
                    span: lhs.span,
                    expected: "a matrix",
                    found: other.type_name(),
                    context: "the left side of `@`",
                    help: Some("`@` multiplies a declared matrix (or its `.T`) with a vector; use `*` for coordinatewise products"),
                })
            }
        };
        let arg = match self.expr(rhs)? {
            Value::Vector(n) => n,
            other => {
                return Err(LowerError::TypeMismatch {
                    span: rhs.span,
                    expected: "a vector",
                    found: other.type_name(),
                    context: "the right side of `@`",
                    help: Some("a MatMul multiplies an n×n matrix with a vector of the program"),
                })
            }
        };
        self.forbid_while_differentiating(span, "a MatMul")?;
        let arg = match self.builder.node(arg) {
            Some(ExprNode::Vector { id }) => id,
            _ => {
                let expr = self.builder.extract(arg);
                VectorId::new(self.emit(Op::Nonlin { expr }, None, rhs.span)?)
            }
        };
        let at = self.emit(
            Op::MatMul {
                matrix,
                transposed,
                arg,
            },
            None,
            span,
        )?;
        let id = VectorId::new(at);
        Ok(Value::Vector(
            self.builder.leaf(ExprNode::Vector { id }, span)?,
        ))
    }

    fn call(
        &mut self,
        name: &ast::Ident,
        primes: u32,
        args: &[ast::Expr],
        span: Span,
    ) -> Result<Value, LowerError> {
        if let Some(Binding::Def(def)) = self.scopes.lookup(&name.name) {
            let def = def.clone();
            return self.inline(&def, name, primes, args, span);
        }
        if name.name == "mean" {
            return self.mean(name, primes, args, span);
        }
        if let Some(function) = Builtin::from_name(&name.name) {
            check_arity(name, 1, args.len(), span, None)?;
            return match self.expr(&args[0])? {
                Value::Const(c) => Ok(Value::Const(constant::apply(function, primes, &c))),
                Value::Scalar(n) => {
                    Ok(Value::Scalar(self.builder.call(function, primes, n, span)?))
                }
                Value::Vector(n) => {
                    Ok(Value::Vector(self.builder.call(function, primes, n, span)?))
                }
                Value::Matrix { .. } => {
                    Err(matrix_in_expression(args[0].span, "a function argument"))
                }
            };
        }
        if name.name == "load" {
            return self.load(name, primes, args, span).map(Value::Const);
        }
        if let Some(arity) = constant::helper_arity(&name.name) {
            if primes > 0 {
                return Err(LowerError::BadDerivative {
                    span: name.span,
                    reason: format!(
                        "`{}` is a constant helper, not a coordinatewise function",
                        name.name
                    ),
                });
            }
            check_arity(name, arity, args.len(), span, None)?;
            let mut values = Vec::with_capacity(args.len());
            for a in args {
                values.push((
                    self.constant(a, "an argument of a constant helper")?,
                    a.span,
                ));
            }
            let result = constant::helper(&name.name, &values).expect("helper exists");
            return result.map(Value::Const);
        }
        if let Some(binding) = self.scopes.lookup(&name.name) {
            return Err(LowerError::TypeMismatch {
                span: name.span,
                expected: "a function",
                found: binding.type_name(),
                context: "the name called",
                help: None,
            });
        }
        let mut candidates: Vec<&str> = Builtin::ALL.iter().map(|b| b.name()).collect();
        candidates.extend(constant::HELPERS);
        candidates.push("mean");
        candidates.extend(self.scopes.visible_names());
        Err(LowerError::UnknownFunction {
            span: name.span,
            name: name.name.clone(),
            suggestion: suggest(&name.name, candidates),
        })
    }

    /// `load("file")`: the caller's array of that name ([`LowerOptions::data`]), else the
    /// file's numbers, the path taken relative to [`LowerOptions::base_dir`].
    ///
    /// [`LowerOptions::data`]: super::LowerOptions::data
    /// [`LowerOptions::base_dir`]: super::LowerOptions::base_dir
    fn load(
        &mut self,
        name: &ast::Ident,
        primes: u32,
        args: &[ast::Expr],
        span: Span,
    ) -> Result<Tensor, LowerError> {
        if primes > 0 {
            return Err(LowerError::BadDerivative {
                span: name.span,
                reason: "`load` reads a data file; it is not a coordinatewise function".into(),
            });
        }
        check_arity(name, 1, args.len(), span, None)?;
        let ExprKind::Str(path) = &args[0].kind else {
            let found = self.expr(&args[0])?.type_name();
            return Err(LowerError::TypeMismatch {
                span: args[0].span,
                expected: "a string",
                found,
                context: "the argument of `load`",
                help: Some("write the file's path in quotes: `load(\"inputs.npy\")`"),
            });
        };
        if let Some(array) = self.data.get(path.as_str()) {
            return super::load::check_array(array).map_err(|error| LowerError::Load {
                span,
                path: path.clone(),
                error,
            });
        }
        let path = match &self.base_dir {
            Some(dir) => dir.join(path),
            None => std::path::PathBuf::from(path),
        };
        super::load::load(&path).map_err(|error| LowerError::Load {
            span,
            path: path.display().to_string(),
            error,
        })
    }

    fn mean(
        &mut self,
        name: &ast::Ident,
        primes: u32,
        args: &[ast::Expr],
        span: Span,
    ) -> Result<Value, LowerError> {
        if primes > 0 {
            return Err(LowerError::BadDerivative {
                span: name.span,
                reason: "`mean` is a Moment, not a coordinatewise function".into(),
            });
        }
        check_arity(name, 1, args.len(), span, None)?;
        let node = match self.expr(&args[0])? {
            Value::Vector(n) => n,
            other => {
                return Err(LowerError::TypeMismatch {
                    span: args[0].span,
                    expected: "a vector expression",
                    found: other.type_name(),
                    context: "the argument of `mean`",
                    help: Some("`mean` averages the n coordinates of a vector; a scalar is already its own mean"),
                })
            }
        };
        self.forbid_while_differentiating(span, "a Moment (`mean`)")?;
        let expr = self.builder.extract(node);
        let id = ScalarId::new(self.emit(Op::Moment { expr }, None, span)?);
        Ok(Value::Scalar(
            self.builder.leaf(ExprNode::Scalar { id }, span)?,
        ))
    }

    fn inline(
        &mut self,
        def: &Arc<Def>,
        name: &ast::Ident,
        primes: u32,
        args: &[ast::Expr],
        span: Span,
    ) -> Result<Value, LowerError> {
        check_arity(name, def.params.len(), args.len(), span, Some(def.span))?;
        if self.inlining.contains(&def.name) {
            return Err(LowerError::RecursiveDef {
                span: name.span,
                name: def.name.clone(),
                defined_at: def.span,
            });
        }
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.expr(a)?);
        }
        if primes == 0 {
            return self.with_params(def, values);
        }
        if def.params.len() != 1 {
            return Err(LowerError::BadDerivative {
                span: name.span,
                reason: format!(
                    "`{}'` needs a function of one argument; `{}` has {}",
                    def.name,
                    def.name,
                    def.params.len()
                ),
            });
        }
        let arg = values.pop().expect("one argument");
        let (arg_node, arg_is_vector) = match arg {
            Value::Vector(n) => (n, true),
            other => (
                self.node(other, args[0].span, "a function argument")?,
                false,
            ),
        };
        let hole = self.builder.hole(span)?;
        let hole_value = if arg_is_vector {
            Value::Vector(hole)
        } else {
            Value::Scalar(hole)
        };
        self.differentiating += 1;
        let body = self.with_params(def, vec![hole_value]);
        self.differentiating -= 1;
        let (mut d, vector) = match body? {
            Value::Vector(n) => (n, true),
            Value::Scalar(n) => (n, arg_is_vector),
            Value::Const(_) => (self.builder.constant(0.0, span)?, arg_is_vector),
            Value::Matrix { .. } => {
                return Err(matrix_in_expression(def.body.span, "a function body"))
            }
        };
        for _ in 0..primes {
            d = self.builder.derivative(d, hole, span)?;
        }
        let result = self.builder.substitute_hole(d, hole, arg_node, span)?;
        Ok(match (vector, self.builder.constant_value(result)) {
            (false, Some(c)) => Value::Const(constant::number(c)),
            (false, None) => Value::Scalar(result),
            (true, _) => Value::Vector(result),
        })
    }

    /// Lowers a def's body with its parameters bound to the given values.
    fn with_params(&mut self, def: &Arc<Def>, values: Vec<Value>) -> Result<Value, LowerError> {
        self.scopes.push();
        for (param, value) in def.params.iter().zip(values) {
            self.scopes
                .define_local(&param.name, Binding::Param(value), param.span);
        }
        self.inlining.push(def.name.clone());
        let result = self.expr(&def.body);
        self.inlining.pop();
        self.scopes.pop();
        result
    }
}

fn check_arity(
    name: &ast::Ident,
    expected: usize,
    found: usize,
    span: Span,
    defined_at: Option<Span>,
) -> Result<(), LowerError> {
    if expected != found {
        return Err(LowerError::WrongArity {
            span,
            name: name.name.clone(),
            expected,
            found,
            defined_at,
        });
    }
    Ok(())
}

fn matrix_in_expression(span: Span, context: &'static str) -> LowerError {
    LowerError::TypeMismatch {
        span,
        expected: "a vector, scalar or constant",
        found: "a matrix",
        context: match context {
            "`+`" => "an operand of `+`",
            "`-`" => "an operand of `-`",
            "`*`" => "an operand of `*`",
            "`/`" => "an operand of `/`",
            "`^`" => "an operand of `^`",
            "a function argument" => "a function argument",
            _ => "a coordinatewise expression",
        },
        help: Some("a matrix may only appear on the left of `@`, as in `W @ x`"),
    }
}

/// The candidate closest to `name` by edit distance, if it is close enough to be a typo.
fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let limit = if name.len() <= 3 { 1 } else { 2 };
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

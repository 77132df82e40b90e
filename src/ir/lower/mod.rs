//! AST → IR: name resolution, type inference, constant folding, `def` inlining, loop
//! unrolling and temporaries for `W @ expr`.
//!
//! [`lower`] needs a parsed [`ast::Program`]; it guarantees a [`Program`] that passes
//! [`validate`](crate::ir::validate), or the first error found, pointing at the source. It
//! never recurses deeper than the parser's expression limits and never allocates more than
//! [`LowerOptions::max_instructions`] instructions.

mod builder;
mod constant;
mod error;
mod expr;
mod load;
mod parallel;
mod scope;

pub use error::LowerError;

use self::builder::Builder;
use self::constant::Tensor;
use self::parallel::ParallelPlan;
use self::scope::{Binding, Scopes};
use crate::diagnostics::Span;
use crate::ir::{
    DataScalar, Family, GroupCovariance, GroupData, IndexSpace, Instruction, Kind, MemberRow, Name,
    Op, ParallelSpaces, Program, ScalarId,
};
use crate::syntax::ast::{self, StatementKind};
use ndarray::ArrayD;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Limits and settings of lowering.
#[derive(Clone, Debug)]
pub struct LowerOptions {
    /// The most instructions (and loop iterations) a program may unroll to.
    pub max_instructions: usize,
    /// Lower index spaces whose members are exchangeable (inputs `i, j` of a kernel matrix)
    /// by a few representative members instead of unrolling them, recording the full data
    /// in [`Program::parallel`]. Programs without such spaces are unrolled as usual.
    pub parallel: bool,
    /// The directory `load("file")` paths are relative to: the program file's directory.
    /// `None` (a program from standard input): the current directory.
    pub base_dir: Option<std::path::PathBuf>,
    /// Arrays supplied by the caller (the Python package's `consts`): `load("NAME")` reads
    /// the array named NAME from here, before looking for a file of that name. Only lists
    /// (1-D) and matrices (2-D) of finite numbers are accepted, as from a file.
    pub data: BTreeMap<String, Arc<ArrayD<f64>>>,
    /// The largest [`crate::symbolic::Arena::size`] (nodes plus the terms they list) the
    /// derived limit may reach (`tpc derive` and everything built on it):
    /// carried by the [`Program`], checked by [`crate::limit::derive`] after each instruction.
    pub max_limit_nodes: usize,
}

/// The default of [`LowerOptions::max_limit_nodes`]: 2²⁵ ≈ 33.5 million entries of the
/// derived expressions' arena ([`crate::symbolic::Arena::size`]: a node and each term or
/// factor it lists count one), about 1.1 GB at some 34 bytes an entry with its tables. The
/// limits of the example and generated programs fit: `tpc gen mlp --depth 3 --steps 100`
/// derives to 3.7 million with deferred Ż coefficients and 30 million with expanded ones.
pub const MAX_LIMIT_NODES: usize = 1 << 25;

impl Default for LowerOptions {
    fn default() -> Self {
        LowerOptions {
            max_instructions: 10_000_000,
            parallel: false,
            base_dir: None,
            data: BTreeMap::new(),
            max_limit_nodes: MAX_LIMIT_NODES,
        }
    }
}

/// Lowers a parsed program to the checked IR.
pub fn lower(program: &ast::Program, options: &LowerOptions) -> Result<Program, LowerError> {
    if options.parallel {
        let plan = parallel::analyze(program);
        if !plan.is_empty() {
            match lower_with(program, options, plan) {
                Err(LowerError::NotParallel) => {}
                result => return result,
            }
        }
    }
    lower_with(program, options, ParallelPlan::default())
}

fn lower_with(
    program: &ast::Program,
    options: &LowerOptions,
    plan: ParallelPlan,
) -> Result<Program, LowerError> {
    let mut lowerer = Lowerer::new(program, options, plan);
    for statement in &program.statements {
        lowerer.statement(statement)?;
    }
    lowerer.finish()
}

/// The work done for each index tuple of a loop or indexed declaration.
type IndexBody<'a> = dyn FnMut(&mut Lowerer, &[i64]) -> Result<(), LowerError> + 'a;

/// The state of lowering one program.
struct Lowerer {
    instructions: Vec<Instruction>,
    families: Vec<Family>,
    outputs: Option<Vec<ScalarId>>,
    width: Arc<str>,
    width_declared: Option<Span>,
    scopes: Scopes,
    builder: Builder,
    /// Every name defined anywhere, with its first definition: tells "used before
    /// definition" from "unknown".
    defined_anywhere: HashMap<String, Span>,
    /// `def`s being inlined, innermost last (recursion check).
    inlining: Vec<String>,
    /// Inside the body of a `def` being differentiated: no instructions may be emitted.
    differentiating: usize,
    /// Loop iterations plus instructions so far, against `max_instructions`.
    work: usize,
    max_instructions: usize,
    /// Passed on to the program: [`LowerOptions::max_limit_nodes`].
    max_limit_nodes: usize,
    /// Where `load` paths are relative to ([`LowerOptions::base_dir`]).
    base_dir: Option<std::path::PathBuf>,
    /// Caller-supplied arrays `load` reads by name ([`LowerOptions::data`]).
    data: BTreeMap<String, Arc<ArrayD<f64>>>,
    /// The statement being lowered.
    current: Span,
    /// First instruction of the statement being lowered.
    statement_start: usize,
    /// The parallel index spaces (empty when every loop is unrolled).
    plan: ParallelPlan,
    /// The size of each parallel space, once a binder has given it.
    space_size: Vec<Option<i64>>,
    /// Full laws of the groups with representative members.
    groups: Vec<GroupData>,
    /// Parallel loop indices in scope: (name, space, representative).
    parallel_bound: Vec<(String, usize, usize)>,
    /// Scalars read from constants at representative members' indices.
    data_scalars: Vec<DataScalar>,
}

impl Lowerer {
    fn new(program: &ast::Program, options: &LowerOptions, plan: ParallelPlan) -> Lowerer {
        let mut defined_anywhere = HashMap::new();
        collect_definitions(&program.statements, &mut defined_anywhere);
        Lowerer {
            instructions: Vec::new(),
            families: Vec::new(),
            outputs: None,
            width: Arc::from("n"),
            width_declared: None,
            scopes: Scopes::default(),
            builder: Builder::default(),
            defined_anywhere,
            inlining: Vec::new(),
            differentiating: 0,
            work: 0,
            max_instructions: options.max_instructions,
            max_limit_nodes: options.max_limit_nodes,
            base_dir: options.base_dir.clone(),
            data: options.data.clone(),
            current: Span::default(),
            statement_start: 0,
            space_size: vec![None; plan.representatives.len()],
            plan,
            groups: Vec::new(),
            parallel_bound: Vec::new(),
            data_scalars: Vec::new(),
        }
    }

    fn finish(self) -> Result<Program, LowerError> {
        if self.instructions.is_empty() {
            return Err(LowerError::EmptyProgram);
        }
        let outputs = match self.outputs {
            Some(outputs) => outputs,
            None => self
                .instructions
                .iter()
                .enumerate()
                .filter(|(_, i)| {
                    i.name.is_some() && matches!(i.op, Op::Moment { .. } | Op::ScalarOp { .. })
                })
                .map(|(index, _)| ScalarId::new(index))
                .collect(),
        };
        let parallel = (!self.plan.is_empty()).then(|| {
            let spaces = self
                .plan
                .representatives
                .iter()
                .zip(&self.space_size)
                .map(|(&representatives, size)| IndexSpace {
                    size: size.unwrap_or(0) as usize,
                    representatives,
                })
                .collect();
            let mut family_dims = std::collections::HashMap::new();
            for family in &self.families {
                let rank = family.members.first().map_or(0, |(i, _)| i.len());
                let dims = (0..rank)
                    .map(|p| {
                        self.plan
                            .slot_space
                            .get(&(family.name.to_string(), p))
                            .copied()
                    })
                    .collect();
                family_dims.insert(family.name.clone(), dims);
            }
            Arc::new(ParallelSpaces {
                spaces,
                family_dims,
                groups: self.groups,
                data_scalars: self.data_scalars,
            })
        });
        let program = Program {
            width: self.width,
            instructions: self.instructions,
            outputs,
            families: self.families,
            parallel,
            max_limit_nodes: self.max_limit_nodes,
        };
        debug_assert!(crate::ir::validate(&program).is_ok());
        Ok(program)
    }

    /// Counts one unit of unrolling work against the limit.
    fn tick(&mut self) -> Result<(), LowerError> {
        self.work += 1;
        if self.work > self.max_instructions {
            return Err(LowerError::TooLarge {
                span: self.current,
                limit: self.max_instructions,
            });
        }
        Ok(())
    }

    /// Appends an instruction and returns its position.
    fn emit(&mut self, op: Op, name: Option<Name>, span: Span) -> Result<usize, LowerError> {
        self.tick()?;
        self.instructions.push(Instruction { op, name, span });
        Ok(self.instructions.len() - 1)
    }

    fn statements(&mut self, statements: &[ast::Statement]) -> Result<(), LowerError> {
        statements.iter().try_for_each(|s| self.statement(s))
    }

    fn statement(&mut self, statement: &ast::Statement) -> Result<(), LowerError> {
        self.builder.clear();
        self.current = statement.span;
        self.statement_start = self.instructions.len();
        match &statement.kind {
            StatementKind::Width(name) => self.width_statement(name),
            StatementKind::Const { name, value } => {
                let value = self.constant(value, "the value of a `const`")?;
                self.bind_local_or_global(name, Binding::Const(Arc::new(value)))
            }
            StatementKind::Matrix { target, law } => self.matrix_statement(target, law),
            StatementKind::Vector { targets, law } => self.vector_statement(targets, law),
            StatementKind::Scalar { target, value } => self.scalar_statement(target, value),
            StatementKind::Def { name, params, body } => {
                for (k, param) in params.iter().enumerate() {
                    if let Some(first) = params[..k].iter().find(|p| p.name == param.name) {
                        return Err(LowerError::Redefinition {
                            span: param.span,
                            name: param.name.to_string(),
                            previous: Some(first.span),
                            help: Some("each parameter of a `def` needs a name of its own"),
                        });
                    }
                }
                let def = scope::Def {
                    name: name.name.clone(),
                    params: params.clone(),
                    body: body.clone(),
                    span: statement.span,
                };
                self.bind_local_or_global(name, Binding::Def(Arc::new(def)))
            }
            StatementKind::Output(places) => self.output_statement(places),
            StatementKind::For { binders, body } => self.for_loop(binders, body),
            StatementKind::Assign { place, value } => self.assignment(place, value),
        }
    }

    fn width_statement(&mut self, name: &ast::Ident) -> Result<(), LowerError> {
        if let Some(previous) = self.width_declared {
            return Err(LowerError::Redefinition {
                span: name.span,
                name: "width".into(),
                previous: Some(previous),
                help: Some("a program has one width symbol"),
            });
        }
        if self.scopes.lookup(&name.name).is_some() {
            return Err(self.redefinition(name, None));
        }
        self.width = Arc::from(name.name.as_str());
        self.width_declared = Some(name.span);
        Ok(())
    }

    fn redefinition(&self, name: &ast::Ident, help: Option<&'static str>) -> LowerError {
        LowerError::Redefinition {
            span: name.span,
            name: name.name.clone(),
            previous: self.scopes.span_of(&name.name),
            help,
        }
    }

    /// Checks that a new name does not clash with an existing one, a built-in function or
    /// the width symbol.
    fn check_fresh(&self, name: &ast::Ident) -> Result<(), LowerError> {
        if is_builtin_name(&name.name) {
            return Err(LowerError::ReservedName {
                span: name.span,
                name: name.name.clone(),
            });
        }
        if *name.name == *self.width {
            return Err(LowerError::Redefinition {
                span: name.span,
                name: name.name.clone(),
                previous: self.width_declared,
                help: Some(
                    "this is the width symbol; rename it with `width m` or choose another name",
                ),
            });
        }
        if self.scopes.lookup(&name.name).is_some() {
            return Err(self.redefinition(name, None));
        }
        Ok(())
    }

    /// Binds a `const` or `def`: local to the loop iteration inside a loop, global otherwise.
    fn bind_local_or_global(
        &mut self,
        name: &ast::Ident,
        binding: Binding,
    ) -> Result<(), LowerError> {
        if self.scopes.is_top_level() {
            self.check_fresh(name)?;
            self.scopes.define_global(&name.name, binding, name.span);
        } else {
            // Inside a loop: local to the iteration, but it may not shadow another name.
            self.check_fresh(name)?;
            if self.scopes.is_family(&name.name) {
                return Err(self.redefinition(name, None));
            }
            self.scopes.define_local(&name.name, binding, name.span);
        }
        Ok(())
    }

    /// Defines a (possibly indexed) program name for an instruction.
    fn define(
        &mut self,
        ident: &ast::Ident,
        index: &[i64],
        binding: Binding,
        span: Span,
    ) -> Result<(), LowerError> {
        if index.is_empty() {
            self.check_fresh(ident)?;
            self.scopes.define_global(&ident.name, binding, ident.span);
            return Ok(());
        }
        if *ident.name == *self.width {
            return Err(LowerError::Redefinition {
                span: ident.span,
                name: ident.name.clone(),
                previous: self.width_declared,
                help: Some("this is the width symbol"),
            });
        }
        if self.scopes.is_local(&ident.name) {
            return Err(self.redefinition(ident, None));
        }
        let kind = binding.kind();
        let member = binding
            .instruction()
            .expect("only instructions are defined with an index");
        match self
            .scopes
            .define_member(&ident.name, index, binding, span, self.families.len())
        {
            Ok(scope::NewMember::InNewFamily) => {
                self.families.push(Family {
                    name: Arc::from(ident.name.as_str()),
                    kind: kind.expect("instructions have a kind"),
                    members: vec![(index.into(), member)],
                });
                Ok(())
            }
            Ok(scope::NewMember::InFamily(f)) => {
                if self.families[f].kind != kind.expect("instructions have a kind") {
                    return Err(LowerError::Redefinition {
                        span,
                        name: ident.name.clone(),
                        previous: self.scopes.span_of(&ident.name),
                        help: Some("all members of an indexed family have the same type"),
                    });
                }
                self.families[f].members.push((index.into(), member));
                Ok(())
            }
            Err(scope::MemberError::Duplicate(previous)) => Err(LowerError::Redefinition {
                span,
                name: format!(
                    "{}",
                    Name {
                        base: Arc::from(ident.name.as_str()),
                        index: index.into()
                    }
                ),
                previous: Some(previous),
                help: None,
            }),
            Err(scope::MemberError::NotAFamily(previous)) => Err(LowerError::Redefinition {
                span,
                name: ident.name.clone(),
                previous: Some(previous),
                help: Some("a name is either plain or indexed, not both"),
            }),
            Err(scope::MemberError::Arity(expected)) => Err(LowerError::ShapeMismatch {
                span,
                message: format!(
                    "`{}` was defined with {expected} indices, here it has {}",
                    ident.name,
                    index.len()
                ),
            }),
        }
    }

    fn name(&mut self, ident: &ast::Ident, index: &[i64]) -> Name {
        Name {
            base: self.scopes.intern(&ident.name),
            index: index.into(),
        }
    }

    /// Iterates over every index tuple of `binders` (later binders may use earlier ones),
    /// calling `body` with the tuple while the binder names are in scope.
    fn for_each_index(
        &mut self,
        binders: &[ast::Binder],
        index: &mut Vec<i64>,
        body: &mut IndexBody<'_>,
    ) -> Result<(), LowerError> {
        let Some((first, rest)) = binders.split_first() else {
            return body(self, index);
        };
        let start = self.integer(&first.start, "a loop bound")?;
        let mut end = self.integer(&first.end, "a loop bound")?;
        if let Some(&space) = self.plan.binder_space.get(&first.span) {
            end = self.representative_end(space, end)?;
        }
        // Each iteration costs at least one unit of work: refuse a range that cannot fit
        // before spending time (and memory) on it.
        let remaining = self.max_instructions.saturating_sub(self.work) as i128;
        if i128::from(end) - i128::from(start) > remaining {
            return Err(LowerError::TooLarge {
                span: first.span,
                limit: self.max_instructions,
            });
        }
        for i in start..end.max(start) {
            self.tick()?;
            self.scopes.push();
            if *first.name.name == *self.width {
                self.scopes.pop();
                return Err(self
                    .check_fresh(&first.name)
                    .expect_err("the width name clashes"));
            }
            self.scopes
                .define_local(&first.name.name, Binding::Index(i), first.name.span);
            let space = self.plan.binder_space.get(&first.span).copied();
            if let Some(space) = space {
                self.parallel_bound
                    .push((first.name.name.clone(), space, i as usize));
            }
            index.push(i);
            let result = self.for_each_index(rest, index, body);
            index.pop();
            if space.is_some() {
                self.parallel_bound.pop();
            }
            self.scopes.pop();
            result?;
        }
        Ok(())
    }

    /// The end of a parallel binder's range: the space's representatives, after checking that
    /// every binder of the space runs to the same size (otherwise the program is unrolled).
    fn representative_end(&mut self, space: usize, end: i64) -> Result<i64, LowerError> {
        let representatives = self.plan.representatives[space] as i64;
        match self.space_size[space] {
            Some(size) if size != end => return Err(LowerError::NotParallel),
            _ => {}
        }
        if end < representatives {
            return Err(LowerError::NotParallel);
        }
        self.space_size[space] = Some(end);
        Ok(representatives)
    }

    fn for_loop(
        &mut self,
        binders: &[ast::Binder],
        body: &[ast::Statement],
    ) -> Result<(), LowerError> {
        for b in binders {
            if self.scopes.lookup(&b.name.name).is_some() {
                return Err(
                    self.redefinition(&b.name, Some("loop indices must not shadow other names"))
                );
            }
        }
        let span = self.current;
        // Refuse a loop nest whose least work is known to exceed the limit before unrolling
        // any of it.
        let remaining = self.max_instructions.saturating_sub(self.work) as u128;
        if self.least_work(binders, body) > remaining {
            let ranges = binders.iter().map(|b| b.span).reduce(Span::join);
            return Err(LowerError::TooLarge {
                span: ranges.unwrap_or(span),
                limit: self.max_instructions,
            });
        }
        self.for_each_index(binders, &mut Vec::new(), &mut |l, _| {
            l.scopes.push();
            let result = l.statements(body);
            l.scopes.pop();
            l.current = span;
            result
        })
    }

    /// A lower bound on the work (loop iterations and instructions) of unrolling a loop: its
    /// trip count times the work of one iteration, one per assignment and nested loops
    /// likewise. A range that cannot be evaluated yet (it uses an index of an enclosing
    /// loop not bound now) counts as empty, so the bound never overestimates.
    fn least_work(&mut self, binders: &[ast::Binder], body: &[ast::Statement]) -> u128 {
        let mut trips: u128 = 1;
        for b in binders {
            let (Ok(start), Ok(end)) = (
                self.integer(&b.start, "a loop bound"),
                self.integer(&b.end, "a loop bound"),
            ) else {
                return 0;
            };
            let end = match self.plan.binder_space.get(&b.span) {
                Some(&space) => match self.representative_end(space, end) {
                    Ok(end) => end,
                    Err(_) => return 0,
                },
                None => end,
            };
            trips = trips.saturating_mul(end.saturating_sub(start).max(0) as u128);
        }
        let per_iteration = body.iter().fold(1u128, |work, statement| {
            work.saturating_add(match &statement.kind {
                StatementKind::Assign { .. } => 1,
                StatementKind::For { binders, body } => self.least_work(binders, body),
                _ => 0,
            })
        });
        trips.saturating_mul(per_iteration)
    }

    /// Evaluates index expressions to integers.
    fn indices(&mut self, exprs: &[ast::Expr]) -> Result<Vec<i64>, LowerError> {
        exprs.iter().map(|e| self.integer(e, "an index")).collect()
    }

    fn matrix_statement(
        &mut self,
        target: &ast::Declared,
        law: &ast::Gaussian,
    ) -> Result<(), LowerError> {
        let span = self.current;
        self.for_each_index(&target.binders, &mut Vec::new(), &mut |l, index| {
            l.builder.clear();
            let mean = l.constant(&law.mean, "the mean of a matrix")?;
            if constant::as_number(&mean) != Some(0.0) {
                return Err(LowerError::BadMatrixVariance {
                    span: law.mean.span,
                    reason: "a matrix's entries must have mean 0".into(),
                });
            }
            let variance = l.matrix_variance(&law.variance)?;
            let name = l.name(&target.name, index);
            let at = l.emit(Op::Matrix { variance }, Some(name), span)?;
            l.define(
                &target.name,
                index,
                Binding::Matrix(crate::ir::MatrixId::new(at)),
                target.span,
            )
        })
    }

    /// Checks that a variance has the form c/n with c > 0 and returns c.
    fn matrix_variance(&mut self, variance: &ast::Expr) -> Result<f64, LowerError> {
        let bad = |reason: String| LowerError::BadMatrixVariance {
            span: variance.span,
            reason,
        };
        let node = match self.expr(variance)? {
            expr::Value::Const(c) => {
                return Err(bad(format!(
                    "{} does not scale with the width `{}`",
                    describe_const(&c),
                    self.width
                )))
            }
            expr::Value::Scalar(node) => node,
            other => return Err(bad(format!("this is {}", other.type_name()))),
        };
        let Some((c, p)) = self.builder.monomial(node) else {
            return Err(bad(format!(
                "not a constant times a power of `{}`",
                self.width
            )));
        };
        if p != -1.0 {
            return Err(bad(format!(
                "this scales as {}^{}, not as 1/{}",
                self.width,
                crate::ir::expr::format_number(p),
                self.width
            )));
        }
        if !(c > 0.0 && c.is_finite()) {
            return Err(bad(format!(
                "c = {} is not positive",
                crate::ir::expr::format_number(c)
            )));
        }
        Ok(c)
    }

    fn vector_statement(
        &mut self,
        targets: &[ast::Declared],
        law: &ast::Gaussian,
    ) -> Result<(), LowerError> {
        let parallel = targets.iter().any(|t| {
            t.binders
                .iter()
                .any(|b| self.plan.binder_space.contains_key(&b.span))
        });
        if parallel {
            return self.representative_vector_statement(targets, law);
        }
        // Expand the declared names (binders are in scope only for their own bounds).
        let mut members: Vec<(&ast::Declared, Vec<i64>)> = Vec::new();
        for target in targets {
            let mut indices = Vec::new();
            self.for_each_index(&target.binders, &mut Vec::new(), &mut |_, index| {
                indices.push(index.to_vec());
                Ok(())
            })?;
            members.extend(indices.into_iter().map(|i| (target, i)));
        }
        let k = members.len();
        if k == 0 {
            // An empty family (`vector h[i in 0..0] ~ …`) declares nothing.
            return Ok(());
        }
        let mean = self.group_mean(law, k)?;
        let cov = self.constant(&law.variance, "a covariance")?;
        if !matches!(k.checked_mul(k), Some(n) if n <= constant::MAX_CONSTANT_ELEMENTS) {
            // The unrolled group's covariance is a k × k matrix: refuse before allocating it.
            return Err(LowerError::ShapeMismatch {
                span: law.variance.span,
                message: format!(
                    "{k} jointly Gaussian vectors need a {k}×{k} covariance, more than the {} \
                     numbers a constant may hold",
                    constant::MAX_CONSTANT_ELEMENTS
                ),
            });
        }
        let covariance = match (constant::as_number(&cov), constant::as_matrix(&cov)) {
            (Some(v), _) => ndarray::Array2::<f64>::eye(k) * v,
            (None, Some(m)) if m.nrows() == k && m.ncols() == k => m,
            _ => {
                return Err(LowerError::LawShape {
                    span: law.variance.span,
                    expected: format!("a number or a {k}×{k} matrix"),
                    found: describe_const(&cov),
                })
            }
        };
        check_covariance(&covariance, law.variance.span)?;
        let span = self.current;
        let group = self.emit(
            Op::Group {
                mean,
                covariance: covariance.iter().copied().collect(),
            },
            None,
            span,
        )?;
        self.declare_members(group, members)
    }

    /// Emits and names the members of a group, in order.
    fn declare_members<'t>(
        &mut self,
        group: usize,
        members: impl IntoIterator<Item = (&'t ast::Declared, Vec<i64>)>,
    ) -> Result<(), LowerError> {
        for (member, (target, index)) in members.into_iter().enumerate() {
            let name = self.name(&target.name, &index);
            let at = self.emit(
                Op::InitVector {
                    group: crate::ir::GroupId::new(group),
                    member: member as u32,
                },
                Some(name),
                target.span,
            )?;
            self.define(
                &target.name,
                &index,
                Binding::Vector(crate::ir::VectorId::new(at)),
                target.span,
            )?;
        }
        Ok(())
    }

    /// The mean of each of a group's `k` members: a number for all, or a list of `k`.
    fn group_mean(&mut self, law: &ast::Gaussian, k: usize) -> Result<Vec<f64>, LowerError> {
        let mean = self.constant(&law.mean, "the mean of a vector")?;
        match (constant::as_number(&mean), constant::as_list(&mean)) {
            (Some(m), _) => Ok(vec![m; k]),
            (None, Some(list)) if list.len() == k => Ok(list.to_vec()),
            _ => Err(LowerError::LawShape {
                span: law.mean.span,
                expected: format!("a number or a list of {k}"),
                found: describe_const(&mean),
            }),
        }
    }

    /// A `vector` declaration over a parallel index space: the representative members are
    /// declared, with the law of their actual rows; the full law is kept as data.
    fn representative_vector_statement(
        &mut self,
        targets: &[ast::Declared],
        law: &ast::Gaussian,
    ) -> Result<(), LowerError> {
        // Actual layout: each target's members in row-major order of its (rectangular) ranges.
        let mut members: Vec<(&ast::Declared, Vec<i64>, MemberRow)> = Vec::new();
        let mut offset = 0usize;
        for target in targets {
            let mut ranges = Vec::new();
            for b in &target.binders {
                let start = self
                    .integer(&b.start, "a loop bound")
                    .map_err(|_| LowerError::NotParallel)?;
                let end = self
                    .integer(&b.end, "a loop bound")
                    .map_err(|_| LowerError::NotParallel)?;
                let space = self.plan.binder_space.get(&b.span).copied();
                if space.is_some() && start != 0 {
                    return Err(LowerError::NotParallel);
                }
                ranges.push((start, end.max(start), space));
            }
            let mut strides = vec![1usize; ranges.len()];
            for p in (0..ranges.len().saturating_sub(1)).rev() {
                strides[p] = strides[p + 1] * (ranges[p + 1].1 - ranges[p + 1].0) as usize;
            }
            let size: usize = ranges.iter().map(|(s, e, _)| (e - s) as usize).product();
            let mut indices = Vec::new();
            self.for_each_index(&target.binders, &mut Vec::new(), &mut |_, index| {
                indices.push(index.to_vec());
                Ok(())
            })?;
            for index in indices {
                let mut row = MemberRow {
                    offset,
                    terms: Vec::new(),
                };
                for (p, (&value, &(start, _, space))) in index.iter().zip(&ranges).enumerate() {
                    match space {
                        Some(space) => row.terms.push((space, value as usize, strides[p])),
                        None => row.offset += (value - start) as usize * strides[p],
                    }
                }
                members.push((target, index, row));
            }
            offset += size;
        }
        let total = offset;
        if members.is_empty() {
            return Ok(());
        }
        if total > constant::MAX_CONSTANT_ELEMENTS {
            // Its law is data of `total` numbers at least: refuse before allocating it.
            return Err(LowerError::ShapeMismatch {
                span: law.mean.span.join(law.variance.span),
                message: format!(
                    "a family of {total} jointly Gaussian vectors needs a law of more than the \
                     {} numbers a constant may hold",
                    constant::MAX_CONSTANT_ELEMENTS
                ),
            });
        }
        let mean = self.group_mean(law, total)?;
        let cov = self.constant(&law.variance, "a covariance")?;
        let found = describe_const(&cov);
        let shape_error = || LowerError::LawShape {
            span: law.variance.span,
            expected: format!("a number or a {total}×{total} matrix"),
            found: found.clone(),
        };
        // The matrix is moved, not copied: it may be gigabytes.
        let covariance = match constant::as_number(&cov) {
            Some(v) => {
                check_covariance(&ndarray::arr2(&[[v]]), law.variance.span)?;
                GroupCovariance::Iid(v)
            }
            None => match cov.into_dimensionality::<ndarray::Ix2>() {
                Ok(m) if m.nrows() == total && m.ncols() == total => {
                    check_large_covariance(&m, law.variance.span)?;
                    GroupCovariance::Dense(Arc::new(m))
                }
                _ => return Err(shape_error()),
            },
        };
        // The representative members' own law: representative r stands for actual member r.
        let rows: Vec<usize> = members
            .iter()
            .map(|(_, _, row)| row.offset + row.terms.iter().map(|&(_, r, s)| r * s).sum::<usize>())
            .collect();
        let k = rows.len();
        let sub_mean: Vec<f64> = rows.iter().map(|&r| mean[r]).collect();
        let sub_cov: Vec<f64> = rows
            .iter()
            .flat_map(|&a| rows.iter().map(move |&b| (a, b)))
            .map(|(a, b)| covariance.get(a, b))
            .collect();
        debug_assert_eq!(sub_cov.len(), k * k);
        let span = self.current;
        let group = self.emit(
            Op::Group {
                mean: sub_mean,
                covariance: sub_cov,
            },
            None,
            span,
        )?;
        self.groups.push(GroupData {
            group: crate::ir::GroupId::new(group),
            mean: Arc::new(mean),
            covariance,
            rows: members.iter().map(|(_, _, row)| row.clone()).collect(),
        });
        self.declare_members(
            group,
            members
                .into_iter()
                .map(|(target, index, _)| (target, index)),
        )
    }

    fn scalar_statement(
        &mut self,
        target: &ast::Declared,
        value: &ast::Expr,
    ) -> Result<(), LowerError> {
        let span = self.current;
        self.for_each_index(&target.binders, &mut Vec::new(), &mut |l, index| {
            let v = l.constant(value, "the value of an initial scalar")?;
            let Some(v) = constant::as_number(&v) else {
                return Err(LowerError::ShapeMismatch {
                    span: value.span,
                    message: format!(
                        "an initial scalar is a number, found {}",
                        describe_const(&v)
                    ),
                });
            };
            let name = l.name(&target.name, index);
            let at = l.emit(Op::InitScalar { value: v }, Some(name), span)?;
            l.define(
                &target.name,
                index,
                Binding::Scalar(ScalarId::new(at)),
                target.span,
            )
        })
    }

    fn output_statement(&mut self, places: &[ast::Place]) -> Result<(), LowerError> {
        let mut outputs = self.outputs.take().unwrap_or_default();
        for place in places {
            let found = if place.index.is_empty() {
                self.scopes.family_members(&place.name.name)
            } else {
                None
            };
            let bindings = match found {
                Some(members) => members,
                None => vec![self.resolve(place)?],
            };
            for binding in bindings {
                match binding {
                    Binding::Scalar(s) => outputs.push(s),
                    other => {
                        return Err(LowerError::TypeMismatch {
                            span: place.span,
                            expected: "a scalar",
                            found: other.type_name(),
                            context: "an output",
                            help: Some("report a vector through a moment, e.g. `k = mean(x * x)`"),
                        })
                    }
                }
            }
        }
        self.outputs = Some(outputs);
        Ok(())
    }

    fn assignment(&mut self, place: &ast::Place, value: &ast::Expr) -> Result<(), LowerError> {
        let index = self.indices(&place.index)?;
        if index.is_empty() {
            // Report the clash before evaluating the right side.
            self.check_fresh(&place.name).map_err(|e| match e {
                LowerError::Redefinition { span, name, previous, .. } if !self.scopes.is_top_level() => {
                    LowerError::Redefinition {
                        span,
                        name,
                        previous,
                        help: Some("a plain name assigned in a loop is defined again in every iteration: index it, e.g. `x[t] = …`"),
                    }
                }
                other => other,
            })?;
        }
        let value = self.expr(value)?;
        let name = self.name(&place.name, &index);
        let span = self.current;
        let binding = match value {
            expr::Value::Vector(node) => {
                let at = self.name_or_emit(node, |expr| Op::Nonlin { expr }, name, span)?;
                Binding::Vector(crate::ir::VectorId::new(at))
            }
            expr::Value::Scalar(node) => {
                let at = self.name_or_emit(node, |expr| Op::ScalarOp { expr }, name, span)?;
                Binding::Scalar(ScalarId::new(at))
            }
            expr::Value::Const(c) => {
                let Some(v) = constant::as_number(&c) else {
                    return Err(LowerError::TypeMismatch {
                        span: place.span,
                        expected: "a vector or scalar",
                        found: "a list constant",
                        context: "an assigned value",
                        help: Some("declare lists and matrices with `const`"),
                    });
                };
                let node = self.builder.constant(v, span)?;
                let expr = self.builder.extract(node);
                let at = self.emit(Op::ScalarOp { expr }, Some(name), span)?;
                Binding::Scalar(ScalarId::new(at))
            }
            expr::Value::Matrix { .. } => {
                return Err(LowerError::TypeMismatch {
                    span: place.span,
                    expected: "a vector or scalar",
                    found: "a matrix",
                    context: "an assigned value",
                    help: Some("matrices are declared with `matrix W ~ N(0, c/n)`; they cannot be copied or computed"),
                })
            }
        };
        self.define(&place.name, &index, binding, place.span)
    }

    /// If `node` is exactly an unnamed instruction made by this statement (`h = W @ x`,
    /// `k = mean(…)`), gives it the name; otherwise emits `op` under the name.
    fn name_or_emit(
        &mut self,
        node: builder::NodeId,
        op: fn(crate::ir::Expr) -> Op,
        name: Name,
        span: Span,
    ) -> Result<usize, LowerError> {
        let fresh = match self.builder.node(node) {
            Some(crate::ir::ExprNode::Vector { id }) => Some(id.index()),
            Some(crate::ir::ExprNode::Scalar { id }) => Some(id.index()),
            _ => None,
        };
        if let Some(at) = fresh {
            if at >= self.statement_start && self.instructions[at].name.is_none() {
                self.instructions[at].name = Some(name);
                self.instructions[at].span = span;
                return Ok(at);
            }
        }
        let expr = self.builder.extract(node);
        self.emit(op(expr), Some(name), span)
    }
}

/// Whether `name` is a built-in function, a constant helper or `mean`.
fn is_builtin_name(name: &str) -> bool {
    crate::builtins::Builtin::from_name(name).is_some()
        || constant::helper_arity(name).is_some()
        || name == "mean"
}

fn describe_const(t: &Tensor) -> String {
    constant::describe(t)
}

/// Checks a covariance matrix: symmetric and positive semi-definite (up to rounding).
fn check_covariance(c: &ndarray::Array2<f64>, span: Span) -> Result<(), LowerError> {
    let scale = c.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    if c.iter().any(|x| !x.is_finite()) {
        return Err(LowerError::LawShape {
            span,
            expected: "finite entries".into(),
            found: "an infinite or NaN entry".into(),
        });
    }
    let k = c.nrows();
    for i in 0..k {
        for j in i + 1..k {
            if (c[[i, j]] - c[[j, i]]).abs() > 1e-12 * scale {
                return Err(LowerError::CovarianceNotSymmetric {
                    span,
                    row: i,
                    col: j,
                    upper: c[[i, j]],
                    lower: c[[j, i]],
                });
            }
        }
    }
    let (values, vectors) = crate::linalg::symmetric_eigen(c);
    if let Some(&lowest) = values.first() {
        if lowest < -1e-12 * scale * k as f64 {
            return Err(LowerError::CovarianceNotPsd {
                span,
                eigenvalue: lowest,
                eigenvector: vectors.column(0).to_vec(),
            });
        }
    }
    Ok(())
}

/// Above this many members a covariance is checked by its 2×2 principal minors only (every
/// expectation of a program over a parallel space involves at most a few members at once);
/// below it, by its eigenvalues.
const FULL_PSD_CHECK_MAX: usize = 100;

/// Checks the covariance of a large group: symmetric, finite, and PSD on every pair of
/// members (fully, by eigenvalues, when it is small).
fn check_large_covariance(c: &ndarray::Array2<f64>, span: Span) -> Result<(), LowerError> {
    let k = c.nrows();
    if k <= FULL_PSD_CHECK_MAX {
        return check_covariance(c, span);
    }
    let scale = c.iter().fold(1.0f64, |m, x| m.max(x.abs()));
    for i in 0..k {
        for j in i..k {
            let (a, b, d) = (c[[i, j]], c[[j, i]], c[[i, i]]);
            if !a.is_finite() || !b.is_finite() {
                return Err(LowerError::LawShape {
                    span,
                    expected: "finite entries".into(),
                    found: "an infinite or NaN entry".into(),
                });
            }
            if (a - b).abs() > 1e-12 * scale {
                return Err(LowerError::CovarianceNotSymmetric {
                    span,
                    row: i,
                    col: j,
                    upper: a,
                    lower: b,
                });
            }
            let e = c[[j, j]];
            let slack = 1e-12 * scale;
            if d < -slack || a * a > d.max(0.0) * e.max(0.0) + slack * scale {
                // The smallest eigenvalue of the 2×2 block, with its eigenvector.
                let mean = 0.5 * (d + e);
                let radius = (0.25 * (d - e) * (d - e) + a * a).sqrt();
                let (x, y) = if a == 0.0 {
                    if d < e {
                        (1.0, 0.0)
                    } else {
                        (0.0, 1.0)
                    }
                } else {
                    (a, mean - radius - d)
                };
                let norm = (x * x + y * y).sqrt();
                let mut eigenvector = vec![0.0; k];
                eigenvector[i] = x / norm;
                if j != i {
                    eigenvector[j] = y / norm;
                }
                return Err(LowerError::CovarianceNotPsd {
                    span,
                    eigenvalue: mean - radius,
                    eigenvector,
                });
            }
        }
    }
    Ok(())
}

/// Records every name a program defines anywhere (for "used before definition").
fn collect_definitions(statements: &[ast::Statement], out: &mut HashMap<String, Span>) {
    for s in statements {
        let mut add = |i: &ast::Ident| {
            out.entry(i.name.clone()).or_insert(i.span);
        };
        match &s.kind {
            StatementKind::Const { name, .. } | StatementKind::Def { name, .. } => add(name),
            StatementKind::Matrix { target, .. } | StatementKind::Scalar { target, .. } => {
                add(&target.name)
            }
            StatementKind::Vector { targets, .. } => targets.iter().for_each(|t| add(&t.name)),
            StatementKind::Assign { place, .. } => add(&place.name),
            StatementKind::For { body, .. } => collect_definitions(body, out),
            StatementKind::Width(_) | StatementKind::Output(_) => {}
        }
    }
}

impl Binding {
    fn kind(&self) -> Option<Kind> {
        match self {
            Binding::Matrix(_) => Some(Kind::Matrix),
            Binding::Vector(_) => Some(Kind::Vector),
            Binding::Scalar(_) => Some(Kind::Scalar),
            _ => None,
        }
    }

    fn instruction(&self) -> Option<usize> {
        match self {
            Binding::Matrix(h) => Some(h.index()),
            Binding::Vector(h) => Some(h.index()),
            Binding::Scalar(h) => Some(h.index()),
            _ => None,
        }
    }
}

//! Name tables: program-wide names (plain or indexed families) and the local scopes of
//! loop iterations and inlined `def`s.

use super::constant::Tensor;
use super::expr::Value;
use crate::diagnostics::Span;
use crate::ir::{MatrixId, ScalarId, VectorId};
use crate::syntax::ast;
use rustc_hash::{FxHashMap, FxHashSet};
use std::sync::Arc;

/// A user-defined function, inlined at each call.
#[derive(Debug)]
pub struct Def {
    /// Its name.
    pub name: String,
    /// Its parameters.
    pub params: Vec<ast::Ident>,
    /// Its body.
    pub body: ast::Expr,
    /// The `def` statement.
    pub span: Span,
}

/// What a name stands for.
#[derive(Clone, Debug)]
pub enum Binding {
    /// A compile-time constant.
    Const(Arc<Tensor>),
    /// A loop index.
    Index(i64),
    /// A matrix.
    Matrix(MatrixId),
    /// A vector.
    Vector(VectorId),
    /// A scalar.
    Scalar(ScalarId),
    /// A user-defined function.
    Def(Arc<Def>),
    /// A parameter of a `def` being inlined: the argument's value.
    Param(Value),
}

impl Binding {
    /// "a vector", "a matrix", … for messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Binding::Const(_) | Binding::Index(_) => "a constant",
            Binding::Matrix(_) => "a matrix",
            Binding::Vector(_) => "a vector",
            Binding::Scalar(_) => "a scalar",
            Binding::Def(_) => "a function",
            Binding::Param(v) => v.type_name(),
        }
    }
}

/// A program-wide name: one binding, or an indexed family of them.
enum Entry {
    Plain(Binding),
    Family {
        arity: usize,
        family: usize,
        /// Member by index, with its position in `order`.
        members: FxHashMap<Box<[i64]>, (usize, Span)>,
        /// The members in definition order.
        order: Vec<Binding>,
    },
}

/// Outcome of defining a family member.
pub enum NewMember {
    /// The first member: a new family was started.
    InNewFamily,
    /// Added to the family with this position in `Program::families`.
    InFamily(usize),
}

/// Why a member could not be defined.
pub enum MemberError {
    /// That member exists already (first defined at the span).
    Duplicate(Span),
    /// The name is a plain name (defined at the span).
    NotAFamily(Span),
    /// The family has this many indices.
    Arity(usize),
}

/// All names in scope.
///
/// Local scopes are frames of one flat stack (few names each, searched innermost first), so
/// entering and leaving a loop iteration allocates nothing; names are interned.
#[derive(Default)]
pub struct Scopes {
    globals: FxHashMap<Arc<str>, (Entry, Span)>,
    locals: Vec<(Arc<str>, Binding, Span)>,
    /// Start of each open local frame in `locals`.
    frames: Vec<usize>,
    interned: FxHashSet<Arc<str>>,
}

impl Scopes {
    /// The shared copy of a name.
    pub fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.interned.get(name) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(name);
        self.interned.insert(shared.clone());
        shared
    }

    /// Opens a local scope (a loop iteration or an inlined call).
    pub fn push(&mut self) {
        self.frames.push(self.locals.len());
    }

    /// Closes the innermost local scope.
    pub fn pop(&mut self) {
        let start = self.frames.pop().expect("a local scope is open");
        self.locals.truncate(start);
    }

    /// Whether no local scope is open.
    pub fn is_top_level(&self) -> bool {
        self.frames.is_empty()
    }

    fn local(&self, name: &str) -> Option<&(Arc<str>, Binding, Span)> {
        self.locals.iter().rev().find(|(n, _, _)| **n == *name)
    }

    /// Whether the name is bound in any local scope.
    pub fn is_local(&self, name: &str) -> bool {
        self.local(name).is_some()
    }

    /// Binds a name in the innermost local scope.
    pub fn define_local(&mut self, name: &str, binding: Binding, span: Span) {
        assert!(!self.frames.is_empty(), "a local scope is open");
        let name = self.intern(name);
        self.locals.push((name, binding, span));
    }

    /// Binds a plain program-wide name.
    pub fn define_global(&mut self, name: &str, binding: Binding, span: Span) {
        let name = self.intern(name);
        self.globals.insert(name, (Entry::Plain(binding), span));
    }

    /// Defines one member of an indexed family; `next_family` is the position a new family
    /// would take in `Program::families`.
    pub fn define_member(
        &mut self,
        name: &str,
        index: &[i64],
        binding: Binding,
        span: Span,
        next_family: usize,
    ) -> Result<NewMember, MemberError> {
        match self.globals.get_mut(name) {
            None => {
                let mut members = FxHashMap::default();
                members.insert(index.into(), (0, span));
                let entry = Entry::Family {
                    arity: index.len(),
                    family: next_family,
                    members,
                    order: vec![binding],
                };
                let name = self.intern(name);
                self.globals.insert(name, (entry, span));
                Ok(NewMember::InNewFamily)
            }
            Some((Entry::Plain(_), first)) => Err(MemberError::NotAFamily(*first)),
            Some((
                Entry::Family {
                    arity,
                    family,
                    members,
                    order,
                },
                _,
            )) => {
                if *arity != index.len() {
                    return Err(MemberError::Arity(*arity));
                }
                if let Some((_, previous)) = members.get(index) {
                    return Err(MemberError::Duplicate(*previous));
                }
                members.insert(index.into(), (order.len(), span));
                order.push(binding);
                Ok(NewMember::InFamily(*family))
            }
        }
    }

    /// Looks a plain name up: locals innermost first, then program-wide plain names.
    /// A family name without an index yields `None` here; see [`Scopes::lookup_member`].
    pub fn lookup(&self, name: &str) -> Option<&Binding> {
        if let Some((_, b, _)) = self.local(name) {
            return Some(b);
        }
        match self.globals.get(name) {
            Some((Entry::Plain(b), _)) => Some(b),
            _ => None,
        }
    }

    /// Whether `name` is an indexed family (of instructions).
    pub fn is_family(&self, name: &str) -> bool {
        !self.is_local(name) && matches!(self.globals.get(name), Some((Entry::Family { .. }, _)))
    }

    /// Looks up a family member: `Ok(binding)`, or `Err(description of defined members)`.
    pub fn lookup_member(&self, name: &str, index: &[i64]) -> Result<&Binding, String> {
        match self.globals.get(name) {
            Some((
                Entry::Family {
                    arity,
                    members,
                    order,
                    ..
                },
                _,
            )) => {
                if *arity != index.len() {
                    return Err(format!("`{name}` takes {arity} indices"));
                }
                match members.get(index) {
                    Some((position, _)) => Ok(&order[*position]),
                    None => {
                        let mut keys: Vec<&[i64]> = members.keys().map(|k| &**k).collect();
                        keys.sort_unstable();
                        Err(summarize_indices(&keys))
                    }
                }
            }
            _ => Err(String::new()),
        }
    }

    /// All members of a family, in definition order.
    pub fn family_members(&self, name: &str) -> Option<Vec<Binding>> {
        if self.is_local(name) {
            return None;
        }
        match self.globals.get(name) {
            Some((Entry::Family { order, .. }, _)) => Some(order.clone()),
            _ => None,
        }
    }

    /// Where a name was first defined.
    pub fn span_of(&self, name: &str) -> Option<Span> {
        if let Some((_, _, s)) = self.local(name) {
            return Some(*s);
        }
        self.globals.get(name).map(|(_, s)| *s)
    }

    /// Every name visible now (for "did you mean" suggestions).
    pub fn visible_names(&self) -> impl Iterator<Item = &str> {
        self.locals
            .iter()
            .map(|(k, _, _)| k)
            .chain(self.globals.keys())
            .map(|k| &**k)
    }
}

fn summarize_indices(order: &[&[i64]]) -> String {
    let shown: Vec<String> = order
        .iter()
        .take(6)
        .map(|k| {
            let parts: Vec<String> = k.iter().map(|i| i.to_string()).collect();
            format!("[{}]", parts.join(", "))
        })
        .collect();
    let more = if order.len() > 6 {
        format!(", … ({} in all)", order.len())
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}

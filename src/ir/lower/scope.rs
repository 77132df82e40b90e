//! Name tables: program-wide names (plain or indexed families) and the local scopes of
//! loop iterations and inlined `def`s.

use super::constant::Tensor;
use super::expr::Value;
use crate::diagnostics::Span;
use crate::ir::{MatrixId, ScalarId, VectorId};
use crate::syntax::ast;
use std::collections::HashMap;
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
    /// A compile-time constant (also loop indices).
    Const(Arc<Tensor>),
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
            Binding::Const(_) => "a constant",
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
        members: HashMap<Box<[i64]>, (Binding, Span)>,
        order: Vec<Box<[i64]>>,
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
#[derive(Default)]
pub struct Scopes {
    globals: HashMap<Arc<str>, (Entry, Span)>,
    locals: Vec<HashMap<Arc<str>, (Binding, Span)>>,
}

impl Scopes {
    /// Opens a local scope (a loop iteration or an inlined call).
    pub fn push(&mut self) {
        self.locals.push(HashMap::new());
    }

    /// Closes the innermost local scope.
    pub fn pop(&mut self) {
        self.locals.pop();
    }

    /// Whether no local scope is open.
    pub fn is_top_level(&self) -> bool {
        self.locals.is_empty()
    }

    /// Whether the name is bound in any local scope.
    pub fn is_local(&self, name: &str) -> bool {
        self.locals.iter().any(|s| s.contains_key(name))
    }

    /// Binds a name in the innermost local scope.
    pub fn define_local(&mut self, name: &str, binding: Binding, span: Span) {
        self.locals
            .last_mut()
            .expect("a local scope is open")
            .insert(Arc::from(name), (binding, span));
    }

    /// Binds a plain program-wide name.
    pub fn define_global(&mut self, name: &str, binding: Binding, span: Span) {
        self.globals
            .insert(Arc::from(name), (Entry::Plain(binding), span));
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
                let key: Box<[i64]> = index.into();
                let members = HashMap::from([(key.clone(), (binding, span))]);
                let entry = Entry::Family {
                    arity: index.len(),
                    family: next_family,
                    members,
                    order: vec![key],
                };
                self.globals.insert(Arc::from(name), (entry, span));
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
                members.insert(index.into(), (binding, span));
                order.push(index.into());
                Ok(NewMember::InFamily(*family))
            }
        }
    }

    /// Looks a plain name up: locals innermost first, then program-wide plain names.
    /// A family name without an index yields `None` here; see [`Scopes::lookup_member`].
    pub fn lookup(&self, name: &str) -> Option<&Binding> {
        for scope in self.locals.iter().rev() {
            if let Some((b, _)) = scope.get(name) {
                return Some(b);
            }
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
                members
                    .get(index)
                    .map(|(b, _)| b)
                    .ok_or_else(|| summarize_indices(order))
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
            Some((Entry::Family { members, order, .. }, _)) => {
                Some(order.iter().map(|k| members[k].0.clone()).collect())
            }
            _ => None,
        }
    }

    /// Where a name was first defined.
    pub fn span_of(&self, name: &str) -> Option<Span> {
        for scope in self.locals.iter().rev() {
            if let Some((_, s)) = scope.get(name) {
                return Some(*s);
            }
        }
        self.globals.get(name).map(|(_, s)| *s)
    }

    /// Every name visible now (for "did you mean" suggestions).
    pub fn visible_names(&self) -> impl Iterator<Item = &str> {
        self.locals
            .iter()
            .flat_map(|s| s.keys())
            .chain(self.globals.keys())
            .map(|k| &**k)
    }
}

fn summarize_indices(order: &[Box<[i64]>]) -> String {
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

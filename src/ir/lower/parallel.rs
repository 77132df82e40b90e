//! Which loop indices run over exchangeable members: the *parallel* index spaces.
//!
//! An index space is a set of loop and declaration indices that index the same family
//! positions (`i` of `h1[i in 0..N]`, of `x[l, i]` and of `K[i, j]`, and `j` of `K[i, j]`).
//! It is parallel when every member of every family it indexes is computed from the members
//! its own index tuple names, and only through bare indices: no `x[i + 1]`, no `x[0]`, no
//! index used as a number, no matrix family over it, and a constant indexed by it only inside
//! an instruction (`Sigma[1, i, j] = K1[i, j]`: data per member, read for every member). Then each
//! member's computation is the same template for every index tuple with the same equality
//! pattern, and lowering needs only a few *representative* members per space: as many as the
//! deepest nest of the space's indices (two for `K[i, j]`). Everything else (a recurrence over
//! layers or steps, `x[l - 1]`) is *sequential* and unrolled.
//!
//! This module decides that from the syntax alone; [`super::Lowerer`] checks the ranges (every
//! index of a space runs over `0..N` or `j in i..N`, the same `N`) while it lowers.

use crate::diagnostics::Span;
use crate::syntax::ast::{self, ExprKind, StatementKind};
use std::collections::{HashMap, HashSet};

/// The parallel index spaces of a program, as found in its syntax.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ParallelPlan {
    /// The space of every parallel binder, by the binder's span.
    pub binder_space: HashMap<Span, usize>,
    /// The space of every parallel family position: `(family name, position)`.
    pub slot_space: HashMap<(String, usize), usize>,
    /// Representatives of each space: the most of its indices bound at once.
    pub representatives: Vec<usize>,
}

impl ParallelPlan {
    /// Whether the program has any parallel space.
    pub fn is_empty(&self) -> bool {
        self.representatives.is_empty()
    }
}

/// Finds the parallel index spaces of a program.
pub fn analyze(program: &ast::Program) -> ParallelPlan {
    let mut walker = Walker::default();
    walker.collect_names(&program.statements);
    walker.statements(&program.statements);
    walker.plan()
}

#[derive(Default)]
struct Walker {
    /// Union–find parents; nodes are binders and family slots.
    parent: Vec<usize>,
    /// Nodes that must stay sequential.
    bad: Vec<bool>,
    /// Binder nodes with their spans.
    binders: Vec<(usize, Span)>,
    /// Family slot nodes.
    slots: HashMap<(String, usize), usize>,
    /// Binder variables in scope, innermost last.
    scope: Vec<(String, usize)>,
    /// Sets of binder nodes bound at once (one per statement inside loops).
    nests: Vec<Vec<usize>>,
    /// Names of constants and matrices (indexing them is not a family access).
    constants: HashSet<String>,
    matrices: HashSet<String>,
    /// Walking the right side of an assignment: a constant indexed by bare indices there is
    /// data per member (lowered as a scalar read from the constant), not a compile-time number.
    in_instruction: bool,
}

impl Walker {
    fn node(&mut self) -> usize {
        self.parent.push(self.parent.len());
        self.bad.push(false);
        self.parent.len() - 1
    }

    fn root(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            self.parent[ra] = rb;
            self.bad[rb] |= self.bad[ra];
        }
    }

    fn mark(&mut self, a: usize) {
        let r = self.root(a);
        self.bad[r] = true;
    }

    fn slot(&mut self, name: &str, position: usize) -> usize {
        if let Some(&s) = self.slots.get(&(name.to_string(), position)) {
            return s;
        }
        let s = self.node();
        self.slots.insert((name.to_string(), position), s);
        s
    }

    fn binder_var(&self, name: &str) -> Option<usize> {
        self.scope
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|&(_, b)| b)
    }

    fn collect_names(&mut self, statements: &[ast::Statement]) {
        for s in statements {
            match &s.kind {
                StatementKind::Const { name, .. } => {
                    self.constants.insert(name.name.clone());
                }
                StatementKind::Matrix { target, .. } => {
                    self.matrices.insert(target.name.name.clone());
                }
                StatementKind::For { body, .. } => self.collect_names(body),
                _ => {}
            }
        }
    }

    /// Opens binders (their bounds see the earlier ones) and returns their nodes.
    fn open(&mut self, binders: &[ast::Binder]) -> Vec<usize> {
        let mut nodes = Vec::new();
        for b in binders {
            let node = self.node();
            match &b.start.kind {
                ExprKind::Number(x) if *x == 0.0 => {}
                ExprKind::Name(p)
                    if p.index.is_empty() && self.binder_var(&p.name.name).is_some() =>
                {
                    let other = self.binder_var(&p.name.name).expect("checked");
                    self.union(node, other);
                }
                _ => {
                    self.expr(&b.start);
                    self.mark(node);
                }
            }
            self.expr(&b.end);
            self.binders.push((node, b.span));
            self.scope.push((b.name.name.clone(), node));
            nodes.push(node);
        }
        nodes
    }

    fn close(&mut self, count: usize) {
        self.scope.truncate(self.scope.len() - count);
    }

    fn nest(&mut self) {
        if !self.scope.is_empty() {
            self.nests
                .push(self.scope.iter().map(|&(_, b)| b).collect());
        }
    }

    fn statements(&mut self, statements: &[ast::Statement]) {
        for s in statements {
            self.statement(s);
        }
    }

    fn statement(&mut self, statement: &ast::Statement) {
        self.nest();
        match &statement.kind {
            StatementKind::Width(_) | StatementKind::Def { .. } => {}
            StatementKind::Const { value, .. } => self.expr(value),
            StatementKind::Matrix { target, law } => {
                let nodes = self.declared(target);
                nodes.iter().for_each(|&n| self.mark(n));
                self.close(nodes.len());
                self.expr(&law.mean);
                self.expr(&law.variance);
            }
            StatementKind::Scalar { target, value } => {
                let nodes = self.declared(target);
                // A scalar family's value is data per member: kept sequential.
                nodes.iter().for_each(|&n| self.mark(n));
                self.expr(value);
                self.close(nodes.len());
            }
            StatementKind::Vector { targets, law } => {
                for target in targets {
                    let nodes = self.declared(target);
                    self.close(nodes.len());
                }
                self.expr(&law.mean);
                self.expr(&law.variance);
            }
            StatementKind::Output(places) => {
                for p in places {
                    self.place(p);
                }
            }
            StatementKind::For { binders, body } => {
                let nodes = self.open(binders);
                self.statements(body);
                self.close(nodes.len());
            }
            StatementKind::Assign { place, value } => {
                self.place(place);
                self.in_instruction = true;
                self.expr(value);
                self.in_instruction = false;
            }
        }
    }

    /// A declared family: its binders index its positions.
    fn declared(&mut self, target: &ast::Declared) -> Vec<usize> {
        let nodes = self.open(&target.binders);
        self.nest();
        for (p, &n) in nodes.iter().enumerate() {
            let slot = self.slot(&target.name.name, p);
            self.union(slot, n);
        }
        nodes
    }

    fn place(&mut self, place: &ast::Place) {
        let name = &place.name.name;
        if place.index.is_empty() {
            if let Some(b) = self.binder_var(name) {
                // An index used as a number.
                self.mark(b);
            }
            return;
        }
        let family = !self.constants.contains(name) && !self.matrices.contains(name);
        for (p, e) in place.index.iter().enumerate() {
            let bare = match &e.kind {
                ExprKind::Name(q) if q.index.is_empty() => self.binder_var(&q.name.name),
                _ => None,
            };
            match (family, bare) {
                (true, Some(b)) => {
                    let slot = self.slot(name, p);
                    self.union(slot, b);
                }
                (true, None) => {
                    let slot = self.slot(name, p);
                    self.mark(slot);
                    self.expr(e);
                }
                (false, Some(b)) => {
                    if self.matrices.contains(name) {
                        // A matrix family over the index: kept sequential.
                        self.mark(b);
                        let slot = self.slot(name, p);
                        self.union(slot, b);
                    } else if !self.in_instruction {
                        // A constant indexed by it where a number is needed (a `const`, a law).
                        self.mark(b);
                    }
                }
                (false, None) => {
                    if self.matrices.contains(name) {
                        let slot = self.slot(name, p);
                        self.mark(slot);
                    }
                    self.expr(e);
                }
            }
        }
    }

    fn expr(&mut self, e: &ast::Expr) {
        match &e.kind {
            ExprKind::Name(place) => self.place(place),
            ExprKind::Call { args, .. } => args.iter().for_each(|a| self.expr(a)),
            ExprKind::List(items) => items.iter().for_each(|a| self.expr(a)),
            ExprKind::Neg(a) | ExprKind::Transpose(a) => self.expr(a),
            ExprKind::Binary { lhs, rhs, .. } => {
                self.expr(lhs);
                self.expr(rhs);
            }
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }

    fn plan(mut self) -> ParallelPlan {
        let mut space_of_root: HashMap<usize, usize> = HashMap::new();
        let mut plan = ParallelPlan::default();
        let binders = std::mem::take(&mut self.binders);
        for &(node, span) in &binders {
            let root = self.root(node);
            if self.bad[root] {
                continue;
            }
            let next = space_of_root.len();
            let space = *space_of_root.entry(root).or_insert(next);
            plan.binder_space.insert(span, space);
        }
        plan.representatives = vec![1; space_of_root.len()];
        for nest in std::mem::take(&mut self.nests) {
            let mut count: HashMap<usize, usize> = HashMap::new();
            for b in nest {
                let root = self.root(b);
                if let Some(&s) = space_of_root.get(&root) {
                    *count.entry(s).or_default() += 1;
                }
            }
            for (s, c) in count {
                plan.representatives[s] = plan.representatives[s].max(c);
            }
        }
        let slots: Vec<((String, usize), usize)> = self.slots.drain().collect();
        for (key, node) in slots {
            let root = self.root(node);
            if let Some(&s) = space_of_root.get(&root) {
                plan.slot_space.insert(key, s);
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spaces(source: &str) -> (usize, Vec<usize>) {
        let ast = crate::syntax::parse(source).expect("parses");
        let plan = analyze(&ast);
        (plan.binder_space.len(), plan.representatives)
    }

    #[test]
    fn inputs_are_parallel_and_layers_sequential() {
        let source =
            "const N = 4\nvector h1[i in 0..N] ~ N(0, 1)\nmatrix W[l in 2..4] ~ N(0, 1/n)\n\
            for i in 0..N { x[1, i] = relu(h1[i]) }\n\
            for l in 2..4, i in 0..N { x[l, i] = relu(W[l] @ x[l - 1, i]) }\n\
            for i in 0..N, j in i..N { K[i, j] = mean(x[3, i] * x[3, j]) }\noutput K\n";
        let (binders, reps) = spaces(source);
        // i in h1's declaration, the three loops over i, and j: one space, two representatives.
        assert_eq!(reps, vec![2]);
        assert_eq!(binders, 5);
    }

    #[test]
    fn shifted_or_numeric_indices_are_sequential() {
        let shifted =
            "const N = 4\nvector h[i in 0..N] ~ N(0, 1)\nfor i in 0..N { y[i] = h[i] * 2 }\n\
            for i in 1..N { k[i] = mean(y[i] * y[i - 1]) }\noutput k\n";
        assert_eq!(spaces(shifted).1, Vec::<usize>::new());
        let numeric = "const N = 4\nvector h[i in 0..N] ~ N(0, 1)\nfor i in 0..N { k[i] = mean(h[i]) * i }\noutput k\n";
        assert_eq!(spaces(numeric).1, Vec::<usize>::new());
        let data = "const N = 2\nconst Y = [1, 2]\nvector h[i in 0..N] ~ N(0, 1)\nfor i in 0..N { const y = Y[i]\n k[i] = mean(h[i]) * y }\noutput k\n";
        assert_eq!(spaces(data).1, Vec::<usize>::new());
        let per_member = "const N = 2\nconst Y = [1, 2]\nvector h[i in 0..N] ~ N(0, 1)\nfor i in 0..N { k[i] = mean(h[i]) * Y[i] }\noutput k\n";
        assert_eq!(spaces(per_member).1, vec![1]);
        let pinned = "const N = 4\nvector h[i in 0..N] ~ N(0, 1)\nfor i in 0..N { k[i] = mean(h[i] * h[0]) }\noutput k\n";
        assert_eq!(spaces(pinned).1, Vec::<usize>::new());
    }
}

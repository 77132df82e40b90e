//! Asymptotic expansions in powers of the width: `Σ_e n^e · c_e + O(n^ρ)`.
//!
//! A coefficient `c_e` is an expression in the shared [`Arena`] over symbols of Θ(1)
//! quantities (Gaussian atoms, matrix products, limits of Moments). Terms are collected
//! per exponent, so two quantities that agree to leading order cancel exactly there
//! (`φ(h + n^{-3/2}δ) − φ(h) = n^{-3/2} φ'(h) δ + …`). The remainder `O(n^ρ)` says what the
//! expansion no longer knows: terms dropped below the tracked order, the `n^{-1/2}`
//! fluctuation of a Moment around its limit, or a quantity whose structure was lost
//! (a nonlinearity of a blowing-up argument).

use crate::symbolic::{Arena, ExprId, Node};
use num_rational::Rational64;
use num_traits::{CheckedAdd, CheckedMul};

/// An exact rational power of the width.
pub type Exponent = Rational64;

/// An exponent standing for growth faster than every power of n (`exp` of a growing argument).
pub const UNBOUNDED: i64 = 1_000_000;

/// Terms growing faster than `n^MAX_EXPONENT` count as unbounded.
const MAX_EXPONENT: i64 = 1000;

/// Exponents with larger denominators are not tracked (they keep exact arithmetic in range).
const MAX_DENOMINATOR: i64 = 1_000_000;

/// The remainder of a quantity that grows faster than any tracked power.
pub fn unbounded() -> Rest {
    Rest {
        exponent: Exponent::from_integer(UNBOUNDED),
        kind: RestKind::Opaque,
    }
}

/// What a remainder `O(n^ρ)` stands for, in increasing order of ignorance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RestKind {
    /// Terms dropped below the tracked order (a truncated Taylor series or the floor).
    Truncated,
    /// The fluctuation of a Moment around its limit: random, of size at most `n^ρ`.
    Fluctuation,
    /// A quantity of size at most `n^ρ` whose structure is not tracked.
    Opaque,
}

/// The remainder `O(n^ρ)` of an expansion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rest {
    /// ρ.
    pub exponent: Exponent,
    /// What it stands for.
    pub kind: RestKind,
}

impl Rest {
    /// The larger remainder; at equal exponents the less known kind.
    pub fn max(a: Option<Rest>, b: Option<Rest>) -> Option<Rest> {
        match (a, b) {
            (Some(a), Some(b)) => Some(if (a.exponent, a.kind) >= (b.exponent, b.kind) {
                a
            } else {
                b
            }),
            (a, None) => a,
            (None, b) => b,
        }
    }
}

/// `Σ_e n^e · c_e + O(n^ρ)`, terms in decreasing order of exponent, none below ρ.
#[derive(Clone, Debug, PartialEq)]
pub struct Expansion {
    /// `(e, c_e)`, exponents strictly decreasing, coefficients not structurally zero.
    pub terms: Vec<(Exponent, ExprId)>,
    /// The remainder, if any.
    pub rest: Option<Rest>,
}

/// The arithmetic of expansions, with the arena the coefficients live in.
pub struct Calculus<'a> {
    /// The coefficients' arena.
    pub arena: &'a mut Arena,
    /// Terms below `n^floor` are dropped into the remainder.
    pub floor: Exponent,
}

impl Expansion {
    /// Exactly zero.
    pub fn zero() -> Expansion {
        Expansion {
            terms: Vec::new(),
            rest: None,
        }
    }

    /// A single exact term `n^e · c`.
    pub fn term(e: Exponent, c: ExprId) -> Expansion {
        Expansion {
            terms: vec![(e, c)],
            rest: None,
        }
    }

    /// Only a remainder: a quantity of size at most `n^ρ`.
    pub fn rest_only(exponent: Exponent, kind: RestKind) -> Expansion {
        Expansion {
            terms: Vec::new(),
            rest: Some(Rest { exponent, kind }),
        }
    }

    /// The largest exponent present, in a term or the remainder.
    pub fn lead(&self) -> Option<Exponent> {
        let term = self.terms.first().map(|t| t.0);
        let rest = self.rest.map(|r| r.exponent);
        term.max(rest)
    }

    /// The coefficient of `n^e`, if that term is present.
    pub fn coefficient(&self, e: Exponent) -> Option<ExprId> {
        self.terms.iter().find(|t| t.0 == e).map(|t| t.1)
    }

    /// The expansion without its `n^e` term.
    pub fn without(&self, e: Exponent) -> Expansion {
        Expansion {
            terms: self.terms.iter().copied().filter(|t| t.0 != e).collect(),
            rest: self.rest,
        }
    }
}

impl Calculus<'_> {
    fn is_zero(&self, c: ExprId) -> bool {
        matches!(self.arena.node(c), Node::Const(k) if *k == 0.0)
    }

    /// `n^by · a`.
    pub fn shift(&mut self, a: &Expansion, by: Exponent) -> Expansion {
        let mut overflow = false;
        let mut moved = |e: Exponent| {
            let shifted = e.checked_add(&by);
            overflow |= shifted.is_none();
            shifted
        };
        let terms: Vec<(Exponent, ExprId)> = a
            .terms
            .iter()
            .filter_map(|&(e, c)| Some((moved(e)?, c)))
            .collect();
        let rest = a.rest.and_then(|r| {
            Some(Rest {
                exponent: moved(r.exponent)?,
                kind: r.kind,
            })
        });
        let rest = if overflow {
            Rest::max(rest, Some(unbounded()))
        } else {
            rest
        };
        self.normal(terms, rest)
    }

    /// The expansion of `Σ terms + rest`: sorted, equal exponents collected, zeros dropped,
    /// terms below the floor moved into the remainder, terms below the remainder dropped.
    pub fn normal(&mut self, mut terms: Vec<(Exponent, ExprId)>, rest: Option<Rest>) -> Expansion {
        terms.sort_by_key(|t| std::cmp::Reverse(t.0));
        let mut collected: Vec<(Exponent, ExprId)> = Vec::new();
        for (e, c) in terms {
            match collected.last_mut() {
                Some(last) if last.0 == e => last.1 = self.arena.add(last.1, c),
                _ => collected.push((e, c)),
            }
        }
        let mut rest = rest;
        let mut kept = Vec::new();
        for (e, c) in collected {
            if self.is_zero(c) {
                continue;
            }
            if e > Exponent::from_integer(MAX_EXPONENT) || *e.denom() > MAX_DENOMINATOR {
                // Beyond any meaningful width power, and where exact arithmetic could overflow.
                rest = Rest::max(rest, Some(unbounded()));
                continue;
            }
            if e < self.floor {
                let dropped = Rest {
                    exponent: e,
                    kind: RestKind::Truncated,
                };
                rest = Rest::max(rest, Some(dropped));
                continue;
            }
            kept.push((e, c));
        }
        let rest = rest.map(|r| {
            let untracked = r.exponent > Exponent::from_integer(MAX_EXPONENT)
                || *r.exponent.denom() > MAX_DENOMINATOR;
            if untracked {
                unbounded()
            } else {
                r
            }
        });
        if let Some(r) = rest {
            kept.retain(|t| t.0 >= r.exponent);
        }
        Expansion { terms: kept, rest }
    }

    /// `a + k·b`.
    pub fn add(&mut self, a: &Expansion, b: &Expansion, k: f64) -> Expansion {
        let mut terms = a.terms.clone();
        for &(e, c) in &b.terms {
            let scaled = self.arena.scale(c, k);
            terms.push((e, scaled));
        }
        self.normal(terms, Rest::max(a.rest, b.rest))
    }

    /// `a · b`.
    pub fn mul(&mut self, a: &Expansion, b: &Expansion) -> Expansion {
        let mut terms = Vec::new();
        let mut overflow = false;
        for &(ea, ca) in &a.terms {
            for &(eb, cb) in &b.terms {
                match ea.checked_add(&eb) {
                    Some(e) => {
                        let product = self.arena.mul(ca, cb);
                        terms.push((e, product));
                    }
                    None => overflow = true,
                }
            }
        }
        let mut shifted = |rest: Option<Rest>, other: &Expansion| {
            let (r, lead) = rest.zip(other.lead())?;
            let exponent = r.exponent.checked_add(&lead);
            overflow |= exponent.is_none();
            exponent.map(|exponent| Rest {
                exponent,
                kind: r.kind,
            })
        };
        let rest = Rest::max(shifted(a.rest, b), shifted(b.rest, a));
        let rest = if overflow {
            Rest::max(rest, Some(unbounded()))
        } else {
            rest
        };
        self.normal(terms, rest)
    }

    /// `c · a` for a number c.
    pub fn scale(&mut self, a: &Expansion, k: f64) -> Expansion {
        self.add(&Expansion::zero(), a, k)
    }

    /// `a^k` for a natural number k, by repeated squaring.
    pub fn powi(&mut self, a: &Expansion, k: u32) -> Expansion {
        let one = self.arena.constant(1.0);
        let mut result = Expansion::term(Exponent::from_integer(0), one);
        let mut base = a.clone();
        let mut k = k;
        while k > 0 {
            if k & 1 == 1 {
                result = self.mul(&result, &base);
            }
            k >>= 1;
            if k > 0 {
                base = self.mul(&base, &base);
            }
        }
        result
    }

    /// `g(a)` for a function whose j-th derivative at a Θ(1) point `x` is `derivative(arena, j, x)`,
    /// when `a = a₀ + δ` with `a₀` the `n⁰` coefficient and δ vanishing: the Taylor series
    /// `Σ_{j ≤ order} g^{(j)}(a₀) δ^j / j!` with remainder `O(δ^{order+1})`.
    ///
    /// The caller has checked that nothing in `a` grows.
    pub fn taylor(
        &mut self,
        a: &Expansion,
        order: u32,
        derivative: &mut dyn FnMut(&mut Arena, u32, ExprId) -> ExprId,
    ) -> Expansion {
        let zero = Exponent::from_integer(0);
        let base = match a.coefficient(zero) {
            Some(c) => c,
            None => self.arena.constant(0.0),
        };
        let delta = a.without(zero);
        let value = derivative(self.arena, 0, base);
        let mut result = Expansion::term(zero, value);
        let Some(delta_lead) = delta.lead() else {
            return self.normal(result.terms, None);
        };
        let mut power = delta.clone();
        let mut factorial = 1.0;
        for j in 1..=order {
            factorial *= f64::from(j);
            let slope = derivative(self.arena, j, base);
            let slope = self.arena.scale(slope, 1.0 / factorial);
            let term = self.mul(&Expansion::term(zero, slope), &power);
            result = self.add(&result, &term, 1.0);
            if j < order {
                power = self.mul(&power, &delta);
            }
        }
        let truncated = match delta_lead.checked_mul(&Exponent::from_integer(i64::from(order + 1)))
        {
            Some(exponent) => Rest {
                exponent,
                kind: RestKind::Truncated,
            },
            None => unbounded(),
        };
        let rest = Rest::max(result.rest, Some(truncated));
        self.normal(result.terms, rest)
    }
}

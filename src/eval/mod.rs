//! Numerical evaluation of Gaussian expectations: quadrature, kink-aware rules, closed forms, Monte Carlo.

pub mod closed_form;
pub mod gauss_hermite;
pub mod gaussian;
pub mod kink;
pub mod monte_carlo;
pub mod quadrature;

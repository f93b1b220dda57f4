//! The optimization engine Lambda (docs/design.md and docs/scoring.md): applies the safe
//! recommendations itself (SCALE_UP, after every check of section 7), holds the rest for a
//! person's approval, verifies applied changes on its 15-minute sweep and rolls back those
//! that went wrong.

pub mod engine;
pub mod event;
#[cfg(test)]
mod fuzz;
pub mod lambda;
pub mod plan;

//! fleet-optimizer's performance analyzer (docs/design.md, docs/scoring.md and docs/responses.md): reads the
//! fleet's CloudWatch metrics in batches, scores every group, writes recommendations with
//! conditional puts, keeps one open request per finding (refreshed or replaced), signs its
//! automated scale changes, publishes its metrics and alerts on HIGH findings.
//!
//! The handler logic lives here so tests can call it; `main.rs` only wires it to the Lambda
//! runtime.

mod analysis;
pub mod event;
#[cfg(test)]
mod fuzz;
pub mod lambda;

pub use analysis::{AnalyzerError, Deps, GroupOutcome, GroupStatus, Response, Withheld, run};

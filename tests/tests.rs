//! End-to-end tests of fleet-optimizer: the built binaries and the project's scripts, as an
//! operator runs them, against the local AWS emulator. All compile into this one test binary.
//!
//! Needs `cargo build --workspace --bins` first and, for the emulator tests, a running
//! emulator: `scripts/test` does both.

// A test that cannot set up must fail loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

mod analyzer_lambda;
mod approval_and_scaling;
mod approval_loop;
mod aws_access;
mod cost;
mod cost_lambda;
mod dashboard;
mod emulator_scripts;
mod engine_lambda;
mod faults;
mod metrics;
mod operator;
mod recommendations;
mod schedules;
mod score;
mod shards;

//! Capability traits: what the functions need from the outside world, named for what it does
//! for us and speaking our model, never SDK types. The AWS adapters (`fleetopt-aws`) implement
//! them; the `fakes` feature adds in-memory implementations and the contract suite that every
//! implementation, fake or real, must pass.

mod store;

#[cfg(any(test, feature = "fakes"))]
pub mod fakes;

pub use store::{
    PutOutcome, RecommendationQuery, RecommendationStore, StoreError, Transition, newest_first,
};

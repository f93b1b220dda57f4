//! The cost optimizer Lambda (docs/design.md): Cost Explorer trends and forecast,
//! spot against on-demand prices, right-sizing, reserved capacity and run-rate findings,
//! written as COST_OPTIMIZATION (and INSTANCE_TYPE_CHANGE) recommendations, with
//! CostSavingsPotential and cost alerts; and the savings completed changes achieved
//! (`realized`, RealizedSavings).

pub mod analysis;
pub mod event;
#[cfg(test)]
mod fuzz;
pub mod lambda;
pub mod prices;
pub mod realized;

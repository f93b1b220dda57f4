//! Policy over the ports: which findings the analyzer and the cost optimizer write, and how.
//! `screen` holds the operator's noise controls (exclusion tags, snoozes, anti-churn, minimum
//! savings, the persistence count) and the rule of one open request per finding (refresh in
//! place, or replace), with the history read they need and the conditional writes of the
//! result. The ports stay capabilities: they neither read the configuration nor decide.

pub mod screen;

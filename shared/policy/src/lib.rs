//! Policy over the ports: which findings the analyzer and the cost optimizer write, and how.
//! `screen` holds the operator's noise controls (exclusion tags, snoozes, anti-churn, minimum
//! savings, the persistence count) and the rule of one open request per finding (refresh in
//! place, or replace), with the history read they need and the conditional writes of the
//! result. The ports stay capabilities: they neither read the configuration nor decide.

pub mod screen;

use fleetopt_config::FleetSelector;
use fleetopt_ports::GroupSelector;

/// The groups the configuration targets, as the fleet port asks for them: the one conversion
/// every function uses.
pub fn selector(fleet: &FleetSelector) -> GroupSelector {
    match fleet {
        FleetSelector::Names(names) => GroupSelector::Names(names.clone()),
        FleetSelector::Tag { key, value } => GroupSelector::Tag {
            key: key.clone(),
            value: value.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_names_and_a_tag_stays_a_tag() {
        assert_eq!(
            selector(&FleetSelector::Names(vec!["web".into()])),
            GroupSelector::Names(vec!["web".into()])
        );
        assert_eq!(
            selector(&FleetSelector::Tag {
                key: "team".into(),
                value: "shop".into()
            }),
            GroupSelector::Tag {
                key: "team".into(),
                value: "shop".into()
            }
        );
    }
}

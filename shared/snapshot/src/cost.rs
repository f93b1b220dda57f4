//! What one cost run read, as the ports return it ([`CostReads`]), made into the plain
//! [`CostSnapshot`] the cost rules assess: the catalog priced, each group's spot prices and
//! hourly maxima picked out, Cost Explorer's figures reduced to what the rules use.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use fleetopt_costing::{
    Architecture, CostSnapshot, GroupUsage, InstanceType, Offer, Periods, Spend, TagCheck,
};
use fleetopt_ports::{
    GroupInfo, InstanceTypeInfo, MetricResults, MonthCost, PurchaseRecommendation, ScheduledAction,
    SpotPrice,
};
use fleetopt_scoring::{SCHEDULED_ACTION_PREFIX, ScheduledWindow};

use crate::{hourly_demand, hourly_maxima, hourly_requests};

/// The group's fleet-optimizer actions among `actions`, as windows.
pub fn windows_of(group: &str, actions: &[ScheduledAction]) -> Vec<ScheduledWindow> {
    actions
        .iter()
        .filter(|a| a.group == group)
        .filter_map(|a| {
            Some(ScheduledWindow {
                name: a.name.strip_prefix(SCHEDULED_ACTION_PREFIX)?.to_owned(),
                recurrence: a.recurrence.clone().unwrap_or_default(),
                starts: String::new(),
                min_size: a.min_size.unwrap_or_default(),
                desired_capacity: a.desired_capacity.unwrap_or_default(),
                max_size: a.max_size.unwrap_or_default(),
            })
        })
        .collect()
}

/// Everything a cost run read; a read that failed is empty or `None` (the run says why).
#[derive(Debug, Clone, Default)]
pub struct CostReads {
    /// The groups, in discovery order (the order of the right-sizing queries).
    pub groups: Vec<GroupInfo>,
    /// The account's cost per month and service.
    pub months: Vec<MonthCost>,
    /// The application's cost per day; `None` when unread.
    pub daily: Option<Vec<(NaiveDate, f64)>>,
    /// The application's forecast to the month's end; `None` when unavailable.
    pub forecast: Option<f64>,
    /// What the tag check found.
    pub tag: Option<TagCheck>,
    /// Cost Explorer's reserved-instance purchase.
    pub reservations: Option<PurchaseRecommendation>,
    /// Cost Explorer's savings plan.
    pub savings_plans: Option<PurchaseRecommendation>,
    /// The catalog's types of the groups' families.
    pub catalog: Vec<InstanceTypeInfo>,
    /// On-demand prices, USD per hour, by type.
    pub on_demand: BTreeMap<String, f64>,
    /// Spot prices of the groups' types in their zones, oldest first.
    pub spot_prices: Vec<SpotPrice>,
    /// The right-sizing lookback's hourly maxima and instances (`right_sizing_queries`).
    pub usage: MetricResults,
    /// fleet-optimizer's scheduled actions on the groups; `None` when unread.
    pub scheduled: Option<Vec<ScheduledAction>>,
}

impl CostReads {
    /// The instance types to price: the groups' own and the catalog's.
    pub fn types_to_price(&self) -> Vec<String> {
        let mut types: Vec<String> = self
            .groups
            .iter()
            .filter_map(|g| g.instance_type.clone())
            .chain(self.catalog.iter().map(|t| t.name.clone()))
            .collect();
        types.sort();
        types.dedup();
        types
    }
}

fn architecture(info: &InstanceTypeInfo) -> Architecture {
    if info.architectures.iter().any(|a| a == "arm64") {
        Architecture::Arm64
    } else {
        Architecture::X86_64
    }
}

fn offer(r: &PurchaseRecommendation) -> Offer {
    Offer {
        offer: r.offer.clone(),
        monthly_savings_usd: r.monthly_savings_usd,
        savings_percent: r.savings_percent,
        figures: r.figures.clone(),
    }
}

/// The snapshot of what was read, for the calendar `periods`.
pub fn cost_snapshot(periods: Periods, reads: &CostReads) -> CostSnapshot {
    let groups = reads
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| {
            let (cpu, memory) = hourly_maxima(&reads.usage, i);
            GroupUsage {
                name: g.name.clone(),
                instance_type: g.instance_type.clone(),
                desired: g.desired,
                min_size: g.min_size,
                spot_prices: reads
                    .spot_prices
                    .iter()
                    .filter(|p| {
                        g.instance_type.as_ref() == Some(&p.instance_type)
                            && g.availability_zones.contains(&p.availability_zone)
                    })
                    .map(|p| p.price)
                    .collect(),
                cpu_hourly_maxima: cpu,
                memory_hourly_maxima: memory,
                max_size: g.max_size,
                demand: hourly_demand(&reads.usage, i, g.desired),
                requests_hourly: hourly_requests(&reads.usage, i, g.target_groups.len()),
                scheduled: reads.scheduled.as_ref().map(|a| windows_of(&g.name, a)),
            }
        })
        .collect();
    CostSnapshot {
        periods,
        groups,
        catalog: reads
            .catalog
            .iter()
            .map(|t| InstanceType {
                name: t.name.clone(),
                vcpus: t.vcpus,
                memory_mib: t.memory_mib,
                architecture: architecture(t),
                on_demand_hourly: reads.on_demand.get(&t.name).copied(),
            })
            .collect(),
        spend: Spend {
            account_months: reads.months.iter().map(|m| (m.month, m.total())).collect(),
            application_days: reads.daily.clone(),
            application_forecast: reads.forecast,
            tag: reads.tag.unwrap_or(TagCheck::NotNeeded),
        },
        reserved_instances: reads.reservations.as_ref().map(offer),
        savings_plans: reads.savings_plans.as_ref().map(offer),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use fleetopt_ports::fakes::group;

    #[test]
    fn a_group_gets_its_own_types_spot_prices_in_its_own_zones() {
        let spot = |t: &str, z: &str, price: f64| SpotPrice {
            instance_type: t.into(),
            availability_zone: z.into(),
            price,
            timestamp: Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap(),
        };
        let reads = CostReads {
            groups: vec![GroupInfo {
                instance_type: Some("m5.large".into()),
                availability_zones: vec!["us-east-1a".into()],
                ..group("web")
            }],
            spot_prices: vec![
                spot("m5.large", "us-east-1a", 0.03),
                spot("m5.large", "us-east-1b", 0.09),
                spot("c5.large", "us-east-1a", 0.02),
                spot("m5.large", "us-east-1a", 0.04),
            ],
            catalog: vec![InstanceTypeInfo {
                name: "m6g.large".into(),
                vcpus: 2,
                memory_mib: 8192,
                architectures: vec!["arm64".into()],
            }],
            on_demand: BTreeMap::from([("m6g.large".to_owned(), 0.077)]),
            ..CostReads::default()
        };
        let periods = Periods::new(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), 3).unwrap();
        let s = cost_snapshot(periods, &reads);
        assert_eq!(s.groups[0].spot_prices, [0.03, 0.04]);
        assert_eq!(s.catalog[0].architecture, Architecture::Arm64);
        assert_eq!(s.catalog[0].on_demand_hourly, Some(0.077));
        assert_eq!(s.spend.tag, TagCheck::NotNeeded);
        assert_eq!(reads.types_to_price(), ["m5.large", "m6g.large"]);
    }
}

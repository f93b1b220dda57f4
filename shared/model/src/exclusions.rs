//! The `fleet-optimizer:exclude` tag: recommendation types a group must never get.

use std::fmt;

use fleetopt_scoring::RecommendationType;

/// The tag an operator puts on an Auto Scaling group: `all`, or a comma-separated list of
/// recommendation types (`SCALE_DOWN,INSTANCE_TYPE_CHANGE`).
pub const EXCLUDE_TAG: &str = "fleet-optimizer:exclude";

/// What a group's exclusion tag rules out.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Exclusions {
    /// No tag: nothing excluded.
    #[default]
    None,
    /// `all`, or a value that cannot be read (safety first: a tag meant to exclude something
    /// excludes everything until it is fixed; the reason says why).
    All {
        /// Why everything is excluded.
        reason: String,
    },
    /// These types.
    Types(Vec<RecommendationType>),
}

impl Exclusions {
    /// The exclusions of a tag value (`None`: no tag).
    pub fn of_tag(value: Option<&str>) -> Exclusions {
        let Some(value) = value else {
            return Exclusions::None;
        };
        let value = value.trim();
        if value.eq_ignore_ascii_case("all") {
            return Exclusions::All {
                reason: format!("tagged {EXCLUDE_TAG}=all"),
            };
        }
        let mut types = Vec::new();
        for part in value.split([',', ' ']).filter(|p| !p.is_empty()) {
            match part.to_ascii_uppercase().parse::<RecommendationType>() {
                Ok(kind) if !types.contains(&kind) => types.push(kind),
                Ok(_) => {}
                Err(problem) => {
                    return Exclusions::All {
                        reason: format!(
                            "tag {EXCLUDE_TAG}={value:?} cannot be read ({problem}); everything \
                             is excluded until it says `all` or lists recommendation types"
                        ),
                    };
                }
            }
        }
        if types.is_empty() {
            return Exclusions::All {
                reason: format!(
                    "tag {EXCLUDE_TAG} is empty; everything is excluded until it says `all` or \
                     lists recommendation types"
                ),
            };
        }
        Exclusions::Types(types)
    }

    /// Why `kind` is excluded, or `None` when it is not.
    pub fn excludes(&self, kind: RecommendationType) -> Option<String> {
        match self {
            Exclusions::None => None,
            Exclusions::All { reason } => Some(reason.clone()),
            Exclusions::Types(types) if types.contains(&kind) => {
                Some(format!("tagged {EXCLUDE_TAG}={self}"))
            }
            Exclusions::Types(_) => None,
        }
    }
}

impl fmt::Display for Exclusions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exclusions::None => Ok(()),
            Exclusions::All { .. } => f.write_str("all"),
            Exclusions::Types(types) => {
                let names: Vec<&str> = types.iter().map(|t| t.as_str()).collect();
                f.write_str(&names.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RecommendationType::*;

    #[test]
    fn a_list_of_types_excludes_those_only() {
        let e = Exclusions::of_tag(Some("scale_down, INSTANCE_TYPE_CHANGE"));
        assert_eq!(e, Exclusions::Types(vec![ScaleDown, InstanceTypeChange]));
        assert_eq!(
            e.excludes(ScaleDown).as_deref(),
            Some("tagged fleet-optimizer:exclude=SCALE_DOWN,INSTANCE_TYPE_CHANGE")
        );
        assert_eq!(e.excludes(ScaleUp), None);
        assert_eq!(Exclusions::of_tag(None).excludes(ScaleUp), None);
    }

    #[test]
    fn all_and_unreadable_values_exclude_everything() {
        assert!(
            Exclusions::of_tag(Some("ALL"))
                .excludes(CostOptimization)
                .is_some()
        );
        for bad in ["SCALE_SIDEWAYS", "", " , "] {
            let reason = Exclusions::of_tag(Some(bad)).excludes(ScaleUp).unwrap();
            assert!(reason.contains("everything is excluded"), "{bad}: {reason}");
        }
    }
}

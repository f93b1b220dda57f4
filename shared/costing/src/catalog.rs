//! Which catalog families a group's right-sizing prices: its own family, its siblings of the
//! same generation, and the Graviton families an x86_64 group could move to. All of them go in
//! the run's one DescribeInstanceTypes request.

use std::collections::BTreeSet;

/// The Graviton generations whose families an x86_64 group's right-sizing also prices.
const GRAVITON_GENERATIONS: [u32; 2] = [6, 7];

/// Whether a family's name is a Graviton (arm64) one: a `g` right after the generation digits
/// (`m6g`, `c7gn`, `t4g`, `r6gd`), where x86_64 families have nothing or another letter (`m5`,
/// `m5a`, `c6i`).
pub fn graviton_family(family: &str) -> bool {
    let rest = family.trim_start_matches(|c: char| c.is_ascii_lowercase());
    let suffix = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    suffix.len() < rest.len() && suffix.starts_with('g')
}

/// Catalog patterns for right-sizing a type: its own family; for the general purpose, compute
/// and memory families, those of the same generation (`m5.xlarge` -> `m5.*`, `c5.*`, `r5.*`);
/// and from an x86_64 family the Graviton families of generations 6 and 7 of the same kinds
/// (`c6g.*`, `m6g.*`, `r6g.*`, `c7g.*`, `m7g.*`, `r7g.*`; `t3` -> `t4g.*`), so an arm64 option
/// can be priced.
pub fn families(instance_type: &str) -> Vec<String> {
    let Some((family, _)) = instance_type.split_once('.') else {
        return vec![instance_type.to_owned()];
    };
    let mut patterns = BTreeSet::from([format!("{family}.*")]);
    let x86 = !graviton_family(family);
    if let Some(generation) = family.strip_prefix(['c', 'm', 'r'])
        && generation.starts_with(|c: char| c.is_ascii_digit())
    {
        for letter in ['c', 'm', 'r'] {
            patterns.insert(format!("{letter}{generation}.*"));
            if x86 {
                for g in GRAVITON_GENERATIONS {
                    patterns.insert(format!("{letter}{g}g.*"));
                }
            }
        }
    } else if x86 && family.starts_with('t') {
        patterns.insert("t4g.*".to_owned());
    }
    patterns.into_iter().collect()
}

/// The patterns for every type in `types`, each once, sorted.
pub fn catalog_patterns<'a>(types: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let patterns: BTreeSet<String> = types.into_iter().flat_map(families).collect();
    patterns.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_sizing_looks_at_the_family_and_its_siblings() {
        assert_eq!(
            families("m5.xlarge"),
            [
                "c5.*", "c6g.*", "c7g.*", "m5.*", "m6g.*", "m7g.*", "r5.*", "r6g.*", "r7g.*"
            ]
        );
        assert_eq!(
            families("c6i.large"),
            [
                "c6g.*", "c6i.*", "c7g.*", "m6g.*", "m6i.*", "m7g.*", "r6g.*", "r6i.*", "r7g.*"
            ]
        );
        // arm64 groups stay arm64: no x86_64 option is ever offered them.
        assert_eq!(families("m6g.large"), ["c6g.*", "m6g.*", "r6g.*"]);
        assert_eq!(families("t3.medium"), ["t3.*", "t4g.*"]);
        assert_eq!(families("t4g.medium"), ["t4g.*"]);
        assert_eq!(families("weird"), ["weird"]);
        assert_eq!(
            catalog_patterns(["t3.small", "t3.medium", "t4g.nano"]),
            ["t3.*", "t4g.*"]
        );
    }

    #[test]
    fn graviton_families_have_a_g_after_the_generation() {
        for arm in ["m6g", "c7gn", "t4g", "r6gd", "x2gd", "im4gn"] {
            assert!(graviton_family(arm), "{arm}");
        }
        for x86 in ["m5", "m5a", "c6i", "c5n", "t3", "m7i-flex", "g5"] {
            assert!(!graviton_family(x86), "{x86}");
        }
    }
}

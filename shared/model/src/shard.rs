//! Where a fleet lives: an AWS account and a region. A function invoked with a shard works in
//! that account and region (through the member role when the account is not its own); the items
//! it writes carry both, and their ids hash them.

use std::fmt;

/// An account and a region, each checked for its form (nothing is looked up).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    account_id: String,
    region: String,
}

/// Why an account id or region is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    /// Not 12 digits.
    #[error("accountId {0:?} is not an AWS account id (12 digits, for example \"123456789012\")")]
    Account(String),
    /// Not a region's form.
    #[error(
        "region {0:?} is not an AWS region name (lowercase, like \"us-east-1\" or \"eu-central-2\")"
    )]
    Region(String),
    /// One given without the other.
    #[error("accountId and region go together: {0}")]
    Half(&'static str),
}

impl Shard {
    /// A shard, when `account_id` is 12 digits and `region` has a region's form
    /// (`<area>-<direction or name>[-<more>]-<number>`: `us-east-1`, `us-gov-west-1`).
    pub fn new(account_id: &str, region: &str) -> Result<Shard, ShardError> {
        Shard::check_account(account_id)?;
        Shard::check_region(region)?;
        Ok(Shard {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
        })
    }

    /// `Ok` when `account_id` is 12 digits.
    pub fn check_account(account_id: &str) -> Result<(), ShardError> {
        if account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit()) {
            Ok(())
        } else {
            Err(ShardError::Account(account_id.to_owned()))
        }
    }

    /// `Ok` when `region` has a region's form.
    pub fn check_region(region: &str) -> Result<(), ShardError> {
        if is_region(region) {
            Ok(())
        } else {
            Err(ShardError::Region(region.to_owned()))
        }
    }

    /// The shard two optional attributes name: none when both are absent, an error when only
    /// one is there or either is malformed.
    pub fn from_parts(
        account_id: Option<&str>,
        region: Option<&str>,
    ) -> Result<Option<Shard>, ShardError> {
        match (account_id, region) {
            (None, None) => Ok(None),
            (Some(a), Some(r)) => Shard::new(a, r).map(Some),
            (Some(_), None) => Err(ShardError::Half("accountId is given without region")),
            (None, Some(_)) => Err(ShardError::Half("region is given without accountId")),
        }
    }

    /// The account id, 12 digits.
    pub fn account_id(&self) -> &str {
        &self.account_id
    }

    /// The region.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The role `role_name` in this shard's account.
    pub fn role_arn(&self, role_name: &str) -> String {
        format!("arn:aws:iam::{}:role/{role_name}", self.account_id)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account_id, self.region)
    }
}

/// `us-east-1`, `us-gov-west-1`, `ap-southeast-2`, `us-isob-east-1`: lowercase words joined by
/// hyphens, at least two, then a number of one or two digits.
fn is_region(region: &str) -> bool {
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    words.len() >= 2
        && region.len() <= 25
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn accounts_and_regions_of_the_right_form_make_a_shard() {
        for region in [
            "us-east-1",
            "eu-central-2",
            "ap-southeast-4",
            "us-gov-west-1",
            "cn-northwest-1",
            "us-isob-east-1",
            "il-central-1",
        ] {
            let shard = Shard::new("111122223333", region).unwrap();
            assert_eq!(shard.region(), region);
            assert_eq!(shard.to_string(), format!("111122223333/{region}"));
        }
        assert_eq!(
            Shard::new("111122223333", "us-east-1")
                .unwrap()
                .role_arn("fleet-optimizer-member"),
            "arn:aws:iam::111122223333:role/fleet-optimizer-member"
        );
    }

    #[test]
    fn malformed_accounts_and_regions_are_refused_naming_the_value() {
        for account in [
            "",
            "12345678901",
            "1234567890123",
            "12345678901a",
            " 23456789012",
        ] {
            let err = Shard::new(account, "us-east-1").unwrap_err();
            assert_eq!(err, ShardError::Account(account.to_owned()));
            assert!(err.to_string().contains("12 digits"), "{err}");
        }
        for region in [
            "",
            "us",
            "us-east",
            "US-EAST-1",
            "us-east-123",
            "us--1",
            "us-east-1 ",
            "east-1",
            "eu_west-1",
        ] {
            let err = Shard::new("111122223333", region).unwrap_err();
            assert_eq!(err, ShardError::Region(region.to_owned()), "{region:?}");
        }
    }

    #[test]
    fn parts_make_a_shard_together_or_none_at_all() {
        assert_eq!(Shard::from_parts(None, None), Ok(None));
        assert_eq!(
            Shard::from_parts(Some("111122223333"), Some("eu-west-1")),
            Ok(Some(Shard::new("111122223333", "eu-west-1").unwrap()))
        );
        assert!(matches!(
            Shard::from_parts(Some("111122223333"), None),
            Err(ShardError::Half(_))
        ));
        assert!(matches!(
            Shard::from_parts(None, Some("eu-west-1")),
            Err(ShardError::Half(_))
        ));
    }
}

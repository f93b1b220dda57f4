//! The recommendations table's schema, read from `shared/schema/recommendations-table.json`:
//! the one definition the local scripts, the adapters' tests and the CDK stack all build from.

use std::sync::LazyLock;

use serde::Deserialize;

/// A global secondary index.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    /// Index name (`TypeIndex`, `PriorityIndex`).
    pub name: String,
    /// Its partition key attribute.
    pub partition_key: String,
    /// Its sort key attribute.
    pub sort_key: String,
    /// Projection type (`ALL`).
    pub projection: String,
}

/// An attribute used in a key.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct AttributeDefinition {
    /// Attribute name.
    pub name: String,
    /// DynamoDB scalar type (`S`).
    #[serde(rename = "type")]
    pub kind: String,
}

/// The table's keys, indexes, ttl and stream.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableSchema {
    /// Suffix of the table name after `<application>-<environment>-`.
    pub name_suffix: String,
    /// Key attributes and their types.
    pub attribute_definitions: Vec<AttributeDefinition>,
    /// Partition key (`id`).
    pub partition_key: String,
    /// Sort key (`timestamp`).
    pub sort_key: String,
    /// The GSIs.
    pub global_secondary_indexes: Vec<Index>,
    /// TTL attribute (`ttl`).
    pub time_to_live_attribute: String,
    /// Days an item lives by default.
    pub default_ttl_days: u32,
    /// Stream view type (`NEW_AND_OLD_IMAGES`).
    pub stream: String,
    /// Billing mode (`PAY_PER_REQUEST`).
    pub billing_mode: String,
}

impl TableSchema {
    /// The index named `name`.
    pub fn index(&self, name: &str) -> Option<&Index> {
        self.global_secondary_indexes
            .iter()
            .find(|i| i.name == name)
    }
}

/// The schema file, compiled in.
pub const RECOMMENDATIONS_TABLE_JSON: &str =
    include_str!("../../schema/recommendations-table.json");

#[allow(clippy::expect_used)]
static SCHEMA: LazyLock<TableSchema> = LazyLock::new(|| {
    // Compiled in, so it cannot change after the build; `schema_file_defines_design_section_6`
    // parses it, so this cannot fail in a tested build.
    serde_json::from_str(RECOMMENDATIONS_TABLE_JSON)
        .expect("shared/schema/recommendations-table.json is valid")
});

/// The recommendations table's schema.
pub fn recommendations_table() -> &'static TableSchema {
    &SCHEMA
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_file_defines_design_section_6() {
        let s: TableSchema = serde_json::from_str(RECOMMENDATIONS_TABLE_JSON).unwrap();
        assert_eq!(
            (s.partition_key.as_str(), s.sort_key.as_str()),
            ("id", "timestamp")
        );
        let type_index = s.index("TypeIndex").unwrap();
        assert_eq!(
            (
                type_index.partition_key.as_str(),
                type_index.sort_key.as_str()
            ),
            ("type", "timestamp")
        );
        let priority_index = s.index("PriorityIndex").unwrap();
        assert_eq!(
            (
                priority_index.partition_key.as_str(),
                priority_index.sort_key.as_str()
            ),
            ("priority", "timestamp")
        );
        assert_eq!(s.time_to_live_attribute, "ttl");
        assert_eq!(s.default_ttl_days, 30);
        assert_eq!(s.stream, "NEW_AND_OLD_IMAGES");
        // Every key attribute is defined, and nothing else is (DynamoDB refuses extras).
        let mut keys: Vec<&str> = vec![&s.partition_key, &s.sort_key];
        for index in &s.global_secondary_indexes {
            keys.push(&index.partition_key);
            keys.push(&index.sort_key);
        }
        keys.sort();
        keys.dedup();
        let mut defined: Vec<&str> = s
            .attribute_definitions
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        defined.sort();
        assert_eq!(defined, keys);
    }
}

//! The recommendations table on DynamoDB: conditional writes, GSI queries, and table creation
//! from the shared schema file.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, KeySchemaElement,
    KeyType, Projection, ProjectionType, ReturnValue, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification,
};
use chrono::{DateTime, Utc};
use fleetopt_model::{
    ChangeOutcome, Check, Execution, Priority, RealizedSavings, Recommendation, RecommendationType,
    Status, StatusChange, TableSchema, rfc3339,
};
use fleetopt_ports::{
    Found, GroupLocks, PutOutcome, RecommendationQuery, RecommendationStore, ServiceError,
    StoreError, Transition, lock_id,
};

use crate::error::service_error;

type Item = HashMap<String, AttributeValue>;

/// The recommendations table, through the DynamoDB API.
#[derive(Debug, Clone)]
pub struct DynamoRecommendationStore {
    client: Client,
    table: String,
}

impl DynamoRecommendationStore {
    /// A store over `table`, with a client built from the process's one `SdkConfig`.
    pub fn from_config(config: &aws_config::SdkConfig, table: impl Into<String>) -> Self {
        Self::new(Client::new(config), table)
    }

    /// A store over `table`, using `client` (built once per process).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }
}

fn encode(recommendation: &Recommendation) -> Result<Item, StoreError> {
    recommendation
        .to_item()
        .map(Item::from)
        .map_err(|e| StoreError::Encode {
            id: recommendation.id.clone(),
            message: e.to_string(),
        })
}

fn decode(item: Item) -> Result<Recommendation, StoreError> {
    Ok(Recommendation::from_item(serde_dynamo::Item::from(item))?)
}

fn s(value: &str) -> AttributeValue {
    AttributeValue::S(value.to_owned())
}

/// The index a query reads, with its key.
#[derive(Debug, Clone, Copy)]
enum IndexRead {
    Type(RecommendationType),
    Priority(Priority),
}

impl DynamoRecommendationStore {
    /// One index, paged until `query.limit` matches are found or the index is exhausted; the
    /// criteria that are not the index key become a filter expression.
    async fn query_index(
        &self,
        read: IndexRead,
        query: &RecommendationQuery,
    ) -> Result<Found, StoreError> {
        let (index, attribute, value) = match read {
            IndexRead::Type(kind) => ("TypeIndex", "type", kind.as_str()),
            IndexRead::Priority(priority) => ("PriorityIndex", "priority", priority.as_str()),
        };
        let mut filters: Vec<(&str, &str)> = Vec::new();
        if let (Some(priority), IndexRead::Type(_)) = (query.priority, read) {
            filters.push(("priority", priority.as_str()));
        }
        if let Some(status) = query.status {
            filters.push(("status", status.as_str()));
        }
        let mut found = Found::default();
        let mut start: Option<Item> = None;
        loop {
            let mut request = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(index)
                .key_condition_expression(if query.since.is_some() {
                    "#k = :k AND #ts >= :since"
                } else {
                    "#k = :k"
                })
                .expression_attribute_names("#k", attribute)
                .expression_attribute_values(":k", s(value))
                .scan_index_forward(false)
                .set_exclusive_start_key(start.take());
            if let Some(since) = &query.since {
                request = request
                    .expression_attribute_names("#ts", "timestamp")
                    .expression_attribute_values(":since", s(since));
            }
            let mut conditions = Vec::new();
            for (i, (name, value)) in filters.iter().enumerate() {
                conditions.push(format!("#f{i} = :f{i}"));
                request = request
                    .expression_attribute_names(format!("#f{i}"), *name)
                    .expression_attribute_values(format!(":f{i}"), s(value));
            }
            if !conditions.is_empty() {
                request = request.filter_expression(conditions.join(" AND "));
            }
            if let Some(limit) = query.limit {
                // DynamoDB applies Limit before the filter, so ask for what is still missing
                // and keep paging until it is found or the index is exhausted.
                let missing = limit.saturating_sub(found.len()).max(1);
                request = request.limit(i32::try_from(missing).unwrap_or(i32::MAX));
            }
            let output = request
                .send()
                .await
                .map_err(|e| service_error("dynamodb:Query", &e))?;
            for item in output.items.unwrap_or_default() {
                match Recommendation::from_item(serde_dynamo::Item::from(item)) {
                    Ok(r) => found.items.push(r),
                    Err(e) => {
                        // One foreign item (another version's, or written by hand) must not
                        // hide the rest: skipped, logged with its key, and reported.
                        tracing::warn!(id = %e.id, index, error = %e.message, "skipped an item that is not a recommendation");
                        found.skipped.push(e);
                    }
                }
            }
            if let Some(limit) = query.limit.filter(|limit| found.len() >= *limit) {
                found.items.truncate(limit);
                break;
            }
            match output.last_evaluated_key {
                Some(key) if !key.is_empty() => start = Some(key),
                _ => break,
            }
        }
        Ok(found)
    }
}

impl RecommendationStore for DynamoRecommendationStore {
    async fn put_new(&self, recommendation: &Recommendation) -> Result<PutOutcome, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(encode(recommendation)?))
            .condition_expression("attribute_not_exists(id)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(PutOutcome::Written),
            Err(err)
                if matches!(
                    err.as_service_error(),
                    Some(PutItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(PutOutcome::AlreadyExists)
            }
            Err(err) => Err(service_error("dynamodb:PutItem", &err).into()),
        }
    }

    async fn get(&self, id: &str) -> Result<Option<Recommendation>, StoreError> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#id = :id")
            .expression_attribute_names("#id", "id")
            .expression_attribute_values(":id", s(id))
            .scan_index_forward(false)
            .limit(1)
            .send()
            .await
            .map_err(|e| service_error("dynamodb:Query", &e))?;
        output
            .items
            .unwrap_or_default()
            .into_iter()
            .next()
            .map(decode)
            .transpose()
    }

    async fn query(&self, query: &RecommendationQuery) -> Result<Found, StoreError> {
        match (query.kind, query.priority) {
            (Some(kind), _) => self.query_index(IndexRead::Type(kind), query).await,
            (None, Some(priority)) => self.query_index(IndexRead::Priority(priority), query).await,
            (None, None) => {
                // No index key given: one TypeIndex query per type (five small queries) is
                // still cheaper and more predictable than a scan of the table.
                let mut found = Found::default();
                for kind in RecommendationType::ALL {
                    found.extend(self.query_index(IndexRead::Type(kind), query).await?);
                }
                Ok(query.finish(found))
            }
        }
    }

    async fn transition(
        &self,
        current: &Recommendation,
        transition: &Transition<'_>,
    ) -> Result<Recommendation, StoreError> {
        let next = transition.apply_to(current)?;
        let change: &StatusChange =
            next.status_history
                .last()
                .ok_or_else(|| StoreError::Encode {
                    id: current.id.clone(),
                    message: "a transition always appends to statusHistory".to_owned(),
                })?;
        let mut set = vec![
            "#status = :to",
            "#version = :next",
            "#history = list_append(#history, :change)",
        ];
        let mut remove = vec!["#check"];
        let mut request = self
            .conditional_update(current)
            .expression_attribute_names("#history", "statusHistory")
            .expression_attribute_names("#check", "lastCheck")
            .expression_attribute_values(":to", s(next.status.as_str()))
            .expression_attribute_values(":next", AttributeValue::N(next.version.to_string()))
            .expression_attribute_values(
                ":change",
                AttributeValue::L(vec![attribute(&current.id, change)?]),
            );
        if let Some(execution) = &next.execution {
            set.push("#execution = :execution");
            request = request
                .expression_attribute_names("#execution", "execution")
                .expression_attribute_values(":execution", attribute(&current.id, execution)?);
        }
        if next.ttl != current.ttl {
            set.push("#ttl = :ttl");
            request = request
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":ttl", AttributeValue::N(next.ttl.to_string()));
        }
        if let Some(approval) = &next.approval
            && current.approval.as_ref() != Some(approval)
        {
            set.push("#approval = :approval");
            request = request
                .expression_attribute_names("#approval", "approval")
                .expression_attribute_values(":approval", attribute(&current.id, approval)?);
        }
        request = request.expression_attribute_names("#snooze", "snooze");
        match &next.snooze {
            Some(snooze) => {
                set.push("#snooze = :snooze");
                request =
                    request.expression_attribute_values(":snooze", attribute(&current.id, snooze)?);
            }
            None => remove.push("#snooze"),
        }
        let result = request
            .update_expression(format!(
                "SET {} REMOVE {}",
                set.join(", "),
                remove.join(", ")
            ))
            .send()
            .await;
        finish_update(current, result)
    }

    async fn refresh(
        &self,
        current: &Recommendation,
        next: &Recommendation,
    ) -> Result<Recommendation, StoreError> {
        let id = current.id.as_str();
        let mut request = self.conditional_update(current);
        let mut set = Vec::new();
        let parts: [(&str, AttributeValue); 10] = [
            ("description", s(&next.description)),
            ("priority", s(next.priority.as_str())),
            ("expectedImpact", attribute(id, &next.expected_impact)?),
            ("implementation", attribute(id, &next.implementation)?),
            ("evidence", attribute(id, &next.evidence)?),
            ("analysisWindow", attribute(id, &next.analysis_window)?),
            ("lastSeenAt", attribute(id, &next.last_seen_at)?),
            ("seenCount", AttributeValue::N(next.seen().to_string())),
            ("ttl", AttributeValue::N(next.ttl.to_string())),
            ("persistence", attribute(id, &next.persistence)?),
        ];
        for (i, (name, value)) in parts.into_iter().enumerate() {
            set.push(format!("#r{i} = :r{i}"));
            request = request
                .expression_attribute_names(format!("#r{i}"), name)
                .expression_attribute_values(format!(":r{i}"), value);
        }
        request = request.expression_attribute_names("#attestation", "attestation");
        let remove = match &next.attestation {
            Some(attestation) => {
                set.push("#attestation = :attestation".to_owned());
                request = request
                    .expression_attribute_values(":attestation", attribute(id, attestation)?);
                String::new()
            }
            None => " REMOVE #attestation".to_owned(),
        };
        let result = request
            .update_expression(format!("SET {}{remove}", set.join(", ")))
            .send()
            .await;
        finish_update(current, result)
    }

    async fn record_outcome(
        &self,
        current: &Recommendation,
        outcome: &ChangeOutcome,
    ) -> Result<Recommendation, StoreError> {
        self.set_one(current, "outcome", attribute(&current.id, outcome)?)
            .await
    }

    async fn record_realized_savings(
        &self,
        current: &Recommendation,
        savings: &RealizedSavings,
    ) -> Result<Recommendation, StoreError> {
        if current.status != Status::Completed {
            return Err(StoreError::Conflict {
                id: current.id.clone(),
                status: current.status,
                version: current.version,
            });
        }
        // `conditional_update`'s condition (status and version as read, COMPLETED here) and
        // no figure yet: two runs never both write one.
        let result = self
            .conditional_update(current)
            .condition_expression(
                "#status = :from AND #version = :version AND attribute_not_exists(#realized)",
            )
            .update_expression("SET #realized = :realized")
            .expression_attribute_names("#realized", "realizedSavings")
            .expression_attribute_values(":realized", attribute(&current.id, savings)?)
            .send()
            .await;
        finish_update(current, result)
    }

    async fn note(
        &self,
        current: &Recommendation,
        check: &Check,
    ) -> Result<Recommendation, StoreError> {
        self.set_one(current, "lastCheck", attribute(&current.id, check)?)
            .await
    }

    async fn record_execution(
        &self,
        current: &Recommendation,
        execution: &Execution,
    ) -> Result<Recommendation, StoreError> {
        self.set_one(current, "execution", attribute(&current.id, execution)?)
            .await
    }
}

impl DynamoRecommendationStore {
    /// Sets one attribute of `current` without a status change, on the condition every update
    /// carries (status and version unchanged): a note, an execution record, an outcome.
    async fn set_one(
        &self,
        current: &Recommendation,
        name: &str,
        value: AttributeValue,
    ) -> Result<Recommendation, StoreError> {
        let result = self
            .conditional_update(current)
            .update_expression("SET #one = :one")
            .expression_attribute_names("#one", name)
            .expression_attribute_values(":one", value)
            .send()
            .await;
        finish_update(current, result)
    }

    /// An UpdateItem of `current`'s key on condition that its status and version are still
    /// `current`'s, returning the new item, and the old one when the condition fails.
    fn conditional_update(
        &self,
        current: &Recommendation,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("id", s(&current.id))
            .key("timestamp", s(&current.timestamp))
            .condition_expression("#status = :from AND #version = :version")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#version", "version")
            .expression_attribute_values(":from", s(current.status.as_str()))
            .expression_attribute_values(":version", AttributeValue::N(current.version.to_string()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
    }
}

/// The sort key of every lock item.
const LOCK_SORT_KEY: &str = "lock";

impl GroupLocks for DynamoRecommendationStore {
    async fn lock(
        &self,
        group: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // UpdateItem creates the item when it is missing, so the engine needs no PutItem. The
        // ttl removes a dead holder's item a day later; `expiresAt` frees it at once.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", s(&lock_id(group)))
            .key("timestamp", s(LOCK_SORT_KEY))
            .update_expression("SET #holder = :holder, #expires = :until, #ttl = :ttl")
            .condition_expression(
                "attribute_not_exists(id) OR #holder = :holder OR #expires < :now",
            )
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_names("#expires", "expiresAt")
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":holder", s(holder))
            .expression_attribute_values(":until", s(&rfc3339(until)))
            .expression_attribute_values(":now", s(&rfc3339(now)))
            .expression_attribute_values(
                ":ttl",
                AttributeValue::N((until + chrono::Duration::days(1)).timestamp().to_string()),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(service_error("dynamodb:UpdateItem", &e).into()),
        }
    }

    async fn unlock(&self, group: &str, holder: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("id", s(&lock_id(group)))
            .key("timestamp", s(LOCK_SORT_KEY))
            .update_expression("SET #expires = :free")
            .condition_expression("#holder = :holder")
            .expression_attribute_names("#holder", "holder")
            .expression_attribute_names("#expires", "expiresAt")
            .expression_attribute_values(":holder", s(holder))
            .expression_attribute_values(":free", s(""))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Taken over after it expired: nothing of ours to let go.
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(service_error("dynamodb:UpdateItem", &e).into()),
        }
    }
}

/// One of a recommendation's parts as an attribute value.
fn attribute(id: &str, part: &impl serde::Serialize) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(part).map_err(|e| StoreError::Encode {
        id: id.to_owned(),
        message: e.to_string(),
    })
}

/// The stored item after a conditional update, or why there is none: with ALL_OLD a failed
/// condition carries the stored item, so a conflict is told from a missing item.
fn finish_update(
    current: &Recommendation,
    result: Result<
        aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
        aws_sdk_dynamodb::error::SdkError<UpdateItemError, aws_smithy_runtime_api::http::Response>,
    >,
) -> Result<Recommendation, StoreError> {
    match result {
        Ok(output) => decode(output.attributes.unwrap_or_default()),
        Err(err) => match err.as_service_error() {
            Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                if failed.item().is_some_and(|item| !item.is_empty()) {
                    Err(StoreError::Conflict {
                        id: current.id.clone(),
                        status: current.status,
                        version: current.version,
                    })
                } else {
                    Err(StoreError::NotFound {
                        id: current.id.clone(),
                    })
                }
            }
            _ => Err(service_error("dynamodb:UpdateItem", &err).into()),
        },
    }
}

/// What [`create_table`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableCreation {
    /// The table was created.
    Created,
    /// A table with that name already existed; it was left as it is.
    AlreadyExists,
}

fn key(attribute: &str, key_type: KeyType) -> Result<KeySchemaElement, ServiceError> {
    KeySchemaElement::builder()
        .attribute_name(attribute)
        .key_type(key_type)
        .build()
        .map_err(|e| build_error("dynamodb:CreateTable", e))
}

fn build_error(operation: &'static str, e: impl std::fmt::Display) -> ServiceError {
    ServiceError {
        operation,
        code: "InvalidSchema".to_owned(),
        message: e.to_string(),
    }
}

/// Creates the recommendations table `name` from the shared schema, with its TTL: for the
/// local emulator and the tests (the stack builds the real table from the same file).
pub async fn create_table(
    client: &Client,
    schema: &TableSchema,
    name: &str,
) -> Result<TableCreation, ServiceError> {
    const OP: &str = "dynamodb:CreateTable";
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::from(schema.billing_mode.as_str()))
        .key_schema(key(&schema.partition_key, KeyType::Hash)?)
        .key_schema(key(&schema.sort_key, KeyType::Range)?)
        .stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::from(schema.stream.as_str()))
                .build()
                .map_err(|e| build_error(OP, e))?,
        );
    for attribute in &schema.attribute_definitions {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(&attribute.name)
                .attribute_type(ScalarAttributeType::from(attribute.kind.as_str()))
                .build()
                .map_err(|e| build_error(OP, e))?,
        );
    }
    for index in &schema.global_secondary_indexes {
        request = request.global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(&index.name)
                .key_schema(key(&index.partition_key, KeyType::Hash)?)
                .key_schema(key(&index.sort_key, KeyType::Range)?)
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::from(index.projection.as_str()))
                        .build(),
                )
                .build()
                .map_err(|e| build_error(OP, e))?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(err)
            if err
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            return Ok(TableCreation::AlreadyExists);
        }
        Err(err) => return Err(service_error(OP, &err)),
    }
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(&schema.time_to_live_attribute)
                .build()
                .map_err(|e| build_error("dynamodb:UpdateTimeToLive", e))?,
        )
        .send()
        .await
        .map_err(|e| service_error("dynamodb:UpdateTimeToLive", &e))?;
    Ok(TableCreation::Created)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::operation::put_item::PutItemOutput;
    use aws_sdk_dynamodb::operation::query::QueryOutput;
    use aws_sdk_dynamodb::types::error::ConditionalCheckFailedException;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use fleetopt_model::Status;
    use fleetopt_ports::fakes::contract::sample;

    #[tokio::test]
    async fn conditional_check_failure_on_put_means_already_exists() {
        let rule = mock!(Client::put_item)
            .match_requests(|r| r.condition_expression() == Some("attribute_not_exists(id)"))
            .then_error(|| {
                PutItemError::ConditionalCheckFailedException(
                    ConditionalCheckFailedException::builder()
                        .message("The conditional request failed")
                        .build(),
                )
            });
        let client = mock_client!(aws_sdk_dynamodb, [&rule]);
        let store = DynamoRecommendationStore::new(client, "t");
        assert_eq!(
            store.put_new(&sample("web", 9)).await,
            Ok(PutOutcome::AlreadyExists)
        );
        assert_eq!(rule.num_calls(), 1);
    }

    #[tokio::test]
    async fn other_put_errors_keep_the_aws_code_and_message() {
        let rule = mock!(Client::put_item).then_http_response(|| {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(
                    r#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#,
                ),
            )
        });
        let client = mock_client!(aws_sdk_dynamodb, [&rule]);
        let err = DynamoRecommendationStore::new(client, "t")
            .put_new(&sample("web", 9))
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "dynamodb:PutItem failed: ResourceNotFoundException: Requested resource not found"
        );
    }

    #[tokio::test]
    async fn throttling_that_outlasts_the_retries_is_reported_as_throttled() {
        let throttled = || {
            aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(400).unwrap(),
                aws_smithy_types::body::SdkBody::from(
                    r#"{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException","message":"Rate exceeded"}"#,
                ),
            )
        };
        let rule = mock!(Client::put_item)
            .sequence()
            .http_response(throttled)
            .repeatedly()
            .build();
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&rule], |c| {
            c.retry_config(
                aws_sdk_dynamodb::config::retry::RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(std::time::Duration::from_millis(1)),
            )
        });
        let err = DynamoRecommendationStore::new(client, "t")
            .put_new(&sample("web", 9))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Throttled {
                    operation: "dynamodb:PutItem",
                    ..
                }
            ),
            "{err}"
        );
        // The standard retry mode tried three times before giving up.
        assert_eq!(rule.num_calls(), 3);
    }

    #[tokio::test]
    async fn a_filtered_query_pages_until_the_limit_is_met() {
        let first = sample("web", 8);
        let second = sample("web", 7);
        let page_one = {
            let item = encode(&first).unwrap();
            let key = HashMap::from([("id".to_owned(), s(&first.id))]);
            move || {
                QueryOutput::builder()
                    .items(item.clone())
                    .set_last_evaluated_key(Some(key.clone()))
                    .build()
            }
        };
        let page_two = {
            let item = encode(&second).unwrap();
            move || QueryOutput::builder().items(item.clone()).build()
        };
        let rule = mock!(Client::query)
            .match_requests(|r| {
                r.index_name() == Some("PriorityIndex")
                    && r.filter_expression() == Some("#f0 = :f0")
                    && r.scan_index_forward() == Some(false)
            })
            .sequence()
            .output(page_one)
            .output(page_two)
            .build();
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&rule]);
        let found = DynamoRecommendationStore::new(client, "t")
            .query(&RecommendationQuery {
                priority: Some(Priority::High),
                status: Some(Status::Pending),
                limit: Some(2),
                ..RecommendationQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(found.into_items(), vec![first, second]);
        assert_eq!(rule.num_calls(), 2);
    }

    #[tokio::test]
    async fn without_an_index_key_it_queries_type_index_once_per_type_and_never_scans() {
        let by_type = mock!(Client::query)
            .match_requests(|r| r.index_name() == Some("TypeIndex"))
            .then_output(|| QueryOutput::builder().build());
        let scan = mock!(Client::scan)
            .then_output(|| aws_sdk_dynamodb::operation::scan::ScanOutput::builder().build());
        let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&by_type, &scan]);
        let found = DynamoRecommendationStore::new(client, "t")
            .query(&RecommendationQuery::default())
            .await
            .unwrap();
        assert!(found.is_empty());
        assert_eq!(by_type.num_calls(), RecommendationType::ALL.len());
        assert_eq!(scan.num_calls(), 0);
    }

    #[tokio::test]
    async fn an_item_that_is_not_a_recommendation_is_a_decode_error_naming_it() {
        let rule = mock!(Client::query).then_output(|| {
            QueryOutput::builder()
                .items(HashMap::from([
                    ("id".to_owned(), s("rec-123")),
                    ("status".to_owned(), s("PENDING")),
                ]))
                .build()
        });
        let client = mock_client!(aws_sdk_dynamodb, [&rule]);
        let err = DynamoRecommendationStore::new(client, "t")
            .get("rec-123")
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Decode(d) if d.id == "rec-123"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_query_skips_an_item_that_is_not_a_recommendation_and_names_it() {
        let good = sample("web", 9);
        let rule = mock!(Client::query).then_output(move || {
            QueryOutput::builder()
                .items(HashMap::from([
                    ("id".to_owned(), s("foreign")),
                    ("status".to_owned(), s("PENDING")),
                ]))
                .items(encode(&good).unwrap())
                .build()
        });
        let client = mock_client!(aws_sdk_dynamodb, [&rule]);
        let found = DynamoRecommendationStore::new(client, "t")
            .query(&RecommendationQuery {
                kind: Some(RecommendationType::ScaleUp),
                ..RecommendationQuery::default()
            })
            .await
            .unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found.skipped_ids(), "foreign");
        assert!(
            found.skipped[0].message.contains("missing field"),
            "{:?}",
            found.skipped
        );
    }

    #[tokio::test]
    async fn put_sends_the_camel_case_item() {
        let r = sample("web", 9);
        let expected = encode(&r).unwrap();
        let rule = mock!(Client::put_item)
            .match_requests(move |req| {
                req.item() == Some(&expected) && req.table_name() == Some("t")
            })
            .then_output(|| PutItemOutput::builder().build());
        let client = mock_client!(aws_sdk_dynamodb, [&rule]);
        assert_eq!(
            DynamoRecommendationStore::new(client, "t")
                .put_new(&r)
                .await,
            Ok(PutOutcome::Written)
        );
        assert_eq!(rule.num_calls(), 1);
    }
}

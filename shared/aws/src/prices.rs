//! Instance prices and the instance catalog as a [`PriceSource`]: on-demand prices from the
//! Pricing API (GetProducts, one filtered request for every type asked, paginated; more only
//! when the types' names outgrow a filter value's 1,024 characters), spot prices
//! from EC2 DescribeSpotPriceHistory and the catalog from DescribeInstanceTypes (both
//! paginated).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::InstanceType as Ec2InstanceType;
use aws_sdk_pricing::types::{Filter, FilterType};
use chrono::{DateTime, Utc};
use fleetopt_ports::{InstanceTypeInfo, PriceSource, ServiceError, SpotPrice};
use serde_json::Value;

use crate::error::service_error;

/// EC2 takes at most this many values per filter.
const FILTER_VALUES_PER_REQUEST: usize = 200;
/// The Pricing API's longest filter value, characters (an ANY_OF list is one comma-joined value).
const PRICING_FILTER_VALUE_CHARS: usize = 1024;

/// The types as comma-joined ANY_OF values of at most [`PRICING_FILTER_VALUE_CHARS`] each, in
/// order (a name longer than that alone is its own value, which the API will refuse).
fn any_of_values(instance_types: &[String]) -> Vec<String> {
    let mut values: Vec<String> = Vec::new();
    for t in instance_types {
        match values.last_mut() {
            Some(value) if value.len() + 1 + t.len() <= PRICING_FILTER_VALUE_CHARS => {
                value.push(',');
                value.push_str(t);
            }
            _ => values.push(t.clone()),
        }
    }
    values
}

/// Pricing and EC2, through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsPrices {
    pricing: aws_sdk_pricing::Client,
    ec2: aws_sdk_ec2::Client,
}

impl AwsPrices {
    /// Prices through these clients (the Pricing client's region is one of the API's own:
    /// us-east-1, eu-central-1 or ap-south-1).
    pub fn new(pricing: aws_sdk_pricing::Client, ec2: aws_sdk_ec2::Client) -> Self {
        Self { pricing, ec2 }
    }

    /// Every page of GetProducts with these filters, each type's first on-demand price kept.
    async fn products(
        &self,
        filters: &[Filter],
        prices: &mut BTreeMap<String, f64>,
    ) -> Result<(), ServiceError> {
        const OP: &str = "pricing:GetProducts";
        let mut token: Option<String> = None;
        loop {
            let output = self
                .pricing
                .get_products()
                .service_code("AmazonEC2")
                .format_version("aws_v1")
                .set_filters(Some(filters.to_vec()))
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| service_error(OP, &e))?;
            for item in output.price_list() {
                if let Some((instance_type, price)) = on_demand_price(item) {
                    prices.entry(instance_type).or_insert(price);
                }
            }
            token = output.next_token().map(str::to_owned);
            if token.is_none() {
                return Ok(());
            }
        }
    }
}

fn term(field: &str, value: &str, kind: FilterType) -> Result<Filter, ServiceError> {
    Filter::builder()
        .r#type(kind)
        .field(field)
        .value(value)
        .build()
        .map_err(|e| ServiceError {
            operation: "pricing:GetProducts",
            code: "ConstructionFailure".to_owned(),
            message: e.to_string(),
        })
}

/// The instance type and its hourly USD price in one price list item (a JSON document:
/// `product.attributes.instanceType`, `terms.OnDemand.*.priceDimensions.*.pricePerUnit.USD`).
fn on_demand_price(item: &str) -> Option<(String, f64)> {
    let doc: Value = serde_json::from_str(item).ok()?;
    let instance_type = doc
        .pointer("/product/attributes/instanceType")?
        .as_str()?
        .to_owned();
    let price = doc
        .pointer("/terms/OnDemand")?
        .as_object()?
        .values()
        .filter_map(|offer| offer.get("priceDimensions")?.as_object())
        .flat_map(|dims| dims.values())
        .filter(|dim| dim.get("unit").and_then(Value::as_str) == Some("Hrs"))
        .filter_map(|dim| {
            dim.pointer("/pricePerUnit/USD")?
                .as_str()?
                .parse::<f64>()
                .ok()
        })
        .find(|p| p.is_finite() && *p > 0.0)?;
    Some((instance_type, price))
}

fn time(t: DateTime<Utc>) -> aws_smithy_types::DateTime {
    aws_smithy_types::DateTime::from_secs(t.timestamp())
}

impl PriceSource for AwsPrices {
    async fn on_demand_hourly(
        &self,
        region: &str,
        instance_types: &[String],
    ) -> Result<BTreeMap<String, f64>, ServiceError> {
        let mut prices = BTreeMap::new();
        for types in any_of_values(instance_types) {
            let filters = vec![
                term("instanceType", &types, FilterType::AnyOf)?,
                term("regionCode", region, FilterType::TermMatch)?,
                term("operatingSystem", "Linux", FilterType::TermMatch)?,
                term("tenancy", "Shared", FilterType::TermMatch)?,
                term("preInstalledSw", "NA", FilterType::TermMatch)?,
                term("capacitystatus", "Used", FilterType::TermMatch)?,
            ];
            self.products(&filters, &mut prices).await?;
        }
        Ok(prices)
    }

    async fn spot_prices(
        &self,
        instance_types: &[String],
        availability_zones: &[String],
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<SpotPrice>, ServiceError> {
        const OP: &str = "ec2:DescribeSpotPriceHistory";
        let mut prices = Vec::new();
        if instance_types.is_empty() {
            return Ok(prices);
        }
        let types: Vec<Ec2InstanceType> = instance_types
            .iter()
            .map(|t| Ec2InstanceType::from(t.as_str()))
            .collect();
        let mut request = self
            .ec2
            .describe_spot_price_history()
            .set_instance_types(Some(types))
            .product_descriptions("Linux/UNIX")
            .start_time(time(start))
            .end_time(time(end))
            .max_results(1000);
        if let [zone] = availability_zones {
            request = request.availability_zone(zone);
        } else if !availability_zones.is_empty() {
            request = request.filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("availability-zone")
                    .set_values(Some(availability_zones.to_vec()))
                    .build(),
            );
        }
        let mut pages = request.into_paginator().send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| service_error(OP, &e))?;
            for p in page.spot_price_history() {
                let (Some(t), Some(zone), Some(price), Some(at)) = (
                    p.instance_type(),
                    p.availability_zone(),
                    p.spot_price().and_then(|s| s.parse::<f64>().ok()),
                    p.timestamp()
                        .and_then(|t| DateTime::from_timestamp(t.secs(), t.subsec_nanos())),
                ) else {
                    continue;
                };
                prices.push(SpotPrice {
                    instance_type: t.as_str().to_owned(),
                    availability_zone: zone.to_owned(),
                    price,
                    timestamp: at,
                });
            }
        }
        prices.sort_by_key(|p| p.timestamp);
        Ok(prices)
    }

    async fn instance_types(
        &self,
        patterns: &[String],
    ) -> Result<Vec<InstanceTypeInfo>, ServiceError> {
        const OP: &str = "ec2:DescribeInstanceTypes";
        let mut found = Vec::new();
        for chunk in patterns.chunks(FILTER_VALUES_PER_REQUEST) {
            let mut pages = self
                .ec2
                .describe_instance_types()
                .filters(
                    aws_sdk_ec2::types::Filter::builder()
                        .name("instance-type")
                        .set_values(Some(chunk.to_vec()))
                        .build(),
                )
                .max_results(100)
                .into_paginator()
                .send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| service_error(OP, &e))?;
                for info in page.instance_types() {
                    let (Some(name), Some(vcpus), Some(memory)) = (
                        info.instance_type(),
                        info.v_cpu_info().and_then(|v| v.default_v_cpus()),
                        info.memory_info().and_then(|m| m.size_in_mib()),
                    ) else {
                        continue;
                    };
                    found.push(InstanceTypeInfo {
                        name: name.as_str().to_owned(),
                        vcpus: u32::try_from(vcpus).unwrap_or(0),
                        memory_mib: u64::try_from(memory).unwrap_or(0),
                        architectures: info
                            .processor_info()
                            .map(|p| {
                                p.supported_architectures()
                                    .iter()
                                    .map(|a| a.as_str().to_owned())
                                    .collect()
                            })
                            .unwrap_or_default(),
                    });
                }
            }
        }
        found.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_pricing::operation::get_products::GetProductsOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn item(instance_type: &str, usd: &str) -> String {
        serde_json::json!({
            "product": {"productFamily": "Compute Instance", "attributes": {
                "instanceType": instance_type, "regionCode": "us-east-1", "operatingSystem": "Linux",
                "tenancy": "Shared", "preInstalledSw": "NA", "capacitystatus": "Used"}},
            "terms": {"OnDemand": {"ABC.JRTCKXETXF": {"priceDimensions": {
                "ABC.JRTCKXETXF.6YS6EN2CT7": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}}}}}
        })
        .to_string()
    }

    fn ec2() -> aws_sdk_ec2::Client {
        // Never called by the pricing tests.
        aws_sdk_ec2::Client::from_conf(
            aws_sdk_ec2::Config::builder()
                .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
                .region(aws_sdk_ec2::config::Region::new("us-east-1"))
                .build(),
        )
    }

    #[test]
    fn a_price_list_item_gives_its_type_and_hourly_price() {
        assert_eq!(
            on_demand_price(&item("m5.large", "0.0960000000")),
            Some(("m5.large".to_owned(), 0.096))
        );
        assert_eq!(on_demand_price(&item("m5.large", "0.0000000000")), None);
        assert_eq!(on_demand_price("not json"), None);
    }

    #[tokio::test]
    async fn every_type_is_priced_in_one_filtered_request_per_page() {
        let first = mock!(aws_sdk_pricing::Client::get_products)
            .match_requests(|r| {
                r.next_token().is_none()
                    && r.filters().iter().any(|f| {
                        f.r#type() == &FilterType::AnyOf
                            && f.field() == "instanceType"
                            && f.value() == "m5.large,m5.xlarge"
                    })
            })
            .then_output(|| {
                GetProductsOutput::builder()
                    .price_list(item("m5.large", "0.096"))
                    .next_token("2")
                    .build()
            });
        let second = mock!(aws_sdk_pricing::Client::get_products)
            .match_requests(|r| r.next_token() == Some("2"))
            .then_output(|| {
                GetProductsOutput::builder()
                    .price_list(item("m5.xlarge", "0.192"))
                    .build()
            });
        let pricing = mock_client!(aws_sdk_pricing, RuleMode::MatchAny, [&first, &second]);
        let prices = AwsPrices::new(pricing, ec2())
            .on_demand_hourly(
                "us-east-1",
                &["m5.large".to_owned(), "m5.xlarge".to_owned()],
            )
            .await
            .unwrap();
        assert_eq!(
            prices,
            BTreeMap::from([
                ("m5.large".to_owned(), 0.096),
                ("m5.xlarge".to_owned(), 0.192)
            ])
        );
        assert_eq!(first.num_calls() + second.num_calls(), 2);
    }

    #[test]
    fn any_of_values_stay_within_the_pricing_filter_value_limit() {
        // The 81 types of m5, c5, r5 and their Graviton families fit one value (914 characters);
        // twice as many need two.
        let types: Vec<String> = (0..160).map(|i| format!("m{i:02}.xlarge")).collect();
        let values = any_of_values(&types);
        assert_eq!(values.len(), 2);
        assert!(values.iter().all(|v| v.len() <= PRICING_FILTER_VALUE_CHARS));
        assert_eq!(values.join(","), types.join(","));
        assert_eq!(any_of_values(&[]), Vec::<String>::new());
        assert_eq!(
            any_of_values(&["m5.large".to_owned(), "m5.xlarge".to_owned()]),
            ["m5.large,m5.xlarge"]
        );
    }
}

//! Cost Explorer as a [`CostSource`]: GetCostAndUsage (paginated), GetCostForecast and the two
//! purchase recommendations. Cost Explorer bills per request, so each method is one logical
//! call. DataUnavailableException and AccessDeniedException become [`CostUnavailable`], which
//! the run reports instead of failing.

use std::collections::BTreeMap;

use aws_sdk_costexplorer::Client;
use aws_sdk_costexplorer::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_costexplorer::types::{
    DateInterval, Expression, Granularity, GroupDefinition, GroupDefinitionType,
    LookbackPeriodInDays, Metric, PaymentOption, SupportedSavingsPlansType, TagValues, TermInYears,
};
use chrono::NaiveDate;
use fleetopt_ports::{CostResult, CostSource, CostUnavailable, MonthCost, PurchaseRecommendation};

use crate::error::service_error;

/// The cost metric every figure uses.
const METRIC: &str = "UnblendedCost";

/// Cost Explorer, through the AWS SDK.
#[derive(Debug, Clone)]
pub struct CostExplorer {
    client: Client,
}

impl CostExplorer {
    /// Cost Explorer through `client` (built once per process).
    pub fn new(client: Client) -> Self {
        Self { client }
    }
}

/// An SDK error, sorted into "no data", "denied" and the rest.
fn unavailable<E, R>(operation: &'static str, err: &SdkError<E, R>) -> CostUnavailable
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let e = service_error(operation, err);
    match e.code.as_str() {
        "DataUnavailableException" => CostUnavailable::NoData {
            operation,
            message: e.message,
        },
        "AccessDeniedException" | "AccessDenied" => CostUnavailable::AccessDenied {
            operation,
            message: e.message,
        },
        _ => CostUnavailable::Failed(e),
    }
}

fn interval(start: NaiveDate, end: NaiveDate) -> Result<DateInterval, CostUnavailable> {
    DateInterval::builder()
        .start(start.format("%Y-%m-%d").to_string())
        .end(end.format("%Y-%m-%d").to_string())
        .build()
        .map_err(|e| {
            CostUnavailable::Failed(fleetopt_ports::ServiceError {
                operation: "ce:GetCostAndUsage",
                code: "ConstructionFailure".to_owned(),
                message: e.to_string(),
            })
        })
}

fn amount(text: Option<&str>) -> f64 {
    text.and_then(|t| t.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
        .unwrap_or(0.0)
}

fn date(text: Option<&str>) -> Option<NaiveDate> {
    text.and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok())
}

impl CostSource for CostExplorer {
    async fn monthly_by_service(
        &self,
        start: NaiveDate,
        end: NaiveDate,
    ) -> CostResult<Vec<MonthCost>> {
        const OP: &str = "ce:GetCostAndUsage";
        let mut months: BTreeMap<NaiveDate, BTreeMap<String, f64>> = BTreeMap::new();
        let mut token: Option<String> = None;
        loop {
            let output = self
                .client
                .get_cost_and_usage()
                .time_period(interval(start, end)?)
                .granularity(Granularity::Monthly)
                .metrics(METRIC)
                .group_by(
                    GroupDefinition::builder()
                        .r#type(GroupDefinitionType::Dimension)
                        .key("SERVICE")
                        .build(),
                )
                .set_next_page_token(token.take())
                .send()
                .await
                .map_err(|e| unavailable(OP, &e))?;
            for result in output.results_by_time() {
                let Some(month) = date(result.time_period().map(|p| p.start())) else {
                    continue;
                };
                let services = months.entry(month).or_default();
                for group in result.groups() {
                    let service = group.keys().first().cloned().unwrap_or_default();
                    let cost = amount(
                        group
                            .metrics()
                            .and_then(|m| m.get(METRIC))
                            .and_then(|v| v.amount()),
                    );
                    *services.entry(service).or_default() += cost;
                }
            }
            token = output.next_page_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(months
            .into_iter()
            .map(|(month, by_service)| MonthCost { month, by_service })
            .collect())
    }

    async fn daily_for_tag(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        tag: (&str, &str),
    ) -> CostResult<Vec<(NaiveDate, f64)>> {
        const OP: &str = "ce:GetCostAndUsage";
        let filter = Expression::builder()
            .tags(TagValues::builder().key(tag.0).values(tag.1).build())
            .build();
        let mut days = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let output = self
                .client
                .get_cost_and_usage()
                .time_period(interval(start, end)?)
                .granularity(Granularity::Daily)
                .metrics(METRIC)
                .filter(filter.clone())
                .set_next_page_token(token.take())
                .send()
                .await
                .map_err(|e| unavailable(OP, &e))?;
            for result in output.results_by_time() {
                if let Some(day) = date(result.time_period().map(|p| p.start())) {
                    let cost = amount(
                        result
                            .total()
                            .and_then(|t| t.get(METRIC))
                            .and_then(|v| v.amount()),
                    );
                    days.push((day, cost));
                }
            }
            token = output.next_page_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(days)
    }

    async fn forecast(&self, start: NaiveDate, end: NaiveDate) -> CostResult<f64> {
        const OP: &str = "ce:GetCostForecast";
        let output = self
            .client
            .get_cost_forecast()
            .time_period(interval(start, end)?)
            .granularity(Granularity::Monthly)
            .metric(Metric::UnblendedCost)
            .send()
            .await
            .map_err(|e| unavailable(OP, &e))?;
        Ok(amount(output.total().and_then(|t| t.amount())))
    }

    async fn reservation_recommendation(&self) -> CostResult<Option<PurchaseRecommendation>> {
        const OP: &str = "ce:GetReservationPurchaseRecommendation";
        let output = self
            .client
            .get_reservation_purchase_recommendation()
            .service("Amazon Elastic Compute Cloud - Compute")
            .term_in_years(TermInYears::OneYear)
            .payment_option(PaymentOption::NoUpfront)
            .lookback_period_in_days(LookbackPeriodInDays::ThirtyDays)
            .send()
            .await
            .map_err(|e| unavailable(OP, &e))?;
        let Some(recommendation) = output.recommendations().first() else {
            return Ok(None);
        };
        let details = recommendation.recommendation_details();
        let offer: Vec<String> = details
            .iter()
            .filter_map(|d| {
                let ec2 = d.instance_details()?.ec2_instance_details()?;
                Some(format!(
                    "{} x {} ({})",
                    d.recommended_number_of_instances_to_purchase()
                        .unwrap_or("?"),
                    ec2.instance_type().unwrap_or("?"),
                    ec2.region().unwrap_or("?"),
                ))
            })
            .collect();
        let summary = recommendation.recommendation_summary();
        Ok(Some(PurchaseRecommendation {
            offer: format!(
                "{}, 1 year, no upfront",
                if offer.is_empty() {
                    "EC2 reserved instances".to_owned()
                } else {
                    offer.join(", ")
                }
            ),
            monthly_savings_usd: amount(
                summary.and_then(|s| s.total_estimated_monthly_savings_amount()),
            ),
            savings_percent: amount(
                summary.and_then(|s| s.total_estimated_monthly_savings_percentage()),
            ),
            upfront_usd: details.iter().map(|d| amount(d.upfront_cost())).sum(),
        }))
    }

    async fn savings_plans_recommendation(&self) -> CostResult<Option<PurchaseRecommendation>> {
        const OP: &str = "ce:GetSavingsPlansPurchaseRecommendation";
        let output = self
            .client
            .get_savings_plans_purchase_recommendation()
            .savings_plans_type(SupportedSavingsPlansType::ComputeSp)
            .term_in_years(TermInYears::OneYear)
            .payment_option(PaymentOption::NoUpfront)
            .lookback_period_in_days(LookbackPeriodInDays::ThirtyDays)
            .send()
            .await
            .map_err(|e| unavailable(OP, &e))?;
        let Some(summary) = output
            .savings_plans_purchase_recommendation()
            .and_then(|r| r.savings_plans_purchase_recommendation_summary())
        else {
            return Ok(None);
        };
        Ok(Some(PurchaseRecommendation {
            offer: format!(
                "a Compute Savings Plan of ${}/h, 1 year, no upfront",
                summary.hourly_commitment_to_purchase().unwrap_or("?")
            ),
            monthly_savings_usd: amount(summary.estimated_monthly_savings_amount()),
            savings_percent: amount(summary.estimated_savings_percentage()),
            upfront_usd: 0.0,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_costexplorer::operation::get_cost_and_usage::GetCostAndUsageOutput;
    use aws_sdk_costexplorer::operation::get_cost_forecast::{
        GetCostForecastError, GetCostForecastOutput,
    };
    use aws_sdk_costexplorer::operation::get_savings_plans_purchase_recommendation::GetSavingsPlansPurchaseRecommendationOutput;
    use aws_sdk_costexplorer::types::error::DataUnavailableException;
    use aws_sdk_costexplorer::types::{
        Group, MetricValue, ResultByTime, SavingsPlansPurchaseRecommendation,
        SavingsPlansPurchaseRecommendationSummary,
    };
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn month(start: &str, end: &str, groups: &[(&str, &str)]) -> ResultByTime {
        let mut r = ResultByTime::builder().time_period(
            DateInterval::builder()
                .start(start)
                .end(end)
                .build()
                .unwrap(),
        );
        for (service, cost) in groups {
            r = r.groups(
                Group::builder()
                    .keys(*service)
                    .metrics(
                        METRIC,
                        MetricValue::builder().amount(*cost).unit("USD").build(),
                    )
                    .build(),
            );
        }
        r.build()
    }

    #[tokio::test]
    async fn monthly_costs_follow_the_page_token_and_sum_by_service() {
        let first = mock!(Client::get_cost_and_usage)
            .match_requests(|r| r.next_page_token().is_none())
            .then_output(|| {
                GetCostAndUsageOutput::builder()
                    .results_by_time(month(
                        "2026-09-01",
                        "2026-10-01",
                        &[
                            ("Amazon Elastic Compute Cloud - Compute", "812.40"),
                            ("AWS Lambda", "3.10"),
                        ],
                    ))
                    .next_page_token("page-2")
                    .build()
            });
        let second = mock!(Client::get_cost_and_usage)
            .match_requests(|r| r.next_page_token() == Some("page-2"))
            .then_output(|| {
                GetCostAndUsageOutput::builder()
                    .results_by_time(month(
                        "2026-10-01",
                        "2026-11-01",
                        &[("Amazon Elastic Compute Cloud - Compute", "850")],
                    ))
                    .build()
            });
        let client = mock_client!(aws_sdk_costexplorer, RuleMode::MatchAny, [&first, &second]);
        let months = CostExplorer::new(client)
            .monthly_by_service(day("2026-09-01"), day("2026-11-01"))
            .await
            .unwrap();
        assert_eq!(months.len(), 2);
        assert_eq!(months[0].month, day("2026-09-01"));
        assert!((months[0].total() - 815.5).abs() < 1e-9);
        assert_eq!(months[1].total(), 850.0);
        assert_eq!(first.num_calls() + second.num_calls(), 2);
    }

    #[tokio::test]
    async fn no_data_and_access_denied_are_unavailable_not_failures() {
        let no_data = mock!(Client::get_cost_forecast).then_error(|| {
            GetCostForecastError::DataUnavailableException(
                DataUnavailableException::builder()
                    .message("Insufficient amount of historical data to generate forecast.")
                    .meta(
                        aws_smithy_types::error::ErrorMetadata::builder()
                            .code("DataUnavailableException")
                            .message("Insufficient amount of historical data to generate forecast.")
                            .build(),
                    )
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_costexplorer, RuleMode::MatchAny, [&no_data]);
        let err = CostExplorer::new(client)
            .forecast(day("2026-11-23"), day("2026-12-01"))
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                CostUnavailable::NoData {
                    operation: "ce:GetCostForecast",
                    ..
                }
            ),
            "{err}"
        );

        let denied = mock!(Client::get_cost_forecast).then_error(|| {
            GetCostForecastError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("User is not authorized to perform: ce:GetCostForecast")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_costexplorer, RuleMode::MatchAny, [&denied]);
        let err = CostExplorer::new(client)
            .forecast(day("2026-11-23"), day("2026-12-01"))
            .await
            .unwrap_err();
        assert!(matches!(err, CostUnavailable::AccessDenied { .. }), "{err}");
        assert!(err.to_string().contains("not authorized"), "{err}");
    }

    #[tokio::test]
    async fn forecast_and_savings_plans_read_the_amounts() {
        let forecast = mock!(Client::get_cost_forecast).then_output(|| {
            GetCostForecastOutput::builder()
                .total(MetricValue::builder().amount("204.5").unit("USD").build())
                .build()
        });
        let plan = mock!(Client::get_savings_plans_purchase_recommendation).then_output(|| {
            GetSavingsPlansPurchaseRecommendationOutput::builder()
                .savings_plans_purchase_recommendation(
                    SavingsPlansPurchaseRecommendation::builder()
                        .savings_plans_purchase_recommendation_summary(
                            SavingsPlansPurchaseRecommendationSummary::builder()
                                .hourly_commitment_to_purchase("0.85")
                                .estimated_monthly_savings_amount("142.3")
                                .estimated_savings_percentage("21.4")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let client = mock_client!(aws_sdk_costexplorer, RuleMode::MatchAny, [&forecast, &plan]);
        let ce = CostExplorer::new(client);
        assert_eq!(
            ce.forecast(day("2026-11-23"), day("2026-12-01")).await,
            Ok(204.5)
        );
        let sp = ce.savings_plans_recommendation().await.unwrap().unwrap();
        assert_eq!((sp.monthly_savings_usd, sp.savings_percent), (142.3, 21.4));
        assert!(sp.offer.contains("$0.85/h"));
    }
}

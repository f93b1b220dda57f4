//! Cost Explorer as a [`CostSource`]: GetCostAndUsage (paginated), GetCostForecast,
//! ListCostAllocationTags and the two purchase recommendations, with Cost Explorer's figures
//! behind each purchase. Cost Explorer bills per request (pages included), so each method is
//! one logical call and the SDK's request count is the bill. DataUnavailableException and AccessDeniedException become [`CostUnavailable`], which
//! the run reports instead of failing.

use std::collections::BTreeMap;

use aws_sdk_costexplorer::Client;
use aws_sdk_costexplorer::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_costexplorer::types::{
    CostAllocationTagStatus, CostAllocationTagType, DateInterval, Expression, Granularity,
    GroupDefinition, GroupDefinitionType, LookbackPeriodInDays, Metric, PaymentOption,
    SupportedSavingsPlansType, TagValues, TermInYears,
};
use chrono::NaiveDate;
use fleetopt_model::CommitmentFigures;
use fleetopt_ports::{
    CostResult, CostSource, CostUnavailable, MonthCost, PurchaseRecommendation, TagActivation,
};

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

/// A figure Cost Explorer may leave out: absent or unreadable is `None`, never 0.
fn figure(text: Option<&str>) -> Option<f64> {
    text.and_then(|t| t.trim().parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

/// The sum of the figures given; `None` when none was.
fn sum(figures: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    figures
        .flatten()
        .fold(None, |total, v| Some(total.unwrap_or(0.0) + v))
}

/// The purchases both recommendations ask about: one year, no upfront.
const TERM_YEARS: u32 = 1;

fn tag_filter(tag: (&str, &str)) -> Expression {
    Expression::builder()
        .tags(TagValues::builder().key(tag.0).values(tag.1).build())
        .build()
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
        let filter = tag_filter(tag);
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

    async fn forecast(
        &self,
        start: NaiveDate,
        end: NaiveDate,
        tag: Option<(&str, &str)>,
    ) -> CostResult<f64> {
        const OP: &str = "ce:GetCostForecast";
        let output = self
            .client
            .get_cost_forecast()
            .time_period(interval(start, end)?)
            .granularity(Granularity::Monthly)
            .metric(Metric::UnblendedCost)
            .set_filter(tag.map(tag_filter))
            .send()
            .await
            .map_err(|e| unavailable(OP, &e))?;
        figure(output.total().and_then(|t| t.amount())).ok_or(CostUnavailable::NoData {
            operation: OP,
            message: "the forecast has no total".to_owned(),
        })
    }

    async fn tag_activation(&self, key: &str) -> CostResult<TagActivation> {
        const OP: &str = "ce:ListCostAllocationTags";
        let output = self
            .client
            .list_cost_allocation_tags()
            .tag_keys(key)
            .r#type(CostAllocationTagType::UserDefined)
            .send()
            .await
            .map_err(|e| unavailable(OP, &e))?;
        let status = output
            .cost_allocation_tags()
            .iter()
            .find(|t| t.tag_key() == key)
            .map(|t| t.status());
        Ok(match status {
            Some(CostAllocationTagStatus::Active) => TagActivation::Active,
            Some(_) => TagActivation::Inactive,
            None => TagActivation::Unknown,
        })
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
        let upfront_usd = sum(details.iter().map(|d| figure(d.upfront_cost()))).unwrap_or(0.0);
        let monthly_savings_usd =
            amount(summary.and_then(|s| s.total_estimated_monthly_savings_amount()));
        // Utilization weighted by the on-demand cost each detail covers.
        let covered = sum(details
            .iter()
            .map(|d| figure(d.estimated_monthly_on_demand_cost())));
        let utilization = sum(details.iter().map(|d| {
            Some(figure(d.average_utilization())? * figure(d.estimated_monthly_on_demand_cost())?)
        }))
        .zip(covered.filter(|c| *c > 0.0))
        .map(|(weighted, covered)| weighted / covered);
        let figures = CommitmentFigures {
            instances: sum(details
                .iter()
                .map(|d| figure(d.recommended_number_of_instances_to_purchase()))),
            hourly_commitment_usd: None,
            expected_utilization_percent: utilization,
            break_even_months: details
                .iter()
                .filter_map(|d| figure(d.estimated_break_even_in_months()))
                .reduce(f64::max),
            upfront_usd,
            recurring_monthly_usd: sum(details
                .iter()
                .map(|d| figure(d.recurring_standard_monthly_cost()))),
            on_demand_covered_monthly_usd: covered,
            term_years: TERM_YEARS,
            payment_option: PaymentOption::NoUpfront.as_str().to_owned(),
        };
        Ok(Some(PurchaseRecommendation {
            offer: format!(
                "{}, 1 year, no upfront",
                if offer.is_empty() {
                    "EC2 reserved instances".to_owned()
                } else {
                    offer.join(", ")
                }
            ),
            monthly_savings_usd,
            savings_percent: amount(
                summary.and_then(|s| s.total_estimated_monthly_savings_percentage()),
            ),
            figures,
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
        let recommendation = output.savings_plans_purchase_recommendation();
        let Some(summary) =
            recommendation.and_then(|r| r.savings_plans_purchase_recommendation_summary())
        else {
            return Ok(None);
        };
        let details = recommendation
            .map(|r| r.savings_plans_purchase_recommendation_details())
            .unwrap_or_default();
        let hourly = figure(summary.hourly_commitment_to_purchase());
        let upfront_usd = sum(details.iter().map(|d| figure(d.upfront_cost()))).unwrap_or(0.0);
        let monthly_savings_usd = amount(summary.estimated_monthly_savings_amount());
        let figures = CommitmentFigures {
            instances: None,
            hourly_commitment_usd: hourly,
            expected_utilization_percent: details
                .iter()
                .filter_map(|d| figure(d.estimated_average_utilization()))
                .reduce(f64::min),
            break_even_months: (monthly_savings_usd > 0.0)
                .then_some(upfront_usd / monthly_savings_usd),
            upfront_usd,
            // The commitment is paid every hour of the term.
            recurring_monthly_usd: hourly.map(|h| h * fleetopt_model::HOURS_PER_MONTH),
            on_demand_covered_monthly_usd: sum(details.iter().map(|d| {
                figure(d.current_average_hourly_on_demand_spend())
                    .map(|h| h * fleetopt_model::HOURS_PER_MONTH)
            })),
            term_years: TERM_YEARS,
            payment_option: PaymentOption::NoUpfront.as_str().to_owned(),
        };
        Ok(Some(PurchaseRecommendation {
            offer: format!(
                "a Compute Savings Plan of ${}/h, 1 year, no upfront",
                summary.hourly_commitment_to_purchase().unwrap_or("?")
            ),
            monthly_savings_usd,
            savings_percent: amount(summary.estimated_savings_percentage()),
            figures,
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
            .forecast(day("2026-11-23"), day("2026-12-01"), None)
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
            .forecast(day("2026-11-23"), day("2026-12-01"), None)
            .await
            .unwrap_err();
        assert!(matches!(err, CostUnavailable::AccessDenied { .. }), "{err}");
        assert!(err.to_string().contains("not authorized"), "{err}");
    }

    #[tokio::test]
    async fn forecast_and_savings_plans_read_the_amounts() {
        let forecast = mock!(Client::get_cost_forecast)
            .match_requests(|r| {
                // The application's forecast: filtered by its cost allocation tag.
                r.filter()
                    .and_then(|f| f.tags())
                    .is_some_and(|t| t.key() == Some("app-tag") && t.values() == ["shop"])
            })
            .then_output(|| {
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
            ce.forecast(
                day("2026-11-23"),
                day("2026-12-01"),
                Some(("app-tag", "shop"))
            )
            .await,
            Ok(204.5)
        );
        let sp = ce.savings_plans_recommendation().await.unwrap().unwrap();
        assert_eq!((sp.monthly_savings_usd, sp.savings_percent), (142.3, 21.4));
        assert!(sp.offer.contains("$0.85/h"));
        // The figures behind it: the commitment paid every hour, no upfront, no break-even wait.
        assert_eq!(sp.figures.hourly_commitment_usd, Some(0.85));
        assert_eq!(sp.figures.recurring_monthly_usd, Some(0.85 * 730.0));
        assert_eq!(sp.figures.break_even_months, Some(0.0));
        assert_eq!(sp.figures.payment_option, "NO_UPFRONT");
        // Without details, what Cost Explorer did not say stays unsaid.
        assert_eq!(sp.figures.expected_utilization_percent, None);
        assert_eq!(sp.figures.on_demand_covered_monthly_usd, None);
    }

    #[tokio::test]
    async fn reserved_instances_carry_cost_explorers_figures() {
        use aws_sdk_costexplorer::operation::get_reservation_purchase_recommendation::GetReservationPurchaseRecommendationOutput;
        use aws_sdk_costexplorer::types::{
            Ec2InstanceDetails, InstanceDetails, ReservationPurchaseRecommendation,
            ReservationPurchaseRecommendationDetail, ReservationPurchaseRecommendationSummary,
        };
        let detail = |count: &str, utilization: &str, on_demand: &str, recurring: &str| {
            ReservationPurchaseRecommendationDetail::builder()
                .instance_details(
                    InstanceDetails::builder()
                        .ec2_instance_details(
                            Ec2InstanceDetails::builder()
                                .instance_type("m5.large")
                                .region("US East (N. Virginia)")
                                .build(),
                        )
                        .build(),
                )
                .recommended_number_of_instances_to_purchase(count)
                .average_utilization(utilization)
                .estimated_monthly_on_demand_cost(on_demand)
                .recurring_standard_monthly_cost(recurring)
                .estimated_break_even_in_months(if count == "4" { "2.5" } else { "0.0" })
                .upfront_cost(if count == "4" { "300" } else { "0.0" })
                .build()
        };
        let ri = mock!(Client::get_reservation_purchase_recommendation).then_output(move || {
            GetReservationPurchaseRecommendationOutput::builder()
                .recommendations(
                    ReservationPurchaseRecommendation::builder()
                        .recommendation_details(detail("12", "100.0", "840.96", "525.60"))
                        .recommendation_details(detail("4", "50.0", "280.32", "175.20"))
                        .recommendation_summary(
                            ReservationPurchaseRecommendationSummary::builder()
                                .total_estimated_monthly_savings_amount("420.48")
                                .total_estimated_monthly_savings_percentage("37.5")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let client = mock_client!(aws_sdk_costexplorer, RuleMode::MatchAny, [&ri]);
        let r = CostExplorer::new(client)
            .reservation_recommendation()
            .await
            .unwrap()
            .unwrap();
        let f = &r.figures;
        assert_eq!(f.instances, Some(16.0));
        assert_eq!(f.upfront_usd, 300.0);
        assert_eq!(f.recurring_monthly_usd, Some(700.8));
        assert_eq!(f.on_demand_covered_monthly_usd, Some(1121.28));
        // Utilization weighted by the on-demand cost covered: (100 × 840.96 + 50 × 280.32) / 1121.28.
        assert!((f.expected_utilization_percent.unwrap() - 87.5).abs() < 1e-9);
        // The longest break-even of the purchase.
        assert_eq!(f.break_even_months, Some(2.5));
        assert!(r.offer.starts_with("12 x m5.large"), "{}", r.offer);
    }

    #[tokio::test]
    async fn a_tags_activation_is_read_from_list_cost_allocation_tags() {
        use aws_sdk_costexplorer::operation::list_cost_allocation_tags::ListCostAllocationTagsOutput;
        use aws_sdk_costexplorer::types::CostAllocationTag;
        let tag = |status: CostAllocationTagStatus| {
            CostAllocationTag::builder()
                .tag_key("fleet-optimizer:application")
                .r#type(CostAllocationTagType::UserDefined)
                .status(status)
                .build()
                .unwrap()
        };
        let inactive = mock!(Client::list_cost_allocation_tags).then_output(move || {
            ListCostAllocationTagsOutput::builder()
                .cost_allocation_tags(tag(CostAllocationTagStatus::Inactive))
                .build()
        });
        let active = mock!(Client::list_cost_allocation_tags).then_output(move || {
            ListCostAllocationTagsOutput::builder()
                .cost_allocation_tags(tag(CostAllocationTagStatus::Active))
                .build()
        });
        let none = mock!(Client::list_cost_allocation_tags)
            .then_output(|| ListCostAllocationTagsOutput::builder().build());
        let client = mock_client!(
            aws_sdk_costexplorer,
            RuleMode::Sequential,
            [&inactive, &active, &none]
        );
        let ce = CostExplorer::new(client);
        for expected in [
            TagActivation::Inactive,
            TagActivation::Active,
            TagActivation::Unknown,
        ] {
            assert_eq!(
                ce.tag_activation("fleet-optimizer:application").await,
                Ok(expected)
            );
        }
    }
}

"""Writes the default cost seed files of the demo fleet (scripts/seed/), deterministically.

The demo fleet (shared/aws/examples/seed.rs): four Auto Scaling groups of m5.large in us-east-1a,
web 4, api 8, checkout 4, reports 3 instances (19 m5.large, about $1.82 an hour on demand).
Dates are anchored at ANCHOR; `scripts/lib/seed_costs.py install` moves them to the present.

Usage: demo_seeds.py [--out scripts/seed]    (run it again after changing the figures below)
"""
import argparse
import hashlib
import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ANCHOR = datetime(2026, 11, 16, tzinfo=timezone.utc)  # "now" of the committed files
FLEET_INSTANCES = 19  # m5.large, all groups
LOCATION = {"us-east-1": "US East (N. Virginia)", "us-west-2": "US West (Oregon)"}

# On-demand Linux, shared tenancy, us-east-1 (USD per hour), with the catalogue attributes the
# Pricing API gives. arm64 (Graviton) types have "AWS Graviton2 Processor" (or 3) as
# physicalProcessor.
TYPES = [
    # type, family, vcpu, memory GiB, processor, network, price
    ("m5.large", "General purpose", 2, 8, "Intel Xeon Platinum 8175", "Up to 10 Gigabit", "0.096"),
    ("m5.xlarge", "General purpose", 4, 16, "Intel Xeon Platinum 8175", "Up to 10 Gigabit", "0.192"),
    ("m5.2xlarge", "General purpose", 8, 32, "Intel Xeon Platinum 8175", "Up to 10 Gigabit", "0.384"),
    ("m6i.large", "General purpose", 2, 8, "Intel Xeon 8375C (Ice Lake)", "Up to 12500 Megabit", "0.096"),
    ("c5.large", "Compute optimized", 2, 4, "Intel Xeon Platinum 8124M", "Up to 10 Gigabit", "0.085"),
    ("c5.xlarge", "Compute optimized", 4, 8, "Intel Xeon Platinum 8124M", "Up to 10 Gigabit", "0.17"),
    ("t3.medium", "General purpose", 2, 4, "Intel Skylake E5 2686 v5", "Up to 5 Gigabit", "0.0416"),
    ("t3.large", "General purpose", 2, 8, "Intel Skylake E5 2686 v5", "Up to 5 Gigabit", "0.0832"),
    ("r5.large", "Memory optimized", 2, 16, "Intel Xeon Platinum 8175", "Up to 10 Gigabit", "0.126"),
    ("m6g.medium", "General purpose", 1, 4, "AWS Graviton2 Processor", "Up to 10 Gigabit", "0.0385"),
    ("m6g.large", "General purpose", 2, 8, "AWS Graviton2 Processor", "Up to 10 Gigabit", "0.077"),
    ("m6g.xlarge", "General purpose", 4, 16, "AWS Graviton2 Processor", "Up to 10 Gigabit", "0.154"),
    ("c6g.large", "Compute optimized", 2, 4, "AWS Graviton2 Processor", "Up to 10 Gigabit", "0.068"),
    ("t4g.medium", "General purpose", 2, 4, "AWS Graviton2 Processor", "Up to 5 Gigabit", "0.0336"),
    ("r6g.large", "Memory optimized", 2, 16, "AWS Graviton2 Processor", "Up to 10 Gigabit", "0.1008"),
    # The rest of the Graviton sizes right-sizing may offer an m5.large or m5.xlarge group
    # (the cost optimizer prices m/c/r of generations 6 and 7 with a g beside an x86_64 family).
    ("c6g.medium", "Compute optimized", 1, 2, "AWS Graviton2 Processor", "Up to 10 Gigabit", "0.034"),
    ("c6g.xlarge", "Compute optimized", 4, 8, "AWS Graviton2 Processor", "Up to 10 Gigabit", "0.136"),
    ("r6g.medium", "Memory optimized", 1, 8, "AWS Graviton2 Processor", "Up to 10 Gigabit", "0.0504"),
    ("m7g.medium", "General purpose", 1, 4, "AWS Graviton3 Processor", "Up to 12500 Megabit", "0.0408"),
    ("m7g.large", "General purpose", 2, 8, "AWS Graviton3 Processor", "Up to 12500 Megabit", "0.0816"),
    ("m7g.xlarge", "General purpose", 4, 16, "AWS Graviton3 Processor", "Up to 12500 Megabit", "0.1632"),
    ("c7g.medium", "Compute optimized", 1, 2, "AWS Graviton3 Processor", "Up to 12500 Megabit", "0.0363"),
    ("c7g.large", "Compute optimized", 2, 4, "AWS Graviton3 Processor", "Up to 12500 Megabit", "0.0725"),
    ("c7g.xlarge", "Compute optimized", 4, 8, "AWS Graviton3 Processor", "Up to 12500 Megabit", "0.145"),
    ("r7g.medium", "Memory optimized", 1, 8, "AWS Graviton3 Processor", "Up to 12500 Megabit", "0.0536"),
    ("r7g.large", "Memory optimized", 2, 16, "AWS Graviton3 Processor", "Up to 12500 Megabit", "0.1071"),
]
OD_M5_LARGE = 0.096

# Spot, us-east-1a, Linux/UNIX: (type, typical price, relative noise); m5.large is the volatile one.
SPOT = [("m5.large", 0.0385, None), ("m5.xlarge", 0.0772, 0.02), ("c5.large", 0.0341, 0.02),
        ("t3.medium", 0.0131, 0.015), ("m6g.large", 0.0306, 0.02)]


def sku(*parts):
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16].upper().translate(
        str.maketrans("0123456789", "GHJKLMNPQR"))


def price_item(instance_type, family, vcpu, memory, processor, network, price,
               region="us-east-1", os_name="Linux", capacity="Used"):
    code = sku(instance_type, region, os_name, capacity)
    prefix = "" if region == "us-east-1" else "USW2-"
    usage = {"Used": "BoxUsage", "UnusedCapacityReservation": "UnusedBox"}[capacity]
    offer = f"{code}.JRTCKXETXF"
    return {
        "product": {
            "productFamily": "Compute Instance",
            "attributes": {
                "instanceType": instance_type, "instanceFamily": family, "vcpu": str(vcpu),
                "memory": f"{memory} GiB", "physicalProcessor": processor,
                "processorArchitecture": "64-bit", "networkPerformance": network,
                "storage": "EBS only", "currentGeneration": "Yes",
                "location": LOCATION[region], "locationType": "AWS Region", "regionCode": region,
                "operatingSystem": os_name, "tenancy": "Shared", "preInstalledSw": "NA",
                "licenseModel": "No License required", "capacitystatus": capacity,
                "marketoption": "OnDemand", "usagetype": f"{prefix}{usage}:{instance_type}",
                "operation": "RunInstances" if os_name == "Linux" else "RunInstances:0002",
                "servicecode": "AmazonEC2", "servicename": "Amazon Elastic Compute Cloud",
            },
            "sku": code,
        },
        "serviceCode": "AmazonEC2",
        "terms": {"OnDemand": {offer: {
            "priceDimensions": {f"{offer}.6YS6EN2CT7": {
                "unit": "Hrs", "endRange": "Inf",
                "description": f"${price} per On Demand {os_name} {instance_type} Instance Hour",
                "appliesTo": [], "rateCode": f"{offer}.6YS6EN2CT7", "beginRange": "0",
                "pricePerUnit": {"USD": f"{float(price):.10f}"}}},
            "sku": code, "effectiveDate": "2026-11-01T00:00:00Z", "offerTermCode": "JRTCKXETXF",
            "termAttributes": {}}}},
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z",
    }


def products():
    items = [price_item(*t) for t in TYPES]
    m5 = TYPES[0]
    # Decoys the request's filters must leave out: another OS, region and capacity status.
    items.append(price_item(*m5[:-1], "0.188", os_name="Windows"))
    items.append(price_item(*m5, region="us-west-2"))
    items.append(price_item(*m5, capacity="UnusedCapacityReservation"))
    return items


def spot_history():
    rng = random.Random(20261116)
    records = []
    hours = [ANCHOR - timedelta(hours=h) for h in range(7 * 24 - 1, -1, -1)]
    for instance_type, typical, noise in SPOT:
        level = typical
        for i, t in enumerate(hours):
            if noise is None:
                # Volatile: a random walk with surges towards the on-demand price.
                level = min(max(level * (1 + rng.gauss(0, 0.08)), 0.031), 0.06)
                price = level
                if 30 <= i % 56 <= 34 or rng.random() < 0.04:
                    price = OD_M5_LARGE * rng.uniform(0.72, 0.98)
            else:
                price = typical * (1 + rng.uniform(-noise, noise))
            records.append({"instanceType": instance_type, "availabilityZone": "us-east-1a",
                            "productDescription": "Linux/UNIX", "spotPrice": f"{price:.6f}",
                            "timestamp": t.strftime("%Y-%m-%dT%H:%M:%SZ")})
    return records


def money(x):
    return f"{x:.2f}"


def cost_and_usage():
    """[3 months by SERVICE, 30 days daily (the application's tag)] as GetCostAndUsage returns."""
    rng = random.Random(7)
    months = [(datetime(2026, 8, 1), datetime(2026, 9, 1)), (datetime(2026, 9, 1), datetime(2026, 10, 1)),
              (datetime(2026, 10, 1), datetime(2026, 11, 1))]
    services = [("Amazon Elastic Compute Cloud - Compute", FLEET_INSTANCES * OD_M5_LARGE * 24, 0.03),
                ("EC2 - Other", 4.9, 0.05), ("Elastic Load Balancing", 1.4, 0.05),
                ("AmazonCloudWatch", 0.82, 0.08), ("Amazon DynamoDB", 0.14, 0.2),
                ("AWS Lambda", 0.03, 0.3), ("AWS Cost Explorer", 0.01, 0.5),
                ("Amazon Simple Notification Service", 0.001, 0.5)]
    monthly = []
    for start, end in months:
        days = (end - start).days
        groups = []
        for name, per_day, spread in services:
            amount = money(per_day * days * (1 + rng.uniform(-spread, spread)))
            groups.append({"Keys": [name], "Metrics": {
                "UnblendedCost": {"Amount": amount, "Unit": "USD"},
                "AmortizedCost": {"Amount": amount, "Unit": "USD"}}})
        monthly.append({"TimePeriod": {"Start": start.date().isoformat(), "End": end.date().isoformat()},
                        "Total": {}, "Groups": groups, "Estimated": False})
    daily = []
    for d in range(30, 0, -1):
        day = ANCHOR - timedelta(days=d)
        # The web group scaled 4 -> 6 nine days ago: two more m5.large from then on.
        instances = FLEET_INSTANCES + (2 if d <= 9 else 0)
        amount = money(instances * OD_M5_LARGE * 24 + 6.2 + rng.uniform(-0.6, 0.6))
        daily.append({"TimePeriod": {"Start": day.date().isoformat(),
                                     "End": (day + timedelta(days=1)).date().isoformat()},
                      "Total": {"UnblendedCost": {"Amount": amount, "Unit": "USD"},
                                "AmortizedCost": {"Amount": amount, "Unit": "USD"}},
                      "Groups": [], "Estimated": day.month == ANCHOR.month})
    return [
        {"GroupDefinitions": [{"Type": "DIMENSION", "Key": "SERVICE"}], "ResultsByTime": monthly,
         "DimensionValueAttributes": []},
        {"ResultsByTime": daily, "DimensionValueAttributes": []},
    ]


def forecast():
    start = ANCHOR.date()
    end = datetime(ANCHOR.year + ANCHOR.month // 12, ANCHOR.month % 12 + 1, 1).date()
    days = (end - start).days
    mean = (FLEET_INSTANCES + 2) * OD_M5_LARGE * 24 * days + 6.2 * days
    period = {"Start": start.isoformat(), "End": end.isoformat()}
    return {"Total": {"Amount": money(mean), "Unit": "USD"},
            "ForecastResultsByTime": [{"TimePeriod": period, "MeanValue": money(mean),
                                       "PredictionIntervalLowerBound": money(mean * 0.93),
                                       "PredictionIntervalUpperBound": money(mean * 1.07)}]}


def reservation_recommendation():
    count, ri_hourly, lookback_hours = 12, 0.060, 30 * 24
    on_demand = count * OD_M5_LARGE * 730
    reserved = count * ri_hourly * 730
    savings = on_demand - reserved
    detail = {
        "AccountId": "123456789012",
        "InstanceDetails": {"EC2InstanceDetails": {
            "Family": "m5", "InstanceType": "m5.large", "Region": "US East (N. Virginia)",
            "Platform": "Linux/UNIX", "Tenancy": "Shared", "CurrentGeneration": True,
            "SizeFlexEligible": True}},
        "RecommendedNumberOfInstancesToPurchase": str(count),
        "RecommendedNormalizedUnitsToPurchase": str(count * 4),
        "MinimumNumberOfInstancesUsedPerHour": "12", "MinimumNormalizedUnitsUsedPerHour": "48",
        "MaximumNumberOfInstancesUsedPerHour": "21", "MaximumNormalizedUnitsUsedPerHour": "84",
        "AverageNumberOfInstancesUsedPerHour": "18.4", "AverageNormalizedUnitsUsedPerHour": "73.6",
        "AverageUtilization": "100.0", "EstimatedBreakEvenInMonths": "0.0", "CurrencyCode": "USD",
        "EstimatedMonthlySavingsAmount": money(savings),
        "EstimatedMonthlySavingsPercentage": money(100 * savings / on_demand),
        "EstimatedMonthlyOnDemandCost": money(on_demand),
        "EstimatedReservationCostForLookbackPeriod": money(count * ri_hourly * lookback_hours),
        "UpfrontCost": "0.0", "RecurringStandardMonthlyCost": money(reserved),
    }
    return {
        "Metadata": {"RecommendationId": "6f1c2f0e-3d7a-4f4b-9b8e-2c1d0a9e7b55",
                     "GenerationTimestamp": ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ")},
        "Recommendations": [{
            "AccountScope": "PAYER", "LookbackPeriodInDays": "THIRTY_DAYS",
            "TermInYears": "ONE_YEAR", "PaymentOption": "NO_UPFRONT",
            "ServiceSpecification": {"EC2Specification": {"OfferingClass": "STANDARD"}},
            "RecommendationDetails": [detail],
            "RecommendationSummary": {"TotalEstimatedMonthlySavingsAmount": money(savings),
                                      "TotalEstimatedMonthlySavingsPercentage": money(100 * savings / on_demand),
                                      "CurrencyCode": "USD"}}],
    }


def savings_plans_recommendation():
    hours = 30 * 24
    average, minimum, maximum = (FLEET_INSTANCES * OD_M5_LARGE, 12 * OD_M5_LARGE, 21 * OD_M5_LARGE)
    commitment, rate = 0.80, 0.71  # Compute Savings Plans, 1 year, no upfront: about 29 % off m5
    covered = commitment / rate
    on_demand = average * hours
    sp_cost = commitment * hours
    remaining = on_demand - covered * hours
    savings = covered * hours - sp_cost
    monthly = savings * 730 / hours
    detail = {
        "SavingsPlansDetails": {"Region": "Any", "InstanceFamily": "Any",
                                "OfferingId": "3c2a1d6e-8b0f-4e2a-9f51-7d4b3c2e1a90"},
        "AccountId": "123456789012", "UpfrontCost": "0.0",
        "EstimatedROI": money(100 * savings / sp_cost), "CurrencyCode": "USD",
        "EstimatedSPCost": money(sp_cost), "EstimatedOnDemandCost": money(remaining),
        "EstimatedOnDemandCostWithCurrentCommitment": money(on_demand),
        "EstimatedSavingsAmount": money(savings),
        "EstimatedSavingsPercentage": money(100 * savings / on_demand),
        "HourlyCommitmentToPurchase": f"{commitment:.3f}", "EstimatedAverageUtilization": "100.0",
        "EstimatedMonthlySavingsAmount": money(monthly),
        "CurrentMinimumHourlyOnDemandSpend": f"{minimum:.3f}",
        "CurrentMaximumHourlyOnDemandSpend": f"{maximum:.3f}",
        "CurrentAverageHourlyOnDemandSpend": f"{average:.3f}",
        "RecommendationDetailId": "b8e0c7a4-1f2d-4c6b-8a3e-5d9f0e1c2b47",
    }
    return {
        "Metadata": {"RecommendationId": "0d5e8a21-6c4f-4b1e-a7d2-9e3f1b0c8a64",
                     "GenerationTimestamp": ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ"),
                     "AdditionalMetadata": ""},
        "SavingsPlansPurchaseRecommendation": {
            "AccountScope": "PAYER", "SavingsPlansType": "COMPUTE_SP", "TermInYears": "ONE_YEAR",
            "PaymentOption": "NO_UPFRONT", "LookbackPeriodInDays": "THIRTY_DAYS",
            "SavingsPlansPurchaseRecommendationDetails": [detail],
            "SavingsPlansPurchaseRecommendationSummary": {
                "EstimatedROI": money(100 * savings / sp_cost), "CurrencyCode": "USD",
                "EstimatedTotalCost": money(sp_cost + remaining),
                "CurrentOnDemandSpend": money(on_demand), "EstimatedSavingsAmount": money(savings),
                "TotalRecommendationCount": "1",
                "DailyCommitmentToPurchase": money(commitment * 24),
                "HourlyCommitmentToPurchase": f"{commitment:.3f}",
                "EstimatedSavingsPercentage": money(100 * savings / on_demand),
                "EstimatedMonthlySavingsAmount": money(monthly),
                "EstimatedOnDemandCostWithCurrentCommitment": money(on_demand)}},
    }


def dump_lines(items):
    """A JSON list with one item a line: small files, readable diffs."""
    return "[\n" + ",\n".join(json.dumps(i, separators=(",", ":")) for i in items) + "\n]\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "scripts" / "seed"))
    out = Path(parser.parse_args().out)
    files = {
        "ce/GetCostForecast.json": json.dumps(forecast(), indent=1) + "\n",
        "ce/GetReservationPurchaseRecommendation.json":
            json.dumps(reservation_recommendation(), indent=1) + "\n",
        "ce/GetSavingsPlansPurchaseRecommendation.json":
            json.dumps(savings_plans_recommendation(), indent=1) + "\n",
        "ce/cost-and-usage.json": json.dumps(cost_and_usage(), indent=1) + "\n",
        "pricing/products.json": dump_lines(products()),
        "ec2/spot-price-history.json": dump_lines(spot_history()),
    }
    for relative, text in files.items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"{path} ({len(text)} bytes)")


if __name__ == "__main__":
    main()

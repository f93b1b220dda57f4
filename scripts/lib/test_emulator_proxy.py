"""Tests of the emulator proxy (scripts/lib/emulator_proxy.py) and the cost seeds.

They start their own moto server and proxy on free 127.0.0.1 ports (never the shared emulator)
with a temporary seed directory, and talk to them with boto3 from the venv, which speaks what
the AWS SDK for Rust speaks (AWS JSON 1.1 to ce and pricing, the EC2 query protocol, AWS JSON
1.0 to DynamoDB, awsQuery to Auto Scaling) except to CloudWatch: botocore prefers AWS JSON 1.0
among the model's protocols, the Rust SDK uses Smithy RPC v2 CBOR, so that path is tested with
raw CBOR requests serialized, signed and parsed by botocore's own CBOR classes.

Run: .venv/bin/python -m unittest discover -s scripts/lib -p 'test_*.py'
"""
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import boto3
import botocore.exceptions
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.parsers import RpcV2CBORParser
from botocore.serialize import RpcV2CBORSerializer
from botocore.session import get_session

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import demo_seeds  # noqa: E402
import emulator_proxy  # noqa: E402
import metrics_generator  # noqa: E402
import seed_costs  # noqa: E402

REGION = "us-east-1"
ONE_ATTEMPT = Config(retries={"total_max_attempts": 1, "mode": "standard"})

_processes = []
_tmp = _log = None
ENDPOINT = SEED_DIR = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def setUpModule():
    global _tmp, _log, ENDPOINT, SEED_DIR
    _tmp = tempfile.mkdtemp(prefix="fleetopt-proxy-test-")
    SEED_DIR = Path(_tmp) / "seed"
    SEED_DIR.mkdir()
    bin_dir = Path(sys.executable).parent
    moto_port, proxy_port = free_port(), free_port()
    logs = _log = open(Path(_tmp) / "moto.log", "wb")
    _processes.append(subprocess.Popen(
        [str(bin_dir / "moto_server"), "-H", "127.0.0.1", "-p", str(moto_port)],
        stdout=logs, stderr=subprocess.STDOUT))
    _processes.append(subprocess.Popen(
        [sys.executable, str(HERE / "emulator_proxy.py"), "--listen", str(proxy_port),
         "--upstream", str(moto_port), "--seed-dir", str(SEED_DIR)],
        stdout=logs, stderr=subprocess.STDOUT))
    ENDPOINT = f"http://127.0.0.1:{proxy_port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(ENDPOINT + "/moto-api/", timeout=1)
            return
        except (OSError, urllib.error.URLError):
            if time.monotonic() > deadline or any(p.poll() is not None for p in _processes):
                tearDownModule()
                raise RuntimeError(f"moto or the proxy did not start; see {_tmp}/moto.log")
            time.sleep(0.1)


def tearDownModule():
    for process in _processes:
        if process.poll() is None:
            process.terminate()
    for process in _processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
    _processes.clear()
    if _log:
        _log.close()
    if _tmp:
        shutil.rmtree(_tmp, ignore_errors=True)


def client(service, key="testing", config=ONE_ATTEMPT):
    return boto3.client(service, endpoint_url=ENDPOINT, region_name=REGION, config=config,
                        aws_access_key_id=key, aws_secret_access_key="testing")


def admin(method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(ENDPOINT + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def raw_json(target, body, service="ce", content_type="application/x-amz-json-1.1"):
    """A JSON-protocol request as the SDKs send it (the proxy does not check signatures)."""
    request = urllib.request.Request(ENDPOINT + "/", data=body, method="POST", headers={
        "Content-Type": content_type, "X-Amz-Target": target,
        "Authorization": f"AWS4-HMAC-SHA256 Credential=testing/20261123/{REGION}/{service}/"
                         "aws4_request, SignedHeaders=host;x-amz-target, Signature=0"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def cbor_call(operation, params, key="testing"):
    """A CloudWatch request in Smithy RPC v2 CBOR, as the Rust SDK sends it: (status, parsed)."""
    op = get_session().get_service_model("cloudwatch").operation_model(operation)
    request = RpcV2CBORSerializer().serialize_to_request(params, op)
    signed = AWSRequest(method="POST", url=ENDPOINT + request["url_path"], data=request["body"],
                        headers=request["headers"])
    SigV4Auth(Credentials(key, "testing"), "monitoring", REGION).add_auth(signed)
    http_request = urllib.request.Request(signed.url, data=request["body"], method="POST",
                                          headers=dict(signed.headers.items()))
    try:
        with urllib.request.urlopen(http_request, timeout=10) as response:
            status, headers, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        status, headers, body = e.code, e.headers, e.read()
    headers = {k.lower(): v for k, v in headers.items()}
    assert headers["content-type"] == "application/cbor", headers
    return status, RpcV2CBORParser().parse({"body": body, "headers": headers, "status_code": status},
                                           op.output_shape)


def write_seed(relative, data, key=None):
    path = SEED_DIR / ("keys/" + key if key else "") / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def error_code(raised):
    return raised.exception.response["Error"]["Code"]


class ProxyTest(unittest.TestCase):
    def setUp(self):
        admin("DELETE", "/_fleetopt/faults")
        admin("DELETE", "/_fleetopt/calls")
        for child in SEED_DIR.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()


PERIOD = {"Start": "2026-11-23", "End": "2026-12-01"}
FORECAST = {"Total": {"Amount": "436.67", "Unit": "USD"},
            "ForecastResultsByTime": [{"TimePeriod": PERIOD, "MeanValue": "436.67",
                                       "PredictionIntervalLowerBound": "406.11",
                                       "PredictionIntervalUpperBound": "467.24"}]}


def forecast(ce, **extra):
    return ce.get_cost_forecast(TimePeriod=PERIOD, Metric="UNBLENDED_COST", Granularity="MONTHLY",
                                **extra)


class CostExplorerSeeds(ProxyTest):
    def test_forecast_is_the_seeded_body(self):
        write_seed("ce/GetCostForecast.json", FORECAST)
        answer = forecast(client("ce"))
        answer.pop("ResponseMetadata")
        self.assertEqual(answer, FORECAST)

    def test_recommendations_are_the_seeded_bodies(self):
        ri = {"Metadata": {"RecommendationId": "r-1", "GenerationTimestamp": "2026-11-23T00:00:00Z"},
              "Recommendations": [{"TermInYears": "ONE_YEAR", "RecommendationDetails": [
                  {"InstanceDetails": {"EC2InstanceDetails": {"InstanceType": "m5.large"}},
                   "RecommendedNumberOfInstancesToPurchase": "12"}]}]}
        sp = {"Metadata": {"RecommendationId": "s-1"},
              "SavingsPlansPurchaseRecommendation": {
                  "SavingsPlansType": "COMPUTE_SP",
                  "SavingsPlansPurchaseRecommendationSummary": {"HourlyCommitmentToPurchase": "0.800"}}}
        write_seed("ce/GetReservationPurchaseRecommendation.json", ri)
        write_seed("ce/GetSavingsPlansPurchaseRecommendation.json", sp)
        ce = client("ce")
        got = ce.get_reservation_purchase_recommendation(
            Service="Amazon Elastic Compute Cloud - Compute", TermInYears="ONE_YEAR",
            PaymentOption="NO_UPFRONT", LookbackPeriodInDays="THIRTY_DAYS")
        self.assertEqual(got["Recommendations"], ri["Recommendations"])
        got = ce.get_savings_plans_purchase_recommendation(
            SavingsPlansType="COMPUTE_SP", TermInYears="ONE_YEAR", PaymentOption="NO_UPFRONT",
            LookbackPeriodInDays="THIRTY_DAYS")
        self.assertEqual(got["SavingsPlansPurchaseRecommendation"],
                         sp["SavingsPlansPurchaseRecommendation"])

    def test_missing_seed_is_data_unavailable(self):
        ce = client("ce")
        calls = [
            lambda: forecast(ce),
            lambda: ce.get_reservation_purchase_recommendation(Service="Amazon Elastic Compute Cloud - Compute"),
            lambda: ce.get_savings_plans_purchase_recommendation(
                SavingsPlansType="COMPUTE_SP", TermInYears="ONE_YEAR", PaymentOption="NO_UPFRONT",
                LookbackPeriodInDays="THIRTY_DAYS"),
        ]
        for call in calls:
            with self.assertRaises(botocore.exceptions.ClientError) as raised:
                call()
            self.assertEqual(error_code(raised), "DataUnavailableException")
            self.assertEqual(raised.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
            self.assertIn("no seed file ce/", raised.exception.response["Error"]["Message"])

    def test_requests_are_checked_against_the_model(self):
        write_seed("ce/GetCostForecast.json", FORECAST)
        status, body = raw_json("AWSInsightsIndexService.GetCostForecast",
                                b'{"Metric": "UNBLENDED_COST", "Granularity": "MONTHLY"}')
        self.assertEqual((status, body["__type"]), (400, "ValidationException"))
        self.assertIn("timePeriod", body["message"])
        status, body = raw_json("AWSInsightsIndexService.GetCostForecast", json.dumps(
            {"TimePeriod": {"Start": "2026-11-23"}, "Metric": "COST", "Granularity": "MONTHLY"}).encode())
        self.assertEqual(status, 400)
        self.assertIn("timePeriod.end", body["message"])
        self.assertIn("enum value set", body["message"])
        status, body = raw_json("AWSInsightsIndexService.GetCostForecast", b"{not json")
        self.assertEqual((status, body["__type"]), (400, "SerializationException"))
        status, body = raw_json("AWSInsightsIndexService.GetCostForecast", json.dumps(
            {"TimePeriod": PERIOD, "Metric": "UNBLENDED_COST", "Granularity": "MONTHLY"}).encode())
        self.assertEqual((status, body), (200, FORECAST))

    def test_a_seed_under_the_access_key_wins(self):
        write_seed("ce/GetCostForecast.json", FORECAST)
        own = dict(FORECAST, Total={"Amount": "1.00", "Unit": "USD"})
        write_seed("ce/GetCostForecast.json", own, key="AKIDOWNSEED")
        self.assertEqual(forecast(client("ce", key="AKIDOWNSEED"))["Total"]["Amount"], "1.00")
        self.assertEqual(forecast(client("ce"))["Total"]["Amount"], "436.67")

    def test_cost_allocation_tags_come_from_a_seed_or_are_unknown(self):
        ce = client("ce")
        self.assertEqual(ce.list_cost_allocation_tags(TagKeys=["app"])["CostAllocationTags"], [])
        tags = {"CostAllocationTags": [{"TagKey": "app", "Type": "UserDefined", "Status": "Inactive"}]}
        write_seed("ce/ListCostAllocationTags.json", tags)
        self.assertEqual(ce.list_cost_allocation_tags(TagKeys=["app"])["CostAllocationTags"][0]["Status"],
                         "Inactive")

    def test_a_broken_seed_file_is_a_500_that_names_it(self):
        (SEED_DIR / "ce").mkdir()
        (SEED_DIR / "ce/GetCostForecast.json").write_text("{oops")
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            forecast(client("ce"))
        self.assertEqual(error_code(raised), "InternalFailure")
        self.assertIn("GetCostForecast.json is not valid JSON", raised.exception.response["Error"]["Message"])

    def test_cost_and_usage_results_are_queued_in_moto(self):
        first = {"ResultsByTime": [{"TimePeriod": {"Start": "2031-01-01", "End": "2031-02-01"},
                                    "Total": {"UnblendedCost": {"Amount": "1.00", "Unit": "USD"}},
                                    "Groups": [], "Estimated": False}],
                 "DimensionValueAttributes": []}
        second = json.loads(json.dumps(first).replace('"1.00"', '"2.00"'))
        write_seed("ce/cost-and-usage.json", [first, second])
        self.assertEqual(seed_costs.push(ENDPOINT, SEED_DIR), 2)
        ce = client("ce")
        period = {"Start": "2031-01-01", "End": "2031-02-01"}

        def amount(**request):
            results = ce.get_cost_and_usage(Metrics=["UnblendedCost"], **request)["ResultsByTime"]
            return results[0]["Total"]["UnblendedCost"]["Amount"] if results else None

        # Each request body moto has not seen takes the next queued result, in order...
        self.assertEqual(amount(TimePeriod=period, Granularity="MONTHLY"), "1.00")
        self.assertEqual(amount(TimePeriod=period, Granularity="DAILY"), "2.00")
        # ...the same body gets the same result again...
        self.assertEqual(amount(TimePeriod=period, Granularity="MONTHLY"), "1.00")
        # ...and once the queue is empty, a new body gets an empty result.
        self.assertIsNone(amount(TimePeriod={"Start": "2031-03-01", "End": "2031-04-01"},
                                 Granularity="MONTHLY"))
        # The key is the raw body: the same request with its members in another order is new.
        self.assertIsNone(amount(Granularity="MONTHLY", TimePeriod=period))

    def test_cost_and_usage_queues_are_per_account(self):
        """Tests that run in parallel can each have their own queue: results pushed for an
        account are served to credentials of a role assumed in that account (moto's STS)."""
        result = {"ResultsByTime": [{"TimePeriod": {"Start": "2032-01-01", "End": "2032-02-01"},
                                     "Total": {"UnblendedCost": {"Amount": "3.00", "Unit": "USD"}},
                                     "Groups": [], "Estimated": False}]}
        write_seed("ce/cost-and-usage.json", [result])
        seed_costs.push(ENDPOINT, SEED_DIR, account_id="210987654321")
        credentials = client("sts").assume_role(
            RoleArn="arn:aws:iam::210987654321:role/cost-test", RoleSessionName="proxy-test")["Credentials"]
        other_account = boto3.client(
            "ce", endpoint_url=ENDPOINT, region_name=REGION, config=ONE_ATTEMPT,
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"])
        request = {"TimePeriod": {"Start": "2032-01-01", "End": "2032-02-01"},
                   "Granularity": "MONTHLY", "Metrics": ["UnblendedCost"]}
        self.assertEqual(client("ce").get_cost_and_usage(**request)["ResultsByTime"], [])
        self.assertEqual(other_account.get_cost_and_usage(**request)["ResultsByTime"],
                         result["ResultsByTime"])


def price_item(instance_type, region="us-east-1", os_name="Linux", price="0.096", service="AmazonEC2"):
    return {"product": {"productFamily": "Compute Instance", "sku": f"SKU{instance_type}{region}{os_name}",
                        "attributes": {"instanceType": instance_type, "regionCode": region,
                                       "location": "US East (N. Virginia)",
                                       "operatingSystem": os_name, "tenancy": "Shared",
                                       "preInstalledSw": "NA", "capacitystatus": "Used",
                                       "vcpu": "2", "memory": "8 GiB"}},
            "serviceCode": service,
            "terms": {"OnDemand": {"T": {"priceDimensions": {"T.R": {
                "unit": "Hrs", "pricePerUnit": {"USD": price}}}}}}}


def term(field, value, kind="TERM_MATCH"):
    return {"Type": kind, "Field": field, "Value": value}


class PricingSeeds(ProxyTest):
    def setUp(self):
        super().setUp()
        self.items = [price_item("m5.large"), price_item("m5.xlarge", price="0.192"),
                      price_item("c5.large", price="0.085"), price_item("m6g.large", price="0.077"),
                      price_item("t3.medium", price="0.0416"),
                      price_item("m5.large", os_name="Windows", price="0.188"),
                      price_item("m5.large", region="us-west-2"),
                      price_item("m5.large", service="AmazonRDS")]
        write_seed("pricing/products.json", self.items)
        self.pricing = client("pricing")

    def test_filters_select_the_items(self):
        answer = self.pricing.get_products(ServiceCode="AmazonEC2", Filters=[
            term("instanceType", "m5.large"), term("regionCode", "us-east-1"),
            term("operatingSystem", "Linux"), term("tenancy", "Shared"),
            term("preInstalledSw", "NA"), term("capacitystatus", "Used")])
        self.assertEqual(answer["FormatVersion"], "aws_v1")
        self.assertNotIn("NextToken", answer)
        self.assertEqual(len(answer["PriceList"]), 1)
        self.assertIsInstance(answer["PriceList"][0], str)  # JSON documents as strings
        self.assertEqual(json.loads(answer["PriceList"][0]), self.items[0])
        linux = self.pricing.get_products(ServiceCode="AmazonEC2", Filters=[
            term("regionCode", "us-east-1"), term("operatingSystem", "Linux")])["PriceList"]
        self.assertEqual([json.loads(i)["product"]["attributes"]["instanceType"] for i in linux],
                         ["m5.large", "m5.xlarge", "c5.large", "m6g.large", "t3.medium"])
        any_of = self.pricing.get_products(ServiceCode="AmazonEC2", Filters=[
            term("instanceType", "c5.large,t3.medium", "ANY_OF")])["PriceList"]
        self.assertEqual(len(any_of), 2)

    def test_other_service_codes_and_no_seed(self):
        self.assertEqual(len(self.pricing.get_products(ServiceCode="AmazonRDS")["PriceList"]), 1)
        self.assertEqual(self.pricing.get_products(ServiceCode="AmazonS3")["PriceList"], [])
        (SEED_DIR / "pricing/products.json").unlink()
        self.assertEqual(self.pricing.get_products(ServiceCode="AmazonEC2")["PriceList"], [])

    def test_pagination(self):
        filters = [term("regionCode", "us-east-1"), term("operatingSystem", "Linux")]
        pages, token = [], None
        while True:
            extra = {"NextToken": token} if token else {}
            page = self.pricing.get_products(ServiceCode="AmazonEC2", Filters=filters,
                                             MaxResults=2, **extra)
            pages.append(len(page["PriceList"]))
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, [2, 2, 1])
        paginated = self.pricing.get_paginator("get_products").paginate(
            ServiceCode="AmazonEC2", Filters=filters, PaginationConfig={"PageSize": 3})
        self.assertEqual(sum(len(p["PriceList"]) for p in paginated), 5)
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            self.pricing.get_products(ServiceCode="AmazonEC2", NextToken="bogus")
        self.assertEqual(error_code(raised), "InvalidNextTokenException")
        first = self.pricing.get_products(ServiceCode="AmazonEC2", MaxResults=1)
        with self.assertRaises(botocore.exceptions.ClientError) as raised:  # another query's token
            self.pricing.get_products(ServiceCode="AmazonEC2", Filters=filters,
                                      NextToken=first["NextToken"])
        self.assertEqual(error_code(raised), "InvalidNextTokenException")

    def test_requests_are_checked_against_the_model(self):
        status, body = raw_json("AWSPriceListService.GetProducts", b"{}", service="pricing")
        self.assertEqual((status, body["__type"]), (400, "ValidationException"))
        self.assertIn("serviceCode", body["message"])
        status, body = raw_json("AWSPriceListService.GetProducts", json.dumps(
            {"ServiceCode": "AmazonEC2", "MaxResults": 500}).encode(), service="pricing")
        self.assertEqual((status, body["__type"]), (400, "ValidationException"))


HOURS = [datetime(2026, 11, 16, tzinfo=timezone.utc) + timedelta(hours=h) for h in range(24)]


def spot(instance_type, zone, hour, price, product="Linux/UNIX"):
    return {"instanceType": instance_type, "availabilityZone": zone, "productDescription": product,
            "spotPrice": price, "timestamp": HOURS[hour].strftime("%Y-%m-%dT%H:%M:%SZ")}


class SpotPriceSeeds(ProxyTest):
    def setUp(self):
        super().setUp()
        records = []
        for h in range(24):
            records.append(spot("m5.large", "us-east-1a", h, f"0.{400 + h:04d}"))
            records.append(spot("m5.large", "us-east-1b", h, "0.0390"))
            records.append(spot("c5.large", "us-east-1a", h, "0.0340"))
        records.append(spot("m5.large", "us-east-1a", 5, "0.1800", product="Windows"))
        write_seed("ec2/spot-price-history.json", records)
        self.ec2 = client("ec2")

    def history(self, **request):
        return self.ec2.describe_spot_price_history(**request)["SpotPriceHistory"]

    def test_filters_and_newest_first(self):
        got = self.history(InstanceTypes=["m5.large"], AvailabilityZone="us-east-1a",
                           ProductDescriptions=["Linux/UNIX"])
        self.assertEqual(len(got), 24)
        self.assertEqual({(p["InstanceType"], p["AvailabilityZone"], p["ProductDescription"]) for p in got},
                         {("m5.large", "us-east-1a", "Linux/UNIX")})
        self.assertEqual([p["Timestamp"] for p in got], sorted(HOURS, reverse=True))
        self.assertEqual(got[0]["SpotPrice"], "0.0423")
        both = self.history(InstanceTypes=["m5.large", "c5.large"], Filters=[
            {"Name": "availability-zone", "Values": ["us-east-1a"]},
            {"Name": "product-description", "Values": ["Linux/*"]}])
        self.assertEqual(len(both), 48)
        self.assertEqual(len(self.history()), 73)

    def test_time_window_includes_the_price_in_effect_at_its_start(self):
        got = self.history(InstanceTypes=["m5.large"], AvailabilityZone="us-east-1a",
                           ProductDescriptions=["Linux/UNIX"],
                           StartTime=HOURS[10] + timedelta(minutes=30), EndTime=HOURS[14])
        self.assertEqual([p["Timestamp"] for p in got], [HOURS[h] for h in (14, 13, 12, 11, 10)])
        only_end = self.history(InstanceTypes=["c5.large"], EndTime=HOURS[2])
        self.assertEqual(len(only_end), 3)

    def test_pagination(self):
        seen, token, pages = [], "", 0
        while True:
            page = self.ec2.describe_spot_price_history(InstanceTypes=["m5.large"],
                                                        AvailabilityZone="us-east-1a",
                                                        MaxResults=10, NextToken=token)
            pages += 1
            seen += page["SpotPriceHistory"]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual((pages, len(seen)), (3, 25))
        last = self.ec2.describe_spot_price_history(InstanceTypes=["c5.large"], MaxResults=100)
        self.assertNotIn("NextToken", last)  # no <nextToken> element after the last page
        all_at_once = self.history(InstanceTypes=["m5.large"], AvailabilityZone="us-east-1a")
        self.assertEqual(seen, all_at_once)
        paginated = self.ec2.get_paginator("describe_spot_price_history").paginate(
            InstanceTypes=["c5.large"], PaginationConfig={"PageSize": 7})
        self.assertEqual(sum(len(p["SpotPriceHistory"]) for p in paginated), 24)
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            self.ec2.describe_spot_price_history(NextToken="bogus")
        self.assertEqual(error_code(raised), "InvalidNextToken")

    def test_dry_run_and_bad_times(self):
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            self.ec2.describe_spot_price_history(DryRun=True)
        self.assertEqual(error_code(raised), "DryRunOperation")
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            self.ec2.describe_spot_price_history(StartTime=HOURS[5], EndTime=HOURS[1])
        self.assertEqual(error_code(raised), "InvalidParameterValue")

    def test_no_seed_is_an_empty_history(self):
        (SEED_DIR / "ec2/spot-price-history.json").unlink()
        self.assertEqual(self.history(InstanceTypes=["m5.large"]), [])


class PassThrough(ProxyTest):
    def test_other_ec2_actions_go_to_moto(self):
        types = client("ec2").describe_instance_types(InstanceTypes=["m5.large", "m6g.large"])
        info = {t["InstanceType"]: t for t in types["InstanceTypes"]}
        self.assertEqual(info["m5.large"]["VCpuInfo"]["DefaultVCpus"], 2)
        self.assertEqual(info["m6g.large"]["ProcessorInfo"]["SupportedArchitectures"], ["arm64"])
        self.assertEqual(admin("GET", "/_fleetopt/calls")[1]["calls"], {"ec2:DescribeInstanceTypes": 1})

    def test_dynamodb(self):
        dynamodb = client("dynamodb")
        dynamodb.create_table(TableName="proxy-test", BillingMode="PAY_PER_REQUEST",
                              AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                              KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
        self.assertIn("proxy-test", dynamodb.list_tables()["TableNames"])

    def test_cloudwatch_over_cbor_and_json(self):
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        status, _ = cbor_call("PutMetricData", {"Namespace": "Proxy/Test", "MetricData": [
            {"MetricName": "Load", "Value": 42.5, "Timestamp": now - timedelta(minutes=2)}]})
        self.assertEqual(status, 200)
        client("cloudwatch").put_metric_data(Namespace="Proxy/Test", MetricData=[  # JSON 1.0
            {"MetricName": "Load", "Value": 7.25, "Timestamp": now - timedelta(minutes=3)}])
        status, answer = cbor_call("GetMetricData", {
            "MetricDataQueries": [{"Id": "load", "MetricStat": {
                "Metric": {"Namespace": "Proxy/Test", "MetricName": "Load"},
                "Period": 60, "Stat": "Maximum"}}],
            "StartTime": now - timedelta(minutes=10), "EndTime": now + timedelta(minutes=1)})
        self.assertEqual(status, 200)
        self.assertEqual(sorted(answer["MetricDataResults"][0]["Values"]), [7.25, 42.5])
        status, answer = cbor_call("ListMetrics", {"Namespace": "Nothing/Here"})
        self.assertEqual((status, answer["Metrics"]), (200, []))
        self.assertEqual(admin("GET", "/_fleetopt/calls")[1]["calls"], {
            "cloudwatch:GetMetricData": 1, "cloudwatch:ListMetrics": 1, "cloudwatch:PutMetricData": 2})


class DynamoDbWrites(ProxyTest):
    """Conditional writes of one item are made one at a time, as on DynamoDB; writes of different
    items are not held behind each other."""

    @classmethod
    def setUpClass(cls):
        cls.dynamodb = client("dynamodb", config=Config(retries={"total_max_attempts": 1},
                                                        max_pool_connections=32))
        cls.table = f"proxy-writes-{time.monotonic_ns()}"
        cls.dynamodb.create_table(
            TableName=cls.table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                                  {"AttributeName": "ts", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"},
                       {"AttributeName": "ts", "KeyType": "RANGE"}])

    def at_once(self, count, write):
        """Runs `write(i)` on `count` threads released together; how many passed."""
        import threading
        start, passed, lock = threading.Barrier(count), [], threading.Lock()

        def run(i):
            start.wait()
            try:
                write(i)
            except botocore.exceptions.ClientError as e:
                self.assertEqual(e.response["Error"]["Code"], "ConditionalCheckFailedException")
                return
            with lock:
                passed.append(i)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return passed

    def test_two_claims_of_one_item_never_both_pass(self):
        key = {"id": {"S": "claimed"}, "ts": {"S": "1"}}
        self.dynamodb.put_item(TableName=self.table, Item={**key, "version": {"N": "1"}})
        for round_ in range(1, 6):
            passed = self.at_once(16, lambda i: self.dynamodb.update_item(
                TableName=self.table, Key=key,
                UpdateExpression="SET version = :next, claimedBy = :me",
                ConditionExpression="version = :seen",
                ExpressionAttributeValues={":seen": {"N": str(round_)}, ":next": {"N": str(round_ + 1)},
                                           ":me": {"S": str(i)}}))
            self.assertEqual(len(passed), 1, f"round {round_}: {passed}")

    def test_one_new_item_is_written_once_and_other_items_all_pass(self):
        new = lambda i, name: self.dynamodb.put_item(  # noqa: E731
            TableName=self.table, Item={"id": {"S": name}, "ts": {"S": "1"}, "by": {"N": str(i)}},
            ConditionExpression="attribute_not_exists(id)")
        self.assertEqual(len(self.at_once(16, lambda i: new(i, "only-once"))), 1)
        self.assertEqual(len(self.at_once(16, lambda i: new(i, f"item-{i}"))), 16)

    def test_item_locks_order_one_item_and_let_others_through(self):
        import threading
        locks = emulator_proxy.ItemLocks()
        a, b = ("t", "a"), ("t", "b")
        with locks.item(a), locks.item(b):
            self.assertEqual(locks.in_flight(), 2)  # two items at once
            entered = threading.Event()

            def second_writer_of_a():
                with locks.item(a):
                    entered.set()

            waiter = threading.Thread(target=second_writer_of_a)
            waiter.start()
            self.assertFalse(entered.wait(0.2), "a second write of the same item waits")
        waiter.join(2)
        self.assertTrue(entered.is_set())
        # A write that runs alone waits for the item writes in flight, and new ones wait for it.
        order = []
        with locks.item(a):
            alone = threading.Thread(target=lambda: (locks.alone().__enter__(), order.append("alone"),
                                                     time.sleep(0.1), locks._release(None)))
            alone.start()
            time.sleep(0.1)
            order.append("a done")
        time.sleep(0.05)
        with locks.item(b):
            order.append("b")
        alone.join(2)
        self.assertEqual(order, ["a done", "alone", "b"])


class Generator(ProxyTest):
    def tearDown(self):
        admin("DELETE", "/_fleetopt/generator")
        super().tearDown()

    def cpu(self, group, stat, start, end):
        status, answer = cbor_call("GetMetricData", {
            "MetricDataQueries": [{"Id": "cpu", "MetricStat": {
                "Metric": {"Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
                           "Dimensions": [{"Name": "AutoScalingGroupName", "Value": group}]},
                "Period": 300, "Stat": stat}}],
            "StartTime": start, "EndTime": end})
        self.assertEqual(status, 200, answer)
        return answer["MetricDataResults"][0]

    def test_answers_are_computed_deterministic_and_agree_across_apis(self):
        self.assertEqual(admin("POST", "/_fleetopt/generator", {"enabled": True}), (200, {"enabled": True}))
        end = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
        start = end - timedelta(hours=1)
        average = self.cpu("web", "Average", start, end)
        self.assertEqual(len(average["Values"]), 12)
        self.assertEqual(average["Timestamps"][0], end - timedelta(minutes=5))  # newest first
        self.assertEqual(self.cpu("web", "Average", start, end), average)
        peak = self.cpu("web", "Maximum", start, end)
        for a, p in zip(average["Values"], peak["Values"]):
            self.assertTrue(0 < a <= p <= 100, (a, p))
        status, stats = cbor_call("GetMetricStatistics", {
            "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
            "Dimensions": [{"Name": "AutoScalingGroupName", "Value": "web"}],
            "StartTime": start, "EndTime": end, "Period": 300, "Statistics": ["Average", "Maximum"]})
        self.assertEqual(status, 200, stats)
        by_time = {p["Timestamp"]: (p["Average"], p["Maximum"]) for p in stats["Datapoints"]}
        self.assertEqual([by_time[t] for t in average["Timestamps"]],
                         list(zip(average["Values"], peak["Values"])))
        # Every load class and the missing agent occur, and a missing series is empty, not 0.
        groups = [f"g{i}" for i in range(60)]
        classes = {metrics_generator.load_class(g) for g in groups}
        self.assertEqual(classes, {"overloaded", "idle", "normal"})
        without = next(g for g in groups if not metrics_generator.has_agent(g))
        status, memory = cbor_call("GetMetricData", {
            "MetricDataQueries": [{"Id": "m", "MetricStat": {
                "Metric": {"Namespace": "CWAgent", "MetricName": "mem_used_percent",
                           "Dimensions": [{"Name": "AutoScalingGroupName", "Value": without}]},
                "Period": 300, "Stat": "Average"}}],
            "StartTime": start, "EndTime": end})
        self.assertEqual((status, memory["MetricDataResults"][0]["Values"]), (200, []))
        self.assertEqual(admin("GET", "/_fleetopt/calls")[1]["calls"], {
            "cloudwatch:GetMetricData": 4, "cloudwatch:GetMetricStatistics": 1})

    def test_off_by_default_and_after_delete_and_bad_bodies_are_refused(self):
        self.assertEqual(admin("GET", "/_fleetopt/generator"), (200, {"enabled": False}))
        end = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        self.assertEqual(self.cpu("nobody-stored-this", "Average", end - timedelta(hours=1), end)["Values"], [])
        self.assertEqual(admin("POST", "/_fleetopt/generator", {"enabled": "yes"})[0], 400)
        admin("POST", "/_fleetopt/generator", {"enabled": True})
        self.assertEqual(admin("DELETE", "/_fleetopt/generator"), (200, {"enabled": False}))


class Faults(ProxyTest):
    def test_faults_fire_as_often_as_asked_in_order_then_stop(self):
        write_seed("ce/GetCostForecast.json", FORECAST)
        status, _ = admin("POST", "/_fleetopt/faults", {"operation": "ce:GetCostForecast",
                                                        "throttle": 2, "serverError": 1, "reset": 1})
        self.assertEqual(status, 200)
        ce = client("ce")
        outcomes = []
        for _ in range(6):
            try:
                forecast(ce)
                outcomes.append("ok")
            except botocore.exceptions.ClientError as e:
                outcomes.append((e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]["Code"]))
            except botocore.exceptions.ConnectionClosedError:
                outcomes.append("reset")
        self.assertEqual(outcomes, [(400, "ThrottlingException"), (400, "ThrottlingException"),
                                    (500, "InternalFailure"), "reset", "ok", "ok"])
        state = admin("GET", "/_fleetopt/faults")[1]
        self.assertEqual(state["injected"], {"throttle": 2, "serverError": 1, "error": 0, "reset": 1,
                                             "delayed": 0, "spiked": 0})
        self.assertEqual(state["rules"][0]["pending"], {"throttle": 0, "serverError": 0, "error": 0,
                                                        "reset": 0})
        self.assertEqual(state["rules"][0]["matched"], 6)
        # Other operations were never touched.
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            ce.get_reservation_purchase_recommendation(Service="Amazon Elastic Compute Cloud - Compute")
        self.assertEqual(error_code(raised), "DataUnavailableException")

    def test_an_sdk_with_retries_gets_through_the_throttles(self):
        write_seed("ce/GetCostForecast.json", FORECAST)
        admin("POST", "/_fleetopt/faults", {"operation": "ce:GetCostForecast", "throttle": 1})
        retrying = Config(retries={"total_max_attempts": 3, "mode": "standard"})
        answer = forecast(client("ce", config=retrying))
        self.assertEqual(answer["ResponseMetadata"]["RetryAttempts"], 1)

    def test_each_protocol_gets_its_own_error_shapes(self):
        rules = [{"operation": op, "throttle": 1, "serverError": 1} for op in (
            "ec2:DescribeSpotPriceHistory", "cloudwatch:GetMetricData", "autoscaling:*",
            "dynamodb:ListTables", "pricing:GetProducts", "cloudwatch:ListMetrics")]
        self.assertEqual(admin("POST", "/_fleetopt/faults", rules)[0], 200)
        now = datetime.now(timezone.utc)

        def cbor():
            status, answer = cbor_call("GetMetricData", {
                "MetricDataQueries": [{"Id": "q", "Expression": "SUM(METRICS())"}],
                "StartTime": now - timedelta(hours=1), "EndTime": now})
            if status >= 300:
                raise botocore.exceptions.ClientError(answer, "GetMetricData")

        calls = {
            "ec2": lambda: client("ec2").describe_spot_price_history(InstanceTypes=["m5.large"]),
            "cbor": cbor,
            "json10-query-compatible": lambda: client("cloudwatch").list_metrics(),
            "query": lambda: client("autoscaling").describe_auto_scaling_groups(),
            "json10": lambda: client("dynamodb").list_tables(),
            "json11": lambda: client("pricing").get_products(ServiceCode="AmazonEC2"),
        }
        expected = {
            "ec2": [(503, "RequestLimitExceeded"), (500, "InternalError")],
            "cbor": [(400, "Throttling"), (500, "InternalFailure")],
            "json10-query-compatible": [(400, "Throttling"), (500, "InternalFailure")],
            "query": [(400, "Throttling"), (500, "InternalFailure")],
            "json10": [(400, "ThrottlingException"), (500, "InternalFailure")],
            "json11": [(400, "ThrottlingException"), (500, "InternalFailure")],
        }
        for name, call in calls.items():
            got = []
            for _ in range(2):
                with self.assertRaises(botocore.exceptions.ClientError) as raised:
                    call()
                response = raised.exception.response
                got.append((response["ResponseMetadata"]["HTTPStatusCode"], error_code(raised)))
                if name.startswith("json"):
                    self.assertEqual(response["ResponseMetadata"]["HTTPHeaders"]["content-type"],
                                     "application/x-amz-json-" + ("1.1" if name == "json11" else "1.0"))
            self.assertEqual(got, expected[name], name)
            call()  # then it answers again

    def test_throttle_code_can_be_the_service_specific_one(self):
        write_seed("ce/GetCostForecast.json", FORECAST)
        admin("POST", "/_fleetopt/faults", {"operation": "ce:GetCostForecast", "throttle": 1,
                                            "throttleCode": "LimitExceededException"})
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            forecast(client("ce"))
        self.assertEqual(error_code(raised), "LimitExceededException")

    def test_reset_closes_the_connection_without_an_answer(self):
        admin("POST", "/_fleetopt/faults", {"operation": "*", "reset": 1})
        with socket.create_connection(("127.0.0.1", int(ENDPOINT.rsplit(":", 1)[1])), timeout=5) as s:
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: DynamoDB_20120810.ListTables\r\n"
                      b"Content-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}")
            try:
                received = s.recv(1024)
            except ConnectionResetError:
                received = b""
        self.assertEqual(received, b"")
        client("dynamodb").list_tables()  # the next one is answered
        self.assertEqual(admin("GET", "/_fleetopt/faults")[1]["injected"]["reset"], 1)

    def test_latency_applies_to_matching_requests_until_cleared(self):
        admin("POST", "/_fleetopt/faults", {"operation": "dynamodb:ListTables", "latencyMs": 400})
        dynamodb = client("dynamodb")
        for _ in range(2):
            started = time.monotonic()
            dynamodb.list_tables()
            self.assertGreaterEqual(time.monotonic() - started, 0.4)
        dynamodb.describe_limits()  # another operation: not delayed
        state = admin("GET", "/_fleetopt/faults")[1]
        self.assertEqual((state["rules"][0]["delayed"], state["injected"]["delayed"]), (2, 2))
        self.assertEqual(admin("DELETE", "/_fleetopt/faults")[1], {
            "rules": [], "injected": {"throttle": 0, "serverError": 0, "error": 0, "reset": 0,
                                      "delayed": 0, "spiked": 0}})
        dynamodb.list_tables()
        self.assertEqual(admin("GET", "/_fleetopt/calls")[1]["calls"],
                         {"dynamodb:DescribeLimits": 1, "dynamodb:ListTables": 3})

    def test_the_most_specific_rule_decides(self):
        write_seed("ce/GetCostForecast.json", FORECAST)
        admin("POST", "/_fleetopt/faults", [{"operation": "*", "throttle": 5},
                                            {"operation": "ce:*", "serverError": 5},
                                            {"operation": "ce:GetCostForecast"}])
        ce = client("ce")
        forecast(ce)  # its own rule: no fault
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            ce.get_reservation_purchase_recommendation(Service="x")
        self.assertEqual(error_code(raised), "InternalFailure")  # ce:*
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            client("dynamodb").list_tables()
        self.assertEqual(error_code(raised), "ThrottlingException")  # *
        # Deleting one rule leaves the others; "monitoring" is CloudWatch's signing name.
        admin("POST", "/_fleetopt/faults", {"operation": "monitoring:GetMetricData", "latencyMs": 1})
        admin("DELETE", "/_fleetopt/faults?operation=ce:*")
        rules = admin("GET", "/_fleetopt/faults")[1]["rules"]
        self.assertEqual(sorted(r["operation"] for r in rules),
                         ["*", "ce:GetCostForecast", "cloudwatch:GetMetricData"])

    def test_a_rule_can_be_limited_to_one_access_key(self):
        write_seed("ce/GetCostForecast.json", FORECAST)
        admin("POST", "/_fleetopt/faults", {"operation": "ce:GetCostForecast", "throttle": 1,
                                            "accessKeyId": "AKIDFAULTY"})
        forecast(client("ce"))  # another key: untouched
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            forecast(client("ce", key="AKIDFAULTY"))
        self.assertEqual(error_code(raised), "ThrottlingException")
        forecast(client("ce", key="AKIDFAULTY"))

    def test_an_error_fault_answers_the_code_message_and_status_asked_for(self):
        write_seed("ce/GetCostForecast.json", FORECAST)
        admin("POST", "/_fleetopt/faults", [
            {"operation": "ce:GetCostForecast", "error": 1, "errorCode": "AccessDeniedException",
             "errorMessage": "User is not authorized to perform ce:GetCostForecast"},
            {"operation": "ec2:DescribeSpotPriceHistory", "error": 1,
             "errorCode": "UnauthorizedOperation", "errorStatus": 403}])
        ce = client("ce")
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            forecast(ce)
        response = raised.exception.response
        self.assertEqual((response["ResponseMetadata"]["HTTPStatusCode"], error_code(raised),
                          response["Error"]["Message"]),
                         (400, "AccessDeniedException",
                          "User is not authorized to perform ce:GetCostForecast"))
        forecast(ce)  # once only
        with self.assertRaises(botocore.exceptions.ClientError) as raised:
            client("ec2").describe_spot_price_history(InstanceTypes=["m5.large"])
        self.assertEqual((raised.exception.response["ResponseMetadata"]["HTTPStatusCode"],
                          error_code(raised)), (403, "UnauthorizedOperation"))
        self.assertEqual(admin("GET", "/_fleetopt/faults")[1]["injected"]["error"], 2)

    def test_one_access_keys_rule_can_be_cleared_alone(self):
        admin("POST", "/_fleetopt/faults", [
            {"operation": "ce:GetCostForecast", "throttle": 1, "accessKeyId": key}
            for key in ("AKIDONE", "AKIDTWO")] + [{"operation": "ce:GetCostForecast", "latencyMs": 1}])
        status, state = admin("DELETE", "/_fleetopt/faults?operation=ce:GetCostForecast"
                                        "&accessKeyId=AKIDONE")
        self.assertEqual(status, 200)
        self.assertEqual(sorted(str(r["accessKeyId"]) for r in state["rules"]), ["AKIDTWO", "None"])
        self.assertEqual(admin("DELETE", "/_fleetopt/faults?accessKeyId=AKIDTWO")[0], 400)

    def test_rates_fault_a_share_of_requests_repeatably_and_spikes_add_latency(self):
        dynamodb = client("dynamodb", config=ONE_ATTEMPT)

        def throttled(n):
            admin("POST", "/_fleetopt/faults", {"operation": "dynamodb:ListTables",
                                                "rates": {"throttle": 0.3}, "seed": 7})
            outcomes = []
            for _ in range(n):
                try:
                    dynamodb.list_tables()
                    outcomes.append(False)
                except botocore.exceptions.ClientError as e:
                    self.assertEqual(e.response["Error"]["Code"], "ThrottlingException")
                    outcomes.append(True)
            return outcomes

        first = throttled(200)
        self.assertTrue(40 <= sum(first) <= 80, sum(first))  # 30 % of 200, give or take
        self.assertEqual(admin("GET", "/_fleetopt/faults")[1]["injected"]["throttle"], sum(first))
        self.assertEqual(throttled(200), first)  # the same seed, the same draws
        admin("POST", "/_fleetopt/faults", {"operation": "dynamodb:ListTables",
                                            "spikeRate": 1, "spikeMs": 300})
        started = time.monotonic()
        dynamodb.list_tables()
        self.assertGreaterEqual(time.monotonic() - started, 0.3)
        self.assertEqual(admin("GET", "/_fleetopt/faults")[1]["injected"]["spiked"], 1)

    def test_bad_rules_are_refused_and_set_nothing(self):
        for bad in [{"operation": "GetCostForecast"}, {"operation": "ce:GetCostForecast", "throttle": -1},
                    {"operation": "*", "latency": 5}, {"operation": "*", "reset": True}, "*",
                    {"operation": "*", "error": 1}, {"operation": "*", "errorStatus": 200},
                    {"operation": "*", "error": 1, "errorCode": "no spaces allowed"},
                    {"operation": "*", "rates": {"throttle": 1.5}},
                    {"operation": "*", "rates": {"throttle": 0.6, "reset": 0.6}},
                    {"operation": "*", "rates": {"boom": 0.1}}, {"operation": "*", "rates": {"error": 0.1}},
                    {"operation": "*", "spikeRate": 2}, {"operation": "*", "seed": "x"},
                    [{"operation": "*", "throttle": 1}, {"operation": "x"}]]:
            status, body = admin("POST", "/_fleetopt/faults", bad)
            self.assertEqual(status, 400, bad)
            self.assertIn("error", body)
        self.assertEqual(admin("GET", "/_fleetopt/faults")[1]["rules"], [])
        self.assertEqual(admin("GET", "/_fleetopt/nothing")[0], 404)
        self.assertEqual(admin("GET", "/_fleetopt/")[1]["seedDir"], str(SEED_DIR.resolve()))


class DefaultSeeds(unittest.TestCase):
    """The committed demo seeds (scripts/seed/): shapes, contents, installation."""
    SOURCE = ROOT / "scripts" / "seed"

    def load(self, relative):
        return json.loads((self.SOURCE / relative).read_text())

    def test_they_are_what_demo_seeds_writes(self):
        with tempfile.TemporaryDirectory() as out:
            argv = sys.argv
            sys.argv = ["demo_seeds.py", "--out", out]
            try:
                import contextlib
                import io
                with contextlib.redirect_stdout(io.StringIO()):
                    demo_seeds.main()
            finally:
                sys.argv = argv
            for path in Path(out).rglob("*.json"):
                relative = path.relative_to(out)
                self.assertEqual(path.read_text(), (self.SOURCE / relative).read_text(), relative)

    def test_ce_bodies_fit_botocore_output_shapes(self):
        ce = get_session().get_service_model("ce")
        for operation in ("GetCostForecast", "GetReservationPurchaseRecommendation",
                          "GetSavingsPlansPurchaseRecommendation"):
            shape = ce.operation_model(operation).output_shape
            self.assertEqual(emulator_proxy.shape_errors(self.load(f"ce/{operation}.json"), shape,
                                                         strict=True), [], operation)
        shape = ce.operation_model("GetCostAndUsage").output_shape
        results = self.load("ce/cost-and-usage.json")
        self.assertEqual(len(results), 2)
        for result in results:
            self.assertEqual(emulator_proxy.shape_errors(result, shape, strict=True), [])
        monthly, daily = results
        self.assertEqual(monthly["GroupDefinitions"], [{"Type": "DIMENSION", "Key": "SERVICE"}])
        self.assertEqual(len(monthly["ResultsByTime"]), 3)
        self.assertEqual(len(daily["ResultsByTime"]), 30)

    def test_prices_cover_the_fleet_and_its_alternatives(self):
        items = self.load("pricing/products.json")
        linux = {i["product"]["attributes"]["instanceType"]: i for i in items
                 if i["product"]["attributes"]["regionCode"] == "us-east-1"
                 and i["product"]["attributes"]["operatingSystem"] == "Linux"
                 and i["product"]["attributes"]["capacitystatus"] == "Used"}
        for instance_type in ("m5.large", "m5.xlarge", "c5.large", "t3.medium", "m6g.large"):
            self.assertIn(instance_type, linux)
        # Right-sizing's Graviton options for the fleet's m5 groups: generations 6 and 7 of m,
        # c and r, each described as arm64 by moto.
        for family in ("m6g", "c6g", "r6g", "m7g", "c7g", "r7g"):
            for size in ("medium", "large"):
                self.assertIn(f"{family}.{size}", linux)
        price = next(iter(next(iter(linux["m5.large"]["terms"]["OnDemand"].values()))
                          ["priceDimensions"].values()))["pricePerUnit"]["USD"]
        self.assertEqual(float(price), 0.096)
        for item in items:
            attributes = item["product"]["attributes"]
            for key in ("instanceType", "regionCode", "location", "operatingSystem", "tenancy",
                        "preInstalledSw", "capacitystatus", "vcpu", "memory"):
                self.assertIn(key, attributes)

    def test_spot_prices_are_seven_days_hourly_with_one_volatile_type(self):
        records = self.load("ec2/spot-price-history.json")
        by_type = {}
        for r in records:
            self.assertEqual(set(r), {"instanceType", "availabilityZone", "productDescription",
                                      "spotPrice", "timestamp"})
            by_type.setdefault(r["instanceType"], []).append(float(r["spotPrice"]))
        self.assertIn("m5.large", by_type)
        self.assertTrue(all(len(p) == 7 * 24 for p in by_type.values()))
        spread = {t: (max(p) - min(p)) / min(p) for t, p in by_type.items()}
        self.assertEqual([t for t, s in spread.items() if s > 0.5], ["m5.large"])

    def test_install_moves_the_dates_to_the_present(self):
        now = datetime(2027, 2, 10, 15, 42, tzinfo=timezone.utc)
        with tempfile.TemporaryDirectory() as target:
            seed_costs.install(self.SOURCE, target, now)
            target = Path(target)
            spot_records = json.loads((target / "ec2/spot-price-history.json").read_text())
            stamps = sorted({r["timestamp"] for r in spot_records})
            self.assertEqual((stamps[0], stamps[-1], len(stamps)),
                             ("2027-02-03T16:00:00Z", "2027-02-10T15:00:00Z", 168))
            forecast_body = json.loads((target / "ce/GetCostForecast.json").read_text())
            self.assertEqual(forecast_body["ForecastResultsByTime"][0]["TimePeriod"],
                             {"Start": "2027-02-10", "End": "2027-03-01"})
            self.assertEqual(forecast_body["Total"]["Amount"],
                             forecast_body["ForecastResultsByTime"][0]["MeanValue"])
            for name in ("GetReservationPurchaseRecommendation", "GetSavingsPlansPurchaseRecommendation"):
                body = json.loads((target / f"ce/{name}.json").read_text())
                self.assertEqual(body["Metadata"]["GenerationTimestamp"], "2027-02-10T15:42:00Z")
            monthly, daily = json.loads((target / "ce/cost-and-usage.json").read_text())
            months = monthly["ResultsByTime"]
            self.assertEqual([p["TimePeriod"]["Start"] for p in months],
                             ["2026-11-01", "2026-12-01", "2027-01-01", "2027-02-01"])
            self.assertEqual(months[2]["TimePeriod"]["End"], "2027-02-01")
            # This month to date (1-10 February, ending tomorrow): 10/28 of January's costs.
            to_date = months[-1]
            self.assertEqual((to_date["TimePeriod"]["End"], to_date["Estimated"]), ("2027-02-11", True))
            january = {g["Keys"][0]: float(g["Metrics"]["UnblendedCost"]["Amount"]) for g in months[2]["Groups"]}
            for g in to_date["Groups"]:
                self.assertAlmostEqual(float(g["Metrics"]["UnblendedCost"]["Amount"]),
                                       january[g["Keys"][0]] * 10 / 28, delta=0.01)
            # The cost optimizer's days: from January's first (a whole last month) to today.
            days = daily["ResultsByTime"]
            self.assertEqual((days[0]["TimePeriod"]["Start"], days[-1]["TimePeriod"]["End"]),
                             ("2027-01-01", "2027-02-11"))
            self.assertEqual(len(days), 41)
            self.assertEqual(sum(d["Estimated"] for d in days), 10)
            products = json.loads((target / "pricing/products.json").read_text())
            self.assertEqual(products, self.load("pricing/products.json"))


class DefaultSeedsThroughTheProxy(ProxyTest):
    def test_the_demo_fleet_prices(self):
        seed_costs.install(ROOT / "scripts" / "seed", SEED_DIR)
        answer = client("pricing").get_products(ServiceCode="AmazonEC2", Filters=[
            term("instanceType", "m5.large"), term("regionCode", "us-east-1"),
            term("operatingSystem", "Linux"), term("tenancy", "Shared"),
            term("preInstalledSw", "NA"), term("capacitystatus", "Used")])
        self.assertEqual(len(answer["PriceList"]), 1)
        week = client("ec2").get_paginator("describe_spot_price_history").paginate(
            InstanceTypes=["m5.large"], AvailabilityZone="us-east-1a",
            ProductDescriptions=["Linux/UNIX"],
            StartTime=datetime.now(timezone.utc) - timedelta(days=7))
        prices = [p for page in week for p in page["SpotPriceHistory"]]
        self.assertIn(len(prices), (168, 169))
        self.assertIsNotNone(forecast(client("ce"))["Total"]["Amount"])


if __name__ == "__main__":
    unittest.main()

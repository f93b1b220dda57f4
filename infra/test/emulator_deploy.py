#!/usr/bin/env python3
"""Deploys synthesized stacks into the local emulator (moto's CloudFormation) and reports what exists.

Used by infra/test/emulator.test.ts. In an account of its own (STS AssumeRole into a fresh
twelve-digit account id, as the Rust end-to-end tests do), for each stack in order: uploads the
stack's file assets from the cloud assembly to the bucket and key its template names (zipping
directories, as `cdk deploy` does), creates the stack from its template, waits for it, and then
describes what the stack made through each service's own API. Prints one JSON document.

moto 5.2's CloudFormation does not implement every resource type: those it skips (with a warning)
are listed under "skipped" per stack, so the test can name them; nothing is removed from the
templates. The alarms among them are then created through the CloudWatch API from the
template's own properties (references resolved to the stack's physical ids), which proves that
CloudWatch accepts their definitions.

moto 5.2's CloudFormation also keeps each AWS::KMS::Key's KeyPolicy as a JSON object where its KMS
API keeps text, so DescribeKey on such a key fails (500, a TypeError inside moto). The script
writes each of those policies back unchanged, as text (GetKeyPolicy, then PutKeyPolicy), before
describing the keys; nothing else about the keys is touched.
"""

import argparse
import io
import json
import os
import random
import sys
import time
import urllib.parse
import zipfile

import boto3
from botocore.config import Config


def refuse_remote(endpoint):
    host = urllib.parse.urlparse(endpoint).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"emulator_deploy: refusing a non-loopback endpoint {endpoint!r}")


def session_in_new_account(endpoint, region):
    account = f"{random.SystemRandom().randrange(10**11, 10**12):012d}"
    sts = boto3.client(
        "sts", endpoint_url=endpoint, region_name=region,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/fleetopt-infra-test", RoleSessionName="fleetopt-infra-test"
    )["Credentials"]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"], region_name=region,
    )
    return account, session


def substitute(text, account, region):
    return (text.replace("${AWS::AccountId}", account).replace("${AWS::Region}", region)
            .replace("${AWS::Partition}", "aws"))


def upload_assets(s3, assembly, stack, account, region):
    path = os.path.join(assembly, f"{stack}.assets.json")
    uploaded = []
    with open(path) as f:
        manifest = json.load(f)
    for asset in manifest.get("files", {}).values():
        source = asset["source"]
        if "path" not in source:
            continue
        local = os.path.join(assembly, source["path"])
        if source.get("packaging") == "zip":
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
                for root, _dirs, files in os.walk(local):
                    for name in sorted(files):
                        full = os.path.join(root, name)
                        info = zipfile.ZipInfo(os.path.relpath(full, local))
                        info.external_attr = (os.stat(full).st_mode & 0o777) << 16
                        with open(full, "rb") as fh:
                            z.writestr(info, fh.read())
            body = buffer.getvalue()
        else:
            with open(local, "rb") as fh:
                body = fh.read()
        for destination in asset["destinations"].values():
            bucket = substitute(destination["bucketName"], account, region)
            key = substitute(destination["objectKey"], account, region)
            try:
                s3.create_bucket(Bucket=bucket)
            except s3.exceptions.BucketAlreadyOwnedByYou:
                pass
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            uploaded.append(f"s3://{bucket}/{key}")
    return uploaded


def resolve(value, physical, account, region):
    """Resolves the intrinsics an alarm's properties use (Ref, Fn::GetAtt Arn, Fn::Join)."""
    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return {"AWS::Region": region, "AWS::AccountId": account, "AWS::Partition": "aws"}.get(arg, physical.get(arg, arg))
        if fn == "Fn::GetAtt":
            logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
            value = physical.get(logical, logical)
            return value.rsplit("/", 1)[-1] if attribute == "QueueName" else value
        if fn == "Fn::Join":
            return arg[0].join(str(resolve(v, physical, account, region)) for v in arg[1])
        if fn == "Fn::ImportValue":
            return physical.get(f"import:{arg}", arg)
    if isinstance(value, dict):
        return {k: resolve(v, physical, account, region) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, physical, account, region) for v in value]
    return value


def put_alarm(cloudwatch, props):
    """PutMetricAlarm from an AWS::CloudWatch::Alarm's properties (same names, one level)."""
    keys = [
        "AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions",
        "InsufficientDataActions", "MetricName", "Namespace", "Statistic", "ExtendedStatistic",
        "Dimensions", "Period", "Unit", "EvaluationPeriods", "DatapointsToAlarm", "Threshold",
        "ComparisonOperator", "TreatMissingData", "Metrics",
    ]
    cloudwatch.put_metric_alarm(**{k: props[k] for k in keys if k in props})


def store_key_policies_as_text(kms, resources):
    """Writes back, as text, the key policies moto's CloudFormation stored as objects."""
    rewritten = []
    for logical, r in resources.items():
        if r["ResourceType"] != "AWS::KMS::Key":
            continue
        key = r["PhysicalResourceId"]
        policy = kms.get_key_policy(KeyId=key, PolicyName="default")["Policy"]
        if not isinstance(policy, str):
            kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(policy))
            rewritten.append(logical)
    return rewritten


def deploy(session, assembly, stack, account, region, exports):
    cfn = session.client("cloudformation")
    with open(os.path.join(assembly, f"{stack}.template.json")) as f:
        template = json.load(f)
    assets = upload_assets(session.client("s3"), assembly, stack, account, region)
    cfn.create_stack(
        StackName=stack, TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    deadline = time.time() + 120
    while True:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
        if not described["StackStatus"].endswith("IN_PROGRESS") or time.time() > deadline:
            break
        time.sleep(0.5)
    resources = {
        r["LogicalResourceId"]: r
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack)
        for r in page["StackResourceSummaries"]
    }
    skipped = sorted({
        body["Type"] for logical, body in template["Resources"].items()
        if logical not in resources and body["Type"] != "AWS::CDK::Metadata"
    })
    physical = {logical: r.get("PhysicalResourceId") for logical, r in resources.items()}
    for output in described.get("Outputs", []):
        if output.get("ExportName"):
            exports[output["ExportName"]] = output["OutputValue"]
    physical.update({f"import:{name}": value for name, value in exports.items()})
    # The ARN-valued references the alarms use: topics' Ref is their ARN already.
    alarms_created = []
    key_policies_rewritten = []
    if described["StackStatus"] == "CREATE_COMPLETE":
        key_policies_rewritten = store_key_policies_as_text(session.client("kms"), resources)
        cloudwatch = session.client("cloudwatch")
        for logical, body in template["Resources"].items():
            if body["Type"] == "AWS::CloudWatch::Alarm" and logical not in resources:
                props = resolve(body["Properties"], physical, account, region)
                put_alarm(cloudwatch, props)
                alarms_created.append(props["AlarmName"])
    return {
        "status": described["StackStatus"],
        "statusReason": described.get("StackStatusReason"),
        "outputs": {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])},
        "assets": assets,
        "resources": {k: {"type": v["ResourceType"], "physicalId": v.get("PhysicalResourceId")} for k, v in resources.items()},
        "skipped": skipped,
        "alarmsCreatedThroughApi": alarms_created,
        "keyPoliciesRewritten": key_policies_rewritten,
    }


def describe(session, names):
    """What exists, through each service's API, for the names the stacks set."""
    out = {}
    dynamodb = session.client("dynamodb")
    lam = session.client("lambda")
    events = session.client("events")
    cloudwatch = session.client("cloudwatch")
    sns = session.client("sns")
    sqs = session.client("sqs")
    logs = session.client("logs")
    out["tables"] = {t: dynamodb.describe_table(TableName=t)["Table"] for t in dynamodb.list_tables()["TableNames"]}
    for t in out["tables"]:
        out["tables"][t]["ttl"] = dynamodb.describe_time_to_live(TableName=t).get("TimeToLiveDescription")
        out["tables"][t]["backups"] = dynamodb.describe_continuous_backups(TableName=t).get("ContinuousBackupsDescription")
    out["functions"] = {f["FunctionName"]: f for f in lam.list_functions()["Functions"]}
    out["eventSourceMappings"] = lam.list_event_source_mappings()["EventSourceMappings"]
    out["rules"] = {}
    for rule in events.list_rules()["Rules"]:
        rule["Targets"] = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        out["rules"][rule["Name"]] = rule
    out["alarms"] = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    out["dashboards"] = {
        d["DashboardName"]: json.loads(cloudwatch.get_dashboard(DashboardName=d["DashboardName"])["DashboardBody"])
        for d in cloudwatch.list_dashboards()["DashboardEntries"]
    }
    out["topics"] = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    out["queues"] = sqs.list_queues().get("QueueUrls", [])
    out["logGroups"] = {g["logGroupName"]: g for g in logs.describe_log_groups()["logGroups"]}
    kms = session.client("kms")
    out["keys"] = {}
    for page in kms.get_paginator("list_keys").paginate():
        for k in page["Keys"]:
            key = kms.describe_key(KeyId=k["KeyArn"])["KeyMetadata"]
            key["Policy"] = json.loads(kms.get_key_policy(KeyId=k["KeyArn"], PolicyName="default")["Policy"])
            out["keys"][k["KeyArn"]] = key
    out["aliases"] = {
        a["AliasName"]: a.get("TargetKeyId")
        for page in kms.get_paginator("list_aliases").paginate() for a in page["Aliases"]
    }
    sfn = session.client("stepfunctions")
    out["stateMachines"] = {
        m["name"]: sfn.describe_state_machine(stateMachineArn=m["stateMachineArn"])
        for m in sfn.list_state_machines()["stateMachines"]
    }
    iam = session.client("iam")
    out["roles"] = {
        r["RoleName"]: r for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]
    }
    out["autoScalingGroups"] = [
        g["AutoScalingGroupName"] for g in session.client("autoscaling").describe_auto_scaling_groups()["AutoScalingGroups"]
    ]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assembly", required=True, help="the cloud assembly directory (cdk.out)")
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT_URL"), help="the emulator's endpoint")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("stacks", nargs="+", help="stack names, in deployment order")
    args = parser.parse_args()
    if not args.endpoint:
        sys.exit("emulator_deploy: no endpoint (--endpoint or AWS_ENDPOINT_URL)")
    refuse_remote(args.endpoint)
    os.environ["AWS_ENDPOINT_URL"] = args.endpoint
    for variable in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(variable, None)
    account, session = session_in_new_account(args.endpoint, args.region)
    session._session.set_default_client_config(Config(retries={"mode": "standard"}))  # noqa: SLF001
    exports = {}
    stacks = {}
    for stack in args.stacks:
        stacks[stack] = deploy(session, args.assembly, stack, account, args.region, exports)
        if stacks[stack]["status"] != "CREATE_COMPLETE":
            break
    json.dump({"account": account, "stacks": stacks, "found": describe(session, args.stacks)}, sys.stdout, default=str)


if __name__ == "__main__":
    main()

"""Create the recommendations table on the local emulator from the shared schema file.

The same file defines the table for the Rust adapters' tests and for the CDK stack, so the local
table cannot drift from the deployed one. Idempotent: an existing table is left as it is.
"""
import argparse
import json
import sys

import boto3
from botocore.exceptions import ClientError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--endpoint", required=True, help="emulator endpoint, http://127.0.0.1:PORT")
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--schema", required=True, help="path of recommendations-table.json")
    parser.add_argument("--application", default="app")
    parser.add_argument("--environment", default="production",
                        choices=["production", "staging", "development"])
    parser.add_argument("--name", help="table name (default <application>-<environment>-<suffix>)")
    args = parser.parse_args()

    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    name = args.name or f"{args.application}-{args.environment}-{schema['nameSuffix']}"

    client = boto3.client("dynamodb", endpoint_url=args.endpoint, region_name=args.region)
    try:
        client.create_table(
            TableName=name,
            BillingMode=schema["billingMode"],
            AttributeDefinitions=[
                {"AttributeName": a["name"], "AttributeType": a["type"]}
                for a in schema["attributeDefinitions"]
            ],
            KeySchema=[
                {"AttributeName": schema["partitionKey"], "KeyType": "HASH"},
                {"AttributeName": schema["sortKey"], "KeyType": "RANGE"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": i["name"],
                    "KeySchema": [
                        {"AttributeName": i["partitionKey"], "KeyType": "HASH"},
                        {"AttributeName": i["sortKey"], "KeyType": "RANGE"},
                    ],
                    "Projection": {"ProjectionType": i["projection"]},
                }
                for i in schema["globalSecondaryIndexes"]
            ],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": schema["stream"]},
        )
    except ClientError as e:
        if e.response["Error"]["Code"] == "ResourceInUseException":
            print(f"table {name} already exists", file=sys.stderr)
            print(name)
            return 0
        print(f"create-table: {e}", file=sys.stderr)
        return 1
    client.update_time_to_live(
        TableName=name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": schema["timeToLiveAttribute"]},
    )
    print(f"table {name} created", file=sys.stderr)
    print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
